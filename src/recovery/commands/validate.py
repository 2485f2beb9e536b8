"""``recovery validate PATH``: check a portfolio against the data contract."""

from __future__ import annotations

import warnings

import click

from recovery.commands.options import config_option, portfolio_source
from recovery.config import load_config
from recovery.errors import DataError


@click.command("validate")
@portfolio_source
@config_option()
@click.pass_context
def command(ctx: click.Context, path: str, config_path: str | None) -> None:
    """Check every table in PATH (CSV or Parquet files, or a database) against the contract.

    Prints one line per broken rule (table, column, rule, count, up to 5 example
    rows). Exits 0 when the portfolio is valid, 1 when it is not.
    """
    from recovery.data.io import read_portfolio
    from recovery.data.schema import validate_portfolio

    config = load_config(config_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            portfolio = read_portfolio(path, config=config)
        except DataError as exc:
            click.echo(f"INVALID {path}: {exc}", err=True)
            ctx.exit(1)
    for w in caught:
        click.echo(f"warning: {w.message}")
    report = validate_portfolio(portfolio, config)
    summary = ", ".join(f"{name} {len(df):,} rows" for name, df in portfolio.tables().items())
    if len(report) == 0:
        click.echo(f"OK {path}: {summary}")
        return
    click.echo(f"INVALID {path}: {len(report)} problem(s) ({summary})", err=True)
    for row in report.itertuples(index=False):
        click.echo(
            f"  table '{row.table}', column '{row.column}': {row.rule} — {row.count} row(s)",
            err=True,
        )
        if row.examples:
            click.echo(f"      e.g. {row.examples}", err=True)
    ctx.exit(1)
