"""The monthly simulation of one chunk of accounts: borrowers, payments, ledger, truth.

Time runs in calendar months. :class:`ChunkSimulation` holds the chunk's book and
state and runs each month in order: shocks start and end, the collection operation
answers (:mod:`recovery.simulate.hooks`), each live account makes at most one
payment decision (:mod:`recovery.simulate.behaviour`) whose payment posts on a day
between 3 and 28, the ledger moves (:mod:`recovery.simulate.ledger`: charge-off,
settlement, restructure, payoff), borrowers may die, and the month-end rows are
recorded; the truth of the previous month end is computed on the way
(:mod:`recovery.simulate.exact_truth`). So the 30 days after a month end contain
exactly the next month's payment. All money is tracked in integer cents.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.simulate.behaviour import (
    CATCHUP,
    CHARGED_OFF,
    NONE,
    ONE,
    OPEN,
    PAID_OFF,
    RESTRUCTURE,
    REVERSIBLE,
    SETTLE,
    SETTLED,
    BorrowerBehaviour,
)
from recovery.simulate.book import (
    BlockStreams,
    Book,
    Calendar,
    amortize,
    customer_leads,
    make_book,
)
from recovery.simulate.exact_truth import ExactTruth
from recovery.simulate.hooks import MonthState, OperationResponse, ResponseDistribution
from recovery.simulate.ledger import DAY_HI, DAY_LO, INF_DAY, ScheduleLedger, hook_day
from recovery.simulate.params import SHOCK_TYPES, SimulationParams

__all__ = ["ChunkSimulation", "ChunkOutput", "EVENT_CODES", "CHANNELS", "TRUTH_TRAITS"]

#: Codes of the simulator's own events.
EVENT_CODES = ("charged_off", "deceased", "fraud_confirmed", "restructured", "settled")
#: Payment channel codes.
CHANNELS = ("bank_transfer", "auto_debit", "cash", "agency", "court", "guarantor", "settlement")
#: The borrower's latent traits (truth) the operation receives with a chunk's accounts.
TRUTH_TRAITS = (
    "archetype",
    "ability",
    "willingness",
    "promise_keep",
    "reachability",
    "contact_response",
    "fraud",
)
# columns of the book the month state carries as they are (ability: the current one)
_STATE_FROM_BOOK = (
    "product",
    "has_guarantor",
    "has_collateral",
    *(t for t in TRUTH_TRAITS if t != "ability"),
)


@dataclass
class ChunkOutput:
    """Rows produced by a chunk, as column arrays (assembled by the caller)."""

    payments: dict = field(default_factory=dict)
    events: dict = field(default_factory=dict)
    restructures: list = field(default_factory=list)
    months: dict = field(default_factory=dict)
    shocks: dict = field(default_factory=dict)
    actions: list = field(default_factory=list)
    assignments: list = field(default_factory=list)


def _collect(store: dict, **cols) -> None:
    """Append column arrays to a store of lists."""
    for k, v in cols.items():
        store.setdefault(k, []).append(np.asarray(v))


class ChunkSimulation(ScheduleLedger, BorrowerBehaviour, ExactTruth):
    """Simulates one chunk of accounts through all months.

    Parameters
    ----------
    params : SimulationParams
    config : Config
    cal : Calendar
    seed : int
    first_block : int
        Index of the chunk's first block of :data:`recovery.simulate.book.BLOCK_SIZE`
        accounts.
    sizes : list of int
        Accounts in each block of the chunk.
    chunk_index : int
    operation : CollectionOperation

    Attributes
    ----------
    prev_rows : (ndarray, ndarray) or None
        The live accounts of this month and their rows of the previous month end
        (positions in the month-end rows), whose truth this month computes.
    month_rows : int
        Month-end rows recorded so far.

    Examples
    --------
    >>> from recovery.config import Config
    >>> from recovery.simulate.book import Calendar
    >>> from recovery.simulate.hooks import NoOperation
    >>> from recovery.simulate.params import get_scenario
    >>> cal = Calendar.build("2020-01-01", months=3, back_book_months=2, follow_up_months=1)
    >>> sim = ChunkSimulation(get_scenario(), Config(), cal, 0, 0, [50], 0, NoOperation())
    >>> out = sim.run()
    >>> int(sim.status.max()) <= 3
    True
    """

    def __init__(self, params, config, cal, seed, first_block, sizes, chunk_index, operation):
        self.p: SimulationParams = params
        self.cfg: Config = config
        self.cal: Calendar = cal
        self.seed = seed
        self.chunk_index = chunk_index
        self.operation = operation
        self.tol = int(round(config.aging.tolerance * 100))
        self.co_dpd = int(config.aging.charge_off_dpd)
        start_index = first_block * 1000
        n = int(sum(sizes))
        index = np.arange(start_index, start_index + n, dtype=np.int64)
        self.streams = BlockStreams(seed, first_block, sizes, stream=1)
        book_streams = BlockStreams(seed, first_block, sizes, stream=0)
        width = int(max(max(params.consumer_terms), max(params.business_terms)))
        width += params.restructure_extension + 1
        lead = customer_leads(params, seed, first_block, sizes)
        self.book: Book = make_book(params, cal, book_streams, index, width, lead)
        b = self.book
        self.n = n
        # second and third loans of a customer (empty when every customer has one loan)
        self.members = np.flatnonzero(lead != np.arange(n))
        self.cum_due = b.cum_due.copy()
        self.cum_prin = b.cum_principal.copy()
        self.vbase = b.orig_month.astype(np.int64).copy()
        self.vterm = b.term.astype(np.int64).copy()
        self.version = np.ones(n, np.int8)
        self.inst = np.zeros(n, np.int64)
        self.regular = np.zeros(n, bool)
        self.set_regular(np.arange(n))
        self.paid = np.zeros(n, np.int64)  # net cents paid since origination
        self.base_paid = np.zeros(n, np.int64)  # paid before the version in force
        self.status = np.zeros(n, np.int8)
        self.co_day = np.full(n, -1, np.int64)
        self.co_month = np.full(n, -1, np.int64)
        self.episode_start = np.full(n, -1, np.int64)
        self.anchor = np.full(n, -1, np.int64)  # limitation clock start (day)
        self.dead = np.zeros(n, bool)
        self.death_day = np.full(n, -1, np.int64)
        self.notice_day = np.full(n, -1, np.int64)
        self.last_posted = np.full(n, -1, np.int64)
        self.shock = np.zeros(n, bool)
        self.shock_perm = np.zeros(n, bool)
        self.shock_type = np.full(n, -1, np.int8)
        self.shock_start = np.full(n, -1, np.int64)
        self.paid_last = np.zeros(n, np.int64)
        self.last_pay_date = np.full(n, -1, np.int64)
        self.last_day = np.zeros(n, np.int8)
        self.pay_seq = np.zeros(n, np.int32)
        self.fraud_flagged = np.zeros(n, bool)
        self.exited = np.zeros(n, bool)  # terminal status reached in an earlier month
        self.paid_by_month = np.zeros((n, cal.n_months), np.int64)
        self.out = ChunkOutput()
        # month-end rows of the previous month (positions), for the truth columns
        self.prev_rows: tuple[np.ndarray, np.ndarray] | None = None
        self.month_rows = 0

    def step(self, m: int) -> None:
        """Simulate month ``m`` for the chunk."""
        p, b, cal = self.p, self.book, self.cal
        u = self.streams.uniform(12)
        ms, me = cal.starts[m], cal.starts[m + 1] - 1
        live = (b.orig_month < m) & ((self.status == OPEN) | (self.status == CHARGED_OFF))
        if len(self.members):
            self._share_person_draws(u, live, m)
        j = np.flatnonzero(live)
        uj = u[j]
        shock_prev = self.shock[j].copy()
        perm_prev = self.shock_perm[j] & shock_prev
        # 1. shocks start and end
        ending = self.shock[j] & ~self.shock_perm[j] & (uj[:, 3] < p.shock_end_rate_monthly)
        start_p = self.shock_start_prob(j, m)
        starting = ~self.shock[j] & (uj[:, 0] < start_p)
        if ending.any():
            je = j[ending]
            _collect(
                self.out.shocks,
                pos=je,
                shock_type=self.shock_type[je],
                start_month=self.shock_start[je],
                end_day=np.full(len(je), ms - 1),
                permanent=np.zeros(len(je), bool),
            )
            self.shock[je] = False
            self.shock_type[je] = -1
        if starting.any():
            js = j[starting]
            w = np.where(
                (b.product[js] == 1)[:, None],
                np.asarray(p.shock_type_weights_business),
                np.asarray(p.shock_type_weights_consumer),
            )
            if not self.downturn(m):
                w = w * np.array([1, 1, 1, 0.2, 1])
            cw = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
            t = (uj[starting, 1][:, None] >= cw).sum(axis=1).clip(0, len(SHOCK_TYPES) - 1)
            self.shock[js] = True
            self.shock_perm[js] = uj[starting, 2] < p.shock_permanent_share
            self.shock_type[js] = t
            self.shock_start[js] = m
        # 2. state at the start of the month and the operation's response
        status = self.status[j]
        paid0 = self.paid[j]
        debt_age = np.where(self.episode_start[j] >= 0, ms - 1 - self.episode_start[j], -1)
        ones = np.ones(len(j))
        prob0, amount0, view = self.outcome_probabilities(
            j, paid0, status, self.shock[j], m, ones, self.dead[j], debt_age, self.anchor[j]
        )
        state = self._month_state(j, m, status, view, debt_age)
        possible = self.response_distribution(state)  # before the operation's month
        response = self._operation_step(state, m)
        mult = np.asarray(response.odds_multiplier, float)
        if np.allclose(mult, 1.0):
            prob, amount = prob0, amount0
        else:
            prob, amount, view = self.outcome_probabilities(
                j, paid0, status, self.shock[j], m, mult, self.dead[j], debt_age, self.anchor[j]
            )
        promised_day = hook_day(response.payment_day, len(j))
        # 3. truth for the previous month end: an average over the operation's possible
        # responses (its contacts are drawn in month m, after that month end)
        if possible is None:
            possible = ResponseDistribution.build(
                len(j), np.arange(len(j)), np.ones(len(j)), np.log(mult), promised_day
            )
        self.truth_previous(
            j, m, status, paid0, view, mult, possible, debt_age, shock_prev, perm_prev
        )
        prob, amount, promised_day = self.take_offers(
            j, m, state, response, prob, amount, promised_day
        )
        # 4. draw the outcome, its day, a possible reversal
        cum = np.cumsum(prob, axis=1)
        outcome = (uj[:, 4][:, None] >= cum[:, :-1]).sum(axis=1)
        pays = (outcome != NONE) & (outcome != RESTRUCTURE)
        amt = np.where(pays, amount[np.arange(len(j)), outcome], 0)
        pays &= amt > 0
        reversed_ = pays & REVERSIBLE[outcome] & (uj[:, 6] < p.reversal_rate)
        due_day = b.due_day[j].astype(np.int64)
        current = ~view["delinquent"] & (status == OPEN)
        uniform_day = DAY_LO + (uj[:, 5] * (DAY_HI - DAY_LO + 1)).astype(np.int64)
        late = uj[:, 7] < p.late_payer_share
        late_day = due_day + 1 + (uj[:, 9] * np.maximum(DAY_HI - due_day, 0)).astype(np.int64)
        on_time_day = np.where(late & (due_day < DAY_HI), np.minimum(late_day, DAY_HI), due_day)
        day = np.where(
            current & ((outcome == ONE) | (outcome == CATCHUP)), on_time_day, uniform_day
        )
        day = np.where(promised_day > 0, promised_day, day)
        rev_day = DAY_LO + (uj[:, 5] * 19).astype(np.int64)
        day = np.where(reversed_, rev_day, day)
        rev_back = day + 2 + (uj[:, 7] * 6).astype(np.int64)
        day_abs = ms + day - 1
        # 5. ledger
        is_open = status == OPEN
        c0 = np.where(is_open, self.charge_off_day(j, paid0, m), INF_DAY)
        good = pays & ~reversed_
        paid1 = paid0 + np.where(good, amt, 0)
        c1 = np.where(is_open, self.charge_off_day(j, paid1, m), INF_DAY)
        co = np.where(
            good & (c0 >= day_abs), np.where(c1 <= me, c1, INF_DAY), np.where(c0 <= me, c0, INF_DAY)
        )
        if reversed_.any():
            # a returned payment counts on [day, day back): it may delay the charge-off
            tmp_paid = paid0 + np.where(reversed_, amt, 0)
            n0 = self.n_paid(j, paid0)
            n_tmp = self.n_paid(j, tmp_paid)
            back_abs = ms + rev_back - 1
            delayed = reversed_ & (c0 >= day_abs) & (c0 < back_abs) & (n_tmp > n0)
            co = np.where(delayed, back_abs, co)
        # restructure
        restr = (outcome == RESTRUCTURE) & (co == INF_DAY)
        co = np.where(is_open, co, INF_DAY)
        # episode bookkeeping: was DPD 0 on some day of the month after a payment?
        tmp_paid = paid0 + np.where(pays, amt, 0)
        K_at = self.due_count(j, m, day)
        cleared = pays & (self.n_paid(j, tmp_paid) >= K_at) & is_open
        self.paid[j] = paid1
        charged = co < INF_DAY
        if charged.any():
            jc = j[charged]
            self.status[jc] = CHARGED_OFF
            self.co_day[jc] = co[charged]
            self.co_month[jc] = m
            _collect(self.out.events, pos=jc, day=co[charged], code=np.zeros(len(jc), np.int8))
            fr = jc[b.fraud[jc]]
            if len(fr):
                _collect(
                    self.out.events, pos=fr, day=self.co_day[fr], code=np.full(len(fr), 2, np.int8)
                )
        settled = pays & (outcome == SETTLE) & ~reversed_
        if settled.any():
            jst = j[settled]
            self.status[jst] = SETTLED
            _collect(
                self.out.events, pos=jst, day=day_abs[settled], code=np.full(len(jst), 4, np.int8)
            )
        if restr.any():
            self._restructure(j[restr], m, day_abs[restr])
        # payment rows
        if pays.any():
            jp = j[pays]
            self.last_posted[jp] = day_abs[pays]
            chan = self._channel(
                jp,
                outcome[pays],
                current[pays],
                day[pays] == due_day[pays],
                status[pays],
                uj[pays, 11],
            )
            self.pay_seq[jp] += 1
            _collect(
                self.out.payments,
                pos=jp,
                seq=self.pay_seq[jp],
                day=day_abs[pays],
                amount=amt[pays],
                channel=chan,
                reversed_day=np.where(reversed_[pays], ms + rev_back[pays] - 1, -1),
                outcome=outcome[pays].astype(np.int8),
            )
            jg = j[good]
            self.anchor[jg] = np.maximum(self.anchor[jg], day_abs[good])
            self.last_pay_date[jg] = day_abs[good]
        if response.limitation_restart_day is not None:
            restart = np.asarray(response.limitation_restart_day, np.int64)
            self.anchor[j] = np.where(
                restart >= 0, np.maximum(self.anchor[j], restart), self.anchor[j]
            )
        self.paid_last[j] = np.where(good, amt, 0)
        self.last_day[j] = np.where(good, day, 0).astype(np.int8)
        self.paid_by_month[j, m] = np.where(good, amt, 0)
        # paid off?
        st = self.status[j]
        rem = np.maximum(self.cum_due[j, self.vterm[j]] - (self.paid[j] - self.base_paid[j]), 0)
        paid_off = (st == OPEN) & (rem < self.tol)
        self.status[j[paid_off]] = PAID_OFF
        # a charged-off debt repaid in full stays charged off, but its episode has ended
        self.episode_start[j[(st == CHARGED_OFF) & (rem < self.tol)]] = -1
        # episode start / end at month end
        jo = j[(self.status[j] == OPEN)]
        if len(jo):
            v = self.ledger_view(jo, self.paid[jo], m)
            sel = np.isin(j, jo)
            clr = cleared[sel]
            was_del = ((view["dpd"] > 0) & (status == OPEN))[sel]
            late = v["dpd"] > 0
            new_ep = late & ((self.episode_start[jo] < 0) | clr | ~was_del)
            self.episode_start[jo] = np.where(
                late, np.where(new_ep, v["oldest"], self.episode_start[jo]), -1
            )
            self.anchor[jo] = np.where(
                late, np.maximum(self.anchor[jo], self.episode_start[jo]), self.anchor[jo]
            )
        # 6. deaths at month end
        alive = ~self.dead[j] & ((self.status[j] == OPEN) | (self.status[j] == CHARGED_OFF))
        dies = alive & (uj[:, 10] < p.death_rate_monthly)
        if dies.any():
            # death at month end; the lender hears of it 30-120 days later (the event)
            jd = j[dies]
            self.dead[jd] = True
            self.death_day[jd] = me
            lag = 30 + (uj[dies, 9] * 91).astype(np.int64)
            self.notice_day[jd] = me + lag
            _collect(self.out.events, pos=jd, day=me + lag, code=np.full(len(jd), 1, np.int8))
        # 7. month-end rows
        self._record_month(m)

    def _share_person_draws(self, u: np.ndarray, live: np.ndarray, m: int) -> None:
        """Make a customer's loans live one life: the month's shock and death draws are
        the customer's (its first account's), and a loan starting this month takes on a
        shock the customer is going through."""
        k, lead = self.members, self.book.lead[self.members]
        person = [0, 1, 2, 3, 9, 10]  # shock start, type, permanence, end; death, notice
        u[np.ix_(k, person)] = u[np.ix_(lead, person)]
        new = (self.book.orig_month[k] == m - 1) & live[lead] & self.shock[lead] & ~self.shock[k]
        if new.any():
            kn, ln = k[new], lead[new]
            self.shock[kn] = True
            self.shock_perm[kn] = self.shock_perm[ln]
            self.shock_type[kn] = self.shock_type[ln]
            self.shock_start[kn] = self.shock_start[ln]

    def take_offers(self, j, m, state, response, prob, amount, promised_day):
        """Offers made and answered this month (none here; see :mod:`.offer_engine`).

        Returns the month's outcome probabilities, amounts and promised payment days,
        changed for the accounts that accepted an offer.
        """
        return prob, amount, promised_day

    def _channel(self, jp, outcome, current, on_due, status, u):
        b = self.book
        chan = np.where(on_due & current, 1, 0)  # auto_debit on the due day, else transfer
        sb = b.product[jp] == 1
        chan = np.where(~current & sb & (u < 0.3), 2, chan)  # cash at the branch
        co = status == CHARGED_OFF
        rec = np.where(
            b.has_guarantor[jp] & (u < 0.35),
            5,
            np.where(b.has_collateral[jp] & (u < 0.55), 4, np.where(u < 0.75, 3, 0)),
        )
        chan = np.where(co, rec, chan)
        chan = np.where(outcome == SETTLE, 6, chan)
        return chan.astype(np.int8)

    def _restructure(self, jr: np.ndarray, m: int, day_abs: np.ndarray) -> None:
        p = self.p
        bal = np.rint(self.balance(jr, self.paid[jr])).astype(np.int64)
        K_end = self.due_count(jr, m)
        remaining_terms = np.maximum(self.vterm[jr] - K_end, 1)
        new_term = (remaining_terms + p.restructure_extension).astype(np.int64)
        width = self.cum_due.shape[1]
        new_term = np.minimum(new_term, width - 1)
        cd, cp, _ = amortize(bal, self.book.rate[jr], new_term, width)
        self.cum_due[jr] = cd
        self.cum_prin[jr] = cp
        self.vbase[jr] = m
        self.vterm[jr] = new_term
        self.version[jr] = 2
        self.set_regular(jr)
        self.base_paid[jr] = self.paid[jr]
        self.episode_start[jr] = -1
        _collect(self.out.events, pos=jr, day=day_abs, code=np.full(len(jr), 3, np.int8))
        # rows of schedule version 2, assembled with the other tables
        self.out.restructures.append(
            (jr.copy(), cd.copy(), cp.copy(), m, day_abs.copy(), new_term.copy())
        )

    def _month_state(self, j, m, status, view, debt_age) -> MonthState:
        b = self.book
        cal = self.cal
        return MonthState(
            month_index=m,
            month_start=cal.month_start(m),
            month_end=cal.month_end(m),
            chunk_index=self.chunk_index,
            observed=m < cal.observed_months,
            rng=np.random.default_rng([self.seed, 7, self.chunk_index, m]),
            account_index=b.index[j],
            status=status,
            dpd=view["dpd"].astype(np.int32),
            bucket=np.where(
                status == OPEN, np.asarray(self.cfg.aging.bucket_index(view["dpd"])), -1
            ).astype(np.int8),
            amount_overdue=view["overdue"] / 100.0,
            balance=view["balance"] / 100.0,
            installment=view["installment"] / 100.0,
            debt_age_days=debt_age.astype(np.int32),
            months_since_charge_off=np.where(
                self.co_month[j] >= 0, m - self.co_month[j], -1
            ).astype(np.int32),
            limitation_expired=self.limitation_expired(self.anchor[j], m),
            paid_last_month=self.paid_last[j] / 100.0,
            last_payment_day=self.last_day[j],
            last_payment_date=self.last_pay_date[j],
            charge_off_day=self.co_day[j],
            first_due_day=cal.starts[b.orig_month[j] + 1] + b.due_day[j].astype(np.int64) - 1,
            death_day=self.death_day[j],
            death_notice_day=self.notice_day[j],
            last_posted_day=self.last_posted[j],
            ability=view["a_eff"],
            shock_active=self.shock[j],
            shock_type=self.shock_type[j],
            deceased=self.dead[j],
            p_pay_base=view["h"],
            **{name: getattr(b, name)[j] for name in _STATE_FROM_BOOK},
        )

    def _operation_step(self, state: MonthState, m: int) -> OperationResponse:
        cal = self.cal
        response = self.operation.step(state)
        if response is None:
            response = OperationResponse.neutral(len(state))
        if m < cal.observed_months:
            if response.actions is not None and len(response.actions):
                self.out.actions.append(response.actions)
            if response.assignments is not None and len(response.assignments):
                self.out.assignments.append(response.assignments)
        return response

    def _record_month(self, m: int) -> None:
        """Month-end rows of month m (truth columns of m-1 filled now)."""
        b = self.book
        self.keep_pending_truth()
        rows_acc = np.flatnonzero((b.orig_month <= m) & ~self.exited)
        st = self.status[rows_acc]
        v = self.ledger_view(rows_acc, self.paid[rows_acc], m)
        me = self.cal.starts[m + 1] - 1
        bal = self.balance(rows_acc, self.paid[rows_acc])
        debt_age = np.where(
            self.episode_start[rows_acc] >= 0, me - self.episode_start[rows_acc], -1
        )
        terminal = (st == PAID_OFF) | (st == SETTLED)
        dpd = np.where(terminal, 0, v["dpd"])
        _collect(
            self.out.months,
            pos=rows_acc,
            month=np.full(len(rows_acc), m, np.int32),
            status=st,
            dpd=dpd.astype(np.int32),
            balance=np.where(terminal, 0.0, bal) / 100.0,
            overdue=np.where(terminal, 0, v["overdue"]) / 100.0,
            debt_age=np.where(terminal, -1, debt_age).astype(np.int32),
            paid_cum=self.paid[rows_acc],
            shock=self.shock[rows_acc],
            ability=self.ability_now(rows_acc, self.shock[rows_acc], m),
            expired=self.limitation_expired(self.anchor[rows_acc], m),
            version=self.version[rows_acc],
        )
        # positions (within this month's rows) of accounts live next month
        live_next = (st == OPEN) | (st == CHARGED_OFF)
        row_ids = self.month_rows + np.arange(len(rows_acc))
        self._next_live_rows = (rows_acc[live_next], row_ids[live_next])
        self.month_rows += len(rows_acc)
        self.exited[rows_acc[terminal]] = True

    # ------------------------------------------------------------ driver
    def run(self, progress=None) -> ChunkOutput:
        """Simulate every month; returns the chunk's rows."""
        self.start_truth()
        self._next_live_rows = None
        self.operation.start_chunk(self.chunk_index, self.accounts_frame(with_truth=True))
        for m in range(self.cal.n_months):
            if self._next_live_rows is not None:
                acc, rows = self._next_live_rows
                self.prev_rows = (acc, rows)
            self.step(m)
            if progress is not None:
                progress(1)
        # truth of the last month end: same enumeration with a neutral operation
        self.finish_truth()
        self.operation.end_chunk(self.chunk_index)
        return self.out

    def accounts_frame(self, with_truth: bool = False) -> pd.DataFrame:
        """The chunk's ``accounts`` rows (plus truth traits when asked)."""
        b = self.book
        base = getattr(self, "accounts_for_operation", None)
        df = pd.DataFrame() if base is None else base.copy()
        df["account_index"] = b.index
        df["origination_month"] = b.orig_month
        if with_truth:
            for name in TRUTH_TRAITS:
                df[name] = getattr(b, name)
        return df
