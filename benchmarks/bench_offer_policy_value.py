"""Benchmark: the offer history's IPW, self-normalised IPW and DR value of a policy against
its value re-simulated on the same accounts over the same window.

For each seed, a book of the ``offers`` scenario (default 20,000 accounts × 84 months) is
simulated with the desk as usual — its rule and its randomised share, the probability of
the terms recorded — throughout (the *logged* run). The **evaluation window** is the
``--window`` months (default 24) that end H months (``[offers] horizon_months``) before
the data end, so that every offer in it has its H months observed.

**The estimand** (the same on both sides): over the *first offer at random terms of each
account in the window* — the population an offer history with random terms speaks for —
the mean discounted collections of the account over the H months after that offer
(:func:`recovery.operations.offer_policy_value.realised_collections`: month t after the
offer discounted by δ^(t-1)), had the policy chosen that offer (possibly no offer) and the
desk worked as usual afterwards (its rule, and its random terms at the account's later
offers).

- **From the history** (what a lender without a simulator can do): the recommendation is
  learned from the offers and snapshots before the window; on the window's first
  randomised offers, :func:`~recovery.operations.offer_policy_value.offer_policy_value`
  gives IPW, self-normalised IPW and DR with 95 % intervals, from each offer's recorded
  ``assignment_probability`` and realised collections. Two versions of the policy's
  action per offer: the policy applied to the history's state of the account (what a
  lender would do; ``history``), and the action it actually took in the re-simulation at
  that offer (``same``: isolates the estimator from the rebuilding of the state).
- **By re-simulation**: the same seed (same accounts, same history up to the window) is
  run again with :class:`recovery.simulate.offer_policies.AtRandomisedOffers` from the
  window's start: the desk as usual, except at each randomised account's first offer at
  random terms, where the policy decides. The re-simulated value is the mean of the same
  realised collections on the same offers; its Monte-Carlo error is the standard error of
  that mean over the offers. Each estimate is also compared *paired* (per offer: the
  estimator's term minus the re-simulated collections). The simulator draws every
  account's offers and answers from its own stream, but accounts share the collection
  operation: a change to one account's course can reach another's before its first
  offer (``events_found``: the share of offers whose re-simulated first offer came in
  the same month; elsewhere the ``same`` action is the policy's on the history's state).
  Where a gap comes from: ``*_ipw_gap_modelled`` (the offers valued by the model: no
  offer, or another kind) and ``*_ipw_gap_elsewhere`` (offers not found) are their
  shares of the IPW's paired difference.

Policies: the recommendation (:func:`recovery.operations.offer_recommend.offer_policy`),
no offer, and a settlement at 50 % off where allowed (controls whose truth is easy).

Prints a table and writes ``benchmarks/results/offer_policy_value.json``.

Usage::

    python benchmarks/bench_offer_policy_value.py                      # 20k accounts, seeds 1-3
    python benchmarks/bench_offer_policy_value.py --accounts 3000 --seeds 1
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from recovery.config import Config
from recovery.operations.offer_book import fit_offer_model, fit_usual, offer_history
from recovery.operations.offer_policy_value import (
    offer_policy_value,
    realised_collections,
    same_action,
)
from recovery.operations.offer_recommend import offer_policy
from recovery.simulate.offer_policies import (
    AtRandomisedOffers,
    FixedDiscount,
    evaluate_offer_policies,
    no_offers,
)
from recovery.simulate.offers import OFFER_SCENARIOS

ROOT = Path(__file__).resolve().parents[1]
Z = norm.ppf(0.975)
ESTIMATORS = ("ipw", "snipw", "dr")
START = "2019-01-01"  # the simulated book's first month (evaluate_offer_policies' default)


def simulate(policy, name, accounts, months, seed, switch, desk, config):
    """One run of the book from the window's start (``desk``: the desk as usual)."""
    keep: dict = {}
    rows = evaluate_offer_policies(
        {name: policy},
        n_accounts=accounts,
        seeds=(seed,),
        months=months,
        switch=switch,
        offers=desk,
        config=config,
        keep=keep,
    )
    portfolio, _ = keep[(seed, name)]
    return (
        portfolio,
        pd.Timestamp(rows["switch_date"].iloc[0]),
        int(rows["pre_switch_fingerprint"].iloc[0]),
    )


def decisions_at(events: pd.DataFrame, made: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The re-simulation's decision at each logged event (same account, same month)."""
    key = events[["account_id", "offered_at"]].assign(
        account_id=events["account_id"].astype(str),
        decision_date=pd.to_datetime(events["offered_at"]).dt.normalize(),
    )
    m = made.assign(
        account_id=made["account_id"].astype(str),
        decision_date=pd.to_datetime(made["decision_date"]).dt.normalize(),
    )
    got = key.merge(m, on=["account_id", "decision_date"], how="left")
    same = got["kind"].notna().to_numpy()
    got["kind"] = got["kind"].fillna("none")
    for col in ("discount_share", "installments", "deferral_months"):
        got[col] = pd.to_numeric(got[col], errors="coerce").fillna(0)
    return got[["kind", "discount_share", "installments", "deferral_months"]], same


def compare(est, terms, resim: np.ndarray, prefix: str) -> dict:
    """Each estimate against the re-simulated mean: inside its interval, and paired."""
    row = {}
    for name in ESTIMATORS:
        if name not in est.index:
            continue
        low, high = est.loc[name, "low"], est.loc[name, "high"]
        diff = terms[name].to_numpy() - resim
        se = diff.std(ddof=1) / np.sqrt(len(diff))
        row.update(
            {
                f"{prefix}{name}": est.loc[name, "value"],
                f"{prefix}{name}_low": low,
                f"{prefix}{name}_high": high,
                f"{prefix}{name}_covers": bool(low <= resim.mean() <= high),
                f"{prefix}{name}_diff": diff.mean(),
                f"{prefix}{name}_diff_se": se,
                f"{prefix}{name}_diff_covers_0": bool(abs(diff.mean()) <= Z * se),
            }
        )
    return row


def run(accounts: int, months: int, seed: int, window: int, config: Config) -> tuple[list, dict]:
    t0, c0 = time.perf_counter(), time.process_time()
    horizon = config.offers.horizon_months
    switch = str((pd.Timestamp(START) + pd.DateOffset(months=months - horizon - window)).date())
    desk = OFFER_SCENARIOS["offers"].replace(v_usual_draws=0)
    # the desk as it is: its randomised share (the accounts), and the history before
    # the window (the same in every run of the seed) to learn the recommendation from
    book, start, fingerprint = simulate(
        "desk", "desk", accounts, months, seed, switch, desk, config
    )
    end = (start + pd.DateOffset(months=window)).normalize()
    offers = book.offers
    randomized = offers.loc[offers["randomized"].astype(bool), "account_id"].astype(str).unique()
    history = offer_history(book, start, config)
    model = fit_offer_model(history, random_state=seed)
    usual = fit_usual(book, start, config)
    # the logged run: from the window on, the desk's draws are AtRandomisedOffers' own
    # (so that the policies' runs differ from it only at the first offers)
    logging = AtRandomisedOffers(None, randomized, desk, config, seed)
    logged, _, fp = simulate(logging, "logged", accounts, months, seed, switch, desk, config)
    assert fp == fingerprint, "the logged run must share the history"
    first = logging.events_
    first = first[pd.to_datetime(first["decision_date"]) < end]
    key = first[["account_id", "decision_date"]].rename(columns={"decision_date": "offered_at"})
    made = logged.offers.assign(account_id=logged.offers["account_id"].astype(str))
    first = key.merge(made, on=["account_id", "offered_at"], how="inner")
    assert len(first) == len(key) and first["randomized"].all()
    state = offer_history(logged, end, config)
    state = state.set_index("offer_id").loc[first["offer_id"]].reset_index()
    done = realised_collections(logged, state, config)
    assert done["complete"].all(), "the window's offers must have their H months observed"
    y = done["collected"].to_numpy()
    prep = {
        "seed": seed,
        "offers": len(state),
        "logged_mean": float(y.mean()),
        "history_offers": len(history),
    }
    policies = {
        "recommended": offer_policy(model, usual, config),
        "none": no_offers,
        "fixed_50": FixedDiscount(0.5, config),
    }
    rows = []
    for name, policy in policies.items():
        c1 = time.process_time()
        wrapped = AtRandomisedOffers(policy, randomized, desk, config, seed)
        run_, _, fp = simulate(wrapped, name, accounts, months, seed, switch, desk, config)
        assert fp == fingerprint, "the re-simulation must share the history"
        resim = realised_collections(run_, state, config)["collected"].to_numpy()
        same, found = decisions_at(state, wrapped.events_)
        # the policy applied to the history's state of each account (a lender's view)
        on_history = policy(state.assign(account_id=state["account_id"].astype(str)))
        on_history = on_history.reset_index(drop=True)
        # where the re-simulation's first offer came elsewhere (another account's change
        # of course reached this one first), the policy's action on the history's state
        same = same.where(pd.Series(found, index=same.index), on_history[same.columns], axis=0)
        row = {
            **prep,
            "policy": name,
            "events_found": float(found.mean()),
            "resim": float(resim.mean()),
            "resim_se": float(resim.std(ddof=1) / np.sqrt(len(resim))),
            "offered": float((same["kind"] != "none").mean()),
        }
        row["history_agrees"] = float(same_action(on_history, same).mean())
        for label, action in {"same": same, "history": on_history}.items():
            est, terms = offer_policy_value(
                state, y, model, usual, config, policy=action, return_terms=True
            )
            est = est.set_index("estimator")
            row[f"{label}_matched"] = int(est.loc["ipw", "matched"])
            row[f"{label}_modelled"] = int(est.loc["ipw", "modelled"])
            row.update(compare(est, terms, resim, f"{label}_"))
            # where the gap comes from: the offers valued by the model, and those whose
            # first offer came at another month in the re-simulation
            modelled = ~(
                same_action(state, action) | (action["kind"].to_numpy() == state["kind"].to_numpy())
            )
            gap = terms["ipw"].to_numpy() - resim
            row[f"{label}_ipw_gap_modelled"] = float((gap * modelled).mean())
            row[f"{label}_ipw_gap_elsewhere"] = float((gap * ~found).mean())
        row["cpu_s"] = time.process_time() - c1
        rows.append(row)
        print({k: (round(v, 1) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    cost = {"seed": seed, "wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}
    return rows, cost


def pooled(rows: pd.DataFrame) -> pd.DataFrame:
    """Seeds pooled per policy: offer-weighted means of the estimates, the re-simulated
    values and the paired differences (their standard errors combined as independent)."""
    out = []
    for policy, g in rows.groupby("policy", sort=False):
        n = g["offers"].to_numpy(float)
        share = n / n.sum()
        row = {"policy": policy, "seeds": len(g), "offers": int(n.sum())}
        row["resim"] = float((share * g["resim"]).sum())
        row["resim_se"] = float(np.sqrt((share**2 * g["resim_se"] ** 2).sum()))
        for label in ("same", "history"):
            for name in ESTIMATORS:
                col = f"{label}_{name}"
                if f"{col}_diff" not in g:
                    continue
                diff = float((share * g[f"{col}_diff"]).sum())
                se = float(np.sqrt((share**2 * g[f"{col}_diff_se"] ** 2).sum()))
                row[f"{col}_diff"] = diff
                row[f"{col}_diff_low"] = diff - Z * se
                row[f"{col}_diff_high"] = diff + Z * se
                row[f"{col}_diff_covers_0"] = bool(abs(diff) <= Z * se)
                row[f"{col}_covers"] = f"{int(g[f'{col}_covers'].sum())}/{len(g)}"
        out.append(row)
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=84)
    parser.add_argument("--window", type=int, default=24, help="months of the evaluation window")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument(
        "--out", default=str(ROOT / "benchmarks" / "results" / "offer_policy_value.json")
    )
    parser.add_argument(
        "--pool", nargs="+", help="pool the seeds of these result files (no simulation)"
    )
    args = parser.parse_args()
    if args.pool:
        rows = [r for f in args.pool for r in json.loads(Path(f).read_text())["rows"]]
        with pd.option_context("display.width", 250, "display.max_rows", 200):
            print(pooled(pd.DataFrame(rows)).round(1).T.to_string())
        return
    config = Config()
    rows, costs = [], []
    for seed in args.seeds:
        r, c = run(args.accounts, args.months, seed, args.window, config)
        rows += r
        costs.append(c)
        print(c, flush=True)
    table = pd.DataFrame(rows)
    with pd.option_context(
        "display.width", 250, "display.max_columns", 60, "display.max_rows", 200
    ):
        print(table.round(2).T.to_string())
        print(pooled(table).round(1).T.to_string())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"rows": rows, "costs": costs, "peak_rss_gb": peak}, indent=2, default=float)
    )
    print(f"peak RSS {peak:.2f} GB; CPU {sum(c['cpu_s'] for c in costs):.0f} s")


if __name__ == "__main__":
    main()
