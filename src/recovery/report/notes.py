"""Text from numbers: the notes and people's tables of the report's sections.

Each section's numbers become sentences a collection manager reads without a chart
(segment movements :func:`segment_notes`, roll rates against their average
:func:`roll_rate_notes`, expected remaining collections :func:`erc_notes`, model
health :func:`model_health_notes`, compliance flags :func:`compliance_summary_html`)
and tables with readable headers and formatted numbers (:func:`recovery_by_age_table`,
:func:`age_split_table`, :func:`agent_table`, :func:`format_model_health`). The
headline KPIs have their own module, :mod:`recovery.report.headline`.

Examples
--------
>>> measure_label("cure_rate")
'Cure rate'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.report.data import parse_month
from recovery.report.formatting import (
    MISSING,
    format_count,
    format_interval,
    format_money,
    format_month,
    format_number,
    format_pct,
    format_pp,
    is_missing,
    notes_html,
    table_html,
)

__all__ = [
    "measure_label",
    "recovery_by_age_table",
    "age_split_table",
    "segment_notes",
    "segment_table",
    "roll_rate_notes",
    "erc_notes",
    "compliance_summary_html",
    "model_health_notes",
    "format_model_health",
]

_MEASURE_LABELS = {
    "overdue_rate_30plus_balance": "Overdue rate 30+ (balance)",
    "overdue_rate_90plus_balance": "Overdue rate 90+ (balance)",
    "collection_rate": "Collection rate",
    "cure_rate": "Cure rate",
}


def measure_label(measure: str) -> str:
    """A KPI column name for people.

    Examples
    --------
    >>> measure_label("overdue_rate_30plus_balance"), measure_label("some_rate")
    ('Overdue rate 30+ (balance)', 'Some rate')
    """
    return _MEASURE_LABELS.get(measure, measure.replace("_", " ").capitalize())


def recovery_by_age_table(table: pd.DataFrame, min_accounts: int = 0) -> pd.DataFrame:
    """Recovery by debt-age band (:func:`recovery.analytics.recovery_curves.recovery_by_age`) for people.

    A band of fewer than ``min_accounts`` accounts (or marked ``too_few``) shows its rate
    with "too few accounts" instead of an interval; an interval whose ends read the same
    is never printed (:func:`recovery.report.formatting.format_interval`).

    Examples
    --------
    >>> t = pd.DataFrame({"age_band": ["3-6", "24-36"], "n_accounts": [2, 119],
    ...     "n_debts": [2, 1261], "recovery_rate": [0.0, 0.027], "recovery_rate_low": [0.0, 0.014],
    ...     "recovery_rate_high": [0.0, 0.042], "payer_rate": [0.0, 0.214],
    ...     "payer_rate_low": [0.0, 0.19], "payer_rate_high": [0.0, 0.24]})
    >>> recovery_by_age_table(t, min_accounts=30).values.tolist()
    [['3-6 months', '2', '2', '0.0%', 'too few accounts', '0.0%', 'too few accounts'], ['24-36 months', '119', '1,261', '2.7%', '1.4% to 4.2%', '21.4%', '19.0% to 24.0%']]
    """
    few = table["n_accounts"].to_numpy() < min_accounts
    if "too_few" in table:
        few = few | table["too_few"].fillna(False).to_numpy(dtype=bool)

    def interval(name: str) -> list[str]:
        if f"{name}_low" not in table:
            return [MISSING] * len(table)
        pairs = zip(table[f"{name}_low"], table[f"{name}_high"], few, strict=True)
        return [
            "too few accounts" if thin else format_interval(lo, hi, format_pct)
            for lo, hi, thin in pairs
        ]

    return pd.DataFrame(
        {
            "Debt age": table["age_band"].astype(str) + " months",
            "Accounts": [format_count(v) for v in table["n_accounts"]],
            "Debt-months observed": [format_count(v) for v in table["n_debts"]],
            "Share of balance recovered": [format_pct(v) for v in table["recovery_rate"]],
            "95% interval": interval("recovery_rate"),
            "Share of debts with a payment": [format_pct(v) for v in table["payer_rate"]],
            "95% interval ": interval("payer_rate"),
        }
    )


def age_split_table(comparisons: pd.DataFrame) -> pd.DataFrame:
    """The 24-month comparison (one row per scope) for people.

    Parameters
    ----------
    comparisons : DataFrame
        Rows of :func:`recovery.analytics.recovery_curves.age_split_comparison` (one per scope,
        stacked).

    Examples
    --------
    >>> c = pd.DataFrame({"scope": ["charged_off"], "split_months": [24], "horizon_months": [12],
    ...     "recovery_rate_younger": [0.059], "recovery_rate_older": [0.010],
    ...     "recovery_rate_difference": [0.049], "recovery_rate_difference_low": [0.024],
    ...     "recovery_rate_difference_high": [0.084], "payer_rate_younger": [0.41],
    ...     "payer_rate_older": [0.10], "n_debts_younger": [2000], "n_debts_older": [2500]})
    >>> age_split_table(c).iloc[0].tolist()
    ['Charged-off debt', '5.9%', '1.0%', '+4.9 pp (+2.4 pp to +8.4 pp)', '41.0%', '10.0%', '2,000 / 2,500']
    """
    scope_names = {"charged_off": "Charged-off debt", "delinquent": "All delinquent debt"}
    rows = []
    for r in comparisons.to_dict("records"):
        split = int(r.get("split_months", 24))
        rows.append(
            {
                "Debt": scope_names.get(r.get("scope"), str(r.get("scope"))),
                f"Recovered, younger than {split} months": format_pct(r["recovery_rate_younger"]),
                f"Recovered, {split} months and older": format_pct(r["recovery_rate_older"]),
                "Difference (95% interval)": f"{format_pp(r['recovery_rate_difference'])} ("
                + format_interval(
                    r.get("recovery_rate_difference_low"),
                    r.get("recovery_rate_difference_high"),
                    format_pp,
                )
                + ")",
                "Paying, younger": format_pct(r.get("payer_rate_younger")),
                "Paying, older": format_pct(r.get("payer_rate_older")),
                "Debt-months (younger / older)": f"{format_count(r.get('n_debts_younger'))} / "
                f"{format_count(r.get('n_debts_older'))}",
            }
        )
    return pd.DataFrame(rows)


def _judged_words(r: Mapping[str, Any]) -> str:
    """``: unusual, … beyond its normal variation of …`` / ``: within normal variation``."""
    band = f"{format_pp(r['band_low'])} to {format_pp(r['band_high'])}"
    if r["verdict"] == "unusual":
        return f": unusual, {format_pp(abs(r['beyond'])).lstrip('+')} beyond its normal variation of {band}"
    if r["verdict"] == "normal":
        return f": within normal variation ({band})"
    return ": not enough history to judge"


def segment_notes(movements: pd.DataFrame) -> list[str]:
    """Sentences on the segment rates that moved beyond their normal variation.

    Parameters
    ----------
    movements : DataFrame
        From :func:`recovery.report.sections.segment_movements` (with its ``verdict``).

    Returns
    -------
    list of str
        One sentence per unusual movement; one saying so when there is none.

    Examples
    --------
    >>> m = pd.DataFrame({"segment_type": ["product"], "segment": ["small_business"],
    ...     "measure": ["cure_rate"], "accounts": [400], "previous": [0.30],
    ...     "value": [0.25], "change": [-0.05], "verdict": ["unusual"], "band_low": [-0.04],
    ...     "band_high": [0.04], "beyond": [-0.01]})
    >>> segment_notes(m)
    ['Cure rate of product small business fell from 30.0% to 25.0% (-5.0 pp): unusual, 1.0 pp beyond its normal variation of -4.0 pp to +4.0 pp.']
    >>> segment_notes(m.assign(verdict="normal"))
    ['No segment rate moved beyond its normal variation.']
    """
    notes = []
    for r in movements.to_dict("records"):
        if r["verdict"] != "unusual":
            continue
        verb = "rose" if r["change"] > 0 else "fell"
        name = str(r["segment"]).replace("_", " ")
        notes.append(
            f"{measure_label(r['measure'])} of {r['segment_type']} {name} {verb} from "
            f"{format_pct(r['previous'])} to {format_pct(r['value'])} "
            f"({format_pp(r['change'])}){_judged_words(r)}."
        )
    return notes or ["No segment rate moved beyond its normal variation."]


def segment_table(movements: pd.DataFrame, month: Any) -> pd.DataFrame:
    """The segment movements (:func:`recovery.report.sections.segment_movements`) for people.

    Examples
    --------
    >>> m = pd.DataFrame({"segment_type": ["product"], "segment": ["small_business"],
    ...     "measure": ["cure_rate"], "accounts": [400], "previous": [0.30],
    ...     "value": [0.25], "change": [-0.05], "verdict": ["unusual"], "band_low": [-0.04],
    ...     "band_high": [0.04], "beyond": [-0.01]})
    >>> segment_table(m, "2026-10").iloc[0].tolist()
    ['Product: small business', 'Cure rate', '400', '30.0%', '25.0%', '-5.0 pp', '-4.0 pp to +4.0 pp', 'unusual (1.0 pp beyond)']
    """
    target = parse_month(month)
    words = {"normal": "within normal variation", "no_history": "not enough history to judge"}
    judged = [
        f"unusual ({format_pp(abs(r['beyond'])).lstrip('+')} beyond)"
        if r["verdict"] == "unusual"
        else words.get(r["verdict"], MISSING)
        for r in movements.to_dict("records")
    ]
    return pd.DataFrame(
        {
            "Segment": movements["segment_type"].astype(str).str.capitalize()
            + ": "
            + movements["segment"].astype(str).str.replace("_", " "),
            "Measure": movements["measure"].map(measure_label),
            "Accounts": [format_count(v) for v in movements["accounts"]],
            format_month(target - pd.offsets.MonthEnd(1)): [
                format_pct(v) for v in movements["previous"]
            ],
            format_month(target): [format_pct(v) for v in movements["value"]],
            "Change": [format_pp(v) for v in movements["change"]],
            "Normal variation": [
                MISSING if is_missing(lo) else f"{format_pp(lo)} to {format_pp(hi)}"
                for lo, hi in zip(movements["band_low"], movements["band_high"], strict=True)
            ],
            "Judged": judged,
        }
    )


def roll_rate_notes(
    trends: pd.DataFrame,
    month: Any,
    states: Sequence[str] = ("M1", "M2", "M3"),
    rate: str = "roll_forward",
    window: int = 12,
    config: Config | None = None,
) -> list[str]:
    """Sentences on the latest roll rates, judged against their normal variation.

    The change from the month before is judged like a headline KPI
    (:func:`recovery.analytics.variation.judge_changes`): with the accounts behind each
    rate (``n``) from a Wilson interval widened by the dispersion of the last months,
    otherwise against control limits from the same history. The average over a window
    is given for context.

    Parameters
    ----------
    trends : DataFrame
        From :func:`recovery.analytics.roll_rates.roll_rate_trends` (``month_end`` is the start
        month *m* of the transition *m → m + 1*; ``n`` the accounts in the from state).
    month : str or date
        The report month: its transition is the one starting the month before.
    states : sequence of str
        From states to comment on.
    rate : str
        The rate column (``roll_forward``, ``cure`` …).
    window : int
        Months of the average given for context (those before the latest transition).
    config : Config, optional
        The judgement's settings (``analytics.change_level``, ``change_history_months``,
        ``change_min_history``).

    Examples
    --------
    >>> t = pd.DataFrame({"month_end": pd.date_range("2026-01-31", periods=9, freq="ME"),
    ...                   "from_state": "M1", "n": 200, "roll_forward": [0.2] * 8 + [0.26]})
    >>> roll_rate_notes(t, "2026-10", states=["M1"])
    ['Roll forward from M1 was 26.0% in October 2026 against 20.0% the month before (+6.0 pp): not enough history to judge; its 8-month average is 20.0%.']
    """
    from recovery.analytics.variation import judge_changes, wilson_interval

    a = (config or Config()).analytics
    target = parse_month(month)
    start = (target - pd.offsets.MonthEnd(1)).normalize()
    t = trends.assign(month_end=pd.to_datetime(trends["month_end"]).dt.normalize())
    t = t[t["from_state"].astype(str).isin(list(states)) & t[rate].notna()]
    values = t[["month_end", "from_state"]].assign(value=t[rate].astype(float))
    method = "interval" if "n" in t.columns else "history"
    if method == "interval":
        n = t["n"].to_numpy(dtype=float)
        values["low"], values["high"] = wilson_interval(
            np.round(values["value"].to_numpy() * n), n, a.change_level
        )
    judged = judge_changes(
        values,
        start,
        keys=("from_state",),
        method=method,
        level=a.change_level,
        history_months=a.change_history_months,
        min_history=a.change_min_history,
    )
    judged = judged.set_index("from_state") if len(judged) else judged
    notes = []
    name = rate.replace("_", " ").capitalize()
    for state in states:
        if state not in judged.index:
            continue
        r = judged.loc[state]
        if is_missing(r["value"]) or is_missing(r["previous"]):
            continue
        part = t[t["from_state"].astype(str) == state]
        past = part[part["month_end"] < start].sort_values("month_end").tail(window)
        average = (
            f"; its {len(past)}-month average is {format_pct(past[rate].mean())}"
            if len(past)
            else ""
        )
        words = _judged_words(r)
        latest = part.loc[part["month_end"] == start, "n"] if "n" in part else []
        few = (
            f"; based on {format_count(latest.iloc[0])} accounts"
            if len(latest) and latest.iloc[0] < a.few_accounts
            else ""
        )
        if r["verdict"] == "unusual":
            verb = "rose" if r["change"] > 0 else "fell"
            head = (
                f"{name} from {state} {verb} from {format_pct(r['previous'])} to "
                f"{format_pct(r['value'])} in {format_month(target)} ({format_pp(r['change'])}{few})"
            )
        else:
            head = (
                f"{name} from {state} was {format_pct(r['value'])} in {format_month(target)} "
                f"against {format_pct(r['previous'])} the month before ({format_pp(r['change'])}{few})"
            )
        notes.append(f"{head}{words}{average}.")
    return notes


def erc_notes(erc: Any, config: Config | None = None) -> list[str]:
    """One sentence on expected remaining collections with its range.

    Parameters
    ----------
    erc : ERCForecaster
        Fitted.
    config : Config, optional
        For the default horizon (``analytics.erc_horizon_months``).

    Examples
    --------
    >>> from recovery.analytics.liquidation import ERCForecaster
    >>> rows = [(f"A{c}", pd.Timestamp("2024-01-31") + pd.offsets.MonthEnd(c + k), 200, 100.0,
    ...          10.0 if k else 0.0, "charged_off") for c in range(6) for k in range(6 - c)]
    >>> snaps = pd.DataFrame(rows, columns=["account_id", "month_end", "dpd", "balance",
    ...                                     "paid_in_month", "status"])
    >>> erc = ERCForecaster(horizon_months=8, min_accounts=1, n_bootstrap=0).fit(snaps)
    >>> print(erc_notes(erc)[0])
    Expected remaining collections on the 6 charge-off cohorts: 330 within 8 months of charge-off, against 450 charged off and not yet collected.
    """
    summary = erc.summary()
    total = summary["erc"].sum()
    book = summary["charged_off_balance"].sum() - summary["collected_to_date"].sum()
    # the range of the total is a quantile of summed replicates, not a sum of quantiles
    bounds = getattr(erc, "total_erc_range_", None)
    horizon = (
        getattr(erc, "horizon_months", None) or (config or Config()).analytics.erc_horizon_months
    )
    when = f" within {horizon} months of charge-off" if horizon else ""
    level = format_pct((config or Config()).analytics.confidence, 0)
    span = (
        f" ({level} range {format_money(bounds[0])} to {format_money(bounds[1])})"
        if bounds is not None
        else ""
    )
    return [
        f"Expected remaining collections on the {format_count(len(summary))} charge-off cohorts: "
        f"{format_money(total)}{span}{when}, against {format_money(book)} charged off and not "
        "yet collected."
    ]


def compliance_summary_html(flags: pd.DataFrame, actions: pd.DataFrame, month: Any) -> str:
    """The month's compliance flags: a sentence, counts by rule and by agent.

    Parameters
    ----------
    flags : DataFrame
        From :func:`recovery.operations.compliance.flag_actions` (``action_id, agent_id, ts, rule``).
    actions : DataFrame
        The ``actions`` table (for the number of actions checked).
    month : str or date

    Examples
    --------
    >>> acts = pd.DataFrame({"action_id": ["X1", "X2"], "agent_id": ["G1", "G1"],
    ...     "ts": pd.to_datetime(["2026-10-02 22:00", "2026-10-03 10:00"])})
    >>> flags = acts.head(1).assign(rule="outside_hours")
    >>> "1 of 2 actions" in compliance_summary_html(flags, acts, "2026-10")
    True
    """
    target = parse_month(month)
    start = target - pd.offsets.MonthBegin(1)
    end = target + pd.Timedelta(days=1)

    def in_month(ts: pd.Series) -> pd.Series:
        ts = pd.to_datetime(ts)
        return (ts >= start) & (ts < end)

    n_actions = int(in_month(actions["ts"]).sum())
    month_flags = flags[in_month(flags["ts"])] if len(flags) else flags
    flagged = month_flags["action_id"].nunique() if len(month_flags) else 0
    name = format_month(target)
    if not flagged:
        return notes_html(
            [
                f"No action in {name} broke a compliance rule ({format_count(n_actions)} actions checked)."
            ]
        )
    share = flagged / n_actions if n_actions else np.nan
    parts = [
        notes_html(
            [
                f"{format_count(flagged)} of {format_count(n_actions)} actions in {name} "
                f"({format_pct(share, 2)}) broke at least one compliance rule; review them with "
                "the agents concerned."
            ]
        )
    ]
    by_rule = (
        month_flags.groupby("rule")
        .size()
        .rename("Flags")
        .reset_index()
        .rename(columns={"rule": "Rule"})
    )
    by_rule["Rule"] = by_rule["Rule"].astype(str).str.replace("_", " ")
    parts.append(
        table_html(by_rule.sort_values("Flags", ascending=False), table_id="compliance-rules")
    )
    if "agent_id" in month_flags:
        by_agent = (
            month_flags.groupby("agent_id")
            .size()
            .rename("Flags")
            .sort_values(ascending=False, kind="mergesort")
            .head(10)
            .reset_index()
            .rename(columns={"agent_id": "Agent"})
        )
        parts.append(
            table_html(by_agent, caption="Agents with the most flags", table_id="compliance-agents")
        )
    return "".join(parts)


def model_health_notes(health: pd.DataFrame, auc_drop: float = 0.03) -> list[str]:
    """Sentences on model health: stability status and AUC against its test value.

    Examples
    --------
    >>> h = pd.DataFrame({"model": ["p_pay"], "score_psi": [0.31], "psi_status": ["shifted"],
    ...     "test_auc": [0.80], "matured_auc": [0.74], "matured_month": [pd.Timestamp("2026-09-30")]})
    >>> for line in model_health_notes(h):
    ...     print(line)
    p_pay: the score distribution has shifted since training (PSI 0.31); investigate before relying on it.
    p_pay: AUC 0.74 on September 2026, down from 0.80 at the out-of-time test (-0.06); consider retraining.
    """
    notes = []
    for r in health.itertuples(index=False):
        if r.psi_status == "shifted":
            notes.append(
                f"{r.model}: the score distribution has shifted since training (PSI {format_number(r.score_psi, 2)}); "
                "investigate before relying on it."
            )
        elif r.psi_status == "watch":
            notes.append(
                f"{r.model}: the score distribution is moving (PSI {format_number(r.score_psi, 2)}); watch it."
            )
        elif r.psi_status == "stable":
            notes.append(
                f"{r.model}: the score distribution is stable (PSI {format_number(r.score_psi, 2)})."
            )
        if not getattr(r, "tested", True):
            later = not is_missing(r.matured_auc) and not getattr(r, "in_training_window", False)
            first = (
                f"; its AUC on {format_month(r.matured_month)}, after training, is "
                f"{format_number(r.matured_auc, 2)}"
                if later
                else ""
            )
            notes.append(
                f"{r.model}: trained without an out-of-time test, so its accuracy on months "
                f"after its training data was not checked at training{first}."
            )
        elif getattr(r, "in_training_window", False):
            notes.append(
                f"{r.model}: {format_month(r.matured_month)} is not after the model's training "
                "window, so its AUC there is not an out-of-time check."
            )
        elif not is_missing(r.matured_auc) and not is_missing(r.test_auc):
            diff = r.matured_auc - r.test_auc
            head = f"{r.model}: AUC {format_number(r.matured_auc, 2)} on {format_month(r.matured_month)}"
            if diff <= -auc_drop:
                notes.append(
                    f"{head}, down from {format_number(r.test_auc, 2)} at the out-of-time test "
                    f"({format_number(diff, 2, sign=True)}); consider retraining."
                )
            else:
                notes.append(f"{head} (out-of-time test: {format_number(r.test_auc, 2)}).")
    return notes


def format_model_health(health: pd.DataFrame) -> pd.DataFrame:
    """The model health table with readable headers and numbers (all text).

    Examples
    --------
    >>> h = pd.DataFrame({"model": ["p_pay"], "trained_on": ["2024-01-31 to 2025-05-31"],
    ...     "test_auc": [0.9], "score_psi": [0.05], "psi_status": ["stable"],
    ...     "shifted_features": ["dpd (0.08)"], "matured_month": [pd.Timestamp("2025-11-30")],
    ...     "matured_accounts": [196], "matured_auc": [0.82]})
    >>> format_model_health(h).iloc[0].tolist()
    ['p_pay', '2024-01-31 to 2025-05-31', '0.900', '0.050', 'stable', 'dpd (0.08)', 'November 2025', '196', '0.820']
    """
    out = pd.DataFrame(
        {
            "Model": health["model"].astype(str),
            "Trained on as-of dates": health["trained_on"].astype(str),
            "Test AUC (at training)": [
                format_number(v, 3) if tested else "no test"
                for v, tested in zip(
                    health["test_auc"], health.get("tested", [True] * len(health)), strict=True
                )
            ],
            "Score PSI": [format_number(v, 3) for v in health["score_psi"]],
            "Stability": health["psi_status"].astype(str),
            "Most shifted features (PSI)": health["shifted_features"].astype(str),
            "Latest matured month": [format_month(v) for v in health["matured_month"]],
            "Accounts": [format_count(v) for v in health["matured_accounts"]],
            "Matured AUC": [format_number(v, 3) for v in health["matured_auc"]],
        }
    )
    return out
