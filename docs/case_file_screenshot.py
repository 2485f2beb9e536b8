"""Regenerate docs/case_file_screenshot.png: a customer's case page in headless Chromium.

Simulates a small book of the ``customers`` scenario (400 loans, 60 months, seed 3; some
customers hold two or three loans), picks the customer with the most accounts, then the
most contacts, among those with a charged-off account, writes its case page as known at
the data end and saves the top of the page at 1280 × 1200 as
``docs/case_file_screenshot.png``.

Run from the repository root (needs Chromium on the PATH; Debian/Ubuntu:
``sudo apt-get install chromium``)::

    python docs/case_file_screenshot.py
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from report_screenshot import FLAGS, chromium  # the same browser and flags as the report's

DOCS = Path(__file__).resolve().parent
SIZE = "--window-size=1280,1200"


def pick_customer(portfolio) -> str:
    """Most accounts, then most contacts, among customers with a charge-off."""
    acc = portfolio.accounts[["account_id", "customer_id"]]
    charged = set(portfolio.events.loc[portfolio.events["event"] == "charged_off", "account_id"])
    contacts = portfolio.actions.groupby("account_id").size()
    per = (
        acc.assign(
            contacts=acc["account_id"].map(contacts).fillna(0),
            charged=acc["account_id"].isin(charged),
        )
        .groupby("customer_id")
        .agg(
            accounts=("account_id", "size"),
            contacts=("contacts", "sum"),
            charged=("charged", "any"),
        )
    )
    per = per[per["charged"]].sort_values(["accounts", "contacts"], ascending=False, kind="stable")
    return str(per.index[0])


def main() -> None:
    from recovery.report.case_file import case_file
    from recovery.report.case_page import write_case_page
    from recovery.simulate import simulate_portfolio

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as-of", help="last day known (default: the data end)")
    args = parser.parse_args()
    book, _ = simulate_portfolio(n_accounts=400, months=60, seed=3, scenario="customers")
    customer = pick_customer(book)
    case = case_file(book, customer_id=customer, as_of=args.as_of)
    png = DOCS / "case_file_screenshot.png"
    with tempfile.TemporaryDirectory() as tmp:
        page = write_case_page(case, Path(tmp) / "case.html", footer="Data: a simulated book")
        subprocess.run(
            [chromium(), *FLAGS, SIZE, "--virtual-time-budget=3000", f"--user-data-dir={Path(tmp) / 'profile'}",
             f"--screenshot={png}", page.resolve().as_uri()],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    print(f"wrote {png}: customer {customer} as of {case.as_of.date()}")


if __name__ == "__main__":
    main()
