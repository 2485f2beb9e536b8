"""Policy evaluation on the simulator (issue 8): default vs propensity vs uplift work lists.

For each seed, simulates the benchmark scenario with the default escalation policy,
fits :class:`recovery.simulate.policies.PriorityModel` on the 72 months before the
switch (propensity model, amount given payment, segment uplift from the randomised
hold-out / champion / challenger share), then re-simulates the last 12 months under
the propensity- and uplift-ranked policies with the same contact attempts per team
and month. Same seed → identical history before the switch (paired comparison).

Run: ``python benchmarks/bench_strategy.py --accounts 5000 --seeds 5`` (a few
minutes); writes ``benchmarks/results/strategy.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from recovery.simulate.policies import compare_policies, evaluate_policies

MEASURES = (
    "collected",
    "expected_extra_payers",
    "cost",
    "contact_attempts",
    "actions",
    "compliance_flags",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--months", type=int, default=84)
    parser.add_argument(
        "--policies",
        default="default,propensity,uplift,oracle",
        help="Comma-separated policies (oracle = true-response reference).",
    )
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "strategy.json"))
    args = parser.parse_args()
    t0 = time.perf_counter()
    keep: dict = {}
    results = evaluate_policies(
        n_accounts=args.accounts,
        seeds=tuple(range(args.seeds)),
        months=args.months,
        policies=tuple(args.policies.split(",")),
        keep=keep,
        progress=lambda msg: print(f"[{time.perf_counter() - t0:6.0f} s] {msg}", flush=True),
    )
    elapsed = time.perf_counter() - t0
    table = compare_policies(results, MEASURES)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    cols = ["seed", "policy", *MEASURES, "pre_switch_actions", "pre_switch_fingerprint"]
    print(results[cols].to_string(index=False))
    print()
    print(table.round(1).to_string(index=False))
    flag_cols = sorted(c for c in results if c.startswith("flags_"))
    print()
    print(results.groupby("policy")[flag_cols].sum().T.to_string())
    uplift = [
        op.model.summary.assign(seed=seed)
        for (seed, policy), (op, _) in keep.items()
        if policy == "uplift"
    ]
    segments = pd.concat(uplift, ignore_index=True) if uplift else pd.DataFrame()
    if len(segments):
        mean = segments.groupby(["step", "group", "band"])[["effect", "value"]].mean()
        print()
        print("segment uplift (mean over seeds; group 0 M1, 1 M2, 2 M3, 3 M4+, 4 recovery):")
        print(mean.round(3).to_string())
    out = {
        "accounts": args.accounts,
        "seeds": args.seeds,
        "months": args.months,
        "seconds": round(elapsed, 1),
        "runs": json.loads(results.to_json(orient="records", date_format="iso")),
        "comparison": json.loads(table.to_json(orient="records")),
        "segments": json.loads(segments.to_json(orient="records")) if len(segments) else [],
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    print(f"\n{elapsed:.0f} s; wrote {args.out}")


if __name__ == "__main__":
    main()
