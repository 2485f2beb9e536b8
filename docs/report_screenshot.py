"""Regenerate docs/report_screenshot.png from the demo, and the figures it shows.

Runs ``recovery demo`` on the shipped sample (or takes a report already rendered with
``--report``), opens the report in headless Chromium at 1280 × 900 and saves the first
screen as ``docs/report_screenshot.png``; writes what that screen shows — the report
month and the KPI cards — to ``docs/report_screenshot.json``.
``tests/test_report.py::test_screenshot_shows_what_the_demo_reports`` renders the demo and
fails when its cards differ from that file: regenerate both with this script whenever
the demo's figures change.

Run from the repository root (needs Chromium on the PATH; Debian/Ubuntu:
``sudo apt-get install chromium``)::

    python docs/report_screenshot.py
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    sys.exit("headless Chromium not found: install it (Debian/Ubuntu: apt-get install chromium)")


def main() -> None:
    from recovery.report.render import first_screen_figures

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, help="a rendered report (default: run the demo)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = args.report
        if report is None:
            from recovery.commands.demo import run_demo

            report = run_demo(Path(tmp) / "demo", echo=print).report
        png = DOCS / "report_screenshot.png"
        subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={Path(tmp) / 'profile'}",
             f"--screenshot={png}", report.resolve().as_uri()],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        figures = first_screen_figures(report.read_text(encoding="utf-8"))
    (DOCS / "report_screenshot.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {png} and {DOCS / 'report_screenshot.json'}: {figures['title']}")


if __name__ == "__main__":
    main()
