"""``recovery demo``: the whole pipeline on a small simulated book, end to end."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from recovery.commands.demo import latest_complete_month, run_demo


def test_latest_complete_month():
    assert latest_complete_month("2025-12-31") == pd.Timestamp("2025-12-31")
    assert latest_complete_month("2025-12-30") == pd.Timestamp("2025-11-30")
    assert latest_complete_month(pd.Timestamp("2024-03-01")) == pd.Timestamp("2024-02-29")


@pytest.mark.slow
def test_demo_runs_every_stage_and_writes_the_report(tmp_path):
    lines: list[str] = []
    result = run_demo(
        tmp_path / "demo", accounts=400, months=40, seed=3, echo=lines.append, progress=False
    )
    # eight stages, each announced and timed, in order
    done = [line for line in lines if re.match(r"\[\d/8\] .*: done in [\d.]+ s$", line)]
    assert len(done) == 8 and len(result.timings) == 8
    assert [int(line[1]) for line in done] == list(range(1, 9))
    out = result.out_dir
    for target in ("p_pay", "p_cure"):
        assert (out / "models" / target / "card.json").is_file()
        assert 0.5 <= result.metrics[target]["auc"] <= 1.0
    scores = pd.read_parquet(out / f"scores_{result.month:%Y-%m}.parquet")
    assert scores["p_pay"].between(0, 1).all() and scores["account_id"].is_unique
    assert (out / "analysis" / "tables").is_dir()
    assert (out / "data" / "snapshots.parquet").is_file()
    # the report of the latest complete month, with model health from the trained models
    assert result.report == out / "reports" / f"recovery_report_{result.month:%Y-%m}.html"
    page = result.report.read_text(encoding="utf-8")
    assert 'id="model-table"' in page and 'id="kpi-table"' in page
    assert 'data-section="models"' not in page  # the models section was not replaced by a note


def test_demo_command_passes_months_and_accounts_through(monkeypatch, tmp_path):
    """``--months`` reaches the simulation (it was accepted and ignored before)."""
    from click.testing import CliRunner

    import recovery.commands.demo as demo

    seen = {}

    def fake_run_demo(out_dir, **kwargs):
        seen.update(kwargs)
        return demo.DemoResult(
            out_dir=tmp_path,
            month=pd.Timestamp("2024-01-31"),
            report=tmp_path / "r.html",
            metrics={},
            timings={},
        )

    monkeypatch.setattr(demo, "run_demo", fake_run_demo)
    result = CliRunner().invoke(
        demo.command, ["--accounts", "300", "--months", "36", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert seen["months"] == 36 and seen["accounts"] == 300
