"""Agent effectiveness and compliance against the simulator's truth (issue 11).

Simulates the benchmark scenario (non-random assignment: hard cases go to senior
agents) and compares rankings of agents with their true causal effect
(``effect_vs_average``: mean change in an account-month's payment probability against
an agent of skill 0 doing the same contacts, over the agent's own account-months):

* naive — raw share of months with a payment;
* spell, 60 days — the first estimator: paying 30-day periods in a 60-day window per
  spell, O − E against an agent-blind LightGBM at assignment;
* month — one row per spell-month the agent held the account (``--window-months``),
  payment in the month, expected from account features at assignment + month index +
  whether the agent talked with the borrower; with ``through="talked"`` only months
  with a conversation carry O − E (the simulator's skill acts only there);
* ceiling — the month estimator with the simulator's own counterfactual probability
  as the expectation (a perfect case-mix model): only payment noise is left;
* randomised — the same month outcome on the randomised share only (champion arm: a
  uniformly drawn agent doing the standard work).

Spearman is reported against the literal truth pooled over teams, against the truth
relative to the team average (what a within-team × bucket comparison estimates: the
teams work different buckets, so team-level differences are not identifiable), within
teams, and against the skill parameter. Also: reliability τ²/(τ² + se²), the spells
needed for reliability 0.9, a reliability curve (subsampled spells), and the
compliance check (flags = injected violations).

Run: ``python benchmarks/bench_agents.py --accounts 40000`` (about 3 minutes); writes
``benchmarks/results/<tag>.json`` and ``<tag>_curve.csv``, ``<tag>_table.csv``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from recovery.config import Config
from recovery.operations.agents import (
    AgentEffectiveness,
    expected_outcomes,
    reliability_curve,
    spell_case_mix,
)
from recovery.operations.compliance import flag_actions
from recovery.operations.spells import spell_month_outcomes, spell_outcomes
from recovery.simulate import simulate_portfolio


def rho(a: pd.Series, b: pd.Series) -> float | None:
    """Spearman over the agents in both; None when fewer than 3 or one side is constant."""
    idx = a.dropna().index.intersection(b.dropna().index)
    if len(idx) < 3 or a[idx].nunique() < 2 or b[idx].nunique() < 2:
        return None
    return float(stats.spearmanr(a[idx], b[idx]).statistic)


def truths(truth) -> pd.DataFrame:
    """Per agent: team, the literal truth, the truth relative to the team average
    (weighted by account-months, as the estimate is centred per row), and the skill
    parameter the agent's team uses (early buckets: skill_early, later: skill_late)."""
    a = truth.extra["agents"].set_index("agent_id")
    w = a["account_months"].astype(float)
    team_mean = (a["effect_vs_average"] * w).groupby(a["team"]).transform("sum") / w.groupby(
        a["team"]
    ).transform("sum")
    return pd.DataFrame(
        {
            "team": a["team"],
            "true_effect": a["effect_vs_average"],
            "true_effect_vs_team": a["effect_vs_average"] - team_mean,
            "skill": np.where(a["team"].eq("early"), a["skill_early"], a["skill_late"]),
        }
    )


def score(summary: pd.DataFrame, t: pd.DataFrame, column: str, min_spells: int) -> dict:
    s = summary.set_index("agent_id")
    s = s[s["spells"] >= min_spells]
    est = s[column]
    out = {
        "agents": len(s),
        "median_spells": float(s["spells"].median()),
        "vs_truth": rho(est, t["true_effect"]),
        "vs_truth_relative_to_team": rho(est, t["true_effect_vs_team"]),
        "within_team_vs_truth": {
            team: rho(est[g.index], t["true_effect"]) for team, g in s.groupby("team")
        },
        "within_team_vs_skill": {
            team: rho(est[g.index], t["skill"]) for team, g in s.groupby("team")
        },
    }
    if "reliability" in s:
        out["median_reliability_by_team"] = {
            team: round(float(g["reliability"].median()), 3) for team, g in s.groupby("team")
        }
        out["median_se_by_team"] = {team: float(g["se"].median()) for team, g in s.groupby("team")}
        out["sd_true_effect_by_team"] = {
            team: float(t.loc[g.index, "true_effect"].std()) for team, g in s.groupby("team")
        }
    return out


def month_rows(portfolio, config, window_months: int) -> pd.DataFrame:
    months = spell_month_outcomes(portfolio, config, window_months=window_months)
    months, features = spell_case_mix(portfolio, months, config)
    features = features.assign(
        month_index=months["month_index"].to_numpy(), talked=months["talked"].to_numpy()
    )
    return months, features


def run(
    n_accounts: int,
    seed: int,
    min_spells: int,
    randomized_share: float | None,
    window_months: int,
    curve: bool,
) -> tuple[dict, pd.DataFrame, pd.DataFrame | None]:
    config = Config()
    t0 = time.perf_counter()
    from recovery.simulate.operation import CollectionOperation

    # truth_draws=0: the same tables and agent truth, without the point-in-time p_pay
    # truth this benchmark does not use (9x faster)
    overrides = {"truth_draws": 0}
    if randomized_share is not None:
        overrides["randomized_share"] = randomized_share
    operation = CollectionOperation(**overrides)
    portfolio, truth = simulate_portfolio(
        n_accounts=n_accounts, seed=seed, scenario="benchmark", operation=operation
    )
    t_sim = time.perf_counter() - t0
    t = truths(truth)
    flags = portfolio.assignments.reset_index(drop=True)[["randomized", "arm"]]
    result: dict = {
        "accounts": n_accounts,
        "seed": seed,
        "randomized_share": randomized_share,
        "window_months": window_months,
        "min_spells": min_spells,
        "simulate_seconds": round(t_sim, 1),
        "ceiling_truth_vs_truth_relative_to_team": rho(t["true_effect"], t["true_effect_vs_team"]),
    }

    # 1. the first estimator: paying 30-day periods in 60 days per spell
    spells = spell_outcomes(portfolio, config)
    spells = spells[~spells["censored"]].reset_index(drop=True)
    spells, features = spell_case_mix(portfolio, spells, config)
    spells["observed"] = spells["paying_periods"]
    spells["expected"] = expected_outcomes(
        spells, features, outcome="paying_periods", random_state=seed
    )
    first = AgentEffectiveness(min_spells=min_spells).fit(spells).summary
    result["spell_paying_periods_60d"] = score(first, t, "shrunk_effect", min_spells)
    result["naive_paying_periods_60d"] = score(first, t, "naive_rate", min_spells)

    # 2. month rows: the window of the first estimator (2 months) and the longer one
    fits = {}
    for w in sorted({2, window_months}):
        months, mfeatures = month_rows(portfolio, config, w)
        months = months.join(flags, on="spell_id")
        months["observed"] = months["paid"]
        months["expected"] = expected_outcomes(months, mfeatures, outcome="paid", random_state=seed)
        for through in (None, "talked"):
            fit = AgentEffectiveness(min_spells=min_spells, through=through).fit(months)
            name = f"month_{w}m_{'conversations' if through else 'all_months'}"
            result[name] = score(fit.summary, t, "shrunk_effect", min_spells)
            fits[(w, through)] = (fit, months)
    fit, months = fits[(window_months, "talked")]
    # noise ceiling: the same rows and estimator with the simulator's own counterfactual
    # (payment probability with an average agent) as the expectation - a perfect
    # case-mix model; what is left is the coin-flip noise of the payments
    om = truth.extra["operation_months"]
    key = om.assign(month=om["month_end"].dt.to_period("M"))[
        ["account_id", "month", "p_pay_average_agent"]
    ].drop_duplicates(["account_id", "month"])
    oracle = months.assign(month=months["period_start"].dt.to_period("M")).merge(
        key, on=["account_id", "month"], how="left"
    )
    oracle["expected"] = oracle["p_pay_average_agent"].astype(float)
    ceiling = AgentEffectiveness(min_spells=min_spells, through="talked").fit(oracle)
    result[f"ceiling_perfect_case_mix_{window_months}m_conversations"] = score(
        ceiling.summary, t, "shrunk_effect", min_spells
    )
    summary = fit.summary
    result["naive_month_paid"] = score(summary, t, "naive_rate", min_spells)
    result["headline"] = f"month_{window_months}m_conversations"
    result["spells_needed_for_reliability_0.9"] = (
        fit.spells_needed(0.9)[["median_spells", "median_reliability", "spells_needed"]]
        .round(3)
        .to_dict(orient="index")
    )
    result["significant_agents"] = int((summary["verdict"] != "not different").sum())

    # 3. randomised share: the same outcome on randomised champion spells only, against
    # the adjusted estimate from the other (non-random) spells: independent data
    rnd = months[months["randomized"] & months["arm"].eq("champion")]
    result["randomized_spells"] = int(rnd["spell_id"].nunique())
    if len(rnd):
        routine = AgentEffectiveness(min_spells=min_spells, through="talked").fit(
            months[~months["randomized"]]
        )
        adj = routine.summary.set_index("agent_id")
        raw = rnd.assign(expected=rnd.groupby("team")["paid"].transform("mean"))
        for name, rows in (("randomized_raw", raw), ("randomized_adjusted", rnd)):
            r = AgentEffectiveness(min_spells=30, through="talked").fit(rows).summary
            r = r.set_index("agent_id")
            r = r[r["spells"] >= 30]
            both = r.index.intersection(adj.index[adj["spells"] >= min_spells])
            z = (adj.loc[both, "effect_vs_peers"] - r.loc[both, "effect_vs_peers"]) / np.sqrt(
                adj.loc[both, "se"] ** 2 + r.loc[both, "se"] ** 2
            )
            level = portfolio.agents.set_index("agent_id")["level"]
            by_level = pd.DataFrame(
                {
                    "randomized": r.loc[both, "effect_vs_peers"],
                    "adjusted_non_random": adj.loc[both, "effect_vs_peers"],
                    "naive": adj.loc[both, "naive_rate"]
                    - adj.loc[both, "naive_rate"].groupby(adj.loc[both, "team"]).transform("mean"),
                    "truth": t.loc[both, "true_effect_vs_team"],
                }
            ).groupby(level[both])
            result[name] = {
                "agents": len(r),
                "median_spells": float(r["spells"].median()) if len(r) else None,
                "median_se": float(r["se"].median()) if len(r) else None,
                "vs_truth": rho(r["effect_vs_peers"], t["true_effect"]),
                "vs_truth_relative_to_team": rho(r["effect_vs_peers"], t["true_effect_vs_team"]),
                "vs_adjusted_non_random": rho(
                    r.loc[both, "effect_vs_peers"], adj.loc[both, "effect_vs_peers"]
                ),
                "z_adjusted_minus_randomized_mean": float(z.mean()) if len(z) else None,
                "z_adjusted_minus_randomized_sd": float(z.std()) if len(z) > 1 else None,
                "mean_effect_by_level": by_level.mean().round(4).to_dict(orient="index"),
            }

    # 4. reliability curve (subsampled spells per agent)
    curve_table = None
    if curve:
        curve_table = reliability_curve(
            months,
            fractions=(0.1, 0.2, 0.35, 0.5, 0.75, 1.0),
            repeats=5,
            truth=t["true_effect_vs_team"],
            random_state=seed,
            min_spells=min_spells,
            through="talked",
        )

    # 5. compliance: flags = injected violations
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
    table = summary.set_index("agent_id").join(t.drop(columns="team"))[
        [
            "team",
            "spells",
            "rows",
            "naive_rate",
            "o_e_ratio",
            "effect_vs_peers",
            "se",
            "reliability",
            "shrunk_effect",
            "verdict",
            "rank_naive",
            "rank_adjusted",
            "true_effect",
            "true_effect_vs_team",
            "skill",
        ]
    ]
    return result, table, curve_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--min-spells", type=int, default=200)
    parser.add_argument("--window-months", type=int, default=4)
    parser.add_argument(
        "--randomized-share",
        type=float,
        default=None,
        help="override the operation's randomised share",
    )
    parser.add_argument("--no-curve", action="store_true", help="skip the reliability curve")
    parser.add_argument("--tag", default="agents", help="name of the results file")
    args = parser.parse_args()
    result, table, curve = run(
        args.accounts,
        args.seed,
        args.min_spells,
        args.randomized_share,
        args.window_months,
        not args.no_curve,
    )
    print(json.dumps(result, indent=2))
    print(table.sort_values("true_effect", ascending=False).round(4).to_string())
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"{args.tag}.json").write_text(json.dumps(result, indent=2))
    table.to_csv(out / f"{args.tag}_table.csv")
    if curve is not None:
        print(curve.round(3).to_string())
        curve.to_csv(out / f"{args.tag}_curve.csv", index=False)


if __name__ == "__main__":
    main()
