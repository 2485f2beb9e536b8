"""``recovery analyze``: every table from a snapshots table alone, files written."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

from conftest import hand_snapshot_book
from recovery.cli import main
from recovery.commands import analyze
from recovery.commands.analyze import STEPS, AnalysisStep, run_analysis, write_results
from recovery.data.portfolio import Portfolio
from recovery.errors import DataError, RecoveryError

EXPECTED_TABLES = {
    "roll_rates",
    "roll_rate_matrix_count",
    "roll_rate_matrix_balance",
    "roll_rate_matrix_latest",
    "roll_rate_trends",
    "flow_rates",
    "vintage_curves",
    "monthly_kpis",
    "collection_rates",
    "recovery_rates",
    "collection_episodes",
    "collection_cycle",
    "collection_cycle_curves",
}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture
def snapshots() -> pd.DataFrame:
    return hand_snapshot_book()


def test_snapshots_alone_produce_every_table(snapshots):
    results = run_analysis(Portfolio(snapshots=snapshots), figures=False)
    tables = {k for k, v in results.items() if isinstance(v, pd.DataFrame)}
    assert EXPECTED_TABLES <= tables
    for name in EXPECTED_TABLES:
        assert len(results[name]) > 0, name
    assert "collection_costs" not in tables  # no actions table
    assert tables == set(results)  # figures=False: tables only
    m = results["roll_rate_matrix_count"].set_index("from_state")
    assert m.sum(axis=1).round(12).eq(1.0).all()


def test_segments_and_actions(snapshots):
    product = {"A": "card", "B": "card", "E": "card", "C": "loan", "D": "loan", "F": "loan"}
    accounts = pd.DataFrame({"account_id": list(product), "product": list(product.values())})
    actions = pd.DataFrame(
        {"account_id": ["A"], "ts": pd.to_datetime(["2024-02-05 10:00"]), "channel": ["call"]}
    )
    results = run_analysis(
        Portfolio(snapshots=snapshots, accounts=accounts, actions=actions),
        segment="product",
        figures=False,
    )
    assert all(isinstance(v, pd.DataFrame) for v in results.values())
    assert set(results["monthly_kpis_by_product"]["product"]) == {"card", "loan"}
    assert set(results["roll_rates_by_product"]["product"]) == {"card", "loan"}
    assert results["collection_costs"]["cost"].sum() == pytest.approx(1.0)
    assert "cost_per_unit_collected" in results["monthly_kpis"]


def test_cli_writes_parquet_csv_png(snapshots, tmp_path):
    src = tmp_path / "book"
    src.mkdir()
    snapshots.to_csv(src / "snapshots.csv", index=False)
    out = tmp_path / "out"
    assert main(["analyze", str(src), "--out", str(out), "--no-progress", "--dpi", "30"]) == 0
    for name in EXPECTED_TABLES:
        parquet = pd.read_parquet(out / "tables" / f"{name}.parquet")
        csv = pd.read_csv(out / "tables" / f"{name}.csv")
        assert len(parquet) == len(csv) > 0
    pngs = list((out / "figures").glob("*.png"))
    names = {p.stem for p in pngs}
    assert {
        "roll_rate_matrix",
        "cure_trends",
        "vintage_ever_30plus",
        "collection_cycle_plot",
    } <= names
    assert len(pngs) >= 11
    # recovery by debt age and ERC run too, or say why the book is too short for them
    tables = {p.stem for p in (out / "tables").glob("*.parquet")}
    assert "recovery_by_age_plot" in names or "recovery_by_age_skipped" in tables
    assert "erc_plot" in names or "liquidation_skipped" in tables
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    assert not list(out.rglob("*.tmp"))


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 1
    assert "error:" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    pd.DataFrame({"account_id": ["A"]}).to_csv(tmp_path / "empty" / "accounts.csv", index=False)
    code = main(["analyze", str(tmp_path / "empty"), "--out", str(tmp_path / "o")])
    assert code == 1
    assert not (tmp_path / "o").exists()


def test_unknown_step_and_no_snapshots(snapshots):
    with pytest.raises(RecoveryError, match="unknown analysis step"):
        run_analysis(Portfolio(snapshots=snapshots), steps=["nope"])
    with pytest.raises(DataError, match="no 'snapshots' table"):
        run_analysis(Portfolio(accounts=pd.DataFrame({"account_id": ["A"]})))


def test_extension_point(snapshots, tmp_path, monkeypatch):
    def _extra(ctx):
        kpis = ctx.results["monthly_kpis"]  # earlier steps' results are visible
        return {"extra_table": kpis[["month_end"]].assign(n=len(ctx.snapshots))}

    monkeypatch.setattr(analyze, "STEPS", [*STEPS, AnalysisStep("extra", _extra, "test")])
    results = analyze.run_analysis(Portfolio(snapshots=snapshots), figures=False)
    assert (results["extra_table"]["n"] == len(snapshots)).all()
    written = write_results({"extra_table": results["extra_table"]}, tmp_path)
    assert sorted(p.name for p in written) == ["extra_table.csv", "extra_table.parquet"]


def test_event_tables_derive_snapshots_and_exact_cycle():
    from test_analytics_events import synthetic_ledger

    portfolio = synthetic_ledger(n=60)
    results = run_analysis(portfolio, steps=["roll_rates", "kpis"], figures=False)
    assert len(results["roll_rates"]) > 0  # snapshots derived by aging
    exact = results["collection_cycle_events"]
    from_snapshots = results["collection_cycle"]
    # event episodes include the ones too short to be seen at a month end
    assert exact["episodes"].iloc[0] >= from_snapshots["episodes"].iloc[0]
    assert exact["charged_off"].iloc[0] == from_snapshots["charged_off"].iloc[0]


def test_single_month_still_gives_stock_tables(snapshots):
    one = snapshots[snapshots["month_end"] == "2024-01-31"]
    results = run_analysis(Portfolio(snapshots=one), figures=False)
    assert results["roll_rates"].empty and results["flow_rates"].empty
    assert "roll_rate_matrix_count" not in results
    k = results["monthly_kpis"]
    assert len(k) == 1 and k["overdue_rate_30plus"].iloc[0] == pytest.approx(1 / 4)
    assert len(results["vintage_curves"]) == 1


def test_forecast_health_warnings_and_fallback_in_analyze(capsys, tmp_path):
    from test_forecast import card_book

    book = card_book(m1_stay=0.99)  # a thin M1 that keeps and grows its balance
    results = run_analysis(Portfolio(snapshots=book), steps=["liquidation"], figures=False)
    health = results["roll_rate_forecast_health"].set_index("state")
    assert health.loc["M1", "growth_factor"] == 1.0  # the fallback: no growth in M1
    assert (health["spectral_radius"] < 1).all()
    today = health["initial_balance"].sum()
    totals = results["roll_rate_forecast_totals"]
    assert totals["delinquent_balance"].between(today / 3, 3 * today).all()
    notes = results["forecast_notes"]
    warnings = notes.loc[notes["kind"] == "warning", "message"].tolist()
    assert any("M1" in w and "without bound" in w for w in warnings)
    # the CLI says so after writing the tables
    src = tmp_path / "book"
    src.mkdir()
    book.to_csv(src / "snapshots.csv", index=False)
    out = tmp_path / "out"
    args = ["analyze", str(src), "--out", str(out), "--no-progress", "--no-figures"]
    assert main([*args, "--steps", "liquidation"]) == 0
    printed = capsys.readouterr().out
    assert "warning: Forecast: Most of the overdue balance in M1" in printed
    # 6 month ends: the 2nd and 3rd have a pair of months before and 3 months after
    assert "3-month error on your last 2 months" in printed


def test_forecast_backtest_on_your_own_months():
    from recovery.analytics.forecast import RollRateForecaster
    from synthetic_snapshots import make_book

    book = make_book(months=10, new_per_month=150, seed=2)
    results = run_analysis(Portfolio(snapshots=book), steps=["liquidation"], figures=False)
    bt = results["roll_rate_forecast_backtest"]
    # 10 month ends: origins from the 2nd to the 7th (3 months of follow-up each)
    months = sorted(pd.to_datetime(book["month_end"]).unique())
    assert bt["origin"].tolist() == months[1:7]
    # each row independently: fit up to the origin, forecast 3 months, count the actual
    for row in bt.itertuples():
        f = RollRateForecaster().fit(book[book["month_end"] <= row.origin])
        forecast = f.predict_totals(3)["delinquent_balance"].iloc[-1]
        at = book[(book["month_end"] == row.month_end) & (book["status"] == "open")]
        actual = at.loc[at["dpd"] > 0, "balance"].sum()
        assert row.forecast == pytest.approx(forecast)
        assert row.actual == pytest.approx(actual)
        assert row.pct_error == pytest.approx(forecast / actual - 1)
    sentence = results["forecast_notes"].set_index("kind").loc["note", "message"]
    mape = 100 * bt["pct_error"].abs().mean()
    assert f"3-month error on your last 6 months (delinquent balance): {mape:.1f} %" in sentence


@pytest.mark.slow
def test_parts_give_the_results_of_the_whole_book(tmp_path):
    """The sample analysed in one part, in parts of 700 accounts, and from a dataset."""
    from recovery.datasets import load_sample
    from recovery.engine.partitioning import open_partitioned, write_partitioned
    from recovery.timeline import aging

    sample = load_sample()
    # the same snapshots in both (aging itself is checked part by part in
    # test_snapshot_parts: its sums differ from the whole book's in the last bits,
    # which the ERC's bootstrap bounds can magnify beyond 1e-9)
    snaps = aging.snapshots(sample)
    given = Portfolio(snapshots=snaps, accounts=sample.accounts, actions=sample.actions)
    one = run_analysis(given, figures=False, partition_size=10_000)
    parted = run_analysis(given, figures=False, partition_size=700)
    assert set(one) == set(parted)
    for name, table in one.items():
        pd.testing.assert_frame_equal(
            table, parted[name], check_exact=False, rtol=1e-9, atol=1e-9, obj=name
        )
    dataset = open_partitioned(write_partitioned(sample, tmp_path / "book", 3))
    steps = ["roll_rates", "kpis"]
    from_disk = run_analysis(dataset, figures=False, steps=steps)
    from_memory = run_analysis(sample, figures=False, steps=steps)  # aged as one part
    assert set(from_disk) == set(from_memory)
    for name, table in from_disk.items():
        pd.testing.assert_frame_equal(
            table, from_memory[name], check_exact=False, rtol=1e-9, atol=1e-9, obj=name
        )
    assert len(from_disk["collection_cycle_events"]) > 0


@pytest.mark.slow
def test_engine_dask_gives_the_pandas_tables(snapshots, tmp_path):
    pytest.importorskip("distributed")
    src = tmp_path / "book"
    src.mkdir()
    snapshots.to_csv(src / "snapshots.csv", index=False)
    for engine in ("pandas", "dask"):
        args = ["analyze", str(src), "--out", str(tmp_path / engine), "--no-progress"]
        args += ["--no-figures", "--steps", "roll_rates,kpis", "--engine", engine]
        assert main([*args, "--workers", "1"]) == 0
    for table in sorted((tmp_path / "pandas" / "tables").glob("*.parquet")):
        pd.testing.assert_frame_equal(
            pd.read_parquet(table),
            pd.read_parquet(tmp_path / "dask" / "tables" / table.name),
            check_exact=False,
            rtol=1e-9,
            atol=1e-9,
        )
