"""The monthly recovery report: a parameterized notebook rendered to one HTML file.

A collection manager reads the report without Python. It is a notebook template shipped
inside the package (``recovery/templates/monthly_report.ipynb``) whose code calls the
library's public functions and plot functions; :func:`render_monthly_report` injects the
parameters (``report_month``, ``data_path``, ``model_path``, ``config``), executes it with
nbclient, converts it with nbconvert (code hidden) and wraps it in a standalone page with
a table of contents, its images embedded as base64 — one file, no external resources.

This module also holds what the report is made of, so that it is tested like any other
code and the notebook stays thin:

* number formatting for people (:func:`format_money`, :func:`format_pct`,
  :func:`format_pp`, :func:`format_count`, :func:`format_days`, :func:`format_month`,
  :func:`format_table`, :func:`table_html`);
* the headline KPI table with the change against the previous month and the same month
  a year earlier (:func:`kpi_change_table`, :func:`format_kpi_change_table`) and
  plain-language notes generated from it (:func:`change_notes`);
* the report month (:func:`parse_month`, :func:`report_months`,
  :func:`check_report_month`) — a month with no data, or outside the data, is refused
  with a clear :class:`~recovery.errors.DataError` before anything is written;
* report sections (:func:`section`): a section whose library piece is not part of this
  build says so plainly in the rendered report instead of showing made-up numbers.

Examples
--------
>>> format_money(1234567.891), format_pct(0.1234), format_pp(0.0042)
('1,234,568', '12.3%', '+0.4 pp')
>>> parse_month("2026-10")
Timestamp('2026-10-31 00:00:00')
"""

from __future__ import annotations

import contextlib
import copy
import html
import io
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.errors import DataError, RecoveryError

__all__ = [
    "MISSING",
    "REPORT_STYLE",
    "TEMPLATE_NAME",
    "KpiSpec",
    "HEADLINE_KPIS",
    "ReportData",
    "SectionUnavailable",
    "format_money",
    "format_pct",
    "format_pp",
    "format_count",
    "format_days",
    "format_month",
    "format_number",
    "format_table",
    "table_html",
    "note_html",
    "parse_month",
    "report_months",
    "check_report_month",
    "kpi_change_table",
    "format_kpi_change_table",
    "change_notes",
    "notes_html",
    "kpi_cards_html",
    "CARD_KPIS",
    "book_by_state",
    "require_table",
    "forecast_summary",
    "erc_notes",
    "agent_effectiveness",
    "agent_table",
    "compliance_summary_html",
    "about_html",
    "model_directories",
    "matured_month",
    "model_health",
    "model_health_notes",
    "format_model_health",
    "collection_cycle_by_month",
    "report_kpis",
    "segment_movements",
    "segment_notes",
    "measure_label",
    "recovery_by_age_table",
    "age_split_table",
    "roll_rate_notes",
    "load_report_data",
    "section",
    "show_figure",
    "template_path",
    "inject_parameters",
    "render_notebook",
    "render_monthly_report",
]

#: What a missing number reads as in a table.
MISSING = "–"

#: Matplotlib settings of the report's charts: large enough type to read on a laptop.
REPORT_STYLE: dict[str, Any] = {
    "figure.figsize": (9.0, 4.2),
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "font.size": 11,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 10,
    "legend.frameon": False,
}

TEMPLATE_NAME = "monthly_report.ipynb"


# ----------------------------------------------------------------------------- formatting


def _missing(x: Any) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return bool(np.isnan(x))
    except (TypeError, ValueError):
        return False


def format_number(x: Any, decimals: int = 0, sign: bool = False) -> str:
    """A number with thousands separators, e.g. ``1,234.5``; missing reads ``–``.

    Parameters
    ----------
    x : float
    decimals : int
        Digits after the decimal point.
    sign : bool
        Show ``+`` for positive numbers (for changes).

    Examples
    --------
    >>> format_number(1234.5, 1), format_number(-0.04, 1), format_number(3, sign=True)
    ('1,234.5', '0.0', '+3')
    >>> format_number(float("nan"))
    '–'
    """
    if _missing(x):
        return MISSING
    value = round(float(x), decimals)
    if value == 0:
        value = 0.0  # no "-0"
    text = f"{value:{'+' if sign else ''},.{decimals}f}"
    return "0" + text[2:] if text.startswith("+0") and value == 0 else text


def format_money(x: Any, decimals: int = 0, currency: str = "", compact: bool = False) -> str:
    """An amount of money for people: ``1,234,568`` (or ``1.23m`` when ``compact``).

    Parameters
    ----------
    x : float
        Amount (currency units).
    decimals : int
        Digits after the decimal point (whole units by default).
    currency : str
        Prefix such as ``"¥"`` or ``"CNY "``; empty by default (one currency a book).
    compact : bool
        Abbreviate thousands (``k``), millions (``m``) and billions (``bn``) with
        three significant digits, for chart labels and headlines.

    Examples
    --------
    >>> format_money(1234567.891), format_money(-2500, currency="¥")
    ('1,234,568', '-¥2,500')
    >>> format_money(1234567, compact=True), format_money(980, compact=True)
    ('1.23m', '980')
    >>> format_money(None)
    '–'
    """
    if _missing(x):
        return MISSING
    value = float(x)
    sign = "-" if value < 0 and round(abs(value), decimals) > 0 else ""
    value = abs(value)
    if compact:
        for size, unit in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
            if value >= size:
                scaled = value / size
                digits = max(0, 2 - int(math.floor(math.log10(scaled))))
                return f"{sign}{currency}{scaled:.{digits}f}{unit}"
        return f"{sign}{currency}{value:,.0f}"
    return f"{sign}{currency}{value:,.{decimals}f}"


def format_pct(x: Any, decimals: int = 1, sign: bool = False) -> str:
    """A fraction as a percentage: ``0.1234`` → ``12.3%``.

    Parameters
    ----------
    x : float
        A fraction (0.25 is 25%).
    decimals : int
    sign : bool
        Show ``+`` for positive values (relative changes).

    Examples
    --------
    >>> format_pct(0.1234), format_pct(1), format_pct(-0.051, sign=True), format_pct(None)
    ('12.3%', '100.0%', '-5.1%', '–')
    """
    if _missing(x):
        return MISSING
    return format_number(100 * float(x), decimals, sign=sign) + "%"


def format_pp(x: Any, decimals: int = 1) -> str:
    """A difference of two rates in percentage points, signed: ``0.0042`` → ``+0.4 pp``.

    Examples
    --------
    >>> format_pp(0.0042), format_pp(-0.012), format_pp(0.0)
    ('+0.4 pp', '-1.2 pp', '0.0 pp')
    """
    if _missing(x):
        return MISSING
    return format_number(100 * float(x), decimals, sign=True) + " pp"


def format_count(x: Any) -> str:
    """A count with thousands separators: ``12345`` → ``12,345``.

    Examples
    --------
    >>> format_count(12345), format_count(np.nan)
    ('12,345', '–')
    """
    return format_number(x, 0)


def format_days(x: Any, decimals: int = 0) -> str:
    """A duration in days: ``45.2`` → ``45 days``.

    Examples
    --------
    >>> format_days(45.2), format_days(1), format_days(None)
    ('45 days', '1 day', '–')
    """
    if _missing(x):
        return MISSING
    text = format_number(x, decimals)
    return f"{text} day" if text == "1" else f"{text} days"


def format_month(month: Any) -> str:
    """A month for people: ``2026-10-31`` → ``October 2026``.

    Examples
    --------
    >>> format_month("2026-10-31")
    'October 2026'
    """
    if _missing(month):
        return MISSING
    return pd.Timestamp(month).strftime("%B %Y")


_FORMATTERS: dict[str, Callable[[Any], str]] = {
    "money": format_money,
    "money_compact": lambda x: format_money(x, compact=True),
    "pct": format_pct,
    "rate": format_pct,
    "pp": format_pp,
    "count": format_count,
    "days": format_days,
    "month": format_month,
    "number": lambda x: format_number(x, 2),
    "ratio": lambda x: format_number(x, 2),
    "text": lambda x: MISSING if _missing(x) else str(x),
}


def format_table(
    df: pd.DataFrame, formats: Mapping[str, str | Callable[[Any], str]] | None = None
) -> pd.DataFrame:
    """Format a table's numbers for people, column by column.

    Parameters
    ----------
    df : DataFrame
    formats : mapping, optional
        Column → format name (``money``, ``money_compact``, ``pct``/``rate``, ``pp``,
        ``count``, ``days``, ``month``, ``number``, ``ratio``, ``text``) or a function of
        one value returning text. Columns without a format: integers as counts, floats
        with two decimals, dates as ISO dates, the rest as text.

    Returns
    -------
    DataFrame
        Same shape and index, every cell a string.

    Examples
    --------
    >>> t = pd.DataFrame({"bucket": ["M1", "M2"], "accounts": [1200, 35],
    ...                   "balance": [1.5e6, 2e4], "share": [0.9, 0.1]})
    >>> format_table(t, {"balance": "money", "share": "pct"}).values.tolist()
    [['M1', '1,200', '1,500,000', '90.0%'], ['M2', '35', '20,000', '10.0%']]
    """
    formats = dict(formats or {})
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        fmt = formats.get(col)
        series = df[col]
        if fmt is None:
            if pd.api.types.is_bool_dtype(series):
                fmt = "text"
            elif pd.api.types.is_integer_dtype(series):
                fmt = "count"
            elif pd.api.types.is_float_dtype(series):
                fmt = "number"
            elif pd.api.types.is_datetime64_any_dtype(series):
                fmt = lambda x: MISSING if _missing(x) else pd.Timestamp(x).strftime("%Y-%m-%d")  # noqa: E731
            else:
                fmt = "text"
        func = _FORMATTERS[fmt] if isinstance(fmt, str) else fmt
        out[col] = [func(v) for v in series.tolist()]
    return out


_NUMERIC_TEXT = re.compile(r"^[+\-−]?[¥$€£]?[\d,.]+(%| pp| days?|k|m|bn)?$")


def table_html(
    df: pd.DataFrame,
    formats: Mapping[str, str | Callable[[Any], str]] | None = None,
    caption: str | None = None,
    index: bool = False,
    table_id: str | None = None,
    highlight: pd.DataFrame | None = None,
) -> str:
    """A formatted table as HTML for the report (numbers right-aligned).

    Parameters
    ----------
    df : DataFrame
    formats : mapping, optional
        See :func:`format_table`.
    caption : str, optional
        Shown above the table.
    index : bool
        Include the index as the first column(s).
    table_id : str, optional
        ``id`` attribute of the table.
    highlight : DataFrame of str, optional
        Same shape as ``df``: a CSS class per cell (``"good"``, ``"bad"`` or ``""``).

    Returns
    -------
    str

    Examples
    --------
    >>> t = pd.DataFrame({"bucket": ["M1"], "balance": [1500.0]})
    >>> print(table_html(t, {"balance": "money"}))  # doctest: +NORMALIZE_WHITESPACE
    <table class="report-table"><thead><tr><th>bucket</th><th class="num">balance</th></tr>
    </thead><tbody><tr><td>M1</td><td class="num">1,500</td></tr></tbody></table>
    """
    shown = df.reset_index() if index else df
    text = format_table(shown, formats)
    numeric = {
        col: pd.api.types.is_numeric_dtype(shown[col])
        and not pd.api.types.is_bool_dtype(shown[col])
        or text[col].map(lambda s: bool(_NUMERIC_TEXT.match(s)) or s == MISSING).all()
        for col in shown.columns
    }
    marks = None
    if highlight is not None:
        marks = highlight.reset_index(drop=True).reindex(columns=shown.columns).fillna("")
    attrs = ' class="report-table"' + (f' id="{html.escape(table_id)}"' if table_id else "")
    parts = [f"<table{attrs}>"]
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    head = "".join(
        f'<th class="num">{html.escape(str(c))}</th>'
        if numeric[c]
        else f"<th>{html.escape(str(c))}</th>"
        for c in shown.columns
    )
    parts.append(f"<thead><tr>{head}</tr>\n</thead><tbody>")
    for i, row in enumerate(text.itertuples(index=False)):
        cells = []
        for col, value in zip(shown.columns, row, strict=True):
            classes = ["num"] if numeric[col] else []
            if marks is not None and marks.iloc[i][col]:
                classes.append(str(marks.iloc[i][col]))
            cls = f' class="{" ".join(classes)}"' if classes else ""
            cells.append(f"<td{cls}>{html.escape(value)}</td>")
        parts.append(f"<tr>{''.join(cells)}</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def note_html(message: str, kind: str = "note", section_id: str | None = None) -> str:
    """A boxed message in the report: ``note``, ``warning`` or ``unavailable``.

    Examples
    --------
    >>> note_html("No agents table in this data.", kind="unavailable", section_id="agents")
    '<div class="report-unavailable" data-section="agents"><p>No agents table in this data.</p></div>'
    """
    data = f' data-section="{html.escape(section_id)}"' if section_id else ""
    return f'<div class="report-{kind}"{data}><p>{html.escape(message)}</p></div>'


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
    if snapshots is None or "month_end" not in snapshots or not len(snapshots):
        return pd.DatetimeIndex([])
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


# ----------------------------------------------------------------------------- KPIs


@dataclass(frozen=True)
class KpiSpec:
    """How a headline KPI is labelled, formatted and judged.

    Attributes
    ----------
    name : str
        Column of the KPI table.
    label : str
        What the manager reads.
    kind : {"rate", "money", "count", "days"}
        Rates change in percentage points; the others by a relative change.
    higher_is_better : bool or None
        Direction of an improvement; None when neither is (e.g. a portfolio size).
    """

    name: str
    label: str
    kind: str = "rate"
    higher_is_better: bool | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("rate", "money", "count", "days"):
            raise ValueError(f"KpiSpec kind must be rate, money, count or days, not {self.kind!r}")


#: The headline KPIs of seed 004 (overdue rate, recovery rate, cure rate, collected,
#: average collection cycle, cost), by the column names of
#: :func:`recovery.analytics.kpis.monthly_kpis` (and :func:`collection_cycle_by_month`).
HEADLINE_KPIS: tuple[KpiSpec, ...] = (
    KpiSpec(
        "overdue_rate_30plus_balance", "Overdue rate 30+ DPD (share of open balance)", "rate", False
    ),
    KpiSpec(
        "overdue_rate_90plus_balance", "Overdue rate 90+ DPD (share of open balance)", "rate", False
    ),
    KpiSpec("overdue_rate_30plus", "Overdue rate 30+ DPD (share of open accounts)", "rate", False),
    KpiSpec(
        "collection_rate", "Collection rate (collected / overdue balance at start)", "rate", True
    ),
    KpiSpec(
        "recovery_rate_in_month", "Recovery rate (recovered / charged-off balance)", "rate", True
    ),
    KpiSpec("cure_rate", "Cure rate (delinquent accounts back to current)", "rate", True),
    KpiSpec("amount_collected", "Amount collected", "money", True),
    KpiSpec("recovered_charged_off", "Recovered on charged-off accounts", "money", True),
    KpiSpec("average_collection_cycle_days", "Average collection cycle", "days", False),
    KpiSpec("collection_cost", "Collection cost", "money", False),
    KpiSpec("cost_per_unit_collected", "Cost per unit collected", "rate", False),
)

_KIND_FORMAT = {"rate": "pct", "money": "money", "count": "count", "days": "days"}


def _as_monthly(kpis: pd.DataFrame) -> pd.DataFrame:
    if "month_end" in kpis.columns:
        kpis = kpis.set_index("month_end")
    out = kpis.copy()
    out.index = pd.DatetimeIndex(pd.to_datetime(out.index)).normalize()
    return out.sort_index()


def _change(kind: str, value: float, base: float) -> float:
    if _missing(value) or _missing(base):
        return np.nan
    if kind == "rate":
        return float(value) - float(base)
    if float(base) == 0:
        return np.nan
    return float(value) / float(base) - 1.0


def kpi_change_table(
    kpis: pd.DataFrame, month: Any, specs: Sequence[KpiSpec] | None = None
) -> pd.DataFrame:
    """Headline KPIs of a month with the change vs the previous month and a year earlier.

    Parameters
    ----------
    kpis : DataFrame
        One row per month end (a ``month_end`` column or a date index), one column per
        KPI.
    month : str or date
        The report month.
    specs : sequence of KpiSpec, optional
        Which KPIs, in which order; default the :data:`HEADLINE_KPIS` present in
        ``kpis``.

    Returns
    -------
    DataFrame
        One row per KPI: ``kpi, label, kind, higher_is_better, value, previous,
        change_previous, last_year, change_last_year``. Changes of rates are
        differences (fraction points: 0.004 is +0.4 pp); changes of amounts, counts
        and days are relative (0.05 is +5%). Missing months give NaN.

    Examples
    --------
    >>> k = pd.DataFrame({"month_end": pd.to_datetime(["2025-10-31", "2026-09-30", "2026-10-31"]),
    ...                   "overdue_rate_30plus_balance": [0.050, 0.040, 0.046],
    ...                   "amount_collected": [80_000.0, 100_000.0, 90_000.0]})
    >>> t = kpi_change_table(k, "2026-10")
    >>> t[["kpi", "value", "change_previous", "change_last_year"]].round(3).values.tolist()
    [['overdue_rate_30plus_balance', 0.046, 0.006, -0.004], ['amount_collected', 90000.0, -0.1, 0.125]]
    """
    monthly = _as_monthly(kpis)
    target = parse_month(month)
    previous = (target - pd.offsets.MonthEnd(1)).normalize()
    last_year = (target - pd.DateOffset(years=1) + pd.offsets.MonthEnd(0)).normalize()
    if specs is None:
        specs = [s for s in HEADLINE_KPIS if s.name in monthly.columns]
    rows = []
    for spec in specs:
        series = monthly[spec.name] if spec.name in monthly.columns else pd.Series(dtype=float)
        value = series.get(target, np.nan)
        prev = series.get(previous, np.nan)
        year = series.get(last_year, np.nan)
        rows.append(
            {
                "kpi": spec.name,
                "label": spec.label,
                "kind": spec.kind,
                "higher_is_better": spec.higher_is_better,
                "value": float(value) if not _missing(value) else np.nan,
                "previous": float(prev) if not _missing(prev) else np.nan,
                "change_previous": _change(spec.kind, value, prev),
                "last_year": float(year) if not _missing(year) else np.nan,
                "change_last_year": _change(spec.kind, value, year),
            }
        )
    table = pd.DataFrame(rows)
    table.attrs.update(month=target, previous_month=previous, last_year_month=last_year)
    return table


def _format_change(kind: str, change: float) -> str:
    return format_pp(change) if kind == "rate" else format_pct(change, sign=True)


def _judgement(higher_is_better: bool | None, change: float) -> str:
    if higher_is_better is None or _missing(change) or change == 0:
        return ""
    return "good" if (change > 0) == bool(higher_is_better) else "bad"


def format_kpi_change_table(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The KPI change table as text for people, with a good/bad mark per change.

    Parameters
    ----------
    table : DataFrame
        From :func:`kpi_change_table`.

    Returns
    -------
    text : DataFrame
        Columns ``KPI``, the month, the previous month, ``Change``, the same month a
        year earlier, ``Change vs last year`` — every cell a string.
    marks : DataFrame
        Same shape: ``"good"``, ``"bad"`` or ``""`` per cell (for colouring).

    Examples
    --------
    >>> k = pd.DataFrame({"month_end": pd.to_datetime(["2026-09-30", "2026-10-31"]),
    ...                   "overdue_rate_30plus_balance": [0.040, 0.046]})
    >>> text, marks = format_kpi_change_table(kpi_change_table(k, "2026-10"))
    >>> text.iloc[0].tolist()
    ['Overdue rate 30+ DPD (share of open balance)', '4.6%', '4.0%', '+0.6 pp', '–', '–']
    >>> marks.iloc[0, 3]
    'bad'
    """
    month = table.attrs.get("month")
    prev = table.attrs.get("previous_month")
    year = table.attrs.get("last_year_month")
    col_month = format_month(month) if month is not None else "This month"
    col_prev = format_month(prev) if prev is not None else "Previous month"
    col_year = format_month(year) if year is not None else "A year earlier"
    rows, marks = [], []
    for r in table.itertuples(index=False):
        fmt = _FORMATTERS[_KIND_FORMAT[r.kind]]
        rows.append(
            [
                r.label,
                fmt(r.value),
                fmt(r.previous),
                _format_change(r.kind, r.change_previous),
                fmt(r.last_year),
                _format_change(r.kind, r.change_last_year),
            ]
        )
        marks.append(
            [
                "",
                "",
                "",
                _judgement(r.higher_is_better, r.change_previous),
                "",
                _judgement(r.higher_is_better, r.change_last_year),
            ]
        )
    columns = ["KPI", col_month, col_prev, "Change", col_year, "Change vs last year"]
    return pd.DataFrame(rows, columns=columns), pd.DataFrame(marks, columns=columns)


def change_notes(
    table: pd.DataFrame,
    rate_threshold: float = 0.005,
    relative_threshold: float = 0.05,
) -> list[str]:
    """Plain-language sentences on what changed, generated from a KPI change table.

    A change counts as material when a rate moved by at least ``rate_threshold``
    (fraction points) or another KPI by at least ``relative_threshold`` (relative).
    Material changes come first, largest first; the rest are listed as unchanged.

    Parameters
    ----------
    table : DataFrame
        From :func:`kpi_change_table`.
    rate_threshold : float
        Materiality of a rate change (0.005 = 0.5 percentage points).
    relative_threshold : float
        Materiality of a relative change of an amount, count or duration (0.05 = 5%).

    Returns
    -------
    list of str

    Examples
    --------
    >>> k = pd.DataFrame({"month_end": pd.to_datetime(["2025-10-31", "2026-09-30", "2026-10-31"]),
    ...                   "overdue_rate_30plus_balance": [0.050, 0.040, 0.046],
    ...                   "cure_rate": [0.30, 0.301, 0.302]})
    >>> for line in change_notes(kpi_change_table(k, "2026-10")):
    ...     print(line)
    Overdue rate 30+ DPD (share of open balance) rose from 4.0% in September 2026 to 4.6% in October 2026 (+0.6 pp), a deterioration; a year earlier it was 5.0%.
    Cure rate (delinquent accounts back to current) was broadly unchanged at 30.2% (30.1% in September 2026).
    """
    month = table.attrs.get("month")
    prev_month = table.attrs.get("previous_month")
    material, steady, missing = [], [], []
    for r in table.itertuples(index=False):
        fmt = _FORMATTERS[_KIND_FORMAT[r.kind]]
        if _missing(r.value):
            missing.append(f"{r.label} is not available for {format_month(month)}.")
            continue
        if _missing(r.previous):
            steady.append(
                (
                    0.0,
                    f"{r.label} was {fmt(r.value)} in {format_month(month)} "
                    f"(no figure for {format_month(prev_month)}).",
                )
            )
            continue
        change = r.change_previous
        threshold = rate_threshold if r.kind == "rate" else relative_threshold
        size = abs(change) / threshold if not _missing(change) else 0.0
        if r.kind == "rate" and not _missing(change) and r.previous > 0:
            # a small rate that moved a lot relative to itself (0.4% → 0.8%) is material
            if (
                abs(change) >= rate_threshold / 5
                and abs(change) / r.previous >= 4 * relative_threshold
            ):
                size = max(size, 1.0)
        year = "" if _missing(r.last_year) else f"; a year earlier it was {fmt(r.last_year)}"
        if size >= 1:
            verb = "rose" if change > 0 else "fell"
            judged = _judgement(r.higher_is_better, change)
            verdict = {"good": ", an improvement", "bad": ", a deterioration"}.get(judged, "")
            material.append(
                (
                    size,
                    f"{r.label} {verb} from {fmt(r.previous)} in {format_month(prev_month)} to "
                    f"{fmt(r.value)} in {format_month(month)} ({_format_change(r.kind, change)})"
                    f"{verdict}{year}.",
                )
            )
        else:
            steady.append(
                (
                    size,
                    f"{r.label} was broadly unchanged at {fmt(r.value)} "
                    f"({fmt(r.previous)} in {format_month(prev_month)}).",
                )
            )
    material.sort(key=lambda t: -t[0])
    return [t[1] for t in material] + [t[1] for t in steady] + missing


_SHORT_LABELS = {
    "overdue_rate_30plus_balance": "Overdue 30+ (balance)",
    "overdue_rate_90plus_balance": "Overdue 90+ (balance)",
    "overdue_rate_30plus": "Overdue 30+ (accounts)",
    "collection_rate": "Collection rate",
    "recovery_rate_in_month": "Recovery rate",
    "cure_rate": "Cure rate",
    "amount_collected": "Collected",
    "recovered_charged_off": "Recovered",
    "average_collection_cycle_days": "Collection cycle",
    "collection_cost": "Collection cost",
    "cost_per_unit_collected": "Cost per unit collected",
}

CARD_KPIS = (
    "overdue_rate_30plus_balance",
    "overdue_rate_90plus_balance",
    "collection_rate",
    "cure_rate",
    "amount_collected",
    "average_collection_cycle_days",
)


def kpi_cards_html(table: pd.DataFrame, kpis: Sequence[str] = CARD_KPIS) -> str:
    """Headline numbers as cards: value, change vs the previous month, coloured by direction.

    Parameters
    ----------
    table : DataFrame
        From :func:`kpi_change_table`.
    kpis : sequence of str
        Which KPIs (those absent from ``table`` are skipped).

    Examples
    --------
    >>> k = pd.DataFrame({"month_end": pd.to_datetime(["2026-09-30", "2026-10-31"]),
    ...                   "cure_rate": [0.30, 0.32]})
    >>> html_text = kpi_cards_html(kpi_change_table(k, "2026-10"))
    >>> "32.0%" in html_text and "+2.0 pp" in html_text and 'class="kpi-change good"' in html_text
    True
    """
    prev = table.attrs.get("previous_month")
    since = f" vs {pd.Timestamp(prev):%b %Y}" if prev is not None else ""
    cards = []
    rows = table.set_index("kpi")
    for name in kpis:
        if name not in rows.index:
            continue
        r = rows.loc[name]
        fmt = _FORMATTERS[_KIND_FORMAT[r["kind"]]]
        change = r["change_previous"]
        judged = _judgement(r["higher_is_better"], change)
        arrow = "" if _missing(change) or change == 0 else ("▲ " if change > 0 else "▼ ")
        text = _format_change(r["kind"], change)
        cards.append(
            '<div class="kpi-card">'
            f'<div class="kpi-label">{html.escape(_SHORT_LABELS.get(name, r["label"]))}</div>'
            f'<div class="kpi-value">{html.escape(fmt(r["value"]))}</div>'
            f'<div class="kpi-change {judged}">{arrow}{html.escape(text)}{html.escape(since)}</div>'
            "</div>"
        )
    return f'<div class="kpi-cards">{"".join(cards)}</div>'


def notes_html(notes: Sequence[str]) -> str:
    """A bulleted list of notes as HTML.

    Examples
    --------
    >>> notes_html(["Cure rate rose."])
    '<ul class="report-notes"><li>Cure rate rose.</li></ul>'
    """
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return f'<ul class="report-notes">{items}</ul>'


# ----------------------------------------------------------------------------- the book


def book_by_state(
    snapshots: pd.DataFrame, month: Any, config: Config | None = None
) -> pd.DataFrame:
    """Accounts and balance by state (aging bucket, or status) at one month end.

    The state is the bucket for open accounts and the status otherwise (DESIGN.md §3,
    roll rates); exits (paid off, settled, closed) are left out since they hold no
    balance.

    Parameters
    ----------
    snapshots : DataFrame
        The ``snapshots`` table.
    month : str or date
    config : Config, optional
        Bucket order.

    Returns
    -------
    DataFrame
        ``state, accounts, balance, share_of_accounts, share_of_balance`` in bucket
        order, ``charged_off`` last (shares of the open book plus the recovery book).

    Examples
    --------
    >>> s = pd.DataFrame({"account_id": ["A", "B", "C"], "month_end": pd.to_datetime(["2026-10-31"] * 3),
    ...                   "bucket": ["M0", "M2", None], "status": ["open", "open", "charged_off"],
    ...                   "balance": [600.0, 300.0, 100.0]})
    >>> book_by_state(s, "2026-10")[["state", "accounts", "share_of_balance"]].values.tolist()
    [['M0', 1, 0.6], ['M2', 1, 0.3], ['charged_off', 1, 0.1]]
    """
    config = config or Config()
    target = parse_month(month)
    rows = snapshots[pd.to_datetime(snapshots["month_end"]).dt.normalize() == target]
    status = rows["status"].astype(str)
    keep = status.isin(["open", "charged_off"])
    rows = rows[keep]
    state = np.where(status[keep] == "open", rows["bucket"].astype(str), status[keep])
    grouped = (
        pd.DataFrame({"state": state, "balance": rows["balance"].to_numpy(dtype=float)})
        .groupby("state")
        .agg(accounts=("balance", "size"), balance=("balance", "sum"))
    )
    order = config.aging.bucket_labels() + ["charged_off"]
    grouped = grouped.reindex([s for s in order if s in grouped.index])
    out = grouped.reset_index()
    out["accounts"] = out["accounts"].astype(int)
    out["share_of_accounts"] = out["accounts"] / max(out["accounts"].sum(), 1)
    total = out["balance"].sum()
    out["share_of_balance"] = out["balance"] / total if total > 0 else np.nan
    return out


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
            months = pd.to_datetime(self.snapshots["month_end"]).dt.normalize()
            self.extras["history"] = self.snapshots[months <= self.month].reset_index(drop=True)
        return self.extras["history"]

    @property
    def accounts(self) -> pd.DataFrame | None:
        """The ``accounts`` table, if the data has one."""
        return getattr(self.portfolio, "accounts", None)


def _snapshot_months_on_disk(directory: Path) -> pd.DatetimeIndex | None:
    for name in ("snapshots.parquet", "snapshots.csv"):
        file = directory / name
        if file.is_file():
            if file.suffix == ".parquet":
                months = pd.read_parquet(file, columns=["month_end"])["month_end"]
            else:
                months = pd.read_csv(file, usecols=["month_end"])["month_end"]
            return (
                pd.DatetimeIndex(pd.to_datetime(months).dropna().unique()).normalize().sort_values()
            )
    return None


def _data_end_on_disk(directory: Path) -> pd.Timestamp | None:
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
    for name in ("accounts.parquet", "accounts.csv"):
        file = directory / name
        if file.is_file():
            if file.suffix == ".parquet":
                dates = pd.read_parquet(file, columns=["origination_date"])["origination_date"]
            else:
                dates = pd.read_csv(file, usecols=["origination_date"])["origination_date"]
            dates = pd.to_datetime(dates, errors="coerce").dropna()
            if not len(dates) or data_end is None:
                return None
            start = dates.min() + pd.offsets.MonthEnd(1)
            return pd.date_range(start.normalize(), data_end, freq="ME")
    return None


def _check_month_on_disk(data_path: Path, month: Any) -> pd.Timestamp:
    """Check the report month from the files, cheaply, before any work is done."""
    if not data_path.is_dir():
        raise DataError(f"portfolio directory {data_path} does not exist")
    target = parse_month(month)
    data_end = _data_end_on_disk(data_path)
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
    data_path = Path(data_path)
    _check_month_on_disk(data_path, month)
    portfolio = load_portfolio(data_path, config=config)
    snapshots = portfolio.snapshots
    if snapshots is None:
        try:
            from recovery.timeline.aging import snapshots as make_snapshots
        except ImportError as exc:
            raise DataError(
                "the data has no snapshots table and recovery.timeline.aging is not available to derive "
                f"one ({exc})"
            ) from None
        snapshots = make_snapshots(portfolio, config=config)
        portfolio.snapshots = snapshots
    data_end = portfolio.data_end
    months = report_months(snapshots, data_end)
    target = check_report_month(month, months, data_end)
    return ReportData(
        portfolio=portfolio,
        snapshots=snapshots,
        month=target,
        months=months,
        data_end=pd.Timestamp(data_end).normalize(),
        config=config,
        model_path=Path(model_path) if model_path else None,
    )


def _example_data() -> ReportData:
    """Two accounts' snapshots, August to October 2026: the docstring examples' data."""
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


# ----------------------------------------------------------------------------- analyses


def require_table(data: ReportData, name: str, what: str) -> pd.DataFrame:
    """A table of the data, or :class:`SectionUnavailable` naming what needs it.

    Examples
    --------
    >>> data = _example_data()  # two accounts, August to October 2026
    >>> require_table(data, "agents", "the agent table")
    Traceback (most recent call last):
    ...
    recovery.report.SectionUnavailable: the data has no agents table, which the agent table needs
    """
    table = getattr(data.portfolio, name, None)
    if table is None or not len(table):
        raise SectionUnavailable(f"the data has no {name} table, which {what} needs")
    return table


def collection_cycle_by_month(
    episodes: pd.DataFrame, months: Sequence[Any], window_months: int = 12
) -> pd.DataFrame:
    """Average collection cycle per month end, from the episodes started in a window.

    For month end *m*: the delinquency episodes that started in the ``window_months``
    months up to *m*, followed up to *m* (later ends are censored at *m*), through
    :func:`recovery.analytics.collection_cycle.collection_cycle` (Kaplan–Meier type, charge-off a competing
    outcome). So each month's figure uses only what was known at its month end.

    Parameters
    ----------
    episodes : DataFrame
        From :func:`recovery.timeline.aging.episodes`: ``start_date``, ``end_date``,
        ``end_reason``.
    months : sequence of dates
        Month ends.
    window_months : int
        Months of episode starts pooled for each month end.

    Returns
    -------
    DataFrame
        ``month_end, episodes, average_collection_cycle_days,
        median_collection_cycle_days``.

    Examples
    --------
    >>> e = pd.DataFrame({"start_date": pd.to_datetime(["2026-01-05", "2026-03-10", "2026-09-01"]),
    ...                   "end_date": pd.to_datetime(["2026-02-04", "2026-11-20", None]),
    ...                   "end_reason": ["payment_cure", "paid_off", "open"]})
    >>> c = collection_cycle_by_month(e, ["2026-10-31"])  # one cure in 30 days, two censored
    >>> c[["episodes", "average_collection_cycle_days"]].values.tolist()
    [[3.0, 30.0]]
    """
    from recovery.analytics.collection_cycle import collection_cycle

    starts = pd.to_datetime(episodes["start_date"])
    rows = []
    for m in pd.DatetimeIndex(pd.to_datetime(list(months))):
        window = (starts <= m) & (starts > m - pd.DateOffset(months=window_months))
        e = episodes[window].copy()
        if not len(e):
            rows.append({"month_end": m, "episodes": 0})
            continue
        later = pd.to_datetime(e["end_date"]) > m
        e.loc[later, "end_date"] = pd.NaT
        e.loc[later, "end_reason"] = "open"
        cycle = collection_cycle(e, data_end=m)
        rows.append(
            {
                "month_end": m,
                "episodes": int(len(e)),
                "average_collection_cycle_days": float(cycle["mean_cycle_days"].iloc[0]),
                "median_collection_cycle_days": float(cycle["median_cycle_days"].iloc[0]),
            }
        )
    return pd.DataFrame(rows)


def report_kpis(data: ReportData) -> pd.DataFrame:
    """The report's monthly KPIs, one row per month end up to the report month.

    :func:`recovery.analytics.kpis.monthly_kpis` on the snapshots known at the report month
    (with the ``actions`` table for the cost), plus the average collection cycle of
    :func:`collection_cycle_by_month` for the report month, the month before and the
    same month a year earlier when the event tables allow episodes to be derived.

    Returns
    -------
    DataFrame
        ``month_end`` and the KPI columns named in :data:`HEADLINE_KPIS`.

    Examples
    --------
    >>> data = _example_data()  # two accounts, August to October 2026
    >>> report_kpis(data)[["overdue_rate_30plus", "cure_rate"]].values.tolist()
    [[0.0, nan], [0.5, 0.0], [0.0, 1.0]]
    """
    from recovery.analytics.kpis import monthly_kpis

    kpis = monthly_kpis(data.history, config=data.config, actions=data.portfolio.actions)
    if data.portfolio.schedule is not None and data.portfolio.payments is not None:
        try:
            from recovery.timeline.aging import episodes as make_episodes
        except ImportError:
            make_episodes = None
        if make_episodes is not None:
            episodes = make_episodes(data.portfolio, config=data.config)
            wanted = [data.month, data.previous_month, data.month - pd.offsets.MonthEnd(12)]
            cycle = collection_cycle_by_month(episodes, wanted)
            kpis = kpis.merge(cycle.drop(columns=["episodes"]), on="month_end", how="left")
    return kpis


def segment_movements(
    data: ReportData,
    segments: Sequence[str] = ("product", "region"),
    measures: Sequence[str] = (
        "overdue_rate_30plus_balance",
        "overdue_rate_90plus_balance",
        "collection_rate",
        "cure_rate",
    ),
    min_accounts: int = 30,
    top: int = 8,
) -> pd.DataFrame:
    """The largest month-on-month movements of KPIs by segment.

    Parameters
    ----------
    data : ReportData
    segments : sequence of str
        Segment columns (of ``snapshots`` or ``accounts``); absent ones are skipped.
    measures : sequence of str
        Rate columns of :func:`recovery.analytics.kpis.monthly_kpis` to compare.
    min_accounts : int
        A segment's rate is left out when fewer accounts stand behind it in the report
        month (open accounts for overdue rates, delinquent accounts at the start of the
        month for cure and collection rates): such rates move by chance.
    top : int
        Rows returned, largest absolute change first.

    Returns
    -------
    DataFrame
        ``segment_type, segment, measure, accounts, previous, value, change``
        (change in fraction points; ``accounts`` behind the rate this month).

    Raises
    ------
    SectionUnavailable
        When no segment has enough accounts behind its rates.

    Examples
    --------
    >>> data = _example_data()  # two accounts, August to October 2026
    >>> import dataclasses
    >>> north = dataclasses.replace(data, snapshots=data.snapshots.assign(region="north"), extras={})
    >>> moves = segment_movements(north, measures=["cure_rate"], min_accounts=1)
    >>> moves[["segment", "previous", "value", "change"]].values.tolist()
    [['north', 0.0, 1.0, 1.0]]
    """
    from recovery.analytics.kpis import cure_rates, monthly_kpis

    accounts = data.accounts
    rows = []
    for seg in segments:
        in_snapshots = seg in data.history.columns
        if not in_snapshots and (accounts is None or seg not in accounts.columns):
            continue
        source = None if in_snapshots else accounts
        k = monthly_kpis(data.history, config=data.config, segment=seg, accounts=source)
        cures = cure_rates(data.history, config=data.config, segment=seg, accounts=source)
        k = k.merge(
            cures[["month_end", seg, "delinquent_accounts"]], on=["month_end", seg], how="left"
        )
        k["month_end"] = pd.to_datetime(k["month_end"]).dt.normalize()
        now = k[k["month_end"] == data.month].set_index(seg)
        before = k[k["month_end"] == data.previous_month].set_index(seg)
        for measure in measures:
            if measure not in k.columns:
                continue
            # the accounts a rate is a share of: the open book for overdue rates, the
            # delinquent accounts at the start of the month for cure and collection rates
            base = "open_accounts" if measure.startswith("overdue_rate") else "delinquent_accounts"
            for name in now.index:
                if name not in before.index:
                    continue
                n_base = now.loc[name, base] if base in now else np.nan
                if _missing(n_base) or n_base < min_accounts:
                    continue
                value, prev = now.loc[name, measure], before.loc[name, measure]
                if _missing(value) or _missing(prev):
                    continue
                rows.append(
                    {
                        "segment_type": seg,
                        "segment": str(name),
                        "measure": measure,
                        "accounts": int(n_base),
                        "previous": float(prev),
                        "value": float(value),
                        "change": float(value) - float(prev),
                    }
                )
    columns = ["segment_type", "segment", "measure", "accounts", "previous", "value", "change"]
    if not rows:
        raise SectionUnavailable(
            f"no segment (product, region) has {min_accounts} or more accounts behind its rates "
            "in both months"
        )
    out = pd.DataFrame(rows, columns=columns)
    out = out.reindex(out["change"].abs().sort_values(ascending=False, kind="mergesort").index)
    return out.head(top).reset_index(drop=True)


_MEASURE_LABELS = {
    "overdue_rate_30plus_balance": "Overdue rate 30+ (balance)",
    "overdue_rate_90plus_balance": "Overdue rate 90+ (balance)",
    "collection_rate": "Collection rate",
    "cure_rate": "Cure rate",
}


def measure_label(measure: str) -> str:
    """A KPI column name for people.

    Examples
    --------
    >>> measure_label("overdue_rate_30plus_balance"), measure_label("some_rate")
    ('Overdue rate 30+ (balance)', 'Some rate')
    """
    return _MEASURE_LABELS.get(measure, measure.replace("_", " ").capitalize())


def recovery_by_age_table(table: pd.DataFrame) -> pd.DataFrame:
    """Recovery by debt-age band (:func:`recovery.analytics.recovery_curves.recovery_by_age`) for people.

    Examples
    --------
    >>> t = pd.DataFrame({"age_band": ["24-36"], "n_accounts": [119], "n_debts": [1261],
    ...     "recovery_rate": [0.027], "recovery_rate_low": [0.014], "recovery_rate_high": [0.042],
    ...     "payer_rate": [0.214], "payer_rate_low": [0.19], "payer_rate_high": [0.24]})
    >>> recovery_by_age_table(t).iloc[0].tolist()
    ['24-36 months', '119', '1,261', '2.7%', '1.4% to 4.2%', '21.4%', '19.0% to 24.0%']
    """

    def interval(name: str) -> list[str]:
        if f"{name}_low" not in table:
            return [MISSING] * len(table)
        return [
            f"{format_pct(lo)} to {format_pct(hi)}"
            for lo, hi in zip(table[f"{name}_low"], table[f"{name}_high"], strict=True)
        ]

    return pd.DataFrame(
        {
            "Debt age": table["age_band"].astype(str) + " months",
            "Accounts": [format_count(v) for v in table["n_accounts"]],
            "Debt-months observed": [format_count(v) for v in table["n_debts"]],
            "Share of balance recovered": [format_pct(v) for v in table["recovery_rate"]],
            "95% interval": interval("recovery_rate"),
            "Share of debts with a payment": [format_pct(v) for v in table["payer_rate"]],
            "95% interval ": interval("payer_rate"),
        }
    )


def age_split_table(comparisons: pd.DataFrame) -> pd.DataFrame:
    """The 24-month comparison (one row per scope) for people.

    Parameters
    ----------
    comparisons : DataFrame
        Rows of :func:`recovery.analytics.recovery_curves.age_split_comparison` (one per scope,
        stacked).

    Examples
    --------
    >>> c = pd.DataFrame({"scope": ["charged_off"], "split_months": [24], "horizon_months": [12],
    ...     "recovery_rate_younger": [0.059], "recovery_rate_older": [0.010],
    ...     "recovery_rate_difference": [0.049], "recovery_rate_difference_low": [0.024],
    ...     "recovery_rate_difference_high": [0.084], "payer_rate_younger": [0.41],
    ...     "payer_rate_older": [0.10], "n_debts_younger": [2000], "n_debts_older": [2500]})
    >>> age_split_table(c).iloc[0].tolist()
    ['Charged-off debt', '5.9%', '1.0%', '+4.9 pp (+2.4 pp to +8.4 pp)', '41.0%', '10.0%', '2,000 / 2,500']
    """
    scope_names = {"charged_off": "Charged-off debt", "delinquent": "All delinquent debt"}
    rows = []
    for r in comparisons.to_dict("records"):
        split = int(r.get("split_months", 24))
        rows.append(
            {
                "Debt": scope_names.get(r.get("scope"), str(r.get("scope"))),
                f"Recovered, younger than {split} months": format_pct(r["recovery_rate_younger"]),
                f"Recovered, {split} months and older": format_pct(r["recovery_rate_older"]),
                "Difference (95% interval)": f"{format_pp(r['recovery_rate_difference'])} "
                f"({format_pp(r.get('recovery_rate_difference_low'))} to "
                f"{format_pp(r.get('recovery_rate_difference_high'))})",
                "Paying, younger": format_pct(r.get("payer_rate_younger")),
                "Paying, older": format_pct(r.get("payer_rate_older")),
                "Debt-months (younger / older)": f"{format_count(r.get('n_debts_younger'))} / "
                f"{format_count(r.get('n_debts_older'))}",
            }
        )
    return pd.DataFrame(rows)


def segment_notes(movements: pd.DataFrame, threshold: float = 0.01) -> list[str]:
    """Sentences on the segment movements above ``threshold`` (fraction points).

    Examples
    --------
    >>> m = pd.DataFrame({"segment_type": ["product"], "segment": ["small_business"],
    ...     "measure": ["cure_rate"], "accounts": [400], "previous": [0.30],
    ...     "value": [0.25], "change": [-0.05]})
    >>> segment_notes(m)
    ['Cure rate of product small_business fell from 30.0% to 25.0% (-5.0 pp).']
    """
    notes = []
    for r in movements.itertuples(index=False):
        if abs(r.change) < threshold:
            continue
        label = measure_label(r.measure)
        verb = "rose" if r.change > 0 else "fell"
        notes.append(
            f"{label} of {r.segment_type} {r.segment} {verb} from {format_pct(r.previous)} to "
            f"{format_pct(r.value)} ({format_pp(r.change)})."
        )
    return notes


def roll_rate_notes(
    trends: pd.DataFrame,
    month: Any,
    states: Sequence[str] = ("M1", "M2", "M3"),
    rate: str = "roll_forward",
    window: int = 12,
    threshold: float = 0.02,
) -> list[str]:
    """Sentences comparing the latest roll rates with their average over a window.

    Parameters
    ----------
    trends : DataFrame
        From :func:`recovery.analytics.roll_rates.roll_rate_trends` (``month_end`` is the start
        month *m* of the transition *m → m + 1*).
    month : str or date
        The report month: its transition is the one starting the month before.
    states : sequence of str
        From states to comment on.
    rate : str
        The rate column (``roll_forward``, ``cure`` …).
    window : int
        Months of the average (those before the latest transition).
    threshold : float
        Differences below this (fraction points) read as "in line".

    Examples
    --------
    >>> t = pd.DataFrame({"month_end": pd.date_range("2026-01-31", periods=9, freq="ME"),
    ...                   "from_state": "M1", "roll_forward": [0.2] * 8 + [0.26]})
    >>> roll_rate_notes(t, "2026-10", states=["M1"])
    ['Roll forward from M1 was 26.0% in October 2026, above its 8-month average of 20.0% (+6.0 pp).']
    """
    target = parse_month(month)
    start = (target - pd.offsets.MonthEnd(1)).normalize()
    t = trends.assign(month_end=pd.to_datetime(trends["month_end"]).dt.normalize())
    notes = []
    for state in states:
        part = t[(t["from_state"].astype(str) == state) & t[rate].notna()].sort_values("month_end")
        latest = part[part["month_end"] == start]
        past = part[part["month_end"] < start].tail(window)
        if not len(latest) or not len(past):
            continue
        value, mean = float(latest[rate].iloc[0]), float(past[rate].mean())
        diff = value - mean
        name = rate.replace("_", " ").capitalize()
        head = f"{name} from {state} was {format_pct(value)} in {format_month(target)}"
        if abs(diff) < threshold:
            notes.append(
                f"{head}, in line with its {len(past)}-month average of {format_pct(mean)}."
            )
        else:
            side = "above" if diff > 0 else "below"
            notes.append(
                f"{head}, {side} its {len(past)}-month average of {format_pct(mean)} ({format_pp(diff)})."
            )
    return notes


_FORECAST_ROWS = {
    "delinquent_count": ("Delinquent accounts (M1 and worse)", "count"),
    "delinquent_balance": ("Delinquent balance", "money"),
    "gross_charge_off_count": ("Accounts charged off in the month", "count"),
    "gross_charge_off_balance": ("Balance charged off in the month", "money"),
    "recoveries": ("Recoveries on charged-off debt", "money"),
    "net_charge_off_balance": ("Net charge-off (charged off − recovered)", "money"),
}


def forecast_summary(
    data: ReportData, months_ahead: int = 3, lookback_months: int = 12
) -> tuple[pd.DataFrame, Any]:
    """The report month's actuals and the forecast of the next months, side by side.

    A :class:`recovery.analytics.forecast.RollRateForecaster` fitted on the snapshots up to the
    report month (pooled transitions of the last ``lookback_months``), with recoveries
    from a :class:`recovery.analytics.liquidation.ERCForecaster`; actuals from
    :func:`recovery.analytics.forecast.actual_totals`.

    Returns
    -------
    table : DataFrame of str
        One row per measure; columns the report month (actual) and the forecast months.
    erc : ERCForecaster or None
        Fitted on the same snapshots (expected remaining collections per cohort);
        None when there is no charged-off debt yet (recoveries are then 0).

    Examples
    --------
    >>> data = _example_data()  # two accounts, August to October 2026
    >>> table, erc = forecast_summary(data, months_ahead=1)
    >>> table.columns.tolist(), erc is None
    (['Measure', 'October 2026 (actual)', 'November 2026 (forecast)'], True)
    """
    from recovery.analytics.forecast import RollRateForecaster, actual_totals
    from recovery.analytics.liquidation import ERCForecaster

    try:
        erc = ERCForecaster(config=data.config).fit(data.history, data_end=data.month)
    except DataError:  # no charged-off book yet: forecast the delinquent book alone
        erc = None
    forecaster = RollRateForecaster(
        lookback_months=lookback_months, recoveries=erc, config=data.config
    ).fit(data.history, data_end=data.month)
    totals = forecaster.predict_totals(months_ahead).set_index("month_end")
    actual = actual_totals(data.history, data.config)
    actual = actual.assign(month_end=pd.to_datetime(actual["month_end"]).dt.normalize()).set_index(
        "month_end"
    )
    columns = {
        f"{format_month(data.month)} (actual)": actual.loc[data.month]
        if data.month in actual.index
        else None
    }
    for month_end, row in totals.iterrows():
        columns[f"{format_month(month_end)} (forecast)"] = row
    rows = []
    for key, (label, kind) in _FORECAST_ROWS.items():
        fmt = _FORMATTERS[kind]
        line = {"Measure": label}
        for name, values in columns.items():
            value = values.get(key, np.nan) if values is not None else np.nan
            line[name] = fmt(value)
        rows.append(line)
    return pd.DataFrame(rows), erc


def erc_notes(erc: Any, config: Config | None = None) -> list[str]:
    """One sentence on expected remaining collections with its range.

    Parameters
    ----------
    erc : ERCForecaster
        Fitted.
    config : Config, optional
        For the default horizon (``analytics.erc_horizon_months``).

    Examples
    --------
    >>> from recovery.analytics.liquidation import ERCForecaster
    >>> rows = [(f"A{c}", pd.Timestamp("2024-01-31") + pd.offsets.MonthEnd(c + k), 200, 100.0,
    ...          10.0 if k else 0.0, "charged_off") for c in range(6) for k in range(6 - c)]
    >>> snaps = pd.DataFrame(rows, columns=["account_id", "month_end", "dpd", "balance",
    ...                                     "paid_in_month", "status"])
    >>> erc = ERCForecaster(horizon_months=8, min_accounts=1, n_bootstrap=0).fit(snaps)
    >>> print(erc_notes(erc)[0])
    Expected remaining collections on the 6 charge-off cohorts: 330 within 8 months of charge-off, against 450 charged off and not yet collected.
    """
    summary = erc.summary()
    total = summary["erc"].sum()
    book = summary["charged_off_balance"].sum() - summary["collected_to_date"].sum()
    # the range of the total is a quantile of summed replicates, not a sum of quantiles
    bounds = getattr(erc, "total_erc_range_", None)
    horizon = (
        getattr(erc, "horizon_months", None) or (config or Config()).analytics.erc_horizon_months
    )
    when = f" within {horizon} months of charge-off" if horizon else ""
    level = format_pct((config or Config()).analytics.confidence, 0)
    span = (
        f" ({level} range {format_money(bounds[0])} to {format_money(bounds[1])})"
        if bounds is not None
        else ""
    )
    return [
        f"Expected remaining collections on the {format_count(len(summary))} charge-off cohorts: "
        f"{format_money(total)}{span}{when}, against {format_money(book)} charged off and not "
        "yet collected."
    ]


def agent_effectiveness(
    portfolio: Any,
    month: Any = None,
    config: Config | None = None,
    window_months: int = 24,
    min_spells: int = 30,
) -> Any:
    """Case-mix adjusted agent effectiveness over the spells of the last months.

    The spells (:func:`recovery.operations.agents.spell_outcomes`) that started in the
    ``window_months`` months to ``month`` and whose outcome window ended by then; the
    case mix is the point-in-time features of each account on the day before its
    spell started (:func:`recovery.timeline.features.build_features`, agent columns left out),
    turned into an expected outcome out of fold by
    :func:`recovery.operations.agents.expected_outcomes`; the agents' effects are then estimated
    by :class:`recovery.operations.agents.AgentEffectiveness` within team × bucket.

    Parameters
    ----------
    portfolio : Portfolio
        With ``assignments``, ``agents``, ``schedule`` and ``payments``.
    month : str or date, optional
        Last month end considered (default the last complete month of the data).
    config : Config, optional
    window_months : int
        Months of spell starts used.
    min_spells : int
        Agents with fewer spells are shown but not ranked.

    Returns
    -------
    AgentEffectiveness
        Fitted; ``summary`` per agent, ``spells_`` the spells used.

    Examples
    --------
    >>> from recovery.datasets import load_sample
    >>> fit = agent_effectiveness(load_sample(), "2025-12")  # doctest: +SKIP
    >>> agent_table(fit.summary).head(3)  # doctest: +SKIP
    """
    from recovery.operations.agents import (
        AgentEffectiveness,
        expected_outcomes,
        spell_case_mix,
        spell_outcomes,
    )

    config = config or Config()
    for name in ("assignments", "agents", "schedule", "payments"):
        table = getattr(portfolio, name, None)
        if table is None or not len(table):
            raise SectionUnavailable(f"the data has no {name} table, which the agent table needs")
    if month is None:
        end = pd.Timestamp(portfolio.data_end).normalize()
        month = end if end.is_month_end else end - pd.offsets.MonthEnd(1)
    month = parse_month(month)
    spells = spell_outcomes(portfolio, config)
    start = pd.to_datetime(spells["start_date"])
    end = pd.to_datetime(spells["window_end"])
    first = month - pd.DateOffset(months=window_months)
    keep = (start > first) & (end <= month + pd.Timedelta(days=1))
    spells = spells[keep].reset_index(drop=True)
    if len(spells) < min_spells:
        raise SectionUnavailable(
            f"only {len(spells)} assignment spells with a complete outcome window in the "
            f"{window_months} months to {format_month(month)}"
        )
    spells, case_mix = spell_case_mix(portfolio, spells, config)
    spells["expected"] = expected_outcomes(
        spells, case_mix, outcome="paid", random_state=config.analytics.seed
    )
    spells["observed"] = spells["paid"].astype(float)
    return AgentEffectiveness(min_spells=min_spells).fit(spells)


def agent_table(summary: pd.DataFrame, rows: int = 25) -> pd.DataFrame:
    """The agent effectiveness summary as a table for people.

    Parameters
    ----------
    summary : DataFrame
        :attr:`recovery.operations.agents.AgentEffectiveness.summary`.
    rows : int
        At most this many agents, best adjusted rank first.

    Returns
    -------
    DataFrame of str
        Agent, team, spells, naive success rate, expected rate, O/E with its interval,
        the shrunk adjusted effect (percentage points), verdict and both ranks.

    Examples
    --------
    >>> s = pd.DataFrame({"agent_id": ["G1"], "team": ["early"], "spells": [120],
    ...     "observed": [60.0], "expected": [48.0], "o_e_ratio": [1.25], "o_e_low": [1.05],
    ...     "o_e_high": [1.45], "shrunk_effect": [0.08], "verdict": ["better than expected"],
    ...     "naive_rate": [0.5], "rank_naive": [3], "rank_adjusted": [1]})
    >>> agent_table(s).iloc[0].tolist()
    ['G1', 'early', '120', '50.0%', '40.0%', '1.25 (1.05–1.45)', '+8.0 pp', 'better than expected', '3', '1']
    """
    s = summary.copy()
    if "rank_adjusted" in s:
        s = s.sort_values(["rank_adjusted", "agent_id"], na_position="last", kind="mergesort")
    s = s.head(rows)
    expected_rate = s["expected"] / s["spells"]
    out = pd.DataFrame(
        {
            "Agent": s["agent_id"].astype(str),
            "Team": s["team"].astype(str) if "team" in s else MISSING,
            "Spells": [format_count(v) for v in s["spells"]],
            "Success rate (naive)": [format_pct(v) for v in s["naive_rate"]],
            "Expected for the case mix": [format_pct(v) for v in expected_rate],
            "Observed / expected (95% interval)": [
                f"{format_number(r, 2)} ({format_number(lo, 2)}–{format_number(hi, 2)})"
                for r, lo, hi in zip(s["o_e_ratio"], s["o_e_low"], s["o_e_high"], strict=True)
            ],
            "Adjusted effect": [format_pp(v) for v in s["shrunk_effect"]],
            "Verdict": s["verdict"].astype(str),
            "Rank (naive)": [format_count(v) for v in s["rank_naive"]],
            "Rank (adjusted)": [format_count(v) for v in s["rank_adjusted"]],
        }
    )
    return out.reset_index(drop=True)


def compliance_summary_html(flags: pd.DataFrame, actions: pd.DataFrame, month: Any) -> str:
    """The month's compliance flags: a sentence, counts by rule and by agent.

    Parameters
    ----------
    flags : DataFrame
        From :func:`recovery.operations.compliance.flag_actions` (``action_id, agent_id, ts, rule``).
    actions : DataFrame
        The ``actions`` table (for the number of actions checked).
    month : str or date

    Examples
    --------
    >>> acts = pd.DataFrame({"action_id": ["X1", "X2"], "agent_id": ["G1", "G1"],
    ...     "ts": pd.to_datetime(["2026-10-02 22:00", "2026-10-03 10:00"])})
    >>> flags = acts.head(1).assign(rule="outside_hours")
    >>> "1 of 2 actions" in compliance_summary_html(flags, acts, "2026-10")
    True
    """
    target = parse_month(month)
    start = target - pd.offsets.MonthBegin(1)
    end = target + pd.Timedelta(days=1)

    def in_month(ts: pd.Series) -> pd.Series:
        ts = pd.to_datetime(ts)
        return (ts >= start) & (ts < end)

    n_actions = int(in_month(actions["ts"]).sum())
    month_flags = flags[in_month(flags["ts"])] if len(flags) else flags
    flagged = month_flags["action_id"].nunique() if len(month_flags) else 0
    name = format_month(target)
    if not flagged:
        return notes_html(
            [
                f"No action in {name} broke a compliance rule ({format_count(n_actions)} actions checked)."
            ]
        )
    share = flagged / n_actions if n_actions else np.nan
    parts = [
        notes_html(
            [
                f"{format_count(flagged)} of {format_count(n_actions)} actions in {name} "
                f"({format_pct(share, 2)}) broke at least one compliance rule; review them with "
                "the agents concerned."
            ]
        )
    ]
    by_rule = (
        month_flags.groupby("rule")
        .size()
        .rename("Flags")
        .reset_index()
        .rename(columns={"rule": "Rule"})
    )
    by_rule["Rule"] = by_rule["Rule"].astype(str).str.replace("_", " ")
    parts.append(
        table_html(by_rule.sort_values("Flags", ascending=False), table_id="compliance-rules")
    )
    if "agent_id" in month_flags:
        by_agent = (
            month_flags.groupby("agent_id")
            .size()
            .rename("Flags")
            .sort_values(ascending=False, kind="mergesort")
            .head(10)
            .reset_index()
            .rename(columns={"agent_id": "Agent"})
        )
        parts.append(
            table_html(by_agent, caption="Agents with the most flags", table_id="compliance-agents")
        )
    return "".join(parts)


def model_directories(model_path: str | Path) -> list[Path]:
    """Model directories (holding ``card.json``) at ``model_path`` or one level below.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for name in ("p_pay", "p_cure"):
    ...         _ = (Path(tmp) / name).mkdir()
    ...         _ = (Path(tmp) / name / "card.json").write_text("{}")
    ...     [p.name for p in model_directories(tmp)]
    ['p_cure', 'p_pay']
    """
    path = Path(model_path)
    if (path / "card.json").is_file():
        return [path]
    return sorted(p.parent for p in path.glob("*/card.json"))


def matured_month(month: Any, horizon_days: int) -> pd.Timestamp:
    """The latest month end whose outcome window of ``horizon_days`` ends by ``month``.

    Examples
    --------
    >>> matured_month("2026-10", 30), matured_month("2026-10", 60)
    (Timestamp('2026-09-30 00:00:00'), Timestamp('2026-08-31 00:00:00'))
    """
    target = parse_month(month)
    latest = target - pd.Timedelta(days=int(horizon_days))
    return (
        latest - pd.offsets.MonthEnd(0) if latest.is_month_end else latest - pd.offsets.MonthEnd(1)
    ).normalize()


def model_health(data: ReportData, top_features: int = 3) -> pd.DataFrame:
    """Health of the saved scorers at the report month: stability and matured AUC.

    For each model in ``data.model_path``: the population stability index (PSI) of
    its score between the training sample (the reference stored in the model card) and
    the overdue accounts at the report month end, the features that shifted most, and
    the AUC on the latest month whose outcomes are complete by the report month end
    (:func:`matured_month`), next to the out-of-time test AUC recorded at training.

    Parameters
    ----------
    data : ReportData
        With ``model_path`` and event tables (features are rebuilt point in time).
    top_features : int
        Most shifted features named per model.

    Returns
    -------
    DataFrame
        One row per model: ``model, trained_on, in_training_window, test_auc,
        score_psi, psi_status, shifted_features, matured_month, matured_accounts,
        matured_auc``.

    Examples
    --------
    >>> data = load_report_data("recovery_demo/data", "2025-12", "recovery_demo/models")  # doctest: +SKIP
    >>> model_health_notes(model_health(data))  # doctest: +SKIP
    """
    from recovery.models import load_model, read_card
    from recovery.models.evaluation import auc
    from recovery.models.monitoring import psi_status, stability_by_month
    from recovery.models.training import build_model_frame, training_labels
    from recovery.timeline.features import build_features

    if data.model_path is None:
        raise SectionUnavailable("no model directory was given (--model DIR)")
    dirs = model_directories(data.model_path)
    if not dirs:
        raise SectionUnavailable(f"no saved model (card.json) in {data.model_path}")
    for name in ("accounts", "schedule", "payments"):
        require_table(data, name, "rebuilding the model features")
    now = build_features(data.portfolio, [data.month], data.config)
    frames: dict[pd.Timestamp, pd.DataFrame] = {}
    rows = []
    for directory in dirs:
        scorer = load_model(directory, data.config)
        card = read_card(directory)
        window = card.get("training_window") or {}
        test = (card.get("metrics") or {}).get("test") or {}
        ok = scorer.in_domain(now) if len(now) else np.zeros(0, dtype=bool)
        stab = stability_by_month(scorer, now[ok]) if ok.any() else pd.DataFrame()
        score_psi = np.nan
        shifted = MISSING
        if len(stab):
            score_rows = stab[stab["variable"] == "score"]
            score_psi = float(score_rows["psi"].iloc[0]) if len(score_rows) else np.nan
            feats = (
                stab[stab["variable"] != "score"]
                .sort_values("psi", ascending=False)
                .head(top_features)
            )
            shifted = ", ".join(
                f"{v} ({format_number(p, 2)})"
                for v, p in zip(feats["variable"], feats["psi"], strict=True)
            )
        m = matured_month(data.month, scorer.horizon_days_)
        if m not in frames:
            frames[m] = build_model_frame(data.portfolio, [m], data.config)
        frame = frames[m]
        matured_auc, n = np.nan, 0
        if len(frame):
            y = training_labels(frame, scorer.target)
            keep = y.notna().to_numpy() & scorer.in_domain(frame)
            n = int(keep.sum())
            if n and scorer.task_ == "binary" and y[keep].nunique() == 2:
                matured_auc = float(auc(y[keep].to_numpy(), scorer.predict(frame[keep])))
        last_trained = pd.Timestamp(window["last_as_of"]) if window.get("last_as_of") else None
        rows.append(
            {
                "model": scorer.target,
                "trained_on": f"{window.get('first_as_of', '?')} to {window.get('last_as_of', '?')}",
                "in_training_window": bool(last_trained is not None and m <= last_trained),
                "test_auc": test.get("auc", np.nan),
                "score_psi": score_psi,
                "psi_status": str(psi_status([score_psi])[0])
                if not _missing(score_psi)
                else MISSING,
                "shifted_features": shifted,
                "matured_month": m,
                "matured_accounts": n,
                "matured_auc": matured_auc,
            }
        )
    return pd.DataFrame(rows)


def model_health_notes(health: pd.DataFrame, auc_drop: float = 0.03) -> list[str]:
    """Sentences on model health: stability status and AUC against its test value.

    Examples
    --------
    >>> h = pd.DataFrame({"model": ["p_pay"], "score_psi": [0.31], "psi_status": ["shifted"],
    ...     "test_auc": [0.80], "matured_auc": [0.74], "matured_month": [pd.Timestamp("2026-09-30")]})
    >>> for line in model_health_notes(h):
    ...     print(line)
    p_pay: the score distribution has shifted since training (PSI 0.31); investigate before relying on it.
    p_pay: AUC 0.74 on September 2026, down from 0.80 at the out-of-time test (-0.06); consider retraining.
    """
    notes = []
    for r in health.itertuples(index=False):
        if r.psi_status == "shifted":
            notes.append(
                f"{r.model}: the score distribution has shifted since training (PSI {format_number(r.score_psi, 2)}); "
                "investigate before relying on it."
            )
        elif r.psi_status == "watch":
            notes.append(
                f"{r.model}: the score distribution is moving (PSI {format_number(r.score_psi, 2)}); watch it."
            )
        elif r.psi_status == "stable":
            notes.append(
                f"{r.model}: the score distribution is stable (PSI {format_number(r.score_psi, 2)})."
            )
        if getattr(r, "in_training_window", False):
            notes.append(
                f"{r.model}: {format_month(r.matured_month)} is not after the model's training "
                "window, so its AUC there is not an out-of-time check."
            )
        elif not _missing(r.matured_auc) and not _missing(r.test_auc):
            diff = r.matured_auc - r.test_auc
            head = f"{r.model}: AUC {format_number(r.matured_auc, 2)} on {format_month(r.matured_month)}"
            if diff <= -auc_drop:
                notes.append(
                    f"{head}, down from {format_number(r.test_auc, 2)} at the out-of-time test "
                    f"({format_number(diff, 2, sign=True)}); consider retraining."
                )
            else:
                notes.append(f"{head} (out-of-time test: {format_number(r.test_auc, 2)}).")
    return notes


def format_model_health(health: pd.DataFrame) -> pd.DataFrame:
    """The model health table with readable headers and numbers (all text).

    Examples
    --------
    >>> h = pd.DataFrame({"model": ["p_pay"], "trained_on": ["2024-01-31 to 2025-05-31"],
    ...     "test_auc": [0.9], "score_psi": [0.05], "psi_status": ["stable"],
    ...     "shifted_features": ["dpd (0.08)"], "matured_month": [pd.Timestamp("2025-11-30")],
    ...     "matured_accounts": [196], "matured_auc": [0.82]})
    >>> format_model_health(h).iloc[0].tolist()
    ['p_pay', '2024-01-31 to 2025-05-31', '0.900', '0.050', 'stable', 'dpd (0.08)', 'November 2025', '196', '0.820']
    """
    out = pd.DataFrame(
        {
            "Model": health["model"].astype(str),
            "Trained on as-of dates": health["trained_on"].astype(str),
            "Test AUC (at training)": [format_number(v, 3) for v in health["test_auc"]],
            "Score PSI": [format_number(v, 3) for v in health["score_psi"]],
            "Stability": health["psi_status"].astype(str),
            "Most shifted features (PSI)": health["shifted_features"].astype(str),
            "Latest matured month": [format_month(v) for v in health["matured_month"]],
            "Accounts": [format_count(v) for v in health["matured_accounts"]],
            "Matured AUC": [format_number(v, 3) for v in health["matured_auc"]],
        }
    )
    return out


def about_html(data: ReportData) -> str:
    """Facts about the data and settings behind the report, as an HTML table.

    Examples
    --------
    >>> data = _example_data()  # two accounts, August to October 2026
    >>> "<td>Months of snapshots</td><td>August 2026 to October 2026</td>" in about_html(data)
    True
    """
    from recovery.version import __version__

    cfg = data.config
    history = data.history
    rows = [
        ("Report month", format_month(data.month)),
        ("Data up to", f"{data.data_end:%Y-%m-%d}"),
        ("Months of snapshots", f"{format_month(data.months[0])} to {format_month(data.month)}"),
        ("Accounts in the snapshots", format_count(history["account_id"].nunique())),
        ("Charge-off at", format_days(cfg.aging.charge_off_dpd) + " past due"),
        ("Recovery horizon", f"{cfg.analytics.recovery_horizon_months} months"),
        ("Model directory", str(data.model_path) if data.model_path else "none given"),
        ("recovery version", __version__),
    ]
    return table_html(pd.DataFrame(rows, columns=["", "Value"]), table_id="about-table")


# ----------------------------------------------------------------------------- sections


class SectionUnavailable(RecoveryError):
    """A report section cannot be shown: its library piece or its data is missing."""


def _display_html(markup: str) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
    except ImportError:  # pragma: no cover - IPython is not installed
        get_ipython = None
    if get_ipython is None or get_ipython() is None:  # outside a notebook: plain text
        print(markup)
        return
    display(HTML(markup))


@contextlib.contextmanager
def section(section_id: str, what: str = "This section") -> Iterator[None]:
    """Run one report section; say so plainly when it cannot be shown.

    A missing library module (``recovery.*`` not importable) or a
    :class:`~recovery.errors.RecoveryError` (e.g. not enough data for the month) ends
    the section with a visible note in the report instead of numbers. Any other
    exception is a bug and propagates (the report fails).

    Parameters
    ----------
    section_id : str
        The section's id (used by tests and by the note's ``data-section``).
    what : str
        What the section shows, for the note.

    Examples
    --------
    >>> with section("forecast", "The forecast"):
    ...     import recovery.not_a_module
    <div class="report-unavailable" data-section="forecast"><p>The forecast is not available in this build: the library module recovery.not_a_module is not installed yet.</p></div>
    """
    try:
        yield
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("recovery"):
            raise
        _display_html(
            note_html(
                f"{what} is not available in this build: the library module {exc.name} is not "
                "installed yet.",
                kind="unavailable",
                section_id=section_id,
            )
        )
    except ImportError as exc:
        if "recovery" not in str(exc):
            raise
        _display_html(
            note_html(
                f"{what} is not available in this build: {exc}.",
                kind="unavailable",
                section_id=section_id,
            )
        )
    except RecoveryError as exc:
        _display_html(
            note_html(f"{what} cannot be shown: {exc}", kind="unavailable", section_id=section_id)
        )


def _readable(fig: Any, min_size: float = 9.0) -> None:
    """Raise every text of a figure to at least ``min_size`` points; no grid on heatmaps."""
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        if text.get_text() and text.get_fontsize() < min_size:
            text.set_fontsize(min_size)
    for ax in fig.axes:
        if ax.images:  # no grid lines across a heatmap
            ax.grid(False)


def show_figure(figure: Any, alt: str | None = None) -> None:
    """Show a chart in the report as an embedded PNG and close it.

    Parameters
    ----------
    figure : matplotlib Figure or Axes (or an array of Axes)
        What a ``plot_*`` function returned.
    alt : str, optional
        Text shown when the image cannot be (kept in the notebook metadata).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([1, 2, 3])
    >>> show_figure(fig)  # in a notebook cell: an embedded PNG  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    fig = figure
    if isinstance(fig, np.ndarray):
        fig = fig.flat[0]
    fig = getattr(fig, "figure", fig)
    if hasattr(fig, "get_figure") and fig.get_figure() is not None:
        fig = fig.get_figure()
    _readable(fig)
    buffer = io.BytesIO()
    fig.savefig(
        buffer,
        format="png",
        bbox_inches="tight",
        dpi=REPORT_STYLE["savefig.dpi"],
        metadata={"Software": None},  # no version stamp: same inputs, same bytes
    )
    plt.close(fig)
    try:
        from IPython.display import Image, display
    except ImportError:  # pragma: no cover
        return
    display(
        Image(data=buffer.getvalue(), format="png", alt=alt)
        if alt
        else Image(data=buffer.getvalue(), format="png")
    )


# ----------------------------------------------------------------------------- rendering


def template_path(name: str = TEMPLATE_NAME) -> Path:
    """Path of a notebook template shipped in ``recovery/templates``.

    Examples
    --------
    >>> template_path().name
    'monthly_report.ipynb'
    """
    path = Path(str(resources.files("recovery") / "templates" / name))
    if not path.is_file():
        raise DataError(f"report template {name} is missing from the package; reinstall recovery")
    return path


def inject_parameters(notebook: Any, parameters: Mapping[str, Any]) -> Any:
    """Insert a cell setting ``parameters`` after the cell tagged ``parameters``.

    Values must be Python literals (text, numbers, None, lists, dicts); the new cell is
    tagged ``injected-parameters`` (the papermill convention).

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
    ...                                      nbformat.v4.new_code_cell("print(x)")])
    >>> [c.source for c in inject_parameters(nb, {"x": 2}).cells]
    ['x = 1', 'x = 2', 'print(x)']
    """
    import nbformat

    nb = copy.deepcopy(notebook)
    lines = []
    for name, value in parameters.items():
        if not name.isidentifier():
            raise ValueError(f"parameter name {name!r} is not a Python identifier")
        lines.append(f"{name} = {value!r}")
    cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": ["injected-parameters"]})
    cell.pop("id", None)
    position = 0
    for i, c in enumerate(nb.cells):
        if "parameters" in c.get("metadata", {}).get("tags", []):
            position = i + 1
            break
    nb.cells.insert(position, cell)
    for i, c in enumerate(nb.cells):  # stable cell ids: same inputs, same output
        c["id"] = f"cell-{i}"
    return nb


def _recovery_error_names() -> set[str]:
    names, stack = set(), [RecoveryError]
    while stack:
        klass = stack.pop()
        names.add(klass.__name__)
        stack.extend(klass.__subclasses__())
    return names


def _execute(nb: Any, workdir: Path, timeout: int, kernel_name: str) -> Any:
    import tempfile

    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(workdir)}},
        allow_errors=False,
    )
    # the kernel's own log (e.g. its transport warning) is not for the user; keep it
    # for the error message when the kernel dies
    with tempfile.TemporaryFile(mode="w+") as log:
        try:
            client.execute(stderr=log)
        except CellExecutionError as exc:
            ename = getattr(exc, "ename", "") or ""
            evalue = getattr(exc, "evalue", "") or str(exc)
            if ename in _recovery_error_names():
                raise DataError(evalue) from None
            raise RecoveryError(
                f"the report template failed: {ename}: {evalue} (a bug; run the notebook "
                f"{TEMPLATE_NAME} by hand to see where)"
            ) from exc
        except DeadKernelError as exc:
            log.seek(0)
            tail = log.read()[-1000:]
            raise RecoveryError(f"the notebook kernel died while rendering: {tail}") from exc
    return nb


def _strip_noise(nb: Any) -> Any:
    """Remove warnings (stderr) and empty outputs that do not belong in a report."""
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        cell["outputs"] = [
            o
            for o in cell.get("outputs", [])
            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
        ]
    return nb


_HEADING = re.compile(r'<h2 id="([^"]+)"[^>]*>(.*?)</h2>', re.S)

_CSS = """
:root { --ink: #1f2933; --muted: #52606d; --line: #d9e2ec; --accent: #1c5d99;
        --good: #1e7b34; --bad: #b42318; --paper: #ffffff; --shade: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; font-family: "Liberation Sans", "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); background: var(--shade); line-height: 1.5; font-size: 15px; }
header.report-header { background: var(--accent); color: #fff; padding: 22px 32px 18px; }
header.report-header h1 { margin: 0 0 4px; font-size: 26px; }
header.report-header p { margin: 0; opacity: .9; }
.report-layout { display: flex; gap: 24px; max-width: 1280px; margin: 0 auto; padding: 20px 24px; }
nav#toc { flex: 0 0 230px; position: sticky; top: 12px; align-self: flex-start;
          background: var(--paper); border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; }
nav#toc h2 { font-size: 15px; margin: 0 0 6px; }
nav#toc ol { margin: 0; padding-left: 20px; }
nav#toc a { color: var(--accent); text-decoration: none; }
nav#toc a:hover { text-decoration: underline; }
main { flex: 1 1 auto; min-width: 0; background: var(--paper); border: 1px solid var(--line);
       border-radius: 6px; padding: 8px 28px 28px; }
main h2 { border-bottom: 2px solid var(--line); padding-bottom: 4px; margin-top: 32px; color: var(--accent); }
main h3 { margin-top: 22px; }
.anchor-link { display: none; }
img { max-width: 100%; height: auto; display: block; margin: 10px 0; }
table.report-table { border-collapse: collapse; margin: 10px 0 16px; font-size: 14px; }
table.report-table caption { text-align: left; font-weight: bold; padding: 4px 0; }
table.report-table th, table.report-table td { border-bottom: 1px solid var(--line); padding: 5px 10px; text-align: left; }
table.report-table th { background: var(--shade); }
table.report-table .num { text-align: right; font-variant-numeric: tabular-nums; }
table.report-table tbody tr:nth-child(even) { background: #fafbfc; }
td.good { color: var(--good); font-weight: bold; }
td.bad { color: var(--bad); font-weight: bold; }
.report-unavailable, .report-note, .report-warning { border-left: 4px solid #9aa5b1; background: var(--shade);
       padding: 6px 14px; margin: 10px 0; }
.report-unavailable { border-left-color: #c4a000; background: #fffbea; }
.report-warning { border-left-color: var(--bad); background: #fff1f0; }
ul.report-notes li { margin-bottom: 6px; }
.kpi-cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; margin: 14px 0 8px; }
.kpi-card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; background: var(--shade); }
.kpi-label { color: var(--muted); font-size: 13px; }
.kpi-value { font-size: 26px; font-weight: bold; font-variant-numeric: tabular-nums; }
.kpi-change { font-size: 13px; color: var(--muted); }
.kpi-change.good { color: var(--good); }
.kpi-change.bad { color: var(--bad); }
h3.notes-head { margin: 14px 0 4px; font-size: 15px; color: var(--muted); }
footer { max-width: 1280px; margin: 0 auto; padding: 0 24px 24px; color: var(--muted); font-size: 13px; }
pre { white-space: pre-wrap; }
@media print { nav#toc { display: none; } body { background: #fff; } }
"""


def _page(body: str, title: str, subtitle: str, footer: str) -> str:
    entries = _HEADING.findall(body)
    toc = "".join(
        f'<li><a href="#{html.escape(i)}">{re.sub(r"<[^>]+>", "", t).strip()}</a></li>'
        for i, t in entries
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<header class="report-header" id="top"><h1>{html.escape(title)}</h1>'
        f"<p>{html.escape(subtitle)}</p></header>\n"
        '<div class="report-layout">\n'
        f'<nav id="toc" aria-label="Contents"><h2>Contents</h2><ol>{toc}</ol></nav>\n'
        f"<main>\n{body}\n</main>\n</div>\n"
        f"<footer>{html.escape(footer)}</footer>\n</body>\n</html>\n"
    )


def _check_standalone(page: str) -> None:
    external = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(https?:[^"]+)"', page)
    if external:  # pragma: no cover - the template never produces them
        raise RecoveryError(f"the report would load external resources: {external[:3]}")


def render_notebook(
    template: str | Path | Any,
    parameters: Mapping[str, Any],
    out_path: str | Path,
    title: str,
    subtitle: str = "",
    footer: str = "",
    timeout: int = 900,
    kernel_name: str = "python3",
    workdir: str | Path | None = None,
    executed_path: str | Path | None = None,
) -> Path:
    """Execute a parameterized notebook and write it as one standalone HTML page.

    Code is hidden; only outputs and prose remain. Images are embedded (base64 PNG);
    the page has its own style sheet and a table of contents built from the ``<h2
    id=...>`` headings of the notebook. Written atomically: on any failure nothing is
    written.

    Parameters
    ----------
    template : str, Path or NotebookNode
    parameters : mapping
        Injected after the cell tagged ``parameters``.
    out_path : str or Path
        The HTML file.
    title, subtitle, footer : str
        Page header and footer text.
    timeout : int
        Seconds allowed per cell.
    kernel_name : str
        Jupyter kernel (the current Python when ``python3``).
    workdir : str or Path, optional
        Working directory of the kernel (default the template's directory).
    executed_path : str or Path, optional
        Also save the executed notebook there (for debugging).

    Returns
    -------
    Path

    Examples
    --------
    >>> render_notebook(template_path(), {"report_month": "2025-12", "data_path": "data/sample"},
    ...                 "out.html", title="Report")  # doctest: +SKIP
    """
    try:
        import nbformat
        from nbconvert import HTMLExporter
    except ImportError as exc:  # pragma: no cover - the notebooks extra is missing
        raise RecoveryError(
            f"rendering a report needs nbformat, nbclient, nbconvert and ipykernel ({exc}); "
            "install them with: pip install 'recovery[notebooks]'"
        ) from None
    if isinstance(template, (str, Path)):
        nb = nbformat.read(str(template), as_version=4)
        workdir = workdir or Path(template).parent
    else:
        nb = template
    workdir = Path(workdir or Path.cwd())
    nb = inject_parameters(nb, parameters)
    nb = _strip_noise(_execute(nb, workdir, timeout, kernel_name))
    if executed_path is not None:
        from recovery.data.io import atomic_path

        with atomic_path(executed_path) as tmp:
            nbformat.write(nb, str(tmp))
    exporter = HTMLExporter(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(nb)
    page = _page(body, title, subtitle, footer)
    _check_standalone(page)
    from recovery.data.io import atomic_path

    out_path = Path(out_path)
    with atomic_path(out_path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return out_path


def render_monthly_report(
    data_path: str | Path,
    month: Any,
    out_dir: str | Path,
    model_path: str | Path | None = None,
    config: Config | None = None,
    timeout: int = 900,
) -> Path:
    """Render the monthly recovery report of one month to ``out_dir/recovery_report_YYYY-MM.html``.

    Parameters
    ----------
    data_path : str or Path
        Portfolio directory (tables as Parquet or CSV, optionally with ``snapshots``).
    month : str or date
        The report month, e.g. ``"2026-10"``; must be a complete month with data.
    out_dir : str or Path
        Directory of the HTML file (created if needed).
    model_path : str or Path, optional
        Directory of saved scorers (model health, scores).
    config : Config, optional
    timeout : int
        Seconds allowed per notebook cell.

    Returns
    -------
    Path
        The HTML file.

    Raises
    ------
    DataError
        When the month has no data or lies outside the data; nothing is written.

    Examples
    --------
    >>> from recovery.datasets import sample_path
    >>> render_monthly_report(sample_path(), "2025-12", "reports")  # doctest: +SKIP
    PosixPath('reports/recovery_report_2025-12.html')
    """
    from recovery.version import __version__

    config = config or Config()
    data_path = Path(data_path).resolve()
    target = _check_month_on_disk(data_path, month)
    if model_path is not None and not Path(model_path).is_dir():
        raise DataError(f"model directory {model_path} does not exist")
    out = Path(out_dir) / f"recovery_report_{target:%Y-%m}.html"
    parameters = {
        "report_month": f"{target:%Y-%m}",
        "data_path": str(data_path),
        "model_path": str(Path(model_path).resolve()) if model_path else None,
        "config": config.to_dict(),
    }
    data_end = _data_end_on_disk(data_path)
    subtitle = f"Month ending {target:%d %B %Y}" + (
        f" · data up to {data_end:%d %B %Y}" if data_end is not None else ""
    )
    return render_notebook(
        template_path(),
        parameters,
        out,
        title=f"Monthly recovery report — {format_month(target)}",
        subtitle=subtitle,
        footer=f"Generated by recovery {__version__} from {data_path.name}. Account IDs only; no personal data.",
        timeout=timeout,
        workdir=data_path,
    )


def _embedded_images(page: str) -> int:
    """Number of base64 images in a page (for tests and the CLI)."""
    return len(re.findall(r'<img[^>]+src="data:image/png;base64,', page))
