"""Recovery by debt age: the seed-001 "2-year effect", measured (DESIGN.md §3).

Seed 001 claims that "debts over 2 years old: only 20% can be recovered; debts
under 2 years: 80%". This module measures the claim from a ``snapshots`` table alone,
never assuming it.

Definitions (binding, DESIGN.md §3):

* **Debt age** at a month end is the number of days since the start of the account's
  delinquency episode. When ``snapshots`` carries no ``debt_age_days`` column the
  episode start is derived from the snapshots (:func:`derive_debt_age`).
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
  are used. A debt observed four months before the data end has not had twelve months
  to pay; counting its missing eight months as "nothing collected" would bias every
  band downwards, and more so the bands that are over-represented in recent months.
* **Uncertainty**: percentile bootstrap over accounts (an account contributes several
  overlapping account-months, so rows are not independent), seeded.

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
from scipy import sparse

from recovery.config import Config
from recovery.engine.dask_analytics import is_dask_frame
from recovery.errors import DataError

__all__ = [
    "DAYS_PER_MONTH",
    "derive_debt_age",
    "recovery_observations",
    "recovery_by_age",
    "age_split_comparison",
    "recovery_drivers",
    "cumulative_recovery_curves",
    "plot_recovery_by_age",
    "plot_cumulative_recovery_curves",
]

#: Average days in a month (365.25 / 12), used to turn debt age in days into months.
DAYS_PER_MONTH = 365.25 / 12

Scope = Literal["charged_off", "delinquent"]
_REQUIRED = ("account_id", "month_end", "dpd", "balance", "paid_in_month", "status")


# --------------------------------------------------------------------------- helpers


def _check_columns(snapshots: pd.DataFrame, needed: tuple[str, ...] = _REQUIRED) -> None:
    missing = [c for c in needed if c not in snapshots.columns]
    if missing:
        raise DataError(
            f"snapshots is missing column(s) {missing}; it needs {list(needed)} "
            "(see recovery.data.schema.TABLES['snapshots'])"
        )
    if len(snapshots) == 0:
        raise DataError("snapshots is empty: nothing to measure")


def _month_index(month_end: pd.Series) -> np.ndarray:
    """Calendar month number (year * 12 + month - 1) of each date."""
    d = pd.to_datetime(month_end)
    return (d.dt.year * 12 + d.dt.month - 1).to_numpy(dtype=np.int64)


def _sorted(snapshots: pd.DataFrame) -> pd.DataFrame:
    """Snapshots sorted by account and month, with ``_acc`` and ``_mi`` helper columns."""
    out = snapshots.copy()
    out["month_end"] = pd.to_datetime(out["month_end"]).dt.normalize()
    out["_mi"] = _month_index(out["month_end"])
    out["_acc"] = pd.factorize(out["account_id"], sort=True)[0].astype(np.int64)
    out = out.sort_values(["_acc", "_mi"], kind="mergesort").reset_index(drop=True)
    if out.duplicated(["_acc", "_mi"]).any():
        dup = out.loc[out.duplicated(["_acc", "_mi"], keep=False), ["account_id", "month_end"]]
        raise DataError(
            "snapshots must have one row per account and month end; duplicates e.g. "
            f"{dup.head(3).to_dict('records')}"
        )
    return out


def _future_sum(
    acc: np.ndarray, month: np.ndarray, value: np.ndarray, months_ahead: np.ndarray | int
) -> np.ndarray:
    """Sum of ``value`` over the same account's rows in months ``(m, m + months_ahead]``.

    ``acc`` and ``month`` must be sorted by account then month (as :func:`_sorted`
    leaves them). Rows absent from the table (an account that left the snapshots after
    paying off) count as zero: nothing was collected there.
    """
    span = int(month.max() - month.min() + 2) if len(month) else 1
    base = month.min() if len(month) else 0
    key = acc * span + (month - base)
    cum = np.cumsum(value, dtype=float)
    target = acc * span + np.minimum(month - base + months_ahead, span - 1)
    pos = np.searchsorted(key, target, side="right") - 1
    here = np.arange(len(key))
    return cum[pos] - cum[here]


def derive_debt_age(snapshots: pd.DataFrame) -> pd.Series:
    """Debt age (days) of each snapshot row, from the snapshots alone.

    A delinquency episode starts at the first month end with DPD > 0 (or status
    ``charged_off``) after a month end with DPD 0 (or at the account's first row),
    back-dated by that row's DPD; it lasts while DPD > 0 or the account is charged
    off. Partial payments do not make a debt younger (DESIGN.md §3). Rows outside an
    episode get ``<NA>``. When ``snapshots`` already has ``debt_age_days`` use that.

    Parameters
    ----------
    snapshots : DataFrame
        ``account_id``, ``month_end``, ``dpd`` (days), ``status``.

    Returns
    -------
    Series
        Nullable ``Int64`` debt age in days, aligned with ``snapshots.index``.

    Examples
    --------
    >>> snaps = pd.DataFrame({"account_id": ["A"] * 4,
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31",
    ...                                  "2024-04-30"]),
    ...     "dpd": [0, 10, 5, 0], "status": ["open"] * 4})
    >>> derive_debt_age(snaps).tolist()  # episode starts 2024-02-19; Mar 31 is 41 days later
    [<NA>, 10, 41, <NA>]
    """
    _check_columns(snapshots, ("account_id", "month_end", "dpd", "status"))
    s = snapshots[["account_id", "month_end", "dpd", "status"]].copy()
    s["month_end"] = pd.to_datetime(s["month_end"]).dt.normalize()
    s = s.sort_values(["account_id", "month_end"], kind="mergesort")
    dpd = s["dpd"].fillna(0).to_numpy(dtype=np.int64)
    late = (dpd > 0) | (s["status"].to_numpy() == "charged_off")
    same = s["account_id"].eq(s["account_id"].shift()).to_numpy()
    prev_late = np.r_[False, late[:-1]] & same
    first = late & ~prev_late
    start = pd.Series(
        np.where(
            first,
            (s["month_end"] - pd.to_timedelta(dpd, unit="D")).to_numpy(),
            np.datetime64("NaT"),
        ),
        index=s.index,
        dtype="datetime64[ns]",
    )
    episode = np.cumsum(first)
    start = start.groupby(episode).transform("first")
    age = (s["month_end"] - start).dt.days.where(late)
    return age.astype("Int64").reindex(snapshots.index)


def _amount_band_labels(edges: np.ndarray) -> list[str]:
    return [f"{edges[i]:,.0f}-{edges[i + 1]:,.0f}" for i in range(len(edges) - 1)]


def _band_columns(
    age_days: np.ndarray, bands: str, config: Config, max_months: int = 48
) -> pd.DataFrame:
    """Age band label, left and right edge (months) of each debt age (days)."""
    months = np.floor(age_days / DAYS_PER_MONTH).astype(np.int64)
    if bands == "monthly":
        lo = np.minimum(months, max_months)
        hi = np.where(lo >= max_months, np.inf, lo + 1)
        label = np.where(lo >= max_months, f"{max_months}+", lo.astype(str))
    elif bands == "coarse":
        edges = np.asarray(config.analytics.age_bands_months, dtype=float)
        idx = np.searchsorted(edges, months, side="right") - 1
        idx = np.clip(idx, 0, len(edges) - 1)
        lo = edges[idx]
        upper = np.r_[edges[1:], np.inf]
        hi = upper[idx]
        names = np.array(
            [
                f"{int(a)}-{int(b)}" if np.isfinite(b) else f"{int(a)}+"
                for a, b in zip(edges, upper, strict=True)
            ],
            dtype=object,
        )
        label = names[idx]
    else:
        raise DataError(f"bands must be 'monthly' or 'coarse', got {bands!r}")
    return pd.DataFrame({"age_band": label, "age_lo_months": lo.astype(float), "age_hi_months": hi})


# --------------------------------------------------------------------------- observations


def recovery_observations(
    snapshots: pd.DataFrame,
    config: Config | None = None,
    *,
    scope: Scope = "charged_off",
    horizon_months: int | None = None,
    data_end: pd.Timestamp | str | None = None,
    censor: bool = True,
) -> pd.DataFrame:
    """One row per in-scope debt-month with what was collected in the following horizon.

    Parameters
    ----------
    snapshots : DataFrame
        The ``snapshots`` table (DESIGN.md §2); ``debt_age_days`` is derived when absent.
    config : Config, optional
        Defaults of DESIGN.md; ``analytics.recovery_horizon_months`` and
        ``aging.tolerance`` are used.
    scope : {"charged_off", "delinquent"}
        ``"charged_off"``: rows with status ``charged_off`` (the recovery book).
        ``"delinquent"``: open rows with DPD > 0 plus the recovery book.
    horizon_months : int, optional
        Follow-up window in months (default ``config.analytics.recovery_horizon_months``).
    data_end : date, optional
        Last month end the data covers (default: the latest ``month_end``).
    censor : bool
        Keep only rows with the full horizon of follow-up before ``data_end``
        (default). ``False`` keeps every row and reports ``follow_up_months``.

    Returns
    -------
    DataFrame
        ``account_id, month_end, debt_age_days, balance, collected`` (currency, within
        the horizon, uncapped), ``recovered`` (capped at the balance),
        ``recovery_share`` (0–1), ``paid`` (bool: a qualifying payment),
        ``follow_up_months`` and ``product`` when present.

    Examples
    --------
    >>> snaps = pd.DataFrame({"account_id": ["A", "A", "A"],
    ...     "month_end": pd.date_range("2024-01-31", periods=3, freq="ME"),
    ...     "dpd": [200, 230, 260], "balance": [100.0, 100.0, 0.0],
    ...     "paid_in_month": [0.0, 0.0, 150.0], "status": ["charged_off"] * 2 + ["settled"]})
    >>> obs = recovery_observations(snaps, horizon_months=2)
    >>> obs[["balance", "collected", "recovered", "recovery_share"]].values.tolist()
    [[100.0, 150.0, 100.0, 1.0]]
    """
    config = config or Config()
    _check_columns(snapshots)
    horizon = int(
        horizon_months if horizon_months is not None else config.analytics.recovery_horizon_months
    )
    if horizon < 1:
        raise DataError(f"horizon_months must be at least 1, got {horizon}")
    s = _sorted(snapshots)
    if "debt_age_days" in s.columns and s["debt_age_days"].notna().any():
        age = pd.to_numeric(s["debt_age_days"], errors="coerce")
        derived = derive_debt_age(s)
        age = age.fillna(derived.astype("float"))
    else:
        age = derive_debt_age(s).astype("float")
    end_mi = (
        _month_index(pd.Series([pd.Timestamp(data_end)]))[0]
        if data_end is not None
        else int(s["_mi"].max())
    )
    acc = s["_acc"].to_numpy()
    mi = s["_mi"].to_numpy()
    paid = s["paid_in_month"].fillna(0).to_numpy(dtype=float)
    collected = _future_sum(acc, mi, paid, horizon)
    follow = end_mi - mi
    status = s["status"].to_numpy()
    balance = s["balance"].fillna(0).to_numpy(dtype=float)
    if scope == "charged_off":
        mask = status == "charged_off"
    elif scope == "delinquent":
        mask = (status == "charged_off") | (
            (status == "open") & (s["dpd"].fillna(0).to_numpy() > 0)
        )
    else:
        raise DataError(f"scope must be 'charged_off' or 'delinquent', got {scope!r}")
    mask &= (balance > 0) & age.notna().to_numpy()
    if censor:
        mask &= follow >= horizon
    recovered = np.minimum(collected, balance)
    out = pd.DataFrame(
        {
            "account_id": s["account_id"].to_numpy(),
            "month_end": s["month_end"].to_numpy(),
            "debt_age_days": age.to_numpy(dtype=float),
            "status": status,
            "balance": balance,
            "collected": collected,
            "recovered": recovered,
            "recovery_share": np.divide(
                recovered, balance, out=np.zeros_like(balance), where=balance > 0
            ),
            "paid": collected > config.aging.tolerance,
            "follow_up_months": np.minimum(follow, horizon),
        }
    )
    if "product" in s.columns:
        out["product"] = s["product"].to_numpy()
    return out.loc[mask].reset_index(drop=True)


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
    out = _rates_of_totals(out)
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
            out[f"{k}_low"] = np.nanquantile(r, alpha, axis=0)
            out[f"{k}_high"] = np.nanquantile(r, 1 - alpha, axis=0)
    return out


def _rates_of_totals(out: pd.DataFrame) -> pd.DataFrame:
    """Recovery, payer and mean share rates from the sums (drops the helper sums)."""
    out = out.copy()
    out["recovery_rate"] = out["recovered"] / out["balance"]
    out["payer_rate"] = out.pop("n_paid") / out["n_debts"]
    out["mean_recovery_share"] = out.pop("share_sum") / out["n_debts"]
    return out


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
) -> pd.DataFrame:
    """Recovery rate by debt-age band (DESIGN.md §3), by amount and by count, with CIs.

    Parameters
    ----------
    snapshots : DataFrame
        The ``snapshots`` table.
    config : Config, optional
        ``analytics.recovery_horizon_months``, ``age_bands_months``,
        ``bootstrap_samples``, ``confidence``, ``seed`` are used.
    scope : {"charged_off", "delinquent"}
        The recovery book (headline) or every delinquent debt.
    bands : {"monthly", "coarse"}
        One-month bands out to ``max_months`` (then pooled), or the coarse bands of
        ``config.analytics.age_bands_months`` (0–3, 3–6, 6–12, 12–24, 24–36, 36+).
    by : str, optional
        A further grouping column: ``"product"``, ``"amount_band"`` (balance
        quantiles, see ``amount_bands``) or any column of the observations.
    horizon_months : int, optional
        Follow-up window (months).
    max_months : int
        Last monthly band; older debt is pooled into ``"{max_months}+"``.
    amount_bands : int or tuple of float
        Number of balance quantile bands, or explicit edges (currency).
    n_bootstrap : int, optional
        Bootstrap resamples of accounts (default ``config.analytics.bootstrap_samples``;
        0 for none).
    seed : int, optional
        Bootstrap seed (default ``config.analytics.seed``).
    data_end : date, optional
        Last month end the data covers.

    Returns
    -------
    DataFrame
        One row per (group,) age band: ``age_band, age_lo_months, age_hi_months,
        n_debts`` (account-months), ``n_accounts, balance, recovered`` (currency),
        ``recovery_rate`` (by amount: recovered / balance), ``payer_rate`` (by count:
        share of debts with a qualifying payment), ``mean_recovery_share`` (by count:
        mean per-debt recovered share), CI columns ``*_low`` / ``*_high`` and
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
    horizon = int(
        horizon_months if horizon_months is not None else config.analytics.recovery_horizon_months
    )
    groups = ([by] if by else []) + ["age_lo_months", "age_hi_months", "age_band"]
    if is_dask_frame(snapshots):  # partial sums per partition (recovery.engine.dask_analytics)
        from recovery.engine.dask_analytics import recovery_totals

        if n_bootstrap:
            raise DataError("bootstrap intervals resample whole accounts: pass n_bootstrap=0")
        totals = recovery_totals(snapshots, config, scope, bands, by, horizon, max_months, data_end)
        out = _rates_of_totals(totals)
    else:
        obs = _age_observations(snapshots, config, scope, bands, by, horizon, max_months,
                                amount_bands, data_end)  # fmt: skip
        if obs.empty:
            raise DataError(
                f"no {scope} debt with {horizon} months of follow-up before the data end; "
                "use a shorter horizon_months or more history"
            )
        n_boot = config.analytics.bootstrap_samples if n_bootstrap is None else n_bootstrap
        out = _grouped_rates(
            obs,
            groups,
            n_boot,
            config.analytics.confidence,
            config.analytics.seed if seed is None else seed,
        )
    out = out.sort_values(groups[:-1]).reset_index(drop=True)
    cols = ([by] if by else []) + ["age_band", "age_lo_months", "age_hi_months"]
    out = out[cols + [c for c in out.columns if c not in cols]]
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
        [obs, _band_columns(obs["debt_age_days"].to_numpy(), bands, config, max_months)], axis=1
    )
    if by == "amount_band":
        obs = _with_amount_band(obs, amount_bands)
    elif by is not None and by not in obs.columns:
        raise DataError(
            f"cannot group by {by!r}: not a column of the observations ({list(obs.columns)})"
        )
    return obs


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
    snapshots : DataFrame
        The ``snapshots`` table.
    config : Config, optional
        ``analytics.age_split_months`` (24) and the bootstrap settings are used.
    scope : {"charged_off", "delinquent"}
        The recovery book (headline) or every delinquent debt.
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
    horizon = int(
        horizon_months if horizon_months is not None else config.analytics.recovery_horizon_months
    )
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
            out[f"{k}_low"] = np.nanquantile(reps[k], alpha, axis=0)
            out[f"{k}_high"] = np.nanquantile(reps[k], 1 - alpha, axis=0)
    if by is None:
        out = out.drop(columns="_all")
    out["split_months"] = split
    out["scope"] = scope
    out["horizon_months"] = horizon
    return out


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
    snapshots : DataFrame
        The ``snapshots`` table.
    config : Config, optional
        Defaults of DESIGN.md.
    scope : {"charged_off", "delinquent"}
        Which debt.
    model : regressor, optional
        Any scikit-learn regressor with ``fit(X, y, sample_weight)`` and ``predict``.
    amount_bands : int
        Balance quantile bands.
    horizon_months : int, optional
        Follow-up window (months).
    weight : {"amount", "count"}
        Weight each debt-month by its balance (recovery by amount) or equally.
    data_end : date, optional
        Last month end the data covers.

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
    obs = pd.concat([obs, _band_columns(obs["debt_age_days"].to_numpy(), "coarse", config)], axis=1)
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
    snapshots : DataFrame
        The ``snapshots`` table.
    config : Config, optional
        Defaults of DESIGN.md.
    scope : {"charged_off", "delinquent"}
        Which debt.
    bands : {"monthly", "coarse"}
        Age bands at placement.
    max_months : int
        Last month since placement.
    data_end : date, optional
        Last month end the data covers.

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
    obs = recovery_observations(
        snapshots, config, scope=scope, horizon_months=1, data_end=data_end, censor=False
    )
    s = _sorted(snapshots)
    end_mi = (
        _month_index(pd.Series([pd.Timestamp(data_end)]))[0]
        if data_end is not None
        else int(s["_mi"].max())
    )
    acc = s["_acc"].to_numpy()
    mi = s["_mi"].to_numpy()
    paid = s["paid_in_month"].fillna(0).to_numpy(float)
    key = pd.MultiIndex.from_arrays([s["account_id"].to_numpy(), s["month_end"].to_numpy()])
    pos = key.get_indexer(
        pd.MultiIndex.from_arrays([obs["account_id"].to_numpy(), obs["month_end"].to_numpy()])
    )
    m, bal = mi[pos], obs["balance"].to_numpy(float)
    follow = end_mi - m
    bands_df = _band_columns(obs["debt_age_days"].to_numpy(), bands, config)
    grouped = bands_df.groupby(["age_lo_months", "age_band"], sort=True)
    codes = grouped.ngroup().to_numpy()
    lab = grouped.size().reset_index()
    n_b = len(lab)
    rows = []
    prev = np.zeros(len(pos))
    for k in range(1, max_months + 1):  # loop over months since placement, vectorised over debts
        cum = np.minimum(_future_sum(acc, mi, paid, k)[pos], bal)
        inc = cum - prev
        prev = cum
        ok = follow >= k
        if not ok.any():
            break
        num = np.bincount(codes[ok], weights=inc[ok], minlength=n_b)
        den = np.bincount(codes[ok], weights=bal[ok], minlength=n_b)
        cnt = np.bincount(codes[ok], minlength=n_b)
        rows.append(
            pd.DataFrame(
                {
                    "_b": np.arange(n_b),
                    "months_since_placement": k,
                    "num": num,
                    "den": den,
                    "n_debts": cnt,
                }
            )
        )
    if not rows:
        raise DataError("no placement has a month of follow-up before the data end")
    out = pd.concat(rows, ignore_index=True)
    out = out[out["n_debts"] > 0].copy()
    out["incremental_rate"] = out["num"] / out["den"]
    out["cumulative_rate"] = out.groupby("_b")["incremental_rate"].cumsum()
    out["age_lo_months"] = lab["age_lo_months"].to_numpy()[out["_b"]]
    out["age_band"] = lab["age_band"].to_numpy()[out["_b"]]
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


# --------------------------------------------------------------------------- plots


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
    ax : matplotlib Axes, optional
        Where to draw; a new figure when ``None``.
    measure : {"recovery_rate", "payer_rate"}
        By amount or by count.
    split_months : float
        Where to draw the vertical comparison line (months).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> t = pd.DataFrame({"age_band": ["0", "1"], "age_lo_months": [0.0, 1.0],
    ...     "age_hi_months": [1.0, 2.0], "recovery_rate": [0.3, 0.2], "scope": "charged_off"})
    >>> plot_recovery_by_age(t).get_xlabel()
    'debt age (months)'
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    groups = table.groupby("scope", sort=False) if "scope" in table else [("", table)]
    for name, g in groups:
        g = g.sort_values("age_lo_months")
        width = np.where(
            np.isfinite(g["age_hi_months"]), g["age_hi_months"] - g["age_lo_months"], 1.0
        )
        x = g["age_lo_months"].to_numpy() + width / 2
        ax.plot(x, g[measure], marker="o", ms=3, label=str(name) or measure)
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
    ax.legend(loc="upper right", fontsize=8)
    return ax


def plot_cumulative_recovery_curves(curves: pd.DataFrame, ax=None):
    """Cumulative recovery curves by age band at placement.

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`cumulative_recovery_curves`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> c = pd.DataFrame({"age_band": ["0-3", "0-3"], "age_lo_months": [0.0, 0.0],
    ...     "months_since_placement": [1, 2], "cumulative_rate": [0.1, 0.15]})
    >>> plot_cumulative_recovery_curves(c).get_ylabel()
    'cumulative recovered share'
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    for (_, band), g in curves.groupby(["age_lo_months", "age_band"], sort=True):
        ax.plot(g["months_since_placement"], g["cumulative_rate"], label=f"age {band} m")
    ax.set_xlabel("months since placement")
    ax.set_ylabel("cumulative recovered share")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, title="age at placement")
    return ax
