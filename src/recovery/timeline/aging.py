"""Aging: days past due, charge-off, delinquency episodes and month-end snapshots.

The definitions are DESIGN.md §3 (binding):

- **DPD on day t** is the number of days since the due date of the oldest installment
  not fully paid by t. Payments count from their posting date, net of reversals known by
  t (a payment with ``reversed_date`` r counts on days before r only), and are allocated
  to the oldest amount due first, so overpayments and prepayments carry forward to later
  installments. A shortfall below ``config.aging.tolerance`` (currency) counts as paid;
  an installment becomes overdue only after ``config.aging.grace_days`` days (DPD then
  counts from its due date, so it jumps from 0 to ``grace_days + 1``).
- **Schedule versions**: the version in force on day t is the one with the latest
  ``effective_from`` on or before t (version 1 from the start). A version covers what is
  owed from its ``effective_from`` on: its installments are paid by payments posted on or
  after that day (net of their reversals). A restructure therefore never rewrites history.
- **Charge-off** on the first day DPD reaches ``config.aging.charge_off_dpd`` (or an
  earlier ``charged_off`` event); status ``charged_off`` from then on, bucket empty.
- **Status** ``paid_off`` when everything the schedule in force asks for is paid (within
  the tolerance), ``settled`` / ``closed`` from the first such ``events`` row (DPD,
  balance and overdue amount are 0 after it). Charge-off is final unless a settlement
  or closure follows: a charged-off debt repaid in full stays ``charged_off`` (balance 0).
- **Delinquency episode**: starts at the first missed due date and ends with a payment
  cure (DPD back to 0 through payments), payoff, settlement or closure. A restructure
  (a schedule version or a ``restructured`` event) ends the episode as a *restructure*
  cure and any delinquency after it is a new episode. After charge-off an episode ends
  only by payoff, settlement or closure. **Debt age** = days since the episode start;
  partial payments never make a debt younger, and a returned payment that re-opens an
  installment due before the episode began dates the episode back to it.

How it is computed (no Python loop over accounts or days): per account, the dates on
which anything can change — payments, reversals, schedule versions, events — cut time
into *segments*. Within a segment the amount paid towards the version in force is
constant, hence so is the oldest unpaid installment (a ``searchsorted`` of the amount
paid into the cumulative amount due), and DPD is ``t - due_date`` once past grace. The
charge-off day is the first segment day on which ``t - due_date`` reaches the threshold;
episodes are runs of delinquent segments. Any date is then answered by looking up its
segment (one ``searchsorted`` over sorted ``(account, day)`` keys). Money is handled in
integer hundredths of the currency unit so that allocation is exact. The work is a
function of one partition of accounts (:func:`account_states`, :func:`snapshots` and
:func:`episodes` split large books into partitions of ``partition_size`` accounts).

Examples
--------
>>> import pandas as pd
>>> from recovery.data.portfolio import Portfolio
>>> from recovery.timeline.aging import account_states
>>> schedule = pd.DataFrame({"account_id": ["A"] * 2, "installment_no": [1, 2],
...     "due_date": pd.to_datetime(["2024-02-01", "2024-03-01"]),
...     "amount_due": [100.0, 100.0]})
>>> payments = pd.DataFrame({"account_id": ["A"], "amount": [100.0],
...     "payment_date": pd.to_datetime(["2024-02-01"]), "channel": ["cash"]})
>>> p = Portfolio(schedule=schedule, payments=payments)
>>> account_states(p, "2024-03-11")[["dpd", "bucket", "amount_overdue"]]
   dpd bucket  amount_overdue
0   10     M1           100.0
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.errors import DataError

__all__ = [
    "account_states",
    "snapshots",
    "episodes",
    "dpd_series",
    "plot_dpd_series",
    "STATUSES",
    "EPISODE_END_REASONS",
]

STATUSES = ("open", "paid_off", "charged_off", "settled", "closed")
EPISODE_END_REASONS = (
    "payment_cure",
    "paid_off",
    "settled",
    "closed",
    "restructured",
    "charged_off",
    "open",
)

# Days are int64 offsets from 1900-01-01 so that (account, day) packs into one sortable
# int64 key: account * _SPAN + day.
_BASE = np.datetime64("1900-01-01", "D")
_SPAN = np.int64(1 << 17)  # days, ~358 years
_NEVER = np.int64(1 << 40)  # a day that never comes
_DEFAULT_PARTITION = 100_000
_BASE_EPOCH_DAY = np.int64((_BASE - np.datetime64("1970-01-01", "D")).astype(np.int64))
_NANOS_PER_DAY = np.int64(86_400 * 10**9)
_NAT_INT = np.datetime64("NaT", "ns").view(np.int64)


# --------------------------------------------------------------------------- helpers


def _day_numbers(values: Any) -> np.ndarray:
    """Dates → int64 days since 1900-01-01 (NaT → ``_NEVER``), clipped to the key span."""
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind == "M":  # already naive datetime64
        dates = np.asarray(values).astype("datetime64[D]")
    else:
        dates = pd.to_datetime(pd.Series(values)).to_numpy(dtype="datetime64[D]")
    missing = np.isnat(dates)
    days = (dates - _BASE).astype(np.int64)
    days = np.clip(days, 1, _SPAN - 2)
    days[missing] = _NEVER
    return days


def _to_timestamps(days: np.ndarray) -> np.ndarray:
    """int64 day numbers → datetime64[ns] (``_NEVER`` → NaT)."""
    days = np.asarray(days, dtype=np.int64)
    nanos = (days + _BASE_EPOCH_DAY) * _NANOS_PER_DAY
    return np.where(days >= _NEVER, _NAT_INT, nanos).view("datetime64[ns]")


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


def _shift_in_group(values: np.ndarray, group: np.ndarray, fill: Any) -> np.ndarray:
    """Previous element within the same run of ``group`` (``fill`` at a run start)."""
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


def _resolve_config(config: Config | None) -> Config:
    return config if config is not None else Config()


# --------------------------------------------------------------------------- ledger


@dataclass
class _Ledger:
    """Arrays of one partition of accounts, ready to answer any (account, day)."""

    ids: np.ndarray  # account ids, sorted
    start_day: np.ndarray  # [account] origination day
    end_event_day: np.ndarray  # [account] first settled/closed day
    end_event_is_settled: np.ndarray  # [account] bool
    charge_off_day: np.ndarray  # [account]
    v_first: np.ndarray  # [version group] first installment row
    s_cum: np.ndarray  # [installment] cents due through it, within its version
    s_key_due: np.ndarray  # [installment] group * _SPAN + due day
    # segments, sorted by (account, start day)
    seg_acct: np.ndarray
    seg_key: np.ndarray
    seg_start: np.ndarray
    seg_next: np.ndarray
    seg_group: np.ndarray  # version group in force
    seg_paid_all: np.ndarray  # cents
    seg_paid_version: np.ndarray  # cents
    seg_oldest_due: np.ndarray  # day, _NEVER when fully paid
    seg_balance: np.ndarray
    seg_terminal: np.ndarray  # settled/closed/paid_off in this segment
    seg_delinquent_from: np.ndarray  # first day of the segment in an episode, or _NEVER
    seg_starts: np.ndarray  # an episode starts in this segment
    seg_ends_previous: np.ndarray  # the previous segment's episode ends on its start day
    seg_restructure: np.ndarray
    seg_episode: np.ndarray  # global episode index (valid where delinquent_from < NEVER)
    seg_worst_before: np.ndarray  # worst DPD over earlier segments of the account
    ep_start: np.ndarray  # [episode] start day when it opened
    seg_episode_start: np.ndarray  # start of the running episode as known in the segment
    grace: int


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
    v_key: np.ndarray  # [group] account * _SPAN + effective day, strictly increasing
    v_first: np.ndarray  # [group] first installment row
    v_end: np.ndarray  # [group] one past the last installment row
    v_principal: np.ndarray  # [group] principal the version repays (currency)
    s_due: np.ndarray  # [installment] due day
    s_cum: np.ndarray  # [installment] cents due through it, within its version
    s_cum_principal: np.ndarray  # [installment] principal through it (currency)
    s_ratio: np.ndarray  # [installment] principal share of its amount
    s_key_cum: np.ndarray  # group * money_span + s_cum
    s_key_due: np.ndarray  # group * _SPAN + s_due
    money_span: np.int64


def _read_installments(partition: _Partition, tol_cents: int) -> _Installments:
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
    eff_day = np.full(len(schedule), _NEVER) if eff is None else _day_numbers(eff)
    due = _day_numbers(schedule["due_date"])
    if (due >= _NEVER).any():
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
    if (v_eff[~v_is_first] >= _NEVER).any():
        bad = ids[v_acct[(~v_is_first) & (v_eff >= _NEVER)][:5]]
        raise DataError(
            "table 'schedule': a schedule_version after the first needs effective_from "
            f"(the restructure date); missing for account(s) {list(bad)}"
        )
    v_key = v_acct * _SPAN + v_eff
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
    start_day = np.full(n_acct, _NEVER)
    if accounts is not None and len(accounts):
        pos = partition.codes["accounts"]
        keep = pos >= 0
        if "principal" in accounts:
            acct_principal[pos[keep]] = accounts["principal"].to_numpy(np.float64)[keep]
        if "origination_date" in accounts:
            start_day[pos[keep]] = _day_numbers(accounts["origination_date"])[keep]
    first_due = s_due[v_first[v_is_first]]
    start_day = np.where(start_day >= _NEVER, np.maximum(first_due - 31, 1), start_day)

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
        s_key_due=s_group * _SPAN + s_due,
        money_span=money_span,
    )


def _read_cash_flows(
    partition: _Partition, plan: _Installments
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
    p_day = _day_numbers(payments["payment_date"])
    ok = (p_acct >= 0) & (p_day < _NEVER)
    p_acct, p_day = p_acct[ok], p_day[ok]
    p_amount = _cents(payments["amount"])[ok]
    rev = _column(payments, "reversed_date")
    r_day = np.full(len(p_acct), _NEVER) if rev is None else _day_numbers(rev)[ok]
    has_rev = r_day < _NEVER
    rv_acct, rv_post = p_acct[has_rev], p_day[has_rev]
    rv_key = rv_acct * _SPAN + rv_post
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
class _Events:
    """Per account: first settled/closed day, charged_off event day; restructure days."""

    end_day: np.ndarray
    end_is_settled: np.ndarray
    charge_off_day: np.ndarray
    restructure_acct: np.ndarray
    restructure_day: np.ndarray


def _read_events(partition: _Partition) -> _Events:
    n_acct = len(partition.ids)
    out = _Events(
        end_day=np.full(n_acct, _NEVER),
        end_is_settled=np.zeros(n_acct, bool),
        charge_off_day=np.full(n_acct, _NEVER),
        restructure_acct=np.zeros(0, np.int64),
        restructure_day=np.zeros(0, np.int64),
    )
    events = partition.portfolio.events
    if events is None or len(events) == 0:
        return out
    e_acct = partition.codes["events"]
    e_day = _day_numbers(events["date"])
    e_kind = events["event"].astype(str).to_numpy()
    ok = (e_acct >= 0) & (e_day < _NEVER)
    for kind in ("closed", "settled"):  # settled wins a tie
        m = ok & (e_kind == kind)
        first = np.full(n_acct, _NEVER)
        np.minimum.at(first, e_acct[m], e_day[m])
        take = first <= out.end_day
        out.end_day = np.where(take, first, out.end_day)
        out.end_is_settled = np.where(take, kind == "settled", out.end_is_settled)
    m = ok & (e_kind == "charged_off")
    np.minimum.at(out.charge_off_day, e_acct[m], e_day[m])
    m = ok & (e_kind == "restructured")
    out.restructure_acct, out.restructure_day = e_acct[m], e_day[m]
    return out


def _build_ledger(partition: _Partition, config: Config) -> _Ledger:
    aging = config.aging
    grace = int(aging.grace_days)
    threshold = int(aging.charge_off_dpd)
    tol_cents = max(int(round(aging.tolerance * 100)), 1)
    n_acct = len(partition.ids)
    plan = _read_installments(partition, tol_cents)
    cf_acct, cf_day, cf_amount, cf_group = _read_cash_flows(partition, plan)
    events = _read_events(partition)

    # ---- segments: every day on which something can change. Cash flows ride along in
    # the same sort, so paid-to-date per segment is a running sum (no lookups).
    acct_range = np.arange(n_acct, dtype=np.int64)
    later_version = ~plan.v_is_first
    has_end, has_co = events.end_day < _NEVER, events.charge_off_day < _NEVER
    pieces = [  # (account, day, amount, version group of a reversal, version start, restructure)
        (acct_range, plan.start_day, 0, -1, False, False),
        (cf_acct, cf_day, cf_amount, cf_group, False, False),
        (plan.v_acct[later_version], plan.v_eff[later_version], 0, -1, True, True),
        (events.restructure_acct, events.restructure_day, 0, -1, False, True),
        (acct_range[has_end], events.end_day[has_end], 0, -1, False, False),
        (acct_range[has_co], events.charge_off_day[has_co], 0, -1, False, False),
    ]
    sizes = [len(piece[0]) for piece in pieces]

    def stack(i: int, dtype: Any) -> np.ndarray:
        return np.concatenate(
            [
                np.broadcast_to(np.asarray(p[i], dtype=dtype), (n,))
                for p, n in zip(pieces, sizes, strict=True)
            ]
        )

    b_key = stack(0, np.int64) * _SPAN + stack(1, np.int64)
    order = np.argsort(b_key)
    b_key = b_key[order]
    b_amount = stack(2, np.int64)[order]
    b_group = stack(3, np.int64)[order]
    b_version = stack(4, bool)[order]
    b_restructure = stack(5, bool)[order]
    is_start = np.r_[True, b_key[1:] != b_key[:-1]]
    starts = np.flatnonzero(is_start)
    seg_key = b_key[starts]
    seg_restructure = np.maximum.reduceat(b_restructure, starts)
    seg_acct = seg_key // _SPAN
    seg_start = seg_key % _SPAN
    last_in_acct = np.r_[seg_acct[1:] != seg_acct[:-1], True]
    seg_next = np.where(last_in_acct, _NEVER, np.r_[seg_start[1:], _NEVER])

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
    fully_paid = seg_oldest_due >= _NEVER
    seg_terminal = (events.end_day[seg_acct] <= seg_start) | fully_paid

    # ---- charge-off: first day with t - oldest_due >= max(threshold, grace + 1)
    reach = max(threshold, grace + 1)
    candidate = np.maximum(seg_start, seg_oldest_due + reach)
    valid = (~seg_terminal) & (seg_oldest_due < _NEVER) & (candidate < seg_next)
    computed = np.full(n_acct, _NEVER)
    np.minimum.at(computed, seg_acct[valid], candidate[valid])
    charge_off_day = np.minimum(computed, events.charge_off_day)

    # ---- delinquency episodes: runs of segments with a delinquent day, cut by restructures
    charged = charge_off_day[seg_acct] <= seg_start
    overdue_from = np.maximum(seg_start, seg_oldest_due + grace + 1)
    delinquent_from = np.where(
        seg_terminal,
        _NEVER,
        np.where(charged, seg_start, np.where(overdue_from < seg_next, overdue_from, _NEVER)),
    )
    in_at_end = delinquent_from < _NEVER
    prev_in = _shift_in_group(in_at_end, seg_acct, False)
    continues = prev_in & (delinquent_from == seg_start) & ~seg_restructure
    ends_previous = prev_in & ~continues
    starts_episode = in_at_end & ~continues
    episode = np.cumsum(starts_episode) - 1
    # an episode opened by a restructure while still delinquent starts on that day
    restarted = seg_restructure & (delinquent_from == seg_start)
    first_missed = np.where(restarted, np.maximum(seg_oldest_due, seg_start), seg_oldest_due)
    # one spare entry so that lookups of "no episode" (index -1) stay in bounds
    ep_start = np.r_[np.minimum(first_missed, delinquent_from)[starts_episode], _NEVER]
    # A returned payment can re-open an installment due before the running episode began
    # (it undoes the cure that separated two episodes): the episode then dates back to
    # that due date, from the segment on, so debt age is never below DPD. Not for
    # episodes opened by a restructure, which start at the restructure.
    active = in_at_end & ~seg_terminal
    ep_restarted = np.r_[restarted[starts_episode], True]
    floor = np.where(
        active & ~ep_restarted[episode] & (seg_oldest_due < _NEVER), seg_oldest_due, _NEVER
    )
    running_min = pd.Series(floor).groupby(np.where(active, episode, -1)).cummin().to_numpy()
    seg_episode_start = np.where(
        active, np.minimum(ep_start[episode], running_min), ep_start[episode]
    )

    last_day = np.minimum(seg_next - 1, _NEVER - 1)
    seg_dpd_last = _dpd(last_day, seg_oldest_due, seg_terminal, grace)
    running = pd.Series(seg_dpd_last).groupby(seg_acct).cummax().to_numpy()
    seg_worst_before = _shift_in_group(running, seg_acct, 0)

    return _Ledger(
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
        seg_episode=episode,
        seg_worst_before=seg_worst_before,
        ep_start=ep_start,
        seg_episode_start=seg_episode_start,
        grace=grace,
    )


def _allocate(
    plan: _Installments, group: np.ndarray, paid: np.ndarray, tol_cents: int
) -> tuple[np.ndarray, np.ndarray]:
    """Oldest unpaid due day (``_NEVER`` when fully paid) and outstanding principal, for
    ``paid`` cents allocated oldest first to the installments of version ``group``."""
    span = plan.money_span
    # oldest installment whose cumulative due exceeds paid by at least the tolerance
    target = np.clip(paid + tol_cents, 1, span - 1)
    k = np.searchsorted(plan.s_key_cum, group * span + target, side="left")
    fully_paid = k >= plan.v_end[group]
    oldest_due = np.where(fully_paid, _NEVER, plan.s_due[np.minimum(k, len(plan.s_due) - 1)])
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


def _dpd(day: np.ndarray, oldest_due: np.ndarray, terminal: np.ndarray, grace: int) -> np.ndarray:
    late = day - oldest_due
    return np.where(terminal | (late <= grace), 0, late)


def _due_through(ledger: _Ledger, group: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Cents due under the version ``group`` on installments due on or before ``day``."""
    i = np.searchsorted(ledger.s_key_due, group * _SPAN + np.clip(day, 0, _SPAN - 1), "right")
    has = i > ledger.v_first[group]
    return np.where(has, ledger.s_cum[np.maximum(i - 1, 0)], 0)


def _evaluate(ledger: _Ledger, acct: np.ndarray, day: np.ndarray, config: Config) -> dict[str, Any]:
    """Columns of the state of each (account code, day) pair (days on/after origination)."""
    seg = np.searchsorted(ledger.seg_key, acct * _SPAN + day, side="right") - 1
    group = ledger.seg_group[seg]
    oldest = ledger.seg_oldest_due[seg]
    end_day = ledger.end_event_day[acct]
    ended = end_day <= day
    fully_paid = (oldest >= _NEVER) & ~ended
    co_day = ledger.charge_off_day[acct]
    charged = (co_day <= day) & ~ended  # charge-off is final unless settled or closed
    paid_off = fully_paid & ~charged
    status_code = np.where(
        ended,
        np.where(ledger.end_event_is_settled[acct], 3, 4),
        np.where(paid_off, 1, np.where(charged, 2, 0)),
    )
    terminal = ended | fully_paid
    dpd = _dpd(day, oldest, terminal, ledger.grace)
    paid_version = ledger.seg_paid_version[seg]
    before = ledger.seg_paid_all[seg] - paid_version  # paid towards earlier versions
    due_to_date = _due_through(ledger, group, day)
    # "due to date − paid to date": installments due on or before day (less grace days)
    due_by_grace = (
        due_to_date if ledger.grace == 0 else _due_through(ledger, group, day - ledger.grace)
    )
    overdue = np.where(terminal, 0, np.maximum(due_by_grace - paid_version, 0))
    balance = np.where(terminal, 0.0, ledger.seg_balance[seg])

    in_episode = ledger.seg_delinquent_from[seg] <= day
    ep_start = np.where(in_episode, ledger.seg_episode_start[seg], _NEVER)
    debt_age = np.where(in_episode, day - ep_start, -1)
    worst = np.maximum(ledger.seg_worst_before[seg], dpd)

    status = pd.Categorical.from_codes(status_code, categories=list(STATUSES))
    bucket_names = list(config.aging.bucket_names)
    bucket_code = np.where(status_code == 0, config.aging.bucket_index(dpd), -1)
    bucket = pd.Categorical.from_codes(bucket_code, categories=bucket_names)
    no_episode = debt_age < 0
    return {
        "account_id": ledger.ids[acct],
        "as_of": _to_timestamps(day),
        "dpd": dpd.astype(np.int64),
        "bucket": bucket,
        "status": status,
        "balance": balance,
        "amount_overdue": overdue / 100.0,
        "amount_due_to_date": (before + due_to_date) / 100.0,
        "paid_to_date": ledger.seg_paid_all[seg] / 100.0,
        "episode_start": _to_timestamps(ep_start),
        "debt_age_days": pd.arrays.IntegerArray(np.where(no_episode, 0, debt_age), no_episode),
        "charge_off_date": _to_timestamps(np.where(co_day <= day, co_day, _NEVER)),
        "worst_dpd_to_date": worst.astype(np.int64),
    }


def _select(columns: dict[str, Any], keep: np.ndarray | None) -> dict[str, Any]:
    if keep is None:
        return columns
    return {name: values[keep] for name, values in columns.items()}


def _frame(parts: list[dict[str, Any]]) -> pd.DataFrame:
    """One DataFrame from per-partition column dicts (one copy per column)."""
    if len(parts) == 1:
        return pd.DataFrame(parts[0], copy=False)
    columns = {}
    for name, first in parts[0].items():
        pieces = [part[name] for part in parts]
        if isinstance(first, np.ndarray):
            columns[name] = np.concatenate(pieces)
        else:  # pandas extension arrays (categoricals with equal categories, Int64)
            columns[name] = type(first)._concat_same_type(pieces)
    return pd.DataFrame(columns, copy=False)


# --------------------------------------------------------------------------- partitions


@dataclass
class _Partition:
    """Some accounts' rows, with each row's account code (index into ``ids``, -1 unknown)."""

    portfolio: Portfolio
    ids: np.ndarray
    codes: dict[str, np.ndarray]


def _id_values(ids: pd.Series) -> Any:
    """Account ids as hashable strings (kept as they are when already text)."""
    if ids.dtype == object or isinstance(ids.dtype, pd.StringDtype):
        return ids.to_numpy()
    return ids.astype(str).to_numpy()


_ACCOUNT_TABLES = ("accounts", "schedule", "payments", "events")
_NEEDED_COLUMNS = {  # what aging reads from each table (account codes travel separately)
    "accounts": ("origination_date", "principal", "product"),
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
}


def _partitions(portfolio: Portfolio, size: int | None) -> Iterable[_Partition]:
    """Split a portfolio into partitions of at most ``size`` accounts.

    Accounts are those of the schedule, in sorted id order; ids are hashed once here and
    each partition carries its rows' account codes.
    """
    schedule = portfolio.schedule
    if schedule is None or len(schedule) == 0:
        raise DataError("aging needs a 'schedule' table (installments with due dates)")
    if "account_id" not in schedule:
        raise DataError("table 'schedule' lacks column(s) ['account_id']")
    codes, ids = pd.factorize(_id_values(schedule["account_id"]), sort=True)
    ids = np.asarray(ids, dtype=object)
    index = pd.Index(ids)
    all_codes = {}
    for name in _ACCOUNT_TABLES:
        df = getattr(portfolio, name)
        if df is None:
            continue
        if name == "schedule":
            all_codes[name] = codes.astype(np.int64)
        else:
            all_codes[name] = index.get_indexer(_id_values(df["account_id"])).astype(np.int64)
    if size is None or len(ids) <= size:
        yield _Partition(portfolio, ids, all_codes)
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
        yield _Partition(
            Portfolio(**tables, meta=dict(portfolio.meta)),
            ids[p * size : (p + 1) * size],
            codes_p,
        )


def _as_days(dates: Any) -> np.ndarray:
    if isinstance(dates, (str, pd.Timestamp, np.datetime64)) or not isinstance(
        dates, (Sequence, np.ndarray, pd.Index, pd.Series)
    ):
        dates = [dates]
    days = _day_numbers(pd.to_datetime(list(dates) if not isinstance(dates, pd.Series) else dates))
    if (days >= _NEVER).any():
        raise DataError("as_of dates must not be missing")
    return np.unique(days)


def _pairs(ledger: _Ledger, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (account, day) with day on/after origination, sorted by account then day."""
    first = np.searchsorted(days, ledger.start_day, side="left")
    counts = len(days) - first
    acct = np.repeat(np.arange(len(ledger.ids), dtype=np.int64), counts)
    offsets = np.arange(len(acct)) - np.repeat(np.cumsum(counts) - counts, counts)
    return acct, days[np.repeat(first, counts) + offsets]


# --------------------------------------------------------------------------- public API


def account_states(
    portfolio: Portfolio,
    as_of: Any,
    config: Config | None = None,
    *,
    partition_size: int | None = _DEFAULT_PARTITION,
) -> pd.DataFrame:
    """Aging state of every account on one or more dates.

    Parameters
    ----------
    portfolio : Portfolio
        Needs ``schedule`` and ``payments``; uses ``accounts`` (origination date,
        principal) and ``events`` (settled, closed, charged_off, restructured) if present.
    as_of : date, sequence of dates, or DataFrame
        The evaluation day(s) for every account, or a DataFrame of ``account_id, as_of``
        pairs (each evaluated once). Only rows known on or before each day are used.
    config : Config, optional
        ``config.aging`` gives tolerance (currency), grace days, charge-off DPD, buckets.
    partition_size : int, optional
        Accounts per partition (memory bound); ``None`` processes all at once.

    Returns
    -------
    pandas.DataFrame
        One row per account × as_of (or per distinct pair), sorted by account and date;
        accounts originated after a date, or without a schedule, are omitted:
        ``account_id, as_of, dpd`` (days), ``bucket`` (empty unless open), ``status``,
        ``balance`` (outstanding principal, currency), ``amount_overdue`` (due on or before
        as_of less grace days, minus paid; currency), ``amount_due_to_date`` (currency), ``paid_to_date`` (net of
        reversals known by as_of, currency), ``episode_start``, ``debt_age_days`` (days,
        empty outside an episode), ``charge_off_date``, ``worst_dpd_to_date`` (days).

    Examples
    --------
    >>> import pandas as pd
    >>> from recovery.data.portfolio import Portfolio
    >>> schedule = pd.DataFrame({"account_id": ["A"] * 3, "installment_no": [1, 2, 3],
    ...     "due_date": pd.to_datetime(["2024-02-01", "2024-03-01", "2024-04-01"]),
    ...     "amount_due": [100.0, 100.0, 100.0]})
    >>> payments = pd.DataFrame({"account_id": ["A"], "amount": [150.0],
    ...     "payment_date": pd.to_datetime(["2024-03-05"]), "channel": ["cash"]})
    >>> s = account_states(Portfolio(schedule=schedule, payments=payments),
    ...                    ["2024-03-04", "2024-03-20"])
    >>> s[["as_of", "dpd", "amount_overdue", "debt_age_days"]]
           as_of  dpd  amount_overdue  debt_age_days
    0 2024-03-04   32           200.0             32
    1 2024-03-20   19            50.0             48
    """
    cfg = _resolve_config(config)
    pairs = as_of if isinstance(as_of, pd.DataFrame) else None
    if pairs is not None:
        missing = {"account_id", "as_of"} - set(pairs.columns)
        if missing:
            raise DataError(f"as_of pairs need columns account_id and as_of (missing {missing})")
        pair_days = _day_numbers(pairs["as_of"])
        if (pair_days >= _NEVER).any():
            raise DataError("as_of dates must not be missing")
        # hash the pairs' ids once; each partition (a range of sorted ids) then takes
        # its pairs by code range
        pair_codes, pair_ids = pd.factorize(_id_values(pairs["account_id"]), sort=True)
        pair_ids = np.asarray(pair_ids, dtype=object)
    else:
        days = _as_days(as_of)
    frames = []
    for part in _partitions(portfolio, partition_size):
        ledger = _build_ledger(part, cfg)
        if pairs is None:
            acct, day = _pairs(ledger, days)
        else:
            lo, hi = np.searchsorted(pair_ids, [ledger.ids[0], ledger.ids[-1]], side="left")
            hi += hi < len(pair_ids) and pair_ids[hi] == ledger.ids[-1]
            local = pd.Index(ledger.ids).get_indexer(pair_ids[lo:hi]).astype(np.int64)
            inside = (pair_codes >= lo) & (pair_codes < hi)
            acct = np.full(len(pair_codes), -1, dtype=np.int64)
            acct[inside] = local[pair_codes[inside] - lo]
            keep = acct >= 0
            keep[keep] = pair_days[keep] >= ledger.start_day[acct[keep]]
            key = np.unique(acct[keep] * _SPAN + pair_days[keep])
            acct, day = key // _SPAN, key % _SPAN
        frames.append(_evaluate(ledger, acct, day, cfg))
    return _frame(frames)


_SNAPSHOT_COLUMNS = (
    "account_id",
    "month_end",
    "as_of",
    "dpd",
    "bucket",
    "balance",
    "amount_overdue",
    "paid_in_month",
    "status",
    "debt_age_days",
    "charge_off_date",
    "episode_start",
)


def _default_month_ends(portfolio: Portfolio) -> pd.DatetimeIndex:
    starts = []
    if portfolio.accounts is not None and "origination_date" in portfolio.accounts:
        starts.append(pd.to_datetime(portfolio.accounts["origination_date"]).min())
    if portfolio.schedule is not None and len(portfolio.schedule):
        starts.append(pd.to_datetime(portfolio.schedule["due_date"]).min() - pd.Timedelta(days=31))
    starts = [s for s in starts if pd.notna(s)]
    if not starts:
        raise DataError("cannot tell where the portfolio starts: no origination or due dates")
    return pd.date_range(min(starts), portfolio.data_end, freq="ME")


def _paid_in_month(
    partition: _Partition,
    month_ends: np.ndarray,
    acct: np.ndarray,
    day: np.ndarray,
) -> np.ndarray:
    """Net payments (currency) dated in the calendar month of each (account, month end).

    A payment counts in its month unless it was reversed by that month end.
    """
    out = np.zeros(len(acct))
    payments = partition.portfolio.payments
    if payments is None or len(payments) == 0 or len(month_ends) == 0:
        return out
    ids = partition.ids
    p_acct = partition.codes["payments"]
    p_day = _day_numbers(payments["payment_date"])
    rev = _column(payments, "reversed_date")
    r_day = np.full(len(payments), _NEVER) if rev is None else _day_numbers(rev)
    month_start = _day_numbers(
        pd.DatetimeIndex(_to_timestamps(month_ends)).to_period("M").start_time
    )
    m = np.searchsorted(month_ends, p_day, side="left")
    inside = (p_acct >= 0) & (m < len(month_ends))
    inside[inside] &= p_day[inside] >= month_start[m[inside]]
    inside[inside] &= r_day[inside] > month_ends[m[inside]]
    n_month = len(month_ends)
    totals = np.bincount(
        p_acct[inside] * n_month + m[inside],
        weights=payments["amount"].to_numpy(np.float64)[inside],
        minlength=len(ids) * n_month,
    )
    return totals[acct * n_month + np.searchsorted(month_ends, day)]


def snapshots(
    portfolio: Portfolio,
    month_ends: Any = None,
    config: Config | None = None,
    *,
    keep_closed: bool = False,
    partition_size: int | None = _DEFAULT_PARTITION,
    progress: bool = False,
) -> pd.DataFrame:
    """The monthly ``snapshots`` table (DESIGN.md §2) derived from the event tables.

    Parameters
    ----------
    portfolio : Portfolio
        Needs ``schedule`` and ``payments``; uses ``accounts`` and ``events`` if present.
    month_ends : sequence of dates, optional
        Default: every month end from the first origination to ``portfolio.data_end``.
    config : Config, optional
        Aging settings (tolerance, grace days, charge-off DPD, buckets).
    keep_closed : bool
        Keep repeating rows of accounts that are paid off, settled or closed. By default
        an account appears from its first month end after origination through the first
        month end of such a status (charged-off accounts stay: they are the recovery book).
    partition_size : int, optional
        Accounts per partition (bounds memory); ``None`` for one partition.
    progress : bool
        Show a progress bar over partitions.

    Returns
    -------
    pandas.DataFrame
        ``account_id, month_end, dpd`` (days), ``bucket`` (empty unless open),
        ``balance`` (outstanding principal), ``amount_overdue``, ``paid_in_month`` (net
        payments dated in the month, currency), ``status``, ``debt_age_days`` (days,
        empty outside a delinquency episode), ``charge_off_date``, ``episode_start`` and
        ``product`` when ``accounts`` has it. Sorted by account and month end.

    Examples
    --------
    >>> import pandas as pd
    >>> from recovery.data.portfolio import Portfolio
    >>> schedule = pd.DataFrame({"account_id": ["A"] * 2, "installment_no": [1, 2],
    ...     "due_date": pd.to_datetime(["2024-01-15", "2024-02-15"]),
    ...     "amount_due": [100.0, 100.0]})
    >>> payments = pd.DataFrame({"account_id": ["A", "A"], "amount": [100.0, 100.0],
    ...     "payment_date": pd.to_datetime(["2024-01-15", "2024-03-10"]),
    ...     "channel": ["cash", "cash"]})
    >>> snap = snapshots(Portfolio(schedule=schedule, payments=payments),
    ...                  pd.date_range("2024-01-31", "2024-04-30", freq="ME"))
    >>> snap[["month_end", "dpd", "bucket", "paid_in_month", "status"]]
       month_end  dpd bucket  paid_in_month    status
    0 2024-01-31    0     M0          100.0      open
    1 2024-02-29   14     M1            0.0      open
    2 2024-03-31    0    NaN          100.0  paid_off
    """
    cfg = _resolve_config(config)
    if month_ends is None:
        month_ends = _default_month_ends(portfolio)
    days = _as_days(month_ends)
    frames = []
    parts = list(_partitions(portfolio, partition_size))
    if progress:
        from tqdm.auto import tqdm

        parts = tqdm(parts, desc="snapshots", unit="partition")
    for part in parts:
        ledger = _build_ledger(part, cfg)
        acct, day = _pairs(ledger, days)
        states = _evaluate(ledger, acct, day, cfg)
        columns = {name: states[name] for name in _SNAPSHOT_COLUMNS if name in states}
        columns["month_end"] = columns.pop("as_of")
        columns["paid_in_month"] = _paid_in_month(part, days, acct, day)
        keep = None
        if not keep_closed:
            code = states["status"].codes
            repeat = (code == _shift_in_group(code, acct, -1)) & np.isin(code, (1, 3, 4))
            keep = ~repeat
        accounts = part.portfolio.accounts
        if accounts is not None and "product" in accounts:
            where = part.codes["accounts"]
            codes, names = pd.factorize(accounts["product"])
            product = np.full(len(ledger.ids), -1, dtype=np.int64)
            product[where[where >= 0]] = codes[where >= 0]
            names = np.r_[np.asarray(names, dtype=object), None]  # code -1 -> None
            columns["product"] = names[product[acct]]
        ordered = [c for c in _SNAPSHOT_COLUMNS if c in columns] + (
            ["product"] if "product" in columns else []
        )
        frames.append(_select({c: columns[c] for c in ordered}, keep))
    return _frame(frames)


def episodes(
    portfolio: Portfolio,
    config: Config | None = None,
    *,
    end: Any = None,
    partition_size: int | None = _DEFAULT_PARTITION,
) -> pd.DataFrame:
    """Delinquency episodes of every account up to ``end``.

    Parameters
    ----------
    portfolio : Portfolio
        Needs ``schedule`` and ``payments``; uses ``accounts`` and ``events`` if present.
    config : Config, optional
        Aging settings.
    end : date, optional
        Last day observed (default ``portfolio.data_end``); episodes still running then
        have no ``end_date``.

    Returns
    -------
    pandas.DataFrame
        ``account_id, episode_no`` (1, 2, … per account), ``start_date`` (the first
        missed due date), ``first_overdue_date`` (the first day with DPD > 0 — the day the
        episode is known; use it, not ``start_date``, for point-in-time filters),
        ``end_date`` (the day DPD returned to 0, or of payoff,
        settlement, closure or restructure; NaT while running), ``max_dpd`` (days),
        ``end_reason`` (``payment_cure``, ``paid_off``, ``settled``, ``closed``,
        ``restructured``; ``charged_off`` for an unresolved charged-off debt, ``open``
        otherwise), ``charge_off_date`` (NaT unless charged off during the episode).

    Examples
    --------
    >>> import pandas as pd
    >>> from recovery.data.portfolio import Portfolio
    >>> schedule = pd.DataFrame({"account_id": ["A"] * 3, "installment_no": [1, 2, 3],
    ...     "due_date": pd.to_datetime(["2024-01-15", "2024-02-15", "2024-03-15"]),
    ...     "amount_due": [100.0, 100.0, 100.0]})
    >>> payments = pd.DataFrame({"account_id": ["A"], "amount": [200.0],
    ...     "payment_date": pd.to_datetime(["2024-02-20"]), "channel": ["cash"]})
    >>> ep = episodes(Portfolio(schedule=schedule, payments=payments), end="2024-04-30")
    >>> ep[["episode_no", "start_date", "end_date", "max_dpd", "end_reason"]]
       episode_no start_date   end_date  max_dpd    end_reason
    0           1 2024-01-15 2024-02-20       35  payment_cure
    1           2 2024-03-15        NaT       46          open
    """
    cfg = _resolve_config(config)
    horizon = _as_days(portfolio.data_end if end is None else end)[-1]
    frames = []
    for part in _partitions(portfolio, partition_size):
        frames.append(_episodes_of(_build_ledger(part, cfg), horizon))
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return out


def _episodes_of(ledger: _Ledger, horizon: np.int64) -> pd.DataFrame:
    started = ledger.seg_starts & (ledger.seg_delinquent_from <= horizon)
    ep_ids = ledger.seg_episode[started]
    n_ep = len(ledger.ep_start) - 1
    acct = np.full(n_ep, -1, dtype=np.int64)
    acct[ep_ids] = ledger.seg_acct[started]
    first_overdue = np.full(n_ep, _NEVER)
    first_overdue[ep_ids] = ledger.seg_delinquent_from[started]
    # ends: the episode of the previous segment ends on this segment's first day
    ends = ledger.seg_ends_previous & (ledger.seg_start <= horizon)
    prev_episode = _shift_in_group(ledger.seg_episode, ledger.seg_acct, -1)
    end_day = np.full(n_ep, _NEVER)
    reason = np.full(n_ep, -1, dtype=np.int64)
    e_acct = ledger.seg_acct[ends]
    e_day = ledger.seg_start[ends]
    ended_by_event = ledger.end_event_day[e_acct] <= e_day
    code = np.where(
        ended_by_event,
        np.where(ledger.end_event_is_settled[e_acct], 2, 3),
        np.where(
            ledger.seg_restructure[ends],
            4,
            np.where(ledger.seg_oldest_due[ends] >= _NEVER, 1, 0),
        ),
    )
    end_day[prev_episode[ends]] = e_day
    reason[prev_episode[ends]] = code
    co = ledger.charge_off_day[np.maximum(acct, 0)]
    start = ledger.ep_start[:n_ep].copy()
    seen = (ledger.seg_delinquent_from <= horizon) & (ledger.seg_episode >= 0)
    np.minimum.at(start, ledger.seg_episode[seen], ledger.seg_episode_start[seen])
    charged = (co <= horizon) & (co >= start) & (co <= end_day)
    reason = np.where(reason >= 0, reason, np.where(charged, 5, 6))
    # worst DPD over the episode's segments, up to the horizon
    active = (ledger.seg_delinquent_from <= horizon) & (ledger.seg_episode >= 0)
    last = np.minimum(ledger.seg_next - 1, horizon)
    dpd_last = _dpd(last, ledger.seg_oldest_due, ledger.seg_terminal, ledger.grace)
    max_dpd = np.zeros(n_ep, dtype=np.int64)
    np.maximum.at(max_dpd, ledger.seg_episode[active], dpd_last[active])
    keep = acct >= 0
    out = pd.DataFrame(
        {
            "account_id": ledger.ids[acct[keep]],
            "start_date": _to_timestamps(start[keep]),
            "first_overdue_date": _to_timestamps(first_overdue[keep]),
            "end_date": _to_timestamps(end_day[keep]),
            "max_dpd": max_dpd[keep],
            "end_reason": pd.Categorical.from_codes(
                reason[keep], categories=list(EPISODE_END_REASONS)
            ),
            "charge_off_date": _to_timestamps(np.where(charged, co, _NEVER)[keep]),
        }
    )
    out.insert(1, "episode_no", out.groupby("account_id", sort=False).cumcount() + 1)
    return out


def dpd_series(
    portfolio: Portfolio,
    start: Any,
    end: Any,
    config: Config | None = None,
    *,
    account_ids: Iterable[str] | None = None,
    max_rows: int = 5_000_000,
) -> pd.DataFrame:
    """Daily aging state of a few accounts between ``start`` and ``end`` (inclusive).

    Parameters
    ----------
    portfolio : Portfolio
        The event tables.
    start, end : date
        First and last day.
    config : Config, optional
        Aging settings.
    account_ids : iterable of str, optional
        The accounts (default: all — keep the portfolio small).
    max_rows : int
        Refuse to build more rows than this (accounts × days).

    Returns
    -------
    pandas.DataFrame
        :func:`account_states` on every day, with the day in column ``date``.

    Examples
    --------
    >>> import pandas as pd
    >>> from recovery.data.portfolio import Portfolio
    >>> schedule = pd.DataFrame({"account_id": ["A"], "installment_no": [1],
    ...     "due_date": pd.to_datetime(["2024-01-15"]), "amount_due": [100.0]})
    >>> p = Portfolio(schedule=schedule, payments=None)
    >>> dpd_series(p, "2024-01-14", "2024-01-17")["dpd"].tolist()
    [0, 0, 1, 2]
    """
    if account_ids is not None:
        portfolio = portfolio.subset(account_ids)
    days = pd.date_range(start, end, freq="D")
    n_acct = 0 if portfolio.schedule is None else portfolio.schedule["account_id"].nunique()
    if n_acct * len(days) > max_rows:
        raise DataError(
            f"dpd_series would build {n_acct * len(days):,} rows (> max_rows={max_rows:,}); "
            "pass account_ids or a shorter period"
        )
    return account_states(portfolio, days, config).rename(columns={"as_of": "date"})


def plot_dpd_series(series: pd.DataFrame, ax: Any = None, config: Config | None = None) -> Any:
    """Days past due over time, one line per account, with the charge-off threshold.

    Parameters
    ----------
    series : pandas.DataFrame
        From :func:`dpd_series` (``account_id``, ``date``, ``dpd``).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.
    config : Config, optional
        For the charge-off DPD line (days) and the bucket edges (grid lines).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"account_id": ["A"] * 3, "dpd": [0, 1, 2],
    ...     "date": pd.date_range("2024-01-15", periods=3)})
    >>> plot_dpd_series(s).get_ylabel()
    'days past due'
    """
    cfg = _resolve_config(config)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(8, 4))
    date = "date" if "date" in series else "as_of"
    for account, rows in series.groupby("account_id", sort=True):
        ax.step(rows[date], rows["dpd"], where="post", lw=1.2, label=str(account))
    for edge in cfg.aging.bucket_edges[1:]:
        ax.axhline(edge, color="0.85", lw=0.6, zorder=0)
    ax.axhline(cfg.aging.charge_off_dpd, color="tab:red", ls="--", lw=0.9, label="charge-off")
    ax.set_xlabel("date")
    ax.set_ylabel("days past due")
    ax.set_title("Days past due")
    ax.legend(loc="upper left", fontsize="small")
    return ax
