"""Dates in lender tables: ISO 8601 or a declared format, never a guess.

A date such as ``03/08/2018`` is the 3rd of August for one lender and March 8th for
another; nothing in the value says which. Dates are therefore read as ISO 8601
(``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM:SS``) unless the mapping file declares the lender's
format (``date_format: '%d/%m/%Y'``); a value in any other shape is reported with its
shape (:func:`date_shape`), never parsed by guessing.

Examples
--------
>>> parse_dates(pd.Series(["2024-03-01", "01/03/2024"]))[1].tolist()
[False, True]
"""

from __future__ import annotations

import datetime as dt
import re
import warnings

import numpy as np
import pandas as pd

__all__ = ["parse_dates", "date_shape", "is_date_format", "suggest_date_format"]

_NUMERIC_DATE = re.compile(
    r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?:[ T](\d{1,2}:\d{2}(?::\d{2})?))?$"
)
_OFFSET_ANY = re.compile(r"^(.*?)\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$")
_OFFSET = re.compile(r"^(.*\d:\d{2}(?::\d{2}(?:[.,]\d*)?)?)\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$")


def parse_dates(
    values: pd.Series, kind: str = "date", fmt: str | None = None
) -> tuple[pd.Series, pd.Series]:
    """Dates of a raw column, read as ISO 8601 (or ``fmt``); nothing is guessed.

    A timestamp written with a UTC offset (``2024-03-12 10:00:00+08:00``) is read at
    the local time written (10:00): collection rules such as contact hours are in
    the lender's local time, and one file may mix offsets (summer time). Each
    distinct value is parsed once.

    Parameters
    ----------
    values : Series
        Text, dates, timestamps or whole numbers (``20240131``); missing values stay
        missing.
    kind : {"date", "datetime"}
        ``date`` drops the time of day.
    fmt : str, optional
        A ``strftime`` format (``%d/%m/%Y``) every value must match; default ISO 8601
        (``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM:SS``, ``YYYYMMDD``, …).

    Returns
    -------
    parsed : Series
        ``datetime64[ns]`` (naive), NaT where missing or not readable.
    bad : Series of bool
        Present values that could not be read.

    Examples
    --------
    >>> parsed, bad = parse_dates(pd.Series(["2018-08-03", "03/08/2018", None]))
    >>> parsed.dt.strftime("%Y-%m-%d").tolist(), bad.tolist()
    (['2018-08-03', nan, nan], [False, True, False])
    >>> parse_dates(pd.Series(["03/08/2018"]), fmt="%d/%m/%Y")[0].dt.month.tolist()
    [8]
    >>> parse_dates(pd.Series(["2024-03-12 21:30:00+08:00", "2024-07-01T08:00:00+09:00"]),
    ...             "datetime")[0].dt.hour.tolist()
    [21, 8]
    """
    values = pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values.dt.tz_localize(None) if values.dt.tz is not None else values
        bad = pd.Series(False, index=values.index)
    else:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        distinct = pd.Series(uniques, dtype=object)
        stamps = distinct.map(lambda v: isinstance(v, (pd.Timestamp, dt.date, np.datetime64)))
        stamps = stamps.astype(bool)
        text = distinct[~stamps].map(_date_text).astype(object)
        offset = _OFFSET if fmt is None else None
        if fmt is not None and ("%z" in fmt or "%Z" in fmt):  # local time: offset dropped
            fmt, offset = fmt.replace("%z", "").replace("%Z", "").strip(), _OFFSET_ANY
        if offset is not None and text.notna().any():
            text = text.where(text.isna(), text.astype(str).str.replace(offset, r"\1", regex=True))
        read = pd.Series(pd.NaT, index=distinct.index, dtype="datetime64[ns]")
        if len(text):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", (UserWarning, FutureWarning))
                read[~stamps] = pd.to_datetime(text, format=fmt or "ISO8601", errors="coerce")
        if stamps.any():
            read[stamps] = pd.to_datetime(distinct[stamps].map(pd.Timestamp).map(_naive))
        bad_distinct = np.append(read.isna().to_numpy() & distinct.notna().to_numpy(), False)
        table = np.append(read.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT", "ns"))
        parsed = pd.Series(table[codes], index=values.index, dtype="datetime64[ns]")
        bad = pd.Series(bad_distinct[codes], index=values.index)
    if kind == "date":
        parsed = parsed.dt.normalize()
    return parsed.astype("datetime64[ns]"), bad


def _date_text(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _naive(stamp: pd.Timestamp) -> pd.Timestamp:
    return stamp.tz_localize(None) if stamp.tzinfo is not None else stamp


def date_shape(values: pd.Series, most: int = 3) -> str:
    """The shapes of some date values, digits shown as ``#`` (``'##/##/####'``).

    Names the format a lender's export uses without guessing what it means
    (``03/08/2018`` may be day-first or month-first).

    Examples
    --------
    >>> date_shape(pd.Series(["03/08/2018", "25/12/2018", "2018-1-5"]))
    "'##/##/####' (e.g. '03/08/2018'), '####-#-#' (e.g. '2018-1-5')"
    """
    text = pd.Series(values).dropna().map(_date_text).dropna()
    if not len(text):
        return "(none)"
    shapes = text.str.replace(r"\d", "#", regex=True)
    counts = shapes.value_counts(sort=True)
    first = text.groupby(shapes.to_numpy(), sort=False).first()
    return ", ".join(f"'{shape}' (e.g. '{first[shape]}')" for shape in counts.index[:most])


def is_date_format(fmt: object) -> bool:
    """Whether ``fmt`` is a ``strftime`` date format that reads back what it writes.

    Examples
    --------
    >>> is_date_format("%d/%m/%Y"), is_date_format("DD/MM/YYYY"), is_date_format("%Y%m")
    (True, False, True)
    """
    if not isinstance(fmt, str) or "%" not in fmt:
        return False
    probe = pd.Timestamp("2021-12-25 13:45:56")
    try:
        return not pd.isna(pd.to_datetime(probe.strftime(fmt), format=fmt))
    except (ValueError, TypeError):
        return False


def suggest_date_format(values: pd.Series) -> tuple[str | None, str]:
    """A ``date_format`` for a column of numeric dates, only when the values prove it.

    ``03/08/2018`` reads both ways; ``25/12/2018`` only day first and ``12/25/2018``
    only month first. The format is suggested when at least one value can be read
    only one way and every value reads with it; otherwise none is (ISO 8601 dates
    need none; ambiguous ones are for the user to decide).

    Parameters
    ----------
    values : Series
        A sample of the raw column.

    Returns
    -------
    fmt : str or None
        The ``strftime`` format, or ``None``.
    why : str
        Why, in words, with an example value (``""`` when the column is ISO 8601 or
        empty).

    Examples
    --------
    >>> suggest_date_format(pd.Series(["03/08/2018", "25/12/2018"]))[0]
    '%d/%m/%Y'
    >>> suggest_date_format(pd.Series(["03/08/2018", "04/09/2018"]))[0] is None
    True
    """
    text = pd.Series(values).dropna().map(_date_text).dropna().astype(str)
    if not len(text) or not parse_dates(text, "datetime")[1].any():
        return None, ""
    parts = text.str.extract(_NUMERIC_DATE)
    if parts[0].isna().any():
        return None, f"not ISO 8601 and not one numeric shape: {date_shape(text)}"
    first, second = parts[0].astype(int), parts[2].astype(int)
    sep = parts[1].iloc[0]
    if (parts[1] != sep).any():
        return None, f"mixed separators: {date_shape(text)}"
    clock = parts[4].dropna()
    time = ""
    if len(clock):
        if len(clock) < len(text) or clock.str.count(":").nunique() > 1:
            return None, f"some values with a time of day, some without: {date_shape(text)}"
        time = " %H:%M:%S" if clock.iloc[0].count(":") == 2 else " %H:%M"
    day_first, month_first = (first > 12).any(), (second > 12).any()
    if day_first == month_first:
        both = "" if day_first else " (no day above 12 to tell)"
        return None, (
            f"day first or month first? values such as {text.iloc[0]!r} read both ways{both}"
            if not day_first
            else f"values read neither way: {date_shape(text)}"
        )
    fmt = (f"%d{sep}%m{sep}%Y" if day_first else f"%m{sep}%d{sep}%Y") + time
    if parse_dates(text, "datetime", fmt)[1].any():
        return None, f"not every value reads as {fmt!r}: {date_shape(text)}"
    proof = text[(first > 12) if day_first else (second > 12)].iloc[0]
    order = "day" if day_first else "month"
    return fmt, f"{order} first: {proof!r} reads only that way"
