"""Cross-account analytics of a Dask snapshots table, without collecting its rows.

Roll rates, vintage curves, recovery by debt age and the monthly KPIs aggregate over
accounts, so they cannot simply run per partition. But each is a ratio of **sums**:
accounts moving between states, balances, amounts collected. When every account's
rows sit in one partition (a table from :func:`recovery.engine.dask.distributed_snapshots`,
or any snapshots table partitioned by account), each partition computes its additive
partial table — counts and sums, numerators and denominators, never rates — with the
pandas functions' own building blocks; the partial tables are summed (they have one
row per month × segment × state, a few thousand rows however large the book) and the
pandas function finishes with the same code as for a pandas table. Only the small
partial tables travel to the client.

What must be the same for every partition is read from the whole table first (one
cheap pass): the month ends it covers (a month missing from a partition is still a
month of the table: its accounts on the books at *m* then left by *m + 1*), its
first and last month (vintage censoring) and its last month end (the recovery
follow-up). Each analytics call therefore reads the table twice: ``persist()`` a lazy
snapshots table before several calls.

Not available on a Dask table: bootstrap intervals of recovery by age (they resample
whole accounts: pass ``n_bootstrap=0``), its ``by="amount_band"`` (balance quantiles
of the whole book) and the collection costs of the KPIs (``actions=``).

The public functions (:func:`recovery.analytics.roll_rates.roll_rates`,
:func:`recovery.analytics.vintages.vintage_curves`, :func:`recovery.analytics.recovery_curves.recovery_by_age`,
:func:`recovery.analytics.kpis.monthly_kpis`) dispatch here when given a Dask DataFrame.

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

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.errors import DataError

__all__ = ["is_dask_frame", "flow_totals", "kpi_totals", "recovery_totals", "vintage_totals"]


def is_dask_frame(obj: Any) -> bool:
    """Whether ``obj`` is a Dask DataFrame (checked without importing Dask).

    Examples
    --------
    >>> is_dask_frame(pd.DataFrame())
    False
    """
    module = type(obj).__module__.split(".")[0]
    return module in ("dask", "dask_expr") and hasattr(obj, "npartitions")


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


def _sum(tables: Sequence[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    """Sum partial tables over their keys (the same key in two partitions adds up)."""
    tables = [t for t in tables if len(t)]
    if not tables:
        raise DataError("no rows to aggregate in the snapshots table")
    both = pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]
    return both.groupby(keys, dropna=False, observed=True, sort=True).sum().reset_index()


# --------------------------------------------------------------------------- roll rates


def _flow_partial(part, config, segments, accounts, months):
    from recovery.analytics.roll_rates import _flow_totals, _transitions_of, snapshot_states

    s = snapshot_states(part, config, segments, accounts)
    return _flow_totals(_transitions_of(s, segments, months), ["month_end", *segments])


def flow_totals(
    frame: Any,
    config: Config | None,
    segments: list[str],
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Accounts and balance moving between states, summed over the partitions.

    The additive input of :func:`recovery.analytics.roll_rates.roll_rates` (its ``_flow_totals``).
    """
    months = _month_numbers(frame)
    parts = _partials(frame, _flow_partial, config, segments, accounts, months)
    return _sum(parts, ["month_end", *segments, "from_state", "to_state"])


# --------------------------------------------------------------------------- KPIs

_KPI_KEYS = {
    "stock": ["month_end"],
    "overdue": ["period"],
    "collection": ["month_end", "state"],
    "cure": ["month_end"],
}


def _kpi_partial(part, config, segments, accounts, months):
    from recovery.analytics.kpis import _kpi_totals
    from recovery.analytics.roll_rates import _transitions_of, snapshot_states

    s = snapshot_states(part, config, segments, accounts)
    return _kpi_totals(s, _transitions_of(s, segments, months), config, segments)


def kpi_totals(
    frame: Any,
    config: Config,
    segments: list[str],
    accounts: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """The sums behind :func:`recovery.analytics.kpis.monthly_kpis`, summed over the partitions."""
    months = _month_numbers(frame)
    parts = _partials(frame, _kpi_partial, config, segments, accounts, months)
    out = {}
    for name, keys in _KPI_KEYS.items():
        keys = [keys[0], *segments, *keys[1:]]
        out[name] = _sum([p[name] for p in parts], keys)
    return out


# --------------------------------------------------------------------------- recovery


def _recovery_partial(part, config, scope, bands, by, horizon, max_months, data_end, groups):
    from recovery.analytics.recovery_curves import _age_observations, _grouped_rates

    obs = _age_observations(part, config, scope, bands, by, horizon, max_months, 4, data_end)
    if obs.empty:
        return obs.iloc[:0, :0]
    return _grouped_rates(obs, groups, None, config.analytics.confidence, 0)


def recovery_totals(
    frame: Any,
    config: Config,
    scope: str,
    bands: str,
    by: str | None,
    horizon: int,
    max_months: int,
    data_end: Any = None,
) -> pd.DataFrame:
    """Debts, accounts, balance, recovered, payers per age band, summed over partitions.

    The additive input of :func:`recovery.analytics.recovery_curves.recovery_by_age`; the
    follow-up ends at ``data_end`` (default: the whole table's last month end).
    """
    if by == "amount_band":
        raise DataError(
            "by='amount_band' cuts balance quantiles of the whole book: not available on a "
            "Dask snapshots table (group by product or a column of the snapshots)"
        )
    if data_end is None:
        from recovery.analytics.roll_rates import _month_end

        data_end = _month_end(_month_numbers(frame)[-1:])[0]
    groups = ([by] if by else []) + ["age_lo_months", "age_hi_months", "age_band"]
    parts = _partials(
        frame, _recovery_partial, config, scope, bands, by, horizon, max_months, data_end, groups
    )
    parts = [p for p in parts if len(p)]
    if not parts:
        raise DataError(
            f"no {scope} debt with {horizon} months of follow-up before the data end; "
            "use a shorter horizon_months or more history"
        )
    return _sum(parts, groups)


# --------------------------------------------------------------------------- vintages


def _vintage_partial(part, accounts, thresholds, config, segments, cohort, first_no, last_no):
    from recovery.analytics.roll_rates import snapshot_states
    from recovery.analytics.vintages import _vintage_counts

    s = snapshot_states(part, config, segments, accounts)
    return _vintage_counts(s, accounts, thresholds, config, segments, cohort, first_no, last_no)


def vintage_totals(
    frame: Any,
    accounts: pd.DataFrame | None,
    thresholds: Sequence[int],
    config: Config,
    segments: list[str],
    cohort: str,
) -> dict[str, pd.DataFrame]:
    """Accounts observed and accounts ever past each threshold per cohort and month on
    book, summed over partitions (the input of :func:`recovery.analytics.vintages.vintage_curves`)."""
    months = _month_numbers(frame)
    first_no, last_no = int(months[0]), int(months[-1])
    parts = _partials(
        frame, _vintage_partial, accounts, thresholds, config, segments, cohort, first_no, last_no
    )
    keys = ["vintage", *segments]
    return {
        "counts": _sum([p["counts"] for p in parts], [*keys, "months_on_book"]),
        "cohorts": _sum([p["cohorts"] for p in parts], keys),
    }
