"""Shared fixtures: small, readable, hand-built tables."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from recovery.data.portfolio import Portfolio  # noqa: E402


def tiny_tables() -> dict[str, pd.DataFrame]:
    """Two loans, three installments each, a few payments, contacts and one agent.

    A1: 1,000 lent on 2024-01-10, 3 × 350 due on the 10th of Feb, Mar, Apr; paid on
        time in Feb, nothing in March (overdue from 2024-03-10), catch-up in April.
    A2: 600 lent on 2024-01-15, 3 × 210 due on the 15th; paid late once.
    """
    accounts = pd.DataFrame(
        {
            "account_id": ["A1", "A2"],
            "customer_id": ["C1", "C2"],
            "product": ["consumer_installment", "small_business"],
            "origination_date": pd.to_datetime(["2024-01-10", "2024-01-15"]),
            "principal": [1000.0, 600.0],
            "term_months": [3, 3],
            "interest_rate": [0.12, 0.10],
            "region": ["north", "south"],
            "has_guarantor": [False, True],
            "has_collateral": [False, False],
        }
    )
    schedule = pd.DataFrame(
        {
            "account_id": ["A1"] * 3 + ["A2"] * 3,
            "installment_no": [1, 2, 3] * 2,
            "due_date": pd.to_datetime(
                ["2024-02-10", "2024-03-10", "2024-04-10", "2024-02-15", "2024-03-15", "2024-04-15"]
            ),
            "amount_due": [350.0] * 3 + [210.0] * 3,
            "principal_due": [333.0, 333.0, 334.0, 200.0, 200.0, 200.0],
            "schedule_version": [1] * 6,
        }
    )
    payments = pd.DataFrame(
        {
            "payment_id": ["P1", "P2", "P3", "P4", "P5"],
            "account_id": ["A1", "A1", "A2", "A2", "A2"],
            "payment_date": pd.to_datetime(
                ["2024-02-10", "2024-04-20", "2024-02-15", "2024-03-25", "2024-04-15"]
            ),
            "amount": [350.0, 700.0, 210.0, 210.0, 210.0],
            "channel": ["auto_debit", "bank_transfer", "auto_debit", "cash", "auto_debit"],
            "reversed_date": pd.to_datetime([None, None, None, None, None]),
        }
    )
    agents = pd.DataFrame(
        {
            "agent_id": ["G1"],
            "team": ["early"],
            "level": [1],
            "hire_date": pd.to_datetime(["2020-05-01"]),
        }
    )
    actions = pd.DataFrame(
        {
            "action_id": ["X1", "X2"],
            "account_id": ["A1", "A1"],
            "agent_id": ["G1", "G1"],
            "ts": pd.to_datetime(["2024-03-12 10:00", "2024-03-20 15:30"]),
            "channel": ["sms", "call"],
            "outcome": ["delivered", "promise_to_pay"],
            "promise_amount": [None, 700.0],
            "promise_date": pd.to_datetime([None, "2024-04-20"]),
            "reason_code": [None, "cash_flow"],
            "attitude": [None, "victim"],
        }
    )
    assignments = pd.DataFrame(
        {
            "account_id": ["A1"],
            "agent_id": ["G1"],
            "start_date": pd.to_datetime(["2024-03-11"]),
            "end_date": pd.to_datetime(["2024-04-20"]),
        }
    )
    events = pd.DataFrame(
        {"account_id": ["A2"], "date": pd.to_datetime(["2024-03-20"]), "event": ["hardship_plan"]}
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
def tiny_portfolio() -> Portfolio:
    """A valid two-account portfolio (see :func:`tiny_tables`)."""
    return Portfolio(**tiny_tables(), meta={"data_end": "2024-04-30"})


# A hand-built monthly snapshot book (four month ends, six accounts) shared by the
# roll-rate, KPI and analyze tests; their expected numbers are worked out from it.
_J, _F, _M, _A = (pd.Timestamp(d) for d in ("2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"))
HAND_BOOK_COLUMNS = [
    "account_id",
    "month_end",
    "dpd",
    "bucket",
    "balance",
    "amount_overdue",
    "paid_in_month",
    "status",
]
HAND_BOOK_ROWS = [
    # account, month_end, dpd, bucket, balance, amount_overdue, paid_in_month, status
    ("A", _J, 0, "M0", 100.0, 0.0, 5.0, "open"),
    ("A", _F, 30, "M1", 95.0, 5.0, 0.0, "open"),
    ("A", _M, 60, "M2", 95.0, 10.0, 0.0, "open"),
    ("A", _A, 91, "M4", 95.0, 15.0, 0.0, "open"),
    ("B", _J, 15, "M1", 50.0, 5.0, 0.0, "open"),
    ("B", _F, 0, "M0", 40.0, 0.0, 12.0, "open"),
    ("B", _M, 0, None, 0.0, 0.0, 40.0, "paid_off"),
    ("B", _A, 0, None, 0.0, 0.0, 0.0, "paid_off"),
    ("C", _F, 0, "M0", 80.0, 0.0, 0.0, "open"),
    ("C", _M, 0, "M0", 70.0, 0.0, 10.0, "open"),
    ("D", _J, 170, "M6", 60.0, 40.0, 0.0, "open"),
    ("D", _F, 200, None, 60.0, 60.0, 0.0, "charged_off"),
    ("D", _M, 231, None, 55.0, 55.0, 5.0, "charged_off"),
    ("D", _A, 0, None, 0.0, 0.0, 30.0, "settled"),
    ("E", _J, 0, "M0", 200.0, 0.0, 0.0, "open"),
    ("E", _F, 0, "M0", 190.0, 0.0, 10.0, "open"),
    ("E", _M, 10, "M1", 190.0, 10.0, 0.0, "open"),
    ("E", _A, 0, None, 0.0, 0.0, 0.0, "closed"),
    ("F", _A, 0, "M0", 300.0, 0.0, 0.0, "open"),
]


def hand_snapshot_book() -> pd.DataFrame:
    """The shared hand-built ``snapshots`` table (see :data:`HAND_BOOK_ROWS`)."""
    return pd.DataFrame(HAND_BOOK_ROWS, columns=HAND_BOOK_COLUMNS)


def two_team_rows(seed: int = 0, n: int = 400):
    """Spell rows of two teams of 10 agents, ``n`` spells each: true effects spread 0.08
    in ``early`` (a ranking is reliable), none in ``legal`` (differences are noise).
    Returns the rows (``observed``, ``expected`` 0.4) and the true effects."""
    rng = np.random.default_rng(seed)
    frames, truth = [], {}
    for team, spread in (("early", 0.08), ("legal", 0.0)):
        for i in range(10):
            agent = f"{team}{i}"
            truth[agent] = rng.normal(0, spread) if spread else 0.0
            frames.append(
                pd.DataFrame(
                    {
                        "agent_id": agent,
                        "team": team,
                        "spell_id": np.arange(n),
                        "observed": rng.binomial(1, 0.4 + truth[agent], n),
                        "expected": 0.4,
                    }
                )
            )
    rows = pd.concat(frames, ignore_index=True)
    rows["spell_id"] = rows["agent_id"] + "-" + rows["spell_id"].astype(str)
    return rows, pd.Series(truth)
