"""``recovery validate PATH``: check a portfolio against the data contract."""

from __future__ import annotations

import warnings

import click

from recovery.commands.options import config_option, portfolio_source
from recovery.config import load_config
from recovery.errors import DataError, ValidationError


@click.command("validate")
@portfolio_source
@config_option()
@click.pass_context
def command(ctx: click.Context, path: str, config_path: str | None) -> None:
    """Check every table in PATH (CSV or Parquet files, or a database) against the contract.

    Prints one line per broken rule (table, column, rule, count, up to 5 example
    rows), and a note for what real exports hold and is read in a stated way (credit
    balances read as zero exposure, months whose payments net below zero). Exits 0
    when the portfolio is valid, 1 when it is not.
    """
    from recovery.data.io import read_portfolio
    from recovery.data.schema import DataNoteWarning, validate_portfolio

    config = load_config(config_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            portfolio = read_portfolio(path, config=config)
            report = validate_portfolio(portfolio, config)
        except DataError as exc:
            click.echo(f"INVALID {path}: {exc}", err=True)
            ctx.exit(1)
        except ValidationError as exc:  # amounts of a monthly table, checked on reading
            portfolio, report = None, exc.failures
    for w in caught:  # a note: read as stated (a credit balance); a warning: look at it
        kind = "note" if issubclass(w.category, DataNoteWarning) else "warning"
        click.echo(f"{kind}: {w.message}")
    tables = portfolio.tables().items() if portfolio is not None else []
    summary = ", ".join(f"{name} {len(df):,} rows" for name, df in tables)
    if len(report) == 0:
        click.echo(f"OK {path}: {summary}")
        return
    click.echo(f"INVALID {path}: {len(report)} problem(s)" + (f" ({summary})" if summary else ""),
               err=True)  # fmt: skip
    for row in report.itertuples(index=False):
        click.echo(
            f"  table '{row.table}', column '{row.column}': {row.rule} — {row.count} row(s)",
            err=True,
        )
        if row.examples:
            click.echo(f"      e.g. {row.examples}", err=True)
    ctx.exit(1)
