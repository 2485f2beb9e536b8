"""The Dask engine: the per-account pipeline on a partitioned dataset, in parallel.

Snapshots, features, labels and scores are functions of one account's rows, and a
partitioned dataset (:mod:`recovery.engine.partitioning`) keeps every row of an account in
one partition. The Dask engine therefore applies **the same pandas functions**
(:func:`recovery.timeline.aging.snapshots`, :func:`recovery.timeline.features.build_features`,
:func:`recovery.timeline.labels.build_labels`, :func:`recovery.models.scores.score_table`) to
each partition — one ``dask.dataframe`` partition per dataset partition, built with
:func:`dask.dataframe.from_map` — and never implements a definition a second time.
Results are the pandas engine's rows, grouped by partition instead of sorted by
account (sort by ``account_id`` and the date to compare).

What must be the same for every partition is decided once on the client: the month
ends of the snapshots (from the first origination of the whole book to its
``data_end``), ``data_end`` itself (label censoring) and the routing of requested
``(account_id, as_of)`` pairs to partitions.

Computation runs on whatever Dask scheduler is active: :func:`dask_client` starts a
local ``dask.distributed`` cluster (one single-threaded worker process per core, a
memory limit each) or connects to an existing one by its scheduler address. The
``--engine dask`` option of ``recovery snapshots``, ``features`` and ``score`` uses
:func:`write_partition_results`, which streams the partitions' results to one file in
partition order, or lets each worker write its partitions' files into a directory;
``--engine pandas`` on a partitioned dataset runs the same partition functions one
after another in this process (bounded memory). How to run on a cluster, choose
partition counts and what to expect: ``docs/scaling.md``.

Cross-account analytics (roll rates, vintage curves, recovery by debt age, monthly
KPIs) accept the Dask snapshots table too: see :mod:`recovery.engine.dask_analytics`.

Dask is an optional dependency (``pip install 'recovery[dask]'``); this module
imports it only when a Dask object is built.

Examples
--------
>>> import tempfile
>>> from recovery.datasets import load_sample
>>> from recovery.engine.partitioning import write_partitioned
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = write_partitioned(load_sample(), tmp + "/book", partitions=4)
...     snaps = distributed_snapshots(path)
...     n = len(snaps.compute(scheduler="sync"))
>>> snaps.npartitions, n
(4, 43225)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.docstrings import fill_doc
from recovery.engine.partitioning import (
    PartitionedDataset,
    account_partition,
    open_partitioned,
)
from recovery.errors import ConfigError, DataError

__all__ = [
    "PartitionPlan",
    "dask_client",
    "distributed_episodes",
    "distributed_features",
    "distributed_labels",
    "distributed_scores",
    "distributed_snapshots",
    "plan_episodes",
    "plan_features",
    "plan_labels",
    "plan_scores",
    "plan_snapshots",
    "require_dask",
    "snapshot_month_ends",
    "write_partition_results",
]

#: Default memory limit of a local worker (the 1M-account benchmark peaks far below).
DEFAULT_MEMORY_LIMIT = "6GB"
#: Dask's default ``MALLOC_TRIM_THRESHOLD_=65536`` for worker processes turns off glibc's
#: adaptive mmap threshold: every large numpy temporary is then mmap-ed and unmapped,
#: and the partition functions spend about twice the CPU time in page faults (measured:
#: 5.5 vs 2.9 CPU s for one 30,000-account features partition). Local workers keep the
#: allocator's defaults; set the same on a deployed cluster (docs/scaling.md). The
#: statistical profiler (a stack sample every 10 ms) is off too: it costs the
#: single-threaded pandas code about 10 % and serves only the dashboard.
_LOCAL_WORKER_CONFIG = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "500ms",
}
#: Accounts of partition 0 used to learn the dtypes of the result (Dask ``meta``).
_META_ACCOUNTS = 400
#: The opening of the examples below: the sample book written as 2 partitions.
_PARTITIONED_SAMPLE = """
>>> import tempfile
>>> from recovery.datasets import load_sample
>>> from recovery.engine.partitioning import write_partitioned
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = write_partitioned(load_sample(), tmp + "/b", partitions=2)"""

#: A partitioned dataset, or the path of one.
Dataset = str | Path | PartitionedDataset


def require_dask() -> None:
    """Raise a :class:`~recovery.errors.ConfigError` naming the extra when Dask is missing.

    Examples
    --------
    >>> require_dask()  # installed here
    """
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:  # pragma: no cover - the extra is installed in development
        raise ConfigError(
            "the Dask engine needs the optional dependency: pip install 'recovery[dask]'"
        ) from None


@contextlib.contextmanager
def dask_client(
    scheduler: str | None = None,
    workers: int = 2,
    *,
    memory_limit: str | int | None = DEFAULT_MEMORY_LIMIT,
    threads_per_worker: int = 1,
) -> Iterator[Any]:
    """A ``dask.distributed`` client: a local cluster, or an existing one by address.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); the cluster is then the
        deployment's (Kubernetes, YARN, SSH, …) and ``workers`` / ``memory_limit`` are
        ignored. Default: start a local cluster, closed on exit.
    workers : int
        Local worker processes (one per core is right for this CPU-bound work).
    memory_limit : str or int, optional
        Per local worker (Dask's syntax, e.g. ``"6GB"``); the worker pauses and then
        restarts when it goes beyond.
    threads_per_worker : int
        1: the partition functions are single-threaded numpy/pandas, and processes
        avoid the interpreter lock.

    Yields
    ------
    distributed.Client
        Also the default scheduler of ``.compute()`` inside the ``with`` block.

    Examples
    --------
    >>> with dask_client(workers=1, memory_limit="1GB") as client:  # doctest: +SKIP
    ...     client.submit(sum, [1, 2]).result()
    3
    """
    require_dask()
    import logging

    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as exc:
            raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    if int(workers) < 1:
        raise ConfigError(f"workers must be at least 1, got {workers}")
    with dask.config.set(_LOCAL_WORKER_CONFIG):
        cluster = LocalCluster(
            n_workers=int(workers),
            threads_per_worker=int(threads_per_worker),
            processes=True,
            memory_limit=memory_limit,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    client = Client(cluster)
    try:
        client.run(_preload)  # workers import the pipeline before the first task
        yield client
    finally:
        client.close()
        cluster.close()


def _preload() -> None:
    import recovery.timeline.aging
    import recovery.timeline.features
    import recovery.timeline.labels  # noqa: F401


# --------------------------------------------------------------------------- plans


def _dataset(path: str | Path | PartitionedDataset) -> PartitionedDataset:
    return path if isinstance(path, PartitionedDataset) else open_partitioned(path)


@dataclass(frozen=True)
class PartitionPlan:
    """One pandas function applied to every partition of a dataset.

    ``function(portfolio, request, **options)`` returns a DataFrame of the partition's
    accounts; ``requests[k]`` is what partition ``k`` is asked (dates, or its share of
    the requested pairs). The same plan runs serially (:meth:`partition`, the pandas
    engine) or as a Dask DataFrame (:meth:`frame`).
    """

    dataset: PartitionedDataset
    function: Callable[..., pd.DataFrame]
    requests: tuple[Any, ...]
    options: Mapping[str, Any] = field(default_factory=dict)
    label: str = "recovery"

    def partition(self, k: int) -> pd.DataFrame:
        """Result of partition ``k`` (computed in this process)."""
        return _run_partition(k, self.requests[k], self.dataset, self.function, self.options)

    def meta(self) -> pd.DataFrame:
        """Empty frame with the result's columns and dtypes (from a sample of accounts)."""
        return _meta(self)

    def frame(self) -> Any:
        """The lazy ``dask.dataframe.DataFrame`` of all partitions."""
        require_dask()
        import dask
        import dask.dataframe as dd

        # the pandas functions' own dtypes (no conversion of text to pyarrow strings)
        with dask.config.set({"dataframe.convert-string": False}):
            return dd.from_map(
                _run_partition,
                range(self.dataset.partitions),
                list(self.requests),
                args=(self.dataset, self.function, dict(self.options)),
                meta=self.meta(),
                label=self.label,
                enforce_metadata=False,
            )


def _run_partition(
    k: int,
    request: Any,
    dataset: PartitionedDataset,
    function: Callable[..., pd.DataFrame],
    options: Mapping[str, Any],
) -> pd.DataFrame:
    return function(dataset.read(k), request, **options)


def _meta(plan: PartitionPlan) -> pd.DataFrame:
    """Run the function on a few accounts of partition 0 (all of it if they give no row)."""
    part = plan.dataset.read(0)
    ids = np.sort(part.accounts["account_id"].astype(str).unique())
    for n in (_META_ACCOUNTS, 10 * _META_ACCOUNTS):
        if n >= len(ids):
            break
        result = plan.function(part.subset(ids[:n]), plan.requests[0], **plan.options)
        if len(result):
            return result.iloc[:0]
    return plan.function(part, plan.requests[0], **plan.options).iloc[:0]


def _route(dataset: PartitionedDataset, request: Any) -> tuple[Any, ...]:
    """Each partition's share of a request: its pairs, or the same dates for all."""
    if not isinstance(request, pd.DataFrame):  # dates: every partition gets them all
        return (tuple(_dates(request)),) * dataset.partitions
    if "account_id" not in request or "as_of" not in request:
        raise DataError("requested pairs need columns account_id and as_of")
    part = account_partition(request["account_id"], dataset.partitions)
    return tuple(request[part == k].reset_index(drop=True) for k in range(dataset.partitions))


def _dates(values: Any) -> list[pd.Timestamp]:
    if isinstance(values, (str, pd.Timestamp, np.datetime64)) or not hasattr(values, "__iter__"):
        values = [values]
    return [pd.Timestamp(v).normalize() for v in values]


# --------------------------------------------------------------------------- functions


def _snapshots_of(portfolio: Portfolio, month_ends: Any, config: Config, keep_closed: bool):
    from recovery.timeline.aging import snapshots

    return snapshots(portfolio, month_ends, config, keep_closed=keep_closed, partition_size=None)


def _episodes_of(portfolio: Portfolio, end: Any, config: Config):
    from recovery.timeline.aging import episodes

    return episodes(portfolio, config, end=end, partition_size=None)


def _features_of(
    portfolio: Portfolio, request: Any, config: Config, include_protected: bool, with_labels: bool
):
    from recovery.timeline.features import empty_feature_matrix, iter_features

    pieces = list(
        iter_features(
            portfolio,
            request,
            config,
            include_protected=include_protected,
            partition_size=None,
            with_labels=with_labels,
        )
    )
    if not pieces:
        empty = empty_feature_matrix(config, include_protected)
        if with_labels:
            from recovery.timeline.labels import LABEL_COLUMNS

            empty = empty.reindex(columns=[*empty.columns, *LABEL_COLUMNS])
        return empty
    return pieces[0] if len(pieces) == 1 else pd.concat(pieces, ignore_index=True)


def _labels_of(portfolio: Portfolio, request: Any, config: Config):
    from recovery.timeline.labels import build_labels

    return build_labels(portfolio, request, config, partition_size=None)


_MODELS: dict[tuple[tuple[str, ...], str], dict[str, Any]] = {}  # loaded once per process


def _load_models(directories: tuple[str, ...], config: Config) -> dict[str, Any]:
    from recovery.models.scorer import load_model

    key = (directories, repr(config))
    if key not in _MODELS:
        models = {}
        for directory in directories:
            scorer = load_model(directory, config)
            models[scorer.target] = scorer
        _MODELS[key] = models
    return _MODELS[key]


def _scores_of(
    portfolio: Portfolio,
    as_of: Any,
    config: Config,
    model_dirs: tuple[str, ...],
    top_reasons: int,
):
    from recovery.models.scores import score_table
    from recovery.timeline.features import build_features

    models = _load_models(model_dirs, config)
    frame = build_features(portfolio, as_of, config, partition_size=None)
    if not len(frame):
        frame = frame.astype({"as_of": "datetime64[ns]"})
    return score_table(frame, models, top_reasons=top_reasons)


# --------------------------------------------------------------------------- public API


@fill_doc(partitioned_sample=_PARTITIONED_SAMPLE)
def snapshot_month_ends(
    path: str | Path | PartitionedDataset,
    start: Any = None,
    end: Any = None,
) -> pd.DatetimeIndex:
    """Month ends of the snapshots of a whole partitioned book.

    Default: :func:`recovery.timeline.aging.snapshots`' default for the whole book — every month
    end from the first origination (or first due date - 31 days) to ``data_end`` —
    decided once, so that every partition reports the same month ends.

    Examples
    --------
    {{partitioned_sample}}
    ...     m = snapshot_month_ends(path)
    >>> str(m[-1].date())
    '2025-12-31'
    """
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    from recovery.timeline.aging import default_month_ends

    dataset = _dataset(path)

    def first(table: str, column: str) -> pd.Timestamp | None:
        if table not in dataset.tables:
            return None
        files = [str(f) for k in range(dataset.partitions) for f in dataset.files(table, k)]
        source = ds.dataset(files, format="parquet")
        if column not in source.schema.names:
            return None
        value = pc.min(source.to_table(columns=[column])[column]).as_py()
        return None if value is None else pd.Timestamp(value)

    origination, due = first("accounts", "origination_date"), first("schedule", "due_date")
    if start is None and end is None:
        summary = Portfolio(
            accounts=pd.DataFrame({"origination_date": pd.to_datetime([origination])}),
            schedule=pd.DataFrame({"due_date": pd.to_datetime([due])}),
            meta=dict(dataset.meta),
        )
        return default_month_ends(summary)
    first_day = pd.Timestamp(start) if start is not None else origination
    last_day = pd.Timestamp(end) if end is not None else dataset.data_end
    months = pd.date_range(first_day, last_day, freq="ME")
    if len(months) == 0:
        raise DataError(f"no month end between {first_day.date()} and {last_day.date()}")
    return months


@fill_doc(partitioned_sample=_PARTITIONED_SAMPLE)
def plan_snapshots(
    path: Dataset,
    month_ends: Sequence[Any] | None = None,
    config: Config | None = None,
    keep_closed: bool = False,
) -> PartitionPlan:
    """The plan of :func:`distributed_snapshots`: snapshots of every partition.

    Parameters
    ----------
    path, month_ends, config, keep_closed
        As for :func:`distributed_snapshots`.

    Returns
    -------
    PartitionPlan
        Run it serially (:meth:`PartitionPlan.partition`), as a Dask DataFrame
        (:meth:`PartitionPlan.frame`) or to files (:func:`write_partition_results`).

    Examples
    --------
    {{partitioned_sample}}
    ...     plan = plan_snapshots(path)
    ...     n = len(plan.partition(0))
    >>> plan.label, n > 0
    ('snapshots', True)
    """
    dataset = _dataset(path)
    months = snapshot_month_ends(dataset) if month_ends is None else pd.DatetimeIndex(month_ends)
    return PartitionPlan(
        dataset,
        _snapshots_of,
        (tuple(months),) * dataset.partitions,
        {"config": config or Config(), "keep_closed": bool(keep_closed)},
        "snapshots",
    )


def plan_episodes(path: Dataset, config: Config | None = None, end: Any = None) -> PartitionPlan:
    """The plan of :func:`distributed_episodes`: delinquency episodes of every partition.

    Parameters
    ----------
    path, config, end
        As for :func:`distributed_episodes`.

    Returns
    -------
    PartitionPlan
    """
    dataset = _dataset(path)
    end = dataset.data_end if end is None else pd.Timestamp(end)
    return PartitionPlan(
        dataset, _episodes_of, (end,) * dataset.partitions, {"config": config or Config()},
        "episodes",
    )  # fmt: skip


def plan_features(
    path: Dataset,
    as_of: pd.DataFrame | Sequence[Any] | Any,
    config: Config | None = None,
    include_protected: bool = False,
    with_labels: bool = False,
) -> PartitionPlan:
    """The plan of :func:`distributed_features`: the feature matrix of every partition.

    Parameters
    ----------
    path, as_of, config, include_protected, with_labels
        As for :func:`distributed_features`; requested pairs are routed to their
        account's partition.

    Returns
    -------
    PartitionPlan
    """
    dataset = _dataset(path)
    return PartitionPlan(
        dataset,
        _features_of,
        _route(dataset, as_of),
        {
            "config": config or Config(),
            "include_protected": bool(include_protected),
            "with_labels": bool(with_labels),
        },
        "features",
    )


def plan_labels(
    path: Dataset, pairs: pd.DataFrame | Sequence[Any] | Any, config: Config | None = None
) -> PartitionPlan:
    """The plan of :func:`distributed_labels`: labels of every partition.

    Parameters
    ----------
    path, pairs, config
        As for :func:`distributed_labels`; requested pairs are routed to their
        account's partition.

    Returns
    -------
    PartitionPlan
    """
    dataset = _dataset(path)
    return PartitionPlan(
        dataset, _labels_of, _route(dataset, pairs), {"config": config or Config()}, "labels"
    )


def plan_scores(
    path: Dataset,
    as_of: Any,
    model_dirs: Sequence[str | Path],
    config: Config | None = None,
    top_reasons: int = 3,
) -> PartitionPlan:
    """The plan of :func:`distributed_scores`: scores of every partition's overdue accounts.

    Parameters
    ----------
    path, as_of, model_dirs, config, top_reasons
        As for :func:`distributed_scores`.

    Returns
    -------
    PartitionPlan

    Raises
    ------
    DataError
        When no model directory is given.
    """
    dataset = _dataset(path)
    dirs = tuple(str(Path(d).resolve()) for d in model_dirs)
    if not dirs:
        raise DataError("give at least one model directory")
    return PartitionPlan(
        dataset,
        _scores_of,
        (tuple(_dates(as_of)),) * dataset.partitions,
        {"config": config or Config(), "model_dirs": dirs, "top_reasons": int(top_reasons)},
        "scores",
    )


@fill_doc(partitioned_sample=_PARTITIONED_SAMPLE)
def distributed_snapshots(
    path: str | Path | PartitionedDataset,
    month_ends: Sequence[Any] | None = None,
    config: Config | None = None,
    *,
    keep_closed: bool = False,
) -> Any:
    """The ``snapshots`` table of a partitioned book as a Dask DataFrame.

    Each partition is :func:`recovery.timeline.aging.snapshots` of that partition's accounts,
    at month ends decided once for the whole book (:func:`snapshot_month_ends`).

    Parameters
    ----------
    path : str, Path or PartitionedDataset
        The partitioned dataset.
    month_ends : sequence of dates, optional
        Default: the whole book's, as :func:`recovery.timeline.aging.snapshots`.
    config : Config, optional
    keep_closed : bool
        As for :func:`recovery.timeline.aging.snapshots`.

    Returns
    -------
    dask.dataframe.DataFrame
        One partition per dataset partition, rows sorted by account and month end
        within it.

    Examples
    --------
    {{partitioned_sample}}
    ...     s = distributed_snapshots(path).compute(scheduler="sync")
    >>> list(s.columns[:4])
    ['account_id', 'month_end', 'dpd', 'bucket']
    """
    return plan_snapshots(path, month_ends, config, keep_closed).frame()


@fill_doc(partitioned_sample=_PARTITIONED_SAMPLE)
def distributed_episodes(
    path: str | Path | PartitionedDataset, config: Config | None = None, *, end: Any = None
) -> Any:
    """Delinquency episodes (:func:`recovery.timeline.aging.episodes`) of a partitioned book.

    ``end`` defaults to the book's ``data_end``.

    Examples
    --------
    {{partitioned_sample}}
    ...     e = distributed_episodes(path).compute(scheduler="sync")
    >>> "end_reason" in e
    True
    """
    return plan_episodes(path, config, end).frame()


@fill_doc(partitioned_sample=_PARTITIONED_SAMPLE)
def distributed_features(
    path: str | Path | PartitionedDataset,
    as_of: pd.DataFrame | Sequence[Any] | Any,
    config: Config | None = None,
    *,
    include_protected: bool = False,
    with_labels: bool = False,
) -> Any:
    """The point-in-time feature matrix of a partitioned book as a Dask DataFrame.

    Each partition is :func:`recovery.timeline.features.build_features` of that partition's
    accounts (with the columns of :func:`recovery.timeline.labels.build_labels` when
    ``with_labels``); requested pairs are routed to their account's partition.

    Parameters
    ----------
    path : str, Path or PartitionedDataset
    as_of : DataFrame or date or list of dates
        ``account_id, as_of`` pairs, or dates (every overdue account at each).
    config : Config, optional
    include_protected, with_labels : bool
        As for :func:`recovery.timeline.features.iter_features`.

    Returns
    -------
    dask.dataframe.DataFrame

    Examples
    --------
    {{partitioned_sample}}
    ...     X = distributed_features(path, ["2024-12-31"]).compute(scheduler="sync")
    >>> len(X) > 0, "days_since_last_payment" in X
    (True, True)
    """
    return plan_features(path, as_of, config, include_protected, with_labels).frame()


@fill_doc(partitioned_sample=_PARTITIONED_SAMPLE)
def distributed_labels(
    path: str | Path | PartitionedDataset,
    pairs: pd.DataFrame | Sequence[Any] | Any,
    config: Config | None = None,
) -> Any:
    """Labels (:func:`recovery.timeline.labels.build_labels`) of a partitioned book, per partition.

    Censoring uses the whole book's ``data_end`` (``portfolio.json`` of the dataset).

    Examples
    --------
    {{partitioned_sample}}
    ...     y = distributed_labels(path, ["2024-06-30"]).compute(scheduler="sync")
    >>> bool(y["p_pay"].notna().any())
    True
    """
    return plan_labels(path, pairs, config).frame()


def distributed_scores(
    path: str | Path | PartitionedDataset,
    as_of: Any,
    model_dirs: Sequence[str | Path],
    config: Config | None = None,
    *,
    top_reasons: int = 3,
) -> Any:
    """Scores (:func:`recovery.models.scores.score_table`) of every overdue account.

    Each worker loads the saved models (:func:`recovery.models.scorer.load_model`, once
    per process) and scores its partition's feature matrix.

    Parameters
    ----------
    path : str, Path or PartitionedDataset
    as_of : date
        Scoring date.
    model_dirs : sequence of paths
        Saved model directories (``card.json``), one per target.
    config : Config, optional
    top_reasons : int
        Reason codes per row.

    Returns
    -------
    dask.dataframe.DataFrame
    """
    return plan_scores(path, as_of, model_dirs, config, top_reasons).frame()


# --------------------------------------------------------------------------- writing


def _write_part(
    k: int,
    request: Any,
    dataset: PartitionedDataset,
    function: Callable[..., pd.DataFrame],
    options: Mapping[str, Any],
    directory: str,
) -> int:
    """Compute partition ``k`` and write it to ``directory/part-<k>.parquet`` (rows)."""
    part = _run_partition(k, request, dataset, function, options)
    part.to_parquet(Path(directory) / f"part-{k:05d}.parquet", index=False)
    return len(part)


def _run_all(
    plan: PartitionPlan, engine: str, client: Any, task: Callable[..., Any], *extra: Any
) -> Iterator[Any]:
    """``task(k, request, dataset, function, options, *extra)`` of every partition, in
    partition order: serially here (pandas) or submitted at once to Dask."""
    n = plan.dataset.partitions
    args = (plan.dataset, plan.function, dict(plan.options), *extra)
    if engine == "pandas":
        for k in range(n):
            yield task(k, plan.requests[k], *args)
        return
    if engine != "dask":
        raise ConfigError(f"engine must be 'pandas' or 'dask', got {engine!r}")
    require_dask()
    if client is None:
        import dask

        tasks = [dask.delayed(task)(k, plan.requests[k], *args) for k in range(n)]
        yield from dask.compute(*tasks)
        return
    futures = [client.submit(task, k, plan.requests[k], *args, pure=False) for k in range(n)]
    for future in futures:
        yield future.result()
        future.release()


def write_partition_results(
    plan: PartitionPlan,
    path: str | Path,
    engine: str = "pandas",
    client: Any = None,
    progress: bool = False,
) -> int:
    """Compute a plan on an engine and write the results: one file, or one per partition.

    Parameters
    ----------
    plan : PartitionPlan
        What to compute (:func:`plan_snapshots` and friends).
    path : str or Path
        A ``.parquet`` or ``.csv`` file: the partitions' results are streamed to it in
        partition order (rows sorted by account within each partition; memory on the
        client is one partition's result). A path without suffix: a directory of
        ``part-<k>.parquet`` files, each written by the worker that computed it — no
        result travels to the client (on a cluster, a filesystem every worker shares).
        Written under a temporary name and renamed when complete.
    engine : {"pandas", "dask"}
        Serially in this process, or on Dask (all partitions submitted at once).
    client : distributed.Client, optional
        For ``engine="dask"`` (default: Dask's default scheduler).
    progress : bool
        Show a progress bar over partitions.

    Returns
    -------
    int
        Rows written.
    """
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    from recovery.data.io import atomic_path

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv", ""):
        raise DataError(f"cannot write {path}: use a .parquet or .csv file or a directory")

    def bar(items: Iterator[Any]) -> Iterator[Any]:
        if not progress:
            return items
        from recovery.progress import progress_bar

        n = plan.dataset.partitions
        return progress_bar(items, total=n, desc=f"{plan.label} (the book in {n} parts)",
                            unit="parts")  # fmt: skip

    if suffix == "":
        if path.exists() and (
            not path.is_dir() or any(not p.name.startswith("part-") for p in path.iterdir())
        ):
            raise DataError(f"{path} exists and holds other files; choose a new directory")
        staging = path.with_name(f".{path.name}.writing")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            rows = sum(bar(_run_all(plan, engine, client, _write_part, str(staging.resolve()))))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if path.exists():
            shutil.rmtree(path)
        staging.rename(path)
        return int(rows)
    rows, writer, schema, header = 0, None, None, True
    with atomic_path(path) as tmp:
        try:
            for part in bar(_run_all(plan, engine, client, _run_partition)):
                if suffix == ".csv":
                    part.to_csv(tmp, mode="a", header=header, index=False, date_format="%Y-%m-%d")
                    header = False
                else:
                    table = pa.Table.from_pandas(part, preserve_index=False)
                    if writer is None:
                        schema = table.schema
                        writer = pq.ParquetWriter(tmp, schema)
                    elif not table.schema.equals(schema):
                        table = table.select(schema.names).cast(schema)
                    writer.write_table(table)
                rows += len(part)
        finally:
            if writer is not None:
                writer.close()
    return rows
