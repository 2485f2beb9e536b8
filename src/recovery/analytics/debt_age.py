"""Debt age and the recovery observations: each debt-month and what it collected next.

The observation layer of recovery by debt age (:mod:`recovery.analytics.recovery_curves`)
and the snapshot helpers the liquidation curves share (DESIGN.md §3):

* **Debt age** at a month end is the number of days since the start of the account's
  delinquency episode. When ``snapshots`` carries no ``debt_age_days`` column the
  episode start is derived from the snapshots (:func:`derive_debt_age`). Ages are
  banded by month (:func:`age_band_columns`: one-month bands, or the coarse bands of
  ``config.analytics.age_bands_months``).
* **Observations**: one row per in-scope debt-month with its balance and what was
  collected (``paid_in_month`` of months *m+1 … m+H*) within the horizon *H*
  (``config.analytics.recovery_horizon_months``, default 12), capped at the balance,
  and whether a qualifying payment (above ``config.aging.tolerance``) came
  (:func:`recovery_observations`).
* **Scopes**: ``"charged_off"`` (the recovery book) and ``"delinquent"`` (open
  accounts with DPD > 0 plus the recovery book).
* **Censoring**: only month ends with *H* full months of follow-up before the data end
  are kept. A debt observed four months before the data end has not had twelve months
  to pay; counting its missing eight months as "nothing collected" would bias every
  band downwards, and more so the bands that are over-represented in recent months.

Examples
--------
>>> import pandas as pd
>>> snaps = pd.DataFrame({"account_id": ["A"] * 3,
...     "month_end": pd.date_range("2024-01-31", periods=3, freq="ME"),
...     "dpd": [200, 230, 260], "balance": [100.0, 100.0, 60.0],
...     "paid_in_month": [0.0, 40.0, 0.0], "status": ["charged_off"] * 3})
>>> recovery_observations(snaps, horizon_months=1)[["debt_age_days", "recovered"]].values.tolist()
[[200.0, 40.0], [229.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal

import numpy as np
import pandas as pd

from recovery.analytics.common import month_number
from recovery.analytics.partitions import PartitionedSnapshots
from recovery.config import Config
from recovery.data.contract import AMOUNT_NAMES, require_columns
from recovery.docstrings import fill_doc
from recovery.errors import DataError

__all__ = [
    "DAYS_PER_MONTH",
    "RECOVERY_COLUMNS",
    "Scope",
    "observed_debt_months",
    "age_band_columns",
    "check_part_columns",
    "check_snapshot_columns",
    "derive_debt_age",
    "future_sum",
    "future_sums",
    "recovery_horizon",
    "recovery_observations",
    "sort_snapshots",
]

#: Average days in a month (365.25 / 12), used to turn debt age in days into months.
DAYS_PER_MONTH = 365.25 / 12

#: Which debt: the recovery book, or every delinquent debt (open with DPD > 0 too).
Scope = Literal["charged_off", "delinquent"]
#: The columns of the ``snapshots`` table that recovery by debt age needs.
RECOVERY_COLUMNS: tuple[str, ...] = (
    "account_id", "month_end", "dpd", "balance", "paid_in_month", "status",
)  # fmt: skip


# --------------------------------------------------------------------------- helpers


@fill_doc
def check_snapshot_columns(
    snapshots: pd.DataFrame,
    needed: tuple[str, ...] = RECOVERY_COLUMNS,
    what: str = "this analysis",
) -> None:
    """Raise unless ``snapshots`` has the ``needed`` columns and at least one row.

    Parameters
    ----------
    {{snapshots_table}}
    needed : tuple of str
        Required columns (default :data:`RECOVERY_COLUMNS`).
    what : str
        The analysis, in words, for the message when only amounts are missing.

    Raises
    ------
    DataError
        Naming the missing columns, or saying the table is empty.
    recovery.errors.MissingColumnError
        When only amounts (balances, payments) are missing: a status-only history.

    Examples
    --------
    >>> check_snapshot_columns(pd.DataFrame({"account_id": ["A"]}), ("account_id",))
    >>> check_snapshot_columns(pd.DataFrame({"account_id": ["A"]}))
    Traceback (most recent call last):
    ...
    recovery.errors.DataError: snapshots is missing column(s) ['month_end', 'dpd', 'balance', 'paid_in_month', 'status']; it needs ['account_id', 'month_end', 'dpd', 'balance', 'paid_in_month', 'status'] (see recovery.data.schema.TABLES['snapshots'])
    """
    missing = [c for c in needed if c not in snapshots.columns]
    if missing and set(missing) <= set(AMOUNT_NAMES):
        require_columns(snapshots, needed, what)
    if missing:
        raise DataError(
            f"snapshots is missing column(s) {missing}; it needs {list(needed)} "
            "(see recovery.data.schema.TABLES['snapshots'])"
        )
    if len(snapshots) == 0:
        raise DataError("snapshots is empty: nothing to measure")


def check_part_columns(
    parts: PartitionedSnapshots,
    needed: tuple[str, ...] = RECOVERY_COLUMNS,
    what: str = "this analysis",
) -> None:
    """:func:`check_snapshot_columns` of a partitioned table, from its columns alone.

    A status-only history (no balances, no payments) is refused with one clear
    :class:`~recovery.errors.MissingColumnError` before any part is read.
    """
    if any(c not in parts.columns for c in needed):
        check_snapshot_columns(pd.DataFrame(columns=list(parts.columns)), needed, what)


def sort_snapshots(snapshots: pd.DataFrame) -> pd.DataFrame:
    """Snapshots sorted by account and month, with ``_acc`` and ``_mi`` helper columns.

    Parameters
    ----------
    snapshots : DataFrame
        The ``snapshots`` table (``account_id``, ``month_end`` and any other columns).

    Returns
    -------
    DataFrame
        A sorted copy with ``month_end`` normalised, ``balance`` (when present) the
        exposure (a credit balance reads 0), ``_mi`` the month number
        (:func:`recovery.analytics.common.month_number`) and ``_acc`` the account's
        code (0, 1, … in sorted ``account_id`` order).

    Raises
    ------
    DataError
        When an account has two rows for one month end.

    Examples
    --------
    >>> s = pd.DataFrame({"account_id": ["B", "A"],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29"])})
    >>> sort_snapshots(s)[["account_id", "_acc", "_mi"]].values.tolist()
    [['A', 0, 24289], ['B', 1, 24288]]
    """
    out = snapshots.copy()
    out["month_end"] = pd.to_datetime(out["month_end"], cache=False).dt.normalize()
    if "balance" in out:  # the exposure: a credit balance (below zero) reads 0
        out["balance"] = pd.to_numeric(out["balance"], errors="coerce").clip(lower=0.0)
    out["_mi"] = month_number(out["month_end"])
    out["_acc"] = pd.factorize(out["account_id"], sort=True)[0].astype(np.int64)
    step = np.diff(_row_keys(out["_acc"].to_numpy(), out["_mi"].to_numpy()))
    if (step > 0).all():  # already in order, one row per account and month
        out.index = pd.RangeIndex(len(out))  # (a copy already: no second one)
        return out
    out = out.sort_values(["_acc", "_mi"], kind="mergesort").reset_index(drop=True)
    if out.duplicated(["_acc", "_mi"]).any():
        dup = out.loc[out.duplicated(["_acc", "_mi"], keep=False), ["account_id", "month_end"]]
        raise DataError(
            "snapshots must have one row per account and month end; duplicates e.g. "
            f"{dup.head(3).to_dict('records')}"
        )
    return out


def _row_keys(acc: np.ndarray, month: np.ndarray) -> np.ndarray:
    """One integer per (account code, month number), in the same order as the pairs."""
    if not len(month):
        return np.zeros(0, dtype=np.int64)
    base = int(month.min())
    span = int(month.max()) - base + 1
    return acc.astype(np.int64) * span + (month.astype(np.int64) - base)


def future_sum(
    acc: np.ndarray,
    month: np.ndarray,
    value: np.ndarray,
    months_ahead: np.ndarray | int,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Sum of ``value`` over the same account's rows in months ``(m, m + months_ahead]``.

    Rows absent from the table (an account that left the snapshots after paying off)
    count as zero: nothing was collected there.

    Parameters
    ----------
    acc, month : array of int
        Account code and month number of each row, sorted by account then month (as
        :func:`sort_snapshots` leaves ``_acc`` and ``_mi``).
    value : array of float
        What to sum (e.g. ``paid_in_month``).
    months_ahead : int or array of int
        The window after each row's month (of each of ``rows``, when given).
    rows : array of int, optional
        Only these rows' sums (positions; the same numbers as those rows of the
        whole result, for a fraction of its cost).

    Returns
    -------
    numpy.ndarray of float
        One sum per row (per one of ``rows``).

    Examples
    --------
    >>> future_sum(np.array([0, 0, 0]), np.array([5, 6, 7]), np.array([1.0, 2.0, 4.0]), 1)
    array([2., 4., 0.])
    """
    return next(future_sums(acc, month, value, [months_ahead], rows))


def future_sums(
    acc: np.ndarray,
    month: np.ndarray,
    value: np.ndarray,
    windows: Iterable[np.ndarray | int],
    rows: np.ndarray | None = None,
) -> Iterator[np.ndarray]:
    """:func:`future_sum` for each of several windows, one after the other.

    The rows' keys and running sums are computed once for all the windows.

    Examples
    --------
    >>> acc, month = np.array([0, 0, 0]), np.array([5, 6, 7])
    >>> [s.tolist() for s in future_sums(acc, month, np.array([1.0, 2.0, 4.0]), [1, 2], rows=[0])]
    [[2.0], [6.0]]
    """
    span = int(month.max() - month.min() + 2) if len(month) else 1
    base = month.min() if len(month) else 0
    key = acc * span + (month - base)
    cum = np.cumsum(value, dtype=float)
    here = np.arange(len(key)) if rows is None else np.asarray(rows, dtype=np.intp)
    acc_key, month_here = acc[here] * span, month[here] - base
    for months_ahead in windows:
        target = acc_key + np.minimum(month_here + months_ahead, span - 1)
        pos = np.searchsorted(key, target, side="right") - 1
        yield cum[pos] - cum[here]


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
    check_snapshot_columns(snapshots, ("account_id", "month_end", "dpd", "status"))
    s = snapshots[["account_id", "month_end", "dpd", "status"]].copy()
    s["month_end"] = pd.to_datetime(s["month_end"], cache=False).dt.normalize()
    ordered = {"_acc", "_mi"} <= set(snapshots.columns) and bool(
        (np.diff(_row_keys(snapshots["_acc"].to_numpy(), snapshots["_mi"].to_numpy())) > 0).all()
    )  # rows of sort_snapshots: already by account and month
    if not ordered:
        s = s.sort_values(["account_id", "month_end"], kind="mergesort")
    dpd = s["dpd"].fillna(0).to_numpy(dtype=np.int64)
    late = (dpd > 0) | (s["status"].to_numpy() == "charged_off")
    account = s["account_id"].to_numpy()
    same = np.r_[False, account[1:] == account[:-1]]
    prev_late = np.r_[False, late[:-1]] & same
    first = late & ~prev_late
    # each episode's start (its first row's month end back-dated by that row's DPD)
    month_end = s["month_end"].to_numpy()
    starts = month_end[first] - dpd[first].astype("timedelta64[D]")
    episode = np.cumsum(first)  # a late row's episode: the latest first row's
    days = np.zeros(len(s), dtype=np.int64)
    days[late] = (month_end[late] - starts[episode[late] - 1]) // np.timedelta64(1, "D")
    age = pd.Series(days, index=s.index).astype("Int64")
    age[~late] = pd.NA
    return age.reindex(snapshots.index)


def age_band_columns(
    age_days: np.ndarray, bands: str, config: Config, max_months: int = 48
) -> pd.DataFrame:
    """Age band label, left and right edge (months) of each debt age (days).

    Parameters
    ----------
    age_days : array of float
        Debt ages (days).
    bands : {"monthly", "coarse"}
        One-month bands out to ``max_months`` (older debt pooled into
        ``"{max_months}+"``), or the coarse bands of ``config.analytics.age_bands_months``.
    config : Config
        The coarse band edges.
    max_months : int
        Last monthly band.

    Returns
    -------
    DataFrame
        ``age_band`` (label), ``age_lo_months`` and ``age_hi_months`` (``inf`` for
        the last band), one row per age.

    Examples
    --------
    >>> age_band_columns(np.array([45.0, 400.0]), "coarse", Config())["age_band"].tolist()
    ['0-3', '12-24']
    """
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


@fill_doc
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
    {{last_month_end}}
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
    if isinstance(snapshots, PartitionedSnapshots):  # account by account: the parts' rows
        return _observations_of_parts(snapshots, config, scope, horizon_months, data_end, censor)
    return observed_debt_months(snapshots, config, scope, horizon_months, data_end, censor)[2]


def observed_debt_months(
    snapshots: pd.DataFrame,
    config: Config,
    scope: Scope = "charged_off",
    horizon_months: int | None = None,
    data_end: pd.Timestamp | str | None = None,
    censor: bool = True,
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """:func:`recovery_observations` of a table, with the sorted table and their rows in it.

    Returns
    -------
    sorted : DataFrame
        :func:`sort_snapshots` of ``snapshots``.
    rows : numpy.ndarray of int
        Position in ``sorted`` of each observation.
    observations : DataFrame
        :func:`recovery_observations`.

    Examples
    --------
    >>> snaps = pd.DataFrame({"account_id": ["A", "A"],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29"]), "dpd": [200, 230],
    ...     "balance": [100.0, 90.0], "paid_in_month": [0.0, 10.0],
    ...     "status": ["charged_off"] * 2})
    >>> s, rows, obs = observed_debt_months(snaps, Config(), horizon_months=1)
    >>> rows.tolist(), obs["collected"].tolist()
    ([0], [10.0])
    """
    check_snapshot_columns(snapshots, what="recovery by debt age")
    horizon = recovery_horizon(horizon_months, config)
    if horizon < 1:
        raise DataError(f"horizon_months must be at least 1, got {horizon}")
    s = sort_snapshots(snapshots)
    if "debt_age_days" in s.columns and s["debt_age_days"].notna().any():
        age = pd.to_numeric(s["debt_age_days"], errors="coerce")
        derived = derive_debt_age(s)
        age = age.fillna(derived.astype("float"))
    else:
        age = derive_debt_age(s).astype("float")
    end_mi = (
        month_number([pd.Timestamp(data_end)])[0] if data_end is not None else int(s["_mi"].max())
    )
    acc = s["_acc"].to_numpy()
    mi = s["_mi"].to_numpy()
    paid = s["paid_in_month"].fillna(0).to_numpy(dtype=float)
    collected = future_sum(acc, mi, paid, horizon)
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
    rows = np.flatnonzero(mask)  # the debt-months kept: only their columns are built
    balance, collected = balance[rows], collected[rows]
    recovered = np.minimum(collected, balance)
    out = pd.DataFrame(
        {
            "account_id": s["account_id"].to_numpy()[rows],
            "month_end": s["month_end"].to_numpy()[rows],
            "debt_age_days": age.to_numpy(dtype=float)[rows],
            "status": status[rows],
            "balance": balance,
            "collected": collected,
            "recovered": recovered,
            "recovery_share": np.divide(
                recovered, balance, out=np.zeros_like(balance), where=balance > 0
            ),
            "paid": collected > config.aging.tolerance,
            "follow_up_months": np.minimum(follow[rows], horizon),
        }
    )
    if "product" in s.columns:
        out["product"] = s["product"].to_numpy()[rows]
    return s, rows, out


def _observations_of_parts(
    snapshots: PartitionedSnapshots,
    config: Config,
    scope: Scope,
    horizon_months: int | None,
    data_end: pd.Timestamp | str | None,
    censor: bool,
) -> pd.DataFrame:
    """:func:`recovery_observations` of a partitioned table, from one pass for every scope.

    The parts' debt-months of the wider scope (``delinquent``, which holds every
    ``charged_off`` one) without censoring are read once per horizon and data end and
    remembered; each scope and censoring is a selection of those rows (the columns of
    a row do not depend on them).
    """
    check_part_columns(snapshots, what="recovery by debt age")
    if scope not in ("charged_off", "delinquent"):
        raise DataError(f"scope must be 'charged_off' or 'delinquent', got {scope!r}")
    end = snapshots.data_end if data_end is None else data_end
    horizon = recovery_horizon(horizon_months, config)
    kw = {"horizon_months": horizon, "data_end": end}

    def compute() -> pd.DataFrame:
        out = snapshots.concat(
            recovery_observations, config, scope="delinquent", censor=False, **kw
        )
        if out.empty:
            return out
        return out.sort_values(["account_id", "month_end"], kind="mergesort", ignore_index=True)

    every = snapshots.memo(("debt_months", config, horizon, pd.Timestamp(end)), compute)
    keep = np.ones(len(every), dtype=bool)
    if scope == "charged_off" and len(every):
        keep = every["status"].to_numpy() == "charged_off"
    if censor and len(every):
        keep &= every["follow_up_months"].to_numpy() >= horizon
    if not keep.any():  # none: the empty table of one part
        part = snapshots.partition(0).iloc[:0]
        return recovery_observations(part, config, scope=scope, censor=censor, **kw)
    return every.loc[keep].reset_index(drop=True)


def recovery_horizon(horizon_months: int | None, config: Config) -> int:
    """The follow-up window (months): ``horizon_months``, else the configured one.

    Examples
    --------
    >>> recovery_horizon(None, Config()), recovery_horizon(6, Config())
    (12, 6)
    """
    return int(
        horizon_months if horizon_months is not None else config.analytics.recovery_horizon_months
    )
