"""False alarms and power of the report's "unusual change" judgement (issue 19).

The monthly report calls a KPI's month-on-month change *unusual* only outside its
normal variation (:func:`recovery.report.kpi_change_table` →
:func:`recovery.analytics.variation.judge_changes`, level 99%). This benchmark measures,
instead of assuming, how often that happens by chance and how often a real change is
caught:

* **false alarms** — books simulated with the simulator's ``stable`` scenario (no
  downturn: nothing changes but chance); the last ``--pairs`` month pairs of each book
  are judged exactly as the report judges them (24 months of history each). The share
  of KPI changes called unusual should be near 1 − level (1%); the issue asks for at
  most twice that.
* **power** — into the same month of the same book, a shift of *k* standard errors is
  injected into one KPI at a time, up and down, at the level of the accounts: for a
  share of accounts, ``k·se·n`` more (or fewer) accounts in the numerator (accounts
  cured, accounts 30+ days past due); for an overdue balance rate, accounts moved
  across the threshold until the balance share moved by the shift; for the collection
  and recovery rates, more accounts paying (each the share of its balance that a random
  payer of the month paid) or fewer; for an amount, the month's total scaled (on the log
  scale its limits use). *se* is the standard error of the
  change as the report estimates it (the band is ± t·se, t the Student quantile with
  24 degrees of freedom at 99%: 2.80): so at k = 3 the expected power of any test with
  1% false alarms is about 0.58, and 90% power needs k ≈ 4.1 — measured here for
  k = 3, 4 and 5. For the rates the shift is also expressed in standard errors of the
  month's *level* from its own denominator (a Wilson or delta-method se, before the
  over-dispersion correction), the unit a statistician would name first: stock rates
  (the overdue rates) whose consecutive months share most accounts are judged far more
  sharply than in that unit, flow rates (cure, collection) less.

Run: ``python benchmarks/bench_report_changes.py --accounts 20000 --seeds 0 1 --pairs 36``
(about 10 minutes on one core); writes ``benchmarks/results/report_changes.json`` and a
per-KPI table ``report_changes.csv``.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from recovery.analytics.kpis import monthly_kpis
from recovery.analytics.variation import KPI_KINDS, kpi_moments, kpi_units, sampling_intervals
from recovery.config import Config
from recovery.report.headline import HEADLINE_KPIS, kpi_change_table
from recovery.simulate import simulate_portfolio
from recovery.timeline.aging import snapshots as make_snapshots

RESULTS = Path(__file__).resolve().parent / "results"
SHIFTS = (3.0, 4.0, 5.0)
LEVEL_SHIFT = 3.0
# rates whose injection moves accounts across the threshold (the rest scale payments)
FLIP = {"overdue_rate_30plus", "overdue_rate_90plus", "cure_rate"}
FLIP_BALANCE = {"overdue_rate_30plus_balance", "overdue_rate_90plus_balance"}


def simulate_book(n_accounts: int, months: int, seed: int, config: Config):
    from recovery.simulate.operation import CollectionOperation

    portfolio, _ = simulate_portfolio(
        config=config,
        n_accounts=n_accounts,
        months=months,
        seed=seed,
        scenario="stable",
        operation=CollectionOperation(truth_draws=0),
    )
    snaps = make_snapshots(portfolio, config=config)
    kpis = monthly_kpis(snaps, config=config, actions=portfolio.actions)
    kpis["month_end"] = pd.to_datetime(kpis["month_end"]).dt.normalize()
    return kpis.set_index("month_end"), kpi_units(snaps, config)


def inject(units: pd.DataFrame, kpi: str, delta: float, rng: np.random.Generator):
    """The units of one month with the rate moved by ``delta`` (fraction points)."""
    u = units.copy()
    x, y = u["x"].to_numpy(dtype=float), u["y"].to_numpy(dtype=float)
    total_x = x.sum()
    if kpi in FLIP:  # accounts into (or out of) the numerator
        pool = np.flatnonzero(y == 0) if delta > 0 else np.flatnonzero(y > 0)
        k = min(int(round(abs(delta) * total_x)), len(pool))
        chosen = rng.choice(pool, size=k, replace=False)
        y[chosen] = 1.0 if delta > 0 else 0.0
    elif kpi in FLIP_BALANCE:  # accounts across the DPD threshold, balance-weighted
        pool = np.flatnonzero((y == 0) & (x > 0)) if delta > 0 else np.flatnonzero(y > 0)
        order = rng.permutation(pool)
        reach = np.cumsum(x[order])
        k = int(np.searchsorted(reach, abs(delta) * total_x)) + 1
        chosen = order[: min(k, len(order))]
        y[chosen] = x[chosen] if delta > 0 else 0.0
    else:  # more (or fewer) accounts pay, each as much as a random payer of the month
        payers = np.flatnonzero((y > 0) & (x > 0))
        if delta > 0 and len(payers):
            order = rng.permutation(np.flatnonzero((y == 0) & (x > 0)))
            ratio = y[payers] / x[payers]
            paid = x[order] * rng.choice(ratio, size=len(order))
            k = int(np.searchsorted(np.cumsum(paid), delta * total_x)) + 1
            y[order[:k]] = paid[:k]
        elif delta < 0:
            order = rng.permutation(payers)
            k = int(np.searchsorted(np.cumsum(y[order]), -delta * total_x)) + 1
            y[order[:k]] = 0.0
    u["y"] = y
    return u


def judge(kpis, month, spec, moments, level):
    return kpi_change_table(kpis, month, specs=[spec], moments=moments, level=level).iloc[0]


def run_book(seed: int, args, config: Config) -> pd.DataFrame:
    t0 = time.perf_counter()
    kpis, units = simulate_book(args.accounts, args.months, seed, config)
    moments = kpi_moments(units)
    print(f"seed {seed}: simulated and aged in {time.perf_counter() - t0:.0f} s", flush=True)
    specs = [s for s in HEADLINE_KPIS if s.name in kpis.columns]
    months = kpis.index.sort_values()[-args.pairs :]
    rng = np.random.default_rng(seed + 1000)
    level_se = sampling_intervals(moments, args.level).set_index(["kpi", "month_end"])["se"]
    rows = []
    for month in months:
        base = kpi_change_table(kpis, month, specs=specs, moments=moments, level=args.level)
        for spec, r in zip(specs, base.to_dict("records"), strict=True):
            row = {"seed": seed, "month_end": month, "kpi": spec.name, "verdict": r["verdict"]}
            if r["verdict"] not in ("unusual", "normal"):
                rows.append(row)
                continue
            row["score"] = r["score"]
            for sign, name in ((1, "up"), (-1, "down")):
                se = r["se_high"] if sign > 0 else r["se_low"]
                shifts = {f"k{k:g}_{name}": k * se for k in SHIFTS}
                if spec.name in KPI_KINDS:
                    shifts[f"level{LEVEL_SHIFT:g}_{name}"] = (
                        LEVEL_SHIFT * level_se[(spec.name, month)]
                    )
                for label, size in shifts.items():
                    delta = sign * size
                    if spec.name in KPI_KINDS:
                        u = units[spec.name]
                        in_month = u["month_end"] == month
                        changed = inject(u[in_month], spec.name, delta, rng)
                        m = kpi_moments({spec.name: changed})
                        keep = ~((moments["kpi"] == spec.name) & (moments["month_end"] == month))
                        trial = judge(kpis, month, spec, pd.concat([moments[keep], m]), args.level)
                    else:
                        k2 = kpis[[spec.name]].copy()
                        if spec.kind == "rate":  # judged on differences
                            k2.loc[month, spec.name] += delta
                        else:  # judged on the log scale
                            k2.loc[month, spec.name] *= np.exp(delta)
                        trial = judge(k2, month, spec, None, args.level)
                    row[label] = trial["verdict"] == "unusual"
            rows.append(row)
    print(f"seed {seed}: judged {len(months)} month pairs in {time.perf_counter() - t0:.0f} s")
    return pd.DataFrame(rows)


def summarise(trials: pd.DataFrame, level: float, history: int) -> tuple[dict, pd.DataFrame]:
    judged = trials[trials["verdict"].isin(["unusual", "normal"])]
    flagged = judged["verdict"].eq("unusual")
    q = float(stats.t.ppf(0.5 + level / 2, history))
    power_cols = [c for c in judged.columns if re.match(r"^(k|level)\d", c)]
    judged = judged.astype({c: float for c in power_cols})
    per_kpi = judged.groupby("kpi").agg(
        judged=("verdict", "size"),
        false_alarm=("verdict", lambda v: float(v.eq("unusual").mean())),
    )
    for c in power_cols:
        per_kpi[c] = judged.groupby("kpi")[c].mean()
    for k in SHIFTS:
        cols = [f"k{k:g}_up", f"k{k:g}_down"]
        per_kpi[f"power_k{k:g}"] = per_kpi[cols].mean(axis=1)
    level_cols = [f"level{LEVEL_SHIFT:g}_up", f"level{LEVEL_SHIFT:g}_down"]
    per_kpi["power_level3"] = per_kpi[level_cols].mean(axis=1)
    summary = {
        "level": level,
        "nominal_false_alarm": 1 - level,
        "t_quantile": q,
        "month_pairs": int(judged.groupby("seed")["month_end"].nunique().sum()),
        "kpi_changes_judged": int(len(judged)),
        "false_alarm_share": float(flagged.mean()),
        "false_alarms": int(flagged.sum()),
        "not_judged": int((~trials["verdict"].isin(["unusual", "normal"])).sum()),
    }
    for k in SHIFTS:
        both = judged[[f"k{k:g}_up", f"k{k:g}_down"]].to_numpy(dtype=float)
        summary[f"power_k{k:g}"] = float(np.nanmean(both))
        summary[f"theory_k{k:g}"] = float(stats.norm.sf(q - k) + stats.norm.cdf(-q - k))
    rates = judged[judged["kpi"].isin(KPI_KINDS)]
    summary["power_level3_rates"] = float(np.nanmean(rates[level_cols].to_numpy(dtype=float)))
    return summary, per_kpi.reset_index()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20000)
    parser.add_argument("--months", type=int, default=84)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--pairs", type=int, default=36)
    parser.add_argument("--level", type=float, default=0.99)
    parser.add_argument("--tag", default="report_changes")
    args = parser.parse_args()
    config = Config()
    start = time.perf_counter()
    trials = pd.concat([run_book(seed, args, config) for seed in args.seeds], ignore_index=True)
    summary, per_kpi = summarise(trials, args.level, config.analytics.change_history_months)
    summary.update(
        accounts=args.accounts,
        months=args.months,
        seeds=args.seeds,
        scenario="stable",
        seconds=round(time.perf_counter() - start, 1),
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.tag}.json").write_text(json.dumps(summary, indent=2) + "\n")
    per_kpi.to_csv(RESULTS / f"{args.tag}.csv", index=False, float_format="%.3f")
    trials.to_csv(RESULTS / f"{args.tag}_trials.csv", index=False)
    print(json.dumps(summary, indent=2))
    shown = ["kpi", "judged", "false_alarm", "power_k3", "power_k4", "power_k5", "power_level3"]
    print(per_kpi[shown].to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
