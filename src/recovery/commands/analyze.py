"""``recovery analyze PATH --out DIR``: portfolio analytics tables and figures.

The analysis is a list of steps, :data:`STEPS`. Each :class:`AnalysisStep` is a
function of an :class:`AnalysisContext` (the portfolio, its ``snapshots``, the config,
the segment columns and the results of earlier steps) returning named tables
(DataFrames) and figures (matplotlib Axes or Figures). :func:`run_analysis` runs the
steps in order; :func:`write_results` writes each table as ``tables/<name>.parquet``
and ``tables/<name>.csv`` and each figure as ``figures/<name>.png``, atomically.

**Extension point**: another analysis adds itself by appending a step, e.g.::

    from recovery.commands.analyze import STEPS, AnalysisStep

    def _recovery_by_age(ctx):
        table = recovery_by_age(ctx.snapshots, config=ctx.config)
        out = {"recovery_by_age": table}
        if ctx.figures:
            out["recovery_by_age_plot"] = plot_recovery_by_age(table)
        return out

    STEPS.append(AnalysisStep("recovery_by_age", _recovery_by_age, "recovery by debt age"))

(in this module, below the built-in steps, so that the CLI picks it up).

Examples
--------
>>> import pandas as pd
>>> from recovery.data.portfolio import Portfolio
>>> snaps = pd.DataFrame({"account_id": ["A", "A"],
...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29"]), "dpd": [0, 31],
...     "bucket": ["M0", "M2"], "balance": [100.0, 100.0], "amount_overdue": [0.0, 9.0],
...     "paid_in_month": [5.0, 0.0], "status": ["open", "open"]})
>>> results = run_analysis(Portfolio(snapshots=snaps), steps=["roll_rates"], figures=False)
>>> float(results["roll_rate_matrix_count"].set_index("from_state").loc["M0", "M2"])
1.0
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import numpy as np
import pandas as pd

from recovery.analytics.common import month_end
from recovery.analytics.partitions import PartitionedSnapshots
from recovery.commands._engine import EngineChoice, engine_options
from recovery.commands.options import config_option, portfolio_source
from recovery.config import Config, load_config
from recovery.data.contract import require_columns
from recovery.data.portfolio import Portfolio
from recovery.errors import DataError, MissingColumnError, RecoveryError
from recovery.progress import progress_bar

if TYPE_CHECKING:
    from recovery.engine.partitioning import PartitionedDataset

__all__ = [
    "AnalysisContext",
    "AnalysisStep",
    "STEPS",
    "run_analysis",
    "write_results",
    "recent_forecast_errors",
    "recent_error_sentence",
    "command",
]


@dataclass
class AnalysisContext:
    """What every analysis step sees.

    Attributes
    ----------
    portfolio : Portfolio
        The loaded portfolio (event tables may be absent).
    snapshots : PartitionedSnapshots or DataFrame
        The ``snapshots`` table (loaded, or derived by :func:`recovery.timeline.aging.snapshots`),
        as parts of ``config.analytics.partition_size`` accounts read from disk one at a
        time (:class:`recovery.analytics.partitions.PartitionedSnapshots`): every analytic
        of :mod:`recovery.analytics` accepts it in place of a DataFrame.
    config : Config
        The configuration.
    segment : list of str
        Segment columns asked for (``--segment``); empty for the whole book.
    results : dict
        Tables and figures of the steps run so far, by name.
    states : PartitionedSnapshots or DataFrame
        ``snapshots`` with their roll-rate states
        (:func:`recovery.analytics.states.snapshot_states`), prepared once; every function of
        :mod:`recovery.analytics.roll_rates`, :mod:`recovery.analytics.kpis`,
        :mod:`recovery.analytics.collection_cycle` and :mod:`recovery.analytics.vintages`
        accepts it in place of ``snapshots`` and then skips the preparation (the parts
        of ``snapshots`` are already prepared: the two are the same object).
    figures : bool
        Whether steps should draw their figures (tables only when false).
    skipped : list of dict
        Outputs left out because the data lacks what they need (``output``,
        ``reason``: one line each; a status-only history has no balances).
    exact_episodes : DataFrame or None
        The delinquency episodes of the event tables
        (:func:`recovery.timeline.aging.episodes`), when the portfolio has them.
    event_tables : bool or None
        Whether the snapshots were derived from the event tables (None: whether the
        portfolio has ``schedule`` and ``payments``).
    """

    portfolio: Portfolio
    snapshots: pd.DataFrame
    config: Config
    segment: list[str] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    states: pd.DataFrame | None = None
    figures: bool = True
    skipped: list[dict[str, str]] = field(default_factory=list)
    exact_episodes: pd.DataFrame | None = None
    event_tables: bool | None = None

    def needs(self, columns: Sequence[str], what: str) -> bool:
        """Whether the snapshots have ``columns``; if not, ``what`` is skipped with one line.

        Examples
        --------
        >>> states = pd.DataFrame({"account_id": ["A"], "month_end": ["2024-01-31"],
        ...     "dpd": [0], "bucket": ["M0"], "status": ["open"]})
        >>> ctx = AnalysisContext(Portfolio(snapshots=states), states, Config())
        >>> ctx.needs(["balance"], "the roll-rate matrix by balance"), ctx.skipped[0]["reason"]
        (False, "the roll-rate matrix by balance — needs balances: this data has no column 'balance'")
        """
        try:
            require_columns(self.snapshots, list(columns), what)
        except MissingColumnError as exc:
            self.skipped.append({"output": what, "reason": str(exc)})
            return False
        return True

    @property
    def accounts(self) -> pd.DataFrame | None:
        """The ``accounts`` table, if any (for segment columns)."""
        return self.portfolio.accounts

    @property
    def has_event_tables(self) -> bool:
        """Whether the snapshots were derived from ``schedule`` and ``payments``."""
        if self.event_tables is not None:
            return self.event_tables
        return self.portfolio.schedule is not None and self.portfolio.payments is not None


@dataclass(frozen=True)
class AnalysisStep:
    """One analysis: a name, a function of the context returning named outputs.

    Attributes
    ----------
    name : str
        Step name (``--steps`` selects by it).
    run : callable
        ``run(context) -> dict[str, DataFrame | matplotlib Axes | Figure]``.
    description : str
        One line shown in the progress bar and ``--help``.
    """

    name: str
    run: Callable[[AnalysisContext], dict[str, Any]]
    description: str = ""


# ----------------------------------------------------------------------------- steps


def _by_segment(ctx: AnalysisContext, name: str, func: Callable[..., pd.DataFrame]):
    """The whole-book table and, when segments are asked for, ``<name>_by_<seg>``."""
    out = {name: func(segment=None)}
    for seg in ctx.segment:
        out[f"{name}_by_{seg}"] = func(segment=seg)
    return out


def _matrix_table(matrix: pd.DataFrame) -> pd.DataFrame:
    return matrix.reset_index().rename_axis(columns=None)


def _roll_rates(ctx: AnalysisContext) -> dict[str, Any]:
    from recovery.analytics import roll_rates as rr

    kw = {"config": ctx.config, "accounts": ctx.accounts}
    level = ctx.config.analytics.confidence
    out = _by_segment(ctx, "roll_rates", lambda segment: rr.roll_rates(ctx.states,
                      segment=segment, confidence=level, **kw))  # fmt: skip
    if out["roll_rates"].empty:  # one month end only (or none consecutive): no matrices
        return out
    count = rr.roll_rate_matrix(ctx.states, weight="count", **kw)
    latest_month = out["roll_rates"]["month_end"].max()
    latest = rr.roll_rate_matrix(ctx.states, month=latest_month, **kw)
    out["roll_rate_matrix_count"] = _matrix_table(count)
    out["roll_rate_matrix_latest"] = _matrix_table(latest)
    if ctx.figures:
        out["roll_rate_matrix"] = rr.plot_roll_rate_matrix(
            count, title="Roll rates by count, all months pooled"
        )
    if ctx.needs(["balance"], "the roll-rate matrix by balance"):
        balance = rr.roll_rate_matrix(ctx.states, weight="balance", **kw)
        out["roll_rate_matrix_balance"] = _matrix_table(balance)
        if ctx.figures:
            out["roll_rate_matrix_by_balance"] = rr.plot_roll_rate_matrix(
                balance, title="Roll rates by balance, all months pooled"
            )
    return out


def _roll_rate_trends(ctx: AnalysisContext) -> dict[str, Any]:
    from recovery.analytics import roll_rates as rr

    kw = {"config": ctx.config, "accounts": ctx.accounts}
    out = _by_segment(ctx, "roll_rate_trends", lambda segment: rr.roll_rate_trends(
        ctx.states, segment=segment, **kw))  # fmt: skip
    # net flows of balance; of accounts when the data has no balances
    weight = "balance" if ctx.needs(["balance"], "the flow rates by balance") else "count"
    out.update(
        _by_segment(
            ctx,
            "flow_rates",
            lambda segment: rr.flow_rates(ctx.states, weight=weight, segment=segment, **kw),
        )  # fmt: skip
    )
    if ctx.figures and len(out["roll_rate_trends"]):  # 3 months pooled: less noisy
        trends = rr.roll_rate_trends(ctx.states, window=3, **kw)
        flows = rr.flow_rates(ctx.states, weight=weight, window=3, **kw)
        early = ctx.config.aging.bucket_labels()[:4]
        out["roll_forward_trends"] = rr.plot_roll_rate_trends(
            trends, "roll_forward", early, title="Roll-forward rate by bucket (3 months pooled)"
        )
        out["cure_trends"] = rr.plot_roll_rate_trends(
            trends, "cure", early[1:], title="Cure rate by bucket (3 months pooled)"
        )
        of = "" if weight == "balance" else " of accounts"
        out["flow_rates_plot"] = rr.plot_flow_rates(
            flows[flows["flow_rate"] > 0], title=f"Net flow rates{of} (3 months pooled)"
        )
    return out


def _vintages(ctx: AnalysisContext) -> dict[str, Any]:
    from recovery.analytics import vintages as vt

    # by vintage is what the curves already are
    ctx = dataclasses.replace(ctx, segment=[s for s in ctx.segment if s != "vintage"])
    out = _by_segment(ctx, "vintage_curves", lambda segment: vt.vintage_curves(
        ctx.states, ctx.accounts, config=ctx.config, segment=segment))  # fmt: skip
    curves = vt.vintage_curves(
        ctx.states, ctx.accounts, config=ctx.config, cohort="year", complete_only=True
    )
    out["vintage_curves_yearly"] = curves
    metrics = ["ever_30plus", "ever_90plus_balance", "ever_charged_off"]
    if not ctx.needs(["balance"], "the vintage curves by balance"):
        metrics[1] = "ever_90plus"
    if ctx.figures:
        for metric in metrics:
            name = "vintage_charged_off" if metric == "ever_charged_off" else f"vintage_{metric}"
            out[name] = vt.plot_vintage_curves(curves, metric)
    return out


def _kpis(ctx: AnalysisContext) -> dict[str, Any]:
    from recovery.analytics import collection_cycle as cc
    from recovery.analytics import kpis

    kw = {"config": ctx.config, "accounts": ctx.accounts}
    actions = ctx.portfolio.actions
    out = _by_segment(ctx, "monthly_kpis", lambda segment: kpis.monthly_kpis(
        ctx.states, segment=segment, actions=actions, **kw))  # fmt: skip
    collection = ["balance", "amount_overdue", "paid_in_month"]
    if ctx.needs(collection, "the collection rates"):
        out.update(
            _by_segment(
                ctx,
                "collection_rates",
                lambda segment: kpis.collection_rates(ctx.states, segment=segment, **kw),
            )  # fmt: skip
        )
    if ctx.needs(["balance", "paid_in_month"], "the post-charge-off recovery rates"):
        out.update(
            _by_segment(
                ctx,
                "recovery_rates",
                lambda segment: kpis.recovery_rates(ctx.states, segment=segment, **kw),
            )  # fmt: skip
        )
    episodes = cc.collection_episodes(ctx.states, segment=ctx.segment, **kw)
    out["collection_episodes"] = episodes
    out["collection_cycle"] = cc.collection_cycle(episodes)
    for seg in ctx.segment:
        out[f"collection_cycle_by_{seg}"] = cc.collection_cycle(episodes, segment=seg)
    curves = cc.collection_cycle_curves(episodes)
    out["collection_cycle_curves"] = curves
    if ctx.has_event_tables:  # exact episode dates: also short, within-month episodes
        exact = ctx.exact_episodes
        if exact is None:
            from recovery.timeline import aging

            exact = aging.episodes(ctx.portfolio, config=ctx.config)
        out["collection_cycle_events"] = cc.collection_cycle(exact, data_end=ctx.portfolio.data_end)
    if actions is not None and ctx.needs(["paid_in_month"], "the collection costs"):
        out.update(
            _by_segment(
                ctx,
                "collection_costs",
                lambda segment: kpis.collection_costs(actions, ctx.states, segment=segment, **kw),
            )  # fmt: skip
        )
    if ctx.figures:
        out["collection_cycle_plot"] = cc.plot_collection_cycle(curves)
        table = out["monthly_kpis"]
        overdue = ["overdue_rate_30plus", "overdue_rate_30plus_balance"]
        overdue.append(
            "overdue_rate_90plus_balance" if "open_balance" in table else "overdue_rate_90plus"
        )
        rates = ["cure_rate", "collection_rate", "recovery_rate_in_month"]
        out["overdue_rates_plot"] = kpis.plot_kpis(table, [c for c in overdue if c in table])
        out["cure_and_collection_plot"] = kpis.plot_kpis(table, [c for c in rates if c in table])
    return out


def _attempt(out: dict[str, Any], skipped: list[dict], name: str, func: Callable[[], Any]) -> None:
    """Run one analysis; a book too short for it is noted, not fatal."""
    try:
        out[name] = func()
    except RecoveryError as exc:
        skipped.append({"output": name, "reason": str(exc)})


def _recovery_by_age(ctx: AnalysisContext) -> dict[str, Any]:
    from recovery.analytics import recovery_curves as rc

    if not ctx.needs(["balance", "paid_in_month"], "recovery by debt age"):
        return {}
    data_end = ctx.portfolio.data_end if ctx.has_event_tables else None
    kw = {"config": ctx.config, "data_end": data_end}
    snaps = ctx.snapshots
    out: dict[str, Any] = {}
    skipped: list[dict] = []
    for scope in ("charged_off", "delinquent"):
        for bands in ("coarse", "monthly"):
            name = (
                f"recovery_by_age_{scope}"
                if bands == "coarse"
                else f"recovery_by_age_monthly_{scope}"
            )
            _attempt(
                out,
                skipped,
                name,
                lambda s=scope, b=bands: rc.recovery_by_age(snaps, scope=s, bands=b, **kw),
            )
        _attempt(
            out,
            skipped,
            f"age_split_{scope}",
            lambda s=scope: rc.age_split_comparison(snaps, scope=s, **kw),
        )
    for by in ("product", "amount_band"):
        if by == "product" and "product" not in snaps.columns:
            continue
        _attempt(
            out,
            skipped,
            f"age_split_by_{by}",
            lambda b=by: rc.age_split_comparison(snaps, by=b, **kw),
        )
    _attempt(out, skipped, "recovery_drivers", lambda: rc.recovery_drivers(snaps, **kw))
    _attempt(
        out,
        skipped,
        "cumulative_recovery_curves",
        lambda: rc.cumulative_recovery_curves(snaps, **kw),
    )
    if ctx.figures and "recovery_by_age_monthly_charged_off" in out:
        out["recovery_by_age_plot"] = rc.plot_recovery_by_age(
            out["recovery_by_age_monthly_charged_off"],
            split_months=ctx.config.analytics.age_split_months,
        )
    if ctx.figures and "cumulative_recovery_curves" in out:
        out["cumulative_recovery_curves_plot"] = rc.plot_cumulative_recovery_curves(
            out["cumulative_recovery_curves"]
        )
    if skipped:
        out["recovery_by_age_skipped"] = pd.DataFrame(skipped)
    return out


def _liquidation_and_forecast(ctx: AnalysisContext) -> dict[str, Any]:
    from recovery.analytics.forecast import RollRateForecaster
    from recovery.analytics.liquidation import ERCForecaster, liquidation_curves, plot_erc

    snaps = ctx.snapshots
    out: dict[str, Any] = {}
    skipped: list[dict] = []
    if ctx.needs(["balance", "paid_in_month"], "the liquidation curves and ERC"):
        _attempt(out, skipped, "liquidation_curves", lambda: liquidation_curves(snaps))
        erc = None
        try:
            erc = ERCForecaster(config=ctx.config).fit(snaps)
        except RecoveryError as exc:
            skipped.append({"output": "erc_by_cohort", "reason": str(exc)})
        if erc is not None:
            out["erc_by_cohort"] = erc.summary()
            out["erc_collections_forecast"] = erc.predict(12)
            if ctx.figures:
                out["erc_plot"] = plot_erc(erc)
    notes: list[dict] = []
    if ctx.needs(["balance"], "the roll-rate forecast of balances"):
        from recovery.analytics.forecast_inputs import keep_fit_rows

        try:
            if isinstance(snaps, PartitionedSnapshots):  # what the fits read, in one pass
                keep_fit_rows(snaps, ctx.config, None, _forecast_since(ctx))
            roll = RollRateForecaster(config=ctx.config).fit(snaps)
            out["roll_rate_forecast"] = roll.predict(12)
            out["roll_rate_forecast_totals"] = roll.predict_totals(12)
            out["roll_rate_forecast_health"] = roll.summary().reset_index()
            notes += [{"kind": "warning", "message": f"Forecast: {w}"} for w in roll.warnings_]
        except RecoveryError as exc:
            skipped.append({"output": "roll_rate_forecast", "reason": str(exc)})
        else:
            try:
                errors = recent_forecast_errors(snaps, ctx.config)
            except RecoveryError as exc:
                skipped.append({"output": "roll_rate_forecast_backtest", "reason": str(exc)})
            else:
                out["roll_rate_forecast_backtest"] = errors
                notes.append({"kind": "note", "message": recent_error_sentence(errors)})
    if skipped:
        out["liquidation_skipped"] = pd.DataFrame(skipped)
    if notes:
        out["forecast_notes"] = pd.DataFrame(notes)
    return out


def recent_forecast_errors(
    snapshots: pd.DataFrame | PartitionedSnapshots,
    config: Config,
    months_ahead: int = 3,
    last: int = 12,
) -> pd.DataFrame:
    """The default roll-rate forecast's error ``months_ahead`` out, on the latest months.

    The forecaster is fitted on the data up to each of the last ``last`` month ends
    that have ``months_ahead`` months after them (and a pair of months before), and its
    delinquent balance ``months_ahead`` months out is compared with what happened
    (:func:`recovery.analytics.backtest.backtest_roll_rate`).

    Returns
    -------
    DataFrame
        ``origin, month_end, forecast, actual, pct_error`` (delinquent balance,
        currency; error as a fraction of the actual), one row per origin.

    Raises
    ------
    DataError
        When the history is too short: fewer than ``months_ahead + 2`` month ends.
    """
    from recovery.analytics.backtest import backtest_roll_rate

    if isinstance(snapshots, PartitionedSnapshots):
        months = month_end(snapshots.months).to_numpy()
    else:
        months = np.sort(pd.to_datetime(snapshots["month_end"]).dt.normalize().unique())
    usable = _recent_origins(months, months_ahead, last)
    if len(usable) == 0:
        raise DataError(
            f"checking the forecast on your own data needs at least {months_ahead + 2} "
            f"month ends (the table has {len(months)})"
        )
    bt = backtest_roll_rate(snapshots, origins=usable, months_ahead=months_ahead, config=config)
    keep = (bt["measure"] == "delinquent_balance") & (bt["horizon"] == months_ahead)
    return bt.loc[keep, ["origin", "month_end", "forecast", "actual", "pct_error"]].reset_index(
        drop=True
    )


def _recent_origins(months: np.ndarray, months_ahead: int = 3, last: int = 12) -> np.ndarray:
    return months[1 : len(months) - months_ahead][-last:]


def _forecast_since(ctx: AnalysisContext) -> int | None | bool:
    """The first month the forecast step's fits read all transitions of (False: none)."""
    from recovery.analytics.forecast import RollRateForecaster
    from recovery.analytics.forecast_inputs import fit_since

    if "balance" not in ctx.states.columns:
        return False
    months = ctx.states.months
    ends = [*_recent_origins(month_end(months).to_numpy()), month_end(months[-1:])[0]]
    return fit_since(months, ends, RollRateForecaster(config=ctx.config).lookback_months)


def recent_error_sentence(errors: pd.DataFrame, months_ahead: int = 3) -> str:
    """One sentence on :func:`recent_forecast_errors` for people.

    Examples
    --------
    >>> e = pd.DataFrame({"pct_error": [0.1, -0.05, 0.03]})
    >>> print(recent_error_sentence(e))
    This forecast's 3-month error on your last 3 months (delinquent balance): 6.0 % on average, running 2.7 % high.
    """
    pct = errors["pct_error"].dropna()
    if pct.empty:
        return (
            f"This forecast's {months_ahead}-month error could not be measured: "
            "no delinquent balance in the months checked."
        )
    bias = float(pct.mean())
    return (
        f"This forecast's {months_ahead}-month error on your last "
        f"{f'{len(pct)} months' if len(pct) > 1 else 'month'} "
        f"(delinquent balance): {100 * float(pct.abs().mean()):.1f} % on average, running "
        f"{100 * abs(bias):.1f} % {'high' if bias >= 0 else 'low'}."
    )


#: The analyses run by ``recovery analyze``, in order. Append to extend (see module doc).
STEPS: list[AnalysisStep] = [
    AnalysisStep("roll_rates", _roll_rates, "roll-rate matrices"),
    AnalysisStep("roll_rate_trends", _roll_rate_trends, "roll/cure trends and flow rates"),
    AnalysisStep("vintages", _vintages, "vintage curves"),
    AnalysisStep("kpis", _kpis, "collection KPIs"),
    AnalysisStep("recovery_by_age", _recovery_by_age, "recovery by debt age"),
    AnalysisStep("liquidation", _liquidation_and_forecast, "liquidation curves, ERC, forecasts"),
]


# ----------------------------------------------------------------------------- running


def run_analysis(
    portfolio: Portfolio | PartitionedDataset,
    config: Config | None = None,
    segment: str | Sequence[str] | None = None,
    steps: Sequence[str] | None = None,
    progress: bool = False,
    figures: bool = True,
    partition_size: int | None = None,
    client: Any = None,
) -> dict[str, Any]:
    """Run the analysis steps on a portfolio and return every table and figure.

    The book is analysed in parts of ``partition_size`` accounts: each part's
    snapshots are built (or split from the given table) once, kept on disk, and every
    analytic reads them one part at a time, summing additive partial tables or
    concatenating account-level rows (:mod:`recovery.analytics.partitions`). Memory
    depends on the part size, not on the book; the results are those of the whole
    book as one table.

    Parameters
    ----------
    portfolio : Portfolio or PartitionedDataset
        Needs ``snapshots``, or ``schedule`` and ``payments`` to derive them with
        :func:`recovery.timeline.aging.snapshots`. A partitioned dataset
        (:mod:`recovery.engine.partitioning`, e.g. from ``recovery simulate
        --partitions``) is read one partition at a time: the book is never in memory
        whole.
    config : Config, optional
        Defaults to DESIGN.md's.
    segment : str or list of str, optional
        Segment columns (of the snapshots or ``accounts``): adds ``<table>_by_<seg>``.
    steps : list of str, optional
        Names of the steps to run (default all of :data:`STEPS`).
    progress : bool
        Show a progress bar over the steps.
    figures : bool
        Draw the figures (default); tables only when false.
    partition_size : int, optional
        Accounts per part (default ``config.analytics.partition_size``).
    client : distributed.Client, optional
        With a partitioned dataset: build the parts' snapshots on this Dask cluster
        (the per-account work); the analytics then reduce the parts here.

    Returns
    -------
    dict
        ``{name: DataFrame | matplotlib Axes}``; ``skipped`` (``output, reason``) lists
        what the data cannot give, one line each (a status-only history: everything
        that needs balances or payments).
    """
    config = config or Config()
    segments = [segment] if isinstance(segment, str) else list(segment or [])
    known = [s.name for s in STEPS]
    chosen = list(steps) if steps is not None else known
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise RecoveryError(f"unknown analysis step(s) {unknown}; known: {known}")
    from recovery.engine.partitioning import PartitionedDataset
    from recovery.engine.snapshot_parts import snapshot_parts

    if isinstance(portfolio, PartitionedDataset):
        from_events = "snapshots" not in portfolio.tables
    else:
        from_events = portfolio.snapshots is None
        if not from_events and len(portfolio.snapshots) == 0:
            raise DataError("the snapshots table is empty; nothing to analyse")
    exact = from_events and "kpis" in chosen  # the episodes of the event tables
    with snapshot_parts(
        portfolio, config, partition_size, episodes=exact, progress=progress, client=client
    ) as parts:
        ctx = AnalysisContext(parts.book, parts.snapshots, config, segments, figures=figures)
        ctx.states = parts.snapshots  # the parts are prepared (their states)
        ctx.exact_episodes = parts.episodes
        ctx.event_tables = from_events
        selected = [s for s in STEPS if s.name in chosen]
        if {"roll_rates", "kpis"} <= set(chosen):  # their flows and sums: one read
            from recovery.analytics.kpis import read_flows_and_kpis

            since = _forecast_since(ctx) if "liquidation" in chosen else False
            read_flows_and_kpis(ctx.states, config, [], ctx.accounts, forecast_since=since)
        bar = progress_bar(selected, desc="analyze", unit="steps", enabled=progress)
        for step in bar:
            bar.set_postfix_str(step.description or step.name)
            produced = step.run(ctx)
            # what the step's outputs shared: account-level rows released, sums kept
            parts.snapshots.forget(keep_below=_KEPT_BETWEEN_STEPS)
            clash = sorted(set(produced) & set(ctx.results))
            if clash:
                raise RecoveryError(f"analysis step '{step.name}' reuses output name(s) {clash}")
            ctx.results.update(produced)
    if ctx.skipped:  # one line per output the data cannot give
        table = pd.DataFrame(ctx.skipped, columns=["output", "reason"])
        ctx.results["skipped"] = table.drop_duplicates("output").reset_index(drop=True)
    return ctx.results


#: Results the parts' memo keeps from one step to the next: sums smaller than this (bytes).
_KEPT_BETWEEN_STEPS = 8_000_000


def _is_figure(obj: Any) -> bool:
    return hasattr(obj, "savefig") or hasattr(obj, "figure") and hasattr(obj.figure, "savefig")


def write_results(results: dict[str, Any], out: str | Path, dpi: int = 120) -> list[Path]:
    """Write tables (Parquet and CSV) and figures (PNG) under ``out``, atomically.

    Parameters
    ----------
    results : dict
        From :func:`run_analysis`.
    out : str or Path
        Output directory; ``tables/`` and ``figures/`` are created in it.
    dpi : int
        Figure resolution (dots per inch).

    Returns
    -------
    list of Path
        The files written.
    """
    import matplotlib.pyplot as plt

    from recovery.data.io import atomic_path, write_table

    out = Path(out)
    written = []
    for name, obj in results.items():
        if isinstance(obj, pd.DataFrame):
            for suffix in ("parquet", "csv"):
                written.append(write_table(obj, out / "tables" / f"{name}.{suffix}"))
        elif _is_figure(obj):
            fig = obj if hasattr(obj, "savefig") else obj.figure
            target = out / "figures" / f"{name}.png"
            with atomic_path(target) as tmp:
                # figures drawn with a layout engine need no second "tight" pass
                tight = "tight" if fig.get_layout_engine() is None else None
                fig.savefig(tmp, dpi=dpi, bbox_inches=tight, format="png")
            plt.close(fig)
            written.append(target)
    return written


@click.command("analyze")
@portfolio_source
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="Output directory for tables/ and figures/.")  # fmt: skip
@config_option()
@click.option("--segment", "segments", multiple=True,
              help="Segment column (repeatable), e.g. product, region, vintage.")  # fmt: skip
@click.option("--steps", "steps", default=None,
              help=f"Comma-separated steps (default all: {', '.join(s.name for s in STEPS)}).")  # fmt: skip
@click.option("--dpi", default=120, show_default=True, help="Figure resolution (dots per inch).")
@click.option("--no-figures", is_flag=True, help="Write the tables only.")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
@engine_options
@click.option("--partition-size", type=click.IntRange(min=1), default=None,
              help="Accounts analysed at a time (memory grows with it, not with the book; "
              "default: the config's analytics.partition_size, 100,000).")  # fmt: skip
def command(
    path: str,
    out: str,
    config_path: str | None,
    segments: tuple[str, ...],
    steps: str | None,
    dpi: int,
    no_figures: bool,
    no_progress: bool,
    partition_size: int | None,
    engine: EngineChoice,
) -> None:
    """Roll rates, flow rates, vintage curves and collection KPIs for the portfolio in PATH.

    Loads PATH (CSV or Parquet tables; a partitioned dataset is read one partition at a
    time); uses its snapshots table, or derives one from the event tables, a part of
    the accounts at a time, so that memory depends on the part size, not on the book.
    Writes OUT/tables/*.parquet and *.csv, OUT/figures/*.png.
    """
    import matplotlib

    matplotlib.use("Agg")
    from recovery.data.io import load_portfolio

    config = load_config(config_path)
    chosen = [s.strip() for s in steps.split(",") if s.strip()] if steps else None
    options = {
        "config": config,
        "segment": list(segments),
        "steps": chosen,
        "progress": not no_progress,
        "figures": not no_figures,
        "partition_size": partition_size,
    }
    if engine.applies(path):  # a partitioned dataset, or --engine dask
        with engine.book(path, config) as (dataset, client):
            results = run_analysis(dataset, client=client, **options)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            portfolio = load_portfolio(path, config=config)
        results = run_analysis(portfolio, **options)
    written = write_results(results, out, dpi=dpi)
    n_tables = sum(1 for p in written if p.suffix == ".parquet")
    n_figures = sum(1 for p in written if p.suffix == ".png")
    click.echo(f"wrote {n_tables} tables (Parquet + CSV) and {n_figures} figures to {out}")
    if "skipped" in results:
        for reason in results["skipped"]["reason"]:
            click.echo(f"skipped: {reason}")
    notes = results.get("forecast_notes")
    for row in notes.itertuples(index=False) if notes is not None else ():
        click.echo(f"{row.kind}: {row.message}")
