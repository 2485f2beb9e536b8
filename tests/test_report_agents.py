"""The report's agent section: who is ranked, who is not yet, in words a manager reads."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import tiny_tables, two_team_rows
from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.operations.agents import AgentEffectiveness
from recovery.report.agents import (
    activity_table,
    agent_notes,
    compare_agents,
    ranked_agent_table,
    waiting_agent_table,
)


@pytest.fixture(scope="module")
def fit() -> AgentEffectiveness:
    rows, _ = two_team_rows()
    return AgentEffectiveness(min_spells=100).fit(rows)


def test_reliable_agents_are_ranked_the_others_wait(fit):
    c = compare_agents(fit, min_spells=100)
    s = fit.summary.set_index("agent_id")
    ranked, waiting = set(c.ranked["agent_id"]), set(c.waiting["agent_id"])
    assert ranked | waiting == set(s.index) and not ranked & waiting
    assert (s.loc[list(ranked), "reliability"] >= 0.7).all()
    assert all(a.startswith("early") for a in ranked)  # legal agents differ by chance only
    assert (s.loc[list(waiting - {a for a in waiting if a.startswith("early")}), "reliability"]
            < 0.7).all()  # fmt: skip
    # ranks within the team, with intervals around them
    r = c.ranked.set_index("agent_id")
    assert sorted(r["rank"]) == list(range(1, len(r) + 1))
    assert ((r["rank_low"] <= r["rank"]) & (r["rank"] <= r["rank_high"])).all()


def test_spell_months_needed_by_hand(fit):
    config = Config.from_dict({"analytics": {"agent_min_reliability": 0.8}})
    c = compare_agents(fit, config, min_spells=100)
    w = c.waiting.set_index("agent_id")
    tau2 = fit.tau2_by_group_
    for agent, row in w.iterrows():
        t2 = tau2.get(row["team"], fit.tau2_)
        by_reliability = row["rows"] * row["se"] ** 2 / t2 * 0.8 / 0.2 if t2 > 0 else np.inf
        by_spells = row["rows"] / row["spells"] * 100
        assert row["rows_needed"] == np.ceil(max(by_reliability, by_spells)), agent
    # an agent with enough data whose team has nobody else reliable is not ranked either
    solo = fit.summary[fit.summary["team"].eq("legal") | fit.summary["agent_id"].eq("early0")]
    alone = compare_agents(solo, tau2=tau2, min_spells=100)
    assert alone.ranked.empty
    early0 = waiting_agent_table(alone).set_index("Agent").loc["early0", "Status"]
    assert early0.startswith("enough data (400 spell-months), but no other agent")


def test_words_when_some_and_when_no_agent_can_be_ranked(fit):
    c = compare_agents(fit, min_spells=100)
    notes = agent_notes(c, "2025-12")
    assert notes[0].startswith("The 20 agents worked 8,000 spell-months in the 24 months to")
    assert f"{len(c.ranked)} of them have enough data" in notes[0]
    assert "not enough data yet" in notes[0]
    table = ranked_agent_table(c)
    assert list(table.columns) == [
        "Agent",
        "Team",
        "Spell-months",
        "Reliability",
        "Effect vs peers (95% interval)",
        "Observed / expected (95% interval)",
        "Verdict",
        "Rank in team (95% interval)",
    ]
    assert table["Rank in team (95% interval)"].str.match(r"^\d+ of \d+ \(\d+ to \d+\)$").all()
    # every ratio interval is positive
    lows = table["Observed / expected (95% interval)"].str.extract(r"\((-?[\d.]+) to")[0]
    assert (lows.astype(float) > 0).all()
    # nobody reliable: one sentence, and no ranks at all
    legal = compare_agents(fit.summary[fit.summary["team"] == "legal"], tau2=fit.tau2_by_group_)
    words = agent_notes(legal, "2025-12")
    assert len(words) == 1 and words[0].startswith("No agent can be ranked yet:")
    assert legal.ranked.empty and len(waiting_agent_table(legal)) == 10


def test_activity_table_of_the_month():
    p = Portfolio(**tiny_tables(), meta={"data_end": "2024-04-30"})
    table = activity_table(p, "2024-03")
    assert list(table.columns) == [
        "Agent",
        "Team",
        "Accounts held",
        "Contact attempts",
        "Reached the borrower",
        "Promises per contact",
        "Promises kept",
        "Collected",
    ]
    assert table["Contact attempts"].tolist() == ["2"]
    assert activity_table(p, "2024-04")["Collected"].tolist() == ["700"]
