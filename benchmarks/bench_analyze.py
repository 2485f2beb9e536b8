"""Benchmark of ``recovery analyze`` and ``recovery report`` on a simulated book.

Each command runs in its own subprocess, so that its peak resident memory is its own
(``/usr/bin/time -v``: wall clock, user + system CPU seconds, maximum resident set
size). The book is simulated once per size (``recovery simulate --truth-draws 0``,
84 months, benchmark scenario, seed 0) as a partitioned dataset (``--partitions``,
50,000 accounts per partition) — the form in which a book of a million accounts is
read one partition at a time — unless ``--book`` names an existing book (a portfolio
directory or a partitioned dataset).

Usage::

    python benchmarks/bench_analyze.py --sizes 20000
    python benchmarks/bench_analyze.py --book BOOK --commands analyze

A machine shared with other work inflates wall times; the CPU seconds are the fairer
figure then (say so next to any row quoted). Results are printed as a table and
appended to ``benchmarks/results/analyze.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
PER_PARTITION = 50_000


def recovery_cli() -> list[str]:
    """The ``recovery`` command of this interpreter's environment."""
    return [sys.executable, "-m", "recovery.cli"]


def timed(cmd: list[str]) -> dict:
    """Run ``cmd`` under ``/usr/bin/time -v``: wall, CPU seconds and peak RSS (GB)."""
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or "").splitlines()[-25:])
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{tail}")
    text = proc.stderr

    def field(name: str) -> str:
        match = re.search(rf"{re.escape(name)}: (.+)", text)
        return match.group(1).strip() if match else "nan"

    wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    seconds = 0.0
    for part in wall.split(":"):
        seconds = seconds * 60 + float(part)
    return {
        "wall_s": round(seconds, 1),
        "cpu_s": round(
            float(field("User time (seconds)")) + float(field("System time (seconds)")), 1
        ),
        "peak_rss_gb": round(float(field("Maximum resident set size (kbytes)")) / 1024**2, 2),
    }


def simulate(n: int, out: Path) -> Path:
    if not out.exists():
        partitions = max(1, -(-n // PER_PARTITION))
        cmd = [*recovery_cli(), "simulate", "--accounts", str(n), "--months", "84",
               "--truth-draws", "0", "--partitions", str(partitions), "--out", str(out)]  # fmt: skip
        subprocess.run(cmd, check=True, capture_output=True)
    return out


def report_month(book: Path) -> str:
    meta = json.loads((book / "portfolio.json").read_text())
    return meta["data_end"][:7]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[20_000])
    parser.add_argument("--book", default=None, help="an existing book instead of --sizes")
    parser.add_argument("--commands", nargs="+", default=["analyze", "report"])
    parser.add_argument("--data", default=None, help="where simulated books are kept")
    parser.add_argument("--note", default="", help="e.g. 'machine loaded (load average 9)'")
    args = parser.parse_args()
    data = Path(args.data or tempfile.mkdtemp(prefix="bench-analyze-"))
    books = (
        [(None, Path(args.book))]
        if args.book
        else [(n, simulate(n, data / f"book-{n}")) for n in args.sizes]
    )
    rows = []
    for n, book in books:
        for name in args.commands:
            out = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
            if name == "analyze":
                cmd = [*recovery_cli(), "analyze", str(book), "--out", str(out), "--no-progress"]
            else:
                cmd = [*recovery_cli(), "report", str(book), "--month", report_month(book),
                       "--out", str(out)]  # fmt: skip
            load_before = os.getloadavg()[0]
            row = {"command": name, "book": str(book), "accounts": n, **timed(cmd)}
            row["load_average"] = round((load_before + os.getloadavg()[0]) / 2, 1)
            row.update(machine=f"{platform.machine()}, {os.cpu_count()} cores", note=args.note)
            rows.append(row)
            print(
                f"{name:8s} {book}  wall {row['wall_s']:8.1f} s  CPU {row['cpu_s']:8.1f} s  "
                f"peak RSS {row['peak_rss_gb']:6.2f} GB  load {row['load_average']:.1f}",
                flush=True,
            )
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / "analyze.json"
    previous = json.loads(target.read_text()) if target.exists() else []
    target.write_text(json.dumps(previous + rows, indent=2))


if __name__ == "__main__":
    main()
