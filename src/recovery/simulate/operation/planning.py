"""The month's planned work in the simulated operation: policy, plan seam, capacity.

The default escalation policy (:data:`recovery.simulate.contacts.DEFAULT_POLICY`) plans
contact attempts per worked account by policy group and arm; a small-business case's
first month in M1 follows seed 002's timeline. A strategy may change the plan
(:meth:`CollectionOperation.plan <recovery.simulate.operation.CollectionOperation.plan>`,
given a :class:`PlanContext`) within rules it cannot change; overloaded agents' attempts
are then thinned to their capacity, and each attempt gets a time and an outcome drawn
from the borrower's latent type (:func:`draw_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recovery.config import ComplianceConfig
from recovery.docstrings import fill_doc
from recovery.simulate import contacts as ct
from recovery.simulate.hooks import MonthState
from recovery.simulate.operation.params import OperationParams
from recovery.simulate.operation.rows import sort_rows
from recovery.simulate.operation.state import DAY, ChunkState, MonthWork

__all__ = [
    "PlanContext",
    "SMALL_BUSINESS_TIMELINE",
    "idle_accounts",
    "default_plan",
    "small_business_timeline",
    "keep_fixed_plans",
    "thin_to_capacity",
    "draw_rows",
]

#: Seed 002's first days of a small-business delinquency: (channel, how many,
#: day of the month from 0, hour).
SMALL_BUSINESS_TIMELINE = (
    (ct.CALL, 3, (0, 1, 2), 10),
    (ct.VISIT, 1, (3,), 15),
    (ct.GUARANTOR, 1, (3,), 11),
    (ct.NOTICE, 1, (6,), 10),
)


@fill_doc
@dataclass
class PlanContext:
    """The worked accounts of one chunk-month, as given to :meth:`CollectionOperation.plan`.

    Attributes
    ----------
    {{op_state}}
    {{op_worked_rows}}
    {{op_group}}
    team : ndarray of int
        Team code (:data:`recovery.simulate.collectors.TEAMS`).
    {{op_arm}}
    {{op_agent}}
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


@fill_doc
def idle_accounts(work: MonthWork, recovery_worked_share: float) -> np.ndarray:
    """Recovery-book accounts the default rotation leaves alone this month.

    Young charged-off debt (under 12 months) is worked 1.5 times, older 0.7 times
    ``recovery_worked_share``.

    Parameters
    ----------
    {{op_work}}
    recovery_worked_share : float

    Returns
    -------
    ndarray of bool
        Per worked account.
    """
    state, w = work.state, work.rows
    co_months = np.asarray(state.months_since_charge_off)[w]
    worked_share = np.where(co_months < 12, 1.5, 0.7) * recovery_worked_share
    return (work.group == 4) & (state.rng.random(len(w)) >= np.minimum(worked_share, 1.0))


@fill_doc
def default_plan(
    ch: ChunkState,
    work: MonthWork,
    lawsuit_ok: np.ndarray,
    idle: np.ndarray,
    dead_known: np.ndarray,
    params: OperationParams,
) -> tuple[np.ndarray, np.ndarray]:
    """The default policy's planned actions per worked account and channel.

    Nothing for idle accounts and known deaths; a small-business case's first month
    in M1 gets at least the attempts of :data:`SMALL_BUSINESS_TIMELINE`.

    Parameters
    ----------
    {{op_chunk}}
    {{op_work}}
    lawsuit_ok : ndarray of bool
        Where a lawsuit may be planned.
    idle, dead_known : ndarray of bool
        Per worked account.
    params : OperationParams

    Returns
    -------
    (ndarray of int, ndarray of bool)
        Counts, shape (n_worked, len(CHANNELS)), and the accounts on the
        small-business timeline.
    """
    p = params
    state, w, wpos, wgroup, arm = work.state, work.rows, work.pos, work.group, work.arm
    counts = ct.plan_contacts(
        wgroup,
        arm,
        state.has_guarantor[w],
        lawsuit_ok,
        state.rng,
        p.policy,
        p.intensity,
        p.challenger_scale,
    )
    counts[idle | dead_known] = 0
    # seed 002: a small-business case's first month in M1 follows a fixed timeline
    timeline = (
        (ch.spell_start[wpos] == work.start_day)
        & (wgroup == 0)
        & (np.asarray(state.product)[w] == 1)
        & (arm != 0)
        & ~dead_known
    )
    if p.small_business_timeline and timeline.any():
        for channel, k, _, _ in SMALL_BUSINESS_TIMELINE:
            extra = np.where(channel == ct.GUARANTOR, state.has_guarantor[w], True)
            counts[:, channel] = np.where(
                timeline & extra, np.maximum(counts[:, channel], k), counts[:, channel]
            )
    return counts, timeline


def small_business_timeline(
    acc: np.ndarray,
    chan: np.ndarray,
    ts: np.ndarray,
    timeline: np.ndarray,
    ms_s: int,
    cfg: ComplianceConfig,
) -> np.ndarray:
    """Put the first planned calls, visit, guarantor call and notice on seed 002's days.

    Calls on days 1–3, a visit and a call to the (counter-)guarantor on day 4, a
    formal notice on day 7 of the first month a small-business case is worked.
    Rows of one (account, channel) are contiguous in ``acc``/``chan`` order.

    Parameters
    ----------
    acc, chan, ts : ndarray
        Worked account (index), channel and time (seconds) of each planned attempt.
    timeline : ndarray of bool
        Per worked account: its first month in M1 as a small-business case.
    ms_s : int
        Start of the month (seconds since 1970-01-01).
    cfg : ComplianceConfig
        Contact hours (the calls keep to them).

    Returns
    -------
    ndarray of int
        The times, moved onto the timeline's days for those accounts.
    """
    n = len(acc)
    idx = np.arange(n)
    new = np.ones(n, bool)
    new[1:] = (acc[1:] != acc[:-1]) | (chan[1:] != chan[:-1])
    rank = idx - np.maximum.accumulate(np.where(new, idx, 0))
    lo, hi = cfg.contact_hour_start, max(cfg.contact_hour_end - 1, cfg.contact_hour_start)
    ts = ts.copy()
    minute = ts % 3600
    for channel, k, days, hour in SMALL_BUSINESS_TIMELINE:
        h = hour if channel == ct.NOTICE else min(max(hour, lo), hi)
        sel = timeline[acc] & (chan == channel) & (rank < k)
        day = np.asarray(days)[rank[sel]]
        ts[sel] = ms_s + day * DAY + h * 3600 + minute[sel]
    return ts


def keep_fixed_plans(
    planned: np.ndarray,
    counts: np.ndarray,
    arm: np.ndarray,
    dead_known: np.ndarray,
    lawsuit_ok: np.ndarray,
) -> np.ndarray:
    """A strategy's plan within the rules it cannot change.

    The experiment's hold-out and the dead keep the default plan, lawsuits only where
    allowed, placements are decided afterwards (a no-op for the default plan).

    Parameters
    ----------
    planned : array-like of int
        The strategy's plan (reshaped to ``counts``; negative counts become 0).
    counts : ndarray of int, shape (n_worked, len(CHANNELS))
        The default plan.
    arm : ndarray of int
    dead_known, lawsuit_ok : ndarray of bool

    Returns
    -------
    ndarray of int64
    """
    planned = np.asarray(planned, np.int64)
    planned = planned.reshape(counts.shape).clip(0)
    keep = (arm == 0) | dead_known
    planned[keep] = counts[keep]
    planned[:, ct.LAWSUIT] = np.minimum(planned[:, ct.LAWSUIT], lawsuit_ok)
    planned[:, ct.OUTSOURCE] = 0
    return planned


def thin_to_capacity(
    counts: np.ndarray, agent: np.ndarray, capacity: np.ndarray, rng: np.random.Generator
) -> None:
    """Thin the contact attempts of overloaded agents to their capacity (in place).

    Parameters
    ----------
    counts : ndarray of int, shape (n_worked, len(CHANNELS))
    agent : ndarray of int
        Holding agent of each worked account.
    capacity : ndarray of float
        Contact attempts each agent of the roster can make this month (in the chunk).
    rng : numpy.random.Generator
    """
    demand = np.bincount(agent, weights=counts[:, ct.CONTACT].sum(1), minlength=len(capacity))
    keep_p = np.where(demand > capacity, capacity / np.maximum(demand, 1e-9), 1.0)
    if (keep_p < 1).any():
        sub = counts[:, ct.CONTACT]
        counts[:, ct.CONTACT] = rng.binomial(sub, keep_p[agent][:, None])


@fill_doc
def draw_rows(
    ch: ChunkState,
    work: MonthWork,
    counts: np.ndarray,
    dead_known: np.ndarray,
    timeline: np.ndarray | None,
    cfg: ComplianceConfig,
) -> dict:
    """The month's attempts as rows: times within the contact hours and outcomes.

    Parameters
    ----------
    {{op_chunk}}
    {{op_work}}
    counts : ndarray of int, shape (n_worked, len(CHANNELS))
        The planned actions.
    dead_known : ndarray of bool
        Known deaths (an unknown death answers as such).
    timeline : ndarray of bool, optional
        Accounts on :data:`SMALL_BUSINESS_TIMELINE` (None: the timeline is off).
    {{op_cfg}}

    Returns
    -------
    dict of ndarray
        Sorted rows (:func:`recovery.simulate.operation.rows.sort_rows`): ``acc``,
        ``ts``, ``chan``, ``out`` and the flags ``history``, ``injected``, ``bits``.
    """
    state, w, wpos, rng = work.state, work.rows, work.pos, work.state.rng
    ms_s = work.start_day * DAY
    flat = np.repeat(np.arange(counts.size), counts.ravel())
    acc = flat // counts.shape[1]  # index into w
    chan = (flat % counts.shape[1]).astype(np.int8)
    ts = ct.contact_times(
        ms_s, work.n_days, chan, rng, cfg.contact_hour_start, cfg.contact_hour_end
    )
    if timeline is not None and timeline.any():
        ts = small_business_timeline(acc, chan, ts, timeline, ms_s, cfg)
    a_w = w[acc]
    deceased_unknown = state.deceased[a_w] & ~dead_known[acc]
    outcome = ct.draw_outcomes(
        chan,
        work.group[acc],
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
    return sort_rows(rows, wpos)
