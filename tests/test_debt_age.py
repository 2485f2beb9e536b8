"""Debt-months of recovery by age: one read of the parts serves every scope."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from recovery.analytics.debt_age import (
    derive_debt_age,
    future_sum,
    future_sums,
    recovery_observations,
    sort_snapshots,
)
from recovery.analytics.partitions import PartitionedSnapshots
from recovery.analytics.states import snapshot_states
from recovery.config import Config
from recovery.datasets import load_sample
from recovery.timeline import aging

CFG = Config()


@pytest.fixture(scope="module")
def snaps():
    return aging.snapshots(load_sample(), config=CFG)


@pytest.mark.parametrize("scope", ["charged_off", "delinquent"])
@pytest.mark.parametrize("censor", [True, False])
def test_observations_of_parts_equal_the_whole_table(snaps, scope, censor):
    whole = recovery_observations(snaps, CFG, scope=scope, censor=censor)
    shuffled = snapshot_states(snaps.sample(frac=1.0, random_state=3), CFG)
    parts = PartitionedSnapshots.from_frame(shuffled, 700)
    assert len(whole) > 100
    assert_frame_equal(recovery_observations(parts, CFG, scope=scope, censor=censor), whole)


def test_every_scope_and_censoring_comes_from_one_read_of_the_parts(snaps):
    states = snapshot_states(snaps, CFG)
    reads = []

    def loader(frame):
        return lambda: reads.append(1) or frame

    parts = PartitionedSnapshots([loader(p) for p in PartitionedSnapshots.from_frame(states, 900)])
    parts.months, parts.columns  # noqa: B018  (read before counting)
    reads.clear()
    got = {
        (scope, censor): recovery_observations(parts, CFG, scope=scope, censor=censor)
        for scope in ("charged_off", "delinquent")
        for censor in (True, False)
    }
    assert len(reads) == parts.npartitions  # one pass, not four
    wide = got[("delinquent", False)]
    assert (wide["status"] == "charged_off").sum() == len(got[("charged_off", False)])
    assert len(got[("delinquent", True)]) == int((wide["follow_up_months"] == 12).sum())
    # the default horizon named or not: the same debt-months, nothing read again
    named = recovery_observations(parts, CFG, horizon_months=12)
    assert_frame_equal(named, got[("charged_off", True)])
    assert len(reads) == parts.npartitions


def test_future_sums_equal_one_window_at_a_time():
    rng = np.random.default_rng(0)
    acc = np.repeat(np.arange(50), 20)
    month = np.tile(np.arange(20), 50) + 24_000
    keep = rng.random(len(acc)) > 0.3  # months missing: absent rows count as zero
    acc, month = acc[keep], month[keep]
    value = rng.random(len(acc))
    rows = np.flatnonzero(rng.random(len(acc)) > 0.5)
    many = list(future_sums(acc, month, value, range(1, 7), rows=rows))
    for k, got in enumerate(many, start=1):
        assert np.array_equal(got, future_sum(acc, month, value, k)[rows])
    # by hand: each row's sum over the same account's months (m, m + k]
    i = rows[0]
    same = (acc == acc[i]) & (month > month[i]) & (month <= month[i] + 3)
    assert many[2][0] == pytest.approx(value[same].sum())


def test_debt_age_of_sorted_rows_equals_that_of_shuffled_rows(snaps):
    shuffled = snaps.sample(frac=1.0, random_state=7).drop(columns="debt_age_days")
    age = derive_debt_age(shuffled)
    assert_series_equal(
        derive_debt_age(sort_snapshots(shuffled)), age.sort_index(), check_index=False
    )
    # the aging ledger's own debt age agrees where both have one (DESIGN.md §3)
    given = snaps.loc[age.index, "debt_age_days"]
    both = age.notna() & given.notna()
    assert both.sum() > 1000
    assert (age[both] >= 0).all()


def test_debt_age_by_hand():
    s = pd.DataFrame(
        {
            "account_id": ["B", "A", "A", "A", "A"],
            "month_end": pd.to_datetime(
                ["2024-02-29", "2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"]
            ),
            "dpd": [5, 0, 10, 41, 0],
            "status": ["open"] * 5,
        }
    )
    # A: episode from Feb 19 (Feb 29 - 10 days): 10 days, then 41 on Mar 31; B: 5 days
    assert derive_debt_age(s).tolist() == [5, pd.NA, 10, 41, pd.NA]
