"""The monthly simulation of one chunk of accounts: borrowers, payments, ledger, truth.

Time runs in calendar months; within a month each live account makes **at most one
payment decision** (none, partial, one installment, catch-up, payoff, settlement,
restructure; after charge-off: none, token, partial recovery, settlement) with
probabilities that are closed-form functions of the account's state at the start
of the month (see :meth:`ChunkSimulation.outcome_probabilities`). Payments post on a
day of the month between 3 and 28 and due dates fall on days 3 to 28, so the 30 days
after a month end contain exactly the next month's payment. The truth
probabilities of DESIGN.md §3's labels follow exactly from these hazards:

- ``p_pay_true`` (month end m): sum over the shock state of month m+1 and over the
  outcomes whose amount reaches the minimum, times (1 - reversal rate).
- ``p_cure_true`` (month end m): the same enumeration over two months (shock state
  and outcome of m+1, averaged shock state and outcome of m+2), with the exact
  probability that a payment day falls before a charge-off day; DPD at m + 60 days
  equals DPD at the end of month m+2 because no due date or payment falls after day 28.

The ledger follows ``recovery.timeline.aging``'s definitions (DESIGN.md §3): payments are
allocated oldest installment first, an installment counts as paid when less than
``config.aging.tolerance`` of it is unpaid, DPD is days since the due date of the
oldest unpaid installment, and charge-off happens on the first day DPD reaches
``config.aging.charge_off_dpd``. All money is tracked in integer cents.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit

from recovery.config import Config
from recovery.simulate.book import BlockStreams, Book, Calendar, amortize, make_book
from recovery.simulate.hooks import MonthState, OperationResponse
from recovery.simulate.params import SHOCK_TYPES, SimulationParams

__all__ = ["ChunkSimulation", "OUTCOMES"]

# outcome codes of the monthly payment decision
NONE, PARTIAL, ONE, CATCHUP, PAYOFF, SETTLE, TOKEN, RECOVERY, RESTRUCTURE = range(9)
OUTCOMES = (
    "none",
    "partial",
    "one_installment",
    "catch_up",
    "payoff",
    "settlement",
    "token",
    "recovery_partial",
    "restructure",
)
N_OUT = len(OUTCOMES)
REVERSIBLE = np.array([0, 1, 1, 1, 1, 0, 1, 1, 0], bool)
OPEN, PAID_OFF, CHARGED_OFF, SETTLED = 0, 1, 2, 3
DAY_LO, DAY_HI = 3, 28
INF_DAY = np.int64(1) << 40
DAYS_PER_MONTH = 365.25 / 12

EVENT_CODES = ("charged_off", "deceased", "fraud_confirmed", "restructured", "settled")
CHANNELS = ("bank_transfer", "auto_debit", "cash", "agency", "court", "guarantor", "settlement")


def _hook_day(payment_day, n: int) -> np.ndarray:
    """Promised payment day of month (3…28) of an operation's response; 0 = none."""
    if payment_day is None:
        return np.zeros(n, np.int64)
    day = np.clip(np.asarray(payment_day, np.int64), 0, DAY_HI)
    return np.where(day > 0, np.maximum(day, DAY_LO), 0)


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
    for k, v in cols.items():
        store.setdefault(k, []).append(np.asarray(v))


def _odds(h: np.ndarray, k: np.ndarray) -> np.ndarray:
    return k * h / (1.0 - h + k * h)


class ChunkSimulation:
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
        self.book: Book = make_book(params, cal, book_streams, index, width)
        b = self.book
        self.n = n
        self.cum_due = b.cum_due.copy()
        self.cum_prin = b.cum_principal.copy()
        self.vbase = b.orig_month.astype(np.int64).copy()
        self.vterm = b.term.astype(np.int64).copy()
        self.version = np.ones(n, np.int8)
        self.inst = np.zeros(n, np.int64)
        self.regular = np.zeros(n, bool)
        self._set_regular(np.arange(n))
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
        self._prev_rows: np.ndarray | None = None
        self._month_rows = 0

    # ----------------------------------------------------------------- ledger
    def n_paid(self, j: np.ndarray, paid: np.ndarray) -> np.ndarray:
        """Installments fully paid (within tolerance) of the version in force.

        Schedules whose installments are all equal but the last (almost all) use
        integer arithmetic; the others count over the cumulative schedule.
        """
        cv = paid - self.base_paid[j]
        A = self.inst[j]
        T = self.vterm[j]
        # k * A - cv < tol  <=>  k <= (cv + tol - 1) // A   (integers, A > 0)
        n = np.clip((cv + self.tol - 1) // A, 0, T - 1)
        last = (self.cum_due[j, T] - cv) < self.tol
        n = np.where((n == T - 1) & last, T, n)
        irregular = ~self.regular[j]
        if irregular.any():
            ji = j[irregular]
            n[irregular] = ((self.cum_due[ji, 1:] - cv[irregular, None]) < self.tol).sum(axis=1)
        return n

    def _n_paid_by_count(self, j: np.ndarray, paid: np.ndarray) -> np.ndarray:
        """Reference implementation of :meth:`n_paid` (for tests)."""
        cv = paid - self.base_paid[j]
        return ((self.cum_due[j, 1:] - cv[:, None]) < self.tol).sum(axis=1)

    def _set_regular(self, j: np.ndarray) -> None:
        """Record which schedules are k x installment up to the last installment."""
        self.inst[j] = self.cum_due[j, 1]
        k = np.arange(self.cum_due.shape[1])
        T = self.vterm[j]
        expected = self.inst[j, None] * k[None, :]
        inside = k[None, :] < T[:, None]
        ok = np.where(inside, self.cum_due[j] == expected, True).all(axis=1)
        self.regular[j] = ok & (self.inst[j] > 0)

    def due_count(self, j: np.ndarray, m: int, day: np.ndarray | None = None) -> np.ndarray:
        """Installments due by the end of month ``m`` (or due strictly before day ``day``)."""
        k = m - self.vbase[j]
        if day is not None:
            k = k - (day <= self.book.due_day[j])
        return np.clip(k, 0, self.vterm[j])

    def due_date(self, j: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Due date (days since epoch) of installment ``k`` (INF beyond the term)."""
        valid = (k >= 1) & (k <= self.vterm[j])
        month = np.clip(self.vbase[j] + k, 0, len(self.cal.starts) - 1)
        day = self.cal.starts[month] + self.book.due_day[j].astype(np.int64) - 1
        return np.where(valid, day, INF_DAY)

    def amount_due_to(self, j: np.ndarray, k: np.ndarray) -> np.ndarray:
        return self.cum_due[j, k]

    def balance(self, j: np.ndarray, paid: np.ndarray) -> np.ndarray:
        """Outstanding principal (cents): principal minus principal covered oldest-first."""
        cv = paid - self.base_paid[j]
        n = self.n_paid(j, paid)
        T = self.vterm[j]
        nxt = np.minimum(n + 1, T)
        cum_d0 = self.cum_due[j, np.minimum(n, T)]
        cum_d1 = self.cum_due[j, nxt]
        cum_p0 = self.cum_prin[j, np.minimum(n, T)]
        cum_p1 = self.cum_prin[j, nxt]
        inst = np.maximum(cum_d1 - cum_d0, 1)
        frac = np.clip((cv - cum_d0) / inst, 0.0, 1.0)
        frac = np.where(n >= T, 0.0, frac)
        covered = cum_p0 + frac * (cum_p1 - cum_p0)
        total = self.cum_prin[j, T]
        return np.maximum(total - covered, 0.0)

    def ledger_view(self, j: np.ndarray, paid: np.ndarray, m: int) -> dict:
        """Month-end ledger quantities of month ``m`` for accounts ``j`` given ``paid``."""
        n = self.n_paid(j, paid)
        K = self.due_count(j, m)
        T = self.vterm[j]
        cv = paid - self.base_paid[j]
        overdue = np.maximum(self.cum_due[j, K] - cv, 0)
        end_day = self.cal.starts[m + 1] - 1
        oldest = self.due_date(j, n + 1)
        delinquent = n < K
        dpd = np.where(delinquent, end_day - oldest, 0)
        remaining = np.maximum(self.cum_due[j, T] - cv, 0)
        inst = self.cum_due[j, 1]
        oldest_amount = np.where(
            n < T, self.cum_due[j, np.minimum(n + 1, T)] - self.cum_due[j, np.minimum(n, T)], 0
        )
        return {
            "n": n,
            "K": K,
            "overdue": overdue,
            "dpd": dpd,
            "oldest": oldest,
            "delinquent": delinquent,
            "remaining": remaining,
            "installment": inst,
            "oldest_amount": oldest_amount,
        }

    # ------------------------------------------------------------- behaviour
    def downturn(self, m: int) -> bool:
        p = self.p
        return p.downturn_months > 0 and m >= self.cal.observed_months - p.downturn_months

    def shock_start_prob(self, j: np.ndarray, m: int) -> np.ndarray:
        p = self.p
        rate = np.full(len(j), p.shock_rate_monthly)
        rate = rate * np.where(self.book.archetype[j] == 2, p.victim_shock_multiplier, 1.0)
        if self.downturn(m):
            rate = rate * p.downturn_shock_multiplier
        return np.minimum(rate, 1.0)

    def ability_now(self, j: np.ndarray, shock: np.ndarray, m: int) -> np.ndarray:
        a = self.book.ability[j] - self.p.shock_severity * shock
        if self.downturn(m):
            a = a - self.p.downturn_ability_shift
        return a

    def outcome_probabilities(
        self,
        j: np.ndarray,
        paid: np.ndarray,
        status: np.ndarray,
        shock: np.ndarray,
        m: int,
        multiplier: np.ndarray,
        dead: np.ndarray,
        debt_age_days: np.ndarray,
        anchor: np.ndarray,
    ):
        """Probabilities and amounts (cents) of the month's payment outcomes.

        Returns
        -------
        prob : ndarray (n, 9)
            Rows sum to 1; columns follow :data:`OUTCOMES`.
        amount : ndarray (n, 9) of int64
            Amount paid under each outcome (0 for none and restructure).
        view : dict
            The ledger view at the start of the month (end of month ``m - 1``).
        """
        p = self.p
        b = self.book
        nj = len(j)
        prob = np.zeros((nj, N_OUT))
        amount = np.zeros((nj, N_OUT), np.int64)
        view = self.ledger_view(j, paid, m - 1)
        a_eff = self.ability_now(j, shock, m)
        w = b.willingness[j]
        blocked = b.fraud[j] | dead
        cv = paid - self.base_paid[j]
        K_end = self.due_count(j, m)
        D = np.maximum(self.cum_due[j, K_end] - cv, 0)
        R = view["remaining"]
        bal = self.balance(j, paid)
        is_open = status == OPEN
        current = is_open & ~view["delinquent"]
        delinquent = is_open & view["delinquent"]
        # --- open accounts
        dpd = view["dpd"]
        bucket = np.clip(np.asarray(self.cfg.aging.bucket_index(dpd)), 1, None)
        by_bucket = np.asarray(p.pay_logit_by_bucket)
        logit = np.where(
            current,
            p.pay_logit_current,
            by_bucket[np.minimum(bucket - 1, len(by_bucket) - 1)],
        )
        logit = logit + p.ability_effect * a_eff + p.willingness_effect * w
        h = _odds(expit(logit), multiplier)
        h = np.where(blocked | (D < self.tol) | ~is_open, 0.0, h)
        partial_share = expit(
            np.where(current, p.partial_logit_current, p.partial_logit) + p.partial_ability * a_eff
        )
        cu = expit(p.catch_up_logit + p.catch_up_ability * a_eff + p.catch_up_bucket * (bucket - 1))
        payoff = np.full(nj, p.prepay_rate_monthly)
        settle = np.where(delinquent & (bucket >= 4), p.settlement_rate_open, 0.0)
        rest = 1.0 - payoff - settle
        cu = np.where(current, 0.0, cu)
        restructure = np.where(
            delinquent & shock & (bucket <= 3) & (self.version[j] == 1) & ~blocked,
            p.restructure_rate,
            0.0,
        )
        keep = 1.0 - restructure
        prob[:, PAYOFF] = h * payoff * keep
        prob[:, SETTLE] = h * settle * keep
        prob[:, CATCHUP] = h * rest * cu * keep
        prob[:, PARTIAL] = h * rest * (1 - cu) * partial_share * keep
        prob[:, ONE] = h * rest * (1 - cu) * (1 - partial_share) * keep
        prob[:, RESTRUCTURE] = restructure
        inst = view["installment"]
        amount[:, PARTIAL] = np.maximum(
            1, np.rint(b.partial_share[j] * np.minimum(inst, D))
        ).astype(np.int64)
        amount[:, ONE] = np.where(current, D, np.minimum(inst, R))
        amount[:, CATCHUP] = D
        amount[:, PAYOFF] = R
        amount[:, SETTLE] = np.maximum(100, np.rint(b.settlement_share[j] * bal)).astype(np.int64)
        # --- charged-off accounts: recovery
        co = status == CHARGED_OFF
        if co.any():
            age_m = np.maximum(debt_age_days, 0) / DAYS_PER_MONTH
            secured = b.has_guarantor[j] | b.has_collateral[j]
            expired = self.limitation_expired(anchor, m)
            rlogit = (
                p.recovery_logit
                - p.age_decay * (age_m - p.recovery_reference_age)
                + p.recovery_ability * a_eff
                + p.recovery_willingness * w
                + p.secured_recovery_bonus * secured
                + p.limitation_logit_penalty * expired
            )
            rh = _odds(expit(rlogit), multiplier)
            rh = np.where(dead, rh * 0.3, rh)
            rh = np.where(b.fraud[j] | (bal < self.tol) | (R < self.tol) | ~co, 0.0, rh)
            sp, tp = p.settlement_prob_recovery, p.token_payment_prob
            prob[:, SETTLE] = np.where(co, rh * sp, prob[:, SETTLE])
            prob[:, TOKEN] = rh * tp
            prob[:, RECOVERY] = rh * (1 - sp - tp)
            amount[:, TOKEN] = np.maximum(1, np.rint(p.token_payment_share * bal)).astype(np.int64)
            amount[:, RECOVERY] = np.maximum(1, np.rint(b.recovery_share[j] * bal)).astype(np.int64)
        amount = np.minimum(amount, R[:, None])
        prob[:, NONE] = np.clip(1.0 - prob[:, 1:].sum(axis=1), 0.0, 1.0)
        view["bucket"] = bucket
        view["a_eff"] = a_eff
        view["D"] = D
        view["balance"] = bal
        view["h"] = 1.0 - prob[:, NONE] - prob[:, RESTRUCTURE]
        return prob, amount, view

    def limitation_expired(self, anchor: np.ndarray, m: int) -> np.ndarray:
        limit_days = self.p.limitation_months * DAYS_PER_MONTH
        return (anchor >= 0) & (self.cal.starts[m] - anchor >= limit_days)

    # ---------------------------------------------------------- one month
    def charge_off_day(self, j, paid, m, view=None):
        """Day DPD would reach the charge-off threshold if nothing were paid."""
        n = self.n_paid(j, paid)
        oldest = self.due_date(j, n + 1)
        K_end = self.due_count(j, m)
        return np.where(n < K_end, oldest + self.co_dpd, INF_DAY)

    def apply_payment(self, j, paid, amount, day_abs, m):
        """Ledger after a (non-reversed) payment: new paid and charge-off day if any.

        Returns (paid_after, co_day) where co_day is INF when no charge-off this month.
        """
        end_day = self.cal.starts[m + 1] - 1
        c0 = self.charge_off_day(j, paid, m)
        before = c0 < day_abs
        paid1 = paid + amount
        c1 = self.charge_off_day(j, paid1, m)
        co = np.where(before, c0, np.where(c1 <= end_day, c1, INF_DAY))
        return paid1, co

    def step(self, m: int) -> None:
        """Simulate month ``m`` for the chunk."""
        p, b, cal = self.p, self.book, self.cal
        u = self.streams.uniform(12)
        ms, me = cal.starts[m], cal.starts[m + 1] - 1
        live = (b.orig_month < m) & ((self.status == OPEN) | (self.status == CHARGED_OFF))
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
        draws = self._response_draws(state)
        response = self._operation_step(state, m)
        mult = np.asarray(response.odds_multiplier, float)
        if np.allclose(mult, 1.0):
            prob, amount = prob0, amount0
        else:
            prob, amount, view = self.outcome_probabilities(
                j, paid0, status, self.shock[j], m, mult, self.dead[j], debt_age, self.anchor[j]
            )
        hook_day = _hook_day(response.payment_day, len(j))
        # 3. truth for the previous month end: an average over the operation's possible
        # responses (its contacts are drawn in month m, after that month end)
        if draws is None:
            draws = [(mult, hook_day)]
        self._truth_previous(
            j, m, status, paid0, view, mult, draws, debt_age, shock_prev, perm_prev
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
        day = np.where(hook_day > 0, hook_day, day)
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
        self._set_regular(jr)
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
            product=b.product[j],
            has_guarantor=b.has_guarantor[j],
            has_collateral=b.has_collateral[j],
            archetype=b.archetype[j],
            ability=view["a_eff"],
            willingness=b.willingness[j],
            shock_active=self.shock[j],
            shock_type=self.shock_type[j],
            promise_keep=b.promise_keep[j],
            reachability=b.reachability[j],
            contact_response=b.contact_response[j],
            deceased=self.dead[j],
            fraud=b.fraud[j],
            p_pay_base=view["h"],
        )

    def _response_draws(self, state: MonthState):
        """The operation's month under independent random draws, for the truth.

        ``p_pay_true`` / ``p_cure_true`` of the previous month end may depend only on
        what is determined at that month end; the month's contacts, promises and agents
        are drawn afterwards, so the truth averages over the operation's
        ``response_draws(state)`` (its own state left untouched). None when the
        operation cannot redraw (it is then taken to be deterministic given the state)
        or returns no draw.
        """
        redraw = getattr(self.operation, "response_draws", None)
        if redraw is None or self._prev_rows is None or len(state) == 0:
            return None
        if state.month_index - 1 >= self.cal.observed_months:
            return None  # the previous month end is hidden follow-up: its truth is not kept
        draws = [
            (np.asarray(r.odds_multiplier, float), _hook_day(r.payment_day, len(state)))
            for r in redraw(state)
        ]
        return draws or None

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

    # ------------------------------------------------------------- truth
    def _truth_previous(
        self, j, m, status, paid0, view, mult, draws, debt_age, shock_prev, perm_prev
    ):
        """p_pay_true / p_cure_true of month end m-1 for the live accounts ``j``.

        ``mult``: the realised odds multiplier (recorded, not used by the probabilities).
        ``draws``: the operation's possible responses in month m, ``[(odds multiplier,
        payment day), ...]``, equally likely; the truth is their average. The response
        assumed for month m+1 (second month of ``p_cure_true``) is the next draw in the
        list: an independent draw of the contacts, from the same state.
        """
        if self._prev_rows is None:
            return
        nj = len(j)
        p_pay = np.full(nj, np.nan)
        p_cure = np.full(nj, np.nan)
        is_open = status == OPEN
        delinquent = is_open & (view["dpd"] > 0)
        co = status == CHARGED_OFF
        target = delinquent | (co & (view["remaining"] >= self.tol))  # repaid: not overdue
        if target.any():
            t = np.flatnonzero(target)
            k = len(draws)
            # the draws stacked into one long call: draw i's rows are [i*n, (i+1)*n)
            tile = lambda a: np.tile(a[t], k)  # noqa: E731
            pay_k, cure_k = self._exact_probabilities(
                tile(j),
                m,
                tile(status),
                tile(paid0),
                np.concatenate([d[0][t] for d in draws]),
                np.concatenate([d[1][t] for d in draws]),
                tile(debt_age),
                tile(delinquent),
                tile(shock_prev),
                tile(perm_prev),
                np.concatenate([draws[(s + 1) % k][0][t] for s in range(k)]),
            )
            p_pay[t] = pay_k.reshape(k, len(t)).mean(axis=0)
            cure = cure_k.reshape(k, len(t)).mean(axis=0)
            p_cure[t] = np.where(delinquent[t], cure, np.nan)
        rows = self._prev_rows  # (accounts, row ids) of the previous month, aligned to j
        if not np.array_equal(rows[0], j):  # pragma: no cover - internal invariant
            raise RuntimeError("simulator bookkeeping: live accounts do not match month rows")
        self._pending_truth = (rows, p_pay, p_cure, view["h"], mult)

    def _exact_probabilities(
        self, j, m, status, paid0, mult, hook_day, debt_age, delinquent, s0, s0_perm, mult_next
    ):
        """Closed-form p_pay and two-month enumeration for p_cure (see module doc).

        ``s0`` / ``s0_perm``: shock state of month m-1 (before this month's draw).
        ``mult`` / ``hook_day``: one response of the operation in month m; ``mult_next``:
        the odds multiplier assumed for month m+1 (second month of p_cure).
        Branches are stacked into long arrays so each month costs one call of
        :meth:`outcome_probabilities`.
        """
        p = self.p
        nj = len(j)
        rho = p.reversal_rate
        # shock state of month m (integrated over) and its persistence into m+1
        pstart = self.shock_start_prob(j, m)
        p_s1 = np.where(s0, np.where(s0_perm, 1.0, 1.0 - p.shock_end_rate_monthly), pstart)
        p_keep_new = 1.0 - (1.0 - p.shock_permanent_share) * p.shock_end_rate_monthly
        p_keep = np.where(s0, np.where(s0_perm, 1.0, 1.0 - p.shock_end_rate_monthly), p_keep_new)
        pstart2 = self.shock_start_prob(j, m + 1)
        v0 = self.ledger_view(j, paid0, m - 1)
        thr = np.where(
            status == OPEN,
            np.minimum(v0["overdue"], v0["oldest_amount"]),
            self.cfg.labels.charged_off_min_share * self.balance(j, paid0),
        )
        two = np.concatenate
        J = two([j, j])
        shock1 = np.repeat([False, True], nj)
        prob, amount, _ = self.outcome_probabilities(
            J,
            two([paid0, paid0]),
            two([status, status]),
            shock1,
            m,
            two([mult, mult]),
            two([self.dead[j], self.dead[j]]),
            two([debt_age, debt_age]),
            two([self.anchor[j], self.anchor[j]]),
        )
        w1 = two([1.0 - p_s1, p_s1])
        thr2 = two([thr, thr])
        # qualifying: at least the minimum less the tolerance (as recovery.timeline.labels counts)
        qual = (amount >= thr2[:, None] - self.tol - 1e-9) & (amount > 0)
        eff = prob * np.where(REVERSIBLE, 1.0 - rho, 1.0)[None, :]
        eff[:, [NONE, RESTRUCTURE]] = 0.0
        p_pay = (w1 * (eff * qual).sum(axis=1)).reshape(2, nj).sum(axis=0)
        p_cure = np.zeros(nj)
        d = np.flatnonzero(delinquent)
        if len(d) == 0:
            return p_pay, p_cure
        # --- p_cure, first month: branches (shock s1) x (none, partial, one, catch-up, payoff)
        ms, me = self.cal.starts[m], self.cal.starts[m + 1] - 1
        rows = two([d, d + nj])  # positions in the stacked first-month arrays
        jd = J[rows]
        lo = np.where(hook_day[d] > 0, hook_day[d], DAY_LO)
        hi = np.where(hook_day[d] > 0, hook_day[d], DAY_HI)
        c0 = self.charge_off_day(j[d], paid0[d], m)
        p_before = np.clip((c0 - ms + 1 - lo + 1) / (hi - lo + 1), 0.0, 1.0)  # P(day <= c)
        p_before = two([p_before, p_before])
        pr = prob[rows]
        none_w = pr[:, NONE] + rho * (pr * REVERSIBLE[None, :]).sum(axis=1)
        base_paid = two([paid0[d], paid0[d]])
        wshock = w1[rows]
        keep_next = two([pstart2[d], p_keep[d]])  # P(shock in m+1 | branch's s1)
        branch_j, branch_paid, branch_w, branch_keep, branch_idx = [], [], [], [], []
        nd = len(d)
        for o in (NONE, PARTIAL, ONE, CATCHUP, PAYOFF):
            if o == NONE:
                weight, amt = none_w, np.zeros(2 * nd, np.int64)
            else:
                weight, amt = pr[:, o] * (1 - rho) * p_before, amount[rows, o]
            paid1 = base_paid + amt
            survive = self.charge_off_day(jd, paid1, m) > me
            wt = wshock * weight * survive
            target = two([np.arange(nd), np.arange(nd)])
            if o == PAYOFF:
                np.add.at(p_cure, d[target], wt)
                continue
            branch_j.append(jd)
            branch_paid.append(paid1)
            branch_w.append(wt)
            branch_keep.append(keep_next)
            branch_idx.append(d[target])
        bj = two(branch_j)
        second = self._cure_second_month(
            bj,
            m + 1,
            two(branch_paid),
            np.tile(two([mult_next[d], mult_next[d]]), len(branch_j)),
            two(branch_keep),
            np.tile(two([debt_age[d], debt_age[d]]), len(branch_j)),
            self.anchor[bj],
        )
        np.add.at(p_cure, two(branch_idx), two(branch_w) * second)
        return p_pay, p_cure

    def _cure_second_month(self, j, m, paid1, mult, p_s2, debt_age, anchor):
        """P(DPD 0 at the end of month m, by payments), from the open state ``paid1``."""
        p = self.p
        n = len(j)
        rho = p.reversal_rate
        delta = p.death_rate_monthly
        two = np.concatenate
        prob, amount, _ = self.outcome_probabilities(
            two([j, j]),
            two([paid1, paid1]),
            np.zeros(2 * n, np.int8),
            np.repeat([False, True], n),
            m,
            two([mult, mult]),
            two([self.dead[j], self.dead[j]]),
            two([debt_age, debt_age]),
            two([anchor, anchor]),
        )
        prob_avg = (1.0 - p_s2)[:, None] * prob[:n] + p_s2[:, None] * prob[n:]
        amount = amount[:n]  # amounts do not depend on the shock
        # a death at the end of the previous month stops payments and restructures
        alive = np.where(self.dead[j], 0.0, 1.0 - delta)
        ms = self.cal.starts[m]
        c = self.charge_off_day(j, paid1, m)
        p_before = np.clip((c - ms + 1 - DAY_LO + 1) / (DAY_HI - DAY_LO + 1), 0.0, 1.0)
        K_end = self.due_count(j, m)
        pay_mass = 1.0 - prob_avg[:, NONE]
        none_w = (
            prob_avg[:, NONE]
            + (1 - alive) * pay_mass
            + alive * rho * (prob_avg * REVERSIBLE[None, :]).sum(axis=1)
        )
        cure = none_w * (self.n_paid(j, paid1) >= K_end)
        for o in (PARTIAL, ONE, CATCHUP, PAYOFF):
            cured = self.n_paid(j, paid1 + amount[:, o]) >= K_end
            cure += alive * prob_avg[:, o] * (1 - rho) * p_before * cured
        return cure

    def _record_month(self, m: int) -> None:
        """Month-end rows of month m (truth columns of m-1 filled now)."""
        b = self.book
        # fill truth of previous month rows
        pending = getattr(self, "_pending_truth", None)
        if pending is not None and self._prev_rows is not None:
            rows, p_pay, p_cure, h, mlt = pending
            # rows: previous-month row positions of live accounts, aligned with j_live
            self._truth_fill.append((rows, p_pay, p_cure, h, mlt))
            self._pending_truth = None
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
        row_ids = self._month_rows + np.arange(len(rows_acc))
        self._next_live_rows = (rows_acc[live_next], row_ids[live_next])
        self._month_rows += len(rows_acc)
        self.exited[rows_acc[terminal]] = True

    # ------------------------------------------------------------ driver
    def run(self, progress=None) -> ChunkOutput:
        """Simulate every month; returns the chunk's rows."""
        self._truth_fill = []
        self._next_live_rows = None
        self.operation.start_chunk(self.chunk_index, self.accounts_frame(with_truth=True))
        for m in range(self.cal.n_months):
            if self._next_live_rows is not None:
                acc, rows = self._next_live_rows
                self._prev_rows = (acc, rows)
            self.step(m)
            if progress is not None:
                progress(1)
        # truth of the last month end: same enumeration with a neutral operation
        self._finish_truth()
        self.operation.end_chunk(self.chunk_index)
        return self.out

    def _finish_truth(self) -> None:
        """Attach the truth columns (computed a month later) to the month-end rows.

        The last simulated month end is hidden follow-up; its truth stays empty.
        """
        total = self._month_rows
        p_pay = np.full(total, np.nan, np.float32)
        p_cure = np.full(total, np.nan, np.float32)
        hz = np.full(total, np.nan, np.float32)
        mult = np.full(total, np.nan, np.float32)
        for (_acc_prev, rows_prev), pp, pc, h, mlt in self._truth_fill:
            p_pay[rows_prev] = pp
            p_cure[rows_prev] = pc
            hz[rows_prev] = h
            mult[rows_prev] = mlt
        self.out.months["p_pay_true"] = [p_pay]
        self.out.months["p_cure_true"] = [p_cure]
        self.out.months["p_payment_month"] = [hz]
        self.out.months["operation_multiplier"] = [mult]

    def accounts_frame(self, with_truth: bool = False) -> pd.DataFrame:
        """The chunk's ``accounts`` rows (plus truth traits when asked)."""
        b = self.book
        base = getattr(self, "accounts_for_operation", None)
        df = pd.DataFrame() if base is None else base.copy()
        df["account_index"] = b.index
        df["origination_month"] = b.orig_month
        if with_truth:
            df["archetype"] = b.archetype
            df["ability"] = b.ability
            df["willingness"] = b.willingness
            df["promise_keep"] = b.promise_keep
            df["reachability"] = b.reachability
            df["contact_response"] = b.contact_response
            df["fraud"] = b.fraud
        return df
