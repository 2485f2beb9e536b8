"""``recovery offers PATH --model DIR --date D --out FILE``: which offer for which account."""

from __future__ import annotations

import click

from recovery.commands.options import (
    config_option,
    output_file_option,
    parse_date,
    portfolio_source,
)


@click.command("offers")
@portfolio_source
@click.option(
    "--model",
    "model_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=str),
    help="Offer model directory: read when it holds one, else fitted on the book's offers "
    "made before --date and saved there.",
)
@click.option(
    "--date",
    "day",
    required=True,
    help="Day of the offers (YYYY-MM-DD); data up to the day before is used.",
)
@output_file_option("Offers (.csv or .parquet): one row per account.")
@config_option()
@click.option("--refit", is_flag=True, help="Fit the offer model again even if DIR holds one.")
@click.option(
    "--features",
    "with_features",
    is_flag=True,
    help="When fitting: add recovery's point-in-time features at the day before each offer "
    "to the model's inputs (slower).",
)
def command(
    path: str,
    model_dir: str,
    day: str,
    out: str,
    config_path: str | None,
    refit: bool,
    with_features: bool = False,
) -> None:
    """Recommend, per overdue or charged-off account, no offer, a settlement (at what
    discount), a payment plan (how long) or a deferral, valued against collecting as
    usual over the config's horizon, under the lender's rules (config [offers])."""
    import warnings
    from pathlib import Path

    import pandas as pd

    from recovery.config import load_config
    from recovery.data.io import load_portfolio, write_table
    from recovery.errors import DataError
    from recovery.operations.offer_book import (
        book_offers,
        fit_offer_model,
        fit_usual,
        offer_features,
        offer_history,
    )
    from recovery.operations.offer_response import ConfoundedPriceWarning, load_offer_model
    from recovery.progress import progress_bar

    date = parse_date(day, "--date").normalize()
    config = load_config(config_path)
    with progress_bar(total=4, desc="offers", unit="steps", leave=False) as bar:
        portfolio = load_portfolio(path, config)
        if date - pd.Timedelta(days=1) > portfolio.data_end:
            raise DataError(
                f"--date {date.date()} is more than a day after the data end "
                f"{portfolio.data_end.date()}"
            )
        bar.update()
        saved = Path(model_dir) / "offer_model.json"
        if saved.is_file() and not refit:
            model = load_offer_model(model_dir)
        else:
            history = offer_history(portfolio, date, config)
            names = None
            if with_features:
                history, names = offer_features(portfolio, history, config=config)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConfoundedPriceWarning)
                model = fit_offer_model(history, features=names)
            model.save(model_dir)
        bar.update()
        usual = fit_usual(portfolio, date, config)
        bar.update()
        table = book_offers(portfolio, date, model, usual, config)
        write_table(table, out)
        bar.update()
    counts = table["offer"].value_counts()
    words = {
        "settlement": "settlements",
        "payment_plan": "payment plans",
        "deferral": "deferrals",
        "none": "no offer",
    }
    parts = ", ".join(f"{counts.get(k, 0):,} {w}" for k, w in words.items())
    click.echo(
        f"{len(table):,} accounts on {date.date()}: {parts}; worth "
        f"{table['value'].sum():,.0f} more than collecting as usual → {out}"
    )
    if model.confounded_:
        click.echo(
            "Warning: the offer history has no offers made at random terms, so how borrowers "
            "respond to the terms is confounded with their state; offers stay within the terms "
            "already made to each stage."
        )
