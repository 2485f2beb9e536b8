"""The analyses each section of the report shows, and the guard that runs a section.

A report section runs inside :func:`section`: when its library piece is not part of
this build, or its data is missing (:class:`SectionUnavailable`, or any other
:class:`~recovery.errors.RecoveryError`), the rendered report says so plainly instead of
showing made-up numbers. The analyses compute what the sections show from a
:class:`~recovery.report.data.ReportData`, point in time at the report month: the book by
state (:func:`book_by_state`), the monthly KPIs (:func:`report_kpis`,
:func:`collection_cycle_by_month`), segment movements (:func:`segment_movements`), the
forecast (:func:`forecast_summary`), agent effectiveness (:func:`agent_effectiveness`),
model health (:func:`model_health`) and the facts behind the report (:func:`about_html`).

Examples
--------
>>> with section("agents", "The agent table"):
...     raise SectionUnavailable("the data has no agents table")
<div class="report-unavailable" data-section="agents"><p>The agent table cannot be shown: the data has no agents table</p></div>
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recovery.analytics.partitions import PartitionedSnapshots
from recovery.config import Config
from recovery.data.contract import has_column
from recovery.errors import DataError, MissingColumnError, RecoveryError
from recovery.report.data import ReportData, parse_month
from recovery.report.formatting import (
    MISSING,
    format_count,
    format_days,
    format_month,
    format_number,
    formatter,
    is_missing,
    note_html,
    table_html,
)

__all__ = [
    "SectionUnavailable",
    "section",
    "book_by_state",
    "require_table",
    "collection_cycle_by_month",
    "report_kpis",
    "report_moments",
    "REPORT_SEGMENTS",
    "segment_movements",
    "forecast_summary",
    "agent_effectiveness",
    "model_directories",
    "matured_month",
    "model_health",
    "about_html",
]

# ----------------------------------------------------------------------------- the guard


class SectionUnavailable(RecoveryError):
    """A report section cannot be shown: its library piece or its data is missing."""


def _display_html(markup: str) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
    except ImportError:  # pragma: no cover - IPython is not installed
        get_ipython = None
    if get_ipython is None or get_ipython() is None:  # outside a notebook: plain text
        print(markup)
        return
    display(HTML(markup))


@contextlib.contextmanager
def section(section_id: str, what: str = "This section") -> Iterator[None]:
    """Run one report section; say so plainly when it cannot be shown.

    A missing library module (``recovery.*`` not importable) or a
    :class:`~recovery.errors.RecoveryError` (e.g. not enough data for the month) ends
    the section with a visible note in the report instead of numbers; a section that
    needs amounts the data lacks (:class:`~recovery.errors.MissingColumnError`: a
    status-only history) says what it needs ("needs balances"). Any other exception
    is a bug and propagates (the report fails).

    Parameters
    ----------
    section_id : str
        The section's id (used by tests and by the note's ``data-section``).
    what : str
        What the section shows, for the note.

    Examples
    --------
    >>> with section("forecast", "The forecast"):
    ...     import recovery.not_a_module
    <div class="report-unavailable" data-section="forecast"><p>The forecast is not available in this build: the library module recovery.not_a_module is not installed yet.</p></div>
    """

    def unavailable(message: str) -> None:
        _display_html(note_html(message, kind="unavailable", section_id=section_id))

    try:
        yield
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("recovery"):
            raise
        unavailable(
            f"{what} is not available in this build: the library module {exc.name} is not "
            "installed yet."
        )
    except ImportError as exc:
        if "recovery" not in str(exc):
            raise
        unavailable(f"{what} is not available in this build: {exc}.")
    except MissingColumnError as exc:  # a status-only history: no balances, no payments
        unavailable(f"{what} needs {exc.needs}, which this data does not have.")
    except RecoveryError as exc:
        unavailable(f"{what} cannot be shown: {exc}")


# ----------------------------------------------------------------------------- the analyses


def book_by_state(
    snapshots: pd.DataFrame, month: Any, config: Config | None = None
) -> pd.DataFrame:
    """Accounts and balance by state (aging bucket, or status) at one month end.

    The state is the bucket for open accounts and the status otherwise (DESIGN.md §3,
    roll rates); exits (paid off, settled, closed) are left out since they hold no
    balance. Without balances (a status-only history) the accounts alone.

    Parameters
    ----------
    snapshots : DataFrame
        The ``snapshots`` table.
    month : str or date
    config : Config, optional
        Bucket order.

    Returns
    -------
    DataFrame
        ``state, accounts, balance, share_of_accounts, share_of_balance`` in bucket
        order, ``charged_off`` last (shares of the open book plus the recovery book).

    Examples
    --------
    >>> s = pd.DataFrame({"account_id": ["A", "B", "C"], "month_end": pd.to_datetime(["2026-10-31"] * 3),
    ...                   "bucket": ["M0", "M2", None], "status": ["open", "open", "charged_off"],
    ...                   "balance": [600.0, 300.0, 100.0]})
    >>> book_by_state(s, "2026-10")[["state", "accounts", "share_of_balance"]].values.tolist()
    [['M0', 1, 0.6], ['M2', 1, 0.3], ['charged_off', 1, 0.1]]
    """
    config = config or Config()
    target = parse_month(month)
    if isinstance(snapshots, PartitionedSnapshots):  # the rows at the month, part by part
        from recovery.analytics.forecast_inputs import rows_at

        rows = rows_at(snapshots, [target])[target]  # remembered: the forecast reads them too
    else:
        rows = snapshots[_month_is(snapshots, target)]
    status = rows["status"].astype(str)
    keep = status.isin(["open", "charged_off"])
    rows = rows[keep]
    state = np.where(status[keep] == "open", rows["bucket"].astype(str), status[keep])
    amounts = has_column(snapshots, "balance")
    balance = rows["balance"].to_numpy(dtype=float) if amounts else np.zeros(len(rows))
    grouped = (
        pd.DataFrame({"state": state, "balance": balance})
        .groupby("state")
        .agg(accounts=("balance", "size"), balance=("balance", "sum"))
    )
    order = config.aging.bucket_labels() + ["charged_off"]
    grouped = grouped.reindex([s for s in order if s in grouped.index])
    out = grouped.reset_index()
    out["accounts"] = out["accounts"].astype(int)
    out["share_of_accounts"] = out["accounts"] / max(out["accounts"].sum(), 1)
    total = out["balance"].sum()
    out["share_of_balance"] = out["balance"] / total if total > 0 else np.nan
    if not amounts:
        out = out.drop(columns=["balance", "share_of_balance"])
    return out


def _month_is(snapshots: pd.DataFrame, month: pd.Timestamp) -> np.ndarray:
    return (pd.to_datetime(snapshots["month_end"]).dt.normalize() == month).to_numpy()


def _whole_table_needed(name: str, what: str) -> str:
    return (
        f"the whole {name} table is needed, and a partitioned dataset is read one partition "
        f"at a time; make the report from a portfolio directory for {what}"
    )


def require_table(data: ReportData, name: str, what: str) -> pd.DataFrame:
    """A table of the data, or :class:`SectionUnavailable` naming what needs it.

    Examples
    --------
    >>> from recovery.report.data import example_report_data
    >>> data = example_report_data()  # two accounts, August to October 2026
    >>> require_table(data, "agents", "the agent table")
    Traceback (most recent call last):
    ...
    recovery.report.sections.SectionUnavailable: the data has no agents table, which the agent table needs
    """
    table = getattr(data.portfolio, name, None)
    if (table is None or not len(table)) and data.extras.get("partitioned"):
        raise SectionUnavailable(_whole_table_needed(name, what))
    if table is None or not len(table):
        raise SectionUnavailable(f"the data has no {name} table, which {what} needs")
    return table


def collection_cycle_by_month(
    episodes: pd.DataFrame, months: Sequence[Any], window_months: int = 12
) -> pd.DataFrame:
    """Average collection cycle per month end, from the episodes started in a window.

    For month end *m*: the delinquency episodes that started in the ``window_months``
    months up to *m*, followed up to *m* (later ends are censored at *m*), through
    :func:`recovery.analytics.collection_cycle.collection_cycle` (Kaplan–Meier type, charge-off a competing
    outcome). So each month's figure uses only what was known at its month end.

    Parameters
    ----------
    episodes : DataFrame
        From :func:`recovery.timeline.aging.episodes`: ``start_date``, ``end_date``,
        ``end_reason``.
    months : sequence of dates
        Month ends.
    window_months : int
        Months of episode starts pooled for each month end.

    Returns
    -------
    DataFrame
        ``month_end, episodes, average_collection_cycle_days,
        median_collection_cycle_days``.

    Examples
    --------
    >>> e = pd.DataFrame({"start_date": pd.to_datetime(["2026-01-05", "2026-03-10", "2026-09-01"]),
    ...                   "end_date": pd.to_datetime(["2026-02-04", "2026-11-20", None]),
    ...                   "end_reason": ["payment_cure", "paid_off", "open"]})
    >>> c = collection_cycle_by_month(e, ["2026-10-31"])  # one cure in 30 days, two censored
    >>> c[["episodes", "average_collection_cycle_days"]].values.tolist()
    [[3.0, 30.0]]
    """
    from recovery.analytics.collection_cycle import collection_cycle

    months = pd.DatetimeIndex(pd.to_datetime(list(months)))
    # only what the cycle reads, of the episodes started in some month's window
    columns = ["start_date", "end_date", "end_reason", "charge_off_date"]
    episodes = episodes[[c for c in columns if c in episodes.columns]]
    starts = pd.to_datetime(episodes["start_date"])
    if len(months):
        wanted = (starts <= months.max()) & (
            starts > months.min() - pd.DateOffset(months=window_months)
        )
        episodes, starts = episodes[wanted], starts[wanted]
    ends = pd.to_datetime(episodes["end_date"])
    rows = []
    for m in months:
        window = (starts <= m) & (starts > m - pd.DateOffset(months=window_months))
        e = episodes[window].copy()
        if not len(e):
            rows.append({"month_end": m, "episodes": 0})
            continue
        later = (ends[window] > m).to_numpy()
        e.loc[later, "end_date"] = pd.NaT
        e.loc[later, "end_reason"] = "open"
        cycle = collection_cycle(e, data_end=m)
        rows.append(
            {
                "month_end": m,
                "episodes": int(len(e)),
                "average_collection_cycle_days": float(cycle["mean_cycle_days"].iloc[0]),
                "median_collection_cycle_days": float(cycle["median_cycle_days"].iloc[0]),
            }
        )
    return pd.DataFrame(rows)


def report_kpis(data: ReportData) -> pd.DataFrame:
    """The report's monthly KPIs, one row per month end up to the report month.

    :func:`recovery.analytics.kpis.monthly_kpis` on the snapshots known at the report month
    (with the ``actions`` table for the cost), plus the average collection cycle of
    :func:`collection_cycle_by_month` for the report month, the months before it whose
    changes measure its normal variation (``config.analytics.change_history_months``)
    and the same month a year earlier, when the event tables allow episodes to be
    derived.

    Returns
    -------
    DataFrame
        ``month_end`` and the KPI columns named in :data:`recovery.report.headline.HEADLINE_KPIS`.

    Examples
    --------
    >>> from recovery.report.data import example_report_data
    >>> data = example_report_data()  # two accounts, August to October 2026
    >>> report_kpis(data)[["overdue_rate_30plus", "cure_rate"]].values.tolist()
    [[0.0, nan], [0.5, 0.0], [0.0, 1.0]]
    """
    from recovery.analytics.kpis import monthly_kpis

    actions = data.portfolio.actions
    if actions is None:  # a partitioned dataset: the columns the costs need
        actions = data.extras.get("cost_actions")
    kpis = monthly_kpis(data.history, config=data.config, actions=actions)
    episodes = data.extras.get("episodes")  # built with the snapshots, part by part
    if (
        episodes is None
        and data.portfolio.schedule is not None
        and data.portfolio.payments is not None
    ):
        from recovery.timeline.aging import episodes as make_episodes

        episodes = make_episodes(data.portfolio, config=data.config)
    if episodes is not None:
        # the months whose changes measure the cycle's normal variation, and a year ago
        recent = pd.date_range(
            end=data.month, periods=data.config.analytics.change_history_months + 2, freq="ME"
        )
        wanted = [*recent, data.month - pd.offsets.MonthEnd(12)]
        cycle = collection_cycle_by_month(episodes, sorted(set(wanted)))
        kpis = kpis.merge(cycle.drop(columns=["episodes"]), on="month_end", how="left")
    return kpis


def report_moments(data: ReportData, segment: str | None = None) -> pd.DataFrame:
    """Per month, the sums behind each rate's sampling error (its own denominators).

    :func:`recovery.analytics.variation.kpi_moments` of the snapshots known at the
    report month, for :func:`recovery.report.headline.kpi_change_table` (no
    ``segment``) and :func:`segment_movements` (by one segment column).

    The sums are additive, so they are computed once, in one pass over the snapshots, by
    all the report's segments together (:data:`REPORT_SEGMENTS` that the data has) and
    kept in ``data.extras``; the book's sums and each segment's are sums of those.

    Examples
    --------
    >>> from recovery.report.data import example_report_data
    >>> data = example_report_data()  # two accounts, August to October 2026
    >>> m = report_moments(data)
    >>> late = m[m["kpi"] == "overdue_rate_30plus"]  # open accounts, and those 30+ DPD
    >>> late["n"].tolist(), late["sum_y"].tolist()
    ([2, 2, 2], [0.0, 1.0, 0.0])
    """
    from recovery.analytics.variation import kpi_moments

    segments = _report_segments(data)
    if segment is not None and segment not in segments:  # not one of the report's
        source = None if segment in data.history.columns else data.accounts
        return kpi_moments(data.history, data.config, segment=segment, accounts=source)
    if "moments" not in data.extras:  # one pass over the snapshots for every segment
        history, source = data.history, None
        joined = [seg for seg in segments if seg not in history.columns]
        if joined and isinstance(history, PartitionedSnapshots):
            history = _with_account_columns(history, data.accounts, joined)
        elif joined:
            source = data.accounts
        data.extras["moments"] = kpi_moments(
            history, data.config, segment=segments or None, accounts=source
        )
    moments = data.extras["moments"]
    keep = [] if segment is None else [segment]
    if keep == segments:
        return moments.copy()
    return _moments_by(moments, keep, drop=[s for s in segments if s not in keep])


#: The segment columns of the report's segment movements (those the data has).
REPORT_SEGMENTS = ("product", "region")


def _report_segments(data: ReportData) -> list[str]:
    """The columns of :data:`REPORT_SEGMENTS` in the snapshots or the accounts table."""
    columns = set(data.history.columns)
    if data.accounts is not None:
        columns |= set(data.accounts.columns)
    return [seg for seg in REPORT_SEGMENTS if seg in columns]


def _with_account_columns(
    parts: PartitionedSnapshots, accounts: pd.DataFrame, columns: list[str]
) -> PartitionedSnapshots:
    """The parts with ``columns`` of the accounts table, looked up by account id.

    The values a join on ``account_id`` gives (the first row of an account; missing
    when the account is not in the table), from a lookup built once for every part.
    """
    table = accounts[["account_id", *columns]].copy()
    table["account_id"] = table["account_id"].astype(str)
    table = table.drop_duplicates("account_id").set_index("account_id")

    def add(part: pd.DataFrame) -> pd.DataFrame:
        found = table.reindex(part["account_id"].astype(str).to_numpy())
        return part.assign(**{c: found[c].array for c in columns})

    return parts.transform(add)


def _moments_by(moments: pd.DataFrame, keep: list[str], drop: list[str]) -> pd.DataFrame:
    """Moments by month (and ``keep``): those by more segments summed over ``drop``.

    The same table :func:`recovery.analytics.variation.kpi_moments` gives by ``keep``
    alone: its columns, its order (by measure, then month and segment), ``n`` whole.
    """
    sums = [c for c in moments.columns if c not in ("month_end", "kpi", "kind", *keep, *drop)]
    keys = ["month_end", *keep]
    out = (
        moments.groupby([*keys, "kpi", "kind"], dropna=False, observed=True, sort=False)[sums]
        .sum()
        .reset_index()
    )
    out["n"] = out["n"].astype(int)
    out = out.sort_values(keys, kind="mergesort").sort_values("kpi", kind="mergesort")
    return out.reset_index(drop=True)


def segment_movements(
    data: ReportData,
    segments: Sequence[str] = REPORT_SEGMENTS,
    measures: Sequence[str] = (
        "overdue_rate_30plus_balance",
        "overdue_rate_90plus_balance",
        "collection_rate",
        "cure_rate",
    ),
    min_accounts: int = 30,
    top: int = 8,
) -> pd.DataFrame:
    """Month-on-month movements of KPIs by segment, judged against their normal variation.

    Each segment's rate is judged like a headline KPI
    (:func:`recovery.analytics.variation.judge_changes` from its own denominators and the
    segment's own history, at ``config.analytics.change_level``).

    Parameters
    ----------
    data : ReportData
    segments : sequence of str
        Segment columns (of ``snapshots`` or ``accounts``); absent ones are skipped.
    measures : sequence of str
        Rates of :data:`recovery.analytics.variation.KPI_KINDS` to compare.
    min_accounts : int
        A segment's rate is left out when fewer accounts stand behind it in the report
        month (open accounts for overdue rates, delinquent accounts at the start of the
        month for cure and collection rates).
    top : int
        Rows returned: unusual changes first, the furthest outside their normal
        variation first, then the largest changes.

    Returns
    -------
    DataFrame
        ``segment_type, segment, measure, accounts, previous, value, change`` (change in
        fraction points; ``accounts`` behind the rate this month), ``verdict``,
        ``band_low``, ``band_high``, ``beyond`` and ``score`` (see
        :func:`recovery.analytics.variation.judge_changes`).

    Raises
    ------
    SectionUnavailable
        When no segment has enough accounts behind its rates.

    Examples
    --------
    >>> from recovery.report.data import example_report_data
    >>> data = example_report_data()  # two accounts, August to October 2026
    >>> import dataclasses
    >>> north = dataclasses.replace(data, snapshots=data.snapshots.assign(region="north"), extras={})
    >>> moves = segment_movements(north, measures=["cure_rate"], min_accounts=1)
    >>> moves[["segment", "previous", "value", "change", "verdict"]].values.tolist()
    [['north', 0.0, 1.0, 1.0, 'no_history']]
    """
    from recovery.analytics.variation import judge_changes, sampling_intervals

    accounts = data.accounts
    settings = data.config.analytics
    frames = []
    for seg in segments:
        if seg not in data.history.columns and (accounts is None or seg not in accounts.columns):
            continue
        moments = report_moments(data, seg)
        moments = moments[moments["kpi"].isin(list(measures))]
        if not len(moments):
            continue
        iv = sampling_intervals(moments, settings.change_level)
        iv["month_end"] = pd.to_datetime(iv["month_end"]).dt.normalize()
        judged = judge_changes(
            iv,
            data.month,
            keys=("kpi", seg),
            level=settings.change_level,
            history_months=settings.change_history_months,
            min_history=settings.change_min_history,
        )
        now = iv[iv["month_end"] == data.month].set_index(["kpi", seg])["n"]
        judged["accounts"] = [
            now.get(key, 0) for key in zip(judged["kpi"], judged[seg], strict=True)
        ]
        frames.append(
            judged.rename(columns={"kpi": "measure", seg: "segment"}).assign(
                segment_type=seg, segment=lambda f: f["segment"].astype(str)
            )
        )
    columns = ["segment_type", "segment", "measure", "accounts", "previous", "value", "change"]
    columns += ["verdict", "band_low", "band_high", "beyond", "score"]
    out = pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
    out = out[out["accounts"].ge(min_accounts) & out["value"].notna() & out["previous"].notna()]
    if not len(out):
        raise SectionUnavailable(
            f"no segment (product, region) has {min_accounts} or more accounts behind its rates "
            "in both months"
        )
    out = out.assign(
        accounts=out["accounts"].astype(int),
        _unusual=out["verdict"].ne("unusual"),
        _score=-out["score"].fillna(0.0),
        _size=-out["change"].abs(),
    )
    out = out.sort_values(["_unusual", "_score", "_size"], kind="mergesort")
    return out.drop(columns=["_unusual", "_score", "_size"]).head(top).reset_index(drop=True)


_FORECAST_ROWS = {
    "delinquent_count": ("Delinquent accounts (M1 and worse)", "count"),
    "delinquent_balance": ("Delinquent balance", "money"),
    "gross_charge_off_count": ("Accounts charged off in the month", "count"),
    "gross_charge_off_balance": ("Balance charged off in the month", "money"),
    "recoveries": ("Recoveries on charged-off debt", "money"),
    "net_charge_off_balance": ("Net charge-off (charged off − recovered)", "money"),
}


def forecast_summary(
    data: ReportData, months_ahead: int = 3, lookback_months: int = 12
) -> tuple[pd.DataFrame, Any]:
    """The report month's actuals and the forecast of the next months, side by side.

    A :class:`recovery.analytics.forecast.RollRateForecaster` fitted on the snapshots up to the
    report month (pooled transitions of the last ``lookback_months``), with recoveries
    from a :class:`recovery.analytics.liquidation.ERCForecaster`; actuals from
    :func:`recovery.analytics.backtest.actual_totals`.

    Returns
    -------
    table : DataFrame of str
        One row per measure; columns the report month (actual) and the forecast months.
        ``table.attrs["notes"]``: sentences on the forecast's health (a bucket whose
        balance growth was dropped because it would grow without bound, growth capped),
        to show under the table; empty when healthy.
    erc : ERCForecaster or None
        Fitted on the same snapshots (expected remaining collections per cohort);
        None when there is no charged-off debt yet (recoveries are then 0).

    Examples
    --------
    >>> from recovery.report.data import example_report_data
    >>> data = example_report_data()  # two accounts, August to October 2026
    >>> table, erc = forecast_summary(data, months_ahead=1)
    >>> table.columns.tolist(), erc is None, table.attrs["notes"]
    (['Measure', 'October 2026 (actual)', 'November 2026 (forecast)'], True, [])
    """
    from recovery.analytics.backtest import actual_totals
    from recovery.analytics.forecast import RollRateForecaster
    from recovery.analytics.liquidation import ERCForecaster

    try:
        erc = ERCForecaster(config=data.config).fit(data.history, data_end=data.month)
    except DataError:  # no charged-off book yet: forecast the delinquent book alone
        erc = None
    forecaster = RollRateForecaster(
        lookback_months=lookback_months, recoveries=erc, config=data.config
    ).fit(data.history, data_end=data.month)
    totals = forecaster.predict_totals(months_ahead).set_index("month_end")
    actual = actual_totals(data.history, data.config)
    actual = actual.assign(month_end=pd.to_datetime(actual["month_end"]).dt.normalize()).set_index(
        "month_end"
    )
    columns = {
        f"{format_month(data.month)} (actual)": actual.loc[data.month]
        if data.month in actual.index
        else None
    }
    for month_end, row in totals.iterrows():
        columns[f"{format_month(month_end)} (forecast)"] = row
    rows = []
    for key, (label, kind) in _FORECAST_ROWS.items():
        fmt = formatter(kind)
        line = {"Measure": label}
        for name, values in columns.items():
            value = values.get(key, np.nan) if values is not None else np.nan
            line[name] = fmt(value)
        rows.append(line)
    table = pd.DataFrame(rows)
    table.attrs["notes"] = list(forecaster.warnings_)
    return table, erc


def agent_effectiveness(
    portfolio: Any,
    month: Any = None,
    config: Config | None = None,
    window_months: int = 24,
    min_spells: int = 30,
) -> Any:
    """Case-mix adjusted agent effectiveness from the spell-months of the last months.

    One row per assignment spell and month the agent held the account
    (:func:`recovery.operations.spells.spell_month_outcomes`, the spell's first
    ``ceil(agent_window_days / 30)`` months): whether the account paid in the month,
    against the payment expected for the same account from a case-mix model that does
    not know the agent — the account's point-in-time features the day before the spell
    (:func:`recovery.operations.agents.spell_case_mix`), the month index and whether
    the agent talked with the borrower, out of fold
    (:func:`recovery.operations.agents.expected_outcomes`). Only months with a
    conversation carry observed − expected (``through="talked"``: the agent acts
    through conversations), which removes the noise of months the agent could not move
    (docs/agents.md). Effects are compared within team × bucket by
    :class:`recovery.operations.agents.AgentEffectiveness`, with each agent's
    reliability.

    Parameters
    ----------
    portfolio : Portfolio
        With ``assignments``, ``agents``, ``schedule``, ``payments`` (and ``actions``
        for the conversations).
    month : str or date, optional
        Last month end considered (default the last complete month of the data).
    config : Config, optional
    window_months : int
        Months of spell starts used.
    min_spells : int
        Agents with fewer spells are shown but not ranked.

    Returns
    -------
    AgentEffectiveness
        Fitted; ``summary`` per agent (``rows`` are spell-months), ``spells_`` the rows.

    Raises
    ------
    SectionUnavailable
        When a table is missing or fewer than ``min_spells`` spells have a month.

    Examples
    --------
    >>> from recovery.datasets import load_sample
    >>> fit = agent_effectiveness(load_sample(), "2025-12")  # doctest: +SKIP
    >>> compare_agents(fit).ranked  # doctest: +SKIP
    """
    from recovery.operations.agents import (
        AgentEffectiveness,
        expected_outcomes,
        spell_case_mix,
    )
    from recovery.operations.spells import spell_month_outcomes

    config = config or Config()
    for name in ("assignments", "agents", "schedule", "payments"):
        table = getattr(portfolio, name, None)
        if (table is None or not len(table)) and portfolio.meta.get("read_in_parts"):
            raise SectionUnavailable(_whole_table_needed(name, "the agent comparison"))
        if table is None or not len(table):
            raise SectionUnavailable(f"the data has no {name} table, which the agent table needs")
    if month is None:
        end = pd.Timestamp(portfolio.data_end).normalize()
        month = end if end.is_month_end else end - pd.offsets.MonthEnd(1)
    month = parse_month(month)
    rows = spell_month_outcomes(portfolio, config)
    start = pd.to_datetime(rows["start_date"])
    first = month - pd.DateOffset(months=window_months)
    keep = (start > first) & (pd.to_datetime(rows["period_end"]) <= month + pd.Timedelta(days=1))
    rows = rows[keep].reset_index(drop=True)
    if rows["spell_id"].nunique() < min_spells:
        raise SectionUnavailable(
            f"only {rows['spell_id'].nunique()} assignment spells with a month of outcome in "
            f"the {window_months} months to {format_month(month)}"
        )
    rows, case_mix = spell_case_mix(portfolio, rows, config)
    case_mix = case_mix.assign(
        month_index=rows["month_index"].to_numpy(), talked=rows["talked"].to_numpy()
    )
    rows["expected"] = expected_outcomes(
        rows, case_mix, outcome="paid", random_state=config.analytics.seed
    )
    rows["observed"] = rows["paid"].astype(float)
    return AgentEffectiveness(min_spells=min_spells, through="talked").fit(rows)


def model_directories(model_path: str | Path) -> list[Path]:
    """Model directories (holding ``card.json``) at ``model_path`` or one level below.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for name in ("p_pay", "p_cure"):
    ...         _ = (Path(tmp) / name).mkdir()
    ...         _ = (Path(tmp) / name / "card.json").write_text("{}")
    ...     [p.name for p in model_directories(tmp)]
    ['p_cure', 'p_pay']
    """
    path = Path(model_path)
    if (path / "card.json").is_file():
        return [path]
    return sorted(p.parent for p in path.glob("*/card.json"))


def matured_month(month: Any, horizon_days: int) -> pd.Timestamp:
    """The latest month end whose outcome window of ``horizon_days`` ends by ``month``.

    Examples
    --------
    >>> matured_month("2026-10", 30), matured_month("2026-10", 60)
    (Timestamp('2026-09-30 00:00:00'), Timestamp('2026-08-31 00:00:00'))
    """
    target = parse_month(month)
    latest = target - pd.Timedelta(days=int(horizon_days))
    return (
        latest - pd.offsets.MonthEnd(0) if latest.is_month_end else latest - pd.offsets.MonthEnd(1)
    ).normalize()


def model_health(data: ReportData, top_features: int = 3) -> pd.DataFrame:
    """Health of the saved scorers at the report month: stability and matured AUC.

    For each model in ``data.model_path``: the population stability index (PSI) of
    its score between the training sample (the reference stored in the model card) and
    the overdue accounts at the report month end, the features that shifted most, and
    the AUC on the latest month whose outcomes are complete by the report month end
    (:func:`matured_month`), next to the out-of-time test AUC recorded at training.

    Parameters
    ----------
    data : ReportData
        With ``model_path`` and event tables (features are rebuilt point in time).
    top_features : int
        Most shifted features named per model.

    Returns
    -------
    DataFrame
        One row per model: ``model, trained_on, in_training_window, tested`` (whether
        its card records an out-of-time test), ``test_auc, score_psi, psi_status,
        shifted_features, matured_month, matured_accounts, matured_auc``.

    Examples
    --------
    >>> data = load_report_data("recovery_demo/data", "2025-12", "recovery_demo/models")  # doctest: +SKIP
    >>> model_health_notes(model_health(data))  # doctest: +SKIP
    """
    from recovery.models import load_model, out_of_time_tested, read_card
    from recovery.models.evaluation import auc
    from recovery.models.monitoring import psi_status, stability_by_month
    from recovery.models.training import build_model_frame, training_labels
    from recovery.timeline.features import build_features

    if data.model_path is None:
        raise SectionUnavailable("no model directory was given (--model DIR)")
    dirs = model_directories(data.model_path)
    if not dirs:
        raise SectionUnavailable(f"no saved model (card.json) in {data.model_path}")
    for name in ("accounts", "schedule", "payments"):
        require_table(data, name, "rebuilding the model features")
    now = build_features(data.portfolio, [data.month], data.config)
    frames: dict[pd.Timestamp, pd.DataFrame] = {}
    rows = []
    for directory in dirs:
        scorer = load_model(directory, data.config)
        card = read_card(directory)
        window = card.get("training_window") or {}
        test = (card.get("metrics") or {}).get("test") or {}
        ok = scorer.in_domain(now) if len(now) else np.zeros(0, dtype=bool)
        stab = stability_by_month(scorer, now[ok]) if ok.any() else pd.DataFrame()
        score_psi = np.nan
        shifted = MISSING
        if len(stab):
            score_rows = stab[stab["variable"] == "score"]
            score_psi = float(score_rows["psi"].iloc[0]) if len(score_rows) else np.nan
            feats = (
                stab[stab["variable"] != "score"]
                .sort_values("psi", ascending=False)
                .head(top_features)
            )
            shifted = ", ".join(
                f"{v} ({format_number(p, 2)})"
                for v, p in zip(feats["variable"], feats["psi"], strict=True)
            )
        m = matured_month(data.month, scorer.horizon_days_)
        if m not in frames:
            frames[m] = build_model_frame(data.portfolio, [m], data.config)
        frame = frames[m]
        matured_auc, n = np.nan, 0
        if len(frame):
            y = training_labels(frame, scorer.target)
            keep = y.notna().to_numpy() & scorer.in_domain(frame)
            n = int(keep.sum())
            if n and scorer.task_ == "binary" and y[keep].nunique() == 2:
                matured_auc = float(auc(y[keep].to_numpy(), scorer.predict(frame[keep])))
        last_trained = pd.Timestamp(window["last_as_of"]) if window.get("last_as_of") else None
        rows.append(
            {
                "model": scorer.target,
                "trained_on": f"{window.get('first_as_of', '?')} to {window.get('last_as_of', '?')}",
                "in_training_window": bool(last_trained is not None and m <= last_trained),
                "tested": out_of_time_tested(card),
                "test_auc": test.get("auc", np.nan),
                "score_psi": score_psi,
                "psi_status": str(psi_status([score_psi])[0])
                if not is_missing(score_psi)
                else MISSING,
                "shifted_features": shifted,
                "matured_month": m,
                "matured_accounts": n,
                "matured_auc": matured_auc,
            }
        )
    return pd.DataFrame(rows)


def _accounts_in(snapshots: Any, data: ReportData | None = None) -> int:
    if data is not None and snapshots is data.snapshots and "accounts_in_book" in data.extras:
        return int(data.extras["accounts_in_book"])  # counted when the snapshots were built
    if isinstance(snapshots, PartitionedSnapshots):  # an account's rows are in one part
        return sum(int(p["account_id"].nunique()) for p in snapshots)
    return int(snapshots["account_id"].nunique())


def about_html(data: ReportData) -> str:
    """Facts about the data and settings behind the report, as an HTML table.

    Examples
    --------
    >>> from recovery.report.data import example_report_data
    >>> data = example_report_data()  # two accounts, August to October 2026
    >>> "<td>Months of snapshots</td><td>August 2026 to October 2026</td>" in about_html(data)
    True
    """
    from recovery.version import __version__

    cfg = data.config
    history = data.history
    names = [p.name for p in model_directories(data.model_path)] if data.model_path else []
    models = ", ".join(names) if names else "none given"
    rows = [
        ("Report month", format_month(data.month)),
        ("Data up to", f"{data.data_end:%Y-%m-%d}"),
        ("Months of snapshots", f"{format_month(data.months[0])} to {format_month(data.month)}"),
        ("Accounts in the snapshots", format_count(_accounts_in(history, data))),
        ("Charge-off at", format_days(cfg.aging.charge_off_dpd) + " past due"),
        ("Recovery horizon", f"{cfg.analytics.recovery_horizon_months} months"),
        ("Models checked", models),
        ("Software", f"recovery {__version__}"),
    ]
    return table_html(pd.DataFrame(rows, columns=["", "Value"]), table_id="about-table")
