"""The Dask engine gives the pandas engine's rows, on the sample, row for row."""

from __future__ import annotations

import pandas as pd
import pytest

pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")

from click.testing import CliRunner  # noqa: E402

from recovery.cli import cli  # noqa: E402
from recovery.datasets import load_sample  # noqa: E402
from recovery.engine.dask import (  # noqa: E402
    dask_client,
    distributed_episodes,
    distributed_features,
    distributed_labels,
    distributed_scores,
    distributed_snapshots,
    plan_features,
    plan_snapshots,
    snapshot_month_ends,
    write_partition_results,
)
from recovery.engine.partitioning import account_partition, write_partitioned  # noqa: E402
from recovery.timeline.aging import episodes, snapshots  # noqa: E402
from recovery.timeline.features import build_features  # noqa: E402
from recovery.timeline.labels import build_labels  # noqa: E402

DATES = ["2023-03-31", "2024-06-30", "2025-06-30"]


@pytest.fixture(scope="module")
def sample():
    return load_sample()


@pytest.fixture(scope="module")
def book(sample, tmp_path_factory):
    return write_partitioned(sample, tmp_path_factory.mktemp("dask") / "book", partitions=5)


def _rows(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return df.sort_values(keys, kind="mergesort").reset_index(drop=True)


def assert_same_rows(dask_frame, expected: pd.DataFrame, keys: list[str]) -> None:
    """Same rows, columns and dtypes; every value equal except for floating-point noise.

    Money sums are cumulative sums over a partition's rows, so their last bits depend
    on the partition's other accounts — the pandas engine's own ``partition_size``
    moves them too (relative differences around 1e-14). Against the pandas engine on
    the *same* partitions the results are bit for bit equal
    (``test_dask_equals_the_serial_engine_bit_for_bit``).
    """
    got = dask_frame.compute(scheduler="sync")
    assert len(got) == len(expected) > 0
    pd.testing.assert_frame_equal(
        _rows(got, keys), _rows(expected, keys), check_exact=False, rtol=1e-9, atol=1e-9
    )


def test_snapshots_row_for_row(sample, book):
    frame = distributed_snapshots(book)
    assert frame.npartitions == 5
    assert_same_rows(frame, snapshots(sample), ["account_id", "month_end"])
    months = pd.date_range("2022-01-31", "2023-12-31", freq="ME")
    assert_same_rows(
        distributed_snapshots(book, months, keep_closed=True),
        snapshots(sample, months, keep_closed=True),
        ["account_id", "month_end"],
    )


def test_month_ends_are_the_whole_books(sample, book):
    """Every partition reports the month ends of the whole book, not its own."""
    default = snapshot_month_ends(book)
    expected = pd.DatetimeIndex(sorted(snapshots(sample)["month_end"].unique()))
    pd.testing.assert_index_equal(default, expected, check_names=False)


def test_episodes_row_for_row(sample, book):
    assert_same_rows(distributed_episodes(book), episodes(sample), ["account_id", "episode_no"])


def test_features_and_labels_row_for_row(sample, book):
    X = build_features(sample, DATES)
    y = build_labels(sample, X[["account_id", "as_of"]])
    keys = ["account_id", "as_of"]
    assert_same_rows(distributed_features(book, DATES), X, keys)
    assert_same_rows(distributed_labels(book, X[["account_id", "as_of"]]), y, keys)
    assert_same_rows(distributed_labels(book, DATES), build_labels(sample, DATES), keys)
    with_labels = X.merge(y, on=keys, how="left")
    assert_same_rows(distributed_features(book, DATES, with_labels=True), with_labels, keys)


def test_requested_pairs_go_to_their_accounts_partition(sample, book):
    ids = sorted(sample.accounts["account_id"])[::7]
    pairs = pd.DataFrame({"account_id": ids, "as_of": pd.Timestamp("2024-12-31")}).assign(
        as_of=lambda d: d["as_of"] - pd.to_timedelta([i % 60 for i in range(len(d))], "D")
    )
    plan = plan_features(book, pairs)
    for k, share in enumerate(plan.requests):
        assert (account_partition(share["account_id"], 5) == k).all()
    assert sum(len(r) for r in plan.requests) == len(pairs)
    assert_same_rows(
        distributed_features(book, pairs), build_features(sample, pairs), ["account_id", "as_of"]
    )


def test_scores_row_for_row(sample, book, tmp_path):
    from sklearn.linear_model import LogisticRegression

    from recovery.models import Scorer
    from recovery.models.card import save_model
    from recovery.models.scores import score_table

    X = build_features(sample, ["2024-06-30", "2024-09-30"])
    train = X.merge(build_labels(sample, X[["account_id", "as_of"]]), on=["account_id", "as_of"])
    train = train[train["p_pay"].notna()]
    scorer = Scorer(LogisticRegression(max_iter=500)).fit(train, train["p_pay"].astype(int))
    save_model(scorer, tmp_path / "p_pay")
    as_of = pd.Timestamp("2025-06-30")
    expected = score_table(build_features(sample, [as_of]), {"p_pay": scorer}, top_reasons=2)
    got = distributed_scores(book, as_of, [tmp_path / "p_pay"], top_reasons=2)
    columns = ["account_id", "as_of", "stage", "p_pay", "p_pay_band"]
    assert_same_rows(got[columns], expected[columns], ["account_id", "as_of"])

    # reasons quote feature values; a value of ±1e-14 reads "-0" or "0" (noise above)
    def reasons(frame: pd.DataFrame) -> pd.Series:
        return _rows(frame, ["account_id", "as_of"])["reason_1"].str.replace("= -0 ", "= 0 ")

    assert (reasons(got.compute(scheduler="sync")) == reasons(expected)).all()


def test_dask_equals_the_serial_engine_bit_for_bit(book):
    plan = plan_features(book, DATES[1:], with_labels=True)
    serial = pd.concat([plan.partition(k) for k in range(5)], ignore_index=True)
    pd.testing.assert_frame_equal(
        plan.frame().compute(scheduler="sync").reset_index(drop=True), serial, check_exact=True
    )


def test_local_cluster_writes_the_pandas_engines_file(book, tmp_path):
    """The real distributed path: worker processes, results gathered in order."""
    plan = plan_snapshots(book)
    n_serial = write_partition_results(plan, tmp_path / "serial.parquet", engine="pandas")
    with dask_client(workers=1, memory_limit="2GB") as client:
        n_dask = write_partition_results(plan, tmp_path / "dask.parquet", "dask", client)
        # a directory: each worker writes its partitions' files, nothing comes back
        n_parts = write_partition_results(plan, tmp_path / "parts", "dask", client)
    assert n_serial == n_dask == n_parts > 0
    serial = pd.read_parquet(tmp_path / "serial.parquet")
    pd.testing.assert_frame_equal(serial, pd.read_parquet(tmp_path / "dask.parquet"))
    files = sorted((tmp_path / "parts").glob("part-*.parquet"))
    assert len(files) == 5
    parts = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    pd.testing.assert_frame_equal(parts, serial)


def test_cli_engines_agree(book, tmp_path):
    runner = CliRunner()
    sample_dir = str(load_sample.__globals__["sample_path"]())
    plain = runner.invoke(
        cli, ["features", sample_dir, "--as-of", "2024-12-31", "--labels", "--out",
              str(tmp_path / "plain.parquet")],
    )  # fmt: skip
    assert plain.exit_code == 0, plain.output
    serial = runner.invoke(
        cli, ["features", str(book), "--as-of", "2024-12-31", "--labels", "--out",
              str(tmp_path / "serial.parquet")],
    )  # fmt: skip
    assert serial.exit_code == 0, serial.output
    assert "pandas engine" in serial.output
    keys = ["account_id", "as_of"]
    a = _rows(pd.read_parquet(tmp_path / "plain.parquet"), keys)
    b = _rows(pd.read_parquet(tmp_path / "serial.parquet"), keys)
    pd.testing.assert_frame_equal(a, b)
    bad = runner.invoke(cli, ["snapshots", str(book), "--out", str(tmp_path / "s.txt")])
    assert bad.exit_code != 0
