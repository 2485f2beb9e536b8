"""Roll-rate states of snapshot rows and the month-to-month transitions between them.

The state model that the roll rates, the KPIs, the vintage curves and the roll-rate
forecast share (DESIGN.md §3). Everything here is computed from a ``snapshots`` table
alone (one row per account × month end, :data:`recovery.data.schema.TABLES`
``['snapshots']``), so it applies to a lender that only has monthly performance data.

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
>>> s = pd.DataFrame({"account_id": ["A", "A"],
...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29"]), "dpd": [45, 0],
...     "bucket": ["M2", None], "balance": [90.0, 0.0], "status": ["open", "closed"]})
>>> snapshot_states(s)["state"].tolist()
['M2', 'other_exit']
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from recovery.analytics.common import SegmentArg, month_end, segment_list
from recovery.config import Config
from recovery.docstrings import fill_doc
from recovery.errors import DataError

__all__ = [
    "EXIT_STATES",
    "NEW_STATE",
    "TERMINAL_STATES",
    "snapshot_states",
    "sort_states",
    "state_order",
    "transitions",
]

#: States an account leaves the books through (counted once, then gone).
EXIT_STATES: tuple[str, ...] = ("paid_off", "settled", "other_exit")
#: Non-bucket states, in report order.
TERMINAL_STATES: tuple[str, ...] = ("charged_off", "paid_off", "settled", "other_exit")
#: The from state of an account that enters the books at *m + 1* (new or re-entering).
NEW_STATE = "new"

_REQUIRED = ("account_id", "month_end", "dpd", "bucket", "status")
_PREPARED = "recovery.snapshot_states"
_STATE_COLUMNS = {"state", "first_exit", "month_no", "period"}


def state_order(config: Config | None = None) -> list[str]:
    """All states in report order: buckets (best to worst), then the terminal states.

    Examples
    --------
    >>> state_order()[-5:]
    ['M7+', 'charged_off', 'paid_off', 'settled', 'other_exit']
    """
    config = config or Config()
    return config.aging.bucket_labels() + list(TERMINAL_STATES)


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
        The ``snapshots`` table (account_id, month_end, dpd, bucket, status; the
        amounts balance, amount_overdue and paid_in_month when the data has them;
        extra columns are kept).
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
        ``balance`` (the exposure: a credit balance reads 0), ``amount_overdue`` /
        ``paid_in_month`` (0 when absent) and the segment columns. A status-only table
        (no ``balance``) gets NaN amounts, never zeros.

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
    segments = segment_list(segment)
    prepared = (tuple(config.aging.bucket_labels()), tuple(segments))
    mark = snapshots.attrs.get(_PREPARED)  # lists once read back from Parquet
    mark = tuple(tuple(m) for m in mark) if isinstance(mark, (list, tuple)) else mark
    if mark == prepared and _STATE_COLUMNS <= set(snapshots.columns):
        return snapshots  # already the output of this function (same buckets, segments)
    if mark and mark[0] == prepared[0] and _STATE_COLUMNS <= set(snapshots.columns):
        # prepared with other segments: only the segment columns to add
        s = _add_segments(snapshots.copy(deep=False), segments, accounts)
        s.attrs[_PREPARED] = prepared
        return s
    missing = [c for c in _REQUIRED if c not in snapshots.columns]
    if missing:
        raise DataError(
            f"table 'snapshots' lacks column(s) {missing}; it needs {list(_REQUIRED)} "
            "(see recovery.data.schema.TABLES['snapshots'])"
        )
    s = snapshots.copy()
    s["account_id"] = s["account_id"].astype(str)
    s["month_end"] = pd.to_datetime(s["month_end"], cache=False).dt.normalize()
    # amounts: a credit balance is zero exposure; a status-only history has none (NaN,
    # never zero: what needs them says so, recovery.data.contract.require_columns)
    amounts = "balance" in s
    if amounts:
        s["balance"] = s["balance"].astype(float).fillna(0.0).clip(lower=0.0)
    else:
        s["balance"] = np.nan
    for col in ("amount_overdue", "paid_in_month"):
        fill = 0.0 if amounts else np.nan
        s[col] = s[col].astype(float).fillna(fill) if col in s else fill
    s["dpd"] = pd.to_numeric(s["dpd"]).fillna(0).astype(int)
    account, when = s["account_id"].to_numpy(), s["month_end"].to_numpy()
    same = account[1:] == account[:-1]
    # rows already by account and month (as aged): no duplicate, nothing to sort
    ordered = bool(((account[1:] > account[:-1]) | (same & (when[1:] > when[:-1]))).all())
    dup = pd.Series(False, index=s.index) if ordered else s.duplicated(["account_id", "month_end"])
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
    s["month_end"] = month_end(s["month_no"].to_numpy())
    if ordered:
        s = s.reset_index(drop=True)
    else:
        s = s.sort_values(["account_id", "month_end"], kind="mergesort").reset_index(drop=True)
        account = s["account_id"].to_numpy()
        same = account[1:] == account[:-1]
    is_exit = s["state"].isin(EXIT_STATES).to_numpy()
    prev_exit = np.r_[False, is_exit[:-1] & same]  # the account's row before was an exit
    s["first_exit"] = ~(is_exit & prev_exit)
    s = _add_segments(s, segments, accounts)
    s.attrs[_PREPARED] = prepared
    return s


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


@fill_doc
def transitions(
    snapshots: pd.DataFrame,
    config: Config | None = None,
    segment: SegmentArg = None,
    accounts: pd.DataFrame | None = None,
    months: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per account and pair of consecutive month ends: where it went.

    Parameters
    ----------
    {{snapshots_table}}
    {{config_buckets}}
    segment : str or list of str, optional
        Segment columns (see :func:`snapshot_states`); the value at the start month
        (at *m + 1* for ``new`` rows).
    {{accounts_for_segments}}
    months : array of int, optional
        Month numbers (``year * 12 + month - 1``) the table covers; default those of
        ``snapshots``. A partition of a larger table passes the whole table's, so that
        a month its accounts lack is still a month (its accounts on the books at *m*
        then left by *m + 1*).

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
    segments = segment_list(segment)
    s = snapshot_states(snapshots, config, segments, accounts)
    s = s[s["first_exit"]]
    have = np.unique(s["month_no"].to_numpy()) if months is None else np.asarray(months)
    starts = have[np.isin(have + 1, have)]
    if len(starts) and len(s) and all(s[c].dtype == object for c in segments):
        return _transitions_of_states(s, starts, segments)  # on integer keys (the same table)
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
    out["month_end"] = month_end(month_no)
    out["next_month_end"] = month_end(month_no + 1)
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


def _transitions_of_states(
    s: pd.DataFrame, starts: np.ndarray, segments: Sequence[str] = ()
) -> pd.DataFrame:
    """:func:`transitions` of prepared rows (``first_exit`` ones), text segments carried.

    The rows at *m* on the books are matched with the same account's row at *m + 1*
    on an integer key (account code, month) instead of a merge of text columns; the
    table is the merge's, row for row.
    """
    account = s["account_id"].to_numpy()
    codes, ids = pd.factorize(account, sort=True)  # codes in the order of the ids
    month_no = s["month_no"].to_numpy(dtype=np.int64)
    state = s["state"].to_numpy()
    base = int(month_no.min()) - 1
    span = int(month_no.max()) - base + 2
    key = codes.astype(np.int64) * span + (month_no - base)
    frm = np.flatnonzero(~np.isin(state, EXIT_STATES) & np.isin(month_no, starts))
    nxt = np.flatnonzero(np.isin(month_no, starts + 1))
    nxt = nxt[np.argsort(key[nxt], kind="stable")]
    nxt_key = key[nxt] - 1  # the start month's key of each row at m + 1 (unique, sorted)
    at = np.searchsorted(nxt_key, key[frm])
    at_ok = np.minimum(at, max(len(nxt) - 1, 0))
    matched = (at < len(nxt)) & (nxt_key[at_ok] == key[frm]) if len(nxt) else at < 0
    to_row = np.where(matched, nxt[at_ok] if len(nxt) else 0, -1)
    entering = nxt[~np.isin(nxt_key, key[frm])]  # at m + 1, not on the books at m
    # each output row: its row at m (-1: an entry) and at m + 1 (-1: gone), by month, id
    at_m = np.concatenate([frm, np.full(len(entering), -1)])
    at_next = np.concatenate([to_row, entering])
    row_code = np.concatenate([codes[frm], codes[entering]])
    row_month = np.concatenate([month_no[frm], month_no[entering] - 1])
    order = np.lexsort((row_code, row_month))
    at_m, at_next, row_code, row_month = (
        at_m[order],
        at_next[order],
        row_code[order],
        row_month[order],
    )
    entry, gone = at_m < 0, at_next < 0
    here, there = np.maximum(at_m, 0), np.maximum(at_next, 0)
    from_state, to_state = state[here], state[there]
    from_state[entry] = NEW_STATE
    to_state[gone] = "other_exit"  # on the books, then absent
    balance = s["balance"].to_numpy(dtype=float)
    next_balance = np.where(gone, 0.0, np.nan_to_num(balance, nan=0.0)[there])
    overdue = np.nan_to_num(s["amount_overdue"].to_numpy(dtype=float), nan=0.0)
    paid = np.nan_to_num(s["paid_in_month"].to_numpy(dtype=float), nan=0.0)
    return pd.DataFrame(
        {
            "account_id": np.asarray(ids, dtype=object)[row_code],
            "month_end": month_end(row_month),
            "next_month_end": month_end(row_month + 1),
            # segments: the value at m (at m + 1 for an entry)
            **{c: np.where(entry, s[c].to_numpy()[there], s[c].to_numpy()[here]) for c in segments},
            "from_state": from_state,
            "to_state": to_state,
            # entries are weighted by their balance at m + 1, nothing overdue at m
            "balance": np.where(entry, next_balance, balance[here]),
            "amount_overdue": np.where(entry, 0.0, overdue[here]),
            "next_balance": next_balance,
            "next_paid_in_month": np.where(gone, 0.0, paid[there]),
        }
    )


def sort_states(df: pd.DataFrame, keys: list[str], config: Config | None) -> pd.DataFrame:
    """Rows sorted by ``keys``, then from state and to state in report order.

    Parameters
    ----------
    df : DataFrame
        A table with the ``keys`` columns, ``from_state`` and optionally ``to_state``.
    keys : list of str
        Leading sort columns (e.g. ``month_end`` and the segments).
    config : Config, optional
        Bucket labels (:func:`state_order`; ``new`` comes last).

    Returns
    -------
    DataFrame
        The rows in that order, with a fresh index.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"from_state": ["new", "charged_off", "M1"], "n": [1, 2, 3]})
    >>> sort_states(df, [], None)["from_state"].tolist()
    ['M1', 'charged_off', 'new']
    """
    order = state_order(config)
    rank = {s: i for i, s in enumerate([*order, NEW_STATE])}
    df = df.assign(
        _f=df["from_state"].map(rank), _t=df["to_state"].map(rank) if "to_state" in df else 0
    )
    df = df.sort_values([*keys, "_f", "_t"], kind="mergesort")
    return df.drop(columns=["_f", "_t"]).reset_index(drop=True)
