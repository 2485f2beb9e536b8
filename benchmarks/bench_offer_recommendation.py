"""Benchmark: the recommended offers against no offers, the best fixed discount and the
oracle, by re-simulation (issue 23).

For each seed, a book of the ``offers`` scenario is simulated with a switch month
(:mod:`recovery.simulate.offer_policies`): before it the lender's desk runs as usual
(its rule and its randomised share), so every policy of a seed shares the same history.
The recommendation is learned from that history alone — the offers made before the
switch (:func:`recovery.operations.offer_book.offer_history`, the response model) and
the snapshots before it (collecting as usual) — and from the switch on decides the
offers (:func:`recovery.operations.offer_recommend.offer_policy`). Compared at equal
contact capacity (the same operation; the desk's choice of whom to consider):

- ``none`` — no offers; ``fixed_<d>`` — a settlement at discount d to everyone the
  rules allow (the best of these is the best single fixed discount);
- ``recommended``; ``oracle`` — the truth's best offer per account (for scale).

Measures over the months from the switch to the data end (discounted collections,
cures, write-offs; :func:`~recovery.simulate.offer_policies.offer_policy_outcomes`),
paired by seed with a t interval (:func:`recovery.simulate.policies.compare_policies`).
Also the inverse-propensity and DR value of the recommendation on the pre-switch
randomised offers, against its value on the same kind of offers after the switch.

Prints the tables, writes ``benchmarks/results/offer_recommendation[_<scenario>].json``.

Usage::

    python benchmarks/bench_offer_recommendation.py                        # 20k, 5 seeds
    python benchmarks/bench_offer_recommendation.py --accounts 3000 --seeds 0 1
    python benchmarks/bench_offer_recommendation.py --scenario offers_pay_anyway
    python benchmarks/bench_offer_recommendation.py --seeds 0 1 2 --fixed 0.3 0.4 0.5 0.6

The policies that do not depend on the recommendation (``oracle``, the fixed discounts)
can be run once and the recommendation alone re-run after a change: ``--only`` picks the
policies run (``none`` always is: its history is what the recommendation learns from),
``--tag`` names the output file, and ``--combine FILE ...`` pairs the runs saved in
several files by seed (the pre-switch fingerprints must agree) and prints the tables::

    python benchmarks/bench_offer_recommendation.py --only oracle fixed --tag reference
    python benchmarks/bench_offer_recommendation.py --only recommended --tag recommended
    python benchmarks/bench_offer_recommendation.py --combine \
        benchmarks/results/offer_recommendation_reference.json \
        benchmarks/results/offer_recommendation_recommended.json
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from recovery.config import Config
from recovery.data.io import load_portfolio, save_portfolio
from recovery.operations.offer_book import fit_offer_model, fit_usual, offer_history
from recovery.operations.offer_recommend import offer_policy
from recovery.operations.offer_response import ConfoundedPriceWarning
from recovery.simulate.offer_policies import (
    OUTCOME_MEASURES,
    FixedDiscount,
    evaluate_offer_policies,
    no_offers,
)
from recovery.simulate.policies import compare_policies

ROOT = Path(__file__).resolve().parents[1]


def no_offers_run(seed: int, args, common: dict) -> tuple[pd.DataFrame, Any]:
    """The no-offer run of a seed and its book (read from ``--books`` when saved there)."""
    where = None
    if args.books:
        where = Path(args.books) / f"{args.scenario}_{args.accounts}_{args.months}_{seed}"
        if (where / "none.json").is_file():
            base = pd.read_json(where / "none.json", orient="records")
            base["switch_date"] = pd.to_datetime(base["switch_date"])
            return base, load_portfolio(where, validate=False)
    keep: dict = {}
    base = evaluate_offer_policies({"none": no_offers}, keep=keep, **common)
    portfolio, _ = keep[(seed, "none")]
    if where is not None:
        save_portfolio(portfolio, where, validate=False)
        base.to_json(where / "none.json", orient="records", date_format="iso")
    return base, portfolio


def run_seed(seed: int, args, config: Config) -> tuple[pd.DataFrame, dict]:
    """Every policy on one seed; the recommendation learned from the shared history."""
    common = dict(
        n_accounts=args.accounts,
        seeds=(seed,),
        months=args.months,
        scenario=args.scenario,
        config=config,
        switch=args.switch,
    )
    t0, c0 = time.perf_counter(), time.process_time()
    base, portfolio = no_offers_run(seed, args, common)
    switch = pd.Timestamp(base["switch_date"].iloc[0])
    policies: dict = {}
    design, history = None, []
    if "recommended" in args.only:
        history = offer_history(portfolio, switch, config)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConfoundedPriceWarning)
            model = fit_offer_model(history, random_state=seed)
        usual = fit_usual(portfolio, switch, config)
        policies["recommended"] = offer_policy(model, usual, config)
        design = model.design_
    fit_s = time.process_time() - c0
    if "oracle" in args.only:
        policies["oracle"] = "oracle"
    if "fixed" in args.only:
        for d in args.fixed if args.fixed is not None else config.offers.discount_grid:
            policies[f"fixed_{d:.1f}"] = FixedDiscount(d, config)
    rest = evaluate_offer_policies(policies, **common) if policies else base.iloc[:0]
    info = {
        "seed": seed,
        "switch": str(switch.date()),
        "history_offers": len(history),
        "design": design,
        "fit_cpu_s": fit_s,
        "wall_s": time.perf_counter() - t0,
        "cpu_s": time.process_time() - c0,
    }
    return pd.concat([base, rest], ignore_index=True), info


def report(results: pd.DataFrame) -> dict:
    """Print the paired comparisons; return the best fixed discount and the oracle share."""
    table = compare_policies(results, OUTCOME_MEASURES, baseline="none")
    policies = set(results["policy"])
    fixed = [p for p in results["policy"].unique() if p.startswith("fixed_")]
    means = results.groupby("policy")["discounted_collected"].mean()
    best_fixed = means[fixed].idxmax() if fixed else None
    wide = results.pivot(index="seed", columns="policy", values="discounted_collected")
    per_seed = wide.sub(wide["none"], axis=0).drop(columns="none")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(4).to_string(index=False))
        print("per seed, discounted collections against no offers:")
        print(per_seed.round(0).to_string())
    share = float("nan")
    if "recommended" in policies and best_fixed:
        vs_fixed = pd.concat(
            [
                compare_policies(
                    results[results["policy"].isin(["recommended", f])],
                    ("discounted_collected",),
                    baseline=f,
                )
                .query("policy == 'recommended'")
                .assign(against=f)
                for f in fixed
            ],
            ignore_index=True,
        )
        print(f"best fixed discount (highest mean): {best_fixed}")
        print("recommended against each fixed discount:")
        print(vs_fixed.round(4).to_string(index=False))
    if {"recommended", "oracle"} <= policies:
        gain = table.query("measure == 'discounted_collected'").set_index("policy")["difference"]
        share = gain["recommended"] / gain["oracle"] if gain["oracle"] else float("nan")
        print(f"recommended gain / oracle gain: {share:.3f}")
    return {"best_fixed": best_fixed, "oracle_share": share}


def combine(paths: list[str]) -> None:
    """Pair the runs saved in several result files by seed and print the tables."""
    frames = [pd.DataFrame(json.loads(Path(p).read_text())["results"]) for p in paths]
    results = pd.concat(frames, ignore_index=True)
    prints = results.groupby("seed")["pre_switch_fingerprint"].nunique()
    if (prints > 1).any():
        raise SystemExit(f"runs of seeds {list(prints[prints > 1].index)} do not share a history")
    results = results.drop_duplicates(["seed", "policy"], keep="last")
    runs = results.groupby("seed")["policy"].nunique()
    keep = runs[runs == runs.max()].index
    print(f"seeds with every policy: {list(keep)}")
    report(results[results["seed"].isin(keep)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=84)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--switch", type=int, default=None, help="month index of the switch")
    parser.add_argument("--scenario", default="offers")
    parser.add_argument(
        "--fixed", type=float, nargs="+", default=None, help="fixed discounts (default: the grid)"
    )
    parser.add_argument(
        "--only",
        nargs="*",
        default=["recommended", "oracle", "fixed"],
        choices=["recommended", "oracle", "fixed"],
        help="policies run besides none",
    )
    parser.add_argument(
        "--books", default=None, help="directory keeping each seed's no-offer book for re-runs"
    )
    parser.add_argument("--tag", default=None, help="output file name tag")
    parser.add_argument("--combine", nargs="+", default=None, help="result files to pair")
    args = parser.parse_args()
    if args.combine:
        combine(args.combine)
        return
    config = Config()
    tag = "" if args.scenario == "offers" else f"_{args.scenario}"
    tag += f"_{args.tag}" if args.tag else ""
    out = ROOT / "benchmarks" / "results" / f"offer_recommendation{tag}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    frames, infos = [], []
    for seed in args.seeds:
        frame, info = run_seed(seed, args, config)
        frames.append(frame)
        infos.append(info)
        print(info, flush=True)
        results = pd.concat(frames, ignore_index=True)
        saved = {"runs": infos, "results": results.to_dict("records")}
        out.write_text(json.dumps(saved, indent=2, default=str))  # after every seed
    summary = report(results) if len(set(results["policy"])) > 1 else {}
    out.write_text(json.dumps({**saved, **summary}, indent=2, default=str))


if __name__ == "__main__":
    main()
