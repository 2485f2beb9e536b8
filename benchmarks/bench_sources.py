"""SQL sources: write and read a book of about a million rows in SQLite and PostgreSQL.

The committed sample (2,000 loans, 95k rows) is copied ``--copies`` times with new
loan, customer, payment and action ids (the agents once), written with
``write_sql_portfolio`` (no validation) and read back with ``read_sql_portfolio``:
whole, in small chunks, and with a one-year vintage window pushed into the SQL.
Memory is the process's resident set size after each step (psutil).

Run: ``python benchmarks/bench_sources.py --copies 10 [--postgres URL]`` (SQLite only
without ``--postgres``; the URL's database is overwritten). Writes
``benchmarks/results/sources.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd
import psutil

from recovery.data.portfolio import Portfolio
from recovery.data.sources import hide_password, read_sql_portfolio, write_sql_portfolio
from recovery.datasets import load_sample

ID_COLUMNS = ("account_id", "customer_id", "payment_id", "action_id")


def copies(book: Portfolio, n: int) -> Portfolio:
    """``n`` copies of the book's loans (new ids per copy), the agents once."""
    tables = {}
    for name, frame in book.tables().items():
        if name == "agents":
            tables[name] = frame
            continue
        parts = []
        for i in range(n):
            part = frame.copy()
            for column in ID_COLUMNS:
                if column in part:
                    part[column] = part[column] + f"-{i}"
            parts.append(part)
        tables[name] = pd.concat(parts, ignore_index=True)
    return Portfolio(**tables, meta=dict(book.meta))


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def measure(url: str, book: Portfolio) -> dict:
    row = {"database": hide_password(url).split(":", 1)[0]}
    start = time.perf_counter()
    write_sql_portfolio(book, url, if_exists="replace", validate=False)
    row["write_s"] = time.perf_counter() - start
    for label, kwargs in (
        ("read", {}),
        ("read_chunks_10k", {"chunksize": 10_000}),
        ("read_window_2022", {"window": "2022-01-01:2022-12-31"}),
    ):
        before = rss_mb()
        start = time.perf_counter()
        read = read_sql_portfolio(url, progress=False, **kwargs)
        row[f"{label}_s"] = time.perf_counter() - start
        row[f"{label}_rows"] = int(sum(len(f) for f in read.tables().values()))
        row[f"{label}_rss_mb"] = rss_mb() - before
        del read
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--postgres", default=None, help="PostgreSQL URL (overwritten)")
    args = parser.parse_args()
    book = copies(load_sample(), args.copies)
    n_rows = int(sum(len(f) for f in book.tables().values()))
    print(f"book: {len(book.accounts):,} loans, {n_rows:,} rows")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        urls = [f"sqlite:///{Path(tmp) / 'book.db'}"] + ([args.postgres] if args.postgres else [])
        for url in urls:
            rows.append(measure(url, book))
            print(rows[-1])
    table = pd.DataFrame(rows).set_index("database")
    print(table.round(2).T.to_string())
    out = Path(__file__).parent / "results" / "sources.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"rows": n_rows, "loans": len(book.accounts), "results": rows}))


if __name__ == "__main__":
    main()
