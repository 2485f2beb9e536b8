"""Tests of the report's "Offers and plans" section (hand-counted)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.report.offers import has_offers, offer_counts, offers_month, offers_notes

MARCH = pd.Timestamp("2024-03-31")


def offers():
    return pd.DataFrame(
        {
            "offer_id": ["O1", "O2", "O3", "O4", "O5", "O6"],
            "account_id": ["A", "B", "C", "D", "E", "F"],
            "kind": [
                "settlement",
                "settlement",
                "payment_plan",
                "payment_plan",
                "payment_plan",
                "deferral",
            ],
            "offered_at": pd.to_datetime(
                ["2024-03-02", "2024-03-10", "2024-01-05", "2024-02-01", "2024-03-20", "2024-04-01"]
            ),
            "outcome": ["accepted", "declined", "accepted", "accepted", "no_answer", "accepted"],
            "result": ["completed", None, "broken", None, None, None],
            "result_date": pd.to_datetime(["2024-03-15", None, "2024-03-05", None, None, None]),
        }
    )


def test_counts_by_hand():
    c = offer_counts(offers(), MARCH)
    # made in March: O1, O2 (settlements), O5 (plan); accepted: O1
    assert c.loc["settlement", ["made", "accepted", "kept"]].tolist() == [2, 1, 1]
    assert c.loc["payment_plan", ["made", "accepted", "broken", "running"]].tolist() == [1, 0, 1, 1]
    assert c.loc["all", "acceptance_rate"] == pytest.approx(1 / 3)
    assert c.loc["deferral", "made"] == 0  # made in April


def test_value_against_usual_by_hand():
    # snapshots: every account charged off, balance 1000, paying 20 in every third month;
    # under an offer in March: A (accepted in March), C (broke in March), D (running)
    ids = list("ABCDEF")
    me = pd.date_range("2023-01-31", "2024-03-31", freq="ME")
    snaps = pd.concat(
        [
            pd.DataFrame(
                {
                    "account_id": a,
                    "month_end": me,
                    "dpd": 400,
                    "status": "charged_off",
                    "balance": 1000.0,
                    "paid_in_month": np.where(np.arange(len(me)) % 3 == 0, 20.0, 0.0),
                }
            )
            for a in ids
        ]
    )
    pays = pd.DataFrame(
        {
            "account_id": ["A", "C", "D", "B", "D"],
            "payment_date": pd.to_datetime(
                ["2024-03-15", "2024-03-03", "2024-03-05", "2024-03-07", "2024-02-05"]
            ),
            "amount": [500.0, 40.0, 60.0, 999.0, 60.0],
        }
    )
    book = Portfolio(payments=pays, offers=offers())
    counts, value = offers_month(book, snaps, MARCH, Config())
    assert value["accounts"] == 3 and value["collected"] == 600.0
    # month-1 rate learned on Jan 2023 – Feb 2024 (14 months), from the 13 month ends
    # with a following month: payments at months 4, 7, 10, 13 → 4 × 20 / 13 × 1000 each
    rate = 4 * 20 / (13 * 1000)
    assert value["as_usual"] == pytest.approx(3 * 1000 * rate)
    assert value["against_usual"] == pytest.approx(600 - 3000 * rate)
    notes = offers_notes(counts, value, "March 2024")
    assert notes[1].startswith("The 3 accounts under an offer paid 600 this month")
    # the same from the snapshots' parts, as `recovery report` passes them
    from recovery.analytics.partitions import PartitionedSnapshots

    parts = PartitionedSnapshots.from_frame(snaps.sample(frac=1.0, random_state=1), 2)
    assert parts.npartitions == 3
    _, from_parts = offers_month(book, parts, MARCH, Config())
    assert from_parts == pytest.approx(value)


def test_only_books_with_offers():
    class Data:
        portfolio = Portfolio(offers=None)

    assert not has_offers(Data())
    Data.portfolio = Portfolio(offers=offers())
    assert has_offers(Data())


def test_the_report_shows_the_section_on_a_book_with_offers(tmp_path):
    import re

    from recovery.data.io import save_portfolio
    from recovery.report.render import render_monthly_report
    from recovery.simulate import simulate_portfolio

    book, _ = simulate_portfolio(n_accounts=500, months=36, seed=3, scenario="offers")
    save_portfolio(book, tmp_path / "book")
    month = (book.data_end - pd.offsets.MonthEnd(1)).strftime("%Y-%m")
    page = render_monthly_report(tmp_path / "book", month, tmp_path / "out").read_text()
    assert 'id="offers"' in page and 'id="offers-table"' in page
    section = page[page.index('id="offers"') : page.index('id="about"')]
    text = re.sub(r"<[^>]+>", " ", section)
    assert "offers were made and" in text and "Payment plans" in text
    assert "report-unavailable" not in section
    assert not re.search(r"\b(NaN|nan|None|payment_plan|offer_section)\b", text)
