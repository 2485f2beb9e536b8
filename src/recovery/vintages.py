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

Examples
--------
>>> import pandas as pd
>>> from recovery.vintages import vintage_curves
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

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.errors import DataError
from recovery.roll_rates import SegmentArg, _segment_list, snapshot_states

__all__ = ["vintage_curves", "plot_vintage_curves"]


def vintage_curves(
    snapshots: pd.DataFrame,
    accounts: pd.DataFrame | None = None,
    thresholds: Sequence[int] = (30, 60, 90),
    config: Config | None = None,
    segment: SegmentArg = None,
) -> pd.DataFrame:
    """Share of each origination cohort ever past a DPD threshold, by months on book.

    Parameters
    ----------
    snapshots : DataFrame
        The ``snapshots`` table.
    accounts : DataFrame, optional
        ``accounts`` table: origination dates, principal (balance weight) and
        segment columns.
    thresholds : sequence of int
        DPD thresholds (days); ``30`` gives ``ever_30plus`` (DPD >= 30).
    config : Config, optional
        Bucket labels and the charge-off threshold (days).
    segment : str or list of str, optional
        Segment columns (value at the account's first snapshot).

    Returns
    -------
    DataFrame
        One row per vintage (``YYYY-MM``) × segment × ``months_on_book`` observed
        (up to the table's last month end): ``accounts``, ``amount`` (balance
        weight, currency), ``ever_<t>plus`` and ``ever_charged_off`` (share of
        accounts), the same with suffix ``_balance`` (share of amount), and
        ``left_censored`` (the vintage is older than the table's first month, so
        its "ever" flags only see delinquency from then on). MOB before the table's
        first month are omitted.

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
    segments = [c for c in _segment_list(segment) if c != "vintage"]  # already the rows
    s = snapshot_states(snapshots, config, segments, accounts)
    if s.empty:
        raise DataError("table 'snapshots' is empty; vintage curves need rows")
    first = s.groupby("account_id", sort=False).head(1).set_index("account_id")
    acc = pd.DataFrame(index=first.index)
    acc[segments] = first[segments] if segments else None
    orig = None
    if "origination_date" in s.columns:
        orig = pd.to_datetime(first["origination_date"])
    elif accounts is not None and "origination_date" in accounts.columns:
        a = accounts.assign(account_id=accounts["account_id"].astype(str))
        orig = pd.to_datetime(a.set_index("account_id")["origination_date"]).reindex(acc.index)
    if orig is not None and orig.notna().all():
        acc["vintage"] = orig.dt.to_period("M")
    else:
        fallback = first["period"]
        acc["vintage"] = orig.dt.to_period("M").fillna(fallback) if orig is not None else fallback
    if accounts is not None and "principal" in accounts.columns:
        a = accounts.assign(account_id=accounts["account_id"].astype(str))
        principal = a.set_index("account_id")["principal"].astype(float).reindex(acc.index)
        acc["amount"] = principal.fillna(first["balance"])
    else:
        acc["amount"] = first["balance"]
    first_period = s["period"].min()
    last_period = s["period"].max()
    s = s.merge(acc[["vintage"]], left_on="account_id", right_index=True, how="left")
    s["mob"] = _months_between(s["vintage"], s["period"])
    charged = s["state"].eq("charged_off")
    flags = {f"ever_{int(t)}plus": (s["dpd"] >= int(t)) | (
        charged & (int(t) <= config.aging.charge_off_dpd)
    ) for t in thresholds}  # fmt: skip
    flags["ever_charged_off"] = charged
    acc["max_mob"] = _months_between(acc["vintage"], pd.Series(last_period, index=acc.index))
    acc["min_mob"] = _months_between(acc["vintage"], pd.Series(first_period, index=acc.index))
    acc["min_mob"] = acc["min_mob"].clip(lower=0)
    for name, flag in flags.items():
        first_mob = s.loc[flag.to_numpy()].groupby("account_id")["mob"].min()
        acc[name] = first_mob.reindex(acc.index).clip(lower=0)
    keys = ["vintage", *segments]
    cohort = acc.groupby(keys, dropna=False, observed=True).agg(
        accounts=("amount", "size"),
        amount=("amount", "sum"),
        min_mob=("min_mob", "min"),
        max_mob=("max_mob", "max"),
    )
    cohort = cohort[cohort["max_mob"] >= 0].reset_index()
    span = (cohort["max_mob"] - cohort["min_mob"] + 1).clip(lower=0).to_numpy()
    grid = cohort.loc[cohort.index.repeat(span)].reset_index(drop=True)
    grid["months_on_book"] = grid["min_mob"].to_numpy() + _ranges(span)
    for name in flags:
        hits = acc[acc[name].notna()]
        counts = (
            hits.groupby([*keys, name], dropna=False, observed=True)["amount"]
            .agg(["size", "sum"])
            .reset_index()
            .rename(columns={name: "months_on_book", "size": "_n", "sum": "_w"})
        )
        counts["months_on_book"] = counts["months_on_book"].astype(int)
        g = grid[[*keys, "months_on_book"]].merge(counts, on=[*keys, "months_on_book"], how="left")
        g[["_n", "_w"]] = g[["_n", "_w"]].fillna(0.0)
        cum = g.groupby(keys, dropna=False, observed=True, sort=False)[["_n", "_w"]].cumsum()
        grid[name] = cum["_n"].to_numpy() / grid["accounts"]
        with np.errstate(invalid="ignore", divide="ignore"):
            grid[f"{name}_balance"] = np.where(
                grid["amount"] > 0,
                cum["_w"].to_numpy() / grid["amount"],
                np.nan,
            )
    grid["left_censored"] = grid["vintage"] < first_period
    grid["vintage"] = grid["vintage"].astype(str)
    cols = [
        "vintage",
        *segments,
        "months_on_book",
        "accounts",
        "amount",
        *flags,
        *[f"{n}_balance" for n in flags],
        "left_censored",
    ]
    out = grid[cols].sort_values(["vintage", *segments, "months_on_book"], kind="mergesort")
    return out.reset_index(drop=True)


def _months_between(start: pd.Series, end: pd.Series) -> pd.Series:
    """Calendar months from ``start`` to ``end`` (monthly Periods), as integers."""
    s = start.dt.year * 12 + start.dt.month
    e = end.dt.year * 12 + end.dt.month
    return (e - s).astype(int)


def _ranges(lengths: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(n)`` for each n in ``lengths`` (vectorised)."""
    lengths = np.asarray(lengths, dtype=int)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=int)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.arange(total) - starts


def plot_vintage_curves(
    curves: pd.DataFrame,
    metric: str = "ever_30plus",
    ax=None,
    max_legend: int = 12,
):
    """Vintage curves of one metric: one line per vintage against months on book.

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`vintage_curves` (one segment).
    metric : str
        A share column, e.g. ``ever_30plus``, ``ever_90plus_balance``,
        ``ever_charged_off``.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.
    max_legend : int
        Label each vintage when there are at most this many; else colour runs from
        oldest (dark) to newest (light) and only the first and last are labelled.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"vintage": ["2024-01"] * 2, "months_on_book": [0, 1],
    ...                   "ever_30plus": [0.0, 0.1]})
    >>> plot_vintage_curves(c).get_xlabel()
    'months on book'
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    vintages = list(pd.unique(curves["vintage"]))
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, max(len(vintages), 1)))
    for i, (v, part) in enumerate(curves.groupby("vintage", sort=True)):
        label = v if len(vintages) <= max_legend or i in (0, len(vintages) - 1) else None
        ax.plot(part["months_on_book"], part[metric], color=colours[i], lw=1.2, label=label)
    ax.set_xlabel("months on book")
    ax.set_ylabel(f"share {metric.replace('_', ' ')}")
    ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.set_title(f"Vintage curves: {metric.replace('_', ' ')}")
    if vintages:
        ax.legend(title="vintage", fontsize=7, ncol=2)
    return ax
