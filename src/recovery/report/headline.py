"""The headline KPIs of the month, their change and whether it is news, in plain language.

Which KPIs head the report and how each is judged (:class:`KpiSpec`,
:data:`HEADLINE_KPIS`); the month's value against the previous month, judged against
the KPI's normal variation, and the same month a year earlier (:func:`kpi_change_table`);
that table as text with the unusual changes marked good or bad
(:func:`format_kpi_change_table`), as cards (:func:`kpi_cards_html`) and as sentences,
unusual changes first (:func:`change_notes`).

Examples
--------
>>> k = pd.DataFrame({"month_end": pd.to_datetime(["2026-09-30", "2026-10-31"]),
...                   "cure_rate": [0.30, 0.32]})
>>> change_notes(kpi_change_table(k, "2026-10"))
['Cure rate (delinquent accounts back to current) was 32.0% in October 2026 against 30.0% in September 2026 (+2.0 pp): not enough history to judge (0 months of changes).']
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.report.data import parse_month
from recovery.report.formatting import (
    MISSING,
    format_count,
    format_month,
    format_number,
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
    "method_paragraph",
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


def _judged(
    monthly: pd.DataFrame,
    specs: Sequence[KpiSpec],
    target: pd.Timestamp,
    moments: pd.DataFrame | None,
    settings: dict[str, Any],
) -> pd.DataFrame:
    """The verdict of each KPI's change (:func:`recovery.analytics.variation.judge_changes`)."""
    from recovery.analytics.variation import judge_changes, sampling_intervals

    parts = []
    with_moments = set()
    if moments is not None and len(moments):
        m = moments[moments["kpi"].isin([s.name for s in specs])]
        m = m.assign(month_end=pd.to_datetime(m["month_end"]).dt.normalize())
        if len(m):
            iv = sampling_intervals(m, settings["level"])
            with_moments = set(iv["kpi"])
            judged = judge_changes(iv, target, method="interval", **settings)
            accounts = iv[iv["month_end"] == target].set_index("kpi")["n"]
            parts.append(judged.assign(accounts=judged["kpi"].map(accounts)))
    long = monthly.reset_index(names="month_end").melt(
        id_vars="month_end", var_name="kpi", value_name="value"
    )
    long["value"] = pd.to_numeric(long["value"], errors="coerce")
    for kind_scale, names in (
        ("difference", [s.name for s in specs if s.kind == "rate"]),
        ("relative", [s.name for s in specs if s.kind != "rate"]),
    ):
        names = [n for n in names if n not in with_moments and n in monthly.columns]
        if names:
            rows = long[long["kpi"].isin(names)]
            parts.append(
                judge_changes(rows, target, method="history", scale=kind_scale, **settings)
            )
    if not parts:
        return pd.DataFrame(columns=["kpi"])
    return pd.concat(parts, ignore_index=True).set_index("kpi")


def _settings(config: Config | None, level: float | None) -> dict[str, Any]:
    a = (config or Config()).analytics
    return {
        "level": float(level if level is not None else a.change_level),
        "history_months": a.change_history_months,
        "min_history": a.change_min_history,
    }


def kpi_change_table(
    kpis: pd.DataFrame,
    month: Any,
    specs: Sequence[KpiSpec] | None = None,
    moments: pd.DataFrame | None = None,
    config: Config | None = None,
    level: float | None = None,
) -> pd.DataFrame:
    """Headline KPIs of a month: the change vs the previous month, judged against noise.

    Each month-on-month change is compared with the KPI's normal variation
    (:func:`recovery.analytics.variation.judge_changes`, at ``config.analytics.change_level``,
    99% by default): a rate with ``moments`` from its own denominators (a Wilson interval for
    a share of accounts, a delta-method interval for a ratio of sums) widened or narrowed by
    the dispersion the book showed over the last ``change_history_months`` months; any
    other KPI (amounts, days, a rate without moments) against control limits from the same
    history. The change against the same month a year earlier is shown for context, not
    judged.

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
    moments : DataFrame, optional
        :func:`recovery.analytics.variation.kpi_moments` of the same snapshots: the rates
        it covers are judged from their own denominators.
    config : Config, optional
        The judgement's settings (``analytics.change_level``, ``change_history_months``,
        ``change_min_history``).
    level : float, optional
        Overrides ``config.analytics.change_level``.

    Returns
    -------
    DataFrame
        One row per KPI: ``kpi, label, kind, higher_is_better, value, previous,
        change_previous, last_year, change_last_year``, then the judgement:
        ``verdict`` (``unusual``, ``normal``, ``no_history``, ``missing``),
        ``band_low``/``band_high`` (the normal variation of the change), ``beyond`` (how
        far outside it), ``score`` (above 1 is unusual), ``se_low``/``se_high`` (the
        standard error of a fall and of a rise, on the judged scale: differences for
        rates, log ratios for amounts), ``history`` (past changes used) and ``accounts`` (the
        rate's denominator this month; NaN for amounts). Changes of rates are differences
        (fraction points: 0.004 is +0.4 pp); changes of amounts, counts and days are
        relative (0.05 is +5%), and so are their bands. Missing months give NaN.

    Examples
    --------
    >>> k = pd.DataFrame({"month_end": pd.to_datetime(["2025-10-31", "2026-09-30", "2026-10-31"]),
    ...                   "overdue_rate_30plus_balance": [0.050, 0.040, 0.046],
    ...                   "amount_collected": [80_000.0, 100_000.0, 90_000.0]})
    >>> t = kpi_change_table(k, "2026-10")
    >>> t[["kpi", "value", "change_previous", "change_last_year", "verdict"]].round(3).values.tolist()
    [['overdue_rate_30plus_balance', 0.046, 0.006, -0.004, 'no_history'], ['amount_collected', 90000.0, -0.1, 0.125, 'no_history']]
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
    judged = _judged(monthly, specs, target, moments, _settings(config, level))
    judgement = ("verdict", "band_low", "band_high", "beyond", "score", "se_low", "se_high")
    for column in (*judgement, "history", "accounts"):
        values = judged[column] if column in judged else pd.Series(dtype=float)
        table[column] = table["kpi"].map(values)
    # rates change in points; amounts relatively, unless a month of their history was zero
    # or negative: then in their own units (the band is a difference too)
    scale = table["kpi"].map(judged["scale"]) if "scale" in judged else np.nan
    table["band_scale"] = np.where(
        table["kind"].eq("rate"),
        "points",
        np.where(pd.Series(scale, index=table.index).eq("difference"), "absolute", "relative"),
    )
    table["verdict"] = table["verdict"].fillna("missing")
    table.attrs.update(month=target, previous_month=previous, last_year_month=last_year)
    table.attrs.update(level=_settings(config, level)["level"])
    return table


def _format_change(kind: str, change: float) -> str:
    return format_pp(change) if kind == "rate" else format_pct(change, sign=True)


def _judgement(higher_is_better: bool | None, change: float) -> str:
    if higher_is_better is None or is_missing(change) or change == 0:
        return ""
    return "good" if (change > 0) == bool(higher_is_better) else "bad"


def _signed(r: dict[str, Any], x: float) -> str:
    """A change in the units its band is judged in (points, percent, or the KPI's own)."""
    scale = r.get("band_scale", "points" if r["kind"] == "rate" else "relative")
    if scale != "absolute":
        return _format_change(r["kind"], x)
    text = format_number(x, 1 if r["kind"] == "days" else 0, sign=True)
    return f"{text} days" if r["kind"] == "days" else text


def _shown_change(r: dict[str, Any]) -> str:
    if r.get("band_scale") == "absolute":
        return _signed(r, r["value"] - r["previous"])
    return _format_change(r["kind"], r["change_previous"])


def _band(r: dict[str, Any]) -> str:
    low, high = r.get("band_low"), r.get("band_high")
    if is_missing(low) or is_missing(high):
        return MISSING
    return f"{_signed(r, low)} to {_signed(r, high)}"


def _beyond(r: dict[str, Any]) -> str:
    return _signed(r, abs(r["beyond"])).lstrip("+")


_VERDICT_WORDS = {
    "unusual": "unusual",
    "normal": "within normal variation",
    "no_history": "not enough history to judge",
    "missing": MISSING,
}


def format_kpi_change_table(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The KPI change table as text for people; only unusual changes are coloured.

    Parameters
    ----------
    table : DataFrame
        From :func:`kpi_change_table`.

    Returns
    -------
    text : DataFrame
        Columns ``KPI``, the month, the previous month, ``Change``, ``Normal
        variation`` (the band of the change), ``Judged``, the same month a year earlier,
        ``Change vs last year`` — every cell a string.
    marks : DataFrame
        Same shape: ``"good"`` or ``"bad"`` on an unusual change (for colouring), else
        ``""``.

    Examples
    --------
    >>> k = pd.DataFrame({"month_end": pd.to_datetime(["2026-09-30", "2026-10-31"]),
    ...                   "overdue_rate_30plus_balance": [0.040, 0.046]})
    >>> text, marks = format_kpi_change_table(kpi_change_table(k, "2026-10"))
    >>> text.iloc[0].tolist()
    ['Overdue rate 30+ DPD (share of open balance)', '4.6%', '4.0%', '+0.6 pp', '–', 'not enough history to judge', '–', '–']
    >>> marks.iloc[0, 3]
    ''
    """
    month = table.attrs.get("month")
    prev = table.attrs.get("previous_month")
    year = table.attrs.get("last_year_month")
    col_month = format_month(month) if month is not None else "This month"
    col_prev = format_month(prev) if prev is not None else "Previous month"
    col_year = format_month(year) if year is not None else "A year earlier"
    rows, marks = [], []
    for r in table.to_dict("records"):
        fmt = formatter(_KIND_FORMAT[r["kind"]])
        verdict = r.get("verdict", "missing")
        judged = _VERDICT_WORDS.get(verdict, MISSING)
        if verdict == "unusual":
            judged = f"unusual ({_beyond(r)} beyond)"
        rows.append(
            [
                r["label"],
                fmt(r["value"]),
                fmt(r["previous"]),
                _shown_change(r),
                _band(r),
                judged,
                fmt(r["last_year"]),
                _format_change(r["kind"], r["change_last_year"]),
            ]
        )
        mark = _judgement(r["higher_is_better"], r["change_previous"])
        marks.append(["", "", "", mark if verdict == "unusual" else "", "", "", "", ""])
    columns = [
        "KPI",
        col_month,
        col_prev,
        "Change",
        "Normal variation",
        "Judged",
        col_year,
        "Change vs last year",
    ]
    return pd.DataFrame(rows, columns=columns), pd.DataFrame(marks, columns=columns)


def _few(accounts: Any, few_accounts: int) -> str:
    if is_missing(accounts) or accounts >= few_accounts:
        return ""
    return f"based on {format_count(accounts)} account{'s' if accounts != 1 else ''}"


def change_notes(
    table: pd.DataFrame, few_accounts: int = 30, config: Config | None = None
) -> list[str]:
    """Plain-language sentences on what changed, judged against normal variation.

    A change is news only when it lies outside the KPI's normal variation (the
    ``verdict`` of :func:`kpi_change_table`): those come first, the furthest outside
    first, saying how far outside and whether it is an improvement. The others read
    "within normal variation", or "not enough history to judge" when the KPI has fewer
    past months than the judgement needs. A rate of fewer than ``few_accounts`` accounts
    says so ("based on 14 accounts").

    Parameters
    ----------
    table : DataFrame
        From :func:`kpi_change_table`.
    few_accounts : int
        Rates of fewer accounts are flagged; ``config.analytics.few_accounts`` when a
        config is given.
    config : Config, optional

    Returns
    -------
    list of str

    Examples
    --------
    >>> months = pd.date_range("2024-09-30", periods=26, freq="ME")
    >>> rng = np.random.default_rng(1)
    >>> k = pd.DataFrame({"month_end": months,
    ...                   "amount_collected": np.r_[100_000 * np.exp(rng.normal(0, 0.02, 25)), 130_000]})
    >>> print(change_notes(kpi_change_table(k, "2026-10"))[0])
    Amount collected rose from 94,722 in September 2026 to 130,000 in October 2026 (+37.2%): unusual, 30.6% beyond its normal variation of -6.7% to +6.6%; an improvement. A year earlier it was 99,675.
    """
    if config is not None:
        few_accounts = config.analytics.few_accounts
    month = table.attrs.get("month")
    prev_month = table.attrs.get("previous_month")
    unusual, steady, missing = [], [], []
    for r in table.to_dict("records"):
        fmt = formatter(_KIND_FORMAT[r["kind"]])
        few = _few(r.get("accounts"), few_accounts)
        if is_missing(r["value"]):
            missing.append(f"{r['label']} is not available for {format_month(month)}.")
            continue
        if is_missing(r["previous"]):
            steady.append(
                f"{r['label']} was {fmt(r['value'])} in {format_month(month)}{f' ({few})' if few else ''} "
                f"(no figure for {format_month(prev_month)})."
            )
            continue
        change = r["change_previous"]
        shown = _shown_change(r)
        year = (
            "" if is_missing(r["last_year"]) else f" A year earlier it was {fmt(r['last_year'])}."
        )
        verdict = r.get("verdict", "missing")
        band = _band(r)
        if verdict == "unusual":
            verb = "rose" if change > 0 else "fell"
            judged = _judgement(r["higher_is_better"], change)
            what = {"good": "; an improvement", "bad": "; a deterioration"}.get(judged, "")
            unusual.append(
                (
                    -float(r.get("score") or 0.0),
                    f"{r['label']} {verb} from {fmt(r['previous'])} in {format_month(prev_month)} "
                    f"to {fmt(r['value'])} in {format_month(month)} ({shown}{f'; {few}' if few else ''}): unusual, "
                    f"{_beyond(r)} beyond its normal variation of {band}"
                    f"{what}.{year}",
                )
            )
            continue
        head = (
            f"{r['label']} was {fmt(r['value'])} in {format_month(month)} against "
            f"{fmt(r['previous'])} in {format_month(prev_month)} ({shown}{f'; {few}' if few else ''})"
        )
        if verdict == "normal":
            steady.append(f"{head}: within normal variation ({band}).")
        else:
            history = r.get("history")
            months = "" if is_missing(history) else f" ({int(history)} months of changes)"
            steady.append(f"{head}: not enough history to judge{months}.")
    unusual.sort(key=lambda t: t[0])
    return [t[1] for t in unusual] + steady + missing


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


def kpi_cards_html(
    table: pd.DataFrame, kpis: Sequence[str] = CARD_KPIS, few_accounts: int = 30
) -> str:
    """Headline numbers as cards: value, change vs the previous month and its verdict.

    Only an unusual change is coloured (green an improvement, red a deterioration);
    the card says "within normal variation" or "not enough history to judge" otherwise,
    and names a thin denominator ("based on 14 accounts").

    Parameters
    ----------
    table : DataFrame
        From :func:`kpi_change_table`.
    kpis : sequence of str
        Which KPIs (those absent from ``table`` are skipped).
    few_accounts : int
        Rates of fewer accounts are flagged.

    Examples
    --------
    >>> k = pd.DataFrame({"month_end": pd.to_datetime(["2026-09-30", "2026-10-31"]),
    ...                   "cure_rate": [0.30, 0.32]})
    >>> html_text = kpi_cards_html(kpi_change_table(k, "2026-10"))
    >>> "32.0%" in html_text and "+2.0 pp" in html_text and "not enough history" in html_text
    True
    """
    prev = table.attrs.get("previous_month")
    since = f" vs {pd.Timestamp(prev):%b %Y}" if prev is not None else ""
    cards = []
    rows = {r["kpi"]: r for r in table.to_dict("records")}
    for name in kpis:
        if name not in rows:
            continue
        r = rows[name]
        fmt = formatter(_KIND_FORMAT[r["kind"]])
        change = r["change_previous"]
        verdict = r.get("verdict", "missing")
        judged = _judgement(r["higher_is_better"], change) if verdict == "unusual" else ""
        arrow = "" if is_missing(change) or change == 0 else ("▲ " if change > 0 else "▼ ")
        text = _shown_change(r)
        words = _VERDICT_WORDS.get(verdict, MISSING)
        if verdict == "unusual":
            words = f"unusual: {_beyond(r)} beyond normal variation"
        few = _few(r.get("accounts"), few_accounts)
        words = f"{words}; {few}" if few and verdict != "missing" else words
        cards.append(
            f'<div class="kpi-card {verdict}">'
            f'<div class="kpi-label">{html.escape(_SHORT_LABELS.get(name, r["label"]))}</div>'
            f'<div class="kpi-value">{html.escape(fmt(r["value"]))}</div>'
            f'<div class="kpi-change {judged}">{arrow}{html.escape(text)}{html.escape(since)}</div>'
            f'<div class="kpi-verdict">{html.escape(words)}</div>'
            "</div>"
        )
    return f'<div class="kpi-cards">{"".join(cards)}</div>'


def method_paragraph(config: Config | None = None) -> str:
    """How the report judges changes, in one paragraph for the reader (with the settings).

    Examples
    --------
    >>> print(method_paragraph()[:120])
    How changes are judged: every KPI moves a little each month by chance alone, so a month-on-month change is compared with
    """
    a = (config or Config()).analytics
    level = format_pct(a.change_level, 0)
    return (
        "How changes are judged: every KPI moves a little each month by chance alone, so a "
        "month-on-month change is compared with the KPI's normal variation, a band that "
        f"holds {level} of the changes of a book where nothing changed. For a share of "
        "accounts (the cure rate, the overdue rate by accounts) the band comes from a Wilson "
        "interval on its own number of accounts; for a rate weighted by balance (the "
        "collection and recovery rates, the overdue rates by balance) from the sampling "
        "error of a ratio of sums over its accounts. Both are widened, or narrowed, by how "
        "much the book's own changes varied beyond what chance explains over the last "
        f"{a.change_history_months} months. Amounts, costs and the collection cycle are "
        f"compared with control limits from their changes over the same {a.change_history_months} "
        "months. A change outside its band is called unusual and the report says how far "
        "outside; one inside is within normal variation. About one KPI change in "
        f"{round(1 / (1 - a.change_level)):,} is flagged by chance. With fewer than "
        f"{a.change_min_history} months of history a change is not judged, and a rate of "
        f"fewer than {a.few_accounts} accounts says so. The level is a setting "
        "(change_level in the [analytics] section of the configuration file)."
    )
