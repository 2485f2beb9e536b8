"""Shared fixtures: small, readable, hand-built tables."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from recovery.data.portfolio import Portfolio  # noqa: E402
from recovery.datasets import tiny_tables  # noqa: E402  (tests import it from here)


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
