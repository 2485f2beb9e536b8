"""One typed configuration for the whole project.

Every default here is the one DESIGN.md §3 gives; a lender overrides what it needs
from a TOML or YAML file (:func:`load_config`). Sections are frozen dataclasses so a
config can be shared between stages without being mutated by accident.

Examples
--------
>>> from recovery.config import Config
>>> cfg = Config()
>>> cfg.aging.charge_off_dpd
180
>>> cfg.aging.bucket_of(45)
'M2'
>>> cfg.aging.bucket_labels()
['M0', 'M1', 'M2', 'M3', 'M4', 'M5', 'M6', 'M7+']
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from recovery.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "PRODUCT_KINDS",
    "AgingConfig",
    "LabelConfig",
    "FeatureConfig",
    "AnalyticsConfig",
    "ComplianceConfig",
    "CategoryConfig",
    "CostConfig",
    "DataConfig",
    "StrategyConfig",
    "OfferConfig",
    "Config",
    "load_config",
]


#: Product kinds: closed-end ``installment`` loans (a schedule that ends) and open-end
#: ``revolving`` credit (cards, credit lines: an account with no use stays open).
PRODUCT_KINDS = ("installment", "revolving")


@dataclass(frozen=True)
class AgingConfig:
    """How days past due (DPD) and buckets are computed.

    Attributes
    ----------
    bucket_edges : tuple of int
        Upper DPD bound (inclusive, days) of each bucket but the last. The default
        ``(0, 30, 60, 90, 120, 150, 180)`` gives M0 = 0, M1 = 1–30, M2 = 31–60,
        M3 = 61–90, M4 = 91–120, M5 = 121–150, M6 = 151–180 and M7+ above 180.
    bucket_names : tuple of str
        One label per bucket, ``len(bucket_edges) + 1`` of them.
    charge_off_dpd : int
        DPD (days) at which an account is charged off on the first day it is reached.
    charge_off_dpd_by_kind : dict
        A different threshold (days) per product kind (:data:`PRODUCT_KINDS`), e.g.
        ``{installment = 120, revolving = 180}`` — regulators' usual rule for
        closed-end installment loans and open-end revolving credit. A kind not listed
        uses ``charge_off_dpd``.
    grace_days : int
        Days after a due date before an unpaid amount counts as overdue.
    tolerance : float
        Small-balance tolerance (currency): an overdue amount below it counts as paid.
    """

    bucket_edges: tuple[int, ...] = (0, 30, 60, 90, 120, 150, 180)
    bucket_names: tuple[str, ...] = ("M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7+")
    charge_off_dpd: int = 180
    charge_off_dpd_by_kind: dict[str, int] = field(default_factory=dict, metadata={"values": int})
    grace_days: int = 0
    tolerance: float = 1.0

    def __post_init__(self) -> None:
        edges = list(self.bucket_edges)
        if len(self.bucket_names) != len(edges) + 1:
            raise ConfigError(
                "aging.bucket_names must have one more entry than aging.bucket_edges "
                f"(got {len(self.bucket_names)} names for {len(edges)} edges)"
            )
        if edges != sorted(set(edges)) or (edges and edges[0] < 0):
            raise ConfigError("aging.bucket_edges must be strictly increasing and >= 0")
        if self.charge_off_dpd <= 0:
            raise ConfigError("aging.charge_off_dpd must be a positive number of days")
        for kind, days in self.charge_off_dpd_by_kind.items():
            if kind not in PRODUCT_KINDS:
                raise ConfigError(
                    f"aging.charge_off_dpd_by_kind: {kind!r} is not a product kind; use "
                    f"{' or '.join(PRODUCT_KINDS)}"
                )
            if days <= 0:
                raise ConfigError(
                    f"aging.charge_off_dpd_by_kind.{kind} must be a positive number of days"
                )
        if self.grace_days < 0 or self.tolerance < 0:
            raise ConfigError("aging.grace_days and aging.tolerance must be >= 0")

    def bucket_labels(self) -> list[str]:
        """Bucket labels from best (current) to worst."""
        return list(self.bucket_names)

    def charge_off_dpd_for(self, kind: Any) -> Any:
        """Charge-off threshold (days) of a product kind (scalar) or of an array of kinds.

        Examples
        --------
        >>> aging = AgingConfig(charge_off_dpd_by_kind={"installment": 120})
        >>> aging.charge_off_dpd_for("revolving"), aging.charge_off_dpd_for(["installment"])
        (180, array([120]))
        """
        if np.ndim(kind) == 0:
            return int(self.charge_off_dpd_by_kind.get(str(kind), self.charge_off_dpd))
        kinds = np.asarray(kind, dtype=object)
        out = np.full(len(kinds), int(self.charge_off_dpd), dtype=np.int64)
        for name, days in self.charge_off_dpd_by_kind.items():
            out[kinds == name] = int(days)
        return out

    def bucket_index(self, dpd: Any) -> np.ndarray:
        """Index of the bucket of each DPD value (0 = current), vectorised."""
        return np.searchsorted(np.asarray(self.bucket_edges), np.asarray(dpd), side="left")

    def bucket_of(self, dpd: Any) -> Any:
        """Bucket label of a DPD value (scalar) or of an array of values."""
        idx = self.bucket_index(dpd)
        names = np.asarray(self.bucket_names, dtype=object)
        out = names[idx]
        return str(out) if np.ndim(idx) == 0 else out


@dataclass(frozen=True)
class LabelConfig:
    """Targets of the scorers (DESIGN.md §3).

    Attributes
    ----------
    p_pay_horizon_days : int
        Window (days) after the scoring date in which a qualifying payment counts.
    p_cure_horizon_days : int
        Days after the scoring date at which DPD must still be 0 for a payment cure.
    min_payment_installments : float
        Minimum qualifying payment as a number of installments; the rule is the smaller
        of the overdue amount and this many installments.
    charged_off_min_share : float
        After charge-off, the qualifying payment is this share of the balance.
    promise_grace_days : int
        Days after the promised date a payment still keeps the promise.
    """

    p_pay_horizon_days: int = 30
    p_cure_horizon_days: int = 60
    min_payment_installments: float = 1.0
    charged_off_min_share: float = 0.02
    promise_grace_days: int = 3


@dataclass(frozen=True)
class FeatureConfig:
    """Optional feature families of the point-in-time matrix.

    Attributes
    ----------
    customer_level : bool
        Add the customer-level features (the borrower's other accounts: how many,
        worst status, payments; ``recovery.timeline.customer_features``). Off by
        default: they only say something in books where customers hold several loans,
        and a model trained with them needs them when it scores.
    """

    customer_level: bool = False


@dataclass(frozen=True)
class AnalyticsConfig:
    """Portfolio analytics defaults (recovery by debt age, ERC, agents).

    Attributes
    ----------
    recovery_horizon_months : int
        Follow-up window (months) for recovery by debt age.
    age_bands_months : tuple of int
        Left edges (months) of the coarse debt-age bands: 0–3, 3–6, 6–12, 12–24,
        24–36, 36+.
    age_split_months : int
        The seed 001 comparison: younger than this vs this and older (months).
    erc_horizon_months : int
        Horizon (months since charge-off) of expected remaining collections.
    agent_window_days : int
        Outcome window (days) per assignment spell for agent effectiveness.
    bootstrap_samples : int
        Bootstrap resamples for confidence intervals.
    confidence : float
        Confidence level of intervals.
    seed : int
        Seed for bootstrap resampling.
    forecast_shrinkage : float or "estimate"
        Roll-rate forecast: prior weight (accounts) pulling each delinquent bucket's
        recent roll-rate row toward its row pooled over all months,
        ``(counts + alpha · pooled) / (n + alpha)``; ``"estimate"`` (default) estimates
        it from how much the months differ (Bühlmann–Straub), ``0`` trusts the recent
        months raw.
    forecast_max_accrual : float
        Roll-rate forecast: the largest monthly growth factor of a balance while it
        stays overdue (interest and fees; 1.05 = +5 % a month). The observed factor is
        shrunk toward 1 by its own noise, then capped here.
    forecast_trend_damping : float
        Roll-rate forecast: damping of the new-volume trend, per month (0–1): the
        inflow grows by ``slope · (φ + φ² + … + φ^(h−1))`` by month *h*; 1 is an
        undamped linear trend, 0 no trend.
    change_level : float
        Level of the normal variation a KPI's month-on-month change is judged against
        in the report (:func:`recovery.analytics.variation.judge_changes`): a change
        outside it is "unusual". 0.99 keeps false alarms to about one KPI in a hundred.
    change_history_months : int
        Months of past changes that measure a KPI's normal variation.
    change_min_history : int
        With fewer past changes a change is not judged ("not enough history").
    few_accounts : int
        A rate of fewer accounts than this is flagged in the report ("based on 14
        accounts").
    agent_min_reliability : float
        Agents whose effect has a lower reliability τ² / (τ² + se²) are not ranked in
        the report ("not enough data yet"); below about 0.7 a ranking is mostly noise
        (docs/agents.md).
    partition_size : int
        Accounts per part when ``recovery analyze`` and ``recovery report`` analyse a
        book part by part (:mod:`recovery.analytics.partitions`): memory grows with it
        (``recovery analyze`` peaked at 1.7 GB on a 7-year book of 100,000 accounts in
        parts of 50,000; docs/benchmarks.md). A partitioned dataset's own partitions
        are the parts.
    """

    recovery_horizon_months: int = 12
    age_bands_months: tuple[int, ...] = (0, 3, 6, 12, 24, 36)
    age_split_months: int = 24
    erc_horizon_months: int = 84
    agent_window_days: int = 60
    bootstrap_samples: int = 200
    confidence: float = 0.95
    seed: int = 0
    forecast_shrinkage: float | str = "estimate"
    forecast_max_accrual: float = 1.05
    forecast_trend_damping: float = 0.98
    change_level: float = 0.99
    change_history_months: int = 24
    change_min_history: int = 12
    few_accounts: int = 30
    agent_min_reliability: float = 0.7
    partition_size: int = 100_000

    def __post_init__(self) -> None:
        if not (isinstance(self.partition_size, int) and self.partition_size >= 1):
            raise ConfigError(
                f"analytics.partition_size must be a number of accounts >= 1, e.g. 100000, "
                f"got {self.partition_size!r}"
            )
        alpha = self.forecast_shrinkage
        if not (alpha == "estimate" or (_is_number(alpha) and alpha >= 0)):
            raise ConfigError(
                "analytics.forecast_shrinkage must be 'estimate' or a number of accounts "
                f">= 0, got {alpha!r}"
            )
        if not self.forecast_max_accrual >= 1:
            raise ConfigError(
                "analytics.forecast_max_accrual must be >= 1 (1 = balances never grow "
                f"while overdue), got {self.forecast_max_accrual!r}"
            )
        if not 0 <= self.forecast_trend_damping <= 1:
            raise ConfigError(
                "analytics.forecast_trend_damping must be between 0 and 1, got "
                f"{self.forecast_trend_damping!r}"
            )
        if not 0.5 < self.change_level < 1:
            raise ConfigError("analytics.change_level must be between 0.5 and 1, e.g. 0.99")
        if not 0 < self.agent_min_reliability < 1:
            raise ConfigError("analytics.agent_min_reliability must be between 0 and 1, e.g. 0.7")
        if not 2 <= self.change_min_history <= self.change_history_months:
            raise ConfigError(
                "analytics.change_min_history must be at least 2 and at most "
                "analytics.change_history_months"
            )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class ComplianceConfig:
    """Contact rules (seed 004, PRC Civil Code). Each default with its rationale.

    Attributes
    ----------
    contact_hour_start, contact_hour_end : int
        Allowed local contact hours [start, end) — 08:00–21:00: no calls at night.
    max_attempts_per_day, max_attempts_per_week : int
        Contact attempts per person — counted across all the customer's accounts
        (``customer_id``), per account only where the customer is not known; more is
        harassment.
    max_third_party_per_week : int
        Third-party contacts about one person (across the customer's accounts) per
        rolling week; no harassing third parties.
    limitation_years : int
        Limitation period for civil claims (PRC Civil Code: 3 years); legal action
        after it ends is a violation. Restarted by demand, acknowledgement, partial
        payment or lawsuit (Art. 195).
    """

    contact_hour_start: int = 8
    contact_hour_end: int = 21
    max_attempts_per_day: int = 3
    max_attempts_per_week: int = 10
    max_third_party_per_week: int = 2
    limitation_years: int = 3


@dataclass(frozen=True)
class CategoryConfig:
    """Allowed categorical values of the data contract; a lender may add its own.

    ``product_kinds`` gives the kind (:data:`PRODUCT_KINDS`) of a product code, e.g.
    ``{credit_card = "revolving"}``; a product not listed is an ``installment`` loan.
    A revolving account with no use is still open: it is never inferred paid off.
    """

    products: tuple[str, ...] = ("consumer_installment", "small_business")
    product_kinds: dict[str, str] = field(default_factory=dict, metadata={"values": str})
    payment_channels: tuple[str, ...] = (
        "bank_transfer",
        "auto_debit",
        "cash",
        "agency",
        "court",
        "guarantor",
        "settlement",
    )
    action_channels: tuple[str, ...] = (
        "sms",
        "call",
        "letter",
        "visit",
        "guarantor_contact",
        "legal_notice",
        "lawsuit",
        "outsource",
    )
    outcomes: tuple[str, ...] = (
        "no_answer",
        "wrong_number",
        "right_party_contact",
        "third_party_contact",
        "promise_to_pay",
        "refusal",
        "dispute",
        "hardship",
        "deceased_reported",
        "delivered",
        "filed",
        "placed",
    )
    reason_codes: tuple[str, ...] = (
        "cash_flow",
        "job_loss",
        "illness",
        "business_failure",
        "market",
        "family",
        "fraud",
        "dispute",
        "unknown",
    )
    attitudes: tuple[str, ...] = (
        "hostile",
        "evasive",
        "victim",
        "confident",
        "stubborn",
        "sophisticated",
        "serial_promiser",
        "unknown",
    )
    events: tuple[str, ...] = (
        "restructured",
        "charged_off",
        "deceased",
        "dispute_opened",
        "dispute_closed",
        "hardship_plan",
        "hardship_plan_ended",
        "legal_filed",
        "settled",
        "closed",
        "fraud_confirmed",
    )
    statuses: tuple[str, ...] = ("open", "paid_off", "charged_off", "settled", "closed")
    offer_kinds: tuple[str, ...] = ("payment_plan", "settlement", "deferral")
    offer_outcomes: tuple[str, ...] = ("accepted", "declined", "no_answer")
    offer_results: tuple[str, ...] = ("completed", "broken")
    protected_attributes: tuple[str, ...] = ("age_band", "gender")

    def __post_init__(self) -> None:
        bad = {p: k for p, k in self.product_kinds.items() if k not in PRODUCT_KINDS}
        if bad:
            product, kind = next(iter(bad.items()))
            raise ConfigError(
                f"categories.product_kinds.{product}: {kind!r} is not a product kind; use "
                f"{' or '.join(PRODUCT_KINDS)}"
            )

    def kind_of(self, products: Any) -> Any:
        """Product kind of each product code (``installment`` when not listed).

        Examples
        --------
        >>> CategoryConfig(product_kinds={"card": "revolving"}).kind_of(["card", "loan"])
        array(['revolving', 'installment'], dtype=object)
        """
        kinds = {**dict.fromkeys(self.product_kinds, "installment"), **self.product_kinds}
        if np.ndim(products) == 0:
            return kinds.get(str(products), "installment")
        values = np.asarray(products, dtype=object)
        out = np.full(len(values), "installment", dtype=object)
        for product, kind in kinds.items():
            out[values == product] = kind
        return out


@dataclass(frozen=True)
class DataConfig:
    """Checks on loaded data beyond the contract's types and ranges.

    Attributes
    ----------
    max_amount : float
        The largest believable amount (currency) in any money column (principal,
        installment, payment, balance, …); a larger or infinite one is an error naming
        the table, column and rows — an export glitch, never a real loan. Raise it for
        a currency with very large units.
    """

    max_amount: float = 1e12

    def __post_init__(self) -> None:
        if not (self.max_amount > 0 and np.isfinite(self.max_amount)):
            raise ConfigError("data.max_amount must be a positive finite amount")


@dataclass(frozen=True)
class CostConfig:
    """Cost per collection action by channel (currency units)."""

    per_action: dict[str, float] = field(
        default_factory=lambda: {
            "sms": 0.05,
            "call": 1.0,
            "letter": 2.0,
            "visit": 25.0,
            "guarantor_contact": 2.0,
            "legal_notice": 15.0,
            "lawsuit": 300.0,
            "outsource": 10.0,
        }
    )


# Default policy table (seeds 002/004): escalate by bucket, easy cases first, legal last.
# First matching rule wins; bands are [low, high). "stage" is early (M1–M3), late (M4+)
# or charged_off. Every rule names the channel and the reason a collector reads.
_DEFAULT_POLICY: tuple[dict[str, Any], ...] = (
    {
        "stage": "charged_off",
        "p_pay_min": 0.3,
        "action": "call",
        "reason": "charged off, likely to pay: offer a settlement or installment plan",
    },
    {
        "stage": "charged_off",
        "balance_min": 5000.0,
        "action": "legal_notice",
        "reason": "charged off, large balance, unlikely to pay: legal review",
    },
    {
        "stage": "charged_off",
        "action": "outsource",
        "reason": "charged off, small balance, unlikely to pay: place with an agency",
    },
    {
        "buckets": ["M1"],
        "p_pay_min": 0.5,
        "action": "sms",
        "reason": "early and likely to pay: a reminder is enough",
    },
    {
        "buckets": ["M1"],
        "action": "call",
        "reason": "early but unlikely to self-cure: call to find the reason",
    },
    {
        "buckets": ["M2"],
        "p_pay_min": 0.4,
        "action": "call",
        "reason": "M2, willing: call and agree a payment plan",
    },
    {
        "buckets": ["M2"],
        "has_guarantor": True,
        "action": "guarantor_contact",
        "reason": "M2, unlikely to pay, guarantor on file: contact the guarantor",
    },
    {"buckets": ["M2"], "action": "call", "reason": "M2, unlikely to pay: more frequent calls"},
    {
        "stage": "early",
        "p_pay_min": 0.3,
        "action": "call",
        "reason": "M3, still paying sometimes: senior collector call",
    },
    {
        "stage": "early",
        "balance_min": 5000.0,
        "action": "visit",
        "reason": "M3, unlikely to pay, large balance: field visit",
    },
    {"stage": "early", "action": "letter", "reason": "M3, unlikely to pay: formal demand letter"},
    {
        "stage": "late",
        "p_pay_min": 0.3,
        "action": "call",
        "reason": "late stage but likely to pay: call before charge-off",
    },
    {
        "stage": "late",
        "balance_min": 5000.0,
        "action": "legal_notice",
        "reason": "late stage, large balance: lawyer's letter and legal review",
    },
    {"stage": "late", "action": "visit", "reason": "late stage: field visit before charge-off"},
)


@dataclass(frozen=True)
class StrategyConfig:
    """Decision layer: policy table, capacity and work-list settings.

    Attributes
    ----------
    policy : tuple of dict
        Ordered rules; the first that matches an account decides its action. Keys:
        ``stage`` (early / late / charged_off), ``buckets`` (list), ``p_pay_min``,
        ``p_pay_max``, ``p_cure_min``, ``p_cure_max``, ``balance_min``, ``balance_max``
        (currency), ``has_guarantor``, then ``action`` (a channel) and ``reason``.
    contacts_per_agent_per_day : dict
        Capacity by team (contacts per agent per working day); ``default`` for others.
    legal_channels : tuple of str
        Channels that are legal action (barred after the limitation period).
    one_agent_per_customer : bool
        Work lists hold one entry per customer per day, given to one agent (the agent
        holding the customer's most valuable account): a borrower with three loans
        gets one call, not three from three collectors. ``false`` keeps each account
        with its own agent (one entry per customer and agent).
    """

    policy: tuple[dict[str, Any], ...] = _DEFAULT_POLICY
    contacts_per_agent_per_day: dict[str, float] = field(
        default_factory=lambda: {"early": 80.0, "late": 40.0, "legal": 10.0, "default": 40.0}
    )
    legal_channels: tuple[str, ...] = ("legal_notice", "lawsuit")
    one_agent_per_customer: bool = True


# Largest discount a lender allows, by stage and debt age (first matching rule wins;
# an account no rule matches gets no discount). "stage": current (open, DPD 0), early
# (M1–M3), late (M4+, not charged off) or charged_off; "debt_age_months_min" /
# "debt_age_months_max" bound the debt age [min, max) in months.
_DEFAULT_MAX_DISCOUNT: tuple[dict[str, Any], ...] = (
    {"stage": "early", "max_discount": 0.10},
    {"stage": "late", "max_discount": 0.30},
    {"stage": "charged_off", "debt_age_months_max": 24, "max_discount": 0.50},
    {"stage": "charged_off", "max_discount": 0.60},
)


@dataclass(frozen=True)
class OfferConfig:
    """Lender rules for offers: payment plans, settlements and deferrals (guardrails).

    Checked by :func:`recovery.operations.offers.check_offers` on a lender's ``offers``
    table, and by whatever proposes offers (the simulator's offer rule, recommendations).
    A plan or deferral offered to an open account *re-ages* it (brings it current), so
    the regulators' usual re-age limits apply to it; a charged-off account is never
    re-aged (it stays charged off), so they do not apply there.

    Attributes
    ----------
    max_plan_months : int
        Longest payment plan (monthly installments).
    max_deferral_months : int
        Longest deferral (months the due dates move).
    reage_max_per_12_months, reage_max_per_5_years : int
        Re-ages (accepted plans or deferrals of open accounts) allowed in the 12 months
        and the 5 years up to and including a new one.
    reage_min_payments : int
        Payments (not reversed) the borrower must have made on the account before it
        may be re-aged.
    max_installment_ratio : float
        Affordability cap: a plan installment may be at most this multiple of the
        regular installment of the schedule in force.
    max_discount : tuple of dict
        Largest ``discount_share`` by stage and debt age; first matching rule wins, an
        account no rule matches gets none. The minimum acceptable share of the balance
        is ``1 - max_discount``. Keys: ``stage`` (current, early, late, charged_off),
        ``debt_age_months_min``, ``debt_age_months_max`` (months, [min, max)),
        ``max_discount`` (fraction).
    forbearance_probation_months : int
        An account with an accepted plan or deferral is *forborne* from the acceptance
        until this many months after the plan is completed (a broken or running plan
        keeps the flag).
    horizon_months : int
        Horizon H of an offer's value and of the collections expected without an offer
        (DESIGN.md §3, offer value), months from the offer month. Also readable as
        ``value_horizon_months``.
    monthly_discount_rate : float
        Rate r at which cash is discounted per month (δ = 1 / (1 + r); cash of the
        offer month is not discounted, month t after it counts δ^t). Default 1 % a
        month (about 12.7 % a year).
    offer_cost : float
        Cost of making one offer (currency), subtracted from its value.
    min_offer_value : float
        Recommend an offer only when it is worth more than collecting as usual by at
        least this much (currency).
    discount_grid : tuple of float
        Settlement discounts a recommendation considers.
    plan_grid : tuple of int
        Payment plan lengths (months) a recommendation considers.
    deferral_grid : tuple of int
        Deferral lengths (months) a recommendation considers; none by default: a
        deferral is a hardship measure granted on request, and a lender's deferrals,
        made only to borrowers who asked, say nothing of how others would respond.
    """

    max_plan_months: int = 60
    max_deferral_months: int = 6
    reage_max_per_12_months: int = 1
    reage_max_per_5_years: int = 2
    reage_min_payments: int = 3
    max_installment_ratio: float = 1.0
    max_discount: tuple[dict[str, Any], ...] = _DEFAULT_MAX_DISCOUNT
    forbearance_probation_months: int = 24
    horizon_months: int = 24
    monthly_discount_rate: float = 0.01
    offer_cost: float = 0.0
    min_offer_value: float = 0.0
    discount_grid: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
    plan_grid: tuple[int, ...] = (3, 6, 9, 12, 18, 24)
    deferral_grid: tuple[int, ...] = ()

    @property
    def value_horizon_months(self) -> int:
        """The same as :attr:`horizon_months` (the name the simulator's truth reads)."""
        return self.horizon_months

    def __post_init__(self) -> None:
        counts = (
            self.max_plan_months,
            self.max_deferral_months,
            self.reage_max_per_12_months,
            self.reage_max_per_5_years,
            self.reage_min_payments,
            self.forbearance_probation_months,
        )
        if min(counts) < 0 or self.max_installment_ratio <= 0:
            raise ConfigError("[offers] limits must be >= 0 (max_installment_ratio > 0)")
        if self.horizon_months < 1 or not 0 <= self.monthly_discount_rate < 1:
            raise ConfigError(
                "[offers] horizon_months must be >= 1 and monthly_discount_rate in [0, 1)"
            )
        if self.offer_cost < 0:
            raise ConfigError("[offers] offer_cost must be >= 0")
        if any(not 0 <= float(d) < 1 for d in self.discount_grid):
            raise ConfigError("[offers] discount_grid: discounts within [0, 1)")
        if any(int(n) < 1 for n in (*self.plan_grid, *self.deferral_grid)):
            raise ConfigError("[offers] plan_grid and deferral_grid: lengths of at least 1 month")
        known = {"stage", "debt_age_months_min", "debt_age_months_max", "max_discount"}
        stages = {"current", "early", "late", "charged_off"}
        for i, rule in enumerate(self.max_discount):
            where = f"[offers] max_discount rule {i + 1}"
            if set(rule) - known:
                raise ConfigError(f"{where}: unknown key(s) {sorted(set(rule) - known)}")
            if "max_discount" not in rule or not 0 <= float(rule["max_discount"]) <= 1:
                raise ConfigError(f"{where}: max_discount must be a share within [0, 1]")
            if "stage" in rule and rule["stage"] not in stages:
                raise ConfigError(f"{where}: stage must be one of {sorted(stages)}")

    def max_discount_for(self, stage: Any, debt_age_months: Any) -> np.ndarray:
        """Largest discount allowed per account (first matching rule; none matches: 0).

        Parameters
        ----------
        stage : array-like of str
            ``current``, ``early``, ``late`` or ``charged_off``.
        debt_age_months : array-like of float
            Debt age (months; missing counts as 0).

        Returns
        -------
        numpy.ndarray
            Shares in [0, 1].

        Examples
        --------
        >>> OfferConfig().max_discount_for(["early", "charged_off", "charged_off"],
        ...                                [2, 6, 30]).tolist()
        [0.1, 0.5, 0.6]
        """
        stage = np.asarray(stage, dtype=object)
        age = np.nan_to_num(np.asarray(debt_age_months, dtype=float), nan=0.0)
        out = np.zeros(len(stage))
        open_ = np.ones(len(stage), dtype=bool)
        for rule in self.max_discount:
            hit = open_.copy()
            if "stage" in rule:
                hit &= stage == rule["stage"]
            if "debt_age_months_min" in rule:
                hit &= age >= float(rule["debt_age_months_min"])
            if "debt_age_months_max" in rule:
                hit &= age < float(rule["debt_age_months_max"])
            out[hit] = float(rule["max_discount"])
            open_ &= ~hit
        return out


_SECTIONS = {
    "aging": AgingConfig,
    "labels": LabelConfig,
    "features": FeatureConfig,
    "analytics": AnalyticsConfig,
    "compliance": ComplianceConfig,
    "categories": CategoryConfig,
    "costs": CostConfig,
    "data": DataConfig,
    "strategy": StrategyConfig,
    "offers": OfferConfig,
}


@dataclass(frozen=True)
class Config:
    """The project configuration: one section per concern.

    Examples
    --------
    >>> cfg = Config.from_dict({"aging": {"charge_off_dpd": 150}})
    >>> cfg.aging.charge_off_dpd, cfg.labels.p_pay_horizon_days
    (150, 30)
    """

    aging: AgingConfig = field(default_factory=AgingConfig)
    labels: LabelConfig = field(default_factory=LabelConfig)
    features: FeatureConfig = field(default_factory=FeatureConfig)
    analytics: AnalyticsConfig = field(default_factory=AnalyticsConfig)
    compliance: ComplianceConfig = field(default_factory=ComplianceConfig)
    categories: CategoryConfig = field(default_factory=CategoryConfig)
    costs: CostConfig = field(default_factory=CostConfig)
    data: DataConfig = field(default_factory=DataConfig)
    strategy: StrategyConfig = field(default_factory=StrategyConfig)
    offers: OfferConfig = field(default_factory=OfferConfig)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        """Build a config from nested dicts, validating names and types."""
        if not isinstance(data, dict):
            raise ConfigError("config must be a mapping of sections")
        unknown = sorted(set(data) - set(_SECTIONS))
        if unknown:
            raise ConfigError(f"unknown config section(s) {unknown}; known: {sorted(_SECTIONS)}")
        sections = {}
        for name, klass in _SECTIONS.items():
            values = data.get(name, {}) or {}
            if not isinstance(values, dict):
                raise ConfigError(f"config section [{name}] must be a table of settings")
            known = {f.name: f for f in dataclasses.fields(klass)}
            bad = sorted(set(values) - set(known))
            if bad:
                raise ConfigError(f"unknown setting(s) {bad} in [{name}]; known: {sorted(known)}")
            defaults = klass()
            kwargs = {}
            for key, value in values.items():
                kind = known[key].metadata.get("values", float)
                kwargs[key] = _coerce(name, key, value, getattr(defaults, key), kind)
            sections[name] = klass(**kwargs)
        return cls(**sections)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (JSON/TOML friendly) of every setting."""
        out = {}
        for name in _SECTIONS:
            section = dataclasses.asdict(getattr(self, name))
            out[name] = {k: list(v) if isinstance(v, tuple) else v for k, v in section.items()}
        return out


def _coerce(section: str, key: str, value: Any, default: Any, kind: type = float) -> Any:
    where = f"[{section}] {key}"
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be an integer, got {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} must be a number, got {value!r}")
        return float(value)
    if isinstance(default, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where} must be a list, got {value!r}")
        if default and isinstance(default[0], dict) and not all(isinstance(v, dict) for v in value):
            raise ConfigError(f"{where} must be a list of tables")
        return tuple(value)
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be a table, got {value!r}")
        merged = dict(default)
        for k, v in value.items():
            if kind is str:
                ok = isinstance(v, str)
            else:
                ok = isinstance(v, (int, float)) and not isinstance(v, bool)
                ok = ok and (kind is float or float(v).is_integer())
            if not ok:
                what = {str: "text", int: "an integer", float: "a number"}[kind]
                raise ConfigError(f"{where}.{k} must be {what}, got {v!r}")
            merged[str(k)] = kind(v)
        return merged
    return value


def load_config(path: str | Path | None = None) -> Config:
    """Load a configuration from a TOML (``.toml``) or YAML (``.yml``/``.yaml``) file.

    Parameters
    ----------
    path : str or Path, optional
        The file. ``None`` returns the defaults of DESIGN.md.

    Returns
    -------
    Config
        Defaults overridden by the file's settings.

    Raises
    ------
    ConfigError
        When the file is missing, unreadable, or has unknown or mistyped settings.
    """
    if path is None:
        return Config()
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        elif suffix in (".yml", ".yaml"):
            import yaml

            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        else:
            raise ConfigError(f"config file {path} must end in .toml, .yml or .yaml")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid: {exc}") from None
    except ImportError:  # pragma: no cover
        raise ConfigError("reading YAML needs PyYAML (pip install pyyaml)") from None
    except Exception as exc:  # yaml.YAMLError without importing yaml at module level
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"config file {path} is not valid: {exc}") from None
    return Config.from_dict(data)
