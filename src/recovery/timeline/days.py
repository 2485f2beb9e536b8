"""Day numbers: dates as int64 days, and calendar months as consecutive numbers.

The point-in-time core (:mod:`~recovery.timeline.events`) keys events by ``(account
code, day)``; a day number (:func:`day_numbers`, back to dates with :func:`to_dates`)
is the number of days since 1970-01-01 plus a fixed offset, so that every date of
interest is >= 0 and packs with an account code into one sortable int64 key (the
aging ledger keeps its own encoding, :func:`recovery.timeline.ledger.ledger_days`).
:func:`month_numbers` numbers calendar months consecutively, :data:`DAYS_PER_MONTH`
expresses day spans in months, and :func:`to_datetimes` reads dates fast when they
are dates already.

Examples
--------
>>> d = day_numbers(["2024-01-31", "2024-03-01"])
>>> int(d[1] - d[0]), to_dates(d)[1].strftime("%Y-%m-%d")
(30, '2024-03-01')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DAYS_PER_MONTH",
    "to_datetimes",
    "day_numbers",
    "to_dates",
    "month_numbers",
]

#: average days per calendar month (365.25 / 12), to express day spans in months
DAYS_PER_MONTH = 365.25 / 12

# day numbers: days since 1970-01-01 plus an offset, so every date of interest is >= 0
_OFFSET = 200_000


def to_datetimes(values: Any) -> Any:
    """:func:`pandas.to_datetime`, without its scan for repeated dates when the values
    are dates already (the scan walks them one by one in Python; the result is the same).

    Examples
    --------
    >>> to_datetimes(pd.Series(pd.to_datetime(["2024-01-31", None]))).isna().tolist()
    [False, True]
    """
    dtype = getattr(values, "dtype", None)
    return pd.to_datetime(values, cache=not pd.api.types.is_datetime64_any_dtype(dtype))


def day_numbers(values: Any) -> np.ndarray:
    """Day numbers of dates: days since 1970-01-01 plus a fixed offset (all >= 0).

    Parameters
    ----------
    values : array-like of dates or timestamps
        A time of day is dropped (the day counts).

    Returns
    -------
    numpy.ndarray
        int64 day numbers; a missing date (NaT) becomes -1.

    Examples
    --------
    >>> d = day_numbers(["2024-01-01", "2024-01-31", None])
    >>> int(d[1] - d[0]), int(d[2])
    (30, -1)
    """
    arr = getattr(values, "values", values)
    if isinstance(arr, pd.DatetimeIndex | pd.arrays.DatetimeArray):
        arr = arr.to_numpy()
    if isinstance(arr, np.ndarray) and arr.dtype.kind == "M":
        arr = arr.astype("datetime64[D]")
    else:
        arr = to_datetimes(pd.Series(values)).to_numpy(dtype="datetime64[D]")
    out = arr.astype("int64") + _OFFSET
    out[np.isnat(arr)] = -1
    return out


def to_dates(days: np.ndarray) -> pd.DatetimeIndex:
    """The dates of day numbers (the inverse of :func:`day_numbers`).

    Parameters
    ----------
    days : numpy.ndarray
        int64 day numbers from :func:`day_numbers` (no -1).

    Returns
    -------
    pandas.DatetimeIndex

    Examples
    --------
    >>> to_dates(day_numbers(["2024-02-29"]))[0]
    Timestamp('2024-02-29 00:00:00')
    """
    return pd.DatetimeIndex((days - _OFFSET).astype("datetime64[D]"))


def month_numbers(dates: Any) -> np.ndarray:
    """Calendar months of dates as consecutive int64 numbers (``year * 12 + month - 1``).

    Examples
    --------
    >>> m = month_numbers(["2023-12-31", "2024-01-15"])
    >>> int(m[1] - m[0])
    1
    """
    values = getattr(dates, "values", dates)
    if isinstance(values, np.ndarray) and values.dtype.kind == "M" and not np.isnat(values).any():
        # months since 1970-01 from numpy: the same numbers, without date fields
        return values.astype("datetime64[M]").astype("int64") + 1970 * 12
    d = pd.DatetimeIndex(to_datetimes(dates))
    return np.asarray(d.year * 12 + d.month - 1, dtype="int64")
