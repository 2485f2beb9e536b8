"""The point-in-time feature matrix of overdue accounts (DESIGN.md §3, "Point in time").

For a set of ``(account_id, as_of)`` pairs, :func:`build_features` returns one row per
pair with the account's aging, payment behaviour, contact behaviour (the 一户一档
ledger of ``actions``) and application features, each computed **only from rows known
on or before** ``as_of``:

- payments by posting date, with reversals counted only once their ``reversed_date``
  is on or before ``as_of`` (a payment reversed later still counts at ``as_of``);
- actions whose timestamp falls on or before the end of the ``as_of`` day;
- schedule versions whose ``effective_from`` is on or before ``as_of``;
- a promise to pay whose date (plus ``config.labels.promise_grace_days``) lies after
  ``as_of`` and that has not been paid yet is *pending*, never broken.

The families of features are modules of their own (:mod:`~recovery.timeline.aging_features`,
:mod:`~recovery.timeline.payment_features`, :mod:`~recovery.timeline.contact_features`,
:mod:`~recovery.timeline.account_features`; :mod:`~recovery.timeline.snapshot_features`
for a monthly table alone), built on the point-in-time core
(:mod:`~recovery.timeline.events`, :mod:`~recovery.timeline.known_at`); every feature is
described once, in :func:`~recovery.timeline.catalogue.feature_catalogue`. This module
puts the families together: :func:`build_features`, :func:`iter_features` one partition
at a time and :func:`write_features` to a file.

Implementation: events of each table are sorted by ``(account, day)`` and turned into
cumulative sums; window counts and sums for every pair are differences of those sums at
positions found with :func:`numpy.searchsorted` — no loop over accounts or days. Work is
per account, so a partition of accounts (``portfolio.subset(ids)``) gives exactly the
rows of the whole run for those accounts (DESIGN.md §4).

Examples
--------
>>> from recovery.timeline.features import empty_feature_matrix
>>> list(empty_feature_matrix(Config(), include_protected=False).columns[:4])
['account_id', 'as_of', 'dpd', 'bucket']
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.docstrings import fill_doc
from recovery.errors import DataError
from recovery.progress import accounts_progress
from recovery.timeline.account_features import account_columns
from recovery.timeline.aging import AgingLedger, account_states, aging_ledger, overdue_pairs
from recovery.timeline.aging_features import aging_columns, history_month_ends
from recovery.timeline.catalogue import BUCKET_WINDOWS_MONTHS, feature_frame, feature_names
from recovery.timeline.contact_features import contact_columns
from recovery.timeline.customer_features import CUSTOMER_FEATURES, customer_columns
from recovery.timeline.days import day_numbers, to_datetimes
from recovery.timeline.events import (
    PairColumns,
    Pairs,
    account_partitions,
    as_pairs,
    pairs_of_accounts,
    pairs_table,
)
from recovery.timeline.known_at import known_at_as_of, require_tables
from recovery.timeline.labels import build_labels
from recovery.timeline.ledger import id_codes
from recovery.timeline.payment_features import payment_columns

__all__ = [
    "build_features",
    "iter_features",
    "write_features",
    "empty_feature_matrix",
]


@fill_doc
def build_features(
    portfolio: Portfolio,
    as_of: pd.DataFrame | Sequence[Any] | Any,
    config: Config | None = None,
    *,
    include_protected: bool = False,
    partition_size: int | None = 50_000,
    progress: bool = False,
) -> pd.DataFrame:
    """The point-in-time feature matrix, one row per (account_id, as_of).

    Parameters
    ----------
    portfolio : Portfolio
        Event tables: ``accounts``, ``schedule``, ``payments`` (``actions`` optional).
    as_of : DataFrame or date or list of dates
        A table of ``account_id, as_of`` pairs, or dates: then every overdue account
        (open with DPD > 0, or charged off) at each date.
    config : Config, optional
    include_protected : bool
        Keep protected attributes (age band, gender) among the account features.
    partition_size : int, optional
        Accounts per partition (memory bound); ``None`` = one partition. Results do
        not depend on it.
    progress : bool
        Show a progress bar over partitions.

    Returns
    -------
    pandas.DataFrame
        ``account_id, as_of`` then the features of :func:`~recovery.timeline.catalogue.feature_catalogue` (mode
        ``ledger``), sorted by ``account_id, as_of``. Money (unit ``currency``) is
        float64, other numbers float32, flags bool, categories pandas categoricals
        (config categories) or strings.

    Examples
    --------
    {{two_loans_example}}
    >>> X = build_features(pf, ["2024-01-31", "2024-02-15"])  # overdue accounts only
    >>> X[["account_id", "as_of", "dpd", "days_since_last_payment", "paid_amount_30d"]]
      account_id      as_of   dpd  days_since_last_payment  paid_amount_30d
    0          B 2024-02-15  15.0                      5.0             60.0
    """
    parts = list(
        iter_features(
            portfolio,
            as_of,
            config,
            include_protected=include_protected,
            partition_size=partition_size,
            progress=progress,
        )
    )
    if not parts:
        return empty_feature_matrix(config or Config(), include_protected)
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


@fill_doc
def iter_features(
    portfolio: Portfolio,
    as_of: pd.DataFrame | Sequence[Any] | Any,
    config: Config | None = None,
    *,
    include_protected: bool = False,
    partition_size: int | None = 50_000,
    progress: bool = False,
    with_labels: bool = False,
) -> Iterator[pd.DataFrame]:
    """The feature matrix one partition of accounts at a time (bounded memory).

    Same arguments as :func:`build_features`; yields its rows in the same order, in
    pieces of at most ``partition_size`` accounts (partitions without overdue pairs
    are skipped). With ``with_labels`` each piece also has the columns of
    :func:`recovery.timeline.labels.build_labels`. :func:`write_features` streams the pieces
    to a file.

    Examples
    --------
    {{two_loans_example}}
    >>> [len(piece) for piece in iter_features(pf, ["2024-03-31"], partition_size=1)]
    [1, 1]
    """
    config = config or Config()
    require_tables(portfolio, "accounts", "schedule", "payments")
    request = as_pairs(as_of)
    if isinstance(request, pd.DataFrame):
        accounts = pd.unique(request["account_id"].astype(str))
    else:
        orig = to_datetimes(portfolio.accounts["origination_date"])
        accounts = pd.unique(portfolio.accounts.loc[orig <= max(request), "account_id"].astype(str))
    chunks = account_partitions(accounts, partition_size)
    iterator = accounts_progress(chunks, "features", progress)
    for ids, part in zip(iterator, _split(portfolio, chunks), strict=False):
        req = pairs_of_accounts(request, ids)
        # the partition's aging ledger, built once: states, episodes and labels read it
        book = aging_ledger(part, config)
        columns = _features_of_partition(part, req, config, include_protected, book)
        if columns is None:
            continue
        piece = feature_frame(columns, config)
        del columns
        if config.features.customer_level:
            # on the whole portfolio: a customer's accounts may be in other partitions
            extra = customer_columns(portfolio, piece[["account_id", "as_of"]], config)
            piece = feature_frame({**{c: piece[c].array for c in piece}, **extra}, config)
        if with_labels:
            pairs = piece[["account_id", "as_of"]]
            labels = build_labels(part, pairs, config, partition_size=None, ledger=book)
            piece = piece.merge(labels, on=["account_id", "as_of"], how="left", validate="1:1")
        del book
        yield piece


@fill_doc
def write_features(
    portfolio: Portfolio,
    as_of: pd.DataFrame | Sequence[Any] | Any,
    path: str | Any,
    config: Config | None = None,
    *,
    with_labels: bool = False,
    include_protected: bool = False,
    partition_size: int | None = 50_000,
    progress: bool = False,
) -> int:
    """Write the feature matrix (and optionally the labels) to a Parquet or CSV file.

    Partitions are computed and appended one at a time, so memory stays that of one
    partition whatever the book size. The file is written to a temporary name and
    renamed when complete: an error leaves no partial file.

    Parameters
    ----------
    portfolio, as_of, config, include_protected, partition_size, progress
        As for :func:`build_features`.
    path : str or Path
        ``.parquet`` or ``.csv`` file.
    with_labels : bool
        Add the columns of :func:`recovery.timeline.labels.build_labels`.

    Returns
    -------
    int
        Rows written.

    Examples
    --------
    {{two_loans_example}}
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_features(pf, ["2024-03-31"], pathlib.Path(tmp) / "features.parquet")
    2
    """
    from pathlib import Path

    from recovery.data.io import atomic_path

    config = config or Config()
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise DataError(f"cannot write {path}: use a .parquet or .csv file name")
    rows = 0
    with atomic_path(path) as tmp:
        pieces = iter_features(
            portfolio,
            as_of,
            config,
            include_protected=include_protected,
            partition_size=partition_size,
            progress=progress,
            with_labels=with_labels,  # labelled in each partition, on its aging ledger
        )
        if suffix == ".csv":
            header = True
            for piece in pieces:
                piece.to_csv(tmp, mode="a", header=header, index=False, date_format="%Y-%m-%d")
                rows, header = rows + len(piece), False
            if header:  # no overdue pair: an empty table with the columns
                empty_feature_matrix(config, include_protected).to_csv(tmp, index=False)
            return rows
        with _ParquetAppender(tmp) as out:
            for piece in pieces:
                rows += len(piece)
                out.append(piece)  # written while the next partition is computed
        if out.writer is None:
            empty_feature_matrix(config, include_protected).to_parquet(tmp, index=False)
    return rows


class _ParquetAppender:
    """Appends pieces of one table to a Parquet file in a background thread.

    Arrow converts and writes without holding the interpreter, so a piece is written
    while the next one is computed; at most one piece waits (memory: two pieces).
    The first piece fixes the schema; an error in the thread is raised by the next
    :meth:`append` or on leaving the ``with`` block.
    """

    def __init__(self, path: Any):
        from concurrent.futures import ThreadPoolExecutor

        self.path = path
        self.writer = None
        self.schema = None
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.pending = None

    def _write(self, piece: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(piece, schema=self.schema, preserve_index=False)
        if self.writer is None:
            self.schema = table.schema
            self.writer = pq.ParquetWriter(self.path, self.schema)
        self.writer.write_table(table)

    def append(self, piece: pd.DataFrame) -> None:
        self.wait()
        self.pending = self.pool.submit(self._write, piece)

    def wait(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()

    def __enter__(self) -> _ParquetAppender:
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self.wait()
        finally:
            self.pool.shutdown(wait=True)
            if self.writer is not None:
                self.writer.close()


def _split(portfolio: Portfolio, partitions: list[np.ndarray]) -> Iterator[Portfolio]:
    """The portfolio of each partition of accounts (equal sizes but the last, sorted ids);
    each table is scanned once."""
    n_parts = len(partitions)
    if n_parts <= 1:
        yield portfolio
        return
    index = pd.Index(np.concatenate(partitions))
    size = len(partitions[0])
    located = {}
    for name in (
        "accounts",
        "schedule",
        "payments",
        "actions",
        "assignments",
        "events",
        "snapshots",
    ):
        df = getattr(portfolio, name)
        if df is None:
            continue
        code = id_codes(index, df["account_id"])  # rows of one account together: fast
        part = np.where(code >= 0, code // size, n_parts)  # n_parts = not requested
        del code
        order = np.argsort(part, kind="stable")
        bounds = np.searchsorted(part[order], np.arange(n_parts + 1))
        del part
        if len(order) < 2**31:  # kept for the whole run: half the memory
            order = order.astype(np.int32)
        located[name] = (df, order, bounds)
    for k in range(n_parts):
        tables = {
            name: df.iloc[order[bounds[k] : bounds[k + 1]]].reset_index(drop=True)
            for name, (df, order, bounds) in located.items()
        }
        yield Portfolio(**tables, agents=portfolio.agents, meta=dict(portfolio.meta))


def empty_feature_matrix(config: Config, include_protected: bool) -> pd.DataFrame:
    """The feature matrix without rows: the columns of :func:`build_features`.

    Parameters
    ----------
    config : Config
    include_protected : bool
        With the protected attributes.

    Returns
    -------
    pandas.DataFrame
        ``account_id, as_of`` and the ledger features, no row.

    Examples
    --------
    >>> empty_feature_matrix(Config(), include_protected=True).shape[0]
    0
    """
    names = feature_names(config, include_protected)
    return pd.DataFrame(columns=["account_id", "as_of", *names])


def _features_of_partition(
    portfolio: Portfolio, request, config: Config, include_protected: bool, book: AgingLedger
) -> PairColumns | None:
    """Features of one partition of accounts (DESIGN.md §4); None without pairs."""
    if isinstance(request, pd.DataFrame):
        pairs = pairs_table(request)
        states = None
    else:
        hist = history_month_ends(day_numbers(pd.Series(request)), max(BUCKET_WINDOWS_MONTHS))
        dates = sorted(set(hist) | set(request))
        states = account_states(portfolio, dates, config, ledger=book)
        st_dates = to_datetimes(states["as_of"]).dt.normalize()
        pairs = overdue_pairs(states[st_dates.isin(request)], config)
    if not len(pairs):
        return None
    # queries sorted by (account, as_of) make every searchsorted walk memory in order
    pairs = pairs.sort_values(["account_id", "as_of"], kind="stable").reset_index(drop=True)
    return known_at_as_of(
        _features_core,
        portfolio,
        pairs,
        config,
        include_protected=include_protected,
        states=states,
        ledger=book,
    )


def _features_core(
    portfolio: Portfolio,
    pairs: pd.DataFrame,
    config: Config,
    include_protected: bool | None,
    states: pd.DataFrame | None,
    ledger: AgingLedger | None,
) -> PairColumns:
    pairs = Pairs.of(pairs)  # the pairs' account codes, computed once for every family
    merged = aging_columns(portfolio, pairs, config, states, ledger)
    merged.update(payment_columns(portfolio, pairs, config))
    merged.update(contact_columns(portfolio, pairs, config))
    merged.update(account_columns(portfolio, pairs, config, bool(include_protected)))
    names = feature_names(config, bool(include_protected))
    names = ["account_id", "as_of", *(n for n in names if n not in CUSTOMER_FEATURES)]
    return PairColumns.select(merged, names)
