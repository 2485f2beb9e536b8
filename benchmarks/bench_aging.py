"""Benchmark of recovery.timeline.aging: month-end snapshots at 10k / 100k / 1M accounts.

Plain script: ``python benchmarks/bench_aging.py [--sizes 10000,100000,1000000]``.
Prints a table and writes ``benchmarks/results/aging.json`` (git-ignored).

The book is synthetic (generated here with numpy, so that 1M accounts need neither the
simulator nor much memory): monthly installment loans originated over four years,
payment behaviour mixing on-time payers, late payers, partial payers, prepayers and
defaulters who stop paying, 2% of payments reversed a few days later, 1% of accounts
restructured. Snapshots are taken at 36 month ends.

The same run measures a straightforward per-account implementation
(``groupby("account_id").apply``: for each account, DPD on every day by numpy on that
account's arrays, then sampled at month ends) on the 10k book, checks that it agrees with
:func:`recovery.timeline.aging.snapshots` on DPD and status, and reports the speed ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.timeline.aging import snapshots

MONTH_ENDS = pd.date_range("2021-01-31", "2023-12-31", freq="ME")  # 36 month ends


def synthetic_book(n: int, seed: int = 0) -> Portfolio:
    """A deterministic synthetic book of ``n`` installment loans (vectorized)."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"L{i:07d}" for i in range(n)], dtype=object)
    orig_month = rng.integers(0, 42, n)  # months after 2020-07
    day_of_month = rng.integers(3, 29, n)
    first_month = np.datetime64("2020-07", "M")
    origination = (first_month + orig_month).astype("datetime64[D]") + (day_of_month - 1)
    term = rng.choice([6, 12, 18, 24, 36], n, p=[0.15, 0.35, 0.2, 0.2, 0.1])
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
    reversed_ = rng.random(len(acct)) < 0.02
    rev_date = np.where(
        reversed_,
        pay_date + rng.integers(1, 15, len(acct)).astype("timedelta64[D]"),
        np.datetime64("NaT"),
    )
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
    restr = np.flatnonzero((kind == 4) & (rng.random(n) < 0.07))
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
        meta={"data_end": "2023-12-31"},
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--reference-size", type=int, default=10_000)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    config = Config()
    process = psutil.Process(os.getpid())
    results = {"month_ends": len(MONTH_ENDS), "runs": []}
    print(
        f"{'accounts':>10} {'rows':>12} {'build s':>8} {'snapshots s':>12} {'cpu s':>8} "
        f"{'accounts/s':>12} {'rows/s':>12} {'peak RSS GB':>12} {'load':>6}"
    )
    for n in sizes:
        t0 = time.perf_counter()
        book = synthetic_book(n)
        build = time.perf_counter() - t0
        load = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        snap = snapshots(book, MONTH_ENDS, config)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        rss = process.memory_info().rss / 1e9
        peak = getattr(process.memory_info(), "peak_wset", None) or _peak_rss_gb()
        run = {
            "accounts": n,
            "rows": len(snap),
            "payments": len(book.payments),
            "installments": len(book.schedule),
            "seconds": round(elapsed, 2),
            "cpu_seconds": round(cpu, 2),
            "load_average_before": round(load, 2),
            "accounts_per_second": round(n / elapsed),
            "rows_per_second": round(len(snap) / elapsed),
            "rss_gb": round(rss, 2),
            "peak_rss_gb": round(peak, 2),
        }
        results["runs"].append(run)
        print(
            f"{n:>10,} {len(snap):>12,} {build:>8.1f} {elapsed:>12.2f} {cpu:>8.2f} "
            f"{n / elapsed:>12,.0f} {len(snap) / elapsed:>12,.0f} {peak:>12.2f} {load:>6.1f}"
        )
        del book, snap

    # the straightforward per-account implementation, same run, 10k accounts, version 1 only
    n = args.reference_size
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
    results["per_account_reference"] = {
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
    print(
        f"\nper-account groupby().apply on {n:,} accounts: {t_slow:.2f} s; vectorized "
        f"{t_fast:.3f} s; speed-up {ratio:.0f}x (CPU time {c_slow / c_fast:.0f}x); agreement on {len(merged):,} rows: "
        f"dpd {agree_dpd:.4f}, status {agree_status:.4f}"
    )
    out = Path(__file__).parent / "results" / "aging.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


def _peak_rss_gb() -> float:
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # KB on Linux
    except Exception:  # pragma: no cover
        return float("nan")


if __name__ == "__main__":
    main()
