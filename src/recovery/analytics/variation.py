"""Normal variation of monthly KPIs: is this month's change news, or noise?

A KPI moves every month by chance alone: a cure rate of 140 delinquent accounts moves by
several percentage points without anything having changed. This module measures, for
each month-on-month change, the band of *normal variation* around zero (DESIGN.md §3,
"unusual change") and calls the change **unusual** only outside it.

Rates (``kind`` ``proportion`` or ``ratio``)
    Each month's rate gets a sampling interval from its own denominator: a **Wilson**
    interval for a share of accounts (``overdue_rate_30plus``, ``cure_rate``), a
    **delta-method** interval for a ratio of sums (a balance-weighted rate such as the
    collection rate, Σ collected / Σ overdue balance over the accounts concerned). The
    two months' intervals make an interval for the change by Newcombe's square-and-add
    (MOVER) rule, and each change is turned into a standardized score *s* (the change
    over its standard error). Over the history (up to ``history_months`` changes before
    the report month) the book's scores have a dispersion σ_z = √mean(s²): above 1 when
    the book varies more than sampling alone explains (seasons, paydays, a campaign),
    below 1 when consecutive months share most of their accounts (stock measures such as
    the overdue rate). That is Laney's p′ correction. The band is ± t · σ_z standard
    errors, t the Student quantile with as many degrees of freedom as history months
    (σ_z is itself estimated).
Amounts and durations (``method="history"``)
    Control limits from the same history: the month-on-month changes (relative, as the
    log of the ratio, when every value is positive; differences otherwise) of the last
    ``history_months`` months give a prediction interval for the next one, mean ± t ·
    sd · √(1 + 1/n).

The default level is 99%: with thirty KPIs judged at 95% one or two would be "unusual"
every month by chance. Fewer than ``min_history`` usable changes give the verdict
``no_history`` ("not enough history to judge").

Functions: :func:`kpi_units` (per account, the numerator and denominator of each rate),
:func:`kpi_moments` (their sums per month, additive), :func:`sampling_intervals`,
:func:`wilson_interval`, :func:`judge_changes`.

Examples
--------
>>> import pandas as pd
>>> months = pd.date_range("2024-01-31", periods=15, freq="ME")
>>> v = pd.DataFrame({"month_end": months, "kpi": "collected",
...                   "value": [100.0, 104, 98, 101, 99, 103, 100, 102, 97, 101, 100, 103, 99, 101, 140]})
>>> j = judge_changes(v, "2025-03", method="history")
>>> j[["verdict", "history"]].values.tolist()
[['unusual', 13]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from recovery.analytics.common import SegmentArg, segment_list
from recovery.analytics.partitions import PartitionedSnapshots, sum_partials
from recovery.analytics.states import NEW_STATE, snapshot_states, transitions
from recovery.config import Config

__all__ = [
    "KPI_KINDS",
    "VERDICTS",
    "kpi_units",
    "kpi_moments",
    "wilson_interval",
    "sampling_intervals",
    "judge_changes",
]

#: The rates of :func:`recovery.analytics.kpis.monthly_kpis` whose sampling error comes
#: from their own denominators: ``proportion`` (a share of accounts) or ``ratio`` (a
#: ratio of sums over accounts, e.g. balance-weighted).
KPI_KINDS: dict[str, str] = {
    "overdue_rate_30plus": "proportion",
    "overdue_rate_90plus": "proportion",
    "overdue_rate_30plus_balance": "ratio",
    "overdue_rate_90plus_balance": "ratio",
    "collection_rate": "ratio",
    "recovery_rate_in_month": "ratio",
    "cure_rate": "proportion",
}

#: Verdicts of :func:`judge_changes`.
VERDICTS = ("unusual", "normal", "no_history", "missing")

_MOMENTS = ["n", "sum_x", "sum_y", "sum_xx", "sum_yy", "sum_xy"]


def kpi_units(
    snapshots: pd.DataFrame,
    config: Config | None = None,
    segment: SegmentArg = None,
    accounts: pd.DataFrame | None = None,
    months: np.ndarray | None = None,
) -> dict[str, pd.DataFrame]:
    """Per account and month, the numerator ``y`` and denominator ``x`` of each rate.

    The rate of a month is Σy / Σx over its rows, exactly as
    :func:`recovery.analytics.kpis.monthly_kpis` computes it (same rows, same month
    conventions): overdue rates over the open accounts at the month end (``x`` the
    balance, or 1 for the count rate; ``y`` the same when DPD is past the threshold, else
    0); the collection and cure rates over the accounts in bucket M1 or worse at the
    previous month end (``x`` the overdue balance and ``y`` the amount collected in the
    month; ``x`` = 1 and ``y`` = 1 when the account is current at the month end); the
    recovery rate over the charged-off accounts at the previous month end (``x`` their
    balance, ``y`` the amount recovered in the month).

    Parameters
    ----------
    snapshots : DataFrame
        The ``snapshots`` table.
    config : Config, optional
        Bucket labels.
    segment : str or list of str, optional
        Segment columns (value at the month the rate's accounts are taken from).
    accounts : DataFrame, optional
        For segment columns not in ``snapshots``.
    months : array of int, optional
        Month numbers the whole table covers, when ``snapshots`` is part of one (see
        :func:`recovery.analytics.states.transitions`).

    Returns
    -------
    dict of str to DataFrame
        One frame per name of :data:`KPI_KINDS`: ``month_end``, segments, ``x``, ``y``.

    Examples
    --------
    >>> s = pd.DataFrame({"account_id": ["A", "B", "A", "B"],
    ...     "month_end": pd.to_datetime(["2024-01-31"] * 2 + ["2024-02-29"] * 2),
    ...     "dpd": [5, 40, 0, 70], "bucket": ["M1", "M2", "M0", "M3"],
    ...     "balance": [30.0, 10.0, 25.0, 10.0], "amount_overdue": [3.0, 2.0, 0.0, 3.0],
    ...     "paid_in_month": [0.0, 0.0, 6.0, 0.0], "status": ["open"] * 4})
    >>> kpi_units(s)["cure_rate"][["x", "y"]].values.tolist()
    [[1.0, 1.0], [1.0, 0.0]]
    """
    config = config or Config()
    segments = segment_list(segment)
    states = snapshot_states(snapshots, config, segments, accounts)
    moves = transitions(states, config, segments, months=months)  # months: the whole table's
    labels = config.aging.bucket_labels()
    units: dict[str, pd.DataFrame] = {}

    open_rows = states[states["status"].astype(str).eq("open")]
    month = open_rows["period"].dt.to_timestamp(how="end").dt.normalize()
    balance = open_rows["balance"].to_numpy(dtype=float)
    dpd = open_rows["dpd"].to_numpy(dtype=float)
    for days in (30, 90):
        late = dpd >= days
        base = open_rows[segments].assign(month_end=month.to_numpy())
        units[f"overdue_rate_{days}plus"] = base.assign(x=1.0, y=late.astype(float))
        units[f"overdue_rate_{days}plus_balance"] = base.assign(
            x=balance, y=np.where(late, balance, 0.0)
        )

    moves = moves[moves["from_state"] != NEW_STATE]
    delinquent = moves[moves["from_state"].isin(labels[1:])]
    charged = moves[moves["from_state"].eq("charged_off")]

    def frame(rows: pd.DataFrame, x: Any, y: Any) -> pd.DataFrame:
        out = rows[segments].assign(month_end=pd.to_datetime(rows["next_month_end"]).to_numpy())
        return out.assign(x=np.asarray(x, dtype=float), y=np.asarray(y, dtype=float))

    units["collection_rate"] = frame(
        delinquent, delinquent["amount_overdue"], delinquent["next_paid_in_month"]
    )
    units["recovery_rate_in_month"] = frame(
        charged, charged["balance"], charged["next_paid_in_month"]
    )
    units["cure_rate"] = frame(delinquent, 1.0, delinquent["to_state"].eq(labels[0]))
    return {name: units[name][["month_end", *segments, "x", "y"]] for name in KPI_KINDS}


def kpi_moments(
    snapshots: pd.DataFrame | dict[str, pd.DataFrame],
    config: Config | None = None,
    segment: SegmentArg = None,
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Sums per month of each rate's per-account numerator and denominator (additive).

    Parameters
    ----------
    snapshots : DataFrame or dict
        The ``snapshots`` table, or the output of :func:`kpi_units` (for instance with
        an injected change).
    config, segment, accounts
        As for :func:`kpi_units` (ignored when ``snapshots`` is already units).

    Returns
    -------
    DataFrame
        ``month_end``, segments, ``kpi``, ``kind`` (``proportion`` or ``ratio``) and the
        sums ``n`` (accounts), ``sum_x``, ``sum_y``, ``sum_xx``, ``sum_yy``, ``sum_xy``.
        The rate is ``sum_y / sum_x``.

    Examples
    --------
    >>> units = {"cure_rate": pd.DataFrame({"month_end": pd.to_datetime(["2024-02-29"] * 4),
    ...                                     "x": 1.0, "y": [1.0, 0.0, 0.0, 1.0]})}
    >>> kpi_moments(units)[["kpi", "n", "sum_y"]].values.tolist()
    [['cure_rate', 4, 2.0]]
    """
    if isinstance(snapshots, PartitionedSnapshots):  # the sums of the parts' sums
        parts = snapshots.map(
            lambda p: kpi_moments(kpi_units(p, config, segment, accounts, snapshots.months))
        )
        out = sum_partials(parts, ["kpi", "kind", "month_end", *segment_list(segment)])
        out = out[[c for c in parts[0].columns]]
        out["n"] = out["n"].astype(int)
        keys = [c for c in out.columns if c not in (*_MOMENTS, "kpi", "kind")]
        return out.sort_values(["kpi", *keys], kind="mergesort").reset_index(drop=True)
    units = (
        snapshots
        if isinstance(snapshots, dict)
        else kpi_units(snapshots, config, segment, accounts)
    )
    frames = []
    for name, u in units.items():
        keys = [c for c in u.columns if c not in ("x", "y")]
        x, y = u["x"].to_numpy(dtype=float), u["y"].to_numpy(dtype=float)
        sums = (
            u[keys]
            .assign(n=1, sum_x=x, sum_y=y, sum_xx=x * x, sum_yy=y * y, sum_xy=x * y)
            .groupby(keys, dropna=False, observed=True)[_MOMENTS]
            .sum()
            .reset_index()
        )
        frames.append(sums.assign(kpi=name, kind=KPI_KINDS.get(name, "ratio")))
    if not frames:
        return pd.DataFrame(columns=["month_end", "kpi", "kind", *_MOMENTS])
    out = pd.concat(frames, ignore_index=True)
    keys = [c for c in out.columns if c not in (*_MOMENTS, "kpi", "kind")]
    out = out[[*keys, "kpi", "kind", *_MOMENTS]]
    out["n"] = out["n"].astype(int)
    return out.sort_values(["kpi", *keys], kind="mergesort").reset_index(drop=True)


def _z(level: float) -> float:
    if not 0.5 < float(level) < 1.0:
        raise ValueError(f"level must be between 0.5 and 1 (e.g. 0.99), not {level!r}")
    return float(stats.norm.ppf(0.5 + float(level) / 2))


def wilson_interval(successes: Any, n: Any, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a share ``successes / n`` (vectorized).

    Never empty and never outside [0, 1]: a share of 0 out of 14 has an upper bound above
    0, unlike the normal approximation.

    Examples
    --------
    >>> low, high = wilson_interval([0, 5], [14, 10], level=0.95)
    >>> [round(float(v), 3) for v in low], [round(float(v), 3) for v in high]
    ([0.0, 0.237], [0.215, 0.763])
    """
    z = _z(level)
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denom = 1 + z * z / n
        center = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = np.where(k == 0, 0.0, np.clip(center - half, 0.0, 1.0))
    high = np.where(k == n, 1.0, np.clip(center + half, 0.0, 1.0))
    return low, high


def sampling_intervals(moments: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Each month's rate with its sampling interval from its own denominator.

    A ``proportion`` gets a Wilson interval (:func:`wilson_interval`, the score
    interval); a ``ratio`` R = Σy / Σx over a month's accounts a delta-method interval
    R ± z·se with se² = n / (n − 1) · Σ(y − R·x)² / (Σx)² (the ratio estimator's
    variance, accounts drawn independently). The month's own residuals set its spread, so
    a month carried by one large payment gets a wide interval — pooling the spread over
    earlier months instead gave 4–7% false alarms on the simulator's stable books for the
    collection and recovery rates (benchmarks/bench_report_changes.py).

    Parameters
    ----------
    moments : DataFrame
        From :func:`kpi_moments`.
    level : float
        Confidence level.

    Returns
    -------
    DataFrame
        ``moments`` with ``value``, ``se`` (standard error; for a proportion the Wilson
        interval's width over 2z), ``low`` and ``high``.

    Examples
    --------
    Four accounts owing 10 each, two of which paid 5: R = 10 / 40 = 0.25, residuals
    ±2.5, se = √(4/3 · 25) / 40:

    >>> units = {"collection_rate": pd.DataFrame({"month_end": pd.to_datetime(["2024-02-29"] * 4),
    ...                                           "x": 10.0, "y": [5.0, 0.0, 5.0, 0.0]})}
    >>> sampling_intervals(kpi_moments(units))[["value", "se"]].round(4).values.tolist()
    [[0.25, 0.1443]]
    """
    z = _z(level)
    out = moments.copy()
    n = out["n"].to_numpy(dtype=float)
    sx, sy = out["sum_x"].to_numpy(dtype=float), out["sum_y"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(sx > 0, sy / sx, np.nan)
        rss = (
            out["sum_yy"].to_numpy(dtype=float)
            - 2 * value * out["sum_xy"].to_numpy(dtype=float)
            + value**2 * out["sum_xx"].to_numpy(dtype=float)
        )
        se_ratio = np.where(n > 1, np.sqrt(np.maximum(rss, 0.0) * n / (n - 1)) / sx, np.nan)
    low_w, high_w = wilson_interval(sy, n, level)
    prop = out["kind"].eq("proportion").to_numpy()
    out["value"] = value
    out["se"] = np.where(prop, (high_w - low_w) / (2 * z), se_ratio)
    out["low"] = np.where(prop, low_w, value - z * se_ratio)
    out["high"] = np.where(prop, high_w, value + z * se_ratio)
    return out


def _wide(values: pd.DataFrame, column: str, keys: list[str], months: pd.DatetimeIndex):
    wide = values.set_index(["month_end", *keys])[column].unstack(keys)
    return wide.reindex(months)


def judge_changes(
    values: pd.DataFrame,
    month: Any,
    keys: Sequence[str] = ("kpi",),
    method: Literal["interval", "history"] = "interval",
    scale: Literal["difference", "relative"] = "difference",
    level: float = 0.99,
    history_months: int = 24,
    min_history: int = 12,
) -> pd.DataFrame:
    """Judge each series' change into ``month`` against its normal variation.

    Parameters
    ----------
    values : DataFrame
        Long: ``month_end``, the ``keys`` columns, ``value``; with ``method="interval"``
        also ``low`` and ``high``, each month's sampling interval at ``level`` (e.g.
        :func:`sampling_intervals`).
    month : str or date
        The month whose change (against the month before) is judged.
    keys : sequence of str
        Columns naming a series (KPI, segment, …).
    method : {"interval", "history"}
        ``interval``: the change's own sampling interval, widened or narrowed by the
        dispersion of the book's standardized changes over the history (Laney's p′);
        ``history``: control limits from the history's changes alone.
    scale : {"difference", "relative"}
        With ``method="history"``: judge differences, or relative changes (log ratios;
        used only when every value in the window is positive, else differences).
    level : float
        Level of the band (0.99: a change inside it is normal with 99% probability
        when nothing changed).
    history_months : int
        Changes before ``month`` used to measure the normal variation.
    min_history : int
        Fewer usable changes give the verdict ``no_history``.

    Returns
    -------
    DataFrame
        One row per series: the keys, ``month_end``, ``previous``, ``value``,
        ``change`` (a difference, or relative for a relative scale), ``band_low`` and
        ``band_high`` (the normal variation of the change, same units), ``verdict``
        (``unusual``, ``normal``, ``no_history``, ``missing``), ``beyond`` (how far the
        change lies outside the band; 0 inside), ``score`` (the change over the band's
        edge on its side: above 1 is unusual), ``se_low`` and ``se_high`` (the
        standard error of a fall and of a rise, on the judged scale: the band is
        ± t · se; for ``interval`` it includes σ_z), ``history`` (changes used),
        ``dispersion`` (σ_z for ``interval``, the standard deviation of the changes for
        ``history``), ``method`` and ``scale``.

    Examples
    --------
    A cure rate that moved from 30% to 36% of 200 accounts, after two years of moving
    about as much as sampling predicts, is within normal variation:

    >>> rng = np.random.default_rng(0)
    >>> months = pd.date_range("2023-10-31", periods=26, freq="ME")
    >>> n = np.full(26, 200)
    >>> k = np.r_[rng.binomial(200, 0.3, 25), 72]
    >>> low, high = wilson_interval(k, n, 0.99)
    >>> v = pd.DataFrame({"month_end": months, "kpi": "cure_rate", "value": k / n,
    ...                   "low": low, "high": high})
    >>> judge_changes(v, "2025-11")[["verdict", "history"]].values.tolist()
    [['normal', 24]]
    """
    if method not in ("interval", "history"):
        raise ValueError("method must be 'interval' or 'history'")
    if scale not in ("difference", "relative"):
        raise ValueError("scale must be 'difference' or 'relative'")
    z = _z(level)
    keys = list(keys)
    target = (pd.Timestamp(month).normalize() + pd.offsets.MonthEnd(0)).normalize()
    months = pd.date_range(end=target, periods=history_months + 2, freq="ME").normalize()
    frame = values.assign(month_end=pd.to_datetime(values["month_end"]).dt.normalize())
    frame = frame[frame["month_end"].isin(months)]
    series = frame[keys].drop_duplicates()
    if not len(series):
        return pd.DataFrame()
    v = _wide(frame, "value", keys, months)
    d = v - v.shift(1)
    if method == "interval":
        low_gap = v - _wide(frame, "low", keys, months)
        high_gap = _wide(frame, "high", keys, months) - v
        hw_low = np.sqrt(low_gap**2 + high_gap.shift(1) ** 2)  # from the change down
        hw_high = np.sqrt(high_gap**2 + low_gap.shift(1) ** 2)  # from the change up
        se = hw_low.where(d >= 0, hw_high) / z
        score = (d / se).where(se > 0)
        score = score.mask((d == 0) & (se == 0), 0.0)
        stat = score
    else:
        positive = (v.isna() | (v > 0)).all()
        relative = scale == "relative"
        with np.errstate(divide="ignore", invalid="ignore"):
            log_change = np.log(v / v.shift(1))
        use_log = positive & relative
        stat = pd.concat([log_change.loc[:, use_log], d.loc[:, ~use_log]], axis=1)[v.columns]
    past = stat.iloc[1:-1]  # the history_months changes before the target
    n_hist = past.notna().sum()
    now = stat.iloc[-1]
    rows = []
    for col in v.columns:
        key = col if isinstance(col, tuple) else (col,)
        n_h = int(n_hist[col])
        value, previous = v[col].iloc[-1], v[col].iloc[-2]
        row = dict(zip(keys, key, strict=True))
        row.update(month_end=target, previous=previous, value=value, history=n_h)
        row.update(method=method, scale=scale, dispersion=np.nan)
        band, se_side = (np.nan, np.nan), (np.nan, np.nan)
        verdict, beyond, edge_score = "missing", np.nan, np.nan
        if method == "interval":
            change = value - previous
        elif scale == "relative" and bool(positive[col]):
            change = value / previous - 1 if previous else np.nan
        else:
            change = value - previous
            row["scale"] = "difference"
        if pd.notna(value) and pd.notna(previous) and pd.notna(now[col]):
            verdict = "no_history" if n_h < min_history else "normal"
        if verdict == "normal":
            h = past[col].dropna().to_numpy()
            q = float(stats.t.ppf(0.5 + level / 2, max(len(h) - (method == "history"), 1)))
            if method == "interval":
                sigma = float(np.sqrt(np.mean(h**2)))
                c = q * sigma
                se_side = (sigma * hw_high[col].iloc[-1] / z, sigma * hw_low[col].iloc[-1] / z)
                band = (-q * se_side[0], q * se_side[1])
                edge_score = abs(now[col]) / c if c > 0 else (np.inf if now[col] else 0.0)
            else:
                sigma = float(np.std(h, ddof=1))
                se_side = (sigma * np.sqrt(1 + 1 / len(h)),) * 2
                center, half = float(np.mean(h)), q * se_side[0]
                lo, hi = center - half, center + half
                band = (np.expm1(lo), np.expm1(hi)) if row["scale"] == "relative" else (lo, hi)
                dev = now[col] - center
                edge_score = abs(dev) / half if half > 0 else (np.inf if dev else 0.0)
            row["dispersion"] = sigma
        if verdict == "normal":
            verdict = "unusual" if edge_score > 1 else "normal"
            beyond = max(change - band[1], 0.0) + min(change - band[0], 0.0)
        row.update(change=change, band_low=band[0], band_high=band[1], verdict=verdict)
        row.update(beyond=beyond, score=edge_score, se_low=se_side[0], se_high=se_side[1])
        rows.append(row)
    columns = [*keys, "month_end", "previous", "value", "change", "band_low", "band_high"]
    columns += ["verdict", "beyond", "score", "se_low", "se_high", "history", "dispersion"]
    columns += ["method", "scale"]
    return pd.DataFrame(rows)[columns]
