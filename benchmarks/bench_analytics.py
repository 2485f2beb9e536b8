"""Benchmark: portfolio analytics part 1 (roll rates, vintages, KPIs) on a large book.

A snapshot table is drawn from a known monthly Markov chain over the states
(M0 … M6, charged_off, paid_off), so the estimated roll-rate matrix can be compared
with the true one; then every analytics function is timed. With ``--simulator`` the
book comes from ``recovery.simulate.simulate_portfolio`` + ``recovery.timeline.aging.snapshots``
instead (timing only).

Usage::

    python benchmarks/bench_analytics.py [--accounts 20000] [--months 48] [--simulator]

Prints a table and writes ``benchmarks/results/analytics.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from recovery.analytics import collection_cycle, kpis, roll_rates, states, vintages

STATES = ["M0", "M1", "M2", "M3", "M4", "M5", "M6", "charged_off", "paid_off"]
# true monthly transition probabilities (rows: from state; columns: STATES)
TRUE = np.array(
    [
        [0.93, 0.04, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.03],
        [0.55, 0.15, 0.28, 0.00, 0.00, 0.00, 0.00, 0.00, 0.02],
        [0.20, 0.10, 0.15, 0.50, 0.05, 0.00, 0.00, 0.00, 0.00],
        [0.08, 0.02, 0.05, 0.10, 0.75, 0.00, 0.00, 0.00, 0.00],
        [0.04, 0.00, 0.01, 0.02, 0.08, 0.85, 0.00, 0.00, 0.00],
        [0.02, 0.00, 0.00, 0.00, 0.01, 0.05, 0.92, 0.00, 0.00],
        [0.01, 0.00, 0.00, 0.00, 0.00, 0.00, 0.04, 0.95, 0.00],
        [0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.97, 0.03],
    ]
)
DPD = {"M0": 0, "M1": 15, "M2": 45, "M3": 75, "M4": 105, "M5": 135, "M6": 165}


def markov_snapshots(n_accounts: int, months: int, seed: int = 0) -> pd.DataFrame:
    """Snapshots of a book whose accounts follow :data:`TRUE` (loop over months only)."""
    rng = np.random.default_rng(seed)
    month_ends = pd.date_range("2020-01-31", periods=months, freq="ME")
    start = rng.integers(0, months // 2, n_accounts)  # origination month index
    state = np.zeros(n_accounts, dtype=int)
    balance = rng.uniform(500, 5000, n_accounts).round(2)
    cum = TRUE.cumsum(axis=1)
    frames = []
    alive = np.zeros(n_accounts, dtype=bool)
    for t, month_end in enumerate(month_ends):
        entering = start == t
        moving = alive & (state != STATES.index("paid_off"))
        u = rng.random(n_accounts)
        nxt = state.copy()
        rows = np.flatnonzero(moving)
        nxt[rows] = (u[rows, None] > cum[state[rows]]).sum(axis=1)
        state = np.where(entering, 0, nxt)
        was_paid = alive & ~moving
        alive = alive | entering
        show = alive & ~was_paid
        paid = rng.uniform(0, 100, n_accounts).round(2)
        idx = np.flatnonzero(show)
        names = np.array(STATES)[state[idx]]
        is_bucket = np.isin(names, list(DPD))
        frames.append(
            pd.DataFrame(
                {
                    "account_id": idx.astype(str),
                    "month_end": month_end,
                    "dpd": np.where(
                        is_bucket, pd.Series(names).map(DPD).fillna(200).to_numpy(), 200
                    ).astype(int),
                    "bucket": np.where(is_bucket, names, None),
                    "balance": np.where(names == "paid_off", 0.0, balance[idx]),
                    "amount_overdue": 0.0,
                    "paid_in_month": paid[idx],
                    "status": np.where(is_bucket, "open", names),
                    "origination_date": month_ends[start[idx]],
                }
            )
        )
    snaps = pd.concat(frames, ignore_index=True)
    snaps.loc[snaps["status"] == "paid_off", "dpd"] = 0
    return snaps


def _time(label, func, results):
    t0, c0 = time.perf_counter(), time.process_time()
    out = func()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    results.append(
        {"step": label, "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3),
         "rows_out": len(out)}
    )  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=48)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--simulator", action="store_true")
    args = parser.parse_args()

    t0 = time.perf_counter()
    if args.simulator:
        from recovery.simulate import simulate_portfolio
        from recovery.timeline import aging

        portfolio, _ = simulate_portfolio(
            n_accounts=args.accounts, months=args.months, seed=args.seed
        )
        snaps = aging.snapshots(portfolio)
        source = "simulator + aging.snapshots"
    else:
        snaps = markov_snapshots(args.accounts, args.months, args.seed)
        source = "Markov chain"
    build = time.perf_counter() - t0
    timings: list[dict] = []
    _time("transitions", lambda: states.transitions(snaps), timings)
    matrix = _time("roll_rate_matrix", lambda: roll_rates.roll_rate_matrix(snaps), timings)
    _time("roll_rate_trends", lambda: roll_rates.roll_rate_trends(snaps), timings)
    _time("flow_rates", lambda: roll_rates.flow_rates(snaps), timings)
    _time("vintage_curves", lambda: vintages.vintage_curves(snaps), timings)
    _time("monthly_kpis", lambda: kpis.monthly_kpis(snaps), timings)
    episodes = _time(
        "collection_episodes", lambda: collection_cycle.collection_episodes(snaps), timings
    )
    _time("collection_cycle", lambda: collection_cycle.collection_cycle(episodes), timings)
    _time("recovery_rates", lambda: kpis.recovery_rates(snaps), timings)

    report = {
        "source": source,
        "accounts": args.accounts,
        "months": args.months,
        "snapshot_rows": len(snaps),
        "build_seconds": round(build, 2),
        "timings": timings,
        "total_seconds": round(sum(t["seconds"] for t in timings), 2),
        "total_cpu_seconds": round(sum(t["cpu_seconds"] for t in timings), 2),
    }
    if not args.simulator:
        est = matrix.reindex(index=STATES[:8], columns=STATES, fill_value=0.0).to_numpy()
        err = np.abs(est - TRUE)
        transitions = int(len(states.transitions(snaps)))
        report["matrix_max_abs_error"] = round(float(err.max()), 4)
        report["matrix_mean_abs_error"] = round(float(err.mean()), 5)
        report["transitions"] = transitions
    print(f"source: {source}; {len(snaps):,} snapshot rows ({args.accounts:,} accounts)")
    print(f"{'step':<22}{'wall s':>10}{'cpu s':>10}{'rows out':>12}")
    for t in timings:
        print(f"{t['step']:<22}{t['seconds']:>10.3f}{t['cpu_seconds']:>10.3f}{t['rows_out']:>12,}")
    print(f"{'total':<22}{report['total_seconds']:>10.2f}{report['total_cpu_seconds']:>10.2f}")
    if "matrix_max_abs_error" in report:
        print(
            f"roll-rate matrix vs true chain: max |error| {report['matrix_max_abs_error']}, "
            f"mean |error| {report['matrix_mean_abs_error']}"
        )
    out = Path(__file__).parent / "results" / "analytics.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
