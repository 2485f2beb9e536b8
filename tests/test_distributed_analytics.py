"""Roll rates, vintages, recovery by age and KPIs of a Dask snapshots table equal pandas'."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")

from recovery.analytics.kpis import monthly_kpis  # noqa: E402
from recovery.analytics.recovery_curves import recovery_by_age  # noqa: E402
from recovery.analytics.roll_rates import roll_rate_matrix, roll_rates  # noqa: E402
from recovery.analytics.vintages import vintage_curves  # noqa: E402
from recovery.datasets import load_sample  # noqa: E402
from recovery.engine.dask import distributed_snapshots  # noqa: E402
from recovery.engine.dask_analytics import is_dask_frame  # noqa: E402
from recovery.engine.partitioning import account_partition, write_partitioned  # noqa: E402
from recovery.errors import DataError  # noqa: E402
from recovery.timeline.aging import snapshots  # noqa: E402


@pytest.fixture(scope="module")
def sample():
    return load_sample()


@pytest.fixture(scope="module")
def pandas_snapshots(sample):
    return snapshots(sample)


@pytest.fixture(scope="module")
def dask_snapshots(sample, tmp_path_factory):
    path = write_partitioned(sample, tmp_path_factory.mktemp("a") / "book", partitions=4)
    return distributed_snapshots(path).persist(scheduler="sync")


def assert_same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same rows in the same order; sums of money equal up to floating-point noise."""
    assert len(expected) > 0
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True),
        expected.reset_index(drop=True),
        check_exact=False,
        rtol=1e-9,
        atol=1e-9,
    )


def by_account(frame: pd.DataFrame, partitions: int):
    """A Dask table with each account's rows in one partition (built by hand)."""
    part = account_partition(frame["account_id"], partitions)
    pieces = [frame[part == k].reset_index(drop=True) for k in range(partitions)]
    return dd.from_map(lambda piece: piece, pieces, meta=frame.iloc[:0])


def test_dispatch_recognises_dask_tables(dask_snapshots, pandas_snapshots):
    assert is_dask_frame(dask_snapshots) and not is_dask_frame(pandas_snapshots)


@pytest.mark.parametrize(
    "options",
    [{}, {"segment": "product", "confidence": 0.9}, {"segment": "vintage"}],
)
def test_roll_rates(dask_snapshots, pandas_snapshots, sample, options):
    options = {**options, "accounts": sample.accounts}
    got = roll_rates(dask_snapshots, **options)
    assert_same(got, roll_rates(pandas_snapshots, **options))


def test_roll_rates_count_a_month_a_partition_lacks(pandas_snapshots):
    """The first month has one account: the other partitions still see it as a month of
    the table (their accounts entering at month 2 are ``new``), as pandas does."""
    first = pandas_snapshots["month_end"].min()
    keep = pandas_snapshots["account_id"].isin(
        pandas_snapshots.loc[pandas_snapshots["month_end"] == first, "account_id"][:1]
    ) | (pandas_snapshots["month_end"] > first)
    table = pandas_snapshots[keep].reset_index(drop=True)
    frame = by_account(table, 5)
    lacking = sum(
        first not in set(piece["month_end"])
        for piece in frame.to_delayed()
        for piece in [piece.compute()]
    )
    assert lacking >= 1  # the situation under test does occur
    assert_same(roll_rates(frame), roll_rates(table))


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"segment": "product", "cohort": "quarter", "complete_only": True, "thresholds": (30, 90)},
    ],
)
def test_vintage_curves(dask_snapshots, pandas_snapshots, sample, options):
    got = vintage_curves(dask_snapshots, sample.accounts, **options)
    assert_same(got, vintage_curves(pandas_snapshots, sample.accounts, **options))


@pytest.mark.parametrize(
    "options",
    [
        {"bands": "coarse"},
        {"bands": "monthly", "max_months": 24, "by": "product"},
        {"scope": "delinquent", "horizon_months": 6},
    ],
)
def test_recovery_by_age(dask_snapshots, pandas_snapshots, options):
    got = recovery_by_age(dask_snapshots, n_bootstrap=0, **options)
    expected = recovery_by_age(pandas_snapshots, n_bootstrap=0, **options)
    assert_same(got, expected)
    # the sums behind the rates reconcile: recovered / balance
    np.testing.assert_allclose(got["recovery_rate"], got["recovered"] / got["balance"])


def test_recovery_by_age_refuses_what_needs_the_whole_book(dask_snapshots):
    with pytest.raises(DataError, match="n_bootstrap=0"):
        recovery_by_age(dask_snapshots, n_bootstrap=10)
    with pytest.raises(DataError, match="amount_band"):
        recovery_by_age(dask_snapshots, n_bootstrap=0, by="amount_band")


@pytest.mark.parametrize("segment", [None, "product"])
def test_monthly_kpis(dask_snapshots, pandas_snapshots, segment):
    got = monthly_kpis(dask_snapshots, segment=segment)
    assert_same(got, monthly_kpis(pandas_snapshots, segment=segment))
    with pytest.raises(DataError, match="actions"):
        monthly_kpis(dask_snapshots, actions=pd.DataFrame())


def test_partial_tables_are_small(dask_snapshots):
    """Only sums travel: one row per month × from × to state, not one per account-month."""
    from recovery.engine.dask_analytics import flow_totals

    totals = flow_totals(dask_snapshots, None, [])
    assert len(totals) < len(dask_snapshots) / 20
    assert {"count", "balance"} <= set(totals.columns) and "count_rate" not in totals


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"weight": "balance", "average": "mean"},
        {"segment": "product", "start": "2022-01-31", "end": "2023-12-31", "normalize": False},
        {"month": "2024-06-30"},
    ],
)
def test_roll_rate_matrix(dask_snapshots, pandas_snapshots, options):
    got = roll_rate_matrix(dask_snapshots, **options)
    expected = roll_rate_matrix(pandas_snapshots, **options)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9, atol=1e-9)
