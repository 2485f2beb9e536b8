"""Hand-built books with offers (shared by tests/test_offers.py and tests/test_offer_rules.py).

Books in 2023 (not a leap year): Jan 31 + 28 days = Feb 28, + 31 = Mar 31, + 30 = Apr 30,
+ 31 = May 31, + 30 = Jun 30, + 31 = Jul 31 …

Account P (the plan): 600 lent on 2023-01-01, 6 × 100 due on the last day of Jan–Jun.
Paid Jan, Feb, Mar on time; misses Apr 30 and May 31. A payment plan is offered on
Jun 5 and accepted on Jun 8: schedule version 2, in force from Jun 8, asks the 300
still owed as 6 × 50 due on the 8th of Jul–Dec. Pays Jul 8 and Aug 8, then stops.

Account Q (the payment cure, P's twin): same loan and history, but instead of a plan
it pays the 200 overdue on Jun 8 and the last installment on Jun 30 (paid off).

Account C (a plan on charged-off debt): same loan, never pays; charged off on
Jan 31 + 180 = Jul 30. Accepts on Sep 1 a plan of 3 × 100 (half the 600) due Oct 1,
Nov 1, Dec 1, pays each, and the lender records the settlement on Dec 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recovery.data.portfolio import Portfolio

DUES = pd.to_datetime(
    ["2023-01-31", "2023-02-28", "2023-03-31", "2023-04-30", "2023-05-31", "2023-06-30"]
)
T = pd.Timestamp


def _schedule(account: str, extra: list[tuple] = ()) -> list[dict]:
    rows = [
        {
            "account_id": account,
            "installment_no": k + 1,
            "due_date": due,
            "amount_due": 100.0,
            "schedule_version": 1,
            "effective_from": pd.NaT,
        }
        for k, due in enumerate(DUES)
    ]
    for version, effective, dues, amount in extra:
        rows += [
            {
                "account_id": account,
                "installment_no": k + 1,
                "due_date": T(due),
                "amount_due": amount,
                "schedule_version": version,
                "effective_from": T(effective),
            }
            for k, due in enumerate(dues)
        ]
    return rows


PLAN_DUES = ["2023-07-08", "2023-08-08", "2023-09-08", "2023-10-08", "2023-11-08", "2023-12-08"]


def offers_book(with_offers: bool = True) -> Portfolio:
    """Accounts P, Q and C of the module notes, as a lender's export would hold them."""
    ids = ["P", "Q", "C"]
    accounts = pd.DataFrame(
        {
            "account_id": ids,
            "customer_id": ["CP", "CQ", "CC"],
            "product": "consumer_installment",
            "origination_date": T("2023-01-01"),
            "principal": 600.0,
            "term_months": 6,
            "interest_rate": 0.0,
        }
    )
    schedule = pd.DataFrame(
        _schedule("P", [(2, "2023-06-08", PLAN_DUES, 50.0)])
        + _schedule("Q")
        + _schedule("C", [(2, "2023-09-01", ["2023-10-01", "2023-11-01", "2023-12-01"], 100.0)])
    )
    paid = [("P", d, 100.0) for d in DUES[:3]] + [("Q", d, 100.0) for d in DUES[:3]]
    paid += [("P", T("2023-07-08"), 50.0), ("P", T("2023-08-08"), 50.0)]
    paid += [("Q", T("2023-06-08"), 200.0), ("Q", T("2023-06-30"), 100.0)]
    paid += [("C", T(d), 100.0) for d in ("2023-10-01", "2023-11-01", "2023-12-01")]
    payments = pd.DataFrame(paid, columns=["account_id", "payment_date", "amount"])
    payments["channel"] = "bank_transfer"
    payments["payment_id"] = [f"X{i}" for i in range(len(payments))]
    events = pd.DataFrame(
        {"account_id": ["C"], "date": [T("2023-12-01")], "event": ["settled"]},
    )
    offers = pd.DataFrame(
        {
            "offer_id": ["O1", "O2"],
            "account_id": ["P", "C"],
            "offered_at": pd.to_datetime(["2023-06-05", "2023-09-01"]),
            "kind": ["payment_plan", "payment_plan"],
            "discount_share": [0.0, 0.5],
            "installments": [6, 3],
            "plan_amount": [300.0, 300.0],
            "deferral_months": [np.nan, np.nan],
            "outcome": ["accepted", "accepted"],
            "outcome_date": pd.to_datetime(["2023-06-08", "2023-09-01"]),
            "schedule_version": [2, 2],
            "result": ["broken", "completed"],
            "result_date": pd.to_datetime(["2023-10-08", "2023-12-01"]),
            "randomized": [False, True],
            "assignment_probability": [np.nan, 0.25],
        }
    )
    return Portfolio(
        accounts=accounts,
        schedule=schedule,
        payments=payments,
        events=events,
        offers=offers if with_offers else None,
        meta={"data_end": "2023-12-31"},
    )
