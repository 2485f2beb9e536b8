"""Benchmark: a lender's monthly performance table loaded through a mapping file.

A book with known monthly states (the Markov chain of ``bench_analytics.py``) is
written as a warehouse would keep it — a CSV with its own column names, a
"months behind" status code (``C``, 1 … 6, 7+ after charge-off, −1 paid in full) and
no other table — then loaded with ``recovery.data.io.load_portfolio(..., mapping=...)``
(read, rename, decode, derive ``snapshots`` and a minimal ``accounts``, validate).
Checks that every month's state comes back exactly, and times the snapshot-only
features and labels on the result.

Usage::

    python benchmarks/bench_performance.py [--accounts 20000] [--months 48]

Prints a table and writes ``benchmarks/results/performance.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from bench_analytics import markov_snapshots

from recovery.analytics.states import snapshot_states
from recovery.data.io import load_portfolio
from recovery.timeline.labels import snapshot_labels
from recovery.timeline.snapshot_features import snapshot_features

MAPPING = {
    "version": 1,
    "tables": {
        "performance": {
            "file": "perf.csv",
            "columns": {
                "acct_no": "account_id",
                "stmt_month": "month_end",
                "mob_status": "status_code",
                "os_bal": "balance",
                "paid": "paid_amount",
            },
            "status_encoding": "months_behind",
        }
    },
}


def lender_table(snaps: pd.DataFrame) -> pd.DataFrame:
    """The snapshots as a warehouse keeps them (months behind, own names)."""
    names = ["M0", "M1", "M2", "M3", "M4", "M5", "M6"]
    behind = pd.Categorical(snaps["bucket"], categories=names).codes.astype(object)
    code = np.where(snaps["status"].eq("charged_off"), 7, behind)
    code = np.where(snaps["status"].eq("paid_off"), -1, code)
    return pd.DataFrame(
        {
            "acct_no": snaps["account_id"].to_numpy(),
            "stmt_month": snaps["month_end"].dt.strftime("%Y%m").to_numpy(),
            "mob_status": pd.Series(code).astype(str).replace({"0": "C"}).to_numpy(),
            "os_bal": snaps["balance"].to_numpy(),
            "paid": snaps["paid_in_month"].to_numpy(),
        }
    )


def _time(label, func, results, rows_in):
    t0, c0 = time.perf_counter(), time.process_time()
    out = func()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    results.append(
        {"step": label, "rows_in": rows_in, "seconds": round(seconds, 3),
         "cpu_seconds": round(cpu, 3)}
    )  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=48)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    snaps = markov_snapshots(args.accounts, args.months, args.seed)
    # the chain has no sticky charge-off exit to paid_off after charge-off: keep it as is
    timings: list[dict] = []
    n = len(snaps)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        table = lender_table(snaps)
        _time("write lender CSV", lambda: table.to_csv(directory / "perf.csv", index=False),
              timings, n)  # fmt: skip
        (directory / "mapping.yml").write_text(yaml.safe_dump(MAPPING), encoding="utf-8")
        book = _time(
            "load_portfolio (read, map, decode, validate)",
            lambda: load_portfolio(directory, mapping=directory / "mapping.yml"),
            timings,
            n,
        )
    got = snapshot_states(book.snapshots).set_index(["account_id", "month_end"])["state"]
    want = snapshot_states(snaps).set_index(["account_id", "month_end"])["state"]
    same = float((got.reindex(want.index) == want).mean())
    dates = sorted(book.snapshots["month_end"].unique())[-18:-6]
    features = _time(
        "snapshot_features (12 month ends)",
        lambda: snapshot_features(book.snapshots, dates, accounts=book.accounts),
        timings,
        n,
    )
    _time(
        "snapshot_labels (same pairs)",
        lambda: snapshot_labels(book.snapshots, features[["account_id", "as_of"]]),
        timings,
        len(features),
    )
    report = {
        "accounts": args.accounts,
        "months": args.months,
        "rows": n,
        "states_identical_share": same,
        "overdue_pairs": len(features),
        "timings": timings,
    }
    print(f"monthly table: {n:,} rows ({args.accounts:,} accounts x up to {args.months} months)")
    print(f"states identical after the round trip: {same:.4%}")
    print(f"{'step':48s} {'rows in':>10s} {'seconds':>8s} {'cpu s':>7s}")
    for t in timings:
        print(f"{t['step']:48s} {t['rows_in']:>10,} {t['seconds']:>8.2f} {t['cpu_seconds']:>7.2f}")
    out = Path(__file__).parent / "results" / "performance.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
