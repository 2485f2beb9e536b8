"""Case pages behind the work list and the monthly report (``--pages DIR``).

``recovery worklist --pages DIR`` writes the case page of every customer on the list and
adds a column ``page`` with the path of that page relative to the list
(:func:`link_pages`). ``recovery report --pages DIR`` writes the pages of the customers
the month names — accounts charged off in the month and contacts that broke a
compliance rule in it (:func:`customers_named`) — and adds a section linking to them at
the end of the report (:func:`add_case_links`).

Examples
--------
>>> import tempfile
>>> from recovery.datasets import tiny_portfolio
>>> lst = pd.DataFrame({"agent_id": ["G1"], "account_id": ["A1"]})
>>> with tempfile.TemporaryDirectory() as tmp:
...     linked = link_pages(lst, tiny_portfolio(), f"{tmp}/pages", f"{tmp}/list.csv",
...                         "2024-03-31")
>>> linked["page"].tolist()
['pages/case_C1.html']
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from recovery.config import Config
from recovery.data.atomic import publish, stage_file
from recovery.data.portfolio import Portfolio
from recovery.operations.compliance import flag_actions
from recovery.operations.contact_allowance import customer_of
from recovery.report.case_page import write_case_pages
from recovery.report.case_timeline import words
from recovery.timeline.aging import account_states

__all__ = ["link_pages", "customers_named", "add_case_links"]


def _relative(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()


def link_pages(
    table: pd.DataFrame,
    portfolio: Portfolio,
    directory: str | Path,
    out: str | Path,
    as_of: Any,
    models: Mapping[str, Any] | Iterable[Any] | None = None,
    config: Config | None = None,
) -> pd.DataFrame:
    """Write the case pages of the customers of ``table`` and add a column ``page``.

    Parameters
    ----------
    table : pandas.DataFrame
        A list with ``customer_id`` or ``account_id``.
    portfolio : Portfolio
    directory : str or Path
        Where the pages go.
    out : str or Path
        The file ``table`` will be written to: ``page`` is relative to its folder.
    as_of : date
        Last day known by the pages.
    models, config
        As in :func:`recovery.report.case_file.case_file`.

    Returns
    -------
    pandas.DataFrame
        ``table`` with ``page``.
    """
    if "customer_id" in table:
        customers = table["customer_id"].astype(str)
    else:
        customers = customer_of(table["account_id"], portfolio.accounts)
    pages = write_case_pages(portfolio, pd.unique(customers), directory, as_of, models, config)
    start = Path(out).parent
    link = {c: _relative(p, start) for c, p in pages.items()}
    return table.assign(page=customers.map(link).to_numpy())


def customers_named(portfolio: Portfolio, month: Any, config: Config | None = None) -> pd.DataFrame:
    """The customers a month's report points at, and why.

    Accounts charged off in the month (their aging state at the month end) and
    contacts in the month that broke a compliance rule
    (:func:`recovery.operations.compliance.flag_actions`).

    Parameters
    ----------
    portfolio : Portfolio
        Event tables (``schedule`` and ``payments``; ``actions`` for the compliance
        part). A monthly performance table alone names charge-offs from ``snapshots``.
    month : str or date
        The report month (``YYYY-MM``).
    config : Config, optional

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``account_id``, ``why`` (words), one row per reason.
    """
    config = config or Config()
    period = pd.Period(pd.Timestamp(str(month)[:7] + "-01"), freq="M")
    start, end = period.start_time.normalize(), period.end_time.normalize()
    parts = []
    if portfolio.schedule is not None and portfolio.payments is not None:
        states = account_states(portfolio, end, config)
    else:
        states = portfolio.snapshots if portfolio.snapshots is not None else pd.DataFrame()
        states = states[states["month_end"] == end] if len(states) else states
    if len(states) and "charge_off_date" in states:
        co = states[(states["charge_off_date"] >= start) & (states["charge_off_date"] <= end)]
        parts.append(
            pd.DataFrame(
                {
                    "account_id": co["account_id"].astype(str),
                    "why": "charged off on " + co["charge_off_date"].dt.strftime("%Y-%m-%d"),
                }
            )
        )
    if portfolio.actions is not None and len(portfolio.actions):
        flags = flag_actions(
            portfolio.actions, config, portfolio.events, portfolio.schedule, portfolio.payments,
            portfolio.offers,
        )  # fmt: skip
        flags = flags[(flags["ts"] >= start) & (flags["ts"] < end + pd.Timedelta(days=1))]
        parts.append(
            pd.DataFrame(
                {
                    "account_id": flags["account_id"].astype(str),
                    "why": flags["channel"].map(words)
                    + " on "
                    + flags["ts"].dt.strftime("%Y-%m-%d")
                    + " broke the rule '"
                    + flags["rule"].map(words)
                    + "'",
                }
            )
        )
    out = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["account_id", "why"])
    )
    out.insert(0, "customer_id", customer_of(out["account_id"], portfolio.accounts).to_numpy())
    return out.drop_duplicates().sort_values(["customer_id", "account_id"]).reset_index(drop=True)


def add_case_links(report: str | Path, named: pd.DataFrame, pages: Mapping[str, Path]) -> Path:
    """Add a section "Case files" linking to the pages at the end of a rendered report.

    Parameters
    ----------
    report : str or Path
        The report's HTML file (rewritten atomically).
    named : pandas.DataFrame
        From :func:`customers_named`.
    pages : mapping of str to Path
        Customer → its page.

    Returns
    -------
    Path
    """
    report = Path(report)
    items = []
    for customer, rows in named.groupby("customer_id", sort=True):
        page = pages.get(customer)
        if page is None:
            continue
        href = html.escape(_relative(Path(page), report.parent))
        why = "; ".join(f"{a}: {w}" for a, w in zip(rows["account_id"], rows["why"], strict=True))
        items.append(
            f'<li><a href="{href}">customer {html.escape(str(customer))}</a> — '
            f"{html.escape(why)}</li>"
        )
    body = (
        "<ul>" + "".join(items) + "</ul>"
        if items
        else "<p>No account was charged off and no contact broke a rule this month.</p>"
    )
    section = (
        '<section id="case-files"><h2 id="case-files-heading">Case files</h2>'
        "<p>Customers this month points at: accounts charged off in the month and contacts "
        f"that broke a compliance rule. Each link opens the customer's case file.</p>{body}"
        "</section>\n"
    )
    page = report.read_text(encoding="utf-8")
    at = page.rfind("</main>")
    if at < 0:
        raise ValueError(f"{report} is not a rendered report (no <main>)")
    page = page[:at] + section + page[at:]
    toc = page.find("</ol></nav>")
    if toc >= 0:  # the report's table of contents lists the section too
        page = page[:toc] + '<li><a href="#case-files">Case files</a></li>' + page[toc:]
    staged = stage_file(report)
    staged.write_text(page, encoding="utf-8")
    return publish(staged, report)
