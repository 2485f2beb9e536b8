"""Customer-level features (recovery.timeline.customer_features), worked by hand.

Customer C holds five loans, each of 3 × 100 due at month ends (2023 dates):

- K1 opened 2023-01-01, paid 01-31 only: at 2023-03-15 DPD 15 (28 Feb unpaid), 100 overdue;
- K2 opened 2023-01-01, paid 01-31 and 02-28 on time plus 50 on 03-10, that 50 returned
  on 03-20: current at 03-15;
- K3 opened 2022-10-01, never paid: at 03-15 DPD 135 (since 2022-10-31), 300 overdue;
- K4 opened 2023-04-01: does not exist yet at 03-15;
- K5 opened 2022-06-01, paid in full on its due dates: paid off since 2022-08-31.

Customer D holds L1 (K1's contract and payments); it must not mix with C.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.data.schema import DataNoteWarning
from recovery.timeline.customer_features import CUSTOMER_FEATURES, customer_features

OPENED = {
    "K1": "2023-01-01",
    "K2": "2023-01-01",
    "K3": "2022-10-01",
    "K4": "2023-04-01",
    "K5": "2022-06-01",
    "L1": "2023-01-01",
}
PAID = [  # account, date, amount, reversed
    ("K1", "2023-01-31", 100.0, None),
    ("K2", "2023-01-31", 100.0, None),
    ("K2", "2023-02-28", 100.0, None),
    ("K2", "2023-03-10", 50.0, "2023-03-20"),
    ("K5", "2022-06-30", 100.0, None),
    ("K5", "2022-07-31", 100.0, None),
    ("K5", "2022-08-31", 100.0, None),
    ("L1", "2023-01-31", 100.0, None),
]


def _book(customers=None) -> Portfolio:
    ids = list(OPENED)
    customers = customers or {a: ("D" if a == "L1" else "C") for a in ids}
    accounts = pd.DataFrame(
        {
            "account_id": ids,
            "customer_id": [customers[a] for a in ids],
            "product": "consumer_installment",
            "origination_date": pd.to_datetime([OPENED[a] for a in ids]),
            "principal": 300.0,
            "term_months": 3,
            "interest_rate": 0.0,
        }
    )
    rows = []
    for a in ids:
        first = pd.Timestamp(OPENED[a])
        for i in range(3):
            due = first + pd.offsets.MonthEnd(i + 1)
            rows.append((a, i + 1, due, 100.0, 100.0, 1))
    schedule = pd.DataFrame(
        rows,
        columns=[
            "account_id",
            "installment_no",
            "due_date",
            "amount_due",
            "principal_due",
            "schedule_version",
        ],
    )
    payments = pd.DataFrame(PAID, columns=["account_id", "payment_date", "amount", "reversed_date"])
    payments = payments.assign(
        payment_id=[f"P{i}" for i in range(len(payments))],
        payment_date=pd.to_datetime(payments["payment_date"]),
        reversed_date=pd.to_datetime(payments["reversed_date"]),
        channel="bank_transfer",
    )
    return Portfolio(accounts=accounts, schedule=schedule, payments=payments)


def _at(pf, account, day):
    q = pd.DataFrame({"account_id": [account], "as_of": pd.to_datetime([day])})
    return customer_features(pf, q, Config()).iloc[0]


def test_customer_features_by_hand():
    f = _at(_book(), "K1", "2023-03-15")
    # on the books: K1, K2, K3 (K4 not yet opened, K5 paid off); overdue: K1 and K3
    assert (f["customer_accounts"], f["customer_accounts_overdue"]) == (3, 2)
    assert f["customer_worst_dpd"] == 30 + 31 + 31 + 28 + 15  # K3 since 2022-10-31
    assert (f["customer_other_charged_off"], f["customer_other_paid_off"]) == (0, 1)
    assert f["customer_other_amount_overdue"] == 300.0  # K3's three installments
    # K2's payments: (02-13, 03-15] holds 02-28 and 03-10 (its return is not known yet)
    assert (f["customer_other_paid_30d"], f["customer_other_payment_count_30d"]) == (150.0, 2)
    assert (f["customer_other_paid_90d"], f["customer_other_payment_count_90d"]) == (250.0, 3)
    # ten days later the 50 has come back: it no longer counts
    g = _at(_book(), "K1", "2023-03-25")
    assert (g["customer_other_paid_30d"], g["customer_other_payment_count_30d"]) == (100.0, 1)
    # from K3's side, K1's 100 of 01-31 is 43 days before 03-15: within 90 days only
    h = _at(_book(), "K3", "2023-03-15")
    assert (h["customer_other_paid_30d"], h["customer_other_paid_90d"]) == (150.0, 350.0)
    assert h["customer_other_amount_overdue"] == 100.0  # K1's February installment
    # D's single loan sees only itself
    d = _at(_book(), "L1", "2023-03-15")
    assert (d["customer_accounts"], d["customer_worst_dpd"]) == (1, 15)
    others = [c for c in CUSTOMER_FEATURES if "other" in c]
    assert (d[others] == 0).all()


def test_a_loan_opened_later_appears_from_its_opening():
    before = _at(_book(), "K1", "2023-03-31")
    after = _at(_book(), "K1", "2023-04-01")
    assert after["customer_accounts"] == before["customer_accounts"] + 1  # K4 opened


def test_missing_customer_id_is_its_own_customer_and_said():
    customers = {a: ("D" if a == "L1" else "C") for a in OPENED}
    customers["K3"] = None
    with pytest.warns(DataNoteWarning, match="customer features are counted per account"):
        f = _at(_book(customers), "K1", "2023-03-15")
    assert f["customer_accounts"] == 2 and f["customer_worst_dpd"] == 15
    assert np.isclose(f["customer_other_amount_overdue"], 0.0)
