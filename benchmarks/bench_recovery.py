"""Benchmark: recovery by debt age, ERC and roll-rate forecasts on the simulator.

Three checks (issue 10), on books from :func:`recovery.simulate.simulate_portfolio`
turned into snapshots by :func:`recovery.timeline.aging.snapshots`:

1. **Recovery by debt age against the truth.** The simulator's
   ``Truth.recovery_by_age`` is the estimand (each account-month's collections in the
   next 12 months, capped at its balance, hidden follow-up months included). Our
   estimate uses the snapshots only, and only month ends with 12 months of follow-up.
   Compared band by band (coarse bands and the < 24 / ≥ 24 months split, both views)
   at the default ``age_decay`` and at a changed one; the target is within 2
   percentage points.
2. **Roll-rate backtest.** :func:`recovery.analytics.backtest.backtest_roll_rate` from quarterly
   origins; MAPE and bias by horizon outside and inside the regime-shift window (the
   benchmark scenario's downturn: its last 12 months). Target: 12-month MAPE of the
   total delinquent balance ≤ 10 % outside the window.
3. **ERC backtest.** :func:`recovery.analytics.backtest.backtest_erc`: the collections
   forecast from ERC on the cohorts charged off by each origin vs what they paid in
   the next 12 months. Target: error ≤ 10 % at 12 months outside the window.

Usage::

    python benchmarks/bench_recovery.py [--accounts 200000] [--alt-age-decay 0.15]
        [--alt-accounts 50000] [--cache DIR] [--operation]

Prints tables and writes ``benchmarks/results/recovery.json``. With ``--cache`` the
simulated snapshots and truth are kept as Parquet in DIR and reused.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from recovery.analytics.backtest import backtest_erc, backtest_roll_rate, forecast_errors
from recovery.analytics.liquidation import ERCForecaster
from recovery.analytics.recovery_curves import (
    age_split_comparison,
    recovery_by_age,
    recovery_drivers,
)
from recovery.simulate import get_scenario, simulate_portfolio
from recovery.timeline.aging import snapshots as make_snapshots

RESULTS = Path(__file__).parent / "results" / "recovery.json"


def book(accounts: int, age_decay: float | None, seed: int, cache: Path | None, operation: bool):
    """Snapshots and the truth's recovery_by_age table (cached as Parquet when asked)."""
    tag = f"n{accounts}_s{seed}_d{age_decay if age_decay is not None else 'default'}_o{int(operation)}"
    if cache is not None:
        snap_path, truth_path = cache / f"{tag}_snapshots.parquet", cache / f"{tag}_truth.parquet"
        if snap_path.exists() and truth_path.exists():
            meta = json.loads((cache / f"{tag}_meta.json").read_text())
            return pd.read_parquet(snap_path), pd.read_parquet(truth_path), meta
    scenario = (
        get_scenario("benchmark", age_decay=age_decay) if age_decay is not None else "benchmark"
    )
    t0 = time.perf_counter()
    portfolio, truth = simulate_portfolio(
        n_accounts=accounts,
        seed=seed,
        scenario=scenario,
        operation="default" if operation else None,
    )
    snaps = make_snapshots(portfolio)
    meta = {
        "data_end": str(portfolio.meta["data_end"]),
        "simulate_and_age_seconds": time.perf_counter() - t0,
    }
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        snaps.to_parquet(snap_path)
        truth.recovery_by_age.to_parquet(truth_path)
        (cache / f"{tag}_meta.json").write_text(json.dumps(meta))
    return snaps, truth.recovery_by_age, meta


def compare_with_truth(snaps: pd.DataFrame, truth: pd.DataFrame, n_bootstrap: int) -> pd.DataFrame:
    """Estimate vs truth per view and band (coarse bands and the 24-month split)."""
    rows = []
    for scope, view in (("charged_off", "charged_off"), ("delinquent", "all_delinquent")):
        est = recovery_by_age(snaps, scope=scope, bands="coarse", n_bootstrap=n_bootstrap)
        t = truth[(truth["view"] == view) & (truth["grouping"] == "age_band")]
        t = t.assign(age_band=t["age_band"].str.replace("m", "", regex=False))
        m = est.merge(t, on="age_band", suffixes=("", "_truth"))
        for r in m.itertuples():
            rows.append(
                (scope, r.age_band, r.n_debts, r.recovery_rate, r.recovery_rate_low, r.recovery_rate_high,
                 r.recovery_share, r.payer_rate, r.payer_share)
            )  # fmt: skip
        split = age_split_comparison(snaps, scope=scope, n_bootstrap=n_bootstrap).iloc[0]
        ts = truth[(truth["view"] == view) & (truth["grouping"] == "age_split")].set_index(
            "age_band"
        )
        for side, label in (("younger", "<24m"), ("older", "24m+")):
            rows.append(
                (scope, label, split[f"n_debts_{side}"], split[f"recovery_rate_{side}"],
                 split[f"recovery_rate_{side}_low"], split[f"recovery_rate_{side}_high"],
                 ts.loc[label, "recovery_share"], split[f"payer_rate_{side}"], ts.loc[label, "payer_share"])
            )  # fmt: skip
    out = pd.DataFrame(
        rows,
        columns=[
            "scope",
            "band",
            "n_debts",
            "estimate",
            "low",
            "high",
            "truth",
            "payer_estimate",
            "payer_truth",
        ],
    )
    out["diff_pp"] = 100 * (out["estimate"] - out["truth"])
    out["payer_diff_pp"] = 100 * (out["payer_estimate"] - out["payer_truth"])
    out["truth_in_ci"] = (out["low"] <= out["truth"]) & (out["truth"] <= out["high"])
    return out


def erc_coverage(snaps: pd.DataFrame, origins, n_bootstrap: int) -> pd.DataFrame:
    """Share of cohorts whose next-12-month collections fall in the ERC range.

    ERC is fitted at each origin with a 12-month horizon (months since charge-off), so
    every cohort younger than 12 months has its whole ERC observed later in the data.
    """
    from recovery.analytics.liquidation import recovery_cells

    pay, cohorts, _ = recovery_cells(snaps, None)
    rows = []
    for origin in origins:
        o = origin.year * 12 + origin.month - 1
        for interval in ("estimation", "prediction"):
            erc = ERCForecaster(n_bootstrap=n_bootstrap, interval=interval, horizon_months=12)
            s = erc.fit_cells(pay, cohorts, o).summary()
            cmi = (s["cohort"].dt.year * 12 + s["cohort"].dt.month - 1).to_numpy()
            later = pay[np.isin(pay["_cmi"], cmi) & (pay["_mi"] > o) & (pay["k"] <= 12)]
            actual = (
                later.groupby("_cmi")["paid_in_month"].sum().reindex(cmi, fill_value=0.0).to_numpy()
            )
            young = (s["months_observed"] < 12).to_numpy()
            inside = (actual >= s["erc_low"].to_numpy()) & (actual <= s["erc_high"].to_numpy())
            rows.append((origin, interval, int(young.sum()), float(inside[young].mean())))
    return pd.DataFrame(rows, columns=["origin", "interval", "cohorts", "coverage"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accounts", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--alt-age-decay", type=float, default=0.15)
    ap.add_argument(
        "--alt-accounts", type=int, default=None, help="book size at the changed age decay"
    )
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument(
        "--operation", action="store_true", help="simulate the collection operation too"
    )
    args = ap.parse_args()
    pd.set_option("display.width", 200)
    results: dict = {"accounts": args.accounts, "seed": args.seed}

    # 1. recovery by debt age vs truth, default and changed age decay --------------
    snaps, truth, meta = book(args.accounts, None, args.seed, args.cache, args.operation)
    results["data_end"] = meta["data_end"]
    checks = {}
    for name, decay in (("default", None), (f"age_decay={args.alt_age_decay}", args.alt_age_decay)):
        s, t, _ = (
            (snaps, truth, meta)
            if decay is None
            else book(
                args.alt_accounts or args.accounts, decay, args.seed, args.cache, args.operation
            )
        )
        t0 = time.perf_counter()
        cmp = compare_with_truth(s, t, args.bootstrap)
        seconds = time.perf_counter() - t0
        print(f"\n== recovery by debt age vs truth ({name}; {seconds:.1f} s incl. bootstrap) ==")
        print(cmp.round(4).to_string(index=False))
        checks[name] = {
            "max_abs_diff_pp": float(cmp["diff_pp"].abs().max()),
            "max_abs_payer_diff_pp": float(cmp["payer_diff_pp"].abs().max()),
            "truth_in_ci": int(cmp["truth_in_ci"].sum()),
            "bands": len(cmp),
            "table": cmp.round(5).to_dict("records"),
            "seconds": seconds,
        }
    results["recovery_by_age"] = checks

    # age vs amount on the benchmark book
    drivers = recovery_drivers(snaps)
    by_amount = age_split_comparison(snaps, by="amount_band", n_bootstrap=args.bootstrap)
    by_product = age_split_comparison(snaps, by="product", n_bootstrap=args.bootstrap)
    print("\n== what explains recovery (charged-off, 12 months): Shapley share of R2 ==")
    print(drivers.round(4).to_string())
    cols = ["recovery_rate_younger", "recovery_rate_older", "recovery_rate_difference",
            "recovery_rate_difference_low", "recovery_rate_difference_high", "n_debts_younger", "n_debts_older"]  # fmt: skip
    print(by_amount[["amount_band", *cols]].round(4).to_string(index=False))
    print(by_product[["product", *cols]].round(4).to_string(index=False))
    results["drivers"] = drivers.reset_index().round(5).to_dict("records")
    results["split_by_amount_band"] = (
        by_amount[["amount_band", *cols]].astype({"amount_band": str}).round(5).to_dict("records")
    )
    results["split_by_product"] = by_product[["product", *cols]].round(5).to_dict("records")

    # 2./3. backtests ------------------------------------------------------------------
    end = pd.Timestamp(meta["data_end"]) + pd.offsets.MonthEnd(0)
    window = (end - pd.offsets.MonthEnd(11), end)
    origins = pd.date_range(end - pd.offsets.MonthEnd(84), end - pd.offsets.MonthEnd(1), freq="3ME")
    origins = origins[origins >= pd.to_datetime(snaps["month_end"]).min() + pd.offsets.MonthEnd(24)]
    t0 = time.perf_counter()
    rr = backtest_roll_rate(snaps, origins=origins, months_ahead=12, recoveries="recent_mean")
    rr_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    er = backtest_erc(snaps, origins=origins, months_ahead=12)
    erc_seconds = time.perf_counter() - t0
    rr_err = forecast_errors(rr, window=window)
    er_err = forecast_errors(er, window=window)
    show = rr_err["horizon"].isin([1, 3, 6, 12]) & rr_err["measure"].isin(
        [
            "delinquent_balance",
            "delinquent_count",
            "gross_charge_off_balance",
            "net_charge_off_balance",
        ]
    )
    print(
        f"\n== roll-rate backtest: {len(origins)} origins, window {window[0].date()}..{window[1].date()} ({rr_seconds:.0f} s) =="
    )
    print(rr_err[show].round(4).to_string(index=False))
    print(f"\n== ERC backtest ({erc_seconds:.0f} s) ==")
    print(er_err[er_err["horizon"].isin([1, 3, 6, 12])].round(4).to_string(index=False))
    cum12 = er[(er["measure"] == "cumulative_collections") & (er["horizon"] == 12)]
    first = cum12["origin"] + pd.offsets.MonthEnd(1)
    outside = cum12[~((first <= window[1]) & (cum12["month_end"] >= window[0]))]
    pooled = (
        float(outside["forecast"].sum() / outside["actual"].sum() - 1) if len(outside) else np.nan
    )
    print(cum12[["origin", "forecast", "actual", "pct_error"]].round(3).to_string(index=False))
    print(f"pooled 12-month ERC error outside the window: {pooled:+.3f}")
    results["roll_rate_backtest"] = rr_err.round(5).to_dict("records")
    results["erc_backtest"] = er_err.round(5).to_dict("records")
    results["erc_12m_by_origin"] = (
        cum12[["origin", "forecast", "actual", "pct_error"]]
        .astype({"origin": str})
        .round(4)
        .to_dict("records")
    )
    results["erc_12m_pooled_error_outside"] = pooled
    results["backtest_seconds"] = {"roll_rate": rr_seconds, "erc": erc_seconds}

    # coverage of the ERC range (12-month horizon, cohorts younger than 12 months)
    cov_origins = [o for o in origins if o + pd.offsets.MonthEnd(12) < window[0]][-6:]
    cov = erc_coverage(snaps, cov_origins, min(args.bootstrap, 100))
    summary = cov.groupby("interval").apply(
        lambda g: (g["coverage"] * g["cohorts"]).sum() / g["cohorts"].sum(), include_groups=False
    )
    print("\n== ERC range coverage (12-month horizon, nominal 95 %) ==")
    print(cov.round(3).to_string(index=False))
    print(summary.round(3).to_string())
    results["erc_range_coverage"] = summary.round(4).to_dict()

    # timing of one fit each --------------------------------------------------------------
    t0 = time.perf_counter()
    erc = ERCForecaster(n_bootstrap=args.bootstrap).fit(snaps)
    results["erc_fit_seconds_with_bootstrap"] = time.perf_counter() - t0
    results["erc_total"] = float(erc.summary()["erc"].sum())
    results["erc_total_range"] = list(erc.total_erc_range_)
    print(f"\nERC now: {results['erc_total']:,.0f} (range {erc.total_erc_range_[0]:,.0f} to "
          f"{erc.total_erc_range_[1]:,.0f}); fit with {args.bootstrap} bootstraps in "
          f"{results['erc_fit_seconds_with_bootstrap']:.1f} s")  # fmt: skip

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1, default=str))
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
