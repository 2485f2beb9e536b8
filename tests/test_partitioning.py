"""Partitioned datasets: account-hash partitions, round trips, streaming, the simulator."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from recovery.data.io import load_portfolio
from recovery.datasets import load_sample
from recovery.engine.partitioning import (
    ACCOUNT_TABLES,
    PartitionedWriter,
    account_partition,
    is_partitioned,
    open_partitioned,
    read_partition,
    simulate_partitioned,
    write_partitioned,
)
from recovery.errors import DataError


@pytest.fixture(scope="module")
def sample():
    return load_sample()


@pytest.fixture(scope="module")
def dataset(sample, tmp_path_factory):
    return write_partitioned(sample, tmp_path_factory.mktemp("book") / "book", partitions=5)


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(list(df.columns[:3]), kind="mergesort").reset_index(drop=True)


def test_partition_is_a_function_of_the_id_alone():
    ids = [f"A{i:07d}" for i in range(20_000)]
    parts = account_partition(ids, 16)
    assert parts.min() >= 0 and parts.max() < 16
    # the same id gets the same partition whatever else is hashed with it, in any order
    again = account_partition(ids[::-1], 16)[::-1]
    np.testing.assert_array_equal(parts, again)
    np.testing.assert_array_equal(account_partition(ids[5:9], 16), parts[5:9])
    # ids compare as text: 7 and "7" are one account
    assert account_partition([7], 16)[0] == account_partition(["7"], 16)[0]
    # spread evenly: every partition within 10 % of 20,000 / 16 = 1,250 accounts
    counts = np.bincount(parts, minlength=16)
    assert (np.abs(counts - 1250) < 125).all(), counts


def test_partition_is_the_same_in_another_process():
    """Deterministic across runs: Python's randomised str hash plays no part."""
    ids = [f"A{i:07d}" for i in range(50)]
    code = (
        "from recovery.engine.partitioning import account_partition;"
        f"print(account_partition({ids!r}, 7).tolist())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == str(account_partition(ids, 7).tolist())


def test_one_partition_holds_every_row_of_its_accounts(sample, dataset):
    d = open_partitioned(dataset)
    assert d.partitions == 5 and set(d.tables) == set(sample.table_names()) - {"agents"}
    assert d.meta["data_end"] == sample.meta["data_end"]
    seen = []
    for k in range(5):
        part = read_partition(d, k)
        ids = set(part.accounts["account_id"])
        seen.extend(ids)
        assert (account_partition(list(ids), 5) == k).all()
        for name in ACCOUNT_TABLES:
            df = getattr(part, name)
            if df is not None:
                assert set(df["account_id"]) <= ids, name
        assert part.agents is not None and len(part.agents) == len(sample.agents)
    assert sorted(seen) == sorted(sample.accounts["account_id"])


def test_reading_every_partition_gives_back_the_book(sample, dataset):
    whole = open_partitioned(dataset).read_all()
    for name, df in sample.tables().items():
        back = getattr(whole, name)
        assert back is not None, name
        if name == "agents":
            pd.testing.assert_frame_equal(back, df)
            continue
        pd.testing.assert_frame_equal(_sorted(back), _sorted(df), obj=name)


def test_streaming_chunks_equals_one_write(sample, tmp_path):
    ids = np.sort(sample.accounts["account_id"].unique())
    with PartitionedWriter(tmp_path / "chunked", partitions=5) as writer:
        for chunk in np.array_split(ids, 3):
            writer.write(sample.subset(chunk))
    whole = write_partitioned(sample, tmp_path / "whole", partitions=5, validate=False)
    for k in range(5):
        a, b = read_partition(tmp_path / "chunked", k), read_partition(whole, k)
        for name in ACCOUNT_TABLES:
            if getattr(a, name) is not None:
                pd.testing.assert_frame_equal(
                    _sorted(getattr(a, name)), _sorted(getattr(b, name)), obj=name
                )


def test_a_failed_write_leaves_nothing(sample, tmp_path):
    target = tmp_path / "book"
    with pytest.raises(RuntimeError), PartitionedWriter(target, partitions=2) as writer:
        writer.write(sample.subset(sample.accounts["account_id"][:50]))
        raise RuntimeError("simulated failure")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_overwrite_other_data_and_reads_only_datasets(sample, tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(DataError, match="not a partitioned dataset"):
        write_partitioned(sample, tmp_path, partitions=2, validate=False)
    assert not is_partitioned(tmp_path)
    with pytest.raises(DataError, match="not a partitioned dataset"):
        open_partitioned(tmp_path)
    path = write_partitioned(sample, tmp_path / "b", partitions=2, validate=False)
    with pytest.raises(DataError, match="partition 2 does not exist"):
        read_partition(path, 2)
    # a dataset is replaced by a new one with other partitions
    write_partitioned(sample, path, partitions=3, validate=False)
    assert open_partitioned(path).partitions == 3


def test_every_partition_has_every_table_even_when_empty(sample, tmp_path):
    few = sample.subset(sample.accounts["account_id"][:3])
    path = write_partitioned(few, tmp_path / "b", partitions=8, validate=False)
    d = open_partitioned(path)
    sizes = [len(d.read(k).accounts) for k in range(8)]
    assert sum(sizes) == 3 and sizes.count(0) >= 5
    empty = d.read(sizes.index(0))
    assert list(empty.payments.columns) == list(few.payments.columns)


def test_simulator_writes_the_same_book_partitioned(tmp_path):
    from recovery.simulate.simulation import write_simulation

    settings = dict(n_accounts=1500, months=4, seed=3, operation=None, chunk_size=1000)
    write_simulation(tmp_path / "plain", **settings)
    path = simulate_partitioned(tmp_path / "parts", 4, **settings)
    plain = load_portfolio(tmp_path / "plain")
    parts = open_partitioned(path).read_all()
    for name in ("accounts", "schedule", "payments", "events"):
        pd.testing.assert_frame_equal(
            _sorted(getattr(parts, name)), _sorted(getattr(plain, name)), obj=name
        )
    assert open_partitioned(path).meta["data_end"] == plain.meta["data_end"]
    assert (path / "truth" / "account_months.parquet").is_file()


def test_simulate_command_writes_a_partitioned_dataset(tmp_path):
    from click.testing import CliRunner

    from recovery.cli import cli

    out = tmp_path / "book"
    result = CliRunner().invoke(
        cli,
        ["simulate", "--accounts", "1000", "--months", "3", "--no-operation",
         "--partitions", "3", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    dataset = open_partitioned(out)
    assert dataset.partitions == 3
    assert len(dataset.read_all(["accounts"]).accounts) == 1000
