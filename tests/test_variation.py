"""Tests of recovery.analytics.variation: is a month's change news or noise?

Golden numbers are worked out in the tests independently of the module (the Wilson
bounds as roots of the score equation, the ratio's standard error by hand and by an
account bootstrap, the band of a short series by hand). The small version of the
benchmark (benchmarks/bench_report_changes.py) judges many month pairs of stable
Markov books (tests/synthetic_snapshots.py: time-homogeneous transitions, so nothing
changes but chance) and checks the share called unusual against the nominal 1%, then
injects shifts of a known number of standard errors at the level of the accounts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from recovery.analytics.kpis import monthly_kpis
from recovery.analytics.variation import (
    KPI_KINDS,
    judge_changes,
    kpi_moments,
    kpi_units,
    sampling_intervals,
    wilson_interval,
)
from synthetic_snapshots import make_book

LEVEL = 0.99
Z99 = stats.norm.ppf(0.995)


@pytest.fixture(scope="module")
def books() -> list[pd.DataFrame]:
    """Three stable books: 60 months, 150 new loans a month."""
    return [make_book(months=60, new_per_month=150, seed=seed) for seed in (11, 12, 13)]


# ----------------------------------------------------------------------------- estimates


def test_moments_reproduce_the_monthly_kpis(books):
    s = books[0]
    rates = sampling_intervals(kpi_moments(s), LEVEL)
    wide = rates.pivot(index="month_end", columns="kpi", values="value")
    k = monthly_kpis(s).set_index("month_end")[list(KPI_KINDS)]
    pd.testing.assert_frame_equal(
        wide[k.columns].sort_index(), k.sort_index(), check_names=False, rtol=1e-12
    )
    # the denominators: open accounts for overdue rates, M1+ at the start for cures
    m = kpi_moments(s).set_index(["kpi", "month_end"])
    month = pd.Timestamp("2023-06-30")
    start = s[s["month_end"] == month - pd.offsets.MonthEnd(1)]
    now = s[s["month_end"] == month]
    assert m.loc[("overdue_rate_30plus", month), "n"] == (now["status"] == "open").sum()
    delinquent = start["bucket"].isin(["M1", "M2", "M3", "M4", "M5", "M6"]).sum()
    assert m.loc[("cure_rate", month), "n"] == delinquent


def test_wilson_bounds_are_the_roots_of_the_score_equation():
    # |k/n - p| = z * sqrt(p (1 - p) / n)  <=>  (n + z²) p² - (2k + z²) p + k²/n = 0
    for k, n in [(0, 14), (5, 10), (14, 14), (37, 500)]:
        low, high = wilson_interval([k], [n], level=0.95)
        z = stats.norm.ppf(0.975)
        roots = np.sort(np.roots([n + z * z, -(2 * k + z * z), k * k / n]).real)
        assert low[0] == pytest.approx(max(roots[0], 0.0), abs=1e-12)
        assert high[0] == pytest.approx(min(roots[1], 1.0), abs=1e-12)
    low, high = wilson_interval([0], [14], level=0.95)
    assert low[0] == 0.0 and high[0] > 0.2  # never the empty "0.0% to 0.0%"


def test_ratio_standard_error_by_hand_and_by_bootstrap():
    rng = np.random.default_rng(5)
    owed = rng.lognormal(6, 0.8, 400)
    paid = np.where(rng.random(400) < 0.3, owed * rng.uniform(0.2, 1.5, 400), 0.0)
    units = {"collection_rate": pd.DataFrame({"month_end": pd.Timestamp("2024-01-31"),
                                              "x": owed, "y": paid})}  # fmt: skip
    got = sampling_intervals(kpi_moments(units), 0.95).iloc[0]
    ratio = paid.sum() / owed.sum()
    by_hand = np.sqrt(400 / 399 * np.sum((paid - ratio * owed) ** 2)) / owed.sum()
    assert got["value"] == pytest.approx(ratio)
    assert got["se"] == pytest.approx(by_hand, rel=1e-9)
    draws = rng.integers(0, 400, (4000, 400))
    boot = paid[draws].sum(axis=1) / owed[draws].sum(axis=1)
    assert got["se"] == pytest.approx(boot.std(), rel=0.08)
    assert got["high"] - got["value"] == pytest.approx(stats.norm.ppf(0.975) * by_hand)


# ----------------------------------------------------------------------------- judgement


def _series(values, se=0.01, start="2024-01-31"):
    months = pd.date_range(start, periods=len(values), freq="ME")
    v = np.asarray(values, dtype=float)
    return pd.DataFrame(
        {"month_end": months, "kpi": "k", "value": v, "low": v - Z99 * se, "high": v + Z99 * se}
    )


def test_interval_band_by_hand():
    # 13 months = 12 changes of history, then the judged change; constant se 0.01 a month
    history = [0.30, 0.31, 0.30, 0.32, 0.30, 0.29, 0.30, 0.31, 0.33, 0.31, 0.30, 0.30, 0.31]
    v = _series([*history, 0.36])
    out = judge_changes(v, "2025-02", min_history=12).iloc[0]
    se_change = np.sqrt(2) * 0.01  # square-and-add of two months' se
    s = np.diff(history) / se_change
    sigma = np.sqrt(np.mean(s**2))
    edge = stats.t.ppf(0.995, 12) * sigma * se_change
    assert out["history"] == 12
    assert out["dispersion"] == pytest.approx(sigma)
    assert out["band_low"] == pytest.approx(-edge) and out["band_high"] == pytest.approx(edge)
    assert out["change"] == pytest.approx(0.05)
    assert out["verdict"] == ("unusual" if 0.05 > edge else "normal")
    assert out["beyond"] == pytest.approx(max(0.05 - edge, 0.0))
    # the same series a hair inside the band is normal
    inside = judge_changes(_series([*history, 0.31 + 0.99 * edge]), "2025-02").iloc[0]
    assert inside["verdict"] == "normal" and inside["beyond"] == 0.0


def test_history_band_by_hand_relative_and_absolute():
    rng = np.random.default_rng(3)
    level = 100_000 * np.exp(np.cumsum(rng.normal(0.01, 0.03, 20)))
    v = pd.DataFrame({"month_end": pd.date_range("2024-01-31", periods=21, freq="ME"),
                      "kpi": "collected", "value": [*level, level[-1] * 1.2]})  # fmt: skip
    out = judge_changes(v, "2025-09", method="history", scale="relative").iloc[0]
    r = np.diff(np.log(level))  # 19 changes of history
    half = stats.t.ppf(0.995, 18) * r.std(ddof=1) * np.sqrt(1 + 1 / 19)
    assert out["history"] == 19
    assert out["band_low"] == pytest.approx(np.expm1(r.mean() - half))
    assert out["band_high"] == pytest.approx(np.expm1(r.mean() + half))
    assert out["change"] == pytest.approx(0.2)
    assert out["verdict"] == ("unusual" if np.log(1.2) > r.mean() + half else "normal")
    # a month of zero in the window: differences in the KPI's own units
    zero = v.assign(value=v["value"].where(v.index != 3, 0.0))
    out = judge_changes(zero, "2025-09", method="history", scale="relative").iloc[0]
    assert out["scale"] == "difference"
    assert out["change"] == pytest.approx(level[-1] * 0.2)


def test_too_little_history_gaps_and_missing_months():
    v = _series([0.3, 0.31, 0.29, 0.30, 0.36])
    assert judge_changes(v, "2024-05").iloc[0]["verdict"] == "no_history"
    assert np.isnan(judge_changes(v, "2024-05").iloc[0]["band_low"])  # no band shown
    gap = _series([0.30 + 0.01 * (i % 3) for i in range(20)])
    gap = gap[gap["month_end"] != pd.Timestamp("2025-07-31")]  # the month before is missing
    out = judge_changes(gap, "2025-08").iloc[0]
    assert out["verdict"] == "missing" and np.isnan(out["previous"])
    with pytest.raises(ValueError, match="level"):
        judge_changes(v, "2024-05", level=1.2)


def test_overdispersion_widens_the_band():
    """Months that vary more than sampling explains (Laney p'): a plain Wilson test on the
    change would call a third of the months unusual; the judgement stays near 1%."""
    rng = np.random.default_rng(8)
    n, months, series = 2000, 26, 300
    p = 0.3 + rng.normal(0, 0.03, (series, months))  # a month effect of ±3 pp
    k = rng.binomial(n, np.clip(p, 0.01, 0.99))
    low, high = wilson_interval(k, np.full_like(k, n), LEVEL)
    frames = pd.DataFrame({
        "month_end": np.tile(pd.date_range("2023-11-30", periods=months, freq="ME"), series),
        "kpi": np.repeat(np.arange(series), months), "value": (k / n).ravel(),
        "low": low.ravel(), "high": high.ravel(),
    })  # fmt: skip
    out = judge_changes(frames, "2025-12")
    naive = np.abs(np.diff(k[:, -2:], axis=1)[:, 0] / n) > np.sqrt(
        ((high - low)[:, -1] / 2) ** 2 + ((high - low)[:, -2] / 2) ** 2
    )
    assert naive.mean() > 0.3
    assert out["dispersion"].median() > 2
    assert out["verdict"].eq("unusual").mean() <= 0.02


# ----------------------------------------------------------------------------- small benchmark


def _flip(units: pd.DataFrame, delta: float, rng) -> pd.DataFrame:
    """More (or fewer) accounts in the numerator of a share: the rate moves by ``delta``."""
    y = units["y"].to_numpy(dtype=float).copy()
    pool = np.flatnonzero(y == 0) if delta > 0 else np.flatnonzero(y > 0)
    k = min(int(round(abs(delta) * len(y))), len(pool))
    y[rng.choice(pool, size=k, replace=False)] = 1.0 if delta > 0 else 0.0
    return units.assign(y=y)


def test_false_alarms_and_power_on_stable_books(books):
    """The small version of benchmarks/bench_report_changes.py."""
    rng = np.random.default_rng(0)
    verdicts, power = [], {3: [], 5: []}
    for s in books:
        units = kpi_units(s)
        moments = kpi_moments(units)
        rates = sampling_intervals(moments, LEVEL)
        for month in sorted(rates["month_end"].unique())[-30:]:
            judged = judge_changes(rates, month, level=LEVEL)
            verdicts.extend(judged["verdict"])
            if month < rates["month_end"].max() - pd.DateOffset(months=15):
                continue  # power: the last 15 month pairs of each book
            for kpi in ("cure_rate", "overdue_rate_30plus"):  # shares of accounts
                row = judged.set_index("kpi").loc[kpi]
                u = units[kpi][units[kpi]["month_end"] == month]
                others = rates[(rates["kpi"] == kpi) & (rates["month_end"] != month)]
                for k, sign in [(k, sign) for k in power for sign in (1, -1)]:
                    se = row["se_high"] if sign > 0 else row["se_low"]
                    moved = sampling_intervals(
                        kpi_moments({kpi: _flip(u, sign * k * se, rng)}), LEVEL
                    )
                    trial = judge_changes(pd.concat([others, moved]), month, level=LEVEL)
                    power[k].append(trial["verdict"].iloc[0] == "unusual")
    verdicts = pd.Series(verdicts)
    judged = verdicts[verdicts.isin(["unusual", "normal"])]
    assert len(judged) == 3 * 30 * len(KPI_KINDS)  # 24 months of history each time
    assert judged.eq("unusual").mean() <= 2 * (1 - LEVEL)
    # power of a test with 1% false alarms: at 5 se about 0.98, at 3 se about 0.58
    q = stats.t.ppf(0.995, 24)
    assert np.mean(power[5]) >= 0.9
    assert abs(np.mean(power[3]) - (stats.norm.sf(q - 3) + stats.norm.cdf(-q - 3))) < 0.15
