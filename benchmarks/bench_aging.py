"""Benchmark of recovery.timeline.aging: month-end snapshots at 10k / 100k / 1M accounts.

Plain script: ``python benchmarks/bench_aging.py [--sizes 10000,100000,1000000]``.
Prints a table and writes ``benchmarks/results/aging.json`` (git-ignored).

The book is synthetic (generated here with numpy, so that 1M accounts need neither the
simulator nor much memory). At each size, :func:`independent_book`: monthly installment
loans of 12, 24 or 36 months originated over 3½ years (24 M installments at 1M
accounts), payment behaviour mixing on-time payers, late payers, partial payers,
prepayers and defaulters who stop paying (13.4 M payments up to the data end), account ids as text
(``A0123456``). Snapshots are taken at 36 month ends.

Each size runs two engines, each in a fresh process so that its peak RSS is its own
(the process builds the same book first; ``book GB`` is its RSS after that):

- **recovery**: :func:`recovery.timeline.aging.snapshots` (default partitions), with the
  definitions the query below implements: no tolerance (``aging.tolerance = 0``), no
  grace days.
- **DuckDB** (dev-only baseline, ``pip install duckdb``; skipped when it is missing): the
  query of issue #21, unchanged, with 2 threads, on tables ``sched(account_id, due_date,
  amount_due)``, ``pays(account_id, payment_date, amount)`` and ``queries(account_id,
  as_of)`` = every account × the 36 month ends, loaded before the clock starts. It
  computes DPD only (oldest-first allocation by cumulative sums and two ASOF joins).

The run prints both times, the ratio recovery / DuckDB and the agreement of DPD on every
open account-month of the snapshots (joined inside DuckDB after its timing).

The same run measures a straightforward per-account implementation
(``groupby("account_id").apply``: for each account, DPD on every day by numpy on that
account's arrays, then sampled at month ends) on a 10k book with reversals and
restructures (:func:`synthetic_book`, version-1 schedules), checks that it agrees with
:func:`recovery.timeline.aging.snapshots` on DPD and status, and reports the speed ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from recovery.config import AgingConfig, Config
from recovery.data.portfolio import Portfolio
from recovery.timeline.aging import snapshots

MONTH_ENDS = pd.date_range("2021-01-31", "2023-12-31", freq="ME")  # 36 month ends
DATA_END = "2023-12-31"


def synthetic_book(n: int, seed: int = 0) -> Portfolio:
    """A deterministic synthetic book of ``n`` installment loans (vectorized).

    Terms of 6 to 36 months, 2% of payments returned (``reversed_date``) and some
    defaulters restructured (a second schedule version and a ``restructured`` event).
    """
    return _book(n, seed, [6, 12, 18, 24, 36], [0.15, 0.35, 0.2, 0.2, 0.1], "L", plain=False)


def independent_book(n: int, seed: int = 0) -> Portfolio:
    """The book of the engine comparison: terms of 12, 24 or 36 months, ids ``A0123456``.

    No returned payments and no restructures: the DuckDB query knows neither.
    """
    return _book(n, seed, [12, 24, 36], [1 / 3, 1 / 3, 1 / 3], "A", plain=True)


def _book(n: int, seed: int, terms: list, weights: list, prefix: str, plain: bool) -> Portfolio:
    rng = np.random.default_rng(seed)
    ids = np.array([f"{prefix}{i:07d}" for i in range(n)], dtype=object)
    orig_month = rng.integers(0, 42, n)  # months after 2020-07
    day_of_month = rng.integers(3, 29, n)
    first_month = np.datetime64("2020-07", "M")
    origination = (first_month + orig_month).astype("datetime64[D]") + (day_of_month - 1)
    term = rng.choice(terms, n, p=weights)
    principal = np.round(rng.lognormal(8.0, 0.6, n), 2)
    rate = rng.uniform(0.05, 0.3, n)
    installment = np.round(principal * (1 + rate * term / 24) / term, 2)

    # schedule: installment k due k months after origination, same day of month
    acct = np.repeat(np.arange(n), term)
    k = np.arange(len(acct)) - np.repeat(np.cumsum(term) - term, term) + 1
    due = (first_month + orig_month[acct] + k).astype("datetime64[D]") + (day_of_month[acct] - 1)
    schedule = pd.DataFrame(
        {
            "account_id": ids[acct],
            "installment_no": k,
            "due_date": due,
            "amount_due": installment[acct],
            "principal_due": np.round(principal[acct] / term[acct], 2),
            "schedule_version": 1,
        }
    )

    # behaviour per account
    kind = rng.choice(
        5, n, p=[0.55, 0.15, 0.1, 0.05, 0.15]
    )  # ontime, late, partial, prepay, default
    stop_after = np.where(kind == 4, rng.integers(1, 12, n), 10_000)
    pay = k <= stop_after[acct]
    pay &= rng.random(len(acct)) < np.where(kind[acct] == 1, 0.85, 0.97)
    delay = np.where(
        kind[acct] == 1,
        rng.integers(0, 75, len(acct)),
        np.where(kind[acct] == 3, -rng.integers(0, 20, len(acct)), rng.integers(-3, 5, len(acct))),
    )
    factor = np.where(kind[acct] == 2, rng.choice([0.5, 0.8, 1.0], len(acct)), 1.0) * np.where(
        rng.random(len(acct)) < 0.05, 2.0, 1.0
    )
    pay_date = due + delay.astype("timedelta64[D]")
    amount = np.round(installment[acct] * factor, 2)
    reversed_ = rng.random(len(acct)) < (0.0 if plain else 0.02)
    rev_date = np.where(
        reversed_,
        pay_date + rng.integers(1, 15, len(acct)).astype("timedelta64[D]"),
        np.datetime64("NaT"),
    )
    if plain:  # a book extracted at its data end holds no later payment
        pay &= pay_date <= np.datetime64(DATA_END)
    payments = pd.DataFrame(
        {
            "account_id": ids[acct[pay]],
            "payment_date": pay_date[pay],
            "amount": amount[pay],
            "channel": "bank_transfer",
            "reversed_date": rev_date[pay],
        }
    )
    # 1% of defaulters are restructured 4 months after they stop: 6 new installments
    restr = np.flatnonzero((kind == 4) & (rng.random(n) < (0.0 if plain else 0.07)))
    eff = pd.to_datetime(
        origination[restr] + ((stop_after[restr] + 4) * 30).astype("timedelta64[D]")
    )
    r_acct = np.repeat(restr, 6)
    r_k = np.tile(np.arange(1, 7), len(restr))
    r_eff = np.repeat(eff.to_numpy(), 6)
    v2 = pd.DataFrame(
        {
            "account_id": ids[r_acct],
            "installment_no": r_k,
            "due_date": r_eff + (r_k * 30).astype("timedelta64[D]"),
            "amount_due": np.round(installment[r_acct] * 0.8, 2),
            "principal_due": np.round(installment[r_acct] * 0.6, 2),
            "schedule_version": 2,
            "effective_from": r_eff,
        }
    )
    schedule = pd.concat([schedule, v2], ignore_index=True)
    events = pd.DataFrame({"account_id": ids[restr], "date": eff, "event": "restructured"})
    accounts = pd.DataFrame(
        {
            "account_id": ids,
            "customer_id": ids,
            "product": "consumer_installment",
            "origination_date": origination,
            "principal": principal,
            "term_months": term,
            "interest_rate": rate,
        }
    )
    return Portfolio(
        accounts=accounts,
        schedule=schedule,
        payments=payments,
        events=events,
        meta={"data_end": DATA_END},
    )


def per_account_snapshots(portfolio: Portfolio, month_ends, config: Config) -> pd.DataFrame:
    """The straightforward way: one Python call per account (groupby().apply).

    Version-1 schedules only, no events (the comparison book has neither).
    """
    a = config.aging
    me = month_ends.to_numpy(dtype="datetime64[D]")
    orig = portfolio.accounts.set_index("account_id")["origination_date"]
    payments = dict(tuple(portfolio.payments.groupby("account_id")))
    empty = portfolio.payments.iloc[:0]

    def one(sched: pd.DataFrame) -> pd.DataFrame:
        acct = sched.name
        pays = payments.get(acct, empty)
        due = sched["due_date"].to_numpy(dtype="datetime64[D]")
        cum_due = np.cumsum(np.rint(sched["amount_due"].to_numpy() * 100))
        days = np.arange(np.datetime64(orig[acct], "D"), me[-1] + 1)
        pdate = pays["payment_date"].to_numpy(dtype="datetime64[D]")
        rdate = pays["reversed_date"].to_numpy(dtype="datetime64[D]")
        cents = np.rint(pays["amount"].to_numpy() * 100)
        flow_day = np.r_[pdate, rdate[~np.isnat(rdate)]]
        flow = np.r_[cents, -cents[~np.isnat(rdate)]]
        order = np.argsort(flow_day)
        cum = np.r_[0, np.cumsum(flow[order])]
        paid = cum[np.searchsorted(flow_day[order], days, side="right")]
        k = np.searchsorted(cum_due, paid + max(round(a.tolerance * 100), 1))
        full = k >= len(due)
        late = (days - due[np.minimum(k, len(due) - 1)]).astype(int)
        dpd = np.where(full | (late <= a.grace_days), 0, late)
        hit = np.flatnonzero(dpd >= a.charge_off_dpd)
        co = days[hit[0]] if len(hit) else np.datetime64("NaT")
        at = np.searchsorted(days, me[me >= days[0]])
        status = np.where(
            ~np.isnat(co) & (days[at] >= co), "charged_off", np.where(full[at], "paid_off", "open")
        )
        return pd.DataFrame({"month_end": days[at], "dpd": dpd[at], "status": status})

    return (
        portfolio.schedule.groupby("account_id", sort=True)[["due_date", "amount_due"]]
        .apply(one)
        .reset_index(level=0)
        .reset_index(drop=True)
    )


DUCKDB_QUERY = """
WITH s AS (SELECT account_id, due_date, SUM(amount_due) OVER (PARTITION BY account_id ORDER BY due_date ROWS UNBOUNDED PRECEDING) AS cum_due FROM sched),
p AS (SELECT account_id, payment_date, SUM(amount) OVER (PARTITION BY account_id ORDER BY payment_date ROWS UNBOUNDED PRECEDING) AS cum_paid FROM pays),
qp AS (SELECT q.account_id, q.as_of, COALESCE(p.cum_paid, 0) + 0.005 AS cum_paid FROM queries q ASOF LEFT JOIN p ON q.account_id = p.account_id AND q.as_of >= p.payment_date),
qs AS (SELECT qp.account_id, qp.as_of, s.due_date FROM qp ASOF LEFT JOIN s ON qp.account_id = s.account_id AND s.cum_due > qp.cum_paid)
SELECT account_id, as_of, GREATEST(COALESCE(date_diff('day', due_date, as_of), 0), 0) AS dpd FROM qs
"""


def comparison_config() -> Config:
    """The definitions the DuckDB query implements: no tolerance, no grace days."""
    return Config(aging=AgingConfig(tolerance=0.0, grace_days=0))


def run_recovery(n: int, open_out: str) -> dict:
    """Child process: snapshots of the independent book; open account-months to Parquet."""
    book = independent_book(n)
    book_gb = _rss_gb()
    load = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    snap = snapshots(book, MONTH_ENDS, comparison_config())
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = _peak_rss_gb()
    run = {
        "engine": "recovery",
        "accounts": n,
        "installments": len(book.schedule),
        "payments": len(book.payments),
        "rows": len(snap),
        "seconds": round(elapsed, 2),
        "cpu_seconds": round(cpu, 2),
        "load_average_before": round(load, 2),
        "book_rss_gb": round(book_gb, 2),
        "peak_rss_gb": round(peak, 2),
    }
    del book
    is_open = (snap["status"] == "open").to_numpy()
    run["open_account_months"] = int(is_open.sum())
    snap.loc[is_open, ["account_id", "month_end", "dpd"]].to_parquet(open_out, index=False)
    return run


def run_duckdb(n: int, open_in: str | None) -> dict:
    """Child process: the issue's DuckDB query on the same book (2 threads)."""
    import duckdb

    book = independent_book(n)
    book_gb = _rss_gb()
    accounts = book.accounts["account_id"].to_numpy()
    sched_df = book.schedule[["account_id", "due_date", "amount_due"]]  # noqa: F841
    pays_df = book.payments[["account_id", "payment_date", "amount"]]  # noqa: F841
    queries_df = pd.DataFrame(  # noqa: F841
        {
            "account_id": np.repeat(accounts, len(MONTH_ENDS)),
            "as_of": np.tile(MONTH_ENDS.to_numpy(), len(accounts)),
        }
    )
    del book
    con = duckdb.connect()
    con.execute("SET threads = 2")
    t0 = time.perf_counter()
    con.execute(
        "CREATE TABLE sched AS SELECT account_id::VARCHAR AS account_id, "
        "due_date::DATE AS due_date, amount_due::DOUBLE AS amount_due FROM sched_df"
    )
    con.execute(
        "CREATE TABLE pays AS SELECT account_id::VARCHAR AS account_id, "
        "payment_date::DATE AS payment_date, amount::DOUBLE AS amount FROM pays_df"
    )
    con.execute(
        "CREATE TABLE queries AS SELECT account_id::VARCHAR AS account_id, "
        "as_of::DATE AS as_of FROM queries_df"
    )
    loading = time.perf_counter() - t0
    del sched_df, pays_df, queries_df
    load = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    con.execute(f"CREATE TABLE result AS {DUCKDB_QUERY}")
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = _peak_rss_gb()
    run = {
        "engine": "duckdb",
        "duckdb_version": duckdb.__version__,
        "threads": 2,
        "accounts": n,
        "rows": con.execute("SELECT count(*) FROM result").fetchone()[0],
        "load_seconds": round(loading, 2),
        "seconds": round(elapsed, 2),
        "cpu_seconds": round(cpu, 2),
        "load_average_before": round(load, 2),
        "book_rss_gb": round(book_gb, 2),
        "peak_rss_gb": round(peak, 2),
    }
    if open_in is not None:  # DPD agreement on every open account-month of the snapshots
        compared, equal, missing = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE r.dpd = o.dpd), "
            "count(*) FILTER (WHERE r.dpd IS NULL) FROM read_parquet(?) o LEFT JOIN result r "
            "ON r.account_id = o.account_id AND r.as_of = o.month_end::DATE",
            [open_in],
        ).fetchone()
        run.update(open_compared=compared, dpd_equal=equal, dpd_missing=missing)
    return run


def _child(args: list[str]) -> dict:
    cmd = [sys.executable, __file__, *args]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--reference-size", type=int, default=10_000, help="0: skip")
    parser.add_argument("--no-duckdb", action="store_true", help="skip the DuckDB baseline")
    parser.add_argument("--child", choices=["recovery", "duckdb"], help=argparse.SUPPRESS)
    parser.add_argument("--accounts", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--open-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "recovery":
        print(json.dumps(run_recovery(args.accounts, args.open_file)))
        return
    if args.child == "duckdb":
        print(json.dumps(run_duckdb(args.accounts, args.open_file)))
        return
    sizes = [int(s) for s in args.sizes.split(",") if s]
    try:
        import duckdb  # noqa: F401

        with_duckdb = not args.no_duckdb
    except ImportError:
        with_duckdb = False
        print("duckdb is not installed (pip install duckdb): the baseline is skipped")
    results = {"month_ends": len(MONTH_ENDS), "runs": []}
    print(
        f"{'accounts':>10} {'installments':>12} {'payments':>11} {'rows':>11} "
        f"{'recovery s':>10} {'cpu s':>7} {'peak GB':>7} {'book GB':>7} "
        f"{'duckdb s':>9} {'cpu s':>7} {'peak GB':>7} {'ratio':>6} {'dpd agree':>18} {'load':>5}"
    )
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            open_file = str(Path(tmp) / "open.parquet")
            ours = _child(["--child", "recovery", "--accounts", str(n), "--open-file", open_file])
            theirs = None
            if with_duckdb:
                theirs = _child(
                    ["--child", "duckdb", "--accounts", str(n), "--open-file", open_file]
                )
        run = {"recovery": ours, "duckdb": theirs}
        agree = "-"
        if theirs is not None:
            run["ratio"] = round(ours["seconds"] / theirs["seconds"], 3)
            run["cpu_ratio"] = round(ours["cpu_seconds"] / theirs["cpu_seconds"], 3)
            agree = f"{theirs['dpd_equal']:,}/{theirs['open_compared']:,}"
        results["runs"].append(run)
        print(
            f"{n:>10,} {ours['installments']:>12,} {ours['payments']:>11,} {ours['rows']:>11,} "
            f"{ours['seconds']:>10.2f} {ours['cpu_seconds']:>7.1f} {ours['peak_rss_gb']:>7.2f} "
            f"{ours['book_rss_gb']:>7.2f} "
            + (
                f"{theirs['seconds']:>9.2f} {theirs['cpu_seconds']:>7.1f} "
                f"{theirs['peak_rss_gb']:>7.2f} {run['ratio']:>6.2f} {agree:>18} "
                if theirs
                else f"{'-':>9} {'-':>7} {'-':>7} {'-':>6} {agree:>18} "
            )
            + f"{ours['load_average_before']:>5.1f}",
            flush=True,
        )
    if with_duckdb and results["runs"]:
        print(
            "ratio = recovery seconds / DuckDB seconds (same book, same run); dpd agree = "
            "open account-months with equal DPD / compared"
        )
    if args.reference_size:
        results["per_account_reference"] = reference_run(args.reference_size)
    out = Path(__file__).parent / "results" / "aging.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


def reference_run(n: int) -> dict:
    """The per-account groupby().apply implementation against snapshots, n accounts."""
    config = Config()
    book = synthetic_book(n, seed=1)
    plain = book.schedule["schedule_version"] == 1
    book = Portfolio(
        accounts=book.accounts,
        schedule=book.schedule[plain],
        payments=book.payments,
        meta=book.meta,
    )
    t0, c0 = time.perf_counter(), time.process_time()
    fast = snapshots(book, MONTH_ENDS, config, keep_closed=True)
    t_fast, c_fast = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    slow = per_account_snapshots(book, MONTH_ENDS, config)
    t_slow, c_slow = time.perf_counter() - t0, time.process_time() - c0
    merged = fast.merge(slow, on=["account_id", "month_end"], suffixes=("", "_ref"))
    agree_dpd = float((merged["dpd"] == merged["dpd_ref"]).mean())
    agree_status = float((merged["status"].astype(str) == merged["status_ref"]).mean())
    ratio = t_slow / t_fast
    print(
        f"\nper-account groupby().apply on {n:,} accounts: {t_slow:.2f} s; vectorized "
        f"{t_fast:.3f} s; speed-up {ratio:.0f}x (CPU time {c_slow / c_fast:.0f}x); agreement "
        f"on {len(merged):,} rows: dpd {agree_dpd:.4f}, status {agree_status:.4f}"
    )
    return {
        "accounts": n,
        "vectorized_seconds": round(t_fast, 3),
        "groupby_apply_seconds": round(t_slow, 2),
        "speedup": round(ratio, 1),
        "vectorized_cpu_seconds": round(c_fast, 3),
        "groupby_apply_cpu_seconds": round(c_slow, 2),
        "cpu_speedup": round(c_slow / c_fast, 1),
        "rows_compared": len(merged),
        "dpd_agreement": agree_dpd,
        "status_agreement": agree_status,
    }


def _rss_gb() -> float:
    return psutil.Process(os.getpid()).memory_info().rss / 1e9


def _peak_rss_gb() -> float:
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # KB on Linux
    except Exception:  # pragma: no cover
        return float("nan")


if __name__ == "__main__":
    main()
