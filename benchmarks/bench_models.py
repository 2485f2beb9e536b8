"""Benchmark of recovery.models on the simulator's benchmark scenario.

Simulates a portfolio (default 50,000 accounts, 84 months, scenario "benchmark", which
contains a regime shift), builds point-in-time features and labels for every overdue
account at each month end of the analysis window, and for p_pay and p_cure:

- fits LightGBM with the stage as a feature, LightGBM with one model per stage, and the
  logistic-regression baseline, on months before the test window (gap of one horizon);
- scores the out-of-time test months, which run through the regime shift, and compares
  each model with the simulator's true probabilities: mean |p − p_true|, ECE, AUC,
  the oracle AUC (true probabilities on the same rows) and the gap to it;
- monitors PSI of the features and of the score by month against training, and
  performance by month;

and fits the expected-amount model (amount given payment). Prints tables and writes
``benchmarks/results/models.json`` (git-ignored). Run once, briefly:

    python benchmarks/bench_models.py            # the full benchmark (minutes)
    python benchmarks/bench_models.py --accounts 5000 --months 36   # a quick look
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression, Ridge

from recovery.config import Config
from recovery.models import (
    Scorer,
    classification_metrics,
    evaluation_report,
    performance_by_month,
    regression_metrics,
    score_distribution_by_month,
    stability_by_month,
    stability_table,
)
from recovery.models.design import assign_stage
from recovery.models.split import out_of_time_masks
from recovery.models.training import (
    attach_truth,
    build_model_frame,
    score_with_monthly_recalibration,
    training_labels,
)

RESULTS = Path(__file__).parent / "results"


def _log(msg: str, t0: float) -> None:
    print(f"[{time.time() - t0:7.1f}s] {msg}", flush=True)


def _shift_month(portfolio) -> pd.Timestamp | None:
    """Last month end before the downturn (its p_pay window is the downturn's first month)."""
    from recovery.simulate.params import get_scenario

    months = get_scenario(portfolio.meta.get("scenario", "benchmark")).downturn_months
    if not months:
        return None
    ends = pd.date_range(end=portfolio.data_end, periods=months + 1, freq="ME")
    return pd.Timestamp(ends[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--months", type=int, default=84, help="simulated months")
    parser.add_argument("--window", type=int, default=83, help="as-of month ends analysed")
    parser.add_argument("--test-months", type=int, default=14)
    parser.add_argument("--test-start", default="2024-10-31", help="first test month end")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--figures", default=None, help="directory for PNG figures")
    parser.add_argument(
        "--cache",
        action="store_true",
        help="keep the model frame in benchmarks/results (git-ignored)",
    )
    args = parser.parse_args()
    t0 = time.time()
    config = Config()

    cache = (
        RESULTS / f"models_frame_{args.accounts}_{args.months}_{args.window}_{args.seed}.parquet"
    )
    from recovery.simulate import simulate_portfolio

    portfolio, truth = simulate_portfolio(
        config,
        n_accounts=args.accounts,
        months=args.months,
        seed=args.seed,
        scenario="benchmark",
    )
    _log(f"simulated {portfolio!r}", t0)
    shift = _shift_month(portfolio)
    print("regime shift: downturn in the months after", shift)
    if args.cache and cache.is_file():
        frame = pd.read_parquet(cache)
    else:
        end = portfolio.data_end
        dates = pd.date_range(end=end, periods=args.window + 1, freq="ME")
        dates = dates[dates <= end][-args.window :]
        frame = build_model_frame(portfolio, dates, config, progress=True)
        frame = attach_truth(frame, truth)
        frame["stage"] = assign_stage(frame, config).to_numpy()
        if args.cache:
            RESULTS.mkdir(exist_ok=True)
            frame.to_parquet(cache)
    _log(f"model frame: {len(frame):,} overdue account-months x {frame.shape[1]} columns", t0)

    out: dict = {"accounts": args.accounts, "rows": len(frame), "shift": str(shift)}
    import lightgbm as lgb

    def lgbm(task="binary"):
        cls = lgb.LGBMRegressor if task == "regression" else lgb.LGBMClassifier
        return cls(
            n_estimators=3000,
            learning_rate=0.05,
            num_leaves=31,
            min_child_samples=200,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            reg_lambda=1.0,
            random_state=args.seed,
            n_jobs=args.threads,
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
        )

    summary_rows = []
    for target in ("p_pay", "p_cure"):
        y = training_labels(frame, target)
        labelled = frame[y.notna()]
        months = np.sort(labelled["as_of"].unique())
        test_start = (
            pd.Timestamp(args.test_start)
            if args.test_start
            else pd.Timestamp(months[-args.test_months])
        )
        horizon = getattr(config.labels, f"{target}_horizon_days")
        train_mask, test_mask = out_of_time_masks(labelled["as_of"], test_start, horizon)
        train, test = labelled[train_mask], labelled[test_mask]
        truth_col = f"{target}_true"
        y_test = training_labels(test, target).to_numpy()
        print(
            f"\n== {target}: train {len(train):,} rows ({train['as_of'].min().date()} – "
            f"{train['as_of'].max().date()}), test {len(test):,} rows "
            f"({test_start.date()} – {test['as_of'].max().date()}), regime shift {shift}"
        )
        models = {
            "lightgbm_stage_feature": Scorer(
                lgbm(),
                target=target,
                stage_strategy="feature",
                random_state=args.seed,
                config=config,
            ),
            "lightgbm_separate": Scorer(
                lgbm(),
                target=target,
                stage_strategy="separate",
                random_state=args.seed,
                config=config,
            ),
            "logistic": Scorer(
                LogisticRegression(C=1.0, max_iter=3000),
                target=target,
                random_state=args.seed,
                config=config,
            ),
        }
        rows, fitted = [], {}
        for name, scorer in models.items():
            t1 = time.time()
            scorer.fit(train, training_labels(train, target))
            fit_seconds = round(time.time() - t1, 1)
            static = scorer.predict(test)
            rolling, log = score_with_monthly_recalibration(scorer, labelled, target)
            rolling = rolling[test_mask]
            fitted[name] = (scorer, static, rolling, log)
            for mode, p in (("static", static), ("monthly_recalibrated", rolling)):
                m = classification_metrics(y_test, p, test[truth_col])
                m.update(
                    model=name,
                    mode=mode,
                    fit_seconds=fit_seconds,
                    calibration=",".join(sorted({c.method for c in scorer.calibrators_.values()})),
                )
                rows.append(m)
                _log(
                    f"{target} {name} {mode}: auc {m['auc']:.4f} oracle {m['oracle_auc']:.4f} "
                    f"mae_true {m['mae_true']:.4f} ece {m['ece']:.4f} "
                    f"ece_true {m['ece_true']:.4f}",
                    t0,
                )
        # the feature floor: a model fitted to the true probabilities themselves
        floor = Scorer(
            lgbm("regression"),
            target="amount",
            calibration="none",
            random_state=args.seed,
            config=config,
        )
        floor_y = train[truth_col].to_numpy() + 1e-9  # the amount target drops zeros
        floor.fit(train, floor_y)
        floor_p = np.clip(floor.predict(test), 0, 1)
        floor_mae = float(np.mean(np.abs(floor_p - test[truth_col].to_numpy())))
        table = pd.DataFrame(rows).set_index(["model", "mode"])
        cols = [
            "n",
            "base_rate",
            "mean_p",
            "mean_p_true",
            "auc",
            "oracle_auc",
            "auc_gap",
            "mae_true",
            "ece",
            "ece_true",
            "oracle_ece",
            "brier",
            "ks",
            "calibration",
            "fit_seconds",
        ]
        print(table[cols].round(4).to_string())
        print(
            f"feature floor (LightGBM fitted to {truth_col} itself): mean |p - p_true| = "
            f"{floor_mae:.4f}"
        )
        best = "lightgbm_stage_feature"
        scorer, static, rolling, log = fitted[best]
        scored = test.assign(score=rolling, static=static, _y=y_test)
        report = evaluation_report(scored, "_y", "score", truth=truth_col, by=("stage", "bucket"))
        print(
            report[
                [
                    "segment",
                    "value",
                    "n",
                    "base_rate",
                    "mean_p",
                    "mean_p_true",
                    "auc",
                    "oracle_auc",
                    "mae_true",
                    "ece",
                    "ece_true",
                ]
            ]
            .round(4)
            .to_string(index=False)
        )
        perf = performance_by_month(scored, "_y", "score", truth=truth_col, censored=None)
        perf_static = performance_by_month(scored, "_y", "static", truth=truth_col, censored=None)
        perf["ece_static"] = perf_static["ece"].to_numpy()
        perf["mean_p_static"] = perf_static["mean_p"].to_numpy()
        print(
            perf[
                [
                    "month",
                    "matured",
                    "base_rate",
                    "mean_p_true",
                    "mean_p_static",
                    "mean_p",
                    "auc",
                    "mae_true",
                    "ece_static",
                    "ece",
                ]
            ]
            .round(4)
            .to_string(index=False)
        )
        print("monthly offsets:\n", log.round(3).to_string(index=False))
        psi = stability_by_month(scorer, labelled)
        score_psi = psi[psi["variable"] == "score"].set_index("month")["psi"]
        after = psi[psi["month"] >= (shift or test_start)]
        worst = after[after["variable"] != "score"].groupby("variable")["psi"].max().nlargest(8)
        print("score PSI by month (training reference):\n", score_psi.round(3).to_string())
        print("largest feature PSI after the shift:\n", worst.round(3).to_string())
        stage_psi = _stage_monitoring(scorer, labelled, train_mask, shift or test_start)
        deterministic = None
        if target == "p_pay":
            again = Scorer(lgbm(), target=target, random_state=args.seed, config=config)
            again.fit(train, training_labels(train, target))
            deterministic = bool(np.array_equal(again.predict(test), static))
            print("same data and seed -> identical scores:", deterministic)
        for (model, mode), r in table.iterrows():
            summary_rows.append(
                {
                    "target": target,
                    "model": model,
                    "mode": mode,
                    **{
                        k: r[k]
                        for k in ("auc", "oracle_auc", "auc_gap", "mae_true", "ece", "ece_true")
                    },
                }
            )
        out[target] = {
            "test_start": str(test_start.date()),
            "train_rows": len(train),
            "test_rows": len(test),
            "feature_floor_mae": floor_mae,
            "deterministic": deterministic,
            "models": json.loads(table.reset_index().to_json(orient="records")),
            "report": json.loads(report.to_json(orient="records")),
            "by_month": json.loads(perf.to_json(orient="records", date_format="iso")),
            "offsets": json.loads(log.to_json(orient="records", date_format="iso")),
            "score_psi": {str(k.date()): v for k, v in score_psi.items()},
            "feature_psi_max_after_shift": worst.to_dict(),
            "stage_psi": stage_psi,
        }
        if args.figures:
            _figures(Path(args.figures), target, scored, truth_col, fitted, psi, scorer)
    print("\n== summary\n", pd.DataFrame(summary_rows).round(4).to_string(index=False))

    # expected amount given payment
    y_amt = training_labels(frame, "amount")
    paid = frame[y_amt.notna()]
    months = np.sort(paid["as_of"].unique())
    test_start = (
        pd.Timestamp(args.test_start)
        if args.test_start
        else pd.Timestamp(months[-args.test_months])
    )
    train = paid[paid["as_of"] + pd.Timedelta(days=30) <= test_start]
    test = paid[paid["as_of"] >= test_start]
    amount_rows = {}
    for name, est in (("lightgbm", lgbm("regression")), ("ridge", Ridge(alpha=1.0))):
        scorer = Scorer(est, target="amount", random_state=args.seed, config=config)
        scorer.fit(train, training_labels(train, "amount"))
        amount_rows[name] = regression_metrics(
            training_labels(test, "amount"), scorer.predict(test)
        )
    print("\n== amount given payment (test):\n", pd.DataFrame(amount_rows).T.round(2).to_string())
    out["amount"] = amount_rows
    out["seconds"] = round(time.time() - t0, 1)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "models.json").write_text(json.dumps(out, indent=1, default=str))
    _log(f"wrote {RESULTS / 'models.json'}", t0)


def _stage_monitoring(scorer, labelled, train_mask, shift) -> dict:
    """PSI stage by stage: vs training, and year on year (the year before as baseline).

    The year-on-year view compares each month of the shift year with the same stage in
    the 12 months before it, and — as a placebo with no shift — each month of that
    year with the 12 months before *it*: a variable flags the regime shift when it
    crosses 0.10 / 0.25 in the shift year but not in the placebo year.
    """
    shift = pd.Timestamp(shift)
    variables = [f["name"] for f in scorer.feature_spec_] + ["score"]
    mon = labelled.assign(score=scorer.predict(labelled))
    as_of = pd.to_datetime(mon["as_of"])
    year = pd.DateOffset(months=12)
    after = mon[as_of > shift]
    before = mon[(as_of > shift - year) & (as_of <= shift)]
    earlier = mon[(as_of > shift - year - year) & (as_of <= shift - year)]
    shift_year = stability_table(before, after, variables, by="stage")
    placebo = stability_table(earlier, before, variables, by="stage")
    vs_training = stability_table(mon[train_mask], mon[as_of > shift - year], variables, by="stage")
    summary = (
        shift_year.groupby(["group", "variable"])
        .agg(
            shift_mean=("psi", "mean"),
            shift_max=("psi", "max"),
            noise=("psi_noise", "mean"),
            rows_month=("n", "mean"),
        )
        .join(
            placebo.groupby(["group", "variable"])["psi"].agg(
                placebo_mean="mean", placebo_max="max"
            )
        )
        .reset_index()
    )
    summary["flags_shift"] = (
        (summary["shift_mean"] >= 0.10)
        & (summary["placebo_max"] < summary["shift_mean"])
        & (summary["shift_mean"] > 2 * summary["noise"])
    )
    for group, part in summary.groupby("group"):
        top = part.sort_values("shift_mean", ascending=False).head(10)
        print(
            f"PSI year on year, stage {group} (shift year vs the year before; placebo a year earlier):"
        )
        print(top.round(3).to_string(index=False))
    score_rows = vs_training[vs_training["variable"] == "score"]
    print(
        "score PSI vs training by stage and month:\n",
        score_rows.pivot(index="month", columns="group", values="psi").round(3).to_string(),
    )
    dist = score_distribution_by_month(mon[as_of > shift - year], "score", by="stage")
    volume = dist.pivot(index="month", columns="stage", values="n")
    print("overdue rows by month and stage (the inflow the downturn drives):")
    print(volume.to_string())
    print(
        "score distribution on overdue rows (static model):\n", dist.round(3).to_string(index=False)
    )
    crossing = {}
    for threshold in (0.10, 0.25):
        hit = summary[(summary["shift_mean"] >= threshold) & summary["flags_shift"]]
        crossing[str(threshold)] = {g: sorted(part["variable"]) for g, part in hit.groupby("group")}
    print("variables whose mean shift-year PSI crosses 0.10 / 0.25 (above the placebo):", crossing)
    return {
        "summary": json.loads(summary.to_json(orient="records")),
        "score_vs_training": json.loads(score_rows.to_json(orient="records", date_format="iso")),
        "score_distribution": json.loads(dist.to_json(orient="records", date_format="iso")),
        "crossing": crossing,
    }


def _figures(directory: Path, target, scored, truth_col, fitted, psi, scorer) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from recovery.models import plot_calibration, plot_importance, plot_roc, plot_stability

    directory.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 4, figsize=(22, 4.5))
    plot_roc(
        scored["_y"], {k: v[1] for k, v in fitted.items()}, p_true=scored[truth_col], ax=axes[0]
    )
    plot_calibration(
        scored["_y"],
        {"static": scored["static"], "monthly recalibrated": scored["score"]},
        ax=axes[1],
    )
    plot_importance(scorer.feature_importance(), ax=axes[2])
    plot_stability(psi, ax=axes[3])
    fig.tight_layout()
    fig.savefig(directory / f"models_{target}.png", dpi=80)
    plt.close(fig)


if __name__ == "__main__":
    main()
