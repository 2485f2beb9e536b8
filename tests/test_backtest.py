"""Tests of the backtests of forecasts (:mod:`recovery.analytics.backtest`)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from recovery.analytics.backtest import (
    actual_totals,
    backtest_erc,
    backtest_roll_rate,
    forecast_errors,
    plot_backtest,
)
from recovery.analytics.forecast import RollRateForecaster
from synthetic_snapshots import make_book, make_recovery_book, snapshot_rows


def test_actual_totals_by_hand():
    rows = [
        ("A", "2024-01-31", 150, "M5", 100.0, 0.0, "open"),
        ("A", "2024-02-29", 181, None, 100.0, 0.0, "charged_off"),
        ("A", "2024-03-31", 210, None, 80.0, 20.0, "charged_off"),
        ("B", "2024-01-31", 0, "M0", 50.0, 5.0, "open"),
        ("B", "2024-02-29", 10, "M1", 50.0, 0.0, "open"),
        ("B", "2024-03-31", 40, "M2", 50.0, 0.0, "open"),
    ]
    a = actual_totals(snapshot_rows(rows)).set_index("month_end")
    assert a["delinquent_count"].tolist() == [1.0, 1.0, 1.0]
    assert a["delinquent_balance"].tolist() == [100.0, 50.0, 50.0]
    assert a["gross_charge_off_balance"].tolist() == [0.0, 100.0, 0.0]
    assert a["recoveries"].tolist() == [0.0, 0.0, 20.0]
    assert a["net_charge_off_balance"].tolist() == [0.0, 100.0, -20.0]


def test_backtest_on_a_stable_markov_book_is_accurate(stable_book):
    origins = pd.date_range("2021-03-31", periods=3, freq="3ME")
    bt = backtest_roll_rate(stable_book, origins=origins, months_ahead=6, recoveries="recent_mean")
    assert set(bt["origin"]) == set(origins)
    assert bt.groupby("origin")["horizon"].max().tolist() == [6, 6, 6]
    e = forecast_errors(bt).set_index(["measure", "horizon", "subset"])
    assert e.loc[("delinquent_balance", 1, "all"), "mape"] < 0.08
    assert e.loc[("delinquent_balance", 6, "all"), "mape"] < 0.15
    # the errors are the differences they say they are
    np.testing.assert_allclose(bt["error"], bt["forecast"] - bt["actual"])


def test_regime_shift_shows_up_inside_the_window_only():
    # Roll rates worsen by half from month 24 on: forecasts made before it and landing
    # in it are inside the window and must be worse than those outside.
    book = make_book(months=36, new_per_month=200, seed=6, shift_from=24, worsen=1.6)
    window = (pd.Timestamp("2022-01-31"), pd.Timestamp("2022-12-31"))
    origins = pd.date_range("2021-04-30", periods=4, freq="3ME")
    bt = backtest_roll_rate(book, origins=origins, months_ahead=6)
    e = forecast_errors(bt, window=window).set_index(["measure", "horizon", "subset"])
    inside = e.loc[("delinquent_balance", 6, "inside"), "mape"]
    outside = e.loc[("delinquent_balance", 6, "outside"), "mape"]
    assert inside > outside
    assert e.loc[("delinquent_balance", 6, "inside"), "bias"] < 0  # the shift is a surprise
    counts = e.xs("delinquent_balance").groupby("subset")["n"].sum()
    assert counts["inside"] + counts["outside"] == counts["all"]


def test_backtest_erc_on_a_recovery_book():
    book = make_recovery_book(months=30, per_month=300, seed=8)
    bt = backtest_erc(book, origins=["2021-06-30"], months_ahead=6)
    cum = bt[(bt["measure"] == "cumulative_collections") & (bt["horizon"] == 6)]
    assert abs(cum["pct_error"].iloc[0]) < 0.10
    monthly = bt[bt["measure"] == "collections"]
    assert cum["actual"].iloc[0] == pytest.approx(monthly["actual"].sum())


def test_plot_backtest():
    bt = pd.DataFrame(
        {
            "origin": pd.to_datetime(["2024-01-31"] * 2),
            "horizon": [1, 2],
            "month_end": pd.to_datetime(["2024-02-29", "2024-03-31"]),
            "measure": "delinquent_balance",
            "forecast": [1.0, 2.0],
            "actual": [1.0, 2.5],
        }
    )
    assert plot_backtest(bt, horizon=2).get_xlabel() == "target month"


@pytest.mark.parametrize("lookback", [3, 6])
def test_backtest_fits_equal_fits_on_the_whole_history(stable_book, lookback):
    """The backtest hands each fit only the transitions it reads: same forecasts."""
    origins = pd.date_range("2021-03-31", periods=3, freq="4ME")
    bt = backtest_roll_rate(stable_book, origins=origins, months_ahead=4, lookback_months=lookback)
    for origin in origins:
        alone = RollRateForecaster(lookback_months=lookback).fit(stable_book, data_end=origin)
        pred = alone.predict_totals(4).set_index("month_end")
        got = bt[(bt["origin"] == origin)].pivot(
            index="month_end", columns="measure", values="forecast"
        )
        assert len(got) == 4
        for measure in got.columns:
            np.testing.assert_allclose(got[measure], pred.loc[got.index, measure], rtol=1e-12)
