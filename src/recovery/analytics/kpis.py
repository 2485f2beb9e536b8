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
* **Average collection cycle**: days from episode start to resolution (payment
  cure, payoff or settlement), an Aalen–Johansen (Kaplan–Meier with competing risks)
  estimate in which charge-off is a competing outcome and open episodes are
  censored; see :func:`collection_cycle`.
* **Amount collected** and **cost per unit collected** (when an ``actions`` table
  and ``config.costs.per_action`` are given).

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
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from recovery.analytics.roll_rates import (
    NEW_STATE,
    SegmentArg,
    _segment_list,
    _sort_states,
    snapshot_states,
    transitions,
)
from recovery.config import Config
from recovery.engine.dask_analytics import is_dask_frame
from recovery.errors import DataError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "overdue_rates",
    "collection_rates",
    "cure_rates",
    "recovery_rates",
    "collection_episodes",
    "aalen_johansen",
    "collection_cycle",
    "collection_cycle_curves",
    "collection_costs",
    "monthly_kpis",
    "plot_kpis",
    "plot_collection_cycle",
]

RESOLUTIONS: tuple[str, ...] = ("payment_cure", "paid_off", "settled")
COMPETING: tuple[str, ...] = ("charged_off",)


def _month_label(period: pd.Series) -> pd.Series:
    return period.dt.to_timestamp(how="end").dt.normalize()


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
    snapshots : DataFrame
        The ``snapshots`` table.
    thresholds : sequence of int
        DPD thresholds (days).
    config : Config, optional
        Bucket labels.
    segment : str or list of str, optional
        Segment columns.
    accounts : DataFrame, optional
        For segment columns not in ``snapshots``.

    Returns
    -------
    DataFrame
        ``month_end``, segments, ``open_accounts``, ``open_balance`` (currency),
        and per threshold *t*: ``accounts_<t>plus``, ``balance_<t>plus``,
        ``overdue_rate_<t>plus`` (count share) and ``overdue_rate_<t>plus_balance``.

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
    segments = _segment_list(segment)
    s = snapshot_states(snapshots, config, segments, accounts)
    return _overdue_rates_of(_overdue_totals(s, thresholds, segments), thresholds)


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


def collection_rates(
    snapshots: pd.DataFrame,
    config: Config | None = None,
    segment: SegmentArg = None,
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Collection rate by bucket: collected in month *m* / overdue balance at *m - 1*.

    Parameters
    ----------
    snapshots : DataFrame
        The ``snapshots`` table.
    config : Config, optional
        Bucket labels.
    segment : str or list of str, optional
        Segment columns (value at *m - 1*).
    accounts : DataFrame, optional
        For segment columns not in ``snapshots``.

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
    segments = _segment_list(segment)
    t = transitions(snapshots, config, segments, accounts)
    return _collection_rates_of(t, segments, config)


def _collection_rates_of(t: pd.DataFrame, segments: list[str], config: Config | None):
    out = _collection_totals(t, segments)
    out["collection_rate"] = (out["collected"] / out["overdue_balance"]).where(
        out["overdue_balance"] > 0
    )
    out = _sort_states(out.rename(columns={"state": "from_state"}), ["month_end", *segments],
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
    snapshots : DataFrame
        The ``snapshots`` table.
    config : Config, optional
        Bucket labels.
    segment : str or list of str, optional
        Segment columns (value at *m - 1*).
    accounts : DataFrame, optional
        For segment columns not in ``snapshots``.

    Returns
    -------
    DataFrame
        ``month_end`` (*m*), segments, ``delinquent_accounts``,
        ``delinquent_balance`` (at *m - 1*, currency), ``cured_accounts``,
        ``cured_balance`` (balance at *m - 1* of the cured), ``cure_rate`` and
        ``cure_rate_balance``.

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
    segments = _segment_list(segment)
    t = transitions(snapshots, config, segments, accounts)
    return _cure_rates_of(t, segments, config)


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
    snapshots : DataFrame
        The ``snapshots`` table.
    config : Config, optional
        Bucket labels.
    segment : str or list of str, optional
        Segment columns (value at charge-off).
    accounts : DataFrame, optional
        For segment columns not in ``snapshots``.

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
    segments = _segment_list(segment)
    s = snapshot_states(snapshots, config, segments, accounts)  # repeated exits kept
    co = s[s["state"].eq("charged_off")]
    if co.empty:
        cols = ["cohort", *segments, "accounts", "charged_off_balance", "recoveries"]
        return pd.DataFrame(columns=[*cols, "recovery_rate", "months_observed"])
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
        .groupby(["cohort_period", *segments], dropna=False, observed=True)[
            ["accounts", "charged_off_balance", "recoveries"]
        ]
        .sum()
        .reset_index()
    )
    out["recovery_rate"] = (out["recoveries"] / out["charged_off_balance"]).where(
        out["charged_off_balance"] > 0
    )
    last = s["period"].max()
    cp = out["cohort_period"]
    out["months_observed"] = (last.year * 12 + last.month) - (cp.dt.year * 12 + cp.dt.month)
    out.insert(0, "cohort", _month_label(out.pop("cohort_period")))
    return out


def collection_episodes(
    snapshots: pd.DataFrame,
    config: Config | None = None,
    segment: SegmentArg = None,
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Delinquency episodes read from month-end snapshots.

    An episode is a run of consecutive month ends in a delinquent bucket (M1 or
    worse). It starts ``debt_age_days`` (when the snapshots carry it, else ``dpd``)
    days before its first month end, and ends at the first following month end that
    shows M0 (``payment_cure``), ``paid_off``, ``settled`` or ``charged_off``. An
    episode still delinquent at the table's last month end is ``open``; one whose
    account vanishes or closes is ``other_exit``; both are censored at their last
    delinquent month end. Episodes that start and end within one month are invisible
    in month-end data (use :func:`recovery.timeline.aging.episodes` on event tables for them).

    Parameters
    ----------
    snapshots : DataFrame
        The ``snapshots`` table.
    config : Config, optional
        Bucket labels.
    segment : str or list of str, optional
        Segment columns (value at the episode's first month end).
    accounts : DataFrame, optional
        For segment columns not in ``snapshots``.

    Returns
    -------
    DataFrame
        ``account_id, episode_no`` (1, 2, … per account), ``start_date``,
        ``end_date`` (the month end the outcome is first seen, or the censoring
        month end), ``max_dpd`` (days), ``end_reason``, segments.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"account_id": ["A"] * 3,
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31"]),
    ...     "dpd": [10, 40, 0], "bucket": ["M1", "M2", "M0"],
    ...     "balance": [100.0, 100.0, 80.0], "status": ["open"] * 3})
    >>> e = collection_episodes(s)
    >>> e[["start_date", "end_date", "end_reason"]].astype(str).values.tolist()
    [['2024-01-21', '2024-03-31', 'payment_cure']]
    """
    config = config or Config()
    segments = _segment_list(segment)
    s = snapshot_states(snapshots, config, segments, accounts)
    s = s[s["first_exit"]].reset_index(drop=True)
    labels = config.aging.bucket_labels()
    delinquent = s["state"].isin(labels[1:]).to_numpy()
    acct = s["account_id"].to_numpy()
    mno = (s["period"].dt.year * 12 + s["period"].dt.month).to_numpy()
    n = len(s)
    consec_prev = np.zeros(n, dtype=bool)
    if n > 1:
        consec_prev[1:] = (acct[1:] == acct[:-1]) & (mno[1:] - mno[:-1] == 1)
    consec_next = np.append(consec_prev[1:], False)
    prev_del = np.append(False, delinquent[:-1]) & consec_prev
    next_del = np.append(delinquent[1:], False) & consec_next
    start = delinquent & ~prev_del
    last = delinquent & ~next_del
    episode = np.cumsum(start)
    if not start.any():
        return pd.DataFrame(
            columns=["account_id", "episode_no", "start_date", "end_date", "max_dpd",
                     "end_reason", *segments]
        )  # fmt: skip
    age = s["dpd"].astype(float)
    if "debt_age_days" in s.columns:
        age = pd.to_numeric(s["debt_age_days"], errors="coerce").fillna(age)
    starts = s.loc[start, ["account_id", "month_end", *segments]].copy()
    starts["start_date"] = starts["month_end"] - pd.to_timedelta(age[start].to_numpy(), "D")
    starts["episode"] = episode[start]
    max_dpd = pd.Series(s["dpd"].to_numpy()[delinquent]).groupby(episode[delinquent]).max()
    ends = pd.DataFrame({"episode": episode[last], "last_month_end": s["month_end"][last]})
    next_idx = np.flatnonzero(last) + 1
    has_next = consec_next[last]
    nxt_state = np.full(len(ends), None, dtype=object)
    nxt_month = np.full(len(ends), np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = next_idx[has_next]
    nxt_state[has_next] = s["state"].to_numpy()[ok]
    nxt_month[has_next] = s["month_end"].to_numpy()[ok]
    final_month = s["month_end"].max()
    reason = np.select(
        [
            nxt_state == labels[0],
            nxt_state == "paid_off",
            nxt_state == "settled",
            nxt_state == "charged_off",
            ~has_next & (ends["last_month_end"].to_numpy() == final_month),
        ],
        ["payment_cure", "paid_off", "settled", "charged_off", "open"],
        default="other_exit",
    )
    observed = np.isin(reason, ["payment_cure", "paid_off", "settled", "charged_off"])
    ends["end_reason"] = reason
    ends["end_date"] = np.where(observed, nxt_month, ends["last_month_end"].to_numpy())
    out = starts.merge(ends[["episode", "end_date", "end_reason"]], on="episode")
    out["max_dpd"] = out["episode"].map(max_dpd).astype(int)
    out["episode_no"] = out.groupby("account_id").cumcount() + 1
    cols = ["account_id", "episode_no", "start_date", "end_date", "max_dpd", "end_reason"]
    return out[[*cols, *segments]].reset_index(drop=True)


def aalen_johansen(
    durations: Sequence[float] | np.ndarray,
    events: Sequence[int] | np.ndarray,
) -> pd.DataFrame:
    """Aalen–Johansen cumulative incidence of competing outcomes (vectorised).

    The Kaplan–Meier estimate generalised to several outcome types: with
    :math:`n_j` at risk and :math:`d_{kj}` outcomes of type *k* at time
    :math:`t_j`, :math:`F_k(t) = \\sum_{t_j \\le t} S(t_{j-1})\\, d_{kj} / n_j`
    where *S* is the all-outcome Kaplan–Meier survival. Censored subjects leave the
    risk set after the outcomes tied with them.

    Parameters
    ----------
    durations : array of float
        Time to outcome or censoring (e.g. days), >= 0.
    events : array of int
        Outcome code per subject, 0 = censored, 1, 2, … outcome types.

    Returns
    -------
    DataFrame
        Indexed by distinct ``time``: ``at_risk``, ``censored``, ``events_<k>``,
        ``survival`` (no outcome yet) and ``cif_<k>`` (cumulative incidence) per type.

    Examples
    --------
    >>> aj = aalen_johansen([1, 2, 2, 3], [1, 2, 0, 1])
    >>> aj[["cif_1", "cif_2"]].round(3).values.tolist()
    [[0.25, 0.0], [0.25, 0.25], [0.75, 0.25]]
    """
    d = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=int)
    if d.shape != e.shape:
        raise ValueError("durations and events must have the same length")
    if len(d) and (np.isnan(d).any() or (d < 0).any()):
        raise ValueError("durations must be finite and >= 0")
    if (e < 0).any():
        raise ValueError("event codes must be 0 (censored) or positive")
    times, inverse = np.unique(d, return_inverse=True)
    types = sorted(set(e[e > 0].tolist()))
    removed = np.bincount(inverse, minlength=len(times))
    at_risk = len(d) - np.concatenate([[0], np.cumsum(removed)[:-1]])
    out = pd.DataFrame(index=pd.Index(times, name="time"))
    out["at_risk"] = at_risk
    out["censored"] = np.bincount(inverse[e == 0], minlength=len(times))
    total = np.zeros(len(times))
    counts = {}
    for k in types:
        counts[k] = np.bincount(inverse[e == k], minlength=len(times)).astype(float)
        out[f"events_{k}"] = counts[k].astype(int)
        total += counts[k]
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk > 0, total / at_risk, 0.0)
    survival = np.cumprod(1.0 - hazard)
    before = np.concatenate([[1.0], survival[:-1]])
    out["survival"] = survival
    for k in types:
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(at_risk > 0, before * counts[k] / at_risk, 0.0)
        out[f"cif_{k}"] = np.cumsum(step)
    return out


def _episode_outcomes(
    episodes: pd.DataFrame,
    resolutions: Sequence[str],
    competing: Sequence[str],
    data_end: pd.Timestamp | None,
) -> pd.DataFrame:
    need = {"start_date", "end_date", "end_reason"} - set(episodes.columns)
    if need:
        raise DataError(f"episodes table lacks column(s) {sorted(need)}")
    e = episodes.copy()
    e["start_date"] = pd.to_datetime(e["start_date"])
    end = pd.to_datetime(e["end_date"])
    if end.isna().any():
        fill = data_end if data_end is not None else max(end.max(), e["start_date"].max())
        end = end.fillna(pd.Timestamp(fill))
    reason = e["end_reason"].astype(str)
    e["event"] = np.select(
        [reason.isin(list(resolutions)), reason.isin(list(competing))], [1, 2], default=0
    )
    if "charge_off_date" in e.columns:
        # a charge-off during the episode comes first, whatever the later end reason
        co = pd.to_datetime(e["charge_off_date"])
        hit = co.notna() & (co <= end) & (co >= e["start_date"])
        e.loc[hit, "event"] = 2
        end = end.where(~hit, co)
    e["days"] = ((end - e["start_date"]).dt.days).clip(lower=0).astype(float)
    return e


def collection_cycle_curves(
    episodes: pd.DataFrame,
    segment: SegmentArg = None,
    resolutions: Sequence[str] = RESOLUTIONS,
    competing: Sequence[str] = COMPETING,
    data_end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Cumulative incidence of resolution and of charge-off by days since episode start.

    Parameters
    ----------
    episodes : DataFrame
        From :func:`collection_episodes` or :func:`recovery.timeline.aging.episodes`
        (``start_date``, ``end_date``, ``end_reason``; a missing end date of an open
        episode is censored at ``data_end``). With a ``charge_off_date`` column, an
        episode charged off between its start and end counts as charged off on that
        date, whatever its later end reason.
    segment : str or list of str, optional
        Columns of ``episodes`` to estimate separately.
    resolutions : sequence of str
        End reasons that count as resolution (the event of interest).
    competing : sequence of str
        End reasons that compete with it (charge-off). Any other reason is censored.
    data_end : date-like, optional
        Censoring date of episodes with no end date.

    Returns
    -------
    DataFrame
        Segments, ``days``, ``at_risk``, ``resolved`` (cumulative incidence of
        resolution), ``charged_off`` (of the competing outcome), ``unresolved``
        (neither yet).

    Examples
    --------
    >>> import pandas as pd
    >>> e = pd.DataFrame({"start_date": pd.to_datetime(["2024-01-01"] * 2),
    ...     "end_date": pd.to_datetime(["2024-01-31", "2024-03-01"]),
    ...     "end_reason": ["payment_cure", "charged_off"]})
    >>> collection_cycle_curves(e)[["days", "resolved", "charged_off"]].values.tolist()
    [[30.0, 0.5, 0.0], [60.0, 0.5, 0.5]]
    """
    segments = _segment_list(segment)
    e = _episode_outcomes(episodes, resolutions, competing, data_end)
    parts = []
    for key, part in _segment_groups(e, segments):  # a handful of segments, not accounts
        aj = aalen_johansen(part["days"].to_numpy(), part["event"].to_numpy())
        curve = pd.DataFrame(
            {
                "days": aj.index.to_numpy(),
                "at_risk": aj["at_risk"].to_numpy(),
                "resolved": aj["cif_1"].to_numpy() if "cif_1" in aj else 0.0,
                "charged_off": aj["cif_2"].to_numpy() if "cif_2" in aj else 0.0,
                "unresolved": aj["survival"].to_numpy(),
            }
        )
        for col, value in zip(segments, key, strict=True):
            curve.insert(0, col, value)
        parts.append(curve)
    cols = [*segments, "days", "at_risk", "resolved", "charged_off", "unresolved"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def collection_cycle(
    episodes: pd.DataFrame,
    segment: SegmentArg = None,
    resolutions: Sequence[str] = RESOLUTIONS,
    competing: Sequence[str] = COMPETING,
    data_end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Average collection cycle: days from episode start to resolution, per segment.

    From the Aalen–Johansen curves (:func:`collection_cycle_curves`): charge-off is
    a competing outcome, open or vanished episodes are censored. The **mean** and
    **median** cycle are those of the resolution-time distribution *given*
    resolution within the observed follow-up, i.e. of
    :math:`F_1(t) / F_1(t_{max})`.

    Parameters
    ----------
    episodes : DataFrame
        See :func:`collection_cycle_curves`.
    segment : str or list of str, optional
        Columns of ``episodes`` to summarise separately.
    resolutions, competing : sequence of str
        End reasons for resolution and for the competing outcome.
    data_end : date-like, optional
        Censoring date of episodes with no end date.

    Returns
    -------
    DataFrame
        Segments, ``episodes``, ``resolved``, ``charged_off``, ``censored``
        (counts), ``resolved_share`` and ``charged_off_share`` (cumulative incidence
        at the longest follow-up), ``mean_cycle_days`` and ``median_cycle_days``.

    Examples
    --------
    >>> import pandas as pd
    >>> e = pd.DataFrame({"start_date": pd.to_datetime(["2024-01-01"] * 3),
    ...     "end_date": pd.to_datetime(["2024-01-31", "2024-03-01", "2024-03-01"]),
    ...     "end_reason": ["payment_cure", "paid_off", "charged_off"]})
    >>> c = collection_cycle(e)
    >>> round(float(c["mean_cycle_days"].iloc[0]), 6), float(c["median_cycle_days"].iloc[0])
    (45.0, 30.0)
    """
    segments = _segment_list(segment)
    e = _episode_outcomes(episodes, resolutions, competing, data_end)
    rows = []
    for key, part in _segment_groups(e, segments):  # a handful of segments
        event = part["event"].to_numpy()
        aj = aalen_johansen(part["days"].to_numpy(), event)
        days = aj.index.to_numpy(dtype=float)
        resolved = aj["cif_1"].to_numpy() if "cif_1" in aj else np.zeros(len(aj))
        charged = aj["cif_2"].to_numpy() if "cif_2" in aj else np.zeros(len(aj))
        final = resolved[-1] if len(resolved) else 0.0
        mean = median = np.nan
        if final > 0:  # the resolution-time distribution given resolution: F_1 / F_1(max)
            mean = float((days * np.diff(resolved, prepend=0.0)).sum() / final)
            median = float(days[np.argmax(resolved >= 0.5 * final - 1e-12)])
        rows.append(
            {
                **dict(zip(segments, key, strict=True)),
                "episodes": len(part),
                "resolved": int((event == 1).sum()),
                "charged_off": int((event == 2).sum()),
                "censored": int((event == 0).sum()),
                "resolved_share": float(final),
                "charged_off_share": float(charged[-1]) if len(charged) else 0.0,
                "mean_cycle_days": mean,
                "median_cycle_days": median,
            }
        )
    columns = [*segments, "episodes", "resolved", "charged_off", "censored", "resolved_share",
               "charged_off_share", "mean_cycle_days", "median_cycle_days"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def _segment_groups(e: pd.DataFrame, segments: list[str]):
    """(key tuple, rows) per segment value; the whole table when no segments."""
    if not segments:
        return [((), e)] if len(e) else []
    groups = e.groupby(segments, dropna=False, observed=True, sort=True)
    return [((k if isinstance(k, tuple) else (k,)), part) for k, part in groups]


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
    snapshots : DataFrame
        The ``snapshots`` table.
    config : Config, optional
        ``costs.per_action`` and bucket labels.
    segment : str or list of str, optional
        Segment columns; an action takes its account's value at the previous
        month end (actions on accounts without one fall under a missing segment).
    accounts : DataFrame, optional
        For segment columns not in ``snapshots``.

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
    segments = _segment_list(segment)
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
        s = snapshot_states(snapshots, config, segments, accounts)
        seg = s[["account_id", "period", *segments]].assign(period=s["period"] + 1)
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
    snapshots : DataFrame
        The ``snapshots`` table.
    config : Config, optional
        Bucket labels, action costs.
    segment : str or list of str, optional
        Segment columns.
    accounts : DataFrame, optional
        For segment columns not in ``snapshots``.
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
        ``charged_off_balance`` (the recovery book at month end).

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
    segments = _segment_list(segment)
    keys = ["month_end", *segments]
    if is_dask_frame(snapshots):  # partial sums per partition (recovery.engine.dask_analytics)
        from recovery.engine.dask_analytics import kpi_totals

        if actions is not None:
            raise DataError("collection costs (actions=) need a pandas snapshots table")
        totals = kpi_totals(snapshots, config, segments, accounts)
    else:
        full = snapshot_states(snapshots, config, segments, accounts)  # prepared once
        totals = _kpi_totals(full, transitions(full, config, segments), config, segments)
    out = _kpis_from_totals(totals, config, segments)
    if actions is not None:
        costs = collection_costs(actions, full, config, segments)
        costs = costs.rename(columns={"cost": "collection_cost"})
        out = out.merge(
            costs[[*keys, "actions", "collection_cost", "cost_per_unit_collected"]],
            on=keys,
            how="left",
        )
    return out.sort_values(keys, kind="mergesort").reset_index(drop=True)


_OVERDUE_THRESHOLDS = (30, 90)  # the overdue rates of monthly_kpis


def _kpi_totals(
    s: pd.DataFrame, t: pd.DataFrame, config: Config, segments: list[str]
) -> dict[str, pd.DataFrame]:
    """The additive sums behind :func:`monthly_kpis` (counts, balances, amounts)."""
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


def _kpis_from_totals(
    totals: dict[str, pd.DataFrame], config: Config, segments: list[str]
) -> pd.DataFrame:
    """Rates of :func:`monthly_kpis` from the sums of :func:`_kpi_totals`."""
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
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> k = pd.DataFrame({"month_end": pd.to_datetime(["2024-01-31", "2024-02-29"]),
    ...                   "cure_rate": [0.3, 0.4]})
    >>> plot_kpis(k, columns=["cure_rate"]).get_title()
    'Collection KPIs'
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4), layout="constrained")
    for col in columns:
        if col in kpis:
            ax.plot(kpis["month_end"], kpis[col], marker=".", label=col.replace("_", " "))
    ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("month end")
    ax.set_title("Collection KPIs")
    ax.legend(fontsize=7)
    return ax


def plot_collection_cycle(curves: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Cumulative incidence of resolution and charge-off by days since episode start.

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`collection_cycle_curves` (one segment).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"days": [30.0, 60.0], "resolved": [0.5, 0.5],
    ...                   "charged_off": [0.0, 0.5]})
    >>> plot_collection_cycle(c).get_xlabel()
    'days since episode start'
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    ax.step(curves["days"], curves["resolved"], where="post", label="resolved (cure, payoff)")
    ax.step(curves["days"], curves["charged_off"], where="post", label="charged off")
    ax.set_xlabel("days since episode start")
    ax.set_ylabel("cumulative incidence")
    ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.set_title("Collection cycle (Aalen–Johansen)")
    ax.legend(fontsize=8)
    return ax
