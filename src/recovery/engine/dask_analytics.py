"""Cross-account analytics of a Dask snapshots table, without collecting its rows.

Roll rates, vintage curves, recovery by debt age and the monthly KPIs aggregate over
accounts, so they cannot simply run per partition. But each is a ratio of **sums**:
accounts moving between states, balances, amounts collected. When every account's
rows sit in one partition (a table from :func:`recovery.engine.dask.distributed_snapshots`,
or any snapshots table partitioned by account), each partition computes its additive
partial table — counts and sums, numerators and denominators, never rates — with the
analytic's own public building block (:func:`~recovery.analytics.roll_rates.flow_partial`,
:func:`~recovery.analytics.kpis.kpi_partial`,
:func:`~recovery.analytics.vintages.vintage_partial`,
:func:`~recovery.analytics.recovery_curves.recovery_partial`); the partial tables are
summed (they have one row per month × segment × state, a few thousand rows however
large the book) and the analytic finishes with the same code as for a pandas table.
Only the small partial tables travel to the client.

What must be the same for every partition is read from the whole table first (one
cheap pass): the month ends it covers (a month missing from a partition is still a
month of the table: its accounts on the books at *m* then left by *m + 1*), its
first and last month (vintage censoring) and its last month end (the recovery
follow-up). Each analytics call therefore reads the table twice: ``persist()`` a lazy
snapshots table before several calls.

Not available on a Dask table: bootstrap intervals of recovery by age (they resample
whole accounts: pass ``n_bootstrap=0``), its ``by="amount_band"`` (balance quantiles
of the whole book) and the collection costs of the KPIs (``actions=``).

**How it plugs in.** The totals step of each analytic is a
:func:`functools.singledispatch` function on the type of the table
(:func:`~recovery.analytics.roll_rates.flow_totals`,
:func:`~recovery.analytics.kpis.kpi_totals`,
:func:`~recovery.analytics.vintages.vintage_totals`,
:func:`~recovery.analytics.recovery_curves.recovery_totals`). Importing this module
registers the functions below for :class:`DaskFrame`, a virtual base class that every
Dask DataFrame is a subclass of — recognised by its module and ``npartitions``, so
neither this module nor the analytics import Dask. :mod:`recovery` imports this module,
so the public functions (:func:`recovery.analytics.roll_rates.roll_rates`,
:func:`recovery.analytics.vintages.vintage_curves`,
:func:`recovery.analytics.recovery_curves.recovery_by_age`,
:func:`recovery.analytics.kpis.monthly_kpis`) accept a Dask DataFrame; the analytics
never import the engine.

Examples
--------
>>> import tempfile
>>> from recovery.datasets import load_sample
>>> from recovery.engine.dask import distributed_snapshots
>>> from recovery.engine.partitioning import write_partitioned
>>> from recovery.analytics.roll_rates import roll_rates
>>> with tempfile.TemporaryDirectory() as tmp:
...     snaps = distributed_snapshots(write_partitioned(load_sample(), tmp + "/b", 3))
...     rates = roll_rates(snaps.persist(scheduler="sync"))
>>> bool(rates.groupby(["month_end", "from_state"])["count_rate"].sum().round(9).eq(1).all())
True
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from recovery.analytics import kpis, recovery_curves, roll_rates, vintages
from recovery.analytics.common import month_end
from recovery.analytics.partitions import sum_partials
from recovery.config import Config
from recovery.errors import DataError

__all__ = [
    "DaskFrame",
    "flow_totals",
    "is_dask_frame",
    "kpi_totals",
    "recovery_totals",
    "vintage_totals",
]

_DASK_MODULES = ("dask", "dask_expr")


class DaskFrame(abc.ABC):
    """Virtual base class of the Dask DataFrames (and Series), without importing Dask.

    A class is a subclass when it comes from a Dask module and has ``npartitions``,
    so ``isinstance(frame, DaskFrame)`` and :func:`functools.singledispatch` (which
    honours such subclass hooks) recognise a Dask table whether or not Dask is
    installed.

    Examples
    --------
    >>> isinstance(pd.DataFrame(), DaskFrame)
    False
    """

    @property
    @abc.abstractmethod
    def npartitions(self) -> int:
        """Number of partitions."""

    @classmethod
    def __subclasshook__(cls, subclass: type) -> bool:
        if cls is DaskFrame:
            module = (getattr(subclass, "__module__", None) or "").split(".")[0]
            if module in _DASK_MODULES and hasattr(subclass, "npartitions"):
                return True
        return NotImplemented


def is_dask_frame(obj: Any) -> bool:
    """Whether ``obj`` is a Dask DataFrame (checked without importing Dask).

    Examples
    --------
    >>> is_dask_frame(pd.DataFrame())
    False
    """
    return isinstance(obj, DaskFrame)


def _month_numbers(frame: Any) -> np.ndarray:
    """Sorted month numbers (``year * 12 + month - 1``) of the whole table's month ends."""

    def months(part: pd.DataFrame) -> pd.Series:
        dates = pd.to_datetime(part["month_end"])
        return pd.Series(np.unique(dates.dt.year * 12 + dates.dt.month - 1), dtype="int64")

    found = frame.map_partitions(months, meta=("month_no", "int64")).compute()
    if not len(found):
        raise DataError("table 'snapshots' is empty")
    return np.unique(found.to_numpy())


def _partials(frame: Any, function: Callable[..., Any], *args: Any) -> list[Any]:
    """``function(partition, *args)`` of every partition, computed where the data is."""
    import dask

    if "account_id" not in frame.columns:
        raise DataError("table 'snapshots' lacks column 'account_id'")
    tasks = [dask.delayed(_skip_empty)(part, function, *args) for part in frame.to_delayed()]
    return [r for r in dask.compute(*tasks) if r is not None]


def _skip_empty(part: pd.DataFrame, function: Callable[..., Any], *args: Any) -> Any:
    return function(part, *args) if len(part) else None


# --------------------------------------------------------------------------- roll rates


@roll_rates.flow_totals.register(DaskFrame)
def flow_totals(
    frame: Any,
    config: Config | None,
    segments: list[str],
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Accounts and balance moving between states, summed over the partitions.

    The Dask implementation of :func:`recovery.analytics.roll_rates.flow_totals`:
    :func:`~recovery.analytics.roll_rates.flow_partial` of each partition, summed.
    """
    months = _month_numbers(frame)
    parts = _partials(frame, roll_rates.flow_partial, config, segments, accounts, months)
    return sum_partials(parts, ["month_end", *segments, "from_state", "to_state"])


# --------------------------------------------------------------------------- KPIs


@kpis.kpi_totals.register(DaskFrame)
def kpi_totals(
    frame: Any,
    config: Config,
    segments: list[str],
    accounts: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """The sums behind :func:`recovery.analytics.kpis.monthly_kpis`, summed over the partitions.

    The Dask implementation of :func:`recovery.analytics.kpis.kpi_totals`:
    :func:`~recovery.analytics.kpis.kpi_partial` of each partition, summed.
    """
    months = _month_numbers(frame)
    parts = _partials(frame, kpis.kpi_partial, config, segments, accounts, months)
    out = {}
    for name, keys in kpis.KPI_TOTAL_KEYS.items():
        keys = [keys[0], *segments, *keys[1:]]
        out[name] = sum_partials([p[name] for p in parts], keys)
    return out


# --------------------------------------------------------------------------- recovery


@recovery_curves.recovery_totals.register(DaskFrame)
def recovery_totals(
    frame: Any,
    config: Config,
    scope: str,
    bands: str,
    by: str | None,
    horizon_months: int,
    max_months: int,
    data_end: Any = None,
    amount_bands: Any = 4,
) -> pd.DataFrame:
    """Debts, accounts, balance, recovered, payers per age band, summed over partitions.

    The Dask implementation of :func:`recovery.analytics.recovery_curves.recovery_totals`:
    :func:`~recovery.analytics.recovery_curves.recovery_partial` of each partition,
    summed; the follow-up ends at ``data_end`` (default: the whole table's last month
    end). ``by="amount_band"`` (balance quantiles of the whole book) is refused.
    """
    if by == "amount_band":
        raise DataError(
            "by='amount_band' cuts balance quantiles of the whole book: not available on a "
            "Dask snapshots table (group by product or a column of the snapshots)"
        )
    if data_end is None:
        data_end = month_end(_month_numbers(frame)[-1:])[0]
    parts = _partials(
        frame,
        recovery_curves.recovery_partial,
        config, scope, bands, by, horizon_months, max_months, data_end, amount_bands,
    )  # fmt: skip
    parts = [p for p in parts if len(p)]
    if not parts:
        raise DataError(
            f"no {scope} debt with {horizon_months} months of follow-up before the data end; "
            "use a shorter horizon_months or more history"
        )
    groups = ([by] if by else []) + ["age_lo_months", "age_hi_months", "age_band"]
    return sum_partials(parts, groups)


# --------------------------------------------------------------------------- vintages


@vintages.vintage_totals.register(DaskFrame)
def vintage_totals(
    frame: Any,
    accounts: pd.DataFrame | None,
    thresholds: Sequence[int],
    config: Config,
    segments: list[str],
    cohort: str,
) -> dict[str, pd.DataFrame]:
    """Accounts observed and accounts ever past each threshold per cohort and month on
    book, summed over partitions.

    The Dask implementation of :func:`recovery.analytics.vintages.vintage_totals`:
    :func:`~recovery.analytics.vintages.vintage_partial` of each partition (with the
    whole table's first and last month), summed.
    """
    months = _month_numbers(frame)
    first_no, last_no = int(months[0]), int(months[-1])
    parts = _partials(
        frame,
        vintages.vintage_partial,
        accounts, thresholds, config, segments, cohort, first_no, last_no,
    )  # fmt: skip
    keys = ["vintage", *segments]
    return {
        "counts": sum_partials([p["counts"] for p in parts], [*keys, "months_on_book"]),
        "cohorts": sum_partials([p["cohorts"] for p in parts], keys),
    }
