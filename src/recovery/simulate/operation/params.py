"""Parameters of the simulated collection operation (simulator part 2).

Examples
--------
>>> OperationParams(intensity=0.5).replace(randomized_share=0.0).intensity
0.5
"""

from __future__ import annotations

from dataclasses import dataclass, field

from recovery.errors import ConfigError
from recovery.simulate import contacts as ct
from recovery.simulate.params import check_shares, replace_checked

__all__ = ["OperationParams"]


@dataclass(frozen=True)
class OperationParams:
    """Parameters of the collection operation (see ``docs/simulator.md``).

    Attributes
    ----------
    accounts_per_agent : tuple of float
        Book accounts per agent of the early, late and legal teams (team sizes).
    min_agents_per_team, n_agencies : int
        Smallest team; number of outside agencies.
    level_shares : tuple of tuple of float
        Share of seniority levels 1, 2, 3 in the early, late and legal teams.
    capacity_per_day : tuple of float
        Contact attempts a working day of an early, late, legal agent and an agency;
        demand above it is thinned.
    working_days_per_month : float
        Working days a month (capacity).
    skill_sd, skill_split_sd, seniority_skill, agency_skill_mean : float
        True agent skill (log-odds multiplier of the effect of their contacts): spread,
        spread of the early-vs-late difference, mean gain per level, agencies' mean.
    attitude_accuracy : tuple of float
        Probability that a level 1, 2, 3 agent records the borrower's true type.
    matching : float
        How strictly hard cases go to senior agents (0 random … 1 strict).
    one_agent_per_customer : bool
        A customer's new case goes to the agent of the same team already working one of
        the customer's loans (or who gets the customer's first new case that month);
        cases of the randomised share keep their uniformly drawn agent. Only books with
        multi-loan customers are affected.
    recovery_worked_share : float
        Share of the in-house recovery book worked in a month (more for young debt).
    placement_rate : float
        Monthly probability that a recovery-book account is placed with an agency
        (doubled for the hardest cases, halved for the easiest).
    placement_months : int
        Length of an agency placement (months).
    lawsuit_min_balance : float
        Unsecured accounts are sued only above this balance (currency).
    small_business_timeline : bool
        Seed 002's timeline for a small-business loan's first month in M1: calls on
        days 1–3, a visit and a guarantor call on day 4, a formal notice on day 7
        (on top of the policy).
    policy : dict
        Mean actions per account-month by policy group and channel
        (:data:`recovery.simulate.contacts.DEFAULT_POLICY`).
    intensity : float
        Multiplies every mean of the policy (volume control).
    challenger_scale : float
        Contact attempts of the challenger arm relative to the champion.
    effect_cap : float
        Saturation (log-odds) of the monthly contact effect.
    bucket_effect : tuple of float
        Effect of a contact by policy group (M1, M2, M3, M4+, recovery, agency)
        relative to M1.
    promise_days : tuple of int
        Range (days) between a promise and the promised date.
    promise_ability : float
        Log-odds of keeping a promise per unit of current ability.
    dispute_days : tuple of int
        Range (days) until a dispute is closed; no contact in between.
    hardship_plan_share : float
        Share of hardship claims that get a hardship plan.
    hardship_plan_days : int
        Length of a hardship plan (days); no calls, visits or guarantor contacts.
    randomized_share : float
        Share of accounts in the champion/challenger experiment.
    arm_weights : tuple of float
        Probabilities of the arms ``hold_out``, ``champion``, ``challenger``.
    violator_share : float
        Share of in-house agents who break contact rules.
    violation_rate : float
        Probability that a violator breaks a rule on one of their accounts in a month.
    truth_draws : int, optional
        Truth only (the tables do not depend on it): the simulator's ``p_pay_true`` /
        ``p_cure_true`` average over the next month's possible work, since contacts,
        promises and new agents are not determined at the month end the probability is
        for. None (default): the expectation in closed form
        (:mod:`recovery.simulate.operation.expectation`; within 0.0015 mean absolute of
        a 512-redraw average, at a fraction of one redraw's cost). A number: the average
        over that many independent redraws of the month
        (:meth:`CollectionOperation.response_draws`; Monte Carlo error about 0.006
        mean absolute for p_pay of open accounts at 32). 0: the realised month's work
        (a probability that looks one month ahead).

    Examples
    --------
    >>> params = OperationParams().replace(randomized_share=0.2, violation_rate=0.0)
    >>> params.randomized_share, params.policy["M1"]["call"]
    (0.2, 2.5)
    """

    accounts_per_agent: tuple[float, float, float] = (1500.0, 2500.0, 4000.0)
    min_agents_per_team: int = 4
    n_agencies: int = 4
    level_shares: tuple[tuple[float, float, float], ...] = (
        (0.50, 0.35, 0.15),
        (0.30, 0.40, 0.30),
        (0.20, 0.40, 0.40),
    )
    capacity_per_day: tuple[float, float, float, float] = (90.0, 60.0, 40.0, 600.0)
    working_days_per_month: float = 22.0
    skill_sd: float = 0.30
    skill_split_sd: float = 0.20
    seniority_skill: float = 0.10
    agency_skill_mean: float = -0.10
    attitude_accuracy: tuple[float, float, float] = (0.45, 0.55, 0.65)
    matching: float = 0.8
    one_agent_per_customer: bool = True
    recovery_worked_share: float = 0.35
    placement_rate: float = 0.05
    placement_months: int = 6
    lawsuit_min_balance: float = 30_000.0
    small_business_timeline: bool = True
    policy: dict = field(default_factory=lambda: dict(ct.DEFAULT_POLICY))
    intensity: float = 1.0
    challenger_scale: float = 1.6
    effect_cap: float = 1.2
    bucket_effect: tuple[float, ...] = (1.0, 0.9, 0.8, 0.7, 0.6, 0.6)
    promise_days: tuple[int, int] = (1, 6)
    promise_ability: float = 0.4
    dispute_days: tuple[int, int] = (20, 75)
    hardship_plan_share: float = 0.5
    hardship_plan_days: int = 90
    randomized_share: float = 0.10
    arm_weights: tuple[float, float, float] = (1 / 3, 1 / 3, 1 / 3)
    violator_share: float = 0.06
    violation_rate: float = 0.03
    truth_draws: int | None = None

    def __post_init__(self) -> None:
        check_shares(
            self,
            (
                "randomized_share",
                "violator_share",
                "violation_rate",
                "matching",
                "recovery_worked_share",
                "placement_rate",
                "hardship_plan_share",
            ),
        )
        if len(self.arm_weights) != len(ct.ARMS) or min(self.arm_weights) < 0:
            raise ConfigError("OperationParams.arm_weights needs 3 non-negative weights")
        if len(self.level_shares) != 3 or any(
            len(shares) != 3 or min(shares) < 0 or sum(shares) <= 0 for shares in self.level_shares
        ):
            raise ConfigError(
                "OperationParams.level_shares needs three (level 1, 2, 3) non-negative shares "
                "for each of the early, late and legal teams"
            )
        if len(self.bucket_effect) != len(ct.GROUPS):
            raise ConfigError(f"OperationParams.bucket_effect needs {len(ct.GROUPS)} values")
        unknown = {g for g in self.policy} - set(ct.GROUPS)
        bad = {c for g in self.policy.values() for c in g} - set(ct.CHANNELS)
        if unknown or bad:
            raise ConfigError(
                f"OperationParams.policy: unknown group(s) {sorted(unknown)} or channel(s) "
                f"{sorted(bad)}; groups {list(ct.GROUPS)}, channels {list(ct.CHANNELS)}"
            )
        if self.truth_draws is not None and self.truth_draws < 0:
            raise ConfigError("OperationParams.truth_draws must be None or >= 0")
        if self.intensity < 0 or self.placement_months < 1 or self.hardship_plan_days < 1:
            raise ConfigError(
                "OperationParams: intensity >= 0, placement_months and hardship_plan_days >= 1"
            )

    def replace(self, **changes) -> OperationParams:
        """A copy with some parameters changed (names are checked)."""
        return replace_checked(self, "operation", **changes)
