"""What is known of an account at an as-of date: the point-in-time core (DESIGN.md §3).

Features (:mod:`~recovery.timeline.features`) look only at rows known on or before an
as-of date, labels (:mod:`~recovery.timeline.labels`) only at rows after it; both work
on the same structures, owned here:

- **events** (:class:`Events`): the rows of one table sorted by ``(account, day)`` with
  cumulative sums, so that counts and sums over any window ``(day - n, day]`` of many
  pairs at once are differences at positions found with :func:`numpy.searchsorted`;
  days are day numbers (:mod:`~recovery.timeline.days`);
- **pairs** (:class:`Pairs`, :func:`as_pairs`): the ``(account_id, as_of)`` rows asked
  for, with integer account codes, and :class:`PairColumns`, the columns computed for
  them;
- **the schedule in force** (:func:`schedule_in_force`, :class:`ScheduleVersions`): the
  schedule version in force at a date;
- **partitions of accounts** (:func:`account_partitions`, :func:`pairs_of_accounts`):
  work is per account, so a partition of accounts gives exactly the rows of the whole
  run for those accounts (DESIGN.md §4).

The portfolio as known at as_of (:func:`~recovery.timeline.known_at.point_in_time` and
the rest) is in :mod:`~recovery.timeline.known_at`.

Examples
--------
>>> ev = Events(np.array([0, 0, 1]), day_numbers(["2024-01-05", "2024-01-20", "2024-01-07"]),
...             amount=np.array([10.0, 5.0, 7.0]))
>>> ev.window("amount", np.array([0, 1]), day_numbers(["2024-01-31", "2024-01-31"]), 20).tolist()
[5.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from recovery.errors import DataError
from recovery.timeline.days import day_numbers, to_datetimes
from recovery.timeline.ledger import id_codes

__all__ = [
    "Events",
    "take",
    "Pairs",
    "PairColumns",
    "as_pairs",
    "pairs_table",
    "schedule_in_force",
    "ScheduleVersions",
    "account_partitions",
    "pairs_of_accounts",
]

# (account code, day number) packs into one sortable int64 key: code * span + day
_SPAN = np.int64(1 << 20)


# --------------------------------------------------------------------------- events
class Events:
    """The events of one table sorted by ``(account code, day)``, with cumulative sums.

    Window counts and sums of many ``(account, day)`` queries are differences of the
    cumulative sums at positions found by :func:`numpy.searchsorted`: no loop over
    accounts or days.

    Parameters
    ----------
    codes : numpy.ndarray
        Account code (int64, >= 0) of each event.
    days : numpy.ndarray
        Day number (:func:`day_numbers`) of each event.
    **values : numpy.ndarray
        Values carried by the events (e.g. ``amount``), summed by :meth:`window`.

    Attributes
    ----------
    codes, days : numpy.ndarray
        Account codes and days, sorted.
    keys : numpy.ndarray
        ``code * span + day``: one sortable int64 key per event.
    values : dict of str to numpy.ndarray
        The values, in the same order.
    """

    def __init__(self, codes: np.ndarray, days: np.ndarray, **values: np.ndarray):
        # one packed key per event (day -1 = missing stays before the account's days):
        # a stable sort of it is the (code, day) order, ties in input order
        keys = np.asarray(codes, dtype=np.int64) * _SPAN + days
        if len(keys) < 2 or bool((keys[1:] >= keys[:-1]).all()):
            order = np.arange(len(keys))
        else:
            order = np.argsort(keys, kind="stable")
        self.codes = codes[order]
        self.days = days[order]
        self.keys = keys[order]
        self.values = {k: np.asarray(v)[order] for k, v in values.items()}
        self._cum: dict[str, np.ndarray] = {}
        self._bounds: dict[tuple, tuple] = {}
        self._starts = np.empty(0, dtype=np.int64)  # first event of each code

    def __len__(self) -> int:
        return len(self.keys)

    def cum(self, name: str) -> np.ndarray:
        """Cumulative sum of values ``name`` (float64, a leading 0: ``len + 1`` entries)."""
        if name not in self._cum:
            v = self.values[name].astype("float64")
            self._cum[name] = np.concatenate(([0.0], np.cumsum(v)))
        return self._cum[name]

    def upto(self, codes: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Number of events with key <= (code, day): index one past the last such."""
        return np.searchsorted(self.keys, codes * _SPAN + days, side="right")

    def first_from(self, codes: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Number of events with key < (code, day): index of the first on or after day."""
        return np.searchsorted(self.keys, codes * _SPAN + days, side="left")

    def start(self, codes: np.ndarray) -> np.ndarray:
        """Index of the account's first event (searched once per code, not per query)."""
        top = int(codes.max()) + 1 if len(codes) else 0
        if len(codes) and (codes.min() < 0 or top > 4 * len(codes) + 1024):
            return np.searchsorted(self.keys, codes * _SPAN, side="left")
        if len(self._starts) < top:
            self._starts = np.searchsorted(self.keys, np.arange(top) * _SPAN, side="left")
        return self._starts[codes]

    def bounds(
        self, codes: np.ndarray, days: np.ndarray, length: int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Positions (lo, hi) of the events in (day - length, day]; cached per query."""
        key = (id(codes), id(days), length)
        hit = self._bounds.get(key)
        if hit is None:
            hi = self._upto(codes, days)  # the same for every length
            lo = self.start(codes) if length is None else self.upto(codes, days - length)
            hit = self._bounds[key] = (lo, hi, codes, days)  # keep the query arrays alive
        return hit[0], hit[1]

    def _upto(self, codes: np.ndarray, days: np.ndarray) -> np.ndarray:
        """:meth:`upto`, cached per query."""
        key = (id(codes), id(days), "upto")
        hit = self._bounds.get(key)
        if hit is None:
            hit = self._bounds[key] = (self.upto(codes, days), codes, days)
        return hit[0]

    def window(
        self, name: str | None, codes: np.ndarray, days: np.ndarray, length: int | None
    ) -> np.ndarray:
        """Sum (or count if name is None) over days in (day - length, day]; None = to date."""
        lo, hi = self.bounds(codes, days, length)
        if name is None:
            return (hi - lo).astype("float64")
        c = self.cum(name)
        return c[hi] - c[lo]

    def last(self, codes: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Index of the account's last event on or before day, -1 if none."""
        if not len(self.keys):
            return np.full(len(codes), -1, dtype="int64")
        idx = self._upto(codes, days) - 1
        ok = (idx >= 0) & (self.codes[np.maximum(idx, 0)] == codes)
        return np.where(ok, idx, -1)

    def since(self, codes: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Days since the account's last event on or before day (NaN if none)."""
        idx = self.last(codes, days)
        if not len(self.keys):
            return np.full(len(codes), np.nan)
        return np.where(idx >= 0, days - self.days[np.maximum(idx, 0)], np.nan)


def take(values: np.ndarray, idx: np.ndarray, fill: Any = np.nan) -> np.ndarray:
    """``values[idx]`` with ``fill`` where ``idx`` is -1 (no such row).

    Parameters
    ----------
    values : numpy.ndarray
        Not empty.
    idx : numpy.ndarray
        Positions in ``values``, -1 for none.
    fill : scalar
        ``NaN`` turns integers into float64; ``None`` turns non-float values into
        objects.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> take(np.array([3, 4]), np.array([1, -1])).tolist()
    [4.0, nan]
    """
    out = values[np.maximum(idx, 0)]
    if out.dtype.kind in "iub" and fill is np.nan:
        out = out.astype("float64")
    elif out.dtype.kind not in "fO" and fill is None:
        out = out.astype(object)
    out = out.copy()
    out[idx < 0] = fill
    return out


# --------------------------------------------------------------------------- pairs
@dataclass
class Pairs:
    """The (account, as_of) pairs with integer account codes and day numbers.

    Attributes
    ----------
    frame : pandas.DataFrame
        ``account_id`` (str), ``as_of`` (normalized), in the order asked for.
    ids : pandas.Index
        The distinct account ids, sorted; an account's code is its position.
    codes : numpy.ndarray
        Account code of each pair.
    days : numpy.ndarray
        Day number (:func:`day_numbers`) of each pair's as_of.
    """

    frame: pd.DataFrame
    ids: pd.Index
    codes: np.ndarray
    days: np.ndarray
    _known: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, pairs: pd.DataFrame | Pairs) -> Pairs:
        """The pairs of a table with columns ``account_id``, ``as_of`` (a ``Pairs`` as is).

        Examples
        --------
        >>> p = Pairs.of(pd.DataFrame({"account_id": ["B", "A"], "as_of": ["2024-01-31"] * 2}))
        >>> p.codes.tolist(), list(p.ids)
        ([1, 0], ['A', 'B'])
        """
        if isinstance(pairs, Pairs):
            return pairs
        frame = pd.DataFrame(
            {
                "account_id": pairs["account_id"].astype(str).to_numpy(),
                "as_of": to_datetimes(pairs["as_of"]).dt.normalize().to_numpy(),
            }
        )
        codes, ids = pd.factorize(frame["account_id"], sort=True)
        return cls(frame, pd.Index(ids), codes.astype("int64"), day_numbers(frame["as_of"]))

    def code(self, account_ids: pd.Series) -> np.ndarray:
        """Codes of account ids; -1 for accounts without a pair (read-only).

        The codes of a column are remembered: asking again for the same column (the
        same array of ids) hashes no id twice.
        """
        values = account_ids.to_numpy() if isinstance(account_ids, pd.Series) else account_ids
        known = self._known.get(id(values))
        if known is not None and known[0] is values:
            return known[1]
        codes = id_codes(self.ids, values)
        codes.flags.writeable = False
        self._known[id(values)] = (values, codes)  # the ids stay alive with their codes
        return codes

    def remember(self, key: str, source: Any, make: Callable[[], Any]) -> Any:
        """``make()`` computed once for these pairs and this ``source`` object (e.g. a
        table that several feature families read), then returned again."""
        known = self._known.get((key, id(source)))
        if known is not None and known[0] is source:
            return known[1]
        value = make()
        self._known[(key, id(source))] = (source, value)  # the source stays alive with it
        return value

    def schedule(self, schedule: pd.DataFrame) -> ScheduleVersions:
        """The :class:`ScheduleVersions` of the pairs' accounts, built once per table."""
        return self.remember(
            "schedule",
            schedule,
            lambda: ScheduleVersions(schedule, self.code(schedule["account_id"])),
        )

    def rows_in(self, table: pd.DataFrame, days: np.ndarray | None = None) -> np.ndarray:
        """Row of ``table`` (``account_id``, ``as_of``) at each pair's account and day.

        Parameters
        ----------
        table : pandas.DataFrame
            E.g. an :func:`recovery.timeline.aging.account_states` table.
        days : numpy.ndarray, optional
            Day number of each pair to look up (default: the pairs' as_of).

        Returns
        -------
        numpy.ndarray
            int64 row positions; -1 where the table has no row on exactly that day.

        Examples
        --------
        >>> p = Pairs.of(pd.DataFrame({"account_id": ["A", "B"], "as_of": ["2024-01-31"] * 2}))
        >>> t = pd.DataFrame({"account_id": ["B", "A"], "as_of": ["2024-01-31", "2024-01-30"]})
        >>> p.rows_in(t).tolist()
        [-1, 0]
        """
        days = self.days if days is None else days
        code = self.code(table["account_id"])
        keep = code >= 0
        ev = Events(code[keep], day_numbers(table["as_of"])[keep], row=np.flatnonzero(keep))
        if not len(ev):
            return np.full(len(days), -1, dtype="int64")
        idx = ev.last(self.codes, days)
        hit = idx >= 0
        hit[hit] = ev.days[idx[hit]] == days[hit]
        return np.where(hit, ev.values["row"][np.maximum(idx, 0)], -1).astype("int64")


class PairColumns(dict):
    """Columns computed for pairs, collected as arrays; one DataFrame is built at the end.

    Starts with the pairs' ``account_id`` and ``as_of``; a scalar assigned to a column
    fills it.

    Parameters
    ----------
    frame : pandas.DataFrame
        The pairs (``account_id``, ``as_of``), e.g. :attr:`Pairs.frame`.

    Examples
    --------
    >>> out = PairColumns(pd.DataFrame({"account_id": ["A", "B"], "as_of": ["2024-01-31"] * 2}))
    >>> out["flag"] = False
    >>> out.frame()["flag"].tolist()
    [False, False]
    """

    def __init__(self, frame: pd.DataFrame):
        super().__init__(account_id=frame["account_id"].to_numpy(), as_of=frame["as_of"].to_numpy())

    def __setitem__(self, key: str, value: Any) -> None:
        if np.ndim(value) == 0:  # a constant column
            n = len(next(iter(self.values()))) if len(self) else 0
            value = np.full(n, value, dtype=float if value is None or np.isnan(value) else None)
        super().__setitem__(key, value)

    def frame(self) -> pd.DataFrame:
        """The columns as one DataFrame."""
        return pd.DataFrame(dict(self))

    @classmethod
    def select(cls, columns: Mapping[str, Any], names: Sequence[str]) -> PairColumns:
        """The columns ``names`` of ``columns`` (those present), in that order, as they are."""
        out = cls.__new__(cls)
        for name in names:
            if name in columns:
                dict.__setitem__(out, name, columns[name])
        return out

    def replace_rows(self, rows: np.ndarray, other: PairColumns) -> PairColumns:
        """These columns with the rows where ``rows`` (a mask) is set taken from ``other``.

        The same table as :meth:`concat` of the other rows and ``other``, put back in
        order: a column is copied and its few rows assigned when both sides have the
        same dtype, concatenated otherwise.

        Examples
        --------
        >>> a = PairColumns(pd.DataFrame({"account_id": ["A", "B", "C"], "as_of": [1, 2, 3]}))
        >>> a["x"] = np.array([1.0, 2.0, 3.0])
        >>> b = PairColumns(pd.DataFrame({"account_id": ["B"], "as_of": [2]}))
        >>> b["x"] = np.array([9.0])
        >>> a.replace_rows(np.array([False, True, False]), b)["x"].tolist()
        [1.0, 9.0, 3.0]
        """
        rows = np.asarray(rows, dtype=bool)
        at = np.flatnonzero(rows)
        order = None
        out = self.__class__.__new__(self.__class__)
        for column, mine in self.items():
            theirs = other[column]
            same = getattr(mine, "dtype", None) == getattr(theirs, "dtype", None)
            if same and isinstance(mine, pd.Categorical):
                codes = np.array(mine.codes)
                codes[at] = theirs.codes
                values = pd.Categorical.from_codes(codes, dtype=mine.dtype)
            elif same and isinstance(mine, np.ndarray):
                values = mine
                if mine.dtype.kind == "O" or mine[at].tobytes() != theirs.tobytes():
                    values = mine.copy()  # copied only when a late row changes
                    values[at] = theirs
            else:
                if order is None:
                    order = np.argsort(np.r_[np.flatnonzero(~rows), at], kind="stable")
                parts = [{column: mine[~rows]}, {column: theirs}]
                values = PairColumns.concat(parts, order)[column]
            dict.__setitem__(out, column, values)
        return out

    @classmethod
    def concat(cls, parts: list[PairColumns], order: np.ndarray | None = None) -> PairColumns:
        """Row-wise concatenation (then ``take(order)``) of parts with the same columns."""
        out = cls.__new__(cls)
        for column in parts[0]:
            pieces = [part[column] for part in parts]
            if isinstance(pieces[0], pd.Categorical):
                codes = np.concatenate([np.asarray(c.codes) for c in pieces])
                values = pd.Categorical.from_codes(
                    codes if order is None else codes[order], dtype=pieces[0].dtype
                )
            else:
                values = np.concatenate([np.asarray(v) for v in pieces])
                values = values if order is None else values[order]
            dict.__setitem__(out, column, values)
        return out


def as_pairs(as_of: Any) -> pd.DataFrame | list[pd.Timestamp]:
    """What was asked for: a table of pairs, or dates.

    Parameters
    ----------
    as_of : DataFrame or date or sequence of dates
        A table with columns ``account_id``, ``as_of`` (returned as it is), or dates.

    Returns
    -------
    pandas.DataFrame or list of pandas.Timestamp
        The table, or the distinct dates (normalized), sorted.

    Raises
    ------
    DataError
        A table without those columns, something that is not a date, or no date.

    Examples
    --------
    >>> as_pairs(["2024-02-29", "2024-01-31 10:00", "2024-02-29"])
    [Timestamp('2024-01-31 00:00:00'), Timestamp('2024-02-29 00:00:00')]
    """
    if isinstance(as_of, pd.DataFrame):
        missing = {"account_id", "as_of"} - set(as_of.columns)
        if missing:
            raise DataError(
                f"the pairs table needs columns account_id and as_of; missing {sorted(missing)}"
            )
        return as_of
    if isinstance(as_of, (str, pd.Timestamp, np.datetime64)) or not isinstance(
        as_of, (Sequence, pd.Index, np.ndarray, pd.Series)
    ):
        as_of = [as_of]
    try:
        dates = sorted({pd.Timestamp(d).normalize() for d in as_of})
    except (ValueError, TypeError) as exc:
        raise DataError(f"as_of must be dates (YYYY-MM-DD) or a pairs table: {exc}") from None
    if not dates:
        raise DataError("as_of is empty: give at least one date")
    return dates


def pairs_table(request: pd.DataFrame, *, text_ids: bool = False) -> pd.DataFrame:
    """The ``account_id, as_of`` columns of a pairs table, as_of normalized to the day.

    Parameters
    ----------
    request : pandas.DataFrame
        A pairs table (:func:`as_pairs`).
    text_ids : bool
        Turn the account ids into strings too.

    Returns
    -------
    pandas.DataFrame
        A copy, rows and index as given.

    Examples
    --------
    >>> pairs_table(pd.DataFrame({"account_id": [7], "as_of": ["2024-01-31 18:00"], "x": 1}),
    ...             text_ids=True).values.tolist()
    [['7', Timestamp('2024-01-31 00:00:00')]]
    """
    pairs = request[["account_id", "as_of"]].copy()
    if text_ids:
        pairs["account_id"] = pairs["account_id"].astype(str)
    pairs["as_of"] = to_datetimes(pairs["as_of"]).dt.normalize()
    return pairs


# ------------------------------------------------------------------- schedule in force
_IN_FORCE = ("schedule_version", "installments_remaining", "installment_amount")


class ScheduleVersions:
    """The versions of a schedule by account code, to find the one in force at a day.

    Built once per table (:meth:`Pairs.schedule`); :func:`schedule_in_force` for ids.

    Parameters
    ----------
    schedule : pandas.DataFrame
        The ``schedule`` table.
    codes : numpy.ndarray
        Account code of each schedule row (-1: not needed, left out).
    """

    def __init__(self, schedule: pd.DataFrame, codes: np.ndarray):
        keep = np.asarray(codes) >= 0
        scode = np.asarray(codes, dtype="int64")[keep]
        if "schedule_version" in schedule:
            ver = schedule["schedule_version"].fillna(1).astype("int64").to_numpy()[keep]
        else:
            ver = np.ones(len(scode), dtype="int64")
        eff = schedule.get("effective_from", pd.Series(pd.NaT, index=schedule.index))
        eff = to_datetimes(eff).to_numpy()[keep]
        # one integer key per (account, version): grouped without hashing the ids again
        self.max_v = max_v = np.int64(max(int(ver.max()) if len(ver) else 1, 1) + 1)
        key = scode * max_v + ver
        amount = schedule["amount_due"].astype("float64").to_numpy()[keep]
        frame = pd.DataFrame({"_key": key, "effective_from": eff, "amount_due": amount})
        versions = frame.groupby("_key", sort=False).agg(
            effective_from=("effective_from", "min"), installment_amount=("amount_due", "median")
        )
        vkey = versions.index.to_numpy().astype("int64")
        vcode, vnum = vkey // max_v, vkey % max_v
        vday = day_numbers(versions["effective_from"])
        vday = np.where(vday < 0, 0, vday)  # the original version is in force from the start
        # latest version (by effective day, then number) with effective day <= query day
        order = np.lexsort((vnum, vday, vcode))
        self.vkeys = vcode[order] * _SPAN + vday[order]
        self.vcode, self.vnum = vcode[order], vnum[order]
        self.amount = versions["installment_amount"].to_numpy()[order]
        due = day_numbers(to_datetimes(schedule["due_date"]).to_numpy()[keep])
        self.skey = np.sort(key * _SPAN + due)  # installments by (account, version, day)

    def at(self, qcode: np.ndarray, qday: np.ndarray) -> pd.DataFrame:
        """What :func:`schedule_in_force` returns, for account codes and day numbers."""
        if not len(self.vkeys):  # no schedule: nothing in force
            return pd.DataFrame({c: np.full(len(qcode), np.nan) for c in _IN_FORCE})
        pos = np.searchsorted(self.vkeys, qcode * _SPAN + qday, side="right") - 1
        safe = np.maximum(pos, 0)
        ok = (pos >= 0) & (self.vcode[safe] == qcode)
        version = np.where(ok, self.vnum[safe], -1)
        amount = np.where(ok, self.amount[safe], np.nan)
        # installments of that version due after the query day
        base = (qcode * self.max_v + np.maximum(version, 0)) * _SPAN
        end = np.searchsorted(self.skey, base + _SPAN, side="left")
        remaining = end - np.searchsorted(self.skey, base + qday, side="right")
        in_force = (np.where(ok, version, np.nan), np.where(ok, remaining, np.nan), amount)
        return pd.DataFrame(dict(zip(_IN_FORCE, in_force, strict=True)))


def schedule_in_force(schedule: pd.DataFrame, account_ids: pd.Series, dates: Any) -> pd.DataFrame:
    """Schedule version in force, installments remaining and installment amount.

    Parameters
    ----------
    schedule : pandas.DataFrame
        The ``schedule`` table.
    account_ids : pandas.Series
        Account of each query row.
    dates : array-like of dates
        Date of each query row.

    Returns
    -------
    pandas.DataFrame
        One row per query row (same order): ``schedule_version`` (latest version whose
        ``effective_from`` is empty or on or before the date), ``installments_remaining``
        (count, due after the date), ``installment_amount`` (median ``amount_due`` of
        that version, currency). Accounts without a schedule get NA.

    Examples
    --------
    >>> s = pd.DataFrame({"account_id": ["A"] * 4, "installment_no": [1, 2, 1, 2],
    ...     "due_date": pd.to_datetime(["2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"]),
    ...     "amount_due": [100.0, 100.0, 60.0, 60.0], "schedule_version": [1, 1, 2, 2],
    ...     "effective_from": pd.to_datetime([None, None, "2024-03-15", "2024-03-15"])})
    >>> schedule_in_force(s, pd.Series(["A", "A"]), pd.to_datetime(["2024-02-15", "2024-03-20"]))
       schedule_version  installments_remaining  installment_amount
    0               1.0                     1.0               100.0
    1               2.0                     2.0                60.0
    """
    qids = pd.Series(account_ids).astype(str).reset_index(drop=True)
    sids = schedule["account_id"].astype(str).reset_index(drop=True)
    codes, _ = pd.factorize(pd.concat([qids, sids]), sort=False)
    qcode = codes[: len(qids)].astype("int64")
    versions = ScheduleVersions(schedule, codes[len(qids) :].astype("int64"))
    return versions.at(qcode, day_numbers(dates))


# ------------------------------------------------------------------- partitions
def account_partitions(accounts: Any, partition_size: int | None) -> list[np.ndarray]:
    """The accounts, sorted, cut into consecutive partitions of at most ``partition_size``.

    Parameters
    ----------
    accounts : array-like of str
        Distinct account ids.
    partition_size : int, optional
        Accounts per partition; ``None`` (or 0) = one partition.

    Returns
    -------
    list of numpy.ndarray
        Object arrays of ids; empty when there is no account.

    Examples
    --------
    >>> [p.tolist() for p in account_partitions(["C", "A", "B"], 2)]
    [['A', 'B'], ['C']]
    """
    accounts = np.sort(np.asarray(accounts, dtype=object))
    size = len(accounts) if not partition_size else int(partition_size)
    return [accounts[i : i + size] for i in range(0, len(accounts), max(size, 1))]


def pairs_of_accounts(
    request: pd.DataFrame | list[pd.Timestamp], account_ids: np.ndarray
) -> pd.DataFrame | list[pd.Timestamp]:
    """The part of a request (:func:`as_pairs`) that concerns some accounts.

    Parameters
    ----------
    request : DataFrame or list of dates
        A pairs table, or dates (which concern every account).
    account_ids : numpy.ndarray
        The accounts of a partition.

    Returns
    -------
    DataFrame or list of dates
        The table's rows of those accounts, or the dates unchanged.

    Examples
    --------
    >>> q = pd.DataFrame({"account_id": ["A", "B"], "as_of": ["2024-01-31"] * 2})
    >>> pairs_of_accounts(q, np.array(["B"]))["account_id"].tolist()
    ['B']
    """
    if isinstance(request, pd.DataFrame):
        return request[request["account_id"].astype(str).isin(account_ids)]
    return request
