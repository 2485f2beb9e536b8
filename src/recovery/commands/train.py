"""``recovery train PATH --target p_pay|p_cure|roll_back|amount --out MODEL_DIR``."""

from __future__ import annotations

import click

from recovery.commands.options import config_option, portfolio_source

TARGET_CHOICES = ("p_pay", "p_cure", "roll_back", "amount")


@click.command("train")
@portfolio_source
@click.option(
    "--target",
    type=click.Choice(TARGET_CHOICES),
    required=True,
    help="What to score (DESIGN.md §3).",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=str),
    required=True,
    help="Model directory to write (LightGBM text model + card.json).",
)
@config_option()
@click.option(
    "--stage-strategy",
    type=click.Choice(["feature", "separate"]),
    default="feature",
    show_default=True,
    help="One model with a stage feature, or one per stage.",
)
@click.option("--baseline", is_flag=True, help="Fit the logistic-regression baseline instead.")
@click.option(
    "--test-months",
    type=int,
    default=6,
    show_default=True,
    help="Latest labelled months held out for the out-of-time test (0 = fit on every "
    "month, without a test; the model card says so).",
)
@click.option(
    "--months",
    type=int,
    default=None,
    help="Use only the last N month ends as as-of dates (default: all).",
)
@click.option(
    "--recalibrate-months",
    type=int,
    default=3,
    show_default=True,
    help="Refit the level per stage on the latest N matured months before saving "
    "(0 = keep the trained level).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
def command(
    path: str,
    target: str,
    out: str,
    config_path: str | None,
    stage_strategy: str,
    baseline: bool,
    test_months: int,
    months: int | None,
    recalibrate_months: int,
    seed: int,
) -> None:
    """Train a scorer on the portfolio in PATH and save it to MODEL_DIR.

    Builds point-in-time features and labels for every overdue account at each
    month end, holds out the last --test-months labelled months (after a gap of one
    label horizon), fits LightGBM (or the logistic baseline) with early stopping and
    calibration inside the training window, refits the level per stage on the latest
    matured months (--recalibrate-months) and writes the model with a JSON card
    holding the test metrics. Nothing is pickled.
    """
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression, Ridge

    from recovery.config import load_config
    from recovery.data.io import load_portfolio
    from recovery.models.scorer import Scorer
    from recovery.models.training import (
        build_model_frame,
        month_ends,
        train_and_evaluate,
        training_labels,
    )

    config = load_config(config_path)
    click.echo(f"loading {path} …", err=True)
    portfolio = load_portfolio(path, config)
    dates = month_ends(portfolio)
    if months:
        dates = dates[-months:]
    click.echo(f"building features and labels for {len(dates)} month ends …", err=True)
    frame = build_model_frame(portfolio, dates, config, progress=True)
    estimator = None
    if baseline:
        estimator = Ridge() if target == "amount" else LogisticRegression(max_iter=2000)
    scorer = Scorer(
        estimator, target=target, stage_strategy=stage_strategy, random_state=seed, config=config
    )
    click.echo(f"fitting {target} on {len(frame):,} overdue account-months …", err=True)
    result = train_and_evaluate(
        frame, target, test_months=test_months, scorer=scorer, config=config
    )
    scorer = result.scorer
    if recalibrate_months > 0:
        y = training_labels(frame, target)
        dates = np.sort(frame.loc[y.notna(), "as_of"].unique())[-recalibrate_months:]
        recent = frame["as_of"].isin(dates).to_numpy() & y.notna().to_numpy()
        scorer = scorer.recalibrate(frame[recent], y[recent])
        shown = ", ".join(f"{k} {v:+.3f}" for k, v in scorer.offsets_.items())
        click.echo(
            f"recalibrated on {int(recent.sum()):,} matured rows "
            f"({pd.Timestamp(dates[0]).date()} – {pd.Timestamp(dates[-1]).date()}): "
            f"{shown or 'no stage with enough rows'}",
            err=True,
        )
    directory = scorer.save(out, metrics=result.card_metrics())
    m = result.metrics
    if m:
        keys = [k for k in ("n", "auc", "gini", "ks", "ece", "brier", "mae", "r2") if k in m]
        shown = ", ".join(
            f"{k}={m[k]:.3f}" if isinstance(m[k], float) else f"{k}={m[k]}" for k in keys
        )
        click.echo(f"out-of-time test from {result.test_start.date()}: {shown}")
    if not result.tested:
        click.echo(
            f"no out-of-time test: the {target} model was fitted on every labelled month, "
            "so how well it scores later months is not known yet (its card says so)"
        )
    click.echo(f"saved {target} model to {directory}")
