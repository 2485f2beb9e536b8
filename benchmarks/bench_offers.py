"""Benchmark of the simulated offers: empirical acceptance against the truth's 95 % band.

Simulates a book of the ``offers`` scenario (default: 20,000 accounts over 84 months,
the default collection operation) and, on the **randomised share** (offers whose terms
were drawn at random), compares by term of the grid — settlement discount, plan
length — the share of offers accepted with the truth: the mean of the offers'
``p_accept`` and the 95 % band of the share under the truth — the 2.5 % and 97.5 %
quantiles of the number accepted, a sum of independent Bernoulli draws with the offers'
own probabilities (the Poisson-binomial distribution, computed exactly: the counts are
small where acceptance is rare, so a normal band would be wrong there). Also checks that every offer
keeps the guardrails and that the truth's acceptance is monotone in the discount.

Prints a table, writes ``benchmarks/results/offers.json`` and the figure
``docs/offers_acceptance.png`` (docs/simulator.md).

Usage::

    python benchmarks/bench_offers.py                      # 20k accounts, 84 months
    python benchmarks/bench_offers.py --accounts 5000 --months 48 --no-operation
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def count_band(p: np.ndarray, level: float = 0.95) -> tuple[int, int]:
    """Quantiles (low, high) of a sum of independent Bernoulli(p) draws: the exact
    Poisson-binomial distribution, by convolution one draw at a time."""
    pmf = np.zeros(len(p) + 1)
    pmf[0] = 1.0
    for q in p:
        pmf[1:] = pmf[1:] * (1 - q) + pmf[:-1] * q
        pmf[0] *= 1 - q
    cdf = np.cumsum(pmf)
    tail = (1 - level) / 2
    return int(np.searchsorted(cdf, tail)), int(np.searchsorted(cdf, 1 - tail))


def bands(offers: pd.DataFrame, truth: pd.DataFrame, kind: str, term: str) -> pd.DataFrame:
    """Randomised offers of one kind, by grid term: empirical vs truth (mean and band)."""
    rand = offers[offers["randomized"] & (offers["kind"] == kind)]
    offered = truth[truth["offered"]].set_index("offer_id").loc[rand["offer_id"]]
    frame = pd.DataFrame(
        {
            "term": offered[term].to_numpy(),
            "accepted": (rand["outcome"] == "accepted").to_numpy(),
            "p": offered["p_accept"].to_numpy(),
        }
    )
    out = frame.groupby("term").agg(
        offers=("p", "size"), accepted=("accepted", "mean"), truth=("p", "mean")
    )
    limits = frame.groupby("term")["p"].apply(lambda p: count_band(p.to_numpy()))
    out["low"] = [lo for lo, _ in limits] / out["offers"]
    out["high"] = [hi for _, hi in limits] / out["offers"]
    out["inside"] = (out["accepted"] >= out["low"] - 1e-12) & (
        out["accepted"] <= out["high"] + 1e-12
    )
    return out.reset_index()


def plot(settle: pd.DataFrame, plans: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, table, label, scale in (
        (axes[0], settle, "settlement discount (%)", 100),
        (axes[1], plans, "plan length (months)", 1),
    ):
        x = table["term"] * scale
        ax.fill_between(
            x, table["low"], table["high"], color="tab:blue", alpha=0.2, label="truth: 95 % band"
        )
        ax.plot(x, table["truth"], color="tab:blue", label="truth: mean P(accept)")
        ax.plot(x, table["accepted"], "o", color="tab:orange", label="accepted (share)")
        ax.set_xlabel(label)
        ax.set_ylabel("share of offers accepted")
        ax.grid(alpha=0.3)
    axes[0].set_title("Settlements, randomised share")
    axes[1].set_title("Payment plans, randomised share")
    axes[0].legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=84)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-operation", action="store_true")
    parser.add_argument("--no-figure", action="store_true")
    args = parser.parse_args()

    from recovery.operations.offer_rules import check_offers
    from recovery.simulate import simulate_portfolio

    t0 = time.perf_counter()
    portfolio, truth = simulate_portfolio(
        n_accounts=args.accounts,
        months=args.months,
        seed=args.seed,
        scenario="offers",
        operation=None if args.no_operation else "default",
    )
    seconds = time.perf_counter() - t0
    offers, t = portfolio.offers, truth.extra["offers"]
    settle = bands(offers, t, "settlement", "discount_share")
    plans = bands(offers, t, "payment_plan", "installments")
    wide = t[t["kind"] == "settlement"].pivot(
        index="offer_id", columns="discount_share", values="p_accept"
    )
    monotone = bool((np.diff(wide.to_numpy(), axis=1) >= 0).all())
    breaches = len(check_offers(portfolio))
    pd.set_option("display.width", 120)
    print(
        f"{args.accounts:,} accounts x {args.months} months: {len(offers):,} offers "
        f"({offers['randomized'].mean():.1%} randomised), simulated in {seconds:.0f} s"
    )
    print(offers.groupby(["kind", "outcome"]).size().unstack(fill_value=0))
    print("\nSettlements (randomised share) by discount:")
    print(settle.round(4).to_string(index=False))
    print("\nPayment plans (randomised share) by length:")
    print(plans.round(4).to_string(index=False))
    print(f"\nguardrail breaches: {breaches}; truth monotone in the discount: {monotone}")
    result = {
        "accounts": args.accounts,
        "months": args.months,
        "seed": args.seed,
        "operation": not args.no_operation,
        "seconds": round(seconds, 1),
        "offers": len(offers),
        "randomized_share": round(float(offers["randomized"].mean()), 4),
        "guardrail_breaches": breaches,
        "truth_monotone_in_discount": monotone,
        "settlements": settle.round(4).to_dict("records"),
        "plans": plans.round(4).to_dict("records"),
    }
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "offers.json").write_text(json.dumps(result, indent=2, default=float))
    if not args.no_figure:
        plot(settle, plans, ROOT / "docs" / "offers_acceptance.png")


if __name__ == "__main__":
    main()
