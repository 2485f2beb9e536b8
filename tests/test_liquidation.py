"""Tests of liquidation curves, development factors, tail factor and ERC."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from recovery.analytics.liquidation import (
    ERCForecaster,
    charge_off_cohorts,
    development_factors,
    liquidation_curves,
    liquidation_triangle,
    plot_erc,
    plot_liquidation_curves,
    tail_factor,
)
from recovery.errors import DataError
from synthetic_snapshots import make_recovery_book


def _snaps(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (account_id, month_end, dpd, balance, paid_in_month, status)."""
    df = pd.DataFrame(
        rows, columns=["account_id", "month_end", "dpd", "balance", "paid_in_month", "status"]
    )
    df["month_end"] = pd.to_datetime(df["month_end"])
    df["bucket"] = pd.NA
    df["amount_overdue"] = 0.0
    return df


@pytest.fixture(scope="module")
def book() -> pd.DataFrame:
    return make_recovery_book(months=36, per_month=300, seed=2)


def test_cohorts_use_first_charged_off_row_or_the_given_date():
    rows = [
        ("A", "2024-01-31", 170, 120.0, 0.0, "open"),
        ("A", "2024-02-29", 199, 110.0, 0.0, "charged_off"),
        ("B", "2024-02-29", 200, 50.0, 0.0, "charged_off"),
        ("C", "2024-02-29", 10, 50.0, 0.0, "open"),
    ]
    snaps = _snaps(rows)
    c = charge_off_cohorts(snaps)
    assert c["account_id"].tolist() == ["A", "B"]
    assert c["charged_off_balance"].tolist() == [110.0, 50.0]
    snaps["charge_off_date"] = pd.to_datetime([pd.NaT, "2024-02-10", "2024-01-05", pd.NaT])
    c = charge_off_cohorts(snaps)
    # B's snapshots start after its charge-off: its cohort is January
    assert c["cohort"].dt.strftime("%Y-%m").tolist() == ["2024-02", "2024-01"]


def test_liquidation_curves_keep_zeros_and_skip_the_charge_off_month():
    # A charged off Jan (balance 100): pays 5 in Jan itself (before charge-off, not a
    # recovery), 0 in Feb, 30 in Mar, then settles in Apr for 20 and leaves.
    # B charged off Mar (balance 50), never pays. Data end: May.
    rows = [
        ("A", "2024-01-31", 180, 100.0, 5.0, "charged_off"),
        ("A", "2024-02-29", 209, 100.0, 0.0, "charged_off"),
        ("A", "2024-03-31", 240, 70.0, 30.0, "charged_off"),
        ("A", "2024-04-30", 0, 0.0, 20.0, "settled"),
        ("B", "2024-03-31", 181, 50.0, 0.0, "charged_off"),
        ("B", "2024-04-30", 211, 50.0, 0.0, "charged_off"),
        ("B", "2024-05-31", 242, 50.0, 0.0, "charged_off"),
    ]
    c = liquidation_curves(_snaps(rows))
    a = c[c["cohort"] == "2024-01-31"]
    # ages 1..4 observed (Feb..May); May after A left counts as 0
    assert a["months_since_charge_off"].tolist() == [1, 2, 3, 4]
    assert a["collected"].tolist() == [0.0, 30.0, 20.0, 0.0]
    assert a["cumulative_rate"].tolist() == pytest.approx([0.0, 0.3, 0.5, 0.5])
    b = c[c["cohort"] == "2024-03-31"]
    assert b["collected"].tolist() == [0.0, 0.0]  # zeros, not missing
    tri = liquidation_triangle(c)
    assert tri.shape == (2, 4)
    assert np.isnan(tri.iloc[1, 2])
    assert liquidation_curves(_snaps(rows), max_months=2)["months_since_charge_off"].max() == 2


def test_development_factors_volume_weighted_and_recent_diagonals():
    tri = pd.DataFrame(
        [[10.0, 15.0, 18.0], [20.0, 28.0, np.nan], [5.0, np.nan, np.nan]], columns=[1, 2, 3]
    )
    # all: (15 + 28) / (10 + 20) = 1.4333; 18 / 15 = 1.2
    assert development_factors(tri).tolist() == pytest.approx([43 / 30, 1.2])
    # latest diagonal only (cells 28 and 18 are on the last diagonal): 28/20, 18/15
    assert development_factors(tri, n_periods=1).tolist() == pytest.approx([1.4, 1.2])
    assert np.isnan(development_factors(tri, min_cohorts=2).iloc[1])


def test_tail_factor_is_one_without_decay_and_matches_geometric_decay():
    flat = pd.Series([1.0, 1.0, 1.0], index=[1, 2, 3])
    tail, full = tail_factor(flat, 10)
    assert tail == 1.0 and (full == 1.0).all()
    f = pd.Series(1 + 0.4 * 0.5 ** np.arange(6), index=np.arange(1, 7))
    tail, full = tail_factor(f, 12)
    expected = np.prod(1 + 0.4 * 0.5 ** np.arange(6, 11))  # ages 7..11
    assert tail == pytest.approx(expected)
    assert full.loc[1:6].tolist() == pytest.approx(f.tolist())


def _flat_book() -> pd.DataFrame:
    # Six one-account cohorts charged off Jan..Jun 2024 (balance 100), each paying 10
    # in every month after charge-off; data end June.
    rows = []
    for c in range(6):
        for k in range(6 - c):
            m = pd.Timestamp("2024-01-31") + pd.offsets.MonthEnd(c + k)
            rows.append((f"A{c}", m, 200 + 30 * k, 100.0, 10.0 if k else 0.0, "charged_off"))
    return _snaps(rows)


@pytest.mark.parametrize("method", ["additive", "chain_ladder"])
def test_erc_golden_on_a_flat_book(method):
    # Every observed age collects 10 per 100 charged off: rate 0.1 at ages 1..5, and a
    # flat tail continues it (no decay). Horizon 8: cohort c has observed 5 - c ages,
    # so 3 + c remain -> ERC = 10 * (3 + c) for the additive method. The chain ladder
    # has factors (k+1)/k for k = 1..4 (cumulative 10k); it projects the to-date
    # 10 * (5 - c) by the product of factors from age 5 - c to 8 (the tail fills ages
    # 5..7); the Jun cohort (nothing observed) gets 0 from it.
    erc = ERCForecaster(method=method, horizon_months=8, min_accounts=1, n_bootstrap=0)
    s = erc.fit(_flat_book()).summary()
    if method == "additive":
        assert s["erc"].tolist() == pytest.approx([30, 40, 50, 60, 70, 80])
        assert erc.rates_.tolist() == pytest.approx([0.1] * 8)
    else:
        f = erc.development_factors_
        assert f.loc[1:4].tolist() == pytest.approx([2, 1.5, 4 / 3, 1.25])
        assert erc.tail_factor_ == pytest.approx(np.prod(f.loc[5:7]))
        for c, to_date in enumerate([50, 40, 30, 20, 10]):
            age = 5 - c
            assert s["erc"].iloc[c] == pytest.approx(to_date * (np.prod(f.loc[age:7]) - 1))
        assert s["erc"].iloc[5] == 0.0
    assert s["collected_to_date"].tolist() == [50, 40, 30, 20, 10, 0]
    assert s["months_observed"].tolist() == [5, 4, 3, 2, 1, 0]
    # the collections forecast spreads the same ERC over calendar months
    assert erc.predict(8)["collections"].sum() == pytest.approx(s["erc"].sum())
    by_cohort = erc.predict_by_cohort(8).groupby("cohort")["collections"].sum()
    assert by_cohort.tolist() == pytest.approx(s["erc"].tolist())


def test_erc_fit_uses_only_data_up_to_data_end(book):
    end = pd.Timestamp("2021-12-31")
    a = ERCForecaster(n_bootstrap=0).fit(book, data_end=end).summary()
    b = ERCForecaster(n_bootstrap=0).fit(book[book["month_end"] <= end]).summary()
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("cut", [18, 24])
def test_erc_backtest_error_within_ten_percent_on_a_stable_book(book, cut):
    # Fit at month `cut`, forecast 12 months of collections on the cohorts charged off
    # by then, and compare with what those accounts paid in the next 12 months.
    end = sorted(book["month_end"].unique())[cut - 1]
    erc = ERCForecaster(n_bootstrap=0).fit(book, data_end=end)
    forecast = erc.predict(12)["collections"].sum()
    ids = charge_off_cohorts(book[book["month_end"] <= end])["account_id"]
    later = book[(book["month_end"] > end) & (book["month_end"] <= end + pd.offsets.MonthEnd(12))]
    actual = later.loc[later["account_id"].isin(ids), "paid_in_month"].sum()
    assert abs(forecast / actual - 1) < 0.10


def test_bootstrap_range_is_seeded_and_brackets_the_erc(book):
    a = ERCForecaster(n_bootstrap=10, seed=1).fit(book).summary()
    b = ERCForecaster(n_bootstrap=10, seed=1).fit(book).summary()
    pd.testing.assert_frame_equal(a, b)
    big = a[a["months_observed"] >= 1]
    assert (big["erc_low"] <= big["erc"] * 1.0001).all()
    assert (big["erc"] <= big["erc_high"] * 1.0001).all()
    assert (big["erc_high"] > big["erc_low"]).all()
    cl = ERCForecaster(method="chain_ladder", n_bootstrap=5, seed=1).fit(book).summary()
    assert (cl["erc_low"] <= cl["erc_high"]).all()


def test_errors_are_clear():
    rows = [("A", "2024-01-31", 10, 100.0, 0.0, "open")]
    with pytest.raises(DataError, match="no charged-off"):
        ERCForecaster().fit(_snaps(rows))
    with pytest.raises(DataError, match="method"):
        ERCForecaster(method="magic").fit(_flat_book())
    with pytest.raises(DataError, match="not fitted"):
        ERCForecaster().predict(3)


def test_plots(book):
    erc = ERCForecaster(n_bootstrap=5).fit(book)
    ax = plot_liquidation_curves(erc.curves_, every=3)
    assert ax.get_xlabel() == "months since charge-off"
    ax = plot_erc(erc)
    assert ax.get_xlabel() == "charge-off cohort"


def test_prediction_range_covers_what_cohorts_then_collect():
    # Fit at month 24 of a 40-month recovery book with a 12-month horizon, so each
    # cohort's ERC (ages it has not reached, up to 12) is observed later in the data.
    # The prediction range (estimation + over-dispersed Poisson process variance) must
    # cover most cohorts' actual collections; the estimation-only range far fewer.
    from recovery.analytics.liquidation import recovery_cells

    book = make_recovery_book(months=40, per_month=100, seed=1)
    pay, cohorts, _ = recovery_cells(book, None)
    origin = 2021 * 12 + 11  # December 2021 as year * 12 + month - 1
    coverage = {}
    for interval in ("estimation", "prediction"):
        erc = ERCForecaster(n_bootstrap=100, seed=1, interval=interval, horizon_months=12)
        s = erc.fit_cells(pay, cohorts, origin).summary()
        cmi = s["cohort"].dt.year * 12 + s["cohort"].dt.month - 1
        later = pay[pay["_cmi"].isin(cmi) & (pay["_mi"] > origin) & (pay["k"] <= 12)]
        actual = later.groupby("_cmi")["paid_in_month"].sum().reindex(cmi, fill_value=0.0)
        open_ = (s["months_observed"] < 12).to_numpy()
        inside = (actual.to_numpy() >= s["erc_low"].to_numpy()) & (
            actual.to_numpy() <= s["erc_high"].to_numpy()
        )
        coverage[interval] = inside[open_].mean()
        assert erc.dispersion_ > 0
    assert coverage["prediction"] >= 0.75
    assert coverage["prediction"] > coverage["estimation"]
