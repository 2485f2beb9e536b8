"""Numbers and tables for people: the report's formatting and its HTML building blocks.

Every number the report shows goes through one of these: money with thousands
separators, rates as percentages, changes of rates in percentage points, counts, days
and months (:func:`format_money`, :func:`format_pct`, :func:`format_pp`,
:func:`format_count`, :func:`format_days`, :func:`format_month`, :func:`format_number`),
whole tables column by column (:func:`format_table`), and the HTML pieces of a page:
tables with numbers right-aligned (:func:`table_html`), boxed messages
(:func:`note_html`) and bulleted notes (:func:`notes_html`). A missing number reads
:data:`MISSING`.

Examples
--------
>>> format_money(1234567.891), format_pct(0.1234), format_pp(0.0042)
('1,234,568', '12.3%', '+0.4 pp')
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "MISSING",
    "is_missing",
    "format_number",
    "format_money",
    "format_pct",
    "format_pp",
    "format_count",
    "format_days",
    "format_month",
    "format_interval",
    "formatter",
    "format_table",
    "table_html",
    "note_html",
    "notes_html",
]

#: What a missing number reads as in a table.
MISSING = "–"


def is_missing(x: Any) -> bool:
    """Whether a value is missing: None, ``pd.NA``, ``pd.NaT`` or NaN.

    Parameters
    ----------
    x : object
        Any value; one that is not a number (text, a date) is not missing.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_missing(None), is_missing(float("nan")), is_missing(pd.NaT), is_missing(0.0), is_missing("M1")
    (True, True, True, False, False)
    """
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
    if is_missing(x):
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
    if is_missing(x):
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
    if is_missing(x):
        return MISSING
    return format_number(100 * float(x), decimals, sign=sign) + "%"


def format_pp(x: Any, decimals: int = 1) -> str:
    """A difference of two rates in percentage points, signed: ``0.0042`` → ``+0.4 pp``.

    Examples
    --------
    >>> format_pp(0.0042), format_pp(-0.012), format_pp(0.0)
    ('+0.4 pp', '-1.2 pp', '0.0 pp')
    """
    if is_missing(x):
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
    if is_missing(x):
        return MISSING
    text = format_number(x, decimals)
    return f"{text} day" if text == "1" else f"{text} days"


def format_interval(low: Any, high: Any, fmt: Callable[[Any], str]) -> str:
    """An interval for people, ``"1.4% to 4.2%"``; never a degenerate one.

    An interval whose ends read the same (``"0.0% to 0.0%"``: a bootstrap of debts that
    never paid, or of one account) says nothing about the uncertainty; it reads "not
    estimable". A missing end reads :data:`MISSING`.

    Examples
    --------
    >>> format_interval(0.014, 0.042, format_pct), format_interval(0.0, 0.0001, format_pct)
    ('1.4% to 4.2%', 'not estimable')
    >>> format_interval(float("nan"), 0.1, format_pct)
    '–'
    """
    if is_missing(low) or is_missing(high):
        return MISSING
    lo, hi = fmt(low), fmt(high)
    return "not estimable" if lo == hi else f"{lo} to {hi}"


def format_month(month: Any) -> str:
    """A month for people: ``2026-10-31`` → ``October 2026``.

    Examples
    --------
    >>> format_month("2026-10-31")
    'October 2026'
    """
    if is_missing(month):
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
    "text": lambda x: MISSING if is_missing(x) else str(x),
}


def formatter(name: str) -> Callable[[Any], str]:
    """The function that formats one value by a format name of :func:`format_table`.

    Parameters
    ----------
    name : str
        ``money``, ``money_compact``, ``pct``/``rate``, ``pp``, ``count``, ``days``,
        ``month``, ``number``, ``ratio`` or ``text``.

    Returns
    -------
    callable
        One value in, its text out.

    Examples
    --------
    >>> formatter("money")(1500.0), formatter("pct")(0.25), formatter("text")(None)
    ('1,500', '25.0%', '–')
    """
    return _FORMATTERS[name]


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
                fmt = lambda x: MISSING if is_missing(x) else pd.Timestamp(x).strftime("%Y-%m-%d")  # noqa: E731
            else:
                fmt = "text"
        func = formatter(fmt) if isinstance(fmt, str) else fmt
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


def notes_html(notes: Sequence[str]) -> str:
    """A bulleted list of notes as HTML.

    Examples
    --------
    >>> notes_html(["Cure rate rose."])
    '<ul class="report-notes"><li>Cure rate rose.</li></ul>'
    """
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return f'<ul class="report-notes">{items}</ul>'
