"""Benchmark of offer policies by re-simulation (issue 23, the simulator's side).

Runs :func:`recovery.simulate.offer_policies.evaluate_offer_policies` — no offers, the
desk (default rule and randomised share), the default rule alone, fixed discounts of
the grid and the oracle — over paired seeds of the ``offers`` scenario (or
``--scenario offers_pay_anyway``), and prints the paired differences against no offers
with their 95 % intervals (:func:`recovery.simulate.policies.compare_policies`).
Writes ``benchmarks/results/offer_policies_<scenario>.json``.

Usage::

    python benchmarks/bench_offer_policies.py --accounts 2000 --seeds 3
    python benchmarks/bench_offer_policies.py --scenario offers_pay_anyway
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--scenario", default="offers")
    parser.add_argument("--discounts", default="0.2,0.4,0.6")
    args = parser.parse_args()

    from recovery.simulate.offer_policies import (
        OUTCOME_MEASURES,
        DeskRule,
        FixedDiscount,
        evaluate_offer_policies,
        no_offers,
    )
    from recovery.simulate.policies import compare_policies

    policies = {"none": no_offers, "desk": "desk", "desk_rule": DeskRule(), "oracle": "oracle"}
    for d in (float(x) for x in args.discounts.split(",")):
        policies[f"fixed_{d:g}"] = FixedDiscount(d)
    w0, c0 = time.perf_counter(), time.process_time()
    results = evaluate_offer_policies(
        policies,
        n_accounts=args.accounts,
        seeds=tuple(range(args.seeds)),
        months=args.months,
        scenario=args.scenario,
        progress=lambda message: print(message, flush=True),
    )
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    table = compare_policies(results, OUTCOME_MEASURES, baseline="none")
    pd.set_option("display.width", 160)
    print(
        f"{args.accounts:,} accounts x {args.months} months, {args.seeds} seeds, "
        f"scenario {args.scenario}: {wall:.0f} s wall, {cpu:.0f} s CPU"
    )
    print(table.round(3).to_string(index=False))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"offer_policies_{args.scenario}.json").write_text(
        json.dumps(
            {
                "accounts": args.accounts,
                "months": args.months,
                "seeds": args.seeds,
                "scenario": args.scenario,
                "wall_seconds": round(wall, 1),
                "cpu_seconds": round(cpu, 1),
                "runs": results.drop(columns=["switch_date"]).to_dict("records"),
                "comparison": table.round(4).to_dict("records"),
            },
            indent=2,
            default=float,
        )
    )


if __name__ == "__main__":
    main()
