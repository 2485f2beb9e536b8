"""Promises to pay in the simulated operation: made, dated, kept or broken.

The first promise an account makes in a month gets a date a few days on, an amount
and a probability of being kept (the borrower's archetype and current ability);
while pending it shapes the month's payment (:mod:`recovery.simulate.operation.effects`).
Next month the ledger says whether it was kept (:func:`read_ledger`), which also
restarts the limitation clock with every posted payment.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit

from recovery.docstrings import fill_doc
from recovery.simulate import contacts as ct
from recovery.simulate.hooks import MonthState
from recovery.simulate.operation.params import OperationParams
from recovery.simulate.operation.rows import first_per_account
from recovery.simulate.operation.state import DAY, NONE, ChunkState, MonthWork
from recovery.simulate.params import SimulationParams

__all__ = ["read_ledger", "make_promises"]


@fill_doc
def read_ledger(
    ch: ChunkState, state: MonthState, pos: np.ndarray, m: int, month_start_days: np.ndarray
) -> None:
    """Payments posted last month restart the limitation clock; check due promises.

    A promise due last month was kept when a payment posted on its day (or the
    account left the book, paid off or settled); broken promises are counted per
    account (they raise the observed difficulty of later spells).

    Parameters
    ----------
    {{op_chunk}}
    state : MonthState
        ``paid_last_month`` and ``last_payment_day``.
    {{op_pos}}
    m : int
        Month index.
    month_start_days : ndarray of int
        First day of each month (days since 1970-01-01).
    """
    if m == 0:
        return
    prev_start = month_start_days[m - 1]
    paid = np.asarray(state.paid_last_month) > 0
    day = np.asarray(state.last_payment_day, np.int64)
    ch.last_pay[pos[paid]] = prev_start + day[paid] - 1
    # promises that were due last month
    due = ch.check_row >= 0
    if not due.any():
        return
    present = np.zeros(ch.n, bool)
    present[pos] = True
    kept = np.zeros(ch.n, bool)
    kept[pos] = paid & (day == ch.check_dom[pos])
    kept |= ~present  # left the book: paid off or settled (by that payment)
    rows = np.flatnonzero(due)
    ch.promise_results.append({"row": ch.check_row[rows], "kept": kept[rows]})
    ch.broken[rows[~kept[rows]]] += 1
    ch.check_row[rows] = NONE


@fill_doc
def make_promises(
    ch: ChunkState,
    work: MonthWork,
    rows: dict,
    params: OperationParams,
    sim_params: SimulationParams | None,
) -> tuple[dict, np.ndarray]:
    """Keep the first promise of the month; set its date, amount and keep probability.

    Later promises of the month count as right-party contacts. The date falls a few
    days after the promise, on a payment day (3–28); the amount is the overdue
    installment (open accounts) or a small share of the balance (charged off); the
    keep probability is the archetype's promise keeping, raised by current ability
    (0 for fraud and the dead).

    Parameters
    ----------
    ch : ChunkState
        The promise is recorded and becomes pending.
    {{op_work}}
    rows : dict of ndarray
        The month's actions; ``promise_day``, ``promise_amount``, ``promise_seq`` are
        added.
    params : OperationParams
        ``promise_days`` and ``promise_ability``.
    sim_params : SimulationParams, optional
        ``recovery_partial_share`` sets the charged-off amount (default 3 %).

    Returns
    -------
    (dict, ndarray)
        The rows, and the worked accounts that made a promise.
    """
    state, w, wpos, wgroup = work.state, work.rows, work.pos, work.group
    rng, ms_day, me_day = state.rng, work.start_day, work.end_day
    p = params
    n = len(wpos)
    is_p = rows["out"] == ct.PROMISE
    first = first_per_account(rows["acc"], is_p, n, np.arange(len(is_p)))
    later = is_p & (first[rows["acc"]] != np.arange(len(is_p)))
    rows["out"] = np.where(later, ct.RPC, rows["out"]).astype(np.int8)
    made = np.flatnonzero(first >= 0)
    rows["promise_day"] = np.full(len(is_p), NONE, np.int64)
    rows["promise_amount"] = np.full(len(is_p), np.nan)
    rows["promise_seq"] = np.full(len(is_p), NONE, np.int64)
    if not len(made):
        return rows, made
    r = first[made]
    day = rows["ts"][r] // DAY + rng.integers(p.promise_days[0], p.promise_days[1] + 1, len(made))
    dom = day - ms_day + 1
    next_start = me_day + 1
    # payments post on days 3..28: later dates move to the next month's 3rd+
    day = np.where(dom < 3, ms_day + 2, day)
    day = np.where(dom > 28, next_start + 2 + np.minimum(dom - 29, 20), day)
    i = w[made]
    overdue = np.asarray(state.amount_overdue)[i]
    inst = np.asarray(state.installment)[i]
    bal = np.asarray(state.balance)[i]
    low_share = float(sim_params.recovery_partial_share[0]) if sim_params else 0.03
    amount = np.where(
        wgroup[made] == 4,
        np.maximum(np.floor(bal * low_share / 10) * 10, 10.0),
        np.maximum(np.minimum(overdue, inst), 1.0),
    )
    amount = np.where(
        wgroup[made] == 5, np.maximum(np.floor(bal * low_share / 10) * 10, 10.0), amount
    )
    owed = np.maximum(bal, overdue)
    amount = np.round(np.where(owed > 0, np.minimum(amount, owed), amount), 2)
    keep = expit(
        logit(np.clip(np.asarray(state.promise_keep)[i], 1e-4, 1 - 1e-4))
        + p.promise_ability * np.asarray(state.ability)[i]
    )
    keep = np.where(state.fraud[i] | state.deceased[i], 0.0, keep)
    rows["promise_day"][r] = day
    rows["promise_amount"][r] = amount
    seq = ch.seq + np.arange(len(made))
    ch.seq += len(made)
    rows["promise_seq"][r] = seq
    ch.promises.append(
        {
            "seq": seq,
            "pos": wpos[made],
            "day": day,
            "amount": amount,
            "keep": keep,
            "archetype": np.asarray(state.archetype)[i].astype(np.int8),
        }
    )
    ch.prom_day[wpos[made]] = day
    ch.prom_row[wpos[made]] = seq
    ch.prom_keep[wpos[made]] = keep
    return rows, made
