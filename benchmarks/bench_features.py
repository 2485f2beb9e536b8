"""Benchmark of recovery.timeline.features: the feature matrix of overdue account-months.

For books of 10k / 100k (/ 1M) accounts, builds the point-in-time feature matrix of the
overdue account-months at 36 month ends and reports rows, seconds, rows per second and
peak memory (each size runs in a fresh subprocess so peak RSS is its own). On the 10k
book it also times a straightforward per-account ``groupby().apply`` implementation of
the payment and contact features and reports the speed-up of the vectorised code on
the same pairs (after checking both give the same numbers).

The book comes from :func:`recovery.simulate.simulate_portfolio` when ``--simulator`` is
given, else from a fast vectorised generator below (same data contract: late, partial
and missed payments, reversals, charge-offs, recoveries, calls, letters, visits, promises).

Usage::

    python benchmarks/bench_features.py --sizes 10000,100000 [--naive-accounts 10000]

The matrix is streamed to a temporary Parquet file by
:func:`recovery.timeline.features.write_features` (what ``recovery features`` does) in
partitions of 25,000 accounts (``--partition-size``), so peak memory is the book plus one
partition. Prints wall and CPU seconds of the matrix, peak
RSS of the process (book included) and the peak once the book was made (``data GB``).
Writes ``benchmarks/results/features.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results"
MONTH_ENDS = pd.date_range("2020-01-31", periods=36, freq="ME")
DATA_END = "2022-12-31"


# ----------------------------------------------------------------------------- data
def synthetic_portfolio(n: int, seed: int = 0, chunk: int = 100_000):
    """A book of ``n`` installment loans originated 2019–2021 (vectorised, seeded).

    Generated in chunks of ``chunk`` accounts (bounded temporary memory)."""
    from recovery.data.portfolio import Portfolio

    # each chunk is made compact (labels as categoricals of all their possible values,
    # ids as Arrow strings): no Python string per row, whose memory would stay fragmented
    parts = []
    for start in range(0, n, chunk):
        part = _synthetic_chunk(min(chunk, n - start), start, np.random.default_rng([seed, start]))
        parts.append(part)
    tables = {}
    for name in ("accounts", "schedule", "payments", "actions"):
        tables[name] = pd.concat([part.pop(name) for part in parts], ignore_index=True)
        for column in _LABELS:  # the categories present, as astype("category") gives them
            if column in tables[name]:
                tables[name][column] = tables[name][column].cat.remove_unused_categories()
    agents = pd.DataFrame(
        {
            "agent_id": ["G1"],
            "team": ["early"],
            "level": [1],
            "hire_date": pd.to_datetime(["2018-01-01"]),
        }
    )
    return Portfolio(**tables, agents=agents, meta={"data_end": DATA_END})


_LABELS = {  # every value a label column of the synthetic book can take, sorted
    "product": ["consumer_installment", "small_business"],
    "region": ["east", "north", "south", "west"],
    "income_band": ["high", "low", "mid"],
    "age_band": ["18-30", "31-50", "51+"],
    "channel": sorted(
        ["bank_transfer", "auto_debit", "cash", "sms", "call", "visit", "guarantor_contact"]
        + ["letter", "legal_notice"]
    ),
    "outcome": sorted(
        ["no_answer", "right_party_contact", "promise_to_pay", "refusal", "hardship"]
        + ["third_party_contact", "delivered"]
    ),
    "reason_code": ["cash_flow", "illness", "job_loss", "unknown"],
    "attitude": ["confident", "evasive", "unknown", "victim"],
}


def _cat(values: np.ndarray, column: str) -> pd.Categorical:
    """Text labels (a NumPy unicode array, "" = missing) as a categorical of all the
    column's values, without making a Python string per row."""
    categories = np.array(_LABELS[column])
    codes = np.searchsorted(categories, values)
    found = codes < len(categories)
    found[found] = categories[codes[found]] == values[found]
    return pd.Categorical.from_codes(np.where(found, codes, -1), categories=_LABELS[column])


def _text(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """A NumPy unicode array as Arrow strings (no Python string per row)."""
    import pyarrow as pa

    return pd.arrays.ArrowStringArray(pa.array(values, type=pa.large_string()))


def _synthetic_chunk(n: int, offset: int, rng: np.random.Generator) -> dict:
    ids = np.array([f"A{offset + i:07d}" for i in range(n)], dtype=object)
    orig = np.datetime64("2019-01-01") + rng.integers(0, 3 * 365, n).astype("timedelta64[D]")
    term = rng.choice([12, 24, 36], n)
    principal = rng.uniform(1_000, 20_000, n).round(2)
    rate = rng.uniform(0.05, 0.30, n)
    inst = (principal * (1 + rate * term / 12) / term).round(2)
    risk = rng.beta(1.0, 14.0, n)
    accounts = pd.DataFrame(
        {
            "account_id": ids,
            "customer_id": np.array([f"C{offset + i:07d}" for i in range(n)], dtype=object),
            "product": _cat(
                np.where(rng.random(n) < 0.8, "consumer_installment", "small_business"), "product"
            ),
            "origination_date": orig,
            "principal": principal,
            "term_months": term,
            "interest_rate": rate.round(4),
            "region": _cat(rng.choice(["north", "south", "east", "west"], n), "region"),
            "has_guarantor": rng.random(n) < 0.3,
            "has_collateral": rng.random(n) < 0.1,
            "income_band": _cat(rng.choice(["low", "mid", "high"], n), "income_band"),
            "bureau_score": rng.normal(650, 60, n).round(),
            "age_band": _cat(rng.choice(["18-30", "31-50", "51+"], n), "age_band"),
        }
    )
    # schedule: one row per installment
    acc = np.repeat(np.arange(n), term)
    k = np.arange(len(acc)) - np.repeat(np.cumsum(term) - term, term) + 1
    month0 = orig.astype("datetime64[M]")
    dom = np.minimum((orig - month0.astype("datetime64[D]")).astype(int), 27)
    due = (month0[acc] + k).astype("datetime64[D]") + dom[acc].astype("timedelta64[D]")
    schedule = pd.DataFrame(
        {
            "account_id": ids[acc],
            "installment_no": k,
            "due_date": due,
            "amount_due": inst[acc],
            "principal_due": (principal / term).round(2)[acc],
            "schedule_version": 1,
        }
    )
    # behaviour: each account may stop paying at some installment (default)
    stop = np.where(rng.random(n) < risk * 1.5, rng.integers(1, term + 1), term + 1)
    pays_inst = (k < stop[acc]) & (rng.random(len(acc)) < 1 - risk[acc] / 4)
    delay = np.where(rng.random(len(acc)) < 0.93, 0, rng.exponential(3 + 30 * risk[acc]))
    # a partial payment (10%) pays half on time and the rest 5–20 days later; a missed
    # installment is caught up with the next payment (95%)
    partial = rng.random(len(acc)) < 0.10
    missed = ~pays_inst & (k < stop[acc])
    catch_up = np.zeros(len(acc))
    catch_up[1:] = missed[:-1] & (k[1:] > 1) & (rng.random(len(acc) - 1) < 0.95)
    p_acc = acc[pays_inst]
    p_day = due[pays_inst] + delay[pays_inst].astype(int).astype("timedelta64[D]")
    first_share = np.where(partial, 0.5, 1.0)[pays_inst] + catch_up[pays_inst]
    p_amt = (inst[p_acc] * first_share).round(2)
    rest = partial[pays_inst]
    p_acc = np.concatenate([p_acc, p_acc[rest]])
    p_day = np.concatenate(
        [p_day, p_day[rest] + rng.integers(5, 21, rest.sum()).astype("timedelta64[D]")]
    )
    p_amt = np.concatenate([p_amt, (inst[p_acc[: len(p_amt)]][rest] * 0.5).round(2)])
    # recoveries after default: a few small payments
    defaulted = np.flatnonzero(stop <= term)
    n_rec = rng.poisson(1.5, len(defaulted))
    r_acc = np.repeat(defaulted, n_rec)
    r_first = (month0[r_acc] + stop[r_acc]).astype("datetime64[D]")
    r_day = r_first + rng.integers(30, 700, len(r_acc)).astype("timedelta64[D]")
    r_amt = (principal[r_acc] * rng.uniform(0.02, 0.15, len(r_acc))).round(2)
    pay_acc = np.concatenate([p_acc, r_acc])
    pay_day = np.concatenate([p_day, r_day])
    pay_amt = np.maximum(np.concatenate([p_amt, r_amt]), 1.0)
    reversed_ = rng.random(len(pay_acc)) < 0.02
    rev_day = np.where(
        reversed_,
        pay_day + rng.integers(1, 15, len(pay_acc)).astype("timedelta64[D]"),
        np.datetime64("NaT"),
    )
    keep = pay_day <= np.datetime64(DATA_END)
    rev_day = np.where(rev_day > np.datetime64(DATA_END), np.datetime64("NaT"), rev_day)
    payments = pd.DataFrame(
        {
            "payment_id": _text(np.char.add(f"{offset}-", np.arange(keep.sum()).astype(str))),
            "account_id": ids[pay_acc[keep]],
            "payment_date": pay_day[keep],
            "amount": pay_amt[keep],
            "channel": _cat(
                rng.choice(["bank_transfer", "auto_debit", "cash"], keep.sum()), "channel"
            ),
            "reversed_date": rev_day[keep],
        }
    )
    # actions after each missed or late installment
    late = ~pays_inst | (delay > 0)
    n_act = np.where(late, rng.poisson(3, len(acc)), 0)
    a_src = np.repeat(np.arange(len(acc)), n_act)
    a_acc = acc[a_src]
    offset = rng.integers(1, 120, len(a_src))
    ts = due[a_src].astype("datetime64[s]") + (
        offset * 86400 + rng.integers(8 * 3600, 20 * 3600, len(a_src))
    ).astype("timedelta64[s]")
    channel = np.select(
        [offset < 30, offset < 60],
        [
            rng.choice(["sms", "call"], len(a_src)),
            rng.choice(["call", "visit", "guarantor_contact"], len(a_src)),
        ],
        rng.choice(["letter", "legal_notice", "call", "visit"], len(a_src)),
    )
    outcome = np.where(
        np.isin(channel, ["call", "visit"]),
        rng.choice(
            ["no_answer", "right_party_contact", "promise_to_pay", "refusal", "hardship"],
            len(a_src),
            p=[0.45, 0.2, 0.2, 0.1, 0.05],
        ),
        np.where(channel == "guarantor_contact", "third_party_contact", "delivered"),
    )
    promise = outcome == "promise_to_pay"
    talk = np.isin(outcome, ["right_party_contact", "promise_to_pay", "refusal", "hardship"])
    a_keep = ts <= np.datetime64(DATA_END + "T23:59:59")
    actions = pd.DataFrame(
        {
            "action_id": _text(np.char.add(f"{offset}-", np.arange(len(a_src)).astype(str))),
            "account_id": ids[a_acc],
            "agent_id": "G1",
            "ts": ts,
            "channel": _cat(channel, "channel"),
            "outcome": _cat(outcome, "outcome"),
            "promise_amount": np.where(promise, inst[a_acc], np.nan),
            "promise_date": np.where(
                promise,
                ts.astype("datetime64[D]")
                + rng.integers(0, 10, len(a_src)).astype("timedelta64[D]"),
                np.datetime64("NaT"),
            ).astype("datetime64[ns]"),
            "reason_code": _cat(
                np.where(
                    talk,
                    rng.choice(["cash_flow", "job_loss", "illness", "unknown"], len(a_src)),
                    "",
                ),
                "reason_code",
            ),
            "attitude": _cat(
                np.where(
                    talk, rng.choice(["victim", "evasive", "confident", "unknown"], len(a_src)), ""
                ),
                "attitude",
            ),
        }
    )[a_keep].reset_index(drop=True)
    return {"accounts": accounts, "schedule": schedule, "payments": payments, "actions": actions}


def make_portfolio(n: int, simulator: bool):
    if simulator:
        from recovery.simulate import simulate_portfolio

        portfolio, _ = simulate_portfolio(n_accounts=n, start="2019-01-01", months=48, seed=0)
        return portfolio
    return synthetic_portfolio(n)


# ----------------------------------------------------------------------------- naive
RIGHT_PARTY = ["right_party_contact", "promise_to_pay", "refusal", "dispute", "hardship"]


def naive_features(portfolio, pairs, config) -> pd.DataFrame:
    """Straightforward per-account implementation: groupby().apply over accounts and a
    loop over the account's as_of dates, filtering its rows with pandas each time."""
    grace = pd.Timedelta(days=config.labels.promise_grace_days)
    tol = config.aging.tolerance
    channels = config.categories.action_channels
    pays = portfolio.payments
    acts = portfolio.actions.assign(day=portfolio.actions["ts"].dt.normalize())
    pays_by = dict(tuple(pays.groupby("account_id")))
    acts_by = dict(tuple(acts.groupby("account_id")))
    empty_p, empty_a = pays.iloc[:0], acts.iloc[:0]

    def per_account(group: pd.DataFrame) -> pd.DataFrame:
        account = group.name
        p_all = pays_by.get(account, empty_p)
        a_all = acts_by.get(account, empty_a)
        rows = []
        for as_of in group["as_of"]:
            p = p_all[(p_all["payment_date"] <= as_of) & ~(p_all["reversed_date"] <= as_of)]
            a = a_all[a_all["day"] <= as_of]
            r = {"account_id": account, "as_of": as_of}
            r["days_since_last_payment"] = (
                (as_of - p["payment_date"].max()).days if len(p) else np.nan
            )
            for w in (30, 90, 180):
                inw = p[p["payment_date"] > as_of - pd.Timedelta(days=w)]
                r[f"paid_amount_{w}d"] = inw["amount"].sum()
                r[f"payment_count_{w}d"] = float(len(inw))
            rpc = a["outcome"].isin(RIGHT_PARTY)
            for w in (7, 30, 90):
                inw = a["day"] > as_of - pd.Timedelta(days=w)
                r[f"attempts_{w}d"] = float(inw.sum())
                r[f"right_party_contacts_{w}d"] = float((inw & rpc).sum())
                for ch in channels:
                    is_ch = inw & (a["channel"] == ch)
                    r[f"attempts_{ch}_{w}d"] = float(is_ch.sum())
                    r[f"right_party_contacts_{ch}_{w}d"] = float((is_ch & rpc).sum())
            r["days_since_last_action"] = (as_of - a["day"].max()).days if len(a) else np.nan
            kept = broken = pending = 0
            for _, pr in a[a["outcome"] == "promise_to_pay"].iterrows():
                start = pr["day"]
                deadline = max(pr["promise_date"], start) + grace
                paid = p[(p["payment_date"] >= start) & (p["payment_date"] <= deadline)]
                if paid["amount"].sum() >= pr["promise_amount"] - tol:
                    kept += 1
                elif deadline <= as_of:
                    broken += 1
                else:
                    pending += 1
            r["promises_kept"] = float(kept)
            r["promises_broken"] = float(broken)
            r["promises_pending"] = float(pending)
            rows.append(r)
        return pd.DataFrame(rows)

    out = pairs.groupby("account_id", group_keys=False).apply(per_account, include_groups=False)
    return out.reset_index(drop=True)


def vectorized_same(portfolio, pairs, config) -> pd.DataFrame:
    from recovery.timeline.contact_features import contact_features
    from recovery.timeline.payment_features import payment_features

    a = payment_features(portfolio, pairs, config)
    b = contact_features(portfolio, pairs, config)
    return pd.concat([a, b.drop(columns=["account_id", "as_of"])], axis=1)


# ----------------------------------------------------------------------------- runs
def peak_rss_gb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def run_size(n: int, simulator: bool, partition_size: int) -> dict:
    import tempfile

    from recovery.timeline.catalogue import feature_names
    from recovery.timeline.features import write_features

    t0 = time.perf_counter()
    portfolio = make_portfolio(n, simulator)
    t_data = time.perf_counter() - t0
    rss_data = peak_rss_gb()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(dir=RESULTS) as tmp:
        t0, c0 = time.perf_counter(), time.process_time()
        rows = write_features(
            portfolio,
            list(MONTH_ENDS),
            Path(tmp) / "features.parquet",
            partition_size=partition_size,
        )
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        size_mb = (Path(tmp) / "features.parquet").stat().st_size / 1024**2
    return {
        "accounts": n,
        "month_ends": len(MONTH_ENDS),
        "rows": int(rows),
        "columns": len(feature_names()),
        "parquet_mb": round(size_mb, 1),
        "peak_rss_after_data_gb": round(rss_data, 2),
        "data_seconds": round(t_data, 1),
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "load_average_before": round(load, 2),
        "rows_per_second": round(rows / seconds),
        "peak_rss_gb": round(peak_rss_gb(), 2),
        "payments": int(len(portfolio.payments)),
        "actions": int(len(portfolio.actions)),
    }


def run_naive(n: int, simulator: bool, sample_accounts: int) -> dict:
    from recovery.config import Config
    from recovery.timeline.features import build_features

    config = Config()
    portfolio = make_portfolio(n, simulator)
    pairs = build_features(portfolio, list(MONTH_ENDS))[["account_id", "as_of"]]
    t0 = time.perf_counter()
    fast = vectorized_same(portfolio, pairs, config)
    t_fast = time.perf_counter() - t0
    # the naive code needs ~50 ms a pair: time it on a random sample of the accounts
    # and scale by the number of pairs (its cost is linear in pairs)
    ids = pairs["account_id"].drop_duplicates()
    ids = ids.sample(min(sample_accounts, len(ids)), random_state=0)
    sample = pairs[pairs["account_id"].isin(ids)]
    t0 = time.perf_counter()
    slow = naive_features(portfolio, sample, config)
    t_slow = time.perf_counter() - t0
    t_slow_all = t_slow * len(pairs) / len(sample)
    slow = slow.set_index(["account_id", "as_of"]).sort_index()
    fast = fast.set_index(["account_id", "as_of"]).loc[slow.index]
    mismatch = {}
    for c in slow.columns:
        a, b = fast[c].to_numpy(dtype=float), slow[c].to_numpy(dtype=float)
        bad = ~np.isclose(a, b, equal_nan=True)
        if bad.any():
            mismatch[c] = int(bad.sum())
    return {
        "accounts": n,
        "pairs": int(len(pairs)),
        "naive_sample_accounts": int(len(ids)),
        "naive_sample_pairs": int(len(sample)),
        "features_compared": int(slow.shape[1]),
        "vectorized_seconds": round(t_fast, 2),
        "naive_sample_seconds": round(t_slow, 1),
        "naive_seconds_scaled": round(t_slow_all, 1),
        "speedup": round(t_slow_all / t_fast, 1),
        "mismatches": mismatch,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--naive-accounts", type=int, default=10_000)
    ap.add_argument("--naive-sample", type=int, default=300, help="accounts timed naively")
    ap.add_argument("--partition-size", type=int, default=25_000)
    ap.add_argument("--simulator", action="store_true")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--naive-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one is not None:  # child process: one measurement, JSON on stdout
        if args.naive_only:
            print(json.dumps(run_naive(args.one, args.simulator, args.naive_sample)))
        else:
            print(json.dumps(run_size(args.one, args.simulator, args.partition_size)))
        return
    RESULTS.mkdir(exist_ok=True)
    previous = RESULTS / "features.json"
    results = {
        "sizes": [],
        "naive": None,
        "month_ends": len(MONTH_ENDS),
        "generator": "simulator" if args.simulator else "synthetic",
    }
    if previous.exists():  # keep what this run does not measure again
        before = json.loads(previous.read_text())
        if not args.sizes:
            results["sizes"] = before.get("sizes", [])
        if not args.naive_accounts:
            results["naive"] = before.get("naive")

    def child(extra):
        cmd = [sys.executable, __file__, "--partition-size", str(args.partition_size), *extra]
        if args.simulator:
            cmd.append("--simulator")
        out = subprocess.run(cmd, check=True, capture_output=True, text=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    print(
        f"{'accounts':>10} {'rows':>10} {'cols':>5} {'seconds':>8} {'cpu s':>7} {'rows/s':>9} "
        f"{'peak GB':>8} {'data GB':>8} {'load':>5}"
    )
    for n in [int(s) for s in args.sizes.split(",") if s]:
        r = child(["--one", str(n)])
        results["sizes"].append(r)
        print(
            f"{r['accounts']:>10,} {r['rows']:>10,} {r['columns']:>5} {r['seconds']:>8} "
            f"{r['cpu_seconds']:>7} {r['rows_per_second']:>9,} {r['peak_rss_gb']:>8} "
            f"{r['peak_rss_after_data_gb']:>8} {r['load_average_before']:>5}",
            flush=True,
        )
        (RESULTS / "features.json").write_text(json.dumps(results, indent=2))
    if args.naive_accounts:
        extra = ["--naive-only", "--naive-sample", str(args.naive_sample)]
        r = child(["--one", str(args.naive_accounts), *extra])
        results["naive"] = r
        (RESULTS / "features.json").write_text(json.dumps(results, indent=2))
        print(
            f"payment + contact features ({r['features_compared']}) of {r['pairs']:,} pairs "
            f"({r['accounts']:,} accounts): vectorized {r['vectorized_seconds']} s; naive "
            f"groupby().apply {r['naive_sample_seconds']} s on {r['naive_sample_pairs']:,} "
            f"pairs, scaled to all pairs {r['naive_seconds_scaled']} s → {r['speedup']}x "
            f"(mismatches: {r['mismatches'] or 'none'})"
        )
    (RESULTS / "features.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
