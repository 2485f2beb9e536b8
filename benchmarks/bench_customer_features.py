"""What the customer-level features add to the p_pay model, on a book with multi-loan customers.

Simulates the ``customers`` scenario (a fifth of customers hold two or three loans
sharing the borrower, its shocks and its death) for several seeds; builds the
point-in-time features (with ``[features] customer_level``) and labels of every overdue
(account, month end); fits the default p_pay scorer (LightGBM) on the months before the
out-of-time test window twice — with and without the customer features (group
``customer`` of the catalogue) — and compares AUC and log-loss on the test months, over
all test rows and over the rows of multi-loan customers. Prints a table per seed and the
mean difference with its spread over seeds; writes
``benchmarks/results/customer_features.json`` (git-ignored).

    python benchmarks/bench_customer_features.py                       # docs/features.md
    python benchmarks/bench_customer_features.py --accounts 3000 --months 36 --seeds 0
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.models.evaluation import auc, log_loss
from recovery.models.training import build_model_frame, train_and_evaluate
from recovery.simulate import simulate_portfolio
from recovery.timeline.customer_features import CUSTOMER_FEATURES

RESULTS = Path(__file__).parent / "results"


def _metrics(test: pd.DataFrame, multi: pd.Series) -> dict[str, float]:
    y = test["p_pay"].to_numpy(dtype=float)
    p = test["score"].to_numpy(dtype=float)
    m = test["account_id"].map(multi).fillna(False).to_numpy(dtype=bool)
    return {
        "auc": auc(y, p),
        "log_loss": log_loss(y, p),
        "auc_multi": auc(y[m], p[m]),
        "log_loss_multi": log_loss(y[m], p[m]),
        "n_test": int(len(y)),
        "n_test_multi": int(m.sum()),
    }


def run_seed(seed: int, accounts: int, months: int, test_months: int) -> dict:
    t0 = time.time()
    config = Config.from_dict({"features": {"customer_level": True}})
    pf, _ = simulate_portfolio(
        config, n_accounts=accounts, months=months, seed=seed, scenario="customers"
    )
    t_sim = time.time() - t0
    loans = pf.accounts.groupby("customer_id")["account_id"].transform("size")
    multi = pd.Series(loans.to_numpy() > 1, index=pf.accounts["account_id"].astype(str))
    frame = build_model_frame(pf, config=config)
    t_frame = time.time() - t0 - t_sim
    frame["account_id"] = frame["account_id"].astype(str)
    with_cf = train_and_evaluate(frame, "p_pay", test_months=test_months, config=config)
    without = train_and_evaluate(
        frame.drop(columns=list(CUSTOMER_FEATURES)), "p_pay", test_months=test_months, config=config
    )
    out = {
        "seed": seed,
        "with": _metrics(with_cf.test, multi),
        "without": _metrics(without.test, multi),
        "rows": int(len(frame)),
        "multi_loan_account_share": float(multi.mean()),
        "seconds": {"simulate": t_sim, "features": t_frame, "total": time.time() - t0},
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--test-months", type=int, default=6)
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.time()
    runs = []
    for seed in seeds:
        r = run_seed(seed, args.accounts, args.months, args.test_months)
        runs.append(r)
        w, wo = r["with"], r["without"]
        print(
            f"seed {seed}: rows {r['rows']:,}, test {w['n_test']:,} ({w['n_test_multi']:,} of "
            f"multi-loan customers); AUC {wo['auc']:.4f} -> {w['auc']:.4f}, log-loss "
            f"{wo['log_loss']:.4f} -> {w['log_loss']:.4f}; multi-loan AUC {wo['auc_multi']:.4f} "
            f"-> {w['auc_multi']:.4f}, log-loss {wo['log_loss_multi']:.4f} -> "
            f"{w['log_loss_multi']:.4f} ({r['seconds']['total']:.0f} s)",
            flush=True,
        )
    summary = {}
    for key in ("auc", "log_loss", "auc_multi", "log_loss_multi"):
        diff = np.array([r["with"][key] - r["without"][key] for r in runs])
        summary[key] = {
            "without_mean": float(np.mean([r["without"][key] for r in runs])),
            "with_mean": float(np.mean([r["with"][key] for r in runs])),
            "diff_mean": float(diff.mean()),
            "diff_min": float(diff.min()),
            "diff_max": float(diff.max()),
        }
        print(
            f"{key:15s} without {summary[key]['without_mean']:.4f}  with "
            f"{summary[key]['with_mean']:.4f}  difference {diff.mean():+.4f} "
            f"(seeds: {diff.min():+.4f} … {diff.max():+.4f})"
        )
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    wall = time.time() - t0
    peak = cpu1.ru_maxrss / 1024
    print(f"wall {wall:.0f} s, CPU {cpu:.0f} s (user+sys), peak RSS {peak:.0f} MB")
    RESULTS.mkdir(exist_ok=True)
    report = {
        "args": vars(args),
        "runs": runs,
        "summary": summary,
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "peak_rss_mb": peak,
    }
    (RESULTS / "customer_features.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
