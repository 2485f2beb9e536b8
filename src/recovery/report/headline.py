"""The headline KPIs of the month, their change and what it means, in plain language.

Which KPIs head the report and how each is judged (:class:`KpiSpec`,
:data:`HEADLINE_KPIS`); the month's value against the previous month and the same
month a year earlier (:func:`kpi_change_table`); that table as text with a good/bad
mark per change (:func:`format_kpi_change_table`), as cards (:func:`kpi_cards_html`)
and as sentences on what changed, material changes first (:func:`change_notes`).

Examples
--------
>>> k = pd.DataFrame({"month_end": pd.to_datetime(["2026-09-30", "2026-10-31"]),
...                   "cure_rate": [0.30, 0.32]})
>>> change_notes(kpi_change_table(k, "2026-10"))
['Cure rate (delinquent accounts back to current) rose from 30.0% in September 2026 to 32.0% in October 2026 (+2.0 pp), an improvement.']
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recovery.report.data import parse_month
from recovery.report.formatting import (
    format_month,
    format_pct,
    format_pp,
    formatter,
    is_missing,
)

__all__ = [
    "KpiSpec",
    "HEADLINE_KPIS",
    "kpi_change_table",
    "format_kpi_change_table",
    "change_notes",
    "CARD_KPIS",
    "kpi_cards_html",
]


@dataclass(frozen=True)
class KpiSpec:
    """How a headline KPI is labelled, formatted and judged.

    Attributes
    ----------
    name : str
        Column of the KPI table.
    label : str
        What the manager reads.
    kind : {"rate", "money", "count", "days"}
        Rates change in percentage points; the others by a relative change.
    higher_is_better : bool or None
        Direction of an improvement; None when neither is (e.g. a portfolio size).
    """

    name: str
    label: str
    kind: str = "rate"
    higher_is_better: bool | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("rate", "money", "count", "days"):
            raise ValueError(f"KpiSpec kind must be rate, money, count or days, not {self.kind!r}")


#: The headline KPIs of seed 004 (overdue rate, recovery rate, cure rate, collected,
#: average collection cycle, cost), by the column names of
#: :func:`recovery.analytics.kpis.monthly_kpis` (and
#: :func:`recovery.report.sections.collection_cycle_by_month`).
HEADLINE_KPIS: tuple[KpiSpec, ...] = (
    KpiSpec(
        "overdue_rate_30plus_balance", "Overdue rate 30+ DPD (share of open balance)", "rate", False
    ),
    KpiSpec(
        "overdue_rate_90plus_balance", "Overdue rate 90+ DPD (share of open balance)", "rate", False
    ),
    KpiSpec("overdue_rate_30plus", "Overdue rate 30+ DPD (share of open accounts)", "rate", False),
    KpiSpec(
        "collection_rate", "Collection rate (collected / overdue balance at start)", "rate", True
    ),
    KpiSpec(
        "recovery_rate_in_month", "Recovery rate (recovered / charged-off balance)", "rate", True
    ),
    KpiSpec("cure_rate", "Cure rate (delinquent accounts back to current)", "rate", True),
    KpiSpec("amount_collected", "Amount collected", "money", True),
    KpiSpec("recovered_charged_off", "Recovered on charged-off accounts", "money", True),
    KpiSpec("average_collection_cycle_days", "Average collection cycle", "days", False),
    KpiSpec("collection_cost", "Collection cost", "money", False),
    KpiSpec("cost_per_unit_collected", "Cost per unit collected", "rate", False),
)

_KIND_FORMAT = {"rate": "pct", "money": "money", "count": "count", "days": "days"}


def _as_monthly(kpis: pd.DataFrame) -> pd.DataFrame:
    if "month_end" in kpis.columns:
        kpis = kpis.set_index("month_end")
    out = kpis.copy()
    out.index = pd.DatetimeIndex(pd.to_datetime(out.index)).normalize()
    return out.sort_index()


def _change(kind: str, value: float, base: float) -> float:
    if is_missing(value) or is_missing(base):
        return np.nan
    if kind == "rate":
        return float(value) - float(base)
    if float(base) == 0:
        return np.nan
    return float(value) / float(base) - 1.0


def kpi_change_table(
    kpis: pd.DataFrame, month: Any, specs: Sequence[KpiSpec] | None = None
) -> pd.DataFrame:
    """Headline KPIs of a month with the change vs the previous month and a year earlier.

    Parameters
    ----------
    kpis : DataFrame
        One row per month end (a ``month_end`` column or a date index), one column per
        KPI.
    month : str or date
        The report month.
    specs : sequence of KpiSpec, optional
        Which KPIs, in which order; default the :data:`HEADLINE_KPIS` present in
        ``kpis``.

    Returns
    -------
    DataFrame
        One row per KPI: ``kpi, label, kind, higher_is_better, value, previous,
        change_previous, last_year, change_last_year``. Changes of rates are
        differences (fraction points: 0.004 is +0.4 pp); changes of amounts, counts
        and days are relative (0.05 is +5%). Missing months give NaN.

    Examples
    --------
    >>> k = pd.DataFrame({"month_end": pd.to_datetime(["2025-10-31", "2026-09-30", "2026-10-31"]),
    ...                   "overdue_rate_30plus_balance": [0.050, 0.040, 0.046],
    ...                   "amount_collected": [80_000.0, 100_000.0, 90_000.0]})
    >>> t = kpi_change_table(k, "2026-10")
    >>> t[["kpi", "value", "change_previous", "change_last_year"]].round(3).values.tolist()
    [['overdue_rate_30plus_balance', 0.046, 0.006, -0.004], ['amount_collected', 90000.0, -0.1, 0.125]]
    """
    monthly = _as_monthly(kpis)
    target = parse_month(month)
    previous = (target - pd.offsets.MonthEnd(1)).normalize()
    last_year = (target - pd.DateOffset(years=1) + pd.offsets.MonthEnd(0)).normalize()
    if specs is None:
        specs = [s for s in HEADLINE_KPIS if s.name in monthly.columns]
    rows = []
    for spec in specs:
        series = monthly[spec.name] if spec.name in monthly.columns else pd.Series(dtype=float)
        value = series.get(target, np.nan)
        prev = series.get(previous, np.nan)
        year = series.get(last_year, np.nan)
        rows.append(
            {
                "kpi": spec.name,
                "label": spec.label,
                "kind": spec.kind,
                "higher_is_better": spec.higher_is_better,
                "value": float(value) if not is_missing(value) else np.nan,
                "previous": float(prev) if not is_missing(prev) else np.nan,
                "change_previous": _change(spec.kind, value, prev),
                "last_year": float(year) if not is_missing(year) else np.nan,
                "change_last_year": _change(spec.kind, value, year),
            }
        )
    table = pd.DataFrame(rows)
    table.attrs.update(month=target, previous_month=previous, last_year_month=last_year)
    return table


def _format_change(kind: str, change: float) -> str:
    return format_pp(change) if kind == "rate" else format_pct(change, sign=True)


def _judgement(higher_is_better: bool | None, change: float) -> str:
    if higher_is_better is None or is_missing(change) or change == 0:
        return ""
    return "good" if (change > 0) == bool(higher_is_better) else "bad"


def format_kpi_change_table(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The KPI change table as text for people, with a good/bad mark per change.

    Parameters
    ----------
    table : DataFrame
        From :func:`kpi_change_table`.

    Returns
    -------
    text : DataFrame
        Columns ``KPI``, the month, the previous month, ``Change``, the same month a
        year earlier, ``Change vs last year`` — every cell a string.
    marks : DataFrame
        Same shape: ``"good"``, ``"bad"`` or ``""`` per cell (for colouring).

    Examples
    --------
    >>> k = pd.DataFrame({"month_end": pd.to_datetime(["2026-09-30", "2026-10-31"]),
    ...                   "overdue_rate_30plus_balance": [0.040, 0.046]})
    >>> text, marks = format_kpi_change_table(kpi_change_table(k, "2026-10"))
    >>> text.iloc[0].tolist()
    ['Overdue rate 30+ DPD (share of open balance)', '4.6%', '4.0%', '+0.6 pp', '–', '–']
    >>> marks.iloc[0, 3]
    'bad'
    """
    month = table.attrs.get("month")
    prev = table.attrs.get("previous_month")
    year = table.attrs.get("last_year_month")
    col_month = format_month(month) if month is not None else "This month"
    col_prev = format_month(prev) if prev is not None else "Previous month"
    col_year = format_month(year) if year is not None else "A year earlier"
    rows, marks = [], []
    for r in table.itertuples(index=False):
        fmt = formatter(_KIND_FORMAT[r.kind])
        rows.append(
            [
                r.label,
                fmt(r.value),
                fmt(r.previous),
                _format_change(r.kind, r.change_previous),
                fmt(r.last_year),
                _format_change(r.kind, r.change_last_year),
            ]
        )
        marks.append(
            [
                "",
                "",
                "",
                _judgement(r.higher_is_better, r.change_previous),
                "",
                _judgement(r.higher_is_better, r.change_last_year),
            ]
        )
    columns = ["KPI", col_month, col_prev, "Change", col_year, "Change vs last year"]
    return pd.DataFrame(rows, columns=columns), pd.DataFrame(marks, columns=columns)


def change_notes(
    table: pd.DataFrame,
    rate_threshold: float = 0.005,
    relative_threshold: float = 0.05,
) -> list[str]:
    """Plain-language sentences on what changed, generated from a KPI change table.

    A change counts as material when a rate moved by at least ``rate_threshold``
    (fraction points) or another KPI by at least ``relative_threshold`` (relative).
    Material changes come first, largest first; the rest are listed as unchanged.

    Parameters
    ----------
    table : DataFrame
        From :func:`kpi_change_table`.
    rate_threshold : float
        Materiality of a rate change (0.005 = 0.5 percentage points).
    relative_threshold : float
        Materiality of a relative change of an amount, count or duration (0.05 = 5%).

    Returns
    -------
    list of str

    Examples
    --------
    >>> k = pd.DataFrame({"month_end": pd.to_datetime(["2025-10-31", "2026-09-30", "2026-10-31"]),
    ...                   "overdue_rate_30plus_balance": [0.050, 0.040, 0.046],
    ...                   "cure_rate": [0.30, 0.301, 0.302]})
    >>> for line in change_notes(kpi_change_table(k, "2026-10")):
    ...     print(line)
    Overdue rate 30+ DPD (share of open balance) rose from 4.0% in September 2026 to 4.6% in October 2026 (+0.6 pp), a deterioration; a year earlier it was 5.0%.
    Cure rate (delinquent accounts back to current) was broadly unchanged at 30.2% (30.1% in September 2026).
    """
    month = table.attrs.get("month")
    prev_month = table.attrs.get("previous_month")
    material, steady, missing = [], [], []
    for r in table.itertuples(index=False):
        fmt = formatter(_KIND_FORMAT[r.kind])
        if is_missing(r.value):
            missing.append(f"{r.label} is not available for {format_month(month)}.")
            continue
        if is_missing(r.previous):
            steady.append(
                (
                    0.0,
                    f"{r.label} was {fmt(r.value)} in {format_month(month)} "
                    f"(no figure for {format_month(prev_month)}).",
                )
            )
            continue
        change = r.change_previous
        threshold = rate_threshold if r.kind == "rate" else relative_threshold
        size = abs(change) / threshold if not is_missing(change) else 0.0
        if r.kind == "rate" and not is_missing(change) and r.previous > 0:
            # a small rate that moved a lot relative to itself (0.4% → 0.8%) is material
            if (
                abs(change) >= rate_threshold / 5
                and abs(change) / r.previous >= 4 * relative_threshold
            ):
                size = max(size, 1.0)
        year = "" if is_missing(r.last_year) else f"; a year earlier it was {fmt(r.last_year)}"
        if size >= 1:
            verb = "rose" if change > 0 else "fell"
            judged = _judgement(r.higher_is_better, change)
            verdict = {"good": ", an improvement", "bad": ", a deterioration"}.get(judged, "")
            material.append(
                (
                    size,
                    f"{r.label} {verb} from {fmt(r.previous)} in {format_month(prev_month)} to "
                    f"{fmt(r.value)} in {format_month(month)} ({_format_change(r.kind, change)})"
                    f"{verdict}{year}.",
                )
            )
        else:
            steady.append(
                (
                    size,
                    f"{r.label} was broadly unchanged at {fmt(r.value)} "
                    f"({fmt(r.previous)} in {format_month(prev_month)}).",
                )
            )
    material.sort(key=lambda t: -t[0])
    return [t[1] for t in material] + [t[1] for t in steady] + missing


_SHORT_LABELS = {
    "overdue_rate_30plus_balance": "Overdue 30+ (balance)",
    "overdue_rate_90plus_balance": "Overdue 90+ (balance)",
    "overdue_rate_30plus": "Overdue 30+ (accounts)",
    "collection_rate": "Collection rate",
    "recovery_rate_in_month": "Recovery rate",
    "cure_rate": "Cure rate",
    "amount_collected": "Collected",
    "recovered_charged_off": "Recovered",
    "average_collection_cycle_days": "Collection cycle",
    "collection_cost": "Collection cost",
    "cost_per_unit_collected": "Cost per unit collected",
}

CARD_KPIS = (
    "overdue_rate_30plus_balance",
    "overdue_rate_90plus_balance",
    "collection_rate",
    "cure_rate",
    "amount_collected",
    "average_collection_cycle_days",
)


def kpi_cards_html(table: pd.DataFrame, kpis: Sequence[str] = CARD_KPIS) -> str:
    """Headline numbers as cards: value, change vs the previous month, coloured by direction.

    Parameters
    ----------
    table : DataFrame
        From :func:`kpi_change_table`.
    kpis : sequence of str
        Which KPIs (those absent from ``table`` are skipped).

    Examples
    --------
    >>> k = pd.DataFrame({"month_end": pd.to_datetime(["2026-09-30", "2026-10-31"]),
    ...                   "cure_rate": [0.30, 0.32]})
    >>> html_text = kpi_cards_html(kpi_change_table(k, "2026-10"))
    >>> "32.0%" in html_text and "+2.0 pp" in html_text and 'class="kpi-change good"' in html_text
    True
    """
    prev = table.attrs.get("previous_month")
    since = f" vs {pd.Timestamp(prev):%b %Y}" if prev is not None else ""
    cards = []
    rows = table.set_index("kpi")
    for name in kpis:
        if name not in rows.index:
            continue
        r = rows.loc[name]
        fmt = formatter(_KIND_FORMAT[r["kind"]])
        change = r["change_previous"]
        judged = _judgement(r["higher_is_better"], change)
        arrow = "" if is_missing(change) or change == 0 else ("▲ " if change > 0 else "▼ ")
        text = _format_change(r["kind"], change)
        cards.append(
            '<div class="kpi-card">'
            f'<div class="kpi-label">{html.escape(_SHORT_LABELS.get(name, r["label"]))}</div>'
            f'<div class="kpi-value">{html.escape(fmt(r["value"]))}</div>'
            f'<div class="kpi-change {judged}">{arrow}{html.escape(text)}{html.escape(since)}</div>'
            "</div>"
        )
    return f'<div class="kpi-cards">{"".join(cards)}</div>'
