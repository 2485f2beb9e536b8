"""Roll rates, roll-forward / stay / cure trends and net flow rates (DESIGN.md §3).

Everything here is computed from a ``snapshots`` table alone (one row per account ×
month end, :data:`recovery.data.schema.TABLES` ``['snapshots']``), so it applies to a
lender that only has monthly performance data. The states and the month-to-month
transitions between them are those of :mod:`recovery.analytics.states`: buckets and
``charged_off`` on the books at *m*, to every state at *m + 1* (exits included), and
``new`` for the accounts entering at *m + 1*.

Roll rates are ratios of sums, so they are computed in two steps: the accounts and
balance moving between states per month and segment (:func:`flow_totals`, additive
over any split of the accounts: :func:`flow_partial` of each part adds up to it), then
the shares of each from-state's total (:func:`roll_rates_from_totals`).
:func:`flow_totals` dispatches on the type of the table (:func:`functools.singledispatch`):
the pandas implementation is here, and an engine registers its own for its tables
(:mod:`recovery.engine.dask_analytics` for Dask DataFrames).

Examples
--------
>>> import pandas as pd
>>> from recovery.analytics.roll_rates import roll_rate_matrix
>>> snaps = pd.DataFrame({
...     "account_id": ["A", "B", "A", "B"],
...     "month_end": pd.to_datetime(["2024-01-31"] * 2 + ["2024-02-29"] * 2),
...     "dpd": [0, 10, 31, 0], "bucket": ["M0", "M1", "M2", "M0"],
...     "balance": [100.0, 50.0, 90.0, 45.0], "amount_overdue": [0.0, 5.0, 10.0, 0.0],
...     "paid_in_month": [10.0, 0.0, 0.0, 10.0], "status": ["open"] * 4})
>>> m = roll_rate_matrix(snaps)
>>> float(m.loc["M0", "M2"]), float(m.loc["M1", "M0"])
(1.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from recovery.analytics.common import (
    SegmentArg,
    dispatch_on_table,
    in_words,
    legend_outside,
    percent_axis,
    plot_axes,
    segment_list,
)
from recovery.analytics.credibility import credibility_alpha, shrink_rows
from recovery.analytics.partitions import PartitionedSnapshots, sum_partials
from recovery.analytics.states import (
    NEW_STATE,
    snapshot_states,
    sort_states,
    state_order,
    transitions,
)
from recovery.config import Config
from recovery.data.contract import has_column, require_columns
from recovery.docstrings import fill_doc
from recovery.errors import DataError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "flow_partial",
    "flows_of_transitions",
    "flow_totals",
    "roll_rates_from_totals",
    "roll_rates",
    "roll_rate_matrix",
    "roll_rate_trends",
    "flow_rates",
    "flow_amounts",
    "flow_amounts_partial",
    "wilson_interval",
    "plot_roll_rate_matrix",
    "plot_roll_rate_trends",
    "plot_flow_rates",
]


# --------------------------------------------------------------------------- additive flows


@fill_doc
def flow_partial(
    part: pd.DataFrame,
    config: Config | None,
    segments: list[str],
    accounts: pd.DataFrame | None = None,
    months: np.ndarray | None = None,
) -> pd.DataFrame:
    """Accounts and balance moving between states in one table or part of one: sums.

    The additive building block of :func:`roll_rates` and :func:`roll_rate_matrix`:
    for tables split by account (every account's rows in one part), the partial
    tables of the parts, summed over their keys, are :func:`flow_totals` of the whole.

    Parameters
    ----------
    part : DataFrame
        A ``snapshots`` table, or the rows of some of its accounts.
    {{config_buckets}}
    segments : list of str
        Segment columns (see :func:`recovery.analytics.states.snapshot_states`).
    {{accounts_for_segments}}
    months : array of int, optional
        Month numbers the whole table covers (see
        :func:`recovery.analytics.states.transitions`); default those of ``part``.

    Returns
    -------
    DataFrame
        One row per start month × segment × from state × to state: ``month_end``,
        the segments, ``from_state``, ``to_state``, ``count`` (accounts) and
        ``balance`` (currency at the start month).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"account_id": ["A", "A"],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29"]), "dpd": [0, 40],
    ...     "bucket": ["M0", "M2"], "balance": [100.0, 95.0], "status": ["open"] * 2})
    >>> flow_partial(s, None, [])[["from_state", "to_state", "count", "balance"]].values.tolist()
    [['M0', 'M2', 1, 100.0]]
    """
    return flows_of_transitions(transitions(part, config, segments, accounts, months), segments)


def flows_of_transitions(t: pd.DataFrame, segments: list[str]) -> pd.DataFrame:
    """:func:`flow_partial` of the transitions of a table or part (already computed).

    Examples
    --------
    >>> t = pd.DataFrame({"account_id": ["A", "B"], "month_end": pd.to_datetime(["2024-01-31"] * 2),
    ...     "from_state": ["M0", "M0"], "to_state": ["M1", "M1"], "balance": [10.0, 5.0]})
    >>> flows_of_transitions(t, [])[["count", "balance"]].values.tolist()
    [[2.0, 15.0]]
    """
    return (
        t.groupby(["month_end", *segments, "from_state", "to_state"], dropna=False, observed=True)
        .agg(count=("account_id", "size"), balance=("balance", "sum"))
        .reset_index()
    )


@fill_doc
@dispatch_on_table
@fill_doc
def flow_totals(
    snapshots: pd.DataFrame,
    config: Config | None,
    segments: list[str],
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Accounts and balance moving between states, per month and segment, of a whole table.

    {{table_dispatch}}

    Parameters
    ----------
    {{snapshots_table}}
    {{config_buckets}}
    segments : list of str
        Segment columns.
    {{accounts_for_segments}}

    Returns
    -------
    DataFrame
        As :func:`flow_partial` of the whole table: ``month_end``, segments,
        ``from_state``, ``to_state``, ``count``, ``balance``.
    """
    return flow_partial(snapshots, config, segments, accounts)


@flow_totals.register(PartitionedSnapshots)
def _flow_totals_of_parts(
    snapshots: PartitionedSnapshots,
    config: Config | None,
    segments: list[str],
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    def compute() -> pd.DataFrame:
        parts = snapshots.map(flow_partial, config, segments, accounts, snapshots.months)
        return sum_partials(parts, ["month_end", *segments, "from_state", "to_state"])

    return snapshots.memo(("flows", config, segments, accounts), compute)


def roll_rates_from_totals(
    totals: pd.DataFrame, config: Config | None, segments: list[str]
) -> pd.DataFrame:
    """Count and balance rates of the flows of :func:`flow_totals` (each from-row sums to 1).

    Parameters
    ----------
    totals : DataFrame
        Output of :func:`flow_totals` (or the sum of :func:`flow_partial` tables).
    config : Config, optional
        Bucket labels (the sort order of the states).
    segments : list of str
        Segment columns of ``totals``.

    Returns
    -------
    DataFrame
        ``totals`` with ``count_rate`` and ``balance_rate`` (shares of the
        from-state's total in that month and segment; NaN balance rate when that
        total is 0), sorted by month, segments, from and to state.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"month_end": pd.to_datetime(["2024-01-31"] * 2),
    ...     "from_state": ["M1", "M1"], "to_state": ["M0", "M2"],
    ...     "count": [1, 3], "balance": [10.0, 30.0]})
    >>> roll_rates_from_totals(t, None, [])["count_rate"].tolist()
    [0.25, 0.75]
    """
    keys = ["month_end", *segments]
    g = totals.copy()
    tot = g.groupby([*keys, "from_state"], dropna=False, observed=True)[
        ["count", "balance"]
    ].transform("sum")
    g["count_rate"] = g["count"] / tot["count"]
    g["balance_rate"] = (g["balance"] / tot["balance"]).where(tot["balance"] > 0)
    return sort_states(g, keys, config)


# --------------------------------------------------------------------------- roll rates


@fill_doc
def roll_rates(
    snapshots: pd.DataFrame,
    config: Config | None = None,
    segment: SegmentArg = None,
    accounts: pd.DataFrame | None = None,
    confidence: float | None = None,
) -> pd.DataFrame:
    """Monthly roll rates in long form: one row per start month × from × to state.

    Parameters
    ----------
    {{snapshots_table}}
    {{config_buckets}}
    segment : str or list of str, optional
        Segment columns (product, region, ``vintage``, …).
    {{accounts_for_segments}}
    confidence : float, optional
        Adds ``count_rate_low`` / ``count_rate_high``, a Wilson score interval at
        this level (e.g. 0.95) for each count rate — to tell a real difference
        between small segments from noise.

    Returns
    -------
    DataFrame
        ``month_end`` (start month *m*), segment columns, ``from_state``,
        ``to_state``, ``count`` (accounts), ``balance`` (currency at *m*),
        ``count_rate`` and ``balance_rate`` (shares of the from-state's total in
        that month and segment; each from-row sums to 1). A status-only history (no
        balance) gives the counts and count rates alone.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"account_id": ["A", "B", "A", "B"],
    ...     "month_end": pd.to_datetime(["2024-01-31"] * 2 + ["2024-02-29"] * 2),
    ...     "dpd": [5, 5, 0, 35], "bucket": ["M1", "M1", "M0", "M2"],
    ...     "balance": [30.0, 10.0, 25.0, 10.0], "status": ["open"] * 4})
    >>> r = roll_rates(s)
    >>> r[["to_state", "count_rate", "balance_rate"]].values.tolist()
    [['M0', 0.5, 0.75], ['M2', 0.5, 0.25]]
    """
    segments = segment_list(segment)
    totals = flow_totals(snapshots, config, segments, accounts)  # an engine's, for its tables
    out = roll_rates_from_totals(totals, config, segments)
    if not has_column(snapshots, "balance"):  # a status-only history: counts only
        out = out.drop(columns=["balance", "balance_rate"])
    if confidence is not None:
        n = out.groupby(["month_end", *segments, "from_state"], dropna=False, observed=True)[
            "count"
        ].transform("sum")
        low, high = wilson_interval(out["count"].to_numpy(), n.to_numpy(), confidence)
        out["count_rate_low"], out["count_rate_high"] = low, high
    return out


def wilson_interval(
    successes: np.ndarray, trials: np.ndarray, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion (vectorised).

    Parameters
    ----------
    successes, trials : array of int
        Counts; NaN bounds where ``trials`` is 0.
    confidence : float
        Two-sided level, in (0, 1).

    Returns
    -------
    (low, high) : tuple of arrays

    Examples
    --------
    >>> low, high = wilson_interval(np.array([5]), np.array([10]))
    >>> round(float(low[0]), 3), round(float(high[0]), 3)
    (0.237, 0.763)
    """
    from scipy.stats import norm

    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    z = norm.ppf(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
    high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return low, high


@fill_doc
def roll_rate_matrix(
    snapshots: pd.DataFrame,
    month: str | pd.Timestamp | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    weight: Literal["count", "balance"] = "count",
    average: Literal["pooled", "mean"] = "pooled",
    normalize: bool = True,
    config: Config | None = None,
    segment: SegmentArg = None,
    accounts: pd.DataFrame | None = None,
    shrinkage: float | Literal["estimate"] | None = None,
) -> pd.DataFrame:
    """Roll-rate matrix (from state × to state) for one month, a range, or all months.

    Parameters
    ----------
    {{snapshots_table}}
    month : date-like, optional
        One start month end *m* (the matrix of *m* → *m + 1*). Overrides start/end.
    start, end : date-like, optional
        Range of start months (inclusive); default all.
    weight : {"count", "balance"}
        Accounts, or balance (currency) at the start month.
    average : {"pooled", "mean"}
        ``pooled`` sums flows over the months, which weights each month by its
        from-state count or balance; ``mean`` is the simple mean of the monthly
        matrices (each month counts equally; a from-row averages the months in which
        it was populated).
    normalize : bool
        Rates (rows sum to 1) when true; summed counts or balances when false
        (``mean`` then gives the mean monthly count or balance).
    {{config_buckets}}
    segment : str or list of str, optional
        Segment columns; rows are then indexed by (segment…, from_state).
    {{accounts_for_segments}}
    shrinkage : float or "estimate", optional
        With segments (pooled rates): each segment's row leans on the portfolio's row
        of the same from-state, ``(counts + α · portfolio) / (n + α)``
        (:func:`recovery.analytics.credibility.shrink_rows`; for balance weights the
        segment's balance shares take the weight ``n / (n + α)`` of its account count
        ``n``). ``α`` in accounts, or ``"estimate"`` from how much the segments differ
        (Bühlmann–Straub, :func:`recovery.analytics.credibility.credibility_alpha`).
        None (default): raw rows.

    Returns
    -------
    DataFrame
        Rows: from states present (buckets, ``charged_off``, ``new``); columns: every
        to state (buckets, ``charged_off``, ``paid_off``, ``settled``,
        ``other_exit``).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"account_id": ["A", "B", "A", "B"],
    ...     "month_end": pd.to_datetime(["2024-01-31"] * 2 + ["2024-02-29"] * 2),
    ...     "dpd": [5, 5, 0, 35], "bucket": ["M1", "M1", "M0", "M2"],
    ...     "balance": [30.0, 10.0, 25.0, 10.0], "status": ["open"] * 4})
    >>> roll_rate_matrix(s, weight="balance").loc["M1", ["M0", "M2"]].tolist()
    [0.75, 0.25]
    """
    _check_weight(weight, snapshots, "the balance-weighted roll-rate matrix")
    if average not in ("pooled", "mean"):
        raise ValueError("average must be 'pooled' or 'mean'")
    segments = segment_list(segment)
    # one row per month × segments × from × to state: accounts and balance
    t = flow_totals(snapshots, config, segments, accounts)
    if month is not None:
        m = pd.Timestamp(month).to_period("M")
        t = t[t["month_end"].dt.to_period("M") == m]
    else:
        if start is not None:
            t = t[t["month_end"].dt.to_period("M") >= pd.Timestamp(start).to_period("M")]
        if end is not None:
            t = t[t["month_end"].dt.to_period("M") <= pd.Timestamp(end).to_period("M")]
    if t.empty:
        raise DataError(
            "no month-to-month transitions in the requested months; the snapshots need "
            "two consecutive month ends"
        )
    rows = [*segments, "from_state"]
    cells = t.groupby(["month_end", *rows, "to_state"], dropna=False)[weight].sum()
    monthly = cells.unstack("to_state", fill_value=0.0).astype(float)
    if normalize:
        if average == "pooled":
            summed = monthly.groupby(level=rows, dropna=False).sum()
            out = summed.div(summed.sum(axis=1).where(lambda x: x > 0), axis=0)
            if shrinkage is not None and segments:
                out = _shrink_segments(t, out, summed, segments, shrinkage)
        else:
            tot = monthly.sum(axis=1)
            rates = monthly.div(tot.where(tot > 0), axis=0).dropna(how="all")
            out = rates.groupby(level=rows, dropna=False).mean()
    else:
        grouped = monthly.groupby(level=rows, dropna=False)
        out = grouped.sum() if average == "pooled" else grouped.mean()
    out = out.reindex(columns=state_order(config), fill_value=0.0)
    order = [*state_order(config), NEW_STATE]
    rank = {s: i for i, s in enumerate(order)}
    idx = out.index.to_frame(index=False)
    idx["_r"] = idx["from_state"].map(rank)
    pos = idx.sort_values([*segments, "_r"], kind="mergesort").index
    out = out.iloc[pos]
    out.columns.name = "to_state"
    return out


def _shrink_segments(
    t: pd.DataFrame,
    rates: pd.DataFrame,
    summed: pd.DataFrame,
    segments: list[str],
    shrinkage: float | str,
) -> pd.DataFrame:
    """Segment rows shrunk toward the portfolio rows (pooled over the same months)."""
    rows = [*segments, "from_state"]
    counts = t.groupby([*rows, "to_state"], dropna=False)["count"].sum().unstack(fill_value=0)
    counts = counts.reindex(index=rates.index, columns=rates.columns, fill_value=0).astype(float)
    book = summed.groupby(level="from_state").sum()
    book = book.div(book.sum(axis=1).where(lambda x: x > 0), axis=0).fillna(0.0)
    if shrinkage == "estimate":
        long = counts.reset_index()
        long["_segment"] = long[segments].astype(str).agg("|".join, axis=1)
        alpha = credibility_alpha(long.drop(columns=segments), "_segment")
    elif isinstance(shrinkage, (int, float)) and shrinkage >= 0:
        alpha = float(shrinkage)
    else:
        raise DataError(
            f"shrinkage must be 'estimate' or a number of accounts >= 0, got {shrinkage!r}"
        )
    _, z = shrink_rows(counts, book, alpha)
    prior = book.reindex(rates.index.get_level_values("from_state")).set_axis(rates.index)
    return rates.fillna(prior).mul(z, axis=0) + prior.mul(1.0 - z, axis=0)


_DIRECTIONS = ("roll_forward", "stay", "roll_back", "cure", "paid_off", "settled", "other_exit")


@fill_doc
def roll_rate_trends(
    snapshots: pd.DataFrame,
    weight: Literal["count", "balance"] = "count",
    config: Config | None = None,
    segment: SegmentArg = None,
    accounts: pd.DataFrame | None = None,
    window: int = 1,
) -> pd.DataFrame:
    """Roll-forward, stay, roll-back and cure rates per from state and month.

    For a bucket *i* at *m*: **roll_forward** = to any worse bucket or to
    ``charged_off`` (buckets can skip: 30 → 60 → 91 DPD is M1 → M2 → M4);
    **stay** = same bucket; **cure** = to M0 (the first bucket; NaN from M0, where
    staying current is ``stay``); **roll_back** = to a better bucket other than M0;
    ``paid_off``, ``settled``, ``other_exit`` as in the matrix. From ``charged_off``:
    stay = still charged off, roll_back = back in a bucket (a reinstatement);
    roll_forward and cure are NaN. The rates (NaN as 0) sum to 1.
    A cure seen in snapshots alone is a return to M0 at month end; a re-age cannot
    be told apart from a payment cure without the event tables.

    Parameters
    ----------
    {{snapshots_table}}
    weight : {"count", "balance"}
        Accounts, or balance (currency) at the start month.
    {{config_buckets}}
    {{segment_columns}}
    {{accounts_for_segments}}
    window : int
        Months pooled: each row sums the flows of the ``window`` start months up to
        its own (the first rows pool fewer); 1 = monthly.

    Returns
    -------
    DataFrame
        ``month_end`` (start month), segment columns, ``from_state``, ``n``
        (accounts) or balance total (``weight`` column), then one column per rate.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"account_id": ["A", "B", "A", "B"],
    ...     "month_end": pd.to_datetime(["2024-01-31"] * 2 + ["2024-02-29"] * 2),
    ...     "dpd": [5, 5, 0, 35], "bucket": ["M1", "M1", "M0", "M2"],
    ...     "balance": [30.0, 10.0, 25.0, 10.0], "status": ["open"] * 4})
    >>> roll_rate_trends(s)[["from_state", "roll_forward", "cure"]].values.tolist()
    [['M1', 0.5, 0.5]]
    """
    _check_weight(weight, snapshots, "the balance-weighted roll-rate trend")
    _check_window(window)
    config = config or Config()
    segments = segment_list(segment)
    # the flows between states (summed per month, segment, from and to state)
    t = flow_totals(snapshots, config, segments, accounts)
    t = t[t["from_state"] != NEW_STATE]
    labels = config.aging.bucket_labels()
    rank = {b: i for i, b in enumerate(labels)}
    rank["charged_off"] = len(labels)
    fr = t["from_state"].map(rank).to_numpy(dtype=float)
    to = t["to_state"].map(rank).to_numpy(dtype=float)  # NaN for exits
    from_co = t["from_state"].eq("charged_off").to_numpy()
    to_state = t["to_state"].to_numpy()
    direction = np.select(
        [
            to_state == "paid_off",
            to_state == "settled",
            to_state == "other_exit",
            to == fr,
            (to > fr) & ~from_co,
            (to == 0) & (fr > 0) & ~from_co,
            (to < fr),
        ],
        ["paid_off", "settled", "other_exit", "stay", "roll_forward", "cure", "roll_back"],
        default="roll_back",
    )
    w = t["count" if weight == "count" else "balance"].to_numpy(dtype=float)
    frame = t[["month_end", *segments, "from_state"]].assign(direction=direction, w=w)
    keys = ["month_end", *segments, "from_state"]
    table = frame.pivot_table(
        index=keys, columns="direction", values="w", aggfunc="sum", fill_value=0.0, dropna=False
    )
    table = _pool_months(table.reindex(columns=list(_DIRECTIONS), fill_value=0.0), window)
    total = table.sum(axis=1)
    rates = table.div(total.where(total > 0), axis=0)
    rates.columns.name = None
    rates.insert(0, "n" if weight == "count" else "balance", total)
    rates = rates.reset_index()
    rates = rates[rates.iloc[:, len(keys)] > 0]
    is_m0 = rates["from_state"].eq(labels[0])
    is_co = rates["from_state"].eq("charged_off")
    rates.loc[is_m0, "cure"] = np.nan
    rates.loc[is_co, ["cure", "roll_forward"]] = np.nan
    return sort_states(rates, ["month_end", *segments], config)


def _check_weight(weight: str, snapshots: pd.DataFrame, what: str) -> None:
    """``count`` or ``balance``; a balance weight needs balances (``what`` names it)."""
    if weight not in ("count", "balance"):
        raise ValueError("weight must be 'count' or 'balance'")
    if weight == "balance":
        require_columns(snapshots, ["balance"], what)


def _check_window(window: int) -> None:
    if window < 1:
        raise ValueError("window must be a positive number of months")


def _pool_months(table: pd.DataFrame, window: int) -> pd.DataFrame:
    """Sum each row with the rows of the ``window - 1`` month ends before it.

    ``table`` is indexed by ``month_end`` and other keys; months missing from the
    table count as zero. Returns the same index.
    """
    _check_window(window)
    if window == 1 or table.empty:
        return table
    others = [n for n in table.index.names if n != "month_end"]
    wide = table.unstack(others, fill_value=0.0)
    months = pd.date_range(wide.index.min(), wide.index.max(), freq="ME")
    wide = wide.reindex(months, fill_value=0.0).rolling(window, min_periods=1).sum()
    wide.index.name = "month_end"
    long = wide.stack(others, future_stack=True)
    return long.reorder_levels(table.index.names).reindex(table.index).fillna(0.0)


def flow_amounts_partial(
    part: pd.DataFrame,
    weight: Literal["count", "balance"],
    config: Config,
    segments: list[str],
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Amounts per month, segment and flow state of one table or part of one: sums.

    The additive building block of :func:`flow_rates` (every account's rows in one
    part): the states of the month ends, with ``charged_off_before`` for an account
    already charged off at the month end before.

    Returns
    -------
    DataFrame
        ``period`` (monthly), the segments, ``flow_state``, ``amount`` (accounts or
        balance, currency).
    """
    s = snapshot_states(part, config, segments, accounts)
    s = s[s["first_exit"]]
    state = s["state"]
    account = s["account_id"]
    prev_co = state.eq("charged_off").groupby(account, sort=False).shift(1, fill_value=False)
    month_no = s["period"].dt.year * 12 + s["period"].dt.month
    prev_consecutive = account.eq(account.shift(1)) & month_no.diff().eq(1)
    flow_state = state.where(
        ~(state.eq("charged_off") & prev_co.astype(bool) & prev_consecutive), "charged_off_before"
    )
    w = 1.0 if weight == "count" else s["balance"]
    frame = s[["period", *segments]].assign(flow_state=flow_state, amount=w)
    return (
        frame.groupby(["period", *segments, "flow_state"], dropna=False)["amount"]
        .sum()
        .reset_index()
    )


@dispatch_on_table
def flow_amounts(
    snapshots: pd.DataFrame,
    weight: Literal["count", "balance"],
    config: Config,
    segments: list[str],
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """:func:`flow_amounts_partial` of a whole table (summed over the parts of a partitioned one)."""
    return flow_amounts_partial(snapshots, weight, config, segments, accounts)


@flow_amounts.register(PartitionedSnapshots)
def _flow_amounts_of_parts(snapshots, weight, config, segments, accounts=None):
    def compute() -> pd.DataFrame:
        parts = snapshots.map(flow_amounts_partial, weight, config, segments, accounts)
        return sum_partials(parts, ["period", *segments, "flow_state"])

    return snapshots.memo(("flow_amounts", weight, config, segments, accounts), compute)


@fill_doc
def flow_rates(
    snapshots: pd.DataFrame,
    weight: Literal["count", "balance"] = "balance",
    config: Config | None = None,
    segment: SegmentArg = None,
    accounts: pd.DataFrame | None = None,
    window: int = 1,
) -> pd.DataFrame:
    """Net flow rates: amount in bucket *i + 1* at *m + 1* / amount in *i* at *m*.

    A pool-level ratio (DESIGN.md §3): it does not follow accounts, so cures and
    bucket skips of other accounts enter it; it is the classic delinquency flow used
    to project losses. The last step is into charge-off: the balance newly charged off
    during *m + 1* divided by the balance in the bucket that holds
    ``config.aging.charge_off_dpd`` at *m*. Chaining the rates from M0 gives the
    share of current balance that flows to charge-off.

    Parameters
    ----------
    {{snapshots_table}}
    weight : {"balance", "count"}
        Balance (currency) or accounts.
    {{config_charge_off}}
    segment : str or list of str, optional
        Segment columns (value at each row's own month).
    {{accounts_for_segments}}
    window : int
        Months pooled: amounts summed over the ``window`` start months up to each
        row before dividing; 1 = monthly.

    Returns
    -------
    DataFrame
        ``month_end`` (start month *m*), segment columns, ``from_bucket``,
        ``to_bucket``, ``from_amount`` (at *m*), ``to_amount`` (at *m + 1*),
        ``flow_rate`` (NaN when ``from_amount`` is 0).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"account_id": ["A", "B", "A", "B"],
    ...     "month_end": pd.to_datetime(["2024-01-31"] * 2 + ["2024-02-29"] * 2),
    ...     "dpd": [0, 5, 20, 0], "bucket": ["M0", "M1", "M1", "M0"],
    ...     "balance": [100.0, 50.0, 95.0, 45.0], "status": ["open"] * 4})
    >>> f = flow_rates(s)
    >>> float(f.loc[f.from_bucket == "M0", "flow_rate"].iloc[0])
    0.95
    """
    _check_weight(weight, snapshots, "the balance flow rate (weight='count' needs none)")
    _check_window(window)
    config = config or Config()
    segments = segment_list(segment)
    amt = flow_amounts(snapshots, weight, config, segments, accounts)
    labels = config.aging.bucket_labels()
    co_bucket = labels[int(config.aging.bucket_index(config.aging.charge_off_dpd))]
    pairs = list(zip(labels[:-1], labels[1:], strict=True))
    if co_bucket in labels:
        pairs = [p for p in pairs if labels.index(p[0]) < labels.index(co_bucket)]
        pairs.append((co_bucket, "charged_off"))
    periods = pd.PeriodIndex(amt["period"].unique()).sort_values()
    have = set(periods)
    starts = [p for p in periods if (p + 1) in have]
    columns = ["month_end", *segments, "from_bucket", "to_bucket", "from_amount", "to_amount"]
    if not starts:  # fewer than two consecutive month ends: no flows
        return pd.DataFrame(columns=[*columns, "flow_rate"])
    pair_df = pd.DataFrame(pairs, columns=["from_bucket", "to_bucket"])
    if segments:
        seg_vals = amt[segments].drop_duplicates()
        grid = pd.DataFrame({"period": starts}).merge(seg_vals, how="cross")
    else:
        grid = pd.DataFrame({"period": starts})
    grid = grid.merge(pair_df, how="cross")
    frm = amt.rename(columns={"flow_state": "from_bucket", "amount": "from_amount"})
    to = amt.rename(columns={"flow_state": "to_bucket", "amount": "to_amount"})
    to = to.assign(period=to["period"] - 1)
    out = grid.merge(frm, on=["period", *segments, "from_bucket"], how="left").merge(
        to, on=["period", *segments, "to_bucket"], how="left"
    )
    out[["from_amount", "to_amount"]] = out[["from_amount", "to_amount"]].fillna(0.0)
    if window > 1:
        keys = ["period", *segments, "from_bucket", "to_bucket"]
        out["period"] = out["period"].dt.to_timestamp(how="end").dt.normalize()
        pooled = _pool_months(
            out.rename(columns={"period": "month_end"}).set_index(["month_end", *keys[1:]])[
                ["from_amount", "to_amount"]
            ],
            window,
        )
        out[["from_amount", "to_amount"]] = pooled.to_numpy()
        out["period"] = out["period"].dt.to_period("M")
    out["flow_rate"] = (out["to_amount"] / out["from_amount"]).where(out["from_amount"] > 0)
    out.insert(0, "month_end", out.pop("period").dt.to_timestamp(how="end").dt.normalize())
    rank = {b: i for i, b in enumerate(labels)}
    out["_r"] = out["from_bucket"].map(rank)
    out = out.sort_values(["month_end", *segments, "_r"], kind="mergesort")
    return out.drop(columns="_r").reset_index(drop=True)


# ----------------------------------------------------------------------------- plots


@fill_doc
def plot_roll_rate_matrix(
    matrix: pd.DataFrame, ax: Axes | None = None, title: str | None = None
) -> Axes:
    """Heatmap of a roll-rate matrix (from :func:`roll_rate_matrix`).

    Parameters
    ----------
    matrix : DataFrame
        Rates, from states as rows and to states as columns (one segment).
    {{plot_ax}}
    {{plot_title}}

    {{returns_axes}}

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame([[0.9, 0.1], [0.5, 0.5]], index=["M0", "M1"],
    ...                  columns=["M0", "M1"])
    >>> plot_roll_rate_matrix(m).get_title()
    'Roll rates'
    """
    ax = plot_axes(
        ax, (1.0 + 0.7 * matrix.shape[1], 1.0 + 0.5 * matrix.shape[0]), layout="constrained"
    )
    values = matrix.to_numpy(dtype=float)
    image = ax.imshow(np.nan_to_num(values), cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(matrix.shape[1]), [in_words(c) for c in matrix.columns], rotation=45)
    ax.set_yticks(range(matrix.shape[0]), [in_words(i) for i in matrix.index])
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v) and v > 0:
            ax.text(
                j, i, f"{v:.0%}" if v >= 0.01 else "<1%", ha="center", va="center",
                fontsize=7, color="white" if v > 0.6 else "black",
            )  # fmt: skip
    ax.set_xlabel("state at month end m + 1")
    ax.set_ylabel("state at month end m")
    ax.set_title(title or "Roll rates")
    bar = ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    percent_axis(bar.ax.yaxis)
    return ax


@fill_doc
def plot_roll_rate_trends(
    trends: pd.DataFrame,
    rate: str = "roll_forward",
    states: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Lines of one rate (e.g. roll forward or cure) per from state over time.

    Parameters
    ----------
    trends : DataFrame
        Output of :func:`roll_rate_trends` (one segment).
    rate : str
        A rate column: ``roll_forward``, ``stay``, ``roll_back``, ``cure``, …
    states : sequence of str, optional
        From states to draw; default every state with a defined rate.
    {{plot_ax}}
    {{plot_title}}

    {{returns_axes}}

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"month_end": pd.to_datetime(["2024-01-31", "2024-02-29"]),
    ...                   "from_state": ["M1", "M1"], "cure": [0.5, 0.4]})
    >>> plot_roll_rate_trends(t, rate="cure").get_ylabel()
    'cure rate'
    """
    ax = plot_axes(ax, (8, 4), layout="constrained")
    data = trends[trends[rate].notna()]
    chosen = list(states) if states is not None else list(pd.unique(data["from_state"]))
    for state in chosen:
        part = data[data["from_state"] == state]
        ax.plot(part["month_end"], part[rate], marker=".", label=in_words(state))
    ax.set_ylabel(f"{rate.replace('_', ' ')} rate")
    ax.set_xlabel("month end m (rate of m → m + 1)")
    percent_axis(ax.yaxis)
    if chosen:
        legend_outside(ax, title="from bucket", fontsize=8)
    ax.set_title(title or f"{rate.replace('_', ' ').capitalize()} rate by bucket")
    return ax


@fill_doc
def plot_flow_rates(flows: pd.DataFrame, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Net flow rates per bucket pair over time (from :func:`flow_rates`).

    Parameters
    ----------
    flows : DataFrame
        Output of :func:`flow_rates` (one segment).
    {{plot_ax}}
    {{plot_title}}

    {{returns_axes}}

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"month_end": pd.to_datetime(["2024-01-31"]),
    ...     "from_bucket": ["M0"], "to_bucket": ["M1"], "flow_rate": [0.03]})
    >>> plot_flow_rates(f).get_title()
    'Net flow rates'
    """
    ax = plot_axes(ax, (8, 4), layout="constrained")
    for (a, b), part in flows.groupby(["from_bucket", "to_bucket"], sort=False):
        ax.plot(part["month_end"], part["flow_rate"], marker=".", label=f"{a}→{b}")
    ax.set_yscale("log")
    ax.set_ylabel("flow rate (log scale)")
    ax.set_xlabel("month end m (flow m → m + 1)")
    ax.set_title(title or "Net flow rates")
    ax.legend(fontsize=7, ncol=2)
    return ax
