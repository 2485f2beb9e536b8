"""``recovery report PATH --month 2026-10 --out reports/``: the monthly recovery report."""

from __future__ import annotations

import click

from recovery.commands.options import (
    config_option,
    output_directory_option,
    portfolio_directory,
    portfolio_source,
)
from recovery.config import load_config


@click.command("report")
@portfolio_source
@click.option(
    "--month",
    required=True,
    help="Report month as YYYY-MM (a complete month within the data), e.g. 2026-10.",
)
@output_directory_option("reports", "Directory of the HTML file (recovery_report_YYYY-MM.html).")
@click.option(
    "--model",
    "model_path",
    type=click.Path(file_okay=False, path_type=str),
    help="Directory of saved scorers (adds model health).",
)
@config_option()
@click.option(
    "--pages",
    "pages_dir",
    type=click.Path(file_okay=False, path_type=str),
    help="Also write the case file pages of the customers the month points at (charge-offs "
    "and compliance breaches in the month) into this directory, linked from the report.",
)
def command(
    path: str,
    month: str,
    out_dir: str,
    model_path: str | None,
    config_path: str | None,
    pages_dir: str | None = None,
) -> None:
    """Render the monthly recovery report of PATH for one month to a standalone HTML file.

    PATH is a portfolio directory (CSV or Parquet tables, optionally with a snapshots
    table) or a database URL. The report has headline KPIs with their change, roll rates, recovery by
    debt age, segment movements, agents and compliance, model health and a forecast,
    with code hidden and charts embedded. A month without data writes nothing.
    """
    from recovery.report import render_monthly_report
    from recovery.report.render import source_name

    config = load_config(config_path)
    click.echo(f"rendering the report for {month} from {path} …", err=True)
    with portfolio_directory(path, config) as directory:  # a database: a temporary copy
        out = render_monthly_report(
            directory,
            month,
            out_dir,
            model_path=model_path,
            config=config,
            source=source_name(getattr(path, "location", path)),
        )
        if pages_dir is not None:
            from recovery.data.io import load_portfolio
            from recovery.report.case_links import add_case_links, customers_named
            from recovery.report.case_page import write_case_pages
            from recovery.report.data import parse_month

            portfolio = load_portfolio(directory, config)
            named = customers_named(portfolio, month, config)
            pages = write_case_pages(
                portfolio, list(dict.fromkeys(named["customer_id"])), pages_dir, parse_month(month),
                config=config,
            )  # fmt: skip
            add_case_links(out, named, pages)
            click.echo(f"{len(pages):,} case file page(s) written to {pages_dir}")
    click.echo(f"report written to {out}")
