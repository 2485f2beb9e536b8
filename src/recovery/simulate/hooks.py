"""The hook through which a collection operation (part 2) acts on the simulated book.

The simulator (part 1) models borrowers and their ledger; a *collection operation*
(agents, contacts, promises, legal action, outsourcing) is plugged in from outside
through the :class:`CollectionOperation` protocol. Each simulated month, for each
chunk of accounts, the simulator calls ``operation.step(state)`` **before** the
borrowers decide whether to pay, with the vectorised state of every live account
(open or charged off) at the start of the month. The operation answers with an
:class:`OperationResponse`: per-account odds multipliers on this month's payment
probability, optionally the day of the month on which a payment would be made (a
promised date), optionally offers (a settlement, a payment plan or a deferral: see
:class:`OperationResponse`), and the rows of ``actions`` / ``assignments`` it generated. The
default, :class:`NoOperation`, does nothing (multiplier 1, no rows).

Protocol, precisely
-------------------
1. ``operation.start(book)`` once per simulation with a :class:`BookInfo` (the
   parameters, month calendar, number of chunks).
2. For each chunk (a fixed partition of accounts, processed one after another):
   ``operation.start_chunk(chunk_index, accounts)`` with the chunk's rows of the
   ``accounts`` table plus truth columns (``archetype``, ``ability``,
   ``willingness``, ``promise_keep``, ``reachability``, ``contact_response``, ``fraud``)
   and a column ``account_index`` (the row number in the whole book).
3. Then for month ``m = 0, 1, …`` (calendar months from the first origination):
   ``operation.step(state)`` with a :class:`MonthState`; returns an
   :class:`OperationResponse` whose arrays are aligned with ``state.account_index``.
4. ``operation.end_chunk(chunk_index)`` after the chunk's last month, then, if the
   operation has it, ``operation.chunk_tables(chunk_index)``: a dict of the chunk's
   finished tables (bounded memory), attached to that chunk's output.
5. ``operation.tables()`` once at the end: a dict of the remaining tables.

Table names in those dicts: ``actions``, ``agents``, ``assignments`` and ``events``
go into the :class:`~recovery.data.portfolio.Portfolio` (events are added to the
simulator's own); ``truth_<name>`` goes into ``Truth.extra[name]`` (saved as
``truth/<name>.parquet``). Rows of hidden follow-up months (``state.observed`` is
False) must not be returned.

Effects on the borrowers
------------------------
- ``odds_multiplier[i] = k`` turns the month's payment probability ``h`` into
  ``k h / (1 - h + k h)`` (odds times ``k``). ``k > 1`` helps (a right-party
  contact, a kept-promise reminder, a guarantor call), ``k < 1`` hurts (e.g. a hostile
  borrower after harassment). For charged-off accounts it acts on the recovery
  payment probability. Borrower traits to base ``k`` on are in the state (``archetype``,
  ``contact_response``, ``reachability``, ``promise_keep``) — these are truth: the
  operation may use them to *simulate* outcomes but must only write observable
  things (outcomes, recorded attitude, which may be wrong) into ``actions``.
- ``payment_day[i] = d`` (3…28; 0 = no preference): if the borrower pays this month
  the payment posts on day ``d`` (a promised date). Promise keeping is the
  operation's business: raise ``k`` by the archetype's ``promise_keep`` when a
  promise is made and read ``state.paid_last_month`` next month to record kept or
  broken promises.
- The truth probabilities (``p_pay_true``, ``p_cure_true``) of month end ``m - 1``
  are computed with the response of month ``m`` (the treatment in force); for the
  second month of ``p_cure_true`` the same multiplier is assumed.

Randomness: draw from ``state.rng`` (a :class:`numpy.random.Generator` seeded per
chunk and month from the simulation seed), so results stay deterministic.
Actions must have dates inside the month (``state.month_start`` …
``state.month_end``), ``action_id`` unique over the whole book (e.g. prefix with
the chunk index) and columns of ``recovery.data.schema.TABLES['actions']``.

Examples
--------
>>> import numpy as np
>>> op = NoOperation()
>>> state = MonthState.empty(month_index=0)
>>> op.step(state).odds_multiplier.shape
(0,)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from recovery.simulate.ledger import hook_day

__all__ = [
    "BookInfo",
    "MonthState",
    "OperationResponse",
    "ResponseDistribution",
    "CollectionOperation",
    "NoOperation",
    "STATUS_CODES",
]

#: Integer codes of ``MonthState.status``.
STATUS_CODES = {"open": 0, "paid_off": 1, "charged_off": 2, "settled": 3}


@dataclass(frozen=True)
class BookInfo:
    """What an operation learns once, before the first chunk.

    Attributes
    ----------
    params : SimulationParams
        The scenario's parameters.
    config : recovery.config.Config
        Project configuration (compliance limits, costs, categories).
    month_starts : pandas.DatetimeIndex
        First day of each simulated month (``month_index`` indexes it).
    data_end : pandas.Timestamp
        Last day written to the tables (later months are hidden follow-up for truth).
    n_accounts, n_chunks : int
        Size of the book and number of chunks.
    seed : int
        The simulation seed.
    """

    params: Any
    config: Any
    month_starts: pd.DatetimeIndex
    data_end: pd.Timestamp
    n_accounts: int
    n_chunks: int
    seed: int


@dataclass
class MonthState:
    """Vectorised state of a chunk's live accounts at the start of a month.

    All arrays have one entry per live account (status open or charged off,
    originated before the month), aligned with ``account_index``. Money in currency
    units, durations in days unless named ``_months``.

    Attributes
    ----------
    month_index : int
        Index of the month (0 = first simulated month).
    month_start, month_end : pandas.Timestamp
        First and last day of the month.
    chunk_index : int
        Which chunk of accounts this is.
    observed : bool
        False for the hidden follow-up months after ``data_end`` (write no rows then).
    rng : numpy.random.Generator
        Random numbers for the operation (deterministic per chunk and month).
    account_index : ndarray of int64
        Row number of the account in the book's ``accounts`` table.
    status : ndarray of int8
        :data:`STATUS_CODES` (0 open, 2 charged off).
    dpd : ndarray of int32
        Days past due at the end of the previous month.
    bucket : ndarray of int8
        Index of the aging bucket of ``dpd`` (0 = M0 … 7 = M7+; charged off: -1).
    amount_overdue, balance, installment : ndarray of float64
        Overdue amount, outstanding principal, regular installment.
    debt_age_days : ndarray of int32
        Days since the delinquency episode started (-1 when not delinquent).
    months_since_charge_off : ndarray of int32
        -1 when not charged off.
    limitation_expired : ndarray of bool
        The 3-year limitation period has run out (legal route closed).
    paid_last_month, last_payment_day : ndarray
        Net amount paid in the previous month (currency) and the day of month of its
        payment (0 if none).
    last_payment_date : ndarray of int64
        Latest non-reversed payment date before the month, in days since 1970-01-01
        (-1 if none).
    charge_off_day, first_due_day : ndarray of int64
        Charge-off date and first due date of schedule version 1, in days since
        1970-01-01 (-1 if not charged off).
    death_day, death_notice_day : ndarray of int64
        True death date and the date of the ``deceased`` event (the lender is told
        30–120 days later), days since 1970-01-01, -1 if none.
    last_posted_day : ndarray of int64
        Latest payment row posted before the month, reversed or not (-1 if none).
    product : ndarray of int8
        0 consumer_installment, 1 small_business.
    has_guarantor, has_collateral : ndarray of bool
    archetype : ndarray of int8
        Index into :data:`recovery.simulate.params.ARCHETYPES` (truth).
    ability, willingness : ndarray of float64
        Latent traits (truth); ``ability`` includes the current shock and downturn.
    shock_active : ndarray of bool
        A life or business shock is under way (truth).
    shock_type : ndarray of int8
        Index into :data:`recovery.simulate.params.SHOCK_TYPES` (-1 none).
    promise_keep, reachability, contact_response : ndarray of float64
        Archetype behaviour (truth): P(promise kept), P(contact reaches the
        borrower), odds multiplier of a right-party contact.
    deceased, fraud : ndarray of bool
    p_pay_base : ndarray of float64
        Probability of a payment this month before the operation acts.
    """

    month_index: int
    month_start: pd.Timestamp
    month_end: pd.Timestamp
    chunk_index: int = 0
    observed: bool = True
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))
    account_index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    status: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    dpd: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    bucket: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    amount_overdue: np.ndarray = field(default_factory=lambda: np.zeros(0))
    balance: np.ndarray = field(default_factory=lambda: np.zeros(0))
    installment: np.ndarray = field(default_factory=lambda: np.zeros(0))
    debt_age_days: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    months_since_charge_off: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    limitation_expired: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    paid_last_month: np.ndarray = field(default_factory=lambda: np.zeros(0))
    last_payment_day: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    last_payment_date: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    charge_off_day: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    first_due_day: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    death_day: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    death_notice_day: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    last_posted_day: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    product: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    has_guarantor: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    has_collateral: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    archetype: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    ability: np.ndarray = field(default_factory=lambda: np.zeros(0))
    willingness: np.ndarray = field(default_factory=lambda: np.zeros(0))
    shock_active: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    shock_type: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    promise_keep: np.ndarray = field(default_factory=lambda: np.zeros(0))
    reachability: np.ndarray = field(default_factory=lambda: np.zeros(0))
    contact_response: np.ndarray = field(default_factory=lambda: np.zeros(0))
    deceased: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    fraud: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    p_pay_base: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def empty(cls, month_index: int = 0) -> MonthState:
        """A state with no accounts (for tests and examples)."""
        start = pd.Timestamp("2020-01-01") + pd.DateOffset(months=month_index)
        return cls(month_index, start, start + pd.offsets.MonthEnd(0))

    def __len__(self) -> int:
        return len(self.account_index)


@dataclass
class OperationResponse:
    """What an operation does to the month's payment behaviour, plus its records.

    Attributes
    ----------
    odds_multiplier : ndarray of float64
        Per account (aligned with ``MonthState.account_index``), > 0; multiplies the
        odds of a payment this month. 1 = no effect.
    payment_day : ndarray of int8, optional
        Day of month (3…28) a payment would post on; 0 = the borrower's own choice.
    actions, assignments : DataFrame, optional
        Rows for the ``actions`` / ``assignments`` tables generated this month.
    limitation_restart_day : ndarray of int64, optional
        Day (days since 1970-01-01; -1 none) on which a demand, acknowledgement or
        lawsuit this month restarted the limitation period (PRC Civil Code art. 195);
        the simulator's limitation clock (and so the recovery hazard from next month
        on) follows it.
    offers : pandas.DataFrame, optional
        The offers the operation makes this month (default None: none of its own). One
        row per offer, dated the first day of the month: ``row`` (position in the month
        state), ``kind`` and its terms —

        - ``settlement``: ``discount_share`` (share of the balance forgiven), or
          ``settlement_amount`` (currency; the discount is ``1 - amount / balance``);
          accepted, it is paid within the month (a ``settled`` event);
        - ``payment_plan``: ``installments`` — accepted, the amount still due becomes a
          new schedule version of that many monthly installments (a re-age);
        - ``deferral``: ``deferral_months`` — accepted, a new schedule version moves the
          unpaid installments that many months later;

        and optionally ``randomized`` and ``assignment_probability`` (how the terms were
        chosen; default False and 1). Offers need an offer desk in the simulation (the
        ``offers`` scenario, or ``offers=`` given; otherwise they are refused with an
        error); a non-empty or empty frame replaces the desk's own offers that month.
        Each is checked against the lender's guardrails (``config.offers``) and the
        desk's limits (no offer during a running plan, a dispute, after a known death or
        a confirmed fraud); those that break one are not made
        (:mod:`recovery.simulate.offer_engine`).
    """

    odds_multiplier: np.ndarray
    payment_day: np.ndarray | None = None
    limitation_restart_day: np.ndarray | None = None
    actions: pd.DataFrame | None = None
    assignments: pd.DataFrame | None = None
    offers: pd.DataFrame | None = None

    @classmethod
    def neutral(cls, n: int) -> OperationResponse:
        """No effect on ``n`` accounts."""
        return cls(odds_multiplier=np.ones(n))


@dataclass
class ResponseDistribution:
    """The operation's possible responses of one month, as weighted scenarios per account.

    The simulator's point-in-time truth of month end ``m - 1`` averages over the
    operation's work in month ``m``, drawn after that month end
    (:mod:`recovery.simulate.exact_truth`). It needs, per account, only the
    distribution of the month's odds multiplier and promised payment day: one row per
    (account, scenario) gives the scenario's probability ``weight`` (an account's
    rows sum to 1), ``log_multiplier`` (log of ``OperationResponse.odds_multiplier``)
    and ``payment_day`` (3…28; 0 = none). An operation supplies it through an optional
    ``response_distribution(state)`` method — in closed form
    (:func:`recovery.simulate.operation.expectation.expected_response`) or from
    redraws of the month (:meth:`from_responses`).

    Extension point — a new kind of response that moves the odds or the day enters as
    more scenarios (weights, multiplier, day). One that changes the ledger — the offers
    of :mod:`recovery.simulate.offer_engine` (a settlement amount, a plan's or a
    deferral's schedule version) — enters as scenarios carrying its terms in new
    columns, and :meth:`recovery.simulate.exact_truth.ExactTruth.expected_probabilities`
    evaluates those rows on the ledger the offer leaves before mixing them with the
    others by weight (``docs/simulator.md``, "Adding a response"); offers are not in
    the average yet.

    Attributes
    ----------
    account : ndarray of int64
        Position of the account in the month state, ascending.
    weight, log_multiplier : ndarray of float64
    payment_day : ndarray of int64

    Examples
    --------
    >>> r = [OperationResponse(np.array([1.0, 2.0])), OperationResponse(np.array([1.0, 4.0]))]
    >>> d = ResponseDistribution.from_responses(r, 2)
    >>> d.account.tolist(), d.weight.tolist()
    ([0, 0, 1, 1], [0.5, 0.5, 0.5, 0.5])
    >>> d.subset(np.array([1])).log_multiplier.round(3).tolist()
    [0.693, 1.386]
    """

    account: np.ndarray
    weight: np.ndarray
    log_multiplier: np.ndarray
    payment_day: np.ndarray

    @classmethod
    def build(cls, n: int, account, weight, log_multiplier, payment_day) -> ResponseDistribution:
        """Rows sorted by account, zero weights dropped, the neutral response where none.

        Parameters
        ----------
        n : int
            Accounts of the month state.
        account, weight, log_multiplier, payment_day : array-like
            One entry per scenario row.
        """
        account = np.asarray(account, np.int64)
        weight = np.asarray(weight, float)
        keep = weight > 0
        missing = np.setdiff1d(np.arange(n), account[keep])
        account = np.concatenate([account[keep], missing])
        order = np.argsort(account, kind="stable")
        pad = len(missing)
        return cls(
            account=account[order],
            weight=np.concatenate([weight[keep], np.ones(pad)])[order],
            log_multiplier=np.concatenate([np.asarray(log_multiplier, float)[keep], np.zeros(pad)])[
                order
            ],
            payment_day=np.concatenate(
                [np.asarray(payment_day, np.int64)[keep], np.zeros(pad, np.int64)]
            )[order],
        )

    @classmethod
    def from_responses(cls, responses: list[OperationResponse], n: int) -> ResponseDistribution:
        """Equally likely responses (redraws of the month, or the realised one).

        Parameters
        ----------
        responses : list of OperationResponse
            Aligned with the month state (``payment_day`` as the simulator reads it).
        n : int
            Accounts of the month state.
        """
        k = len(responses)
        days = [hook_day(r.payment_day, n) for r in responses]
        return cls.build(
            n,
            np.tile(np.arange(n), k),
            np.full(n * k, 1.0 / k),
            np.concatenate([np.log(np.asarray(r.odds_multiplier, float)) for r in responses]),
            np.concatenate(days),
        )

    def subset(self, positions: np.ndarray) -> ResponseDistribution:
        """The rows of some accounts (ascending positions), renumbered 0, 1, …"""
        size = max(int(self.account.max(initial=-1)), int(np.max(positions, initial=-1))) + 1
        new = np.full(size, -1, np.int64)
        new[positions] = np.arange(len(positions))
        rows = new[self.account] >= 0
        return ResponseDistribution(
            new[self.account[rows]],
            self.weight[rows],
            self.log_multiplier[rows],
            self.payment_day[rows],
        )

    def __len__(self) -> int:
        return len(self.account)


@runtime_checkable
class CollectionOperation(Protocol):
    """A collection operation plugged into :func:`recovery.simulate.simulate_portfolio`."""

    def start(self, book: BookInfo) -> None:
        """Called once before the first chunk."""

    def start_chunk(self, chunk_index: int, accounts: pd.DataFrame) -> None:
        """Called before a chunk's first month with its accounts (and truth traits)."""

    def step(self, state: MonthState) -> OperationResponse:
        """Act on one month of one chunk; see the module docstring."""

    def end_chunk(self, chunk_index: int) -> None:
        """Called after a chunk's last month."""

    def tables(self) -> dict[str, pd.DataFrame]:
        """Extra tables at the end (e.g. ``agents``); empty dict if none."""


class NoOperation:
    """The default operation: no contacts, no effect on payments, no rows.

    Examples
    --------
    >>> NoOperation().tables()
    {}
    """

    def start(self, book: BookInfo) -> None:  # noqa: D102
        return None

    def start_chunk(self, chunk_index: int, accounts: pd.DataFrame) -> None:  # noqa: D102
        return None

    def step(self, state: MonthState) -> OperationResponse:  # noqa: D102
        return OperationResponse.neutral(len(state))

    def end_chunk(self, chunk_index: int) -> None:  # noqa: D102
        return None

    def tables(self) -> dict[str, pd.DataFrame]:  # noqa: D102
        return {}
