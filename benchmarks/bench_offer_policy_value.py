"""Benchmark: the offer history's IPW and DR value of the recommendation against the truth.

For each seed, simulates a book of the ``offers`` scenario (default 20,000 accounts × 84
months; the desk's rule and its randomised share throughout) and cuts it H months
(``[offers] horizon_months``) before the data end. The recommendation is learned from
the offers made before the cut and the snapshots before it; on the **randomised offers
made before the cut** (their H months of collections all observed) it is valued by
:func:`recovery.operations.offer_policy_value.offer_policy_value` — inverse propensity
(IPW), self-normalised IPW and doubly robust — from the collections that followed each
offer (:func:`~recovery.operations.offer_policy_value.realised_collections`).

The reference is the truth's value of the same decisions (``v_usual`` re-simulated
``--draws`` times per offer, 8 by default: noisy per offer, exact enough on average):
for each of those offers, the
expected discounted collections over H months under the term the recommendation picks
— the mean of re-simulating the offer with that term — from ``truth_offers``
(``v_usual``, and the probabilities of an answer, of acceptance and of completion at
every grid term): a settlement at d brings ``v_usual + P(answer) P(accept) P(paid)
((1 - d) B - v_usual)``; a plan is valued as in
:func:`recovery.operations.offer_value.offer_value` with the truth's probabilities and
``v_usual`` (its installments kept with ``c^(1/n)``: an approximation of the truth's
installment by installment survival). The same is done for the logged terms (the
lender's own offers), as a check that the realised collections and the truth agree.

Prints a table and writes ``benchmarks/results/offer_policy_value.json``.

Usage::

    python benchmarks/bench_offer_policy_value.py                 # 20k accounts, seeds 1-3
    python benchmarks/bench_offer_policy_value.py --accounts 5000 --seeds 1
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.operations.offer_book import fit_offer_model, fit_usual, offer_history
from recovery.operations.offer_policy_value import offer_policy_value, realised_collections
from recovery.operations.offer_recommend import recommend_offers
from recovery.operations.offer_value import offer_value
from recovery.simulate import simulate_portfolio
from recovery.simulate.offers import OFFER_SCENARIOS

ROOT = Path(__file__).resolve().parents[1]


def truth_value(offers: pd.DataFrame, action: pd.DataFrame, truth: pd.DataFrame, config):
    """Expected discounted collections over H of each offer's account under ``action``."""
    rules = config.offers
    key = offers[["offer_id"]].assign(
        kind=action["kind"].to_numpy(),
        discount_share=np.round(action["discount_share"].to_numpy(float), 6),
        installments=action["installments"].to_numpy(),
    )
    t = truth.assign(discount_share=truth["discount_share"].round(6))
    t = t[t["kind"].isin(["settlement", "payment_plan"])]
    t = t.assign(installments=np.where(t["kind"] == "settlement", 1, t["installments"]))
    key = key.assign(installments=np.where(key["kind"] == "settlement", 1, key["installments"]))
    usual = truth.groupby("offer_id")["v_usual"].first()
    vu = offers["offer_id"].map(usual).to_numpy(float)
    got = key.merge(
        t[["offer_id", "kind", "discount_share", "installments", "p_accept", "p_complete"]],
        on=["offer_id", "kind", "discount_share", "installments"],
        how="left",
    )
    frame = offers.drop(columns=["kind", "discount_share", "installments", "plan_amount"]).assign(
        kind=np.where(key["kind"] == "none", "settlement", key["kind"]),
        discount_share=key["discount_share"].to_numpy(),
        installments=key["installments"].to_numpy(),
        plan_amount=action["plan_amount"].to_numpy() if "plan_amount" in action else np.nan,
    )
    share = np.zeros((len(frame), rules.horizon_months + 1))  # what remains after a break:
    share[:, 1:] = (vu / np.maximum(frame["balance"].to_numpy(float), 1e-9))[:, None] * (
        np.arange(1, rules.horizon_months + 1) / rules.horizon_months
    )  # v_usual spread evenly over H (the truth gives its total only)
    val = offer_value(
        frame,
        got["p_accept"].to_numpy(),
        got["p_complete"].to_numpy(),
        vu,
        share,
        rules.horizon_months,
        rules.monthly_discount_rate,
    )["value"].to_numpy()
    none = (key["kind"] == "none").to_numpy()
    missing = ~none & np.isnan(got["p_accept"].to_numpy())
    return np.where(none, vu, vu + np.nan_to_num(val)), int(missing.sum())


def run(accounts: int, months: int, seed: int, config: Config, draws: int) -> dict:
    t0, c0 = time.perf_counter(), time.process_time()
    desk = OFFER_SCENARIOS["offers"].replace(v_usual_draws=draws)
    portfolio, truth = simulate_portfolio(
        n_accounts=accounts, months=months, seed=seed, scenario="offers", config=config, offers=desk
    )
    cut = (portfolio.data_end - pd.DateOffset(months=config.offers.horizon_months)).normalize()
    history = offer_history(portfolio, cut, config)
    model = fit_offer_model(history, random_state=seed)
    usual = fit_usual(portfolio, cut, config)
    done = realised_collections(portfolio, history, config)
    rand = history["randomized"].to_numpy() & done["complete"].to_numpy()
    offers = history[rand].reset_index(drop=True)
    y = done.loc[rand, "collected"].to_numpy()
    state = offers.assign(account_id=np.arange(len(offers)).astype(str))
    policy = recommend_offers(state, model, usual, config).rename(columns={"offer": "kind"})
    policy["plan_amount"] = np.where(
        policy["kind"] == "payment_plan", offers["balance"].to_numpy(), np.nan
    )
    est = offer_policy_value(offers, y, model, usual, config, policy=policy).set_index("estimator")
    true_rec, missing = truth_value(offers, policy, truth.extra["offers"], config)
    logged = offers[["kind", "discount_share", "installments", "plan_amount"]]
    true_logged, _ = truth_value(offers, logged, truth.extra["offers"], config)
    row = {"seed": seed, "offers": len(offers), "matched": int(est.loc["ipw", "matched"])}
    for name in ("ipw", "snipw", "dr", "logged"):
        for col in ("value", "low", "high"):
            row[f"{name}_{col}"] = float(est.loc[name, col])
    row.update(
        truth_recommended=float(np.mean(true_rec)),
        truth_logged=float(np.mean(true_logged)),
        unvalued=missing,
        no_offer=float((policy["kind"] == "none").mean()),
        wall_s=time.perf_counter() - t0,
        cpu_s=time.process_time() - c0,
    )
    for name in ("ipw", "snipw", "dr"):
        row[f"{name}_covers_truth"] = bool(
            row[f"{name}_low"] <= row["truth_recommended"] <= row[f"{name}_high"]
        )
    row["logged_covers_truth"] = bool(
        row["logged_low"] <= row["truth_logged"] <= row["logged_high"]
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=84)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument(
        "--draws", type=int, default=8, help="re-simulations of each offer for its v_usual truth"
    )
    args = parser.parse_args()
    config = Config()
    rows = []
    for seed in args.seeds:
        rows.append(run(args.accounts, args.months, seed, config, args.draws))
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        print(table.round(1).T.to_string())
    out = ROOT / "benchmarks" / "results" / "offer_policy_value.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
