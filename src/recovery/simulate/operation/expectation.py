"""The operation's month in expectation: what the simulator's point-in-time truth needs.

``p_pay_true`` / ``p_cure_true`` of month end *m* average over the operation's work in
month *m+1*, which is drawn after *m* (:mod:`recovery.simulate.exact_truth`). Of that
month the truth needs only the distribution, per account, of the odds multiplier and
the promised payment day. :func:`expected_response` computes it from the probabilities
the month is drawn from, without drawing it, and leaves the operation untouched:

1. **Who works the account** (:mod:`.assignments`): the policy group and team, the
   spell — a continuing one keeps its agent and arm; a new one gets an agent whose
   seniority level follows the case's observed difficulty
   (:func:`recovery.simulate.collectors.level_probabilities`; uniform on the
   randomised share, which also draws its arm) — and whether the recovery-book
   rotation leaves it idle.
2. **Planned attempts** (:func:`recovery.simulate.contacts.policy_means`): Poisson
   means per channel, thinned by the agents' capacity (expected demand), and seed
   002's fixed first-month timeline for small-business cases.
3. **The contact rules** by day of the month: an open dispute, a hardship plan or a
   death known from a day on stop (some) attempts; a dispute, a reported death or
   a granted hardship plan *this* month stops the later ones (the first such event,
   by day, from the attempts before it).
4. **Outcomes** (:func:`recovery.simulate.contacts.outcome_probabilities`): Poisson
   splitting makes the counts of each (channel, outcome) independent. A month is calm
   (no ending event or plan) or disturbed, each with its own attempts (a mixture with
   the right mean). The number of conversations (right-party contacts, promises,
   refusals, hardship claims, disputes) is enumerated 0 … :data:`MAX_TALKS` (the last
   one for "or more"); given that number, the summed effect weight — with the agent's
   skill where they talked (a new spell's: the level mixture's) — is represented by
   two points matching its mean and variance; the month's first promise by its day.
5. **The multiplier** of each scenario is exactly the operation's
   (:func:`recovery.simulate.operation.effects.odds_multiplier`): saturating contact
   effect, the agent's skill when they talked, a promise due this month.

Not represented (their effect on the truth is below its tolerance): the count limits
a day and a week (they bind for few attempts), the violations a few agents inject
(about 0.2 % of account-months), and the dependence between the number of
conversations and the timing of the first promise. Checked against the average over
512 redraws of the month in ``benchmarks/bench_truth.py`` (figures in
``docs/simulator.md``).

Examples
--------
>>> from recovery.simulate import simulate_portfolio
>>> from recovery.simulate.operation import CollectionOperation
>>> _, truth = simulate_portfolio(n_accounts=300, months=12, seed=2,
...                               operation=CollectionOperation())
>>> bool(truth.account_months["p_pay_true"].dropna().between(0, 1).all())
True
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit

from recovery.simulate import contacts as ct
from recovery.simulate.collectors import difficulty_score, level_probabilities
from recovery.simulate.hooks import MonthState, ResponseDistribution
from recovery.simulate.operation.effects import odds_multiplier, saturate
from recovery.simulate.operation.planning import SMALL_BUSINESS_TIMELINE
from recovery.simulate.operation.state import ChunkState, day_number

__all__ = ["MAX_TALKS", "expected_response"]

#: Conversations in a month enumerated one by one; the last count stands for "or more".
MAX_TALKS = 6
_TALKED = np.flatnonzero(ct.TALKED)
_ENDS_CONTACT = (ct.DISPUTE, ct.DECEASED)  # no further action this month


def expected_response(operation, ch: ChunkState, state: MonthState) -> ResponseDistribution:
    """The distribution of one chunk-month's odds multiplier and payment day.

    Parameters
    ----------
    operation : CollectionOperation
        The operation (roster, parameters), read only.
    ch : ChunkState
        The chunk's bookkeeping at the start of the month, read only.
    state : MonthState
        The month's state, as :meth:`CollectionOperation.step` receives it.

    Returns
    -------
    ResponseDistribution
        Scenarios per account of ``state``; accounts nobody works get the neutral
        response.
    """
    n = len(state)
    if n == 0:
        return ResponseDistribution.build(0, [], [], [], [])
    month = _Month(operation, ch, state)
    if not len(month.w):
        return ResponseDistribution.build(n, [], [], [], [])
    weight, effect, kappa, day = month.inactive()
    for arm in (1, 2):
        sel = np.flatnonzero(month.arm_weight[:, arm] * month.p_active > 0)
        if not len(sel):
            continue
        part = month.active(sel, arm)
        weight, effect, kappa, day = (
            np.concatenate([a, b], axis=1)
            for a, b in zip((weight, effect, kappa, day), part, strict=True)
        )
    keep = weight.ravel() > 0
    rows = np.repeat(np.arange(len(month.w)), weight.shape[1])[keep]  # grouped, ascending
    effect = effect.ravel()[keep]
    # the multiplier of every scenario, as the operation computes it
    k, _ = odds_multiplier(
        np.zeros(len(effect)), effect, month.h0[rows], kappa.ravel()[keep], month.p.effect_cap
    )
    return ResponseDistribution(
        month.w[rows], weight.ravel()[keep], np.log(k), day.ravel()[keep].astype(np.int64)
    )


class _Month:
    """One chunk-month of the operation, read from its bookkeeping without drawing."""

    def __init__(self, op, ch: ChunkState, state: MonthState) -> None:
        p = op.params
        self.op, self.ch, self.state, self.p = op, ch, state, p
        m = state.month_index
        self.ms_day = day_number(state.month_start)
        me_day = day_number(state.month_end)
        n_days = me_day - self.ms_day + 1
        self.nd = max(n_days - 1, 1)  # attempts fall on the month's days but its last
        pos = (
            state.account_index - ch.base
            if ch.contiguous
            else np.searchsorted(ch.index, state.account_index)
        )
        # 1. worked accounts, policy group and team (as assignments.worked_teams)
        status = np.asarray(state.status)
        charged = status == 2
        worked = ((status == 0) & (np.asarray(state.dpd) > 0)) | charged
        group = np.where(charged, 4, np.clip(np.asarray(state.bucket, np.int64) - 1, 0, 3))
        placed = charged & ((ch.placed_until[pos] > m) | ch.place_next[pos])
        group = np.where(placed, 5, group)
        team = np.select([group <= 1, group <= 3, group == 4], [0, 1, 2], 3)
        w = np.flatnonzero(worked)
        self.w = w
        wpos = pos[w]
        self.wpos = wpos
        self.g = group[w]
        self.team = team[w]
        self.new = ch.cur_team[wpos] != self.team
        self.col = np.where(self.g <= 1, 0, 1)  # early / late skill of the agent
        s = state
        self.has_guarantor = np.asarray(s.has_guarantor, bool)[w]
        notice = np.asarray(s.death_notice_day, np.int64)[w]
        self.dead_known = ch.death_known[wpos] | ((notice >= 0) & (notice < self.ms_day))
        self.notice_in = notice >= self.ms_day
        self.notice = notice
        self.h0 = np.clip(np.asarray(s.p_pay_base, float)[w], 0.0, 1.0)
        self.unit = np.log(np.maximum(np.asarray(s.contact_response, float)[w], 1e-6))
        self.unit = self.unit * np.asarray(p.bucket_effect)[self.g]
        # a promise from an earlier month due now; new promises only without one
        prom = ch.prom_day[wpos]
        pending = (prom >= self.ms_day) & (prom <= me_day)
        self.kappa_pending = np.where(pending, ch.prom_keep[wpos], 0.0)
        self.day_pending = np.where(pending, prom - self.ms_day + 1, 0)
        self.promise_allowed = prom < 0
        keep = expit(
            logit(np.clip(np.asarray(s.promise_keep, float)[w], 1e-4, 1 - 1e-4))
            + p.promise_ability * np.asarray(s.ability, float)[w]
        )
        self.kappa_new = np.where(np.asarray(s.fraud)[w] | np.asarray(s.deceased)[w], 0.0, keep)
        self.outcomes = ct.outcome_probabilities(
            self.g,
            np.asarray(s.archetype)[w],
            np.asarray(s.reachability, float)[w],
            np.asarray(s.deceased, bool)[w] & ~self.dead_known,
            np.asarray(s.shock_active, bool)[w],
            np.asarray(s.fraud, bool)[w],
            self.promise_allowed,
        )
        self._aggregates()
        self._arms()
        self._active(me_day)
        self._skill()
        self._days()
        self._capacity()

    # ------------------------------------------------------------------ structure
    def _arms(self) -> None:
        """Arm of the spell: the continuing one, or drawn for a new randomised spell."""
        p, ch = self.p, self.ch
        aw = np.asarray(p.arm_weights, float)
        aw = aw / aw.sum()
        randomized = ch.randomized[self.wpos]
        arm = np.zeros((len(self.w), 3))
        cont = ~self.new
        arm[cont, ch.spell_arm[self.wpos[cont]].astype(np.int64)] = 1.0
        arm[self.new & randomized] = aw
        arm[self.new & ~randomized, 1] = 1.0
        self.arm_weight = arm
        self.randomized = randomized

    def _active(self, me_day: int) -> None:
        """P(the account gets any planned action) given a contact arm; lawsuits allowed."""
        p, ch, s, w = self.p, self.ch, self.state, self.w
        co_months = np.asarray(s.months_since_charge_off)[w]
        share = np.minimum(np.where(co_months < 12, 1.5, 0.7) * p.recovery_worked_share, 1.0)
        self.p_active = np.where(self.g == 4, share, 1.0) * ~self.dead_known
        first_due = np.asarray(s.first_due_day, np.int64)[w]
        posted = np.asarray(s.last_posted_day, np.int64)[w]
        restart_low = np.maximum.reduce([first_due, posted, ch.restart[self.wpos]])
        balance = np.asarray(s.balance, float)[w]
        secured = np.asarray(s.has_collateral, bool)[w] | self.has_guarantor
        self.lawsuit_ok = (
            (self.g >= 3)
            & ~ch.ever_sued[self.wpos]
            & ~self.dead_known
            & (ch.dispute_until[self.wpos] <= self.ms_day)
            & (secured | (balance >= p.lawsuit_min_balance))
            & (me_day + 1 < restart_low + 1095)
        )
        self.timeline = (
            p.small_business_timeline
            & self.new
            & (self.g == 0)
            & (np.asarray(s.product)[w] == 1)
            & ~self.dead_known
        )

    def _skill(self) -> None:
        """Mean and variance of the skill of the agent holding each account."""
        op, ch = self.op, self.ch
        n = len(self.w)
        self.skill_mean = np.zeros(n)
        self.skill_var = np.zeros(n)
        cont = ~self.new
        agent = ch.cur_agent[self.wpos]
        self.skill_mean[cont] = op.agent_skill[agent[cont], self.col[cont]]
        new = np.flatnonzero(self.new)
        self.level_p = np.zeros((n, 3))
        if not len(new):
            return
        s = self.state
        broken = ch.broken[self.wpos[new]].astype(float)
        if s.month_index > 0:  # promises due last month, as read_ledger counts them
            due = ch.check_row[self.wpos[new]] >= 0
            paid = np.asarray(s.paid_last_month, float)[self.w[new]] > 0
            day = np.asarray(s.last_payment_day, np.int64)[self.w[new]]
            broken = broken + (due & ~(paid & (day == ch.check_dom[self.wpos[new]])))
        score = difficulty_score(
            np.asarray(s.dpd)[self.w[new]],
            np.asarray(s.balance, float)[self.w[new]],
            ch.bureau[self.wpos[new]],
            broken,
        )
        self.level_p[new] = level_probabilities(
            self.team[new],
            score,
            self.randomized[new],
            op.agent_team,
            op.agent_level,
            self.p.matching,
        )
        m1 = np.zeros((len(new), 3))
        m2 = np.zeros((len(new), 3))
        for t in np.unique(self.team[new]):
            for c in (0, 1):
                rows = np.flatnonzero((self.team[new] == t) & (self.col[new] == c))
                for lv in (1, 2, 3):
                    sk = op.agent_skill[(op.agent_team == t) & (op.agent_level == lv), c]
                    if len(sk):
                        m1[rows, lv - 1] = sk.mean()
                        m2[rows, lv - 1] = (sk**2).mean()
        lp = self.level_p[new]
        mean = (lp * m1).sum(1)
        self.skill_mean[new] = mean
        self.skill_var[new] = np.maximum((lp * m2).sum(1) - mean**2, 0.0)

    def _days(self) -> None:
        """Which days of the month allow attempts: open disputes, hardship plans, deaths."""
        ch, wpos = self.ch, self.wpos
        day = self.ms_day + np.arange(self.nd)[None, :]
        allowed = day >= ch.dispute_until[wpos][:, None]
        cut = np.where(self.notice_in, self.notice, np.iinfo(np.int64).max)
        allowed &= day < cut[:, None]  # a death notified this month stops attempts
        plan = (day >= ch.hardship_from[wpos][:, None]) & (day < ch.hardship_until[wpos][:, None])
        self.allowed = allowed
        self.allowed_pressure = allowed & ~plan
        self.plan_running = ch.hardship_until[wpos] > self.ms_day

    def _capacity(self) -> None:
        """Share of contact attempts each account keeps after its agent's capacity."""
        op, ch = self.op, self.ch
        n_agents = len(op.agent_team)
        contacts = np.zeros(len(self.w))
        for arm in (1, 2):
            mean, _ = self._means(np.arange(len(self.w)), arm)
            floor = self._floors(np.arange(len(self.w)), mean)
            per = (mean[:, ct.CONTACT].sum(1) + floor[:, ct.CONTACT].sum(1)) * self.p_active
            contacts += self.arm_weight[:, arm] * per
        demand = np.zeros(n_agents)
        cont = ~self.new
        agents = ch.cur_agent[self.wpos]
        np.add.at(demand, agents[cont], contacts[cont])
        members = []
        for t in range(4):
            for lv in (1, 2, 3):
                mem = np.flatnonzero((op.agent_team == t) & (op.agent_level == lv))
                members.append((t, lv, mem))
                sel = self.new & (self.team == t)
                if len(mem) and sel.any():
                    demand[mem] += (contacts[sel] * self.level_p[sel, lv - 1]).sum() / len(mem)
        capacity = op.agent_capacity * ch.chunk_share
        keep_agent = np.where(demand > capacity, capacity / np.maximum(demand, 1e-9), 1.0)
        keep = np.ones(len(self.w))
        keep[cont] = keep_agent[agents[cont]]
        new_keep = np.zeros(len(self.w))
        for t, lv, mem in members:
            if len(mem):
                sel = self.new & (self.team == t)
                new_keep[sel] += self.level_p[sel, lv - 1] * keep_agent[mem].mean()
        keep[self.new] = new_keep[self.new]
        self.keep = keep

    def _means(self, sel: np.ndarray, arm: int) -> tuple[np.ndarray, np.ndarray]:
        p = self.p
        return ct.policy_means(
            self.g[sel],
            np.full(len(sel), arm),
            self.has_guarantor[sel],
            self.lawsuit_ok[sel],
            p.policy,
            p.intensity,
            p.challenger_scale,
        )

    def _floors(self, sel: np.ndarray, mean: np.ndarray) -> np.ndarray:
        """Extra attempts the timeline's minimum counts add: E[max(N, k)] - E[N]."""
        extra = np.zeros_like(mean)
        on = self.timeline[sel]
        if not on.any():
            return extra
        for channel, k, _, _ in SMALL_BUSINESS_TIMELINE:
            lam = mean[:, channel]
            pmf = np.exp(-lam)
            short = k * pmf
            for j in range(1, k):
                pmf = pmf * lam / j
                short = short + (k - j) * pmf
            ok = on & (self.has_guarantor[sel] if channel == ct.GUARANTOR else True)
            extra[:, channel] = np.where(ok, short, 0.0)
        return extra

    # ------------------------------------------------------------------ scenarios
    def _aggregates(self) -> None:
        """Per account and channel: what one attempt brings, in a calm or any month."""
        P = self.outcomes
        W = self.op.weights
        talked = ct.TALKED[None, :]
        end = P[:, :, list(_ENDS_CONTACT)].sum(2)
        self.end_p = end
        self.hard_p = P[:, :, ct.HARDSHIP]
        self.promise_p = P[:, :, ct.PROMISE]
        any_month = {
            "talk": np.einsum("nco,co->nc", P, np.broadcast_to(ct.TALKED * 1.0, W.shape)),
            "w1": np.einsum("nco,co->nc", P, W * talked),
            "w2": np.einsum("nco,co->nc", P, W**2 * talked),
            "rest1": np.einsum("nco,co->nc", P, W * ~talked),
            "rest2": np.einsum("nco,co->nc", P, W**2 * ~talked),
        }
        # a calm month has no ending outcome (their weights are 0): the rest rescaled
        calm = {k: v / np.maximum(1.0 - end, 1e-12) for k, v in any_month.items()}
        calm["talk"] = (any_month["talk"] - P[:, :, ct.DISPUTE]) / np.maximum(1.0 - end, 1e-12)
        self.per_attempt = {"any": any_month, "calm": calm}

    def inactive(self):
        """Scenario columns of the month without planned actions (one column)."""
        weight = self.arm_weight[:, 0] + (1 - self.arm_weight[:, 0]) * (1 - self.p_active)
        zeros = np.zeros(len(self.w))
        return (
            weight[:, None],
            zeros[:, None],
            self.kappa_pending[:, None],
            self.day_pending[:, None],
        )

    def active(self, sel: np.ndarray, arm: int):
        """Scenario columns of the month worked with contact arm ``arm`` (all accounts;
        weight 0 outside ``sel``): (weight, effect, kappa, day), each (n, columns)."""
        p, nd = self.p, self.nd
        mean, lawsuit = self._means(sel, arm)
        floor = self._floors(sel, mean)
        keep = self.keep[sel]
        timeline = self.timeline[sel]
        # streams: Poisson attempts spread over the allowed days; the timeline's first
        # attempts of a channel move to its fixed days (slots)
        stream = mean.copy()
        slots = []
        for channel, k, days, _ in SMALL_BUSINESS_TIMELINE:
            ok = timeline & (self.has_guarantor[sel] if channel == ct.GUARANTOR else True)
            moved = np.maximum(mean[:, channel] + floor[:, channel] - k, 0.0)
            stream[:, channel] = np.where(ok, moved, stream[:, channel])
            slots += [(channel, d, ok) for d in days]
        stream[:, ct.LAWSUIT] = lawsuit
        stream[:, ct.CONTACT] *= keep[:, None]
        # two patterns of days: all attempts, or pressure attempts (calls, visits,
        # guarantor contacts) that a hardship plan running from before stops
        allowed = self.allowed[sel].astype(float)
        allowed_p = self.allowed_pressure[sel].astype(float)
        press = ct.PRESSURE

        def per_day(per_channel):
            """Per day: Σ_channels stream × per_channel, over the allowed days."""
            a = (stream[:, ~press] * per_channel[:, ~press]).sum(1)
            b = (stream[:, press] * per_channel[:, press]).sum(1)
            return (a[:, None] * allowed, b[:, None] * allowed_p)

        end_p, hard_p = self.end_p[sel], self.hard_p[sel]
        hard_p = hard_p * ~self.plan_running[sel][:, None]
        # slot attempts that can happen (before this month's events)
        there = []
        for channel, d, ok in slots:
            on_day = (allowed_p if press[channel] else allowed)[:, d]
            there.append(ok * on_day * (keep if ct.CONTACT[channel] else 1.0))
        # this month's first ending event (dispute, reported death) and first plan,
        # by day: hazards of the streams (half of a day's own) and of the slots
        lam_end = sum(per_day(end_p)) / nd
        lam_hard = sum(per_day(hard_p)) / nd
        for (channel, d, _), th in zip(slots, there, strict=True):
            lam_end[:, d] -= np.log1p(-np.minimum(th * end_p[:, channel], 1 - 1e-12))
            lam_hard[:, d] -= np.log1p(-np.minimum(th * hard_p[:, channel], 1 - 1e-12))
        no_end = np.exp(-_before(lam_end))  # P(no ending event before day k)
        no_plan = np.exp(-_before(lam_hard * no_end))
        share = p.hardship_plan_share
        s_plan = 1.0 - share * (1.0 - no_plan)  # pressure attempts survive a plan
        base = no_end * np.exp(-0.5 * lam_end)
        on = np.where(
            press[None, :],
            (allowed_p * base * s_plan).mean(1)[:, None],
            (allowed * base).mean(1)[:, None],
        )
        mu = stream * on  # expected attempts per channel (streams)
        presence = [
            th * no_end[:, d] * (s_plan[:, d] if press[c] else 1.0)
            for (c, d, _), th in zip(slots, there, strict=True)
        ]
        last_end = no_end[:, -1] * np.exp(-lam_end[:, -1])
        last_plan = no_plan[:, -1] * np.exp(-lam_hard[:, -1] * last_end)
        p_calm = last_end * (1.0 - share * (1.0 - last_plan))
        # a calm month has every allowed attempt; a disturbed one the rest of the mean
        full = stream * np.where(
            press[None, :], allowed_p.mean(1)[:, None], allowed.mean(1)[:, None]
        )
        mu_calm = np.minimum(full, mu / np.maximum(p_calm, 1e-12)[:, None])
        mu_hit = np.maximum(mu - p_calm[:, None] * mu_calm, 0.0)
        mu_hit = mu_hit / np.maximum(1 - p_calm, 1e-12)[:, None]
        pres_calm = [
            np.minimum(th, pr / np.maximum(p_calm, 1e-12))
            for th, pr in zip(there, presence, strict=True)
        ]
        pres_hit = [
            np.clip((pr - p_calm * pc) / np.maximum(1 - p_calm, 1e-12), 0.0, 1.0)
            for pr, pc in zip(presence, pres_calm, strict=True)
        ]
        calm = self._conversations(sel, mu_calm, slots, pres_calm, "calm")
        hit = self._conversations(sel, mu_hit, slots, pres_hit, "any")
        n_talk = p_calm[:, None] * calm["pmf"] + (1 - p_calm)[:, None] * hit["pmf"]
        post = p_calm[:, None] * calm["pmf"] / np.maximum(n_talk, 1e-300)  # P(calm | count)
        # the first promise of the month: made, due this month, its day
        promise_p = self.promise_p[sel]
        other, pressure = per_day(promise_p)
        lam_promise = (other + pressure * s_plan) * base / nd
        mu_talk = (mu * self.per_attempt["any"]["talk"][sel]).sum(1)
        for (channel, d, _), pr in zip(slots, presence, strict=True):
            po = pr * promise_p[:, channel]
            lam_promise[:, d] -= np.log1p(-np.minimum(po, 1 - 1e-12))
            mu_talk = mu_talk + pr * self.per_attempt["any"]["talk"][sel, channel]
        first = np.exp(-_before(lam_promise)) * -np.expm1(-lam_promise)
        made = first.sum(1)
        lag = np.arange(p.promise_days[0], p.promise_days[1] + 1)
        dom = np.arange(nd)[:, None] + 1 + lag[None, :]
        due = first @ (dom <= 28).mean(1)
        due_dom = first @ (np.where(dom <= 28, np.maximum(dom, 3), 0).sum(1) / len(lag))
        due_day = np.clip(np.rint(due_dom / np.maximum(due, 1e-12)), 3, 28).astype(np.int64)
        mu_promise = lam_promise.sum(1)
        share_promise = np.where(mu_talk > 0, mu_promise / np.maximum(mu_talk, 1e-12), 0.0)
        due_given_made = np.where(made > 0, due / np.maximum(made, 1e-12), 0.0)
        share_promise = np.clip(share_promise, 0.0, 1.0) * self.promise_allowed[sel]
        # scenario columns: per count of conversations, two points of the effect
        weight0 = self.arm_weight[sel, arm] * self.p_active[sel]
        unit, cap = self.unit[sel], p.effect_cap
        s_mean, s_var = self.skill_mean[sel], self.skill_var[sel]
        kp, dp, kn = self.kappa_pending[sel], self.day_pending[sel], self.kappa_new[sel]
        # the summed effect weight given the count: two points matching its mean and
        # variance (calm and disturbed months mixed by how likely each gave the count)
        count, count_var = _mixed(post, calm, hit, "count")
        talk_w, talk_var = _mixed(post, calm, hit, "talk_w")
        rest, rest_var = _mixed(post, calm, hit, "rest")
        (r_lo, w_lo), (r_hi, w_hi) = _two_points(
            count * talk_w + rest, count * talk_var + rest_var + count_var * talk_w**2
        )
        e_lo = saturate(r_lo * unit[:, None], cap)
        e_hi = saturate(r_hi * unit[:, None], cap)
        # with a conversation the agent's skill shows: the two points widened by its spread
        e_mean = (w_lo * e_lo + w_hi * e_hi + s_mean[:, None])[:, 1:]
        e_sd = np.sqrt(w_lo * w_hi * (e_hi - e_lo) ** 2 + s_var[:, None])[:, 1:]
        points = ((e_mean - e_sd, 0.5), (e_mean + e_sd, 0.5))
        q = (1 - (1 - share_promise[:, None]) ** count[:, 1:]) * due_given_made[:, None]
        base = weight0[:, None] * n_talk
        talk = base[:, 1:]
        ones = np.ones(MAX_TALKS)
        kn_, kp_ = kn[:, None] * ones, kp[:, None] * ones
        dn_, dp_ = due_day[:, None] * ones, dp[:, None] * ones
        w_cols = [base[:, :1] * w_lo[:, :1], base[:, :1] * w_hi[:, :1]]
        e_cols = [e_lo[:, :1], e_hi[:, :1]]
        k_cols = [kp[:, None], kp[:, None]]
        d_cols = [dp[:, None], dp[:, None]]
        for e, pw in points:
            w_cols += [talk * pw * q, talk * pw * (1 - q)]
            e_cols += [e, e]
            k_cols += [kn_, kp_]
            d_cols += [dn_, dp_]
        weight = np.zeros((len(self.w), sum(c.shape[1] for c in w_cols)))
        effect, kappa = np.zeros_like(weight), np.zeros_like(weight)
        day = np.zeros(weight.shape, np.int64)
        weight[sel] = np.concatenate(w_cols, axis=1)
        effect[sel] = np.concatenate(e_cols, axis=1)
        kappa[sel] = np.concatenate(k_cols, axis=1)
        day[sel] = np.concatenate(d_cols, axis=1)
        return weight, effect, kappa, day

    def _conversations(self, sel, mu, slots, presence, kind) -> dict:
        """Conversations and effect weights of a calm or any month (streams + slots).

        Returns a dict: ``pmf`` of the number of conversations (0 … MAX_TALKS-1 and "or
        more"), per count its mean and variance (``count``, ``count_var``), the mean and
        variance of one conversation's weight (``talk_w``, ``talk_var``) and of the
        other attempts' summed weight (``rest``, ``rest_var``).
        """
        a = {k: v[sel] for k, v in self.per_attempt[kind].items()}
        mu_t = (mu * a["talk"]).sum(1)
        w1 = (mu * a["w1"]).sum(1)
        w2 = (mu * a["w2"]).sum(1)
        rest = (mu * a["rest1"]).sum(1)
        rest_var = (mu * a["rest2"]).sum(1)
        pmf = _poisson_pmf(mu_t, MAX_TALKS)
        tail_mean, tail_var = _poisson_tail(mu_t, pmf)
        n_fixed = np.zeros(len(sel))
        for (channel, _, ok), pres in zip(slots, presence, strict=True):
            if not ok.any():
                continue
            t = pres * a["talk"][:, channel]
            pmf = _add_bernoulli(pmf, t)
            n_fixed = n_fixed + t
            w1 = w1 + pres * a["w1"][:, channel]
            w2 = w2 + pres * a["w2"][:, channel]
            m = pres * a["rest1"][:, channel]
            rest = rest + m
            rest_var = rest_var + pres * a["rest2"][:, channel] - m**2
        total = mu_t + n_fixed
        talk_w = np.where(total > 0, w1 / np.maximum(total, 1e-12), 0.0)
        talk_var = np.where(total > 0, w2 / np.maximum(total, 1e-12), 0.0) - talk_w**2
        count = np.tile(np.arange(MAX_TALKS + 1, dtype=float), (len(sel), 1))
        count[:, -1] = tail_mean + n_fixed  # "or more": the streams' tail and the slots
        count_var = np.zeros_like(count)
        count_var[:, -1] = tail_var
        return {
            "pmf": pmf,
            "count": count,
            "count_var": count_var,
            "talk_w": talk_w,
            "talk_w_var": np.maximum(talk_var, 0.0),
            "rest": rest,
            "rest_var": np.maximum(rest_var, 0.0),
        }


def _before(hazard: np.ndarray) -> np.ndarray:
    """Cumulative hazard of the days before each day (0 on the first)."""
    out = np.zeros_like(hazard)
    np.cumsum(hazard[:, :-1], axis=1, out=out[:, 1:])
    return out


def _two_points(mean: np.ndarray, var: np.ndarray):
    """Two points with probabilities matching a non-negative variable's mean and variance.

    ``mean ± sd`` with equal weights when ``sd <= mean``, else 0 and
    ``(mean² + var) / mean`` (a spread-out variable is mostly near 0).
    """
    var = np.maximum(var, 0.0)
    sd = np.sqrt(var)
    narrow = sd <= mean
    second = mean**2 + var
    zero_w = np.where(second > 0, var / np.maximum(second, 1e-300), 0.5)
    high = np.where(mean > 0, second / np.maximum(mean, 1e-300), 0.0)
    return (
        (np.where(narrow, mean - sd, 0.0), np.where(narrow, 0.5, zero_w)),
        (np.where(narrow, mean + sd, high), np.where(narrow, 0.5, 1.0 - zero_w)),
    )


def _mixed(p: np.ndarray, a: dict, b: dict, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of ``key`` over a two-part mixture (weight ``p`` on ``a``).

    ``a[key]`` / ``a[key + "_var"]``: the part's mean and variance, per account (1-d) or
    per account and count (2-d, like ``p``).
    """
    shape = p.shape
    ma, va = np.broadcast_to(_col(a[key]), shape), np.broadcast_to(_col(a[key + "_var"]), shape)
    mb, vb = np.broadcast_to(_col(b[key]), shape), np.broadcast_to(_col(b[key + "_var"]), shape)
    mean = p * ma + (1 - p) * mb
    second = p * (va + ma**2) + (1 - p) * (vb + mb**2)
    return mean, np.maximum(second - mean**2, 0.0)


def _col(x: np.ndarray) -> np.ndarray:
    return x[:, None] if x.ndim == 1 else x


def _poisson_pmf(mu: np.ndarray, top: int) -> np.ndarray:
    """P(N = 0 … top-1) and P(N >= top) of Poisson(mu), shape (n, top + 1)."""
    pmf = np.zeros((len(mu), top + 1))
    term = np.exp(-mu)
    for j in range(top):
        pmf[:, j] = term
        term = term * mu / (j + 1)
    pmf[:, top] = np.maximum(1.0 - pmf[:, :top].sum(1), 0.0)
    return pmf


def _add_bernoulli(pmf: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The count distribution ``pmf`` (last column: that count or more) plus a Bernoulli."""
    shifted = np.zeros_like(pmf)
    shifted[:, 1:] = pmf[:, :-1]
    shifted[:, -1] += pmf[:, -1]
    return pmf * (1 - p)[:, None] + shifted * p[:, None]


def _poisson_tail(mu: np.ndarray, pmf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of Poisson(mu) given N >= top (``pmf`` from :func:`_poisson_pmf`).

    Uses E[N 1(N >= k)] = mu P(N >= k-1) and E[N(N-1) 1(N >= k)] = mu² P(N >= k-2).
    """
    top = pmf.shape[1] - 1
    tail = pmf[:, top]
    at_least_1 = tail + pmf[:, top - 1]  # P(N >= top-1)
    at_least_2 = at_least_1 + pmf[:, top - 2]
    safe = np.maximum(tail, 1e-300)
    mean = np.where(tail > 1e-12, mu * at_least_1 / safe, float(top))
    second = np.where(tail > 1e-12, (mu**2 * at_least_2 + mu * at_least_1) / safe, float(top**2))
    return mean, np.maximum(second - mean**2, 0.0)
