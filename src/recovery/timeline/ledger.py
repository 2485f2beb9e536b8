"""The allocation ledger behind aging: installments, cash flows, oldest-first allocation.

The definitions are those of :mod:`recovery.timeline.aging` (DESIGN.md §3); this module
computes them. How (no Python loop over accounts or days): per account, the dates on
which anything can change — payments, reversals, schedule versions, events — cut time
into *segments*. Within a segment the amount paid towards the version in force is
constant, hence so is the oldest unpaid installment (a ``searchsorted`` of the amount
paid into the cumulative amount due), and DPD is ``t - due_date`` once past grace. The
charge-off day is the first segment day on which ``t - due_date`` reaches the threshold;
episodes are runs of delinquent segments. Any date is then answered by looking up its
segment (one ``searchsorted`` over sorted ``(account, day)`` keys). Money is handled in
integer hundredths of the currency unit so that allocation is exact.

The work is a function of one partition of accounts (:func:`partitions`): a
:class:`Ledger` (:func:`build_ledger`) holds the segments of a partition, ready to
answer any ``(account, day)``. Days here are :func:`ledger_days` (int64 days since
1900-01-01, :data:`NEVER` for a day that never comes).

Examples
--------
>>> schedule = pd.DataFrame({"account_id": ["A"] * 2, "installment_no": [1, 2],
...     "due_date": pd.to_datetime(["2024-02-01", "2024-03-01"]), "amount_due": 100.0})
>>> payments = pd.DataFrame({"account_id": ["A"], "amount": [150.0],
...     "payment_date": pd.to_datetime(["2024-02-10"])})
>>> [part] = partitions(Portfolio(schedule=schedule, payments=payments), None)
>>> ledger = build_ledger(part, Config())
>>> ledger_timestamps(ledger.seg_oldest_due).astype("datetime64[D]").tolist()
[datetime.date(2024, 2, 1), datetime.date(2024, 3, 1)]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.contract import product_kinds
from recovery.data.offers import acceptance_day, changes_schedule
from recovery.data.portfolio import Portfolio
from recovery.errors import DataError

__all__ = [
    "NEVER",
    "SPAN",
    "ledger_days",
    "ledger_timestamps",
    "shift_in_group",
    "days_past_due",
    "account_id_values",
    "id_codes",
    "factorize_ids",
    "Partition",
    "partitions",
    "Ledger",
    "build_ledger",
    "charge_off_thresholds",
]

# Days are int64 offsets from 1900-01-01 so that (account, day) packs into one sortable
# int64 key: account * SPAN + day.
_BASE = np.datetime64("1900-01-01", "D")
#: days in the key span: an (account, day) key is ``account * SPAN + day`` (~358 years)
SPAN = np.int64(1 << 17)
#: a day that never comes (a missing date; "not yet")
NEVER = np.int64(1 << 40)
_BASE_EPOCH_DAY = np.int64((_BASE - np.datetime64("1970-01-01", "D")).astype(np.int64))
_NANOS_PER_DAY = np.int64(86_400 * 10**9)
_NAT_INT = np.datetime64("NaT", "ns").view(np.int64)


# --------------------------------------------------------------------------- helpers


def ledger_days(values: Any) -> np.ndarray:
    """Dates → int64 days since 1900-01-01 (NaT → :data:`NEVER`), clipped to the key span.

    Parameters
    ----------
    values : array-like of dates

    Returns
    -------
    numpy.ndarray
        int64 days in ``[1, SPAN - 2]``, :data:`NEVER` where a date is missing.

    Examples
    --------
    >>> ledger_days(["1900-01-03", None]).tolist() == [2, NEVER]
    True
    """
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind == "M":  # already naive datetime64
        dates = np.asarray(values).astype("datetime64[D]")
    else:
        dates = pd.to_datetime(pd.Series(values)).to_numpy(dtype="datetime64[D]")
    missing = np.isnat(dates)
    days = (dates - _BASE).astype(np.int64)
    days = np.clip(days, 1, SPAN - 2)
    days[missing] = NEVER
    return days


def ledger_timestamps(days: np.ndarray) -> np.ndarray:
    """int64 day numbers → datetime64[ns] (:data:`NEVER` → NaT); inverse of :func:`ledger_days`.

    Parameters
    ----------
    days : numpy.ndarray

    Returns
    -------
    numpy.ndarray
        datetime64[ns].

    Examples
    --------
    >>> ledger_timestamps(ledger_days(["2024-02-29", None])).astype("datetime64[D]").tolist()
    [datetime.date(2024, 2, 29), None]
    """
    days = np.asarray(days, dtype=np.int64)
    nanos = (days + _BASE_EPOCH_DAY) * _NANOS_PER_DAY
    nanos[days >= NEVER] = _NAT_INT
    return nanos.view("datetime64[ns]")


def _cents(values: Any) -> np.ndarray:
    return np.rint(np.asarray(values, dtype=np.float64) * 100.0).astype(np.int64)


def _group_starts(group: np.ndarray) -> np.ndarray:
    """First index of each run of equal values in a sorted array."""
    if len(group) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, group[1:] != group[:-1]])


def _group_cumsum(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each run of ``group`` (sorted)."""
    total = np.cumsum(values)
    starts = _group_starts(group)
    before = np.r_[0, total][starts]  # sum of everything before each run
    lengths = np.diff(np.r_[starts, len(values)])
    return total - np.repeat(before, lengths)


def _group_running(values: np.ndarray, group: np.ndarray, ufunc: np.ufunc) -> np.ndarray:
    """Running minimum or maximum (``ufunc``) of non-negative ints restarting at each
    group (sorted): one accumulate over values shifted by group, so that no group's
    values reach into the next."""
    if len(values) == 0:
        return values.copy()
    step = int(values.max()) + 1
    rank = np.cumsum(np.r_[0, group[1:] != group[:-1]])
    if (int(rank[-1]) + 1) * float(step) >= 2**62:  # shifts would overflow: pandas
        grouped = pd.Series(values).groupby(group)
        return (grouped.cummin() if ufunc is np.minimum else grouped.cummax()).to_numpy()
    shift = rank * np.int64(step) * (1 if ufunc is np.maximum else -1)
    return ufunc.accumulate(values + shift) - shift


def shift_in_group(values: np.ndarray, group: np.ndarray, fill: Any) -> np.ndarray:
    """Previous element within the same run of ``group`` (``fill`` at a run start).

    Parameters
    ----------
    values : numpy.ndarray
    group : numpy.ndarray
        Group of each element (e.g. the account), sorted.
    fill : scalar
        Value at the first element of each group.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> shift_in_group(np.array([1, 2, 3, 4]), np.array([0, 0, 1, 1]), -1).tolist()
    [-1, 1, -1, 3]
    """
    out = np.empty_like(values)
    if len(values) == 0:
        return out
    out[1:] = values[:-1]
    out[0] = fill
    first = np.r_[True, group[1:] != group[:-1]]
    out[first] = fill
    return out


def _lookup_before(
    keys: np.ndarray, owner: np.ndarray, query_keys: np.ndarray, query_owner: np.ndarray
) -> np.ndarray:
    """Index of the last key ``<= query`` with the same owner, else -1."""
    idx = np.searchsorted(keys, query_keys, side="right") - 1
    ok = idx >= 0
    ok[ok] = owner[idx[ok]] == query_owner[ok]
    return np.where(ok, idx, -1)


def _sort_order(*keys: np.ndarray) -> np.ndarray:
    """Order sorting by several non-negative integer keys (first = most significant).

    Packs the keys into one int64 when they fit (much faster than ``np.lexsort``) and
    skips sorting altogether when the rows are already in order, as exports usually are.
    """
    keys = [np.asarray(k, dtype=np.int64) for k in keys]
    lows = [int(k.min(initial=0)) for k in keys]
    widths = [
        max(int(k.max(initial=0)) - low, 0).bit_length() for k, low in zip(keys, lows, strict=True)
    ]
    if sum(widths) > 62:
        return np.lexsort(keys[::-1])
    packed = np.zeros(len(keys[0]), dtype=np.int64)
    for k, low, width in zip(keys, lows, widths, strict=True):
        packed = (packed << width) | (k - low)
    if len(packed) < 2 or (packed[1:] >= packed[:-1]).all():
        return np.arange(len(packed))
    return np.argsort(packed, kind="stable")


# --------------------------------------------------------------------------- partitions


@dataclass
class Partition:
    """Some accounts' rows, with each row's account code (index into ``ids``, -1 unknown).

    Attributes
    ----------
    portfolio : Portfolio
        The rows of the accounts (``accounts``, ``schedule``, ``payments``, ``events``).
    ids : numpy.ndarray
        The account ids, sorted.
    codes : dict of str to numpy.ndarray
        Per table, the account code of each row.
    """

    portfolio: Portfolio
    ids: np.ndarray
    codes: dict[str, np.ndarray]


def account_id_values(ids: pd.Series) -> Any:
    """Account ids as hashable strings (kept as they are when already text).

    Parameters
    ----------
    ids : pandas.Series

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> account_id_values(pd.Series([7, 8])).tolist()
    ['7', '8']
    """
    if ids.dtype == object or isinstance(ids.dtype, pd.StringDtype):
        return ids.to_numpy()
    return ids.astype(str).to_numpy()


def _runs(values: np.ndarray) -> np.ndarray | None:
    """Start of each run of equal ids, when the ids come in runs (rows of one account
    together, as exports and partitions have them) long enough to be worth it."""
    if len(values) < 1024 or values.dtype != object:
        return None
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    return starts if len(starts) * 4 <= len(values) else None


def id_codes(index: pd.Index, ids: Any, *, as_text: bool = True) -> np.ndarray:
    """Positions in ``index`` of account ids (as text unless ``as_text`` is false), -1
    where absent.

    ``index.get_indexer`` of the ids; ids in runs (one account's rows together) are
    looked up once per run. Same numbers either way.

    Examples
    --------
    >>> id_codes(pd.Index(["A", "B"]), pd.Series(["B", "B", "C"])).tolist()
    [1, 1, -1]
    """
    values = ids.to_numpy() if isinstance(ids, pd.Series | pd.Index) else np.asarray(ids)

    def look_up(some: np.ndarray) -> np.ndarray:
        return index.get_indexer(pd.Series(some).astype(str) if as_text else some)

    starts = _runs(values)
    if starts is None:
        return look_up(values).astype(np.int64)
    heads = look_up(values[starts]).astype(np.int64)
    return np.repeat(heads, np.diff(np.r_[starts, len(values)]))


def factorize_ids(ids: Any) -> tuple[np.ndarray, np.ndarray]:
    """``pandas.factorize(account_id_values(ids), sort=True)``: codes and sorted ids
    (object), ids in runs hashed once per run. Same numbers either way.

    Examples
    --------
    >>> codes, uniques = factorize_ids(pd.Series(["B", "B", "A"]))
    >>> codes.tolist(), uniques.tolist()
    ([1, 1, 0], ['A', 'B'])
    """
    values = account_id_values(pd.Series(ids) if not isinstance(ids, pd.Series) else ids)
    values = np.asarray(values)
    starts = _runs(values)
    if starts is None:
        codes, uniques = pd.factorize(values, sort=True)
        return codes.astype(np.int64), np.asarray(uniques, dtype=object)
    codes, uniques = pd.factorize(values[starts], sort=True)
    lengths = np.diff(np.r_[starts, len(values)])
    return np.repeat(codes.astype(np.int64), lengths), np.asarray(uniques, dtype=object)


_ACCOUNT_TABLES = ("accounts", "schedule", "payments", "events", "offers")
_NEEDED_COLUMNS = {  # what aging reads from each table (account codes travel separately)
    "accounts": ("origination_date", "principal", "product", "product_kind"),
    "schedule": (
        "installment_no",
        "due_date",
        "amount_due",
        "principal_due",
        "schedule_version",
        "effective_from",
    ),
    "payments": ("payment_date", "amount", "reversed_date"),
    "events": ("date", "event"),
    "offers": ("offered_at", "outcome_date", "kind", "outcome", "installments"),
}


def partitions(portfolio: Portfolio, size: int | None) -> Iterable[Partition]:
    """Split a portfolio into partitions of at most ``size`` accounts.

    Accounts are those of the schedule, in sorted id order; ids are hashed once here and
    each partition carries its rows' account codes.

    Parameters
    ----------
    portfolio : Portfolio
        Needs ``schedule``.
    size : int, optional
        Accounts per partition; ``None``: one partition.

    Yields
    ------
    Partition
        Only the columns aging reads, when the book is split.

    Raises
    ------
    DataError
        Without a schedule.
    """
    schedule = portfolio.schedule
    if schedule is None or len(schedule) == 0:
        raise DataError("aging needs a 'schedule' table (installments with due dates)")
    if "account_id" not in schedule:
        raise DataError("table 'schedule' lacks column(s) ['account_id']")
    codes, ids = factorize_ids(schedule["account_id"])
    index = pd.Index(ids)
    all_codes = {}
    for name in _ACCOUNT_TABLES:
        df = getattr(portfolio, name)
        if df is None:
            continue
        if name == "schedule":
            all_codes[name] = codes
        else:
            all_codes[name] = id_codes(index, account_id_values(df["account_id"]), as_text=False)
    if size is None or len(ids) <= size:
        yield Partition(portfolio, ids, all_codes)
        return
    n_parts = -(-len(ids) // size)
    located = {}
    for name, code in all_codes.items():
        df = getattr(portfolio, name)
        columns = {c: df[c].array for c in _NEEDED_COLUMNS[name] if c in df.columns}
        part = np.where(code >= 0, code // size, n_parts)  # unknown accounts: dropped
        grouped = len(part) < 2 or bool((part[1:] >= part[:-1]).all())
        order = None if grouped else np.argsort(part, kind="stable")
        bounds = np.searchsorted(part if grouped else part[order], np.arange(n_parts + 1))
        located[name] = (df, columns, code, order, bounds)
    for p in range(n_parts):
        tables, codes_p = {}, {}
        for name, (_df, columns, code, order, bounds) in located.items():
            if order is None:  # rows already grouped by partition: contiguous slices
                rows = slice(bounds[p], bounds[p + 1])
            else:
                rows = order[bounds[p] : bounds[p + 1]]
            tables[name] = pd.DataFrame({c: a[rows] for c, a in columns.items()}, copy=False)
            codes_p[name] = code[rows] - p * size
        yield Partition(
            Portfolio(**tables, meta=dict(portfolio.meta)),
            ids[p * size : (p + 1) * size],
            codes_p,
        )


# --------------------------------------------------------------------------- ledger


@dataclass
class Ledger:
    """Arrays of one partition of accounts, ready to answer any (account, day).

    Per account (indexed by account code): origination, the first settlement or
    closure, the charge-off day. Per installment: cumulative amounts due within its
    schedule version ("group"). Per *segment* (``seg_*``, sorted by account and start
    day; the state is constant within one): the version in force, amounts paid, the
    oldest unpaid due day, balance, and the delinquency episode it belongs to. Days are
    :func:`ledger_days`, money in cents unless noted; each field says what it holds.
    """

    ids: np.ndarray  # account ids, sorted
    start_day: np.ndarray  # [account] origination day
    end_event_day: np.ndarray  # [account] first settled/closed day
    end_event_is_settled: np.ndarray  # [account] bool
    charge_off_day: np.ndarray  # [account]
    v_first: np.ndarray  # [version group] first installment row
    s_cum: np.ndarray  # [installment] cents due through it, within its version
    s_key_due: np.ndarray  # [installment] group * SPAN + due day
    # segments, sorted by (account, start day)
    seg_acct: np.ndarray
    seg_key: np.ndarray
    seg_start: np.ndarray
    seg_next: np.ndarray
    seg_group: np.ndarray  # version group in force
    seg_paid_all: np.ndarray  # cents
    seg_paid_version: np.ndarray  # cents
    seg_oldest_due: np.ndarray  # day, NEVER when fully paid
    seg_balance: np.ndarray
    seg_terminal: np.ndarray  # settled/closed/paid_off in this segment
    seg_delinquent_from: np.ndarray  # first day of the segment in an episode, or NEVER
    seg_starts: np.ndarray  # an episode starts in this segment
    seg_ends_previous: np.ndarray  # the previous segment's episode ends on its start day
    seg_restructure: np.ndarray
    seg_reage: np.ndarray  # an accepted plan or deferral takes effect in this segment
    seg_episode: np.ndarray  # global episode index (valid where delinquent_from < NEVER)
    seg_worst_before: np.ndarray  # worst DPD over earlier segments of the account
    ep_start: np.ndarray  # [episode] start day when it opened
    seg_episode_start: np.ndarray  # start of the running episode as known in the segment
    grace: int

    def due_through(self, group: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Cents due under the version ``group`` on installments due on or before ``day``."""
        i = np.searchsorted(self.s_key_due, group * SPAN + np.clip(day, 0, SPAN - 1), "right")
        has = i > self.v_first[group]
        return np.where(has, self.s_cum[np.maximum(i - 1, 0)], 0)

    def account_days(self, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All (account code, day) with day on/after origination, by account then day.

        Parameters
        ----------
        days : numpy.ndarray
            Sorted distinct :func:`ledger_days`.

        Returns
        -------
        tuple of numpy.ndarray
            Account codes and days.
        """
        first = np.searchsorted(days, self.start_day, side="left")
        counts = len(days) - first
        acct = np.repeat(np.arange(len(self.ids), dtype=np.int64), counts)
        offsets = np.arange(len(acct)) - np.repeat(np.cumsum(counts) - counts, counts)
        return acct, days[np.repeat(first, counts) + offsets]


def _column(df: pd.DataFrame | None, name: str) -> pd.Series | None:
    if df is None or name not in df.columns:
        return None
    return df[name]


@dataclass
class _Installments:
    """Schedule versions ("groups", one per account × schedule_version) and installments."""

    start_day: np.ndarray  # [account] origination day
    v_acct: np.ndarray  # [group] account
    v_is_first: np.ndarray  # [group] first version of its account
    v_eff: np.ndarray  # [group] effective_from day (0 for the first version)
    v_key: np.ndarray  # [group] account * SPAN + effective day, strictly increasing
    v_first: np.ndarray  # [group] first installment row
    v_end: np.ndarray  # [group] one past the last installment row
    v_principal: np.ndarray  # [group] principal the version repays (currency)
    s_due: np.ndarray  # [installment] due day
    s_cum: np.ndarray  # [installment] cents due through it, within its version
    s_cum_principal: np.ndarray  # [installment] principal through it (currency)
    s_ratio: np.ndarray  # [installment] principal share of its amount
    s_key_cum: np.ndarray  # group * money_span + s_cum
    s_key_due: np.ndarray  # group * SPAN + s_due
    money_span: np.int64


def _read_installments(partition: Partition, tol_cents: int) -> _Installments:
    """Installments sorted by (account, version, due date, installment_no), with totals."""
    schedule = partition.portfolio.schedule
    missing = [c for c in ("due_date", "amount_due") if c not in schedule]
    if missing:
        raise DataError(f"table 'schedule' lacks column(s) {missing}")
    ids = partition.ids
    codes = partition.codes["schedule"]
    n_acct = len(ids)
    version = _column(schedule, "schedule_version")
    version = (
        np.ones(len(schedule), np.int64)
        if version is None
        else version.fillna(1).to_numpy(np.int64)
    )
    eff = _column(schedule, "effective_from")
    eff_day = np.full(len(schedule), NEVER) if eff is None else ledger_days(eff)
    due = ledger_days(schedule["due_date"])
    if (due >= NEVER).any():
        raise DataError("table 'schedule', column 'due_date': missing due dates")
    if schedule["amount_due"].isna().any():
        raise DataError("table 'schedule', column 'amount_due': missing amounts")
    amount = _cents(schedule["amount_due"])
    inst = _column(schedule, "installment_no")
    inst = np.zeros(len(schedule), np.int64) if inst is None else inst.to_numpy(np.int64)
    order = _sort_order(codes, version, due, inst)
    s_acct = codes[order].astype(np.int64)
    s_version = version[order]
    s_due = due[order]
    s_amount = amount[order]
    s_eff = eff_day[order]
    group_change = np.r_[True, (s_acct[1:] != s_acct[:-1]) | (s_version[1:] != s_version[:-1])]
    s_group = np.cumsum(group_change) - 1
    v_first = np.flatnonzero(group_change)
    v_end = np.r_[v_first[1:], len(s_acct)]
    v_acct = s_acct[v_first]
    v_is_first = np.r_[True, v_acct[1:] != v_acct[:-1]]
    v_eff = np.where(v_is_first, 0, s_eff[v_first])
    if (v_eff[~v_is_first] >= NEVER).any():
        bad = ids[v_acct[(~v_is_first) & (v_eff >= NEVER)][:5]]
        raise DataError(
            "table 'schedule': a schedule_version after the first needs effective_from "
            f"(the restructure date); missing for account(s) {list(bad)}"
        )
    v_key = v_acct * SPAN + v_eff
    if (np.diff(v_key) <= 0).any():
        raise DataError(
            "table 'schedule': effective_from must increase with schedule_version within an account"
        )
    s_cum = _group_cumsum(s_amount, s_group)
    v_total = s_cum[v_end - 1]

    # origination day and principal from accounts (fallbacks: 31 days before the first
    # due date; principal = total due of the first version)
    accounts = partition.portfolio.accounts
    acct_principal = np.full(n_acct, np.nan)
    start_day = np.full(n_acct, NEVER)
    if accounts is not None and len(accounts):
        pos = partition.codes["accounts"]
        keep = pos >= 0
        if "principal" in accounts:
            acct_principal[pos[keep]] = accounts["principal"].to_numpy(np.float64)[keep]
        if "origination_date" in accounts:
            start_day[pos[keep]] = ledger_days(accounts["origination_date"])[keep]
    first_due = s_due[v_first[v_is_first]]
    start_day = np.where(start_day >= NEVER, np.maximum(first_due - 31, 1), start_day)

    # principal part of each installment: principal_due, else a proportional split
    first_total = v_total[v_is_first] / 100.0
    share = np.where(
        np.isfinite(acct_principal) & (first_total > 0),
        np.minimum(acct_principal / np.where(first_total > 0, first_total, 1.0), 1.0),
        1.0,
    )
    s_principal = s_amount / 100.0 * share[s_acct]
    principal_due = _column(schedule, "principal_due")
    if principal_due is not None:
        given = principal_due.to_numpy(np.float64)[order]
        s_principal = np.where(np.isnan(given), s_principal, given)
    s_cum_principal = _group_cumsum(s_principal, s_group)
    with np.errstate(divide="ignore", invalid="ignore"):
        s_ratio = np.where(s_amount > 0, s_principal / (s_amount / 100.0), 0.0)

    money_span = np.int64(int(v_total.max(initial=0)) + tol_cents + 4)
    if len(v_first) * float(money_span) > 2**62:
        raise DataError("partition too large for exact allocation; use a smaller partition_size")
    return _Installments(
        start_day=start_day,
        v_acct=v_acct,
        v_is_first=v_is_first,
        v_eff=v_eff,
        v_key=v_key,
        v_first=v_first,
        v_end=v_end,
        v_principal=s_cum_principal[v_end - 1],
        s_due=s_due,
        s_cum=s_cum,
        s_cum_principal=s_cum_principal,
        s_ratio=s_ratio,
        s_key_cum=s_group * money_span + s_cum,
        s_key_due=s_group * SPAN + s_due,
        money_span=money_span,
    )


def _read_cash_flows(
    partition: Partition, plan: _Installments
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cash flows ``(account, day, cents, group)``: +amount on the posting date, -amount
    on the reversal date.

    A version is paid only by payments posted on or after its effective_from, so a
    reversal counts towards the version in force only if its payment was posted under
    that same version: ``group`` is that version for reversals, -1 (the version in force)
    for payments.
    """
    payments = partition.portfolio.payments
    if payments is None or len(payments) == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty, empty
    if payments["amount"].isna().any():
        raise DataError("table 'payments', column 'amount': missing amounts")
    p_acct = partition.codes["payments"]
    p_day = ledger_days(payments["payment_date"])
    ok = (p_acct >= 0) & (p_day < NEVER)
    p_acct, p_day = p_acct[ok], p_day[ok]
    p_amount = _cents(payments["amount"])[ok]
    rev = _column(payments, "reversed_date")
    r_day = np.full(len(p_acct), NEVER) if rev is None else ledger_days(rev)[ok]
    has_rev = r_day < NEVER
    rv_acct, rv_post = p_acct[has_rev], p_day[has_rev]
    rv_key = rv_acct * SPAN + rv_post
    by_key = np.argsort(rv_key)  # sorted queries keep searchsorted cache-friendly
    rev_group = np.empty_like(rv_acct)
    rev_group[by_key] = _lookup_before(plan.v_key, plan.v_acct, rv_key[by_key], rv_acct[by_key])
    return (
        np.r_[p_acct, rv_acct],
        np.r_[p_day, r_day[has_rev]],
        np.r_[p_amount, -p_amount[has_rev]],
        np.r_[np.full(len(p_acct), -1), rev_group],
    )


@dataclass
class _AccountEvents:
    """Per account: first settled/closed day, charged_off event day; restructure days;
    days an accepted plan or deferral took effect (re-ages)."""

    end_day: np.ndarray
    end_is_settled: np.ndarray
    charge_off_day: np.ndarray
    restructure_acct: np.ndarray
    restructure_day: np.ndarray
    reage_acct: np.ndarray
    reage_day: np.ndarray


def _read_events(partition: Partition) -> _AccountEvents:
    n_acct = len(partition.ids)
    out = _AccountEvents(
        end_day=np.full(n_acct, NEVER),
        end_is_settled=np.zeros(n_acct, bool),
        charge_off_day=np.full(n_acct, NEVER),
        restructure_acct=np.zeros(0, np.int64),
        restructure_day=np.zeros(0, np.int64),
        reage_acct=np.zeros(0, np.int64),
        reage_day=np.zeros(0, np.int64),
    )
    offers = partition.portfolio.offers
    if offers is not None and len(offers) and {"kind", "outcome", "offered_at"} <= set(offers):
        o_acct = partition.codes["offers"]
        o_day = ledger_days(acceptance_day(offers))
        keep = changes_schedule(offers) & (o_acct >= 0) & (o_day < NEVER)
        out.reage_acct, out.reage_day = o_acct[keep], o_day[keep]
    events = partition.portfolio.events
    if events is None or len(events) == 0:
        return out
    e_acct = partition.codes["events"]
    e_day = ledger_days(events["date"])
    e_kind = events["event"].astype(str).to_numpy()
    ok = (e_acct >= 0) & (e_day < NEVER)
    for kind in ("closed", "settled"):  # settled wins a tie
        m = ok & (e_kind == kind)
        first = np.full(n_acct, NEVER)
        np.minimum.at(first, e_acct[m], e_day[m])
        take = first <= out.end_day
        out.end_day = np.where(take, first, out.end_day)
        out.end_is_settled = np.where(take, kind == "settled", out.end_is_settled)
    m = ok & (e_kind == "charged_off")
    np.minimum.at(out.charge_off_day, e_acct[m], e_day[m])
    m = ok & (e_kind == "restructured")
    out.restructure_acct, out.restructure_day = e_acct[m], e_day[m]
    return out


def charge_off_thresholds(partition: Partition, config: Config) -> np.ndarray:
    """The charge-off DPD of each account of a partition: its product kind's threshold.

    ``config.aging.charge_off_dpd_by_kind`` of the kind of each account
    (:func:`recovery.data.contract.product_kinds`: its ``product_kind``, else its
    product's kind in ``config.categories.product_kinds``, else ``installment``);
    ``config.aging.charge_off_dpd`` for a kind not listed or an account without a row
    in ``accounts``.

    Parameters
    ----------
    partition : Partition
    config : Config

    Returns
    -------
    numpy.ndarray
        Days, one per account of ``partition.ids``.
    """
    aging = config.aging
    out = np.full(len(partition.ids), int(aging.charge_off_dpd), dtype=np.int64)
    accounts = partition.portfolio.accounts
    if not aging.charge_off_dpd_by_kind or accounts is None or not len(accounts):
        return out
    code = partition.codes["accounts"]
    known = code >= 0
    kinds = product_kinds(accounts, config)
    out[code[known]] = aging.charge_off_dpd_for(kinds[known])
    return out


def build_ledger(partition: Partition, config: Config) -> Ledger:
    """The ledger of one partition: segments, allocation, charge-off and episodes.

    Parameters
    ----------
    partition : Partition
    config : Config
        ``config.aging``: tolerance, grace days, charge-off DPD (per product kind,
        :func:`charge_off_thresholds`).

    Returns
    -------
    Ledger

    Raises
    ------
    DataError
        Schedule rows without a due date or amount, a later schedule version without
        ``effective_from``, versions not in date order, payments without an amount.
    """
    aging = config.aging
    grace = int(aging.grace_days)
    tol_cents = max(int(round(aging.tolerance * 100)), 1)
    n_acct = len(partition.ids)
    plan = _read_installments(partition, tol_cents)
    cf_acct, cf_day, cf_amount, cf_group = _read_cash_flows(partition, plan)
    events = _read_events(partition)

    # ---- segments: every day on which something can change. Cash flows ride along in
    # the same sort, so paid-to-date per segment is a running sum (no lookups).
    acct_range = np.arange(n_acct, dtype=np.int64)
    later_version = ~plan.v_is_first
    has_end, has_co = events.end_day < NEVER, events.charge_off_day < NEVER
    pieces = [  # (account, day, amount, version group of a reversal, version start,
        # restructure, re-age)
        (acct_range, plan.start_day, 0, -1, False, False, False),
        (cf_acct, cf_day, cf_amount, cf_group, False, False, False),
        (plan.v_acct[later_version], plan.v_eff[later_version], 0, -1, True, True, False),
        (events.restructure_acct, events.restructure_day, 0, -1, False, True, False),
        (events.reage_acct, events.reage_day, 0, -1, False, False, True),
        (acct_range[has_end], events.end_day[has_end], 0, -1, False, False, False),
        (acct_range[has_co], events.charge_off_day[has_co], 0, -1, False, False, False),
    ]
    sizes = [len(piece[0]) for piece in pieces]

    def stack(i: int, dtype: Any) -> np.ndarray:
        return np.concatenate(
            [
                np.broadcast_to(np.asarray(p[i], dtype=dtype), (n,))
                for p, n in zip(pieces, sizes, strict=True)
            ]
        )

    b_key = stack(0, np.int64) * SPAN + stack(1, np.int64)
    # the pieces are mostly sorted runs (accounts, then cash flows by account and day):
    # a stable sort merges them (the order within a key does not matter)
    order = np.argsort(b_key, kind="stable")
    b_key = b_key[order]
    b_amount = stack(2, np.int64)[order]
    b_group = stack(3, np.int64)[order]
    b_version = stack(4, bool)[order]
    b_restructure = stack(5, bool)[order]
    b_reage = stack(6, bool)[order]
    is_start = np.r_[True, b_key[1:] != b_key[:-1]]
    starts = np.flatnonzero(is_start)
    seg_key = b_key[starts]
    seg_restructure = np.maximum.reduceat(b_restructure, starts)
    seg_reage = np.maximum.reduceat(b_reage, starts) & seg_restructure
    seg_acct = seg_key // SPAN
    seg_start = seg_key % SPAN
    last_in_acct = np.r_[seg_acct[1:] != seg_acct[:-1], True]
    seg_next = np.where(last_in_acct, NEVER, np.r_[seg_start[1:], NEVER])

    # ---- state of each segment: version in force, paid in all, paid towards that version
    first_group = np.flatnonzero(plan.v_is_first)  # group id of each account's first version
    seg_group = first_group[seg_acct] + _group_cumsum(
        np.maximum.reduceat(b_version, starts).astype(np.int64), seg_acct
    )
    seg_paid_all = _group_cumsum(np.add.reduceat(b_amount, starts), seg_acct)
    entry_group = seg_group[np.cumsum(is_start) - 1]
    towards_version = (b_group < 0) | (b_group == entry_group)
    seg_paid_version = _group_cumsum(
        np.add.reduceat(np.where(towards_version, b_amount, 0), starts), seg_group
    )
    seg_oldest_due, seg_balance = _allocate(plan, seg_group, seg_paid_version, tol_cents)
    fully_paid = seg_oldest_due >= NEVER
    seg_terminal = (events.end_day[seg_acct] <= seg_start) | fully_paid

    # ---- charge-off: first day with t - oldest_due >= max(threshold, grace + 1), the
    # threshold of the account's product kind
    reach = np.maximum(charge_off_thresholds(partition, config), grace + 1)
    candidate = np.maximum(seg_start, seg_oldest_due + reach[seg_acct])
    valid = (~seg_terminal) & (seg_oldest_due < NEVER) & (candidate < seg_next)
    computed = np.full(n_acct, NEVER)
    np.minimum.at(computed, seg_acct[valid], candidate[valid])
    charge_off_day = np.minimum(computed, events.charge_off_day)

    # ---- delinquency episodes: runs of segments with a delinquent day, cut by restructures
    # of accounts not charged off (after charge-off only payoff, settlement or closure
    # end an episode: a plan on a charged-off debt does not make it younger)
    charged = charge_off_day[seg_acct] <= seg_start
    cuts = seg_restructure & ~charged
    overdue_from = np.maximum(seg_start, seg_oldest_due + grace + 1)
    delinquent_from = np.where(
        seg_terminal,
        NEVER,
        np.where(charged, seg_start, np.where(overdue_from < seg_next, overdue_from, NEVER)),
    )
    in_at_end = delinquent_from < NEVER
    prev_in = shift_in_group(in_at_end, seg_acct, False)
    continues = prev_in & (delinquent_from == seg_start) & ~cuts
    ends_previous = prev_in & ~continues
    starts_episode = in_at_end & ~continues
    episode = np.cumsum(starts_episode) - 1
    # an episode opened by a restructure while still delinquent starts on that day
    restarted = cuts & (delinquent_from == seg_start)
    first_missed = np.where(restarted, np.maximum(seg_oldest_due, seg_start), seg_oldest_due)
    # one spare entry so that lookups of "no episode" (index -1) stay in bounds
    ep_start = np.r_[np.minimum(first_missed, delinquent_from)[starts_episode], NEVER]
    # A returned payment can re-open an installment due before the running episode began
    # (it undoes the cure that separated two episodes): the episode then dates back to
    # that due date, from the segment on, so debt age is never below DPD. Not for
    # episodes opened by a restructure, which start at the restructure.
    active = in_at_end & ~seg_terminal
    ep_restarted = np.r_[restarted[starts_episode], True]
    floor = np.where(
        active & ~ep_restarted[episode] & (seg_oldest_due < NEVER), seg_oldest_due, NEVER
    )
    running_min = np.full(len(floor), NEVER)  # NEVER outside an active episode
    running_min[active] = _group_running(floor[active], episode[active], np.minimum)
    seg_episode_start = np.where(
        active, np.minimum(ep_start[episode], running_min), ep_start[episode]
    )

    last_day = np.minimum(seg_next - 1, NEVER - 1)
    seg_dpd_last = days_past_due(last_day, seg_oldest_due, seg_terminal, grace)
    running = _group_running(seg_dpd_last, seg_acct, np.maximum)
    seg_worst_before = shift_in_group(running, seg_acct, 0)

    return Ledger(
        ids=partition.ids,
        start_day=plan.start_day,
        end_event_day=events.end_day,
        end_event_is_settled=events.end_is_settled,
        charge_off_day=charge_off_day,
        v_first=plan.v_first,
        s_cum=plan.s_cum,
        s_key_due=plan.s_key_due,
        seg_acct=seg_acct,
        seg_key=seg_key,
        seg_start=seg_start,
        seg_next=seg_next,
        seg_group=seg_group,
        seg_paid_all=seg_paid_all,
        seg_paid_version=seg_paid_version,
        seg_oldest_due=seg_oldest_due,
        seg_balance=seg_balance,
        seg_terminal=seg_terminal,
        seg_delinquent_from=delinquent_from,
        seg_starts=starts_episode,
        seg_ends_previous=ends_previous,
        seg_restructure=seg_restructure,
        seg_reage=seg_reage,
        seg_episode=episode,
        seg_worst_before=seg_worst_before,
        ep_start=ep_start,
        seg_episode_start=seg_episode_start,
        grace=grace,
    )


def _allocate(
    plan: _Installments, group: np.ndarray, paid: np.ndarray, tol_cents: int
) -> tuple[np.ndarray, np.ndarray]:
    """Oldest unpaid due day (``NEVER`` when fully paid) and outstanding principal, for
    ``paid`` cents allocated oldest first to the installments of version ``group``."""
    span = plan.money_span
    # oldest installment whose cumulative due exceeds paid by at least the tolerance
    target = np.clip(paid + tol_cents, 1, span - 1)
    k = np.searchsorted(plan.s_key_cum, group * span + target, side="left")
    fully_paid = k >= plan.v_end[group]
    oldest_due = np.where(fully_paid, NEVER, plan.s_due[np.minimum(k, len(plan.s_due) - 1)])
    # principal repaid: the installments counted as paid (within the tolerance) in full,
    # plus the paid part of the oldest unpaid one, pro rata amount paid / amount due
    has_prev = k > plan.v_first[group]
    prev = np.maximum(k - 1, 0)
    repaid = np.where(has_prev, plan.s_cum_principal[prev], 0.0)
    rest = np.maximum(paid - np.where(has_prev, plan.s_cum[prev], 0), 0)
    ratio = plan.s_ratio[np.minimum(k, len(plan.s_ratio) - 1)]
    repaid = repaid + np.where(fully_paid, 0.0, rest / 100.0 * ratio)
    balance = np.where(fully_paid, 0.0, np.maximum(plan.v_principal[group] - repaid, 0.0))
    return oldest_due, balance


def days_past_due(
    day: np.ndarray, oldest_due: np.ndarray, terminal: np.ndarray, grace: int
) -> np.ndarray:
    """DPD on ``day``: days since the oldest unpaid due day, 0 within grace or when closed.

    Parameters
    ----------
    day, oldest_due : numpy.ndarray
        :func:`ledger_days` (``oldest_due`` :data:`NEVER` when all is paid).
    terminal : numpy.ndarray
        Paid off, settled or closed (DPD 0).
    grace : int
        ``config.aging.grace_days``.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> days_past_due(np.array([10, 10, 10]), np.array([5, 8, 5]), np.array([False, False, True]),
    ...               2).tolist()
    [5, 0, 0]
    """
    late = day - oldest_due
    return np.where(terminal | (late <= grace), 0, late)
