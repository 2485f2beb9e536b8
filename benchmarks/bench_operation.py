"""Benchmark of the collection operation: its cost on top of the loan-book simulator.

Each run is a fresh subprocess (its own peak RSS) that streams a book to Parquet with
:func:`recovery.simulate.simulation.write_simulation`, once without and once with the
default :class:`recovery.simulate.operation.CollectionOperation`. Prints a table and
writes ``benchmarks/results/operation.json``.

Usage::

    python benchmarks/bench_operation.py                       # 20k accounts, 72 months
    python benchmarks/bench_operation.py --sizes 100000 1000000 --months 72
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, resource, sys, time
import pyarrow.parquet as pq
from pathlib import Path
from recovery.simulate.simulation import write_simulation
n, months, op, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
t = time.perf_counter()
write_simulation(out, n_accounts=n, months=months, seed=0,
                 operation=None if op == "none" else "default", validate="first")
elapsed = time.perf_counter() - t
rows = {}
for name in ("actions", "assignments", "payments"):
    f = Path(out) / f"{name}.parquet"
    rows[name] = pq.ParquetFile(f).metadata.num_rows if f.exists() else 0
print(json.dumps({"seconds": elapsed, "rows": rows,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(n: int, months: int, operation: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                CHILD,
                str(n),
                str(months),
                "default" if operation else "none",
                tmp,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    result.update(accounts=n, months=months, operation=operation)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000])
    parser.add_argument("--months", type=int, default=72)
    args = parser.parse_args(argv)
    runs = []
    print(f"{'accounts':>10} {'operation':>9} {'seconds':>9} {'peak MB':>8} {'actions':>11}")
    for n in args.sizes:
        for operation in (False, True):
            r = run(n, args.months, operation)
            runs.append(r)
            print(
                f"{n:>10} {str(operation):>9} {r['seconds']:>9.1f} {r['peak_rss_mb']:>8.0f} "
                f"{r['rows']['actions']:>11}"
            )
        base, with_op = runs[-2], runs[-1]
        print(
            f"{'':>10} time ratio {with_op['seconds'] / base['seconds']:.2f}, "
            f"memory ratio {with_op['peak_rss_mb'] / base['peak_rss_mb']:.2f}, "
            f"actions per account {with_op['rows']['actions'] / n:.1f}"
        )
    out = Path(__file__).parent / "results" / "operation.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "python": platform.python_version(),
                "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "runs": runs,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
