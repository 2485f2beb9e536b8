"""The ``offers`` table: its contract, its link to the ledger, and what an accepted plan
does to days past due, episodes and labels (DESIGN.md §2–§3).

The book (accounts P, Q and C) is described in tests/offer_books.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from offer_books import offers_book
from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.data.schema import validate_portfolio
from recovery.errors import ValidationError
from recovery.timeline.aging import account_states, episodes, snapshots
from recovery.timeline.labels import build_labels

T = pd.Timestamp


def at(portfolio: Portfolio, account: str, day: str) -> pd.Series:
    states = account_states(portfolio, [day])
    return states.set_index("account_id").loc[account]


# ----------------------------------------------------------------- the ledger


def test_an_accepted_plan_brings_dpd_to_zero_from_the_day_it_is_accepted():
    p = offers_book()
    # Jun 7: oldest unpaid is Apr 30: 31 + 7 = 38 days, M2
    before = at(p, "P", "2023-06-07")
    assert (before["dpd"], before["bucket"], before["amount_overdue"]) == (38, "M2", 200.0)
    # Jun 8: version 2 in force, its first installment due Jul 8: current
    after = at(p, "P", "2023-06-08")
    assert (after["dpd"], after["bucket"], after["amount_overdue"]) == (0, "M0", 0.0)
    assert after["status"] == "open" and pd.isna(after["debt_age_days"])
    # Sep 30: plan installment 3 (due Sep 8) is the oldest unpaid: 22 days, a new
    # episode that starts on Sep 8, not on Apr 30 (the re-age made the debt younger)
    late = at(p, "P", "2023-09-30")
    assert (late["dpd"], late["debt_age_days"], late["episode_start"]) == (22, 22, T("2023-09-08"))
    assert late["amount_overdue"] == 50.0
    snap = snapshots(p, pd.date_range("2023-05-31", "2023-07-31", freq="ME")).set_index(
        ["account_id", "month_end"]
    )
    assert snap.loc[("P", T("2023-05-31")), "bucket"] == "M2"
    assert snap.loc[("P", T("2023-06-30")), ["dpd", "bucket"]].tolist() == [0, "M0"]


def test_a_plan_cure_is_a_re_age_cure_reported_apart_from_payment_cures():
    ep = episodes(offers_book(), end="2023-12-31").set_index(["account_id", "episode_no"])
    # P: Apr 30 -> Jun 8 ended by the accepted plan; worst DPD on Jun 7 = 38
    first = ep.loc[("P", 1)]
    assert (first["start_date"], first["end_date"]) == (T("2023-04-30"), T("2023-06-08"))
    assert (first["end_reason"], first["max_dpd"]) == ("re_aged", 38)
    # the broken plan: a new episode from the missed Sep 8 installment, running at the end
    second = ep.loc[("P", 2)]
    assert (second["start_date"], second["end_reason"]) == (T("2023-09-08"), "open")
    # Q paid the arrears on Jun 8 instead: the same day, a payment cure
    twin = ep.loc[("Q", 1)]
    assert (twin["end_date"], twin["end_reason"]) == (T("2023-06-08"), "payment_cure")
    # without the offers table the same version reads as a restructure, never a payment cure
    plain = episodes(offers_book(with_offers=False), end="2023-12-31")
    assert plain.loc[plain["account_id"] == "P", "end_reason"].astype(str).tolist() == [
        "restructured",
        "open",
    ]


def test_a_plan_on_charged_off_debt_does_not_make_it_younger():
    p = offers_book()
    # charged off on Jan 31 + 180 = Jul 30; the plan of Sep 1 leaves the episode running:
    # on Oct 15 the debt is Oct 15 - Jan 31 = 257 days old, still charged off
    mid = at(p, "C", "2023-10-15")
    assert mid["status"] == "charged_off" and mid["charge_off_date"] == T("2023-07-30")
    assert (mid["debt_age_days"], mid["episode_start"]) == (257, T("2023-01-31"))
    ep = episodes(p, end="2023-12-31")
    only = ep[ep["account_id"] == "C"]
    assert len(only) == 1  # one episode, from the first missed due date to the settlement
    row = only.iloc[0]
    assert (row["start_date"], row["end_date"], row["end_reason"]) == (
        T("2023-01-31"),
        T("2023-12-01"),
        "settled",
    )
    assert at(p, "C", "2023-12-01")["status"] == "settled"


def test_labels_do_not_count_a_plan_cure_as_a_payment_cure():
    p = offers_book()
    pairs = pd.DataFrame({"account_id": ["P", "Q"], "as_of": T("2023-05-31")})
    lab = build_labels(p, pairs).set_index("account_id")
    # both 31 days past due on May 31 and at DPD 0 60 days later (Jul 30): Q by paying
    # (paid off), P by the plan accepted inside the horizon -> not a payment cure
    assert at(p, "P", "2023-07-30")[["dpd", "status"]].tolist() == [0, "open"]
    assert at(p, "Q", "2023-07-30")[["dpd", "status"]].tolist() == [0, "paid_off"]
    assert lab.loc["Q", "p_cure"] == 1
    assert lab.loc["P", "p_cure"] == 0
    # P paid nothing in (May 31, Jun 30]; Q paid 300
    assert (lab.loc["P", "p_pay"], lab.loc["Q", "p_pay"]) == (0, 1)
    # after the plan, the minimum payment is the plan's installment (50), not the old 100
    later = build_labels(p, pd.DataFrame({"account_id": ["P"], "as_of": [T("2023-09-30")]}))
    assert later.loc[0, "min_payment"] == 50.0 and later.loc[0, "p_pay"] == 0


def test_labels_read_an_accepted_deferral_from_the_offers_table():
    # Q's payment cure, but the lender's offers say a deferral was accepted on Jun 8:
    # a cure inside the horizon that follows a re-age is not a payment cure
    p = offers_book()
    deferral = {"offer_id": "O3", "account_id": "Q", "offered_at": T("2023-06-08")}
    deferral |= {"kind": "deferral", "deferral_months": 2, "outcome": "accepted"}
    p.offers = pd.concat([p.offers, pd.DataFrame([deferral])], ignore_index=True)
    pairs = pd.DataFrame({"account_id": ["Q"], "as_of": [T("2023-05-31")]})
    assert build_labels(p, pairs).loc[0, "p_cure"] == 0
    p.offers = p.offers[p.offers["offer_id"] != "O3"]
    assert build_labels(p, pairs).loc[0, "p_cure"] == 1


# ----------------------------------------------------------------- the contract


def test_the_offers_book_is_valid():
    report = validate_portfolio(offers_book().copy(), Config())
    assert report.empty, report


def rules_broken(portfolio: Portfolio) -> set[tuple[str, str]]:
    report = validate_portfolio(portfolio, Config())
    return set(zip(report["column"], report["rule"], strict=True))


def test_an_accepted_plan_without_its_schedule_version_is_refused():
    p = offers_book()
    p.schedule = p.schedule[
        ~((p.schedule["account_id"] == "P") & (p.schedule["schedule_version"] == 2))
    ]
    broken = rules_broken(p)
    rule = (
        "schedule_version",
        "an accepted plan or deferral needs its schedule version "
        "(effective_from = the day it was accepted)",
    )
    assert broken == {rule}
    # a version in force from another day is not the plan either
    p = offers_book()
    p.offers.loc[0, "outcome_date"] = T("2023-06-07")
    assert rule in rules_broken(p)
    # nor is a version that does not exist, named by number
    p = offers_book()
    p.offers.loc[0, "schedule_version"] = 3
    assert rule in rules_broken(p)


def test_each_offer_rule_names_table_column_and_rows():
    p = offers_book()
    extra = pd.DataFrame(
        {
            "offer_id": ["O3", "O4", "O5", "O6", "O7", "O8", "O9"],
            "account_id": ["Q", "Q", "Q", "Q", "Q", "Q", "ZZ"],
            "offered_at": pd.to_datetime(
                ["2023-02-01", "2023-02-02", "2023-02-03", "2023-02-04", "2023-02-05"]
                + ["2024-03-01", "2023-02-06"]
            ),
            "kind": ["payment_plan", "deferral", "settlement", "settlement", "haircut"]
            + ["settlement", "settlement"],
            "discount_share": [0.0, np.nan, np.nan, 1.5, 0.2, 0.2, 0.2],
            "installments": [np.nan, np.nan, np.nan, 1, 1, 1, 1],
            "outcome": ["declined", "declined", "declined", "accepted", "declined"]
            + ["declined", "declined"],
            "result": [None, "completed", None, "completed", None, None, None],
            "result_date": pd.to_datetime([None, "2023-03-01", None, "2023-01-01"] + [None] * 3),
            "randomized": [True, False, False, False, False, False, False],
        }
    )
    p.offers = pd.concat([p.offers, extra], ignore_index=True)
    report = validate_portfolio(p, Config())
    got = {
        (c, r): e
        for c, r, e in zip(report["column"], report["rule"], report["examples"], strict=True)
    }
    expected = {
        ("installments", "a payment plan needs its installments"): "O3",
        ("deferral_months", "a deferral needs its deferral_months"): "O4",
        ("discount_share", "a settlement needs its discount_share or plan_amount"): "O5",
        ("result", "only an accepted offer has a result"): "O4",
        ("discount_share", "must be <= 1"): "O6",
        ("result_date", "must not be before the answer (outcome_date, else offered_at)"): "O6",
        (
            "result",
            "a completed settlement needs a 'settled' event on or after its acceptance",
        ): "O6",
        ("kind", "must be one of the allowed categories (config.categories.offer_kinds)"): "O7",
        ("offered_at", "must not be after the data end 2023-12-31"): "O8",
        ("account_id", "must name an account in accounts"): "O9",
        (
            "assignment_probability",
            "a randomised offer needs its assignment_probability (> 0)",
        ): "O3",
    }
    for key, offer in expected.items():
        assert key in got, (key, sorted(got))
        assert offer in got[key], (key, got[key])
    assert set(report["table"]) == {"offers"}
    assert len(got) == len(expected)
    with pytest.raises(ValidationError):
        from recovery.data.schema import validated_copy

        validated_copy(p)


def test_a_lender_offers_export_loads_through_a_mapping_and_round_trips(tmp_path):
    from recovery.data.io import load_portfolio, save_portfolio
    from recovery.data.mapping import Mapping

    book = offers_book()
    lender = book.offers.rename(
        columns={"offer_id": "arrangement_no", "kind": "plan_type", "outcome": "answer"}
    )
    lender["plan_type"] = lender["plan_type"].map({"payment_plan": "IP"})
    lender["answer"] = lender["answer"].map({"accepted": "Y"})
    mapping = Mapping.from_dict(
        {
            "tables": {
                "offers": {
                    "columns": {
                        "arrangement_no": "offer_id",
                        "plan_type": "kind",
                        "answer": "outcome",
                    },
                    "codes": {"kind": {"IP": "payment_plan"}, "outcome": {"Y": "accepted"}},
                }
            }
        }
    )
    mapped = mapping.to_portfolio({"offers": lender})
    pd.testing.assert_frame_equal(mapped.offers[book.offers.columns], book.offers)
    save_portfolio(book, tmp_path / "book")
    back = load_portfolio(tmp_path / "book")
    assert back.offers["offer_id"].tolist() == ["O1", "O2"]
    ep = episodes(back, end="2023-12-31")
    assert ep.loc[ep["account_id"] == "P", "end_reason"].astype(str).tolist()[0] == "re_aged"
