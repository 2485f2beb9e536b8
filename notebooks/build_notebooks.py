"""Write the analyst notebooks and the monthly report template from their source here.

The notebooks are stories: prose (markdown) between short code cells that call only the
public functions and plot functions of ``recovery``. Keeping their source in one script
makes them easy to review and keeps the committed ``.ipynb`` files free of outputs.

Run from the repository root::

    python notebooks/build_notebooks.py          # writes notebooks/*.ipynb and the template
    python notebooks/build_notebooks.py --check  # exit 1 when a written file is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "src" / "recovery" / "templates" / "monthly_report.ipynb"

KERNEL = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def md(text: str):
    return new_markdown_cell(text.strip("\n"))


def code(text: str, tags: list[str] | None = None):
    cell = new_code_cell(text.strip("\n"))
    if tags:
        cell.metadata["tags"] = tags
    return cell


def notebook(cells: list) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells, metadata=dict(KERNEL))
    for i, cell in enumerate(nb.cells):  # stable ids: rebuilding gives identical files
        cell["id"] = f"cell-{i:02d}"
    return nb


# ----------------------------------------------------------------------------- the report


def monthly_report() -> nbformat.NotebookNode:
    """The monthly recovery report template (rendered with code hidden)."""
    return notebook(
        [
            code(
                """
# Parameters (replaced by recovery.report.render_monthly_report)
report_month = "2026-10"
data_path = "data/sample"
model_path = None
config = None
""",
                tags=["parameters"],
            ),
            code(
                """
import warnings

warnings.filterwarnings("ignore")

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import HTML, display

from recovery import report
from recovery.report import section, show_figure, table_html

plt.rcParams.update(report.REPORT_STYLE)
data = report.load_report_data(data_path, report_month, model_path, config)
month_name = report.format_month(data.month)
kpis = None
""",
            ),
            md(
                """
<h2 id="summary">What changed this month</h2>

The notes below are written from the numbers of this report: the headline KPIs against
the previous month (a change counts as material from 0.5 percentage points for rates
and 5% for amounts), the roll rates against their average of the last twelve months,
and the largest movements by segment. Read them first; the sections that follow give
the detail.
"""
            ),
            code(
                """
with section("summary", "The summary of changes"):
    kpis = report.report_kpis(data)
    kpi_table = report.kpi_change_table(kpis, data.month)
    notes = report.change_notes(kpi_table)
    try:
        from recovery.roll_rates import roll_rate_trends

        trends = roll_rate_trends(data.history, config=data.config)
        notes += report.roll_rate_notes(trends, data.month)
    except ImportError:
        pass
    try:
        notes += report.segment_notes(report.segment_movements(data))
    except report.SectionUnavailable:
        pass
    display(HTML(report.notes_html(notes)))
"""
            ),
            md(
                """
<h2 id="kpis">Headline KPIs</h2>

The collection department's measures of seed 004: how much of the book is overdue
(by balance and by accounts), how much of the overdue balance was collected, how much
was recovered on charged-off debt, how many delinquent accounts came back to current,
the amount collected, the average collection cycle and what the collection actions
cost. Each is compared with the previous month and with the same month a year earlier;
green is an improvement, red a deterioration.
"""
            ),
            code(
                """
with section("kpis", "The KPI table"):
    if kpis is None:
        raise report.SectionUnavailable("the KPIs could not be computed")
    text, marks = report.format_kpi_change_table(report.kpi_change_table(kpis, data.month))
    display(HTML(table_html(text, highlight=marks, table_id="kpi-table")))
    from recovery.kpis import plot_kpis

    recent = kpis[pd.to_datetime(kpis["month_end"]) > data.month - pd.DateOffset(months=24)]
    fig, ax = plt.subplots()
    plot_kpis(recent, columns=["overdue_rate_30plus_balance", "overdue_rate_90plus_balance",
                               "cure_rate", "collection_rate"], ax=ax)
    ax.set_title(f"KPIs over the 24 months to {month_name}")
    show_figure(fig)
"""
            ),
            md(
                """
<h2 id="book">The book at month end</h2>

Accounts and outstanding principal by aging bucket (M0 current, M1 1–30 days past due,
M2 31–60, …) and the charged-off recovery book.
"""
            ),
            code(
                """
with section("book", "The book by bucket"):
    book = report.book_by_state(data.history, data.month, data.config)
    display(HTML(table_html(
        book.rename(columns={"state": "Bucket / status", "accounts": "Accounts",
                             "balance": "Balance", "share_of_accounts": "Share of accounts",
                             "share_of_balance": "Share of balance"}),
        {"Balance": "money", "Share of accounts": "pct", "Share of balance": "pct"},
        table_id="book-table",
    )))
"""
            ),
            md(
                """
<h2 id="roll-rates">Roll rates</h2>

Where the accounts of each bucket at the end of last month are now. The diagonal is
*stay*; right of it is *roll forward* (worse, including a skip of buckets), left of it
*roll back* or *cure*; `paid_off`, `settled` and `other_exit` are the accounts that
left the book. The trend shows the roll-forward rate of the early buckets over two
years: a rising line is the first sign of a deteriorating book.
"""
            ),
            code(
                """
with section("roll-rates", "The roll-rate matrix"):
    from recovery.roll_rates import (
        plot_roll_rate_matrix, plot_roll_rate_trends, roll_rate_matrix, roll_rate_trends,
    )

    matrix = roll_rate_matrix(data.history, month=data.previous_month, config=data.config)
    by_balance = roll_rate_matrix(data.history, month=data.previous_month, weight="balance",
                                  config=data.config)
    display(HTML(f"<h3>{report.format_month(data.previous_month)} → {month_name}, by accounts</h3>"))
    fig, ax = plt.subplots(figsize=(10, 5.5))
    plot_roll_rate_matrix(matrix, ax=ax, title=f"Roll rates by accounts into {month_name}")
    show_figure(fig)
    shown = by_balance.copy()
    shown.index.name = "from → to"
    display(HTML(table_html(shown, {c: "pct" for c in shown.columns}, index=True,
                            caption="By balance (share of the balance at the start month)",
                            table_id="roll-rate-table")))
    trends = roll_rate_trends(data.history, config=data.config)
    trends = trends[pd.to_datetime(trends["month_end"]) > data.month - pd.DateOffset(months=25)]
    fig, ax = plt.subplots()
    plot_roll_rate_trends(trends, rate="roll_forward", states=["M0", "M1", "M2", "M3"], ax=ax)
    show_figure(fig)
    fig, ax = plt.subplots()
    plot_roll_rate_trends(trends, rate="cure", states=["M1", "M2", "M3"], ax=ax)
    show_figure(fig)
"""
            ),
            md(
                """
<h2 id="segments">Top movements by segment</h2>

The largest month-on-month changes of the overdue, collection and cure rates by product
and region (segments with fewer than 30 open accounts are left out: their rates move by
chance).
"""
            ),
            code(
                """
with section("segments", "The segment movements"):
    moves = report.segment_movements(data)
    prev_name = report.format_month(data.previous_month)
    shown = pd.DataFrame({
        "Segment": moves["segment_type"] + ": " + moves["segment"],
        "Measure": moves["measure"].map(report.measure_label),
        "Accounts": moves["accounts"],
        prev_name: moves["previous"],
        month_name: moves["value"],
        "Change": moves["change"],
    })
    display(HTML(table_html(shown, {prev_name: "pct", month_name: "pct", "Change": "pp"},
                            table_id="segment-table")))
"""
            ),
            md(
                """
<h2 id="recovery-by-age">Recovery by debt age</h2>

Collectors say that debt under two years old is mostly recovered and debt over two years
old mostly is not. Here that claim is *measured* on the charged-off book: for debt of
each age at a month end, the share of its balance collected over the following recovery
horizon (12 months by default; only month ends with the full horizon of follow-up count,
so the latest months are not in these numbers), with 95% bootstrap intervals over
accounts.
"""
            ),
            code(
                """
with section("recovery-by-age", "Recovery by debt age"):
    from recovery.recovery_curves import age_split_comparison, plot_recovery_by_age, recovery_by_age

    split = age_split_comparison(data.history, data.config, data_end=data.month)
    row = split.iloc[0]
    display(HTML(report.notes_html([
        f"Debt younger than {data.config.analytics.age_split_months} months: "
        f"{report.format_pct(row['recovery_rate_younger'])} of the balance recovered within "
        f"{data.config.analytics.recovery_horizon_months} months; older debt: "
        f"{report.format_pct(row['recovery_rate_older'])} (difference "
        f"{report.format_pp(row['recovery_rate_difference'])}, 95% interval "
        f"{report.format_pp(row['recovery_rate_difference_low'])} to "
        f"{report.format_pp(row['recovery_rate_difference_high'])})."
    ])))
    coarse = recovery_by_age(data.history, data.config, bands="coarse", data_end=data.month)
    display(HTML(table_html(report.recovery_by_age_table(coarse), table_id="recovery-age-table")))
    monthly = recovery_by_age(data.history, data.config, bands="monthly", data_end=data.month)
    fig, ax = plt.subplots()
    plot_recovery_by_age(monthly, ax=ax, split_months=data.config.analytics.age_split_months)
    show_figure(fig)
"""
            ),
            md(
                """
<h2 id="agents">Agents and compliance</h2>

Agent results are compared with what was *expected for the same accounts* (a case-mix
model that does not know the agent), never as a raw league table: senior agents get the
hardest cases. The compliance flags list contacts in the month that broke a contact rule
(hours, frequency, third parties, disputes, deceased debtors, hardship plans, the
limitation period).
"""
            ),
            code(
                """
with section("agents", "The agent table"):
    from recovery.agents import plot_funnel

    fit = report.agent_effectiveness(data)
    display(HTML(report.notes_html([
        f"{report.format_count(len(fit.spells_))} assignment spells started in the 12 months to "
        f"{month_name}; outcome: any payment within {data.config.analytics.agent_window_days} days. "
        "An observed / expected ratio above 1 means better than expected for that case mix; "
        "the adjusted effect is shrunk towards zero for agents with few spells."
    ])))
    display(HTML(table_html(report.agent_table(fit.summary), table_id="agent-table")))
    fig, ax = plt.subplots()
    plot_funnel(fit.summary, ax=ax)
    show_figure(fig)
"""
            ),
            code(
                """
with section("compliance", "The compliance flags"):
    from recovery.compliance import flag_actions

    actions = report.require_table(data, "actions", "the compliance flags")
    flags = flag_actions(actions, data.config, events=data.portfolio.events,
                         schedule=data.portfolio.schedule, payments=data.portfolio.payments)
    display(HTML(report.compliance_summary_html(flags, actions, data.month)))
"""
            ),
            md(
                """
<h2 id="models">Model health</h2>

Are the propensity-to-pay and curability scores still fit for use? *PSI* (population
stability index) compares the score distribution of this month with the one the model
was trained on (below 0.1 stable, 0.1–0.25 watch, above 0.25 investigate). The *latest
matured AUC* measures ranking power on the latest month whose outcomes are fully known.
"""
            ),
            code(
                """
with section("models", "Model health"):
    if data.model_path is None:
        raise report.SectionUnavailable("no model directory was given (--model DIR)")
    health = report.model_health(data)
    display(HTML(report.notes_html(report.model_health_notes(health))))
    display(HTML(table_html(report.format_model_health(health), table_id="model-table")))
"""
            ),
            md(
                """
<h2 id="forecast">Forecast: the next three months</h2>

Balances by bucket projected three months ahead with the average roll rates of the last
twelve months, and the expected remaining collections on the charged-off book.
"""
            ),
            code(
                """
with section("forecast", "The forecast"):
    from recovery.liquidation import plot_erc

    table, erc = report.forecast_summary(data, months_ahead=3)
    display(HTML(table_html(table, table_id="forecast-table")))
    display(HTML(report.notes_html(report.erc_notes(erc, data.config))))
    fig, ax = plt.subplots()
    plot_erc(erc, ax=ax)
    show_figure(fig)
"""
            ),
            md(
                """
<h2 id="about">About this report</h2>

Definitions follow the project's design notes: days past due with oldest-first payment
allocation; buckets M0 current, M1 1–30, M2 31–60, M3 61–90, M4+ over 90 days; charge-off
at 180 days; a cure is a return to current. All figures use only the data known at the
end of the report month. Money is in the book's currency; account IDs only, no personal
data.
"""
            ),
            code(
                """
display(HTML(report.about_html(data)))
"""
            ),
        ]
    )


# ----------------------------------------------------------------------------- main


def outputs() -> dict[Path, nbformat.NotebookNode]:
    return {TEMPLATE: monthly_report()}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for path, nb in outputs().items():
        text = nbformat.writes(nb) + "\n"
        if check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print("out of date: " + ", ".join(str(p.relative_to(ROOT)) for p in stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
