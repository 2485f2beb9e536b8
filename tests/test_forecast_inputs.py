"""Tests of what the roll-rate forecaster reads: the transitions its fits use."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from recovery.analytics import forecast_inputs
from recovery.analytics.backtest import backtest_roll_rate
from recovery.analytics.common import month_number
from recovery.analytics.forecast import RollRateForecaster
from recovery.analytics.forecast_inputs import FIT_COLUMNS, fit_rows, fit_since
from recovery.analytics.kpis import read_flows_and_kpis
from recovery.analytics.partitions import PartitionedSnapshots
from recovery.config import Config
from synthetic_snapshots import make_book


@pytest.fixture(scope="module")
def book() -> pd.DataFrame:
    """A Markov book of 24 months, 60 new loans a month (charge-offs and recoveries)."""
    return make_book(months=24, new_per_month=60, seed=3, recovery_prob=0.3)


def test_fit_rows_keep_the_delinquent_rows_and_every_row_from_since():
    t = pd.DataFrame(
        {
            "account_id": ["A", "B", "C", "A", "B", "D"],
            "month_end": pd.to_datetime(["2024-01-31"] * 3 + ["2024-02-29"] * 3),
            "next_month_end": pd.to_datetime(["2024-02-29"] * 3 + ["2024-03-31"] * 3),
            "from_state": ["M0", "M2", "charged_off", "M0", "M3", "new"],
            "to_state": ["M0", "M3", "charged_off", "M1", "charged_off", "M0"],
            "balance": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "amount_overdue": 0.0,
            "next_balance": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "next_paid_in_month": 0.0,
        }
    )
    feb = month_number(["2024-02-29"])[0]
    # January: only the row out of M2 (delinquent); February: every row, in order
    got = fit_rows(t, Config(), feb)
    assert got["balance"].tolist() == [2.0, 4.0, 5.0, 6.0]
    assert list(got.columns) == FIT_COLUMNS
    assert fit_rows(t, Config(), None)["balance"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    # a since after the data: the delinquent rows only
    assert fit_rows(t, Config(), feb + 5)["from_state"].tolist() == ["M2", "M3"]


def test_fit_since_is_the_first_lookback_month_of_the_earliest_fit():
    # months Jan..Jun 2024 with April missing: pairs start in Jan, Feb and May only
    months = month_number(["2024-01-31", "2024-02-29", "2024-03-31", "2024-05-31", "2024-06-30"])
    jan = months[0]
    # a fit at June with a lookback of 2 reads the pairs starting in Feb and May
    assert fit_since(months, ["2024-06-30"], 2) == jan + 1
    # two fits: the earlier one's window (at March, lookback 1: Feb) comes first
    assert fit_since(months, ["2024-03-31", "2024-06-30"], 1) == jan + 1
    assert fit_since(months, ["2024-06-30"], 10) == jan
    # a fit with no pair of months before it: no cut
    assert fit_since(months, ["2024-01-31"], 3) is None


def _forecasts(snapshots, config, origins) -> tuple[pd.DataFrame, pd.DataFrame]:
    fit = RollRateForecaster(config=config).fit(snapshots)
    bt = backtest_roll_rate(snapshots, origins=origins, months_ahead=3, config=config)
    return fit.predict(6), bt


@pytest.mark.parametrize("kept_from", ["needed", "too_late"])
def test_fits_on_the_rows_kept_by_the_flows_pass_equal_fits_on_all_rows(
    book, monkeypatch, kept_from
):
    """The flows/KPIs pass keeps the fits' rows: the same forecasts, no transitions again."""
    config = Config()
    origins = pd.date_range("2022-06-30", periods=4, freq="2ME")
    expected = _forecasts(PartitionedSnapshots.from_frame(book, 200), config, origins)

    parts = PartitionedSnapshots.from_frame(book, 200)
    ends = [*origins, parts.data_end]
    since = fit_since(parts.months, ends, 6)
    assert since > parts.months[0]  # rows are cut
    if kept_from == "too_late":  # rows kept for later fits only: the others read their own
        since = int(parts.months[-2])
    read_flows_and_kpis(parts, config, [], forecast_since=since)
    key = ("fit_transitions", config, [int(m) for m in parts.months])
    kept = parts.recall(key)[1]
    everything = forecast_inputs.fit_transitions(book, config, None)
    assert 0 < len(kept) < len(everything)
    calls = []
    if kept_from == "needed":  # every fit reads the kept rows: nothing is computed again
        monkeypatch.setattr(
            forecast_inputs, "transitions", lambda *a, **k: calls.append(1) or 1 / 0
        )
    got = _forecasts(parts, config, origins)
    assert calls == []
    assert_frame_equal(got[0], expected[0], check_exact=True)
    assert_frame_equal(got[1], expected[1], check_exact=True)
    assert np.isfinite(got[1]["forecast"]).all()


def test_backtest_rows_decline_a_lookback_reaching_before_the_rows_kept():
    t = pd.DataFrame(
        {
            "month_end": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31"]),
            "next_month_end": pd.to_datetime(["2024-02-29", "2024-03-31", "2024-04-30"]),
            "from_state": ["M2", "M0", "M0"],
        }
    )
    rows = forecast_inputs.BacktestRows(t, ["M1", "M2"], since=month_number(["2024-02-29"])[0])
    # at April, lookback 2: starts Feb and Mar, both complete; the M2 row of January too
    assert rows(pd.Timestamp("2024-04-30"), lookback=2)["month_end"].dt.month.tolist() == [1, 2, 3]
    # lookback 3 reaches January, whose M0 rows were not kept: the fit must read its own
    assert rows(pd.Timestamp("2024-04-30"), lookback=3) is None


def test_rows_kept_for_a_fit_and_a_backtest_are_read_in_one_pass(book, monkeypatch):
    """Without the flows pass: one pass keeps what the fit and the backtest read."""
    config = Config()
    origins = pd.date_range("2022-06-30", periods=4, freq="2ME")
    expected = _forecasts(PartitionedSnapshots.from_frame(book, 200), config, origins)
    parts = PartitionedSnapshots.from_frame(book, 200)
    since = fit_since(parts.months, [*origins, parts.data_end], 6)
    forecast_inputs.keep_fit_rows(parts, config, None, since)
    kept = parts.recall(("fit_transitions", config, [int(m) for m in parts.months]))
    forecast_inputs.keep_fit_rows(parts, config, None, since + 1)  # covered: kept as it is
    assert parts.recall(("fit_transitions", config, [int(m) for m in parts.months])) is kept
    monkeypatch.setattr(forecast_inputs, "transitions", lambda *a, **k: 1 / 0)
    got = _forecasts(parts, config, origins)
    assert_frame_equal(got[0], expected[0], check_exact=True)
    assert_frame_equal(got[1], expected[1], check_exact=True)
