"""``recovery simulate``: write a simulated loan book and its truth to a directory."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import click

from recovery.commands.options import config_option

__all__ = ["command"]


@click.command("simulate")
@click.option(
    "--accounts",
    "n_accounts",
    type=click.IntRange(min=1),
    default=5000,
    show_default=True,
    help="Number of loans.",
)
@click.option(
    "--months",
    type=click.IntRange(min=1),
    default=84,
    show_default=True,
    help="Observed months from --start.",
)
@click.option(
    "--start",
    default="2019-01-01",
    show_default=True,
    help="First observed month (the back book precedes it).",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Random seed; same arguments give identical files.",
)
@click.option(
    "--scenario",
    default="benchmark",
    show_default=True,
    help="Named scenario (benchmark, stable, no_age_effect, customers, offers).",
)
@click.option(
    "--no-operation", is_flag=True, help="Simulate without the collection operation (part 2)."
)
@click.option(
    "--truth-draws",
    type=click.IntRange(min=0),
    default=None,
    help="How p_pay_true/p_cure_true average over the next month's collection work: by default "
    "its expectation in closed form; N = the average of N redraws of the month (the slow "
    "reference); 0 = the realised work (looks one month ahead). The tables are the same.",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1000),
    default=20_000,
    show_default=True,
    help="Accounts simulated at a time (memory bound).",
)
@click.option(
    "--validate",
    type=click.Choice(["first", "all", "none"]),
    default="first",
    show_default=True,
    help="Check the data contract on the first chunk, every chunk, or not at all.",
)
@config_option("TOML/YAML configuration file.", default=None)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False),
    required=True,
    help="Output directory (tables + truth/).",
)
@click.option(
    "--partitions",
    type=click.IntRange(min=1),
    default=None,
    help="Write a partitioned dataset (tables split by account hash) for the Dask engine.",
)
def command(
    n_accounts,
    months,
    start,
    seed,
    scenario,
    no_operation,
    truth_draws,
    chunk_size,
    validate,
    config_path,
    out,
    partitions,
):
    """Simulate a loan book (tables of the data contract) with ground truth.

    Writes one Parquet file per table into OUT and the truth tables into OUT/truth/,
    chunk by chunk (bounded memory); nothing is left behind if a chunk fails.
    """
    from recovery.config import load_config
    from recovery.progress import progress_bar
    from recovery.simulate.book import BLOCK_SIZE
    from recovery.simulate.operation import CollectionOperation
    from recovery.simulate.params import get_scenario
    from recovery.simulate.simulation import FOLLOW_UP_MONTHS, write_simulation

    config = load_config(config_path)
    params = get_scenario(scenario)
    n_blocks = -(-n_accounts // BLOCK_SIZE)
    per_chunk = max(1, chunk_size // BLOCK_SIZE)
    n_chunks = -(-n_blocks // per_chunk)
    # the bar counts simulated months (back book, observed, follow-up); the book is
    # simulated in n_chunks chunks of accounts, each month once per chunk
    total = params.back_book_months + months + FOLLOW_UP_MONTHS
    with progress_bar(total=total, desc="simulate", unit="months",
                      bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} months [{elapsed}<{remaining}]",
                      ) as bar:  # fmt: skip
        from recovery.engine.partitioning import simulate_partitioned

        write = (  # --partitions: tables split by account hash (recovery.engine.partitioning)
            write_simulation
            if partitions is None
            else partial(simulate_partitioned, partitions=partitions)
        )
        write(
            Path(out),
            config=config,
            n_accounts=n_accounts,
            start=start,
            months=months,
            seed=seed,
            scenario=scenario,
            operation=_operation(no_operation, truth_draws, CollectionOperation),
            chunk_size=chunk_size,
            progress=lambda done: bar.update(done / n_chunks),
            validate=validate,
        )
    click.echo(f"wrote {n_accounts:,} accounts to {out} (truth in {Path(out) / 'truth'})")


def _operation(no_operation: bool, truth_draws: int | None, operation_class):
    """The simulator's ``operation`` argument from the command's options."""
    if no_operation:
        if truth_draws is not None:
            raise click.UsageError("--truth-draws applies to the collection operation only")
        return None
    return "default" if truth_draws is None else operation_class(truth_draws=truth_draws)
