"""Tests of offers on a book: the history, the ``recovery offers`` command."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from recovery.cli import cli
from recovery.config import Config
from recovery.datasets import tiny_portfolio
from recovery.errors import DataError
from recovery.operations.offer_book import offer_history
from recovery.operations.offer_recommend import account_offer_state
from recovery.operations.offer_rules import offer_breaches


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    from recovery.data.io import save_portfolio
    from recovery.simulate import simulate_portfolio

    portfolio, _ = simulate_portfolio(n_accounts=1500, months=48, seed=5, scenario="offers")
    root = tmp_path_factory.mktemp("offers")
    save_portfolio(portfolio, root / "book")
    return portfolio, root


def offers_args(root, day, out) -> list[str]:
    """``recovery offers`` on the test book, its model in ``root/model``."""
    model = str(root / "model")
    return ["offers", str(root / "book"), "--model", model, "--date", str(day), "--out", str(out)]


def test_a_book_without_offers_says_what_it_needs(tmp_path, capsys):
    with pytest.raises(DataError, match="needs the lender's offer history"):
        offer_history(tiny_portfolio(), "2024-06-01")
    from recovery.data.io import save_portfolio

    save_portfolio(tiny_portfolio(), tmp_path / "book")
    from recovery.cli import main

    rc = main(
        [
            "offers",
            str(tmp_path / "book"),
            "--model",
            str(tmp_path / "m"),
            "--date",
            "2024-04-01",
            "--out",
            str(tmp_path / "o.csv"),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith("error: recommending offers needs the lender's offer history")
    assert "randomized" in err and "Traceback" not in err
    assert not (tmp_path / "o.csv").exists() and not (tmp_path / "m").exists()


def test_offers_command_one_row_per_account_within_the_rules(book):
    portfolio, root = book
    day = (portfolio.data_end + pd.Timedelta(days=1)).date()
    out = root / "offers.csv"
    args = offers_args(root, day, out)
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "more than collecting as usual" in first.output
    table = pd.read_csv(out)
    assert sorted(p.name for p in (root / "model").iterdir())[-1] == "offer_model.json"
    assert not list((root / "model").glob("*.pkl"))
    state = account_offer_state(portfolio, day)
    assert table["account_id"].tolist() == state["account_id"].tolist()
    assert {
        "offer",
        "discount_share",
        "installments",
        "value",
        "reasons",
        "runner_up_value",
    } <= set(table)
    made = table["offer"] != "none"
    terms = table.loc[made, ["offer", "discount_share", "installments", "deferral_months"]]
    terms = terms.rename(columns={"offer": "kind"}).reset_index(drop=True)
    both = pd.concat([state[made.to_numpy()].reset_index(drop=True), terms], axis=1)
    assert not offer_breaches(both, Config()).to_numpy().any()
    # the saved model is read the second time: same table
    again = CliRunner().invoke(cli, args[:-1] + [str(root / "again.csv")])
    assert again.exit_code == 0, again.output
    pd.testing.assert_frame_equal(pd.read_csv(root / "again.csv"), table)


def test_worklist_carries_the_recommended_offers(book):
    portfolio, root = book
    day = (portfolio.data_end + pd.Timedelta(days=1)).date()
    runner = CliRunner()
    if not (root / "model" / "offer_model.json").exists():
        runner.invoke(cli, offers_args(root, day, root / "offers.csv"))
    trained = runner.invoke(
        cli,
        [
            "train",
            str(root / "book"),
            "--target",
            "p_pay",
            "--out",
            str(root / "p_pay"),
            "--months",
            "6",
            "--test-months",
            "0",
        ],
    )
    assert trained.exit_code == 0, trained.output
    out = root / "worklist.csv"
    result = runner.invoke(
        cli,
        [
            "worklist",
            str(root / "book"),
            "--model",
            str(root / "p_pay"),
            "--date",
            str(day),
            "--out",
            str(out),
            "--offer-model",
            str(root / "model"),
        ],
    )
    assert result.exit_code == 0, result.output
    wl = pd.read_csv(out, keep_default_na=False)
    assert {"offer", "offer_value", "offer_reasons"} <= set(wl)
    assert (wl["offer"] != "").any()
    with_offer = wl[wl["offer"] != ""]
    assert (with_offer["offer_value"].astype(float) > 0).all()
    assert with_offer["offer_reasons"].str.contains("more than collecting as usual").all()


def test_features_of_the_day_before_each_offer(book):
    from recovery.operations.offer_book import offer_features
    from recovery.timeline.features import build_features

    portfolio, _ = book
    history = offer_history(portfolio, portfolio.data_end)
    rows = history.head(40)
    got, names = offer_features(portfolio, rows)
    assert "dpd" in names and "balance" not in names  # the state's own columns are kept
    first = rows.iloc[0]
    day_before = pd.Timestamp(first["offered_at"]) - pd.Timedelta(days=1)
    want = build_features(portfolio, [day_before])
    want = want[want["account_id"] == first["account_id"]]
    assert got["dpd"].iloc[0] == want["dpd"].iloc[0]
    assert len(got) == len(rows) and list(got.index) == list(rows.index)
    # a model with features gets them built for the accounts on the day
    from recovery.operations.offer_book import book_offers, fit_offer_model, fit_usual

    day = portfolio.data_end + pd.Timedelta(days=1)
    model = fit_offer_model(got, features=["dpd", "worst_dpd"], min_rows=10)
    table = book_offers(portfolio, day, model, fit_usual(portfolio, day))
    assert len(table) == len(account_offer_state(portfolio, day))
