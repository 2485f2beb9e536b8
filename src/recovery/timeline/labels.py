"""Targets of the scorers: p_pay, p_cure, roll-back and amount collected (DESIGN.md §3).

For each ``(account_id, as_of)`` pair, :func:`build_labels` looks only at what happens
**after** ``as_of``:

- ``p_pay`` — 1 when payments posted in ``(as_of, as_of + p_pay_horizon_days]`` and not
  reversed on or before the end of that horizon add up to at least the minimum payment:
  the smaller of the overdue amount at ``as_of`` and ``min_payment_installments``
  installments of the schedule version in force; after charge-off,
  ``charged_off_min_share`` × the balance at charge-off status. A shortfall below
  ``config.aging.tolerance`` still qualifies.
- ``amount_collected`` — those payments' total (currency).
- ``p_cure`` — for accounts open and overdue at ``as_of``: 1 when DPD is 0 at
  ``as_of + p_cure_horizon_days`` (status open or paid off) through payments. A cure by
  restructure (a schedule version or ``restructured`` event effective inside the
  horizon), a re-age (a payment plan or deferral of ``offers`` accepted inside the
  horizon) or a settlement is not a payment cure (0).
- ``roll_back`` — for accounts open in M3 or worse at ``as_of``: 1 when at
  ``as_of + p_cure_horizon_days`` the account is in a better bucket or paid off, without
  a restructure or re-age inside the horizon.

A label whose horizon ends after ``portfolio.data_end`` is **censored**: NA, with
``p_pay_censored`` / ``p_cure_censored`` (and ``censored`` = either) set, never a 0.
Pairs that are not overdue at ``as_of`` (see :func:`recovery.timeline.aging.is_overdue`: open
with DPD 0, closed, or charged off with nothing left) get NA labels and
``overdue = False``.

A lender with only monthly data gets the same labels, read at month ends, from
:func:`snapshot_labels` (the approximations are listed there).

Examples
--------
>>> from recovery.timeline.labels import LABEL_COLUMNS
>>> LABEL_COLUMNS[:3]
('p_pay', 'amount_collected', 'p_cure')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.offers import acceptance_day, changes_schedule
from recovery.data.portfolio import Portfolio
from recovery.errors import DataError
from recovery.progress import accounts_progress
from recovery.timeline.aging import AgingLedger, account_states, is_overdue, overdue_pairs
from recovery.timeline.days import DAYS_PER_MONTH, day_numbers, month_numbers, to_dates
from recovery.timeline.events import (
    Events,
    Pairs,
    account_partitions,
    as_pairs,
    pairs_of_accounts,
    pairs_table,
    schedule_in_force,
)

__all__ = ["build_labels", "snapshot_labels", "LABEL_COLUMNS"]

LABEL_COLUMNS = (
    "p_pay",
    "amount_collected",
    "p_cure",
    "roll_back",
    "min_payment",
    "overdue",
    "p_pay_censored",
    "p_cure_censored",
    "censored",
)
#: first bucket (by position in config.aging.bucket_names) that gets a roll-back label
ROLL_BACK_FROM_BUCKET = 3


def build_labels(
    portfolio: Portfolio,
    pairs: pd.DataFrame | Sequence[Any] | Any,
    config: Config | None = None,
    *,
    partition_size: int | None = 50_000,
    progress: bool = False,
    ledger: AgingLedger | None = None,
) -> pd.DataFrame:
    """Labels of each (account_id, as_of) pair, from rows after as_of only.

    Parameters
    ----------
    portfolio : Portfolio
        Needs ``schedule`` and ``payments`` (``accounts`` and ``events`` used if given);
        ``portfolio.data_end`` decides censoring.
    pairs : DataFrame or date or list of dates
        ``account_id, as_of`` pairs, or dates: every overdue account at each date.
    config : Config, optional
        Horizons and minimum-payment rule from ``config.labels``.
    partition_size : int, optional
        Accounts per partition (memory bound); results do not depend on it.
    progress : bool
        Show a progress bar over partitions.
    ledger : AgingLedger, optional
        The aging ledger of ``portfolio`` built once
        (:func:`recovery.timeline.aging.aging_ledger`); the pairs are then labelled in
        one piece (``partition_size`` ignored). Same results.

    Returns
    -------
    pandas.DataFrame
        ``account_id, as_of`` then :data:`LABEL_COLUMNS`: ``p_pay``, ``p_cure``,
        ``roll_back`` (nullable Int8: 1, 0 or NA), ``amount_collected`` and
        ``min_payment`` (currency), ``overdue`` and the censoring flags (bool). Sorted by
        ``account_id, as_of``.

    Examples
    --------
    >>> sched = pd.DataFrame({"account_id": "A", "installment_no": [1, 2],
    ...     "due_date": pd.to_datetime(["2024-01-10", "2024-02-10"]), "amount_due": 100.0})
    >>> pays = pd.DataFrame({"account_id": ["A"], "amount": [100.0], "channel": "cash",
    ...     "payment_date": pd.to_datetime(["2024-02-20"])})
    >>> pf = Portfolio(schedule=sched, payments=pays, meta={"data_end": "2024-03-15"})
    >>> build_labels(pf, ["2024-01-31"])[["p_pay", "amount_collected", "p_cure", "censored"]]
       p_pay  amount_collected  p_cure  censored
    0      1             100.0    <NA>      True
    """
    config = config or Config()
    for name in ("schedule", "payments"):
        if getattr(portfolio, name) is None:
            raise DataError(f"labels need the '{name}' table")
    request = as_pairs(pairs)
    if isinstance(request, pd.DataFrame):
        accounts = pd.unique(request["account_id"].astype(str))
    else:
        accounts = pd.unique(portfolio.schedule["account_id"].astype(str))
    chunks = account_partitions(accounts, None if ledger is not None else partition_size)
    whole = len(chunks) <= 1
    chunks = accounts_progress(chunks, "labels", progress)
    parts = []
    for ids in chunks:
        part = portfolio if whole else portfolio.subset(ids)
        req = pairs_of_accounts(request, ids)
        parts.append(_labels_of_partition(part, req, config, ledger if whole else None))
    if not parts:
        return pd.DataFrame(columns=["account_id", "as_of", *LABEL_COLUMNS])
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["account_id", "as_of"], kind="stable").reset_index(drop=True)


def _labels_of_partition(
    portfolio: Portfolio, request, config: Config, ledger: AgingLedger | None
) -> pd.DataFrame:
    lab = config.labels
    data_end = day_numbers([portfolio.data_end])[0]
    if isinstance(request, pd.DataFrame):
        pairs = pairs_table(request)
        dates = sorted(pairs["as_of"].unique())
        now = account_states(portfolio, dates, config, ledger=ledger)
    else:
        now = account_states(portfolio, request, config, ledger=ledger)
        pairs = overdue_pairs(now, config)
    p = Pairs.of(pairs.reset_index(drop=True))
    out = p.frame.copy()
    n = len(out)
    # state at as_of
    st = _lookup_states(now, p)
    status = st["status"].astype(object).to_numpy()
    dpd = pd.to_numeric(st["dpd"], errors="coerce").to_numpy(dtype="float64")
    is_open = status == "open"
    charged = status == "charged_off"
    overdue = is_overdue(status, dpd, st["balance"], config)
    # minimum qualifying payment
    inst = schedule_in_force(portfolio.schedule, out["account_id"], out["as_of"])
    installment = inst["installment_amount"].to_numpy()
    owed = st["amount_overdue"].to_numpy(dtype="float64")
    balance = st["balance"].to_numpy(dtype="float64")
    open_min = np.fmin(owed, lab.min_payment_installments * installment)
    min_payment = np.where(charged, lab.charged_off_min_share * balance, open_min)
    min_payment = np.where(overdue, min_payment, np.nan)
    # payments after as_of, within the horizon, not reversed by the horizon end
    collected = _collected(portfolio, p, lab.p_pay_horizon_days)
    pay_censored = p.days + lab.p_pay_horizon_days > data_end
    need = np.maximum(min_payment - config.aging.tolerance, 1e-9)
    p_pay = np.where(collected >= need, 1, 0)
    out["p_pay"] = _nullable(p_pay, ~overdue | pay_censored)
    out["amount_collected"] = np.where(overdue & ~pay_censored, np.round(collected, 6), np.nan)
    # state at as_of + cure horizon
    cure_censored = p.days + lab.p_cure_horizon_days > data_end
    later_days = p.days + lab.p_cure_horizon_days
    wanted = np.unique(later_days[~cure_censored & overdue])
    if len(wanted):
        after = account_states(portfolio, list(to_dates(wanted)), config, ledger=ledger)
        st2 = _lookup_states(after, p, later_days)
    else:
        st2 = pd.DataFrame({"status": [None] * n, "dpd": np.nan, "bucket": None})
    status2 = st2["status"].astype(object).to_numpy()
    dpd2 = pd.to_numeric(st2["dpd"], errors="coerce").to_numpy(dtype="float64")
    restructured = _restructured_within(portfolio, p, lab.p_cure_horizon_days)
    cured = (dpd2 == 0) & np.isin(status2, ["open", "paid_off"]) & ~restructured
    cure_eligible = overdue & is_open
    out["p_cure"] = _nullable(cured.astype(int), ~cure_eligible | cure_censored)
    names = list(config.aging.bucket_names)
    b_now = pd.Categorical(st["bucket"], categories=names).codes
    b_later = pd.Categorical(st2["bucket"], categories=names).codes
    better = ((status2 == "open") & (b_later >= 0) & (b_later < b_now)) | (status2 == "paid_off")
    better &= ~restructured
    roll_eligible = cure_eligible & (b_now >= ROLL_BACK_FROM_BUCKET)
    out["roll_back"] = _nullable(better.astype(int), ~roll_eligible | cure_censored)
    out["min_payment"] = min_payment
    out["overdue"] = overdue
    out["p_pay_censored"] = pay_censored
    out["p_cure_censored"] = cure_censored
    out["censored"] = pay_censored | cure_censored
    return out


def _nullable(values: np.ndarray, missing: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(np.asarray(values, dtype="int8"), np.asarray(missing, dtype=bool))


def _lookup_states(states: pd.DataFrame, p: Pairs, days: np.ndarray | None = None) -> pd.DataFrame:
    """Rows of an account_states table at (pair account, day); NA rows when absent."""
    days = p.days if days is None else days
    rows = p.rows_in(states, days)
    hit = rows >= 0
    rows = np.where(hit, rows, 0)
    cols = ["status", "dpd", "bucket", "amount_overdue", "balance"]
    got = (
        states.iloc[rows][cols].reset_index(drop=True)
        if len(states)
        else pd.DataFrame({c: [np.nan] * len(days) for c in cols})
    )
    got = got.astype({"status": object, "bucket": object})
    got.loc[~hit, cols] = np.nan
    got.loc[~hit, ["status", "bucket"]] = None
    return got


def _collected(portfolio: Portfolio, p: Pairs, horizon: int) -> np.ndarray:
    """Payments in (as_of, as_of + horizon] not reversed on or before the horizon end."""
    pays = portfolio.payments
    code = p.code(pays["account_id"])
    keep = code >= 0
    day = day_numbers(pays["payment_date"])
    amount = pays["amount"].to_numpy(dtype="float64")
    ev = Events(code[keep], day[keep], amount=amount[keep])
    total = ev.window("amount", p.codes, p.days + horizon, horizon)
    if "reversed_date" not in pays:
        return total
    rev = day_numbers(pays["reversed_date"])
    r = keep & (rev >= 0)
    if not r.any():
        return total
    # reversed payments are few: pair them with the account's pairs and subtract those
    # posted inside the window and reversed by its end
    reversed_rows = pd.DataFrame(
        {"code": code[r], "day": day[r], "rev": rev[r], "amount": amount[r]}
    )
    q = pd.DataFrame({"code": p.codes, "as_of": p.days, "row": np.arange(len(p.codes))})
    m = q.merge(reversed_rows, on="code")
    hit = (
        (m["day"] > m["as_of"])
        & (m["day"] <= m["as_of"] + horizon)
        & (m["rev"] <= m["as_of"] + horizon)
    )
    lost = m[hit].groupby("row")["amount"].sum()
    total = total.copy()
    total[lost.index.to_numpy()] -= lost.to_numpy()
    return total


def _restructured_within(portfolio: Portfolio, p: Pairs, horizon: int) -> np.ndarray:
    """A restructure (new schedule version, event, or accepted plan or deferral of
    ``offers``) dated in (as_of, as_of + horizon]."""
    hit = np.zeros(len(p.codes), dtype=bool)
    sched = portfolio.schedule
    if "effective_from" in sched and "schedule_version" in sched:
        s = sched[
            (sched["schedule_version"].fillna(1) > 1)
            & pd.to_datetime(sched["effective_from"]).notna()
        ]
        s = s.drop_duplicates(["account_id", "schedule_version"])
        code = p.code(s["account_id"])
        ok = code >= 0
        ev = Events(code[ok], day_numbers(s["effective_from"])[ok])
        hit |= ev.window(None, p.codes, p.days + horizon, horizon) > 0
    if portfolio.events is not None and len(portfolio.events):
        e = portfolio.events[portfolio.events["event"].astype(str) == "restructured"]
        code = p.code(e["account_id"])
        ok = code >= 0
        ev = Events(code[ok], day_numbers(e["date"])[ok])
        hit |= ev.window(None, p.codes, p.days + horizon, horizon) > 0
    offers = portfolio.offers
    if offers is not None and len(offers) and {"kind", "outcome", "offered_at"} <= set(offers):
        o = offers[changes_schedule(offers)]  # accepted plans and deferrals: re-ages
        code = p.code(o["account_id"])
        ok = code >= 0
        ev = Events(code[ok], day_numbers(acceptance_day(o))[ok])
        hit |= ev.window(None, p.codes, p.days + horizon, horizon) > 0
    return hit


# ------------------------------------------------------------------- snapshot-only mode
def _months(days: int) -> int:
    """A label horizon in whole months (at least one): 30 days → 1, 60 days → 2."""
    return max(1, int(round(days / DAYS_PER_MONTH)))


def snapshot_labels(
    snapshots: pd.DataFrame,
    pairs: pd.DataFrame | Sequence[Any] | Any,
    config: Config | None = None,
    data_end: Any = None,
) -> pd.DataFrame:
    """Labels of (account_id, as_of) pairs from a monthly ``snapshots`` table alone.

    For a lender with only monthly data (:mod:`recovery.data.performance`). The definitions
    are those of :func:`build_labels` (DESIGN.md §3) read at month ends, which month
    data only approximate:

    - ``p_pay`` — payments (``paid_in_month``) of the next
      ``round(p_pay_horizon_days / 30.44)`` month(s) (default 1: the calendar month
      after the as_of month end, not exactly 30 days; net of reversals as the lender
      reports them) reach the minimum payment: after charge-off
      ``charged_off_min_share`` × balance; otherwise the smaller of the overdue amount
      and one installment — ``installment_amount`` when the table has it, else the
      overdue amount divided by the months behind (⌈DPD / 30⌉).
    - ``p_cure`` — open and overdue at as_of, DPD 0 (open or paid off) at the month end
      ``round(p_cure_horizon_days / 30.44)`` months later (default 2). Month data
      cannot see a re-age or restructure: such a reset reads as a cure.
    - ``roll_back`` — open in M3 or worse, better bucket or paid off at that month end.

    A label whose horizon month ends after ``data_end`` is censored (NA, flags set); a
    label whose account has no row in the horizon (it left the table) is NA too. A
    status-only history (no balances, no payments) gives ``p_cure`` and ``roll_back``;
    ``p_pay`` and ``min_payment`` are NA (they need payments and amounts).

    Parameters
    ----------
    snapshots : pandas.DataFrame
        The ``snapshots`` table.
    pairs : DataFrame of ``account_id, as_of``, or date(s)
        Dates give every overdue account at each month end. An as_of that is not a
        month end reads the previous month end.
    config : Config, optional
    data_end : date, optional
        Last day the data covers; default the last month end of ``snapshots``.

    Returns
    -------
    pandas.DataFrame
        ``account_id, as_of`` and :data:`LABEL_COLUMNS`, sorted by account_id, as_of.

    Examples
    --------
    >>> snaps = pd.DataFrame({"account_id": "A",
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31"]),
    ...     "dpd": [45, 0, 0], "bucket": ["M2", "M0", "M0"], "balance": 900.0,
    ...     "amount_overdue": [200.0, 0.0, 0.0], "paid_in_month": [0.0, 200.0, 100.0],
    ...     "status": "open"})
    >>> snapshot_labels(snaps, ["2024-01-31"])[["p_pay", "min_payment", "p_cure"]]
       p_pay  min_payment  p_cure
    0      1        100.0       1
    """
    config = config or Config()
    lab = config.labels
    s = snapshots.copy()
    s["account_id"] = s["account_id"].astype(str)
    s["month_no"] = month_numbers(s["month_end"])
    request = as_pairs(pairs)
    if isinstance(request, pd.DataFrame):
        out = pairs_table(request, text_ids=True)
    else:
        rows = s[pd.to_datetime(s["month_end"]).dt.normalize().isin(request)]
        out = overdue_pairs(rows.rename(columns={"month_end": "as_of"}), config)
        out["as_of"] = pd.to_datetime(out["as_of"]).dt.normalize()
    out = out.reset_index(drop=True)
    as_of = pd.DatetimeIndex(out["as_of"])
    month = month_numbers(out["as_of"]) - np.asarray(~as_of.is_month_end, dtype="int64")
    end = pd.Timestamp(data_end) if data_end is not None else pd.to_datetime(s["month_end"]).max()
    last_month = month_numbers(pd.Series([end]))[0] - int(not end.is_month_end)
    cols = ["status", "dpd", "bucket", "balance", "amount_overdue", "paid_in_month"]
    if "installment_amount" in s:
        cols.append("installment_amount")
    for col in cols[3:6]:  # a status-only history: no amounts, so p_pay is NA
        if col not in s:
            s[col] = np.nan
    keyed = s.set_index(["account_id", "month_no"])[cols]
    if keyed.index.has_duplicates:
        raise DataError("snapshots have two rows for one (account_id, month_end); keep one")

    def at(offset: int) -> pd.DataFrame:
        idx = pd.MultiIndex.from_arrays([out["account_id"], month + offset])
        return keyed.reindex(idx).reset_index(drop=True)

    now = at(0)
    status = now["status"].astype(object).to_numpy()
    dpd = pd.to_numeric(now["dpd"], errors="coerce").to_numpy(dtype="float64")
    balance = pd.to_numeric(now["balance"], errors="coerce").to_numpy(dtype="float64")
    owed = pd.to_numeric(now["amount_overdue"], errors="coerce").to_numpy(dtype="float64")
    overdue = is_overdue(status, dpd, balance, config)
    if "installment_amount" in now:
        installment = pd.to_numeric(now["installment_amount"], errors="coerce").to_numpy()
    else:
        installment = owed / np.maximum(np.ceil(np.nan_to_num(dpd) / 30.0), 1.0)
    charged = status == "charged_off"
    open_min = np.fmin(owed, lab.min_payment_installments * installment)
    min_payment = np.where(charged, lab.charged_off_min_share * balance, open_min)
    min_payment = np.where(overdue, min_payment, np.nan)
    # payments of the next months
    h_pay = _months(lab.p_pay_horizon_days)
    collected = np.zeros(len(out))
    seen = np.zeros(len(out), dtype=bool)
    for k in range(1, h_pay + 1):  # a month or two
        later = at(k)
        seen |= later["status"].notna().to_numpy()
        collected += pd.to_numeric(later["paid_in_month"], errors="coerce").fillna(0).to_numpy()
    pay_censored = month + h_pay > last_month
    need = np.maximum(min_payment - config.aging.tolerance, 1e-9)
    unknown = np.isnan(min_payment) | ("paid_in_month" not in snapshots)  # no amounts
    labels = out.copy()
    labels["p_pay"] = _nullable(
        (collected >= need).astype(int), ~overdue | pay_censored | ~seen | unknown
    )
    labels["amount_collected"] = np.where(
        overdue & ~pay_censored & seen & ~unknown, np.round(collected, 6), np.nan
    )
    # state some months later
    h_cure = _months(lab.p_cure_horizon_days)
    cure_censored = month + h_cure > last_month
    later = at(h_cure)
    status2 = later["status"].astype(object).to_numpy()
    dpd2 = pd.to_numeric(later["dpd"], errors="coerce").to_numpy(dtype="float64")
    gone = later["status"].isna().to_numpy()
    cured = (dpd2 == 0) & np.isin(status2, ["open", "paid_off"])
    cure_eligible = overdue & (status == "open")
    labels["p_cure"] = _nullable(cured.astype(int), ~cure_eligible | cure_censored | gone)
    names = list(config.aging.bucket_names)
    b_now = pd.Categorical(now["bucket"], categories=names).codes
    b_later = pd.Categorical(later["bucket"], categories=names).codes
    better = ((status2 == "open") & (b_later >= 0) & (b_later < b_now)) | (status2 == "paid_off")
    roll_eligible = cure_eligible & (b_now >= ROLL_BACK_FROM_BUCKET)
    labels["roll_back"] = _nullable(better.astype(int), ~roll_eligible | cure_censored | gone)
    labels["min_payment"] = min_payment
    labels["overdue"] = overdue
    labels["p_pay_censored"] = pay_censored
    labels["p_cure_censored"] = cure_censored
    labels["censored"] = pay_censored | cure_censored
    labels = labels[["account_id", "as_of", *LABEL_COLUMNS]]
    return labels.sort_values(["account_id", "as_of"], kind="stable").reset_index(drop=True)
