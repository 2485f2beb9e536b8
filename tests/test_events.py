"""The point-in-time core (recovery.timeline.events): window bounds and the schedule in force."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recovery.timeline.days import day_numbers
from recovery.timeline.events import Events, Pairs, ScheduleVersions, schedule_in_force


def test_first_event_of_each_account_searched_once_is_the_same():
    # accounts 0 and 2 have events, 1 has none (its first event is where 2's start),
    # 3 is after the last event; a missing day (-1) sorts before its account's days
    codes = np.array([0, 0, 2, 2, 2])
    days = day_numbers(["2024-01-05", "2024-01-20", None, "2024-01-07", "2024-02-01"])
    ev = Events(codes, days, amount=np.array([1.0, 2.0, 4.0, 8.0, 16.0]))
    q = np.array([3, 0, 1, 2, 2, 0])
    # by hand: account 0 starts at 0, 1 at 2, 2 at 3 (its day -1 has key 2*span - 1,
    # before 2*span: it ends 1's rows and is inside no window), 3 at the end (5)
    assert ev.start(q).tolist() == [5, 0, 2, 3, 3, 0]
    assert ev.start(np.array([1, 0])).tolist() == [2, 0]  # asked again: the table kept
    # to-date sums use that start: account 2 on 2024-01-31 has only the 01-07 event
    on = day_numbers(["2024-01-31"] * 4)
    got = ev.window("amount", np.array([0, 1, 2, 3]), on, None)
    assert got.tolist() == [3.0, 0.0, 8.0, 0.0]
    # windows of several lengths share the end of the window: same sums as by hand
    d = day_numbers(["2024-02-01"] * 2)
    qc = np.array([0, 2])
    assert ev.window("amount", qc, d, 20).tolist() == [2.0, 16.0]  # (01-12, 02-01]
    assert ev.window("amount", qc, d, 30).tolist() == [3.0, 24.0]  # (01-02, 02-01]
    assert ev.window(None, qc, d, 1).tolist() == [0.0, 1.0]  # 02-01 only
    assert ev.last(qc, d).tolist() == [1, 4]


def test_first_event_with_sparse_or_negative_codes_falls_back():
    ev = Events(np.array([5, 10_000_000]), day_numbers(["2024-01-01", "2024-01-02"]))
    assert ev.start(np.array([10_000_000, 5, 6])).tolist() == [1, 0, 1]
    assert ev.start(np.array([-1, 5])).tolist() == [0, 0]


def _schedule() -> pd.DataFrame:
    """Account A: version 1 (3 × 100), then version 2 from 2023-03-15 (40, 40, 60);
    account B: one version without effective date (50, 70); C has no schedule."""
    return pd.DataFrame(
        {
            "account_id": ["B", "A", "A", "A", "A", "A", "A", "B"],
            "installment_no": [1, 1, 2, 3, 1, 2, 3, 2],
            "due_date": pd.to_datetime(
                ["2023-01-31", "2023-01-31", "2023-02-28", "2023-03-31"]
                + ["2023-03-31", "2023-04-30", "2023-05-31", "2023-02-28"]
            ),
            "amount_due": [50.0, 100.0, 100.0, 100.0, 40.0, 40.0, 60.0, 70.0],
            "schedule_version": [1, 1, 1, 1, 2, 2, 2, 1],
            "effective_from": pd.to_datetime([None] * 4 + ["2023-03-15"] * 3 + [None]),
        }
    )


def test_schedule_versions_of_pairs_by_hand():
    pairs = Pairs.of(
        pd.DataFrame(
            {
                "account_id": ["A", "A", "B", "C"],
                "as_of": pd.to_datetime(["2023-03-14", "2023-04-30", "2023-01-31", "2023-01-31"]),
            }
        )
    )
    sched = _schedule()
    got = pairs.schedule(sched).at(pairs.codes, pairs.days)
    assert pairs.schedule(sched) is pairs.schedule(sched)  # built once per table
    # A 03-14: version 1, 03-31 left, median 100; A 04-30: version 2, 05-31 left, median
    # of (40, 40, 60) = 40; B 01-31: 02-28 left, median of (50, 70) = 60; C: none
    np.testing.assert_array_equal(got["schedule_version"], [1, 2, 1, np.nan])
    np.testing.assert_array_equal(got["installments_remaining"], [1, 1, 1, np.nan])
    np.testing.assert_array_equal(got["installment_amount"], [100, 40, 60, np.nan])
    # the same as schedule_in_force on the ids
    by_ids = schedule_in_force(sched, pairs.frame["account_id"], pairs.frame["as_of"])
    pd.testing.assert_frame_equal(got, by_ids)


def test_schedule_versions_leave_out_rows_without_a_code():
    sched = _schedule()
    codes = np.where(sched["account_id"].eq("A"), 0, -1)  # only A's rows
    versions = ScheduleVersions(sched, codes)
    got = versions.at(np.array([0, 0]), day_numbers(["2023-01-01", "2023-03-15"]))
    assert got["schedule_version"].tolist() == [1, 2]
    assert got["installments_remaining"].tolist() == [3, 3]
    empty = ScheduleVersions(sched, np.full(len(sched), -1)).at(np.array([0]), np.array([0]))
    assert empty.isna().all(axis=None) and list(empty.columns) == list(got.columns)
