"""Reading one customer's rows: from Parquet files, a partitioned dataset, or CSV."""

from __future__ import annotations

import pandas as pd
import pytest

from recovery.data.customer_rows import load_customer
from recovery.data.io import save_portfolio
from recovery.data.portfolio import Portfolio
from recovery.engine.partitioning import write_partitioned
from recovery.errors import DataError
from test_case_file import k1_tables


@pytest.fixture
def k1():
    return Portfolio(**k1_tables(), meta={"data_end": "2024-06-30"})


def _same_rows(got: Portfolio, want: Portfolio) -> None:
    assert got.table_names() == want.table_names()
    for name in want.table_names():
        if name == "agents":
            continue
        a = (
            got.tables()[name]
            .sort_values(list(got.tables()[name].columns[:2]))
            .reset_index(drop=True)
        )
        b = want.tables()[name].sort_values(list(a.columns[:2])).reset_index(drop=True)
        assert a["account_id"].astype(str).tolist() == b["account_id"].astype(str).tolist(), name


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_customer_from_files(k1, tmp_path, fmt):
    save_portfolio(k1, tmp_path / "book", fmt=fmt)
    got = load_customer(tmp_path / "book", account_id="L2")
    assert sorted(got.accounts["account_id"]) == ["L1", "L2"]
    _same_rows(got, k1.subset(["L1", "L2"]))
    assert got.meta["data_end"] == "2024-06-30"
    assert "note" not in got.actions  # free text stays out unless asked
    assert "note" in load_customer(tmp_path / "book", "K1", keep_free_text=True).actions
    with pytest.raises(DataError, match="customer K9"):
        load_customer(tmp_path / "book", customer_id="K9")


def test_a_customer_from_a_partitioned_dataset(k1, tmp_path):
    path = write_partitioned(k1, tmp_path / "parts", partitions=3)
    got = load_customer(path, customer_id="K1")
    assert "partition" not in got.accounts
    _same_rows(got, k1.subset(["L1", "L2"]))
    assert pd.api.types.is_datetime64_any_dtype(got.payments["payment_date"])
