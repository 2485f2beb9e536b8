"""Tests of the roll-rate (Markov) forecaster and the backtest helpers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from recovery.analytics.forecast import (
    RollRateForecaster,
    actual_totals,
    backtest_erc,
    backtest_roll_rate,
    forecast_errors,
    plot_backtest,
)
from recovery.analytics.liquidation import ERCForecaster
from recovery.errors import DataError
from synthetic_snapshots import make_book, make_recovery_book


def _snaps(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (account_id, month_end, dpd, bucket, balance, paid_in_month, status)."""
    df = pd.DataFrame(
        rows,
        columns=["account_id", "month_end", "dpd", "bucket", "balance", "paid_in_month", "status"],
    )
    df["month_end"] = pd.to_datetime(df["month_end"])
    df["amount_overdue"] = 0.0
    return df


@pytest.fixture(scope="module")
def stable_book() -> pd.DataFrame:
    """A stable Markov book: 30 months, 200 new loans a month, recoveries after charge-off."""
    return make_book(months=30, new_per_month=200, seed=5, recovery_prob=0.3)


def _hand_book() -> pd.DataFrame:
    # Jan -> Feb transitions from M1: A M1->M2 (bal 100 -> 100), B M1->M0 (cure, 100 ->
    # 60), C M1->M1 (50 -> 50), D M1->M2 (50 -> 40). From M2: E M2->M3 (200 -> 200).
    # New delinquency in Feb: F M0->M1 (Jan 300, Feb balance 300); G current both months.
    jan, feb = "2024-01-31", "2024-02-29"
    return _snaps(
        [
            ("A", jan, 10, "M1", 100.0, 0.0, "open"),
            ("A", feb, 40, "M2", 100.0, 0.0, "open"),
            ("B", jan, 10, "M1", 100.0, 0.0, "open"),
            ("B", feb, 0, "M0", 60.0, 40.0, "open"),
            ("C", jan, 20, "M1", 50.0, 0.0, "open"),
            ("C", feb, 20, "M1", 50.0, 0.0, "open"),
            ("D", jan, 25, "M1", 50.0, 0.0, "open"),
            ("D", feb, 55, "M2", 40.0, 10.0, "open"),
            ("E", jan, 45, "M2", 200.0, 0.0, "open"),
            ("E", feb, 75, "M3", 200.0, 0.0, "open"),
            ("F", jan, 0, "M0", 300.0, 0.0, "open"),
            ("F", feb, 5, "M1", 300.0, 0.0, "open"),
            ("G", jan, 0, "M0", 900.0, 10.0, "open"),
            ("G", feb, 0, "M0", 890.0, 10.0, "open"),
        ]
    )


def test_matrices_inflow_and_one_step_forecast_by_hand():
    f = RollRateForecaster(lookback_months=1, new_volume="recent_mean", new_volume_growth=0.0)
    f.fit(_hand_book())
    p, t = f.count_matrix_, f.balance_matrix_
    # from M1: 4 accounts -> M2 2, M0 1, M1 1
    assert p.loc["M1", ["M1", "M2", "M0"]].tolist() == [0.25, 0.5, 0.25]
    # balance: M1 held 300 at Jan; at Feb 100 + 40 sit in M2, 50 in M1, 60 in M0
    assert t.loc["M1", ["M1", "M2", "M0"]].tolist() == pytest.approx(
        [50 / 300, 140 / 300, 60 / 300]
    )
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    # an unseen bucket (M5) stays where it is
    assert p.loc["M5", "M5"] == 1.0
    assert f.inflow_.loc["M1"].tolist() == [1.0, 300.0]
    # starting book at Feb: M1 {C, F} = 2 / 350; M2 {A, D} = 2 / 140; M3 {E} = 1 / 200
    assert f.initial_.loc[["M1", "M2", "M3"], "count"].tolist() == [2.0, 2.0, 1.0]
    # one step: M1 = 2 * 0.25 + inflow 1 = 1.5; M2 = 2 * 0.5 = 1.0 (M2 -> M3 for all)
    # M3 = 2 (from M2) + 1 stays (M3 unseen) = 3
    one = f.predict(1).set_index("state")
    assert one.loc[["M1", "M2", "M3"], "count"].tolist() == pytest.approx([1.5, 1.0, 3.0])
    # balance M1 = 350 * 50/300 + 300 = 358.33
    assert one.loc["M1", "balance"] == pytest.approx(350 * 50 / 300 + 300)


def test_counts_reconcile_without_inflow(stable_book):
    f = RollRateForecaster(new_volume="none").fit(stable_book)
    n0 = f.initial_["count"].sum()
    totals = f.predict_totals(12)
    p = f.count_matrix_
    # whatever leaves the delinquent buckets (cure, exits) plus what stays = the start
    stay = totals["delinquent_count"].to_numpy()
    left = np.r_[n0, stay[:-1]] - stay
    exits = p.drop(columns=p.index).sum(axis=1)
    n = f.initial_["count"].to_numpy()
    for h in range(12):
        assert left[h] == pytest.approx(float(n @ exits.to_numpy()))
        n = n @ p[list(p.index)].to_numpy()
    assert (totals["gross_charge_off_count"] >= 0).all()


def test_explicit_new_volume_and_growth():
    given = pd.DataFrame({"count": [10.0], "balance": [1000.0]}, index=["M1"])
    f = RollRateForecaster(lookback_months=1, new_volume=given, new_volume_growth=0.1)
    f.fit(_hand_book())
    assert f.inflow_.loc["M1", "count"] == 10.0 and f.inflow_.loc["M2", "count"] == 0.0
    pred = f.predict(2).set_index(["horizon", "state"])
    # h=1: 2 * 0.25 + 10 = 10.5; h=2: 10.5 * 0.25 + 10 * (1 + 0.1) = 13.625
    assert pred.loc[(1, "M1"), "count"] == pytest.approx(10.5)
    assert pred.loc[(2, "M1"), "count"] == pytest.approx(13.625)
    with pytest.raises(DataError, match="new_volume"):
        RollRateForecaster(new_volume="lots").fit(_hand_book())


def test_fit_uses_only_data_up_to_the_origin(stable_book):
    book = stable_book
    end = pd.Timestamp("2021-06-30")
    a = RollRateForecaster().fit(book, data_end=end).predict_totals(6)
    b = RollRateForecaster().fit(book[book["month_end"] <= end]).predict_totals(6)
    pd.testing.assert_frame_equal(a, b)


def test_actual_totals_by_hand():
    rows = [
        ("A", "2024-01-31", 150, "M5", 100.0, 0.0, "open"),
        ("A", "2024-02-29", 181, None, 100.0, 0.0, "charged_off"),
        ("A", "2024-03-31", 210, None, 80.0, 20.0, "charged_off"),
        ("B", "2024-01-31", 0, "M0", 50.0, 5.0, "open"),
        ("B", "2024-02-29", 10, "M1", 50.0, 0.0, "open"),
        ("B", "2024-03-31", 40, "M2", 50.0, 0.0, "open"),
    ]
    a = actual_totals(_snaps(rows)).set_index("month_end")
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


def test_recoveries_from_erc_and_net_charge_offs(stable_book):
    book = stable_book
    f = RollRateForecaster(recoveries=ERCForecaster(n_bootstrap=0)).fit(book)
    tot = f.predict_totals(6)
    assert (tot["recoveries"] > 0).all()
    np.testing.assert_allclose(
        tot["net_charge_off_balance"], tot["gross_charge_off_balance"] - tot["recoveries"]
    )
    # the ERC part alone is the collections forecast of the book charged off so far
    erc = ERCForecaster(n_bootstrap=0).fit(book)
    assert (tot["recoveries"].to_numpy() >= erc.predict(6)["collections"].to_numpy() - 1e-9).all()


def test_backtest_erc_on_a_recovery_book():
    book = make_recovery_book(months=30, per_month=300, seed=8)
    bt = backtest_erc(book, origins=["2021-06-30"], months_ahead=6)
    cum = bt[(bt["measure"] == "cumulative_collections") & (bt["horizon"] == 6)]
    assert abs(cum["pct_error"].iloc[0]) < 0.10
    monthly = bt[bt["measure"] == "collections"]
    assert cum["actual"].iloc[0] == pytest.approx(monthly["actual"].sum())


def test_errors_and_plot():
    with pytest.raises(DataError, match="not fitted"):
        RollRateForecaster().predict(3)
    one_month = _hand_book()[lambda d: d["month_end"] == "2024-01-31"]
    with pytest.raises(DataError, match="consecutive"):
        RollRateForecaster().fit(one_month)
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
