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
- **Charge-off** on the first day DPD reaches ``config.aging.charge_off_dpd`` — or the
  threshold of the account's product kind, ``config.aging.charge_off_dpd_by_kind`` —
  (or an earlier ``charged_off`` event); status ``charged_off`` from then on, bucket
  empty.
- **Status** ``paid_off`` when everything the schedule in force asks for is paid (within
  the tolerance), ``settled`` / ``closed`` from the first such ``events`` row (DPD,
  balance and overdue amount are 0 after it). Charge-off is final unless a settlement
  or closure follows: a charged-off debt repaid in full stays ``charged_off`` (balance 0).
- **Delinquency episode**: starts at the first missed due date and ends with a payment
  cure (DPD back to 0 through payments), payoff, settlement or closure. A restructure
  (a schedule version or a ``restructured`` event) ends the episode as a *restructure*
  cure and any delinquency after it is a new episode; when the version is an accepted
  payment plan or deferral of the ``offers`` table (in force from the day it was
  accepted) the cure is a *re-age* cure (``re_aged``). Neither is a payment cure. After
  charge-off an episode ends only by payoff, settlement or closure: a plan on a
  charged-off debt does not make it younger. **Debt age** = days since the episode start;
  partial payments never make a debt younger, and a returned payment that re-opens an
  installment due before the episode began dates the episode back to it.

How it is computed is :mod:`~recovery.timeline.ledger` (segments of constant state,
oldest-first allocation in integer cents, no Python loop over accounts or days). The
work is a function of one partition of accounts (:func:`account_states`,
:func:`snapshots` and :func:`episodes` split large books into partitions of
``partition_size`` accounts). :func:`is_overdue` and :func:`overdue_pairs` tell which
accounts are in the recovery book: the pairs that features and labels are computed for.

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

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.errors import DataError
from recovery.progress import accounts_progress
from recovery.timeline.ledger import (
    NEVER,
    SPAN,
    Ledger,
    Partition,
    account_id_values,
    build_ledger,
    days_past_due,
    ledger_days,
    ledger_timestamps,
    partitions,
    shift_in_group,
)

__all__ = [
    "AgingLedger",
    "aging_ledger",
    "partition_ledgers",
    "account_states",
    "snapshots",
    "episodes",
    "dpd_series",
    "plot_dpd_series",
    "default_month_ends",
    "is_overdue",
    "overdue_pairs",
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
    "re_aged",
    "charged_off",
    "open",
)

_DEFAULT_PARTITION = 100_000


def _resolve_config(config: Config | None) -> Config:
    return config if config is not None else Config()


# --------------------------------------------------------------------------- state on a day


def _locate(ledger: Ledger, acct: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segment and status code (index into :data:`STATUSES`) of each (account code, day)."""
    seg = np.searchsorted(ledger.seg_key, acct * SPAN + day, side="right") - 1
    end_day = ledger.end_event_day[acct]
    ended = end_day <= day
    fully_paid = (ledger.seg_oldest_due[seg] >= NEVER) & ~ended
    charged = (ledger.charge_off_day[acct] <= day) & ~ended  # final unless settled/closed
    status_code = np.where(
        ended,
        np.where(ledger.end_event_is_settled[acct], 3, 4),
        np.where(fully_paid & ~charged, 1, np.where(charged, 2, 0)),
    ).astype(np.int8)
    return seg, status_code


_STATE_COLUMNS = (
    "account_id",
    "as_of",
    "dpd",
    "bucket",
    "status",
    "balance",
    "amount_overdue",
    "amount_due_to_date",
    "paid_to_date",
    "episode_start",
    "debt_age_days",
    "charge_off_date",
    "worst_dpd_to_date",
)


def _evaluate(
    ledger: Ledger,
    acct: np.ndarray,
    day: np.ndarray,
    config: Config,
    located: tuple[np.ndarray, np.ndarray] | None = None,
    columns: Sequence[str] = _STATE_COLUMNS,
) -> dict[str, Any]:
    """``columns`` of the state of each (account code, day) pair (days on/after
    origination); ``located`` is :func:`_locate` of the pairs when already known."""
    seg, status_code = _locate(ledger, acct, day) if located is None else located
    wanted = set(columns)
    out: dict[str, Any] = {}
    oldest = ledger.seg_oldest_due[seg]
    terminal = (status_code >= 3) | (oldest >= NEVER)  # ended, or fully paid
    dpd = days_past_due(day, oldest, terminal, ledger.grace)
    out["account_id"] = ledger.ids[acct]
    out["as_of"] = ledger_timestamps(day)
    out["dpd"] = dpd.astype(np.int64)
    if "bucket" in wanted:
        bucket_code = np.where(status_code == 0, config.aging.bucket_index(dpd), -1)
        out["bucket"] = pd.Categorical.from_codes(
            bucket_code, categories=list(config.aging.bucket_names)
        )
    out["status"] = pd.Categorical.from_codes(status_code, categories=list(STATUSES))
    if "balance" in wanted:
        out["balance"] = np.where(terminal, 0.0, ledger.seg_balance[seg])
    if wanted & {"amount_overdue", "amount_due_to_date"}:
        group = ledger.seg_group[seg]
        paid_version = ledger.seg_paid_version[seg]
        due_to_date = ledger.due_through(group, day)
        # "due to date − paid to date": installments due on or before day (less grace days)
        due_by_grace = (
            due_to_date if ledger.grace == 0 else ledger.due_through(group, day - ledger.grace)
        )
        overdue = np.where(terminal, 0, np.maximum(due_by_grace - paid_version, 0))
        out["amount_overdue"] = overdue / 100.0
        if "amount_due_to_date" in wanted:
            before = ledger.seg_paid_all[seg] - paid_version  # paid towards earlier versions
            out["amount_due_to_date"] = (before + due_to_date) / 100.0
    if "paid_to_date" in wanted:
        out["paid_to_date"] = ledger.seg_paid_all[seg] / 100.0
    if wanted & {"episode_start", "debt_age_days"}:
        in_episode = ledger.seg_delinquent_from[seg] <= day
        ep_start = np.where(in_episode, ledger.seg_episode_start[seg], NEVER)
        out["episode_start"] = ledger_timestamps(ep_start)
        debt_age = np.where(in_episode, day - ep_start, -1)
        no_episode = debt_age < 0
        out["debt_age_days"] = pd.arrays.IntegerArray(np.where(no_episode, 0, debt_age), no_episode)
    if "charge_off_date" in wanted:
        co_day = ledger.charge_off_day[acct]
        out["charge_off_date"] = ledger_timestamps(np.where(co_day <= day, co_day, NEVER))
    if "worst_dpd_to_date" in wanted:
        out["worst_dpd_to_date"] = np.maximum(ledger.seg_worst_before[seg], dpd).astype(np.int64)
    return {name: out[name] for name in columns}


def _frame(parts: list[dict[str, Any]]) -> pd.DataFrame:
    """One DataFrame from per-partition column dicts (one copy per column).

    Column by column, each column's pieces released once joined: the peak is the
    pieces plus one column, not twice the table. ``parts`` is emptied.
    """
    if len(parts) == 1:
        return pd.DataFrame(parts.pop(), copy=False)
    columns = {}
    for name in list(parts[0]):
        pieces = [part.pop(name) for part in parts]
        if isinstance(pieces[0], np.ndarray):
            columns[name] = np.concatenate(pieces)
        else:  # pandas extension arrays (categoricals with equal categories, Int64)
            columns[name] = type(pieces[0])._concat_same_type(pieces)
        del pieces
    parts.clear()
    return pd.DataFrame(columns, copy=False)


def _as_days(dates: Any) -> np.ndarray:
    if isinstance(dates, (str, pd.Timestamp, np.datetime64)) or not isinstance(
        dates, (Sequence, np.ndarray, pd.Index, pd.Series)
    ):
        dates = [dates]
    days = ledger_days(pd.to_datetime(list(dates) if not isinstance(dates, pd.Series) else dates))
    if (days >= NEVER).any():
        raise DataError("as_of dates must not be missing")
    return np.unique(days)


# --------------------------------------------------------------------------- shared ledger


@dataclass
class AgingLedger:
    """The aging ledger of a portfolio, built once and shared by the stages that read it.

    :func:`~recovery.timeline.aging.account_states`, :func:`~recovery.timeline.aging.snapshots`,
    :func:`~recovery.timeline.aging.episodes`, the aging features and the labels each
    build the ledger of the portfolio they are given; given one ``AgingLedger``
    (``ledger=``) they read it instead, with the same results. Memory: the ledgers of
    all partitions at once.

    Attributes
    ----------
    portfolio : Portfolio
        The portfolio it was built from (the stages check they are given that one).
    config : Config
        The config it was built with (``config.aging``, product kinds).
    parts : list of (Partition, Ledger)
        Each partition of accounts with its ledger.
    """

    portfolio: Portfolio
    config: Config
    parts: list[tuple[Partition, Ledger]]

    def check(self, portfolio: Portfolio, config: Config) -> None:
        """Raise unless built from ``portfolio`` with ``config``.

        Raises
        ------
        DataError
            When the portfolio or the config differs.
        """
        if portfolio is not self.portfolio:
            raise DataError("the aging ledger was built from another portfolio; build one for this")
        if config != self.config:
            raise DataError("the aging ledger was built with another config; build one for this")


def aging_ledger(
    portfolio: Portfolio, config: Config | None = None, *, partition_size: int | None = None
) -> AgingLedger:
    """Build the :class:`AgingLedger` of a portfolio once, to share between stages.

    Parameters
    ----------
    portfolio : Portfolio
        Needs ``schedule``; uses ``accounts``, ``payments``, ``events``, ``offers``.
    config : Config, optional
    partition_size : int, optional
        Accounts per partition (:func:`~recovery.timeline.ledger.partitions`); ``None``: one partition.

    Returns
    -------
    AgingLedger

    Examples
    --------
    >>> schedule = pd.DataFrame({"account_id": ["A"] * 2, "installment_no": [1, 2],
    ...     "due_date": pd.to_datetime(["2024-02-01", "2024-03-01"]), "amount_due": 100.0})
    >>> pf = Portfolio(schedule=schedule, meta={"data_end": "2024-03-31"})
    >>> book = aging_ledger(pf)
    >>> account_states(pf, "2024-03-11", ledger=book)["dpd"].tolist()
    [39]
    >>> episodes(pf, ledger=book)["start_date"].dt.strftime("%Y-%m-%d").tolist()
    ['2024-02-01']
    """
    config = config if config is not None else Config()
    parts = [(part, build_ledger(part, config)) for part in partitions(portfolio, partition_size)]
    return AgingLedger(portfolio, config, parts)


def partition_ledgers(
    portfolio: Portfolio,
    config: Config,
    partition_size: int | None,
    ledger: AgingLedger | None = None,
    *,
    progress: str | None = None,
) -> Iterator[tuple[Partition, Ledger]]:
    """Each partition of ``portfolio`` with its ledger, built one at a time (or read from
    ``ledger``, built for this portfolio and config): one ledger alive at a time.

    Parameters
    ----------
    portfolio : Portfolio
    config : Config
    partition_size : int, optional
        As for :func:`~recovery.timeline.ledger.partitions` (ignored with ``ledger``: its partitions are used).
    ledger : AgingLedger, optional
    progress : str, optional
        Show a progress bar over the partitions, with this description.

    Yields
    ------
    tuple of (Partition, Ledger)

    Raises
    ------
    DataError
        When ``ledger`` was built from another portfolio or config.
    """
    enabled = progress is not None
    if ledger is not None:
        ledger.check(portfolio, config)
        size = lambda item: len(item[0].ids)  # noqa: E731
        yield from accounts_progress(ledger.parts, progress or "", enabled, size=size)
        return
    parts = partitions(portfolio, partition_size)
    if enabled:  # the bar lists the partitions (views of the tables) first, not ledgers
        parts = accounts_progress(parts, progress, size=lambda p: len(p.ids))
    for part in parts:
        yield part, build_ledger(part, config)


# --------------------------------------------------------------------------- public API


def account_states(
    portfolio: Portfolio,
    as_of: Any,
    config: Config | None = None,
    *,
    partition_size: int | None = _DEFAULT_PARTITION,
    ledger: AgingLedger | None = None,
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
    ledger : AgingLedger, optional
        The ledger of ``portfolio`` built once (:func:`aging_ledger`); built here when
        not given. Same results.

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
        pair_days = ledger_days(pairs["as_of"])
        if (pair_days >= NEVER).any():
            raise DataError("as_of dates must not be missing")
        # hash the pairs' ids once; each partition (a range of sorted ids) then takes
        # its pairs by code range
        pair_codes, pair_ids = pd.factorize(account_id_values(pairs["account_id"]), sort=True)
        pair_ids = np.asarray(pair_ids, dtype=object)
    else:
        days = _as_days(as_of)
    frames = []
    for _part, led in partition_ledgers(portfolio, cfg, partition_size, ledger):
        if pairs is None:
            acct, day = led.account_days(days)
        else:
            lo, hi = np.searchsorted(pair_ids, [led.ids[0], led.ids[-1]], side="left")
            hi += hi < len(pair_ids) and pair_ids[hi] == led.ids[-1]
            local = pd.Index(led.ids).get_indexer(pair_ids[lo:hi]).astype(np.int64)
            inside = (pair_codes >= lo) & (pair_codes < hi)
            acct = np.full(len(pair_codes), -1, dtype=np.int64)
            acct[inside] = local[pair_codes[inside] - lo]
            keep = acct >= 0
            keep[keep] = pair_days[keep] >= led.start_day[acct[keep]]
            key = np.unique(acct[keep] * SPAN + pair_days[keep])
            acct, day = key // SPAN, key % SPAN
        frames.append(_evaluate(led, acct, day, cfg))
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


_SNAPSHOT_STATE_COLUMNS = tuple(c for c in _STATE_COLUMNS if c == "as_of" or c in _SNAPSHOT_COLUMNS)


def default_month_ends(portfolio: Portfolio) -> pd.DatetimeIndex:
    """Every month end from the start of the portfolio to ``portfolio.data_end``.

    The start is the first origination date, or 31 days before the first due date
    when that is earlier (or there is no ``accounts`` table).

    Parameters
    ----------
    portfolio : Portfolio

    Returns
    -------
    pandas.DatetimeIndex

    Raises
    ------
    DataError
        Without origination or due dates.

    Examples
    --------
    >>> schedule = pd.DataFrame({"account_id": ["A"], "installment_no": [1],
    ...     "due_date": pd.to_datetime(["2024-03-15"]), "amount_due": [100.0]})
    >>> p = Portfolio(schedule=schedule, meta={"data_end": "2024-04-30"})
    >>> list(default_month_ends(p).strftime("%Y-%m-%d"))
    ['2024-02-29', '2024-03-31', '2024-04-30']
    """
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
    partition: Partition,
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
    p_day = ledger_days(payments["payment_date"])
    r_day = (
        ledger_days(payments["reversed_date"])
        if "reversed_date" in payments.columns
        else np.full(len(payments), NEVER)
    )
    month_start = ledger_days(
        pd.DatetimeIndex(ledger_timestamps(month_ends)).to_period("M").start_time
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
    ledger: AgingLedger | None = None,
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
    ledger : AgingLedger, optional
        The ledger of ``portfolio`` built once (:func:`aging_ledger`). Same results.

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
        month_ends = default_month_ends(portfolio)
    days = _as_days(month_ends)
    frames = []
    parts = partition_ledgers(
        portfolio, cfg, partition_size, ledger, progress="snapshots" if progress else None
    )
    for part, led in parts:
        acct, day = led.account_days(days)
        seg, code = _locate(led, acct, day)
        if not keep_closed:  # rows are evaluated only once they are known to be kept
            repeat = (code == shift_in_group(code, acct, -1)) & np.isin(code, (1, 3, 4))
            keep = np.flatnonzero(~repeat)
            acct, day, seg, code = acct[keep], day[keep], seg[keep], code[keep]
            del repeat, keep
        columns = _evaluate(led, acct, day, cfg, (seg, code), _SNAPSHOT_STATE_COLUMNS)
        del seg, code
        columns["month_end"] = columns.pop("as_of")
        columns["paid_in_month"] = _paid_in_month(part, days, acct, day)
        accounts = part.portfolio.accounts
        if accounts is not None and "product" in accounts:
            where = part.codes["accounts"]
            codes, names = pd.factorize(accounts["product"])
            product = np.full(len(led.ids), -1, dtype=np.int64)
            product[where[where >= 0]] = codes[where >= 0]
            names = np.r_[np.asarray(names, dtype=object), None]  # code -1 -> None
            columns["product"] = names[product[acct]]
        ordered = [c for c in _SNAPSHOT_COLUMNS if c in columns] + (
            ["product"] if "product" in columns else []
        )
        frames.append({c: columns[c] for c in ordered})
        del part, led, columns, acct, day  # one partition's arrays alive at a time
    return _frame(frames)


def episodes(
    portfolio: Portfolio,
    config: Config | None = None,
    *,
    end: Any = None,
    partition_size: int | None = _DEFAULT_PARTITION,
    ledger: AgingLedger | None = None,
) -> pd.DataFrame:
    """Delinquency episodes of every account up to ``end``.

    Parameters
    ----------
    portfolio : Portfolio
        Needs ``schedule`` and ``payments``; uses ``accounts``, ``events`` and
        ``offers`` (which versions are accepted plans or deferrals) if present.
    config : Config, optional
        Aging settings.
    end : date, optional
        Last day observed (default ``portfolio.data_end``); episodes still running then
        have no ``end_date``.
    partition_size : int, optional
        Accounts per partition (memory bound).
    ledger : AgingLedger, optional
        The ledger of ``portfolio`` built once (:func:`aging_ledger`). Same results.

    Returns
    -------
    pandas.DataFrame
        ``account_id, episode_no`` (1, 2, … per account), ``start_date`` (the first
        missed due date), ``first_overdue_date`` (the first day with DPD > 0 — the day the
        episode is known; use it, not ``start_date``, for point-in-time filters),
        ``end_date`` (the day DPD returned to 0, or of payoff,
        settlement, closure or restructure; NaT while running), ``max_dpd`` (days),
        ``end_reason`` (``payment_cure``, ``paid_off``, ``settled``, ``closed``,
        ``restructured``, ``re_aged`` — a restructure that is an accepted plan or
        deferral of ``offers``; ``charged_off`` for an unresolved charged-off debt,
        ``open`` otherwise), ``charge_off_date`` (NaT unless charged off during the
        episode).

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
    for _part, led in partition_ledgers(portfolio, cfg, partition_size, ledger):
        frames.append(_episodes_of(led, horizon))
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return out


def _episodes_of(ledger: Ledger, horizon: np.int64) -> pd.DataFrame:
    started = ledger.seg_starts & (ledger.seg_delinquent_from <= horizon)
    ep_ids = ledger.seg_episode[started]
    n_ep = len(ledger.ep_start) - 1
    acct = np.full(n_ep, -1, dtype=np.int64)
    acct[ep_ids] = ledger.seg_acct[started]
    first_overdue = np.full(n_ep, NEVER)
    first_overdue[ep_ids] = ledger.seg_delinquent_from[started]
    # ends: the episode of the previous segment ends on this segment's first day
    ends = ledger.seg_ends_previous & (ledger.seg_start <= horizon)
    prev_episode = shift_in_group(ledger.seg_episode, ledger.seg_acct, -1)
    end_day = np.full(n_ep, NEVER)
    reason = np.full(n_ep, -1, dtype=np.int64)
    e_acct = ledger.seg_acct[ends]
    e_day = ledger.seg_start[ends]
    ended_by_event = ledger.end_event_day[e_acct] <= e_day
    code = np.where(
        ended_by_event,
        np.where(ledger.end_event_is_settled[e_acct], 2, 3),
        np.where(
            ledger.seg_restructure[ends],
            np.where(ledger.seg_reage[ends], 5, 4),
            np.where(ledger.seg_oldest_due[ends] >= NEVER, 1, 0),
        ),
    )
    end_day[prev_episode[ends]] = e_day
    reason[prev_episode[ends]] = code
    co = ledger.charge_off_day[np.maximum(acct, 0)]
    start = ledger.ep_start[:n_ep].copy()
    seen = (ledger.seg_delinquent_from <= horizon) & (ledger.seg_episode >= 0)
    np.minimum.at(start, ledger.seg_episode[seen], ledger.seg_episode_start[seen])
    charged = (co <= horizon) & (co >= start) & (co <= end_day)
    reason = np.where(reason >= 0, reason, np.where(charged, 6, 7))
    # worst DPD over the episode's segments, up to the horizon
    active = (ledger.seg_delinquent_from <= horizon) & (ledger.seg_episode >= 0)
    last = np.minimum(ledger.seg_next - 1, horizon)
    dpd_last = days_past_due(last, ledger.seg_oldest_due, ledger.seg_terminal, ledger.grace)
    max_dpd = np.zeros(n_ep, dtype=np.int64)
    np.maximum.at(max_dpd, ledger.seg_episode[active], dpd_last[active])
    keep = acct >= 0
    out = pd.DataFrame(
        {
            "account_id": ledger.ids[acct[keep]],
            "start_date": ledger_timestamps(start[keep]),
            "first_overdue_date": ledger_timestamps(first_overdue[keep]),
            "end_date": ledger_timestamps(end_day[keep]),
            "max_dpd": max_dpd[keep],
            "end_reason": pd.Categorical.from_codes(
                reason[keep], categories=list(EPISODE_END_REASONS)
            ),
            "charge_off_date": ledger_timestamps(np.where(charged, co, NEVER)[keep]),
        }
    )
    out.insert(1, "episode_no", out.groupby("account_id", sort=False).cumcount() + 1)
    return out


# --------------------------------------------------------------------------- recovery book


def is_overdue(status: Any, dpd: Any, balance: Any, config: Config | None = None) -> np.ndarray:
    """Overdue: open with DPD > 0, or charged off with a balance left (the recovery book).

    A charged-off balance at or below ``config.aging.tolerance`` (currency) is repaid;
    an unknown balance (a status-only history) is not.

    Examples
    --------
    >>> is_overdue(["open", "open", "charged_off", "charged_off"], [0, 3, 200, 0],
    ...            [100.0, 100.0, 50.0, 0.0]).tolist()
    [False, True, True, False]
    """
    config = config or Config()
    status = pd.Series(status).astype(object).to_numpy()
    dpd = pd.to_numeric(pd.Series(dpd), errors="coerce").fillna(0).to_numpy()
    balance = np.broadcast_to(pd.to_numeric(pd.Series(balance), errors="coerce"), status.shape)
    charged = (status == "charged_off") & ~(balance <= config.aging.tolerance)  # NaN: unknown
    return ((status == "open") & (dpd > 0)) | charged


def overdue_pairs(states: pd.DataFrame, config: Config | None = None) -> pd.DataFrame:
    """The (account_id, as_of) pairs of overdue accounts in an ``account_states`` table.

    Overdue: see :func:`is_overdue`.

    Examples
    --------
    >>> st = pd.DataFrame({"account_id": ["A", "B", "C"], "as_of": pd.Timestamp("2024-01-31"),
    ...     "dpd": [0, 12, 200], "status": ["open", "open", "charged_off"], "balance": 50.0})
    >>> overdue_pairs(st)["account_id"].tolist()
    ['B', 'C']
    """
    config = config or Config()
    balance = states["balance"] if "balance" in states else np.nan  # status only: unknown
    mask = is_overdue(states["status"], states["dpd"], balance, config)
    return (
        states.loc[mask, ["account_id", "as_of"]]
        .sort_values(["as_of", "account_id"], kind="stable")
        .reset_index(drop=True)
    )


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
