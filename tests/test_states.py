"""Transitions between roll-rate states: the fast path equals the merge it replaces."""

from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from recovery.analytics.states import snapshot_states, transitions
from recovery.config import Config
from recovery.datasets import load_sample
from recovery.timeline import aging

CFG = Config()


@pytest.fixture(scope="module")
def snaps():
    return aging.snapshots(load_sample(), config=CFG)


def _via_merge(frame: pd.DataFrame, **kw) -> pd.DataFrame:
    """The same transitions through the merge path (taken when a segment is asked for)."""
    return transitions(frame, CFG, segment="product", **kw).drop(columns="product")


@pytest.mark.parametrize("seed", [None, 5])
def test_transitions_on_integer_keys_equal_the_merge(snaps, seed):
    frame = snaps if seed is None else snaps.sample(frac=1.0, random_state=seed)
    fast = transitions(frame, CFG)
    assert_frame_equal(fast, _via_merge(frame), check_exact=True)
    # invariants: each account once per start month; entries come from "new"
    assert not fast.duplicated(["account_id", "month_end"]).any()
    states = snapshot_states(frame, CFG)
    first = states.groupby("account_id")["month_no"].transform("min") == states["month_no"]
    entered = fast[fast["from_state"] == "new"]
    assert len(entered) == int((first & (states["month_no"] > states["month_no"].min())).sum())


def test_a_part_with_the_whole_tables_months_equals_the_merge(snaps):
    states = snapshot_states(snaps, CFG)
    part = states[states["account_id"].isin(states["account_id"].unique()[:150])]
    months = states["month_no"].unique()
    assert_frame_equal(transitions(part, CFG, months=months), _via_merge(part, months=months))


def test_hand_worked_transitions_of_three_accounts():
    """A: M0 -> M2 -> paid off; B enters in February; C is absent in March."""
    s = pd.DataFrame(
        {
            "account_id": ["A", "A", "A", "B", "B", "C", "C"],
            "month_end": pd.to_datetime(
                ["2024-01-31", "2024-02-29", "2024-03-31", "2024-02-29", "2024-03-31"]
                + ["2024-01-31", "2024-02-29"]
            ),
            "dpd": [0, 40, 0, 0, 0, 10, 0],
            "bucket": ["M0", "M2", None, "M0", "M0", "M1", "M0"],
            "balance": [100.0, 90.0, 0.0, 50.0, 45.0, 20.0, 15.0],
            "amount_overdue": [0.0, 9.0, 0.0, 0.0, 0.0, 2.0, 0.0],
            "paid_in_month": [0.0, 0.0, 90.0, 0.0, 5.0, 0.0, 5.0],
            "status": ["open", "open", "paid_off", "open", "open", "open", "open"],
        }
    )
    t = transitions(s, CFG)
    got = t[["account_id", "from_state", "to_state", "balance", "next_balance"]]
    assert got.values.tolist() == [
        ["A", "M0", "M2", 100.0, 90.0],  # January -> February
        ["B", "new", "M0", 50.0, 50.0],  # B enters in February: weighted at February
        ["C", "M1", "M0", 20.0, 15.0],
        ["A", "M2", "paid_off", 90.0, 0.0],  # February -> March
        ["B", "M0", "M0", 50.0, 45.0],
        ["C", "M0", "other_exit", 15.0, 0.0],  # absent in March: gone
    ]
    assert t["next_paid_in_month"].tolist() == [0.0, 0.0, 5.0, 90.0, 5.0, 0.0]
    assert t["amount_overdue"].tolist() == [0.0, 0.0, 2.0, 9.0, 0.0, 0.0]
    assert t["month_end"].dt.strftime("%m").tolist() == ["01"] * 3 + ["02"] * 3
    assert_frame_equal(t, _via_merge(s.assign(product="p")))
