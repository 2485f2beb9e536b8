"""``recovery casefile PATH (--customer ID | --account ID) --out FILE.html``: one customer's file."""

from __future__ import annotations

import click

from recovery.commands.options import (
    config_option,
    model_dirs,
    output_file_option,
    parse_date,
    portfolio_source,
)


@click.command("casefile")
@portfolio_source
@click.option("--customer", "customer_id", help="The customer's id.")
@click.option(
    "--account", "account_id", help="One of the customer's accounts (the page covers all)."
)
@click.option(
    "--as-of",
    "as_of",
    help="Last day known (YYYY-MM-DD; default: the data end). Nothing later appears.",
)
@click.option(
    "--model",
    "models",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=str),
    help="Model directory (repeatable) or a folder of them: scores over time and the "
    "strategy's recommendation.",
)
@output_file_option("The page (.html).")
@click.option("--notes", is_flag=True, help="Show free-text contact notes (left out by default).")
@config_option()
def command(
    path: str,
    customer_id: str | None,
    account_id: str | None,
    as_of: str | None,
    models: tuple[str, ...],
    out: str,
    notes: bool,
    config_path: str | None,
) -> None:
    """Write the case file of one customer — every account, contact, promise, payment
    and agent spell on one timeline — as a standalone HTML page, the summary first:
    state of each account, last contact, open promise or offer, stated reason and
    attitude, the strategy's recommendation, suppressions, contacts still allowed today
    and this week, permitted hours and the limitation-period expiry."""
    from recovery.config import load_config
    from recovery.data.customer_rows import load_customer
    from recovery.errors import DataError
    from recovery.report.case_file import case_file
    from recovery.report.case_page import write_case_page
    from recovery.report.render import source_name

    if (customer_id is None) == (account_id is None):
        raise click.UsageError("give one of --customer ID and --account ID")
    if not out.lower().endswith((".html", ".htm")):
        raise click.BadParameter(f"{out} is not an .html file", param_hint="--out")
    config = load_config(config_path)
    day = parse_date(as_of, "--as-of").normalize() if as_of else None
    loaded = None
    if models:
        from recovery.models.scorer import load_model  # LightGBM loads only with models

        loaded = [load_model(d, config) for d in model_dirs(models)]
    portfolio = load_customer(path, customer_id, account_id, config, keep_free_text=notes)
    if day is not None and day > portfolio.data_end:
        raise DataError(f"--as-of {day.date()} is after the data end {portfolio.data_end.date()}")
    case = case_file(
        portfolio, customer_id, account_id, as_of=day, models=loaded, config=config, notes=notes
    )
    footer = f"Data: {source_name(getattr(path, 'location', path))}"
    written = write_case_page(case, out, footer=footer)
    click.echo(
        f"case file of customer {case.customer_id} ({len(case.accounts)} account(s), "
        f"{len(case.timeline):,} events, as of {case.as_of.date()}) → {written}"
    )
