"""The collection staff of the simulated lender: agents, agencies and who gets which case.

Two pure, vectorised pieces of the collection operation (:mod:`recovery.simulate.operation`):

- :func:`make_agents` — the roster: in-house agents in three teams (``early`` works
  M1–M2, ``late`` works M3–M6, ``legal`` works the charged-off recovery book) with a
  seniority level 1–3, a hire date, a capacity (contacts per working day) and a
  **true skill** (log-odds multiplier of the effect of their contacts, one value for
  early and one for late buckets), plus outside collection agencies
  (``is_agency=True``) that take outsourced placements.
- :func:`assign_agents` — the assignment policy. It is deliberately **not random**:
  an observed difficulty score (days past due, balance, bureau score, broken
  promises) ranks the new cases of a team and the hardest go to the most senior
  agents, so a naive league table of agents is biased against seniors. Accounts of
  the randomised share get an agent drawn uniformly from the team instead.

Examples
--------
>>> import numpy as np, pandas as pd
>>> agents = make_agents(5_000, np.random.default_rng(0), pd.Timestamp("2020-01-01"))
>>> sorted(agents["team"].unique())
['agency', 'early', 'late', 'legal']
>>> bool(agents.loc[agents["team"] == "agency", "is_agency"].all())
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "TEAMS",
    "DIFFICULTY_NOISE",
    "make_agents",
    "assign_agents",
    "level_probabilities",
    "case_difficulty",
    "difficulty_score",
]

#: Teams, in the order of their integer codes (0 early … 3 agency).
TEAMS = ("early", "late", "legal", "agency")


def _level_counts(n: int, shares: tuple[float, ...]) -> np.ndarray:
    """Split ``n`` agents over levels by ``shares``, at least one per level."""
    shares = np.asarray(shares, float) / np.sum(shares)
    counts = np.maximum(np.floor(shares * n).astype(int), 1)
    while counts.sum() < n:
        counts[np.argmax(shares * n - counts)] += 1
    while counts.sum() > n:
        counts[np.argmax(counts)] -= 1
    return counts


def make_agents(
    n_accounts: int,
    rng: np.random.Generator,
    start: pd.Timestamp,
    accounts_per_agent: tuple[float, float, float] = (1500.0, 2500.0, 4000.0),
    min_agents_per_team: int = 4,
    n_agencies: int = 4,
    level_shares: tuple[tuple[float, float, float], ...] = (
        (0.50, 0.35, 0.15),
        (0.30, 0.40, 0.30),
        (0.20, 0.40, 0.40),
    ),
    capacity_per_day: tuple[float, float, float, float] = (90.0, 60.0, 40.0, 600.0),
    skill_sd: float = 0.30,
    skill_split_sd: float = 0.20,
    seniority_skill: float = 0.10,
    agency_skill_mean: float = -0.10,
    violator_share: float = 0.06,
) -> pd.DataFrame:
    """The roster of collection agents and agencies, with their true traits.

    Parameters
    ----------
    n_accounts : int
        Accounts in the book; team sizes scale with it.
    rng : numpy.random.Generator
        Random numbers (deterministic given the seed).
    start : pandas.Timestamp
        First simulated day; every agent is hired before it.
    accounts_per_agent : tuple of float
        Book accounts per agent of the early, late and legal teams.
    min_agents_per_team : int
        Smallest team (at least one agent per level).
    n_agencies : int
        Outside collection agencies.
    level_shares : tuple of tuple of float
        Share of levels 1 (junior), 2, 3 (senior) in the early, late and legal teams
        (M3+ cases are worked by more senior collectors, seeds 002/004).
    capacity_per_day : tuple of float
        Contact attempts per working day of an early, late, legal agent and an agency.
    skill_sd, skill_split_sd : float
        Spread (log-odds) of an agent's general skill and of the difference between
        their early- and late-bucket skill.
    seniority_skill : float
        Mean skill gained per level (log-odds): seniors are better on average.
    agency_skill_mean : float
        Mean skill of an agency (log-odds).
    violator_share : float
        Share of in-house agents who break contact rules (at least one per team
        when positive).

    Returns
    -------
    pandas.DataFrame
        One row per agent: ``agent_id, team, level, hire_date, is_agency`` (the
        observable ``agents`` table) and the truth ``skill_early, skill_late``
        (log-odds multiplier of the effect of their contacts in M1–M2 / later),
        ``capacity_per_day`` (contacts), ``violator`` (bool).

    Examples
    --------
    >>> a = make_agents(10_000, np.random.default_rng(1), pd.Timestamp("2021-01-01"))
    >>> int((a["team"] == "early").sum()), int(a["violator"].sum()) >= 3
    (7, True)
    >>> staff = a[~a["is_agency"]]
    >>> bool((staff["hire_date"] < pd.Timestamp("2021-01-01")).all())
    True
    """
    frames = []
    for code, team in enumerate(TEAMS[:3]):
        n = max(int(round(n_accounts / accounts_per_agent[code])), min_agents_per_team)
        level = np.repeat(np.arange(1, 4), _level_counts(n, level_shares[code]))
        frames.append(pd.DataFrame({"team": team, "level": level, "team_code": code}))
    staff = pd.concat(frames, ignore_index=True)
    n_staff = len(staff)
    level = staff["level"].to_numpy()
    base = rng.normal(seniority_skill * (level - 2), skill_sd)
    split = rng.normal(0.0, skill_split_sd, n_staff)
    staff["skill_early"] = base + split
    staff["skill_late"] = base - split
    # years of service: juniors 0.2–2, mid 2–5, seniors 5–12
    low = np.array([0.2, 2.0, 5.0])[level - 1]
    high = np.array([2.0, 5.0, 12.0])[level - 1]
    years = rng.uniform(low, high)
    staff["hire_date"] = (start - pd.to_timedelta(np.round(years * 365.25), unit="D")).normalize()
    staff["capacity_per_day"] = np.asarray(capacity_per_day, float)[staff["team_code"]]
    violator = np.zeros(n_staff, bool)
    if violator_share > 0:
        pick = rng.random(n_staff) < violator_share
        for code in range(3):  # at least one violator in each team
            members = np.flatnonzero(staff["team_code"].to_numpy() == code)
            if not pick[members].any():
                pick[rng.choice(members)] = True
        violator = pick
    staff["violator"] = violator
    staff["is_agency"] = False
    staff["agent_id"] = [f"G{i + 1:04d}" for i in range(n_staff)]
    skill = rng.normal(agency_skill_mean, skill_sd, n_agencies)
    agencies = pd.DataFrame(
        {
            "agent_id": [f"AGENCY{i + 1:02d}" for i in range(n_agencies)],
            "team": "agency",
            "team_code": 3,
            "level": 3,
            "hire_date": pd.NaT,
            "is_agency": True,
            "skill_early": skill,
            "skill_late": skill,
            "capacity_per_day": float(capacity_per_day[3]),
            "violator": False,
        }
    )
    agents = pd.concat([staff, agencies], ignore_index=True)
    agents["hire_date"] = pd.to_datetime(agents["hire_date"])
    cols = [
        "agent_id",
        "team",
        "level",
        "hire_date",
        "is_agency",
        "skill_early",
        "skill_late",
        "capacity_per_day",
        "violator",
        "team_code",
    ]
    return agents[cols]


#: Spread (sd) of the judgement noise in the observed difficulty score.
DIFFICULTY_NOISE = 0.5


def case_difficulty(
    dpd: np.ndarray,
    balance: np.ndarray,
    bureau_score: np.ndarray,
    broken_promises: np.ndarray,
    rng: np.random.Generator,
    noise: float = DIFFICULTY_NOISE,
) -> np.ndarray:
    """The lender's observed difficulty score of a case (higher = harder).

    Built only from what a lender sees: days past due, balance (currency), bureau
    score and promises already broken, each on a fixed scale
    (:func:`difficulty_score`), plus judgement noise.

    Examples
    --------
    >>> d = case_difficulty(np.array([10, 80]), np.array([5e3, 5e4]),
    ...                     np.array([700.0, 550.0]), np.array([0, 2]),
    ...                     np.random.default_rng(0), noise=0.0)
    >>> bool(d[1] > d[0])
    True
    """
    score = difficulty_score(dpd, balance, bureau_score, broken_promises)
    return score + rng.normal(0.0, noise, len(score))


def difficulty_score(
    dpd: np.ndarray,
    balance: np.ndarray,
    bureau_score: np.ndarray,
    broken_promises: np.ndarray,
) -> np.ndarray:
    """:func:`case_difficulty` without the judgement noise.

    Examples
    --------
    >>> difficulty_score(np.array([60]), np.array([1e4]), np.array([680.0]),
    ...                  np.array([1])).round(3).tolist()  # 1 + 0 - 1 + 0.5
    [0.5]
    """
    score = np.where(np.isfinite(bureau_score), bureau_score, 600.0)
    return (
        np.asarray(dpd, float) / 60.0
        + 0.6 * np.log(np.maximum(np.asarray(balance, float), 1.0) / 10_000.0)
        - (score - 620.0) / 60.0
        + 0.5 * np.minimum(np.asarray(broken_promises, float), 4)
    )


def assign_agents(
    team: np.ndarray,
    difficulty: np.ndarray,
    randomized: np.ndarray,
    agent_team: np.ndarray,
    agent_level: np.ndarray,
    rng: np.random.Generator,
    matching: float = 0.8,
) -> np.ndarray:
    """Pick an agent for each new case: hard cases to seniors, random ones at random.

    Within a team, the new cases are ranked by ``difficulty``; the rank (with a
    share ``1 - matching`` of cases placed at random) is mapped to a level so that
    each level receives cases in proportion to its number of agents, the hardest to
    level 3. An agent of that level is then drawn uniformly. Cases flagged
    ``randomized`` get an agent drawn uniformly from the whole team.

    Parameters
    ----------
    team : ndarray of int
        Team code (:data:`TEAMS`) of each new case.
    difficulty : ndarray of float
        Observed difficulty (:func:`case_difficulty`).
    randomized : ndarray of bool
        Case belongs to the randomised (champion/challenger) share.
    agent_team, agent_level : ndarray of int
        Team code and level of every agent (row order = agent index).
    rng : numpy.random.Generator
    matching : float
        0 = assignment ignores difficulty, 1 = strictly by difficulty.

    Returns
    -------
    ndarray of int64
        Agent index (row of the roster) of each case.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> agent_team = np.array([0, 0, 0]); agent_level = np.array([1, 2, 3])
    >>> picked = assign_agents(np.zeros(6, int), np.arange(6.0), np.zeros(6, bool),
    ...                        agent_team, agent_level, rng, matching=1.0)
    >>> agent_level[picked].tolist()
    [1, 1, 2, 2, 3, 3]
    """
    n = len(team)
    out = np.full(n, -1, np.int64)
    agent_team = np.asarray(agent_team)
    agent_level = np.asarray(agent_level)
    for code in np.unique(team):
        rows = np.flatnonzero(team == code)
        members = np.flatnonzero(agent_team == code)
        if not len(members):
            continue
        # rank → quantile in (0, 1); a share of cases is placed at random
        order = np.argsort(np.argsort(difficulty[rows], kind="stable"), kind="stable")
        q = (order + 0.5) / len(rows)
        scramble = rng.random(len(rows)) >= matching
        q = np.where(scramble, rng.random(len(rows)), q)
        levels = np.unique(agent_level[members])
        share = np.array([(agent_level[members] == lv).sum() for lv in levels], float)
        cut = np.cumsum(share / share.sum())[:-1]
        lv_idx = np.searchsorted(cut, q, side="right")
        pick = np.empty(len(rows), np.int64)
        for k, lv in enumerate(levels):
            sel = lv_idx == k
            pool = members[agent_level[members] == lv]
            pick[sel] = pool[rng.integers(0, len(pool), sel.sum())]
        rnd = randomized[rows]
        pick[rnd] = members[rng.integers(0, len(members), rnd.sum())]
        out[rows] = pick
    return out


def level_probabilities(
    team: np.ndarray,
    score: np.ndarray,
    randomized: np.ndarray,
    agent_team: np.ndarray,
    agent_level: np.ndarray,
    matching: float = 0.8,
    noise: float = DIFFICULTY_NOISE,
) -> np.ndarray:
    """Probability of each seniority level for the new cases :func:`assign_agents` gets.

    ``assign_agents`` ranks the new cases of a team by their observed difficulty
    (``score`` plus judgement noise of sd ``noise``). With many cases the rank's
    quantile is the noisy score's place in the distribution of all of them, a mixture
    of normals around the cases' scores; a case lands in level ``k`` when that
    quantile falls in the level's share of the team. A share ``1 - matching`` of the
    cases, and every randomised one, gets a level with the team's shares.

    Parameters
    ----------
    team, score, randomized : ndarray
        Per new case: team code, :func:`difficulty_score`, randomised share.
    agent_team, agent_level : ndarray of int
        The roster.
    matching, noise : float
        As in :func:`assign_agents` and :func:`case_difficulty`.

    Returns
    -------
    ndarray, shape (n, 3)
        P(level 1), P(level 2), P(level 3); a row is 0 when the team has no agent.

    Examples
    --------
    >>> p = level_probabilities(np.zeros(3, int), np.array([-5.0, 0.0, 5.0]),
    ...                         np.zeros(3, bool), np.zeros(3, int), np.array([1, 2, 3]),
    ...                         matching=1.0)
    >>> p.round(2).tolist()  # the easiest case to the junior, the hardest to the senior
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    from scipy.special import ndtr

    team = np.asarray(team)
    score = np.asarray(score, float)
    out = np.zeros((len(team), 3))
    agent_team = np.asarray(agent_team)
    agent_level = np.asarray(agent_level)
    for code in np.unique(team):
        rows = np.flatnonzero(team == code)
        lv = agent_level[agent_team == code]
        if not len(lv):
            continue
        levels = np.unique(lv)
        share = np.array([(lv == x).sum() for x in levels], float) / len(lv)
        s = score[rows]
        # quantiles of the mixture at the level cuts, read off a grid of its cdf
        grid = np.linspace(s.min() - 6.0 * noise, s.max() + 6.0 * noise, 160)
        cdf = ndtr((grid[:, None] - s[None, :]) / noise).mean(axis=1)
        cuts = np.interp(np.cumsum(share)[:-1], cdf, grid)
        below = ndtr((cuts[None, :] - s[:, None]) / noise)  # P(level <= k) per cut
        cum = np.concatenate([np.zeros((len(rows), 1)), below, np.ones((len(rows), 1))], axis=1)
        matched = np.diff(cum, axis=1)
        mixed = matching * matched + (1.0 - matching) * share[None, :]
        mixed[np.asarray(randomized, bool)[rows]] = share
        out[rows[:, None], levels[None, :] - 1] = mixed
    return out
