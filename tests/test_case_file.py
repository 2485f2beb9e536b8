"""The case file (一户一档) on a hand-built customer, followed day by day.

Customer K1 has two loans (as-of day 2024-04-30 unless said otherwise):

L1  400 lent on 2023-12-10; 4 × 100 due on the 10th of Jan–Apr 2024. Paid on time in
    January, nothing in February (overdue from 2024-02-11), 200 on 2024-03-05 (a payment
    cure: inst. 2 paid, 100 ahead on inst. 3). Restructured on 2024-03-20: the last
    installment becomes 2 × 50 due 2024-04-10 and 2024-05-10 (schedule version 2). 50
    paid on 2024-04-08 — returned on 2024-05-20, after the as-of day.
L2  600 lent on 2023-06-01; 6 × 100 due on the 1st of Jul–Dec 2023. Paid in July only,
    so overdue from 2023-08-02: DPD on day t is t − 2023-08-01, charge-off at 180 DPD on
    2024-01-28 (the lender's events table also has that charge-off). A call on
    2023-09-05 ends in a promise of 100 by 2023-09-12 that is never kept: broken once
    the grace days (3) have passed, on 2023-09-15. Agent G1 holds it from 2023-08-15 to
    2023-10-31, then G2. The borrower's death is notified on 2024-05-10 (after the as-of
    day).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import recovery
from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.operations.contact_allowance import contact_allowance
from recovery.operations.limitation import limitation_expiry
from recovery.report.case_file import TIMELINE_COLUMNS, case_file, case_files, customer_accounts
from recovery.report.case_page import case_page_html, summary_sentences, write_case_page

AS_OF = pd.Timestamp("2024-04-30")
D = pd.Timestamp


def k1_tables() -> dict[str, pd.DataFrame]:
    accounts = pd.DataFrame(
        {
            "account_id": ["L1", "L2", "X1"],
            "customer_id": ["K1", "K1", "K2"],
            "product": ["consumer_installment"] * 3,
            "origination_date": pd.to_datetime(["2023-12-10", "2023-06-01", "2023-06-01"]),
            "principal": [400.0, 600.0, 100.0],
            "term_months": [4, 6, 1],
            "interest_rate": [0.0, 0.0, 0.0],
        }
    )
    schedule = pd.DataFrame(
        {
            "account_id": ["L1"] * 6 + ["L2"] * 6 + ["X1"],
            "installment_no": [1, 2, 3, 4, 1, 2, 1, 2, 3, 4, 5, 6, 1],
            "due_date": pd.to_datetime(
                ["2024-01-10", "2024-02-10", "2024-03-10", "2024-04-10", "2024-04-10", "2024-05-10"]
                + [f"2023-{m:02d}-01" for m in range(7, 13)]
                + ["2023-07-01"]
            ),
            "amount_due": [100.0] * 4 + [50.0] * 2 + [100.0] * 7,
            "schedule_version": [1, 1, 1, 1, 2, 2] + [1] * 7,
            "effective_from": pd.to_datetime([None] * 4 + ["2024-03-20"] * 2 + [None] * 7),
        }
    )
    payments = pd.DataFrame(
        {
            "payment_id": ["P1", "P2", "P3", "P4", "P5"],
            "account_id": ["L1", "L1", "L1", "L2", "X1"],
            "payment_date": pd.to_datetime(
                ["2024-01-10", "2024-03-05", "2024-04-08", "2023-07-01", "2023-07-01"]
            ),
            "amount": [100.0, 200.0, 50.0, 100.0, 100.0],
            "channel": ["auto_debit", "bank_transfer", "cash", "auto_debit", "cash"],
            "reversed_date": pd.to_datetime([None, None, "2024-05-20", None, None]),
        }
    )
    actions = pd.DataFrame(
        {
            "action_id": ["A1", "A2", "A3"],
            "account_id": ["L2", "L2", "L1"],
            "agent_id": ["G1", "G1", "G2"],
            "ts": pd.to_datetime(["2023-09-05 10:00", "2023-09-20 11:00", "2024-02-20 09:30"]),
            "channel": ["call", "sms", "call"],
            "outcome": ["promise_to_pay", "delivered", "right_party_contact"],
            "promise_amount": [100.0, np.nan, np.nan],
            "promise_date": pd.to_datetime(["2023-09-12", None, None]),
            "reason_code": ["job_loss", None, "illness"],
            "attitude": ["serial_promiser", None, "victim"],
            "note": ["said he lost his job", None, "in hospital"],
        }
    )
    agents = pd.DataFrame(
        {
            "agent_id": ["G1", "G2"],
            "team": ["early", "late"],
            "level": [1, 2],
            "hire_date": pd.to_datetime(["2020-01-01", "2019-01-01"]),
        }
    )
    assignments = pd.DataFrame(
        {
            "account_id": ["L2", "L2"],
            "agent_id": ["G1", "G2"],
            "start_date": pd.to_datetime(["2023-08-15", "2023-11-01"]),
            "end_date": pd.to_datetime(["2023-10-31", None]),
        }
    )
    events = pd.DataFrame(
        {
            "account_id": ["L2", "L2"],
            "date": pd.to_datetime(["2024-01-28", "2024-05-10"]),
            "event": ["charged_off", "deceased"],
        }
    )
    return {
        "accounts": accounts,
        "schedule": schedule,
        "payments": payments,
        "actions": actions,
        "agents": agents,
        "assignments": assignments,
        "events": events,
    }


@pytest.fixture
def k1() -> Portfolio:
    return Portfolio(**k1_tables(), meta={"data_end": "2024-06-30"})


@pytest.fixture
def case(k1):
    return case_file(k1, customer_id="K1", as_of=AS_OF)


def rows(case, account, event):
    tl = case.timeline
    return tl[(tl["account_id"] == account) & (tl["event"] == event)]


# ----------------------------------------------------------------------------- timeline
def test_every_event_appears_once_in_order(case):
    tl = case.timeline
    assert list(tl.columns) == list(TIMELINE_COLUMNS)
    assert set(tl["account_id"]) == {"L1", "L2"}  # K2's loan stays out
    # the whole history, as counted by hand
    expected = {
        ("L1", "opened"): ["2023-12-10"],
        ("L1", "due"): ["2024-01-10", "2024-02-10", "2024-03-10", "2024-04-10"],
        ("L1", "payment"): ["2024-01-10", "2024-03-05", "2024-04-08"],
        ("L1", "overdue"): ["2024-02-11"],
        ("L1", "cured"): ["2024-03-05"],
        ("L1", "restructured"): ["2024-03-20"],
        ("L1", "contact"): ["2024-02-20"],
        ("L2", "opened"): ["2023-06-01"],
        ("L2", "due"): [f"2023-{m:02d}-01" for m in range(7, 13)],
        ("L2", "payment"): ["2023-07-01"],
        ("L2", "overdue"): ["2023-08-02"],
        ("L2", "contact"): ["2023-09-05", "2023-09-20"],
        ("L2", "promise_broken"): ["2023-09-15"],
        ("L2", "assigned"): ["2023-08-15", "2023-11-01"],
        ("L2", "unassigned"): ["2023-10-31"],
        ("L2", "charged_off"): ["2024-01-28"],
    }
    got = {
        key: sorted(g["date"].dt.strftime("%Y-%m-%d"))
        for key, g in tl.groupby(["account_id", "event"])
    }
    assert got == expected
    assert len(tl) == sum(len(v) for v in expected.values())
    # oldest first; within a day the due comes before the payment
    assert tl["date"].is_monotonic_increasing
    jan10 = tl[(tl["account_id"] == "L1") & (tl["date"] == D("2024-01-10"))]
    assert jan10["event"].tolist() == ["due", "payment"]
    # the installment due 2024-04-10 is version 2's 50, not version 1's 100
    assert rows(case, "L1", "due")["amount"].tolist() == [100.0, 100.0, 100.0, 50.0]


def test_dpd_of_each_event_worked_out_by_hand(case):
    def dpd(account, event):
        return rows(case, account, event)["dpd"].tolist()

    l2_dpd = lambda day: (D(day) - D("2023-08-01")).days  # noqa: E731
    assert dpd("L2", "overdue") == [1]
    assert dpd("L2", "contact") == [l2_dpd("2023-09-05"), l2_dpd("2023-09-20")] == [35, 50]
    assert dpd("L2", "promise_broken") == [45]
    assert dpd("L2", "charged_off") == [180]
    assert rows(case, "L2", "charged_off")["status"].tolist() == ["charged_off"]
    assert dpd("L2", "assigned") == [14, l2_dpd("2023-11-01")]
    # L1: behind from 2024-02-11; on the call of 2024-02-20 it is 10 days past due
    assert dpd("L1", "overdue") == [1]
    assert dpd("L1", "contact") == [(D("2024-02-20") - D("2024-02-10")).days]
    assert dpd("L1", "cured") == dpd("L1", "restructured") == [0]
    assert dpd("L1", "payment") == [0, 0, 0]
    assert rows(case, "L1", "cured")["detail"].iloc[0].endswith("after 23 days past due")


def test_accounts_at_as_of(case):
    acc = case.accounts.set_index("account_id")
    assert acc.loc["L1", "dpd"] == 0 and acc.loc["L1", "status"] == "open"
    assert acc.loc["L2", "status"] == "charged_off"
    assert acc.loc["L2", "dpd"] == (AS_OF - D("2023-08-01")).days == 273
    assert acc.loc["L2", "debt_age_days"] == 273
    assert acc.loc["L2", "charge_off_date"] == D("2024-01-28")
    assert acc.loc["L2", "agent_id"] == "G2"
    # limitation: the last restart of L2 is the promise (2023-09-05) + 3 years
    assert acc.loc["L2", "limitation_expires"] == D("2026-09-05")
    assert acc.loc["L1", "limitation_expires"] == D("2027-04-08")


def test_nothing_known_only_after_as_of_appears(case, k1):
    tl = case.timeline
    assert tl["date"].max() <= AS_OF
    assert case.series["date"].max() == AS_OF
    assert "reversal" not in set(tl["event"])  # returned on 2024-05-20
    pay = rows(case, "L1", "payment").iloc[-1]
    assert pay["date"] == D("2024-04-08") and "returned" not in pay["detail"]
    assert not tl["detail"].str.contains("deceased").any()  # notified on 2024-05-10
    assert "deceased_reported" not in case.accounts["suppressed_by"].str.cat()
    # the same file from data cut by hand at the as-of day
    t = k1_tables()
    t["payments"]["reversed_date"] = pd.NaT
    t["events"] = t["events"][t["events"]["date"] <= AS_OF]
    t["schedule"] = t["schedule"]  # versions are all effective by then
    cut = case_file(Portfolio(**t), customer_id="K1", as_of=AS_OF)
    pd.testing.assert_frame_equal(cut.timeline, case.timeline)
    pd.testing.assert_frame_equal(cut.accounts, case.accounts)


def test_later_as_of_shows_the_reversal_and_the_death(k1):
    later = case_file(k1, account_id="L1", as_of="2024-06-15")
    rev = rows(later, "L1", "reversal")
    assert rev["date"].tolist() == [D("2024-05-20")]
    assert "returned on 2024-05-20" in rows(later, "L1", "payment")["detail"].iloc[-1]
    # without the 50 of 2024-04-08, version 2's first installment (due 2024-04-10) is open
    acc = later.accounts.set_index("account_id")
    assert acc.loc["L1", "dpd"] == (D("2024-06-15") - D("2024-04-10")).days == 66
    # behind again from 2024-05-11 (the 50 due 2024-05-10); the return on 2024-05-20
    # re-opens the installment of 2024-04-10: 40 days past due that day
    assert rows(later, "L1", "overdue")["date"].tolist() == [D("2024-02-11"), D("2024-05-11")]
    assert rev["dpd"].tolist() == [(D("2024-05-20") - D("2024-04-10")).days] == [40]
    death = rows(later, "L2", "event")
    assert death["outcome"].tolist() == ["deceased"] and death["date"].iloc[0] == D("2024-05-10")
    assert "deceased_reported" in acc.loc["L2", "suppressed_by"]


def test_notes_stay_out_unless_asked(k1, case):
    assert not case.timeline["detail"].str.contains("hospital").any()
    with_notes = case_file(k1, customer_id="K1", as_of=AS_OF, notes=True)
    assert with_notes.timeline["detail"].str.contains("note: in hospital").any()
    assert "in hospital" not in case_page_html(case)


def test_customer_from_an_account_and_errors(k1):
    assert customer_accounts(k1.accounts, account_id="L2") == ("K1", ["L1", "L2"])
    with pytest.raises(recovery.DataError, match="customer K9"):
        case_file(k1, customer_id="K9")
    with pytest.raises(recovery.DataError, match="exactly one"):
        case_file(k1, customer_id="K1", account_id="L1")


def test_batch_equals_one_by_one(k1):
    many = case_files(k1, as_of=AS_OF)
    assert sorted(many) == ["K1", "K2"]
    one = case_file(k1, customer_id="K1", as_of=AS_OF)
    pd.testing.assert_frame_equal(many["K1"].timeline, one.timeline)
    pd.testing.assert_frame_equal(many["K1"].accounts, one.accounts)


# ----------------------------------------------------------------------------- summary
def test_summary_in_words(case):
    text = summary_sentences(case)
    assert text[0].startswith("Customer K1 has 2 accounts: L1 in M0, 0 days past due")
    assert "L2 charged off on 2024-01-28, balance" in text[0]
    assert any(s.startswith("Last contact: 2024-02-20 09:30 on L1, call by G2") for s in text)
    assert "Stated reason: illness; recorded attitude: victim (the collector's impression)." in text
    assert "No open promise." in text
    limits = next(s for s in text if s.startswith("Contacts on 2024-04-30"))
    assert "3 more allowed today and 10 more this week" in limits
    assert "permitted hours 08:00–21:00" in limits
    assert "Limitation period: L1 expires on 2027-04-08; L2 expires on 2026-09-05." in text


def test_contact_limits_count_the_person_across_accounts():
    t = k1_tables()
    t["actions"] = pd.DataFrame(
        {
            "action_id": ["B1", "B2", "B3", "B4"],
            "account_id": ["L1", "L1", "L2", "L2"],
            "agent_id": ["G1"] * 4,
            "ts": pd.to_datetime(
                ["2024-02-15 10:00", "2024-02-20 09:00", "2024-02-20 10:00", "2024-02-20 11:00"]
            ),
            "channel": ["call", "call", "sms", "call"],
            "outcome": ["no_answer"] * 4,
        }
    )
    day = D("2024-02-20")
    case = case_file(Portfolio(**t), customer_id="K1", as_of=day)
    # 3 contacts on the day across L1 and L2 (1 + 2): the day's limit of 3 is reached,
    # although L1 alone had only one
    assert case.contacts["contacts_today"] == 3 and case.contacts["allowed_today"] == 0
    assert case.contacts["contacts_week"] == 4 and case.contacts["allowed_week"] == 6
    l1 = case.accounts.set_index("account_id").loc["L1"]
    assert l1["bucket"] == "M1" and l1["dpd"] == 10
    assert "daily_contact_cap" in l1["suppressed_by"] and l1["action"] == "none"
    text = " ".join(summary_sentences(case))
    assert "3 made, 0 more allowed today and 6 more this week" in text
    room = contact_allowance(t["actions"], t["accounts"], day, Config())
    assert room.set_index("customer_id").loc["K2", "allowed_today"] == 3


def test_limitation_expiry_restarts():
    t = k1_tables()
    lim = limitation_expiry(Portfolio(**t), AS_OF).set_index("account_id")
    assert lim.loc["L2", "restart"] == "promise_to_pay"
    assert lim.loc["X1", "last_restart"] == D("2023-07-01")
    assert not lim["expired"].any()
    old = limitation_expiry(Portfolio(**t), "2026-09-06").set_index("account_id")
    assert bool(old.loc["L2", "expired"])


# ----------------------------------------------------------------------------- monthly path
def test_monthly_only_path_says_what_needs_event_tables(k1):
    snaps = recovery.snapshots(k1)
    monthly = Portfolio(accounts=k1.accounts, snapshots=snaps)
    case = case_file(monthly, customer_id="K1", as_of=AS_OF)
    assert case.source == "monthly"
    assert case.series["date"].max() <= AS_OF
    l2 = rows(case, "L2", "bucket")
    assert l2["detail"].tolist()[-1] == "month end status: charged off"
    text = " ".join(summary_sentences(case))
    assert "From a monthly performance table" in text and "payments and reversals" in text
    assert case.accounts.set_index("account_id").loc["L2", "status"] == "charged_off"


# ----------------------------------------------------------------------------- page
def test_page_is_standalone_and_written_atomically(case, tmp_path):
    page = case_page_html(case)
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script|<link|src=\"http", page)
    assert page.index('id="summary"') < page.index("<svg") < page.index('id="timeline"')
    # newest first
    dates = re.findall(r"<tr><td>(\d{4}-\d\d-\d\d)</td>", page.split('id="timeline-table"')[1])
    assert dates == sorted(dates, reverse=True) and dates[0] == "2024-04-10"
    out = write_case_page(case, tmp_path / "k1.html")
    assert out.read_text(encoding="utf-8") == page
    assert [p.name for p in tmp_path.iterdir()] == ["k1.html"]


def test_cli_writes_the_page(k1, tmp_path):
    from recovery.cli import main
    from recovery.data.io import save_portfolio

    save_portfolio(k1, tmp_path / "book")
    out = tmp_path / "page.html"
    args = ["casefile", str(tmp_path / "book"), "--account", "L1", "--as-of", "2024-04-30"]
    assert main([*args, "--out", str(out)]) == 0
    assert "Case file of customer K1" in out.read_text(encoding="utf-8")
    missing = tmp_path / "k9.html"
    assert (
        main(["casefile", str(tmp_path / "book"), "--customer", "K9", "--out", str(missing)]) == 1
    )
    assert not missing.exists()


def test_page_renders_in_headless_chromium(case, tmp_path):
    from test_report import chromium, dump_dom, find_chromium  # noqa: F401

    if find_chromium() is None:
        pytest.skip("headless Chromium not found")
    page = write_case_page(case, tmp_path / "k1.html")
    dom = dump_dom(page, tmp_path / "profile")
    assert 'id="summary"' in dom and "Customer K1 has 2 accounts" in dom
    assert "<svg" in dom and "Days past due" in dom
    assert dom.count("<tr>") >= len(case.timeline)


def test_report_pages_name_the_months_charge_offs(k1, tmp_path):
    from recovery.report.case_links import add_case_links, customers_named
    from recovery.report.case_page import write_case_pages

    named = customers_named(k1, "2024-01")
    assert named.values.tolist() == [["K1", "L2", "charged off on 2024-01-28"]]
    assert customers_named(k1, "2024-02").empty
    report = tmp_path / "report.html"
    report.write_text(
        '<html><body><nav id="toc"><ol><li>KPIs</li></ol></nav><main><h2>KPIs</h2></main>'
        "</body></html>",
        encoding="utf-8",
    )
    pages = write_case_pages(k1, ["K1"], tmp_path / "pages", "2024-01-31")
    add_case_links(report, named, pages)
    text = report.read_text(encoding="utf-8")
    assert '<a href="pages/case_K1.html">customer K1</a>' in text
    assert text.index('id="case-files"') < text.index("</main>")
    assert '<li><a href="#case-files">Case files</a></li></ol></nav>' in text
    page = (tmp_path / "pages" / "case_K1.html").read_text(encoding="utf-8")
    assert "as known at the end of 2024-01-31" in page


def test_nothing_falls_due_after_a_payoff():
    t = k1_tables()
    extra = pd.DataFrame(
        {
            "account_id": ["X1", "X1"],
            "installment_no": [2, 3],
            "due_date": pd.to_datetime(["2023-08-01", "2023-09-01"]),
            "amount_due": [100.0, 100.0],
            "schedule_version": [1, 1],
            "effective_from": pd.NaT,
        }
    )
    t["schedule"] = pd.concat([t["schedule"], extra], ignore_index=True)
    t["payments"].loc[t["payments"]["account_id"] == "X1", "amount"] = 300.0  # all on day one
    case = case_file(Portfolio(**t), customer_id="K2", as_of=AS_OF)
    assert rows(case, "X1", "due")["date"].tolist() == [D("2023-07-01")]
    assert rows(case, "X1", "paid_off")["date"].tolist() == [D("2023-07-01")]


def test_unknown_customers_are_named(k1):
    with pytest.raises(recovery.DataError, match=r"\['K7', 'K9'\]"):
        case_files(k1, ["K1", "K9", "K7"], as_of=AS_OF)


def test_offers_as_known_at_as_of():
    t = k1_tables()
    t["offers"] = pd.DataFrame(
        {
            "offer_id": ["O1"],
            "account_id": ["L2"],
            "offered_at": pd.to_datetime(["2024-04-20"]),
            "kind": ["settlement"],
            "discount_share": [0.4],
            "agent_id": ["G2"],
            "outcome": ["accepted"],
            "outcome_date": pd.to_datetime(["2024-05-05"]),
        }
    )
    case = case_file(Portfolio(**t), customer_id="K1", as_of=AS_OF)
    assert rows(case, "L2", "offer")["detail"].tolist() == ["offered settlement (40% off)"]
    assert rows(case, "L2", "offer_answered").empty  # answered after the as-of day
    assert "Open offer: settlement on L2 made 2024-04-20 (no answer yet)." in summary_sentences(
        case
    )
    later = case_file(Portfolio(**t), customer_id="K1", as_of="2024-06-15")
    answered = rows(later, "L2", "offer_answered")
    assert answered["date"].tolist() == [D("2024-05-05")]
    assert answered["detail"].tolist() == ["settlement (40% off): accepted"]


def test_a_customer_without_an_account_yet_at_as_of():
    """Asked for by name: a clear message; among all customers: left out, not a crash."""
    from recovery.datasets import tiny_portfolio
    from recovery.errors import DataError

    portfolio = tiny_portfolio()  # A1 of C1 opened 2024-01-10, A2 of C2 on 2024-01-15
    with pytest.raises(DataError, match=r"customer C2 had no account on 2024-01-12.*2024-01-15"):
        case_file(portfolio, customer_id="C2", as_of="2024-01-12")
    assert list(case_files(portfolio, as_of="2024-01-12")) == ["C1"]
