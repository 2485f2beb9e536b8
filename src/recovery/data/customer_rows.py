"""Loading one customer's rows from a large book without reading the whole book.

A case file (:mod:`recovery.report.case_file`) needs the rows of one customer's few
accounts. :func:`load_customer` finds them in a portfolio directory of Parquet files
(each table a file ``<table>.parquet``, or a directory of Parquet files such as a
partitioned dataset's ``<table>/partition=k/part-0.parquet``) by pushing the filter on
``customer_id`` / ``account_id`` into the Parquet reader, which skips the row groups
that cannot hold them: a page from a million-account book reads kilobytes, not
gigabytes. CSV files, databases, mappings and windows are read whole
(:func:`recovery.data.io.load_portfolio`) and then cut to the customer. Either way the
result is validated against the data contract like any loaded portfolio.

Examples
--------
>>> from recovery.datasets import sample_path
>>> one = load_customer(sample_path(), account_id="A0000003")
>>> one.accounts["account_id"].tolist(), sorted(one.table_names())[:3]
(['A0000003'], ['accounts', 'actions', 'agents'])
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from recovery.config import Config
from recovery.data.io import load_portfolio, read_meta
from recovery.data.portfolio import TABLE_ORDER, Portfolio
from recovery.data.schema import screen_columns, validate_portfolio
from recovery.errors import DataError, ValidationError

__all__ = ["load_customer"]


def _parquet(directory: Path, name: str) -> Path | None:
    for candidate in (directory / f"{name}.parquet", directory / name):
        if candidate.is_file() or (candidate.is_dir() and any(candidate.rglob("*.parquet"))):
            return candidate
    return None


def _read(path: Path, column: str, values: list, name: str, keep_free_text: bool) -> pd.DataFrame:
    """The rows of a Parquet table whose ``column`` is among ``values`` (row groups skipped)."""
    import pyarrow.dataset as ds

    dataset = ds.dataset(path, format="parquet", partitioning="hive")
    expr = ds.field(column).isin([str(v) for v in values])
    frame = dataset.to_table(filter=expr).to_pandas()
    frame = frame.drop(columns=[c for c in ("partition",) if c in frame])
    return screen_columns(name, frame, keep_free_text)


def load_customer(
    path: Any,
    customer_id: str | None = None,
    account_id: str | None = None,
    config: Config | None = None,
    keep_free_text: bool = False,
) -> Portfolio:
    """The rows of one customer's accounts, read and validated.

    Parameters
    ----------
    path : str, Path or PortfolioSource
        A portfolio directory (Parquet files or directories are filtered as they are
        read), or anything :func:`recovery.data.io.load_portfolio` accepts.
    customer_id, account_id : str, optional
        Exactly one: the customer, or one of its accounts (then all the customer's
        accounts are read).
    config : Config, optional
    keep_free_text : bool
        Keep free-text note columns (dropped by default).

    Returns
    -------
    Portfolio
        Every table restricted to the customer's accounts (``agents`` whole);
        ``meta`` of the book.

    Raises
    ------
    DataError
        The customer or account is not in the data.
    ValidationError
        A table breaks the data contract.
    """
    if (customer_id is None) == (account_id is None):
        raise DataError("give exactly one of a customer and an account")
    config = config or Config()
    location = path
    if not isinstance(path, (str, os.PathLike)):  # a PortfolioSource: plain only without
        plain = getattr(path, "mapping", None) is None and getattr(path, "window", None) is None
        location = path.location if plain else None  # a mapping or a window
    directory = Path(location) if isinstance(location, (str, os.PathLike)) else None
    fast = (
        directory is not None
        and "://" not in str(location)
        and directory.is_dir()
        and _parquet(directory, "accounts") is not None
    )
    if not fast:
        whole = load_portfolio(path, config, keep_free_text=keep_free_text)
        return _cut(whole, customer_id, account_id)
    accounts_path = _parquet(directory, "accounts")
    if account_id is not None:
        found = _read(accounts_path, "account_id", [str(account_id)], "accounts", False)
        if not len(found):
            raise DataError(f"account {account_id} is not in table 'accounts'")
        customer = found["customer_id"].iloc[0] if "customer_id" in found else None
        if customer is None or pd.isna(customer):
            accounts = found
        else:
            accounts = _read(accounts_path, "customer_id", [customer], "accounts", False)
    else:
        accounts = _read(accounts_path, "customer_id", [str(customer_id)], "accounts", False)
        if not len(accounts):
            raise DataError(f"customer {customer_id} is not in table 'accounts'")
    ids = sorted(accounts["account_id"].astype(str).unique())
    frames: dict[str, pd.DataFrame] = {"accounts": accounts}
    for name in TABLE_ORDER:
        if name == "accounts":
            continue
        file = _parquet(directory, name)
        if file is None:
            continue
        if name == "agents":
            frames[name] = screen_columns(name, pd.read_parquet(file), keep_free_text)
        else:
            frames[name] = _read(file, "account_id", ids, name, keep_free_text)
    portfolio = Portfolio(**frames, meta=read_meta(directory))
    report = validate_portfolio(portfolio, config)
    if len(report):
        raise ValidationError(report)
    return portfolio


def _cut(portfolio: Portfolio, customer_id: str | None, account_id: str | None) -> Portfolio:
    acc = portfolio.accounts if portfolio.accounts is not None else portfolio.snapshots
    if acc is None:
        raise DataError("the data has neither an accounts table nor a snapshots table")
    ids = acc["account_id"].astype(str)
    if account_id is not None:
        if not ids.eq(str(account_id)).any():
            raise DataError(f"account {account_id} is not in the data")
        if portfolio.accounts is None or "customer_id" not in portfolio.accounts:
            return portfolio.subset([str(account_id)])
        owner = portfolio.accounts.loc[ids.eq(str(account_id)).to_numpy(), "customer_id"]
        customer_id = owner.iloc[0]
    if portfolio.accounts is None or "customer_id" not in portfolio.accounts:
        raise DataError("finding a customer's accounts needs column customer_id in 'accounts'")
    mine = ids[portfolio.accounts["customer_id"].astype(str).eq(str(customer_id)).to_numpy()]
    if not len(mine):
        raise DataError(f"customer {customer_id} is not in the data")
    return portfolio.subset(mine.unique())
