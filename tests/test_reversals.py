"""Reversals exported as negative payment rows (issue 18, item 1)."""

from __future__ import annotations

import pandas as pd
import pytest

from recovery.data.reversals import reverse_negative_rows
from recovery.errors import DataError


def _ledger(rows):
    return pd.DataFrame(
        rows, columns=["payment_id", "account_id", "payment_date", "amount"]
    ).assign(channel="auto_debit")


def test_each_negative_row_reverses_the_latest_earlier_unmatched_payment():
    ledger = _ledger(
        [
            ("P1", "A", "2024-03-01", 50.0),
            ("P2", "A", "2024-03-02", 50.0),
            ("R1", "A", "2024-03-05", -50.0),  # latest earlier unmatched 50: P2
            ("R2", "A", "2024-03-06", -50.0),  # then P1
            ("P3", "A", "2024-04-01", 50.0),
            ("R3", "A", "2024-04-02", -50.0),  # P3
            ("P4", "A", "2024-04-03", 80.0),  # another amount: untouched
            ("P5", "B", "2024-01-01", 10.0),
            ("R4", "B", "2024-01-01", -10.0),  # the same day counts as earlier
            ("P6", "B", "2024-01-05", 10.0),  # after the reversal: untouched
            ("P7", "C", "2024-02-10", 30.0),
        ]
    )
    out = reverse_negative_rows(ledger)
    dates = out["reversed_date"]
    got = {
        p: (None if pd.isna(d) else d.strftime("%m-%d"))
        for p, d in zip(out["payment_id"], dates, strict=True)
    }
    assert got == {
        "P1": "03-06",
        "P2": "03-05",
        "P3": "04-02",
        "P4": None,
        "P5": "01-01",
        "P6": None,
        "P7": None,
    }
    # the negative rows are gone, the others keep their order and amounts
    assert out["payment_id"].tolist() == ["P1", "P2", "P3", "P4", "P5", "P6", "P7"]
    assert (out["amount"] > 0).all()


def test_order_of_rows_in_the_file_does_not_matter():
    ledger = _ledger(
        [
            ("R1", "A", "2024-03-05", -50.0),
            ("P2", "A", "2024-03-02", 50.0),
            ("P1", "A", "2024-03-01", 50.0),
        ]
    )
    out = reverse_negative_rows(ledger).set_index("payment_id")
    assert out.loc["P2", "reversed_date"] == pd.Timestamp("2024-03-05")
    assert pd.isna(out.loc["P1", "reversed_date"])


def test_a_payment_already_reversed_is_not_reversed_twice():
    ledger = _ledger(
        [
            ("P1", "A", "2024-03-01", 50.0),
            ("P2", "A", "2024-03-02", 50.0),
            ("R1", "A", "2024-03-05", -50.0),
        ]
    ).assign(reversed_date=[None, "2024-03-03", None])
    out = reverse_negative_rows(ledger).set_index("payment_id")
    # P2 was returned on 03-03 already: the negative row reverses P1
    assert out["reversed_date"].dt.strftime("%m-%d").tolist() == ["03-05", "03-03"]


def test_an_unmatched_negative_row_is_an_error_naming_it():
    ledger = _ledger(
        [
            ("P1", "A", "2024-03-01", 50.0),
            ("R1", "A", "2024-02-20", -50.0),  # before the payment
            ("R2", "B", "2024-03-05", -70.0),  # no payment at all
            ("P2", "C", "2024-03-01", 40.0),
            ("R3", "C", "2024-03-05", -45.0),  # another amount
        ]
    )
    with pytest.raises(DataError) as err:
        reverse_negative_rows(ledger)
    text = str(err.value)
    assert text.startswith("table 'payments': 3 negative row(s) reverse no earlier payment")
    for row in ("row 1: account_id='A', payment_id='R1'", "payment_id='R2'", "payment_id='R3'"):
        assert row in text


def test_without_negative_rows_the_table_is_returned_as_is():
    ledger = _ledger([("P1", "A", "2024-03-01", 50.0)])
    assert reverse_negative_rows(ledger) is ledger
