"""A snapshots table split by account, analysed one part at a time (bounded memory).

A book too large to analyse as one pandas table is given to the analytics as a
:class:`PartitionedSnapshots`: a list of **parts**, each the rows of some accounts
(every row of an account in one part), loaded one at a time. Each analytic computes
additive partial tables (counts and sums: accounts moving between states, balances,
amounts collected) or account-level rows (episodes, debt-months, charge-off cohorts)
of each part; the partial tables are summed, the account-level rows concatenated,
and the analytic finishes with the same code as for one pandas table. Memory then
depends on the size of a part, not of the book: the parts are read from disk (or
built) one at a time and released.

Every analytic of :mod:`recovery.analytics` that ``recovery analyze`` and ``recovery
report`` run accepts one in place of a ``snapshots`` DataFrame and returns the same
table (up to the order in which floating-point sums are added): roll rates, matrices,
trends and flow rates, vintage curves, monthly KPIs and collection / recovery rates,
collection episodes, recovery by debt age (with its bootstrap intervals), the
age-split comparison, liquidation curves, :class:`~recovery.analytics.liquidation.ERCForecaster`
and :class:`~recovery.analytics.forecast.RollRateForecaster`.

What must be the same for every part is read from the whole table first, in one
cheap pass over the parts (:attr:`PartitionedSnapshots.months`: the month ends the
table covers — a month missing from a part is still a month of the table — and
:attr:`PartitionedSnapshots.data_end`, its last month end).

Making one
    :meth:`PartitionedSnapshots.from_frame` splits a table in memory into parts of
    ``partition_size`` accounts (for notebooks and tests); :meth:`from_parquet` reads
    one Parquet file per part; ``PartitionedSnapshots([loader, ...])`` takes any
    zero-argument functions returning a part. ``recovery analyze`` and ``recovery
    report`` build the snapshots of each part of the event tables once and keep them
    in memory as :class:`CompactPart` objects (integer codes and small integer types,
    rebuilt when read; Parquet files beyond a memory budget) —
    :mod:`recovery.engine.snapshot_parts`.

Examples
--------
>>> import pandas as pd
>>> from recovery.analytics.roll_rates import roll_rates
>>> snaps = pd.DataFrame({"account_id": ["A", "B", "A", "B"],
...     "month_end": pd.to_datetime(["2024-01-31"] * 2 + ["2024-02-29"] * 2),
...     "dpd": [5, 5, 0, 35], "bucket": ["M1", "M1", "M0", "M2"],
...     "balance": [30.0, 10.0, 25.0, 10.0], "status": ["open"] * 4})
>>> parts = PartitionedSnapshots.from_frame(snaps, partition_size=1)
>>> parts.npartitions, [len(p) for p in parts]
(2, [2, 2])
>>> roll_rates(parts)[["to_state", "count_rate"]].values.tolist()
[['M0', 0.5], ['M2', 0.5]]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recovery.errors import DataError

__all__ = [
    "CompactPart",
    "PartitionedSnapshots",
    "concat_parts",
    "is_partitioned_table",
    "sum_partials",
]

Loader = Callable[[], pd.DataFrame]


class PartitionedSnapshots:
    """A ``snapshots`` table as parts of whole accounts, each loaded when needed.

    Parameters
    ----------
    parts : sequence of DataFrame or of zero-argument callables returning one
        The parts: every row of an account in one part. A callable is called each
        time the part is read (so a part read from disk is released after use).
    columns : sequence of str, optional
        The columns of the table (default: those of the first part).
    months : array of int, optional
        Month numbers (``year * 12 + month - 1``) the whole table covers (default:
        read from the parts, once).

    Attributes
    ----------
    npartitions : int
        Number of parts.

    Examples
    --------
    >>> a = pd.DataFrame({"account_id": ["A"], "month_end": pd.to_datetime(["2024-01-31"])})
    >>> b = pd.DataFrame({"account_id": ["B"], "month_end": pd.to_datetime(["2024-03-31"])})
    >>> parts = PartitionedSnapshots([a, lambda: b])
    >>> parts.months.tolist(), parts.data_end
    ([24288, 24290], Timestamp('2024-03-31 00:00:00'))
    """

    def __init__(
        self,
        parts: Sequence[pd.DataFrame | Loader],
        *,
        columns: Sequence[str] | None = None,
        months: np.ndarray | None = None,
    ) -> None:
        self._parts = list(parts)
        if not self._parts:
            raise DataError("a partitioned snapshots table needs at least one part")
        self._columns = pd.Index(columns) if columns is not None else None
        self._months = None if months is None else np.unique(np.asarray(months, dtype=np.int64))
        self._rows: int | None = None
        self._memo: dict[tuple, tuple[tuple, Any]] = {}
        self._kept: set[tuple] = set()  # memo entries that forget(keep_below > 0) keeps

    # ------------------------------------------------------------------ making one
    @classmethod
    def from_frame(cls, snapshots: pd.DataFrame, partition_size: int) -> PartitionedSnapshots:
        """Split a table in memory into parts of ``partition_size`` accounts.

        Accounts are taken in order of first appearance; the last part may be smaller.

        Parameters
        ----------
        snapshots : DataFrame
            The ``snapshots`` table (or its states).
        partition_size : int
            Accounts per part (at least 1).

        Returns
        -------
        PartitionedSnapshots

        Examples
        --------
        >>> s = pd.DataFrame({"account_id": list("ABCAB"), "x": range(5)})
        >>> [p["account_id"].tolist() for p in PartitionedSnapshots.from_frame(s, 2)]
        [['A', 'B', 'A', 'B'], ['C']]
        """
        if partition_size < 1:
            raise DataError(f"partition_size must be at least 1 account, got {partition_size}")
        if "account_id" not in snapshots.columns:
            raise DataError("table 'snapshots' lacks column 'account_id'")
        codes = pd.factorize(snapshots["account_id"], sort=False)[0]
        part_of = codes // partition_size
        n = int(part_of.max()) + 1 if len(part_of) else 1
        order = np.argsort(part_of, kind="stable")
        bounds = np.searchsorted(part_of[order], np.arange(n + 1))
        parts = [snapshots.iloc[order[bounds[i] : bounds[i + 1]]] for i in range(n)]
        return cls(parts, columns=snapshots.columns)

    @classmethod
    def from_parquet(cls, paths: Sequence[str | Path], **kwargs: Any) -> PartitionedSnapshots:
        """One part per Parquet file, read when needed.

        Parameters
        ----------
        paths : sequence of path
            Parquet files, each holding whole accounts.
        **kwargs
            ``columns``, ``months`` (see the class).

        Returns
        -------
        PartitionedSnapshots
        """
        return cls([_ParquetPart(Path(p)) for p in paths], **kwargs)

    # ------------------------------------------------------------------ reading
    @property
    def npartitions(self) -> int:
        """Number of parts."""
        return len(self._parts)

    def partition(self, i: int) -> pd.DataFrame:
        """Part ``i``, loaded."""
        part = self._parts[i]
        return part() if callable(part) else part

    def __len__(self) -> int:
        """Rows of the whole table (counted once, in one pass)."""
        if self._rows is None:
            self._rows = sum(len(p) for p in self)
        return self._rows

    def collect(self) -> pd.DataFrame:
        """The whole table in memory (all parts, one after the other): for small books."""
        return concat_parts(list(self))

    def __iter__(self) -> Iterator[pd.DataFrame]:
        for i in range(self.npartitions):
            yield self.partition(i)

    @property
    def columns(self) -> pd.Index:
        """Columns of the table."""
        if self._columns is None:
            self._columns = self.partition(0).columns
        return self._columns

    @property
    def months(self) -> np.ndarray:
        """Sorted month numbers (``year * 12 + month - 1``) of the whole table."""
        if self._months is None:
            found = [_month_numbers(p) for p in self if len(p)]
            if not found:
                raise DataError("table 'snapshots' is empty")
            self._months = np.unique(np.concatenate(found))
        return self._months

    @property
    def data_end(self) -> pd.Timestamp:
        """The table's last month end."""
        from recovery.analytics.common import month_end

        return month_end(self.months[-1:])[0]

    # ------------------------------------------------------------------ computing
    def map(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> list[Any]:
        """``function(part, *args, **kwargs)`` of every non-empty part, in order."""
        return [function(p, *args, **kwargs) for p in self if len(p)]

    def concat(self, function: Callable[..., pd.DataFrame], *args: Any, **kwargs: Any):
        """The rows ``function`` gives for each part, in one table (account-level results)."""
        return concat_parts(self.map(function, *args, **kwargs))

    def memo(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()``, remembered under ``key`` for this table (a few results kept).

        The analytics remember what several of them read from the parts (the flows
        between states, the debt-months of recovery by age, the charge-off cells…), so
        that ``recovery analyze`` reads the parts once per kind of result, not once
        per output. Objects in ``key`` are compared by identity (a config, an
        ``accounts`` table), numbers and text by value.

        Examples
        --------
        >>> parts = PartitionedSnapshots([pd.DataFrame({"a": [1]})])
        >>> calls = []
        >>> [parts.memo(("n",), lambda: calls.append(1) or 7) for _ in range(2)], len(calls)
        ([7, 7], 1)
        """
        ident = tuple(_identity(k) for k in key)
        if ident in self._memo:
            return self._memo[ident][1]
        value = compute()
        self._store(ident, key, value)
        return value

    def _store(self, ident: tuple, key: tuple, value: Any) -> None:
        """Remember ``value`` under ``ident``, dropping the oldest entry when full."""
        if len(self._memo) >= _MEMO_SIZE:
            oldest = next(iter(self._memo))
            self._memo.pop(oldest)
            self._kept.discard(oldest)
        self._memo[ident] = (key, value)  # the key's objects kept: their ids stay theirs

    def forget(self, keep_below: int = 0) -> None:
        """Drop what :meth:`memo` remembers (its memory is released).

        Parameters
        ----------
        keep_below : int
            Keep the results smaller than this many bytes (the sums per month and
            state, a few kilobytes, that a later analysis reads again); drop the
            account-level ones. 0 (default): drop everything.

        Examples
        --------
        >>> parts = PartitionedSnapshots([pd.DataFrame({"a": [1]})])
        >>> _ = parts.memo(("small",), lambda: pd.DataFrame({"n": [1]}))
        >>> _ = parts.memo(("large",), lambda: pd.DataFrame({"n": range(10_000)}))
        >>> parts.forget(keep_below=1_000)
        >>> parts.recall(("small",)) is not None, parts.recall(("large",)) is None
        (True, True)
        """
        if keep_below <= 0:
            self._memo.clear()
            self._kept.clear()
            return
        for ident in [i for i, (_, v) in self._memo.items() if _nbytes(v) >= keep_below]:
            if ident not in self._kept:
                del self._memo[ident]

    def keep(self, key: tuple, value: Any) -> Any:
        """Remember ``value`` under ``key`` (replacing what was there) until used.

        Unlike :meth:`memo`'s results, it outlives :meth:`forget` with ``keep_below``
        whatever its size (only ``forget()`` drops it): for rows that a later step reads
        and an earlier pass gives for free.

        Examples
        --------
        >>> parts = PartitionedSnapshots([pd.DataFrame({"a": [1]})])
        >>> _ = parts.keep(("rows",), pd.DataFrame({"n": range(10_000)}))
        >>> parts.forget(keep_below=1_000)
        >>> len(parts.recall(("rows",)))
        10000
        """
        ident = tuple(_identity(k) for k in key)
        self._memo.pop(ident, None)
        self._store(ident, key, value)
        self._kept.add(ident)
        return value

    def recall(self, key: tuple, default: Any = None) -> Any:
        """What :meth:`memo` remembers under ``key``, else ``default`` (nothing computed)."""
        found = self._memo.get(tuple(_identity(k) for k in key))
        return default if found is None else found[1]

    def transform(
        self, function: Callable[[pd.DataFrame], pd.DataFrame], months: np.ndarray | None = None
    ) -> PartitionedSnapshots:
        """The same parts passed through ``function`` when read (e.g. rows up to a month).

        The table's months are kept unless ``months`` gives those of the new table
        (rows up to a month: the months up to it); columns are read again.

        Examples
        --------
        >>> s = pd.DataFrame({"account_id": ["A", "A"], "x": [1, 2]})
        >>> one = PartitionedSnapshots.from_frame(s, 1).transform(lambda p: p[p["x"] > 1])
        >>> [len(p) for p in one]
        [1]
        """
        parts = [_Transformed(p, function) for p in self._parts]
        return PartitionedSnapshots(parts, months=self._months if months is None else months)

    def __repr__(self) -> str:
        return f"PartitionedSnapshots(npartitions={self.npartitions})"


_MEMO_SIZE = 40


def _nbytes(value: Any) -> int:
    """Bytes held by a remembered result (tables, arrays and containers of them)."""
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return int(value.memory_usage(index=True, deep=False).sum()) if len(value) else 0
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    return 0


def _identity(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool, pd.Timestamp)):
        return value
    if isinstance(value, (tuple, list)):
        return tuple(_identity(v) for v in value)
    return ("id", id(value))


class _ParquetPart:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self) -> pd.DataFrame:
        return pd.read_parquet(self.path)


class CompactPart:
    """A part kept in memory in a compact form, given back as the same DataFrame.

    Text columns become integer codes into their distinct values, whole numbers and
    dates the smallest integers that hold them, monthly periods their ordinals; other
    columns (amounts, categories, flags) are kept as they are. Calling the object
    rebuilds the table: equal to the one given, column for column, dtype for dtype
    (index, column order and ``attrs`` included). A part of snapshot states takes
    about 50 bytes a row (285 as a pandas table with its text) and is rebuilt about
    nine times faster than it is read back from a Parquet file.

    Parameters
    ----------
    frame : DataFrame
        The part (any index is replaced by a range index when rebuilt).

    Examples
    --------
    >>> s = pd.DataFrame({"account_id": ["A1", "A1", "B2"], "dpd": [0, 31, 400],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-01-31"])})
    >>> part = CompactPart(s)
    >>> part().equals(s), bool(part.nbytes < s.memory_usage(deep=True).sum())
    (True, True)
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.columns = frame.columns
        self.attrs = dict(frame.attrs)
        self.length = len(frame)
        self.data = {i: _encode(frame.iloc[:, i]) for i in range(frame.shape[1])}

    @property
    def nbytes(self) -> int:
        """Bytes held (arrays of codes and kept columns; distinct texts not counted)."""
        arrays = [a for enc in self.data.values() for a in enc[1:]]
        return int(sum(a.nbytes for a in arrays if hasattr(a, "nbytes") and a.dtype != object))

    def __call__(self) -> pd.DataFrame:
        columns = {i: _decode(enc) for i, enc in self.data.items()}
        out = pd.DataFrame(columns, index=pd.RangeIndex(self.length), copy=False)
        out.columns = self.columns
        out.attrs = dict(self.attrs)
        return out


def _int_type(values: np.ndarray) -> np.dtype:
    """The smallest signed integer type holding ``values`` with its minimum left free."""
    if not len(values):
        return values.dtype
    lo, hi = int(values.min()), int(values.max())
    for dtype in (np.int8, np.int16, np.int32):
        info = np.iinfo(dtype)
        if info.min < lo and hi <= info.max:  # info.min stays free (the missing marker)
            return np.dtype(dtype)
    return values.dtype


def _encode(col: pd.Series) -> tuple:
    """A column's compact form: (kind, arrays…) for :func:`_decode`."""
    dtype = col.dtype
    if dtype == np.dtype(object) and not col.isna().any():
        codes, uniques = pd.factorize(col.to_numpy(), sort=False)
        return ("codes", codes.astype(_int_type(codes)), uniques)
    if isinstance(dtype, np.dtype) and dtype.kind == "i":
        values = col.to_numpy()
        return ("int", values.astype(_int_type(values)), dtype)
    if isinstance(dtype, pd.PeriodDtype) and not col.isna().any():
        ordinals = col.array.asi8
        return ("period", ordinals.astype(_int_type(ordinals)), dtype)
    if dtype == np.dtype("datetime64[ns]"):
        ns = col.to_numpy().view(np.int64)
        nat = ns == np.iinfo(np.int64).min
        days, rest = np.divmod(ns[~nat], _NS_PER_DAY)
        small = _int_type(days)
        if not rest.any() and small.itemsize < 8:
            out = np.full(len(ns), np.iinfo(small).min, dtype=small)
            out[~nat] = days
            return ("days", out)
    if isinstance(dtype, pd.Int64Dtype):
        data, mask = col.array._data, col.array._mask
        values = data[~mask]
        return ("nullable", np.where(mask, 0, data).astype(_int_type(values)), mask.copy())
    kept = col.to_numpy() if isinstance(dtype, np.dtype) else col.array
    return ("kept", kept.copy())


def _decode(enc: tuple) -> Any:
    """A column rebuilt from :func:`_encode`'s form (new arrays: the stored ones are kept)."""
    kind, values = enc[0], enc[1]
    if kind == "codes":
        return enc[2].take(values.astype(np.intp))
    if kind == "int":
        return values.astype(enc[2])
    if kind == "period":
        return pd.arrays.PeriodArray(values.astype(np.int64), dtype=enc[2])
    if kind == "days":
        nat = values == np.iinfo(values.dtype).min
        ns = values.astype(np.int64) * _NS_PER_DAY
        ns[nat] = np.iinfo(np.int64).min
        return ns.view("datetime64[ns]")
    if kind == "nullable":
        return pd.arrays.IntegerArray(values.astype(np.int64), enc[2].copy())
    return values.copy()


_NS_PER_DAY = 86_400_000_000_000


class _Transformed:
    def __init__(self, part: pd.DataFrame | Loader, function: Callable) -> None:
        self.part, self.function = part, function

    def __call__(self) -> pd.DataFrame:
        part = self.part() if callable(self.part) else self.part
        return self.function(part)


def _month_numbers(part: pd.DataFrame) -> np.ndarray:
    if "month_no" in part.columns:
        return np.unique(part["month_no"].to_numpy(dtype=np.int64))
    dates = pd.to_datetime(part["month_end"])
    return np.unique((dates.dt.year * 12 + dates.dt.month - 1).to_numpy(dtype=np.int64))


def is_partitioned_table(obj: Any) -> bool:
    """Whether ``obj`` is a :class:`PartitionedSnapshots`.

    Examples
    --------
    >>> is_partitioned_table(pd.DataFrame())
    False
    """
    return isinstance(obj, PartitionedSnapshots)


def sum_partials(tables: Sequence[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    """Partial tables summed over their keys (the same key in two parts adds up).

    Parameters
    ----------
    tables : sequence of DataFrame
        Partial tables with the same columns: ``keys`` and numbers.
    keys : list of str
        Grouping columns.

    Returns
    -------
    DataFrame
        One row per key, sorted by the keys.

    Raises
    ------
    DataError
        When no table is given.

    Examples
    --------
    >>> a = pd.DataFrame({"k": ["x", "y"], "n": [1, 2]})
    >>> sum_partials([a, a.iloc[:1]], ["k"]).values.tolist()
    [['x', 2], ['y', 2]]
    """
    given = list(tables)
    tables = [t for t in given if len(t)]
    if not tables:
        if given:  # nothing to add up: the (empty) table of one part
            return given[0].reset_index(drop=True)
        raise DataError("no rows to aggregate in the snapshots table")
    both = pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]
    return both.groupby(keys, dropna=False, observed=True, sort=True).sum().reset_index()


def concat_parts(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Account-level tables of the parts, one after the other (an empty table if none).

    Examples
    --------
    >>> concat_parts([pd.DataFrame({"a": [1]}), pd.DataFrame({"a": [2]})])["a"].tolist()
    [1, 2]
    """
    tables = list(tables)
    if not tables:
        return pd.DataFrame()
    kept = [t for t in tables if len(t)] or tables[:1]
    return pd.concat(kept, ignore_index=True) if len(kept) > 1 else kept[0].reset_index(drop=True)
