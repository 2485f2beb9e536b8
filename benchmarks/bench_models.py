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
    stability_by_month,
)
from recovery.models.design import assign_stage
from recovery.models.training import attach_truth, build_model_frame, training_labels

RESULTS = Path(__file__).parent / "results"


def _log(msg: str, t0: float) -> None:
    print(f"[{time.time() - t0:7.1f}s] {msg}", flush=True)


def _shift_month(truth) -> pd.Timestamp | None:
    shocks = getattr(truth, "shocks", None)
    if shocks is None or not len(shocks):
        return None
    for col in ("start", "start_date", "month", "month_end", "date"):
        if col in shocks.columns:
            return pd.Timestamp(pd.to_datetime(shocks[col]).min())
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--months", type=int, default=84, help="simulated months")
    parser.add_argument("--window", type=int, default=42, help="as-of month ends analysed")
    parser.add_argument("--test-months", type=int, default=9)
    parser.add_argument("--test-start", default=None, help="first test month end")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--figures", default=None, help="directory for PNG figures")
    args = parser.parse_args()
    t0 = time.time()
    config = Config()

    from recovery.simulate import simulate_portfolio

    portfolio, truth = simulate_portfolio(
        config,
        n_accounts=args.accounts,
        months=args.months,
        seed=args.seed,
        scenario="benchmark",
    )
    _log(f"simulated {portfolio!r}", t0)
    shift = _shift_month(truth)
    print("regime shift:", shift, "\n", getattr(truth, "shocks", None))

    end = portfolio.data_end
    dates = pd.date_range(end=end, periods=args.window + 1, freq="ME")
    dates = dates[dates <= end][-args.window :]
    frame = build_model_frame(portfolio, dates, config, progress=True)
    frame = attach_truth(frame, truth)
    frame["stage"] = assign_stage(frame, config).to_numpy()
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
        train = labelled[labelled["as_of"] + pd.Timedelta(days=horizon) <= test_start]
        test = labelled[labelled["as_of"] >= test_start]
        truth_col = f"{target}_true"
        test = test[test[truth_col].notna()]
        print(
            f"\n== {target}: train {len(train):,} rows ({train['as_of'].min().date()} – "
            f"{train['as_of'].max().date()}), test {len(test):,} rows "
            f"({test_start.date()} – {test['as_of'].max().date()})"
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
            p = scorer.predict(test)
            fitted[name] = (scorer, p)
            m = classification_metrics(training_labels(test, target), p, test[truth_col])
            m.update(
                model=name,
                fit_seconds=round(time.time() - t1, 1),
                calibration=",".join(sorted({c.method for c in scorer.calibrators_.values()})),
            )
            rows.append(m)
            _log(
                f"{target} {name}: auc {m['auc']:.4f} oracle {m['oracle_auc']:.4f} "
                f"mae_true {m['mae_true']:.4f} ece {m['ece']:.4f}",
                t0,
            )
        table = pd.DataFrame(rows).set_index("model")
        print(
            table[
                [
                    "n",
                    "base_rate",
                    "mean_p",
                    "mean_p_true",
                    "auc",
                    "oracle_auc",
                    "auc_gap",
                    "mae_true",
                    "ece",
                    "oracle_ece",
                    "brier",
                    "ks",
                    "calibration",
                    "fit_seconds",
                ]
            ]
            .round(4)
            .to_string()
        )
        best = (
            table["mae_true"].idxmin()
            if "lightgbm" in table["mae_true"].idxmin()
            else "lightgbm_stage_feature"
        )
        scorer, p = fitted[best]
        scored = test.assign(score=p, _y=training_labels(test, target))
        report = evaluation_report(scored, "_y", "score", truth=truth_col, by=("stage", "bucket"))
        print(
            report[
                [
                    "segment",
                    "value",
                    "n",
                    "base_rate",
                    "mean_p",
                    "auc",
                    "oracle_auc",
                    "mae_true",
                    "ece",
                ]
            ]
            .round(4)
            .to_string(index=False)
        )
        perf = performance_by_month(scored, "_y", "score", truth=truth_col, censored=None)
        print(
            perf[
                ["month", "matured", "base_rate", "mean_p", "mean_p_true", "auc", "mae_true", "ece"]
            ]
            .round(4)
            .to_string(index=False)
        )
        monitor = pd.concat([train.sample(min(len(train), 20000), random_state=0), test])
        psi = stability_by_month(scorer, monitor)
        score_psi = psi[psi["variable"] == "score"].set_index("month")["psi"]
        worst = psi[psi["variable"] != "score"].groupby("variable")["psi"].max().nlargest(8)
        print("score PSI by month:\n", score_psi.round(3).to_string())
        print("largest feature PSI:\n", worst.round(3).to_string())
        out[target] = {
            "test_start": str(test_start.date()),
            "train_rows": len(train),
            "test_rows": len(test),
            "best": best,
            "models": json.loads(table.to_json(orient="index")),
            "report": json.loads(report.to_json(orient="records")),
            "by_month": json.loads(perf.to_json(orient="records", date_format="iso")),
            "score_psi": {str(k.date()): v for k, v in score_psi.items()},
            "feature_psi_max": worst.to_dict(),
        }
        if args.figures:
            _figures(Path(args.figures), target, scored, truth_col, fitted, psi, scorer)

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
    plot_calibration(scored["_y"], {k: v[1] for k, v in fitted.items()}, ax=axes[1])
    plot_importance(scorer.feature_importance(), ax=axes[2])
    plot_stability(psi, ax=axes[3])
    fig.tight_layout()
    fig.savefig(directory / f"models_{target}.png", dpi=80)
    plt.close(fig)


if __name__ == "__main__":
    main()
