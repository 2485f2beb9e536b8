"""The agent section of the report: who can fairly be compared, and who cannot yet.

An agent's measured effect is only worth ranking when enough of it is real rather than
chance: its **reliability** τ² / (τ² + se²) (:class:`recovery.operations.agents.AgentEffectiveness`)
must reach ``config.analytics.agent_min_reliability`` (0.7 by default: below it a
ranking is mostly noise, docs/agents.md). :func:`compare_agents` splits the agents into
those ranked within their team — with a rank interval from the posterior
(:func:`recovery.operations.agents.rank_intervals`) — and those listed under "not enough
data yet" with the spell-months they have and about how many they need.
:func:`agent_notes` says it in words (one sentence when no agent can be ranked);
:func:`ranked_agent_table`, :func:`waiting_agent_table` and :func:`activity_table` are
the tables a manager reads.

Examples
--------
>>> s = pd.DataFrame({"agent_id": ["G1", "G2", "G3"], "team": "early", "spells": [300, 280, 20],
...     "rows": [500, 480, 30], "se": [0.01, 0.01, 0.05], "reliability": [0.9, 0.85, 0.2],
...     "effect_vs_peers": [0.03, -0.02, 0.05], "shrunk_effect": [0.027, -0.017, 0.01]})
>>> c = compare_agents(s, tau2={"early": 0.0009})
>>> c.ranked["agent_id"].tolist(), c.waiting["agent_id"].tolist()
(['G1', 'G2'], ['G3'])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.report.data import parse_month
from recovery.report.formatting import (
    MISSING,
    format_count,
    format_month,
    format_number,
    format_pct,
    format_pp,
    is_missing,
)

__all__ = [
    "AgentComparison",
    "compare_agents",
    "agent_notes",
    "ranked_agent_table",
    "waiting_agent_table",
    "activity_table",
]


@dataclass
class AgentComparison:
    """Agents split by whether their comparison with peers is reliable.

    Attributes
    ----------
    summary : DataFrame
        Every agent (:attr:`recovery.operations.agents.AgentEffectiveness.summary`).
    ranked : DataFrame
        The reliable agents with ``rank``, ``rank_low``, ``rank_high`` (within team,
        1 = best) and ``team_ranked`` (agents ranked in the team).
    waiting : DataFrame
        The others with ``rows_needed`` (spell-months for the threshold; infinite when
        the team's agents do not differ measurably) and ``no_peers`` (enough data, but
        no other agent of the team has yet).
    min_reliability : float
    min_spells : int
    """

    summary: pd.DataFrame
    ranked: pd.DataFrame
    waiting: pd.DataFrame
    min_reliability: float
    min_spells: int


def compare_agents(
    fit: Any,
    config: Config | None = None,
    min_spells: int = 30,
    tau2: Mapping[str, float] | None = None,
    confidence: float = 0.95,
) -> AgentComparison:
    """Which agents can be ranked (reliability at or above the threshold), with rank intervals.

    An agent is ranked when it has at least ``min_spells`` spells, its reliability is at
    least ``config.analytics.agent_min_reliability`` and at least one other agent of its
    team qualifies too (a rank needs peers). For the others, the spell-months needed
    follow from the standard error falling as 1/√n: ``rows · se² / τ² · R / (1 − R)``
    for reliability R, τ² the team's spread of true effects.

    Parameters
    ----------
    fit : AgentEffectiveness or DataFrame
        A fitted estimator, or its ``summary`` (then give ``tau2``).
    config : Config, optional
    min_spells : int
    tau2 : mapping of team to float, optional
        Default the fit's ``tau2_by_group_``.
    confidence : float
        Level of the rank intervals.

    Returns
    -------
    AgentComparison
    """
    from recovery.operations.agents import rank_intervals

    config = config or Config()
    threshold = config.analytics.agent_min_reliability
    summary = fit if isinstance(fit, pd.DataFrame) else fit.summary
    if tau2 is None:
        tau2 = getattr(fit, "tau2_by_group_", {})
    fallback = float(getattr(fit, "tau2_", 0.0) or 0.0)
    s = summary.reset_index(drop=True)
    team = s["team"] if "team" in s else pd.Series("all", index=s.index)
    alone = (s["spells"] >= min_spells) & (s["reliability"] >= threshold)
    ok = alone & (alone.groupby(team).transform("sum") >= 2)
    ranked = s[ok].reset_index(drop=True)
    if len(ranked):
        ranks = rank_intervals(ranked, by="team" if "team" in ranked else None,
                               confidence=confidence, random_state=config.analytics.seed)  # fmt: skip
        ranked = ranked.merge(ranks, on="agent_id", how="left")
        ranked["team_ranked"] = ranked.groupby(
            ranked["team"] if "team" in ranked else pd.Series("all", index=ranked.index)
        )["agent_id"].transform("size")
        ranked = ranked.sort_values([c for c in ("team", "rank") if c in ranked], kind="mergesort")
    waiting = s[~ok].copy()
    t2 = team[~ok].map(dict(tau2)).fillna(fallback).astype(float).to_numpy()
    rows, se = waiting["rows"].to_numpy(dtype=float), waiting["se"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        by_reliability = np.where(t2 > 0, rows * se**2 / t2 * threshold / (1 - threshold), np.inf)
        by_spells = rows / waiting["spells"].to_numpy(dtype=float) * min_spells
    waiting["rows_needed"] = np.ceil(np.maximum(by_reliability, by_spells))
    waiting["no_peers"] = alone[~ok].to_numpy()  # enough data, but alone in its team
    keys = ["team", "rows"] if "team" in waiting else ["rows"]
    waiting = waiting.sort_values(keys, ascending=[True, False][-len(keys) :], kind="mergesort")
    return AgentComparison(
        summary=s,
        ranked=ranked.reset_index(drop=True),
        waiting=waiting.reset_index(drop=True),
        min_reliability=threshold,
        min_spells=min_spells,
    )


def agent_notes(comparison: AgentComparison, month: Any, window_months: int = 24) -> list[str]:
    """What the agent comparison shows, in words; one sentence when no agent can be ranked.

    Examples
    --------
    >>> s = pd.DataFrame({"agent_id": ["G1", "G2"], "team": "early", "spells": [40, 30],
    ...     "rows": [60, 45], "se": [0.05, 0.06], "reliability": [0.3, 0.25],
    ...     "effect_vs_peers": [0.03, -0.02], "shrunk_effect": [0.01, -0.005]})
    >>> print(agent_notes(compare_agents(s, tau2={"early": 0.001}), "2025-12")[0])
    No agent can be ranked yet: the 2 agents worked 105 spell-months in the 24 months to December 2025, and none has enough of them for a reliable comparison with its peers (reliability 0.7, about 364 spell-months per agent here).
    """
    target = parse_month(month)
    s = comparison.summary
    n_agents, rows = len(s), int(s["rows"].sum())
    level = format_number(comparison.min_reliability, 1)
    head = (
        f"the {format_count(n_agents)} agents worked {format_count(rows)} spell-months in the "
        f"{window_months} months to {format_month(target)}"
    )
    if not len(comparison.ranked):
        needed = comparison.waiting["rows_needed"].replace(np.inf, np.nan)
        about = (
            f", about {format_count(needed.median())} spell-months per agent here"
            if needed.notna().any()
            else "; the agents do not differ measurably yet"
        )
        return [
            f"No agent can be ranked yet: {head}, and none has enough of them for a reliable "
            f"comparison with its peers (reliability {level}{about})."
        ]
    waiting = len(comparison.waiting)
    return [
        f"{head[0].upper()}{head[1:]}. {format_count(len(comparison.ranked))} of them have "
        f"enough data to be compared with their peers (reliability {level} or more: the share "
        "of an agent's measured difference that is real rather than chance)"
        + (
            f"; the other {format_count(waiting)} are listed under “not enough data yet”."
            if waiting
            else "."
        ),
        "An agent's effect is the payments of the months the agent held an account and talked "
        "with the borrower, against what was expected for the same accounts without knowing "
        "the agent, relative to peers of the same team and bucket. Agents outside the funnel "
        "differ from their peers by more than chance; a rank comes with its 95% interval.",
    ]


def _interval(value: float, low: float, high: float, fmt) -> str:
    if is_missing(low) or is_missing(high):
        return fmt(value)
    return f"{fmt(value)} ({fmt(low)} to {fmt(high)})"


def ranked_agent_table(comparison: AgentComparison) -> pd.DataFrame:
    """The ranked agents for people: effect, interval, reliability, rank with its interval.

    Examples
    --------
    >>> s = pd.DataFrame({"agent_id": ["G1", "G2"], "team": "early", "spells": [300, 280],
    ...     "rows": [500, 480], "se": [0.01, 0.01], "reliability": [0.9, 0.85],
    ...     "effect_vs_peers": [0.03, -0.02], "shrunk_effect": [0.027, -0.017],
    ...     "o_e_ratio": [1.1, 0.95], "o_e_low": [1.02, 0.88], "o_e_high": [1.19, 1.03],
    ...     "verdict": ["better than expected", "not different"]})
    >>> ranked_agent_table(compare_agents(s, tau2={"early": 0.0009})).iloc[0].tolist()
    ['G1', 'early', '500', '0.90', '+3.0 pp (+1.0 pp to +5.0 pp)', '1.10 (1.02 to 1.19)', 'better than expected', '1 of 2 (1 to 1)']
    """
    r = comparison.ranked
    z = 1.959963984540054
    two = lambda v: format_number(v, 2)  # noqa: E731
    return pd.DataFrame(
        {
            "Agent": r["agent_id"].astype(str),
            "Team": r["team"].astype(str) if "team" in r else MISSING,
            "Spell-months": [format_count(v) for v in r["rows"]],
            "Reliability": [format_number(v, 2) for v in r["reliability"]],
            "Effect vs peers (95% interval)": [
                _interval(e, e - z * se, e + z * se, format_pp)
                for e, se in zip(r["effect_vs_peers"], r["se"], strict=True)
            ],
            "Observed / expected (95% interval)": [
                _interval(v, lo, hi, two)
                for v, lo, hi in zip(
                    r.get("o_e_ratio", pd.Series(np.nan, index=r.index)),
                    r.get("o_e_low", pd.Series(np.nan, index=r.index)),
                    r.get("o_e_high", pd.Series(np.nan, index=r.index)),
                    strict=True,
                )
            ],
            "Verdict": r["verdict"].astype(str) if "verdict" in r else MISSING,
            "Rank in team (95% interval)": [
                f"{k} of {n} ({lo} to {hi})"
                for k, n, lo, hi in zip(
                    r["rank"], r["team_ranked"], r["rank_low"], r["rank_high"], strict=True
                )
            ],
        }
    ).reset_index(drop=True)


def waiting_agent_table(comparison: AgentComparison) -> pd.DataFrame:
    """The agents not ranked yet: their spell-months and about how many they need.

    Examples
    --------
    >>> s = pd.DataFrame({"agent_id": ["G1", "G2"], "team": "early", "spells": [40, 30],
    ...     "rows": [60, 45], "se": [0.05, 0.06], "reliability": [0.3, 0.25],
    ...     "effect_vs_peers": [0.03, -0.02], "shrunk_effect": [0.01, -0.005]})
    >>> waiting_agent_table(compare_agents(s, tau2={"early": 0.001})).iloc[0].tolist()
    ['G1', 'early', '60', '0.30', 'not enough data yet (60 spell-months; about 350 needed)']
    """
    w = comparison.waiting

    def status(rows: float, needed: float, no_peers: bool) -> str:
        if no_peers:
            return (
                f"enough data ({format_count(rows)} spell-months), but no other agent of "
                "the team has yet: nobody to rank against"
            )
        if not np.isfinite(needed):
            return (
                f"not enough data yet ({format_count(rows)} spell-months; the team's agents "
                "do not differ measurably yet)"
            )
        return (
            f"not enough data yet ({format_count(rows)} spell-months; about "
            f"{format_count(needed)} needed)"
        )

    return pd.DataFrame(
        {
            "Agent": w["agent_id"].astype(str),
            "Team": w["team"].astype(str) if "team" in w else MISSING,
            "Spell-months": [format_count(v) for v in w["rows"]],
            "Reliability": [format_number(v, 2) for v in w["reliability"]],
            "Status": [
                status(r, n, p)
                for r, n, p in zip(w["rows"], w["rows_needed"], w["no_peers"], strict=True)
            ],
        }
    ).reset_index(drop=True)


def activity_table(portfolio: Any, month: Any, config: Config | None = None) -> pd.DataFrame:
    """The month's activity per agent (:func:`recovery.operations.activity.activity_kpis`) for people.

    Returns
    -------
    DataFrame of str
        Agent, team, accounts held, contact attempts, right-party contact rate,
        promises per contact, promises kept, amount collected — for agents active in the
        month, most accounts first.
    """
    from recovery.operations.activity import activity_kpis

    target = parse_month(month)
    k = activity_kpis(portfolio, config)
    k = k[k["month"].astype(str) == f"{target:%Y-%m}"]
    k = k[(k["accounts_held"] > 0) | (k["attempts"] > 0)]
    k = k.sort_values(["accounts_held", "agent_id"], ascending=[False, True], kind="mergesort")
    return pd.DataFrame(
        {
            "Agent": k["agent_id"].astype(str),
            "Team": k["team"].astype(str),
            "Accounts held": [format_count(v) for v in k["accounts_held"]],
            "Contact attempts": [format_count(v) for v in k["attempts"]],
            "Reached the borrower": [format_pct(v) for v in k["right_party_rate"]],
            "Promises per contact": [format_pct(v) for v in k["promises_per_contact"]],
            "Promises kept": [format_pct(v) for v in k["promise_kept_rate"]],
            "Collected": [format_number(v) for v in k["amount_collected"]],
        }
    ).reset_index(drop=True)
