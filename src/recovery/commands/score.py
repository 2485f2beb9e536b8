"""``recovery score PATH --model MODEL_DIR --as-of DATE --out FILE``."""

from __future__ import annotations

import click

from recovery.commands._engine import engine_options
from recovery.commands.options import (
    config_option,
    model_dirs,
    model_option,
    output_file_option,
    parse_date,
    portfolio_source,
)


@click.command("score")
@portfolio_source
@model_option()
@click.option("--as-of", "as_of", required=True, help="Scoring date (YYYY-MM-DD).")
@output_file_option("Scores file to write (.parquet or .csv).")
@config_option()
@click.option(
    "--reasons", "top", type=int, default=3, show_default=True, help="Reason codes per account."
)
@engine_options
def command(
    path: str,
    models: tuple[str, ...],
    as_of: str,
    out: str,
    config_path: str | None,
    top: int,
    engine=None,
) -> None:
    """Score every overdue account in PATH at --as-of with the saved models.

    Writes one row per account: account_id, as_of, stage, p_pay, p_cure, their
    score bands, amount_given_payment, expected_amount (= p_pay × amount) and the
    reason codes. Each model's card is checked against the features first.
    """
    from recovery.config import load_config
    from recovery.data.io import load_portfolio, write_table
    from recovery.errors import DataError, ModelCardError
    from recovery.models.scorer import load_model
    from recovery.models.scores import score_table
    from recovery.progress import progress_bar
    from recovery.timeline.features import build_features

    date = parse_date(as_of, "--as-of")
    config = load_config(config_path)
    dirs = model_dirs(models)
    if engine.applies(path):  # --engine dask, or a partitioned dataset (recovery.engine.dask)
        engine.score(path, dirs, date, out, config, top)
        return _say_untested(dirs)
    with progress_bar(total=4, desc="score", unit="steps", leave=False) as bar:
        loaded = {}
        for directory in dirs:
            scorer = load_model(directory, config)
            if scorer.target in loaded:
                raise ModelCardError(f"two models for target '{scorer.target}' given")
            loaded[scorer.target] = scorer
        bar.update()
        portfolio = load_portfolio(path, config)
        if date > portfolio.data_end:
            raise DataError(
                f"--as-of {date.date()} is after the data end {portfolio.data_end.date()}"
            )
        bar.update()
        if portfolio.schedule is None or portfolio.payments is None:  # monthly data only
            from recovery.timeline.snapshot_features import snapshot_features

            if portfolio.snapshots is None:
                raise DataError("scoring needs schedule and payments, or a snapshots table")
            frame = snapshot_features(portfolio.snapshots, [date], config, portfolio.accounts)
        else:
            frame = build_features(portfolio, [date], config)
        if not len(frame):
            raise DataError(f"no overdue accounts at {date.date()}")
        bar.update()
        table = score_table(frame, loaded, top_reasons=top)
        write_table(table, out)
        bar.update()
    click.echo(
        f"scored {len(table):,} overdue accounts at {date.date()} with {sorted(loaded)} → {out}"
    )
    _say_untested(dirs)


def _say_untested(dirs) -> None:
    """One line per model trained without an out-of-time test (its card says so)."""
    from recovery.models.card import out_of_time_tested, read_card

    for card in sorted((read_card(d) for d in dirs), key=lambda c: c["target"]):
        if not out_of_time_tested(card):
            click.echo(
                f"note: the {card['target']} model was trained without an out-of-time test; "
                "its scores have not been checked on months after its training data"
            )
