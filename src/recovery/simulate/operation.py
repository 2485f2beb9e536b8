"""The collection operation of the simulated lender (simulator part 2, issue 5).

:class:`CollectionOperation` implements :class:`recovery.simulate.hooks.CollectionOperation`:
each month, for the live accounts of a chunk, it

1. keeps **assignment spells** (account → agent or agency): M1–M2 cases go to the
   early team, M3–M6 to the late team, charged-off debt to the legal team, and part of
   the recovery book is placed with outside agencies for a few months. Assignment is
   **not random** — the hardest cases (by an observed difficulty score) go to senior
   agents (:func:`recovery.simulate.collectors.assign_agents`) — except for the
   **randomised share** (default 10 % of accounts), whose spells get a uniformly drawn
   agent and a random arm: ``hold_out`` (no contact), ``champion`` (the standard policy)
   or ``challenger`` (more contact attempts);
2. plans and times actions by the escalation policy
   (:data:`recovery.simulate.contacts.DEFAULT_POLICY`), limited by agent capacity, and
   draws their outcomes from the borrower's latent type; records the stated reason and
   the collector's (noisy) impression of the borrower's type;
3. keeps normal work inside the contact rules of ``config.compliance`` (hours,
   attempts a day and a rolling week, third-party contacts, no contact during a
   dispute, after a reported death or — calls and visits — during a hardship plan; no
   lawsuit after the limitation period) and **injects violations** on accounts held by
   a few violator agents, recording each (action, rule) in the truth;
4. turns the month's contacts into an **odds multiplier** on the borrower's payment
   probability (channel × outcome weight × the archetype's response × bucket × agent
   skill, saturating) and a promised payment into a payment day and a raised
   probability of paying (the archetype's promise keeping); whether a promise was kept
   is read back from the ledger the next month.

Tables (from :meth:`CollectionOperation.tables`): ``actions``, ``agents``,
``assignments`` (with ``randomized`` and ``arm``), ``events`` (``dispute_closed``,
``hardship_plan``, ``hardship_plan_ended``, ``legal_filed``) and the truth tables ``truth_agents``,
``truth_violations``, ``truth_promises``, ``truth_spells``, ``truth_operation_months``,
``truth_contact_effects`` and ``truth_operation_params`` (every parameter, JSON).

Examples
--------
>>> from recovery.simulate import simulate_portfolio
>>> portfolio, truth = simulate_portfolio(n_accounts=300, months=12, seed=2)
>>> {"sms", "call", "letter"} <= set(portfolio.actions["channel"])
True
>>> bool(portfolio.assignments["randomized"].any())
True
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from recovery.config import Config
from recovery.errors import ConfigError
from recovery.operations.compliance import RULES
from recovery.simulate import contacts as ct
from recovery.simulate.collectors import TEAMS, assign_agents, case_difficulty, make_agents
from recovery.simulate.hooks import BookInfo, MonthState, OperationResponse
from recovery.simulate.params import ARCHETYPES

__all__ = ["OperationParams", "CollectionOperation", "PlanContext", "VIOLATION_RULES"]

#: Rules whose violations are injected: exactly the rules :mod:`recovery.operations.compliance`
#: checks, in its order (the order sets the bit of each rule).
VIOLATION_RULES = RULES
_RULE_BIT = {r: 1 << i for i, r in enumerate(VIOLATION_RULES)}
_DAY = 86_400
_WEEK = 7 * _DAY
_NONE = -1
_FAR = np.int64(1) << 40


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
    truth_draws : int
        Truth only (the tables do not depend on it): the simulator's ``p_pay_true`` /
        ``p_cure_true`` average over this many independent draws of the next month's
        work (:meth:`CollectionOperation.response_draws`), since contacts, promises and
        new agents are not determined at the month end the probability is for.
        Monte Carlo error of the average: about 0.006 (p_pay, open accounts), 0.003
        (charged off, p_cure) mean absolute at 32. 0: the realised month's work (a
        probability that looks one month ahead; fast).

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
    truth_draws: int = 32

    def __post_init__(self) -> None:
        for name in (
            "randomized_share",
            "violator_share",
            "violation_rate",
            "matching",
            "recovery_worked_share",
            "placement_rate",
            "hardship_plan_share",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"OperationParams.{name} must be within [0, 1]")
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
        if self.truth_draws < 0:
            raise ConfigError("OperationParams.truth_draws must be >= 0")
        if self.intensity < 0 or self.placement_months < 1 or self.hardship_plan_days < 1:
            raise ConfigError(
                "OperationParams: intensity >= 0, placement_months and hardship_plan_days >= 1"
            )

    def replace(self, **changes) -> OperationParams:
        """A copy with some parameters changed (names are checked)."""
        known = {f.name for f in dataclasses.fields(self)}
        bad = sorted(set(changes) - known)
        if bad:
            raise ConfigError(f"unknown operation parameter(s) {bad}")
        return dataclasses.replace(self, **changes)


def _account_uniform(seed: int, index: np.ndarray) -> np.ndarray:
    """A uniform number per account from (seed, account index) alone (splitmix64 hash)."""
    mask = np.uint64(0xFFFFFFFFFFFFFFFF)
    with np.errstate(over="ignore"):
        z = np.asarray(index, np.uint64) + np.uint64(seed % (1 << 32)) * np.uint64(
            0x9E3779B97F4A7C15
        )
        z = (z + np.uint64(0x9E3779B97F4A7C15)) & mask
        z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & mask
        z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & mask
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _days(ts: pd.Timestamp) -> int:
    return int((pd.Timestamp(ts) - pd.Timestamp("1970-01-01")) // pd.Timedelta(days=1))


def _take(rows: dict, keep: np.ndarray) -> dict:
    return {k: v[keep] for k, v in rows.items()}


def _concat(parts: list[dict]) -> dict:
    keys = parts[0].keys()
    return {k: np.concatenate([p[k] for p in parts]) for k in keys}


def _first_per_account(pos: np.ndarray, mask: np.ndarray, n: int, values: np.ndarray) -> np.ndarray:
    """First value (rows sorted by pos, ts) of the rows in ``mask``, per account; -1 if none."""
    out = np.full(n, _NONE, np.int64)
    rows = np.flatnonzero(mask)[::-1]  # reversed so the first row wins the assignment
    out[pos[rows]] = values[rows]
    return out


@dataclass
class PlanContext:
    """The worked accounts of one chunk-month, as given to :meth:`CollectionOperation.plan`.

    Attributes
    ----------
    state : MonthState
        The month's state (all live accounts of the chunk).
    rows : ndarray of int
        Positions in ``state`` of the worked accounts (delinquent or charged off).
    group : ndarray of int
        Policy group (:data:`recovery.simulate.contacts.GROUPS`).
    team : ndarray of int
        Team code (:data:`recovery.simulate.collectors.TEAMS`).
    arm : ndarray of int
        Experiment arm (:data:`recovery.simulate.contacts.ARMS`; 1 = champion).
    agent : ndarray of int
        Row of the holding agent in the roster (``operation.agents``).
    randomized : ndarray of bool
        Account is in the randomised share.
    idle : ndarray of bool
        The default rotation does not work this recovery-book account this month.
    difficulty : ndarray of float
        Observed difficulty at the start of the spell.
    """

    state: MonthState
    rows: np.ndarray
    group: np.ndarray
    team: np.ndarray
    arm: np.ndarray
    agent: np.ndarray
    randomized: np.ndarray
    idle: np.ndarray
    difficulty: np.ndarray


class _Chunk:
    """Per-account bookkeeping of one chunk (arrays by position in the chunk)."""

    def __init__(self, n: int):
        self.n = n
        i64 = lambda v: np.full(n, v, np.int64)  # noqa: E731
        self.cur_agent = i64(_NONE)
        self.cur_team = np.full(n, _NONE, np.int8)
        self.spell_start = i64(0)
        self.spell_arm = np.full(n, 1, np.int8)
        self.spell_difficulty = np.zeros(n)
        self.placed_until = i64(_NONE)  # month index when an agency placement ends
        self.place_next = np.zeros(n, bool)
        self.ever_sued = np.zeros(n, bool)
        self.broken = np.zeros(n, np.int16)
        self.prom_day = i64(_NONE)  # promised day (days since epoch) of a pending promise
        self.prom_row = i64(_NONE)  # its promise record
        self.prom_keep = np.zeros(n)
        self.check_row = i64(_NONE)  # promise due last month, to be checked
        self.check_dom = np.zeros(n, np.int64)
        self.dispute_until = i64(0)  # first day contacts are allowed again
        self.hardship_from = i64(0)
        self.hardship_until = i64(0)
        self.death_known = np.zeros(n, bool)
        self.restart = i64(_NONE)  # last restart of the limitation clock by the operation
        self.last_pay = i64(_NONE)  # last posted payment (day)
        self.tail: dict | None = None  # rows of the last 7 days of the previous month
        self.rows: list[dict] = []
        self.spells: list[dict] = []
        self.promises: list[dict] = []
        self.promise_results: list[dict] = []
        self.events: list[dict] = []
        self.months: list[dict] = []
        self.seq = 0


def _save_chunk(obj) -> dict:
    """Copy of an object's attributes: arrays and dicts copied, lists by length."""
    saved = {}
    for k, v in vars(obj).items():
        if isinstance(v, np.ndarray):
            saved[k] = v.copy()
        elif isinstance(v, list):
            saved[k] = len(v)
        elif isinstance(v, dict):
            saved[k] = dict(v)
        else:
            saved[k] = v
    return saved


def _restore_chunk(obj, saved: dict) -> None:
    """Put an object back as :func:`_save_chunk` found it (lists cut back to their length)."""
    for k, v in saved.items():
        current = getattr(obj, k)
        if isinstance(current, list) and isinstance(v, int):
            del current[v:]
        elif isinstance(v, np.ndarray):
            setattr(obj, k, v.copy())
        elif isinstance(v, dict):
            setattr(obj, k, dict(v))
        else:
            setattr(obj, k, v)
    for k in set(vars(obj)) - set(saved):
        delattr(obj, k)


class CollectionOperation:
    """The simulated collection department, plugged into the simulator's hook.

    Parameters
    ----------
    params : OperationParams, optional
        Defaults to :class:`OperationParams` ().
    **overrides
        Parameters to change (e.g. ``randomized_share=0.2``).

    Examples
    --------
    >>> op = CollectionOperation(violation_rate=0.0)
    >>> op.params.violation_rate, op.params.randomized_share
    (0.0, 0.1)
    """

    def __init__(self, params: OperationParams | None = None, **overrides) -> None:
        params = params or OperationParams()
        self.params = params.replace(**overrides) if overrides else params
        self._chunks: dict[int, _Chunk] = {}
        self._done: list[dict] = []
        self._agents_given = False
        self._next_action_id = 1

    # ------------------------------------------------------------------ protocol
    def start(self, book: BookInfo) -> None:
        """Build the roster (deterministic from the seed)."""
        p = self.params
        self.book = book
        self.config: Config = book.config or Config()
        self.sim_params = book.params
        self.month_start_days = np.array([_days(t) for t in book.month_starts], np.int64)
        self.data_end_day = _days(book.data_end)
        rng = np.random.default_rng([book.seed, 5101])
        self.agents = make_agents(
            book.n_accounts,
            rng,
            pd.Timestamp(book.month_starts[0]),
            accounts_per_agent=p.accounts_per_agent,
            min_agents_per_team=p.min_agents_per_team,
            n_agencies=p.n_agencies,
            level_shares=p.level_shares,
            capacity_per_day=p.capacity_per_day,
            skill_sd=p.skill_sd,
            skill_split_sd=p.skill_split_sd,
            seniority_skill=p.seniority_skill,
            agency_skill_mean=p.agency_skill_mean,
            violator_share=p.violator_share if p.violation_rate > 0 else 0.0,
        )
        a = self.agents
        self.agent_team = a["team_code"].to_numpy()
        self.agent_level = a["level"].to_numpy()
        self.agent_skill = np.stack([a["skill_early"].to_numpy(), a["skill_late"].to_numpy()], 1)
        self.agent_accuracy = np.asarray(p.attitude_accuracy)[np.clip(self.agent_level, 1, 3) - 1]
        self.agent_violator = a["violator"].to_numpy()
        self.agent_capacity = a["capacity_per_day"].to_numpy() * p.working_days_per_month
        self.weights = ct.effect_weight_matrix()
        self._uplift_sum = np.zeros(len(a))
        self._uplift_n = np.zeros(len(a))
        self._effect_sum = np.zeros(len(a))
        self.width = max(7, len(str(book.n_accounts - 1)))

    def start_chunk(self, chunk_index: int, accounts: pd.DataFrame) -> None:
        """Set up the chunk's bookkeeping and its randomised share."""
        index = accounts["account_index"].to_numpy(np.int64)
        ch = _Chunk(len(index))
        ch.index = index
        ch.base = int(index.min()) if len(index) else 0
        ch.contiguous = bool(len(index) == 0 or (np.diff(index) == 1).all())
        if "account_id" in accounts:
            ch.ids = accounts["account_id"].astype(str).to_numpy(object)
        else:
            ch.ids = np.char.add("A", np.char.zfill(index.astype(str), self.width)).astype(object)
        orig_month = accounts["origination_month"].to_numpy(np.int64)
        starts = self.month_start_days
        om = np.clip(orig_month, 0, len(starts) - 1)
        ch.orig_day_low = starts[om]  # the first due date is after this day …
        ch.first_due_high = starts[np.clip(om + 2, 0, len(starts) - 1)]  # … and before this
        ch.bureau = (
            accounts["bureau_score"].to_numpy(float)
            if "bureau_score" in accounts
            else np.full(len(index), np.nan)
        )
        # membership of the experiment depends on the seed and the account only
        ch.randomized = _account_uniform(self.book.seed, index) < self.params.randomized_share
        ch.chunk_share = len(index) / max(self.book.n_accounts, 1)
        ch.chunk_index = chunk_index
        self._chunks[chunk_index] = ch

    def end_chunk(self, chunk_index: int) -> None:
        """Close the chunk: open spells stay open; its rows are kept for :meth:`tables`."""
        ch = self._chunks.pop(chunk_index)
        open_ = ch.cur_team >= 0
        self._close_spells(ch, np.flatnonzero(open_), end_day=_FAR)
        self._done.append(self._chunk_tables(ch))

    def step(self, state: MonthState) -> OperationResponse:
        """One month of collection work on a chunk's live accounts."""
        n = len(state)
        ch = self._chunks[state.chunk_index]
        if n == 0:
            return OperationResponse.neutral(0)
        p = self.params
        cfg = self.config.compliance
        rng = state.rng
        m = state.month_index
        ms_day = _days(state.month_start)
        me_day = _days(state.month_end)
        n_days = me_day - ms_day + 1
        ms_s = ms_day * _DAY
        pos = (
            state.account_index - ch.base
            if ch.contiguous
            else np.searchsorted(ch.index, state.account_index)
        )
        observed = bool(state.observed)

        # 0. what last month's ledger says: payments and promises
        self._read_ledger(ch, state, pos, m)

        # 1. who is worked, by which team
        status = np.asarray(state.status)
        is_open = status == 0
        charged = status == 2
        worked = (is_open & (state.dpd > 0)) | charged
        bucket = np.asarray(state.bucket, np.int64)
        group = np.where(charged, 4, np.clip(bucket - 1, 0, 3))
        placed = charged & (ch.placed_until[pos] > m)
        starting = charged & ch.place_next[pos]
        ch.placed_until[pos[starting]] = m + p.placement_months
        ch.place_next[pos] = False
        placed |= starting
        group = np.where(placed, 5, group)
        team = np.select([group <= 1, group <= 3, group == 4], [0, 1, 2], 3)

        # 2. spells: close what changed team or left, open new ones
        present = np.zeros(ch.n, bool)
        present[pos] = True
        gone = np.flatnonzero((ch.cur_team >= 0) & ~present)
        changed = (ch.cur_team[pos] >= 0) & (~worked | (ch.cur_team[pos] != team))
        self._close_spells(ch, np.concatenate([gone, pos[changed]]), end_day=ms_day - 1)
        new = worked & (ch.cur_team[pos] < 0)
        if new.any():
            self._open_spells(ch, state, pos, new, team, rng, ms_day)
        w = np.flatnonzero(worked)
        wpos = pos[w]
        agent = ch.cur_agent[wpos]
        arm = ch.spell_arm[wpos].astype(np.int64)
        wgroup = group[w]

        # 3. plan the month's actions
        # a death is known once reported or once the lender is notified (the event day):
        # contacts strictly after that moment break `contact_after_death`
        notice = getattr(state, "death_notice_day", None)
        if notice is None:  # no notification day: treat every death as known
            notice_w = np.where(np.asarray(state.deceased)[w], ms_day - 1, _NONE)
        else:
            notice_w = np.asarray(notice, np.int64)[w]
        dead_known = ch.death_known[wpos] | ((notice_w >= 0) & (notice_w < ms_day))
        ch.death_known[wpos] = dead_known
        death_from = np.where(dead_known, ms_s - 1, np.where(notice_w >= 0, notice_w * _DAY, _FAR))
        co_months = np.asarray(state.months_since_charge_off)[w]
        worked_share = np.where(co_months < 12, 1.5, 0.7) * p.recovery_worked_share
        idle = (wgroup == 4) & (rng.random(len(w)) >= np.minimum(worked_share, 1.0))
        # the limitation clock restarts on the first due date, any posted payment, a
        # promise, a legal notice or a lawsuit (bounds when the book gives no exact days)
        first_due = getattr(state, "first_due_day", None)
        posted = getattr(state, "last_posted_day", None)
        exact = first_due is not None and posted is not None and len(first_due) == n
        if exact:
            due_w = np.asarray(first_due, np.int64)[w]
            posted_w = np.asarray(posted, np.int64)[w]
            restart_low = np.maximum.reduce([due_w, posted_w, ch.restart[wpos]])
            restart_high = np.maximum.reduce([due_w, posted_w, ch.restart[wpos] + 1])
        else:
            restart_low = np.maximum.reduce(
                [ch.orig_day_low[wpos], ch.last_pay[wpos], ch.restart[wpos]]
            )
            restart_high = np.maximum.reduce(
                [ch.first_due_high[wpos], ch.last_pay[wpos] + 1, ch.restart[wpos] + 1]
            )
            # without posted (incl. reversed) payments, trust the book's own flag too
            restart_high = np.where(np.asarray(state.limitation_expired)[w], restart_high, ms_day)
        balance = np.asarray(state.balance)[w]
        lawsuit_ok = (
            (wgroup >= 3)
            & ~ch.ever_sued[wpos]
            & ~dead_known
            & (ch.dispute_until[wpos] <= ms_day)
            & (
                state.has_collateral[w]
                | state.has_guarantor[w]
                | (balance >= p.lawsuit_min_balance)
            )
            & (me_day + 1 < restart_low + 1095)  # inside the limitation period all month
        )
        counts = ct.plan_contacts(
            wgroup,
            arm,
            state.has_guarantor[w],
            lawsuit_ok,
            rng,
            p.policy,
            p.intensity,
            p.challenger_scale,
        )
        counts[idle | dead_known] = 0
        # seed 002: a small-business case's first month in M1 follows a fixed timeline
        timeline = (
            (ch.spell_start[wpos] == ms_day)
            & (wgroup == 0)
            & (np.asarray(state.product)[w] == 1)
            & (arm != 0)
            & ~dead_known
        )
        if p.small_business_timeline and timeline.any():
            for channel, k, _, _ in self._TIMELINE:
                extra = np.where(channel == ct.GUARANTOR, state.has_guarantor[w], True)
                counts[:, channel] = np.where(
                    timeline & extra, np.maximum(counts[:, channel], k), counts[:, channel]
                )
        # the seam for other strategies: who is worked, with what (default: unchanged)
        context = PlanContext(
            state=state,
            rows=w,
            group=wgroup,
            team=team[w],
            arm=arm,
            agent=agent,
            randomized=ch.randomized[wpos],
            idle=idle,
            difficulty=ch.spell_difficulty[wpos],
        )
        planned = np.asarray(self.plan(context, counts.copy()), np.int64)
        planned = planned.reshape(counts.shape).clip(0)
        # rules a strategy cannot change: the experiment's hold-out, the dead, lawsuits
        # only where allowed, placements decided below (a no-op for the default plan)
        keep = (arm == 0) | dead_known
        planned[keep] = counts[keep]
        planned[:, ct.LAWSUIT] = np.minimum(planned[:, ct.LAWSUIT], lawsuit_ok)
        planned[:, ct.OUTSOURCE] = 0
        counts = planned
        # placements with an agency next month (hard cases more often)
        can_place = (wgroup == 4) & ~dead_known & (ch.placed_until[wpos] < 0)
        z = ch.spell_difficulty[wpos]
        middle = np.median(z[can_place]) if can_place.any() else 0.0
        hard = np.where(ch.randomized[wpos], 1.0, np.where(z > middle, 2.0, 0.5))
        place = can_place & (rng.random(len(w)) < p.placement_rate * hard)
        counts[place, ct.OUTSOURCE] = 1
        ch.place_next[wpos[place]] = True
        # agent capacity: thin contact attempts of overloaded agents
        demand = np.bincount(
            agent, weights=counts[:, ct.CONTACT].sum(1), minlength=len(self.agent_team)
        )
        capacity = self.agent_capacity * ch.chunk_share
        keep_p = np.where(demand > capacity, capacity / np.maximum(demand, 1e-9), 1.0)
        if (keep_p < 1).any():
            sub = counts[:, ct.CONTACT]
            counts[:, ct.CONTACT] = rng.binomial(sub, keep_p[agent][:, None])

        # 4. rows: times and outcomes
        flat = np.repeat(np.arange(counts.size), counts.ravel())
        acc = flat // counts.shape[1]  # index into w
        chan = (flat % counts.shape[1]).astype(np.int8)
        ts = ct.contact_times(ms_s, n_days, chan, rng, cfg.contact_hour_start, cfg.contact_hour_end)
        if p.small_business_timeline and timeline.any():
            ts = self._small_business_timeline(acc, chan, ts, timeline, ms_s, cfg)
        a_w = w[acc]
        deceased_unknown = state.deceased[a_w] & ~dead_known[acc]
        outcome = ct.draw_outcomes(
            chan,
            wgroup[acc],
            state.archetype[a_w],
            state.reachability[a_w],
            deceased_unknown,
            state.shock_active[a_w],
            state.fraud[a_w],
            ch.prom_day[wpos[acc]] < 0,
            rng,
        )
        rows = {
            "acc": acc.astype(np.int64),
            "ts": ts.astype(np.int64),
            "chan": chan,
            "out": outcome,
            "history": np.zeros(len(acc), bool),
            "injected": np.zeros(len(acc), bool),
            "bits": np.zeros(len(acc), np.int16),
        }
        rows = self._sorted(rows, wpos)

        # 5. keep normal work inside the rules
        rows = self._enforce_limits(ch, rows, wpos, cfg)
        death_base = death_from
        rows, first_dispute, death_from = self._suppress(ch, rows, wpos, death_from)
        rows, plans = self._hardship_plans(ch, rows, wpos, rng, ms_day)
        # a plan may have removed the row that opened a dispute or reported a death
        n_w = len(wpos)
        first_dispute = _first_per_account(rows["acc"], rows["out"] == ct.DISPUTE, n_w, rows["ts"])
        reported = _first_per_account(rows["acc"], rows["out"] == ct.DECEASED, n_w, rows["ts"])
        death_from = np.where(reported >= 0, np.minimum(death_base, reported), death_base)

        # 6. promises made this month
        rows, promises_made = self._promises(
            ch, state, rows, w, wpos, wgroup, rng, ms_day, me_day, m
        )

        # 7. injected violations (violator agents' accounts)
        inj_legal = np.zeros(0, np.int64)
        if p.violation_rate > 0 and observed:
            rows, inj_legal = self._inject(
                ch,
                state,
                rows,
                w,
                wpos,
                agent,
                wgroup,
                rng,
                ms_day,
                n_days,
                first_dispute,
                death_from,
                plans,
                restart_high,
            )

        # 8. label every violation by rule (the truth)
        rows = self._label(ch, rows, wpos, first_dispute, death_from, plans, cfg)

        # 9. effects on this month's payment probability
        mult, pay_day, p_op = self._effects(ch, state, rows, w, wpos, agent, wgroup, ms_day, me_day)

        # 10. bookkeeping for the next months
        self._update(ch, rows, wpos, me_day, first_dispute, death_from, rng)
        if observed:
            self._record(ch, rows, wpos, agent, m, ms_day, w, state, mult, p_op, arm, wgroup)
        ch.tail = self._tail(rows, wpos, me_day)
        return OperationResponse(odds_multiplier=mult, payment_day=pay_day)

    def response_draws(
        self, state: MonthState, draws: int | None = None
    ) -> list[OperationResponse]:
        """The month's response under ``draws`` independent random draws; nothing kept.

        The simulator's truth uses it: the contacts, promises and new agents of a month
        are drawn after the month end a true probability is for, so ``p_pay_true`` and
        ``p_cure_true`` average over these draws instead of using the realised ones.
        Each draw runs :meth:`step` on the same state with its own random numbers
        (derived from ``state.rng``'s seed, which is not consumed), then restores the
        chunk's bookkeeping and the operation's own attributes (lists cut back, dicts
        and arrays copied back — so a subclass whose :meth:`plan` records history or
        counters is restored too), so the real month is unchanged. State kept inside
        other mutable objects is not restored.

        Parameters
        ----------
        state : MonthState
        draws : int, optional
            Number of draws; default ``params.truth_draws``.

        Returns
        -------
        list of OperationResponse
            Odds multipliers and promised payment days only (no rows).
        """
        draws = self.params.truth_draws if draws is None else int(draws)
        ch = self._chunks[state.chunk_index]
        saved = _save_chunk(ch)
        own = _save_chunk(self)
        seq = state.rng.bit_generator.seed_seq
        out = []
        try:
            for k in range(draws):
                key = (*getattr(seq, "spawn_key", ()), 7919, k)
                rng = np.random.default_rng(np.random.SeedSequence(seq.entropy, spawn_key=key))
                r = self.step(dataclasses.replace(state, rng=rng))
                out.append(
                    OperationResponse(odds_multiplier=r.odds_multiplier, payment_day=r.payment_day)
                )
                _restore_chunk(ch, saved)
                _restore_chunk(self, own)
        finally:
            _restore_chunk(ch, saved)
            _restore_chunk(self, own)
        return out

    # ------------------------------------------------------------------ pieces
    def plan(self, context: PlanContext, counts: np.ndarray) -> np.ndarray:
        """Planned actions of the month; override to try another strategy.

        Parameters
        ----------
        context : PlanContext
            The worked accounts of the month (positions in ``context.state``), their
            policy group, team, arm, agent, randomised flag, observed difficulty and
            whether the default rotation leaves them idle this month.
        counts : ndarray of int, shape (n_worked, len(CHANNELS))
            The default policy's planned actions per account and channel
            (:data:`recovery.simulate.contacts.CHANNELS`), a copy.

        Returns
        -------
        ndarray
            Planned actions of the same shape. Hold-out and deceased accounts keep
            the default plan, lawsuits stay where allowed and placements are decided
            afterwards; agent capacity, the contact rules and suppression (disputes,
            deaths, hardship plans) still apply to whatever is returned.

        Examples
        --------
        >>> class CallEveryone(CollectionOperation):
        ...     def plan(self, context, counts):
        ...         counts[:, 1] = np.maximum(counts[:, 1], 1)  # at least one call
        ...         return counts
        >>> CallEveryone(randomized_share=0.0).params.randomized_share
        0.0
        """
        return counts

    #: Seed 002's first days of a small-business delinquency: (channel, how many,
    #: day of the month from 0, hour).
    _TIMELINE = (
        (ct.CALL, 3, (0, 1, 2), 10),
        (ct.VISIT, 1, (3,), 15),
        (ct.GUARANTOR, 1, (3,), 11),
        (ct.NOTICE, 1, (6,), 10),
    )

    def _small_business_timeline(self, acc, chan, ts, timeline, ms_s, cfg) -> np.ndarray:
        """Put the first planned calls, visit, guarantor call and notice on seed 002's days.

        Calls on days 1–3, a visit and a call to the (counter-)guarantor on day 4, a
        formal notice on day 7 of the first month a small-business case is worked.
        Rows of one (account, channel) are contiguous in ``acc``/``chan`` order.
        """
        n = len(acc)
        idx = np.arange(n)
        new = np.ones(n, bool)
        new[1:] = (acc[1:] != acc[:-1]) | (chan[1:] != chan[:-1])
        rank = idx - np.maximum.accumulate(np.where(new, idx, 0))
        lo, hi = cfg.contact_hour_start, max(cfg.contact_hour_end - 1, cfg.contact_hour_start)
        ts = ts.copy()
        minute = ts % 3600
        for channel, k, days, hour in self._TIMELINE:
            h = hour if channel == ct.NOTICE else min(max(hour, lo), hi)
            sel = timeline[acc] & (chan == channel) & (rank < k)
            day = np.asarray(days)[rank[sel]]
            ts[sel] = ms_s + day * _DAY + h * 3600 + minute[sel]
        return ts

    def _read_ledger(self, ch: _Chunk, state: MonthState, pos: np.ndarray, m: int) -> None:
        """Payments posted last month restart the limitation clock; check due promises."""
        if m == 0:
            return
        prev_start = self.month_start_days[m - 1]
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
        ch.check_row[rows] = _NONE

    def _open_spells(self, ch, state, pos, new, team, rng, ms_day) -> None:
        p = self.params
        idx = np.flatnonzero(new)
        npos = pos[idx]
        difficulty = case_difficulty(
            state.dpd[idx], state.balance[idx], ch.bureau[npos], ch.broken[npos], rng
        )
        randomized = ch.randomized[npos]
        chosen = assign_agents(
            team[idx], difficulty, randomized, self.agent_team, self.agent_level, rng, p.matching
        )
        w = np.asarray(p.arm_weights, float)
        arm = np.where(randomized, rng.choice(3, size=len(idx), p=w / w.sum()), 1)
        ch.cur_agent[npos] = chosen
        ch.cur_team[npos] = team[idx]
        ch.spell_start[npos] = ms_day
        ch.spell_arm[npos] = arm
        ch.spell_difficulty[npos] = difficulty

    def _close_spells(self, ch: _Chunk, which: np.ndarray, end_day: int) -> None:
        if not len(which):
            return
        ch.spells.append(
            {
                "pos": which.astype(np.int64),
                "agent": ch.cur_agent[which].copy(),
                "team": ch.cur_team[which].astype(np.int8),
                "start": ch.spell_start[which].copy(),
                "end": np.full(len(which), end_day, np.int64),
                "arm": ch.spell_arm[which].copy(),
                "randomized": ch.randomized[which].copy(),
                "difficulty": ch.spell_difficulty[which].copy(),
            }
        )
        ch.cur_agent[which] = _NONE
        ch.cur_team[which] = _NONE

    @staticmethod
    def _sorted(rows: dict, wpos: np.ndarray) -> dict:
        """Sort by (account, ts) and make timestamps unique per account (+1 s per tie)."""
        for _ in range(10):
            key = wpos[rows["acc"]] if len(rows["acc"]) else rows["acc"]
            order = np.lexsort((rows["ts"], key))
            rows = _take(rows, order)
            key = key[order]
            same = np.zeros(len(key), bool)
            same[1:] = (key[1:] == key[:-1]) & (rows["ts"][1:] == rows["ts"][:-1])
            if not same.any():
                break
            idx = np.arange(len(key))
            run_start = np.maximum.accumulate(np.where(~same, idx, 0))
            rows["ts"] = rows["ts"] + (idx - run_start)
        return rows

    def _with_tail(self, ch: _Chunk, rows: dict, wpos: np.ndarray) -> tuple[dict, np.ndarray]:
        """This month's rows plus last month's tail, sorted; returns rows and account pos."""
        cur = {
            "pos": wpos[rows["acc"]],
            "ts": rows["ts"],
            "chan": rows["chan"],
            "out": rows["out"],
            "history": np.zeros(len(rows["ts"]), bool),
            "row": np.arange(len(rows["ts"])),
        }
        if ch.tail is not None and len(ch.tail["ts"]):
            t = ch.tail
            hist = {
                "pos": t["pos"],
                "ts": t["ts"],
                "chan": t["chan"],
                "out": t["out"],
                "history": np.ones(len(t["ts"]), bool),
                "row": np.full(len(t["ts"]), -1),
            }
            cur = _concat([hist, cur])
        order = np.lexsort((cur["ts"], cur["pos"]))
        return _take(cur, order), order

    def _enforce_limits(self, ch, rows, wpos, cfg) -> dict:
        """Drop the normal attempts that would break a count limit."""
        for _ in range(20):
            both, _ = self._with_tail(ch, rows, wpos)
            contact = ct.CONTACT[both["chan"]]
            third = both["out"] == ct.THIRD_PARTY
            bad = ct.over_limit(
                both["pos"], both["ts"], third, cfg.max_third_party_per_week, _WEEK, both["history"]
            )
            bad |= ct.over_limit(
                both["pos"], both["ts"], contact, cfg.max_attempts_per_day, None, both["history"]
            )
            bad |= ct.over_limit(
                both["pos"], both["ts"], contact, cfg.max_attempts_per_week, _WEEK, both["history"]
            )
            if not bad.any():
                return rows
            drop = np.zeros(len(rows["ts"]), bool)
            drop[both["row"][bad]] = True
            rows = _take(rows, ~drop)
        return rows

    def _suppress(self, ch, rows, wpos, death_from):
        """No action during a dispute or after a death is known (normal work)."""
        n = len(wpos)
        rpos = rows["acc"]
        ts = rows["ts"]
        until = ch.dispute_until[wpos][rpos]
        keep = ts >= until * _DAY  # a dispute from an earlier month still open
        rows = _take(rows, keep)
        rpos, ts = rows["acc"], rows["ts"]
        first_dispute = _first_per_account(rpos, rows["out"] == ct.DISPUTE, n, ts)
        fd = first_dispute[rpos]
        rows = _take(rows, ~((fd >= 0) & (ts > fd)))
        rpos, ts = rows["acc"], rows["ts"]
        rows = _take(rows, ts <= death_from[rpos])
        rpos, ts = rows["acc"], rows["ts"]
        first_death = _first_per_account(rpos, rows["out"] == ct.DECEASED, n, ts)
        death_from = np.where(first_death >= 0, np.minimum(death_from, first_death), death_from)
        rows = _take(rows, ts <= death_from[rpos])
        return rows, first_dispute, death_from

    def _hardship_plans(self, ch, rows, wpos, rng, ms_day):
        """Grant hardship plans; no calls, visits or guarantor contacts while one runs."""
        p = self.params
        n = len(wpos)
        rpos, ts = rows["acc"], rows["ts"]
        pressure = ct.PRESSURE[rows["chan"]]
        h_from, h_until = ch.hardship_from[wpos][rpos], ch.hardship_until[wpos][rpos]
        keep = ~(pressure & (ts >= h_from * _DAY) & (ts < h_until * _DAY))
        rows = _take(rows, keep)
        rpos, ts = rows["acc"], rows["ts"]
        first = _first_per_account(rpos, rows["out"] == ct.HARDSHIP, n, ts)
        active = ch.hardship_until[wpos] > ms_day
        grant = (first >= 0) & ~active & (rng.random(n) < p.hardship_plan_share)
        plan_from = np.where(grant, first // _DAY + 1, 0)
        plan_until = np.where(grant, plan_from + p.hardship_plan_days, 0)
        pf = plan_from[rows["acc"]]
        inside = ct.PRESSURE[rows["chan"]] & grant[rows["acc"]] & (ts >= pf * _DAY)
        rows = _take(rows, ~inside)
        g = np.flatnonzero(grant)
        ch.hardship_from[wpos[g]] = plan_from[g]
        ch.hardship_until[wpos[g]] = plan_until[g]
        if len(g):
            ch.events.append(
                {"pos": wpos[g], "day": plan_from[g], "code": np.full(len(g), 1, np.int8)}
            )
            ch.events.append(
                {"pos": wpos[g], "day": plan_until[g], "code": np.full(len(g), 2, np.int8)}
            )
        plans = (np.maximum(ch.hardship_from[wpos], 0), ch.hardship_until[wpos])
        return rows, plans

    def _promises(self, ch, state, rows, w, wpos, wgroup, rng, ms_day, me_day, m):
        """Keep the first promise of the month; set its date, amount and keep probability."""
        p = self.params
        n = len(wpos)
        is_p = rows["out"] == ct.PROMISE
        first = _first_per_account(rows["acc"], is_p, n, np.arange(len(is_p)))
        later = is_p & (first[rows["acc"]] != np.arange(len(is_p)))
        rows["out"] = np.where(later, ct.RPC, rows["out"]).astype(np.int8)
        made = np.flatnonzero(first >= 0)
        rows["promise_day"] = np.full(len(is_p), _NONE, np.int64)
        rows["promise_amount"] = np.full(len(is_p), np.nan)
        rows["promise_seq"] = np.full(len(is_p), _NONE, np.int64)
        if not len(made):
            return rows, made
        r = first[made]
        day = rows["ts"][r] // _DAY + rng.integers(
            p.promise_days[0], p.promise_days[1] + 1, len(made)
        )
        dom = day - ms_day + 1
        next_start = me_day + 1
        # payments post on days 3..28: later dates move to the next month's 3rd+
        day = np.where(dom < 3, ms_day + 2, day)
        day = np.where(dom > 28, next_start + 2 + np.minimum(dom - 29, 20), day)
        i = w[made]
        overdue = np.asarray(state.amount_overdue)[i]
        inst = np.asarray(state.installment)[i]
        bal = np.asarray(state.balance)[i]
        low_share = float(self.sim_params.recovery_partial_share[0]) if self.sim_params else 0.03
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

    def _inject(
        self,
        ch,
        state,
        rows,
        w,
        wpos,
        agent,
        wgroup,
        rng,
        ms_day,
        n_days,
        first_dispute,
        death_from,
        plans,
        restart_high,
    ):
        """Violator agents break one rule on some of their accounts."""
        p = self.params
        n = len(wpos)
        cand = self.agent_violator[agent] & (rng.random(n) < p.violation_rate)
        if not cand.any():
            return rows, np.zeros(0, np.int64)
        last_day = n_days - 2  # contacts avoid the month's last day
        # eligibility of the rule-specific violations
        dispute_open = (ch.dispute_until[wpos] > ms_day) | (first_dispute >= 0)
        death = death_from < ms_day * _DAY + last_day * _DAY
        cand &= ch.spell_arm[wpos] != 0  # the hold-out arm is left alone
        h_from, h_until = plans
        hardship = h_until > ms_day
        expired = (
            (wgroup >= 3)
            & (ms_day > restart_high + 1100)
            & ~death
            & ~dispute_open
            & ~ch.ever_sued[wpos]
        )
        weights = np.zeros((n, len(VIOLATION_RULES)))
        weights[:, :4] = 1.0
        weights[:, 2] = np.where(last_day >= 7, 1.0, 0.0)
        weights[:, 4] = np.where(dispute_open, 6.0, 0.0)
        weights[:, 5] = np.where(death, 6.0, 0.0)
        weights[:, 6] = np.where(expired, 6.0, 0.0)
        weights[:, 7] = np.where(hardship, 6.0, 0.0)
        cum = np.cumsum(weights, 1)
        u = rng.random(n) * cum[:, -1]
        rule = (u[:, None] >= cum).sum(1)
        parts = []
        legal_acc = np.zeros(0, np.int64)

        def add(acc_idx, day, hour, chan, out, spread_s=3540):
            k = len(acc_idx)
            if not k:
                return
            ts = (
                ms_s0
                + day.astype(np.int64) * _DAY
                + hour.astype(np.int64) * 3600
                + rng.integers(0, spread_s, k)
            )
            parts.append(
                {
                    "acc": acc_idx.astype(np.int64),
                    "ts": ts.astype(np.int64),
                    "chan": np.full(k, chan, np.int8)
                    if np.isscalar(chan)
                    else chan.astype(np.int8),
                    "out": np.full(k, out, np.int8) if np.isscalar(out) else out.astype(np.int8),
                }
            )

        ms_s0 = ms_day * _DAY
        sel = np.flatnonzero(cand)
        r = rule[sel]
        # outside hours: one call at night
        a = sel[r == 0]
        add(
            a,
            rng.integers(0, last_day + 1, len(a)),
            rng.choice([6, 7, 21, 22], len(a)),
            ct.CALL,
            ct.NO_ANSWER,
        )
        # attempts per day: four extra calls in one day
        a = sel[r == 1]
        d = rng.integers(0, last_day + 1, len(a))
        add(
            np.repeat(a, 4),
            np.repeat(d, 4),
            np.tile([9, 11, 14, 17], len(a)),
            ct.CALL,
            ct.NO_ANSWER,
        )
        # attempts per week: two calls a day on six consecutive days
        a = sel[r == 2]
        d = rng.integers(0, max(last_day - 5, 0) + 1, len(a))
        rep = np.repeat(a, 12)
        add(
            rep,
            np.repeat(d, 12) + np.tile(np.repeat(np.arange(6), 2), len(a)),
            np.tile([10, 16], 6 * len(a)),
            ct.CALL,
            ct.NO_ANSWER,
        )
        # third-party excess: three calls to contact persons in three days
        a = sel[r == 3]
        d = rng.integers(0, max(last_day - 2, 0) + 1, len(a))
        add(
            np.repeat(a, 3),
            np.repeat(d, 3) + np.tile([0, 1, 2], len(a)),
            np.full(3 * len(a), 12),
            ct.CALL,
            ct.THIRD_PARTY,
        )
        # contact during a dispute: two calls before it is closed
        a = sel[r == 4]
        lo = np.where(first_dispute[a] >= 0, first_dispute[a] // _DAY - ms_day + 1, 0)
        hi = np.minimum(ch.dispute_until[wpos[a]] - ms_day - 1, last_day)
        hi = np.where(first_dispute[a] >= 0, last_day, hi)
        ok = hi >= lo
        a, lo, hi = a[ok], lo[ok], hi[ok]
        add(
            np.repeat(a, 2),
            np.repeat(lo + (rng.random(len(a)) * (hi - lo + 1)).astype(int), 2),
            np.tile([10, 15], len(a)),
            ct.CALL,
            ct.REFUSAL,
        )
        # contact after a death was reported
        a = sel[r == 5]
        lo = np.maximum(death_from[a] // _DAY - ms_day + 1, 0)
        ok = lo <= last_day
        a, lo = a[ok], lo[ok]
        add(
            np.repeat(a, 2),
            np.repeat(lo + (rng.random(len(a)) * (last_day - lo + 1)).astype(int), 2),
            np.tile([10, 15], len(a)),
            ct.CALL,
            ct.NO_ANSWER,
        )
        # legal action after the limitation period: a lawsuit first thing on day 1
        a = sel[r == 6]
        if len(a):
            parts.append(
                {
                    "acc": a.astype(np.int64),
                    "ts": np.full(len(a), ms_s0 + 8 * 3600, np.int64),
                    "chan": np.full(len(a), ct.LAWSUIT, np.int8),
                    "out": np.full(len(a), ct.FILED, np.int8),
                }
            )
            legal_acc = a
        # calls during a hardship plan
        a = sel[r == 7]
        lo = np.maximum(h_from[a] - ms_day, 0)
        hi = np.minimum(h_until[a] - ms_day - 1, last_day)
        ok = hi >= lo
        a, lo, hi = a[ok], lo[ok], hi[ok]
        add(
            a,
            lo + (rng.random(len(a)) * (hi - lo + 1)).astype(int),
            np.full(len(a), 11),
            ct.CALL,
            ct.NO_ANSWER,
        )
        if not parts:
            return rows, legal_acc
        extra = _concat(parts)
        k = len(extra["ts"])
        extra.update(
            {
                "history": np.zeros(k, bool),
                "injected": np.ones(k, bool),
                "bits": np.zeros(k, np.int16),
                "promise_day": np.full(k, _NONE, np.int64),
                "promise_amount": np.full(k, np.nan),
                "promise_seq": np.full(k, _NONE, np.int64),
            }
        )
        if len(legal_acc):
            extra["bits"] = np.where(
                extra["chan"] == ct.LAWSUIT, _RULE_BIT["legal_after_limitation"], 0
            ).astype(np.int16)
            ch.ever_sued[wpos[legal_acc]] = True
        rows = self._sorted(_concat([rows, extra]), wpos)
        return rows, legal_acc

    def _label(self, ch, rows, wpos, first_dispute, death_from, plans, cfg) -> dict:
        """Which rule each action breaks, by the rules' definitions (the truth)."""
        bits = rows["bits"].astype(np.int64)
        ts, acc, chan = rows["ts"], rows["acc"], rows["chan"]
        contact = ct.CONTACT[chan]
        hour = (ts % _DAY) // 3600
        bits |= np.where(
            contact & ((hour < cfg.contact_hour_start) | (hour >= cfg.contact_hour_end)),
            _RULE_BIT["outside_hours"],
            0,
        )
        both, order = self._with_tail(ch, rows, wpos)
        cur = both["row"] >= 0
        c = ct.CONTACT[both["chan"]]
        for rule, mask, limit, window in (
            ("attempts_per_day", c, cfg.max_attempts_per_day, None),
            ("attempts_per_week", c, cfg.max_attempts_per_week, _WEEK),
            (
                "third_party_excess",
                both["out"] == ct.THIRD_PARTY,
                cfg.max_third_party_per_week,
                _WEEK,
            ),
        ):
            hit = ct.over_limit(both["pos"], both["ts"], mask, limit, window, both["history"])
            idx = both["row"][hit & cur]
            bits[idx] |= _RULE_BIT[rule]
        # disputes: open from an earlier month until dispute_until, or opened this month
        until = ch.dispute_until[wpos][acc]
        fd = first_dispute[acc]
        in_dispute = (ts < until * _DAY) | ((fd >= 0) & (ts > fd))
        bits |= np.where(contact & in_dispute, _RULE_BIT["contact_after_dispute"], 0)
        dead = ts > death_from[acc]
        bits |= np.where(contact & dead, _RULE_BIT["contact_after_death"], 0)
        h_from, h_until = plans
        in_plan = (ts >= h_from[acc] * _DAY) & (ts < h_until[acc] * _DAY)
        bits |= np.where(ct.PRESSURE[chan] & in_plan, _RULE_BIT["contact_during_hardship"], 0)
        rows["bits"] = bits.astype(np.int16)
        return rows

    def _effects(self, ch, state, rows, w, wpos, agent, wgroup, ms_day, me_day):
        """Odds multiplier of the month's payment probability, and promised payment days.

        Also the counterfactual probability had an average agent (skill 0) made the same
        contacts: the agent's own causal effect is ``p_pay_operation − p_pay_average_agent``.
        """
        p = self.params
        n_live = len(state)
        n = len(wpos)
        weight = self.weights[rows["chan"], rows["out"]]
        raw_w = np.bincount(rows["acc"], weights=weight, minlength=n)
        skill = self.agent_skill[agent, np.where(wgroup <= 1, 0, 1)]
        response = np.log(np.maximum(np.asarray(state.contact_response)[w], 1e-6))
        unit = response * np.asarray(p.bucket_effect)[wgroup]
        h = np.clip(np.asarray(state.p_pay_base)[w], 0.0, 1.0)
        # a promise due this month: pays at least with its keep probability, on its day
        pd_ = ch.prom_day[wpos]
        due = (pd_ >= ms_day) & (pd_ <= me_day)
        kappa = np.where(due, ch.prom_keep[wpos], 0.0)
        # the agent's skill shows when they talk with the borrower (log-odds that month)
        talked = np.bincount(rows["acc"], weights=ct.TALKED[rows["out"]], minlength=n) > 0
        k_total, p_op = self._multiplier(raw_w * unit, skill * talked, h, kappa)
        _, p_avg = self._multiplier(raw_w * unit, 0.0, h, kappa)
        mult = np.ones(n_live)
        mult[w] = k_total
        pay_day = np.zeros(n_live, np.int8)
        pay_day[w[due]] = (pd_[due] - ms_day + 1).astype(np.int8)
        # promises due now are checked next month
        d = np.flatnonzero(due)
        ch.check_row[wpos[d]] = ch.prom_row[wpos[d]]
        ch.check_dom[wpos[d]] = pd_[d] - ms_day + 1
        ch.prom_day[wpos[d]] = _NONE
        ch.prom_row[wpos[d]] = _NONE
        return mult, pay_day, (p_op, p_avg)

    def _multiplier(self, raw: np.ndarray, skill, h: np.ndarray, kappa: np.ndarray):
        """Saturating contact effect + agent skill (log-odds) and a due promise.

        Returns the odds multiplier of the month's payment probability and P(pay).
        """
        cap = self.params.effect_cap
        effect = np.where(raw >= 0, cap * (1 - np.exp(-np.maximum(raw, 0) / cap)), raw)
        effect = effect + skill
        k = np.exp(effect)
        p_contact = np.where(h > 0, k * h / (1 - h + k * h), 0.0)
        p_target = 1 - (1 - kappa) * (1 - p_contact)
        ok = (h > 0) & (h < 1)
        odds_h = np.maximum(h / np.maximum(1 - h, 1e-12), 1e-12)
        q = np.minimum(p_target, 1 - 1e-9)
        k_total = np.where(ok, (q / (1 - q)) / odds_h, k)
        k_total = np.clip(k_total, 1e-3, 1e6)
        p_op = np.where(ok, k_total * h / (1 - h + k_total * h), h)
        return k_total, p_op

    def _update(self, ch, rows, wpos, me_day, first_dispute, death_from, rng) -> None:
        p = self.params
        acc, ts = rows["acc"], rows["ts"]
        # restarts of the limitation clock: promises, legal notices, lawsuits
        restart = (
            (rows["out"] == ct.PROMISE) | (rows["chan"] == ct.NOTICE) | (rows["chan"] == ct.LAWSUIT)
        )
        if restart.any():
            last = np.full(len(wpos), _NONE, np.int64)
            np.maximum.at(last, acc[restart], ts[restart] // _DAY)
            got = last >= 0
            ch.restart[wpos[got]] = np.maximum(ch.restart[wpos[got]], last[got])
        sued = rows["chan"] == ct.LAWSUIT
        ch.ever_sued[wpos[np.unique(acc[sued])]] = True
        if sued.any():  # the lender's record of the filing
            ch.events.append(
                {
                    "pos": wpos[acc[sued]],
                    "day": ts[sued] // _DAY,
                    "code": np.full(sued.sum(), 3, np.int8),
                }
            )
        # a new dispute: closed after a while (contacts resume on the closing day)
        opened = np.flatnonzero(first_dispute >= 0)
        if len(opened):
            close = first_dispute[opened] // _DAY + rng.integers(
                p.dispute_days[0], p.dispute_days[1] + 1, len(opened)
            )
            ch.dispute_until[wpos[opened]] = close
            ch.events.append(
                {"pos": wpos[opened], "day": close, "code": np.zeros(len(opened), np.int8)}
            )
            # a pending promise is void once the debt is disputed
            ch.prom_day[wpos[opened]] = _NONE
            ch.prom_row[wpos[opened]] = _NONE
        ch.death_known[wpos[death_from < (me_day + 1) * _DAY]] = True

    def _tail(self, rows: dict, wpos: np.ndarray, me_day: int) -> dict:
        keep = rows["ts"] >= (me_day + 1) * _DAY - _WEEK
        return {
            "pos": wpos[rows["acc"][keep]],
            "ts": rows["ts"][keep],
            "chan": rows["chan"][keep],
            "out": rows["out"][keep],
        }

    def _record(self, ch, rows, wpos, agent, m, ms_day, w, state, mult, p_op, arm, wgroup) -> None:
        acc = rows["acc"]
        keep = rows["ts"] // _DAY <= self.data_end_day
        att_acc = np.asarray(state.archetype)[w][acc]
        rng = state.rng
        reason = ct.stated_reasons(rows["out"], att_acc, np.asarray(state.shock_type)[w][acc], rng)
        attitude = ct.recorded_attitudes(rows["out"], att_acc, self.agent_accuracy[agent[acc]], rng)
        injected = rows["injected"]
        reason = np.where(injected, -1, reason)
        attitude = np.where(injected, -1, attitude)
        ch.rows.append(
            {
                "pos": wpos[acc][keep].astype(np.int32),
                "agent": agent[acc][keep].astype(np.int32),
                "ts": rows["ts"][keep],
                "chan": rows["chan"][keep],
                "out": rows["out"][keep],
                "promise_day": rows["promise_day"][keep].astype(np.int32),
                "promise_amount": rows["promise_amount"][keep],
                "promise_seq": rows["promise_seq"][keep],
                "reason": reason[keep].astype(np.int8),
                "attitude": attitude[keep].astype(np.int8),
                "bits": rows["bits"][keep],
            }
        )
        n_actions = np.bincount(acc, minlength=len(wpos))
        ch.months.append(
            {
                "pos": wpos.astype(np.int32),
                "month": np.full(len(wpos), m, np.int32),
                "agent": agent.astype(np.int32),
                "arm": arm.astype(np.int8),
                "group": wgroup.astype(np.int8),
                "n_actions": n_actions.astype(np.int32),
                "odds_multiplier": mult[w].astype(np.float32),
                "p_pay_base": np.asarray(state.p_pay_base)[w].astype(np.float32),
                "p_pay_operation": p_op[0].astype(np.float32),
                "p_pay_average_agent": p_op[1].astype(np.float32),
            }
        )

    # ------------------------------------------------------------------ tables
    def _chunk_tables(self, ch: _Chunk) -> dict:
        """The chunk's rows as compact arrays with ids (assembled in :meth:`tables`)."""
        out: dict = {"ids": ch.ids, "chunk": ch.chunk_index, "randomized": ch.randomized}
        for name in ("rows", "spells", "promises", "promise_results", "events", "months"):
            parts = getattr(ch, name)
            out[name] = _concat(parts) if parts else None
        return out

    def chunk_tables(self, chunk_index: int) -> dict[str, pd.DataFrame]:
        """The tables of one finished chunk (bounded memory; optional hook method).

        ``actions``, ``assignments``, ``events`` and the per-account truth tables of
        the chunk; the first call also hands out ``agents``. Tables handed out here
        are not repeated by :meth:`tables`.
        """
        done = [d for d in self._done if d["chunk"] == chunk_index]
        self._done = [d for d in self._done if d["chunk"] != chunk_index]
        frames = _chunk_frames(self, done[0]) if done else {}
        if not self._agents_given:
            frames["agents"] = self._agents_table()
            self._agents_given = True
        return frames

    def tables(self) -> dict[str, pd.DataFrame]:
        """Everything not yet handed out by :meth:`chunk_tables`, plus agent truth.

        Observable tables (``actions``, ``agents``, ``assignments``, ``events``) and
        truth tables prefixed ``truth_`` (``agents``, ``violations``, ``promises``,
        ``spells``, ``operation_months``, ``contact_effects``).
        """
        parts = [_chunk_frames(self, d) for d in sorted(self._done, key=lambda d: d["chunk"])]
        self._done = []
        out: dict[str, pd.DataFrame] = {}
        for name in _CHUNK_TABLES:
            frames = [p[name] for p in parts if name in p]
            if frames:
                out[name] = pd.concat(frames, ignore_index=True)
        if not self._agents_given:
            out["agents"] = self._agents_table()
            self._agents_given = True
        truth_agents = self.agents.drop(columns=["team_code"]).copy()
        n = self._uplift_n
        truth_agents["mean_uplift"] = np.where(n > 0, self._uplift_sum / np.maximum(n, 1), np.nan)
        truth_agents["effect_vs_average"] = np.where(
            n > 0, self._effect_sum / np.maximum(n, 1), np.nan
        )
        truth_agents["account_months"] = n.astype(np.int64)
        out["truth_agents"] = truth_agents
        out["truth_operation_params"] = pd.DataFrame(
            [
                {"parameter": k, "value": json.dumps(v, default=list)}
                for k, v in dataclasses.asdict(self.params).items()
            ]
        )
        out["truth_contact_effects"] = pd.DataFrame(
            [{"channel": c, "outcome": o, "weight": w} for (c, o), w in ct.EFFECT_WEIGHTS.items()]
        )
        return out

    def _agents_table(self) -> pd.DataFrame:
        cols = ["agent_id", "team", "level", "hire_date", "is_agency"]
        return self.agents[cols].copy()


# ---------------------------------------------------------------------- assembly
_EPOCH = np.datetime64("1970-01-01", "D")
_EVENTS = np.array(
    ["dispute_closed", "hardship_plan", "hardship_plan_ended", "legal_filed"], dtype=object
)


def _dates(days: np.ndarray) -> np.ndarray:
    return (_EPOCH + np.asarray(days, np.int64).astype("timedelta64[D]")).astype("datetime64[ns]")


def _labels(names: tuple[str, ...], codes: np.ndarray) -> np.ndarray:
    """Code → label (object array sharing the label strings; -1 → None)."""
    table = np.array([*names, None], dtype=object)
    codes = np.asarray(codes, np.int64)
    return table[np.where(codes >= 0, codes, len(names))]


def _action_ids(first: int, n: int) -> pd.Series:
    """``X000000001``-style ids, built in Arrow (compact for millions of rows)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    numbers = pa.array(np.arange(first, first + n, dtype=np.int64))
    text = pc.utf8_lpad(pc.cast(numbers, pa.string()), width=9, padding="0")
    ids = pc.binary_join_element_wise(pa.scalar("X"), text, "")
    return pd.Series(pd.arrays.ArrowStringArray(ids))


def _empty(columns: dict) -> pd.DataFrame:
    return pd.DataFrame({k: pd.Series(dtype=v) for k, v in columns.items()})


_CHUNK_TABLES = {
    "actions": {
        "action_id": object,
        "account_id": object,
        "agent_id": object,
        "ts": "datetime64[ns]",
        "channel": object,
        "outcome": object,
        "promise_amount": float,
        "promise_date": "datetime64[ns]",
        "reason_code": object,
        "attitude": object,
        "cost": float,
    },
    "assignments": {
        "account_id": object,
        "agent_id": object,
        "start_date": "datetime64[ns]",
        "end_date": "datetime64[ns]",
        "randomized": bool,
        "arm": object,
    },
    "events": {"account_id": object, "date": "datetime64[ns]", "event": object},
    "truth_violations": {
        "action_id": object,
        "account_id": object,
        "agent_id": object,
        "ts": "datetime64[ns]",
        "channel": object,
        "rule": object,
    },
    "truth_promises": {
        "action_id": object,
        "account_id": object,
        "archetype": object,
        "promise_date": "datetime64[ns]",
        "promise_amount": float,
        "keep_probability": float,
        "kept": "boolean",
    },
    "truth_spells": {
        "account_id": object,
        "agent_id": object,
        "start_date": "datetime64[ns]",
        "end_date": "datetime64[ns]",
        "randomized": bool,
        "arm": object,
        "team": object,
        "difficulty": float,
    },
    "truth_operation_months": {
        "account_id": object,
        "month_end": "datetime64[ns]",
        "agent_id": object,
        "group": object,
        "arm": object,
        "randomized": bool,
        "n_actions": np.int32,
        "odds_multiplier": np.float32,
        "p_pay_base": np.float32,
        "p_pay_operation": np.float32,
        "p_pay_average_agent": np.float32,
    },
}


def _nat_or_dates(days: np.ndarray) -> pd.Series:
    days = np.asarray(days, np.int64)
    return pd.to_datetime(np.where(days >= 0, _dates(np.maximum(days, 0)), np.datetime64("NaT")))


def _chunk_frames(op: CollectionOperation, c: dict) -> dict[str, pd.DataFrame]:
    """One chunk's compact arrays → contract and truth tables (ids built here)."""
    data_end = op.data_end_day
    agent_ids = op.agents["agent_id"].to_numpy(object)
    costs = op.config.costs.per_action
    cost_by_channel = np.array([float(costs.get(x, 0.0)) for x in ct.CHANNELS])
    month_end_days = np.append(op.month_start_days[1:], op.month_start_days[-1] + 31) - 1
    ids = c["ids"]
    out = {name: _empty(cols) for name, cols in _CHUNK_TABLES.items()}
    r = c["rows"]
    if r is not None and len(r["ts"]):
        order = np.lexsort((r["ts"], r["pos"]))
        r = _take(r, order)
        n = len(order)
        action_id = _action_ids(op._next_action_id, n)
        op._next_action_id += n
        act = pd.DataFrame(
            {
                "action_id": action_id,
                "account_id": ids[r["pos"]],
                "agent_id": agent_ids[r["agent"]],
                "ts": r["ts"].astype("datetime64[s]").astype("datetime64[ns]"),
                "channel": _labels(ct.CHANNELS, r["chan"]),
                "outcome": _labels(ct.OUTCOMES, r["out"]),
                "promise_amount": r["promise_amount"],
                "promise_date": _nat_or_dates(r["promise_day"]),
                "reason_code": _labels(ct.REASONS, r["reason"]),
                "attitude": _labels(ct.ATTITUDES, r["attitude"]),
                "cost": cost_by_channel[r["chan"]],
            }
        )
        out["actions"] = act
        bits = r["bits"].astype(np.int64)
        violations = []
        for rule, bit in _RULE_BIT.items():
            hit = np.flatnonzero(bits & bit)
            if len(hit):
                cols = ["action_id", "account_id", "agent_id", "ts", "channel"]
                violations.append(act.iloc[hit][cols].assign(rule=rule))
        if violations:
            out["truth_violations"] = pd.concat(violations, ignore_index=True)
        pr = c["promises"]
        if pr is not None:
            with_row = np.flatnonzero(r["promise_seq"] >= 0)
            link = pd.Series(with_row, index=r["promise_seq"][with_row])
            kept = pd.Series(pd.NA, index=pr["seq"], dtype="boolean")
            res = c["promise_results"]
            if res is not None:
                known = np.isin(res["row"], pr["seq"])
                kept.loc[res["row"][known]] = res["kept"][known]
            found = np.isin(pr["seq"], link.index)
            rows_of = link.reindex(pr["seq"][found]).to_numpy()
            out["truth_promises"] = pd.DataFrame(
                {
                    "action_id": act["action_id"].iloc[rows_of].to_numpy(),
                    "account_id": ids[pr["pos"][found]],
                    "archetype": _labels(ARCHETYPES, pr["archetype"][found]),
                    "promise_date": _dates(pr["day"][found]),
                    "promise_amount": pr["amount"][found],
                    "keep_probability": pr["keep"][found],
                    "kept": kept.to_numpy()[found],
                }
            )
    s = c["spells"]
    if s is not None:
        s = _take(s, s["start"] <= data_end)
        end = np.where(s["end"] > data_end, -1, s["end"])
        spells = pd.DataFrame(
            {
                "account_id": ids[s["pos"]],
                "agent_id": agent_ids[s["agent"]],
                "start_date": _dates(s["start"]),
                "end_date": _nat_or_dates(end),
                "randomized": s["randomized"].astype(bool),
                "arm": _labels(ct.ARMS, s["arm"]),
                "team": _labels(TEAMS, s["team"]),
                "difficulty": s["difficulty"],
            }
        ).sort_values(["account_id", "start_date"], ignore_index=True)
        out["truth_spells"] = spells
        out["assignments"] = spells[list(_CHUNK_TABLES["assignments"])].copy()
    e = c["events"]
    if e is not None:
        keep = e["day"] <= data_end
        out["events"] = pd.DataFrame(
            {
                "account_id": ids[e["pos"][keep]],
                "date": _dates(e["day"][keep]),
                "event": _EVENTS[e["code"][keep]],
            }
        )
    mo = c["months"]
    if mo is not None:
        uplift = mo["p_pay_operation"].astype(float) - mo["p_pay_base"].astype(float)
        own = mo["p_pay_operation"].astype(float) - mo["p_pay_average_agent"].astype(float)
        op._uplift_sum += np.bincount(mo["agent"], weights=uplift, minlength=len(agent_ids))
        op._effect_sum += np.bincount(mo["agent"], weights=own, minlength=len(agent_ids))
        op._uplift_n += np.bincount(mo["agent"], minlength=len(agent_ids))
        out["truth_operation_months"] = pd.DataFrame(
            {
                "account_id": ids[mo["pos"]],
                "month_end": _dates(month_end_days[mo["month"]]),
                "agent_id": agent_ids[mo["agent"]],
                "group": _labels(ct.GROUPS, mo["group"]),
                "arm": _labels(ct.ARMS, mo["arm"]),
                "randomized": c["randomized"][mo["pos"]],
                "n_actions": mo["n_actions"],
                "odds_multiplier": mo["odds_multiplier"],
                "p_pay_base": mo["p_pay_base"],
                "p_pay_operation": mo["p_pay_operation"],
                "p_pay_average_agent": mo["p_pay_average_agent"],
            }
        )
    return out
