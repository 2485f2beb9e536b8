"""The date window: which rows of a portfolio a ``(first_day, last_day)`` window keeps.

A window selects loans by origination date (a range of vintages): ``accounts`` keeps
the loans whose origination date lies in it and every other account table (schedule,
payments, actions, assignments, events, snapshots) keeps all rows of those loans — the
book stays consistent (no payment of an unknown loan, full payment history for aging).
A portfolio without an ``accounts`` table (a monthly performance table only) keeps the
``month_end`` rows in the window. A mapping's ``date_column`` on a table filters that
table by that column instead. Both ends are whole days and inclusive: a timestamp on
the last day counts (``start <= column < last_day + 1 day``).

:func:`window_rules` states that rule table by table, in the lender's column names;
:mod:`recovery.data.sources` pushes it into the SQL that reads a database and
:func:`window_frames` applies it in pandas to tables read from files
(:func:`recovery.data.io.read_portfolio`), so that both give the same book.

Examples
--------
>>> rules = window_rules(["accounts", "payments"])
>>> rules["accounts"].column, rules["payments"].of_loans
('origination_date', True)
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass
from typing import Any

import pandas as pd

from recovery.data.dates import parse_dates
from recovery.data.mapping import DateWindow, Mapping
from recovery.data.performance import read_months
from recovery.data.portfolio import Portfolio
from recovery.errors import DataError

__all__ = [
    "Window",
    "VINTAGE_COLUMN",
    "WindowRule",
    "parse_window",
    "lender_column",
    "window_rules",
    "window_columns",
    "window_frames",
    "window_portfolio",
]

VINTAGE_COLUMN = ("accounts", "origination_date")
"""The table and column a window selects loans by when no mapping says otherwise."""

_MONTH_COLUMN = "month_end"
_LOAN_TABLES = ("schedule", "payments", "actions", "assignments", "events", "snapshots")

Window = tuple[pd.Timestamp | None, pd.Timestamp | None]


def parse_window(window: Any) -> Window | None:
    """Read a date window: ``"START:END"``, ``(start, end)``, ``{"start":, "end":}``.

    Either end may be left empty (``"2020-01-01:"``) for an open window. Returns
    ``(first_day, last_day)`` as day-precision timestamps, or ``None``.

    Examples
    --------
    >>> parse_window("2019-01-01:2024-12-31")
    (Timestamp('2019-01-01 00:00:00'), Timestamp('2024-12-31 00:00:00'))
    >>> parse_window(("2020-06-01", None))
    (Timestamp('2020-06-01 00:00:00'), None)
    """
    if window is None:
        return None
    if isinstance(window, str):
        if ":" not in window:
            raise DataError(
                f"date window {window!r}: write it as START:END, e.g. 2019-01-01:2024-12-31"
            )
        start, end = window.split(":", 1)
    elif isinstance(window, MappingABC):
        unknown = set(window) - {"start", "end"}
        if unknown:
            raise DataError(f"date window: unknown key(s) {sorted(unknown)}; use start and end")
        start, end = window.get("start"), window.get("end")
    elif hasattr(window, "start") and hasattr(window, "end"):
        start, end = window.start, window.end
    else:
        try:
            start, end = window
        except (TypeError, ValueError):
            raise DataError(f"date window {window!r}: give (start, end) or 'START:END'") from None

    def day(value: Any, which: str) -> pd.Timestamp | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            stamp = pd.Timestamp(value.strip() if isinstance(value, str) else value)
        except (ValueError, TypeError):
            raise DataError(f"date window: {which} {value!r} is not a date (YYYY-MM-DD)") from None
        if stamp is pd.NaT:
            return None
        return stamp.tz_localize(None).normalize() if stamp.tz else stamp.normalize()

    first, last = day(start, "start"), day(end, "end")
    if first is None and last is None:
        return None
    if first is not None and last is not None and last < first:
        raise DataError(f"date window: end {last:%Y-%m-%d} is before start {first:%Y-%m-%d}")
    return first, last


def lender_column(mapping: Mapping | None, table: str, contract_column: str) -> str:
    """The lender's name of a contract column of ``table`` (itself when not renamed).

    Parameters
    ----------
    mapping : Mapping, optional
        The lender's names; ``None``: the contract's.
    table : str
        Table name in the mapping (a contract table or ``performance``).
    contract_column : str
        Contract column name.

    Returns
    -------
    str

    Examples
    --------
    >>> m = Mapping.from_dict({"tables": {"accounts": {"columns": {"loan_no": "account_id"}}}})
    >>> lender_column(m, "accounts", "account_id"), lender_column(None, "accounts", "account_id")
    ('loan_no', 'account_id')
    """
    entry = mapping.tables.get(table) if mapping is not None else None
    return entry.lender_column(contract_column) if entry is not None else contract_column


def _date_column(mapping: Mapping | None, table: str) -> str | None:
    entry = mapping.tables.get(table) if mapping is not None else None
    return entry.date_column if entry is not None else None


@dataclass(frozen=True)
class WindowRule:
    """How a window selects the rows of one table.

    Attributes
    ----------
    column : str
        The table's column the rule reads (the lender's name).
    what : str
        What that column is, for error messages: ``date``, ``origination date``,
        ``month`` or ``account id``.
    of_loans : bool
        False: keep the rows whose ``column`` (a date) lies in the window. True: keep
        the rows whose ``column`` names a loan that ``accounts`` keeps (by its own rule).
    """

    column: str
    what: str
    of_loans: bool = False


def window_rules(names: Iterable[str], mapping: Mapping | None = None) -> dict[str, WindowRule]:
    """The window's rule for each table of a portfolio (see the module notes).

    Parameters
    ----------
    names : iterable of str
        The tables present (mapping table names: contract tables or ``performance``).
    mapping : Mapping, optional
        The lender's column names and ``date_column`` per table.

    Returns
    -------
    dict
        ``{table: WindowRule}``, date rules first; a table without a rule (``agents``)
        is kept whole.

    Examples
    --------
    >>> rules = window_rules(["snapshots", "agents"])
    >>> rules
    {'snapshots': WindowRule(column='month_end', what='month', of_loans=False)}
    """
    names = list(names)
    rules: dict[str, WindowRule] = {}
    for name in names:
        column = _date_column(mapping, name)
        if column:
            rules[name] = WindowRule(column, "date")
    if "accounts" in names:
        if "accounts" not in rules:
            vintage = lender_column(mapping, "accounts", VINTAGE_COLUMN[1])
            rules["accounts"] = WindowRule(vintage, "origination date")
        for name in (*_LOAN_TABLES, "performance"):
            if name in names and name not in rules:
                own = lender_column(mapping, name, "account_id")
                rules[name] = WindowRule(own, "account id", of_loans=True)
    else:
        for name in ("snapshots", "performance"):
            if name in names and name not in rules:
                rules[name] = WindowRule(lender_column(mapping, name, _MONTH_COLUMN), "month")
    return rules


def window_columns(mapping: Mapping | None, table: str) -> list[str]:
    """The lender columns of ``table`` a window may read: its own date, loan and month columns.

    Examples
    --------
    >>> window_columns(None, "accounts")
    ['account_id', 'origination_date']
    """
    own = _date_column(mapping, table)
    wanted = [lender_column(mapping, table, "account_id")]
    if table == "accounts":
        wanted.append(lender_column(mapping, table, VINTAGE_COLUMN[1]))
    if table in ("snapshots", "performance"):
        wanted.append(lender_column(mapping, table, _MONTH_COLUMN))
    return [own, *wanted] if own else wanted


def window_frames(
    frames: dict[str, pd.DataFrame], window: Any, mapping: Mapping | None = None
) -> dict[str, pd.DataFrame]:
    """Keep the rows of lender tables in a date window, as the SQL push-down does.

    The rule of :func:`window_rules` (module notes), applied in pandas to tables already
    read from files, before the mapping renames them (``frames`` is keyed by mapping
    table name, columns are the lender's).

    Examples
    --------
    >>> import pandas as pd
    >>> frames = {
    ...     "accounts": pd.DataFrame({"account_id": ["A1", "A2"],
    ...         "origination_date": ["2023-05-02", "2024-03-01"]}),
    ...     "payments": pd.DataFrame({"account_id": ["A1", "A2", "A2"],
    ...         "payment_date": ["2024-04-01", "2024-04-01", "2025-01-05"],
    ...         "amount": [10.0, 20.0, 30.0]})}
    >>> recent = window_frames(frames, "2024-01-01:2024-12-31")
    >>> recent["accounts"]["account_id"].tolist(), recent["payments"]["amount"].tolist()
    (['A2'], [20.0, 30.0])
    """
    bounds = parse_window(window)
    if bounds is None:
        return dict(frames)
    dates = DateWindow(*bounds)
    rules = window_rules(frames, mapping)
    out = dict(frames)
    for name, rule in rules.items():
        if rule.of_loans:
            continue
        frame = frames[name]
        if rule.column not in frame.columns:
            raise DataError(
                f"table '{name}': date window column {rule.column!r} is not in the table "
                f"(columns: {', '.join(map(str, frame.columns))})"
            )
        parsed, unreadable = _window_dates(frame, name, rule, mapping)
        # an unreadable date is kept, for the contract checks to name it
        out[name] = frame[(dates.contains(parsed) | unreadable).to_numpy()]
    if "accounts" in frames:
        loans = out["accounts"][lender_column(mapping, "accounts", "account_id")]
        for name, rule in rules.items():
            if rule.of_loans:
                out[name] = frames[name][frames[name][rule.column].isin(loans)]
    return {name: frame.reset_index(drop=True) for name, frame in out.items()}


def _window_dates(
    frame: pd.DataFrame, name: str, rule: WindowRule, mapping: Mapping | None
) -> tuple[pd.Series, pd.Series]:
    """The dates a window compares: read as the mapping declares, else ISO (months:
    also ``YYYY-MM`` / ``YYYYMM``); never guessed."""
    values = frame[rule.column]
    tm = mapping.tables.get(name) if mapping is not None else None
    contract = tm.columns.get(rule.column, rule.column) if tm is not None else rule.column
    declared = tm is not None and (
        contract in tm.date_format or (contract == _MONTH_COLUMN and tm.month_anchor)
    )
    if declared:
        return mapping.dates(name, contract, values)
    if rule.what == "month":
        return read_months(values)
    return parse_dates(values)


def window_portfolio(portfolio: Portfolio, window: Any) -> Portfolio:
    """A portfolio (contract names) with only the rows in a date window.

    :func:`window_frames` on the portfolio's tables; ``meta`` is kept.

    Examples
    --------
    >>> import pandas as pd
    >>> book = Portfolio(snapshots=pd.DataFrame({"account_id": ["A1", "A1"],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29"])}))
    >>> window_portfolio(book, "2024-02-01:").snapshots["month_end"].dt.month.tolist()
    [2]
    """
    return Portfolio(**window_frames(portfolio.tables(), window), meta=dict(portfolio.meta))
