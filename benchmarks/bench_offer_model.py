"""Benchmark of the offer response model (issue 23): learned acceptance against the truth.

For each seed, simulates a book of the ``offers`` scenario (default 20,000 accounts over
84 months), builds each offer's state with
:func:`recovery.operations.offer_rules.offer_context` and fits
:class:`recovery.operations.offer_response.OfferResponseModel` on the book's offers
(design ``auto``: the randomised offers). On the **randomised share** — every offer whose
terms were drawn at random, at every term of the grid its guardrails allow — it compares
the predicted acceptance with the truth's ``p_accept``:

- ``mae``: mean absolute error of the fitted model against the truth;
- ``floor``: the same model fitted to the truth's probabilities on the same rows and
  features (what the features can reach); ``gap = mae - floor``;
- ``naive``: the model fitted on the rule-assigned offers alone, asked outside the terms
  it saw (``extrapolate=True``): its mean absolute error and its mean signed error
  (bias), and the slope of its settlement curve (discount 0.6 minus 0) against the
  truth's.

Prints a table, writes ``benchmarks/results/offer_model.json`` and, for the first seed,
the figure ``docs/offers_learned_acceptance.png`` (mean acceptance of the randomised
settlements by discount: truth, fitted, naive).

Usage::

    python benchmarks/bench_offer_model.py                    # 20k accounts, seeds 1-3
    python benchmarks/bench_offer_model.py --accounts 5000 --seeds 1
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from recovery.operations.offer_response import ConfoundedPriceWarning, OfferResponseModel
from recovery.operations.offer_rules import offer_context
from recovery.simulate import simulate_portfolio

ROOT = Path(__file__).resolve().parents[1]
_TERMS = ["kind", "discount_share", "installments", "deferral_months", "plan_amount"]


def grid_rows(context: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """The randomised offers at every allowed grid term, with their state and truth.

    A plan's amount (what the borrower is asked to repay over its installments) is the
    offer's, whatever its length, as in the truth; a settlement's follows its discount
    (left missing: the model takes the discounted balance).
    """
    rand = context[context["randomized"]]
    grid = truth[truth["offer_id"].isin(rand["offer_id"]) & truth["allowed"]]
    grid = grid[["offer_id", *_TERMS[:-1], "p_accept"]]
    grid = grid.merge(rand.drop(columns=_TERMS), on="offer_id")
    owed = grid["offer_id"].map(rand.set_index("offer_id")["plan_amount"])
    grid["plan_amount"] = owed.where(grid["kind"] == "payment_plan")
    return grid


def slope(model: OfferResponseModel, grid: pd.DataFrame, extrapolate: bool) -> float:
    """Mean change of a settlement's acceptance from discount 0 to 0.6 (same offers)."""
    s = grid[grid["kind"] == "settlement"].drop_duplicates("offer_id")
    lo = model.predict_accept(s.assign(discount_share=0.0), extrapolate=extrapolate)
    hi = model.predict_accept(s.assign(discount_share=0.6), extrapolate=extrapolate)
    return float(np.nanmean(hi - lo))


def curve_figure(grid, pred, npred, path: Path) -> None:
    """Mean acceptance of the randomised settlements by discount: truth, fitted, naive."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = grid.assign(fitted=pred, naive=npred)[grid["kind"] == "settlement"]
    by = s.groupby("discount_share")[["p_accept", "fitted", "naive"]].mean()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(by.index, by["p_accept"], "k-o", label="truth")
    ax.plot(by.index, by["fitted"], "C0-s", label="fitted (all offers, weighted)")
    ax.plot(by.index, by["naive"], "C3--^", label="naive (rule-assigned offers only)")
    ax.set_xlabel("discount (share of the balance)")
    ax.set_ylabel("P(accepted)")
    ax.set_title("Settlement acceptance by discount, randomised offers")
    ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run(accounts: int, months: int, seed: int, figure: Path | None = None) -> dict:
    t0, c0 = time.perf_counter(), time.process_time()
    portfolio, truth = simulate_portfolio(
        n_accounts=accounts, months=months, seed=seed, scenario="offers"
    )
    context = offer_context(portfolio)
    true = truth.extra["offers"]
    grid = grid_rows(context, true)
    model = OfferResponseModel(random_state=seed).fit(context)
    pred = model.predict_accept(grid)
    floor = OfferResponseModel(random_state=seed, design="randomized").fit(
        grid.assign(randomized=True), y=grid["p_accept"].to_numpy()
    )
    fp = floor.predict_accept(grid)
    rule = context[~context["randomized"]].drop(columns=["randomized", "assignment_probability"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConfoundedPriceWarning)
        naive = OfferResponseModel(random_state=seed).fit(rule)
    npred = naive.predict_accept(grid, extrapolate=True)
    s = grid[grid["kind"] == "settlement"].drop_duplicates("offer_id")
    truth_slope = float(
        true[true["offer_id"].isin(s["offer_id"]) & np.isclose(true["discount_share"], 0.6)][
            "p_accept"
        ].mean()
        - true[true["offer_id"].isin(s["offer_id"]) & np.isclose(true["discount_share"], 0.0)][
            "p_accept"
        ].mean()
    )
    ok = ~np.isnan(pred)
    if figure is not None:
        curve_figure(grid, pred, npred, figure)
    return {
        "seed": seed,
        "accounts": accounts,
        "randomised_offers": int(context["randomized"].sum()),
        "grid_rows": len(grid),
        "design": model.design_,
        "covered": float(ok.mean()),
        "mae": float(np.mean(np.abs(pred[ok] - grid["p_accept"].to_numpy()[ok]))),
        "floor": float(np.nanmean(np.abs(fp - grid["p_accept"]))),
        "naive_design": naive.design_,
        "naive_mae": float(np.nanmean(np.abs(npred - grid["p_accept"]))),
        "naive_bias": float(np.nanmean(npred - grid["p_accept"])),
        "slope_fitted": slope(model, grid, False),
        "slope_naive": slope(naive, grid, True),
        "slope_truth": truth_slope,
        "wall_s": time.perf_counter() - t0,
        "cpu_s": time.process_time() - c0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=84)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    figure = ROOT / "docs" / "offers_learned_acceptance.png"
    rows = [
        run(args.accounts, args.months, s, figure if i == 0 else None)
        for i, s in enumerate(args.seeds)
    ]
    table = pd.DataFrame(rows)
    table["gap"] = table["mae"] - table["floor"]
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(table.round(4).to_string(index=False))
    out = ROOT / "benchmarks" / "results" / "offer_model.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
