"""Liquidation curves and expected remaining collections (ERC), DESIGN.md §3.

A **charge-off cohort** is the set of accounts charged off in one calendar month. Its
**liquidation curve** is the cumulative amount recovered (``paid_in_month`` of the
months after the charge-off month) by months since charge-off, in currency and as a
share of the balance charged off. Months with nothing collected are zeros, never
missing: a cohort observed for ten months has ten cells, whatever was paid.

**ERC** (expected remaining collections) projects each cohort's curve to a fixed
horizon (``config.analytics.erc_horizon_months``, default 84 months since charge-off):

* ``method="chain_ladder"``: volume-weighted development factors on cumulative
  recoveries, ``f_k = Σ_c C[c, k+1] / Σ_c C[c, k]``, over the cohorts observed at
  both ages (optionally only the latest ``n_periods`` calendar months), and a **tail
  factor** beyond the last reliable age from an exponential decay of ``f_k - 1``;
* ``method="additive"`` (the default; a liquidation-rate method): the expected
  recovery in month *k* per unit of balance charged off, ``r_k = Σ_c inc[c, k] /
  Σ_c B_c`` over the cohorts observed at age *k*, blended (credibility by the number of
  accounts behind it) with an exponential decay fitted by a Poisson GLM with the
  balance as exposure, which also carries the curve beyond the data (the tail);
  ``ERC_c = B_c · Σ_{k > age_c} r_k``. Unlike the chain ladder it gives young cohorts
  (nothing collected yet) a sensible ERC.

The uncertainty range is a percentile bootstrap over accounts, resampled within each
cohort: the rates or factors are re-estimated on every replicate and, for the chain
ladder, the cohort's own to-date is re-drawn too. By default (``interval=
"prediction"``) each replicate also draws the cohort's future collections around their
expectation with over-dispersed Poisson process variance, so the range is a prediction
interval, not only an estimation interval.

Examples
--------
>>> import pandas as pd
>>> from recovery.analytics.liquidation import liquidation_curves
>>> snaps = pd.DataFrame({"account_id": ["A"] * 3,
...     "month_end": pd.date_range("2024-01-31", periods=3, freq="ME"),
...     "dpd": [180, 209, 240], "balance": [100.0, 90.0, 90.0],
...     "paid_in_month": [5.0, 10.0, 0.0], "status": ["charged_off"] * 3})
>>> liquidation_curves(snaps)[["months_since_charge_off", "cumulative_rate"]].values.tolist()
[[1.0, 0.1], [2.0, 0.1]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from recovery.analytics.common import (
    legend_outside,
    money_axis,
    month_end,
    month_number,
    plot_axes,
)
from recovery.analytics.debt_age import (
    check_part_columns,
    check_snapshot_columns,
    sort_snapshots,
)
from recovery.analytics.partitions import PartitionedSnapshots, concat_parts
from recovery.config import Config
from recovery.docstrings import fill_doc
from recovery.errors import DataError

__all__ = [
    "charge_off_cohorts",
    "liquidation_curves",
    "liquidation_triangle",
    "development_factors",
    "tail_factor",
    "ERCForecaster",
    "plot_liquidation_curves",
    "plot_erc",
]


@fill_doc
def charge_off_cohorts(snapshots: pd.DataFrame) -> pd.DataFrame:
    """One row per charged-off account: its cohort (month end) and balance charged off.

    The cohort is the month of ``charge_off_date`` when the column is given, else the
    first month end with status ``charged_off``. The balance charged off is the
    balance at the account's first ``charged_off`` month end.

    Parameters
    ----------
    {{snapshots_table}}

    Returns
    -------
    DataFrame
        ``account_id, cohort`` (month end), ``charged_off_balance`` (currency).

    Examples
    --------
    >>> snaps = pd.DataFrame({"account_id": ["A", "A", "B"],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-02-29"]),
    ...     "dpd": [150, 180, 10], "balance": [120.0, 110.0, 50.0],
    ...     "paid_in_month": [0.0] * 3, "status": ["open", "charged_off", "open"]})
    >>> charge_off_cohorts(snaps).values.tolist()
    [['A', Timestamp('2024-02-29 00:00:00'), 110.0]]
    """
    check_snapshot_columns(snapshots, what="the liquidation curves and remaining collections")
    s = sort_snapshots(snapshots)
    co = s[s["status"].astype(str) == "charged_off"]
    first = co.groupby("_acc", sort=True).head(1)
    cohort_mi = first["_mi"].to_numpy()
    if "charge_off_date" in first.columns:
        given = pd.to_datetime(first["charge_off_date"])
        cohort_mi = np.where(given.notna(), month_number(given.fillna(pd.Timestamp(0))), cohort_mi)
    return pd.DataFrame(
        {
            "account_id": first["account_id"].to_numpy(),
            "cohort": month_end(cohort_mi),
            "charged_off_balance": first["balance"].to_numpy(dtype=float),
        }
    )


@fill_doc
def recovery_cells(
    snapshots: pd.DataFrame, data_end: pd.Timestamp | str | None
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Account-level recoveries by months since charge-off (k >= 1) and the cohorts.

    The cells every estimate of this module starts from; a backtest computes them
    once and fits :meth:`ERCForecaster.fit_cells` at each origin on them.

    Parameters
    ----------
    {{snapshots_table}}
    data_end : date, optional
        Last month end to use (default: the latest ``month_end``).

    Returns
    -------
    pay : DataFrame
        One row per payment after the charge-off month and up to ``data_end``:
        ``account_id``, ``_mi`` (month number of the payment), ``paid_in_month``
        (currency), ``_cmi`` (month number of the account's cohort) and ``k``
        (months since charge-off, >= 1).
    cohorts : DataFrame
        :func:`charge_off_cohorts` of the accounts charged off by ``data_end``, with
        ``_cmi``.
    end_mi : int
        Month number of ``data_end``.

    Examples
    --------
    >>> snaps = pd.DataFrame({"account_id": ["A"] * 3,
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31"]),
    ...     "dpd": [180, 210, 240], "balance": [100.0, 90.0, 90.0],
    ...     "paid_in_month": [0.0, 10.0, 0.0], "status": ["charged_off"] * 3})
    >>> pay, cohorts, end_mi = recovery_cells(snaps, None)
    >>> pay[["account_id", "k", "paid_in_month"]].values.tolist(), end_mi
    ([['A', 1, 10.0]], 24290)
    """
    if isinstance(snapshots, PartitionedSnapshots):  # account by account: the parts' cells
        check_part_columns(snapshots, what="the liquidation curves and remaining collections")
        end = snapshots.data_end if data_end is None else pd.Timestamp(data_end)

        def compute() -> tuple[pd.DataFrame, pd.DataFrame]:
            cells = snapshots.map(recovery_cells, end)
            pay = concat_parts([c[0] for c in cells])
            cohorts = concat_parts([c[1] for c in cells])
            pay = pay.sort_values(["account_id", "_mi"], kind="mergesort", ignore_index=True)
            cohorts = cohorts.sort_values("account_id", kind="mergesort", ignore_index=True)
            return pay, cohorts

        pay, cohorts = snapshots.memo(("cells", end), compute)
        return pay.copy(), cohorts.copy(), int(month_number([end])[0])
    s = sort_snapshots(snapshots)
    cohorts = charge_off_cohorts(s)
    end_mi = (
        int(month_number([pd.Timestamp(data_end)])[0])
        if data_end is not None
        else int(s["_mi"].max())
    )
    cohorts = cohorts[month_number(cohorts["cohort"]) <= end_mi].reset_index(drop=True)
    cohorts["_cmi"] = month_number(cohorts["cohort"])
    pay = s.loc[s["paid_in_month"].fillna(0) > 0, ["account_id", "_mi", "paid_in_month"]]
    pay = pay.merge(cohorts[["account_id", "_cmi"]], on="account_id", how="inner")
    pay["k"] = pay["_mi"] - pay["_cmi"]
    pay = pay[(pay["k"] >= 1) & (pay["_mi"] <= end_mi)]
    return pay, cohorts, end_mi


@fill_doc
def liquidation_curves(
    snapshots: pd.DataFrame,
    config: Config | None = None,
    *,
    data_end: pd.Timestamp | str | None = None,
    max_months: int | None = None,
) -> pd.DataFrame:
    """Cumulative recoveries per charge-off cohort by months since charge-off.

    Parameters
    ----------
    {{snapshots_table}}
    config : Config, optional
        ``analytics.erc_horizon_months`` bounds ``max_months`` by default.
    {{last_month_end}}
    max_months : int, optional
        Last month since charge-off to report.

    Returns
    -------
    DataFrame
        One row per observed (cohort, month since charge-off ``k`` ≥ 1):
        ``cohort, months_since_charge_off, n_accounts, charged_off_balance,
        collected`` (in month *k*), ``cumulative`` (currency) and
        ``cumulative_rate`` (share of the balance charged off). Unrecovered months are
        zeros.

    Examples
    --------
    >>> snaps = pd.DataFrame({"account_id": ["A", "A", "A", "B", "B"],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31",
    ...                                  "2024-02-29", "2024-03-31"]),
    ...     "dpd": [180, 209, 240, 180, 209], "balance": [100.0, 100.0, 70.0, 50.0, 50.0],
    ...     "paid_in_month": [0.0, 0.0, 30.0, 0.0, 0.0], "status": ["charged_off"] * 5})
    >>> c = liquidation_curves(snaps)
    >>> c[["months_since_charge_off", "collected", "cumulative_rate"]].values.tolist()
    [[1.0, 0.0, 0.0], [2.0, 30.0, 0.3], [1.0, 0.0, 0.0]]
    """
    config = config or Config()
    pay, cohorts, end_mi = recovery_cells(snapshots, data_end)
    horizon = int(max_months if max_months is not None else config.analytics.erc_horizon_months)
    per = cohorts.groupby("_cmi").agg(
        n_accounts=("account_id", "size"), charged_off_balance=("charged_off_balance", "sum")
    )
    inc = pay.groupby(["_cmi", "k"])["paid_in_month"].sum()
    ages = np.minimum(end_mi - per.index.to_numpy(), horizon)
    grid = pd.DataFrame(
        {
            "_cmi": np.repeat(per.index.to_numpy(), np.maximum(ages, 0)),
            "k": np.concatenate([np.arange(1, a + 1) for a in np.maximum(ages, 0)])
            if len(ages)
            else np.array([], dtype=np.int64),
        }
    )
    grid = grid.join(per, on="_cmi")
    grid["collected"] = (
        inc.reindex(pd.MultiIndex.from_frame(grid[["_cmi", "k"]])).fillna(0.0).to_numpy()
    )
    grid["cumulative"] = grid.groupby("_cmi")["collected"].cumsum()
    grid["cumulative_rate"] = grid["cumulative"] / grid["charged_off_balance"]
    grid.insert(0, "cohort", month_end(grid["_cmi"].to_numpy()))
    grid = grid.rename(columns={"k": "months_since_charge_off"})
    grid["months_since_charge_off"] = grid["months_since_charge_off"].astype(float)
    return grid.drop(columns="_cmi")[
        [
            "cohort",
            "months_since_charge_off",
            "n_accounts",
            "charged_off_balance",
            "collected",
            "cumulative",
            "cumulative_rate",
        ]
    ].reset_index(drop=True)


def liquidation_triangle(
    curves: pd.DataFrame,
    value: Literal["cumulative", "collected", "cumulative_rate"] = "cumulative",
) -> pd.DataFrame:
    """The cohort × months-since-charge-off triangle (NaN where not yet observed).

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`liquidation_curves`.
    value : str
        Which column to spread.

    Returns
    -------
    DataFrame
        Index ``cohort``, columns months since charge-off (int).

    Examples
    --------
    >>> curves = pd.DataFrame({"cohort": pd.to_datetime(["2024-01-31"] * 2 + ["2024-02-29"]),
    ...     "months_since_charge_off": [1.0, 2.0, 1.0], "cumulative": [0.0, 30.0, 5.0]})
    >>> liquidation_triangle(curves).to_numpy().tolist()
    [[0.0, 30.0], [5.0, nan]]
    """
    t = curves.pivot(index="cohort", columns="months_since_charge_off", values=value)
    t.columns = t.columns.astype(int)
    t.columns.name = "months_since_charge_off"
    return t


def development_factors(
    triangle: pd.DataFrame, *, n_periods: int | None = None, min_cohorts: int = 1
) -> pd.Series:
    """Volume-weighted age-to-age factors of a cumulative triangle.

    ``f_k = Σ_c C[c, k+1] / Σ_c C[c, k]`` over the cohorts observed at both ages, with
    only the latest ``n_periods`` calendar months (diagonals) when given.

    Parameters
    ----------
    triangle : DataFrame
        Cumulative recoveries (cohort × months since charge-off), NaN where unobserved.
    n_periods : int, optional
        Use only the last ``n_periods`` diagonals (recent experience).
    min_cohorts : int
        Ages with fewer contributing cohorts get NaN (left to the tail).

    Returns
    -------
    Series
        Factor from age *k* to *k + 1*, indexed by *k*; NaN where it cannot be estimated
        (no cohort, or a zero sum at age *k*).

    Examples
    --------
    >>> tri = pd.DataFrame([[10.0, 15.0, 18.0], [20.0, 28.0, np.nan], [5.0, np.nan, np.nan]],
    ...     columns=[1, 2, 3])
    >>> development_factors(tri).round(4).tolist()  # (15+28)/(10+20), 18/15
    [1.4333, 1.2]
    """
    c = triangle.to_numpy(dtype=float)
    num, den, cnt = _factor_sums(c, n_periods)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where((cnt >= min_cohorts) & (den > 0), num / den, np.nan)
    return pd.Series(f, index=pd.Index(triangle.columns[:-1], name="months_since_charge_off"))


def _factor_sums(c: np.ndarray, n_periods: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Numerator, denominator and cohort count of each age-to-age factor (vectorised)."""
    n_c, n_k = c.shape
    both = ~np.isnan(c[:, :-1]) & ~np.isnan(c[:, 1:])
    if n_periods is not None:
        # calendar position of cell (i, k+1): last observed diagonal has the largest i + k
        diag = np.arange(n_c)[:, None] + np.arange(1, n_k)[None, :]
        last = np.where(~np.isnan(c), np.arange(n_c)[:, None] + np.arange(n_k)[None, :], -1).max()
        both &= diag > last - n_periods
    num = np.where(both, c[:, 1:], 0.0).sum(axis=0)
    den = np.where(both, c[:, :-1], 0.0).sum(axis=0)
    return num, den, both.sum(axis=0)


def tail_factor(
    factors: pd.Series, horizon_months: int, *, fit_last: int = 12, last_age: int | None = None
) -> tuple[float, pd.Series]:
    """Tail factor from the last estimated age to the horizon, by exponential decay.

    ``log(f_k - 1)`` is fitted linearly in *k* on the last ``fit_last`` factors above 1;
    the fitted factors extend the series to ``horizon_months - 1`` and the tail factor
    is their product beyond ``last_age`` (the last age with an estimated factor). When
    the decay cannot be fitted (fewer than three usable factors, or no decay), the tail
    is 1 (no development assumed beyond the data), which is conservative.

    Parameters
    ----------
    factors : Series
        Age-to-age factors indexed by age *k* (months), NaN where not estimated.
    horizon_months : int
        Horizon (months since charge-off).
    fit_last : int
        How many of the last usable factors to fit.
    last_age : int, optional
        Last age whose own factor is trusted (default: the last non-NaN one).

    Returns
    -------
    tuple of (float, Series)
        The tail factor and the completed factors for ages 1 … ``horizon_months - 1``.

    Examples
    --------
    >>> f = pd.Series([1.5, 1.25, 1.125, 1.0625], index=[1, 2, 3, 4])
    >>> tail, full = tail_factor(f, 8)  # f_k - 1 halves: 1.03125 * 1.015625 * 1.0078125
    >>> round(tail, 4), len(full)
    (1.0555, 7)
    """
    ages = np.arange(1, horizon_months)
    full = factors.reindex(ages).astype(float)
    known = full.dropna()
    last = int(known.index.max()) if last_age is None and len(known) else (last_age or 0)
    full[full.index > last] = np.nan
    usable = known[(known > 1.0) & (known.index <= last)].tail(fit_last)
    extra = pd.Series(1.0, index=ages[ages > last])
    if len(usable) >= 3:
        slope, intercept = np.polyfit(
            usable.index.to_numpy(float), np.log(usable.to_numpy() - 1.0), 1
        )
        if slope < 0:
            extra = pd.Series(
                1.0 + np.exp(intercept + slope * extra.index.to_numpy(float)), index=extra.index
            )
    full.loc[extra.index] = extra
    full = full.fillna(1.0)
    return float(np.prod(extra.to_numpy())), full


def _rate_tail(
    num: np.ndarray, den: np.ndarray, support: np.ndarray, horizon: int, credibility: float
) -> np.ndarray:
    """Incremental liquidation rates for ages 1 … horizon (index 0 = age 1).

    An exponential decay ``r_k = exp(a + b k)`` is fitted by a Poisson GLM (log link,
    exposure = balance charged off of the cohorts observed at age *k*) on every
    observed age, so noisy or zero late cells (small exposure) neither bias the level
    (the fit reproduces the total collected) nor stop the tail. Each observed age's
    rate is then a credibility blend ``z·observed + (1 − z)·fitted`` with
    ``z = support / (support + credibility)`` (support: accounts behind the age);
    beyond the data the fitted decay is used. With fewer than three observed ages the
    pooled observed rate is carried forward.
    """
    n = min(len(num), horizon)
    num, den, support = num[:n], den[:n], support[:n]
    ages = np.arange(1, horizon + 1, dtype=float)
    seen = den > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = np.where(seen, num / den, np.nan)
    fitted = np.zeros(horizon)
    idx = np.flatnonzero(seen)
    if len(idx) >= 3:
        use = idx
        a, b = _poisson_decay(ages[use], num[use], den[use])
        fitted = np.exp(a + b * ages)
    elif len(idx):
        fitted[:] = num[idx].sum() / den[idx].sum()
    out = fitted.copy()
    z = np.where(seen, support / (support + credibility), 0.0)
    out[:n] = np.where(seen, z * np.nan_to_num(observed) + (1 - z) * fitted[:n], fitted[:n])
    return out


def _poisson_decay(ages: np.ndarray, num: np.ndarray, den: np.ndarray) -> tuple[float, float]:
    """Fit ``num ~ den · exp(a + b·age)`` (Poisson quasi-likelihood, Newton), ``b <= 0``.

    Two parameters on at most a few dozen ages: a handful of Newton steps on the
    concave log-likelihood ``Σ num·η − den·exp(η)``, ``η = a + b·age``.
    """
    total = num.sum() / den.sum()
    if total <= 0:
        return -np.inf, 0.0
    x = ages - ages.mean()
    theta = np.array([np.log(total), 0.0])

    def loglik(t: np.ndarray) -> float:
        eta = t[0] + t[1] * x
        return float((num * eta - den * np.exp(eta)).sum())

    current = loglik(theta)
    for _ in range(50):  # Newton iterations (a fixed small number of parameters)
        mu = den * np.exp(theta[0] + theta[1] * x)
        resid = num - mu
        grad = np.array([resid.sum(), (x * resid).sum()])
        hess = np.array([[mu.sum(), (x * mu).sum()], [(x * mu).sum(), (x * x * mu).sum()]])
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        scale = 1.0
        while scale > 1e-6 and loglik(theta + scale * step) < current:
            scale /= 2
        theta = theta + scale * step
        new = loglik(theta)
        if abs(new - current) < 1e-12 * max(abs(current), 1.0):
            current = new
            break
        current = new
    a, b = float(theta[0]), float(theta[1])
    if b > 0:  # no decay in the data: carry the pooled rate forward
        return float(np.log(total)), 0.0
    return a - b * float(ages.mean()), b


def _dispersion(inc: np.ndarray, bal: np.ndarray, obs: np.ndarray, rates: np.ndarray) -> float:
    """Over-dispersed Poisson scale: Pearson χ² of the observed cells / degrees of freedom.

    Fitted value of cell (cohort c, age k) is ``bal_c · rates_k``; currency units.
    """
    h = inc.shape[1]
    seen = np.arange(1, h + 1)[None, :] <= obs[:, None]
    mu = bal[:, None] * rates[None, :]
    ok = seen & (mu > 0)
    if ok.sum() < 2:
        return 0.0
    chi2 = (((inc - mu) ** 2) / np.where(ok, mu, 1.0))[ok].sum()
    dof = max(int(ok.sum()) - int(ok.any(axis=0).sum()), 1)
    return float(chi2 / dof)


def _curves_from_cells(
    cohort_mi: np.ndarray, inc: np.ndarray, bal: np.ndarray, n_acc: np.ndarray, obs: np.ndarray
) -> pd.DataFrame:
    """:func:`liquidation_curves` rows from the cohort × age matrix of recoveries."""
    h = inc.shape[1]
    ages = np.arange(1, h + 1)
    seen = ages[None, :] <= obs[:, None]
    ci, ki = np.nonzero(seen)
    cum = np.cumsum(inc, axis=1)
    return pd.DataFrame(
        {
            "cohort": month_end(cohort_mi[ci]),
            "months_since_charge_off": (ki + 1).astype(float),
            "n_accounts": n_acc[ci].astype(np.int64),
            "charged_off_balance": bal[ci],
            "collected": inc[ci, ki],
            "cumulative": cum[ci, ki],
            "cumulative_rate": cum[ci, ki] / bal[ci],
        }
    )


@fill_doc
@dataclass(eq=False, repr=False)
class ERCForecaster(BaseEstimator):
    """Expected remaining collections per charge-off cohort, with a bootstrap range.

    Parameters
    ----------
    method : {"additive", "chain_ladder"}
        Liquidation-rate projection (default) or volume-weighted chain ladder.
    horizon_months : int, optional
        Horizon (months since charge-off); default ``config.analytics.erc_horizon_months``.
    n_periods : int, optional
        Use only the latest ``n_periods`` calendar months of experience (diagonals) to
        estimate rates / factors; ``None`` uses all.
    min_accounts : int
        Additive: the credibility constant — an age's observed rate gets weight
        ``support / (support + min_accounts)`` against the fitted exponential decay
        (support: accounts in the cohorts observed at that age). Chain ladder: a factor
        is used only when the cohorts behind it hold at least this many accounts;
        beyond, the tail takes over.
    fit_last : int
        Chain ladder: number of last reliable factors the tail decay is fitted on.
    n_bootstrap : int, optional
        Bootstrap replicates (default ``config.analytics.bootstrap_samples``; 0: none).
    confidence : float, optional
        Level of the range (default ``config.analytics.confidence``).
    {{bootstrap_seed}}
    interval : {"prediction", "estimation"}
        ``"prediction"`` (default): each bootstrap replicate of a cohort's ERC also
        gets the randomness of its own future collections, drawn from a gamma
        distribution with the replicate as mean and ``dispersion_`` × mean as variance
        (over-dispersed Poisson process variance, as in England–Verrall). ``"estimation"``:
        the resampling of accounts only (rates re-estimated), a narrower range.
    {{config}}

    Attributes
    ----------
    curves_ : DataFrame
        :func:`liquidation_curves` of the fitted data.
    rates_ : Series
        Incremental recovery per unit charged off by age 1 … horizon (tail included).
    development_factors_ : Series
        Age-to-age factors 1 … horizon-1 (chain ladder, tail included).
    tail_factor_ : float
        Product of the extrapolated factors beyond the last reliable age (chain ladder)
        or the ratio of the full to the observed-ages cumulative rate (additive).
    cohorts_ : DataFrame
        Per cohort: balance charged off, age, collected to date, ERC and its range.
    data_end_ : Timestamp
        Last month end of the fitted data.
    dispersion_ : float
        Over-dispersed Poisson scale of the monthly recoveries (currency): Pearson χ²
        of the observed cohort × age cells against ``balance · rates_`` over its
        degrees of freedom.
    total_erc_range_ : tuple of float
        Range of the book's total ERC (quantiles of the summed replicates), when
        bootstrapped.

    Examples
    --------
    >>> rows = []
    >>> for c in range(6):  # six cohorts of one account, each pays 10 per month
    ...     for k in range(6 - c):
    ...         rows.append((f"A{c}", pd.Timestamp("2024-01-31") + pd.offsets.MonthEnd(c + k),
    ...                      200, 100.0, 10.0 if k else 0.0, "charged_off"))
    >>> snaps = pd.DataFrame(rows, columns=["account_id", "month_end", "dpd", "balance",
    ...                                     "paid_in_month", "status"])
    >>> erc = ERCForecaster(horizon_months=8, min_accounts=1, n_bootstrap=0).fit(snaps)
    >>> erc.summary()["erc"].round(1).tolist()  # 10 a month for the ages still to come
    [30.0, 40.0, 50.0, 60.0, 70.0, 80.0]
    >>> erc.predict(2)["collections"].round(1).tolist()  # all six cohorts pay 10 each
    [60.0, 60.0]
    """

    method: Literal["additive", "chain_ladder"] = "additive"
    horizon_months: int | None = None
    n_periods: int | None = None
    min_accounts: int = 30
    fit_last: int = 12
    n_bootstrap: int | None = None
    confidence: float | None = None
    seed: int | None = None
    interval: Literal["prediction", "estimation"] = "prediction"
    config: Config | None = None

    # ---------------------------------------------------------------- internals

    def _estimate(
        self, inc: np.ndarray, bal: np.ndarray, obs: np.ndarray, n_acc: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
        """Rates (age 1..H), factors (1..H-1), tail and projected future per cohort.

        ``inc`` (cohorts × H) incremental recoveries (0 where unobserved), ``bal``
        balance charged off per cohort, ``obs`` observed ages per cohort, ``n_acc``
        accounts per cohort (for reliability).
        """
        h = self._horizon
        n_c = len(bal)
        ages = np.arange(1, h + 1)
        seen = ages[None, :] <= obs[:, None]
        if self.n_periods is not None:
            # calendar month of cell (c, k) relative to the data end: obs_c - k (0 = last)
            seen &= (obs[:, None] - ages[None, :]) < self.n_periods
        cum = np.cumsum(inc, axis=1)
        if self.method == "additive":
            den = (seen * bal[:, None]).sum(axis=0)
            num = (seen * inc).sum(axis=0)
            support = (seen * n_acc[:, None]).sum(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                rates = np.where(den > 0, num / den, np.nan)
            reliable = (support >= self.min_accounts) & ~np.isnan(rates)
            rates = _rate_tail(num, den, support, h, float(self.min_accounts))
            future = bal * np.where(~(ages[None, :] <= obs[:, None]), rates[None, :], 0.0).sum(
                axis=1
            )
            last = int(np.flatnonzero(reliable).max()) + 1 if reliable.any() else 0
            curve = np.cumsum(rates)
            tail = float(curve[-1] / curve[last - 1]) if last and curve[last - 1] > 0 else 1.0
            with np.errstate(invalid="ignore", divide="ignore"):
                factors = np.where(curve[:-1] > 0, curve[1:] / curve[:-1], 1.0)
            return rates, factors, tail, future
        # chain ladder on cumulative recoveries
        both = seen[:, :-1] & seen[:, 1:]
        num = np.where(both, cum[:, 1:], 0.0).sum(axis=0)
        den = np.where(both, cum[:, :-1], 0.0).sum(axis=0)
        support = (both * n_acc[:, None]).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            f = np.where((den > 0) & (support >= self.min_accounts), num / den, np.nan)
        tail, full = tail_factor(pd.Series(f, index=ages[:-1]), h, fit_last=self.fit_last)
        factors = full.to_numpy()
        # cumulative development from each age a to h: prod_{k=a}^{h-1} f_k
        to_ult = np.r_[np.cumprod(factors[::-1])[::-1], 1.0]  # index a-1 -> age a
        at = np.clip(obs, 0, h)
        latest = cum[np.arange(n_c), np.clip(at - 1, 0, h - 1)] * (at > 0)
        future = latest * (to_ult[np.clip(at - 1, 0, h - 1)] - 1.0)
        # implied recovery per unit charged off by age: the development pattern (share
        # of the horizon total reached at each age) times the book's projected rate
        growth = np.cumprod(np.r_[1.0, factors])
        pattern = np.diff(np.r_[0.0, growth / growth[-1]])
        total = bal.sum()
        rates = (
            pattern
            * ((cum[np.arange(n_c), np.clip(at - 1, 0, h - 1)] * (at > 0)).sum() + future.sum())
            / total
            if total > 0
            else np.zeros(h)
        )
        return rates, factors, tail, future

    def _cells(self, pay: pd.DataFrame, cohorts: pd.DataFrame, weights: np.ndarray | None):
        h = self._horizon
        cmi = self._cohort_mi
        w_pay = weights[pay["_row"].to_numpy()] if weights is not None else 1.0
        inc = np.zeros((len(cmi), h))
        ok = pay["k"].to_numpy() <= h
        np.add.at(
            inc,
            (pay["_cix"].to_numpy()[ok], pay["k"].to_numpy()[ok] - 1),
            (pay["paid_in_month"].to_numpy() * w_pay)[ok],
        )
        w = weights if weights is not None else np.ones(len(cohorts))
        bal = np.bincount(
            cohorts["_cix"], weights=cohorts["charged_off_balance"] * w, minlength=len(cmi)
        )
        n_acc = np.bincount(cohorts["_cix"], weights=w, minlength=len(cmi))
        return inc, bal, n_acc

    # ---------------------------------------------------------------- API

    def fit(self, snapshots: pd.DataFrame, y=None, *, data_end: pd.Timestamp | str | None = None):
        """Estimate rates / factors on the recovery book of ``snapshots``.

        Parameters
        ----------
        snapshots : DataFrame
            The ``snapshots`` table (only rows up to ``data_end`` are used).
        y : ignored
        data_end : date, optional
            Last month end to use (default: the latest ``month_end``).

        Returns
        -------
        ERCForecaster
            ``self``.
        """
        snaps = snapshots
        if data_end is not None:
            end = pd.Timestamp(data_end)
            if isinstance(snapshots, PartitionedSnapshots):
                if end < snapshots.data_end:  # else the same table: its cells are remembered
                    snaps = snapshots.transform(lambda p: p[pd.to_datetime(p["month_end"]) <= end])
            else:
                snaps = snapshots[pd.to_datetime(snapshots["month_end"]) <= end]
        pay, cohorts, end_mi = recovery_cells(snaps, data_end)
        return self.fit_cells(pay, cohorts, end_mi)

    def fit_cells(self, pay: pd.DataFrame, cohorts: pd.DataFrame, end_mi: int) -> ERCForecaster:
        """Estimate on the cells of :func:`recovery_cells`, up to month number ``end_mi``.

        A backtest computes the cells once and fits at each origin on those known by
        then (:func:`recovery.analytics.backtest.backtest_erc`).

        Parameters
        ----------
        pay, cohorts : DataFrame
            From :func:`recovery_cells`; rows after ``end_mi`` are left out.
        end_mi : int
            Month number (``year * 12 + month - 1``) of the last month end to use.

        Returns
        -------
        ERCForecaster
            ``self``.
        """
        config = self.config or Config()
        if self.method not in ("additive", "chain_ladder"):
            raise DataError(f"method must be 'additive' or 'chain_ladder', got {self.method!r}")
        self._horizon = int(self.horizon_months or config.analytics.erc_horizon_months)
        cohorts = cohorts[cohorts["_cmi"] <= end_mi].copy()
        if cohorts.empty:
            raise DataError("no charged-off account in snapshots: nothing to project")
        pay = pay[(pay["_mi"] <= end_mi) & pay["account_id"].isin(cohorts["account_id"])]
        self._cohort_mi = np.sort(cohorts["_cmi"].unique())
        cohorts["_cix"] = np.searchsorted(self._cohort_mi, cohorts["_cmi"])
        cohorts = cohorts.sort_values(["_cix", "account_id"]).reset_index(drop=True)
        row_of = pd.Series(np.arange(len(cohorts)), index=cohorts["account_id"])
        pay = pay.assign(_row=row_of.reindex(pay["account_id"]).to_numpy())
        pay["_cix"] = cohorts["_cix"].to_numpy()[pay["_row"].to_numpy()]
        obs = end_mi - self._cohort_mi
        inc, bal, n_acc = self._cells(pay, cohorts, None)
        rates, factors, tail, future = self._estimate(inc, bal, obs, n_acc)
        h = self._horizon
        self.rates_ = pd.Series(
            rates, index=pd.Index(np.arange(1, h + 1), name="months_since_charge_off")
        )
        self.development_factors_ = pd.Series(
            factors, index=pd.Index(np.arange(1, h), name="months_since_charge_off")
        )
        self.tail_factor_ = tail
        self.data_end_ = month_end(np.array([end_mi]))[0]
        self.curves_ = _curves_from_cells(self._cohort_mi, inc, bal, n_acc, obs)
        self.dispersion_ = _dispersion(inc, bal, obs, rates)
        collected = inc.sum(axis=1)
        self._future_by_age = self._future_profile(inc, bal, obs, rates, factors)
        cohort_table = pd.DataFrame(
            {
                "cohort": month_end(self._cohort_mi),
                "n_accounts": n_acc.astype(np.int64),
                "charged_off_balance": bal,
                "months_observed": np.minimum(obs, h),
                "collected_to_date": collected,
                "erc": future,
            }
        )
        cohort_table["projected_rate"] = (collected + future) / bal
        n_boot = (
            config.analytics.bootstrap_samples if self.n_bootstrap is None else self.n_bootstrap
        )
        if n_boot:
            conf = config.analytics.confidence if self.confidence is None else self.confidence
            rng = np.random.default_rng(config.analytics.seed if self.seed is None else self.seed)
            starts = np.r_[
                0, np.cumsum(np.bincount(cohorts["_cix"], minlength=len(self._cohort_mi)))
            ]
            size = np.diff(starts)[cohorts["_cix"].to_numpy()]
            base = starts[cohorts["_cix"].to_numpy()]
            reps = np.empty((n_boot, len(self._cohort_mi)))
            for b in range(n_boot):  # loop over replicates, vectorised over accounts
                draw = base + np.floor(rng.random(len(cohorts)) * size).astype(np.int64)
                w = np.bincount(draw, minlength=len(cohorts)).astype(float)
                inc_b, bal_b, n_b = self._cells(pay, cohorts, w)
                _, _, _, fut_b = self._estimate(inc_b, bal_b, obs, n_b)
                # scale the re-drawn cohort back to the actual balance charged off
                reps[b] = np.divide(fut_b * bal, bal_b, out=np.zeros_like(bal), where=bal_b > 0)
            if self.interval == "prediction" and self.dispersion_ > 0:
                # process variance (over-dispersed Poisson): a cohort's future collections
                # vary around their expectation with variance dispersion_ * expectation
                mean = np.maximum(reps, 0.0)
                draw = rng.gamma(np.where(mean > 0, mean / self.dispersion_, 1.0), self.dispersion_)
                reps = np.where(mean > 0, draw, 0.0)
            alpha = (1 - conf) / 2
            cohort_table["erc_low"] = np.quantile(reps, alpha, axis=0)
            cohort_table["erc_high"] = np.quantile(reps, 1 - alpha, axis=0)
            total = reps.sum(axis=1)
            self.total_erc_range_ = (
                float(np.quantile(total, alpha)),
                float(np.quantile(total, 1 - alpha)),
            )
        self.cohorts_ = cohort_table
        return self

    def _future_profile(self, inc, bal, obs, rates, factors) -> np.ndarray:
        """Expected collections per cohort and future month (cohorts × H)."""
        h = self._horizon
        ages = np.arange(1, h + 1)
        future_age = ages[None, :] > obs[:, None]
        if self.method == "additive":
            prof = np.where(future_age, bal[:, None] * rates[None, :], 0.0)
        else:
            cum = np.cumsum(inc, axis=1)
            at = np.clip(obs, 0, h)
            latest = cum[np.arange(len(bal)), np.clip(at - 1, 0, h - 1)] * (at > 0)
            growth = np.cumprod(np.r_[1.0, factors])  # index a-1: development from age 1 to a
            rel = growth[None, :] / growth[np.clip(at - 1, 0, h - 1)][:, None]
            cum_future = latest[:, None] * rel
            prof = np.where(
                future_age,
                np.maximum(np.diff(np.c_[np.zeros(len(bal)), cum_future], axis=1), 0.0),
                0.0,
            )
        # shift each cohort's profile so that column j is calendar month data_end + j + 1
        out = np.zeros((len(bal), h))
        for j in range(h):  # loop over future months (at most the horizon)
            age = obs + j + 1
            ok = (age >= 1) & (age <= h)
            out[ok, j] = prof[np.flatnonzero(ok), age[ok] - 1]
        return out

    def predict(self, months_ahead: int = 12) -> pd.DataFrame:
        """Collections forecast from ERC: expected recoveries by future calendar month.

        Parameters
        ----------
        months_ahead : int
            Number of months after the data end.

        Returns
        -------
        DataFrame
            ``month_end, horizon`` (months ahead), ``collections`` (currency, all
            cohorts charged off by the data end; new charge-offs are not included).
        """
        if not hasattr(self, "cohorts_"):
            raise DataError("ERCForecaster is not fitted: call fit(snapshots) first")
        n = min(int(months_ahead), self._horizon)
        months = pd.date_range(self.data_end_ + pd.offsets.MonthEnd(1), periods=n, freq="ME")
        return pd.DataFrame(
            {
                "month_end": months,
                "horizon": np.arange(1, n + 1),
                "collections": self._future_by_age[:, :n].sum(axis=0),
            }
        )

    def predict_by_cohort(self, months_ahead: int = 12) -> pd.DataFrame:
        """Expected recoveries per cohort and future month (long table)."""
        if not hasattr(self, "cohorts_"):
            raise DataError("ERCForecaster is not fitted: call fit(snapshots) first")
        n = min(int(months_ahead), self._horizon)
        months = pd.date_range(self.data_end_ + pd.offsets.MonthEnd(1), periods=n, freq="ME")
        cohorts = month_end(self._cohort_mi)
        return pd.DataFrame(
            {
                "cohort": np.repeat(cohorts, n),
                "month_end": np.tile(months, len(cohorts)),
                "horizon": np.tile(np.arange(1, n + 1), len(cohorts)),
                "collections": self._future_by_age[:, :n].ravel(),
            }
        )

    def summary(self) -> pd.DataFrame:
        """Per cohort: balance charged off, collected to date, ERC and its range."""
        if not hasattr(self, "cohorts_"):
            raise DataError("ERCForecaster is not fitted: call fit(snapshots) first")
        return self.cohorts_.copy()


# --------------------------------------------------------------------------- plots


@fill_doc
def plot_liquidation_curves(curves: pd.DataFrame, ax=None, *, every: int = 1):
    """Cumulative recovery rate by months since charge-off, one line per cohort.

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`liquidation_curves`.
    {{plot_ax}}
    every : int
        Draw every ``every``-th cohort (busy books).

    {{returns_axes}}

    Examples
    --------
    >>> c = pd.DataFrame({"cohort": pd.to_datetime(["2024-01-31"] * 2),
    ...     "months_since_charge_off": [1.0, 2.0], "cumulative_rate": [0.0, 0.3]})
    >>> plot_liquidation_curves(c).get_xlabel()
    'months since charge-off'
    """
    import matplotlib.pyplot as plt

    ax = plot_axes(ax, (8, 4))
    cohorts = sorted(curves["cohort"].unique())[::every]
    cmap = plt.get_cmap("viridis")
    for i, c in enumerate(cohorts):
        g = curves[curves["cohort"] == c]
        ax.plot(
            g["months_since_charge_off"],
            g["cumulative_rate"],
            color=cmap(i / max(len(cohorts) - 1, 1)),
            lw=1,
        )
    ax.set_xlabel("months since charge-off")
    ax.set_ylabel("cumulative recovered share of balance charged off")
    ax.set_ylim(bottom=0)
    return ax


@fill_doc
def plot_erc(forecaster: ERCForecaster, ax=None):
    """Collected to date and ERC (with its range) per charge-off cohort.

    Parameters
    ----------
    forecaster : ERCForecaster
        A fitted forecaster.
    {{plot_ax}}

    {{returns_axes}}

    Examples
    --------
    >>> snaps = pd.DataFrame({"account_id": ["A", "A", "B"],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-02-29"]),
    ...     "dpd": [180, 209, 180], "balance": [100.0, 90.0, 50.0],
    ...     "paid_in_month": [0.0, 10.0, 0.0], "status": ["charged_off"] * 3})
    >>> plot_erc(ERCForecaster(n_bootstrap=0, min_accounts=1).fit(snaps)).get_ylabel()
    'amount (currency)'
    """
    import matplotlib.dates as mdates

    ax = plot_axes(ax, (8, 4))
    s = forecaster.summary()
    # bars at their cohort's month on a date axis: ticks at regular months, gaps shown
    # plain arrays: matplotlib reads a one-element Series as a scalar (a pandas warning)
    x = (pd.to_datetime(s["cohort"]) - pd.Timedelta(days=14)).to_numpy()
    collected, erc = s["collected_to_date"].to_numpy(float), s["erc"].to_numpy(float)
    width = 24
    ax.bar(x, collected, width=width, label="collected to date", color="tab:blue")
    ax.bar(x, erc, width=width, bottom=collected, color="tab:orange",
           alpha=0.8, label="expected remaining collections")  # fmt: skip
    if "erc_low" in s:
        ax.errorbar(
            x,
            collected + erc,
            yerr=[
                np.clip(erc - s["erc_low"].to_numpy(float), 0, None),
                np.clip(s["erc_high"].to_numpy(float) - erc, 0, None),
            ],
            fmt="none",
            ecolor="k",
            lw=0.8,
            label="range of the expected",
        )
    span = (x.max() - x.min()) / np.timedelta64(1, "D") / 30.4 if len(x) else 0
    if span > 36:
        ax.xaxis.set_major_locator(mdates.YearLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    else:
        ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    ax.tick_params(axis="x", labelrotation=45)
    money_axis(ax.yaxis)
    ax.set_xlabel("charge-off cohort")
    ax.set_ylabel("amount (currency)")
    ax.set_title("Charged-off debt: collected so far and expected remaining collections")
    legend_outside(ax, fontsize=8)
    return ax
