"""The case file as one standalone page: the summary in words, the figure, the timeline.

A collector opens the page of a customer before calling (seed 000's 一户一档). The page
(:func:`case_page_html`) reads a :class:`~recovery.report.case_file.CaseFile` and holds,
in order:

1. the summary in words (:func:`summary_sentences`) — the accounts with their bucket, DPD,
   balance and debt age; the last contact and its outcome; an open promise or offer; the
   stated reason and the recorded attitude; what the strategy recommends and why; the
   suppressions in force; the contacts still allowed today and this week against the
   limits, counted per person across the customer's accounts, and the permitted hours;
   the limitation-period expiry date;
2. the accounts table;
3. the figure (:func:`case_figure`): DPD per account over time with dues and payments
   marked, balance, contacts by channel coloured by outcome, agent spells, and scores
   over time when models were given;
4. the timeline, newest first.

The figure is inline SVG drawn here rather than a Matplotlib image: a page is a few
milliseconds, so the pages of a whole work list are written in seconds, and the page is
one file with no script and nothing external. :func:`write_case_pages` writes the pages
of many customers (atomically, one file each).

Examples
--------
>>> from recovery.datasets import tiny_portfolio
>>> from recovery.report.case_file import case_file
>>> case = case_file(tiny_portfolio(), customer_id="C2", as_of="2024-03-31")
>>> page = case_page_html(case)
>>> page.startswith("<!DOCTYPE html>") and "<script" not in page
True
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.atomic import publish, stage_file
from recovery.data.portfolio import Portfolio
from recovery.report.case_file import CaseFile, case_files
from recovery.report.case_timeline import words
from recovery.report.formatting import format_money

__all__ = [
    "CaseFigure",
    "case_figure",
    "summary_sentences",
    "case_page_html",
    "page_name",
    "write_case_page",
    "write_case_pages",
]

_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")
_AGENT_COLORS = ("#c6dbef", "#fdd0a2", "#c7e9c0", "#dadaeb", "#fcbba1", "#d9d9d9", "#ccebc5")
#: Outcome of a contact → (group shown in the legend, colour).
_OUTCOME_GROUPS = (
    ("promise to pay", ("promise_to_pay",), "#ff7f0e"),
    ("talked", ("right_party_contact", "hardship", "refusal", "dispute"), "#2ca02c"),
    ("third party", ("third_party_contact",), "#9467bd"),
    ("no answer", ("no_answer", "wrong_number", "busy", "unreachable"), "#999999"),
)
_OTHER_OUTCOME = ("other", "#1f77b4")


def _records(df: pd.DataFrame, columns: Iterable[str]) -> list[dict[str, Any]]:
    """Rows of ``df`` as dicts of plain values (missing columns are None)."""
    cols = {c: (df[c].tolist() if c in df else [None] * len(df)) for c in columns}
    return [dict(zip(cols, row, strict=True)) for row in zip(*cols.values(), strict=True)]


def _e(text: Any) -> str:
    return html.escape(str(text))


def _day(x: Any) -> str:
    return "–" if pd.isna(x) else pd.Timestamp(x).strftime("%Y-%m-%d")


# --------------------------------------------------------------------------- figure
class CaseFigure:
    """The case figure as SVG text; shown inline by Jupyter (``_repr_svg_``).

    Attributes
    ----------
    svg : str
        The ``<svg>`` element.
    """

    def __init__(self, svg: str):
        self.svg = svg

    def _repr_svg_(self) -> str:
        return self.svg

    def save(self, path: str | Path) -> Path:
        """Write the SVG to ``path`` (atomically)."""
        staged = stage_file(path)
        staged.write_text(self.svg, encoding="utf-8")
        return publish(staged, path)


class _Axis:
    def __init__(self, start: pd.Timestamp, end: pd.Timestamp, left: float, width: float):
        self.t0 = start.value
        self.span = max(end.value - start.value, 86_400 * 10**9)
        self.left, self.width = left, width

    def x(self, dates: Any) -> np.ndarray:
        t = np.asarray(dates, dtype="datetime64[ns]").astype(np.int64)
        return self.left + (t - self.t0) / self.span * self.width


def _path(xs: np.ndarray, ys: np.ndarray) -> str:
    return " ".join(map("{:.1f},{:.1f}".format, np.asarray(xs).tolist(), np.asarray(ys).tolist()))


_DATES = ("date", "as_of", "start_date", "end_date")
_NUMBERS = ("dpd", "balance", "p_pay")


def _arrays(df: pd.DataFrame | None, columns: Iterable[str]) -> dict[str, np.ndarray]:
    """Columns of ``df`` as numpy arrays: dates datetime64[ns], numbers float, else objects."""
    out = {}
    for c in columns:
        if df is None or c not in df:
            n = 0 if df is None else len(df)
            v = np.full(n, np.datetime64("NaT"), "datetime64[ns]") if c in _DATES else None
            out[c] = v if v is not None else np.full(n, np.nan if c in _NUMBERS else None)
        elif c in _DATES:
            out[c] = np.asarray(df[c].to_numpy(), dtype="datetime64[ns]")
        elif c in _NUMBERS:
            out[c] = df[c].to_numpy(dtype=float, na_value=np.nan)
        else:
            out[c] = df[c].to_numpy(dtype=object)
    return out


def case_figure(case: CaseFile, width: int = 960) -> CaseFigure:
    """The one-page figure of a case file.

    Panels share the time axis: days past due per account (dues as ticks, payments as
    dots, returned payments as crosses, the charge-off threshold dashed); balance per
    account; contacts by channel, coloured by outcome; agent spells per account; scores
    (p_pay) when the case file has them.

    Parameters
    ----------
    case : CaseFile
    width : int
        Pixels.

    Returns
    -------
    CaseFigure

    Examples
    --------
    >>> from recovery.datasets import tiny_portfolio
    >>> from recovery.report.case_file import case_file
    >>> fig = case_figure(case_file(tiny_portfolio(), customer_id="C1", as_of="2024-03-31"))
    >>> fig.svg.startswith("<svg") and "Days past due" in fig.svg
    True
    """
    se = _arrays(case.series.sort_values("date"), ("account_id", "date", "dpd", "balance"))
    tl = _arrays(case.timeline, ("account_id", "date", "event", "dpd", "channel", "outcome"))
    sp = _arrays(case.spells, ("account_id", "agent_id", "start_date", "end_date"))
    sc = _arrays(case.scores, ("account_id", "as_of", "p_pay")) if case.scores is not None else None
    accounts = [str(a) for a in case.accounts["account_id"]]
    color = {a: _COLORS[i % len(_COLORS)] for i, a in enumerate(accounts)}
    as_of = np.datetime64(case.as_of, "ns")
    every = np.concatenate([se["date"], tl["date"]])
    start = every.min() if len(every) else as_of - np.timedelta64(365, "D")
    ax = _Axis(pd.Timestamp(start), case.as_of, 150.0, width - 170.0)
    out: list[str] = []
    frames: list[tuple[float, float]] = []
    y = 10.0

    def panel(title: str, height: float) -> float:
        nonlocal y
        top = y + 18
        frames.append((top, height))
        out.append(f'<text x="8" y="{y + 12:.0f}" class="t">{_e(title)}</text>')
        out.append(
            f'<rect x="{ax.left:.0f}" y="{top:.0f}" width="{ax.width:.0f}" '
            f'height="{height:.0f}" class="frame"/>'
        )
        y = top + height + 12
        return top

    def label(yy: float, text: str) -> None:
        out.append(
            f'<text x="{ax.left - 6:.0f}" y="{yy:.0f}" class="s" text-anchor="end">{_e(text)}</text>'
        )

    # days past due, with dues, payments and returned payments marked
    h = 150.0
    top = panel("Days past due", h)
    co = case.config.aging.charge_off_dpd
    finite = se["dpd"][~np.isnan(se["dpd"])] if len(se["dpd"]) else np.array([])
    top_dpd = max(float(finite.max()) if len(finite) else 0.0, 30.0) * 1.1
    top_dpd = min(top_dpd, co * 1.15) if top_dpd > co else top_dpd

    def ydpd(v: np.ndarray) -> np.ndarray:
        return top + h - np.clip(np.nan_to_num(v.astype(float)), 0, top_dpd) / top_dpd * h

    if co <= top_dpd:
        yc = ydpd(np.array([co]))[0]
        out.append(
            f'<line x1="{ax.left:.0f}" x2="{ax.left + ax.width:.0f}" y1="{yc:.1f}" '
            f'y2="{yc:.1f}" class="co"/><text x="{ax.left + ax.width - 4:.0f}" '
            f'y="{yc - 3:.1f}" class="s" text-anchor="end">charge-off ({co} days)</text>'
        )
    label(top + 8, f"{top_dpd:.0f}")
    label(top + h, "0")
    for a in accounts:
        m = se["account_id"] == a
        if m.any():
            out.append(
                f'<polyline points="{_path(ax.x(se["date"][m]), ydpd(se["dpd"][m]))}" '
                f'fill="none" stroke="{color[a]}" stroke-width="1.5"/>'
            )
        mine = tl["account_id"] == a
        for event in ("due", "payment", "reversal"):
            m = mine & (tl["event"] == event)
            xs, ys = ax.x(tl["date"][m]), ydpd(tl["dpd"][m])
            if event == "due":
                out.extend(
                    f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + h:.0f}" y2="{top + h - 6:.0f}" '
                    f'stroke="{color[a]}"/>'
                    for x in xs
                )
            elif event == "payment":
                out.extend(
                    f'<circle cx="{x:.1f}" cy="{v:.1f}" r="2.5" fill="{color[a]}"/>'
                    for x, v in zip(xs, ys, strict=True)
                )
            else:
                out.extend(
                    f'<path d="M{x - 4:.1f},{v - 4:.1f}l8,8m0,-8l-8,8" stroke="#d62728" '
                    'stroke-width="2"/>'
                    for x, v in zip(xs, ys, strict=True)
                )
    # balance (a step: it holds until the next point)
    h = 90.0
    top = panel("Balance", h)
    known = ~np.isnan(se["balance"]) if len(se["balance"]) else np.zeros(0, bool)
    top_bal = float(se["balance"][known].max()) if known.any() else 0.0
    top_bal = top_bal if top_bal > 0 else 1.0
    label(top + 8, format_money(top_bal, compact=True))
    for a in accounts:
        m = (se["account_id"] == a) & known
        if not m.any():
            continue
        xs = ax.x(se["date"][m])
        ys = top + h - np.clip(se["balance"][m], 0, None) / top_bal * h
        out.append(
            f'<polyline points="{_path(np.repeat(xs, 2)[1:], np.repeat(ys, 2)[:-1])}" '
            f'fill="none" stroke="{color[a]}" stroke-width="1.5"/>'
        )
    # contacts by channel, coloured by outcome
    contact = tl["event"] == "contact"
    channels = [c for c in pd.unique(tl["channel"][contact]) if isinstance(c, str)]
    if channels:
        top = panel("Contacts", 16 * len(channels) + 6)
        group_color = {o: c for _, outcomes, c in _OUTCOME_GROUPS for o in outcomes}
        for i, ch in enumerate(channels):
            yy = top + 11 + 16 * i
            label(yy + 4, words(ch))
            m = contact & (tl["channel"] == ch)
            out.extend(
                f'<circle cx="{x:.1f}" cy="{yy:.0f}" r="3.5" '
                f'fill="{group_color.get(o, _OTHER_OUTCOME[1])}"/>'
                for x, o in zip(ax.x(tl["date"][m]), tl["outcome"][m], strict=True)
            )
        lx = ax.left
        for name, c in [(g, c) for g, _, c in _OUTCOME_GROUPS] + [_OTHER_OUTCOME]:
            out.append(
                f'<circle cx="{lx + 4:.0f}" cy="{y - 4:.0f}" r="3.5" fill="{c}"/>'
                f'<text x="{lx + 11:.0f}" y="{y:.0f}" class="s">{_e(name)}</text>'
            )
            lx += 14 + 7 * len(name)
        y += 10
    # agent spells, shaded by agent
    if len(sp["account_id"]):
        top = panel("Agent spells", 16 * len(accounts) + 6)
        agents = [str(g) for g in pd.unique(sp["agent_id"])]
        shade = {g: _AGENT_COLORS[i % len(_AGENT_COLORS)] for i, g in enumerate(agents)}
        ends = np.where(np.isnat(sp["end_date"]), as_of, np.minimum(sp["end_date"], as_of))
        for i, a in enumerate(accounts):
            yy = top + 4 + 16 * i
            label(yy + 10, a)
            m = sp["account_id"] == a
            for x0, x1, g in zip(
                ax.x(sp["start_date"][m]), ax.x(ends[m]), sp["agent_id"][m], strict=True
            ):
                g, wdt = str(g), max(x1 - x0, 1.5)
                out.append(
                    f'<rect x="{x0:.1f}" y="{yy:.0f}" width="{wdt:.1f}" height="13" '
                    f'fill="{shade[g]}" stroke="#777" stroke-width="0.4"><title>{_e(g)}</title></rect>'
                )
                if wdt > 7 * len(g):
                    out.append(f'<text x="{x0 + 3:.1f}" y="{yy + 10:.0f}" class="s">{_e(g)}</text>')
    # scores over time
    if sc is not None and len(sc["account_id"]):
        h = 70.0
        top = panel("Propensity to pay (p_pay) at month ends while overdue", h)
        label(top + 8, "1")
        label(top + h, "0")
        for a in accounts:
            m = (sc["account_id"] == a) & ~np.isnan(sc["p_pay"])
            out.extend(
                f'<circle cx="{x:.1f}" cy="{top + h - v * h:.1f}" r="2.5" fill="{color[a]}"/>'
                for x, v in zip(ax.x(sc["as_of"][m]), sc["p_pay"][m], strict=True)
            )
    # time axis: years (quarters or months on a short file)
    span_days = (case.as_of - pd.Timestamp(start)).days
    freq = "YS" if span_days > 900 else "QS" if span_days > 270 else "MS"
    ticks = pd.date_range(pd.Timestamp(start), case.as_of, freq=freq)
    fmt = "%Y" if freq == "YS" else "%Y-%m"
    grid = [
        f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top:.0f}" y2="{top + h:.0f}" class="grid"/>'
        for x in ax.x(ticks)
        for top, h in frames
    ]
    out[:0] = grid  # under the data
    out.extend(
        f'<text x="{x:.1f}" y="{y + 4:.0f}" class="s" text-anchor="middle">{t.strftime(fmt)}</text>'
        for x, t in zip(ax.x(ticks), ticks, strict=True)
    )
    y += 18
    lx = ax.left
    for a in accounts:
        out.append(
            f'<rect x="{lx:.0f}" y="{y - 6:.0f}" width="14" height="3" fill="{color[a]}"/>'
            f'<text x="{lx + 18:.0f}" y="{y:.0f}" class="s">{_e(a)}</text>'
        )
        lx += 30 + 7 * len(a)
    out.append(
        f'<text x="{lx + 10:.0f}" y="{y:.0f}" class="s">ticks: dues · dots: payments · '
        "red crosses: returned payments</text>"
    )
    height = y + 10
    style = (
        "<style>.t{font:600 13px sans-serif}.s{font:11px sans-serif;fill:#333}"
        ".frame{fill:none;stroke:#bbb}.grid{stroke:#eee}"
        ".co{stroke:#d62728;stroke-dasharray:5,3}</style>"
    )
    return CaseFigure(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
        f'viewBox="0 0 {width} {height:.0f}" role="img" '
        f'aria-label="Case figure of customer {_e(case.customer_id)}">{style}'
        + "".join(out)
        + "</svg>"
    )


# --------------------------------------------------------------------------- words
def _account_words(r: Mapping[str, Any]) -> str:
    money = format_money(r.get("balance"), decimals=2)
    age = r.get("debt_age_days")
    age_text = "" if pd.isna(age) else f", debt {int(age)} days old"
    status = r.get("status")
    if status == "charged_off":
        state = f"charged off on {_day(r.get('charge_off_date'))}"
    elif status == "open":
        state = f"in {r.get('bucket')}, {int(r['dpd'])} days past due"
    elif pd.isna(status):
        state = "state unknown"
    else:
        state = words(status)
    return f"{r['account_id']} {state}, balance {money}{age_text}"


def summary_sentences(case: CaseFile) -> list[str]:
    """The case in words, for the top of the page.

    Examples
    --------
    >>> from recovery.datasets import tiny_portfolio
    >>> from recovery.report.case_file import case_file
    >>> summary_sentences(case_file(tiny_portfolio(), customer_id="C2", as_of="2024-03-31"))[0]
    'Customer C2 has 1 account: A2 in M0, 0 days past due, balance 200.00.'
    """
    acc = case.accounts
    records = _records(acc, _SUMMARY_COLUMNS)
    rules = case.config.compliance
    n = len(acc)
    out = [
        f"Customer {case.customer_id} has {n} account{'s' if n != 1 else ''}: "
        + "; ".join(_account_words(r) for r in records)
        + "."
    ]
    last = case.profile.get("last_contact")
    if "actions" in _missing_tables(case):
        out.append("Contacts, promises, stated reason and attitude need the actions table.")
    elif last is None:
        out.append("No contact recorded.")
    else:
        when = pd.Timestamp(last["time"] if not pd.isna(last.get("time")) else last["date"])
        out.append(
            f"Last contact: {when.strftime('%Y-%m-%d %H:%M')} on {last['account_id']}, "
            f"{last['detail']}."
        )
    promises = case.profile.get("open_promises")
    if promises is not None and len(promises):
        out.append(
            "Open promise: "
            + "; ".join(
                f"{format_money(p['promise_amount'], decimals=2)} by {_day(p['promise_date'])} "
                f"on {p['account_id']} (made {_day(p['ts'])})"
                for p in _records(promises, ("promise_amount", "promise_date", "account_id", "ts"))
            )
            + "."
        )
    elif "actions" not in _missing_tables(case):
        out.append("No open promise.")
    offers = case.profile.get("open_offers")
    if offers is not None and len(offers):
        out.append(
            "Open offer: "
            + "; ".join(
                f"{words(o['kind'])} on {o['account_id']} made {_day(o['offered_at'])}"
                + (
                    f" ({words(o['outcome'])})"
                    if not pd.isna(o.get("outcome"))
                    else " (no answer yet)"
                )
                for o in _records(offers, ("kind", "account_id", "offered_at", "outcome"))
            )
            + "."
        )
    said = []
    if case.profile.get("reason"):
        said.append(f"stated reason: {words(case.profile['reason'])}")
    if case.profile.get("attitude"):
        said.append(
            f"recorded attitude: {words(case.profile['attitude'])} (the collector's impression)"
        )
    if said:
        out.append(said[0][0].upper() + "; ".join(said)[1:] + ".")
    if case.source == "events":
        recs = [
            f"{r['account_id']}: {words(r['action'])} — {r['action_reason']}"
            for r in records
            if r["action"] != "none" or r["suppressed_by"]
        ]
        scored = acc["p_pay"].notna().any()
        out.append(
            (
                "The strategy recommends " + "; ".join(recs)
                if recs
                else "The strategy recommends no action"
            )
            + (
                "."
                if scored
                else " (no scores given: the policy rules on p_pay and p_cure do not apply)."
            )
        )
        supp = [
            f"{r['account_id']}: {words(r['suppressed_by']).replace(',', ', ')}"
            for r in records
            if r["suppressed_by"]
        ]
        out.append(
            "Suppressions in force: " + "; ".join(supp) + "."
            if supp
            else "No suppression in force."
        )
    c = case.contacts
    hours = f"permitted hours {rules.contact_hour_start:02d}:00–{rules.contact_hour_end:02d}:00"
    if c:
        out.append(
            f"Contacts on {case.as_of.date()}: {c['contacts_today']} made, "
            f"{c['allowed_today']} more allowed today and {c['allowed_week']} more this week "
            f"(limits {rules.max_attempts_per_day} a day and {rules.max_attempts_per_week} a week, "
            f"counted across all the customer's accounts; the week is the seven days before "
            f"the day and the day); third-party contacts: {c['third_party_allowed_week']} "
            f"more this week; {hours}."
        )
    else:
        out.append(f"Contacts allowed cannot be counted without the actions table; {hours}.")
    lim = [r for r in records if not pd.isna(r["limitation_expires"])]
    if lim:
        out.append(
            "Limitation period: "
            + "; ".join(
                f"{r['account_id']} {'expired' if r['limitation_expires'] < case.as_of else 'expires'} "
                f"on {_day(r['limitation_expires'])}"
                for r in lim
            )
            + "."
        )
    else:
        out.append("Limitation period: not known (needs the schedule, payments or actions).")
    if case.missing:
        prefix = (
            "From a monthly performance table: statuses and balances at month ends only. "
            if case.source == "monthly"
            else ""
        )
        out.append(prefix + "Not in this data: " + "; ".join(case.missing) + ".")
    return out


_SUMMARY_COLUMNS = (
    "account_id",
    "status",
    "bucket",
    "dpd",
    "balance",
    "debt_age_days",
    "charge_off_date",
    "action",
    "action_reason",
    "suppressed_by",
    "limitation_expires",
)


def _missing_tables(case: CaseFile) -> set[str]:
    return set(re.findall(r"\(table '(\w+)'\)", " ".join(case.missing)))


# --------------------------------------------------------------------------- page
_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#222}
header{background:#1f3b57;color:#fff;padding:14px 24px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.85}main{padding:8px 24px 32px;max-width:1100px}
h2{font-size:17px;border-bottom:1px solid #ddd;padding-bottom:3px;margin-top:26px}
ul.summary li{margin:4px 0;line-height:1.4}
table.report-table{border-collapse:collapse;font-size:12.5px}
.report-table th,.report-table td{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;
vertical-align:top}.report-table td.num,.report-table th.num{text-align:right}
footer{color:#777;font-size:12px;padding:12px 24px}
"""


def _text(values: pd.Series, kind: str) -> list[str]:
    """A column as text: ``money`` (2 decimals), ``days`` (whole), ``date``, ``words``, ``text``."""
    if kind == "date":
        days = np.asarray(values.to_numpy(), dtype="datetime64[D]")
        return np.where(np.isnat(days), "–", np.datetime_as_string(days, unit="D")).tolist()
    if kind in ("money", "days"):
        fmt = "{:,.2f}" if kind == "money" else "{:,.0f}"
        v = values.to_numpy(dtype=float, na_value=np.nan).tolist()
        return ["–" if x != x else fmt.format(x) for x in v]
    v = values.to_numpy(dtype=object).tolist()
    if kind == "words":
        return ["" if x is None or x != x else html.escape(words(x)) for x in v]
    return ["" if x is None or x != x else html.escape(str(x)) for x in v]


def _table(frame: pd.DataFrame, columns: Mapping[str, tuple[str, str]], table_id: str) -> str:
    """An HTML table of ``frame``: column → (heading, kind of :func:`_text`)."""
    numeric = {c for c, (_, kind) in columns.items() if kind in ("money", "days")}
    head = "".join(
        f'<th class="num">{_e(t)}</th>' if c in numeric else f"<th>{_e(t)}</th>"
        for c, (t, _) in columns.items()
    )
    cells = [
        [
            (f'<td class="num">{v}</td>' if c in numeric else f"<td>{v}</td>")
            for v in _text(
                frame[c] if c in frame else pd.Series([None] * len(frame), dtype=object), kind
            )
        ]
        for c, (_, kind) in columns.items()
    ]
    body = "".join(f"<tr>{''.join(row)}</tr>" for row in zip(*cells, strict=True))
    return (
        f'<table class="report-table" id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


_ACCOUNT_COLUMNS = {
    "account_id": ("account", "text"),
    "product": ("product", "words"),
    "status": ("status", "words"),
    "bucket": ("bucket", "text"),
    "dpd": ("DPD", "days"),
    "balance": ("balance", "money"),
    "amount_overdue": ("overdue", "money"),
    "debt_age_days": ("debt age (days)", "days"),
    "agent_id": ("agent", "text"),
    "action": ("recommended", "words"),
    "limitation_expires": ("limitation expires", "date"),
}
_TIMELINE_COLUMNS = {
    "date": ("date", "date"),
    "account_id": ("account", "text"),
    "detail": ("event", "text"),
    "dpd": ("DPD", "days"),
    "bucket": ("bucket", "text"),
    "balance": ("balance", "money"),
}


def case_page_html(case: CaseFile, footer: str = "") -> str:
    """The standalone HTML page of a case file (no script, nothing external).

    Parameters
    ----------
    case : CaseFile
    footer : str
        Text under the page (e.g. the data source).

    Returns
    -------
    str
    """
    summary = "".join(f"<li>{_e(s)}</li>" for s in summary_sentences(case))
    title = f"Case file of customer {case.customer_id}"
    subtitle = f"as known at the end of {case.as_of.date()} · {len(case.accounts)} account(s)"
    newest_first = case.timeline.iloc[::-1]
    body = (
        f'<section id="summary"><h2>Summary</h2><ul class="summary">{summary}</ul></section>\n'
        f'<section id="accounts"><h2>Accounts</h2>'
        f"{_table(case.accounts, _ACCOUNT_COLUMNS, 'accounts-table')}</section>\n"
        f'<section id="figure"><h2>History</h2>{case_figure(case).svg}</section>\n'
        f'<section id="timeline"><h2>Timeline, newest first</h2>'
        f"{_table(newest_first, _TIMELINE_COLUMNS, 'timeline-table')}</section>\n"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{_e(title)}</h1><p>{_e(subtitle)}</p></header>\n<main>\n{body}</main>\n"
        f"<footer>{_e(footer)}</footer>\n</body>\n</html>\n"
    )


def page_name(customer_id: str) -> str:
    """File name of a customer's page (characters unsafe in a file name become ``_``).

    Examples
    --------
    >>> page_name("C/0001")
    'case_C_0001.html'
    """
    return "case_" + re.sub(r"[^A-Za-z0-9._-]", "_", str(customer_id)) + ".html"


def write_case_page(case: CaseFile, path: str | Path, footer: str = "") -> Path:
    """Write the page of a case file to ``path`` (staged, then renamed: never half-written)."""
    path = Path(path)
    staged = stage_file(path)
    try:
        staged.write_text(case_page_html(case, footer), encoding="utf-8")
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return publish(staged, path)


def write_case_pages(
    portfolio: Portfolio,
    customer_ids: Iterable[str] | None,
    directory: str | Path,
    as_of: Any = None,
    models: Mapping[str, Any] | Iterable[Any] | None = None,
    config: Config | None = None,
    footer: str = "",
) -> dict[str, Path]:
    """Write the case pages of many customers into ``directory`` (one file each).

    Parameters
    ----------
    portfolio : Portfolio
    customer_ids : iterable of str, optional
        Default: every customer.
    directory : str or Path
        Created if missing; pages are named by :func:`page_name`.
    as_of, models, config
        As in :func:`recovery.report.case_file.case_file`.
    footer : str
        Text under each page.

    Returns
    -------
    dict of str to Path
        Customer → page written.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cases = case_files(portfolio, customer_ids, as_of, models, config)
    return {c: write_case_page(case, directory / page_name(c), footer) for c, case in cases.items()}
