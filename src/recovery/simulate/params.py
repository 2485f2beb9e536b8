"""Parameters of the loan-book simulator and its named scenarios.

Every number the generative model uses lives in :class:`SimulationParams`, a frozen
dataclass; a *scenario* is a named parameter set (:data:`SCENARIOS`). The
``benchmark`` scenario is frozen: later work must not retune it (add a new scenario
instead), because tests, models and reports are judged against its truth.

Monthly probabilities are expressed on the logit scale (``*_logit``) so that
covariates add up; money is in currency units, durations in months unless a name
says ``_days``.

Examples
--------
>>> from recovery.simulate.params import get_scenario
>>> p = get_scenario("benchmark")
>>> p.downturn_months, p.limitation_months
(12, 36)
>>> get_scenario("benchmark", age_decay=0.0).age_decay
0.0
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from recovery.errors import ConfigError

__all__ = [
    "ARCHETYPES",
    "SHOCK_TYPES",
    "SimulationParams",
    "SCENARIOS",
    "get_scenario",
    "check_shares",
    "replace_checked",
]

_P = TypeVar("_P")

#: The seven debtor archetypes of seed 001 (latent types, truth only).
ARCHETYPES = (
    "hostile",
    "evasive",
    "victim",
    "confident",
    "stubborn",
    "sophisticated",
    "serial_promiser",
)

#: Life and business shocks (DESIGN.md §1); names match ``reason_codes`` of the config.
SHOCK_TYPES = ("job_loss", "illness", "business_failure", "market", "family")


@dataclass(frozen=True)
class SimulationParams:
    """All parameters of the generative model (see ``docs/simulator.md``).

    Attributes
    ----------
    back_book_share : float
        Share of accounts originated before ``start`` (the aged opening back book).
    back_book_months : int
        The back book is originated uniformly over this many months before ``start``.
    vintage_growth : float
        Monthly growth of origination volume over the simulated months (fraction).
    small_business_share : float
        Share of small-business loans (the rest are consumer installment loans).
    multi_loan_share : float
        Share of customers holding several loans (0: one loan per customer). The loans
        of one customer share the borrower (archetype, ability, willingness, fraud,
        application data, reachability), its shocks and its death, so their
        delinquencies are correlated; each loan has its own product, origination month,
        amount and term.
    three_loan_share : float
        Among customers with several loans, the share holding three (the rest two).
    consumer_principal_median, business_principal_median : float
        Median amount lent (currency); log-normal with ``principal_sigma``.
    consumer_terms, business_terms : tuple of int
        Possible terms (months), drawn with ``consumer_term_weights`` /
        ``business_term_weights``.
    guarantor_share, collateral_share : float
        Share of small-business loans with a guarantor / pledged collateral.
    archetype_shares : tuple of float
        Prior share of each archetype of :data:`ARCHETYPES`.
    archetype_willingness : tuple of float
        Mean willingness to pay of each archetype (latent scale, sd
        ``willingness_sd``).
    archetype_promise_keep : tuple of float
        Probability that a promise to pay is kept, per archetype (used by the
        collection operation of part 2; the serial promiser rarely keeps one).
    archetype_reachability : tuple of float
        Probability a contact attempt reaches the borrower, per archetype.
    archetype_contact_response : tuple of float
        Odds multiplier on the month's payment hazard after a right-party contact,
        per archetype (part 2 applies it; 1 = contact does nothing).
    fraud_rate : float
        Share of accounts that are first-party fraud (never pay).
    death_rate_monthly : float
        Monthly probability that the borrower dies (at month end).
    pay_logit_current : float
        Logit of paying this month's installment for a current account (average
        borrower, no shock, normal economy).
    pay_logit_by_bucket : tuple of float
        Logit of making any payment in the month by DPD bucket at the start of the
        month (M1, M2, …, M6+).
    ability_effect, willingness_effect : float
        Coefficients (logit per latent sd) of ability and willingness on paying.
    catch_up_logit, catch_up_ability, catch_up_bucket : float
        Given a delinquent account pays: logit of paying everything overdue plus the
        month's installment (intercept, per ability sd, per bucket beyond M1).
    partial_logit, partial_ability : float
        Given a delinquent account's payment that is not a catch-up: logit of a
        partial installment (intercept, per ability sd).
    partial_logit_current : float
        The same intercept for a current account (short-paying the installment).
    prepay_rate_monthly : float
        Probability a paying current account pays off the whole loan early.
    late_payer_share : float
        Share of on-time installments paid after the due day (still within the
        month, so month-end DPD is 0).
    reversal_rate : float
        Probability a payment is returned (bounced) a few days later.
    settlement_rate_open : float
        Given a payment by an M4+ open account: probability it is a discounted
        settlement.
    restructure_rate : float
        Monthly probability that an M1–M3 account in a temporary shock is restructured
        (new schedule version with the term extended by ``restructure_extension``).
    restructure_extension : int
        Months added to the remaining term at a restructure.
    recovery_logit : float
        Logit of a recovery payment in a month after charge-off, at debt age
        ``recovery_reference_age`` months.
    recovery_reference_age : int
        Debt age (months) at which ``recovery_logit`` applies (about charge-off).
    age_decay : float
        Decrease of the recovery logit per month of debt age beyond the reference:
        the seed 001 effect (old debt is hard to collect).
    recovery_ability, recovery_willingness : float
        Effects of ability and willingness on the recovery logit.
    secured_recovery_bonus : float
        Added to the recovery logit when the loan has a guarantor or collateral.
    limitation_months : int
        Limitation period (months): with no payment for this long the legal route
        closes (PRC Civil Code: 3 years; restarted by a partial payment).
    limitation_logit_penalty : float
        Added to the recovery logit once the limitation period has expired.
    recovery_partial_share : tuple of float
        Range (low, high) of the share of the balance paid by a partial recovery
        payment (a per-borrower value drawn once).
    token_payment_share, token_payment_prob : float
        A token recovery payment (share of balance, below the p_pay minimum) and its
        probability given a recovery payment.
    settlement_prob_recovery : float
        Given a recovery payment: probability it is a discounted settlement.
    settlement_share : tuple of float
        Range (low, high) of the settled share of the balance.
    shock_rate_monthly : float
        Monthly probability that a shock starts (normal economy).
    shock_type_weights_consumer, shock_type_weights_business : tuple of float
        Weights of :data:`SHOCK_TYPES` for consumer / small-business borrowers.
    shock_permanent_share : float
        Share of shocks that never end.
    shock_end_rate_monthly : float
        Monthly probability that a temporary shock ends.
    shock_severity : float
        Drop of ability (latent sd) while a shock lasts.
    victim_shock_multiplier : float
        The victim archetype suffers shocks this many times as often.
    downturn_months : int
        Length (months) of the downturn at the end of the simulated period (the
        regime shift); 0 disables it.
    downturn_ability_shift : float
        Drop of every borrower's ability (latent sd) during the downturn.
    downturn_shock_multiplier : float
        Shock start rate multiplier during the downturn.
    bureau_noise : float
        Noise (score points) of the bureau score around its latent signal.
    """

    # book
    back_book_share: float = 0.30
    back_book_months: int = 36
    vintage_growth: float = 0.005
    small_business_share: float = 0.25
    multi_loan_share: float = 0.0
    three_loan_share: float = 0.3
    consumer_principal_median: float = 8_000.0
    business_principal_median: float = 60_000.0
    principal_sigma: float = 0.55
    consumer_terms: tuple[int, ...] = (6, 12, 18, 24, 36)
    consumer_term_weights: tuple[float, ...] = (0.10, 0.35, 0.15, 0.25, 0.15)
    business_terms: tuple[int, ...] = (12, 24, 36)
    business_term_weights: tuple[float, ...] = (0.35, 0.40, 0.25)
    guarantor_share: float = 0.60
    collateral_share: float = 0.40
    # borrowers (seed 001)
    archetype_shares: tuple[float, ...] = (0.10, 0.14, 0.20, 0.14, 0.10, 0.14, 0.18)
    archetype_willingness: tuple[float, ...] = (-0.2, -0.6, 0.3, -0.1, -0.4, 0.2, -0.3)
    archetype_promise_keep: tuple[float, ...] = (0.55, 0.35, 0.60, 0.45, 0.30, 0.65, 0.10)
    archetype_reachability: tuple[float, ...] = (0.65, 0.25, 0.75, 0.60, 0.55, 0.70, 0.80)
    archetype_contact_response: tuple[float, ...] = (1.8, 1.3, 1.6, 1.2, 1.1, 1.4, 1.05)
    willingness_sd: float = 0.8
    fraud_rate: float = 0.004
    death_rate_monthly: float = 0.0002
    # payments of open accounts
    pay_logit_current: float = 5.0
    pay_logit_by_bucket: tuple[float, ...] = (2.3, 0.5, 0.0, -1.0, -1.4, -1.7)
    ability_effect: float = 0.9
    willingness_effect: float = 0.8
    catch_up_logit: float = 0.4
    catch_up_ability: float = 0.7
    catch_up_bucket: float = -0.45
    partial_logit: float = -1.6
    partial_logit_current: float = -5.0
    partial_ability: float = -0.6
    prepay_rate_monthly: float = 0.004
    late_payer_share: float = 0.15
    reversal_rate: float = 0.008
    settlement_rate_open: float = 0.05
    restructure_rate: float = 0.04
    restructure_extension: int = 6
    # recovery after charge-off (seed 001 age effect, limitation period)
    recovery_logit: float = -1.7
    recovery_reference_age: int = 6
    age_decay: float = 0.075
    recovery_ability: float = 0.5
    recovery_willingness: float = 0.5
    secured_recovery_bonus: float = 0.5
    limitation_months: int = 36
    limitation_logit_penalty: float = -1.5
    recovery_partial_share: tuple[float, float] = (0.03, 0.15)
    token_payment_share: float = 0.01
    token_payment_prob: float = 0.15
    settlement_prob_recovery: float = 0.12
    settlement_share: tuple[float, float] = (0.35, 0.65)
    # shocks
    shock_rate_monthly: float = 0.006
    shock_type_weights_consumer: tuple[float, ...] = (0.40, 0.30, 0.0, 0.05, 0.25)
    shock_type_weights_business: tuple[float, ...] = (0.05, 0.20, 0.45, 0.20, 0.10)
    shock_permanent_share: float = 0.25
    shock_end_rate_monthly: float = 0.15
    shock_severity: float = 1.6
    victim_shock_multiplier: float = 2.0
    # regime shift
    downturn_months: int = 12
    downturn_ability_shift: float = 0.35
    downturn_shock_multiplier: float = 2.0
    # application data
    bureau_noise: float = 45.0
    regions: tuple[str, ...] = ("north", "south", "east", "west", "central", "northeast")

    def __post_init__(self) -> None:
        n = len(ARCHETYPES)
        for name in (
            "archetype_shares",
            "archetype_willingness",
            "archetype_promise_keep",
            "archetype_reachability",
            "archetype_contact_response",
        ):
            if len(getattr(self, name)) != n:
                raise ConfigError(f"SimulationParams.{name} needs {n} values, one per archetype")
        for name in ("shock_type_weights_consumer", "shock_type_weights_business"):
            if len(getattr(self, name)) != len(SHOCK_TYPES):
                raise ConfigError(f"SimulationParams.{name} needs one weight per shock type")
        if len(self.consumer_terms) != len(self.consumer_term_weights) or len(
            self.business_terms
        ) != len(self.business_term_weights):
            raise ConfigError("SimulationParams: one weight per term is needed")
        if len(self.pay_logit_by_bucket) < 1:
            raise ConfigError("SimulationParams.pay_logit_by_bucket needs at least one value")
        check_shares(
            self,
            (
                "back_book_share",
                "small_business_share",
                "multi_loan_share",
                "three_loan_share",
                "fraud_rate",
                "reversal_rate",
                "shock_permanent_share",
                "shock_end_rate_monthly",
            ),
        )
        if self.recovery_partial_share[0] * 100 < self.token_payment_share * 100:
            raise ConfigError("recovery_partial_share must not be below token_payment_share")

    def replace(self, **changes) -> SimulationParams:
        """A copy with some parameters changed (names are checked)."""
        return replace_checked(self, "simulation", **changes)


def check_shares(params: Any, names: Iterable[str]) -> None:
    """Check that parameters which are shares or probabilities lie within [0, 1].

    Parameters
    ----------
    params : dataclass instance
        A parameter set (:class:`SimulationParams`, ``OperationParams``).
    names : iterable of str
        Its attributes to check.

    Raises
    ------
    ConfigError
        Naming the class and the first parameter outside [0, 1].

    Examples
    --------
    >>> check_shares(SimulationParams(), ["fraud_rate"])
    """
    for name in names:
        if not 0.0 <= getattr(params, name) <= 1.0:
            raise ConfigError(f"{type(params).__name__}.{name} must be within [0, 1]")


def replace_checked(params: _P, what: str, **changes: Any) -> _P:
    """A copy of a frozen parameter dataclass with some fields changed, names checked.

    Parameters
    ----------
    params : dataclass instance
    what : str
        What the parameters are, for the error message (``"simulation"``).
    **changes
        New values by field name.

    Returns
    -------
    dataclass instance
        Of the same class (its ``__post_init__`` checks run again).

    Raises
    ------
    ConfigError
        When a name is not a field.

    Examples
    --------
    >>> replace_checked(SimulationParams(), "simulation", fraud_rate=0.0).fraud_rate
    0.0
    """
    known = {f.name for f in dataclasses.fields(params)}
    bad = sorted(set(changes) - known)
    if bad:
        raise ConfigError(f"unknown {what} parameter(s) {bad}")
    return dataclasses.replace(params, **changes)


#: Named scenarios. ``benchmark`` is frozen (documented in docs/simulator.md).
SCENARIOS: dict[str, SimulationParams] = {
    "benchmark": SimulationParams(),
    # a world without the regime shift, for comparisons
    "stable": SimulationParams(downturn_months=0),
    # old debt loses value slowly: the seed's age effect switched off
    "no_age_effect": SimulationParams(age_decay=0.0, limitation_logit_penalty=0.0),
    # the benchmark's borrowers with an offer desk (plans, settlements, deferrals):
    # recovery.simulate.offers.OFFER_SCENARIOS holds the desk and the response
    "offers": SimulationParams(),
    # the benchmark's world where a fifth of customers hold two or three loans
    # (about 37 % of accounts), with correlated delinquencies (issue 24)
    "customers": SimulationParams(multi_loan_share=0.2),
}


def get_scenario(name: str | SimulationParams = "benchmark", **overrides) -> SimulationParams:
    """The parameters of a named scenario, optionally with some values overridden.

    Parameters
    ----------
    name : str or SimulationParams
        A key of :data:`SCENARIOS`, or a parameter set (returned as is).
    **overrides
        Parameters to change (e.g. ``age_decay=0.02``).

    Returns
    -------
    SimulationParams

    Raises
    ------
    ConfigError
        Unknown scenario or parameter name.

    Examples
    --------
    >>> get_scenario("stable").downturn_months
    0
    """
    if isinstance(name, SimulationParams):
        params = name
    else:
        if name not in SCENARIOS:
            raise ConfigError(f"unknown scenario {name!r}; known: {sorted(SCENARIOS)}")
        params = SCENARIOS[name]
    return params.replace(**overrides) if overrides else params
