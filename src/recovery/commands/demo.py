"""``recovery demo [--accounts N] [--out DIR]``: the whole pipeline, end to end.

From the shipped sample (or a fresh simulation of N accounts): validate → snapshots →
features and labels → train p_pay and p_cure → score → analyze → render the monthly
report of the latest complete month. Each stage reports its time; the last line gives
the report's path. Everything is written under ``DIR``:

``data/``
    the portfolio tables with the derived ``snapshots`` (input of the report);
``models/p_pay``, ``models/p_cure``
    the scorers (LightGBM text models and JSON cards, no pickle);
``scores_YYYY-MM.parquet``
    scores and reasons of every overdue account at the report month end;
``analysis/``
    the analytics tables (Parquet and CSV) and figures (PNG) of ``recovery analyze``;
``reports/recovery_report_YYYY-MM.html``
    the monthly recovery report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pandas as pd

from recovery.commands.options import config_option, output_directory_option
from recovery.config import Config, load_config
from recovery.errors import DataError, ValidationError

__all__ = ["command", "run_demo", "DemoResult", "latest_complete_month", "TRAINING_MONTHS"]

#: As-of month ends used to train the scorers (the latest ones with data); None = all.
TRAINING_MONTHS: int | None = None
#: Months held out for the out-of-time test.
TEST_MONTHS = 6


def latest_complete_month(data_end: Any) -> pd.Timestamp:
    """The last month end on or before ``data_end`` (a month whose data is complete).

    Examples
    --------
    >>> latest_complete_month("2026-10-31"), latest_complete_month("2026-11-15")
    (Timestamp('2026-10-31 00:00:00'), Timestamp('2026-10-31 00:00:00'))
    """
    day = pd.Timestamp(data_end).normalize()
    return day if day.is_month_end else (day - pd.offsets.MonthEnd(1)).normalize()


@dataclass
class DemoResult:
    """What the demo wrote and how long each stage took (seconds)."""

    out_dir: Path
    report: Path
    month: pd.Timestamp
    timings: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)


class _Stages:
    """Numbered stages with timings, echoed as they finish."""

    def __init__(self, total: int, echo: Callable[[str], None]):
        self.total, self.echo, self.n, self.timings = total, echo, 0, {}

    def run(self, name: str, func: Callable[[], Any]) -> Any:
        self.n += 1
        self.echo(f"[{self.n}/{self.total}] {name} …")
        start = time.perf_counter()
        value = func()
        seconds = time.perf_counter() - start
        self.timings[name] = seconds
        self.echo(f"[{self.n}/{self.total}] {name}: done in {seconds:.1f} s")
        return value


def run_demo(
    out_dir: str | Path = "recovery_demo",
    accounts: int | None = None,
    seed: int = 0,
    config: Config | None = None,
    months: int = 84,
    training_months: int | None = TRAINING_MONTHS,
    echo: Callable[[str], None] = print,
    progress: bool = True,
) -> DemoResult:
    """Run the pipeline on the shipped sample (or a simulated book) and render the report.

    Parameters
    ----------
    out_dir : str or Path
        Where everything is written (see the module docstring).
    accounts : int, optional
        Simulate a fresh book of this many accounts (``months`` months, benchmark
        scenario) instead of loading the shipped sample.
    seed : int
        Seed of the simulation and of the models.
    config : Config, optional
    months : int
        Months simulated (with ``accounts`` only).
    training_months : int, optional
        Latest month ends used as as-of dates for training (default all).
    echo : callable
        Receives one line per stage event.
    progress : bool
        Show the stages' own progress bars.

    Returns
    -------
    DemoResult
    """
    from recovery.data.io import save_portfolio, write_table
    from recovery.data.schema import validate_portfolio
    from recovery.report import render_monthly_report
    from recovery.timeline.aging import snapshots as make_snapshots

    config = config or Config()
    out = Path(out_dir)
    stages = _Stages(8, echo)

    def load():
        if accounts:
            from recovery.simulate import simulate_portfolio
            from recovery.simulate.operation import CollectionOperation

            # the truth is not used here: skip its redraws of the operation (same tables)
            portfolio, _ = simulate_portfolio(
                config=config,
                n_accounts=int(accounts),
                months=int(months),
                seed=seed,
                operation=CollectionOperation(truth_draws=0),
            )
            return portfolio
        from recovery.datasets import load_sample

        return load_sample()

    source = f"a simulated book of {accounts:,} accounts" if accounts else "the shipped sample"
    portfolio = stages.run(f"load {source}", load)
    echo(f"      {portfolio!r}, data end {portfolio.data_end:%Y-%m-%d}")

    def validate():
        failures = validate_portfolio(portfolio, config)
        if len(failures):
            raise ValidationError(failures)

    stages.run("validate the data contract", validate)
    month = latest_complete_month(portfolio.data_end)

    def snapshots():
        portfolio.snapshots = make_snapshots(portfolio, config=config)
        save_portfolio(portfolio, out / "data", config=config)
        return portfolio.snapshots

    snaps = stages.run("month-end snapshots", snapshots)
    echo(f"      {len(snaps):,} account-months; report month {month:%Y-%m}")

    def model_frame():
        from recovery.models.training import build_model_frame, month_ends

        dates = month_ends(portfolio, end=month)
        if training_months:
            dates = dates[-training_months:]
        if len(dates) <= TEST_MONTHS + 3:
            raise DataError(f"only {len(dates)} month ends of data: too few to train the scorers")
        return build_model_frame(portfolio, dates, config, progress=progress)

    frame = stages.run("point-in-time features and labels", model_frame)
    echo(f"      {len(frame):,} overdue account-months, {frame.shape[1]} columns")

    metrics: dict[str, dict[str, Any]] = {}

    def train():
        from recovery.models.scorer import Scorer
        from recovery.models.training import train_and_evaluate
        from recovery.timeline.catalogue import feature_names

        # the features of the catalogue only: label-side columns (censoring flags, the
        # minimum payment) travel in the frame but must never be features
        features = [c for c in feature_names(config) if c in frame.columns]
        models = {}
        for target in ("p_pay", "p_cure"):
            scorer = Scorer(target=target, random_state=seed, config=config, features=features)
            result = train_and_evaluate(
                frame, target, test_months=TEST_MONTHS, scorer=scorer, config=config
            )
            result.scorer.save(out / "models" / target, metrics=result.card_metrics())
            metrics[target] = dict(result.metrics)
            models[target] = result.scorer
            shown = ", ".join(
                f"{k} {result.metrics[k]:.3f}" for k in ("auc", "ks", "ece") if k in result.metrics
            )
            echo(f"      {target}: out-of-time test from {result.test_start:%Y-%m}: {shown}")
        return models

    models = stages.run("train p_pay and p_cure (LightGBM, out-of-time test)", train)

    def score():
        from recovery.models.scores import score_table
        from recovery.timeline.features import build_features

        current = build_features(portfolio, [month], config)
        table = score_table(current, models)
        return write_table(table, out / f"scores_{month:%Y-%m}.parquet"), len(table)

    scores_path, n_scored = stages.run(f"score the overdue accounts at {month:%Y-%m-%d}", score)
    echo(f"      {n_scored:,} accounts scored → {scores_path}")

    def analyze():
        from recovery.commands.analyze import run_analysis, write_results

        results = run_analysis(portfolio, config=config)
        write_results(results, out / "analysis")
        return results

    stages.run("portfolio analytics", analyze)
    report = stages.run(
        f"render the monthly report for {month:%B %Y}",
        lambda: render_monthly_report(
            out / "data",
            month,
            out / "reports",
            model_path=out / "models",
            config=config,
            source=source,
        ),
    )
    return DemoResult(out, report, month, stages.timings, metrics)


@click.command("demo")
@click.option(
    "--accounts",
    type=click.IntRange(min=200),
    default=None,
    help="Simulate a fresh book of N accounts instead of using the shipped sample.",
)
@output_directory_option(
    "recovery_demo", "Directory for the data, models, scores, analysis and report."
)
@click.option(
    "--months",
    type=click.IntRange(min=24),
    default=84,
    show_default=True,
    help="Months simulated (with --accounts).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed (simulation, models).")
@config_option()
def command(
    accounts: int | None, out_dir: str, months: int, seed: int, config_path: str | None
) -> None:
    """Run the whole pipeline on the shipped sample and render the monthly report.

    validate → snapshots → features → train p_pay and p_cure → score → analyze →
    report for the latest complete month. The last line gives the report's path.
    """
    import warnings

    config = load_config(config_path)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_demo(
            out_dir,
            accounts=accounts,
            seed=seed,
            config=config,
            months=months,
            echo=lambda s: click.echo(s, err=True),
        )
    click.echo(f"finished in {time.perf_counter() - start:.0f} s", err=True)
    click.echo(f"report: {result.report}")
