"""``--engine pandas|dask --scheduler ADDRESS --workers N``: one decorator for the commands.

:func:`engine_options` adds the options to a click command and hands the command an
:class:`EngineChoice` (argument ``engine``). A command asks ``engine.applies(path)``
— true for ``--engine dask`` and for a partitioned dataset whatever the engine — and
then lets the choice run the work partition by partition
(:mod:`recovery.engine.dask`); otherwise it goes on with its in-memory pandas code.
With ``--engine pandas`` a partitioned dataset is processed one partition at a time
in this process (bounded memory); with ``--engine dask`` a plain portfolio directory
is first split into a temporary partitioned dataset.

This module imports only click at CLI start-up; the engines are imported when used.
"""

from __future__ import annotations

import contextlib
import functools
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

__all__ = ["EngineChoice", "engine_options"]

ENGINES = ("pandas", "dask")


@dataclass(frozen=True)
class EngineChoice:
    """The engine options of one command line.

    Attributes
    ----------
    engine : {"pandas", "dask"}
    scheduler : str or None
        Address of an existing Dask scheduler (implies the Dask engine).
    workers : int
        Local Dask workers (one single-threaded process each).
    memory_limit : str
        Per local worker.
    partitions : int or None
        Partitions of the temporary dataset made from a plain portfolio directory
        (default: 4 per worker, at most 50,000 accounts each).
    """

    engine: str = "pandas"
    scheduler: str | None = None
    workers: int = 2
    memory_limit: str = "6GB"
    partitions: int | None = None

    @property
    def dask(self) -> bool:
        return self.engine == "dask"

    def applies(self, path: str | Path) -> bool:
        """Whether the command must run partition by partition on ``path``."""
        from recovery.engine.partitioning import is_partitioned

        return self.dask or is_partitioned(str(path))  # str: a PortfolioSource's location

    # ------------------------------------------------------------------ helpers
    @contextlib.contextmanager
    def _dataset(self, path: str | Path, config: Any) -> Iterator[Any]:
        """The partitioned dataset at ``path``, or a temporary one made from it."""
        from recovery.engine.partitioning import is_partitioned, open_partitioned, write_partitioned

        if is_partitioned(str(path)):  # str: a PortfolioSource's location
            yield open_partitioned(str(path))
            return
        from recovery.data.io import load_portfolio

        portfolio = load_portfolio(path, config)
        n_accounts = len(portfolio.accounts) if portfolio.accounts is not None else 1
        partitions = self.partitions or max(4 * self.workers, -(-n_accounts // 50_000))
        with tempfile.TemporaryDirectory(prefix="recovery-partitions-") as tmp:
            target = Path(tmp) / "book"
            write_partitioned(portfolio, target, partitions, config, validate=False)
            del portfolio
            yield open_partitioned(target)

    @contextlib.contextmanager
    def _client(self) -> Iterator[Any]:
        if not self.dask:
            yield None
            return
        from recovery.engine.dask import dask_client

        with dask_client(self.scheduler, self.workers, memory_limit=self.memory_limit) as client:
            yield client

    def _write(self, plan: Any, out: str, client: Any) -> int:
        from recovery.engine.dask import write_partition_results

        return write_partition_results(plan, out, self.engine, client, progress=True)

    @contextlib.contextmanager
    def book(self, path: str | Path, config: Any) -> Iterator[tuple[Any, Any]]:
        """The partitioned dataset at ``path`` (or a temporary one made from it) and the
        Dask client (None on the pandas engine), for a command that runs its own work."""
        with self._dataset(path, config) as dataset, self._client() as client:
            yield dataset, client

    # ------------------------------------------------------------------ commands
    def snapshots(
        self,
        path: str,
        out: str,
        config: Any,
        *,
        start: str | None = None,
        end: str | None = None,
        keep_closed: bool = False,
        episodes_out: str | None = None,
    ) -> None:
        """``recovery snapshots`` partition by partition."""
        from recovery.engine.dask import plan_episodes, plan_snapshots, snapshot_month_ends
        from recovery.errors import DataError

        with self._dataset(path, config) as dataset, self._client() as client:
            try:
                months = snapshot_month_ends(dataset, start, end)
            except ValueError as exc:
                raise DataError(f"--start/--end must be dates (YYYY-MM-DD): {exc}") from None
            rows = self._write(plan_snapshots(dataset, months, config, keep_closed), out, client)
            click.echo(
                f"wrote {rows:,} snapshot rows ({len(months)} month ends, "
                f"{dataset.partitions} partitions, {self.engine} engine) to {out}"
            )
            if episodes_out is not None:
                n = self._write(plan_episodes(dataset, config), episodes_out, client)
                click.echo(f"wrote {n:,} delinquency episodes to {episodes_out}")

    def features(
        self,
        path: str,
        request: Any,
        out: str,
        config: Any,
        *,
        with_labels: bool = False,
        include_protected: bool = False,
        snapshots_only: bool = False,
    ) -> None:
        """``recovery features`` partition by partition."""
        from recovery.engine.dask import plan_features
        from recovery.errors import DataError

        if snapshots_only:
            raise DataError("--snapshots-only runs on the pandas engine on a portfolio directory")
        with self._dataset(path, config) as dataset, self._client() as client:
            plan = plan_features(dataset, request, config, include_protected, with_labels)
            rows = self._write(plan, out, client)
        click.echo(
            f"wrote {rows:,} (account, as-of) rows to {out} "
            f"({dataset.partitions} partitions, {self.engine} engine)"
        )

    def score(
        self, path: str, model_dirs: list[Path], date: Any, out: str, config: Any, top: int
    ) -> None:
        """``recovery score`` partition by partition."""
        from recovery.engine.dask import plan_scores
        from recovery.errors import DataError

        with self._dataset(path, config) as dataset, self._client() as client:
            if date > dataset.data_end:
                raise DataError(
                    f"--as-of {date.date()} is after the data end {dataset.data_end.date()}"
                )
            plan = plan_scores(dataset, [date], model_dirs, config, top)
            rows = self._write(plan, out, client)
        if not rows:
            raise DataError(f"no overdue accounts at {date.date()}")
        click.echo(
            f"scored {rows:,} overdue accounts at {date.date()} → {out} "
            f"({dataset.partitions} partitions, {self.engine} engine)"
        )


def engine_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--engine``, ``--scheduler``, ``--workers``, ``--memory-limit`` to a command.

    The command receives them as one keyword argument ``engine`` (:class:`EngineChoice`).
    """

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        engine = kwargs.pop("engine")
        scheduler = kwargs.pop("scheduler")
        choice = EngineChoice(
            engine="dask" if scheduler else engine,
            scheduler=scheduler,
            workers=kwargs.pop("workers"),
            memory_limit=kwargs.pop("memory_limit"),
        )
        return function(*args, engine=choice, **kwargs)

    options = [
        click.option(
            "--engine",
            type=click.Choice(ENGINES),
            default="pandas",
            show_default=True,
            help="pandas: this process (a partitioned dataset one partition at a time); "
            "dask: partitions in parallel on a Dask cluster.",
        ),
        click.option(
            "--scheduler",
            default=None,
            metavar="ADDRESS",
            help="Existing Dask scheduler (tcp://host:8786); implies --engine dask.",
        ),
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            default=2,
            show_default=True,
            help="Local Dask workers (one single-threaded process each).",
        ),
        click.option(
            "--memory-limit",
            default="6GB",
            show_default=True,
            help="Memory limit of each local Dask worker.",
        ),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper
