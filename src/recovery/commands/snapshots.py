"""``recovery snapshots PATH --out FILE``: month-end aging snapshots from event tables."""

from __future__ import annotations

import click

from recovery.commands._engine import engine_options
from recovery.commands.options import config_option, output_file_option, portfolio_source
from recovery.errors import DataError


@click.command("snapshots")
@portfolio_source
@output_file_option("Output file (.parquet or .csv) for the snapshots table.")
@config_option()
@click.option("--start", default=None, help="First month end (default: first origination).")
@click.option("--end", default=None, help="Last month end (default: the data end).")
@click.option(
    "--episodes",
    "episodes_out",
    default=None,
    type=click.Path(dir_okay=False, path_type=str),
    help="Also write the delinquency episodes to this file (.parquet or .csv).",
)
@click.option(
    "--keep-closed", is_flag=True, help="Keep repeated rows of paid-off/settled/closed accounts."
)
@click.option(
    "--partition-size", default=100_000, show_default=True, help="Accounts per partition."
)
@engine_options
def command(
    path: str,
    out: str,
    config_path: str | None,
    start: str | None,
    end: str | None,
    episodes_out: str | None,
    keep_closed: bool,
    partition_size: int,
    engine=None,
) -> None:
    """Derive the month-end snapshots table (DPD, bucket, balance, status) from PATH.

    PATH is a portfolio directory (accounts, schedule, payments, optional events as
    CSV or Parquet). The portfolio is validated first; nothing is written on error.
    """
    import pandas as pd

    from recovery.config import load_config
    from recovery.data.io import load_portfolio, write_table
    from recovery.timeline.aging import episodes, snapshots

    for target in (out, episodes_out):
        if target is not None and not target.lower().endswith((".parquet", ".csv")):
            raise DataError(f"cannot write {target}: use a .parquet or .csv file name")
    config = load_config(config_path)
    if engine.applies(path):  # --engine dask, or a partitioned dataset (recovery.engine.dask)
        return engine.snapshots(
            path,
            out,
            config,
            start=start,
            end=end,
            keep_closed=keep_closed,
            episodes_out=episodes_out,
        )
    portfolio = load_portfolio(path, config)
    if portfolio.schedule is None or portfolio.payments is None:
        raise DataError(f"{path} needs schedule and payments tables to derive snapshots")
    month_ends = None
    if start is not None or end is not None:
        try:
            first = pd.Timestamp(start) if start else None
            last = pd.Timestamp(end) if end else portfolio.data_end
        except ValueError as exc:
            raise DataError(f"--start/--end must be dates (YYYY-MM-DD): {exc}") from None
        if first is None:
            first = pd.to_datetime(portfolio.accounts["origination_date"]).min()
        month_ends = pd.date_range(first, last, freq="ME")
        if len(month_ends) == 0:
            raise DataError(f"no month end between {first.date()} and {last.date()}")
    table = snapshots(
        portfolio,
        month_ends,
        config,
        keep_closed=keep_closed,
        partition_size=partition_size,
        progress=True,
    )
    ep = None
    if episodes_out is not None:  # computed before anything is written
        ep = episodes(portfolio, config, partition_size=partition_size)
    write_table(table, out)
    click.echo(
        f"wrote {len(table):,} snapshot rows ({table['account_id'].nunique():,} accounts, "
        f"{table['month_end'].nunique()} month ends) to {out}"
    )
    if ep is not None:
        write_table(ep, episodes_out)
        click.echo(f"wrote {len(ep):,} delinquency episodes to {episodes_out}")
