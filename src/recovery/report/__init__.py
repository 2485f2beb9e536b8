"""The monthly recovery report: a parameterized notebook rendered to one HTML file.

A collection manager reads the report without Python. It is a notebook template shipped
in this package (``recovery/report/templates/monthly_report.ipynb``) whose code calls the
library's public functions and the names below; :func:`render_monthly_report` renders it.
What the report is made of lives here, tested like any other code, so that the notebook
stays thin:

* :mod:`recovery.report.formatting` — numbers and tables for people
  (:func:`format_money`, :func:`format_pct`, :func:`format_pp`, :func:`format_count`,
  :func:`format_days`, :func:`format_month`, :func:`format_table`, :func:`table_html`,
  :func:`note_html`, :func:`notes_html`);
* :mod:`recovery.report.data` — the report month, checked against the data
  (:func:`parse_month`, :func:`report_months`, :func:`check_report_month`: a month with
  no data, or outside the data, is refused with a clear
  :class:`~recovery.errors.DataError` before anything is written) and the data the
  report works on (:class:`ReportData`, :func:`load_report_data`);
* :mod:`recovery.report.headline` — the headline KPIs with their change against the
  previous month and the same month a year earlier (:func:`kpi_change_table`,
  :func:`format_kpi_change_table`, :func:`kpi_cards_html`) and plain-language notes
  generated from them (:func:`change_notes`);
* :mod:`recovery.report.notes` — text from the numbers of the other sections (segment,
  roll-rate, ERC and model-health notes; people's tables of debt age, agents, models);
* :mod:`recovery.report.agents` — the agent section: who can fairly be ranked
  (:func:`compare_agents`, by each agent's reliability), in words and tables
  (:func:`agent_notes`, :func:`ranked_agent_table`, :func:`waiting_agent_table`,
  :func:`activity_table`);
* :mod:`recovery.report.sections` — the analyses each section shows and
  :func:`section`, which runs a section: one whose library piece or data is missing says
  so plainly in the rendered report instead of showing made-up numbers;
* :mod:`recovery.report.figures` — the charts' style and :func:`show_figure`;
* :mod:`recovery.report.render` — the template, parameter injection, execution and the
  standalone page (:func:`render_notebook`, :func:`render_monthly_report`).

The template uses them as ``from recovery import report; report.format_pct(...)``.

Examples
--------
>>> format_money(1234567.891), format_pct(0.1234), format_pp(0.0042)
('1,234,568', '12.3%', '+0.4 pp')
>>> parse_month("2026-10")
Timestamp('2026-10-31 00:00:00')
"""

from __future__ import annotations

from recovery.report.agents import (
    AgentComparison,
    activity_table,
    agent_notes,
    compare_agents,
    ranked_agent_table,
    waiting_agent_table,
)
from recovery.report.data import (
    ReportData,
    check_report_month,
    load_report_data,
    parse_month,
    report_months,
)
from recovery.report.figures import REPORT_STYLE, show_figure
from recovery.report.formatting import (
    MISSING,
    format_count,
    format_days,
    format_interval,
    format_money,
    format_month,
    format_number,
    format_pct,
    format_pp,
    format_table,
    note_html,
    notes_html,
    table_html,
)
from recovery.report.headline import (
    CARD_KPIS,
    HEADLINE_KPIS,
    KpiSpec,
    change_notes,
    format_kpi_change_table,
    kpi_cards_html,
    kpi_change_table,
    method_paragraph,
)
from recovery.report.notes import (
    age_split_table,
    compliance_summary_html,
    erc_notes,
    format_model_health,
    measure_label,
    model_health_notes,
    recovery_by_age_table,
    roll_rate_notes,
    segment_notes,
    segment_table,
)
from recovery.report.render import (
    TEMPLATE_NAME,
    inject_parameters,
    render_monthly_report,
    render_notebook,
    template_path,
)
from recovery.report.sections import (
    SectionUnavailable,
    about_html,
    agent_effectiveness,
    book_by_state,
    collection_cycle_by_month,
    forecast_summary,
    matured_month,
    model_directories,
    model_health,
    report_kpis,
    report_moments,
    require_table,
    section,
    segment_movements,
)

__all__ = [
    "AgentComparison",
    "activity_table",
    "agent_notes",
    "compare_agents",
    "ranked_agent_table",
    "waiting_agent_table",
    "CARD_KPIS",
    "HEADLINE_KPIS",
    "MISSING",
    "REPORT_STYLE",
    "TEMPLATE_NAME",
    "KpiSpec",
    "ReportData",
    "SectionUnavailable",
    "about_html",
    "age_split_table",
    "agent_effectiveness",
    "book_by_state",
    "change_notes",
    "check_report_month",
    "collection_cycle_by_month",
    "compliance_summary_html",
    "erc_notes",
    "forecast_summary",
    "format_count",
    "format_days",
    "format_interval",
    "format_kpi_change_table",
    "format_model_health",
    "format_money",
    "format_month",
    "format_number",
    "format_pct",
    "format_pp",
    "format_table",
    "inject_parameters",
    "kpi_cards_html",
    "kpi_change_table",
    "load_report_data",
    "matured_month",
    "measure_label",
    "method_paragraph",
    "model_directories",
    "model_health",
    "model_health_notes",
    "note_html",
    "notes_html",
    "parse_month",
    "recovery_by_age_table",
    "render_monthly_report",
    "render_notebook",
    "report_kpis",
    "report_moments",
    "report_months",
    "require_table",
    "roll_rate_notes",
    "section",
    "segment_movements",
    "segment_notes",
    "segment_table",
    "show_figure",
    "table_html",
    "template_path",
]
