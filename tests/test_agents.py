"""Agent effectiveness: hand-worked O/E, shrinkage, and recovery of true effects under case mix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import tiny_tables, two_team_rows
from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.operations.activity import activity_kpis
from recovery.operations.agent_plots import (
    plot_compliance_heatmap,
    plot_effect_funnel,
    plot_effects,
    plot_funnel,
    plot_rank_comparison,
    plot_reliability,
)
from recovery.operations.agents import (
    AgentEffectiveness,
    expected_outcomes,
    rank_intervals,
    reliability_curve,
)
from recovery.operations.compliance import flag_actions, violations_by_agent
from recovery.operations.experiments import (
    assign_randomly,
    difference_in_means,
    sample_size_per_arm,
)
from recovery.operations.spells import spell_month_outcomes, spell_outcomes


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


# ------------------------------------------------------- month rows, conversations, reliability


def test_spell_month_outcomes_on_tiny_portfolio():
    p = Portfolio(**tiny_tables(), meta={"data_end": "2024-04-30"})
    m = spell_month_outcomes(p, window_months=4)
    # spell 2024-03-11 .. 2024-04-20: March part [03-11, 04-01) and April part [04-01, 04-21)
    assert m["month_index"].tolist() == [0, 1]
    assert m["period_start"].tolist() == list(pd.to_datetime(["2024-03-11", "2024-04-01"]))
    assert m["period_end"].tolist() == list(pd.to_datetime(["2024-04-01", "2024-04-21"]))
    # March: an SMS (delivered) and a call with a promise -> 2 attempts, 1 conversation
    assert m["attempts"].tolist() == [2, 0]
    assert m["conversations"].tolist() == [1, 0] and m["talked"].tolist() == [True, False]
    # A1 paid 700 on 2024-04-20, inside the April part (A2's payments are not A1's)
    assert m["amount_collected"].tolist() == [0.0, 700.0] and m["paid"].tolist() == [0, 1]
    # a one-month window keeps March only
    assert spell_month_outcomes(p, window_months=1)["month_index"].tolist() == [0]
    # data end 2024-04-15: April is neither over nor the spell's end -> left out
    cut = Portfolio(**tiny_tables(), meta={"data_end": "2024-04-15"})
    assert spell_month_outcomes(cut, window_months=4)["month_index"].tolist() == [0]
    with pytest.raises(ValueError, match="at least 1"):
        spell_month_outcomes(p, window_months=0)


def test_through_counts_only_rows_the_agent_could_move():
    # G1: O - E = +0.5, +0.5 on talked rows, -0.5, -0.5 on rows without a conversation
    rows = pd.DataFrame(
        {
            "agent_id": ["G1"] * 4,
            "observed": [1, 1, 0, 0],
            "expected": [0.5] * 4,
            "talked": [True, True, False, False],
        }
    )
    every = AgentEffectiveness(min_spells=1).fit(rows).summary.iloc[0]
    talked = AgentEffectiveness(min_spells=1, through="talked").fit(rows).summary.iloc[0]
    assert every["effect"] == pytest.approx(0.0)  # (0.5 + 0.5 - 0.5 - 0.5) / 4
    assert talked["effect"] == pytest.approx(0.25)  # (0.5 + 0.5 + 0 + 0) / 4
    # O/E: expected 2, observed counted as E + sum(O - E) = 2 + 1
    assert talked["o_e_ratio"] == pytest.approx(1.5)
    assert every["naive_rate"] == talked["naive_rate"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="no such column"):
        AgentEffectiveness(through="spoke").fit(rows)


def test_standard_error_over_spells_when_rows_are_months():
    # two spells of two months: O - E = (+0.5, +0.5) and (-0.5, -0.5); effect 0
    rows = pd.DataFrame(
        {
            "agent_id": ["G1"] * 4,
            "spell_id": [1, 1, 2, 2],
            "observed": [1, 1, 0, 0],
            "expected": [0.5] * 4,
        }
    )
    s = AgentEffectiveness(min_spells=1).fit(rows).summary.iloc[0]
    assert (s["spells"], s["rows"]) == (2, 4)
    # spell sums +1, -1: sd of a spell's sum = sqrt((1 + 1) / (2 - 1)) = sqrt(2);
    # se of the mean per row = sqrt(2) * sqrt(2 spells) / 4 rows = 0.5
    assert s["se"] == pytest.approx(0.5)
    # the same rows as independent spells: sd = sqrt(4 * 0.25 / 3), se = sd / 2
    single = AgentEffectiveness(min_spells=1).fit(rows.drop(columns="spell_id")).summary
    assert single["se"].iloc[0] == pytest.approx(np.sqrt(1 / 3) / 2)


def test_shrinkage_prior_is_estimated_per_team():
    rows, _ = two_team_rows()
    fit = AgentEffectiveness(min_spells=100).fit(rows)
    s = fit.summary.set_index("agent_id")
    # true spread 0.08 in early, none in legal: early agents keep most of their effect,
    # legal agents (differences are noise) are pulled to about 0
    assert fit.tau2_by_group_["early"] > 0.5 * 0.08**2
    assert fit.tau2_by_group_["legal"] < 0.2 * fit.tau2_by_group_["early"]
    early, legal = s[s["team"] == "early"], s[s["team"] == "legal"]
    assert early["reliability"].median() > 0.8 > legal["reliability"].median()
    assert (s["reliability"] == s["shrinkage_weight"]).all()
    assert s["reliability"].between(0, 1).all()


def test_spells_needed_matches_the_reliability_formula():
    rows, _ = two_team_rows()
    fit = AgentEffectiveness(min_spells=100).fit(rows)
    need = fit.spells_needed(0.9)
    s = fit.summary[fit.summary["team"] == "early"]
    tau2 = fit.tau2_by_group_["early"]
    # n * se^2 / tau2 * R / (1 - R), median over early agents
    by_hand = np.ceil((s["spells"] * s["se"] ** 2 / tau2 * 9).median())
    assert need.loc["early", "spells_needed"] == by_hand
    # asking for the reliability an agent has now needs about the spells it has
    agent = s.iloc[0]
    now = fit.spells_needed(float(agent["reliability"]))
    assert now.loc["early", "spells_needed"] == pytest.approx(
        np.ceil(
            (s["spells"] * s["se"] ** 2).median()
            / tau2
            * agent["reliability"]
            / (1 - agent["reliability"])
        )
    )
    with pytest.raises(ValueError, match="reliability"):
        fit.spells_needed(1.0)


def test_reliability_curve_rises_with_spells():
    rows, truth = two_team_rows(n=300)
    curve = reliability_curve(
        rows, fractions=(0.2, 0.5, 1.0), repeats=3, truth=truth, min_spells=100
    )
    early = curve[curve["team"] == "early"].set_index("fraction")
    # spells kept per agent: 20 %, 50 %, all of 300
    assert early["spells_per_agent"].tolist() == [60.0, 150.0, 300.0]
    assert early["reliability"].is_monotonic_increasing
    assert early["median_se"].is_monotonic_decreasing
    assert early.loc[1.0, "spearman_vs_truth"] > early.loc[0.2, "spearman_vs_truth"]
    # the full share is the plain fit of the agents ranked on all spells
    full = AgentEffectiveness(min_spells=100).fit(rows).summary
    assert early.loc[1.0, "reliability"] == pytest.approx(
        full.loc[full["team"] == "early", "reliability"].median()
    )
    assert (curve["expected_spearman"].between(0, 1)).all()
    assert plot_reliability(curve).get_ylabel() == "reliability / Spearman ρ"


def test_conversation_rows_rank_better_when_skill_acts_only_there():
    # skill moves the payment log-odds only in months with a conversation (30 % of
    # months); the other months add noise to an all-months estimate
    rng = np.random.default_rng(5)
    n_agents, months = 30, 1500
    skill = rng.normal(0, 0.4, n_agents)
    agent = np.repeat(np.arange(n_agents), months)
    talked = rng.random(agent.size) < 0.3
    base = rng.uniform(-1.5, 0.5, agent.size)
    p_avg = 1 / (1 + np.exp(-base))
    p = 1 / (1 + np.exp(-(base + skill[agent] * talked)))
    rows = pd.DataFrame(
        {
            "agent_id": [f"G{a:02d}" for a in agent],
            "observed": rng.binomial(1, p),
            "expected": p_avg,
            "talked": talked,
        }
    )
    truth = pd.Series(skill, index=[f"G{a:02d}" for a in range(n_agents)])

    def spearman(**kw):
        s = AgentEffectiveness(min_spells=10, **kw).fit(rows).summary.set_index("agent_id")
        return stats.spearmanr(s["effect"], truth[s.index]).statistic, s["reliability"].median()

    rho_all, rel_all = spearman()
    rho_talked, rel_talked = spearman(through="talked")
    assert rel_talked > rel_all
    assert rho_talked > rho_all


def test_spell_months_are_the_simulators_account_months():
    # the simulator's truth is a mean over the agent's account-months; the rows built
    # from the observable tables must be exactly those months, held by the same agent,
    # and the agent's skill may move a month's payment probability only where
    # `talked` (the conversation outcomes) says so
    from recovery.simulate import simulate_portfolio
    from recovery.simulate.operation import CollectionOperation

    p, truth = simulate_portfolio(
        n_accounts=1500, months=24, seed=3, operation=CollectionOperation(truth_draws=0)
    )
    rows = spell_month_outcomes(p, window_months=1000)
    months = truth.extra["operation_months"]
    months = months.assign(month=months["month_end"].dt.to_period("M"))
    joined = rows.assign(month=rows["period_start"].dt.to_period("M")).merge(
        months, on=["account_id", "month"], how="outer", indicator=True, suffixes=("", "_true")
    )
    assert len(rows) == len(months) > 1000
    assert (joined["_merge"] == "both").all()
    assert (joined["agent_id"] == joined["agent_id_true"]).all()
    moved = joined["p_pay_operation"] != joined["p_pay_average_agent"]
    assert moved.any() and not (moved & ~joined["talked"]).any()


# ------------------------------------------------------- intervals a manager can read


def test_o_e_interval_is_on_the_log_scale_and_never_below_zero():
    # a small agency with few payers: an additive interval went below zero
    rng = np.random.default_rng(2)
    rows = pd.DataFrame(
        {
            "agent_id": ["A1"] * 6 + ["G1"] * 300,
            "team": "agency",
            "observed": np.r_[[1, 0, 0, 0, 0, 0], rng.binomial(1, 0.2, 300)],
            "expected": np.r_[[0.2] * 6, [0.2] * 300],
        }
    )
    s = AgentEffectiveness(min_spells=1).fit(rows).summary.set_index("agent_id")
    a = s.loc["A1"]
    z = stats.norm.ppf(0.975)
    se_log = a["se"] * a["rows"] / a["observed"]  # delta method: se of log(O), E known
    assert a["o_e_ratio"] == pytest.approx(1 / 1.2)
    assert a["o_e_low"] == pytest.approx(a["o_e_ratio"] * np.exp(-z * se_log))
    assert a["o_e_high"] == pytest.approx(a["o_e_ratio"] * np.exp(z * se_log))
    assert (s["o_e_low"] > 0).all() and (s["o_e_low"] < s["o_e_ratio"]).all()
    nothing = rows.assign(observed=np.where(rows["agent_id"] == "A1", 0, rows["observed"]))
    none = AgentEffectiveness(min_spells=1).fit(nothing).summary.set_index("agent_id")
    assert np.isnan(none.loc["A1", "o_e_low"])  # no interval on a ratio of nothing observed


def test_rank_intervals_from_the_posterior():
    rows, _ = two_team_rows()
    fit = AgentEffectiveness(min_spells=100).fit(rows)
    early = fit.summary[fit.summary["team"] == "early"]
    ranks = rank_intervals(early, random_state=1).set_index("agent_id")
    # point ranks follow the shrunk effect; every interval holds its rank
    order = early.sort_values("shrunk_effect", ascending=False)["agent_id"].tolist()
    assert ranks.loc[order, "rank"].tolist() == list(range(1, 11))
    assert ((ranks["rank_low"] <= ranks["rank"]) & (ranks["rank"] <= ranks["rank_high"])).all()
    assert ranks["rank_low"].min() == 1 and ranks["rank_high"].max() == 10
    # two agents 10 posterior sds apart never swap; two identical ones share the middle
    s = pd.DataFrame({"agent_id": ["A", "B", "C", "D"], "team": "t",
                      "shrunk_effect": [0.5, 0.0, 0.0, -0.5], "se": 0.05, "reliability": 1.0})  # fmt: skip
    r = rank_intervals(s).set_index("agent_id")
    assert r.loc["A", ["rank_low", "rank_high"]].tolist() == [1, 1]
    assert r.loc["D", ["rank_low", "rank_high"]].tolist() == [4, 4]
    assert r.loc["B", ["rank_low", "rank_high"]].tolist() == [2, 3]
    # within teams: each team ranks from 1
    both = rank_intervals(fit.summary)
    assert both.groupby(fit.summary["team"].to_numpy())["rank"].min().tolist() == [1, 1]


def test_effect_funnel_plot_reads_in_words():
    rows, _ = two_team_rows()
    fit = AgentEffectiveness(min_spells=100).fit(rows)
    early = fit.summary[fit.summary["team"] == "early"]["agent_id"]
    ax = plot_effect_funnel(fit.summary, reliable=early)
    assert ax.get_title() and ax.get_xlabel() == "spell-months worked"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [
        "95% control limits",
        "99.8% control limits",
        "agents with enough data",
        "not enough data yet",
    ]
    # the limits narrow as 1/sqrt(spell-months)
    upper = ax.get_lines()[0]
    x, y = upper.get_xdata(), upper.get_ydata()
    assert y[0] * np.sqrt(x[0]) == pytest.approx(y[-1] * np.sqrt(x[-1]))
