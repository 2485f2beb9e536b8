"""What the roll-rate forecaster reads of a snapshots table, pandas or partitioned.

:func:`rows_up_to` gives the rows up to a forecast origin and the rows at it;
:func:`fit_transitions` the columns of :func:`recovery.analytics.states.transitions`
the fit uses (of one part of a :class:`~recovery.analytics.partitions.PartitionedSnapshots`:
only these travel, so the transitions of a large book fit in memory).

Examples
--------
>>> import pandas as pd
>>> s = pd.DataFrame({"account_id": ["L1"] * 3, "status": ["open"] * 3,
...     "month_end": pd.date_range("2023-10-31", periods=3, freq="ME"),
...     "dpd": [0, 25, 0], "bucket": ["M0", "M1", "M0"], "balance": [50.0, 48.0, 40.0]})
>>> rows, end, last = rows_up_to(s, "2023-11-15")
>>> len(rows), str(end.date()), len(last)
(2, '2023-11-30', 1)
>>> fit_transitions(s, None, None)[["from_state", "to_state"]].values.tolist()
[['M0', 'M1'], ['M1', 'M0']]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recovery.analytics.common import month_end, month_number
from recovery.analytics.partitions import PartitionedSnapshots, concat_parts
from recovery.analytics.states import transitions
from recovery.config import Config
from recovery.errors import DataError

__all__ = [
    "FIT_COLUMNS",
    "LAST_COLUMNS",
    "BacktestRows",
    "backtest_transitions",
    "fit_rows",
    "fit_since",
    "fit_transitions",
    "fit_transitions_up_to",
    "keep_fit_rows",
    "rows_at",
    "rows_up_to",
]


def rows_up_to(snapshots: Any, data_end: Any) -> tuple[Any, pd.Timestamp, pd.DataFrame]:
    """The rows up to the forecast origin, the origin and the rows at it.

    Parameters
    ----------
    snapshots : DataFrame or PartitionedSnapshots
        The ``snapshots`` table.
    data_end : date, optional
        The forecast origin (its month end; default the latest ``month_end``).

    Returns
    -------
    rows : DataFrame or PartitionedSnapshots
        The rows on or before the origin (parts filtered when read).
    end : Timestamp
        The origin's month end.
    last : DataFrame
        The rows at the origin.

    Raises
    ------
    DataError
        When no row is on or before the origin.
    """
    if isinstance(snapshots, PartitionedSnapshots):
        end = pd.Timestamp(data_end) + pd.offsets.MonthEnd(0) if data_end is not None else None
        end = snapshots.data_end if end is None else end.normalize()
        if not (snapshots.months <= month_number([end])[0]).any():
            raise DataError(f"no snapshot rows on or before {end.date()}")
        s = snapshots
        if end < snapshots.data_end:  # the parts' rows up to the origin, when read
            s = snapshots.transform(lambda p: p[_month_ends(p) <= end])
        return s, end, rows_at(snapshots, [end])[end]
    me = pd.to_datetime(snapshots["month_end"]).dt.normalize()
    end = pd.Timestamp(data_end) + pd.offsets.MonthEnd(0) if data_end is not None else me.max()
    s = snapshots[me <= end]
    if s.empty:
        raise DataError(f"no snapshot rows on or before {end.date()}")
    return s, end, s[(me[s.index] == end).to_numpy()]


FIT_COLUMNS = ["month_end", "next_month_end", "from_state", "to_state", "balance",
                "next_balance", "next_paid_in_month"]  # fmt: skip


def fit_transitions(
    part: Any, config: Config | None, months: np.ndarray | None, since: int | None = None
):
    """The columns of :func:`~recovery.analytics.states.transitions` the forecaster uses.

    ``months``: the whole table's month numbers (a part of it passes them). ``since``:
    a month number; only the rows a fit whose lookback starts on or after it reads
    (:func:`fit_rows`), default all. Of a partitioned table, rows kept by an earlier
    pass (:func:`keep_fit_rows`) are used when they reach back far enough.
    """
    if isinstance(part, PartitionedSnapshots):  # read once per table and months
        key = ("fit_transitions", config, [int(m) for m in months])
        kept = part.recall(key)
        if kept is not None and (kept[0] is None or (since is not None and kept[0] <= since)):
            return kept[1]
        return part.memo((*key, since), lambda: part.concat(fit_transitions, config, months, since))
    return fit_rows(transitions(part, config, months=months), config, since)


def fit_transitions_up_to(
    snapshots: PartitionedSnapshots, config: Config, end: pd.Timestamp, lookback: int
) -> pd.DataFrame:
    """The :func:`fit_transitions` a fit at ``end`` with ``lookback`` months reads.

    Those kept by an earlier pass when they reach back far enough, else its own; all
    rows when its lookback reaches before the first month the rows are complete from.
    """
    months = snapshots.months[snapshots.months <= month_number([end])[0]]
    since = fit_since(months, [end], lookback)
    t = fit_transitions(snapshots, config, months, since)
    if since is not None:
        upto = t[(_as_dates(t["next_month_end"]) <= end).to_numpy()]
        starts = np.unique(_as_dates(upto["month_end"]).to_numpy())[-lookback:]
        if len(starts) and starts[0] < _month_end_of(since):
            return fit_transitions(snapshots, config, months)  # the lookback reaches further
    return t


def backtest_transitions(
    snapshots: PartitionedSnapshots, config: Config, origins: Any, lookback: int
) -> tuple[pd.DataFrame, int | None]:
    """The :func:`fit_transitions` fits at ``origins`` read, and the month they are
    complete from (for :class:`BacktestRows`)."""
    since = fit_since(snapshots.months, origins, lookback) if lookback >= 1 else None
    return fit_transitions(snapshots, config, snapshots.months, since), since


def fit_rows(t: pd.DataFrame, config: Config | None, since: int | None) -> pd.DataFrame:
    """The forecaster's columns of transitions ``t``: the rows its fits read.

    A fit reads the transitions out of a delinquent state (all months) and, in its
    lookback months, those out of ``M0``, ``new`` and ``charged_off``; the rest (mostly
    current accounts staying current) only in those months. ``since`` (a month
    number): keep every row starting on or after it, and the delinquent ones before
    (a fit whose lookback starts on or after ``since`` gives what it gives with all
    rows); None: all rows. The rows keep their order.

    Examples
    --------
    >>> t = pd.DataFrame({"month_end": pd.to_datetime(["2024-01-31", "2024-01-31",
    ...     "2024-02-29"]), "next_month_end": pd.to_datetime(["2024-02-29", "2024-02-29",
    ...     "2024-03-31"]), "from_state": ["M0", "M2", "M0"], "to_state": ["M0", "M3", "M1"],
    ...     "balance": [1.0, 2.0, 3.0], "next_balance": [1.0, 2.0, 3.0],
    ...     "next_paid_in_month": [0.0, 0.0, 0.0]})
    >>> fit_rows(t, None, month_number(["2024-02-29"])[0])["balance"].tolist()
    [2.0, 3.0]
    """
    if since is None:
        return t[FIT_COLUMNS]
    late = t["from_state"].isin((config or Config()).aging.bucket_labels()[1:]).to_numpy()
    recent = _month_ends(t).to_numpy() >= _month_end_of(since)
    return t.loc[late | recent, FIT_COLUMNS]


def fit_since(months: np.ndarray, ends: Any, lookback: int) -> int | None:
    """The first month of the lookbacks of fits at ``ends``: their :func:`fit_rows`.

    Parameters
    ----------
    months : array of int
        The table's month numbers.
    ends : sequence of dates
        The fits' origins.
    lookback : int
        Their ``lookback_months``.

    Returns
    -------
    int or None
        A month number (None when a fit has no pair of months before its origin).

    Examples
    --------
    >>> months = month_number(pd.date_range("2024-01-31", periods=6, freq="ME"))
    >>> int(fit_since(months, ["2024-05-31", "2024-06-30"], 2) - months[0])
    2
    """
    starts = months[np.isin(months + 1, months)]
    firsts = []
    for end in month_number([pd.Timestamp(e) for e in ends]):  # a few origins
        window = starts[starts + 1 <= end][-lookback:]
        if len(window) == 0:
            return None
        firsts.append(int(window[0]))
    return min(firsts) if firsts else None


def keep_fit_rows(
    snapshots: PartitionedSnapshots,
    config: Config,
    rows: list[pd.DataFrame] | None,
    since: int | None,
) -> None:
    """Keep the :func:`fit_rows` of each part, given by a pass that computed its
    transitions (of ``snapshots.months``), for the forecaster's fits (:func:`fit_transitions`).

    ``rows`` None: computed here, unless rows kept already reach back to ``since`` (one
    pass for a fit and a backtest whose lookbacks start on or after it).
    """
    key = ("fit_transitions", config, [int(m) for m in snapshots.months])
    if rows is None:
        kept = snapshots.recall(key)
        if kept is not None and (kept[0] is None or (since is not None and kept[0] <= since)):
            return
        rows = snapshots.map(fit_transitions, config, snapshots.months, since)
    snapshots.keep(key, (since, concat_parts(rows)))


#: The columns of the rows at an origin the forecaster reads.
LAST_COLUMNS = ["month_end", "dpd", "bucket", "balance", "status"]


def rows_at(snapshots: PartitionedSnapshots, ends: Any) -> dict[pd.Timestamp, pd.DataFrame]:
    """The rows at each of some month ends (the forecaster's columns), in one pass.

    Parameters
    ----------
    snapshots : PartitionedSnapshots
    ends : sequence of dates
        Month ends.

    Returns
    -------
    dict
        ``{month end: rows}``, remembered by the table (a later call reads nothing).

    Examples
    --------
    >>> from recovery.analytics.partitions import PartitionedSnapshots
    >>> s = pd.DataFrame({"account_id": ["A", "A", "B"], "dpd": [0, 40, 0],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-02-29"]),
    ...     "bucket": ["M0", "M2", "M0"], "balance": [100.0, 95.0, 5.0], "status": ["open"] * 3})
    >>> at = rows_at(PartitionedSnapshots.from_frame(s, 1), ["2024-02-29"])
    >>> at[pd.Timestamp("2024-02-29")]["dpd"].tolist()
    [40, 0]
    """
    ends = [pd.Timestamp(e).normalize() for e in ends]
    found = {e: snapshots.recall(("rows_at", e)) for e in ends}
    missing = [e for e, rows in found.items() if rows is None]
    if missing:
        columns = [c for c in LAST_COLUMNS if c in snapshots.columns]
        pieces: dict[pd.Timestamp, list[pd.DataFrame]] = {e: [] for e in missing}
        for part in snapshots:
            me = _month_ends(part)
            for e in missing:
                pieces[e].append(part.loc[(me == e).to_numpy(), columns])
        for e in missing:
            rows = concat_parts(pieces[e]).reset_index(drop=True)
            found[e] = snapshots.memo(("rows_at", e), lambda rows=rows: rows)
    return found


def _month_ends(part: pd.DataFrame) -> pd.Series:
    me = part["month_end"]
    return me if me.dtype.kind == "M" else pd.to_datetime(me).dt.normalize()


class BacktestRows:
    """The transitions a roll-rate fit at an origin reads, for a backtest's origins.

    Those out of a delinquent state, and every one in the origin's last ``lookback``
    start months; the rest of a book's transitions (mostly current accounts staying
    current) would only be filtered out again at each origin. A fit given these rows
    as its ``transition_table`` gives what it gives with all of them.

    Parameters
    ----------
    t_all : DataFrame
        :func:`fit_transitions` of the whole history.
    delinquent : list of str
        The delinquent states (buckets past M0).

    Examples
    --------
    >>> t = pd.DataFrame({"month_end": pd.to_datetime(["2024-01-31", "2024-02-29"] * 2),
    ...     "next_month_end": pd.to_datetime(["2024-02-29", "2024-03-31"] * 2),
    ...     "from_state": ["M0", "M0", "M2", "M2"]})
    >>> rows = BacktestRows(t, ["M1", "M2"])
    >>> rows(pd.Timestamp("2024-03-31"), lookback=1)["from_state"].tolist()
    ['M0', 'M2', 'M2']
    """

    def __init__(
        self, t_all: pd.DataFrame, delinquent: list[str], since: int | None = None
    ) -> None:
        self.t_all = t_all
        self.since = since  # t_all: the fit_rows since this month (None: all rows)
        self.month = _as_dates(t_all["month_end"]).to_numpy()
        self.next = _as_dates(t_all["next_month_end"]).to_numpy()
        self.delinquent = t_all["from_state"].isin(delinquent).to_numpy()
        pairs = pd.DataFrame({"month": self.month, "next": self.next}).drop_duplicates()
        self.pairs = pairs.sort_values("month", kind="mergesort")  # the (m, m + 1) pairs

    def __call__(self, origin: pd.Timestamp, lookback: int) -> pd.DataFrame:
        end = (pd.Timestamp(origin) + pd.offsets.MonthEnd(0)).normalize()
        upto = self.next <= end.to_datetime64()
        pairs = self.pairs
        months = np.unique(pairs["month"].to_numpy()[pairs["next"].to_numpy() <= end])
        starts = months[-lookback:] if lookback >= 1 else months[:0]
        if self.since is not None and len(starts) and starts[0] < _month_end_of(self.since):
            return None  # a lookback reaching before the rows kept: the fit reads its own
        keep = upto & (self.delinquent | np.isin(self.month, starts))
        return self.t_all[keep] if lookback >= 1 else self.t_all


def _month_end_of(month_no: int) -> np.datetime64:
    return month_end([month_no])[0].to_datetime64()


def _as_dates(column: pd.Series) -> pd.Series:
    return column if column.dtype.kind == "M" else pd.to_datetime(column)
