"""Speed of the case file (issue 24): every page of the sample, and one page of a big book.

1. **All pages of the sample**: the case files of every customer of the shipped sample
   (:func:`recovery.report.case_file.case_files`, one vectorised pass) written as pages
   (:func:`recovery.report.case_page.write_case_pages`). Target: under a minute.
2. **One page from a big book**: ``recovery casefile BOOK --account ID --out page.html``
   run as a fresh process (imports, the filtered read of the customer's rows, validation,
   the file and the page), on a book directory of Parquet files. The account is the
   first charged-off account of the book's ``events`` table (a long history). Target:
   under 10 s on a 1M-account book. Without ``--book`` a book of ``--accounts`` accounts
   is simulated first into a temporary directory (not timed).

Wall and CPU (user + sys) times are both reported: on a shared machine the wall time is
inflated by other work; CPU time is what the run itself used.

Run (BOOK: a simulated book of 1,000,000 accounts)::

    python benchmarks/bench_case_file.py --sample
    python benchmarks/bench_case_file.py --book BOOK

Writes ``benchmarks/results/case_file_<part>.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


def sample_pages() -> dict:
    from recovery.datasets import load_sample
    from recovery.report.case_page import write_case_pages

    portfolio = load_sample()
    with tempfile.TemporaryDirectory() as tmp:
        wall, cpu = time.perf_counter(), _cpu()
        pages = write_case_pages(portfolio, None, Path(tmp) / "pages")
        wall, cpu = time.perf_counter() - wall, _cpu() - cpu
        size = sum(p.stat().st_size for p in pages.values())
    return {
        "part": "sample",
        "customers": len(pages),
        "accounts": len(portfolio.accounts),
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "ms_per_page_cpu": round(1000 * cpu / len(pages), 1),
        "mb_written": round(size / 1e6, 1),
    }


def _first_charged_off(book: Path) -> str:
    import pandas as pd

    events = pd.read_parquet(book / "events.parquet", columns=["account_id", "event"])
    hit = events.loc[events["event"] == "charged_off", "account_id"]
    if not len(hit):
        return str(pd.read_parquet(book / "accounts.parquet", columns=["account_id"]).iloc[0, 0])
    return str(hit.iloc[0])


def book_page(book: Path | None, accounts: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        if book is None:
            from recovery.data.io import save_portfolio
            from recovery.simulate import simulate_portfolio

            portfolio, _ = simulate_portfolio(n_accounts=accounts, seed=0)
            book = Path(tmp) / "book"
            save_portfolio(portfolio, book)
            del portfolio
        account = _first_charged_off(book)
        out = Path(tmp) / "page.html"
        binary = Path(sys.executable).with_name("recovery")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = time.perf_counter()
        done = subprocess.run(
            [str(binary), "casefile", str(book), "--account", account, "--out", str(out)],
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - wall
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode:
            raise SystemExit(done.stderr)
        n_accounts = _count_rows(book / "accounts.parquet")
    return {
        "part": "book",
        "book_accounts": n_accounts,
        "account": account,
        "command": done.stdout.strip(),
        "wall_s": round(wall, 2),
        "cpu_s": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2),
        "peak_rss_mb": round(after.ru_maxrss / 1024, 0),
    }


def _count_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", action="store_true", help="all pages of the sample")
    parser.add_argument("--book", type=Path, help="a big book directory (Parquet files)")
    parser.add_argument(
        "--accounts", type=int, default=0, help="simulate a book of this size (no --book)"
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    runs = []
    if args.sample:
        runs.append(sample_pages())
    if args.book is not None or args.accounts:
        runs.append(book_page(args.book, args.accounts))
    if not runs:
        parser.error("give --sample, --book PATH or --accounts N")
    args.out.mkdir(parents=True, exist_ok=True)
    for run in runs:
        print(json.dumps(run))
        (args.out / f"case_file_{run['part']}.json").write_text(json.dumps(run, indent=2) + "\n")


if __name__ == "__main__":
    main()
