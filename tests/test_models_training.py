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


# --------------------------------------------------------------------------- short histories


def _labelled(months: int, target: str = "p_pay") -> pd.DataFrame:
    """One labelled row per month end (what default_test_start looks at)."""
    dates = pd.date_range("2024-01-31", periods=months, freq="ME")
    return pd.DataFrame({"account_id": "A", "as_of": dates, target: 1.0})


def test_too_short_for_the_test_says_what_to_do():
    from recovery.errors import DataError
    from recovery.models.training import default_test_start

    # 5 labelled months, 6 asked: p_pay (30-day horizon) loses one month to the gap,
    # so 2 test months leave 2 to train on
    with pytest.raises(DataError) as err:
        default_test_start(_labelled(5), "p_pay", test_months=6)
    message = str(err.value)
    assert "only 5 month(s)" in message
    assert "--test-months 2" in message and "--test-months 0" in message
    # p_cure (60 days) loses two months to the gap: one test month leaves two
    with pytest.raises(DataError, match=r"--test-months 1\)"):
        default_test_start(_labelled(5, "p_cure"), "p_cure", test_months=6)
    # two months: no test fits, only fitting without one is offered
    with pytest.raises(DataError) as err:
        default_test_start(_labelled(2), "p_pay", test_months=3)
    assert "--test-months 0" in str(err.value) and "fewer" not in str(err.value)
    assert default_test_start(_labelled(5), "p_pay", test_months=2) == pd.Timestamp("2024-04-30")


def test_test_months_zero_fits_on_every_month_and_the_card_says_so(model_frame, tmp_path):
    from recovery.models import out_of_time_tested, read_card
    from recovery.models.training import training_labels

    result = train_and_evaluate(model_frame, "p_pay", test_months=0)
    labelled = training_labels(model_frame, "p_pay").notna()
    assert not result.tested and result.test_start is None and result.test.empty
    assert result.scorer.training_window_["last_as_of"] == str(
        model_frame.loc[labelled, "as_of"].max().date()
    )
    card = read_card(result.scorer.save(tmp_path / "untested", metrics=result.card_metrics()))
    assert card["metrics"]["out_of_time_test"] is False and not out_of_time_tested(card)
    tested = train_and_evaluate(model_frame, "p_pay", test_months=2)
    assert tested.tested and tested.card_metrics()["out_of_time_test"] is True
    # a model saved with no test metrics at all says it was not tested either
    bare = read_card(result.scorer.save(tmp_path / "bare"))
    assert bare["metrics"]["out_of_time_test"] is False


def test_cli_short_history_then_no_test_then_score(tmp_path, simulated, capsys):
    from recovery.cli import cli, main
    from recovery.data.io import save_portfolio

    portfolio, _ = simulated
    data = tmp_path / "book"
    save_portfolio(portfolio, data)
    runner = CliRunner()
    model = tmp_path / "models" / "p_pay"
    train = ["train", str(data), "--target", "p_pay", "--out", str(model), "--months", "6"]
    # six month ends: five with matured labels, too few for the default six-month test;
    # the one error line says how to go on
    assert main(train) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: only 5 month(s) with matured 'p_pay' labels")
    assert "--test-months 2" in err and "--test-months 0" in err
    assert not model.exists()
    result = runner.invoke(cli, [*train, "--test-months", "0"])
    assert result.exit_code == 0, result.output
    assert "no out-of-time test" in result.output
    as_of = str((month_ends(portfolio)[-1]).date())
    scores = tmp_path / "scores.csv"
    args = ["score", str(data), "--model", str(model), "--as-of", as_of, "--out", str(scores)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "the p_pay model was trained without an out-of-time test" in result.output
