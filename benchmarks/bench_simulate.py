"""Benchmark of the loan-book simulator: accounts per second and peak memory.

Each size runs in a fresh subprocess (so peak RSS is its own) that streams the book
to Parquet with :func:`recovery.simulate.simulation.write_simulation`, exactly what
``recovery simulate`` does. Prints a table and writes ``benchmarks/results/simulate.json``.

With ``--before DIR`` each size also runs on another source tree (e.g. ``main``'s
``src``, put first on ``PYTHONPATH``) in the same run, before this one: a ratio in one
run on the same (shared) machine.

Usage::

    python benchmarks/bench_simulate.py                 # 10k and 100k accounts
    python benchmarks/bench_simulate.py --sizes 10000 100000 1000000 --months 72
    python benchmarks/bench_simulate.py --operation     # with the collection operation
    python benchmarks/bench_simulate.py --operation --months 84 --sizes 20000 100000 \
        --before /path/to/main/src                      # the default truth, before/after
    python benchmarks/bench_simulate.py --operation --truth-draws 0   # no point-in-time truth
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, resource, sys, time
from recovery.simulate.simulation import write_simulation
n, months, op, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
if op.startswith("draws="):  # the operation with this many truth redraws (0: realised)
    from recovery.simulate.operation import CollectionOperation
    op = CollectionOperation(truth_draws=int(op[6:]))
t = time.perf_counter()
write_simulation(out, n_accounts=n, months=months, seed=0,
                 operation=None if op == "none" else op, validate="first")
elapsed = time.perf_counter() - t
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": elapsed, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                  "peak_rss_mb": usage.ru_maxrss / 1024}))
"""


def run(
    n: int, months: int, operation: bool, truth_draws: int | None = None, src: str | None = None
) -> dict:
    """One size in a fresh process; ``src``: a source tree to run instead of the installed."""
    op = "none" if not operation else "default" if truth_draws is None else f"draws={truth_draws}"
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [env.get("PYTHONPATH")])])
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(n), str(months), op, tmp],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        size = sum(f.stat().st_size for f in Path(tmp).rglob("*.parquet"))
    result.update(
        accounts=n,
        months=months,
        operation=operation,
        truth_draws=truth_draws,
        code="this" if src is None else src,
        accounts_per_second=n / result["seconds"],
        accounts_per_cpu_second=n / result["cpu_seconds"],
        load_average=os.getloadavg()[0],
        output_mb=size / 1e6,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--months", type=int, default=72)
    parser.add_argument("--operation", action="store_true")
    parser.add_argument(
        "--truth-draws",
        type=int,
        default=None,
        help="with --operation: redraws for the truth (0: realised work; default: the code's)",
    )
    parser.add_argument("--before", default=None, help="another source tree to run first")
    parser.add_argument("--results", default="simulate.json", help="file in benchmarks/results")
    args = parser.parse_args()
    rows = []
    print(
        f"{'code':>6} {'accounts':>10} {'months':>6} {'op':>3} {'wall s':>8} {'cpu s':>8} "
        f"{'acc/s':>7} {'acc/cpu-s':>9} {'peak MB':>8} {'out MB':>7} {'load':>5}"
    )
    codes = [("before", args.before)] if args.before else []
    codes.append(("this", None))
    for n in args.sizes:
        for label, src in codes:
            r = run(n, args.months, args.operation, args.truth_draws, src)
            rows.append(r)
            print(
                f"{label:>6} {n:>10,} {args.months:>6} {('yes' if args.operation else 'no'):>3} "
                f"{r['seconds']:>8.1f} {r['cpu_seconds']:>8.1f} "
                f"{r['accounts_per_second']:>7,.0f} {r['accounts_per_cpu_second']:>9,.0f} "
                f"{r['peak_rss_mb']:>8,.0f} {r['output_mb']:>7.1f} {r['load_average']:>5.1f}",
                flush=True,
            )
    out = Path(__file__).parent / "results" / args.results
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "python": sys.version.split()[0],
                "runs": rows,
                "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
