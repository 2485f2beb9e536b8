"""Agent effectiveness: hand-worked O/E, shrinkage, and recovery of true effects under case mix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import tiny_tables
from recovery.agents import (
    AgentEffectiveness,
    activity_kpis,
    expected_outcomes,
    plot_compliance_heatmap,
    plot_effects,
    plot_funnel,
    plot_rank_comparison,
    spell_outcomes,
)
from recovery.compliance import flag_actions, violations_by_agent
from recovery.config import Config
from recovery.experiments import assign_randomly, difference_in_means, sample_size_per_arm
from recovery.portfolio import Portfolio


def test_hand_worked_o_e():
    # G1: 4 spells, 3 paid, expected 0.5 each -> O = 3, E = 2, O/E = 1.5, effect = 0.25
    # G2: 4 spells, 1 paid, expected 0.5 each -> O = 1, E = 2, O/E = 0.5, effect = -0.25
    spells = pd.DataFrame(
        {
            "agent_id": ["G1"] * 4 + ["G2"] * 4,
            "team": "early",
            "bucket": "M1",
            "observed": [1, 1, 1, 0, 1, 0, 0, 0],
            "expected": [0.5] * 8,
        }
    )
    s = AgentEffectiveness(min_spells=1).fit(spells).summary.set_index("agent_id")
    assert s.loc["G1", "o_e_ratio"] == pytest.approx(1.5)
    assert s.loc["G2", "o_e_ratio"] == pytest.approx(0.5)
    assert s.loc["G1", "effect"] == pytest.approx(0.25)
    # peers in the same team x bucket cell average 0: G1 is +0.25 relative to peers
    assert s.loc["G1", "effect_vs_peers"] == pytest.approx(0.25)
    assert s.loc["G1", "effect_low"] < 0.25 < s.loc["G1", "effect_high"]
    assert s.loc["G1", "rank_adjusted"] == 1


def test_shrinkage_pulls_small_agents_harder():
    rng = np.random.default_rng(3)
    sizes = {"big": 800, "small": 20, **{f"x{i}": 300 for i in range(8)}}
    effects = {
        "big": 0.10,
        "small": 0.10,
        **{f"x{i}": e for i, e in enumerate(np.linspace(-0.1, 0.1, 8))},
    }
    rows = []
    for agent, n in sizes.items():
        rows.append(
            pd.DataFrame(
                {
                    "agent_id": agent,
                    "observed": rng.binomial(1, 0.4 + effects[agent], n),
                    "expected": 0.4,
                }
            )
        )
    fit = AgentEffectiveness(min_spells=10).fit(pd.concat(rows, ignore_index=True))
    s = fit.summary.set_index("agent_id")
    assert fit.tau2_ > 0
    assert s.loc["small", "shrinkage_weight"] < s.loc["big", "shrinkage_weight"] <= 1
    assert abs(s.loc["small", "shrunk_effect"]) <= abs(s.loc["small", "effect"])


def _confounded_world(seed: int = 0, n: int = 12_000, n_agents: int = 20):
    """Senior agents get hard cases; true agent effects are known."""
    rng = np.random.default_rng(seed)
    difficulty = rng.normal(size=n)
    level = rng.integers(1, 4, n_agents)
    true = rng.normal(0, 0.35, n_agents)  # log-odds effect per agent
    agent_of_level = {lv: np.flatnonzero(level == lv) for lv in (1, 2, 3)}
    # harder accounts (high difficulty) go to higher levels
    target_level = np.clip(np.digitize(difficulty + rng.normal(0, 0.5, n), [-0.5, 0.5]) + 1, 1, 3)
    agent = np.array(
        [rng.choice(agent_of_level.get(lv, np.arange(n_agents))) for lv in target_level]
    )
    logit = -0.2 - 1.2 * difficulty + true[agent]
    paid = rng.binomial(1, 1 / (1 + np.exp(-logit)))
    spells = pd.DataFrame(
        {
            "account_id": [f"A{i}" for i in range(n)],
            "agent_id": [f"G{a:02d}" for a in agent],
            "team": "early",
            "bucket": "M1",
            "paid": paid,
        }
    )
    features = pd.DataFrame({"difficulty": difficulty, "noise": rng.normal(size=n)})
    truth = pd.Series(true, index=[f"G{a:02d}" for a in range(n_agents)])
    return spells, features, truth


def test_adjusted_ranking_recovers_true_effects_better_than_naive():
    spells, features, truth = _confounded_world()
    spells["expected"] = expected_outcomes(spells, features, outcome="paid", n_folds=5)
    spells["observed"] = spells["paid"]
    s = AgentEffectiveness(min_spells=100).fit(spells).summary.set_index("agent_id")
    adjusted = stats.spearmanr(s["shrunk_effect"], truth.reindex(s.index)).statistic
    naive = stats.spearmanr(s["naive_rate"], truth.reindex(s.index)).statistic
    assert adjusted >= 0.8
    assert adjusted > naive + 0.2


def test_expected_outcomes_refuses_agent_columns():
    spells, features, _ = _confounded_world(n=200)
    with pytest.raises(ValueError, match="must not know the agent"):
        expected_outcomes(spells, features.assign(team="x"))


def test_spell_outcomes_and_activity_on_tiny_portfolio():
    p = Portfolio(**tiny_tables(), meta={"data_end": "2024-04-30"})
    out = spell_outcomes(p)
    # spell from 2024-03-11, 60-day window to 2024-05-10 (exclusive): the 700 paid on 04-20 counts
    assert out.loc[0, "amount_collected"] == 700.0 and out.loc[0, "days_to_first_payment"] == 40
    assert bool(out.loc[0, "censored"])  # 2024-05-09 is after the data end 2024-04-30
    kpis = activity_kpis(p).set_index("month")
    # March: an SMS (delivered, not a right-party contact) and a call with a promise
    assert kpis.loc["2024-03", "attempts"] == 2
    assert kpis.loc["2024-03", "right_party_rate"] == pytest.approx(0.5)
    # the promise of 700 by 2024-04-20 was kept by the payment that day
    assert kpis.loc["2024-03", "promise_kept_rate"] == 1.0
    # cost: sms 0.05 + call 1.00
    assert kpis.loc["2024-03", "cost"] == pytest.approx(1.05)


def test_randomised_share_helpers():
    arms = assign_randomly([f"A{i}" for i in range(1000)], share=0.1, seed=7)
    assert arms.sum() == 100
    assert assign_randomly([f"A{i}" for i in range(1000)], share=0.1, seed=7).equals(arms)
    rng = np.random.default_rng(0)
    y = rng.binomial(1, np.where(arms.to_numpy(), 0.35, 0.25))
    result = difference_in_means(y, arms.to_numpy())
    assert result["ci_low"] < result["effect"] < result["ci_high"]
    assert sample_size_per_arm(0.25, 0.10) < sample_size_per_arm(0.25, 0.05)


def test_plots_return_axes():
    spells, features, _ = _confounded_world(n=2000, n_agents=6)
    spells["observed"], spells["expected"] = spells["paid"], spells["paid"].mean()
    fit = AgentEffectiveness(min_spells=10).fit(spells)
    for plot in (plot_funnel, plot_effects, plot_rank_comparison):
        assert plot(fit.summary) is not None
    acts = pd.DataFrame(
        {
            "action_id": ["a"],
            "account_id": ["A"],
            "agent_id": ["G1"],
            "channel": ["call"],
            "outcome": ["no_answer"],
            "ts": pd.to_datetime(["2024-01-01 23:00"]),
        }
    )
    table = violations_by_agent(flag_actions(acts, Config()), acts)
    assert plot_compliance_heatmap(table).get_title() == "Compliance flags by agent"
