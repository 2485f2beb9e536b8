"""Collection KPIs per month and segment (DESIGN.md §3), from ``snapshots`` alone.

Month conventions: a *stock* KPI (overdue rate) is measured at the month end it is
labelled with; a *flow* KPI of month *m* (collection rate, cure rate, recoveries in
the month) relates what happened during *m* to the accounts' state at the previous
month end, *m - 1* — "the start of the month". Only calendar-consecutive month ends
both present in the table are paired.

* **Overdue rate 30+ / 90+**: open accounts with DPD >= 30 (>= 90) days over all open
  accounts, by count and by balance. Charged-off accounts are in the recovery book,
  not in the denominator.
* **Collection rate by bucket**: payments collected during *m*
  (``paid_in_month``, currency) from the accounts in a bucket at *m - 1*, divided by
  their overdue balance (``amount_overdue``) at *m - 1*; for charged-off accounts
  the base is their whole balance. Payments of the installment falling due during
  the month count too, so a rate can exceed 1.
* **Cure rate**: accounts delinquent (bucket M1 or worse) at *m - 1* that are
  current (M0) at *m*, over those delinquent at *m - 1*.
* **Post-charge-off recovery rate** by charge-off cohort: payments after the
  charge-off month over the balance at charge-off.
* **Amount collected** and **cost per unit collected** (when an ``actions`` table
  and ``config.costs.per_action`` are given).

The average collection cycle (days from episode start to resolution) is in
:mod:`recovery.analytics.collection_cycle`.

:func:`monthly_kpis` is a function of sums (accounts, balances, amounts per month,
segment and state): :func:`kpi_totals` computes them, :func:`kpi_partial` of any
split of the accounts adds up to them, and :func:`kpis_from_totals` turns them into
rates. :func:`kpi_totals` dispatches on the type of the table, so an engine registers
its own implementation for its tables (:mod:`recovery.engine.dask_analytics`).

Examples
--------
>>> import pandas as pd
>>> from recovery.analytics.kpis import overdue_rates
>>> s = pd.DataFrame({"account_id": ["A", "B"],
...     "month_end": pd.to_datetime(["2024-01-31"] * 2), "dpd": [0, 40],
...     "bucket": ["M0", "M2"], "balance": [300.0, 100.0], "status": ["open"] * 2})
>>> r = overdue_rates(s)
>>> float(r["overdue_rate_30plus"].iloc[0]), float(r["overdue_rate_30plus_balance"].iloc[0])
(0.5, 0.25)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recovery.analytics.common import (
    SegmentArg,
    dispatch_on_table,
    in_words,
    legend_outside,
    month_number,
    percent_axis,
    plot_axes,
    segment_list,
)
from recovery.analytics.forecast_inputs import fit_rows, keep_fit_rows
from recovery.analytics.partitions import PartitionedSnapshots, sum_partials
from recovery.analytics.roll_rates import flows_of_transitions
from recovery.analytics.states import NEW_STATE, snapshot_states, sort_states, transitions
from recovery.config import Config
from recovery.data.contract import has_column, require_columns
from recovery.docstrings import fill_doc
from recovery.errors import DataError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "KPI_TOTAL_KEYS",
    "skip_amounts",
    "overdue_rates",
    "collection_rates",
    "cure_rates",
    "recovery_rates",
    "collection_costs",
    "monthly_kpis",
    "kpi_partial",
    "kpi_totals",
    "kpis_from_totals",
    "plot_kpis",
]


_COLLECTION_NEEDS = ("balance", "amount_overdue", "paid_in_month")
_PAYMENT_COLUMNS = (
    "amount_collected",
    "collected",
    "collected_delinquent",
    "recovered_charged_off",
    "actions",
    "collection_cost",
    "cost_per_unit_collected",
)


def skip_amounts(table: pd.DataFrame, snapshots: Any) -> pd.DataFrame:
    """A KPI table without the columns that need amounts ``snapshots`` lacks.

    A column named for a balance needs ``balance``; one of payments collected needs
    ``paid_in_month``; the collection rate needs the overdue amounts and payments; the
    in-month recovery rate payments and balances. None is filled with zeros.

    Parameters
    ----------
    table : DataFrame
        A KPI table computed from ``snapshots``.
    snapshots : DataFrame
        The table it was computed from (as given, before preparation).

    Returns
    -------
    DataFrame
        ``table`` itself when nothing is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> states = pd.DataFrame({"account_id": ["A"], "status": ["open"]})
    >>> k = pd.DataFrame({"open_accounts": [1], "open_balance": [0.0], "cure_rate": [0.5]})
    >>> skip_amounts(k, states).columns.tolist()
    ['open_accounts', 'cure_rate']
    """
    missing = {c for c in _COLLECTION_NEEDS if not has_column(snapshots, c)}
    if not missing:
        return table

    def needs(column: str) -> set[str]:
        if column == "collection_rate":
            return {"amount_overdue", "paid_in_month"}
        if column == "recovery_rate_in_month":
            return {"balance", "paid_in_month"}
        if column in _PAYMENT_COLUMNS:
            return {"paid_in_month"}
        return {"balance"} if "balance" in column else set()

    return table.drop(columns=[c for c in table.columns if needs(c) & missing])


def _month_label(period: pd.Series) -> pd.Series:
    return period.dt.to_timestamp(how="end").dt.normalize()


@fill_doc
def overdue_rates(
    snapshots: pd.DataFrame,
    thresholds: Sequence[int] = (30, 90),
    config: Config | None = None,
    segment: SegmentArg = None,
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Overdue rates (DPD >= threshold) of the open book per month end and segment.

    Parameters
    ----------
    {{snapshots_table}}
    thresholds : sequence of int
        DPD thresholds (days).
    {{config_buckets}}
    {{segment_columns}}
    {{accounts_for_segments}}

    Returns
    -------
    DataFrame
        ``month_end``, segments, ``open_accounts``, ``open_balance`` (currency),
        and per threshold *t*: ``accounts_<t>plus``, ``balance_<t>plus``,
        ``overdue_rate_<t>plus`` (count share) and ``overdue_rate_<t>plus_balance``.
        Without balances (a status-only history) the counts and count shares alone.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"account_id": ["A", "B", "C"],
    ...     "month_end": pd.to_datetime(["2024-01-31"] * 3), "dpd": [0, 95, 200],
    ...     "bucket": ["M0", "M4", None], "balance": [100.0, 100.0, 50.0],
    ...     "status": ["open", "open", "charged_off"]})
    >>> float(overdue_rates(s)["overdue_rate_90plus"].iloc[0])
    0.5
    """
    segments = segment_list(segment)
    s = snapshot_states(snapshots, config, segments, accounts)
    out = _overdue_rates_of(_overdue_totals(s, thresholds, segments), thresholds)
    return skip_amounts(out, snapshots)


def _overdue_totals(s: pd.DataFrame, thresholds: Sequence[int], segments: list[str]):
    """Open accounts and balances, in total and past each threshold (additive sums)."""
    s = s[s["status"].astype(str).eq("open")]
    frame = s[["period", *segments]].copy()
    frame["open_accounts"] = 1
    frame["open_balance"] = s["balance"]
    for t in thresholds:
        hit = s["dpd"] >= int(t)
        frame[f"accounts_{t}plus"] = hit.astype(int)
        frame[f"balance_{t}plus"] = s["balance"].where(hit, 0.0)
    return frame.groupby(["period", *segments], dropna=False, observed=True).sum().reset_index()


def _overdue_rates_of(out: pd.DataFrame, thresholds: Sequence[int]) -> pd.DataFrame:
    out = out.copy()
    for t in thresholds:
        out[f"overdue_rate_{t}plus"] = out[f"accounts_{t}plus"] / out["open_accounts"]
        out[f"overdue_rate_{t}plus_balance"] = (
            out[f"balance_{t}plus"] / out["open_balance"]
        ).where(out["open_balance"] > 0)
    out.insert(0, "month_end", _month_label(out.pop("period")))
    return out


@fill_doc
def collection_rates(
    snapshots: pd.DataFrame,
    config: Config | None = None,
    segment: SegmentArg = None,
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Collection rate by bucket: collected in month *m* / overdue balance at *m - 1*.

    Parameters
    ----------
    {{snapshots_table}}
    {{config_buckets}}
    {{segment_at_start}}
    {{accounts_for_segments}}

    Returns
    -------
    DataFrame
        ``month_end`` (*m*, the month collected in), segments, ``state`` (bucket or
        ``charged_off`` at *m - 1*), ``accounts``, ``overdue_balance`` (at *m - 1*,
        currency; the whole balance for ``charged_off``), ``collected`` (currency, in
        *m*), ``collection_rate`` (NaN when the overdue balance is 0, as for M0).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"account_id": ["A", "A"],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29"]), "dpd": [20, 0],
    ...     "bucket": ["M1", "M0"], "balance": [100.0, 80.0],
    ...     "amount_overdue": [10.0, 0.0], "paid_in_month": [0.0, 20.0],
    ...     "status": ["open"] * 2})
    >>> float(collection_rates(s)["collection_rate"].iloc[0])
    2.0
    """
    require_columns(snapshots, _COLLECTION_NEEDS, "the collection rate")
    segments = segment_list(segment)
    if isinstance(snapshots, PartitionedSnapshots):  # the KPIs' sums (read once)
        totals = kpi_totals(snapshots, config or Config(), segments, accounts)["collection"]
    else:
        totals = _collection_partial(snapshots, config, segments, accounts)
    return _collection_rates_of(totals, segments, config)


def _collection_partial(part, config, segments, accounts=None, months=None) -> pd.DataFrame:
    return _collection_totals(transitions(part, config, segments, accounts, months), segments)


def _collection_rates_of(totals: pd.DataFrame, segments: list[str], config: Config | None):
    out = totals.copy()
    out["collection_rate"] = (out["collected"] / out["overdue_balance"]).where(
        out["overdue_balance"] > 0
    )
    out = sort_states(out.rename(columns={"state": "from_state"}), ["month_end", *segments],
                       config)  # fmt: skip
    return out.rename(columns={"from_state": "state"})


def _collection_totals(t: pd.DataFrame, segments: list[str]) -> pd.DataFrame:
    """Accounts, overdue balance at m - 1 and collected in m per state (additive sums)."""
    t = t[t["from_state"] != NEW_STATE]
    base = t["amount_overdue"].where(t["from_state"] != "charged_off", t["balance"])
    frame = t[["next_month_end", *segments, "from_state"]].assign(
        accounts=1, overdue_balance=base, collected=t["next_paid_in_month"]
    )
    return (
        frame.groupby(["next_month_end", *segments, "from_state"], dropna=False, observed=True)
        .sum()
        .reset_index()
        .rename(columns={"next_month_end": "month_end", "from_state": "state"})
    )


@fill_doc
def cure_rates(
    snapshots: pd.DataFrame,
    config: Config | None = None,
    segment: SegmentArg = None,
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Cure rate: accounts delinquent at *m - 1* (M1 or worse) that are M0 at *m*.

    A cure read from snapshots is a return to the first bucket at month end; a re-age
    or restructure cannot be told apart from a payment cure without event tables.

    Parameters
    ----------
    {{snapshots_table}}
    {{config_buckets}}
    {{segment_at_start}}
    {{accounts_for_segments}}

    Returns
    -------
    DataFrame
        ``month_end`` (*m*), segments, ``delinquent_accounts``,
        ``delinquent_balance`` (at *m - 1*, currency), ``cured_accounts``,
        ``cured_balance`` (balance at *m - 1* of the cured), ``cure_rate`` and
        ``cure_rate_balance`` (the counts alone without balances).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"account_id": ["A", "B", "A", "B"],
    ...     "month_end": pd.to_datetime(["2024-01-31"] * 2 + ["2024-02-29"] * 2),
    ...     "dpd": [5, 5, 0, 35], "bucket": ["M1", "M1", "M0", "M2"],
    ...     "balance": [30.0, 10.0, 25.0, 10.0], "status": ["open"] * 4})
    >>> float(cure_rates(s)["cure_rate"].iloc[0])
    0.5
    """
    segments = segment_list(segment)
    t = transitions(snapshots, config, segments, accounts)
    return skip_amounts(_cure_rates_of(t, segments, config), snapshots)


def _cure_rates_of(t: pd.DataFrame, segments: list[str], config: Config | None):
    return _cure_rates_from(_cure_totals(t, segments, config))


def _cure_totals(t: pd.DataFrame, segments: list[str], config: Config | None) -> pd.DataFrame:
    """Delinquent and cured accounts and balances per month (additive sums)."""
    labels = (config or Config()).aging.bucket_labels()
    t = t[t["from_state"].isin(labels[1:])]
    cured = t["to_state"].eq(labels[0])
    frame = t[["next_month_end", *segments]].assign(
        delinquent_accounts=1,
        delinquent_balance=t["balance"],
        cured_accounts=cured.astype(int),
        cured_balance=t["balance"].where(cured, 0.0),
    )
    return (
        frame.groupby(["next_month_end", *segments], dropna=False, observed=True)
        .sum()
        .reset_index()
        .rename(columns={"next_month_end": "month_end"})
    )


def _cure_rates_from(out: pd.DataFrame) -> pd.DataFrame:
    out = out.copy()
    out["cure_rate"] = out["cured_accounts"] / out["delinquent_accounts"]
    out["cure_rate_balance"] = (out["cured_balance"] / out["delinquent_balance"]).where(
        out["delinquent_balance"] > 0
    )
    return out


@fill_doc
def recovery_rates(
    snapshots: pd.DataFrame,
    config: Config | None = None,
    segment: SegmentArg = None,
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Post-charge-off recovery rate by charge-off cohort (month of charge-off).

    The cohort is the month of ``charge_off_date`` when the snapshots carry it, else
    the first month end at which the account is ``charged_off``. The charged-off
    balance is the balance at the first charged-off month end; recoveries are the
    payments (``paid_in_month``) of the following months, whatever the later status
    (a settlement or payoff of a charged-off account is a recovery). Payments in the
    charge-off month itself are left out: monthly data cannot tell whether they came
    before or after the charge-off.

    Parameters
    ----------
    {{snapshots_table}}
    {{config_buckets}}
    segment : str or list of str, optional
        Segment columns (value at charge-off).
    {{accounts_for_segments}}

    Returns
    -------
    DataFrame
        ``cohort`` (charge-off month end), segments, ``accounts``,
        ``charged_off_balance`` (currency), ``recoveries`` (currency),
        ``recovery_rate``, ``months_observed`` (month ends after the cohort month in
        the table).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"account_id": ["A", "A", "A"],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31"]),
    ...     "dpd": [190, 220, 250], "bucket": [None] * 3, "balance": [100.0, 90.0, 80.0],
    ...     "paid_in_month": [5.0, 10.0, 10.0], "status": ["charged_off"] * 3})
    >>> float(recovery_rates(s)["recovery_rate"].iloc[0])
    0.2
    """
    require_columns(snapshots, ["balance", "paid_in_month"], "the post-charge-off recovery rate")
    segments = segment_list(segment)
    keys = ["cohort_period", *segments]
    if isinstance(snapshots, PartitionedSnapshots):

        def compute() -> pd.DataFrame:
            parts = snapshots.map(_recovery_partial, config, segments, accounts)
            return sum_partials(parts, keys) if any(len(p) for p in parts) else parts[0]

        out = snapshots.memo(("recovery_rates", config, segments, accounts), compute).copy()
        last_no = int(snapshots.months[-1])
    else:
        out = _recovery_partial(snapshots, config, segments, accounts)
        last_no = int(month_number(snapshots["month_end"]).max())
    if out.empty:
        cols = ["cohort", *segments, "accounts", "charged_off_balance", "recoveries"]
        return pd.DataFrame(columns=[*cols, "recovery_rate", "months_observed"])
    last = pd.Period(year=last_no // 12, month=last_no % 12 + 1, freq="M")
    out["recovery_rate"] = (out["recoveries"] / out["charged_off_balance"]).where(
        out["charged_off_balance"] > 0
    )
    cp = out["cohort_period"]
    out["months_observed"] = (last.year * 12 + last.month) - (cp.dt.year * 12 + cp.dt.month)
    out.insert(0, "cohort", _month_label(out.pop("cohort_period")))
    return out


def _recovery_partial(part, config, segments, accounts=None) -> pd.DataFrame:
    """Accounts, balance charged off and later recoveries per charge-off month (sums)."""
    s = snapshot_states(part, config, segments, accounts)  # repeated exits kept
    co = s[s["state"].eq("charged_off")]
    keys = ["cohort_period", *segments]
    if co.empty:
        return pd.DataFrame(columns=[*keys, "accounts", "charged_off_balance", "recoveries"])
    first = co.groupby("account_id", sort=False).head(1)
    first = first[["account_id", "period", "balance", *segments]].rename(
        columns={"period": "cohort_period", "balance": "charged_off_balance"}
    )
    if "charge_off_date" in s.columns:
        dates = (
            s.dropna(subset=["charge_off_date"]).groupby("account_id")["charge_off_date"].first()
        )
        from_dates = pd.to_datetime(first["account_id"].map(dates)).dt.to_period("M")
        first["cohort_period"] = from_dates.fillna(first["cohort_period"])
    later = s[["account_id", "period", "paid_in_month"]].merge(
        first[["account_id", "cohort_period"]], on="account_id"
    )
    later = later[later["period"] > later["cohort_period"]]
    paid = later.groupby("account_id")["paid_in_month"].sum()
    first["recoveries"] = first["account_id"].map(paid).fillna(0.0)
    out = (
        first.assign(accounts=1)
        .groupby(keys, dropna=False, observed=True)[
            ["accounts", "charged_off_balance", "recoveries"]
        ]
        .sum()
        .reset_index()
    )
    return out


@fill_doc
def collection_costs(
    actions: pd.DataFrame,
    snapshots: pd.DataFrame,
    config: Config | None = None,
    segment: SegmentArg = None,
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Collection cost and cost per unit collected, per month and segment.

    Cost is the number of actions in the month times ``config.costs.per_action`` of
    their channel (currency); actions of a channel without a cost are counted in
    ``uncosted_actions``. Collected is what the collection book paid in the month:
    payments during *m* of accounts delinquent (M1 or worse) or charged off at
    *m - 1* (see :func:`collection_rates`).

    Parameters
    ----------
    actions : DataFrame
        The ``actions`` table (account_id, ts, channel).
    {{snapshots_table}}
    config : Config, optional
        ``costs.per_action`` and bucket labels.
    segment : str or list of str, optional
        Segment columns; an action takes its account's value at the previous
        month end (actions on accounts without one fall under a missing segment).
    {{accounts_for_segments}}

    Returns
    -------
    DataFrame
        ``month_end``, segments, ``actions``, ``uncosted_actions``, ``cost``,
        ``collected`` (currency), ``cost_per_unit_collected``.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"account_id": ["A", "A"],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29"]), "dpd": [20, 0],
    ...     "bucket": ["M1", "M0"], "balance": [100.0, 80.0],
    ...     "amount_overdue": [10.0, 0.0], "paid_in_month": [0.0, 20.0],
    ...     "status": ["open"] * 2})
    >>> a = pd.DataFrame({"account_id": ["A", "A"], "channel": ["call", "visit"],
    ...     "ts": pd.to_datetime(["2024-02-03 10:00", "2024-02-10 15:00"])})
    >>> float(collection_costs(a, s)["cost_per_unit_collected"].iloc[0])
    1.3
    """
    config = config or Config()
    segments = segment_list(segment)
    need = {"account_id", "ts", "channel"} - set(actions.columns)
    if need:
        raise DataError(f"table 'actions' lacks column(s) {sorted(need)}")
    per_action = dict(config.costs.per_action)
    a = actions[["account_id", "ts", "channel"]].copy()
    a["account_id"] = a["account_id"].astype(str)
    a["period"] = pd.to_datetime(a["ts"]).dt.to_period("M")
    a["cost"] = a["channel"].astype(str).map(per_action)
    a["uncosted_actions"] = a["cost"].isna().astype(int)
    a["cost"] = a["cost"].fillna(0.0)
    a["actions"] = 1
    if segments:
        if isinstance(snapshots, PartitionedSnapshots):
            seg = snapshots.memo(
                ("segment_rows", config, segments, accounts),
                lambda: snapshots.concat(_segment_rows, config, segments, accounts),
            )
        else:
            seg = _segment_rows(snapshots, config, segments, accounts)
        a = a.merge(seg, on=["account_id", "period"], how="left")
    cost = (
        a.groupby(["period", *segments], dropna=False, observed=True)[
            ["actions", "uncosted_actions", "cost"]
        ]
        .sum()
        .reset_index()
    )
    cost["month_end"] = _month_label(cost.pop("period"))
    rates = collection_rates(snapshots, config, segments, accounts)
    book = rates[rates["state"] != config.aging.bucket_labels()[0]]
    collected = (
        book.groupby(["month_end", *segments], dropna=False, observed=True)["collected"]
        .sum()
        .reset_index()
    )
    out = cost.merge(collected, on=["month_end", *segments], how="outer")
    out[["actions", "uncosted_actions"]] = out[["actions", "uncosted_actions"]].fillna(0)
    out[["cost", "collected"]] = out[["cost", "collected"]].fillna(0.0)
    out["cost_per_unit_collected"] = (out["cost"] / out["collected"]).where(out["collected"] > 0)
    cols = ["month_end", *segments, "actions", "uncosted_actions", "cost", "collected"]
    out = out[[*cols, "cost_per_unit_collected"]]
    return out.sort_values(["month_end", *segments], kind="mergesort").reset_index(drop=True)


def _segment_rows(part, config, segments, accounts=None) -> pd.DataFrame:
    """Each account's segments at m - 1, keyed by the month m (``period``)."""
    s = snapshot_states(part, config, segments, accounts)
    return s[["account_id", "period", *segments]].assign(period=s["period"] + 1)


@fill_doc
def monthly_kpis(
    snapshots: pd.DataFrame,
    config: Config | None = None,
    segment: SegmentArg = None,
    accounts: pd.DataFrame | None = None,
    actions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The headline KPIs in one table, one row per month end and segment.

    Parameters
    ----------
    {{snapshots_table}}
    config : Config, optional
        Bucket labels, action costs.
    {{segment_columns}}
    {{accounts_for_segments}}
    actions : DataFrame, optional
        The ``actions`` table; adds ``collection_cost`` and
        ``cost_per_unit_collected``.

    Returns
    -------
    DataFrame
        ``month_end``, segments, the columns of :func:`overdue_rates`,
        ``amount_collected`` (all payments in the month, currency, every row),
        ``collected_delinquent`` and ``collection_rate`` (accounts M1 or worse at
        the start of the month), ``recovered_charged_off`` and
        ``recovery_rate_in_month`` (accounts charged off at the start of the month,
        over their balance), ``cure_rate``, ``charged_off_accounts`` and
        ``charged_off_balance`` (the recovery book at month end). A column that needs
        amounts the data lacks (balances, payments, overdue amounts: a status-only
        history) is left out, never filled with zeros (:func:`skip_amounts`).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"account_id": ["A", "A"],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29"]), "dpd": [20, 0],
    ...     "bucket": ["M1", "M0"], "balance": [100.0, 80.0],
    ...     "amount_overdue": [10.0, 0.0], "paid_in_month": [0.0, 20.0],
    ...     "status": ["open"] * 2})
    >>> k = monthly_kpis(s)
    >>> k[["amount_collected", "collection_rate", "cure_rate"]].iloc[1].tolist()
    [20.0, 2.0, 1.0]
    """
    config = config or Config()
    segments = segment_list(segment)
    keys = ["month_end", *segments]
    given = snapshots
    if isinstance(snapshots, pd.DataFrame):
        snapshots = snapshot_states(snapshots, config, segments, accounts)  # prepared once
    elif actions is not None and not isinstance(snapshots, PartitionedSnapshots):
        # an engine's table: only sums travel, not the accounts
        raise DataError("collection costs (actions=) need a pandas snapshots table")
    out = kpis_from_totals(kpi_totals(snapshots, config, segments, accounts), config, segments)
    out = skip_amounts(out, given)
    if actions is not None and has_column(given, "paid_in_month"):
        costs = collection_costs(actions, snapshots, config, segments, accounts)
        costs = costs.rename(columns={"cost": "collection_cost"})
        out = out.merge(
            costs[[*keys, "actions", "collection_cost", "cost_per_unit_collected"]],
            on=keys,
            how="left",
        )
    return out.sort_values(keys, kind="mergesort").reset_index(drop=True)


_OVERDUE_THRESHOLDS = (30, 90)  # the overdue rates of monthly_kpis


@fill_doc
def kpi_partial(
    part: pd.DataFrame,
    config: Config,
    segments: list[str],
    accounts: pd.DataFrame | None = None,
    months: np.ndarray | None = None,
    *,
    transitions_table: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """The additive sums behind :func:`monthly_kpis` of one table or part of one.

    For tables split by account (every account's rows in one part), each partial
    table summed over the parts (its columns other than the keys) is that of
    :func:`kpi_totals` of the whole.

    Parameters
    ----------
    part : DataFrame
        A ``snapshots`` table, or the rows of some of its accounts.
    config : Config
        Bucket labels.
    segments : list of str
        Segment columns.
    {{accounts_for_segments}}
    months : array of int, optional
        Month numbers the whole table covers (see
        :func:`recovery.analytics.states.transitions`); default those of ``part``.
    transitions_table : DataFrame, optional
        :func:`~recovery.analytics.states.transitions` of ``part`` (with these
        segments and months) when already computed.

    Returns
    -------
    dict of DataFrame
        ``stock`` (per month end and segment: ``amount_collected``,
        ``charged_off_accounts``, ``charged_off_balance``), ``overdue`` (per
        ``period`` and segment: open accounts and balances in total and past 30 and
        90 days), ``collection`` (per month end, segment and ``state`` at *m - 1*:
        ``accounts``, ``overdue_balance``, ``collected``) and ``cure`` (per month end
        and segment: delinquent and cured accounts and balances). Counts and sums
        only, never rates.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"account_id": ["A", "A"],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29"]), "dpd": [20, 0],
    ...     "bucket": ["M1", "M0"], "balance": [100.0, 80.0],
    ...     "paid_in_month": [0.0, 20.0], "status": ["open"] * 2})
    >>> sums = kpi_partial(s, Config(), [])
    >>> sorted(sums), sums["cure"]["cured_accounts"].tolist()
    (['collection', 'cure', 'overdue', 'stock'], [1])
    """
    s = snapshot_states(part, config, segments, accounts)
    t = (
        transitions(s, config, segments, months=months)
        if transitions_table is None
        else transitions_table
    )
    keys = ["month_end", *segments]
    charged = s["state"].eq("charged_off")  # every row: repeated exits' payments count
    stock = (
        s.assign(
            charged_off_accounts=charged.astype(int),
            charged_off_balance=s["balance"].where(charged, 0.0),
            amount_collected=s["paid_in_month"],
        )
        .groupby(keys, dropna=False, observed=True)[
            ["amount_collected", "charged_off_accounts", "charged_off_balance"]
        ]
        .sum()
        .reset_index()
    )
    return {
        "stock": stock,
        "overdue": _overdue_totals(s, _OVERDUE_THRESHOLDS, segments),
        "collection": _collection_totals(t, segments),
        "cure": _cure_totals(t, segments, config),
    }


@fill_doc
@dispatch_on_table
@fill_doc
def kpi_totals(
    snapshots: pd.DataFrame,
    config: Config,
    segments: list[str],
    accounts: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """The additive sums behind :func:`monthly_kpis` of a whole table.

    {{table_dispatch}}

    Parameters
    ----------
    {{snapshots_table}}
    config : Config
        Bucket labels.
    segments : list of str
        Segment columns.
    {{accounts_for_segments}}

    Returns
    -------
    dict of DataFrame
        As :func:`kpi_partial` of the whole table.
    """
    return kpi_partial(snapshots, config, segments, accounts)


#: The keys of each table of :func:`kpi_totals` (segments go after the first).
KPI_TOTAL_KEYS = {
    "stock": ["month_end"],
    "overdue": ["period"],
    "collection": ["month_end", "state"],
    "cure": ["month_end"],
}


@kpi_totals.register(PartitionedSnapshots)
def _kpi_totals_of_parts(snapshots, config, segments, accounts=None):
    def compute() -> dict[str, pd.DataFrame]:
        parts = snapshots.map(kpi_partial, config, segments, accounts, snapshots.months)
        return _sum_kpi_partials(parts, segments)

    return snapshots.memo(("kpis", config, segments, accounts), compute)


def _sum_kpi_partials(parts: list[dict[str, pd.DataFrame]], segments: list[str]) -> dict:
    return {
        name: sum_partials([p[name] for p in parts], [keys[0], *segments, *keys[1:]])
        for name, keys in KPI_TOTAL_KEYS.items()
    }


def read_flows_and_kpis(
    snapshots: PartitionedSnapshots,
    config: Config,
    segments: list[str],
    accounts: pd.DataFrame | None = None,
    forecast_since: int | None | bool = False,
) -> None:
    """Read the parts once for both the roll rates' flows and the KPIs' sums.

    The transitions of each part are computed once for
    :func:`~recovery.analytics.roll_rates.flow_totals` and :func:`kpi_totals`, whose
    results the table remembers (:meth:`PartitionedSnapshots.memo`, the keys they
    use): a later call of either, with the same arguments, reads nothing. With
    ``forecast_since`` (a month number, or None for all months), the rows of them the
    roll-rate forecaster's fits read from that month on
    (:func:`~recovery.analytics.forecast_inputs.fit_rows`) are kept for it as well.

    Examples
    --------
    >>> s = pd.DataFrame({"account_id": ["A", "A"],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29"]), "dpd": [20, 0],
    ...     "bucket": ["M1", "M0"], "balance": [100.0, 80.0],
    ...     "paid_in_month": [0.0, 20.0], "status": ["open"] * 2})
    >>> parts, config = PartitionedSnapshots.from_frame(s, 1), Config()
    >>> read_flows_and_kpis(parts, config, [])
    >>> kpi_totals(parts, config, [])["cure"]["cured_accounts"].tolist()
    [1]
    """
    months = snapshots.months
    fit: list[pd.DataFrame] = []

    def partials(part: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
        s = snapshot_states(part, config, segments, accounts)
        t = transitions(s, config, segments, months=months)
        kpi = kpi_partial(s, config, segments, accounts, months, transitions_table=t)
        if forecast_since is not False:
            fit.append(fit_rows(t, config, forecast_since))
        return flows_of_transitions(t, segments), kpi

    both: list = []

    def read() -> list:
        if not both:
            both.extend(snapshots.map(partials))
            if forecast_since is not False:
                keep_fit_rows(snapshots, config, fit, forecast_since)
        return both

    flow_keys = ["month_end", *segments, "from_state", "to_state"]
    snapshots.memo(
        ("flows", config, segments, accounts),
        lambda: sum_partials([f for f, _ in read()], flow_keys),
    )
    snapshots.memo(
        ("kpis", config, segments, accounts),
        lambda: _sum_kpi_partials([k for _, k in read()], segments),
    )


def kpis_from_totals(
    totals: dict[str, pd.DataFrame], config: Config, segments: list[str]
) -> pd.DataFrame:
    """The rates of :func:`monthly_kpis` from the sums of :func:`kpi_totals`.

    Parameters
    ----------
    totals : dict of DataFrame
        Output of :func:`kpi_totals` (or the sums of :func:`kpi_partial` tables).
    config : Config
        Bucket labels.
    segments : list of str
        Segment columns of the tables.

    Returns
    -------
    DataFrame
        One row per month end and segment, the columns of :func:`monthly_kpis`
        (without the collection costs), not sorted.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"account_id": ["A", "A"],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29"]), "dpd": [20, 0],
    ...     "bucket": ["M1", "M0"], "balance": [100.0, 80.0],
    ...     "paid_in_month": [0.0, 20.0], "status": ["open"] * 2})
    >>> k = kpis_from_totals(kpi_partial(s, Config(), []), Config(), [])
    >>> k["cure_rate"].tolist()
    [nan, 1.0]
    """
    keys = ["month_end", *segments]
    overdue = _overdue_rates_of(totals["overdue"], _OVERDUE_THRESHOLDS)
    out = totals["stock"].merge(overdue, on=keys, how="left")
    rates = totals["collection"]
    labels = config.aging.bucket_labels()
    late = rates[rates["state"].isin(labels[1:])]
    book = (
        late.groupby(keys, dropna=False, observed=True)[["overdue_balance", "collected"]]
        .sum()
        .rename(columns={"collected": "collected_delinquent"})
        .reset_index()
    )
    book["collection_rate"] = (book["collected_delinquent"] / book["overdue_balance"]).where(
        book["overdue_balance"] > 0
    )
    co = rates[rates["state"].eq("charged_off")]
    co = co.groupby(keys, dropna=False, observed=True)[["overdue_balance", "collected"]].sum()
    co = co.rename(
        columns={
            "overdue_balance": "charged_off_balance_start",
            "collected": "recovered_charged_off",
        }
    ).reset_index()
    co["recovery_rate_in_month"] = (
        co["recovered_charged_off"] / co["charged_off_balance_start"]
    ).where(co["charged_off_balance_start"] > 0)
    cures = _cure_rates_from(totals["cure"])[[*keys, "cure_rate"]]
    out = out.merge(book.drop(columns="overdue_balance"), on=keys, how="left")
    out = out.merge(co.drop(columns="charged_off_balance_start"), on=keys, how="left")
    return out.merge(cures, on=keys, how="left")


# ----------------------------------------------------------------------------- plots


@fill_doc
def plot_kpis(
    kpis: pd.DataFrame,
    columns: Sequence[str] = ("overdue_rate_30plus", "overdue_rate_90plus", "cure_rate"),
    ax: Axes | None = None,
) -> Axes:
    """KPI trend lines over month ends (from :func:`monthly_kpis`, one segment).

    Parameters
    ----------
    kpis : DataFrame
        Output of :func:`monthly_kpis` or a table with ``month_end`` and the columns.
    columns : sequence of str
        Share columns to draw.
    {{plot_ax}}

    {{returns_axes}}

    Examples
    --------
    >>> import pandas as pd
    >>> k = pd.DataFrame({"month_end": pd.to_datetime(["2024-01-31", "2024-02-29"]),
    ...                   "cure_rate": [0.3, 0.4]})
    >>> plot_kpis(k, columns=["cure_rate"]).get_title()
    'Collection KPIs'
    """
    ax = plot_axes(ax, (8, 4), layout="constrained")
    for col in columns:
        if col in kpis:
            ax.plot(kpis["month_end"], kpis[col], marker=".", label=in_words(col))
    percent_axis(ax.yaxis)
    ax.set_xlabel("month end")
    ax.set_ylabel("share")
    ax.set_title("Collection KPIs")
    legend_outside(ax, fontsize=8)
    return ax
