"""Shared fixtures: small, readable, hand-built tables."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from recovery.data.portfolio import Portfolio  # noqa: E402
from recovery.datasets import tiny_tables  # noqa: E402  (tests import it from here)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say so when the report rendering check (headless Chromium) did not run."""
    skipped = terminalreporter.stats.get("skipped", [])
    reasons = [str(getattr(r, "longrepr", "")) for r in skipped]
    missed = sum("Chromium" in reason for reason in reasons)
    if missed:
        terminalreporter.write_sep("=", "the report rendering check did not run", yellow=True)
        terminalreporter.write_line(
            f"{missed} test(s) opening the rendered report in headless Chromium were skipped: "
            "no Chromium was found. Install it (Debian/Ubuntu: sudo apt-get install chromium) "
            "to check the report as a browser shows it."
        )


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


# ----------------------------------------------------------------- outputs unchanged
# Digests of the tables of aging, features and labels computed ONCE with the code on main
# before issue #21 changed how they are computed (the same script, /work/wt/aging at
# commit f58d05e): the tables must stay byte-identical. The 20k book is simulated; if the
# simulator's book itself changes, the comparison cannot be made and the test says so.
GOLDEN_DIGESTS = {
    "sample": {
        "snapshots": "23deb84beaca4057",
        "episodes": "bd69971eb0e15b7f",
        "features": "cd9aee9107f5d0da",
        "labels": "99327877f845ef6f",
    },
    "sim20k": {
        "book": {
            "accounts": "fdd9b6d18cbac9b1",
            "schedule": "d0c945a170bfa2d5",
            "payments": "0caf0764f90c9b1b",
            "actions": "a8af80c8c7722674",
            "events": "56222b9a9adea903",
        },
        "snapshots": "753cea99a56ece44",
        "episodes": "6cc8e4950b55895e",
        "features": "f7ade74105cf1162",
        "labels": "6a5975fcd0706076",
    },
}


def frame_digest(frame: pd.DataFrame) -> str:
    """A short sha256 of a table: column names, dtypes and every value, in row order."""
    import hashlib

    digest = hashlib.sha256()
    for name in frame.columns:
        column = frame[name]
        digest.update(f"{name}:{column.dtype};".encode())
        digest.update(pd.util.hash_pandas_object(column, index=False).to_numpy().tobytes())
    digest.update(str(frame.shape).encode())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def simulated_20k():
    """A 20,000-account simulated book (36 months, seed 21), its last 12 month ends, and
    whether it is the book the golden digests were computed on."""
    from recovery.simulate import simulate_portfolio

    portfolio, _ = simulate_portfolio(n_accounts=20_000, months=36, seed=21)
    dates = list(pd.date_range(end=portfolio.data_end, periods=12, freq="ME"))
    book = {
        name: frame_digest(getattr(portfolio, name)) for name in GOLDEN_DIGESTS["sim20k"]["book"]
    }
    return portfolio, dates, book == GOLDEN_DIGESTS["sim20k"]["book"]


@pytest.fixture(scope="session")
def sample_book():
    """The shipped sample and its last 6 month ends."""
    from recovery.datasets import load_sample

    portfolio = load_sample()
    dates = list(pd.date_range(end=portfolio.data_end, periods=6, freq="ME"))
    return portfolio, dates


def assert_unchanged_since_main(table: str, make, sample_book, simulated_20k) -> None:
    """``make(portfolio, dates)`` on the sample and the 20k book has main's digests."""
    portfolio, dates = sample_book
    assert frame_digest(make(portfolio, dates)) == GOLDEN_DIGESTS["sample"][table], table
    portfolio, dates, same_book = simulated_20k
    if not same_book:
        pytest.skip("the simulator's 20k book changed: recompute the digests with main's code")
    assert frame_digest(make(portfolio, dates)) == GOLDEN_DIGESTS["sim20k"][table], table


def three_loan_tables() -> dict[str, pd.DataFrame]:
    """:func:`tiny_tables` plus customer C9 with three loans K1, K2, K3 (A1's contract,
    opened 0, 5 and 12 days after it), nothing ever paid: each is overdue from its
    first due date (10, 15 and 22 February 2024). A1 and A2 stay C1's and C2's."""
    t = tiny_tables()
    shifts = {"K1": 0, "K2": 5, "K3": 12}
    a1 = t["accounts"][t["accounts"]["account_id"].eq("A1")]
    s1 = t["schedule"][t["schedule"]["account_id"].eq("A1")]
    accounts, schedule = [t["accounts"]], [t["schedule"]]
    for account, days in shifts.items():
        shift = pd.Timedelta(days=days)
        accounts.append(
            a1.assign(
                account_id=account,
                customer_id="C9",
                origination_date=a1["origination_date"] + shift,
            )
        )
        schedule.append(s1.assign(account_id=account, due_date=s1["due_date"] + shift))
    t["accounts"] = pd.concat(accounts, ignore_index=True)
    t["schedule"] = pd.concat(schedule, ignore_index=True)
    return t


@pytest.fixture(scope="module")
def stable_book() -> pd.DataFrame:
    """A stable Markov book: 30 months, 200 new loans a month, recoveries after charge-off."""
    from synthetic_snapshots import make_book

    return make_book(months=30, new_per_month=200, seed=5, recovery_prob=0.3)
