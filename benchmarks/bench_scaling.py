"""Benchmark of the Dask engine: snapshots + features of 100k … 1M accounts, pandas vs Dask.

For each book size, in a fresh process per engine:

* **pandas** — the fair one-process baseline: the partitioned dataset processed one
  partition after the other in this process (``recovery snapshots/features
  --engine pandas`` on a partitioned dataset);
* **dask** — a local ``dask.distributed`` cluster of ``--workers`` single-threaded
  worker processes (``recovery … --engine dask``).

Both run exactly the same partition functions (``recovery.engine.dask`` plans) and
stream the results to Parquet: the month-end snapshots at the observed month ends and
the feature matrix of every overdue account at each of them. Reported: wall and CPU
seconds, accounts per second, peak RSS of the process (pandas) or of each worker
(psutil sampling every 0.2 s), the speed-up, and the measured cost of one partition,
from which the hardware for a larger book is projected.

The book is simulated once to a partitioned dataset (``recovery simulate --partitions``,
benchmark scenario, 36 observed months; without the collection operation unless
``--operation``, which adds its contact rows and the contact features they feed);
smaller books are the first N accounts of the largest one, repartitioned to the same
accounts per partition (memory per worker is then the same whatever the book size).

Usage::

    python benchmarks/bench_scaling.py --sizes 100000,300000,1000000 --data /tmp/scaling
    python benchmarks/bench_scaling.py --sizes 1000000 --engines whole   # in-memory pandas
    python benchmarks/bench_scaling.py --sizes 1000000 --operation --data /tmp/scaling-op

``--engines whole`` is the reference in-memory path (the whole book read into one
process, then ``aging.snapshots`` and ``features.write_features``).

Writes ``benchmarks/results/scaling.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
MONTHS = 36
START = "2019-01-01"
SEED = 0
PER_PARTITION = 31_250  # accounts per partition (1M accounts -> 32 partitions)


# ----------------------------------------------------------------------------- data
def book_path(data: Path, n: int) -> Path:
    return data / f"book-{n}"


def ensure_book(data: Path, n: int, largest: int, operation: bool = False) -> Path:
    """The partitioned book of ``n`` accounts: simulated (largest) or derived from it."""
    from recovery.engine.partitioning import PartitionedWriter, is_partitioned, open_partitioned

    path = book_path(data, n)
    if is_partitioned(path):
        return path
    partitions = max(1, -(-n // PER_PARTITION))
    if n == largest:
        cmd = [sys.executable, "-m", "recovery.cli", "simulate", "--accounts", str(n),
               "--months", str(MONTHS), "--start", START, "--seed", str(SEED),
               "--chunk-size", "50000", "--partitions", str(partitions),
               "--out", str(path)]  # fmt: skip
        # --operation: with the collection operation's contact rows (truth_draws=0: the
        # same tables, without the point-in-time truth the benchmark does not read)
        cmd += ["--truth-draws", "0"] if operation else ["--no-operation"]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        print(f"simulated {n:,} accounts in {time.perf_counter() - t0:.0f} s", flush=True)
        return path
    big = open_partitioned(ensure_book(data, largest, largest, operation))
    width = len(big.read(0, ["accounts"]).accounts["account_id"].iloc[0]) - 1
    wanted = {f"A{i:0{width}d}" for i in range(n)}
    with PartitionedWriter(path, partitions) as writer:
        for k in range(big.partitions):
            part = big.read(k)
            ids = part.accounts["account_id"]
            writer.write(part.subset(ids[ids.isin(wanted)]))
        writer.meta = {**big.meta, "n_accounts": n, "derived_from": str(big.path)}
    return path


# ----------------------------------------------------------------------------- memory
class Sampler:
    """Peak RSS (bytes) of some processes, sampled in a background thread."""

    def __init__(self, pids: list[int], every: float = 0.2):
        import psutil

        self.procs = {pid: psutil.Process(pid) for pid in pids}
        self.peak = dict.fromkeys(pids, 0)
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid, proc in self.procs.items():
                try:
                    self.peak[pid] = max(self.peak[pid], proc.memory_info().rss)
                except Exception:  # noqa: BLE001 - a restarted worker disappears
                    pass
            self._stop.wait(self.every)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def cpu_seconds(pids: list[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except Exception:  # noqa: BLE001
            pass
    return total


# ----------------------------------------------------------------------------- runs
def run_one(path: Path, engine: str, workers: int, out: Path) -> dict:
    """Snapshots then features of the book at ``path`` on one engine (this process)."""
    import pandas as pd

    import recovery.timeline.aging
    import recovery.timeline.features  # noqa: F401 - imported before timing, as the workers do
    from recovery.engine.dask import (
        dask_client,
        plan_features,
        plan_snapshots,
        write_partition_results,
    )
    from recovery.engine.partitioning import open_partitioned

    dataset = open_partitioned(path)
    n = int(sum(len(dataset.read(k, ["accounts"]).accounts) for k in range(dataset.partitions)))
    month_ends = list(pd.date_range(START, periods=MONTHS, freq="ME"))
    out.mkdir(parents=True, exist_ok=True)
    result = {"accounts": n, "engine": engine, "partitions": dataset.partitions}
    if engine == "whole":  # the in-memory pandas path: read the whole book, then compute
        return run_whole(dataset, n, month_ends, out, result)
    t_start = time.perf_counter()
    if engine == "pandas":
        client, pids, cluster_seconds = None, [os.getpid()], 0.0
        context = None
    else:
        context = dask_client(workers=workers, memory_limit="6GB")
        client = context.__enter__()
        pids = sorted(client.run(os.getpid).values())
        cluster_seconds = time.perf_counter() - t_start
    cpu0 = cpu_seconds(pids) + (cpu_seconds([os.getpid()]) if engine == "dask" else 0.0)
    try:
        with Sampler(pids + ([os.getpid()] if engine == "dask" else [])) as sampler:
            t0 = time.perf_counter()
            snap_rows = write_partition_results(
                plan_snapshots(dataset, month_ends), out / "snapshots", engine, client
            )
            t1 = time.perf_counter()
            feature_rows = write_partition_results(
                plan_features(dataset, month_ends), out / "features", engine, client
            )
            t2 = time.perf_counter()
            cpu1 = cpu_seconds(pids) + (cpu_seconds([os.getpid()]) if engine == "dask" else 0.0)
    finally:
        if context is not None:
            context.__exit__(None, None, None)
    gb = 1024**3
    workers_peak = [sampler.peak[p] / gb for p in pids]
    result.update(
        {
            "snapshot_rows": int(snap_rows),
            "feature_rows": int(feature_rows),
            "snapshots_seconds": round(t1 - t0, 1),
            "features_seconds": round(t2 - t1, 1),
            "seconds": round(t2 - t0, 1),
            "cluster_start_seconds": round(cluster_seconds, 1),
            "cpu_seconds": round(cpu1 - cpu0, 1),
            "accounts_per_second": round(n / (t2 - t0)),
            "peak_rss_gb_per_worker": [round(x, 2) for x in workers_peak],
            "peak_rss_gb": round(max(workers_peak), 2),
            "client_peak_rss_gb": round(sampler.peak.get(os.getpid(), 0) / gb, 2)
            if engine == "dask"
            else None,
            "load_average_1m": round(os.getloadavg()[0], 2),
        }
    )
    return result


def run_whole(dataset, n: int, month_ends: list, out: Path, result: dict) -> dict:
    """Reference: the whole book in one process (``load`` + ``snapshots`` + ``write_features``)."""
    from recovery.data.io import write_table
    from recovery.timeline.aging import snapshots
    from recovery.timeline.features import write_features

    with Sampler([os.getpid()]) as sampler:
        cpu0 = cpu_seconds([os.getpid()])
        t0 = time.perf_counter()
        portfolio = dataset.read_all()
        t_read = time.perf_counter() - t0
        snaps = snapshots(portfolio, month_ends)
        write_table(snaps, out / "snapshots.parquet")
        t1 = time.perf_counter()
        rows = write_features(portfolio, month_ends, out / "features.parquet")
        t2 = time.perf_counter()
        cpu1 = cpu_seconds([os.getpid()])
    result.update(
        {
            "snapshot_rows": len(snaps),
            "feature_rows": int(rows),
            "read_seconds": round(t_read, 1),
            "snapshots_seconds": round(t1 - t0, 1),
            "features_seconds": round(t2 - t1, 1),
            "seconds": round(t2 - t0, 1),
            "cluster_start_seconds": 0.0,
            "cpu_seconds": round(cpu1 - cpu0, 1),
            "accounts_per_second": round(n / (t2 - t0)),
            "peak_rss_gb_per_worker": [round(sampler.peak[os.getpid()] / 1024**3, 2)],
            "peak_rss_gb": round(sampler.peak[os.getpid()] / 1024**3, 2),
            "client_peak_rss_gb": None,
            "load_average_1m": round(os.getloadavg()[0], 2),
        }
    )
    return result


def child(path: Path, engine: str, workers: int, out: Path) -> dict:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    cmd = [sys.executable, __file__, "--one", str(path), "--engine", engine,
           "--workers", str(workers), "--out", str(out)]  # fmt: skip
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def projection(rows: list[dict], target: int, workers: int) -> dict:
    """Hardware for ``target`` accounts from the largest run's per-partition cost."""
    big = max((r for r in rows if r["engine"] == "pandas"), key=lambda r: r["accounts"])
    dask = [r for r in rows if r["engine"] == "dask" and r["accounts"] == big["accounts"]]
    per_partition_s = big["seconds"] / big["partitions"]  # one core, one partition
    accounts_per_partition = big["accounts"] / big["partitions"]
    partitions = -(-target // int(accounts_per_partition))
    peak = max(r["peak_rss_gb"] for r in rows if r["engine"] == "dask") if dask else None
    efficiency = (dask[0]["speed_up"] / workers) if dask and dask[0].get("speed_up") else 1.0
    efficiency = min(efficiency, 1.0)  # a measured efficiency above 1 is noise
    out = {
        "target_accounts": target,
        "accounts_per_partition": int(accounts_per_partition),
        "partitions": partitions,
        "seconds_per_partition_one_core": round(per_partition_s, 2),
        "core_hours": round(partitions * per_partition_s / 3600, 2),
        "parallel_efficiency": round(efficiency, 2),
        "peak_gb_per_worker": peak,
        "wall_minutes_by_cores": {},
    }
    for cores in (8, 32, 64, 128):
        wall = partitions * per_partition_s / (cores * efficiency)
        out["wall_minutes_by_cores"][cores] = round(wall / 60, 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,300000,1000000")
    ap.add_argument("--data", default="/tmp/recovery-scaling", help="where the books live")
    ap.add_argument("--engines", default="pandas,dask")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--largest", type=int, help="simulated book the others come from")
    ap.add_argument(
        "--operation", action="store_true", help="simulate with the collection operation"
    )
    ap.add_argument("--target", type=int, default=50_000_000, help="accounts to project for")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--engine", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(Path(args.one), args.engine, args.workers, Path(args.out))))
        return
    data = Path(args.data)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    rows = []
    for n in sizes:
        path = ensure_book(data, n, args.largest or sizes[-1], args.operation)
        for engine in args.engines.split(","):
            r = child(path, engine, args.workers, data / f"out-{n}-{engine}")
            rows.append(r)
            print(json.dumps(r), flush=True)
        same = {r["engine"]: r for r in rows if r["accounts"] == n}
        if "pandas" in same and "dask" in same:
            same["dask"]["speed_up"] = round(same["pandas"]["seconds"] / same["dask"]["seconds"], 2)
    print()
    header = ("accounts", "engine", "partitions", "snapshots s", "features s", "total s",
              "CPU s", "accounts/s", "peak GB/worker", "speed-up", "load")  # fmt: skip
    print(" | ".join(header))
    for r in rows:
        print(
            f"{r['accounts']:,} | {r['engine']} | {r['partitions']} | {r['snapshots_seconds']} | "
            f"{r['features_seconds']} | {r['seconds']} | {r['cpu_seconds']} | "
            f"{r['accounts_per_second']:,} | {r['peak_rss_gb_per_worker']} | "
            f"{r.get('speed_up', '')} | {r['load_average_1m']}"
        )
    has_baseline = any(r["engine"] == "pandas" for r in rows)
    proj = projection(rows, args.target, args.workers) if has_baseline else None
    print(json.dumps(proj, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scaling.json").write_text(json.dumps({"runs": rows, "projection": proj}, indent=2))


if __name__ == "__main__":
    main()
