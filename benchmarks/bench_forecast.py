"""Benchmark: the roll-rate forecast on the committed sample and on a simulated book.

For one book (the committed sample, or a simulator book of ``--accounts`` loans with
the ``benchmark`` scenario, without the collection operation unless ``--operation``, as
``benchmarks/bench_recovery.py``) the snapshots are derived by
:func:`recovery.timeline.aging.snapshots`, then:

1. **Forecast at the data end**: the default
   :class:`recovery.analytics.forecast.RollRateForecaster` (what ``recovery analyze``
   shows), delinquent balance today and 3, 6 and 12 months ahead.
2. **Backtest**: :func:`recovery.analytics.backtest.backtest_roll_rate` from quarterly
   origins (at least 24 months of history), 12 months ahead, recoveries at the recent
   mean (as ``benchmarks/bench_recovery.py``); MAPE and bias of the delinquent balance
   and count by horizon, outside and inside the scenario's downturn (its last 12
   months).
3. **Recent 3-month error**: the 3-month-ahead error of the delinquent balance over
   the last 12 origins that have 3 months of follow-up (the figure ``recovery
   analyze`` reports).

Usage::

    python benchmarks/bench_forecast.py --sample
    python benchmarks/bench_forecast.py --accounts 50000 [--operation] [--cache DIR]

Prints the figures and writes ``benchmarks/results/forecast_<book>.json``. The same
command before and after a change of the forecaster gives the comparison in
``docs/analytics.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from recovery.analytics.backtest import backtest_roll_rate, forecast_errors
from recovery.analytics.forecast import RollRateForecaster
from recovery.timeline.aging import snapshots as make_snapshots

RESULTS = Path(__file__).parent / "results"


def load_book(
    sample: bool, accounts: int, seed: int, cache: Path | None, operation: bool
) -> pd.DataFrame:
    """Snapshots of the committed sample or of a simulated benchmark book."""
    tag = "sample" if sample else f"n{accounts}_s{seed}_o{int(operation)}"
    if cache is not None and (cache / f"{tag}_snapshots.parquet").exists():
        return pd.read_parquet(cache / f"{tag}_snapshots.parquet")
    if sample:
        from recovery.datasets import load_sample

        portfolio = load_sample()
    else:
        from recovery.simulate import simulate_portfolio

        portfolio, _ = simulate_portfolio(
            n_accounts=accounts,
            seed=seed,
            scenario="benchmark",
            operation="default" if operation else None,
        )
    snaps = make_snapshots(portfolio)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        snaps.to_parquet(cache / f"{tag}_snapshots.parquet")
    return snaps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sample", action="store_true", help="the committed sample (2,000 loans)")
    ap.add_argument("--accounts", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument(
        "--operation", action="store_true", help="simulate the collection operation too"
    )
    args = ap.parse_args()
    pd.set_option("display.width", 200)
    tag = "sample" if args.sample else f"n{args.accounts}" + ("_operation" * args.operation)
    snaps = load_book(args.sample, args.accounts, args.seed, args.cache, args.operation)
    results: dict = {"book": tag, "rows": len(snaps)}

    # 1. the forecast at the data end
    f = RollRateForecaster().fit(snaps)
    totals = f.predict_totals(12).set_index("horizon")
    today = float(f.initial_["balance"].sum())
    ahead = {h: float(totals.loc[h, "delinquent_balance"]) for h in (3, 6, 12)}
    print(f"== forecast at {f.data_end_.date()} (default RollRateForecaster) ==")
    print(f"delinquent balance today {today:,.0f}; " + "; ".join(
        f"{h} months {v:,.0f} (x{v / today:.2f})" for h, v in ahead.items()))  # fmt: skip
    results["forecast"] = {"today": today, **{f"h{h}": v for h, v in ahead.items()}}

    # 2. backtest from quarterly origins, 12 months ahead
    months = np.sort(pd.to_datetime(snaps["month_end"]).unique())
    end = pd.Timestamp(months[-1])
    window = (end - pd.offsets.MonthEnd(11), end)
    origins = pd.date_range(end - pd.offsets.MonthEnd(84), end - pd.offsets.MonthEnd(1), freq="3ME")
    origins = origins[origins >= pd.Timestamp(months[0]) + pd.offsets.MonthEnd(24)]
    t0 = time.perf_counter()
    bt = backtest_roll_rate(snaps, origins=origins, months_ahead=12, recoveries="recent_mean")
    seconds = time.perf_counter() - t0
    err = forecast_errors(bt, window=window)
    show = err[
        (
            err["horizon"].isin([1, 3, 6, 12])
            & err["measure"].isin(["delinquent_balance", "delinquent_count"])
        )
        | (
            (err["horizon"] == 12)
            & err["measure"].isin(["gross_charge_off_balance", "net_charge_off_balance"])
        )
    ]
    wide = show.pivot_table(index=["measure", "horizon"], columns="subset", values=["mape", "bias"])
    print(f"\n== backtest: {len(origins)} quarterly origins, 12 months ahead ({seconds:.0f} s) ==")
    print((100 * wide).round(1).to_string())
    results["backtest"] = show.round(5).to_dict("records")
    results["backtest_seconds"] = seconds

    # 3. the 3-month error on the last 12 origins with follow-up
    recent = [pd.Timestamp(m) for m in months[-15:-3]]
    bt3 = backtest_roll_rate(snaps, origins=recent, months_ahead=3)
    e3 = bt3[(bt3["measure"] == "delinquent_balance") & (bt3["horizon"] == 3)]
    mape3, bias3 = float(e3["pct_error"].abs().mean()), float(e3["pct_error"].mean())
    print(f"\n== 3-month error, last {len(recent)} origins: MAPE {100 * mape3:.1f} %, "
          f"bias {100 * bias3:+.1f} % ==")  # fmt: skip
    results["recent_3_month"] = {"origins": len(recent), "mape": mape3, "bias": bias3}

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"forecast_{tag}.json"
    out.write_text(json.dumps(results, indent=1, default=str))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
