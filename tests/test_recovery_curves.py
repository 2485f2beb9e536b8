"""Tests of recovery by debt age (DESIGN.md §3) on hand-built snapshot tables."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from recovery.analytics.debt_age import DAYS_PER_MONTH, derive_debt_age, recovery_observations
from recovery.analytics.recovery_curves import (
    age_split_comparison,
    cumulative_recovery_curves,
    plot_cumulative_recovery_curves,
    plot_recovery_by_age,
    recovery_by_age,
    recovery_drivers,
)
from recovery.config import Config
from recovery.errors import DataError


def _snaps(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (account_id, month_end, dpd, balance, paid_in_month, status)."""
    df = pd.DataFrame(
        rows, columns=["account_id", "month_end", "dpd", "balance", "paid_in_month", "status"]
    )
    df["month_end"] = pd.to_datetime(df["month_end"])
    df["bucket"] = pd.NA
    df["amount_overdue"] = df["balance"]
    return df


def _book(account: str, start: str, months: int, dpd0: int, balance: float, pays: dict) -> list:
    """A charged-off account observed ``months`` month ends from ``start``; pays {i: amount}."""
    ends = pd.date_range(start, periods=months, freq="ME")
    rows, bal = [], balance
    for i, m in enumerate(ends):
        paid = pays.get(i, 0.0)
        bal = max(bal - paid, 0.0)
        rows.append((account, m, dpd0 + (m - ends[0]).days, bal, paid, "charged_off"))
    return rows


def random_snapshots(n_accounts: int = 60, months: int = 30, seed: int = 1) -> pd.DataFrame:
    """Random but coherent snapshot table: episodes, charge-offs, payments, exits."""
    rng = np.random.default_rng(seed)
    ends = pd.date_range("2020-01-31", periods=months, freq="ME")
    acc = np.repeat([f"A{i:03d}" for i in range(n_accounts)], months)
    m = np.tile(np.arange(months), n_accounts)
    dpd = rng.choice([0, 0, 15, 45, 75, 200, 400, 800], size=len(acc))
    status = np.where(dpd >= 180, "charged_off", "open")
    balance = rng.uniform(100, 5000, len(acc)).round(2)
    paid = np.where(rng.random(len(acc)) < 0.25, rng.uniform(1, 800, len(acc)), 0.0).round(2)
    df = pd.DataFrame(
        {
            "account_id": acc,
            "month_end": ends[m],
            "dpd": dpd,
            "balance": balance,
            "paid_in_month": paid,
            "status": status,
        }
    )
    keep = rng.random(len(df)) > 0.1  # gaps: months where an account is absent
    df = df[keep].reset_index(drop=True)
    df["bucket"] = pd.NA
    df["amount_overdue"] = df["balance"]
    df["product"] = np.where(df["account_id"].str[-1].isin(list("01234")), "a", "b")
    return df


# --------------------------------------------------------------------------- debt age


def test_debt_age_partial_payments_do_not_make_debt_younger():
    # Episode starts Jan 31 - 20 days = Jan 11. A partial payment in March cuts DPD to
    # 10, yet the debt's age keeps growing: Feb 29 is 49 days after Jan 11, Mar 31 80.
    # April is cured (dpd 0, NA); May starts a new episode: May 31 - 5 = May 26.
    snaps = _snaps(
        [
            ("A", "2024-01-31", 20, 100, 0, "open"),
            ("A", "2024-02-29", 49, 100, 0, "open"),
            ("A", "2024-03-31", 10, 90, 10, "open"),
            ("A", "2024-04-30", 0, 80, 30, "open"),
            ("A", "2024-05-31", 5, 80, 0, "open"),
            ("B", "2024-01-31", 0, 100, 0, "open"),
            ("B", "2024-02-29", 200, 100, 0, "charged_off"),
            ("B", "2024-03-31", 0, 100, 0, "charged_off"),  # dpd frozen at 0 after charge-off
        ]
    )
    age = derive_debt_age(snaps)
    assert age.tolist()[:5] == [20, 49, 80, pd.NA, 5]
    # B: start Feb 29 - 200 days = 2023-08-13; Mar 31 is 231 days after it
    assert age.tolist()[5:] == [pd.NA, 200, 231]


def test_given_debt_age_is_used():
    snaps = _snaps(_book("A", "2024-01-31", 3, 200, 100.0, {1: 10.0}))
    snaps["debt_age_days"] = [900, 930, 960]
    obs = recovery_observations(snaps, horizon_months=1)
    assert obs["debt_age_days"].tolist() == [900.0, 930.0]


# --------------------------------------------------------------------------- observations


def test_collected_within_horizon_is_capped_and_absent_months_are_zero():
    # A: balance 100 at Jan; pays 30 in Feb and 150 in Apr (a settlement, then gone).
    # Horizon 2 from Jan covers Feb+Mar = 30 -> share 0.3; from Feb covers Mar+Apr = 150
    # -> capped at the Feb balance 70 -> share 1.0; from Mar covers Apr+May = 150 + 0:
    # May is absent (the account left the snapshots after settling) and counts as
    # nothing collected, not as censoring -> capped at 70 -> 1.0.
    rows = [
        ("A", "2024-01-31", 200, 100.0, 0.0, "charged_off"),
        ("A", "2024-02-29", 229, 70.0, 30.0, "charged_off"),
        ("A", "2024-03-31", 260, 70.0, 0.0, "charged_off"),
        ("A", "2024-04-30", 0, 0.0, 150.0, "settled"),
        ("B", "2024-06-30", 200, 10.0, 0.0, "charged_off"),  # extends the data end
    ]
    obs = recovery_observations(_snaps(rows), horizon_months=2)
    a = obs[obs["account_id"] == "A"]
    assert a["month_end"].dt.month.tolist() == [1, 2, 3]  # settled row: not in scope
    assert a["collected"].tolist() == [30.0, 150.0, 150.0]
    assert a["recovered"].tolist() == [30.0, 70.0, 70.0]
    assert a["recovery_share"].tolist() == [0.3, 1.0, 1.0]
    assert a["paid"].tolist() == [True, True, True]
    assert "B" not in set(obs["account_id"])  # June is the data end: no follow-up


def test_short_follow_up_cohort_is_not_counted_as_unrecovered():
    # Old cohort (A): charged off Jan 2023, balance 100, pays 40 in Jun 2023 -> every
    # month end Jan..Mar 2023 has 12 months of follow-up before the data end (Mar 2024)
    # and recovers 40% (Jan, Feb, Mar all see the June payment within 12 months).
    # Young cohort (B): charged off Dec 2023, no payment yet: only 3 months of data after
    # it. With censoring B is excluded (not an unrecovered debt): the rate is 40%.
    rows = _book("A", "2023-01-31", 15, 200, 100.0, {5: 40.0})
    rows += _book("B", "2023-12-31", 4, 200, 100.0, {})
    snaps = _snaps(rows)
    obs = recovery_observations(snaps, horizon_months=12)
    assert set(obs["account_id"]) == {"A"}
    assert obs["month_end"].dt.strftime("%Y-%m").tolist() == ["2023-01", "2023-02", "2023-03"]
    table = recovery_by_age(snaps, horizon_months=12, bands="coarse", n_bootstrap=0)
    # A's Jan..Mar balances: 100, 100, 100; each recovers 40 -> 120 / 300
    assert table["recovery_rate"].tolist() == [pytest.approx(0.4)]
    assert table["n_debts"].sum() == 3
    # Without censoring, B's four months (and A's late months) would count as zero and
    # drag the rate down: this is the bias censoring removes.
    naive = recovery_observations(snaps, horizon_months=12, censor=False)
    assert naive["recovered"].sum() / naive["balance"].sum() < 0.2


def test_delinquent_scope_includes_open_late_debt():
    rows = [
        ("A", "2024-01-31", 15, 100.0, 0.0, "open"),
        ("A", "2024-02-29", 0, 50.0, 50.0, "open"),  # self-cure
        ("B", "2024-01-31", 200, 100.0, 0.0, "charged_off"),
        ("B", "2024-02-29", 229, 100.0, 0.0, "charged_off"),
        ("C", "2024-01-31", 0, 100.0, 0.0, "open"),  # current: never in scope
        ("C", "2024-02-29", 0, 100.0, 100.0, "open"),
    ]
    snaps = _snaps(rows)
    co = recovery_observations(snaps, scope="charged_off", horizon_months=1)
    dq = recovery_observations(snaps, scope="delinquent", horizon_months=1)
    assert co["account_id"].tolist() == ["B"]
    assert sorted(dq["account_id"]) == ["A", "B"]
    # pooled view: (50 + 0) / (100 + 100) = 0.25; recovery book alone: 0
    assert dq["recovered"].sum() / dq["balance"].sum() == pytest.approx(0.25)
    with pytest.raises(DataError, match="scope"):
        recovery_observations(snaps, scope="everything")


def _reference_collected(snaps: pd.DataFrame, horizon: int) -> pd.Series:
    """Slow reference: loop over rows, sum the same account's next months' payments."""
    s = snaps.copy()
    s["mi"] = s["month_end"].dt.year * 12 + s["month_end"].dt.month
    out = {}
    for (acc, mi), _ in s.groupby(["account_id", "mi"]):
        later = s[(s["account_id"] == acc) & (s["mi"] > mi) & (s["mi"] <= mi + horizon)]
        out[(acc, mi)] = later["paid_in_month"].sum()
    return pd.Series(out)


def test_vectorised_horizon_sum_matches_slow_reference():
    snaps = random_snapshots(n_accounts=15, months=20)
    obs = recovery_observations(snaps, scope="delinquent", horizon_months=5, censor=False)
    ref = _reference_collected(snaps, 5)
    mi = obs["month_end"].dt.year * 12 + obs["month_end"].dt.month
    expected = ref.loc[list(zip(obs["account_id"], mi, strict=True))].to_numpy()
    np.testing.assert_allclose(obs["collected"].to_numpy(), expected)


# --------------------------------------------------------------------------- by age band


def test_recovery_by_age_golden_numbers_by_amount_and_by_count():
    # Horizon 1. Young band (6-12 m): A balance 100 pays 100 (share 1), B balance 300
    # pays 0. By amount: 100/400 = 0.25; by count: 1 of 2 paid = 0.5; mean share 0.5.
    # Old band (36+ m, dpd 1200 days = 39.4 m): C balance 200 pays 20 -> 0.1, 1 of 1 paid.
    rows = [
        ("A", "2024-01-31", 200, 100.0, 0.0, "charged_off"),
        ("A", "2024-02-29", 0, 0.0, 100.0, "settled"),
        ("B", "2024-01-31", 200, 300.0, 0.0, "charged_off"),
        ("B", "2024-02-29", 229, 300.0, 0.0, "charged_off"),
        ("C", "2024-01-31", 1200, 200.0, 0.0, "charged_off"),
        ("C", "2024-02-29", 1229, 180.0, 20.0, "charged_off"),
    ]
    t = recovery_by_age(_snaps(rows), horizon_months=1, bands="coarse", n_bootstrap=0)
    assert t["age_band"].tolist() == ["6-12", "36+"]
    assert t["recovery_rate"].tolist() == pytest.approx([0.25, 0.1])
    assert t["payer_rate"].tolist() == pytest.approx([0.5, 1.0])
    assert t["mean_recovery_share"].tolist() == pytest.approx([0.5, 0.1])
    assert t["n_debts"].tolist() == [2, 1]
    monthly = recovery_by_age(_snaps(rows), horizon_months=1, n_bootstrap=0)
    # 200 days = 6.57 months -> band "6"; 1200 days -> pooled "48+"? no: 39.4 m -> "39"
    assert monthly["age_band"].tolist() == ["6", "39"]
    assert monthly["age_lo_months"].tolist() == [6.0, 39.0]


def test_bands_of_too_few_accounts_get_no_interval():
    snaps = random_snapshots()
    full = recovery_by_age(snaps, horizon_months=3, bands="coarse", n_bootstrap=30, seed=1)
    cut = int(full["n_accounts"].median())  # about half the bands fall below it
    t = recovery_by_age(snaps, horizon_months=3, bands="coarse", n_bootstrap=30, seed=1,
                        min_accounts=cut)  # fmt: skip
    few = t["n_accounts"] < cut
    assert few.any() and (~few).any()
    assert t["too_few"].tolist() == few.tolist()
    bounds = [c for c in t.columns if c.endswith(("_low", "_high"))]
    assert t.loc[few, bounds].isna().all().all()
    # the estimates stay, and the other bands keep their intervals unchanged
    pd.testing.assert_frame_equal(
        t[["recovery_rate", "payer_rate"]], full[["recovery_rate", "payer_rate"]]
    )
    pd.testing.assert_frame_equal(t.loc[~few, bounds], full.loc[~few, bounds])
    assert not recovery_by_age(snaps, horizon_months=3, bands="coarse", n_bootstrap=0)[
        "too_few"
    ].any()  # no minimum by default


def test_monthly_bands_pool_beyond_48_months():
    rows = _book("A", "2020-01-31", 3, int(60 * DAYS_PER_MONTH), 100.0, {1: 10.0})
    t = recovery_by_age(_snaps(rows), horizon_months=1, n_bootstrap=0)
    assert t["age_band"].unique().tolist() == ["48+"]
    assert np.isinf(t["age_hi_months"]).all()


def test_bootstrap_ci_is_seeded_and_brackets_the_estimate():
    snaps = random_snapshots()
    a = recovery_by_age(snaps, horizon_months=3, bands="coarse", n_bootstrap=50, seed=3)
    b = recovery_by_age(snaps, horizon_months=3, bands="coarse", n_bootstrap=50, seed=3)
    c = recovery_by_age(snaps, horizon_months=3, bands="coarse", n_bootstrap=50, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["recovery_rate_low"], c["recovery_rate_low"])
    for m in ("recovery_rate", "payer_rate"):
        assert (a[f"{m}_low"] <= a[m] + 1e-12).all() and (a[m] <= a[f"{m}_high"] + 1e-12).all()
        assert (
            ((a[[m, f"{m}_low", f"{m}_high"]] >= 0) & (a[[m, f"{m}_low", f"{m}_high"]] <= 1))
            .all()
            .all()
        )
    assert (a["recovery_rate_high"] > a["recovery_rate_low"]).all()


def test_bootstrap_resamples_accounts_not_rows():
    # One account with many identical rows and one with a single row: if rows were
    # resampled the CI of a band holding only the big account would be degenerate
    # anyway; with two accounts of different rates in one band, resampling accounts
    # gives the extremes 0 (only B drawn) and 1 (only A drawn) as possible replicates.
    rows = _book("A", "2023-01-31", 13, 200, 1000.0, {})
    rows = [
        (a, m, d, 100.0, 100.0 if i > 0 else 0.0, s) for i, (a, m, d, _, _, s) in enumerate(rows)
    ]
    rows += _book("B", "2023-01-31", 2, 210, 100.0, {})
    t = recovery_by_age(_snaps(rows), horizon_months=1, bands="coarse", n_bootstrap=400, seed=0)
    six = t[t["age_band"] == "6-12"].iloc[0]
    assert six["recovery_rate_low"] == pytest.approx(0.0, abs=0.2)
    assert six["recovery_rate_high"] == pytest.approx(1.0)


def test_by_product_and_amount_band_partition_the_whole():
    snaps = random_snapshots()
    whole = recovery_by_age(snaps, horizon_months=3, bands="coarse", n_bootstrap=0)
    for by in ("product", "amount_band"):
        t = recovery_by_age(snaps, horizon_months=3, bands="coarse", by=by, n_bootstrap=0)
        g = t.groupby("age_band")[["n_debts", "balance", "recovered"]].sum()
        w = whole.set_index("age_band")[["n_debts", "balance", "recovered"]]
        pd.testing.assert_frame_equal(g.loc[w.index], w, check_dtype=False)
    with pytest.raises(DataError, match="group by"):
        recovery_by_age(snaps, horizon_months=3, by="nope", n_bootstrap=0)


def test_no_follow_up_raises_a_clear_error():
    snaps = _snaps(_book("A", "2024-01-31", 3, 200, 100.0, {}))
    with pytest.raises(DataError, match="follow-up"):
        recovery_by_age(snaps, horizon_months=12)


# --------------------------------------------------------------------------- 24-month split


def test_age_split_golden_and_ci():
    # Young (< 24 m): A balance 100 recovers 60 within 1 month; B 100 recovers 0.
    #   by amount 60/200 = 0.3; by count 1/2 = 0.5.
    # Old (>= 24 m, 800 days = 26.3 m): C 100 recovers 10; D 100 recovers 0.
    #   by amount 10/200 = 0.05; by count 0.5. Difference 0.25 (amount), 0 (count).
    rows = []
    for acc, dpd, pay in (("A", 200, 60.0), ("B", 200, 0.0), ("C", 800, 10.0), ("D", 800, 0.0)):
        rows += _book(acc, "2024-01-31", 2, dpd, 100.0, {1: pay})
    c = age_split_comparison(_snaps(rows), horizon_months=1, n_bootstrap=100, seed=1)
    assert len(c) == 1
    r = c.iloc[0]
    assert r["recovery_rate_younger"] == pytest.approx(0.3)
    assert r["recovery_rate_older"] == pytest.approx(0.05)
    assert r["recovery_rate_difference"] == pytest.approx(0.25)
    assert r["recovery_rate_ratio"] == pytest.approx(6.0)
    assert r["payer_rate_difference"] == pytest.approx(0.0)
    assert r["n_debts_younger"] == 2 and r["n_debts_older"] == 2
    assert r["recovery_rate_difference_low"] <= 0.25 <= r["recovery_rate_difference_high"]


def test_age_split_by_group_and_custom_split():
    snaps = random_snapshots()
    c = age_split_comparison(snaps, horizon_months=3, by="product", n_bootstrap=20)
    assert c["product"].tolist() == ["a", "b"]
    c12 = age_split_comparison(snaps, horizon_months=3, split_months=12, n_bootstrap=0)
    c24 = age_split_comparison(snaps, horizon_months=3, n_bootstrap=0)
    assert c12["n_debts_younger"].iloc[0] <= c24["n_debts_younger"].iloc[0]
    amt = age_split_comparison(
        snaps, horizon_months=3, by="amount_band", amount_bands=2, n_bootstrap=0
    )
    assert len(amt) == 2


# --------------------------------------------------------------------------- age vs amount


def _factor_book(effect: str) -> pd.DataFrame:
    """Eight accounts: two ages x two amounts x two replicates; recovery set by ``effect``."""
    rows = []
    i = 0
    for dpd in (200, 900):
        for bal in (100.0, 1000.0):
            for rep in range(2):
                share = {"age": 0.5 if dpd == 200 else 0.1, "amount": 0.5 if bal == 100 else 0.1}[
                    effect
                ]
                share += 0.02 * rep  # a little noise so R2 < 1
                rows += _book(f"X{i}", "2024-01-31", 2, dpd, bal, {1: share * bal})
                i += 1
    return _snaps(rows)


@pytest.mark.parametrize("effect", ["age", "amount"])
def test_recovery_drivers_attributes_variance_to_the_right_factor(effect):
    d = recovery_drivers(_factor_book(effect), horizon_months=1, amount_bands=2, weight="count")
    other = "amount" if effect == "age" else "age"
    assert d.loc[effect, "share_of_explained"] > 0.95
    assert d.loc[other, "share_of_explained"] < 0.05
    # Shapley shares add up to the joint R2
    assert d.loc["age", "explained_share"] + d.loc["amount", "explained_share"] == pytest.approx(
        d.loc["both", "r2_alone"]
    )


# --------------------------------------------------------------------------- lifetime curves


def test_cumulative_curves_match_a_slow_reference_and_are_monotone():
    snaps = random_snapshots(n_accounts=20, months=15, seed=5)
    curves = cumulative_recovery_curves(snaps, max_months=6)
    assert (curves.groupby("age_band")["cumulative_rate"].diff().dropna() >= -1e-12).all()
    # Reference for k = 1..6: incremental capped recovery of placements with k months of
    # follow-up, over their balance, then summed.
    obs = recovery_observations(snaps, horizon_months=1, censor=False)
    end = snaps["month_end"].max()
    from recovery.analytics.debt_age import age_band_columns

    obs = pd.concat(
        [obs, age_band_columns(obs["debt_age_days"].to_numpy(), "coarse", Config())], axis=1
    )
    s = snaps.assign(mi=snaps["month_end"].dt.year * 12 + snaps["month_end"].dt.month)
    recs = []
    for r in obs.itertuples():
        mi = r.month_end.year * 12 + r.month_end.month
        follow = (end.year * 12 + end.month) - mi
        later = s[(s["account_id"] == r.account_id) & (s["mi"] > mi)]
        prev = 0.0
        for k in range(1, min(follow, 6) + 1):
            cum = min(later.loc[later["mi"] <= mi + k, "paid_in_month"].sum(), r.balance)
            recs.append((r.age_band, k, cum - prev, r.balance))
            prev = cum
    ref = (
        pd.DataFrame(recs, columns=["age_band", "k", "inc", "bal"]).groupby(["age_band", "k"]).sum()
    )
    ref = (ref["inc"] / ref["bal"]).groupby(level=0).cumsum()
    got = curves.set_index(["age_band", "months_since_placement"])["cumulative_rate"]
    pd.testing.assert_series_equal(
        got.sort_index(),
        ref.rename_axis(["age_band", "months_since_placement"]).sort_index(),
        check_names=False,
    )


# --------------------------------------------------------------------------- plots


def test_plots_return_axes_with_the_24_month_line():
    snaps = random_snapshots()
    t = pd.concat(
        [
            recovery_by_age(snaps, horizon_months=3, n_bootstrap=10),
            recovery_by_age(snaps, scope="delinquent", horizon_months=3, n_bootstrap=10),
        ]
    )
    ax = plot_recovery_by_age(t)
    xs = [line.get_xdata()[0] for line in ax.get_lines() if len(set(line.get_xdata())) == 1]
    assert 24 in xs
    assert len(ax.get_lines()) == 3  # two scopes + the 24-month line
    ax2 = plot_cumulative_recovery_curves(cumulative_recovery_curves(snaps, max_months=5))
    assert ax2.get_xlabel() == "months since placement"


# --------------------------------------------------------------------------- simulator truth


@pytest.mark.slow
@pytest.mark.parametrize("age_decay", [None, 0.15])
def test_recovery_by_age_within_two_points_of_the_simulator_truth(age_decay):
    # A small version of benchmarks/bench_recovery.py: 3,000 loans, 60 months. The
    # truth (Truth.recovery_by_age) uses hidden follow-up months; we use the snapshots
    # only, with full-follow-up month ends. Every coarse band and both sides of the
    # 24-month split, in both views, must be within 2 percentage points.
    from recovery.simulate import get_scenario, simulate_portfolio
    from recovery.timeline.aging import snapshots

    scenario = "benchmark" if age_decay is None else get_scenario("benchmark", age_decay=age_decay)
    portfolio, truth = simulate_portfolio(
        n_accounts=3000, months=60, seed=0, scenario=scenario, operation=None
    )
    snaps = snapshots(portfolio)
    t = truth.recovery_by_age
    older = {}
    for scope, view in (("charged_off", "charged_off"), ("delinquent", "all_delinquent")):
        est = recovery_by_age(snaps, scope=scope, bands="coarse", n_bootstrap=0)
        bands = t[(t["view"] == view) & (t["grouping"] == "age_band")]
        bands = bands.assign(age_band=bands["age_band"].str.replace("m", "", regex=False))
        m = est.merge(bands, on="age_band")
        assert len(m) >= 4
        assert (100 * (m["recovery_rate"] - m["recovery_share"]).abs()).max() < 2.0
        split = age_split_comparison(snaps, scope=scope, n_bootstrap=0).iloc[0]
        ts = t[(t["view"] == view) & (t["grouping"] == "age_split")].set_index("age_band")
        assert abs(split["recovery_rate_younger"] - ts.loc["<24m", "recovery_share"]) < 0.02
        assert abs(split["recovery_rate_older"] - ts.loc["24m+", "recovery_share"]) < 0.02
        older[scope] = (split["recovery_rate_younger"], split["recovery_rate_older"])
    # old debt recovers less than young in this world, in both views
    assert all(young > old for young, old in older.values())
