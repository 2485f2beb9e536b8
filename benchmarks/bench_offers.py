"""Benchmark of the simulated offers: empirical acceptance against the truth's 95 % band.

Simulates a book of the ``offers`` scenario (default: 20,000 accounts over 84 months,
the default collection operation) and, on the **randomised share** (offers whose terms
were drawn at random), compares by term of the grid — settlement discount, plan
length — the share of offers accepted with the truth: the mean of the offers'
``p_accept`` and the 95 % band of the share under the truth — the 2.5 % and 97.5 %
quantiles of the number accepted, a sum of independent Bernoulli draws with the offers'
own probabilities (the Poisson-binomial distribution, computed exactly: the counts are
small where acceptance is rare, so a normal band would be wrong there). Also checks that every offer
keeps the guardrails and that the truth's acceptance is monotone in the discount; the
completion of accepted plans and deferrals against the truth's P(complete); and, on
books whose offers are all refused (``--usual-seeds`` of them, each account offered at
most once), the truth's ``v_usual`` against the collections the accounts then made over
the horizon, with its Monte-Carlo error and its cost in CPU time.

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
    return band_table(frame, "term", "accepted")


def band_table(frame: pd.DataFrame, by: str, outcome: str) -> pd.DataFrame:
    """Per group: offers, the empirical share of ``outcome``, the truth's mean ``p`` and
    the 95 % band of the share (:func:`count_band`)."""
    out = frame.groupby(by).agg(offers=("p", "size"), **{outcome: (outcome, "mean")})
    out["truth"] = frame.groupby(by)["p"].mean()
    limits = frame.groupby(by)["p"].apply(lambda p: count_band(p.to_numpy()))
    out["low"] = [lo for lo, _ in limits] / out["offers"]
    out["high"] = [hi for _, hi in limits] / out["offers"]
    out["inside"] = (out[outcome] >= out["low"] - 1e-12) & (out[outcome] <= out["high"] + 1e-12)
    return out.reset_index()


def completion(offers: pd.DataFrame, truth: pd.DataFrame, data_end) -> pd.DataFrame:
    """Accepted plans and deferrals whose last due month ended before the data end:
    completed share against the truth's P(complete) of the term offered (mean, 95 %
    band)."""
    offered = truth[truth["offered"]].set_index("offer_id")
    o = offers[offers["outcome"] == "accepted"].set_index("offer_id")
    o = o[o["kind"].isin(["payment_plan", "deferral"])]
    months = np.where(
        o["kind"] == "payment_plan", o["installments"].fillna(0), o["deferral_months"].fillna(0)
    ).astype(int)
    last = o["offered_at"].dt.to_period("M") + months + 1
    o = o[(last.dt.to_timestamp(how="end") <= pd.Timestamp(data_end)).to_numpy()]
    frame = pd.DataFrame(
        {
            "kind": o["kind"].to_numpy(),
            "completed": (o["result"] == "completed").to_numpy(),
            "p": offered.loc[o.index, "p_complete"].to_numpy(),
        }
    )
    return band_table(frame, "kind", "completed")


#: Offers nobody accepts, one per account at most: after the offer each account follows
#: the usual collection work, so its realised collections estimate ``v_usual``.
REFUSED = dict(
    plan_accept_logit=-40.0,
    deferral_accept_logit=-40.0,
    strategic_shift=1.0,
    acceptance_scale=0.02,
    offer_cooldown_months=1000,
)


def usual_check(accounts: int, months: int, seed: int, operation) -> dict:
    """``v_usual`` against the realised discounted collections of refused offers."""
    from recovery.config import Config
    from recovery.simulate import simulate_portfolio
    from recovery.simulate.offers import OfferParams
    from recovery.simulate.params import ARCHETYPES

    rules = Config().offers
    horizon, rate = rules.value_horizon_months, rules.monthly_discount_rate
    params = OfferParams(**REFUSED, strategic_archetypes=tuple(ARCHETYPES))
    c0 = time.process_time()
    portfolio, truth = simulate_portfolio(
        n_accounts=accounts,
        months=months,
        seed=seed,
        scenario="offers",
        offers=params,
        operation=operation,
    )
    cpu = time.process_time() - c0
    c0 = time.process_time()
    simulate_portfolio(
        n_accounts=accounts,
        months=months,
        seed=seed,
        scenario="offers",
        offers=params.replace(v_usual_draws=0),
        operation=operation,
    )
    cpu_without = time.process_time() - c0
    t = truth.extra["offers"].drop_duplicates("offer_id").set_index("offer_id")
    end = pd.Timestamp(portfolio.data_end)
    month = lambda d: d.dt.year * 12 + d.dt.month  # noqa: E731
    o = portfolio.offers.assign(m=month(portfolio.offers["offered_at"]))
    o = o[o["m"] + horizon <= end.year * 12 + end.month]
    pay = portfolio.payments
    pay = pay[pay["reversed_date"].isna() | (pay["reversed_date"] > end)]
    pay = pay.merge(o[["account_id", "offer_id", "m"]], on="account_id")
    k = month(pay["payment_date"]) - pay["m"]
    pay = pay[(k >= 0) & (k < horizon)]
    pay = pay.assign(value=pay["amount"] / (1 + rate) ** k[pay.index])
    realised = pay.groupby("offer_id")["value"].sum().reindex(o["offer_id"]).fillna(0.0)
    v = t.loc[o["offer_id"], "v_usual"]
    se = t.loc[o["offer_id"], "v_usual_se"]
    return {
        "seed": seed,
        "offers": int(len(o)),
        "realised_mean": float(realised.mean()),
        "realised_se": float(realised.std() / np.sqrt(len(o))),
        "v_usual_mean": float(v.mean()),
        "v_usual_mean_se": float(np.sqrt((se**2).sum()) / len(o)),
        "per_offer_relative_se": float(se.sum() / max(v.sum(), 1e-9)),
        "cpu_seconds": round(cpu, 1),
        "cpu_seconds_without_v_usual": round(cpu_without, 1),
    }


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
    parser.add_argument(
        "--usual-seeds", type=int, default=3, help="books of refused offers checking v_usual"
    )
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
    completed = completion(offers, t, portfolio.data_end)
    operation = None if args.no_operation else "default"
    usual = pd.DataFrame(
        [
            usual_check(args.accounts, args.months, args.seed + 100 + i, operation)
            for i in range(args.usual_seeds)
        ]
    )
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
    print("\nPlans and deferrals accepted (term over before the data end): completed")
    print(completed.round(4).to_string(index=False))
    print("\nv_usual against the realised collections of refused offers (currency):")
    print(usual.round(3).to_string(index=False))
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
        "completion": completed.round(4).to_dict("records"),
        "v_usual": usual.round(4).to_dict("records"),
    }
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "offers.json").write_text(json.dumps(result, indent=2, default=float))
    if not args.no_figure:
        plot(settle, plans, ROOT / "docs" / "offers_acceptance.png")


if __name__ == "__main__":
    main()
