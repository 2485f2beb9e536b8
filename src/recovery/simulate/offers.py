"""Offers in the simulator: the lender's offer desk and the borrowers' response (issue 22).

The ``offers`` scenario adds, on top of the benchmark's borrowers and collection
operation, a lender that proposes **payment plans**, **settlements** and **deferrals**
(DESIGN.md §2 ``offers``) and borrowers that answer them. Everything here is a plain
function of arrays; :mod:`recovery.simulate.offer_engine` runs it month by month.

The lender (:func:`desk_terms`): on the first day of a month, an account that is not in
a running plan gets an offer with probability ``offer_rate`` (at most one every
``offer_cooldown_months``):

- a **deferral** of ``hardship_deferral_months`` when the borrower claimed hardship to a
  collector in the previous month (the hardship plan moves the due dates: it changes
  payments, not only calls);
- a **payment plan** at M2–M3 (seed 004: "协商制定个性化的分期还款计划"): the whole amount
  still due spread over the shortest plan of ``plan_grid`` whose installment is
  affordable (at most the regular installment);
- a **settlement** from M4 on and after charge-off, at the discount of
  ``default_discount`` for the stage and debt age;

and in the **randomised share** (``randomized_share`` of accounts, fixed per account)
the terms are drawn uniformly from the grid (``discount_grid`` for settlements,
``plan_grid`` for plans) among the terms the lender's guardrails allow
(:func:`recovery.operations.offer_rules.offer_breaches`), the probability of the terms
drawn being recorded (``assignment_probability``). No offer breaks a guardrail.

The borrower (:class:`ResponseModel`):

- answers with probability ``reachability`` (the archetype's), else ``no_answer``;
- accepts a **settlement** asking the share ``1 - discount`` of the balance when it is at
  most the borrower's *reservation share* plus logistic noise of scale
  ``acceptance_scale``. The reservation share starts from the borrower's
  ``settlement_share``, rises with willingness and falls with debt age; strategic
  defaulters (``strategic_archetypes``) hold out for deep discounts (their reservation
  is ``strategic_shift`` lower). An accepted settlement is paid within the month with a
  probability that rises with current ability and promise keeping and falls with the
  amount against the regular installment;
- accepts a **plan** with a probability that rises with willingness and with a shock
  (willing but unable borrowers ask for time), falls with the plan installment against
  the regular one, and depends on the archetype (serial promisers accept readily);
  then pays each installment with probability
  ``expit(keep_logit + keep_ability * (ability_now - log(installment ratio))
  + keep_promise * logit(promise_keep))`` — affordability and promise keeping; a missed
  installment breaks the plan;
- accepts a hardship **deferral** with probability ``expit(deferral_accept_logit)``.

Truth (:class:`ResponseModel`, :func:`plan_completion`, :func:`deferral_completion`):
for every offer and every term of its grid, the probability of an answer, of acceptance
and of completion, exact under the model (plan and deferral completion integrate over
shocks starting and ending, the downturn, returned payments and deaths month by month).
A deferral is *completed* when the first installment due after it is paid by the end of
its month (the account pays again as scheduled).

Examples
--------
>>> import numpy as np
>>> m = ResponseModel(OfferParams())
>>> p = m.settlement_acceptance(np.array([0.5, 0.5]), np.array([0.0, 0.0]),
...     np.array([60.0, 60.0]), np.array([False, False]), np.array([0.1, 0.5]))
>>> bool(p[1] > p[0])
True
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit, logit

from recovery.errors import ConfigError
from recovery.simulate.hooks import OperationResponse
from recovery.simulate.params import ARCHETYPES, check_shares, replace_checked

__all__ = [
    "OfferParams",
    "OfferResponse",
    "OFFER_SCENARIOS",
    "KINDS",
    "ResponseModel",
    "default_discount",
    "shortest_affordable_plan",
    "desk_terms",
    "plan_completion",
    "deferral_completion",
]

#: Offer kinds, as coded in the simulator (index) and named in the ``offers`` table.
KINDS = ("payment_plan", "settlement", "deferral")
PLAN, SETTLEMENT, DEFERRAL = range(3)
_DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class OfferParams:
    """Parameters of the offer desk and of the borrowers' response (``docs/simulator.md``).

    Attributes
    ----------
    offer_rate : float
        Monthly probability that an eligible account gets an offer.
    offer_cooldown_months : int
        Months after an offer before the next one.
    plan_buckets : tuple of int
        Aging buckets (index: 2 = M2) offered a payment plan.
    settlement_from_bucket : int
        First bucket offered a settlement (and every charged-off account).
    default_discount : tuple of dict
        The default rule's discount: first matching of ``stage`` (late, charged_off),
        ``debt_age_months_min`` and ``discount``.
    hardship_deferral_months : int
        Months a hardship deferral moves the due dates (0: no deferrals).
    deferral_grid : tuple of int
        Deferral lengths (months) of the truth (acceptance and completion per length).
    randomized_share : float
        Share of accounts (fixed per account) whose offers have random terms.
    discount_grid : tuple of float
        Settlement discounts of the randomised share (and of the truth).
    plan_grid : tuple of int
        Plan lengths (months) of the randomised share and of the default rule.
    acceptance_scale : float
        Scale of the logistic noise on the reservation share.
    reservation_willingness, reservation_age_per_year : float
        Reservation share per latent sd of willingness (+) and per year of debt age (−).
    strategic_archetypes : tuple of str
        Archetypes that default strategically and hold out for deep discounts.
    strategic_shift : float
        How much lower their reservation share is.
    settle_pay_logit, settle_pay_ability, settle_pay_keep, settle_pay_burden : float
        Paying an accepted settlement within the month: intercept, per sd of current
        ability, per logit of promise keeping, per log of (amount / regular installment).
    plan_accept_logit, plan_accept_willingness, plan_accept_shock, plan_accept_burden : float
        Accepting a plan: intercept, per sd of willingness, in a shock, per log of
        (plan installment / regular installment).
    plan_accept_archetype : tuple of float
        Added to the plan acceptance logit, per archetype.
    keep_logit, keep_ability, keep_promise : float
        Paying a plan installment: intercept, per sd of affordability (current ability
        less the log installment ratio), per logit of promise keeping.
    deferral_accept_logit : float
        Accepting a hardship deferral.
    v_usual_draws : int
        Copies of each offered account re-simulated without the offer for the truth's
        ``v_usual`` (:mod:`recovery.simulate.continuation`; 0: not computed).
    """

    offer_rate: float = 0.3
    offer_cooldown_months: int = 3
    plan_buckets: tuple[int, ...] = (2, 3)
    settlement_from_bucket: int = 4
    default_discount: tuple[dict[str, Any], ...] = (
        {"stage": "late", "discount": 0.2},
        {"stage": "charged_off", "debt_age_months_min": 24, "discount": 0.5},
        {"stage": "charged_off", "debt_age_months_min": 12, "discount": 0.4},
        {"stage": "charged_off", "discount": 0.3},
    )
    hardship_deferral_months: int = 3
    deferral_grid: tuple[int, ...] = (1, 2, 3, 6)
    randomized_share: float = 0.2
    discount_grid: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
    plan_grid: tuple[int, ...] = (3, 6, 9, 12, 18, 24)
    acceptance_scale: float = 0.15
    reservation_willingness: float = 0.08
    reservation_age_per_year: float = 0.05
    strategic_archetypes: tuple[str, ...] = ("sophisticated",)
    strategic_shift: float = 0.3
    settle_pay_logit: float = 2.5
    settle_pay_ability: float = 0.5
    settle_pay_keep: float = 0.5
    settle_pay_burden: float = 0.5
    plan_accept_logit: float = 0.0
    plan_accept_willingness: float = 0.8
    plan_accept_shock: float = 1.0
    plan_accept_burden: float = 1.5
    plan_accept_archetype: tuple[float, ...] = (-0.5, -0.5, 0.5, 0.0, -0.5, -1.0, 1.5)
    keep_logit: float = 3.5
    keep_ability: float = 0.7
    keep_promise: float = 1.5
    deferral_accept_logit: float = 2.0
    v_usual_draws: int = 64

    def __post_init__(self) -> None:
        check_shares(self, ("offer_rate", "randomized_share", "strategic_shift"))
        if len(self.plan_accept_archetype) != len(ARCHETYPES):
            raise ConfigError("OfferParams.plan_accept_archetype needs one value per archetype")
        unknown = set(self.strategic_archetypes) - set(ARCHETYPES)
        if unknown:
            raise ConfigError(f"OfferParams.strategic_archetypes: unknown {sorted(unknown)}")
        if self.v_usual_draws < 0:
            raise ConfigError("OfferParams.v_usual_draws: 0 or more")
        if not self.deferral_grid or min(self.deferral_grid) < 1:
            raise ConfigError("OfferParams.deferral_grid: months >= 1")
        if not self.plan_grid or min(self.plan_grid) < 1 or not self.discount_grid:
            raise ConfigError("OfferParams: plan_grid (months >= 1) and discount_grid needed")
        if min(self.discount_grid) < 0 or max(self.discount_grid) >= 1:
            raise ConfigError("OfferParams.discount_grid: discounts within [0, 1)")
        if self.acceptance_scale <= 0 or self.hardship_deferral_months < 0:
            raise ConfigError("OfferParams: acceptance_scale > 0, hardship_deferral_months >= 0")

    def replace(self, **changes: Any) -> OfferParams:
        """A copy with some parameters changed (names are checked)."""
        return replace_checked(self, "offer", **changes)

    def to_dict(self) -> dict[str, Any]:
        """Every parameter (JSON friendly)."""
        return dataclasses.asdict(self)


@dataclass
class OfferResponse(OperationResponse):
    """An :class:`~recovery.simulate.hooks.OperationResponse` (kept for compatibility).

    Every operation response carries offers now (``OperationResponse.offers``); this
    subclass adds nothing.
    """


#: Scenarios with an offer desk: their borrower parameters are
#: :data:`recovery.simulate.params.SCENARIOS` of the same name.
OFFER_SCENARIOS: dict[str, OfferParams] = {
    "offers": OfferParams(),
    "offers_pay_anyway": OfferParams(),
}


class ResponseModel:
    """How simulated borrowers answer offers (closed forms; the draws are the engine's).

    Parameters
    ----------
    params : OfferParams
    """

    def __init__(self, params: OfferParams):
        self.p = params
        self.strategic = np.isin(np.asarray(ARCHETYPES), params.strategic_archetypes)

    def reservation_share(
        self,
        settlement_share: np.ndarray,
        willingness: np.ndarray,
        debt_age_days: np.ndarray,
        archetype: np.ndarray,
    ) -> np.ndarray:
        """Largest share of the balance a borrower would pay in one settlement.

        Examples
        --------
        >>> m = ResponseModel(OfferParams())
        >>> m.reservation_share(np.array([0.5, 0.5]), np.array([0.0, 0.0]),
        ...     np.array([0.0, 730.5]), np.array([2, 5])).round(3).tolist()
        [0.5, 0.1]
        """
        p = self.p
        years = np.maximum(np.asarray(debt_age_days, float), 0.0) / (12 * _DAYS_PER_MONTH)
        r = (
            settlement_share
            + p.reservation_willingness * willingness
            - p.reservation_age_per_year * years
        )
        return r - p.strategic_shift * self.strategic[np.asarray(archetype, int)]

    def settlement_acceptance(
        self,
        settlement_share: np.ndarray,
        willingness: np.ndarray,
        debt_age_days: np.ndarray,
        archetype: np.ndarray,
        discount: np.ndarray,
    ) -> np.ndarray:
        """P(accept a settlement at ``discount`` | answered): asked share ≤ reservation + noise."""
        r = self.reservation_share(settlement_share, willingness, debt_age_days, archetype)
        return expit((r - (1.0 - np.asarray(discount, float))) / self.p.acceptance_scale)

    def accepts_settlement(self, reservation: np.ndarray, discount: np.ndarray, u: np.ndarray):
        """The draw: accepted when ``1 - discount <= reservation + scale * logit(u)``."""
        noise = self.p.acceptance_scale * logit(np.clip(u, 1e-12, 1 - 1e-12))
        return 1.0 - np.asarray(discount, float) <= reservation + noise

    def settlement_payment(
        self, ability_now: np.ndarray, promise_keep: np.ndarray, ratio: np.ndarray, blocked
    ) -> np.ndarray:
        """P(an accepted settlement is paid within the month); ``ratio`` = amount / installment."""
        p = self.p
        z = (
            p.settle_pay_logit
            + p.settle_pay_ability * ability_now
            + p.settle_pay_keep * logit(promise_keep)
            - p.settle_pay_burden * np.log(np.maximum(ratio, 1e-9))
        )
        return np.where(blocked, 0.0, expit(z))

    def plan_acceptance(
        self,
        willingness: np.ndarray,
        shock: np.ndarray,
        archetype: np.ndarray,
        ratio: np.ndarray,
    ) -> np.ndarray:
        """P(accept a plan | answered); ``ratio`` = plan installment / regular installment."""
        p = self.p
        z = (
            p.plan_accept_logit
            + p.plan_accept_willingness * willingness
            + p.plan_accept_shock * shock
            + np.asarray(p.plan_accept_archetype)[np.asarray(archetype, int)]
            - p.plan_accept_burden * np.log(np.maximum(ratio, 1e-9))
        )
        return expit(z)

    def installment_kept(
        self, ability_now: np.ndarray, promise_keep: np.ndarray, ratio: np.ndarray, blocked
    ) -> np.ndarray:
        """P(a plan installment is paid in its month): affordability and promise keeping."""
        p = self.p
        afford = ability_now - np.log(np.maximum(ratio, 1e-9))
        z = p.keep_logit + p.keep_ability * afford + p.keep_promise * logit(promise_keep)
        return np.where(blocked, 0.0, expit(z))

    def deferral_acceptance(self, n: int) -> np.ndarray:
        """P(accept a hardship deferral | answered)."""
        return np.full(n, expit(self.p.deferral_accept_logit))


def default_discount(params: OfferParams, stage: np.ndarray, debt_age_days: np.ndarray):
    """The default rule's settlement discount by stage and debt age (0 when no rule matches).

    Examples
    --------
    >>> default_discount(OfferParams(), np.array(["late", "charged_off", "charged_off"]),
    ...                  np.array([150, 400, 800])).tolist()
    [0.2, 0.4, 0.5]
    """
    stage = np.asarray(stage, dtype=object)
    months = np.asarray(debt_age_days, float) / _DAYS_PER_MONTH
    out = np.zeros(len(stage))
    free = np.ones(len(stage), dtype=bool)
    for rule in params.default_discount:
        hit = free & (stage == rule["stage"])
        if "debt_age_months_min" in rule:
            hit &= months >= float(rule["debt_age_months_min"])
        out[hit] = float(rule["discount"])
        free &= ~hit
    return out


def shortest_affordable_plan(
    grid: tuple[int, ...], owed: np.ndarray, installment: np.ndarray, ratio: float
) -> np.ndarray:
    """Shortest plan length of ``grid`` whose installment ``owed / length`` is at most
    ``ratio`` × the regular installment; 0 when none is.

    Examples
    --------
    >>> shortest_affordable_plan((3, 6, 12), np.array([300.0, 900.0, 5000.0]),
    ...                          np.array([100.0, 100.0, 100.0]), 1.0).tolist()
    [3, 12, 0]
    """
    lengths = np.asarray(sorted(grid))
    ok = owed[:, None] / lengths[None, :] <= ratio * installment[:, None] + 0.005
    first = np.argmax(ok, axis=1)
    return np.where(ok.any(axis=1), lengths[first], 0)


def desk_terms(
    params: OfferParams,
    kind: np.ndarray,
    stage: np.ndarray,
    debt_age_days: np.ndarray,
    owed: np.ndarray,
    installment: np.ndarray,
    ratio: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The default rule's terms: (discount, plan installments, deferral months).

    Parameters
    ----------
    kind : ndarray of int
        :data:`KINDS` index of each offer.
    stage, debt_age_days : ndarray
        Stage (current, early, late, charged_off) and debt age (days) at the offer.
    owed, installment : ndarray of float
        What a plan would spread (currency) and the regular installment.
    ratio : float
        The affordability cap (``config.offers.max_installment_ratio``).

    Returns
    -------
    tuple of ndarray
        Discount (settlements), installments (plans; 1 for settlements), deferral months.
    """
    n = len(kind)
    discount = np.where(kind == SETTLEMENT, default_discount(params, stage, debt_age_days), 0.0)
    plan = shortest_affordable_plan(params.plan_grid, owed, installment, ratio)
    installments = np.where(kind == PLAN, plan, np.where(kind == SETTLEMENT, 1, 0))
    months = np.where(kind == DEFERRAL, params.hardship_deferral_months, 0)
    return discount, installments.astype(np.int64), np.broadcast_to(months, (n,)).copy()


def plan_completion(
    keep: np.ndarray,
    start: np.ndarray,
    end_rate: float,
    permanent_share: float,
    state0: np.ndarray,
    death_rate: float,
    reversal_rate: float,
    length: np.ndarray,
    path: bool = False,
) -> np.ndarray:
    """P(every installment of a plan is paid), month by month over the shock states.

    Parameters
    ----------
    keep : ndarray (n, L, 3)
        P(the installment of plan month k is paid) in each shock state (none, temporary,
        permanent), k = 1 … L.
    start : ndarray (n, L)
        P(a shock starts) in plan month k (for a borrower without one).
    end_rate, permanent_share : float
        Monthly end of a temporary shock; share of new shocks that never end.
    state0 : ndarray (n, 3)
        Shock state in the month of the offer (one-hot or a distribution).
    death_rate, reversal_rate : float
        A death at a month end stops payments; a returned payment misses the installment.
    length : ndarray (n,)
        Plan length (installments, at most L).
    path : bool
        Return, instead, P(the first k installments are all paid) for k = 1 … L
        (an (n, L) array; ``length`` is then not used).

    Returns
    -------
    ndarray (n,)

    Examples
    --------
    >>> keep = np.full((1, 2, 3), 0.9)
    >>> plan_completion(keep, np.zeros((1, 2)), 0.1, 0.2, np.array([[1.0, 0, 0]]), 0.0, 0.0,
    ...                 np.array([2])).round(4).tolist()
    [0.81]
    """
    n, horizon, _ = keep.shape
    w = np.asarray(state0, float).copy()
    done = np.zeros(n)
    survival = np.zeros((n, horizon))
    for k in range(horizon):
        w = w * (1.0 - death_rate)  # a death at the end of the month before
        s = start[:, k]
        none, temp, perm = w[:, 0], w[:, 1], w[:, 2]
        w = np.stack(
            [
                none * (1 - s) + temp * end_rate,
                none * s * (1 - permanent_share) + temp * (1 - end_rate),
                none * s * permanent_share + perm,
            ],
            axis=1,
        )
        w = w * keep[:, k, :] * (1.0 - reversal_rate)
        survival[:, k] = w.sum(axis=1)
        done = np.where(length == k + 1, survival[:, k], done)
    return survival if path else done


def deferral_completion(
    pay: np.ndarray,
    start: np.ndarray,
    end_rate: float,
    permanent_share: float,
    state0: np.ndarray,
    death_rate: float,
    reversal_rate: float,
    months: np.ndarray,
) -> np.ndarray:
    """P(a deferral ends with the account paying again as scheduled).

    A deferral of ``M`` months accepted in month ``m`` moves the unpaid installments so
    that the first is due in month ``m + M``: nothing is due in between (no payment is
    possible, :meth:`recovery.simulate.behaviour.BorrowerBehaviour.outcome_table`), the
    borrower must be alive at the end of each month ``m … m + M - 1`` and pay that
    installment in full in month ``m + M`` without the payment being returned. The shock
    state moves month by month as in :func:`plan_completion` (a plan whose only
    installment is the last).

    Parameters
    ----------
    pay : ndarray (n, L, 3)
        P(the first installment is paid in full) if it falls in month ``m + k`` (k = 1 …
        L), per shock state (none, temporary, permanent).
    start, end_rate, permanent_share, state0, death_rate, reversal_rate
        As :func:`plan_completion`.
    months : ndarray (n,)
        Deferral length (at most L).

    Returns
    -------
    ndarray (n,)

    Examples
    --------
    Two months without a shock, no death: the payment of month 2 alone decides.

    >>> pay = np.full((1, 2, 3), 0.9)
    >>> deferral_completion(pay, np.zeros((1, 2)), 0.1, 0.2, np.array([[1.0, 0, 0]]),
    ...                     0.0, 0.1, np.array([2])).round(4).tolist()
    [0.81]
    """
    n, horizon, _ = pay.shape
    last = np.arange(horizon)[None, :] == (np.asarray(months)[:, None] - 1)
    keep = np.where(last[:, :, None], pay * (1.0 - reversal_rate), 1.0)
    return plan_completion(
        keep, start, end_rate, permanent_share, state0, death_rate, 0.0, np.asarray(months)
    )
