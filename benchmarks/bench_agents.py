"""Agent effectiveness and compliance against the simulator's truth (issue 11).

Simulates the benchmark scenario (non-random assignment: hard cases go to senior
agents), then compares three rankings of agents with their true skill:

* naive — raw share of spells with a payment in the 60-day window;
* case-mix adjusted — O − E per spell against an agent-blind model, shrunk (EB);
* randomised — raw payment share on the randomised share of spells only
  (champion arm: a uniformly drawn agent doing the standard work).

and checks that compliance flags reproduce the injected violations exactly.

Run: ``python benchmarks/bench_agents.py --accounts 20000`` (a few minutes); writes
``benchmarks/results/agents.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from recovery.agents import AgentEffectiveness, expected_outcomes, spell_case_mix, spell_outcomes
from recovery.compliance import flag_actions
from recovery.config import Config
from recovery.simulate import simulate_portfolio


def spells_with_features(portfolio, config):
    spells = spell_outcomes(portfolio, config)
    spells = spells[~spells["censored"]].reset_index(drop=True)
    return spell_case_mix(portfolio, spells, config)


def true_skill(truth) -> pd.Series:
    """The simulator's true causal effect of each agent: ``effect_vs_average`` (change in
    monthly payment probability against an average agent on the same accounts), or the
    skill of the agent's stage (log-odds) for older truth tables."""
    agents = truth.extra["agents"].set_index("agent_id")
    if "effect_vs_average" in agents:
        return agents["effect_vs_average"]
    early = agents["team"].eq("early")
    return pd.Series(
        np.where(early, agents["skill_early"], agents["skill_late"]), index=agents.index
    )


def run(n_accounts: int, seed: int, min_spells: int, randomized_share: float | None = None) -> dict:
    config = Config()
    t0 = time.perf_counter()
    operation = "default"
    if randomized_share is not None:
        from recovery.simulate.operation import CollectionOperation

        operation = CollectionOperation(randomized_share=randomized_share)
    portfolio, truth = simulate_portfolio(
        n_accounts=n_accounts, seed=seed, scenario="benchmark", operation=operation
    )
    t_sim = time.perf_counter() - t0
    spells, features = spells_with_features(portfolio, config)
    flags = portfolio.assignments.set_index(["account_id", "start_date"])[["randomized", "arm"]]
    spells = spells.join(flags, on=["account_id", "start_date"])
    # outcome: 30-day periods of the 60-day window with a payment (0-2)
    spells["observed"] = spells["paying_periods"]
    spells["expected"] = expected_outcomes(
        spells, features, outcome="paying_periods", random_state=seed
    )
    fit = AgentEffectiveness(min_spells=min_spells).fit(spells)
    summary = fit.summary.set_index("agent_id")
    skill = true_skill(truth).reindex(summary.index)
    ranked = summary["spells"] >= min_spells
    rnd = spells[spells["randomized"] & spells["arm"].eq("champion")]
    rnd_rate = (
        (rnd["paying_periods"] - rnd.groupby("team")["paying_periods"].transform("mean"))
        .groupby(rnd["agent_id"])
        .mean()
    )
    rnd_n = rnd.groupby("agent_id").size()
    s = summary[ranked]
    both = s.index.intersection(rnd_n.index[rnd_n >= 30])

    def rho(a, b):
        return float(stats.spearmanr(a, b).statistic)

    result = {
        "accounts": n_accounts,
        "seed": seed,
        "simulate_seconds": round(t_sim, 1),
        "spells": int(len(spells)),
        "agents": int(len(summary)),
        "agents_ranked": int(ranked.sum()),
        "min_spells": min_spells,
        "spearman_adjusted_vs_truth": rho(s["shrunk_effect"], skill[s.index]),
        "spearman_naive_vs_truth": rho(s["naive_rate"], skill[s.index]),
        "spearman_adjusted_vs_truth_within_team": {
            team: rho(g["shrunk_effect"], skill[g.index])
            for team, g in s.groupby("team")
            if len(g) > 2
        },
        "spearman_naive_vs_truth_within_team": {
            team: rho(g["naive_rate"], skill[g.index])
            for team, g in s.groupby("team")
            if len(g) > 2
        },
        "spearman_randomized_vs_truth": rho(rnd_rate[both], skill[both]) if len(both) > 2 else None,
        "spearman_adjusted_vs_randomized": rho(s.loc[both, "shrunk_effect"], rnd_rate[both])
        if len(both) > 2
        else None,
        "randomized_spells": int(len(rnd)),
        "median_se_of_agent_effect": float(s["se"].median()),
        "sd_of_true_effect": float(skill[s.index].std()),
        "true_effect_range": [float(skill[s.index].min()), float(skill[s.index].max())],
        "significant_agents": int((summary["verdict"] != "not different").sum()),
    }
    flagged = flag_actions(
        portfolio.actions,
        config,
        events=portfolio.events,
        schedule=portfolio.schedule,
        payments=portfolio.payments,
    )
    injected = truth.extra["violations"]
    got = set(zip(flagged["action_id"].astype(str), flagged["rule"], strict=True))
    want = set(zip(injected["action_id"].astype(str), injected["rule"], strict=True))
    result["violations_injected"] = len(want)
    result["compliance_precision"] = len(got & want) / max(len(got), 1)
    result["compliance_recall"] = len(got & want) / max(len(want), 1)
    table = summary.assign(true_skill=skill)[
        [
            "team",
            "spells",
            "naive_rate",
            "o_e_ratio",
            "effect",
            "shrunk_effect",
            "verdict",
            "rank_naive",
            "rank_adjusted",
            "true_skill",
        ]
    ]
    return result, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--min-spells", type=int, default=200)
    parser.add_argument(
        "--randomized-share",
        type=float,
        default=None,
        help="override the operation's randomised share",
    )
    parser.add_argument("--tag", default="agents", help="name of the results file")
    args = parser.parse_args()
    result, table = run(args.accounts, args.seed, args.min_spells, args.randomized_share)
    print(json.dumps(result, indent=2))
    print(table.sort_values("true_skill", ascending=False).round(3).to_string())
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"{args.tag}.json").write_text(json.dumps(result, indent=2))
    table.to_csv(out / f"{args.tag}_table.csv")


if __name__ == "__main__":
    main()
