"""Vintage curves: how each monthly origination cohort goes bad, by months on book.

A **vintage** is the month of origination; **months on book** (MOB) at a month end is
the number of calendar months since that month (0 in the origination month). The
curve of a vintage gives, at each MOB, the share of its accounts that have *ever*
been 30+ (DPD >= 30 days), 60+, 90+ DPD or charged off by then (DESIGN.md §3), by
account count and by balance. A charged-off snapshot row counts as having reached
every threshold up to ``config.aging.charge_off_dpd``.

Only a ``snapshots`` table is needed. The origination date is taken from an
``origination_date`` column of the snapshots, else from the ``accounts`` table, else
(a snapshot-only book without dates) the account's first month end in the table is
used as its vintage. The balance weight is the account's ``principal`` from
``accounts`` when given, else its balance at its first snapshot.

The curves are shares of counts: accounts observed and accounts ever past each
threshold per cohort and month on book (:func:`vintage_totals`, additive over any
split of the accounts: :func:`vintage_partial` of each part adds up to it), divided
by :func:`vintage_curves_from_totals`. :func:`vintage_totals` dispatches on the type
of the table, so an engine registers its own implementation for its tables
(:mod:`recovery.engine.dask_analytics`).

Examples
--------
>>> import pandas as pd
>>> from recovery.analytics.vintages import vintage_curves
>>> s = pd.DataFrame({"account_id": ["A", "B", "A", "B"],
...     "month_end": pd.to_datetime(["2024-01-31"] * 2 + ["2024-02-29"] * 2),
...     "dpd": [0, 0, 31, 0], "bucket": ["M0", "M0", "M2", "M0"],
...     "balance": [100.0, 300.0, 100.0, 290.0], "status": ["open"] * 4})
>>> c = vintage_curves(s)
>>> c["ever_30plus"].tolist(), c["ever_30plus_balance"].tolist()
([0.0, 0.5], [0.0, 0.25])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from recovery.analytics.common import (
    SegmentArg,
    dispatch_on_table,
    month_end,
    percent_axis,
    plot_axes,
    segment_list,
)
from recovery.analytics.partitions import PartitionedSnapshots, sum_partials
from recovery.analytics.states import snapshot_states
from recovery.config import Config
from recovery.data.contract import has_column
from recovery.docstrings import fill_doc
from recovery.errors import DataError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "vintage_curves",
    "vintage_partial",
    "vintage_totals",
    "vintage_curves_from_totals",
    "plot_vintage_curves",
]

_COHORTS = {"month": "M", "quarter": "Q", "year": "Y"}


@fill_doc
def vintage_curves(
    snapshots: pd.DataFrame,
    accounts: pd.DataFrame | None = None,
    thresholds: Sequence[int] = (30, 60, 90),
    config: Config | None = None,
    segment: SegmentArg = None,
    cohort: str = "month",
    complete_only: bool = False,
) -> pd.DataFrame:
    """Share of each origination cohort ever past a DPD threshold, by months on book.

    Parameters
    ----------
    {{snapshots_table}}
    accounts : DataFrame, optional
        ``accounts`` table: origination dates, principal (balance weight) and
        segment columns.
    thresholds : sequence of int
        DPD thresholds (days); ``30`` gives ``ever_30plus`` (DPD >= 30).
    {{config_charge_off}}
    segment : str or list of str, optional
        Segment columns (value at the account's first snapshot).
    cohort : {"month", "quarter", "year"}
        Width of the origination cohorts. Months on book are always counted per
        account from its own origination month; at each MOB a cohort's share is over
        the accounts observed at that MOB (a December loan of a year cohort has one
        month less of history than a November one).
    complete_only : bool
        Keep only the MOB at which every loan of the cohort is observed (drops the
        thin, noisy tail of wide cohorts).

    Returns
    -------
    DataFrame
        One row per vintage (``YYYY-MM``, ``YYYYQn`` or ``YYYY``) × segment ×
        ``months_on_book`` observed (up to the table's last month end):
        ``accounts`` and ``amount`` (balance weight, currency) observed at that MOB,
        ``ever_<t>plus`` and ``ever_charged_off`` (share of accounts), the same with
        suffix ``_balance`` (share of amount), and ``left_censored`` (the cohort has
        loans older than the table's first month, whose "ever" flags only see
        delinquency from then on). MOB before the table's first month are omitted.
        Without balances (a status-only history) the shares of accounts alone.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"account_id": ["A", "A", "A"],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31"]),
    ...     "dpd": [0, 31, 0], "bucket": ["M0", "M2", "M0"],
    ...     "balance": [100.0, 100.0, 90.0], "status": ["open"] * 3})
    >>> vintage_curves(s, thresholds=[30])["ever_30plus"].tolist()
    [0.0, 1.0, 1.0]
    """
    config = config or Config()
    if cohort not in _COHORTS:
        raise ValueError(f"cohort must be one of {sorted(_COHORTS)}")
    segments = [c for c in segment_list(segment) if c != "vintage"]  # already the rows
    totals = vintage_totals(snapshots, accounts, thresholds, config, segments, cohort)
    out = vintage_curves_from_totals(totals, segments, complete_only)
    if not has_column(snapshots, "balance"):  # a status-only history: shares of accounts only
        out = out.drop(columns=[c for c in out.columns if c == "amount" or c.endswith("_balance")])
    return out


def _flag_names(thresholds: Sequence[int]) -> list[str]:
    return [*(f"ever_{int(x)}plus" for x in thresholds), "ever_charged_off"]


def vintage_partial(
    part: pd.DataFrame,
    accounts: pd.DataFrame | None,
    thresholds: Sequence[int],
    config: Config,
    segments: list[str],
    cohort: str,
    first_no: int,
    last_no: int,
) -> dict[str, pd.DataFrame]:
    """The additive counts behind :func:`vintage_curves` of one table or part of one.

    For tables split by account (every account's rows in one part), the tables of
    the parts summed over their keys are those of :func:`vintage_totals` of the whole.

    Parameters
    ----------
    part : DataFrame
        A ``snapshots`` table, or the rows of some of its accounts.
    accounts : DataFrame, optional
        ``accounts`` table: origination dates, principal (balance weight).
    thresholds : sequence of int
        DPD thresholds (days).
    config : Config
        Bucket labels and the charge-off threshold (days).
    segments : list of str
        Segment columns (value at the account's first snapshot).
    cohort : {"month", "quarter", "year"}
        Width of the origination cohorts.
    first_no, last_no : int
        First and last month numbers (``year * 12 + month - 1``) of the whole table:
        a part of a larger table passes the whole's.

    Returns
    -------
    dict of DataFrame
        ``counts`` (per cohort, segment and months on book: ``accounts``,
        ``amount``, and per flag the accounts and amount that reached it,
        ``<flag>_hits`` and ``<flag>_hits_amount``) and ``cohorts``
        (``cohort_accounts`` and ``left_censored_accounts`` per cohort).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"account_id": ["A", "A"],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29"]), "dpd": [0, 31],
    ...     "bucket": ["M0", "M2"], "balance": [100.0, 100.0], "status": ["open"] * 2})
    >>> c = vintage_partial(s, None, [30], Config(), [], "month", 24288, 24289)["counts"]
    >>> c["months_on_book"].tolist(), c["ever_30plus_hits"].tolist()
    ([0, 1], [0.0, 1.0])
    """
    s = snapshot_states(part, config, segments, accounts)
    first = s.groupby("account_id", sort=False).head(1).set_index("account_id")
    acc = pd.DataFrame(index=first.index)
    for col in segments:
        acc[col] = first[col]
    orig = None
    if "origination_date" in s.columns:
        orig = pd.to_datetime(first["origination_date"])
    elif accounts is not None and "origination_date" in accounts.columns:
        a = accounts.assign(account_id=accounts["account_id"].astype(str))
        a = a.drop_duplicates("account_id").set_index("account_id")
        orig = pd.to_datetime(a["origination_date"]).reindex(acc.index)
    orig_no = first["month_no"].astype(np.int64)  # fallback: first month in the table
    if orig is not None:
        known = orig.notna()
        orig_no = orig_no.where(~known, orig.dt.year * 12 + orig.dt.month - 1).astype(np.int64)
    acc["orig_no"] = orig_no
    if accounts is not None and "principal" in accounts.columns:
        a = accounts.assign(account_id=accounts["account_id"].astype(str))
        a = a.drop_duplicates("account_id").set_index("account_id")
        acc["amount"] = a["principal"].astype(float).reindex(acc.index).fillna(first["balance"])
    else:
        acc["amount"] = first["balance"].astype(float)
    acc["max_mob"] = last_no - acc["orig_no"]
    acc["min_mob"] = (first_no - acc["orig_no"]).clip(lower=0)
    acc = acc[acc["max_mob"] >= 0]
    names = _flag_names(thresholds)
    keys = ["vintage", *segments]
    if acc.empty:
        hits = [f"{n}_hits{x}" for n in names for x in ("", "_amount")]
        return {
            "counts": pd.DataFrame(columns=[*keys, "months_on_book", "accounts", "amount", *hits]),
            "cohorts": pd.DataFrame(columns=[*keys, "cohort_accounts", "left_censored_accounts"]),
        }
    mob = s["month_no"] - s["account_id"].map(acc["orig_no"])
    charged = s["state"].eq("charged_off")
    flags = {
        f"ever_{int(x)}plus": (s["dpd"] >= int(x))
        | (charged & (int(x) <= config.aging.charge_off_dpd))
        for x in thresholds
    }
    flags["ever_charged_off"] = charged
    periods = pd.PeriodIndex(month_end(acc["orig_no"].to_numpy()), freq="M")
    acc["vintage"] = periods.asfreq(_COHORTS[cohort]).astype(str)
    code = acc.groupby(keys, dropna=False, observed=True, sort=True).ngroup().to_numpy()
    n_cohorts, width = int(code.max()) + 1, int(acc["max_mob"].max()) + 2
    start_mob, stop_mob = acc["min_mob"].to_numpy(), acc["max_mob"].to_numpy() + 1
    weight = acc["amount"].to_numpy()

    def _at_risk(begin: np.ndarray, w: np.ndarray | None) -> np.ndarray:
        grid = np.zeros((n_cohorts, width + 1))
        ok = begin < stop_mob
        np.add.at(grid, (code[ok], begin[ok]), 1.0 if w is None else w[ok])
        np.add.at(grid, (code[ok], stop_mob[ok]), -1.0 if w is None else -w[ok])
        return np.cumsum(grid, axis=1)[:, :width]

    n = _at_risk(start_mob, None)
    w = _at_risk(start_mob, weight)
    rows, cols = np.nonzero(n > 0)
    labels = acc.groupby(keys, dropna=False, observed=True, sort=True).size().reset_index()
    out = labels.iloc[rows][keys].reset_index(drop=True)
    out["months_on_book"] = cols
    out["accounts"] = n[rows, cols].round().astype(int)
    out["amount"] = w[rows, cols]
    never = np.iinfo(np.int64).max // 2
    for name, flag in flags.items():
        hit = mob[flag.to_numpy()].groupby(s.loc[flag.to_numpy(), "account_id"]).min()
        first_hit = hit.reindex(acc.index).fillna(never).astype(np.int64).to_numpy()
        begin = np.maximum(first_hit, start_mob)
        begin = np.where(first_hit >= never, stop_mob, begin)  # never: no contribution
        out[f"{name}_hits"] = _at_risk(begin, None)[rows, cols]
        out[f"{name}_hits_amount"] = _at_risk(begin, weight)[rows, cols]
    cohorts = labels[keys].copy()
    cohorts["cohort_accounts"] = np.bincount(code, minlength=n_cohorts)
    censored = acc["orig_no"].to_numpy() < first_no
    cohorts["left_censored_accounts"] = np.bincount(code, weights=censored, minlength=n_cohorts)
    return {"counts": out, "cohorts": cohorts}


@dispatch_on_table
@fill_doc
def vintage_totals(
    snapshots: pd.DataFrame,
    accounts: pd.DataFrame | None,
    thresholds: Sequence[int],
    config: Config,
    segments: list[str],
    cohort: str,
) -> dict[str, pd.DataFrame]:
    """The additive counts behind :func:`vintage_curves` of a whole table.

    {{table_dispatch}}

    Parameters
    ----------
    {{snapshots_table}}
    accounts, thresholds, config, segments, cohort
        As for :func:`vintage_partial`.

    Returns
    -------
    dict of DataFrame
        As :func:`vintage_partial`, with the table's own first and last month.

    Raises
    ------
    DataError
        When the table is empty.
    """
    s = snapshot_states(snapshots, config, segments, accounts)
    if s.empty:
        raise DataError("table 'snapshots' is empty; vintage curves need rows")
    first_no, last_no = int(s["month_no"].min()), int(s["month_no"].max())
    return vintage_partial(s, accounts, thresholds, config, segments, cohort, first_no, last_no)


@vintage_totals.register(PartitionedSnapshots)
def _vintage_totals_of_parts(snapshots, accounts, thresholds, config, segments, cohort):
    first_no, last_no = int(snapshots.months[0]), int(snapshots.months[-1])
    keys = ["vintage", *segments]

    def compute() -> dict[str, pd.DataFrame]:
        parts = snapshots.map(
            vintage_partial, accounts, thresholds, config, segments, cohort, first_no, last_no
        )
        return {
            "counts": sum_partials([p["counts"] for p in parts], [*keys, "months_on_book"]),
            "cohorts": sum_partials([p["cohorts"] for p in parts], keys),
        }

    key = ("vintages", accounts, list(thresholds), config, segments, cohort)
    return snapshots.memo(key, compute)


def vintage_curves_from_totals(
    totals: dict[str, pd.DataFrame], segments: list[str], complete_only: bool
) -> pd.DataFrame:
    """The curves of :func:`vintage_curves` from the counts of :func:`vintage_totals`.

    Parameters
    ----------
    totals : dict of DataFrame
        Output of :func:`vintage_totals` (or the sums of :func:`vintage_partial`).
    segments : list of str
        Segment columns of the tables.
    complete_only : bool
        Keep only the months on book at which every loan of the cohort is observed.

    Returns
    -------
    DataFrame
        As :func:`vintage_curves`.

    Examples
    --------
    >>> import pandas as pd
    >>> counts = pd.DataFrame({"vintage": ["2024-01"] * 2, "months_on_book": [0, 1],
    ...     "accounts": [2, 2], "amount": [300.0, 300.0], "ever_30plus_hits": [0.0, 1.0],
    ...     "ever_30plus_hits_amount": [0.0, 100.0]})
    >>> cohorts = pd.DataFrame({"vintage": ["2024-01"], "cohort_accounts": [2],
    ...     "left_censored_accounts": [0]})
    >>> c = vintage_curves_from_totals({"counts": counts, "cohorts": cohorts}, [], False)
    >>> c["ever_30plus"].tolist(), c["ever_30plus_balance"].round(3).tolist()
    ([0.0, 0.5], [0.0, 0.333])
    """
    keys = ["vintage", *segments]
    out = totals["counts"].copy()
    flags = [c.removesuffix("_hits") for c in out.columns if c.endswith("_hits")]
    for name in flags:
        out[name] = out.pop(f"{name}_hits") / out["accounts"].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            amount = out["amount"].to_numpy()
            out[f"{name}_balance"] = np.where(
                amount > 0, out.pop(f"{name}_hits_amount").to_numpy() / amount, np.nan
            )
    cohorts = totals["cohorts"]
    out = out.merge(cohorts, on=keys, how="left", validate="m:1")
    out["left_censored"] = out.pop("left_censored_accounts").to_numpy() > 0
    if complete_only:
        out = out[out["accounts"].to_numpy() == out["cohort_accounts"].to_numpy()]
    ordered = [
        "vintage",
        *segments,
        "months_on_book",
        "accounts",
        "amount",
        *flags,
        *[f"{f}_balance" for f in flags],
        "left_censored",
    ]
    out = out[ordered].sort_values(["vintage", *segments, "months_on_book"], kind="mergesort")
    return out.reset_index(drop=True)


@fill_doc
def plot_vintage_curves(
    curves: pd.DataFrame,
    metric: str = "ever_30plus",
    ax: Axes | None = None,
    max_legend: int = 12,
) -> Axes:
    """Vintage curves of one metric: one line per vintage against months on book.

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`vintage_curves` (one segment).
    metric : str
        A share column, e.g. ``ever_30plus``, ``ever_90plus_balance``,
        ``ever_charged_off``.
    {{plot_ax}}
    max_legend : int
        Label each vintage when there are at most this many; else colour runs from
        oldest (dark) to newest (light) and only the first and last are labelled.

    {{returns_axes}}

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"vintage": ["2024-01"] * 2, "months_on_book": [0, 1],
    ...                   "ever_30plus": [0.0, 0.1]})
    >>> plot_vintage_curves(c).get_xlabel()
    'months on book'
    """
    import matplotlib.pyplot as plt

    ax = plot_axes(ax, (8, 4.5), layout="constrained")
    vintages = list(pd.unique(curves["vintage"]))
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, max(len(vintages), 1)))
    for i, (v, part) in enumerate(curves.groupby("vintage", sort=True)):
        label = v if len(vintages) <= max_legend or i in (0, len(vintages) - 1) else None
        ax.plot(part["months_on_book"], part[metric], color=colours[i], lw=1.2, label=label)
    label = _metric_label(metric)
    ax.set_xlabel("months on book")
    ax.set_ylabel(f"share {label}")
    percent_axis(ax.yaxis)
    ax.set_title(f"Vintage curves: {label}")
    if vintages:
        ax.legend(title="vintage", fontsize=7, ncol=2)
    return ax


def _metric_label(metric: str) -> str:
    """``ever_90plus_balance`` -> ``ever 90+ DPD (by balance)``."""
    by_balance = metric.endswith("_balance")
    name = metric.removesuffix("_balance").replace("plus", "+ DPD").replace("_", " ")
    return f"{name} (by balance)" if by_balance else name
