"""What several analytics share: months, segments, table dispatch, plot axes, doc texts.

Month numbers
    A calendar month as one integer, ``year * 12 + month - 1``: consecutive months
    differ by one whatever their lengths. :func:`month_number` and :func:`month_end`
    convert dates to month numbers and back.
Segments
    Every analytic that splits its result by segment takes ``segment`` as one column
    name, a list of them or ``None`` (:data:`SegmentArg`); :func:`segment_list` turns
    it into a list.
Tables of other types
    The totals step of an analytic that aggregates over accounts (counts and sums per
    month, segment, state…) is generic on the type of the table:
    :func:`dispatch_on_table` makes the pandas implementation the one for pandas
    DataFrames of a :func:`functools.singledispatch` function, and an engine from a
    higher layer registers its own table type on it (:mod:`recovery.engine.dask_analytics`
    does for Dask DataFrames). The analytics never import an engine.
Plots
    :func:`plot_axes` gives a plot function the axes it was given or a new figure's;
    :func:`percent_axis` labels an axis in percent, :func:`money_axis` with thousands
    separators; :func:`in_words` names a state or a KPI column for a legend or a tick
    label ("charged off", "overdue 30+ DPD (balance)"), and :func:`legend_outside`
    puts a legend beside the plot, off the data.
Parameter texts
    The numpydoc descriptions that several analytics share (the ``snapshots`` table,
    the segment columns, the plot axes, …) are registered here once with
    :func:`recovery.docstrings.register`. A docstring names one on a line of its own,
    ``{{snapshots_table}}``, and :func:`recovery.docstrings.fill_doc` puts the text
    in, so ``help()`` and the docs show it whole.

Examples
--------
>>> month_number(["2024-01-31", "2024-02-15"]).tolist()
[24288, 24289]
>>> month_end([24289]).strftime("%Y-%m-%d").tolist()
['2024-02-29']
>>> segment_list("product"), segment_list(None)
(['product'], [])
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from recovery.docstrings import register
from recovery.errors import DataError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis

__all__ = [
    "SegmentArg",
    "dispatch_on_table",
    "in_words",
    "legend_outside",
    "money_axis",
    "month_end",
    "month_number",
    "percent_axis",
    "plot_axes",
    "segment_list",
]

#: A segment argument: one column name, several, or ``None`` for the whole book.
SegmentArg = str | Sequence[str] | None

F = TypeVar("F", bound=Callable[..., Any])


def segment_list(segment: SegmentArg) -> list[str]:
    """The segment columns of a ``segment`` argument, as a list.

    Parameters
    ----------
    segment : str or list of str, optional
        One column name, several, or ``None``.

    Returns
    -------
    list of str
        ``[]`` for ``None``, ``[segment]`` for one name, else the names in order.

    Examples
    --------
    >>> segment_list(("product", "region"))
    ['product', 'region']
    """
    if segment is None:
        return []
    if isinstance(segment, str):
        return [segment]
    return list(segment)


def month_number(dates: Any) -> np.ndarray:
    """Calendar month number (``year * 12 + month - 1``) of each date.

    Parameters
    ----------
    dates : date-like or sequence of date-likes
        Dates, a Series or an index of them (any day of the month).

    Returns
    -------
    numpy.ndarray of int64
        One month number per date, in order.

    Examples
    --------
    >>> month_number(pd.Series(pd.to_datetime(["1970-01-01", "1971-03-31"]))).tolist()
    [23640, 23654]
    """
    d = pd.to_datetime(pd.Series(dates), cache=False)
    return (d.dt.year * 12 + d.dt.month - 1).to_numpy(dtype=np.int64)


def month_end(month_no: Any) -> pd.DatetimeIndex:
    """Month end of each month number (``year * 12 + month - 1``), vectorised.

    Parameters
    ----------
    month_no : array-like of int
        Month numbers, as from :func:`month_number`.

    Returns
    -------
    pandas.DatetimeIndex
        The last day of each month, at midnight (``datetime64[ns]``).

    Examples
    --------
    >>> month_end(np.array([24288, 24299])).strftime("%Y-%m-%d").tolist()
    ['2024-01-31', '2024-12-31']
    """
    month_no = np.asarray(month_no, dtype=np.int64)
    first_of_next = (month_no + 1 - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")
    return pd.DatetimeIndex((first_of_next - np.timedelta64(1, "D")).astype("datetime64[ns]"))


def dispatch_on_table(pandas_totals: F) -> F:
    """Make a totals function generic on the type of its table (its first argument).

    ``pandas_totals`` becomes the implementation for pandas DataFrames of a
    :func:`functools.singledispatch` function with its name, signature and docstring.
    An engine adds its table type with ``<function>.register(type)``; a table of a
    type nothing is registered for raises :class:`~recovery.errors.DataError`.

    Parameters
    ----------
    pandas_totals : callable
        ``pandas_totals(snapshots, ...)`` for a pandas ``snapshots`` table.

    Returns
    -------
    callable
        The generic function (``.register``, ``.dispatch``, ``.registry``).

    Examples
    --------
    >>> @dispatch_on_table
    ... def rows(snapshots):
    ...     '''Rows of a table.'''
    ...     return len(snapshots)
    >>> rows(pd.DataFrame({"a": [1, 2]})), rows.__doc__
    (2, 'Rows of a table.')
    >>> rows([1, 2])
    Traceback (most recent call last):
    ...
    recovery.errors.DataError: snapshots must be a DataFrame (the 'snapshots' table)
    """

    def unregistered(snapshots: Any, *args: Any, **kwargs: Any) -> Any:
        raise DataError("snapshots must be a DataFrame (the 'snapshots' table)")

    generic = functools.singledispatch(unregistered)
    generic.register(pd.DataFrame, pandas_totals)
    return functools.update_wrapper(generic, pandas_totals)


# --------------------------------------------------------------------------- plots


def plot_axes(ax: Axes | None, figsize: tuple[float, float], **subplots: Any) -> Axes:
    """``ax``, or the axes of a new figure when it is ``None``.

    Parameters
    ----------
    ax : matplotlib Axes, optional
        Where a plot function was asked to draw.
    figsize : (float, float)
        Size of the new figure (inches).
    **subplots
        Further :func:`matplotlib.pyplot.subplots` settings (``layout="constrained"``).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> plot_axes(None, (4, 3)).figure.get_size_inches().tolist()
    [4.0, 3.0]
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize, **subplots)
    return ax


def percent_axis(axis: Axis) -> None:
    """Label the ticks of an axis (``ax.yaxis``) as percentages of 1.

    Examples
    --------
    >>> ax = plot_axes(None, (4, 3))
    >>> percent_axis(ax.yaxis)
    >>> ax.yaxis.get_major_formatter().format_pct(0.25, 1.0)
    '25%'
    """
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(1.0))


def money_axis(axis: Axis) -> None:
    """Label the ticks of an axis with thousands separators (``120,000``).

    Examples
    --------
    >>> ax = plot_axes(None, (4, 3))
    >>> money_axis(ax.yaxis)
    >>> ax.yaxis.get_major_formatter()(120000, 0)
    '120,000'
    """
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))


_WORDS = {
    "charged_off": "charged off",
    "paid_off": "paid off",
    "other_exit": "other exit",
    "new": "new accounts",
    "overdue_rate_30plus": "overdue 30+ DPD (accounts)",
    "overdue_rate_90plus": "overdue 90+ DPD (accounts)",
    "overdue_rate_30plus_balance": "overdue 30+ DPD (balance)",
    "overdue_rate_90plus_balance": "overdue 90+ DPD (balance)",
    "recovery_rate_in_month": "recovery rate",
    "delinquent": "all delinquent debt",
}


def in_words(name: Any) -> str:
    """A state or KPI column as a reader says it, for legends and tick labels.

    Examples
    --------
    >>> in_words("charged_off"), in_words("overdue_rate_30plus_balance"), in_words("M2")
    ('charged off', 'overdue 30+ DPD (balance)', 'M2')
    >>> in_words("cure_rate")
    'cure rate'
    """
    text = str(name)
    return _WORDS.get(text, text.replace("_", " "))


def legend_outside(ax: Axes, **kwargs: Any) -> Any:
    """A legend beside the plot (right of the axes), never over the data.

    Examples
    --------
    >>> ax = plot_axes(None, (4, 3))
    >>> _ = ax.plot([0, 1], [0, 1], label="a line")
    >>> legend_outside(ax).get_texts()[0].get_text()
    'a line'
    """
    return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kwargs)


# --------------------------------------------------------------------------- parameter texts

register(
    snapshots_table="""
        snapshots : DataFrame
            The ``snapshots`` table.""",
    config_buckets="""
        config : Config, optional
            Bucket labels.""",
    config_charge_off="""
        config : Config, optional
            Bucket labels and the charge-off threshold (days).""",
    segment_columns="""
        segment : str or list of str, optional
            Segment columns.""",
    segment_at_start="""
        segment : str or list of str, optional
            Segment columns (value at *m - 1*).""",
    accounts_for_segments="""
        accounts : DataFrame, optional
            For segment columns not in ``snapshots``.""",
    plot_ax="""
        ax : matplotlib Axes, optional
            Where to draw; a new figure when omitted.""",
    plot_title="""
        title : str, optional
            Axes title.""",
    last_month_end="""
        data_end : date, optional
            Last month end the data covers (default: the latest ``month_end``).""",
    debt_scope="""
        scope : {"charged_off", "delinquent"}
            The recovery book (headline) or every delinquent debt.""",
    follow_up_months="""
        horizon_months : int, optional
            Follow-up window (months).""",
    table_dispatch="""
        This is the pandas implementation of a function generic on the table's type
        (:func:`recovery.analytics.common.dispatch_on_table`): an engine registers its
        own, e.g. :mod:`recovery.engine.dask_analytics` for Dask DataFrames.""",
    returns_axes="""
        Returns
        -------
        matplotlib.axes.Axes
            The axes drawn on.""",
    bootstrap_seed="""
        seed : int, optional
            Bootstrap seed (default ``config.analytics.seed``).""",
    forecast_horizon="""
        months_ahead : int
            Horizon (months).""",
    backtest_table="""
        backtest : DataFrame
            Output of :func:`backtest_roll_rate` or :func:`backtest_erc`.""",
    backtest_min_history="""
        min_history : int
            Months of history needed before the first default origin.""",
)
