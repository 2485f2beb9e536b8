"""The collection cycle: delinquency episodes and how long they take to resolve (DESIGN.md §3).

An **episode** is a run of delinquency (bucket M1 or worse) of one account, from the
day it started to its outcome: a payment cure, a payoff or settlement (resolutions),
a charge-off (the competing outcome), or censoring (still open at the data end, or
the account left). :func:`collection_episodes` reads the episodes from month-end
snapshots; :func:`recovery.timeline.aging.episodes` gives their exact dates from the
event tables.

The **average collection cycle** is the time from episode start to resolution. Open
episodes have not resolved *yet*, and a charged-off one never will, so the cycle is
read from the Aalen–Johansen estimate (:func:`aalen_johansen`, Kaplan–Meier with
competing risks) of the cumulative incidence of resolution and of charge-off by days
since the start (:func:`collection_cycle_curves`), summarised per segment by
:func:`collection_cycle`.

Examples
--------
>>> import pandas as pd
>>> from recovery.analytics.collection_cycle import collection_cycle
>>> e = pd.DataFrame({"start_date": pd.to_datetime(["2024-01-01"] * 2),
...     "end_date": pd.to_datetime(["2024-01-31", "2024-03-01"]),
...     "end_reason": ["payment_cure", "charged_off"]})
>>> c = collection_cycle(e)
>>> c[["episodes", "resolved", "charged_off"]].values.tolist(), float(c["mean_cycle_days"].iloc[0])
([[2, 1, 1]], 30.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from recovery.analytics.common import SegmentArg, percent_axis, plot_axes, segment_list
from recovery.analytics.partitions import PartitionedSnapshots
from recovery.analytics.states import snapshot_states
from recovery.config import Config
from recovery.docstrings import fill_doc
from recovery.errors import DataError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "COMPETING",
    "RESOLUTIONS",
    "aalen_johansen",
    "collection_cycle",
    "collection_cycle_curves",
    "collection_episodes",
    "plot_collection_cycle",
]

#: End reasons of an episode that count as its resolution.
RESOLUTIONS: tuple[str, ...] = ("payment_cure", "paid_off", "settled")
#: End reasons that compete with resolution (an episode charged off never resolves).
COMPETING: tuple[str, ...] = ("charged_off",)


@fill_doc
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
    {{snapshots_table}}
    {{config_buckets}}
    segment : str or list of str, optional
        Segment columns (value at the episode's first month end).
    {{accounts_for_segments}}

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
    segments = segment_list(segment)
    if isinstance(snapshots, PartitionedSnapshots):  # account by account: the parts' rows
        final = snapshots.data_end
        out = snapshots.memo(
            ("episodes", config, segments, accounts),
            lambda: snapshots.concat(_episodes_of, config, segments, accounts, final),
        )
        if out.empty:
            return _episodes_of(snapshots.partition(0).iloc[:0], config, segments, accounts)
        return out.sort_values(["account_id", "episode_no"], kind="mergesort", ignore_index=True)
    return _episodes_of(snapshots, config, segments, accounts)


def _episodes_of(snapshots, config, segments, accounts, final_month=None) -> pd.DataFrame:
    """The episodes of :func:`collection_episodes` (``final_month``: the table's last)."""
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
    final_month = s["month_end"].max() if final_month is None else final_month
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
    segments = segment_list(segment)
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
    segments = segment_list(segment)
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


# ----------------------------------------------------------------------------- plots


@fill_doc
def plot_collection_cycle(curves: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Cumulative incidence of resolution and charge-off by days since episode start.

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`collection_cycle_curves` (one segment).
    {{plot_ax}}

    {{returns_axes}}

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"days": [30.0, 60.0], "resolved": [0.5, 0.5],
    ...                   "charged_off": [0.0, 0.5]})
    >>> plot_collection_cycle(c).get_xlabel()
    'days since episode start'
    """
    ax = plot_axes(ax, (7, 4), layout="constrained")
    ax.step(curves["days"], curves["resolved"], where="post", label="resolved (cure, payoff)")
    ax.step(curves["days"], curves["charged_off"], where="post", label="charged off")
    ax.set_xlabel("days since episode start")
    ax.set_ylabel("cumulative incidence")
    percent_axis(ax.yaxis)
    ax.set_title("Collection cycle (Aalen–Johansen)")
    ax.legend(fontsize=8)
    return ax
