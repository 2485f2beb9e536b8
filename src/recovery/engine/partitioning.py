"""Partitioned datasets: the event tables split by a hash of the account.

A book too large for one process is stored as a **partitioned dataset**: every
account-level table (``accounts``, ``schedule``, ``payments``, ``actions``,
``assignments``, ``events``, ``snapshots``) is a directory of Parquet files, one
sub-directory per partition::

    book/
      partitioning.json           partitions, key, hash, tables
      portfolio.json              meta (data_end, …) of the whole book
      agents.parquet              tables without an account (kept whole)
      accounts/partition=0/part-0.parquet
      accounts/partition=1/part-0.parquet
      schedule/partition=0/part-0.parquet
      …

The **partition of an account** is ``hash(account_id) mod partitions``
(:func:`account_partition`: pandas' SipHash of the UTF-8 id with a fixed key, so the
same id lands in the same partition on every run and machine). One partition
therefore holds *all* rows of its accounts in every table, and every per-account
computation of the package (aging, snapshots, features, labels, scores) runs on one
partition alone with the same result as on the whole book — which is what the Dask
engine (:mod:`recovery.engine.dask`) relies on.

Writing is atomic (a staging directory renamed into place) and can be incremental:
:class:`PartitionedWriter` appends one chunk of accounts at a time (one row group per
chunk and partition), so the simulator streams a book of any size straight into a
dataset with bounded memory (:func:`simulate_partitioned`, ``recovery simulate
--partitions N``).

Examples
--------
>>> import tempfile
>>> from recovery.datasets import load_sample
>>> sample = load_sample()
>>> with tempfile.TemporaryDirectory() as tmp:
...     dataset = write_partitioned(sample, f"{tmp}/book", partitions=4)
...     part = read_partition(dataset, 2)
...     whole = open_partitioned(dataset).read_all()
>>> bool(set(part.payments["account_id"]) <= set(part.accounts["account_id"]))
True
>>> len(whole.payments) == len(sample.payments)
True
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.atomic import remove_leftovers
from recovery.data.io import META_FILE, read_json, read_meta
from recovery.data.portfolio import TABLE_ORDER, Portfolio
from recovery.data.schema import validated_copy
from recovery.errors import DataError

__all__ = [
    "ACCOUNT_TABLES",
    "PARTITION_KEY",
    "PartitionedDataset",
    "PartitionedWriter",
    "account_partition",
    "is_partitioned",
    "open_partitioned",
    "read_partition",
    "simulate_partitioned",
    "write_partitioned",
]

#: Column every partitioned table is split by.
PARTITION_KEY = "account_id"
#: Tables split by account (``agents`` has no account and is kept whole).
ACCOUNT_TABLES: tuple[str, ...] = tuple(t for t in TABLE_ORDER if t != "agents")
#: 16-byte SipHash key: changing it moves every account to another partition.
HASH_KEY = "recovery.account"
LAYOUT_FILE = "partitioning.json"
_FORMAT = "recovery.partitioned"


def account_partition(account_ids: Iterable[Any], partitions: int) -> np.ndarray:
    """Partition (0 … ``partitions`` - 1) of each account id.

    ``SipHash-2-4(utf-8 id, key=HASH_KEY) mod partitions`` (:func:`pandas.util.hash_array`
    with a fixed key): deterministic across runs, processes and machines, and spread
    evenly whatever the ids look like. Ids are compared as text (``7`` and ``"7"`` are
    the same account).

    Parameters
    ----------
    account_ids : iterable
        Account ids.
    partitions : int
        Number of partitions (≥ 1).

    Returns
    -------
    numpy.ndarray of int64

    Examples
    --------
    >>> account_partition(["A0000001", "A0000002", "A0000001"], 8).tolist()
    [0, 1, 0]
    """
    if int(partitions) < 1:
        raise DataError(f"partitions must be at least 1, got {partitions}")
    values = (
        pd.Series(account_ids, dtype=object)
        if not isinstance(account_ids, pd.Series)
        else account_ids
    )
    text = values.astype(str).to_numpy(dtype=object)
    hashed = pd.util.hash_array(text, encoding="utf8", hash_key=HASH_KEY, categorize=True)
    return (hashed % np.uint64(partitions)).astype(np.int64)


def is_partitioned(path: str | Path) -> bool:
    """Whether ``path`` is a partitioned dataset (has a ``partitioning.json``).

    Examples
    --------
    >>> is_partitioned("/nonexistent")
    False
    """
    return (Path(path) / LAYOUT_FILE).is_file()


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class PartitionedDataset:
    """A partitioned dataset on disk (see the module docstring for the layout).

    Attributes
    ----------
    path : Path
        Its directory.
    partitions : int
        Number of partitions.
    tables : tuple of str
        Account tables present (each has every partition directory).
    whole_tables : tuple of str
        Tables kept whole (``agents``).
    meta : dict
        The book's metadata (``data_end``, simulator settings, …).
    """

    path: Path
    partitions: int
    tables: tuple[str, ...]
    whole_tables: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    def files(self, table: str, partition: int) -> list[Path]:
        """Parquet files of one table's partition, in write order."""
        directory = self.path / table / f"partition={int(partition)}"
        return sorted(directory.glob("part-*.parquet"), key=lambda p: int(p.stem.split("-")[1]))

    def read(
        self,
        partition: int,
        tables: Sequence[str] | None = None,
        columns: Mapping[str, Sequence[str]] | None = None,
    ) -> Portfolio:
        """One partition as a :class:`~recovery.data.portfolio.Portfolio` (whole tables included).

        Parameters
        ----------
        partition : int
            0 … ``partitions`` - 1.
        tables : sequence of str, optional
            Read only these tables (default all).
        columns : mapping of str to sequence of str, optional
            Read only these columns of the tables named (those the files have; the
            other tables whole).
        """
        import pyarrow.parquet as pq

        k = int(partition)
        if not 0 <= k < self.partitions:
            raise DataError(
                f"partition {k} does not exist in {self.path} (0 … {self.partitions - 1})"
            )
        wanted = self.tables if tables is None else [t for t in tables if t in self.tables]
        frames: dict[str, pd.DataFrame] = {}
        for name in wanted:
            files = self.files(name, k)
            if not files:
                raise DataError(f"{self.path}: table '{name}' lacks partition {k}; rewrite it")
            only = None
            if columns is not None and name in columns:
                have = set(pq.read_schema(files[0]).names)
                only = [c for c in columns[name] if c in have]
            parts = [pq.read_table(f, columns=only).to_pandas() for f in files]
            frames[name] = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
        for name in self.whole_tables:
            if tables is None or name in tables:
                frames[name] = pd.read_parquet(self.path / f"{name}.parquet")
        return Portfolio(**frames, meta=dict(self.meta))

    def read_all(self, tables: Sequence[str] | None = None) -> Portfolio:
        """Every partition concatenated (the whole book in memory — small books only)."""
        parts = [self.read(k, tables) for k in range(self.partitions)]
        frames = {
            name: pd.concat([getattr(p, name) for p in parts], ignore_index=True)
            for name in parts[0].table_names()
            if name not in self.whole_tables
        }
        for name in self.whole_tables:
            if getattr(parts[0], name) is not None:
                frames[name] = getattr(parts[0], name)
        return Portfolio(**frames, meta=dict(self.meta))

    @property
    def data_end(self) -> pd.Timestamp:
        """Last day the book covers (``meta['data_end']``)."""
        if not self.meta.get("data_end"):
            raise DataError(f"{self.path}/{META_FILE} lacks data_end")
        return pd.Timestamp(self.meta["data_end"])

    def __len__(self) -> int:
        return self.partitions


def open_partitioned(path: str | Path) -> PartitionedDataset:
    """Open a partitioned dataset written by :func:`write_partitioned`.

    Raises
    ------
    DataError
        ``path`` is not a partitioned dataset.

    Examples
    --------
    >>> import tempfile
    >>> from recovery.datasets import load_sample
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     d = open_partitioned(write_partitioned(load_sample(), tmp + "/b", partitions=3))
    ...     d.partitions, d.tables[:3]
    (3, ('accounts', 'schedule', 'payments'))
    """
    directory = Path(path)
    layout_file = directory / LAYOUT_FILE
    if not layout_file.is_file():
        raise DataError(
            f"{directory} is not a partitioned dataset (no {LAYOUT_FILE}); write one with "
            "recovery.engine.partitioning.write_partitioned or `recovery simulate --partitions N`"
        )
    layout = read_json(layout_file)
    if layout.get("format") != _FORMAT or layout.get("key") != PARTITION_KEY:
        raise DataError(f"{layout_file}: not a recovery partitioned dataset layout")
    if layout.get("hash_key") != HASH_KEY:
        raise DataError(
            f"{layout_file}: written with hash key {layout.get('hash_key')!r}, this version "
            f"uses {HASH_KEY!r}; rewrite the dataset"
        )
    return PartitionedDataset(
        path=directory,
        partitions=int(layout["partitions"]),
        tables=tuple(layout["tables"]),
        whole_tables=tuple(layout.get("whole_tables", ())),
        meta=read_meta(directory),
    )


def read_partition(
    path: str | Path | PartitionedDataset, partition: int, tables: Sequence[str] | None = None
) -> Portfolio:
    """Read one partition of a partitioned dataset as a Portfolio.

    The partition holds every row of its accounts in every table, so any per-account
    function of the package gives on it the rows of those accounts it gives on the
    whole book. ``meta`` (``data_end``) is the whole book's.

    Parameters
    ----------
    path : str, Path or PartitionedDataset
        The dataset.
    partition : int
        0 … partitions - 1.
    tables : sequence of str, optional
        Read only these tables.

    Returns
    -------
    Portfolio

    Examples
    --------
    >>> import tempfile
    >>> from recovery.datasets import load_sample
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_partitioned(load_sample(), tmp + "/b", partitions=2)
    ...     sizes = [len(read_partition(path, k).accounts) for k in (0, 1)]
    >>> sum(sizes)
    2000
    """
    dataset = path if isinstance(path, PartitionedDataset) else open_partitioned(path)
    return dataset.read(partition, tables)


# --------------------------------------------------------------------------- writing


class PartitionedWriter:
    """Stream portfolios (chunks of accounts) into a partitioned dataset.

    Each :meth:`write` splits every account table by :func:`account_partition` and
    appends one row group to each partition's file; memory stays that of one chunk.
    Files go to a staging directory renamed onto ``path`` by :meth:`close` — an
    exception inside the ``with`` block leaves nothing behind (and an existing dataset
    at ``path`` untouched).

    Parameters
    ----------
    path : str or Path
        Target directory: must not exist, be empty, or be a partitioned dataset
        (replaced).
    partitions : int
        Number of partitions (≥ 1). Choose it so that one partition fits a worker
        comfortably: see ``docs/scaling.md``.

    Examples
    --------
    >>> import tempfile
    >>> from recovery.datasets import load_sample
    >>> sample = load_sample()
    >>> ids = sample.accounts["account_id"]
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with PartitionedWriter(tmp + "/b", partitions=4) as writer:
    ...         writer.write(sample.subset(ids[:1000]))
    ...         writer.write(sample.subset(ids[1000:]))
    ...     len(open_partitioned(tmp + "/b").read_all().accounts)
    2000
    """

    def __init__(self, path: str | Path, partitions: int):
        if int(partitions) < 1:
            raise DataError(f"partitions must be at least 1, got {partitions}")
        self.path = Path(path)
        self.partitions = int(partitions)
        if self.path.exists() and not is_partitioned(self.path):
            if not self.path.is_dir() or any(self.path.iterdir()):
                raise DataError(
                    f"{self.path} exists and is not a partitioned dataset; choose an empty "
                    "or new directory"
                )
        remove_leftovers(self.path, suffix=".partitioning")  # of earlier killed runs
        self.staging = self.path.with_name(f".{self.path.name}.{os.getpid()}.partitioning")
        if self.staging.exists():
            shutil.rmtree(self.staging)
        self.staging.mkdir(parents=True)
        self.meta: dict[str, Any] = {}
        self.rows: dict[str, int] = {}
        self._writers: dict[tuple[str, int], Any] = {}
        self._schemas: dict[str, Any] = {}
        self._whole: dict[str, pd.DataFrame] = {}
        self._closed = False

    def __enter__(self) -> PartitionedWriter:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()

    def write(self, portfolio: Portfolio) -> None:
        """Append one portfolio (some accounts, all their rows) to the dataset."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if portfolio.meta:
            self.meta = dict(portfolio.meta)
        for name, df in portfolio.tables().items():
            if name not in ACCOUNT_TABLES:
                self._whole[name] = df  # whole tables: the last one given is written
                continue
            if PARTITION_KEY not in df.columns:
                raise DataError(f"table '{name}' lacks column '{PARTITION_KEY}'")
            table = pa.Table.from_pandas(df, preserve_index=False)
            schema = self._schemas.setdefault(name, table.schema)
            if not table.schema.equals(schema):
                table = table.cast(schema)
            part = account_partition(df[PARTITION_KEY], self.partitions)
            order = np.argsort(part, kind="stable")
            bounds = np.searchsorted(part[order], np.arange(self.partitions + 1))
            for k in np.flatnonzero(np.diff(bounds)):
                rows = table.take(pa.array(order[bounds[k] : bounds[k + 1]]))
                key = (name, int(k))
                if key not in self._writers:
                    directory = self.staging / name / f"partition={int(k)}"
                    directory.mkdir(parents=True, exist_ok=True)
                    self._writers[key] = pq.ParquetWriter(directory / "part-0.parquet", schema)
                self._writers[key].write_table(rows)
            self.rows[name] = self.rows.get(name, 0) + len(df)

    def close(self) -> Path:
        """Finish the files, write the layout and move the dataset into place."""
        import pyarrow.parquet as pq

        if self._closed:
            return self.path
        try:
            for writer in self._writers.values():
                writer.close()
            for name, schema in self._schemas.items():  # every partition has every table
                for k in range(self.partitions):
                    if (name, k) not in self._writers:
                        directory = self.staging / name / f"partition={k}"
                        directory.mkdir(parents=True, exist_ok=True)
                        pq.write_table(schema.empty_table(), directory / "part-0.parquet")
            for name, df in self._whole.items():
                df.to_parquet(self.staging / f"{name}.parquet", index=False)
            layout = {
                "format": _FORMAT,
                "version": 1,
                "key": PARTITION_KEY,
                "partitions": self.partitions,
                "hash": "pandas.util.hash_array (SipHash-2-4 of the UTF-8 id) mod partitions",
                "hash_key": HASH_KEY,
                "tables": [t for t in ACCOUNT_TABLES if t in self._schemas],
                "whole_tables": sorted(self._whole),
                "rows": self.rows,
            }
            (self.staging / LAYOUT_FILE).write_text(json.dumps(layout, indent=2), encoding="utf-8")
            (self.staging / META_FILE).write_text(
                json.dumps(self.meta, indent=2, default=str), encoding="utf-8"
            )
        except BaseException:
            self.abort()
            raise
        self._closed = True
        if self.path.exists():
            old = self.path.with_name(f".{self.path.name}.{os.getpid()}.replaced")
            self.path.rename(old)
            self.staging.rename(self.path)
            shutil.rmtree(old)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.staging.rename(self.path)
        return self.path

    def abort(self) -> None:
        """Drop everything written so far (the target is left as it was)."""
        for writer in self._writers.values():
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - cleaning up after another error
                pass
        self._writers.clear()
        self._closed = True
        shutil.rmtree(self.staging, ignore_errors=True)


def write_partitioned(
    portfolio: Portfolio,
    path: str | Path,
    partitions: int,
    config: Config | None = None,
    *,
    validate: bool = True,
) -> Path:
    """Write a portfolio as a partitioned dataset (Parquet, split by account hash).

    Parameters
    ----------
    portfolio : Portfolio
        The book (any tables; ``agents`` is kept whole).
    path : str or Path
        Target directory (new, empty, or a partitioned dataset to replace).
    partitions : int
        Number of partitions.
    config : Config, optional
        For the contract check.
    validate : bool
        Check the data contract first (nothing is written when it fails).

    Returns
    -------
    Path
        The directory; ``meta['data_end']`` is recorded from the whole book so that
        each partition censors labels at the same day.

    Examples
    --------
    >>> import tempfile
    >>> from recovery.datasets import load_sample
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_partitioned(load_sample(), tmp + "/b", partitions=4)
    ...     sorted(p.name for p in (path / "payments").iterdir())
    ['partition=0', 'partition=1', 'partition=2', 'partition=3']
    """
    if validate:
        validated_copy(portfolio, config)
    meta = dict(portfolio.meta)
    if not meta.get("data_end"):
        try:
            meta["data_end"] = str(portfolio.data_end.date())
        except ValueError:
            pass
    whole = Portfolio(**portfolio.tables(), meta=meta)
    with PartitionedWriter(path, partitions) as writer:
        writer.write(whole)
    return Path(path)


# --------------------------------------------------------------------------- simulator


def simulate_partitioned(
    path: str | Path,
    partitions: int,
    config: Config | None = None,
    *,
    truth: bool = True,
    validate: str = "first",
    **simulation: Any,
) -> Path:
    """Simulate a book chunk by chunk straight into a partitioned dataset.

    Memory stays that of one simulator chunk (``chunk_size`` accounts) whatever the
    book size. The simulator's truth goes, unpartitioned, to ``path/truth`` as with
    :func:`recovery.simulate.simulation.write_simulation`.

    Parameters
    ----------
    path : str or Path
        Target directory.
    partitions : int
        Number of partitions.
    config : Config, optional
    truth : bool
        Also write the truth tables.
    validate : {"first", "all", "none"}
        Contract check of the first chunk, every chunk, or none.
    **simulation
        Arguments of :func:`recovery.simulate.simulation.iter_simulation`
        (``n_accounts``, ``months``, ``seed``, ``scenario``, ``operation``,
        ``chunk_size``, ``progress``, …).

    Returns
    -------
    Path
        The dataset's directory (``path``).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = simulate_partitioned(tmp + "/b", 3, n_accounts=60, months=6,
    ...                                 operation=None, truth=False)
    ...     len(open_partitioned(path).read_all().accounts)
    60
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from recovery.simulate.simulation import iter_simulation

    if validate not in ("first", "all", "none"):
        raise DataError("validate must be 'first', 'all' or 'none'")
    config = config or Config()
    truth_writers: dict[str, Any] = {}
    last_truth = None
    with PartitionedWriter(path, partitions) as writer:
        truth_dir = writer.staging / "truth"
        try:
            for c, (chunk, chunk_truth) in enumerate(iter_simulation(config, **simulation)):
                if validate == "all" or (validate == "first" and c == 0):
                    validated_copy(chunk, config)
                writer.write(chunk)
                if not truth:
                    continue
                truth_dir.mkdir(exist_ok=True)
                for name, df in chunk_truth.tables().items():
                    if name in ("recovery_by_age", "recovery_curve"):
                        continue  # book-level tables, written once below
                    table = pa.Table.from_pandas(df, preserve_index=False)
                    if name not in truth_writers:
                        truth_writers[name] = pq.ParquetWriter(
                            truth_dir / f"{name}.parquet", table.schema
                        )
                    schema = truth_writers[name].schema
                    truth_writers[name].write_table(
                        table if table.schema.equals(schema) else table.cast(schema)
                    )
                last_truth = chunk_truth
        finally:
            for tw in truth_writers.values():
                tw.close()
        if last_truth is not None:
            for name in ("recovery_by_age", "recovery_curve"):
                getattr(last_truth, name).to_parquet(truth_dir / f"{name}.parquet", index=False)
            (truth_dir / "truth.json").write_text(
                json.dumps(last_truth.meta, indent=2, default=str), encoding="utf-8"
            )
    return Path(path)
