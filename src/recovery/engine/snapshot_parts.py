"""The month-end snapshots of a book, built part by part and kept for the analytics.

``recovery analyze`` and ``recovery report`` analyse a book of any size in one process
with :func:`snapshot_parts`: the accounts are split into parts of
``config.analytics.partition_size`` accounts; each part's event tables are aged
(:func:`recovery.timeline.aging.snapshots`, with the month ends and data end of the
whole book) and prepared once (:func:`recovery.analytics.states.snapshot_states`);
the part is kept in memory in a compact form
(:class:`~recovery.analytics.partitions.CompactPart`: integer codes, small integer
types; about 50 bytes a snapshot row) while the parts kept stay within
``memory_budget``, and written to a Parquet file in a temporary directory beyond it.
The analytics rebuild (or read) one part at a time
(:class:`~recovery.analytics.partitions.PartitionedSnapshots`), so memory stays
bounded whatever the size of the book. A book given as a ``snapshots`` table is
split the same way.

The exact delinquency episodes of the event tables
(:func:`recovery.timeline.aging.episodes`, one row per episode) are built in the
same pass when asked for.

Examples
--------
>>> from recovery.datasets import load_sample
>>> from recovery.analytics.roll_rates import roll_rate_matrix
>>> with snapshot_parts(load_sample(), partition_size=700) as parts:
...     matrix = roll_rate_matrix(parts.snapshots)
...     n = parts.snapshots.npartitions
>>> n, bool(matrix.sum(axis=1).round(9).eq(1).all())
(3, True)
"""

from __future__ import annotations

import contextlib
import functools
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recovery.analytics.partitions import CompactPart, PartitionedSnapshots
from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.engine.partitioning import PartitionedDataset
from recovery.errors import DataError
from recovery.progress import progress_bar

__all__ = ["SnapshotParts", "snapshot_parts", "split_by_account", "states_of"]

#: Tables split by account for aging (the others are not needed to build snapshots).
_AGING_TABLES = ("accounts", "schedule", "payments", "events", "offers")
_AMOUNTS = ("balance", "amount_overdue", "paid_in_month")
_ACTION_COLUMNS = ("account_id", "ts", "channel")


@dataclass
class SnapshotParts:
    """What :func:`snapshot_parts` built.

    Attributes
    ----------
    snapshots : PartitionedSnapshots
        The prepared snapshots (states) of each part, read from disk when used.
    episodes : DataFrame or None
        The exact delinquency episodes of the event tables (when asked for and the
        book has them).
    accounts : int
        Accounts in the book.
    book : Portfolio
        The book-level tables an analysis reads besides the snapshots: the given
        portfolio itself, or, for a partitioned dataset, its ``accounts``, the
        ``actions`` columns the collection costs need (``account_id, ts, channel``) and
        its metadata.
    """

    snapshots: PartitionedSnapshots
    episodes: pd.DataFrame | None
    accounts: int
    book: Portfolio | None = None


def split_by_account(
    portfolio: Portfolio, partition_size: int, tables: tuple[str, ...] = _AGING_TABLES
) -> Iterator[Portfolio]:
    """The portfolio as parts of at most ``partition_size`` accounts, one at a time.

    Accounts are taken in sorted id order (those of ``accounts``, ``schedule`` and
    ``snapshots``); every row of an account is in one part. Each part keeps the
    book's metadata, with its data end.

    Parameters
    ----------
    portfolio : Portfolio
    partition_size : int
        Accounts per part.
    tables : tuple of str
        The account-level tables to split (the others are left out of the parts).

    Yields
    ------
    Portfolio

    Examples
    --------
    >>> from recovery.datasets import load_sample
    >>> parts = list(split_by_account(load_sample(), 1500))
    >>> [len(p.accounts) for p in parts], parts[0].meta["data_end"] == parts[1].meta["data_end"]
    ([1500, 500], True)
    """
    if partition_size < 1:
        raise DataError(f"partition_size must be at least 1 account, got {partition_size}")
    present = {n: getattr(portfolio, n) for n in (*tables, "snapshots")}
    present = {n: t for n, t in present.items() if t is not None and n in tables}
    ids = [t["account_id"].astype(str).unique() for t in present.values()]
    if not ids:
        raise DataError("the portfolio has no table of accounts to split")
    index = pd.Index(np.unique(np.concatenate(ids)))
    n_parts = max(1, -(-len(index) // partition_size))
    slices = {}
    for name, table in present.items():
        part_of = index.get_indexer(table["account_id"].astype(str)) // partition_size
        order = np.argsort(part_of, kind="stable")
        slices[name] = (order, np.searchsorted(part_of[order], np.arange(n_parts + 1)))
    meta = {**portfolio.meta, "data_end": str(portfolio.data_end.date())}
    for i in range(n_parts):
        rows = {}
        for name, (order, bounds) in slices.items():
            taken = order[bounds[i] : bounds[i + 1]]
            rows[name] = present[name].iloc[taken].reset_index(drop=True)
        yield Portfolio(**rows, meta=dict(meta))


@contextlib.contextmanager
def snapshot_parts(
    portfolio: Portfolio | PartitionedDataset,
    config: Config | None = None,
    partition_size: int | None = None,
    *,
    episodes: bool = False,
    directory: str | Path | None = None,
    progress: bool = False,
    client: Any = None,
    memory_budget: float = 2.5e9,
) -> Iterator[SnapshotParts]:
    """Build the snapshots part by part, kept compact in memory (or as Parquet files).

    Parameters
    ----------
    portfolio : Portfolio or PartitionedDataset
        A ``snapshots`` table, or ``schedule`` and ``payments`` to derive it from; or a
        partitioned dataset (:mod:`recovery.engine.partitioning`), read one partition at
        a time (its partitions are the parts; ``partition_size`` does not apply), so that
        the book is never in memory whole.
    config : Config, optional
        Aging settings and ``analytics.partition_size``.
    partition_size : int, optional
        Accounts per part (default ``config.analytics.partition_size``).
    episodes : bool
        Also build the exact delinquency episodes of the event tables.
    directory : path, optional
        Write every part as a Parquet file there (read back each time it is used).
        Default: the parts stay in memory in a compact form
        (:class:`~recovery.analytics.partitions.CompactPart`, about 50 bytes a
        snapshot row: 1.1 GB for a million accounts over 84 months), rebuilt when
        read; those beyond ``memory_budget`` go to a temporary directory, removed on
        exit (so do a Dask cluster's, which its workers write).
    progress : bool
        Show a progress bar over the parts.
    client : distributed.Client, optional
        With a partitioned dataset: age the partitions on this Dask cluster, each
        worker writing its part's file (a directory every worker shares); only the
        book-level tables are read here.
    memory_budget : float
        Bytes of compact parts kept in memory (default 2.5 GB); the parts beyond it
        are written to Parquet files.

    Yields
    ------
    SnapshotParts

    Raises
    ------
    DataError
        When the portfolio has neither snapshots nor the event tables to age.
    """
    from recovery.analytics.states import snapshot_states

    config = config or Config()
    size = int(partition_size or config.analytics.partition_size)
    given = not isinstance(portfolio, PartitionedDataset) and portfolio.snapshots is not None
    if (
        not given
        and not isinstance(portfolio, PartitionedDataset)
        and (portfolio.schedule is None or portfolio.payments is None)
    ):
        raise DataError(
            "the portfolio has no 'snapshots' table and no 'schedule' + 'payments' to "
            "derive one from; add snapshots.parquet/csv or the event tables"
        )
    with contextlib.ExitStack() as stack:
        on_cluster = client is not None and isinstance(portfolio, PartitionedDataset)
        if directory is None and on_cluster:
            directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="recovery-parts-"))
        if directory is not None:
            directory = Path(directory)
            directory.mkdir(parents=True, exist_ok=True)
        if on_cluster:
            yield _on_cluster(portfolio, config, episodes, directory, client, progress)
            return
        kept, found, exact, n_accounts, in_memory = [], set(), [], 0, 0
        columns: list[str] = []
        built, book, n_parts = _built_parts(portfolio, config, size, episodes)
        bar = progress_bar(built, desc="snapshots", unit="parts", total=n_parts, enabled=progress)
        for i, (snaps, eps) in enumerate(bar):
            if eps is not None:
                exact.append(eps)
            n_accounts += int(snaps["account_id"].nunique())
            if not len(snaps):
                continue
            states = snapshot_states(snaps, config)
            found |= {c for c in _AMOUNTS if c in snaps and snaps[c].notna().any()}
            columns = columns or list(states.columns)
            compact = CompactPart(states) if directory is None else None
            if compact is not None and in_memory + compact.nbytes <= memory_budget:
                kept.append(compact)  # rebuilt when read
                in_memory += compact.nbytes
            else:
                if directory is None:  # beyond the budget: on disk
                    directory = Path(
                        stack.enter_context(tempfile.TemporaryDirectory(prefix="recovery-parts-"))
                    )
                path = directory / f"part-{i:05d}.parquet"
                states.to_parquet(path, index=False)
                kept.append(functools.partial(pd.read_parquet, path))
            del snaps, states, compact
        if not kept:
            raise DataError("the snapshots table is empty; nothing to analyse")
        # a status-only history: amounts the data lacks are absent, not zeros
        columns = [c for c in columns if c not in _AMOUNTS or c in found]
        table = PartitionedSnapshots(kept, columns=columns)
        eps = None
        if exact:
            eps = pd.concat(exact, ignore_index=True) if len(exact) > 1 else exact[0]
            eps = eps.sort_values("account_id", kind="mergesort", ignore_index=True)
        yield SnapshotParts(table, eps, n_accounts, book)


def _built_parts(portfolio: Any, config: Config, size: int, episodes: bool):
    """(snapshots, exact episodes) of each part, the book-level tables, the number of parts."""
    if isinstance(portfolio, PartitionedDataset):
        built, book = _dataset_parts(portfolio, config, episodes)
        return built, book, portfolio.partitions
    given = portfolio.snapshots is not None
    tables = ("snapshots",) if given else _AGING_TABLES
    n_parts = max(1, -(-_n_accounts(portfolio, tables) // size))

    def parts() -> Iterator[tuple[pd.DataFrame, pd.DataFrame | None]]:
        if given:
            for part in split_by_account(portfolio, size, tables):
                yield part.snapshots, None
            return
        from recovery.timeline import aging

        month_ends = aging.default_month_ends(portfolio)
        for part in split_by_account(portfolio, size, tables):
            exact = aging.episodes(part, config, partition_size=None) if episodes else None
            yield aging.snapshots(part, month_ends, config, partition_size=None), exact

    return parts(), portfolio, n_parts


def _dataset_parts(
    dataset: PartitionedDataset, config: Config, episodes: bool
) -> tuple[Iterator[tuple[Portfolio, pd.DataFrame | None]], Portfolio]:
    """Each partition of a dataset with its snapshots; the book-level tables collected."""
    from recovery.engine.dask import snapshot_month_ends
    from recovery.timeline import aging

    given = "snapshots" in dataset.tables  # monthly snapshots: nothing to age
    month_ends = None if given else snapshot_month_ends(dataset)
    book = Portfolio(meta=dict(dataset.meta))
    accounts, actions = [], []
    wanted = [*_AGING_TABLES, "actions", "snapshots"]

    def parts() -> Iterator[tuple[Portfolio, pd.DataFrame | None]]:
        for k in range(dataset.partitions):
            part = dataset.read(k, tables=wanted, columns={"actions": _ACTION_COLUMNS})
            if part.accounts is not None:
                accounts.append(part.accounts)
            if part.actions is not None:
                actions.append(part.actions)  # the columns the collection costs read
            part.actions = None
            if part.snapshots is not None:  # a dataset of monthly snapshots
                yield part.snapshots, None
                continue
            if part.schedule is None or not len(part.schedule):
                continue
            exact = aging.episodes(part, config, partition_size=None) if episodes else None
            yield aging.snapshots(part, month_ends, config, partition_size=None), exact
        book.accounts = pd.concat(accounts, ignore_index=True) if accounts else None
        book.actions = pd.concat(actions, ignore_index=True) if actions else None

    return parts(), book


def states_of(portfolio: Portfolio, month_ends: Any, config: Config) -> pd.DataFrame:
    """The prepared snapshots (states) of one partition: the task of each Dask worker."""
    from recovery.analytics.states import snapshot_states
    from recovery.timeline import aging

    snaps = portfolio.snapshots  # a dataset of monthly snapshots, else aged here
    if snaps is None:
        snaps = aging.snapshots(portfolio, month_ends, config, partition_size=None)
    return snapshot_states(snaps, config)


def _on_cluster(
    dataset: PartitionedDataset,
    config: Config,
    episodes: bool,
    directory: Path,
    client: Any,
    progress: bool,
) -> SnapshotParts:
    """The parts aged on a Dask cluster, written by the workers; book tables read here."""
    from recovery.engine.dask import (
        PartitionPlan,
        plan_episodes,
        snapshot_month_ends,
        write_partition_results,
    )

    months = () if "snapshots" in dataset.tables else tuple(snapshot_month_ends(dataset))
    plan = PartitionPlan(
        dataset, states_of, (months,) * dataset.partitions, {"config": config}, "snapshots"
    )
    write_partition_results(plan, directory / "parts", "dask", client, progress=progress)
    files = sorted((directory / "parts").glob("part-*.parquet"))
    eps = None
    if episodes and "snapshots" not in dataset.tables:
        target = directory / "episodes.parquet"
        write_partition_results(plan_episodes(dataset, config), target, "dask", client)
        eps = pd.read_parquet(target)
        eps = eps.sort_values("account_id", kind="mergesort", ignore_index=True)
    book = Portfolio(meta=dict(dataset.meta))
    tables = [dataset.read(k, tables=["accounts", "actions"]) for k in range(dataset.partitions)]
    if tables and tables[0].accounts is not None:
        book.accounts = pd.concat([t.accounts for t in tables], ignore_index=True)
    if tables and tables[0].actions is not None:
        slim = [c for c in ("account_id", "ts", "channel") if c in tables[0].actions]
        book.actions = pd.concat([t.actions[slim] for t in tables], ignore_index=True)
    snapshots = PartitionedSnapshots.from_parquet([f for f in files if f.stat().st_size])
    n_accounts = sum(len(t.accounts) for t in tables if t.accounts is not None)
    return SnapshotParts(snapshots, eps, n_accounts, book)


def _n_accounts(portfolio: Portfolio, tables: tuple[str, ...]) -> int:
    for name in ("accounts", *tables):
        table = getattr(portfolio, name, None)
        if table is not None:
            return int(table["account_id"].nunique())
    return 0
