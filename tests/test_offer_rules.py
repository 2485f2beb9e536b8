"""Guardrails on offers (recovery.operations.offer_rules): each lender rule, by hand.

The book is tests/offer_books.py's (accounts P, Q, C; see its notes): P accepted a
6-month plan on 2023-06-08 after three payments and broke it on 2023-10-08; C, charged
off on 2023-07-30, accepted a half-price plan on 2023-09-01.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from offer_books import offers_book
from recovery.config import Config
from recovery.operations.compliance import flag_actions
from recovery.operations.offer_rules import (
    OFFER_RULES,
    check_offers,
    forborne,
    offer_breaches,
    offer_context,
)

T = pd.Timestamp


def with_offers(rows: list[dict], events: list[tuple] = (), actions: list[tuple] = ()):
    p = offers_book()
    p.offers = pd.concat([p.offers, pd.DataFrame(rows)], ignore_index=True)
    if events:
        extra = pd.DataFrame(events, columns=["account_id", "date", "event"])
        p.events = pd.concat([p.events, extra], ignore_index=True)
    if actions:
        p.actions = pd.DataFrame(actions, columns=["account_id", "ts", "outcome"]).assign(
            action_id=lambda d: [f"a{i}" for i in range(len(d))], agent_id="G", channel="call"
        )
    return p


def broken(p, offer_id: str) -> list[str]:
    found = check_offers(p)
    return sorted(found.loc[found["offer_id"] == offer_id, "rule"])


def test_the_book_keeps_every_rule_and_its_context_is_what_the_ledger_says():
    p = offers_book()
    assert check_offers(p).empty
    ctx = offer_context(p).set_index("offer_id")
    # O1 on Jun 5, read on Jun 4: P 35 days past due (M2, early), 3 payments, the
    # installment in force 100, balance 300; debt age Jun 4 - Apr 30 = 35
    o1 = ctx.loc["O1"]
    assert (o1["stage"], o1["payments_before"], o1["installment_amount"]) == ("early", 3, 100.0)
    assert (o1["debt_age_days"], o1["balance"]) == (35, 300.0)
    # O2 on Sep 1, read on Aug 31: C charged off, debt age Aug 31 - Jan 31 = 212 days
    # (7 months: the 50 % discount is the most allowed below 24 months)
    o2 = ctx.loc["O2"]
    assert (o2["stage"], o2["debt_age_days"], o2["payments_before"]) == ("charged_off", 212, 0)
    assert not ctx[["fraud", "deceased", "in_dispute", "open_offer"]].any().any()


def test_blocked_accounts_get_no_offer():
    rows = [
        {"offer_id": "F", "account_id": "Q", "offered_at": T("2023-05-10"), "kind": "settlement"},
        {"offer_id": "D", "account_id": "C", "offered_at": T("2023-05-10"), "kind": "settlement"},
        {"offer_id": "S", "account_id": "P", "offered_at": T("2023-05-10"), "kind": "settlement"},
        {"offer_id": "S2", "account_id": "P", "offered_at": T("2023-05-25"), "kind": "settlement"},
    ]
    for row in rows:
        row |= {"discount_share": 0.0, "outcome": "declined"}
    p = with_offers(
        rows,
        events=[("Q", T("2023-05-01"), "fraud_confirmed"), ("C", T("2023-05-10"), "deceased")]
        + [("P", T("2023-05-20"), "dispute_closed")],
        actions=[("P", T("2023-05-02 10:00"), "dispute")],
    )
    assert broken(p, "F") == ["fraud"]
    assert broken(p, "D") == ["deceased"]  # reported on the day of the offer
    assert broken(p, "S") == ["in_dispute"]
    assert broken(p, "S2") == []  # the dispute was closed on May 20


def test_one_open_offer_at_a_time():
    rows = [  # P's plan O1 runs from Jun 8 until broken on Oct 8
        {"offer_id": "A", "account_id": "P", "offered_at": T("2023-09-01"), "outcome": "declined"},
        {"offer_id": "B", "account_id": "P", "offered_at": T("2023-10-09"), "outcome": None},
        {"offer_id": "C1", "account_id": "P", "offered_at": T("2023-10-20"), "outcome": None},
    ]
    for row in rows:
        row |= {"kind": "settlement", "discount_share": 0.0}
    p = with_offers(rows)
    assert broken(p, "A") == ["open_offer"]
    assert broken(p, "B") == []  # O1 ended on Oct 8; A was declined the day it was made
    assert broken(p, "C1") == ["open_offer"]  # B still waits for its answer


def test_terms_limits_and_re_age_rules_on_the_ledger():
    base = {"account_id": "P", "outcome": "declined"}
    rows = [
        # after the broken plan: P delinquent again; a plan within 12 months of Jun 8
        base
        | {"offer_id": "R12", "offered_at": T("2023-11-01"), "kind": "payment_plan"}
        | {"installments": 6, "plan_amount": 300.0},
        # a year after: allowed; 2 × 150 is over the 100 installment (affordability)
        base
        | {"offer_id": "U", "offered_at": T("2024-06-09"), "kind": "payment_plan"}
        | {"installments": 2, "plan_amount": 300.0},
        # 20 % off on an early-stage debt (the most is 10 %)
        base
        | {"offer_id": "X", "offered_at": T("2023-05-15"), "kind": "settlement"}
        | {"discount_share": 0.2},
        # a 7-month deferral (the most is 6)
        base
        | {"offer_id": "Y", "offered_at": T("2023-05-16"), "kind": "deferral"}
        | {"deferral_months": 7},
        # a 61-month plan (the most is 60)
        base
        | {"offer_id": "Z", "offered_at": T("2023-05-17"), "kind": "payment_plan"}
        | {"installments": 61, "plan_amount": 300.0},
        # C on May 10 (99 days past due, late stage) has never paid: no re-age yet
        {"offer_id": "W", "account_id": "C", "offered_at": T("2023-05-10"), "outcome": "declined"}
        | {"kind": "deferral", "deferral_months": 1},
    ]
    p = with_offers(rows)
    p.meta["data_end"] = "2024-12-31"
    assert broken(p, "R12") == ["reage_within_12_months"]
    assert broken(p, "U") == ["unaffordable"]
    assert broken(p, "X") == ["discount_too_deep"]
    assert broken(p, "Y") == ["deferral_too_long"]
    assert broken(p, "Z") == ["plan_too_long"]
    assert broken(p, "W") == ["reage_too_few_payments"]


def context(**columns) -> pd.DataFrame:
    base = {
        "kind": "payment_plan",
        "discount_share": 0.0,
        "installments": 6,
        "stage": "early",
        "debt_age_days": 45,
        "balance": 600.0,
        "installment_amount": 100.0,
        "payments_before": 3,
        "reages_12_months": 0,
        "reages_5_years": 0,
    }
    return pd.DataFrame([base | columns])


@pytest.mark.parametrize(
    "columns, rule",
    [
        ({"installments": 60, "balance": 6000.0}, None),  # 60 x 100: at both limits
        ({"installments": 61, "balance": 6100.0}, "plan_too_long"),
        ({"installments": 5}, "unaffordable"),  # 600 / 5 = 120 > 100
        ({"plan_amount": 600.02}, None),  # 100.0033: within half a cent (rounding)
        ({"plan_amount": 600.06}, "unaffordable"),  # 100.01
        ({"kind": "deferral", "deferral_months": 6}, None),
        ({"kind": "deferral", "deferral_months": 7}, "deferral_too_long"),
        ({"kind": "settlement", "discount_share": 0.10}, None),
        ({"kind": "settlement", "discount_share": 0.11}, "discount_too_deep"),
        ({"stage": "late", "kind": "settlement", "discount_share": 0.3}, None),
        ({"stage": "late", "kind": "settlement", "discount_share": 0.31}, "discount_too_deep"),
        ({"stage": "charged_off", "debt_age_days": 730, "discount_share": 0.5}, None),
        ({"stage": "charged_off", "debt_age_days": 731, "discount_share": 0.6}, None),
        (
            {"stage": "charged_off", "debt_age_days": 700, "discount_share": 0.6},
            "discount_too_deep",
        ),
        ({"stage": "current", "kind": "settlement", "discount_share": 0.01}, "discount_too_deep"),
        ({"payments_before": 2}, "reage_too_few_payments"),
        ({"payments_before": 2, "stage": "charged_off"}, None),  # not a re-age
        ({"payments_before": 2, "stage": "current", "kind": "deferral"}, None),
        ({"reages_12_months": 1, "reages_5_years": 1}, "reage_within_12_months"),
        ({"reages_5_years": 1}, None),
        ({"reages_5_years": 2}, "reage_within_5_years"),
        (
            {"kind": "settlement", "installments": 3, "balance": 300.0, "payments_before": 0},
            "reage_too_few_payments",
        ),
        ({"kind": "settlement", "installments": 1, "payments_before": 0}, None),
        ({"fraud": True}, "fraud"),
        ({"open_offer": True}, "open_offer"),
    ],
)
def test_each_rule_at_its_limit(columns, rule):
    # 731 days = 24.02 months: the 60 % rule; 730 days = 23.98 months: still 50 %
    got = offer_breaches(context(**columns))
    assert got.columns.tolist() == list(OFFER_RULES)
    assert got.columns[got.iloc[0].to_numpy()].tolist() == ([rule] if rule else [])


def test_stricter_rules_from_config():
    cfg = Config.from_dict(
        {
            "offers": {
                "max_plan_months": 12,
                "max_installment_ratio": 2.0,
                "max_discount": [{"stage": "early", "max_discount": 0.5}],
            }
        }
    )
    got = offer_breaches(context(installments=13, balance=1300.0, discount_share=0.4), cfg)
    assert got.columns[got.iloc[0].to_numpy()].tolist() == ["plan_too_long"]
    got = offer_breaches(context(installments=3, balance=600.0), cfg)  # 200 = 2 x 100
    assert not got.to_numpy().any()
    with pytest.raises(Exception, match="max_discount"):
        Config.from_dict({"offers": {"max_discount": [{"stage": "early"}]}})


def test_forborne_from_acceptance_until_probation_after_completion():
    p = offers_book()
    # P: plan accepted Jun 8, broken Oct 8 -> forborne from Jun 8 on; C: accepted Sep 1,
    # completed Dec 1 -> forborne until Dec 1 2025 (24 months later)
    got = forborne(p.offers, ["2023-06-07", "2023-06-08", "2025-11-30", "2025-12-01"])
    assert got.astype(str).values.tolist() == [
        ["C", "2025-11-30"],
        ["P", "2023-06-08"],
        ["P", "2025-11-30"],
        ["P", "2025-12-01"],
    ]


def test_an_accepted_offer_restarts_the_limitation_clock():
    p = offers_book()
    # C's first due date Jan 31 2023; a lawsuit on Feb 2 2026 is past 3 years from it,
    # unless something restarted the clock: C's payments did (Dec 1 2023). Take C's
    # payments away: then only the plan accepted on Sep 1 2023 restarts it.
    pays = p.payments[p.payments["account_id"] != "C"]
    suit = pd.DataFrame(
        {
            "action_id": ["L1"],
            "account_id": ["C"],
            "agent_id": ["G"],
            "ts": [T("2026-02-02 10:00")],
            "channel": ["lawsuit"],
            "outcome": ["filed"],
        }
    )
    flagged = flag_actions(suit, schedule=p.schedule, payments=pays)
    assert flagged["rule"].tolist() == ["legal_after_limitation"]
    assert flag_actions(suit, schedule=p.schedule, payments=pays, offers=p.offers).empty


def test_context_needs_offers_and_schedule():
    p = offers_book()
    p.offers = None
    with pytest.raises(Exception, match="offers"):
        offer_context(p)
    assert np.array_equal(OFFER_RULES, offer_breaches(context()).columns)
