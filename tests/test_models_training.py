"""End-to-end: simulated portfolio → features → labels → scorer → saved model → CLI.

A small simulated book (a few hundred accounts) keeps this fast; the bounds are
loose because the test months hold a few hundred overdue rows. The strict figures
come from ``benchmarks/bench_models.py`` on 50,000 accounts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from recovery.models import load_model, score_table
from recovery.models.training import (
    attach_truth,
    build_model_frame,
    month_ends,
    train_and_evaluate,
)


@pytest.fixture(scope="module")
def simulated():
    simulate = pytest.importorskip("recovery.simulate")
    portfolio, truth = simulate.simulate_portfolio(n_accounts=800, months=36, seed=3)
    return portfolio, truth


@pytest.fixture(scope="module")
def model_frame(simulated):
    portfolio, truth = simulated
    dates = month_ends(portfolio)[-18:]
    return attach_truth(build_model_frame(portfolio, dates), truth)


def test_model_frame_rows_are_overdue_pairs_with_point_in_time_labels(model_frame, simulated):
    portfolio, _ = simulated
    frame = model_frame
    assert not frame.duplicated(["account_id", "as_of"]).any()
    status = frame["status"].astype(str)
    assert ((status == "charged_off") | ((status == "open") & (frame["dpd"] > 0))).all()
    # labels whose horizon ends after the data end are censored, never 0
    late = frame["as_of"] + pd.Timedelta(days=30) > portfolio.data_end
    assert frame.loc[late, "p_pay"].isna().all()
    assert frame["p_pay_true"].notna().mean() > 0.95


def test_p_pay_out_of_time_against_truth(model_frame):
    result = train_and_evaluate(model_frame, "p_pay", test_months=4)
    m = result.metrics
    assert m["n"] > 200
    assert 0 <= m["mean_p"] <= 1
    # ~300 test rows from ~700 training rows, in the simulated downturn: loose, honest
    # bounds (latent ability/willingness alone keep |p - p_true| well above 0)
    assert m["mae_true"] < 0.10
    assert m["auc"] > m["oracle_auc"] - 0.10
    assert abs(m["mean_p"] - m["mean_p_true"]) < 0.05


def test_cli_train_then_score(tmp_path, simulated):
    from recovery.cli import cli
    from recovery.data.io import save_portfolio

    portfolio, _ = simulated
    data = tmp_path / "book"
    save_portfolio(portfolio, data)
    runner = CliRunner()
    out = {}
    for target in ("p_pay", "amount"):
        out[target] = tmp_path / "models" / target
        result = runner.invoke(
            cli,
            [
                "train",
                str(data),
                "--target",
                target,
                "--out",
                str(out[target]),
                "--months",
                "8",
                "--test-months",
                "2",
            ],
        )
        assert result.exit_code == 0, result.output
        assert (out[target] / "card.json").is_file()
    as_of = str((month_ends(portfolio)[-1]).date())
    scores = tmp_path / "scores.csv"
    result = runner.invoke(
        cli,
        [
            "score",
            str(data),
            "--model",
            str(tmp_path / "models"),
            "--as-of",
            as_of,
            "--out",
            str(scores),
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(scores)
    assert {"account_id", "p_pay", "p_pay_band", "expected_amount", "reasons"} <= set(table)
    assert table["p_pay"].between(0, 1).all()
    assert np.allclose(table["expected_amount"], table["p_pay"] * table["amount_given_payment"])
    # the CLI's scores equal the library's with the loaded models
    from recovery.timeline.features import build_features

    frame = build_features(portfolio, [as_of])
    models = {t: load_model(out[t]) for t in out}
    # the saved level was refitted on the latest matured months (point in time)
    assert models["p_pay"].card_["recalibration"]["rows"] > 0
    again = score_table(frame, models)
    assert np.allclose(again["p_pay"].to_numpy(), table["p_pay"].to_numpy())
    # a model directory that is not one fails with one clear line
    result = runner.invoke(
        cli,
        [
            "score",
            str(data),
            "--model",
            str(data),
            "--as-of",
            as_of,
            "--out",
            str(tmp_path / "x.csv"),
        ],
    )
    assert result.exit_code != 0
