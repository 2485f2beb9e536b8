"""Contract checks for real exports (issue 18): credit balances, status only, notes."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from recovery.data.io import load_portfolio, save_portfolio
from recovery.data.portfolio import Portfolio
from recovery.data.schema import DataNoteWarning, read_negative_amounts, validate_table
from recovery.errors import ValidationError


def _snapshots(**columns) -> pd.DataFrame:
    base = {
        "account_id": ["A1", "A2", "A3"],
        "month_end": ["2024-01-31"] * 3,
        "dpd": [0, 45, 0],
        "bucket": ["M0", "M2", "M0"],
        "balance": [-6.0, 900.0, -200.0],
        "amount_overdue": [0.0, 100.0, -200.0],
        "paid_in_month": [20.0, 0.0, -35.0],
        "status": "open",
    }
    base.update(columns)
    return pd.DataFrame(base)


def _notes(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    return out, [str(w.message) for w in caught if issubclass(w.category, DataNoteWarning)]


def test_a_snapshots_table_with_credit_balances_loads_with_notes(tmp_path):
    save_portfolio(Portfolio(snapshots=_snapshots()), tmp_path, fmt="csv", validate=False)
    book, notes = _notes(lambda: load_portfolio(tmp_path))
    snaps = book.snapshots
    # exposure 0 on a credit balance, nothing overdue there, the credit kept aside
    assert snaps["balance"].tolist() == [0.0, 900.0, 0.0]
    assert snaps["credit_balance"].tolist() == [6.0, 0.0, 200.0]
    assert snaps["amount_overdue"].tolist() == [0.0, 100.0, 0.0]
    assert snaps["paid_in_month"].tolist() == [20.0, 0.0, -35.0]  # a net, kept
    assert notes == [
        "table 'snapshots', column 'balance': 2 row(s) with a credit balance (below zero), "
        "read as zero exposure (the credit kept in credit_balance, nothing overdue), e.g. "
        "row 0: account_id='A1', month_end=2024-01-31, balance=-6.0; row 2: account_id='A3', "
        "month_end=2024-01-31, balance=-200.0",
        "table 'snapshots', column 'paid_in_month': 1 row(s) with a negative amount (reversals "
        "exceeding payments), kept as the net, e.g. row 2: account_id='A3', "
        "month_end=2024-01-31, paid_in_month=-35.0",
    ]


def test_negative_overdue_on_a_positive_balance_stays_an_error():
    bad = _snapshots(amount_overdue=[0.0, -1.0, 0.0])
    with pytest.raises(ValidationError, match="'amount_overdue': must be >= 0 — 1 row"):
        _notes(lambda: validate_table("snapshots", bad))


def test_a_status_only_snapshots_table_is_valid():
    states = _snapshots().drop(columns=["balance", "amount_overdue", "paid_in_month"])
    out = validate_table("snapshots", states)
    assert list(out.columns) == ["account_id", "month_end", "dpd", "bucket", "status"]


def test_nothing_negative_returns_the_same_frame():
    snaps = _snapshots(balance=[1.0, 2.0, 3.0], amount_overdue=0.0, paid_in_month=0.0)
    assert read_negative_amounts("snapshots", snaps) is snaps
