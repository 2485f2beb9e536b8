"""``recovery features PATH --as-of DATE[,DATE…] --out FILE``: the feature matrix."""

from __future__ import annotations

import click

from recovery.commands._engine import engine_options
from recovery.commands.options import config_option, output_file_option, portfolio_source
from recovery.errors import DataError


def _parse_dates(text: str) -> list:
    import pandas as pd

    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise DataError("--as-of needs at least one date (YYYY-MM-DD[,YYYY-MM-DD…])")
    try:
        return [pd.Timestamp(t).normalize() for t in items]
    except ValueError as exc:
        raise DataError(f"--as-of must be dates as YYYY-MM-DD separated by commas: {exc}") from None


@click.command("features")
@portfolio_source
@click.option(
    "--as-of",
    "as_of",
    default=None,
    help="Scoring date(s), comma separated: every overdue account at each date.",
)
@click.option(
    "--pairs",
    "pairs_path",
    default=None,
    type=click.Path(dir_okay=False, exists=True, path_type=str),
    help="Instead of --as-of: a .parquet/.csv file of account_id, as_of pairs.",
)
@output_file_option("Output file (.parquet or .csv).")
@config_option()
@click.option("--labels", "with_labels", is_flag=True, help="Add the label columns (training).")
@click.option(
    "--snapshots-only",
    is_flag=True,
    help="Use only the monthly snapshots table (automatic for a portfolio without "
    "schedule and payments, e.g. a monthly performance table).",
)
@click.option(
    "--include-protected", is_flag=True, help="Keep protected attributes (age band, gender)."
)
@click.option("--partition-size", default=50_000, show_default=True, help="Accounts per partition.")
@engine_options
def command(
    path: str,
    as_of: str | None,
    pairs_path: str | None,
    out: str,
    config_path: str | None,
    with_labels: bool,
    snapshots_only: bool,
    include_protected: bool,
    partition_size: int,
    engine=None,
) -> None:
    """Build the point-in-time feature matrix of the portfolio in PATH.

    Each row is one (account, as_of) pair and uses only rows known on or before
    as_of. The portfolio is validated first; nothing is written on error.
    """
    from recovery.config import load_config
    from recovery.data.io import load_portfolio, read_table, write_table
    from recovery.timeline.features import write_features
    from recovery.timeline.snapshot_features import snapshot_features

    if not out.lower().endswith((".parquet", ".csv")):
        raise DataError(f"cannot write {out}: use a .parquet or .csv file name")
    if (as_of is None) == (pairs_path is None):
        raise DataError("give exactly one of --as-of DATE[,DATE…] or --pairs FILE")
    request = _parse_dates(as_of) if as_of is not None else read_table(pairs_path)
    config = load_config(config_path)
    if engine.applies(path):  # --engine dask, or a partitioned dataset (recovery.engine.dask)
        return engine.features(
            path,
            request,
            out,
            config,
            with_labels=with_labels,
            include_protected=include_protected,
            snapshots_only=snapshots_only,
        )
    portfolio = load_portfolio(path, config)
    monthly_only = portfolio.schedule is None or portfolio.payments is None
    if snapshots_only or (monthly_only and portfolio.snapshots is not None):
        if portfolio.snapshots is None:
            raise DataError(f"{path} has no snapshots table for --snapshots-only")
        table = snapshot_features(
            portfolio.snapshots, request, config, portfolio.accounts, include_protected
        )
        if with_labels:  # month-end labels (recovery.timeline.labels.snapshot_labels)
            from recovery.timeline.labels import snapshot_labels

            labels = snapshot_labels(
                portfolio.snapshots, table[["account_id", "as_of"]], config, portfolio.data_end
            )
            table = table.merge(labels.drop(columns=["overdue"]), on=["account_id", "as_of"])
        write_table(table, out)
        rows = len(table)
    else:
        # partitions are computed and appended one at a time (bounded memory)
        rows = write_features(
            portfolio,
            request,
            out,
            config,
            with_labels=with_labels,
            include_protected=include_protected,
            partition_size=partition_size,
            progress=True,
        )
    click.echo(f"wrote {rows:,} (account, as-of) rows to {out}")
