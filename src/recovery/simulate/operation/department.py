"""The simulated collection department: :class:`CollectionOperation` and its month.

The class keeps the roster and each chunk's bookkeeping and runs a month in the
order of the package overview (:mod:`recovery.simulate.operation`); the pieces of
the month are the functions of its modules.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.simulate import contacts as ct
from recovery.simulate.collectors import make_agents
from recovery.simulate.hooks import BookInfo, MonthState, OperationResponse, ResponseDistribution
from recovery.simulate.operation.assignments import (
    account_uniform,
    close_spells,
    plan_placements,
    update_spells,
    worked_teams,
)
from recovery.simulate.operation.effects import contact_effects
from recovery.simulate.operation.expectation import expected_response
from recovery.simulate.operation.params import OperationParams
from recovery.simulate.operation.planning import (
    PlanContext,
    default_plan,
    draw_rows,
    idle_accounts,
    keep_fixed_plans,
    thin_to_capacity,
)
from recovery.simulate.operation.promises import make_promises, read_ledger
from recovery.simulate.operation.rows import tail_rows
from recovery.simulate.operation.rules import (
    keep_within_rules,
    known_deaths,
    label_violations,
    lawsuit_allowed,
    limitation_restarts,
    update_after_month,
)
from recovery.simulate.operation.state import (
    FAR,
    ChunkState,
    MonthWork,
    day_number,
    restore,
    snapshot,
)
from recovery.simulate.operation.tables import (
    CHUNK_TABLES,
    agent_month_sums,
    chunk_arrays,
    chunk_frames,
    contact_effects_table,
    operation_params_table,
    record_month,
    truth_agents_table,
)
from recovery.simulate.operation.violations import inject_violations

__all__ = ["CollectionOperation", "STRATEGY_TRUTH_DRAWS"]

#: Redraws of the month for the truth of an operation whose plan is overridden.
STRATEGY_TRUTH_DRAWS = 32


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
        self._chunks: dict[int, ChunkState] = {}
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
        self.month_start_days = np.array([day_number(t) for t in book.month_starts], np.int64)
        self.data_end_day = day_number(book.data_end)
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
        ch = ChunkState(len(index))
        ch.index = index
        ch.base = int(index.min()) if len(index) else 0
        ch.contiguous = bool(len(index) == 0 or (np.diff(index) == 1).all())
        if "account_id" in accounts:
            ch.ids = accounts["account_id"].astype(str).to_numpy(object)
        else:
            ch.ids = np.char.add("A", np.char.zfill(index.astype(str), self.width)).astype(object)
        if "customer_id" in accounts:
            ch.customer = pd.factorize(accounts["customer_id"].astype(str))[0].astype(np.int64)
            ch.multi_loan = bool(len(np.unique(ch.customer)) < len(index))
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
        ch.randomized = account_uniform(self.book.seed, index) < self.params.randomized_share
        ch.chunk_share = len(index) / max(self.book.n_accounts, 1)
        ch.chunk_index = chunk_index
        self._chunks[chunk_index] = ch

    def end_chunk(self, chunk_index: int) -> None:
        """Close the chunk: open spells stay open; its rows are kept for :meth:`tables`."""
        ch = self._chunks.pop(chunk_index)
        open_ = ch.cur_team >= 0
        close_spells(ch, np.flatnonzero(open_), end_day=FAR)
        self._done.append(chunk_arrays(ch))

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
        ms_day = day_number(state.month_start)
        me_day = day_number(state.month_end)
        pos = (
            state.account_index - ch.base
            if ch.contiguous
            else np.searchsorted(ch.index, state.account_index)
        )
        observed = bool(state.observed)

        # 0. what last month's ledger says: payments and promises
        read_ledger(ch, state, pos, m, self.month_start_days)

        # 1. who is worked, by which team
        worked, group, team = worked_teams(ch, state, pos, m, p.placement_months)

        # 2. spells: close what changed team or left, open new ones
        update_spells(ch, state, pos, worked, team, ms_day, self.agent_team, self.agent_level, p)
        w = np.flatnonzero(worked)
        wpos = pos[w]
        work = MonthWork(
            state=state,
            month=m,
            start_day=ms_day,
            end_day=me_day,
            n_days=me_day - ms_day + 1,
            rows=w,
            pos=wpos,
            agent=ch.cur_agent[wpos],
            arm=ch.spell_arm[wpos].astype(np.int64),
            group=group[w],
        )

        # 3. plan the month's actions
        dead_known, death_from = known_deaths(ch, work)
        idle = idle_accounts(work, p.recovery_worked_share)
        restart_low, restart_high = limitation_restarts(ch, work)
        lawsuit_ok = lawsuit_allowed(ch, work, dead_known, restart_low, p.lawsuit_min_balance)
        counts, timeline = default_plan(ch, work, lawsuit_ok, idle, dead_known, p)
        # the seam for other strategies: who is worked, with what (default: unchanged)
        context = PlanContext(
            state=state,
            rows=w,
            group=work.group,
            team=team[w],
            arm=work.arm,
            agent=work.agent,
            randomized=ch.randomized[wpos],
            idle=idle,
            difficulty=ch.spell_difficulty[wpos],
        )
        planned = self.plan(context, counts.copy())
        counts = keep_fixed_plans(planned, counts, work.arm, dead_known, lawsuit_ok)
        # placements with an agency next month (hard cases more often)
        plan_placements(ch, work, counts, dead_known, p.placement_rate)
        # agent capacity: thin contact attempts of overloaded agents
        thin_to_capacity(counts, work.agent, self.agent_capacity * ch.chunk_share, rng)

        # 4. rows: times and outcomes
        rows = draw_rows(
            ch, work, counts, dead_known, timeline if p.small_business_timeline else None, cfg
        )

        # 5. keep normal work inside the rules
        rows, first_dispute, death_from, plans = keep_within_rules(
            ch, rows, work, cfg, death_from, p
        )

        # 6. promises made this month
        rows, _ = make_promises(ch, work, rows, p, self.sim_params)

        # 7. injected violations (violator agents' accounts)
        if p.violation_rate > 0 and observed:
            rows, _ = inject_violations(
                ch,
                work,
                rows,
                self.agent_violator,
                p.violation_rate,
                first_dispute,
                death_from,
                plans,
                restart_high,
            )

        # 8. label every violation by rule (the truth)
        rows = label_violations(ch, rows, wpos, first_dispute, death_from, plans, cfg)

        # 9. effects on this month's payment probability
        mult, pay_day, p_op = contact_effects(ch, work, rows, self.weights, self.agent_skill, p)

        # 10. bookkeeping for the next months
        update_after_month(ch, rows, wpos, me_day, first_dispute, death_from, rng, p.dispute_days)
        if observed:
            record_month(ch, work, rows, mult, p_op, self.agent_accuracy, self.data_end_day)
        ch.tail = tail_rows(rows, wpos, me_day)
        return OperationResponse(odds_multiplier=mult, payment_day=pay_day)

    def response_distribution(self, state: MonthState) -> ResponseDistribution | None:
        """The month's possible responses, for the simulator's point-in-time truth.

        ``params.truth_draws`` chooses how: None (default) in closed form
        (:func:`~recovery.simulate.operation.expectation.expected_response`); a number
        of independent redraws of the month (:meth:`response_draws`, the reference the
        closed form is checked against); 0: None, so the truth uses the realised month
        (it then looks one month ahead). An operation whose :meth:`plan` is overridden
        cannot be followed in closed form and is redrawn
        (:data:`STRATEGY_TRUTH_DRAWS` times) unless ``truth_draws`` says otherwise.

        The operation's state is left untouched either way.

        Parameters
        ----------
        state : MonthState
            The month's state, before :meth:`step`.

        Returns
        -------
        ResponseDistribution or None
        """
        draws = self.params.truth_draws
        if draws == 0:
            return None
        if draws is None and type(self).plan is CollectionOperation.plan:
            return expected_response(self, self._chunks[state.chunk_index], state)
        responses = self.response_draws(state, draws or STRATEGY_TRUTH_DRAWS)
        return ResponseDistribution.from_responses(responses, len(state))

    def response_draws(
        self, state: MonthState, draws: int | None = None
    ) -> list[OperationResponse]:
        """The month's response under ``draws`` independent random draws; nothing kept.

        The reference for the simulator's truth (:meth:`response_distribution`): the
        contacts, promises and new agents of a month are drawn after the month end a
        true probability is for, so ``p_pay_true`` and ``p_cure_true`` average over the
        month's possible responses instead of using the realised one.
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
            Number of draws; default ``params.truth_draws`` (or
            :data:`STRATEGY_TRUTH_DRAWS` when that is None).

        Returns
        -------
        list of OperationResponse
            Odds multipliers and promised payment days only (no rows).
        """
        if draws is None:
            draws = self.params.truth_draws
        draws = STRATEGY_TRUTH_DRAWS if draws is None else int(draws)
        ch = self._chunks[state.chunk_index]
        saved = snapshot(ch)
        own = snapshot(self)
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
                restore(ch, saved)
                restore(self, own)
        finally:
            restore(ch, saved)
            restore(self, own)
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

    def account_flags(self, chunk_index: int) -> dict[str, np.ndarray]:
        """What the collectors know of each account of a running chunk (optional hook).

        Read by an offer desk (:mod:`recovery.simulate.offer_engine`): no offer during a
        dispute or once a death is known; a hardship plan becomes a deferral.

        Parameters
        ----------
        chunk_index : int
            A chunk between :meth:`start_chunk` and :meth:`end_chunk`.

        Returns
        -------
        dict of str to ndarray
            By position in the chunk (copies): ``dispute_until`` (first day contacts
            are allowed again after the latest dispute, days since 1970-01-01; 0
            none), ``death_known`` (bool), ``hardship_from`` / ``hardship_until``
            (the latest hardship plan's first day and first day after; 0 none).
        """
        ch = self._chunks[chunk_index]
        return {
            "dispute_until": ch.dispute_until.copy(),
            "death_known": ch.death_known.copy(),
            "hardship_from": ch.hardship_from.copy(),
            "hardship_until": ch.hardship_until.copy(),
        }

    def chunk_tables(self, chunk_index: int) -> dict[str, pd.DataFrame]:
        """The tables of one finished chunk (bounded memory; optional hook method).

        ``actions``, ``assignments``, ``events`` and the per-account truth tables of
        the chunk; the first call also hands out ``agents``. Tables handed out here
        are not repeated by :meth:`tables`.
        """
        done = [d for d in self._done if d["chunk"] == chunk_index]
        self._done = [d for d in self._done if d["chunk"] != chunk_index]
        frames = self._frames(done[0]) if done else {}
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
        parts = [self._frames(d) for d in sorted(self._done, key=lambda d: d["chunk"])]
        self._done = []
        out: dict[str, pd.DataFrame] = {}
        for name in CHUNK_TABLES:
            frames = [p[name] for p in parts if name in p]
            if frames:
                out[name] = pd.concat(frames, ignore_index=True)
        if not self._agents_given:
            out["agents"] = self._agents_table()
            self._agents_given = True
        out["truth_agents"] = truth_agents_table(
            self.agents, self._uplift_sum, self._effect_sum, self._uplift_n
        )
        out["truth_operation_params"] = operation_params_table(self.params)
        out["truth_contact_effects"] = contact_effects_table()
        return out

    def _agents_table(self) -> pd.DataFrame:
        cols = ["agent_id", "team", "level", "hire_date", "is_agency"]
        return self.agents[cols].copy()

    def _frames(self, c: dict) -> dict[str, pd.DataFrame]:
        """One finished chunk's tables; numbers its actions and sums the agents' truth."""
        agent_ids = self.agents["agent_id"].to_numpy(object)
        frames = chunk_frames(
            c,
            agent_ids,
            self.config.costs.per_action,
            self.month_start_days,
            self.data_end_day,
            self._next_action_id,
        )
        self._next_action_id += len(frames["actions"])
        if c["months"] is not None:
            uplift, own, n = agent_month_sums(c["months"], len(agent_ids))
            self._uplift_sum += uplift
            self._effect_sum += own
            self._uplift_n += n
        return frames
