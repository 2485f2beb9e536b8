"""Check of the simulator's point-in-time truth: closed form vs a many-redraw reference.

``p_pay_true`` / ``p_cure_true`` of a month end average over the collection
operation's work in the next month. The default computes that average in closed form
(:mod:`recovery.simulate.operation.expectation`); the reference redraws the month
many times (``truth_draws=N``) and averages. Both runs simulate the same book (the
tables are identical; only the truth columns differ), so the truth columns are
compared row by row: mean absolute difference and mean difference (target ≤ 0.003
and within ±0.001 against 512 redraws), overall and by status, with the time of each
run. (The old default, 32 redraws, is not compared here: its draws are the
reference's first 32, which would understate its error.)

Usage::

    python benchmarks/bench_truth.py                      # 2,000 accounts, 512 redraws
    python benchmarks/bench_truth.py --accounts 500 --draws 64 --months 36

Prints a table and writes ``benchmarks/results/truth.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from recovery.simulate import simulate_portfolio
from recovery.simulate.operation import CollectionOperation

TRUTH = ("p_pay_true", "p_cure_true")


def run(accounts: int, months: int, seed: int, draws: int | None) -> tuple[object, float, float]:
    """The truth's account-months of one run, its wall and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    _, truth = simulate_portfolio(
        n_accounts=accounts,
        months=months,
        seed=seed,
        operation=CollectionOperation(truth_draws=draws),
    )
    return truth.account_months, time.perf_counter() - wall, time.process_time() - cpu


def compare(reference, other) -> dict:
    """Row-by-row differences of the truth columns (other - reference)."""
    if not reference[["account_id", "month_end"]].equals(other[["account_id", "month_end"]]):
        raise RuntimeError("the two runs simulated different books")
    out = {}
    groups = {"all": np.ones(len(reference), bool)}
    groups["open"] = (reference["status"] == "open").to_numpy()
    groups["charged_off"] = (reference["status"] == "charged_off").to_numpy()
    for col in TRUTH:
        ref = reference[col].to_numpy(float)
        new = other[col].to_numpy(float)
        if not np.array_equal(np.isnan(ref), np.isnan(new)):
            raise RuntimeError(f"{col}: the two runs define the truth on different rows")
        for name, rows in groups.items():
            ok = rows & ~np.isnan(ref)
            if not ok.any():
                continue
            diff = new[ok] - ref[ok]
            out[f"{col}/{name}"] = {
                "rows": int(ok.sum()),
                "mean_abs_diff": float(np.abs(diff).mean()),
                "mean_diff": float(diff.mean()),
                "mean_reference": float(ref[ok].mean()),
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--months", type=int, default=84)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--draws", type=int, default=512, help="redraws of the reference")
    args = parser.parse_args()
    runs = {}
    for name, draws in (("closed form", None), ("reference", args.draws)):
        runs[name] = run(args.accounts, args.months, args.seed, draws)
        _, wall, cpu = runs[name]
        print(f"{name:>12}: {wall:8.1f} s wall, {cpu:8.1f} s CPU", flush=True)
    reference = runs["reference"][0]
    result = compare(reference, runs["closed form"][0])
    print(
        f"\nclosed form against {args.draws} redraws ({args.accounts:,} accounts x "
        f"{args.months} months, seed {args.seed})"
    )
    print(f"{'truth':>26} {'rows':>7} {'mean ref':>9} {'mean |d|':>9} {'mean d':>8}")
    for key, c in result.items():
        print(
            f"{key:>26} {c['rows']:>7,} {c['mean_reference']:>9.4f} {c['mean_abs_diff']:>9.4f} "
            f"{c['mean_diff']:>+8.4f}"
        )
    out = Path(__file__).parent / "results" / "truth.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "python": sys.version.split()[0],
                "args": vars(args),
                "seconds": {k: {"wall": v[1], "cpu": v[2]} for k, v in runs.items()},
                "against_reference": result,
                "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
