"""Roll rates, roll-forward / stay / cure trends and net flow rates (DESIGN.md §3).

Everything here is computed from a ``snapshots`` table alone (one row per account ×
month end, :data:`recovery.data.schema.TABLES` ``['snapshots']``), so it applies to a lender
that only has monthly performance data.

States
------
The **state** of a snapshot row is its aging bucket when ``status == 'open'`` and its
status otherwise; ``closed`` reads as ``other_exit``. Between consecutive calendar
month ends *m* and *m + 1*:

* the **from** states at *m* are the buckets and ``charged_off`` — the accounts on
  the books at *m*. Charged-off accounts stay in the recovery book: a charged-off
  account still present at *m + 1* moves ``charged_off → charged_off`` (or to
  ``paid_off`` / ``settled`` when it is resolved);
* the **to** states at *m + 1* are the buckets, ``charged_off``, ``paid_off``,
  ``settled`` and ``other_exit``; an account on the books at *m* and absent at
  *m + 1* moved to ``other_exit``;
* an account in a snapshot at *m + 1* that was not on the books at *m* enters from the
  ``new`` row (a newly originated loan, or one re-entering after an exit);
* ``paid_off``, ``settled`` and ``closed`` are exits: such a row is counted once, in
  the month it first appears, and the account's later rows with an exit status (if
  the table repeats them) are ignored.

So, for every pair of months, the from-counts equal the snapshot rows at *m* that are
on the books, and the to-counts of the matrix (``new`` row included) equal the
snapshot rows at *m + 1* plus the accounts that vanished (``other_exit`` by absence).
Balances weight each account by its balance at the start month *m*; ``new`` rows are
weighted by their balance at *m + 1* (they had none at *m*).

Examples
--------
>>> import pandas as pd
>>> from recovery.analytics.roll_rates import roll_rate_matrix
>>> snaps = pd.DataFrame({
...     "account_id": ["A", "B", "A", "B"],
...     "month_end": pd.to_datetime(["2024-01-31"] * 2 + ["2024-02-29"] * 2),
...     "dpd": [0, 10, 31, 0], "bucket": ["M0", "M1", "M2", "M0"],
...     "balance": [100.0, 50.0, 90.0, 45.0], "amount_overdue": [0.0, 5.0, 10.0, 0.0],
...     "paid_in_month": [10.0, 0.0, 0.0, 10.0], "status": ["open"] * 4})
>>> m = roll_rate_matrix(snaps)
>>> float(m.loc["M0", "M2"]), float(m.loc["M1", "M0"])
(1.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.engine.dask_analytics import is_dask_frame
from recovery.errors import DataError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "EXIT_STATES",
    "TERMINAL_STATES",
    "state_order",
    "snapshot_states",
    "transitions",
    "roll_rates",
    "roll_rate_matrix",
    "roll_rate_trends",
    "flow_rates",
    "wilson_interval",
    "plot_roll_rate_matrix",
    "plot_roll_rate_trends",
    "plot_flow_rates",
]

#: States an account leaves the books through (counted once, then gone).
EXIT_STATES: tuple[str, ...] = ("paid_off", "settled", "other_exit")
#: Non-bucket states, in report order.
TERMINAL_STATES: tuple[str, ...] = ("charged_off", "paid_off", "settled", "other_exit")
NEW_STATE = "new"

_REQUIRED = ("account_id", "month_end", "dpd", "bucket", "balance", "status")
_PREPARED = "recovery.snapshot_states"
_STATE_COLUMNS = {"state", "first_exit", "month_no", "period"}

SegmentArg = str | Sequence[str] | None


def state_order(config: Config | None = None) -> list[str]:
    """All states in report order: buckets (best to worst), then the terminal states.

    Examples
    --------
    >>> state_order()[-5:]
    ['M7+', 'charged_off', 'paid_off', 'settled', 'other_exit']
    """
    config = config or Config()
    return config.aging.bucket_labels() + list(TERMINAL_STATES)


def _segment_list(segment: SegmentArg) -> list[str]:
    if segment is None:
        return []
    if isinstance(segment, str):
        return [segment]
    return list(segment)


def snapshot_states(
    snapshots: pd.DataFrame,
    config: Config | None = None,
    segment: SegmentArg = None,
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Snapshot rows with their roll-rate state, one row per account × month end.

    Parameters
    ----------
    snapshots : DataFrame
        The ``snapshots`` table (account_id, month_end, dpd, bucket, balance,
        amount_overdue, paid_in_month, status; extra columns are kept).
    config : Config, optional
        Bucket labels come from ``config.aging``; a missing bucket on an open row is
        derived from its DPD (days).
    segment : str or list of str, optional
        Segment columns to carry. A column missing from ``snapshots`` is joined from
        ``accounts`` on ``account_id``; ``"vintage"`` (origination month, ``YYYY-MM``)
        is derived from ``origination_date`` when no such column exists, or else is
        the account's first month end in the table.
    accounts : DataFrame, optional
        The ``accounts`` table, for segment columns.

    Returns
    -------
    DataFrame
        The rows sorted by account and month, with ``month_end`` normalized,
        ``period`` (monthly :class:`pandas.Period`), ``month_no``
        (``year * 12 + month - 1``), ``state`` and
        ``first_exit`` (``False`` for repeated exit rows, which analyses drop), plus
        ``amount_overdue`` / ``paid_in_month`` (0 when absent) and the segment columns.

    Notes
    -----
    The result is marked (``DataFrame.attrs``) so that passing it again, with the same
    buckets and segments, to any function of this module, :mod:`recovery.analytics.kpis` or
    :mod:`recovery.analytics.vintages` skips the preparation. Do not edit it in place.

    Raises
    ------
    DataError
        When a required column is missing, a month end is duplicated for an account,
        or a bucket label is not one of ``config.aging.bucket_names``.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"account_id": ["A", "A"],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29"]), "dpd": [0, 0],
    ...     "bucket": [None, None], "balance": [0.0, 0.0],
    ...     "status": ["paid_off", "paid_off"]})
    >>> snapshot_states(s)[["state", "first_exit"]].values.tolist()
    [['paid_off', True], ['paid_off', False]]
    """
    config = config or Config()
    if snapshots is None or not isinstance(snapshots, pd.DataFrame):
        raise DataError("snapshots must be a DataFrame (the 'snapshots' table)")
    segments = _segment_list(segment)
    prepared = (tuple(config.aging.bucket_labels()), tuple(segments))
    if snapshots.attrs.get(_PREPARED) == prepared and _STATE_COLUMNS <= set(snapshots.columns):
        return snapshots  # already the output of this function (same buckets, segments)
    missing = [c for c in _REQUIRED if c not in snapshots.columns]
    if missing:
        raise DataError(
            f"table 'snapshots' lacks column(s) {missing}; it needs {list(_REQUIRED)} "
            "(see recovery.data.schema.TABLES['snapshots'])"
        )
    s = snapshots.copy()
    s["account_id"] = s["account_id"].astype(str)
    s["month_end"] = pd.to_datetime(s["month_end"]).dt.normalize()
    for col in ("amount_overdue", "paid_in_month"):
        s[col] = s[col].astype(float).fillna(0.0) if col in s else 0.0
    s["balance"] = s["balance"].astype(float).fillna(0.0)
    s["dpd"] = pd.to_numeric(s["dpd"]).fillna(0).astype(int)
    dup = s.duplicated(["account_id", "month_end"])
    if dup.any():
        ex = s.loc[dup, ["account_id", "month_end"]].head(3).to_dict("records")
        raise DataError(
            f"table 'snapshots' has {int(dup.sum())} duplicated (account_id, month_end) "
            f"row(s), e.g. {ex}; keep one row per account and month end"
        )
    status = s["status"].astype(str)
    labels = config.aging.bucket_labels()
    is_open = status.eq("open")
    bucket = s["bucket"].astype(object).where(s["bucket"].notna(), None)
    need = is_open & bucket.isna()
    if need.any():
        bucket = bucket.copy()
        bucket[need] = config.aging.bucket_of(s.loc[need, "dpd"].to_numpy())
    unknown = sorted(set(pd.unique(bucket[is_open].astype(str))) - set(labels))
    if unknown:
        raise DataError(
            f"table 'snapshots', column 'bucket': label(s) {unknown} are not in "
            f"config aging.bucket_names {labels}; rename them or set the config"
        )
    known_status = {"open", "paid_off", "charged_off", "settled", "closed"}
    bad = sorted(set(pd.unique(status)) - known_status)
    if bad:
        raise DataError(
            f"table 'snapshots', column 'status': unknown value(s) {bad}; "
            f"allowed {sorted(known_status)}"
        )
    s["state"] = np.where(is_open, bucket, status.replace({"closed": "other_exit"}))
    s["period"] = s["month_end"].dt.to_period("M")
    s["month_no"] = (s["month_end"].dt.year * 12 + s["month_end"].dt.month - 1).astype(np.int64)
    s["month_end"] = _month_end(s["month_no"].to_numpy())
    s = s.sort_values(["account_id", "month_end"], kind="mergesort").reset_index(drop=True)
    is_exit = s["state"].isin(EXIT_STATES)
    prev_exit = is_exit.groupby(s["account_id"], sort=False).shift(1, fill_value=False)
    s["first_exit"] = ~(is_exit & prev_exit.astype(bool))
    s = _add_segments(s, segments, accounts)
    s.attrs[_PREPARED] = prepared
    return s


def _month_end(month_no: np.ndarray) -> pd.DatetimeIndex:
    """Month end of each month number (``year * 12 + month - 1``), vectorised."""
    month_no = np.asarray(month_no, dtype=np.int64)
    first_of_next = (month_no + 1 - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")
    return pd.DatetimeIndex((first_of_next - np.timedelta64(1, "D")).astype("datetime64[ns]"))


def _add_segments(s: pd.DataFrame, segments: list[str], accounts: pd.DataFrame | None):
    for col in segments:
        if col in s.columns:
            continue
        if accounts is not None and col in accounts.columns:
            acc = accounts[["account_id", col]].copy()
            acc["account_id"] = acc["account_id"].astype(str)
            s = s.merge(acc.drop_duplicates("account_id"), on="account_id", how="left")
            continue
        if col == "vintage":
            orig = None
            if "origination_date" in s.columns:
                orig = pd.to_datetime(s["origination_date"])
            elif accounts is not None and "origination_date" in accounts.columns:
                acc = accounts[["account_id", "origination_date"]].copy()
                acc["account_id"] = acc["account_id"].astype(str)
                orig = pd.to_datetime(
                    s[["account_id"]].merge(acc, on="account_id", how="left")["origination_date"]
                ).set_axis(s.index)
            first_month = s.groupby("account_id", sort=False)["period"].transform("min")
            vintage = (
                orig.dt.to_period("M").fillna(first_month) if orig is not None else first_month
            )
            s["vintage"] = vintage.astype(str)
            continue
        raise DataError(
            f"segment column '{col}' is neither in the snapshots nor in the accounts table"
        )
    return s


def transitions(
    snapshots: pd.DataFrame,
    config: Config | None = None,
    segment: SegmentArg = None,
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per account and pair of consecutive month ends: where it went.

    Parameters
    ----------
    snapshots : DataFrame
        The ``snapshots`` table.
    config : Config, optional
        Bucket labels.
    segment : str or list of str, optional
        Segment columns (see :func:`snapshot_states`); the value at the start month
        (at *m + 1* for ``new`` rows).
    accounts : DataFrame, optional
        For segment columns not in ``snapshots``.

    Returns
    -------
    DataFrame
        ``account_id, month_end`` (start month *m*), ``next_month_end``,
        ``from_state`` (a bucket, ``charged_off`` or ``new``), ``to_state``,
        ``balance`` (currency, at *m*; at *m + 1* for ``new``), ``amount_overdue``
        (at *m*, currency), ``next_balance`` and ``next_paid_in_month`` (at *m + 1*,
        0 when the account is absent), and the segment columns. Only pairs of
        calendar-consecutive month ends both present in the table are used.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"account_id": ["A", "A", "B"],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-02-29"]),
    ...     "dpd": [0, 0, 0], "bucket": ["M0", None, "M0"], "balance": [10.0, 0.0, 5.0],
    ...     "status": ["open", "paid_off", "open"]})
    >>> transitions(s)[["account_id", "from_state", "to_state"]].values.tolist()
    [['A', 'M0', 'paid_off'], ['B', 'new', 'M0']]
    """
    segments = _segment_list(segment)
    return _transitions_of(snapshot_states(snapshots, config, segments, accounts), segments)


def _transitions_of(
    s: pd.DataFrame, segments: list[str], months: np.ndarray | None = None
) -> pd.DataFrame:
    """:func:`transitions` of prepared rows; ``months``: the month numbers the table
    covers (default those of ``s``; a partition of a larger table passes the whole's)."""
    s = s[s["first_exit"]]
    have = np.unique(s["month_no"].to_numpy()) if months is None else np.asarray(months)
    starts = have[np.isin(have + 1, have)]
    cols = ["account_id", "month_no", "state", "balance", "amount_overdue"]
    on_books = s[~s["state"].isin(EXIT_STATES) & s["month_no"].isin(starts)]
    frm = on_books[cols + segments].rename(columns={"state": "from_state"})
    nxt = s.loc[
        s["month_no"].isin(starts + 1),
        ["account_id", "month_no", "state", "balance", "paid_in_month", *segments],
    ].rename(
        columns={
            "state": "to_state",
            "balance": "next_balance",
            "paid_in_month": "next_paid_in_month",
            **{c: f"{c}__next" for c in segments},
        }
    )
    nxt["month_no"] = nxt["month_no"] - 1
    out = frm.merge(nxt, on=["account_id", "month_no"], how="outer", indicator=True)
    entering = (out["_merge"] == "right_only").to_numpy()
    out["from_state"] = out["from_state"].where(~entering, NEW_STATE)
    out["to_state"] = out["to_state"].fillna("other_exit")  # on the books, then absent
    out[["next_balance", "next_paid_in_month"]] = out[
        ["next_balance", "next_paid_in_month"]
    ].fillna(0.0)
    # entries are weighted by their balance at m + 1 and have nothing overdue at m
    out["balance"] = out["balance"].where(~entering, out["next_balance"])
    out["amount_overdue"] = out["amount_overdue"].fillna(0.0)
    for c in segments:
        out[c] = out[c].where(~entering, out[f"{c}__next"])
    month_no = out["month_no"].to_numpy()
    out["month_end"] = _month_end(month_no)
    out["next_month_end"] = _month_end(month_no + 1)
    out = out.sort_values(["month_end", "account_id"], kind="mergesort").reset_index(drop=True)
    order = [
        "account_id",
        "month_end",
        "next_month_end",
        *segments,
        "from_state",
        "to_state",
        "balance",
        "amount_overdue",
        "next_balance",
        "next_paid_in_month",
    ]
    return out[order]


def roll_rates(
    snapshots: pd.DataFrame,
    config: Config | None = None,
    segment: SegmentArg = None,
    accounts: pd.DataFrame | None = None,
    confidence: float | None = None,
) -> pd.DataFrame:
    """Monthly roll rates in long form: one row per start month × from × to state.

    Parameters
    ----------
    snapshots : DataFrame
        The ``snapshots`` table.
    config : Config, optional
        Bucket labels.
    segment : str or list of str, optional
        Segment columns (product, region, ``vintage``, …).
    accounts : DataFrame, optional
        For segment columns not in ``snapshots``.
    confidence : float, optional
        Adds ``count_rate_low`` / ``count_rate_high``, a Wilson score interval at
        this level (e.g. 0.95) for each count rate — to tell a real difference
        between small segments from noise.

    Returns
    -------
    DataFrame
        ``month_end`` (start month *m*), segment columns, ``from_state``,
        ``to_state``, ``count`` (accounts), ``balance`` (currency at *m*),
        ``count_rate`` and ``balance_rate`` (shares of the from-state's total in
        that month and segment; each from-row sums to 1).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"account_id": ["A", "B", "A", "B"],
    ...     "month_end": pd.to_datetime(["2024-01-31"] * 2 + ["2024-02-29"] * 2),
    ...     "dpd": [5, 5, 0, 35], "bucket": ["M1", "M1", "M0", "M2"],
    ...     "balance": [30.0, 10.0, 25.0, 10.0], "status": ["open"] * 4})
    >>> r = roll_rates(s)
    >>> r[["to_state", "count_rate", "balance_rate"]].values.tolist()
    [['M0', 0.5, 0.75], ['M2', 0.5, 0.25]]
    """
    segments = _segment_list(segment)
    keys = ["month_end", *segments]
    if is_dask_frame(snapshots):  # partial sums per partition (recovery.engine.dask_analytics)
        from recovery.engine.dask_analytics import flow_totals

        totals = flow_totals(snapshots, config, segments, accounts)
    else:
        totals = _flow_totals(transitions(snapshots, config, segments, accounts), keys)
    out = _flow_rates(totals, keys, config)
    if confidence is not None:
        n = out.groupby(["month_end", *segments, "from_state"], dropna=False, observed=True)[
            "count"
        ].transform("sum")
        low, high = wilson_interval(out["count"].to_numpy(), n.to_numpy(), confidence)
        out["count_rate_low"], out["count_rate_high"] = low, high
    return out


def wilson_interval(
    successes: np.ndarray, trials: np.ndarray, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion (vectorised).

    Parameters
    ----------
    successes, trials : array of int
        Counts; NaN bounds where ``trials`` is 0.
    confidence : float
        Two-sided level, in (0, 1).

    Returns
    -------
    (low, high) : tuple of arrays

    Examples
    --------
    >>> low, high = wilson_interval(np.array([5]), np.array([10]))
    >>> round(float(low[0]), 3), round(float(high[0]), 3)
    (0.237, 0.763)
    """
    from scipy.stats import norm

    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    z = norm.ppf(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
    high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return low, high


def _flow_totals(t: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Accounts and balance (currency) moving from each state to each state: additive."""
    return (
        t.groupby([*keys, "from_state", "to_state"], dropna=False, observed=True)
        .agg(count=("account_id", "size"), balance=("balance", "sum"))
        .reset_index()
    )


def _flow_rates(g: pd.DataFrame, keys: list[str], config: Config | None) -> pd.DataFrame:
    """Count and balance rates of :func:`_flow_totals` (each from-row sums to 1)."""
    tot = g.groupby([*keys, "from_state"], dropna=False, observed=True)[
        ["count", "balance"]
    ].transform("sum")
    g["count_rate"] = g["count"] / tot["count"]
    g["balance_rate"] = (g["balance"] / tot["balance"]).where(tot["balance"] > 0)
    return _sort_states(g, keys, config)


def _sort_states(df: pd.DataFrame, keys: list[str], config: Config | None) -> pd.DataFrame:
    order = state_order(config)
    rank = {s: i for i, s in enumerate([*order, NEW_STATE])}
    df = df.assign(
        _f=df["from_state"].map(rank), _t=df["to_state"].map(rank) if "to_state" in df else 0
    )
    df = df.sort_values([*keys, "_f", "_t"], kind="mergesort")
    return df.drop(columns=["_f", "_t"]).reset_index(drop=True)


def roll_rate_matrix(
    snapshots: pd.DataFrame,
    month: str | pd.Timestamp | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    weight: Literal["count", "balance"] = "count",
    average: Literal["pooled", "mean"] = "pooled",
    normalize: bool = True,
    config: Config | None = None,
    segment: SegmentArg = None,
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Roll-rate matrix (from state × to state) for one month, a range, or all months.

    Parameters
    ----------
    snapshots : DataFrame
        The ``snapshots`` table.
    month : date-like, optional
        One start month end *m* (the matrix of *m* → *m + 1*). Overrides start/end.
    start, end : date-like, optional
        Range of start months (inclusive); default all.
    weight : {"count", "balance"}
        Accounts, or balance (currency) at the start month.
    average : {"pooled", "mean"}
        ``pooled`` sums flows over the months, which weights each month by its
        from-state count or balance; ``mean`` is the simple mean of the monthly
        matrices (each month counts equally; a from-row averages the months in which
        it was populated).
    normalize : bool
        Rates (rows sum to 1) when true; summed counts or balances when false
        (``mean`` then gives the mean monthly count or balance).
    config : Config, optional
        Bucket labels.
    segment : str or list of str, optional
        Segment columns; rows are then indexed by (segment…, from_state).
    accounts : DataFrame, optional
        For segment columns not in ``snapshots``.

    Returns
    -------
    DataFrame
        Rows: from states present (buckets, ``charged_off``, ``new``); columns: every
        to state (buckets, ``charged_off``, ``paid_off``, ``settled``,
        ``other_exit``).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"account_id": ["A", "B", "A", "B"],
    ...     "month_end": pd.to_datetime(["2024-01-31"] * 2 + ["2024-02-29"] * 2),
    ...     "dpd": [5, 5, 0, 35], "bucket": ["M1", "M1", "M0", "M2"],
    ...     "balance": [30.0, 10.0, 25.0, 10.0], "status": ["open"] * 4})
    >>> roll_rate_matrix(s, weight="balance").loc["M1", ["M0", "M2"]].tolist()
    [0.75, 0.25]
    """
    if weight not in ("count", "balance"):
        raise ValueError("weight must be 'count' or 'balance'")
    if average not in ("pooled", "mean"):
        raise ValueError("average must be 'pooled' or 'mean'")
    segments = _segment_list(segment)
    if is_dask_frame(snapshots):  # partial sums per partition (recovery.engine.dask_analytics)
        from recovery.engine.dask_analytics import flow_totals

        t = flow_totals(snapshots, config, segments, accounts)
    else:  # one row per month × segments × from × to state: accounts and balance
        t = _flow_totals(
            transitions(snapshots, config, segments, accounts), ["month_end", *segments]
        )
    if month is not None:
        m = pd.Timestamp(month).to_period("M")
        t = t[t["month_end"].dt.to_period("M") == m]
    else:
        if start is not None:
            t = t[t["month_end"].dt.to_period("M") >= pd.Timestamp(start).to_period("M")]
        if end is not None:
            t = t[t["month_end"].dt.to_period("M") <= pd.Timestamp(end).to_period("M")]
    if t.empty:
        raise DataError(
            "no month-to-month transitions in the requested months; the snapshots need "
            "two consecutive month ends"
        )
    rows = [*segments, "from_state"]
    cells = t.groupby(["month_end", *rows, "to_state"], dropna=False)[weight].sum()
    monthly = cells.unstack("to_state", fill_value=0.0).astype(float)
    if normalize:
        if average == "pooled":
            summed = monthly.groupby(level=rows, dropna=False).sum()
            out = summed.div(summed.sum(axis=1).where(lambda x: x > 0), axis=0)
        else:
            tot = monthly.sum(axis=1)
            rates = monthly.div(tot.where(tot > 0), axis=0).dropna(how="all")
            out = rates.groupby(level=rows, dropna=False).mean()
    else:
        grouped = monthly.groupby(level=rows, dropna=False)
        out = grouped.sum() if average == "pooled" else grouped.mean()
    out = out.reindex(columns=state_order(config), fill_value=0.0)
    order = [*state_order(config), NEW_STATE]
    rank = {s: i for i, s in enumerate(order)}
    idx = out.index.to_frame(index=False)
    idx["_r"] = idx["from_state"].map(rank)
    pos = idx.sort_values([*segments, "_r"], kind="mergesort").index
    out = out.iloc[pos]
    out.columns.name = "to_state"
    return out


_DIRECTIONS = ("roll_forward", "stay", "roll_back", "cure", "paid_off", "settled", "other_exit")


def roll_rate_trends(
    snapshots: pd.DataFrame,
    weight: Literal["count", "balance"] = "count",
    config: Config | None = None,
    segment: SegmentArg = None,
    accounts: pd.DataFrame | None = None,
    window: int = 1,
) -> pd.DataFrame:
    """Roll-forward, stay, roll-back and cure rates per from state and month.

    For a bucket *i* at *m*: **roll_forward** = to any worse bucket or to
    ``charged_off`` (buckets can skip: 30 → 60 → 91 DPD is M1 → M2 → M4);
    **stay** = same bucket; **cure** = to M0 (the first bucket; NaN from M0, where
    staying current is ``stay``); **roll_back** = to a better bucket other than M0;
    ``paid_off``, ``settled``, ``other_exit`` as in the matrix. From ``charged_off``:
    stay = still charged off, roll_back = back in a bucket (a reinstatement);
    roll_forward and cure are NaN. The rates (NaN as 0) sum to 1.
    A cure seen in snapshots alone is a return to M0 at month end; a re-age cannot
    be told apart from a payment cure without the event tables.

    Parameters
    ----------
    snapshots : DataFrame
        The ``snapshots`` table.
    weight : {"count", "balance"}
        Accounts, or balance (currency) at the start month.
    config : Config, optional
        Bucket labels.
    segment : str or list of str, optional
        Segment columns.
    accounts : DataFrame, optional
        For segment columns not in ``snapshots``.
    window : int
        Months pooled: each row sums the flows of the ``window`` start months up to
        its own (the first rows pool fewer); 1 = monthly.

    Returns
    -------
    DataFrame
        ``month_end`` (start month), segment columns, ``from_state``, ``n``
        (accounts) or balance total (``weight`` column), then one column per rate.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"account_id": ["A", "B", "A", "B"],
    ...     "month_end": pd.to_datetime(["2024-01-31"] * 2 + ["2024-02-29"] * 2),
    ...     "dpd": [5, 5, 0, 35], "bucket": ["M1", "M1", "M0", "M2"],
    ...     "balance": [30.0, 10.0, 25.0, 10.0], "status": ["open"] * 4})
    >>> roll_rate_trends(s)[["from_state", "roll_forward", "cure"]].values.tolist()
    [['M1', 0.5, 0.5]]
    """
    if weight not in ("count", "balance"):
        raise ValueError("weight must be 'count' or 'balance'")
    if window < 1:
        raise ValueError("window must be a positive number of months")
    config = config or Config()
    segments = _segment_list(segment)
    t = transitions(snapshots, config, segments, accounts)
    t = t[t["from_state"] != NEW_STATE]
    labels = config.aging.bucket_labels()
    rank = {b: i for i, b in enumerate(labels)}
    rank["charged_off"] = len(labels)
    fr = t["from_state"].map(rank).to_numpy(dtype=float)
    to = t["to_state"].map(rank).to_numpy(dtype=float)  # NaN for exits
    from_co = t["from_state"].eq("charged_off").to_numpy()
    to_state = t["to_state"].to_numpy()
    direction = np.select(
        [
            to_state == "paid_off",
            to_state == "settled",
            to_state == "other_exit",
            to == fr,
            (to > fr) & ~from_co,
            (to == 0) & (fr > 0) & ~from_co,
            (to < fr),
        ],
        ["paid_off", "settled", "other_exit", "stay", "roll_forward", "cure", "roll_back"],
        default="roll_back",
    )
    w = np.ones(len(t)) if weight == "count" else t["balance"].to_numpy(dtype=float)
    frame = t[["month_end", *segments, "from_state"]].assign(direction=direction, w=w)
    keys = ["month_end", *segments, "from_state"]
    table = frame.pivot_table(
        index=keys, columns="direction", values="w", aggfunc="sum", fill_value=0.0, dropna=False
    )
    table = _pool_months(table.reindex(columns=list(_DIRECTIONS), fill_value=0.0), window)
    total = table.sum(axis=1)
    rates = table.div(total.where(total > 0), axis=0)
    rates.columns.name = None
    rates.insert(0, "n" if weight == "count" else "balance", total)
    rates = rates.reset_index()
    rates = rates[rates.iloc[:, len(keys)] > 0]
    is_m0 = rates["from_state"].eq(labels[0])
    is_co = rates["from_state"].eq("charged_off")
    rates.loc[is_m0, "cure"] = np.nan
    rates.loc[is_co, ["cure", "roll_forward"]] = np.nan
    return _sort_states(rates, ["month_end", *segments], config)


def _pool_months(table: pd.DataFrame, window: int) -> pd.DataFrame:
    """Sum each row with the rows of the ``window - 1`` month ends before it.

    ``table`` is indexed by ``month_end`` and other keys; months missing from the
    table count as zero. Returns the same index.
    """
    if window < 1:
        raise ValueError("window must be a positive number of months")
    if window == 1 or table.empty:
        return table
    others = [n for n in table.index.names if n != "month_end"]
    wide = table.unstack(others, fill_value=0.0)
    months = pd.date_range(wide.index.min(), wide.index.max(), freq="ME")
    wide = wide.reindex(months, fill_value=0.0).rolling(window, min_periods=1).sum()
    wide.index.name = "month_end"
    long = wide.stack(others, future_stack=True)
    return long.reorder_levels(table.index.names).reindex(table.index).fillna(0.0)


def flow_rates(
    snapshots: pd.DataFrame,
    weight: Literal["count", "balance"] = "balance",
    config: Config | None = None,
    segment: SegmentArg = None,
    accounts: pd.DataFrame | None = None,
    window: int = 1,
) -> pd.DataFrame:
    """Net flow rates: amount in bucket *i + 1* at *m + 1* / amount in *i* at *m*.

    A pool-level ratio (DESIGN.md §3): it does not follow accounts, so cures and
    bucket skips of other accounts enter it; it is the classic delinquency flow used
    to project losses. The last step is into charge-off: the balance newly charged off
    during *m + 1* divided by the balance in the bucket that holds
    ``config.aging.charge_off_dpd`` at *m*. Chaining the rates from M0 gives the
    share of current balance that flows to charge-off.

    Parameters
    ----------
    snapshots : DataFrame
        The ``snapshots`` table.
    weight : {"balance", "count"}
        Balance (currency) or accounts.
    config : Config, optional
        Bucket labels and the charge-off threshold (days).
    segment : str or list of str, optional
        Segment columns (value at each row's own month).
    accounts : DataFrame, optional
        For segment columns not in ``snapshots``.
    window : int
        Months pooled: amounts summed over the ``window`` start months up to each
        row before dividing; 1 = monthly.

    Returns
    -------
    DataFrame
        ``month_end`` (start month *m*), segment columns, ``from_bucket``,
        ``to_bucket``, ``from_amount`` (at *m*), ``to_amount`` (at *m + 1*),
        ``flow_rate`` (NaN when ``from_amount`` is 0).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"account_id": ["A", "B", "A", "B"],
    ...     "month_end": pd.to_datetime(["2024-01-31"] * 2 + ["2024-02-29"] * 2),
    ...     "dpd": [0, 5, 20, 0], "bucket": ["M0", "M1", "M1", "M0"],
    ...     "balance": [100.0, 50.0, 95.0, 45.0], "status": ["open"] * 4})
    >>> f = flow_rates(s)
    >>> float(f.loc[f.from_bucket == "M0", "flow_rate"].iloc[0])
    0.95
    """
    if weight not in ("count", "balance"):
        raise ValueError("weight must be 'count' or 'balance'")
    if window < 1:
        raise ValueError("window must be a positive number of months")
    config = config or Config()
    segments = _segment_list(segment)
    s = snapshot_states(snapshots, config, segments, accounts)
    s = s[s["first_exit"]].copy()
    labels = config.aging.bucket_labels()
    co_bucket = labels[int(config.aging.bucket_index(config.aging.charge_off_dpd))]
    prev_co = (
        s["state"]
        .eq("charged_off")
        .groupby(s["account_id"], sort=False)
        .shift(1, fill_value=False)
        .astype(bool)
    )
    month_no = s["period"].dt.year * 12 + s["period"].dt.month
    prev_consecutive = s["account_id"].eq(s["account_id"].shift(1)) & month_no.diff().eq(1)
    s["flow_state"] = s["state"].where(
        ~(s["state"].eq("charged_off") & prev_co & prev_consecutive), "charged_off_before"
    )
    s["w"] = 1.0 if weight == "count" else s["balance"]
    amounts = s.groupby(["period", *segments, "flow_state"], dropna=False)["w"].sum()
    pairs = list(zip(labels[:-1], labels[1:], strict=True))
    if co_bucket in labels:
        pairs = [p for p in pairs if labels.index(p[0]) < labels.index(co_bucket)]
        pairs.append((co_bucket, "charged_off"))
    periods = pd.PeriodIndex(s["period"].unique()).sort_values()
    have = set(periods)
    starts = [p for p in periods if (p + 1) in have]
    columns = ["month_end", *segments, "from_bucket", "to_bucket", "from_amount", "to_amount"]
    if not starts:  # fewer than two consecutive month ends: no flows
        return pd.DataFrame(columns=[*columns, "flow_rate"])
    amt = amounts.rename("amount").reset_index()
    pair_df = pd.DataFrame(pairs, columns=["from_bucket", "to_bucket"])
    if segments:
        seg_vals = amt[segments].drop_duplicates()
        grid = pd.DataFrame({"period": starts}).merge(seg_vals, how="cross")
    else:
        grid = pd.DataFrame({"period": starts})
    grid = grid.merge(pair_df, how="cross")
    frm = amt.rename(columns={"flow_state": "from_bucket", "amount": "from_amount"})
    to = amt.rename(columns={"flow_state": "to_bucket", "amount": "to_amount"})
    to = to.assign(period=to["period"] - 1)
    out = grid.merge(frm, on=["period", *segments, "from_bucket"], how="left").merge(
        to, on=["period", *segments, "to_bucket"], how="left"
    )
    out[["from_amount", "to_amount"]] = out[["from_amount", "to_amount"]].fillna(0.0)
    if window > 1:
        keys = ["period", *segments, "from_bucket", "to_bucket"]
        out["period"] = out["period"].dt.to_timestamp(how="end").dt.normalize()
        pooled = _pool_months(
            out.rename(columns={"period": "month_end"}).set_index(["month_end", *keys[1:]])[
                ["from_amount", "to_amount"]
            ],
            window,
        )
        out[["from_amount", "to_amount"]] = pooled.to_numpy()
        out["period"] = out["period"].dt.to_period("M")
    out["flow_rate"] = (out["to_amount"] / out["from_amount"]).where(out["from_amount"] > 0)
    out.insert(0, "month_end", out.pop("period").dt.to_timestamp(how="end").dt.normalize())
    rank = {b: i for i, b in enumerate(labels)}
    out["_r"] = out["from_bucket"].map(rank)
    out = out.sort_values(["month_end", *segments, "_r"], kind="mergesort")
    return out.drop(columns="_r").reset_index(drop=True)


# ----------------------------------------------------------------------------- plots


def plot_roll_rate_matrix(
    matrix: pd.DataFrame, ax: Axes | None = None, title: str | None = None
) -> Axes:
    """Heatmap of a roll-rate matrix (from :func:`roll_rate_matrix`).

    Parameters
    ----------
    matrix : DataFrame
        Rates, from states as rows and to states as columns (one segment).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame([[0.9, 0.1], [0.5, 0.5]], index=["M0", "M1"],
    ...                  columns=["M0", "M1"])
    >>> plot_roll_rate_matrix(m).get_title()
    'Roll rates'
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(
            figsize=(1.0 + 0.7 * matrix.shape[1], 1.0 + 0.5 * matrix.shape[0]), layout="constrained"
        )
    values = matrix.to_numpy(dtype=float)
    image = ax.imshow(np.nan_to_num(values), cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(matrix.shape[1]), [str(c) for c in matrix.columns], rotation=45)
    ax.set_yticks(range(matrix.shape[0]), [str(i) for i in matrix.index])
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v) and v > 0:
            ax.text(
                j, i, f"{v:.0%}" if v >= 0.01 else "<1%", ha="center", va="center",
                fontsize=7, color="white" if v > 0.6 else "black",
            )  # fmt: skip
    ax.set_xlabel("state at month end m + 1")
    ax.set_ylabel("state at month end m")
    ax.set_title(title or "Roll rates")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return ax


def plot_roll_rate_trends(
    trends: pd.DataFrame,
    rate: str = "roll_forward",
    states: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Lines of one rate (e.g. roll forward or cure) per from state over time.

    Parameters
    ----------
    trends : DataFrame
        Output of :func:`roll_rate_trends` (one segment).
    rate : str
        A rate column: ``roll_forward``, ``stay``, ``roll_back``, ``cure``, …
    states : sequence of str, optional
        From states to draw; default every state with a defined rate.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"month_end": pd.to_datetime(["2024-01-31", "2024-02-29"]),
    ...                   "from_state": ["M1", "M1"], "cure": [0.5, 0.4]})
    >>> plot_roll_rate_trends(t, rate="cure").get_ylabel()
    'cure rate'
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4), layout="constrained")
    data = trends[trends[rate].notna()]
    chosen = list(states) if states is not None else list(pd.unique(data["from_state"]))
    for state in chosen:
        part = data[data["from_state"] == state]
        ax.plot(part["month_end"], part[rate], marker=".", label=str(state))
    ax.set_ylabel(f"{rate.replace('_', ' ')} rate")
    ax.set_xlabel("month end m (rate of m → m + 1)")
    ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    if chosen:
        ax.legend(title="from", fontsize=7, ncol=2)
    ax.set_title(title or f"{rate.replace('_', ' ').capitalize()} rate by bucket")
    return ax


def plot_flow_rates(flows: pd.DataFrame, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Net flow rates per bucket pair over time (from :func:`flow_rates`).

    Parameters
    ----------
    flows : DataFrame
        Output of :func:`flow_rates` (one segment).
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"month_end": pd.to_datetime(["2024-01-31"]),
    ...     "from_bucket": ["M0"], "to_bucket": ["M1"], "flow_rate": [0.03]})
    >>> plot_flow_rates(f).get_title()
    'Net flow rates'
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4), layout="constrained")
    for (a, b), part in flows.groupby(["from_bucket", "to_bucket"], sort=False):
        ax.plot(part["month_end"], part["flow_rate"], marker=".", label=f"{a}→{b}")
    ax.set_yscale("log")
    ax.set_ylabel("flow rate (log scale)")
    ax.set_xlabel("month end m (flow m → m + 1)")
    ax.set_title(title or "Net flow rates")
    ax.legend(fontsize=7, ncol=2)
    return ax
