"""Write the analyst notebooks and the monthly report template from their source here.

The notebooks are stories: prose (markdown) between short code cells that call only the
public functions and plot functions of ``recovery``. Keeping their source in one script
makes them easy to review and keeps the committed ``.ipynb`` files free of outputs.

Run from the repository root::

    python notebooks/build_notebooks.py          # writes notebooks/*.ipynb and the template
    python notebooks/build_notebooks.py --check  # exit 1 when a written file is out of date
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "src" / "recovery" / "report" / "templates" / "monthly_report.ipynb"

KERNEL = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def md(text: str):
    return new_markdown_cell(text.strip("\n"))


def _ends_with_plot(text: str) -> bool:
    """True when the cell's last statement is a call of a ``plot_*`` function."""
    try:
        body = ast.parse(text).body
    except SyntaxError:
        return False
    last = body[-1] if body else None
    if not isinstance(last, ast.Expr) or not isinstance(last.value, ast.Call):
        return False
    func = last.value.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name.startswith("plot_") and not text.rstrip().endswith(";")


def code(text: str, tags: list[str] | None = None):
    text = text.strip("\n")
    if _ends_with_plot(text):
        text += ";"  # show the chart, not the repr of its Axes
    cell = new_code_cell(text)
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
from recovery.errors import RecoveryError
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

The notes below are written from the numbers of this report: the headline KPIs, the
roll rates and the rates by segment, each against the month before. Every KPI moves a
little every month by chance alone, so a change is called **unusual** only when it falls
outside the KPI's normal variation (see *About this report*); anything inside is
*within normal variation* and is not news. Read them first; the sections that follow
give the detail.
"""
            ),
            code(
                """
with section("summary", "The summary of changes"):
    kpis = report.report_kpis(data)
    moments = report.report_moments(data)
    kpi_table = report.kpi_change_table(kpis, data.month, moments=moments, config=data.config)
    few = data.config.analytics.few_accounts
    display(HTML(report.kpi_cards_html(kpi_table, few_accounts=few)))
    display(HTML('<h3 class="notes-head">Headline KPIs</h3>'))
    display(HTML(report.notes_html(report.change_notes(kpi_table, config=data.config))))
    try:
        from recovery.analytics.roll_rates import roll_rate_trends

        trends = roll_rate_trends(data.history, config=data.config)
        display(HTML('<h3 class="notes-head">Roll rates</h3>'))
        display(HTML(report.notes_html(
            report.roll_rate_notes(trends, data.month, config=data.config))))
    except ImportError:
        pass
    try:
        moves = report.segment_notes(report.segment_movements(data, top=4))
        if moves:
            display(HTML('<h3 class="notes-head">Segments</h3>'))
            display(HTML(report.notes_html(moves)))
    except report.SectionUnavailable:
        pass
"""
            ),
            md(
                """
<h2 id="kpis">Headline KPIs</h2>

The measures a collection department is judged by: how much of the book is overdue
(by balance and by accounts), how much of the overdue balance was collected, how much
was recovered on charged-off debt, how many delinquent accounts came back to current,
the amount collected, the average collection cycle and what the collection actions
cost. Each is compared with the previous month, judged against its normal variation,
and shown beside the same month a year earlier; only an unusual change is coloured,
green an improvement, red a deterioration.
"""
            ),
            code(
                """
with section("kpis", "The KPI table"):
    if kpis is None:
        raise report.SectionUnavailable("the KPIs could not be computed")
    text, marks = report.format_kpi_change_table(kpi_table)
    display(HTML(table_html(text, highlight=marks, table_id="kpi-table")))
    from recovery.analytics.kpis import plot_kpis

    recent = kpis[pd.to_datetime(kpis["month_end"]) > data.month - pd.DateOffset(months=24)]
    fig, ax = plt.subplots()
    shown = ["overdue_rate_30plus_balance", "overdue_rate_90plus_balance", "cure_rate",
             "collection_rate"]
    if "overdue_rate_30plus_balance" not in recent:  # no balances: the shares of accounts
        shown = ["overdue_rate_30plus", "overdue_rate_90plus", "cure_rate"]
    plot_kpis(recent, columns=[c for c in shown if c in recent], ax=ax)
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
    from recovery.analytics.common import in_words

    book = report.book_by_state(data.history, data.month, data.config)
    book["state"] = book["state"].map(in_words)
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
*roll back* or *cure*; *paid off*, *settled* and *other exit* are the accounts that
left the book. The trend shows the roll-forward rate of the early buckets over two
years: a rising line is the first sign of a deteriorating book.
"""
            ),
            code(
                """
with section("roll-rates", "The roll-rate matrix"):
    from recovery.analytics.roll_rates import (
        plot_roll_rate_matrix, plot_roll_rate_trends, roll_rate_matrix, roll_rate_trends,
    )

    matrix = roll_rate_matrix(data.history, month=data.previous_month, config=data.config)
    display(HTML(f"<h3>{report.format_month(data.previous_month)} → {month_name}, by accounts</h3>"))
    fig, ax = plt.subplots(figsize=(10, 5.5))
    plot_roll_rate_matrix(matrix, ax=ax, title=f"Roll rates by accounts into {month_name}")
    show_figure(fig)
    from recovery.analytics.common import in_words

    with section("roll-rates-balance", "The roll-rate table by balance"):
        by_balance = roll_rate_matrix(data.history, month=data.previous_month, weight="balance",
                                      config=data.config)
        shown = by_balance.rename(index=in_words, columns=in_words)
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

The month-on-month changes of the overdue, collection and cure rates by product and
region, each judged against the segment's own normal variation: unusual changes first,
the furthest outside first (segments with fewer than 30 accounts behind a rate are left
out).
"""
            ),
            code(
                """
with section("segments", "The segment movements"):
    moves = report.segment_movements(data)
    display(HTML(table_html(report.segment_table(moves, data.month), table_id="segment-table")))
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
accounts. Recovery by debt age is a ratio of balances: a band of fewer than 30 accounts
shows its figure with "too few accounts" instead of an interval.
"""
            ),
            code(
                """
with section("recovery-by-age", "Recovery by debt age"):
    from recovery.analytics.recovery_curves import age_split_comparison, plot_recovery_by_age, recovery_by_age

    try:  # first: the charged-off debt's observations are part of the delinquent debt's
        delinquent = age_split_comparison(data.history, data.config, scope="delinquent",
                                          data_end=data.month)
    except RecoveryError:  # no all-delinquent debt with full follow-up
        delinquent = None
    split = age_split_comparison(data.history, data.config, data_end=data.month)
    row = split.iloc[0]
    horizon = data.config.analytics.recovery_horizon_months
    verdict = ("the interval excludes zero: on this book, age matters"
               if row["recovery_rate_difference_low"] > 0 or row["recovery_rate_difference_high"] < 0
               else "the interval includes zero: no age effect can be told apart from chance")
    display(HTML(report.notes_html([
        f"Charged-off debt younger than {data.config.analytics.age_split_months} months: "
        f"{report.format_pct(row['recovery_rate_younger'])} of the balance recovered within "
        f"{horizon} months; older debt: {report.format_pct(row['recovery_rate_older'])} "
        f"(difference {report.format_pp(row['recovery_rate_difference'])}, 95% interval "
        + report.format_interval(row["recovery_rate_difference_low"],
                                 row["recovery_rate_difference_high"], report.format_pp)
        + f"); {verdict}."
    ])))
    both = split if delinquent is None else pd.concat([split, delinquent])
    display(HTML(table_html(report.age_split_table(both), table_id="age-split-table")))
    few = data.config.analytics.few_accounts
    coarse = recovery_by_age(data.history, data.config, bands="coarse", data_end=data.month,
                             min_accounts=few)
    display(HTML(table_html(report.recovery_by_age_table(coarse, min_accounts=few),
                            table_id="recovery-age-table")))
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
hardest cases. An agent is ranked only once enough of its measured difference is real
rather than chance (its *reliability*); the others are listed as not having enough data
yet. The compliance flags list contacts in the month that broke a contact rule (hours,
frequency, third parties, disputes, deceased debtors, hardship plans, the limitation
period).
"""
            ),
            code(
                """
with section("agents", "The agent comparison"):
    from recovery.operations.agent_plots import plot_effect_funnel

    fit = report.agent_effectiveness(data.portfolio, data.month, data.config)
    comparison = report.compare_agents(fit, data.config)
    display(HTML(report.notes_html(report.agent_notes(comparison, data.month))))
    if len(comparison.ranked):
        fig, ax = plt.subplots()
        plot_effect_funnel(fit.summary, ax=ax, reliable=comparison.ranked["agent_id"])
        show_figure(fig, alt="Funnel plot: each agent's payments against expectation, relative "
                    "to peers, by spell-months worked, with 95% and 99.8% control limits")
        display(HTML(table_html(report.ranked_agent_table(comparison), table_id="agent-table")))
    if len(comparison.waiting):
        display(HTML(table_html(report.waiting_agent_table(comparison),
                                caption="Not enough data yet", table_id="agent-waiting-table")))
"""
            ),
            code(
                """
with section("activity", "The agents' activity"):
    report.require_table(data, "actions", "the agents' activity")
    activity = report.activity_table(data.portfolio, data.month, data.config)
    display(HTML(table_html(activity, caption=f"Activity in {month_name}",
                            table_id="activity-table")))
"""
            ),
            code(
                """
with section("compliance", "The compliance flags"):
    from recovery.operations.compliance import flag_actions

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
    from recovery.analytics.liquidation import plot_erc

    table, erc = report.forecast_summary(data, months_ahead=3)
    display(HTML(table_html(table, table_id="forecast-table")))
    for warning in table.attrs.get("notes", []):  # the forecast's health
        display(HTML(report.note_html(warning, kind="warning")))
    if erc is None:
        display(HTML(report.note_html("No charged-off debt yet: no recoveries are forecast.")))
    else:
        display(HTML(report.notes_html(report.erc_notes(erc, data.config))))
        fig, ax = plt.subplots()
        plot_erc(erc, ax=ax)
        show_figure(fig)
"""
            ),
            code(
                """
from recovery.report import offers as offer_section

if offer_section.has_offers(data):  # only a book with an offers table has this section
    display(HTML(
        '<h2 id="offers">Offers and plans</h2>'
        "<p>Payment plans, settlements and deferrals offered to borrowers: how many were "
        "made and accepted this month, how many accepted offers were kept to the end or "
        "broken, and what the accounts under an offer paid against what they were expected "
        "to pay without one.</p>"
    ))
    with section("offers", "Offers and plans"):
        counts, value = offer_section.offers_month(
            data.portfolio, data.history, data.month, data.config
        )
        display(HTML(report.notes_html(offer_section.offers_notes(counts, value, month_name))))
        display(HTML(table_html(offer_section.offers_table(counts), table_id="offers-table")))
"""
            ),
            md(
                """
<h2 id="about">About this report</h2>

Days past due count from the oldest unpaid installment, payments paying the oldest amount
first; buckets M0 current, M1 1–30, M2 31–60, M3 61–90, M4+ over 90 days; charge-off at
180 days; a cure is a return to current. All figures use only the data known at the end
of the report month. Money is in the book's currency; account IDs only, no personal data.
"""
            ),
            code(
                """
display(HTML(report.notes_html([report.method_paragraph(data.config)])))
display(HTML(report.about_html(data)))
"""
            ),
        ]
    )


# ----------------------------------------------------------------------------- notebooks

PARAMETERS = """
# Parameters: "sample" is the committed book (about 2,000 loans, seconds to run);
# "demo" simulates a 20,000-loan book on first use (a few minutes) for clearer signal.
sample = "sample"
"""

SETUP = """
import matplotlib.pyplot as plt
import pandas as pd

import recovery
from recovery.datasets import load_sample
from recovery.timeline.aging import snapshots as build_snapshots

pd.set_option("display.precision", 3)
portfolio = load_sample(sample)
config = recovery.Config()
snapshots = build_snapshots(portfolio, config=config)
last_month = snapshots["month_end"].max()
print(portfolio)
print(f"{len(snapshots):,} account-months from {snapshots['month_end'].min():%Y-%m} to {last_month:%Y-%m}")
"""


def story(title: str, intro: str, cells: list) -> nbformat.NotebookNode:
    return notebook(
        [
            md(f"# {title}\n\n{intro.strip()}"),
            code(PARAMETERS, tags=["parameters"]),
            code(SETUP),
            *cells,
        ]
    )


def portfolio_overview() -> nbformat.NotebookNode:
    return story(
        "01 · Portfolio overview",
        """
A first look at a lender's book: what was lent, how much is outstanding, how it is spread
over the aging buckets, how each origination cohort (vintage) went bad over time, and
the collection KPIs month by month. Everything here is computed from the event tables
(schedule, payments, collection actions) by the library; the notebook only calls it.

**Reading guide.** Start with the book by bucket (where the balance is today), then the
vintages (is credit quality of new loans getting worse?), then the KPIs (is collection
keeping up?).
""",
        [
            md(
                """
## The data

`load_sample()` returns a `Portfolio`: one DataFrame per table of the data contract,
validated on load. The month-end `snapshots` (DPD, bucket, balance, status per account
and month) are derived from the schedule and the payments by `recovery.timeline.aging.snapshots`,
with oldest-first payment allocation.
"""
            ),
            code(
                """
from recovery.data.schema import validate_portfolio

problems = validate_portfolio(portfolio, config)
print("contract problems:", len(problems))
portfolio.accounts.head()
"""
            ),
            md(
                """
## The book at the last month end

Accounts and outstanding principal by state: the aging buckets (M0 current, M1 1–30 days
past due, M2 31–60, …) of the open book, and the charged-off recovery book. Look at the
share of *balance* in M2 and worse: that is the money at risk of charge-off.
"""
            ),
            code(
                """
from recovery.report import book_by_state, format_table

book = book_by_state(snapshots, last_month, config)
format_table(book, {"balance": "money", "share_of_accounts": "pct", "share_of_balance": "pct"})
"""
            ),
            md(
                """
## Vintages

A vintage curve follows one origination cohort: the share of its loans that were ever
30+ days past due by months on book. Later vintages lying above earlier ones mean newer
loans go bad faster (looser underwriting, or a worse economy). Yearly cohorts keep the
picture readable.
"""
            ),
            code(
                """
from recovery.analytics.vintages import plot_vintage_curves, vintage_curves

vintages = vintage_curves(snapshots, portfolio.accounts, config=config, cohort="year")
fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
plot_vintage_curves(vintages, metric="ever_30plus", ax=axes[0])
plot_vintage_curves(vintages, metric="ever_charged_off", ax=axes[1])
fig.tight_layout()
"""
            ),
            md(
                """
## Collection KPIs month by month

`monthly_kpis` gives the headline measures of the collection department: overdue rates
(30+ and 90+ DPD, by count and balance), collection rate (collected / overdue balance at
the start of the month), recovery on charged-off debt, cure rate and, with the actions
table, the cost of collection. The monthly report shows the same table for one month
against the previous month and a year earlier.
"""
            ),
            code(
                """
from recovery.analytics.kpis import monthly_kpis, plot_kpis

kpis = monthly_kpis(snapshots, config=config, actions=portfolio.actions)
columns = ["month_end", "open_accounts", "overdue_rate_30plus_balance", "overdue_rate_90plus_balance",
           "collection_rate", "cure_rate", "amount_collected"]
kpis[[c for c in columns if c in kpis]].tail(12)
"""
            ),
            code(
                """
fig, ax = plt.subplots(figsize=(10, 4.5))
plot_kpis(kpis[kpis["month_end"] > last_month - pd.DateOffset(years=3)],
          columns=["overdue_rate_30plus_balance", "overdue_rate_90plus_balance", "cure_rate"], ax=ax)
"""
            ),
            md(
                """
## How long does collection take?

The average collection cycle is the time from the start of a delinquency episode to its
cure or payoff. Charge-off is a *competing* outcome and open episodes are *censored*, so
a naive average of finished episodes would be too short; `collection_cycle` uses the
Aalen–Johansen estimate instead.
"""
            ),
            code(
                """
from recovery.analytics.collection_cycle import (
    collection_cycle,
    collection_cycle_curves,
    plot_collection_cycle,
)
from recovery.timeline.aging import episodes as build_episodes

episodes = build_episodes(portfolio, config=config)
display(collection_cycle(episodes, data_end=portfolio.data_end))
fig, ax = plt.subplots(figsize=(8, 4))
plot_collection_cycle(collection_cycle_curves(episodes, data_end=portfolio.data_end), ax=ax)
"""
            ),
            md(
                """
## One customer's file

Behind every number above are customers. `recovery.case_file` gathers everything about
one of them as it was known on a day — every account's dues, payments and returns,
contacts and their outcomes, promises kept or broken, agent spells, restructures,
charge-off — on one timeline with each account's DPD that day, and says what the
strategy recommends and how many contacts the rules still allow. Here: the first
customer whose debt was charged off, as known at the last month end.
`recovery casefile PATH --customer ID --out page.html` writes the same as a page.
"""
            ),
            code(
                """
from recovery.report.case_page import case_figure, summary_sentences

charged = episodes.loc[episodes["end_reason"] == "charged_off", "account_id"].iloc[0]
case = recovery.case_file(portfolio, account_id=charged, as_of=last_month, config=config)
print("\\n".join(summary_sentences(case)))
case_figure(case)
"""
            ),
            code(
                """
case.timeline[["date", "account_id", "event", "detail", "dpd", "balance"]].tail(12)
"""
            ),
            md(
                """
## What next

* `02_roll_rates` — how accounts move between buckets month to month;
* `03_recovery_by_debt_age` — does old debt really stop paying after two years?
* the monthly report (`recovery report PATH --month YYYY-MM`) puts these numbers in front
  of a collection manager.
"""
            ),
        ],
    )


def roll_rates() -> nbformat.NotebookNode:
    return story(
        "02 · Roll rates",
        """
Roll rates are the collection department's transition matrix: of the accounts in
bucket *i* at one month end, the share in state *j* at the next. They show where
delinquency is heading before it reaches charge-off, and they are the basis of the
roll-rate forecast (`06_recovery_forecast`).

**Reading guide.** Row M1 of the matrix answers "of last month's early delinquents, how
many cured, stayed or rolled forward?". The trends show whether roll-forward is rising
(bad) and whether cures are falling (bad). Net flow rates give the pool view used for
loss projection.
""",
        [
            md(
                """
## The matrix, by accounts and by balance

States are the buckets of open accounts plus `charged_off`, `paid_off`, `settled` and
`other_exit` (so counts reconcile); `new` is the row of accounts entering the book.
Month-end buckets can skip (an account that never pays reads 30, 60, 91 DPD at
consecutive month ends), so *roll forward* means any worse bucket. Pooling the last
twelve months steadies the rates of the thin late buckets.
"""
            ),
            code(
                """
from recovery.analytics.roll_rates import plot_roll_rate_matrix, roll_rate_matrix

start = last_month - pd.DateOffset(months=12)
by_count = roll_rate_matrix(snapshots, start=start, config=config)
by_balance = roll_rate_matrix(snapshots, start=start, weight="balance", config=config)
fig, axes = plt.subplots(1, 2, figsize=(16, 5.5))
plot_roll_rate_matrix(by_count, ax=axes[0], title="By accounts, last 12 months pooled")
plot_roll_rate_matrix(by_balance, ax=axes[1], title="By balance, last 12 months pooled")
fig.tight_layout()
"""
            ),
            code(
                """
# every row of a rate matrix sums to 1: nobody is lost between month ends
by_count.sum(axis=1).round(6).unique()
"""
            ),
            md(
                """
## Roll-forward and cure trends

One line per bucket over time. A single month can jump on a small book; look for runs
of several months in the same direction.
"""
            ),
            code(
                """
from recovery.analytics.roll_rates import plot_roll_rate_trends, roll_rate_trends

trends = roll_rate_trends(snapshots, config=config)
recent = trends[trends["month_end"] > last_month - pd.DateOffset(years=3)]
fig, axes = plt.subplots(1, 2, figsize=(15, 4.5))
plot_roll_rate_trends(recent, rate="roll_forward", states=["M0", "M1", "M2", "M3"], ax=axes[0])
plot_roll_rate_trends(recent, rate="cure", states=["M1", "M2", "M3"], ax=axes[1])
fig.tight_layout()
"""
            ),
            md(
                """
## Net flow rates

Balance in bucket *i + 1* this month over balance in bucket *i* last month: a pool ratio
that does not follow accounts. Chained from M0 it gives the share of current balance that
will flow through to charge-off — the classic loss-projection view.
"""
            ),
            code(
                """
from recovery.analytics.roll_rates import flow_rates, plot_flow_rates

flows = flow_rates(snapshots, config=config)
fig, ax = plt.subplots(figsize=(10, 4.5))
plot_flow_rates(flows[flows["month_end"] > last_month - pd.DateOffset(years=3)], ax=ax)
"""
            ),
            md(
                """
## Segments

The same matrix by product: small-business loans and consumer loans rarely behave alike,
and a portfolio average hides it.
"""
            ),
            code(
                """
segmented = roll_rate_matrix(snapshots, start=start, config=config, segment="product",
                             accounts=portfolio.accounts)
segmented[[c for c in ["M0", "M1", "M2", "M3", "charged_off", "paid_off"] if c in segmented]].round(3)
"""
            ),
        ],
    )


def recovery_by_debt_age() -> nbformat.NotebookNode:
    return story(
        "03 · Recovery by debt age",
        """
Collectors say: *"debts over 2 years old: only 20% can be recovered; debts under 2
years: 80%"*. This notebook measures that claim on the book instead of assuming it.

**Definitions.** The *debt age* of an account at a month end is the time since its
delinquency episode started (partial payments do not make a debt younger). For debt of
each age, the *recovery rate* is the share of its outstanding balance collected within
the following 12 months (the recovery horizon), capped at 100%; the *payer rate* is the
share of such debts with any qualifying payment.

**Censoring.** A debt observed four months before the end of the data has not had twelve
months to pay. Counting its missing months as "nothing collected" would bias every band
down, and the recent ones most. So only month ends with the full horizon of follow-up
are used; the lifetime curves further down link months instead.
""",
        [
            md(
                """
## Recovery rate by debt age

The headline is the charged-off book (the recovery book). The all-delinquent view sits
beside it: pooling early self-cures with charged-off debt makes young debt look better
for the wrong reason. Bands are 95% bootstrap intervals over *accounts* (an account
contributes several overlapping account-months, so rows are not independent).
"""
            ),
            code(
                """
from recovery.analytics.recovery_curves import plot_recovery_by_age, recovery_by_age

charged = recovery_by_age(snapshots, config, scope="charged_off", bands="monthly")
delinquent = recovery_by_age(snapshots, config, scope="delinquent", bands="monthly")
fig, ax = plt.subplots(figsize=(10, 4.5))
plot_recovery_by_age(pd.concat([charged, delinquent]), ax=ax, split_months=24)
"""
            ),
            code(
                """
coarse = recovery_by_age(snapshots, config, scope="charged_off", bands="coarse")
coarse[["age_band", "n_accounts", "n_debts", "recovery_rate", "recovery_rate_low",
        "recovery_rate_high", "payer_rate"]]
"""
            ),
            md(
                """
## The 2-year comparison, with its uncertainty

Younger than 24 months against 24 months and older: the difference and the ratio, each
with a bootstrap interval (the same resample for both sides). If the interval of the
difference excludes zero, the age effect is real on this book — whatever its size.
"""
            ),
            code(
                """
from recovery.analytics.recovery_curves import age_split_comparison

split = age_split_comparison(snapshots, config, scope="charged_off")
split.T
"""
            ),
            md(
                """
## Is it age, or is it amount?

Older debts are often larger. Within balance bands (quartiles), does the age effect
survive? If it does, age matters in its own right; if it vanishes, the seed's rule is
really about amount.
"""
            ),
            code(
                """
by_amount = age_split_comparison(snapshots, config, scope="charged_off", by="amount_band")
by_amount[["amount_band", "recovery_rate_younger", "recovery_rate_older",
           "recovery_rate_difference", "recovery_rate_difference_low",
           "recovery_rate_difference_high"]]
"""
            ),
            md(
                """
## Lifetime view: cumulative recovery by age at placement

The seed's 80/20 reads like a *lifetime* figure. Each curve follows debts placed at a
given age and cumulates what they paid month after month (months are linked so censored
placements inform the early months without biasing later ones).
"""
            ),
            code(
                """
from recovery.analytics.recovery_curves import (
    cumulative_recovery_curves,
    plot_cumulative_recovery_curves,
)

curves = cumulative_recovery_curves(snapshots, config, scope="charged_off", max_months=48)
fig, ax = plt.subplots(figsize=(10, 4.5))
plot_cumulative_recovery_curves(curves, ax=ax)
"""
            ),
            md(
                """
## Against the truth (simulated data only)

The sample is simulated, so the true recovery by age behind it is known. A real book has
no such table: this cell only checks that the measurement recovers what was simulated.
"""
            ),
            code(
                """
from recovery.datasets import load_sample_truth

truth = load_sample_truth(sample)
truth.recovery_by_age.head(12)
"""
            ),
        ],
    )


def propensity_and_curability() -> nbformat.NotebookNode:
    return story(
        "04 · Propensity to pay and curability",
        """
Which overdue accounts will pay in the next 30 days (`p_pay`), and which will come back
to current and stay there for 60 days (`p_cure`)? This notebook trains both scorers on
point-in-time features, validates them **out of time** (later months than the training
months, with a gap of one label horizon so no training label sees the test period),
checks calibration, explains single scores with reason codes, and turns the scores into
a recommended action per account and daily work lists.

**Why out of time.** A random split would put the same month on both sides and flatter
the model; the question a collection manager asks is how it does *next* month.
""",
        [
            md(
                """
## Features and labels

For every account overdue at a month end: features computed only from what was known
that day (aging, payment and contact history, promises kept and broken, account
attributes) and the labels from what happened afterwards. Here the last 24 month ends
keep the notebook quick (`sample = "demo"` and more months give steadier numbers).
"""
            ),
            code(
                """
from recovery.models.training import build_model_frame, month_ends
from recovery.timeline.catalogue import feature_names

dates = month_ends(portfolio)[-24:]
frame = build_model_frame(portfolio, dates, config)
features = [c for c in feature_names(config) if c in frame.columns]
print(f"{len(frame):,} overdue account-months, {len(features)} features")
frame[["p_pay", "p_cure"]].mean()
"""
            ),
            md(
                """
## Train LightGBM and the logistic baseline, test out of time

The last six labelled months are the test; the baseline tells whether the boosted trees
earn their complexity. AUC ranks (0.5 is chance), KS separates, ECE and Brier check the
probabilities themselves.
"""
            ),
            code(
                """
from sklearn.linear_model import LogisticRegression

from recovery.models import Scorer
from recovery.models.training import train_and_evaluate

results, rows = {}, []
for target in ("p_pay", "p_cure"):
    for name, estimator in (("lightgbm", None), ("logistic", LogisticRegression(max_iter=2000))):
        scorer = Scorer(estimator, target=target, features=features, config=config)
        result = train_and_evaluate(frame, target, test_months=6, scorer=scorer, config=config)
        results[target, name] = result
        rows.append({"target": target, "model": name, **{k: result.metrics.get(k) for k in ("n", "auc", "ks", "ece", "brier")}})
pd.DataFrame(rows)
"""
            ),
            md(
                """
## Ranking, calibration and lift of p_pay

A calibrated score means "0.3" is paid by 30% of such accounts — what the expected
collection of a work list relies on. The lift chart shows how much the top deciles
concentrate the payers: the collector's "easy cases first" (先易后难), measured.
"""
            ),
            code(
                """
from recovery.models import plot_calibration, plot_lift, plot_roc

test = results["p_pay", "lightgbm"].test
fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
plot_roc(test["p_pay"], test["score"], ax=axes[0])
plot_calibration(test["p_pay"], test["score"], ax=axes[1])
plot_lift(test["p_pay"], test["score"], ax=axes[2])
fig.tight_layout()
"""
            ),
            code(
                """
from recovery.models import plot_importance

scorer = results["p_pay", "lightgbm"].scorer
fig, ax = plt.subplots(figsize=(9, 5))
plot_importance(scorer.feature_importance(), top=12, ax=ax)
"""
            ),
            md(
                """
## Reasons for single scores

Each score comes with the features that pushed it up or down most (from the model's
feature contributions), in words a collector can use on the phone.
"""
            ),
            code(
                """
scorer.explain(test.head(5), top=3)
"""
            ),
            md(
                """
## From scores to actions: strategy mix and work lists

At the last month end every overdue account is scored; the policy table (bucket × score
bands × balance × stage) recommends one action, after compliance suppressions (open
dispute, reported death, hardship plan, expired limitation period, contact caps). The
work lists rank each agent's accounts by expected net value within capacity.
"""
            ),
            code(
                """
from recovery.models.scores import score_table
from recovery.operations.strategy import build_worklists, recommend
from recovery.timeline.features import build_features

amount = train_and_evaluate(frame, "amount", test_months=6, scorer=Scorer(target="amount", features=features, config=config), config=config).scorer
models = {"p_pay": results["p_pay", "lightgbm"].scorer, "p_cure": results["p_cure", "lightgbm"].scorer, "amount": amount}
current = build_features(portfolio, [last_month], config)
scores = score_table(current, models)
now = snapshots[snapshots["month_end"] == last_month][["account_id", "bucket", "status", "balance"]]
state = scores.merge(now, on="account_id", how="left")
recommendations = recommend(state, config=config)
recommendations["action"].value_counts().rename("accounts").to_frame()
"""
            ),
            code(
                """
worklists = build_worklists(recommendations, portfolio.agents, last_month + pd.Timedelta(days=1), config)
worklists.head(10)
"""
            ),
        ],
    )


def agent_effectiveness() -> nbformat.NotebookNode:
    return story(
        "05 · Agent effectiveness",
        """
Who collects well? A raw league table answers the wrong question: senior agents get the
hardest cases, so their raw success rate looks worse. Here each month an agent held an
account (the first two months of each assignment spell) is compared with what was
*expected for the same account* from a case-mix model that does not know the agent, in
the months the agent talked with the borrower; per agent the observed / expected ratio,
its confidence interval, an empirical-Bayes shrunk effect (few spells → pulled towards
zero), its reliability (the share of the measured difference that is real) and a verdict
corrected for multiple comparisons.

This is observational: only randomised assignment makes an effect causal.
""",
        [
            md(
                """
## Naive vs case-mix adjusted

The case mix is each account's point-in-time features on the day before its spell
started (with the month of the spell and whether the agent talked with the borrower),
turned into an expected outcome out of fold (an account's spells share a fold).
"""
            ),
            code(
                """
from recovery.report import agent_effectiveness

fit = agent_effectiveness(portfolio, last_month, config, window_months=36, min_spells=20)
columns = ["agent_id", "team", "spells", "rows", "naive_rate", "o_e_ratio", "o_e_low",
           "o_e_high", "reliability", "shrunk_effect", "verdict", "rank_naive", "rank_adjusted"]
fit.summary[columns]
"""
            ),
            md(
                """
## How much the ranking changes

Lines that cross are agents whose naive rank misleads: high raw rates on easy cases, or
low raw rates on hard ones.
"""
            ),
            code(
                """
from recovery.operations.agent_plots import plot_effects, plot_funnel, plot_rank_comparison

fig, axes = plt.subplots(1, 2, figsize=(14, 5))
plot_rank_comparison(fit.summary, ax=axes[0])
plot_effects(fit.summary, ax=axes[1])
fig.tight_layout()
"""
            ),
            md(
                """
## Funnel plot

Observed / expected against the number of expected payers: agents inside the funnel are
indistinguishable from average at their volume. Only points outside the outer limits
deserve a conversation — and a look at their cases first.
"""
            ),
            code(
                """
fig, ax = plt.subplots(figsize=(9, 5))
plot_funnel(fit.summary, ax=ax)
"""
            ),
            md(
                """
## Activity

Contacts, right-party contacts, promises and kept promises per agent: the work behind
the outcomes.
"""
            ),
            code(
                """
from recovery.operations.activity import activity_kpis

activity_kpis(portfolio, config).head(12)
"""
            ),
            md(
                """
## Compliance

Every action is checked against the contact rules (allowed hours, attempts per day and
week, third-party contacts, contact after a dispute or a reported death or during a
hardship plan, legal action after the limitation period). Compliance comes first: an
agent who collects well by breaking rules is not a good agent.
"""
            ),
            code(
                """
from recovery.operations.agent_plots import plot_compliance_heatmap
from recovery.operations.compliance import flag_actions, violations_by_agent

flags = flag_actions(portfolio.actions, config, events=portfolio.events,
                     schedule=portfolio.schedule, payments=portfolio.payments)
print(f"{flags['action_id'].nunique():,} of {len(portfolio.actions):,} actions flagged")
by_agent = violations_by_agent(flags, portfolio.actions)
fig, ax = plt.subplots(figsize=(10, 5))
plot_compliance_heatmap(by_agent, ax=ax)
"""
            ),
        ],
    )


def recovery_forecast() -> nbformat.NotebookNode:
    return story(
        "06 · Recovery forecast",
        """
Two forecasts a collection department needs: how the delinquent book will develop over
the next months (a roll-rate, i.e. Markov, forecast) and how much the charged-off book
will still bring in (liquidation curves and expected remaining collections, ERC). Both
are only as good as their backtests: each is refitted on the data up to an earlier
month and compared with what happened next.
""",
        [
            md(
                """
## Roll-rate forecast of the delinquent book

Counts and balances by bucket are pushed forward with the pooled transition matrix of
the last twelve months (balances by the same roll rates weighted by balance, growing by
a capped factor while overdue), plus an explicit assumption on new delinquencies
(inflow from the current book). Charge-offs are the flows into `charged_off`;
recoveries come from the ERC model below. `summary()` shows the forecast's health: a
spectral radius below 1 means the book, left alone, shrinks.
"""
            ),
            code(
                """
from recovery.analytics.forecast import RollRateForecaster
from recovery.analytics.liquidation import ERCForecaster

forecaster = RollRateForecaster(lookback_months=12, recoveries=ERCForecaster(config=config), config=config)
forecaster.fit(snapshots)
forecaster.predict_totals(6)
"""
            ),
            code(
                """
forecaster.summary()
"""
            ),
            md(
                """
## Backtest: how wrong were past forecasts?

Every month end with enough history is a forecast origin; forecasts 1–6 months ahead are
compared with the actuals. MAPE is the typical size of the error, bias its direction
(positive = the forecast was too high).
"""
            ),
            code(
                """
from recovery.analytics.backtest import backtest_roll_rate, forecast_errors, plot_backtest

origins = pd.date_range(end=last_month - pd.offsets.MonthEnd(6), periods=8, freq="ME")
backtest = backtest_roll_rate(snapshots, origins=origins, months_ahead=6, config=config, lookback_months=12)
errors = forecast_errors(backtest)
errors[(errors["subset"] == "all") & errors["measure"].isin(["delinquent_balance", "gross_charge_off_balance"])]
"""
            ),
            code(
                """
fig, ax = plt.subplots(figsize=(10, 4.5))
plot_backtest(backtest, measure="delinquent_balance", horizon=3, ax=ax)
"""
            ),
            md(
                """
## Liquidation curves

For each charge-off cohort (month of charge-off), the cumulative share of the charged-off
balance recovered by months since charge-off. Zeros are kept as zeros: a month without
recoveries is information, not missing data.
"""
            ),
            code(
                """
from recovery.analytics.liquidation import liquidation_curves, plot_liquidation_curves

curves = liquidation_curves(snapshots, config)
fig, ax = plt.subplots(figsize=(10, 4.5))
plot_liquidation_curves(curves, ax=ax, every=6)
"""
            ),
            md(
                """
## Expected remaining collections

Each cohort's curve is projected to the horizon (84 months by default) with a tail. The
range is a prediction interval: a bootstrap over accounts plus the randomness of the
payments still to come; the book's total range is taken from the summed replicates (a
sum of per-cohort bounds would overstate it).
"""
            ),
            code(
                """
from recovery.analytics.liquidation import plot_erc

erc = ERCForecaster(config=config).fit(snapshots)
low, high = erc.total_erc_range_  # quantiles of the summed bootstrap replicates
print(f"ERC {erc.summary()['erc'].sum():,.0f} (range {low:,.0f} to {high:,.0f})")
fig, ax = plt.subplots(figsize=(11, 4.5))
plot_erc(erc, ax=ax)
"""
            ),
            code(
                """
from recovery.analytics.backtest import backtest_erc

erc_backtest = backtest_erc(snapshots, origins=origins, months_ahead=6, config=config)
forecast_errors(erc_backtest).query("subset == 'all'")
"""
            ),
        ],
    )


def offers() -> nbformat.NotebookNode:
    return notebook(
        [
            md(
                """
# 07 · Offers: which offer for which account

Payment plans, settlements and deferrals: for each overdue or charged-off account, offer
nothing, a plan (how long), or a settlement (at what discount)? And what is each worth
against collecting as usual? This notebook learns how borrowers answered the lender's past
offers, values every candidate offer over 24 months against collecting as usual, picks
the best one within the lender's rules, and estimates from the offer history what the
recommendation would have collected.

It runs on the `offers` sample: a simulated book whose lender made offers by a default
rule (deeper discounts for older debt) and, on a randomised share of accounts, at random
terms — the data needed to learn how acceptance responds to the discount.
"""
            ),
            code(
                """
# Parameters: "offers" simulates a 3,000-loan book with an offer history on first use
# (seconds); any portfolio with an offers table works.
sample = "offers"
""",
                tags=["parameters"],
            ),
            code(SETUP),
            md(
                """
## The offer history

Each offer with the account's state the day before it was made (stage, debt age,
balance, regular installment, payments made, earlier re-ages): what the lender knew.
`randomized` marks the offers whose terms were drawn at random, and
`assignment_probability` the chance of the terms chosen.
"""
            ),
            code(
                """
from recovery.operations.offer_book import fit_offer_model, fit_usual, offer_history

day = last_month + pd.Timedelta(days=1)
history = offer_history(portfolio, day, config)
history.groupby(["kind", "randomized"]).agg(
    offers=("offer_id", "size"),
    accepted=("outcome", lambda s: (s == "accepted").mean()),
    completed=("result", lambda s: (s == "completed").sum()),
)
"""
            ),
            md(
                """
## How borrowers answer offers

Acceptance and completion per kind, LightGBM with acceptance constrained to rise with the
discount and the plan length. All offers are used, each weighted by the inverse of its
assignment probability: the randomised offers identify the price response, the rule's
offers add what the account's state says. `summary()` says which design was used.
"""
            ),
            code(
                """
model = fit_offer_model(history)
model.summary()
"""
            ),
            md(
                """
The learned acceptance of the randomised settlements at every discount of the grid,
against the share accepted at the discount actually offered. Without the randomised
offers the lender would not know this curve: the rule's discounts follow debt age.
"""
            ),
            code(
                """
settle = history[(history["kind"] == "settlement") & history["randomized"]]
grid = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
learned = [model.predict_accept(settle.assign(discount_share=d)).mean() for d in grid]
observed = settle.groupby("discount_share")["outcome"].apply(lambda s: (s == "accepted").mean())
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(grid, learned, "o-", label="learned (same offers at each discount)")
ax.plot(observed.index, observed.to_numpy(), "s", label="accepted at the discount offered")
ax.set_xlabel("discount (share of the balance)")
ax.set_ylabel("P(accepted)")
ax.legend(frameon=False)
"""
            ),
            md(
                """
Fitted on the rule's offers alone, the model warns that the price response is
confounded and predicts nothing outside the terms the rule used for each stage.
"""
            ),
            code(
                """
rule_only = history[~history["randomized"]].drop(columns=["randomized", "assignment_probability"])
naive = fit_offer_model(rule_only)  # warns: the price response is confounded
naive.summary()[["target", "kind", "design", "terms_seen", "warning"]]
"""
            ),
            md(
                """
## Collecting as usual

What an account is expected to pay without an offer over the next 24 months, discounted:
the collections curve of its segment (stage × debt age) from the snapshots, scaled by its
propensity to pay when a score is given. An offer is worth only what it adds to this.
"""
            ),
            code(
                """
usual = fit_usual(portfolio, day, config)
usual.discounted_.sort_values().to_frame("share of the balance over 24 months")
"""
            ),
            md(
                """
## The recommendation

Every candidate of the grid (settlements 0–60 % off, plans of 3–24 months) that keeps
the lender's rules is valued; "no offer" is always a candidate. Each account gets the
best, its reasons in words, and the runner-up's value.
"""
            ),
            code(
                """
from recovery.operations.offer_book import book_offers

offers = book_offers(portfolio, day, model, usual, config)
print(offers["offer"].value_counts().to_string())
print(f"worth {offers['value'].sum():,.0f} more than collecting as usual")
offers.sort_values("value", ascending=False)[
    ["account_id", "offer", "discount_share", "installments", "value", "runner_up", "reasons"]
].head(8)
"""
            ),
            md(
                """
## What the recommendation would have collected

On the offers made at random terms, the inverse-propensity (IPW) and doubly robust (DR)
estimates of the mean discounted collections per account under the recommendation,
against what the lender's own offers brought (`logged`). Offers whose 24 months are
not all observed yet are left out.
"""
            ),
            code(
                """
from recovery.operations.offer_policy_value import offer_policy_value, realised_collections

done = realised_collections(portfolio, history, config)
past = history[done["complete"].to_numpy()]
offer_policy_value(past, done.loc[done["complete"], "collected"], model, usual, config)
"""
            ),
        ]
    )


# ----------------------------------------------------------------------------- main


NOTEBOOKS = ROOT / "notebooks"


def outputs() -> dict[Path, nbformat.NotebookNode]:
    return {
        TEMPLATE: monthly_report(),
        NOTEBOOKS / "01_portfolio_overview.ipynb": portfolio_overview(),
        NOTEBOOKS / "02_roll_rates.ipynb": roll_rates(),
        NOTEBOOKS / "03_recovery_by_debt_age.ipynb": recovery_by_debt_age(),
        NOTEBOOKS / "04_propensity_and_curability.ipynb": propensity_and_curability(),
        NOTEBOOKS / "05_agent_effectiveness.ipynb": agent_effectiveness(),
        NOTEBOOKS / "06_recovery_forecast.ipynb": recovery_forecast(),
        NOTEBOOKS / "07_offers.ipynb": offers(),
    }


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
