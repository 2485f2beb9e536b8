"""What the report works on: the report month, checked against the data, and the loaded data.

The report month is refused with a clear :class:`~recovery.errors.DataError` before
anything is written when the data has no rows for it or it lies outside the data
(:func:`parse_month`, :func:`report_months`, :func:`check_report_month`;
:func:`check_month_on_disk` does it cheaply from the saved files).
:func:`load_report_data` loads a portfolio directory into a :class:`ReportData`: the
validated tables, the month-end snapshots (read, or derived when the data has none),
the report month and the months with data.

Examples
--------
>>> parse_month("2026-10")
Timestamp('2026-10-31 00:00:00')
"""

from __future__ import annotations

import atexit
import contextlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from recovery.analytics.common import month_end, month_number
from recovery.analytics.partitions import PartitionedSnapshots
from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.errors import DataError
from recovery.report.formatting import format_month

__all__ = [
    "parse_month",
    "report_months",
    "check_report_month",
    "ReportData",
    "data_end_on_disk",
    "check_month_on_disk",
    "load_report_data",
    "example_report_data",
]

# ----------------------------------------------------------------------------- the month


_MONTH_TEXT = re.compile(r"^\d{4}-\d{1,2}(-\d{1,2})?$")


def parse_month(month: Any) -> pd.Timestamp:
    """The month end of a month given as ``"2026-10"``, a date or a Timestamp.

    Raises
    ------
    DataError
        When the text is not a month.

    Examples
    --------
    >>> parse_month("2026-02"), parse_month("2026-02-10")
    (Timestamp('2026-02-28 00:00:00'), Timestamp('2026-02-28 00:00:00'))
    """
    bad = DataError(f"report month {month!r} is not a month; write it as YYYY-MM, e.g. 2026-10")
    if isinstance(month, str) and not _MONTH_TEXT.match(month.strip()):
        raise bad
    try:
        ts = pd.Timestamp(month.strip() if isinstance(month, str) else month)
    except (ValueError, TypeError):
        raise bad from None
    if ts is pd.NaT or pd.isna(ts):
        raise bad
    return (ts.normalize() + pd.offsets.MonthEnd(0)).normalize()


def report_months(snapshots: pd.DataFrame | None = None, data_end: Any = None) -> pd.DatetimeIndex:
    """Complete month ends a report can be made for.

    A month is complete when its month end is on or before the data end; it has data
    when the snapshots have rows at that month end.

    Parameters
    ----------
    snapshots : DataFrame, optional
        With a ``month_end`` column.
    data_end : date, optional
        Last day the data covers; default the latest snapshot month end.

    Examples
    --------
    >>> s = pd.DataFrame({"month_end": pd.to_datetime(["2026-08-31", "2026-09-30", "2026-10-31"])})
    >>> [m.strftime("%Y-%m") for m in report_months(s, data_end="2026-10-20")]
    ['2026-08', '2026-09']
    """
    if isinstance(snapshots, PartitionedSnapshots):
        months = month_end(snapshots.months)
    elif snapshots is None or "month_end" not in snapshots or not len(snapshots):
        return pd.DatetimeIndex([])
    else:
        months = pd.DatetimeIndex(
            pd.to_datetime(snapshots["month_end"]).dropna().unique()
        ).sort_values()
    months = months.normalize()
    if data_end is not None:
        months = months[months <= pd.Timestamp(data_end).normalize()]
    return months


def check_report_month(
    month: Any, months: Sequence[Any] | pd.DatetimeIndex, data_end: Any = None
) -> pd.Timestamp:
    """The report month, checked against the months the data has; else a clear error.

    Parameters
    ----------
    month : str or date
        ``"2026-10"`` or any date in the month.
    months : sequence of dates
        Month ends with data (e.g. :func:`report_months`).
    data_end : date, optional
        Last day the data covers, named in the message.

    Returns
    -------
    Timestamp
        The month end.

    Raises
    ------
    DataError
        When the month is outside the data, not complete yet, or has no data.

    Examples
    --------
    >>> months = pd.date_range("2026-01-31", "2026-09-30", freq="ME")
    >>> check_report_month("2026-09", months)
    Timestamp('2026-09-30 00:00:00')
    >>> check_report_month("2026-12", months, data_end="2026-10-15")
    Traceback (most recent call last):
    ...
    recovery.errors.DataError: no data for December 2026: the data covers January 2026 to September 2026 (data end 2026-10-15); choose a month in that range, e.g. --month 2026-09
    """
    target = parse_month(month)
    months = pd.DatetimeIndex(pd.to_datetime(list(months))).normalize().sort_values()
    end_text = f" (data end {pd.Timestamp(data_end):%Y-%m-%d})" if data_end is not None else ""
    if not len(months):
        raise DataError(
            f"no data for {format_month(target)}: the data has no complete month{end_text}"
        )
    first, last = months[0], months[-1]
    if target < first or target > last:
        raise DataError(
            f"no data for {format_month(target)}: the data covers {format_month(first)} to "
            f"{format_month(last)}{end_text}; choose a month in that range, e.g. --month {last:%Y-%m}"
        )
    if target not in months:
        raise DataError(
            f"no data for {format_month(target)}: the snapshots have no rows at {target:%Y-%m-%d} "
            f"(the data covers {format_month(first)} to {format_month(last)} with gaps)"
        )
    return target


# ----------------------------------------------------------------------------- data


@dataclass
class ReportData:
    """What the report template works on.

    Attributes
    ----------
    portfolio : Portfolio
        The loaded tables (validated).
    snapshots : DataFrame
        Month-end snapshots (from the data, or derived by :mod:`recovery.timeline.aging`).
    month : Timestamp
        The report month end.
    months : DatetimeIndex
        Complete month ends with data.
    data_end : Timestamp
        Last day the data covers.
    config : Config
    model_path : Path or None
        Directory of saved scorers, if given.
    """

    portfolio: Any
    snapshots: pd.DataFrame
    month: pd.Timestamp
    months: pd.DatetimeIndex
    data_end: pd.Timestamp
    config: Config
    model_path: Path | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def previous_month(self) -> pd.Timestamp:
        """Month end before the report month."""
        return (self.month - pd.offsets.MonthEnd(1)).normalize()

    @property
    def history(self) -> pd.DataFrame:
        """Snapshots up to and including the report month (what was known then)."""
        if "history" not in self.extras:
            if isinstance(self.snapshots, PartitionedSnapshots):
                self.extras["history"] = _history_of_parts(self.snapshots, self.month)
            else:
                months = pd.to_datetime(self.snapshots["month_end"]).dt.normalize()
                history = self.snapshots[months <= self.month].reset_index(drop=True)
                self.extras["history"] = history
        return self.extras["history"]

    @property
    def accounts(self) -> pd.DataFrame | None:
        """The ``accounts`` table, if the data has one."""
        return getattr(self.portfolio, "accounts", None)


def _history_of_parts(parts: PartitionedSnapshots, month: pd.Timestamp) -> PartitionedSnapshots:
    """The parts' rows up to ``month`` (the table itself when it ends there)."""
    upto = int(month_number([month])[0])
    if upto >= parts.months[-1]:
        return parts
    return parts.transform(
        lambda p: p[pd.to_datetime(p["month_end"]).dt.normalize() <= month],
        months=parts.months[parts.months <= upto],
    )


def _column_on_disk(directory: Path, table: str, column: str) -> pd.Series | None:
    """One column of a table saved in ``directory`` as Parquet or CSV; None without the table."""
    for name in (f"{table}.parquet", f"{table}.csv"):
        file = directory / name
        if file.is_file():
            if file.suffix == ".parquet":
                return pd.read_parquet(file, columns=[column])[column]
            return pd.read_csv(file, usecols=[column])[column]
    return None


def _snapshot_months_on_disk(directory: Path) -> pd.DatetimeIndex | None:
    months = _column_on_disk(directory, "snapshots", "month_end")
    if months is None:
        return None
    return pd.DatetimeIndex(pd.to_datetime(months).dropna().unique()).normalize().sort_values()


def data_end_on_disk(directory: Path) -> pd.Timestamp | None:
    """The data end recorded in a saved portfolio's ``portfolio.json``, if any.

    Parameters
    ----------
    directory : Path
        Portfolio directory (see :func:`recovery.data.io.save_portfolio`).

    Returns
    -------
    Timestamp or None
        None when the file is absent, unreadable or names no data end.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "portfolio.json").write_text('{"data_end": "2026-10-20"}')
    ...     data_end_on_disk(Path(tmp))
    Timestamp('2026-10-20 00:00:00')
    """
    meta = directory / "portfolio.json"
    if meta.is_file():
        try:
            value = json.loads(meta.read_text(encoding="utf-8")).get("data_end")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None
        if value:
            return pd.Timestamp(value).normalize()
    return None


def _origination_months(directory: Path, data_end: pd.Timestamp | None) -> pd.DatetimeIndex | None:
    dates = _column_on_disk(directory, "accounts", "origination_date")
    if dates is None:
        return None
    dates = pd.to_datetime(dates, errors="coerce").dropna()
    if not len(dates) or data_end is None:
        return None
    start = dates.min() + pd.offsets.MonthEnd(1)
    return pd.date_range(start.normalize(), data_end, freq="ME")


def check_month_on_disk(data_path: Path, month: Any) -> pd.Timestamp:
    """Check the report month from the saved files, cheaply, before any work is done.

    The months come from the ``month_end`` column of a saved ``snapshots`` table, else
    from the first origination date of ``accounts`` to the data end.

    Parameters
    ----------
    data_path : Path
        Portfolio directory.
    month : str or date
        The report month, e.g. ``"2026-10"``.

    Returns
    -------
    Timestamp
        The month end; when neither table can be read the month is only parsed
        (:func:`load_report_data` checks it again).

    Raises
    ------
    DataError
        When the directory does not exist, or the month has no data or lies outside it.

    Examples
    --------
    >>> check_month_on_disk(Path("no/such/directory"), "2026-10")
    Traceback (most recent call last):
    ...
    recovery.errors.DataError: portfolio directory no/such/directory does not exist
    """
    if not data_path.is_dir():
        raise DataError(f"portfolio directory {data_path} does not exist")
    target = parse_month(month)
    data_end = data_end_on_disk(data_path)
    months = _snapshot_months_on_disk(data_path)
    if months is None:
        months = _origination_months(data_path, data_end)
    if months is None:
        return target  # decided after loading (load_report_data checks again)
    if data_end is not None:
        months = months[months <= data_end]
    return check_report_month(target, months, data_end)


def load_report_data(
    data_path: str | Path,
    month: Any,
    model_path: str | Path | None = None,
    config: Config | Mapping[str, Any] | None = None,
) -> ReportData:
    """Load a portfolio for the report and check the report month.

    Snapshots are read from the data when it has a ``snapshots`` table and derived
    with :func:`recovery.timeline.aging.snapshots` otherwise.

    Parameters
    ----------
    data_path : str or Path
        Portfolio directory (see :func:`recovery.data.io.load_portfolio`).
    month : str or date
        The report month, e.g. ``"2026-10"``.
    model_path : str or Path, optional
        Directory of saved scorers.
    config : Config or dict, optional

    Returns
    -------
    ReportData

    Raises
    ------
    DataError
        When the month has no data or lies outside the data.

    Examples
    --------
    >>> from recovery.datasets import sample_path
    >>> data = load_report_data(sample_path(), "2025-12")  # doctest: +SKIP
    >>> data.month, data.previous_month  # doctest: +SKIP
    (Timestamp('2025-12-31 00:00:00'), Timestamp('2025-11-30 00:00:00'))
    """
    from recovery.data.io import load_portfolio

    if isinstance(config, Mapping):
        config = Config.from_dict(dict(config))
    config = config or Config()
    from recovery.engine.partitioning import is_partitioned, open_partitioned
    from recovery.engine.snapshot_parts import snapshot_parts

    data_path = Path(data_path)
    check_month_on_disk(data_path, month)
    if is_partitioned(data_path):  # read one partition at a time, never whole
        source = open_partitioned(data_path)
    else:
        source = load_portfolio(data_path, config=config)
    if isinstance(source, Portfolio):
        from_events = source.snapshots is None
    else:
        from_events = "snapshots" not in source.tables
    # the snapshots of each part of the book, on disk until the process ends
    stack = contextlib.ExitStack()
    parts = stack.enter_context(snapshot_parts(source, config, episodes=from_events))
    atexit.register(stack.close)
    portfolio, snapshots = parts.book, parts.snapshots
    data_end = portfolio.data_end
    months = report_months(snapshots, data_end)
    target = check_report_month(month, months, data_end)
    extras: dict[str, Any] = {"accounts_in_book": parts.accounts}
    if not isinstance(source, Portfolio):  # a dataset: only the costs' columns of actions
        extras["partitioned"] = portfolio.meta["read_in_parts"] = True
        extras["cost_actions"], portfolio.actions = portfolio.actions, None
    if parts.episodes is not None:
        extras["episodes"] = parts.episodes
    return ReportData(
        portfolio=portfolio,
        snapshots=snapshots,
        month=target,
        months=months,
        data_end=pd.Timestamp(data_end).normalize(),
        config=config,
        model_path=Path(model_path) if model_path else None,
        extras=extras,
    )


def example_report_data() -> ReportData:
    """A small :class:`ReportData`: two accounts' snapshots, August to October 2026.

    The data of the docstring examples of the report's analyses.

    Returns
    -------
    ReportData
        Snapshots only (no event tables), report month October 2026.

    Examples
    --------
    >>> data = example_report_data()
    >>> data.month, data.previous_month, len(data.snapshots)
    (Timestamp('2026-10-31 00:00:00'), Timestamp('2026-09-30 00:00:00'), 6)
    """
    from recovery.data.portfolio import Portfolio

    s = pd.DataFrame(
        {
            "account_id": ["A", "B"] * 3,
            "month_end": pd.to_datetime(
                ["2026-08-31"] * 2 + ["2026-09-30"] * 2 + ["2026-10-31"] * 2
            ),
            "dpd": [0, 10, 0, 40, 0, 0],
            "bucket": ["M0", "M1", "M0", "M2", "M0", "M0"],
            "balance": [900.0, 500.0, 850.0, 500.0, 800.0, 450.0],
            "amount_overdue": [0.0, 50.0, 0.0, 100.0, 0.0, 0.0],
            "paid_in_month": [50.0, 0.0, 50.0, 0.0, 50.0, 150.0],
            "status": ["open"] * 6,
        }
    )
    end = pd.Timestamp("2026-10-31")
    return ReportData(
        Portfolio(snapshots=s), s, end, pd.DatetimeIndex(s["month_end"].unique()), end, Config()
    )
