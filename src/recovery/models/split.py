"""Out-of-time splits that respect the label horizon (DESIGN.md §3, point in time).

A label for as-of date d looks at what happens in (d, d + horizon]. A training row
whose label window reaches past the first test date would leak the test period into
training, so the last training as-of date is at least one horizon before the first
test as-of date: ``as_of + horizon_days <= test_start``. The same rule separates the
fitting rows from the validation slice *inside* the training window.

Examples
--------
>>> import pandas as pd
>>> from recovery.models.split import out_of_time_masks
>>> as_of = pd.Series(pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"]))
>>> train, test = out_of_time_masks(as_of, "2024-03-31", horizon_days=30)
>>> train.tolist(), test.tolist()   # Feb 29 + 30 days = Mar 30 <= Mar 31: still training
([True, True, False, False], [False, False, True, True])
>>> out_of_time_masks(as_of, "2024-03-31", horizon_days=60)[0].tolist()  # Feb 29 + 60 > Mar 31
[True, False, False, False]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recovery.errors import DataError

__all__ = ["out_of_time_masks", "out_of_time_split", "validation_masks"]


def out_of_time_masks(
    as_of, test_start, horizon_days: int, test_end=None
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of training and test rows of an out-of-time split.

    Parameters
    ----------
    as_of : array-like of dates
        Scoring date of each row.
    test_start : date-like
        First test as-of date; test rows have ``as_of >= test_start``.
    horizon_days : int
        Label horizon (days): training rows have ``as_of + horizon_days <= test_start``.
    test_end : date-like, optional
        Last test as-of date (inclusive).

    Returns
    -------
    (ndarray of bool, ndarray of bool)
        Training mask and test mask; rows in the gap are in neither.
    """
    as_of = pd.to_datetime(pd.Series(np.asarray(as_of)))
    start = pd.Timestamp(test_start)
    train = (as_of + pd.Timedelta(days=int(horizon_days)) <= start).to_numpy()
    test = (as_of >= start).to_numpy()
    if test_end is not None:
        test &= (as_of <= pd.Timestamp(test_end)).to_numpy()
    return train, test


def out_of_time_split(
    frame: pd.DataFrame, test_start, horizon_days: int, test_end=None, as_of: str = "as_of"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a frame into training and test rows with a one-horizon gap.

    Parameters
    ----------
    frame : DataFrame
        Rows with an as-of column.
    test_start, horizon_days, test_end
        As in :func:`out_of_time_masks`.
    as_of : str
        Name of the as-of column.

    Returns
    -------
    (DataFrame, DataFrame)
        Training rows and test rows.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"as_of": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31"])})
    >>> train, test = out_of_time_split(f, "2024-03-31", horizon_days=60)
    >>> len(train), len(test)
    (1, 1)
    """
    if as_of not in frame.columns:
        raise DataError(f"the frame has no '{as_of}' column to split on")
    train, test = out_of_time_masks(frame[as_of], test_start, horizon_days, test_end)
    if not train.any():
        raise DataError(
            f"no training rows end a horizon ({horizon_days} days) before {test_start}; "
            "choose a later test start"
        )
    return frame[train], frame[test]


def validation_masks(as_of, fraction: float, horizon_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Fitting and validation masks inside a training window.

    The validation slice is the latest ``fraction`` of the distinct as-of dates (at
    least one date when ``fraction > 0``); fitting rows end one horizon before it.

    Parameters
    ----------
    as_of : array-like of dates
    fraction : float
        Share of distinct as-of dates held out, in [0, 1).
    horizon_days : int
        Label horizon (days).

    Returns
    -------
    (ndarray of bool, ndarray of bool)
        Fitting mask and validation mask.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.Series(pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"]))
    >>> fit, valid = validation_masks(d, 0.25, horizon_days=30)
    >>> fit.tolist(), valid.tolist()
    ([True, True, True, False], [False, False, False, True])
    """
    as_of = pd.to_datetime(pd.Series(np.asarray(as_of)))
    if fraction <= 0:
        return np.ones(len(as_of), dtype=bool), np.zeros(len(as_of), dtype=bool)
    dates = np.sort(as_of.unique())
    n_valid = max(1, int(round(len(dates) * fraction)))
    if n_valid >= len(dates):
        raise DataError(
            f"only {len(dates)} as-of date(s): too few to hold out a validation slice; "
            "use more dates or validation_fraction=0"
        )
    start = dates[-n_valid]
    return out_of_time_masks(as_of, start, horizon_days)
