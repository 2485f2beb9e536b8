"""Who works which account: teams, assignment spells, agency placements, the experiment.

M1–M2 cases go to the early team, M3–M6 to the late team, charged-off debt to the
legal team, and part of the recovery book is placed with outside agencies for a few
months. An account keeps its agent for a **spell**, until it changes team or leaves
the worked book. Agents are matched to cases by an observed difficulty score
(:func:`recovery.simulate.collectors.assign_agents`), except on the **randomised
share** of accounts, whose spells get a uniformly drawn agent and a random arm of the
experiment (``hold_out``, ``champion``, ``challenger``).

Examples
--------
>>> import numpy as np
>>> u = account_uniform(7, np.arange(5))
>>> bool(((u >= 0) & (u < 1)).all()), bool((account_uniform(7, np.arange(5)) == u).all())
(True, True)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recovery.docstrings import fill_doc
from recovery.simulate import contacts as ct
from recovery.simulate.collectors import assign_agents, case_difficulty
from recovery.simulate.hooks import MonthState
from recovery.simulate.operation.params import OperationParams
from recovery.simulate.operation.state import NONE, ChunkState, MonthWork

__all__ = [
    "account_uniform",
    "worked_teams",
    "update_spells",
    "customer_agents",
    "close_spells",
    "plan_placements",
]


def account_uniform(seed: int, index: np.ndarray) -> np.ndarray:
    """A uniform number per account from (seed, account index) alone (splitmix64 hash).

    Membership of the randomised share depends on the seed and the account only, not
    on the chunking.

    Parameters
    ----------
    seed : int
    index : ndarray of int
        Account indices in the whole book.

    Returns
    -------
    ndarray of float
        In [0, 1).
    """
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


@fill_doc
def worked_teams(
    ch: ChunkState, state: MonthState, pos: np.ndarray, m: int, placement_months: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which live accounts are worked this month, their policy group and team.

    Agency placements decided last month start now (and last ``placement_months``).

    Parameters
    ----------
    {{op_chunk}}
    {{op_state}}
    {{op_pos}}
    m : int
        Month index.
    placement_months : int

    Returns
    -------
    (ndarray of bool, ndarray of int, ndarray of int)
        Worked (delinquent or charged off), policy group
        (:data:`recovery.simulate.contacts.GROUPS`) and team
        (:data:`recovery.simulate.collectors.TEAMS`) of every account of ``state``.
    """
    status = np.asarray(state.status)
    is_open = status == 0
    charged = status == 2
    worked = (is_open & (state.dpd > 0)) | charged
    bucket = np.asarray(state.bucket, np.int64)
    group = np.where(charged, 4, np.clip(bucket - 1, 0, 3))
    placed = charged & (ch.placed_until[pos] > m)
    starting = charged & ch.place_next[pos]
    ch.placed_until[pos[starting]] = m + placement_months
    ch.place_next[pos] = False
    placed |= starting
    group = np.where(placed, 5, group)
    team = np.select([group <= 1, group <= 3, group == 4], [0, 1, 2], 3)
    return worked, group, team


@fill_doc
def update_spells(
    ch: ChunkState,
    state: MonthState,
    pos: np.ndarray,
    worked: np.ndarray,
    team: np.ndarray,
    ms_day: int,
    agent_team: np.ndarray,
    agent_level: np.ndarray,
    params: OperationParams,
) -> None:
    """Close the spells of accounts that changed team or left, open the new ones.

    A new spell gets an agent of its team matched to the case's observed difficulty
    (a uniformly drawn one on the randomised share, which also draws an arm of the
    experiment; the others are champions).

    Parameters
    ----------
    {{op_chunk}}
    {{op_state}}
    {{op_pos}}
    worked, team : ndarray
        From :func:`worked_teams`.
    ms_day : int
        First day of the month (days since 1970-01-01): a new spell's start.
    agent_team, agent_level : ndarray of int
        Team code and seniority level of each agent of the roster.
    params : OperationParams
        ``matching`` and ``arm_weights``.
    """
    present = np.zeros(ch.n, bool)
    present[pos] = True
    gone = np.flatnonzero((ch.cur_team >= 0) & ~present)
    changed = (ch.cur_team[pos] >= 0) & (~worked | (ch.cur_team[pos] != team))
    close_spells(ch, np.concatenate([gone, pos[changed]]), end_day=ms_day - 1)
    new = worked & (ch.cur_team[pos] < 0)
    if not new.any():
        return
    rng = state.rng
    idx = np.flatnonzero(new)
    npos = pos[idx]
    difficulty = case_difficulty(
        state.dpd[idx], state.balance[idx], ch.bureau[npos], ch.broken[npos], rng
    )
    randomized = ch.randomized[npos]
    chosen = assign_agents(
        team[idx], difficulty, randomized, agent_team, agent_level, rng, params.matching
    )
    if params.one_agent_per_customer and ch.multi_loan:
        chosen = customer_agents(ch, npos, team[idx], chosen, randomized)
    w = np.asarray(params.arm_weights, float)
    arm = np.where(randomized, rng.choice(3, size=len(idx), p=w / w.sum()), 1)
    ch.cur_agent[npos] = chosen
    ch.cur_team[npos] = team[idx]
    ch.spell_start[npos] = ms_day
    ch.spell_arm[npos] = arm
    ch.spell_difficulty[npos] = difficulty


@fill_doc
def customer_agents(
    ch: ChunkState,
    npos: np.ndarray,
    team: np.ndarray,
    chosen: np.ndarray,
    randomized: np.ndarray,
) -> np.ndarray:
    """One agent per customer and team: the agents of a month's new cases, revised.

    A new case whose customer already has a loan worked in the same team goes to that
    loan's agent; new cases of one customer and team share the agent chosen for the
    first of them. Cases of the randomised share keep their draw (the experiment needs
    it). No random draw is made, so a book without multi-loan customers is unchanged.

    Parameters
    ----------
    {{op_chunk}}
    npos : ndarray of int
        Chunk positions of the new cases (their spells not yet open).
    team : ndarray of int
        Team code of each new case.
    chosen : ndarray of int
        Agent drawn for each by :func:`recovery.simulate.collectors.assign_agents`.
    randomized : ndarray of bool
        The case belongs to the randomised share.

    Returns
    -------
    ndarray of int64
        Agent of each new case.

    Examples
    --------
    >>> from recovery.simulate.operation.state import ChunkState
    >>> ch = ChunkState(4)
    >>> ch.customer = np.array([0, 0, 1, 0])
    >>> ch.cur_team[3], ch.cur_agent[3] = 0, 7  # the customer's loan 3: early, agent 7
    >>> customer_agents(ch, np.array([0, 1, 2]), np.array([0, 1, 1]),
    ...                 np.array([5, 6, 8]), np.zeros(3, bool)).tolist()
    [7, 6, 8]
    """
    keep = ~np.asarray(randomized, bool)
    width = 8  # more than the number of teams
    held = np.flatnonzero(ch.cur_team >= 0)
    known = pd.Series(ch.cur_agent[held], index=ch.customer[held] * width + ch.cur_team[held])
    key = ch.customer[npos] * width + team
    first = pd.Series(chosen[keep], index=key[keep])
    agent_of = pd.concat([known, first])
    agent_of = agent_of[~agent_of.index.duplicated(keep="first")]
    out = np.asarray(chosen, np.int64).copy()
    out[keep] = agent_of.reindex(key[keep]).to_numpy(np.int64)
    return out


@fill_doc
def close_spells(ch: ChunkState, which: np.ndarray, end_day: int) -> None:
    """Record the spells of some accounts as ended on ``end_day`` and free the accounts.

    Parameters
    ----------
    {{op_chunk}}
    which : ndarray of int
        Chunk positions of the accounts.
    end_day : int
        Last day of the spells (days since 1970-01-01).
    """
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
    ch.cur_agent[which] = NONE
    ch.cur_team[which] = NONE


@fill_doc
def plan_placements(
    ch: ChunkState,
    work: MonthWork,
    counts: np.ndarray,
    dead_known: np.ndarray,
    placement_rate: float,
) -> None:
    """Place some recovery-book accounts with an agency from next month (hard cases
    more often); marks the placement action in ``counts``.

    Parameters
    ----------
    {{op_chunk}}
    {{op_work}}
    counts : ndarray of int, shape (n_worked, len(CHANNELS))
        The month's planned actions, changed in place.
    dead_known : ndarray of bool
        The lender knows the borrower died.
    placement_rate : float
        Monthly probability of a placement (doubled for the hardest cases, halved
        for the easiest).
    """
    wpos = work.pos
    can_place = (work.group == 4) & ~dead_known & (ch.placed_until[wpos] < 0)
    z = ch.spell_difficulty[wpos]
    middle = np.median(z[can_place]) if can_place.any() else 0.0
    hard = np.where(ch.randomized[wpos], 1.0, np.where(z > middle, 2.0, 0.5))
    place = can_place & (work.state.rng.random(len(work.rows)) < placement_rate * hard)
    counts[place, ct.OUTSOURCE] = 1
    ch.place_next[wpos[place]] = True
