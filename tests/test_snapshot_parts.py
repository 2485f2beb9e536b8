"""The snapshots of a book built part by part equal those of the whole book."""

from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from recovery.analytics.states import snapshot_states
from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.datasets import load_sample
from recovery.engine.partitioning import open_partitioned, write_partitioned
from recovery.engine.snapshot_parts import snapshot_parts, split_by_account
from recovery.errors import DataError
from recovery.timeline import aging

CFG = Config()


@pytest.fixture(scope="module")
def sample():
    return load_sample()


@pytest.fixture(scope="module")
def whole(sample):
    snaps = aging.snapshots(sample, config=CFG)
    return snapshot_states(snaps, CFG), aging.episodes(sample, CFG)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    keys = ["account_id", "month_end"] if "month_end" in frame else ["account_id", "start_date"]
    return frame.sort_values(keys, kind="mergesort", ignore_index=True)


def test_split_keeps_every_row_of_an_account_together(sample):
    parts = list(split_by_account(sample, 601))
    assert [len(p.accounts) for p in parts] == [601, 601, 601, 197]
    for name in ("accounts", "schedule", "payments", "events"):
        assert sum(len(getattr(p, name)) for p in parts) == len(getattr(sample, name)), name
    ids = [set(p.accounts["account_id"]) for p in parts]
    assert sum(len(i) for i in ids) == len(set().union(*ids)) == 2000  # disjoint
    assert all(set(p.payments["account_id"]) <= i for p, i in zip(parts, ids, strict=True))
    assert {str(p.data_end.date()) for p in parts} == {str(sample.data_end.date())}


@pytest.mark.parametrize("size", [601, 2000])
def test_parts_equal_the_whole_book(sample, whole, size, tmp_path):
    states, episodes = whole
    with snapshot_parts(sample, CFG, size, episodes=True, directory=tmp_path) as parts:
        assert parts.snapshots.npartitions == -(-2000 // size)
        assert parts.accounts == states["account_id"].nunique()
        together = parts.snapshots.collect()
        exact = parts.episodes
    assert_frame_equal(_sorted(together), _sorted(states), check_like=True)
    assert_frame_equal(_sorted(exact), _sorted(episodes))


def test_a_partitioned_dataset_is_read_partition_by_partition(sample, whole, tmp_path):
    states, episodes = whole
    dataset = open_partitioned(write_partitioned(sample, tmp_path / "book", 3, CFG))
    with snapshot_parts(dataset, CFG, episodes=True) as parts:
        assert parts.snapshots.npartitions == 3
        together = parts.snapshots.collect()
        assert len(parts.book.accounts) == 2000
        assert list(parts.book.actions.columns) == ["account_id", "ts", "channel"]
        assert len(parts.book.actions) == len(sample.actions)
        exact = parts.episodes
    assert_frame_equal(_sorted(together), _sorted(states), check_like=True)
    assert_frame_equal(_sorted(exact), _sorted(episodes))


def test_a_status_only_history_has_no_amount_columns(tmp_path):
    s = pd.DataFrame(
        {
            "account_id": ["A", "A", "B"],
            "month_end": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-02-29"]),
            "dpd": [0, 40, 0],
            "bucket": ["M0", "M2", "M0"],
            "status": ["open"] * 3,
        }
    )
    with snapshot_parts(Portfolio(snapshots=s), CFG, 1) as parts:
        assert parts.snapshots.npartitions == 2
        assert "balance" not in parts.snapshots.columns
        assert "account_id" in parts.snapshots.columns


def test_no_snapshots_and_no_event_tables_is_refused():
    with pytest.raises(DataError, match="no 'snapshots' table"):
        with snapshot_parts(Portfolio(accounts=pd.DataFrame({"account_id": ["A"]}))):
            pass


def test_parts_beyond_the_memory_budget_go_to_disk(sample, whole):
    states, _ = whole
    with snapshot_parts(sample, CFG, 601, memory_budget=0) as on_disk:
        assert on_disk.snapshots.npartitions == 4
        from_disk = on_disk.snapshots.collect()
    with snapshot_parts(sample, CFG, 601) as in_memory:  # well within the default budget
        kept = in_memory.snapshots.collect()
    assert_frame_equal(_sorted(from_disk), _sorted(states), check_like=True)
    assert_frame_equal(kept, from_disk)
