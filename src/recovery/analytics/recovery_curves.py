"""Recovery by debt age: the seed-001 "2-year effect", measured (DESIGN.md §3).

Seed 001 claims that "debts over 2 years old: only 20% can be recovered; debts
under 2 years: 80%". This module measures the claim from a ``snapshots`` table alone,
never assuming it.

Definitions (binding, DESIGN.md §3; debt age, scopes and censoring are those of the
observations, :mod:`recovery.analytics.debt_age`):

* **Debt age** at a month end is the number of days since the start of the account's
  delinquency episode (:func:`recovery.analytics.debt_age.derive_debt_age` when the
  snapshots carry no ``debt_age_days``).
* **Recovery by debt age**: for debt whose age falls in band *a* at a month end *m*,
  the share of its outstanding balance at *m* collected (``paid_in_month`` of months
  *m+1 … m+H*, capped at 100 % per debt) within the horizon *H*
  (``config.analytics.recovery_horizon_months``, default 12), and separately the share
  of such debts with a qualifying payment (total collected within *H* above the
  small-balance tolerance ``config.aging.tolerance``).
* **Scopes**: ``"charged_off"`` (the recovery book, the headline) and
  ``"delinquent"`` (open accounts with DPD > 0 plus the recovery book), shown beside
  it because pooling early self-cures with charged-off debt flatters young debt.
* **Censoring**: only month ends with *H* full months of follow-up before the data end
  are used (counting the months a recent debt has not had as "nothing collected"
  would bias every band downwards).
* **Uncertainty**: percentile bootstrap over accounts (an account contributes several
  overlapping account-months, so rows are not independent), seeded.

Without the bootstrap, recovery by debt age is a function of sums per age band
(debts, accounts, balance, recovered, payers): :func:`recovery_totals` computes them,
:func:`recovery_partial` of any split of the accounts adds up to them, and
:func:`recovery_rates_from_totals` turns them into rates. :func:`recovery_totals`
dispatches on the type of the table, so an engine registers its own implementation
for its tables (:mod:`recovery.engine.dask_analytics`).

Examples
--------
>>> import pandas as pd
>>> from recovery.analytics.recovery_curves import recovery_by_age
>>> snaps = pd.DataFrame({
...     "account_id": ["A"] * 4,
...     "month_end": pd.date_range("2024-01-31", periods=4, freq="ME"),
...     "dpd": [200, 230, 260, 290], "bucket": [pd.NA] * 4,
...     "balance": [100.0, 100.0, 60.0, 60.0], "amount_overdue": [100.0, 100.0, 60.0, 60.0],
...     "paid_in_month": [0.0, 0.0, 40.0, 0.0], "status": ["charged_off"] * 4})
>>> table = recovery_by_age(snaps, horizon_months=2, bands="coarse", n_bootstrap=0)
>>> table[["age_band", "n_debts", "recovery_rate"]].values.tolist()
[['6-12', 2, 0.4]]
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from recovery.analytics.common import (
    dispatch_on_table,
    in_words,
    legend_outside,
    month_number,
    percent_axis,
    plot_axes,
)
from recovery.analytics.debt_age import (
    DAYS_PER_MONTH,
    Scope,
    age_band_columns,
    check_part_columns,
    future_sums,
    observed_debt_months,
    recovery_horizon,
    recovery_observations,
)
from recovery.analytics.partitions import PartitionedSnapshots, sum_partials
from recovery.config import Config
from recovery.docstrings import fill_doc
from recovery.errors import DataError

__all__ = [
    "recovery_by_age",
    "recovery_partial",
    "recovery_totals",
    "recovery_rates_from_totals",
    "age_split_comparison",
    "bootstrap_bounds",
    "recovery_drivers",
    "cumulative_recovery_curves",
    "plot_recovery_by_age",
    "plot_cumulative_recovery_curves",
]


def _amount_band_labels(edges: np.ndarray) -> list[str]:
    return [f"{edges[i]:,.0f}-{edges[i + 1]:,.0f}" for i in range(len(edges) - 1)]


# --------------------------------------------------------------------------- aggregation


def _with_amount_band(obs: pd.DataFrame, amount_bands: int | tuple[float, ...]) -> pd.DataFrame:
    obs = obs.copy()
    if isinstance(amount_bands, int):
        edges = np.unique(np.quantile(obs["balance"], np.linspace(0, 1, amount_bands + 1)))
    else:
        edges = np.asarray(sorted(amount_bands), dtype=float)
        edges = np.unique(
            np.r_[
                min(edges[0], obs["balance"].min()),
                edges[1:-1],
                max(edges[-1], obs["balance"].max()),
            ]
        )
    if len(edges) < 2:
        edges = np.array([obs["balance"].min(), obs["balance"].max() + 1e-9])
    idx = np.clip(
        np.searchsorted(edges, obs["balance"].to_numpy(), side="right") - 1, 0, len(edges) - 2
    )
    labels = np.asarray(_amount_band_labels(edges), dtype=object)
    obs["amount_band"] = pd.Categorical(labels[idx], categories=list(labels), ordered=True)
    return obs


def _grouped_rates(
    obs: pd.DataFrame,
    group_cols: list[str],
    n_bootstrap: int,
    confidence: float,
    seed: int,
) -> pd.DataFrame:
    """Rates per group with percentile bootstrap CIs over accounts (vectorised).

    With ``n_bootstrap=None`` only the additive sums (``n_debts, n_accounts, balance,
    recovered, n_paid, share_sum``) of a partition of the debts are returned.
    """
    from scipy import sparse

    acc = pd.factorize(obs["account_id"], sort=True)[0]
    grouped = obs.groupby(group_cols, sort=True, observed=True, dropna=False)
    grp_codes = grouped.ngroup().to_numpy()
    grp_frame = grouped.size().reset_index()[group_cols]
    n_acc, n_grp = int(acc.max()) + 1, len(grp_frame)
    measures = {
        "balance": obs["balance"].to_numpy(float),
        "recovered": obs["recovered"].to_numpy(float),
        "n": np.ones(len(obs)),
        "n_paid": obs["paid"].to_numpy(float),
        "share": obs["recovery_share"].to_numpy(float),
    }
    mats = {
        k: sparse.csr_matrix((v, (acc, grp_codes)), shape=(n_acc, n_grp))
        for k, v in measures.items()
    }
    totals = {k: np.asarray(m.sum(axis=0)).ravel() for k, m in mats.items()}
    out = grp_frame.copy()
    out["n_debts"] = totals["n"].astype(np.int64)
    out["n_accounts"] = np.asarray((mats["n"] > 0).sum(axis=0)).ravel().astype(np.int64)
    out["balance"] = totals["balance"]
    out["recovered"] = totals["recovered"]
    out["n_paid"] = totals["n_paid"]
    out["share_sum"] = totals["share"]
    if n_bootstrap is None:  # the additive sums only (a partition of a larger table)
        return out
    out = recovery_rates_from_totals(out)
    if n_bootstrap and n_bootstrap > 0:
        rng = np.random.default_rng(seed)
        reps = {k: np.empty((n_bootstrap, n_grp)) for k in ("recovery_rate", "payer_rate")}
        for b in range(n_bootstrap):  # loop over resamples, vectorised over accounts
            w = np.bincount(rng.integers(0, n_acc, n_acc), minlength=n_acc).astype(float)
            t = {k: mats[k].T @ w for k in ("balance", "recovered", "n", "n_paid")}
            with np.errstate(invalid="ignore", divide="ignore"):
                reps["recovery_rate"][b] = t["recovered"] / t["balance"]
                reps["payer_rate"][b] = t["n_paid"] / t["n"]
        alpha = (1 - confidence) / 2
        for k, r in reps.items():
            out[f"{k}_low"], out[f"{k}_high"] = bootstrap_bounds(r, alpha)
    return out


def bootstrap_bounds(replicates: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bounds per column of bootstrap replicates (rows), ignoring NaN.

    A column with no finite replicate (a band no resample reached) gets NaN bounds, not
    numpy's "All-NaN slice" warning.

    Examples
    --------
    >>> r = np.array([[0.1, np.nan], [0.3, np.nan], [0.2, np.nan]])
    >>> low, high = bootstrap_bounds(r, 0.0)
    >>> low.tolist(), high.tolist()
    ([0.1, nan], [0.3, nan])
    """
    low = np.full(replicates.shape[1], np.nan)
    high = np.full(replicates.shape[1], np.nan)
    seen = np.isfinite(replicates).any(axis=0)
    if seen.any():
        low[seen] = np.nanquantile(replicates[:, seen], alpha, axis=0)
        high[seen] = np.nanquantile(replicates[:, seen], 1 - alpha, axis=0)
    return low, high


def recovery_rates_from_totals(totals: pd.DataFrame) -> pd.DataFrame:
    """Recovery, payer and mean share rates from the sums of :func:`recovery_totals`.

    Parameters
    ----------
    totals : DataFrame
        Output of :func:`recovery_totals` (or the sums of :func:`recovery_partial`
        tables): ``n_debts``, ``balance``, ``recovered``, ``n_paid``, ``share_sum``
        per group.

    Returns
    -------
    DataFrame
        ``totals`` with ``recovery_rate`` (recovered / balance), ``payer_rate``
        (``n_paid / n_debts``) and ``mean_recovery_share`` (``share_sum / n_debts``)
        in place of ``n_paid`` and ``share_sum``.

    Examples
    --------
    >>> t = pd.DataFrame({"n_debts": [4], "balance": [200.0], "recovered": [50.0],
    ...     "n_paid": [1.0], "share_sum": [1.0]})
    >>> recovery_rates_from_totals(t)[["recovery_rate", "payer_rate"]].values.tolist()
    [[0.25, 0.25]]
    """
    out = totals.copy()
    out["recovery_rate"] = out["recovered"] / out["balance"]
    out["payer_rate"] = out.pop("n_paid") / out["n_debts"]
    out["mean_recovery_share"] = out.pop("share_sum") / out["n_debts"]
    return out


@fill_doc
def recovery_by_age(
    snapshots: pd.DataFrame,
    config: Config | None = None,
    *,
    scope: Scope = "charged_off",
    bands: Literal["monthly", "coarse"] = "monthly",
    by: str | None = None,
    horizon_months: int | None = None,
    max_months: int = 48,
    amount_bands: int | tuple[float, ...] = 4,
    n_bootstrap: int | None = None,
    seed: int | None = None,
    data_end: pd.Timestamp | str | None = None,
    min_accounts: int = 0,
) -> pd.DataFrame:
    """Recovery rate by debt-age band (DESIGN.md §3), by amount and by count, with CIs.

    Parameters
    ----------
    {{snapshots_table}}
    config : Config, optional
        ``analytics.recovery_horizon_months``, ``age_bands_months``,
        ``bootstrap_samples``, ``confidence``, ``seed`` are used.
    {{debt_scope}}
    bands : {"monthly", "coarse"}
        One-month bands out to ``max_months`` (then pooled), or the coarse bands of
        ``config.analytics.age_bands_months`` (0–3, 3–6, 6–12, 12–24, 24–36, 36+).
    by : str, optional
        A further grouping column: ``"product"``, ``"amount_band"`` (balance
        quantiles, see ``amount_bands``) or any column of the observations.
    {{follow_up_months}}
    max_months : int
        Last monthly band; older debt is pooled into ``"{max_months}+"``.
    amount_bands : int or tuple of float
        Number of balance quantile bands, or explicit edges (currency).
    n_bootstrap : int, optional
        Bootstrap resamples of accounts (default ``config.analytics.bootstrap_samples``;
        0 for none).
    {{bootstrap_seed}}
    {{last_month_end}}
    min_accounts : int
        A band of fewer accounts is marked ``too_few`` and gets no interval: a ratio of
        balances over two accounts has no meaningful one (a bootstrap of them gives
        "0.0% to 0.0%").

    Returns
    -------
    DataFrame
        One row per (group,) age band: ``age_band, age_lo_months, age_hi_months,
        n_debts`` (account-months), ``n_accounts, balance, recovered`` (currency),
        ``recovery_rate`` (by amount: recovered / balance), ``payer_rate`` (by count:
        share of debts with a qualifying payment), ``mean_recovery_share`` (by count:
        mean per-debt recovered share), CI columns ``*_low`` / ``*_high``,
        ``too_few`` (fewer than ``min_accounts`` accounts: no interval) and
        ``scope``, ``horizon_months``.

    Examples
    --------
    >>> snaps = pd.DataFrame({"account_id": ["A", "A", "B", "B"],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29"] * 2),
    ...     "dpd": [200, 229, 900, 929], "balance": [100.0, 50.0, 100.0, 100.0],
    ...     "paid_in_month": [0.0, 50.0, 0.0, 0.0], "status": ["charged_off"] * 4})
    >>> t = recovery_by_age(snaps, horizon_months=1, bands="coarse", n_bootstrap=0)
    >>> t[["age_band", "recovery_rate", "payer_rate"]].values.tolist()
    [['6-12', 0.5, 1.0], ['24-36', 0.0, 0.0]]
    """
    config = config or Config()
    horizon = recovery_horizon(horizon_months, config)
    groups = _age_groups(by)
    if isinstance(snapshots, (pd.DataFrame, PartitionedSnapshots)):
        n_boot = config.analytics.bootstrap_samples if n_bootstrap is None else n_bootstrap
    elif n_bootstrap:  # an engine's table: only sums travel, not the accounts
        raise DataError("bootstrap intervals resample whole accounts: pass n_bootstrap=0")
    else:
        n_boot = 0
    if n_boot and n_boot > 0:  # resamples whole accounts: from the observations
        obs = _age_observations(snapshots, config, scope, bands, by, horizon, max_months,
                                amount_bands, data_end)  # fmt: skip
        if obs.empty:
            raise _no_follow_up(scope, horizon)
        out = _grouped_rates(
            obs,
            groups,
            n_boot,
            config.analytics.confidence,
            config.analytics.seed if seed is None else seed,
        )
    else:  # from the sums (an engine's, for its tables)
        totals = recovery_totals(snapshots, config, scope, bands, by, horizon, max_months,
                                 data_end, amount_bands)  # fmt: skip
        out = recovery_rates_from_totals(totals)
    out = out.sort_values(groups[:-1]).reset_index(drop=True)
    cols = ([by] if by else []) + ["age_band", "age_lo_months", "age_hi_months"]
    out = out[cols + [c for c in out.columns if c not in cols]]
    out["too_few"] = out["n_accounts"] < min_accounts
    bounds = [c for c in out.columns if c.endswith(("_low", "_high"))]
    out.loc[out["too_few"], bounds] = np.nan
    out["scope"] = scope
    out["horizon_months"] = horizon
    return out


def _age_observations(
    snapshots, config, scope, bands, by, horizon, max_months, amount_bands, data_end
) -> pd.DataFrame:
    """In-scope debt-months with their age band (and ``by`` column) for recovery_by_age."""
    obs = recovery_observations(
        snapshots, config, scope=scope, horizon_months=horizon, data_end=data_end
    )
    if obs.empty:
        return obs
    obs = pd.concat(
        [obs, age_band_columns(obs["debt_age_days"].to_numpy(), bands, config, max_months)], axis=1
    )
    if by == "amount_band":
        obs = _with_amount_band(obs, amount_bands)
    elif by is not None and by not in obs.columns:
        raise DataError(
            f"cannot group by {by!r}: not a column of the observations ({list(obs.columns)})"
        )
    return obs


def _age_groups(by: str | None) -> list[str]:
    """The grouping columns of recovery by age: ``by`` (if any), then the age band."""
    return ([by] if by else []) + ["age_lo_months", "age_hi_months", "age_band"]


def _no_follow_up(scope: str, horizon: int) -> DataError:
    return DataError(
        f"no {scope} debt with {horizon} months of follow-up before the data end; "
        "use a shorter horizon_months or more history"
    )


@fill_doc
def recovery_partial(
    part: pd.DataFrame,
    config: Config,
    scope: Scope,
    bands: Literal["monthly", "coarse"],
    by: str | None,
    horizon_months: int,
    max_months: int,
    data_end: pd.Timestamp | str | None,
    amount_bands: int | tuple[float, ...] = 4,
) -> pd.DataFrame:
    """The additive sums behind :func:`recovery_by_age` of one table or part of one.

    For tables split by account (every account's rows in one part) and one
    ``data_end`` for all parts (the whole table's last month end), the tables of the
    parts summed over their groups are :func:`recovery_totals` of the whole.

    Parameters
    ----------
    part : DataFrame
        A ``snapshots`` table, or the rows of some of its accounts.
    config : Config
        ``analytics.age_bands_months`` and ``aging.tolerance`` are used.
    scope, bands, by, max_months, amount_bands
        As for :func:`recovery_by_age` (``by="amount_band"`` cuts balance quantiles
        of ``part``).
    horizon_months : int
        Follow-up window (months).
    data_end : date, optional
        Last month end the data covers (default: the latest ``month_end`` of ``part``).

    Returns
    -------
    DataFrame
        One row per (group,) age band: ``by`` (if any), ``age_lo_months``,
        ``age_hi_months``, ``age_band``, ``n_debts``, ``n_accounts``, ``balance``,
        ``recovered``, ``n_paid`` and ``share_sum`` (sum of the per-debt recovered
        shares); no rows and no columns when no debt is in scope with the full
        follow-up.

    Examples
    --------
    >>> snaps = pd.DataFrame({"account_id": ["A", "A"],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29"]),
    ...     "dpd": [200, 229], "balance": [100.0, 50.0],
    ...     "paid_in_month": [0.0, 50.0], "status": ["charged_off"] * 2})
    >>> t = recovery_partial(snaps, Config(), "charged_off", "coarse", None, 1, 48, None)
    >>> t[["age_band", "n_debts", "balance", "recovered"]].values.tolist()
    [['6-12', 1, 100.0, 50.0]]
    """
    obs = _age_observations(part, config, scope, bands, by, horizon_months, max_months,
                            amount_bands, data_end)  # fmt: skip
    if obs.empty:
        return obs.iloc[:0, :0]
    return _grouped_rates(obs, _age_groups(by), None, config.analytics.confidence, 0)


@dispatch_on_table
@fill_doc
def recovery_totals(
    snapshots: pd.DataFrame,
    config: Config,
    scope: Scope,
    bands: Literal["monthly", "coarse"],
    by: str | None,
    horizon_months: int,
    max_months: int,
    data_end: pd.Timestamp | str | None = None,
    amount_bands: int | tuple[float, ...] = 4,
) -> pd.DataFrame:
    """Debts, accounts, balance, recovered and payers per age band of a whole table.

    {{table_dispatch}}

    Parameters
    ----------
    {{snapshots_table}}
    config, scope, bands, by, horizon_months, max_months, data_end, amount_bands
        As for :func:`recovery_partial`.

    Returns
    -------
    DataFrame
        As :func:`recovery_partial`.

    Raises
    ------
    DataError
        When no debt is in scope with the full follow-up.
    """
    out = recovery_partial(snapshots, config, scope, bands, by, horizon_months, max_months,
                           data_end, amount_bands)  # fmt: skip
    if out.empty:
        raise _no_follow_up(scope, horizon_months)
    return out


@recovery_totals.register(PartitionedSnapshots)
def _recovery_totals_of_parts(
    snapshots, config, scope, bands, by, horizon_months, max_months, data_end=None, amount_bands=4
):
    data_end = snapshots.data_end if data_end is None else data_end
    if by == "amount_band":  # balance quantiles of the whole book: from all its debt-months
        obs = _age_observations(snapshots, config, scope, bands, by, horizon_months,
                                max_months, amount_bands, data_end)  # fmt: skip
        if obs.empty:
            raise _no_follow_up(scope, horizon_months)
        return _grouped_rates(obs, _age_groups(by), None, config.analytics.confidence, 0)
    parts = snapshots.map(recovery_partial, config, scope, bands, by, horizon_months,
                          max_months, data_end, amount_bands)  # fmt: skip
    parts = [p for p in parts if len(p)]  # (few rows: not remembered)
    if not parts:
        raise _no_follow_up(scope, horizon_months)
    return sum_partials(parts, _age_groups(by))


@fill_doc
def age_split_comparison(
    snapshots: pd.DataFrame,
    config: Config | None = None,
    *,
    scope: Scope = "charged_off",
    by: str | None = None,
    split_months: int | None = None,
    horizon_months: int | None = None,
    amount_bands: int | tuple[float, ...] = 4,
    n_bootstrap: int | None = None,
    seed: int | None = None,
    data_end: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """The seed-001 comparison: debt younger than 24 months vs 24 months and older.

    Parameters
    ----------
    {{snapshots_table}}
    config : Config, optional
        ``analytics.age_split_months`` (24) and the bootstrap settings are used.
    {{debt_scope}}
    by : str, optional
        ``"product"``, ``"amount_band"`` or another observation column: the split
        within each group, to see whether age matters within amount bands.
    split_months : int, optional
        The split (months, default ``config.analytics.age_split_months``).
    horizon_months, amount_bands, n_bootstrap, seed, data_end
        As in :func:`recovery_by_age`.

    Returns
    -------
    DataFrame
        One row per group with, for ``recovery_rate`` (by amount) and ``payer_rate``
        (by count): the younger and older rates, ``*_difference`` (younger − older,
        percentage points as a fraction) and ``*_ratio`` (younger / older), each with
        a bootstrap CI (accounts resampled, the same resample for both sides).

    Examples
    --------
    >>> snaps = pd.DataFrame({"account_id": ["A", "A", "B", "B"],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29"] * 2),
    ...     "dpd": [200, 229, 900, 929], "balance": [100.0, 50.0, 100.0, 100.0],
    ...     "paid_in_month": [0.0, 50.0, 0.0, 10.0], "status": ["charged_off"] * 4})
    >>> t = recovery_by_age(snaps, horizon_months=1, bands="coarse", n_bootstrap=0)
    >>> c = age_split_comparison(snaps, horizon_months=1, n_bootstrap=0)
    >>> c[["recovery_rate_younger", "recovery_rate_older", "recovery_rate_difference"]].round(2).values.tolist()
    [[0.5, 0.1, 0.4]]
    """
    config = config or Config()
    split = int(split_months if split_months is not None else config.analytics.age_split_months)
    horizon = recovery_horizon(horizon_months, config)
    obs = recovery_observations(
        snapshots, config, scope=scope, horizon_months=horizon, data_end=data_end
    )
    if obs.empty:
        raise DataError(f"no {scope} debt with {horizon} months of follow-up before the data end")
    obs["older"] = obs["debt_age_days"].to_numpy() >= split * DAYS_PER_MONTH
    if by == "amount_band":
        obs = _with_amount_band(obs, amount_bands)
    elif by is not None and by not in obs.columns:
        raise DataError(f"cannot group by {by!r}: not a column of the observations")
    n_boot = config.analytics.bootstrap_samples if n_bootstrap is None else n_bootstrap
    seed = config.analytics.seed if seed is None else seed
    obs["_all"] = "all"
    gcol = by or "_all"
    from scipy import sparse

    acc = pd.factorize(obs["account_id"], sort=True)[0]
    g_codes, g_index = pd.factorize(obs[gcol], sort=True)
    cell = g_codes * 2 + obs["older"].to_numpy(int)
    n_acc, n_cell = int(acc.max()) + 1, 2 * len(g_index)
    mats = {
        k: sparse.csr_matrix((v, (acc, cell)), shape=(n_acc, n_cell))
        for k, v in {
            "balance": obs["balance"].to_numpy(float),
            "recovered": obs["recovered"].to_numpy(float),
            "n": np.ones(len(obs)),
            "n_paid": obs["paid"].to_numpy(float),
        }.items()
    }

    def stats(w: np.ndarray) -> dict[str, np.ndarray]:
        t = {k: m.T @ w for k, m in mats.items()}
        with np.errstate(invalid="ignore", divide="ignore"):
            res = {}
            for name, num, den in (
                ("recovery_rate", "recovered", "balance"),
                ("payer_rate", "n_paid", "n"),
            ):
                r = (t[num] / t[den]).reshape(-1, 2)
                res[f"{name}_younger"] = r[:, 0]
                res[f"{name}_older"] = r[:, 1]
                res[f"{name}_difference"] = r[:, 0] - r[:, 1]
                res[f"{name}_ratio"] = np.where(r[:, 1] > 0, r[:, 0] / r[:, 1], np.nan)
            n = t["n"].reshape(-1, 2)
            res["n_debts_younger"], res["n_debts_older"] = n[:, 0], n[:, 1]
        return res

    point = stats(np.ones(n_acc))
    out = pd.DataFrame({gcol: np.asarray(g_index)})
    for k, v in point.items():
        out[k] = v.astype(np.int64) if k.startswith("n_debts") else v
    if n_boot and n_boot > 0:
        rng = np.random.default_rng(seed)
        keys = [k for k in point if not k.startswith("n_debts")]
        reps = {k: np.empty((n_boot, len(g_index))) for k in keys}
        for b in range(n_boot):
            w = np.bincount(rng.integers(0, n_acc, n_acc), minlength=n_acc).astype(float)
            res = stats(w)
            for k in keys:
                reps[k][b] = res[k]
        alpha = (1 - config.analytics.confidence) / 2
        for k in keys:
            out[f"{k}_low"], out[f"{k}_high"] = bootstrap_bounds(reps[k], alpha)
    if by is None:
        out = out.drop(columns="_all")
    out["split_months"] = split
    out["scope"] = scope
    out["horizon_months"] = horizon
    return out


@fill_doc
def recovery_drivers(
    snapshots: pd.DataFrame,
    config: Config | None = None,
    *,
    scope: Scope = "charged_off",
    model=None,
    amount_bands: int = 6,
    horizon_months: int | None = None,
    weight: Literal["amount", "count"] = "amount",
    data_end: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """How much of the variation in recovery debt age explains, and how much amount.

    Fits ``model`` (default: scikit-learn ``LinearRegression``) of the per-debt
    recovered share on one-hot coarse age bands, on one-hot balance quantile bands,
    and on both, and splits the joint R² between the two factors by their Shapley
    value (the average of "alone" and "added last"), so the two shares sum to the
    joint R². Both factors enter with comparable granularity (six age bands by
    default, ``amount_bands`` balance bands).

    Parameters
    ----------
    {{snapshots_table}}
    {{config}}
    {{debt_scope}}
    model : regressor, optional
        Any scikit-learn regressor with ``fit(X, y, sample_weight)`` and ``predict``.
    amount_bands : int
        Balance quantile bands.
    {{follow_up_months}}
    weight : {"amount", "count"}
        Weight each debt-month by its balance (recovery by amount) or equally.
    {{last_month_end}}

    Returns
    -------
    DataFrame
        Rows ``age``, ``amount``, ``both``; columns ``r2_alone``, ``r2_added_last``,
        ``explained_share`` (Shapley share of the joint R², in R² units) and
        ``share_of_explained`` (fraction of the joint R²).

    Examples
    --------
    >>> snaps = pd.DataFrame({"account_id": list("ABCD") * 2,
    ...     "month_end": pd.to_datetime(["2024-01-31"] * 4 + ["2024-02-29"] * 4),
    ...     "dpd": [200, 200, 900, 900, 229, 229, 929, 929],
    ...     "balance": [100.0, 300.0, 100.0, 300.0] * 2,
    ...     "paid_in_month": [0.0] * 4 + [50.0, 150.0, 0.0, 0.0],
    ...     "status": ["charged_off"] * 8})
    >>> d = recovery_drivers(snaps, horizon_months=1, amount_bands=2)
    >>> d["share_of_explained"].round(2).to_dict()
    {'age': 1.0, 'amount': 0.0, 'both': 1.0}
    """
    from sklearn.base import clone
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import r2_score

    config = config or Config()
    obs = recovery_observations(
        snapshots, config, scope=scope, horizon_months=horizon_months, data_end=data_end
    )
    if len(obs) < 2:
        raise DataError("recovery_drivers needs at least two debt-months with full follow-up")
    obs = pd.concat(
        [obs, age_band_columns(obs["debt_age_days"].to_numpy(), "coarse", config)], axis=1
    )
    obs = _with_amount_band(obs, amount_bands)
    y = obs["recovery_share"].to_numpy(float)
    w = obs["balance"].to_numpy(float) if weight == "amount" else np.ones(len(obs))
    age_x = pd.get_dummies(obs["age_band"], prefix="age", dtype=float)
    amt_x = pd.get_dummies(obs["amount_band"].astype(str), prefix="amount", dtype=float)
    base = model if model is not None else LinearRegression()

    def r2(x: pd.DataFrame) -> float:
        est = clone(base).fit(x.to_numpy(), y, sample_weight=w)
        return float(max(r2_score(y, est.predict(x.to_numpy()), sample_weight=w), 0.0))

    r_age, r_amt, r_both = r2(age_x), r2(amt_x), r2(pd.concat([age_x, amt_x], axis=1))
    shap_age = 0.5 * (r_age + (r_both - r_amt))
    shap_amt = 0.5 * (r_amt + (r_both - r_age))
    out = pd.DataFrame(
        {
            "r2_alone": [r_age, r_amt, r_both],
            "r2_added_last": [r_both - r_amt, r_both - r_age, r_both],
            "explained_share": [shap_age, shap_amt, r_both],
        },
        index=pd.Index(["age", "amount", "both"], name="factor"),
    )
    out["share_of_explained"] = out["explained_share"] / r_both if r_both > 0 else np.nan
    return out


@fill_doc
def cumulative_recovery_curves(
    snapshots: pd.DataFrame,
    config: Config | None = None,
    *,
    scope: Scope = "charged_off",
    bands: Literal["monthly", "coarse"] = "coarse",
    max_months: int = 60,
    data_end: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """Cumulative recovery by months since placement, per debt-age band at placement.

    The lifetime view of the seed's 80/20: each in-scope debt-month is a placement at
    its age then; the curve at month *k* is the sum over months *j ≤ k* of the
    recovered share in month *j* (capped at the placement balance), each month
    estimated on the placements with at least *j* months of follow-up (a chain-ladder
    style link, so censored placements inform early months without biasing later
    ones).

    Parameters
    ----------
    {{snapshots_table}}
    {{config}}
    {{debt_scope}}
    bands : {"monthly", "coarse"}
        Age bands at placement.
    max_months : int
        Last month since placement.
    {{last_month_end}}

    Returns
    -------
    DataFrame
        ``age_band, age_lo_months, months_since_placement`` (1…max_months),
        ``incremental_rate``, ``cumulative_rate`` (0–1) and ``n_debts`` (placements
        with that much follow-up). Months without any follow-up are omitted.

    Examples
    --------
    >>> snaps = pd.DataFrame({"account_id": ["A"] * 3,
    ...     "month_end": pd.date_range("2024-01-31", periods=3, freq="ME"),
    ...     "dpd": [200, 229, 260], "balance": [100.0, 100.0, 80.0],
    ...     "paid_in_month": [0.0, 0.0, 20.0], "status": ["charged_off"] * 3})
    >>> c = cumulative_recovery_curves(snaps, max_months=2)  # k=1: 20/200; k=2: +20/100
    >>> c["cumulative_rate"].round(3).tolist(), c["n_debts"].tolist()
    ([0.1, 0.3], [2, 1])
    """
    config = config or Config()
    keys = ["months_since_placement", "age_lo_months", "age_band"]
    if isinstance(snapshots, PartitionedSnapshots):
        check_part_columns(snapshots, what="the cumulative recovery curves")
        end = snapshots.data_end if data_end is None else data_end

        def compute() -> pd.DataFrame | None:
            parts = snapshots.map(_cumulative_partial, config, scope, bands, max_months, end)
            parts = [p for p in parts if len(p)]
            return sum_partials(parts, keys) if parts else None

        key = ("cumulative", config, scope, bands, max_months, pd.Timestamp(end))
        out = snapshots.memo(key, compute)
        out = out.copy() if out is not None else None
    else:
        out = _cumulative_partial(snapshots, config, scope, bands, max_months, data_end)
    if out is None or out.empty:
        raise DataError("no placement has a month of follow-up before the data end")
    out = out[out["n_debts"] > 0].sort_values(keys, kind="mergesort", ignore_index=True)
    out["incremental_rate"] = out["num"] / out["den"]
    out["cumulative_rate"] = out.groupby(["age_lo_months", "age_band"])["incremental_rate"].cumsum()
    out["scope"] = scope
    return out[
        [
            "age_band",
            "age_lo_months",
            "months_since_placement",
            "incremental_rate",
            "cumulative_rate",
            "n_debts",
            "scope",
        ]
    ].reset_index(drop=True)


def _cumulative_partial(snapshots, config, scope, bands, max_months, data_end) -> pd.DataFrame:
    """Recovered and placed balance, placements, per month since placement and age band."""
    s, pos, obs = observed_debt_months(
        snapshots, config, scope=scope, horizon_months=1, data_end=data_end, censor=False
    )
    end_mi = (
        month_number([pd.Timestamp(data_end)])[0] if data_end is not None else int(s["_mi"].max())
    )
    acc = s["_acc"].to_numpy()
    mi = s["_mi"].to_numpy()
    paid = s["paid_in_month"].fillna(0).to_numpy(float)
    m, bal = mi[pos], obs["balance"].to_numpy(float)
    follow = end_mi - m
    bands_df = age_band_columns(obs["debt_age_days"].to_numpy(), bands, config)
    grouped = bands_df.groupby(["age_lo_months", "age_band"], sort=True)
    codes = grouped.ngroup().to_numpy()
    lab = grouped.size().reset_index()
    n_b = len(lab)
    rows = []
    prev = np.zeros(len(pos))
    windows = range(1, max_months + 1)  # months since placement, vectorised over debts
    for k, collected in zip(windows, future_sums(acc, mi, paid, windows, rows=pos), strict=False):
        cum = np.minimum(collected, bal)
        inc = cum - prev
        prev = cum
        ok = follow >= k
        if not ok.any():
            break
        rows.append(
            pd.DataFrame(
                {
                    "months_since_placement": k,
                    "age_lo_months": lab["age_lo_months"].to_numpy(),
                    "age_band": lab["age_band"].to_numpy(),
                    "num": np.bincount(codes[ok], weights=inc[ok], minlength=n_b),
                    "den": np.bincount(codes[ok], weights=bal[ok], minlength=n_b),
                    "n_debts": np.bincount(codes[ok], minlength=n_b),
                }
            )
        )
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


# --------------------------------------------------------------------------- plots


@fill_doc
def plot_recovery_by_age(
    table: pd.DataFrame,
    ax=None,
    *,
    measure: Literal["recovery_rate", "payer_rate"] = "recovery_rate",
    split_months: float = 24,
):
    """Recovery rate by debt age with its CI band and the 24-month line marked.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`recovery_by_age` (one or several scopes stacked; a ``scope``
        column draws one line each).
    {{plot_ax}}
    measure : {"recovery_rate", "payer_rate"}
        By amount or by count.
    split_months : float
        Where to draw the vertical comparison line (months).

    {{returns_axes}}

    Examples
    --------
    >>> t = pd.DataFrame({"age_band": ["0", "1"], "age_lo_months": [0.0, 1.0],
    ...     "age_hi_months": [1.0, 2.0], "recovery_rate": [0.3, 0.2], "scope": "charged_off"})
    >>> plot_recovery_by_age(t).get_xlabel()
    'debt age (months)'
    """
    ax = plot_axes(ax, (8, 4))
    groups = table.groupby("scope", sort=False) if "scope" in table else [("", table)]
    for name, g in groups:
        g = g.sort_values("age_lo_months")
        width = np.where(
            np.isfinite(g["age_hi_months"]), g["age_hi_months"] - g["age_lo_months"], 1.0
        )
        x = g["age_lo_months"].to_numpy() + width / 2
        label = "charged-off debt" if name == "charged_off" else in_words(name or measure)
        ax.plot(x, g[measure], marker="o", ms=3, label=label)
        if f"{measure}_low" in g:
            ax.fill_between(x, g[f"{measure}_low"], g[f"{measure}_high"], alpha=0.2)
    ax.axvline(split_months, color="k", ls="--", lw=1)
    ax.annotate(
        f"{split_months:g} months",
        (split_months, ax.get_ylim()[1]),
        xytext=(3, -12),
        textcoords="offset points",
        fontsize=8,
    )
    ax.set_xlabel("debt age (months)")
    ax.set_ylabel(
        "recovered share of balance" if measure == "recovery_rate" else "share of debts paying"
    )
    ax.set_ylim(bottom=0)
    percent_axis(ax.yaxis)
    horizon = table["horizon_months"].iloc[0] if "horizon_months" in table and len(table) else None
    within = f" within {horizon:g} months" if horizon is not None else ""
    what = (
        "Share of the balance recovered" if measure == "recovery_rate" else "Share of debts paying"
    )
    ax.set_title(f"{what}{within}, by debt age")
    legend_outside(ax, fontsize=8)
    return ax


@fill_doc
def plot_cumulative_recovery_curves(curves: pd.DataFrame, ax=None):
    """Cumulative recovery curves by age band at placement.

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`cumulative_recovery_curves`.
    {{plot_ax}}

    {{returns_axes}}

    Examples
    --------
    >>> c = pd.DataFrame({"age_band": ["0-3", "0-3"], "age_lo_months": [0.0, 0.0],
    ...     "months_since_placement": [1, 2], "cumulative_rate": [0.1, 0.15]})
    >>> plot_cumulative_recovery_curves(c).get_ylabel()
    'cumulative recovered share'
    """
    ax = plot_axes(ax, (8, 4))
    for (_, band), g in curves.groupby(["age_lo_months", "age_band"], sort=True):
        ax.plot(g["months_since_placement"], g["cumulative_rate"], label=f"age {band} m")
    ax.set_xlabel("months since placement")
    ax.set_ylabel("cumulative recovered share")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, title="age at placement")
    return ax
