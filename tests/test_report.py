"""Tests of recovery.report: formatting, KPI changes, notes, the month check, rendering.

The rendering tests build a small *snapshot-only* portfolio (accounts + monthly
snapshots, as a lender with only a data warehouse table would have) with a seeded
Markov chain over aging buckets, render the report once per module and check the HTML:
its sections, its embedded images, nothing external; then open it in headless Chromium.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from recovery import report
from recovery.errors import DataError, RecoveryError
from recovery.report import (
    KpiSpec,
    book_by_state,
    change_notes,
    check_report_month,
    format_count,
    format_days,
    format_kpi_change_table,
    format_money,
    format_pct,
    format_pp,
    format_table,
    kpi_change_table,
    parse_month,
    render_monthly_report,
    roll_rate_notes,
    table_html,
)
from recovery.report.render import embedded_images

# ----------------------------------------------------------------------------- formatting


def test_format_money_thousands_and_rounding():
    assert format_money(1234567.891) == "1,234,568"
    assert format_money(1234567.891, decimals=2) == "1,234,567.89"
    assert format_money(-2500, currency="¥") == "-¥2,500"
    assert format_money(-0.2) == "0"  # rounds to zero: no "-0"
    assert format_money(999) == "999"
    assert format_money(np.nan) == report.MISSING
    assert format_money(None) == report.MISSING


def test_format_money_compact_keeps_three_significant_digits():
    assert format_money(1234567, compact=True) == "1.23m"
    assert format_money(12_345_678, compact=True) == "12.3m"
    assert format_money(123_456, compact=True) == "123k"
    assert format_money(2.5e9, compact=True) == "2.50bn"
    assert format_money(-45_600, compact=True) == "-45.6k"


def test_format_pct_and_pp():
    assert format_pct(0.1234) == "12.3%"
    assert format_pct(0.1234, decimals=2) == "12.34%"
    assert format_pct(0) == "0.0%"
    assert format_pct(0.05, sign=True) == "+5.0%"
    assert format_pct(-0.0001, sign=True) == "0.0%"  # rounds to zero: unsigned
    assert format_pp(0.0042) == "+0.4 pp"
    assert format_pp(-0.012) == "-1.2 pp"
    assert format_pp(np.nan) == report.MISSING


def test_format_count_and_days():
    assert format_count(1234567) == "1,234,567"
    assert format_count(np.int64(12)) == "12"
    assert format_days(45.4) == "45 days"
    assert format_days(1) == "1 day"


def test_format_table_defaults_by_dtype():
    t = pd.DataFrame(
        {
            "bucket": ["M1", "M2"],
            "accounts": np.array([1200, 35], dtype=np.int64),
            "rate": [0.123, np.nan],
            "when": pd.to_datetime(["2026-10-31", None]),
        }
    )
    out = format_table(t, {"rate": "pct"})
    assert out.values.tolist() == [
        ["M1", "1,200", "12.3%", "2026-10-31"],
        ["M2", "35", report.MISSING, report.MISSING],
    ]


def test_table_html_escapes_and_right_aligns_numbers():
    t = pd.DataFrame({"name": ["<b>x</b>"], "balance": [1500.0]})
    markup = table_html(t, {"balance": "money"}, table_id="t1")
    assert "&lt;b&gt;x&lt;/b&gt;" in markup
    assert '<td class="num">1,500</td>' in markup
    assert 'id="t1"' in markup


def test_intervals_are_never_degenerate_and_small_bands_say_so():
    assert report.format_interval(0.0, 0.0, format_pct) == "not estimable"
    assert report.format_interval(0.0, 0.0004, format_pct) == "not estimable"  # both "0.0%"
    assert report.format_interval(0.0, 0.0006, format_pct) == "0.0% to 0.1%"
    assert report.format_interval(np.nan, 0.1, format_pct) == report.MISSING
    t = pd.DataFrame(
        {
            "age_band": ["3-6", "6-12", "36+"],
            "n_accounts": [2, 168, 95],
            "n_debts": [2, 837, 2854],
            "recovery_rate": [0.0, 0.076, 0.0],
            "recovery_rate_low": [0.0, 0.039, 0.0],
            "recovery_rate_high": [0.0, 0.135, 0.0],
            "payer_rate": [0.0, 0.415, 0.0],
            "payer_rate_low": [0.0, 0.349, 0.0],
            "payer_rate_high": [0.0, 0.488, 0.0],
            "too_few": [True, False, False],
        }
    )
    shown = report.recovery_by_age_table(t)
    assert shown.iloc[0].tolist() == [
        "3-6 months", "2", "2", "0.0%", "too few accounts", "0.0%", "too few accounts",
    ]  # fmt: skip
    assert shown.iloc[1]["95% interval"] == "3.9% to 13.5%"
    assert shown.iloc[2]["95% interval"] == "not estimable"  # 95 accounts, none paid
    text = " ".join(shown.to_numpy().ravel())
    assert not re.search(r"(\d+\.\d%) to \1", text)


# ----------------------------------------------------------------------------- the month


def test_parse_month_accepts_month_and_dates():
    assert parse_month("2026-10") == pd.Timestamp("2026-10-31")
    assert parse_month("2024-02-03") == pd.Timestamp("2024-02-29")
    assert parse_month(pd.Timestamp("2026-10-31 13:00")) == pd.Timestamp("2026-10-31")
    with pytest.raises(DataError, match="YYYY-MM"):
        parse_month("October")


def test_check_report_month_refuses_outside_and_gaps():
    months = pd.DatetimeIndex(["2026-01-31", "2026-02-28", "2026-04-30"])
    assert check_report_month("2026-02", months) == pd.Timestamp("2026-02-28")
    with pytest.raises(DataError, match="covers January 2026 to April 2026"):
        check_report_month("2025-12", months)
    with pytest.raises(DataError, match="no data for May 2026"):
        check_report_month("2026-05", months)
    with pytest.raises(DataError, match="no rows at 2026-03-31"):
        check_report_month("2026-03", months)
    with pytest.raises(DataError, match="no complete month"):
        check_report_month("2026-03", [])


# ----------------------------------------------------------------------------- KPIs


def _kpis() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month_end": pd.to_datetime(["2025-10-31", "2026-08-31", "2026-09-30", "2026-10-31"]),
            "overdue_rate_30plus_balance": [0.050, 0.041, 0.040, 0.046],
            "cure_rate": [0.31, 0.29, 0.300, 0.302],
            "amount_collected": [80_000.0, 95_000.0, 100_000.0, 90_000.0],
        }
    )


def test_kpi_change_table_by_hand():
    t = kpi_change_table(_kpis(), "2026-10").set_index("kpi")
    # overdue 30+: 0.046 now, 0.040 in September, 0.050 a year earlier
    assert t.loc["overdue_rate_30plus_balance", "change_previous"] == pytest.approx(0.006)
    assert t.loc["overdue_rate_30plus_balance", "change_last_year"] == pytest.approx(-0.004)
    # collected: 90,000 vs 100,000 = -10%; vs 80,000 = +12.5%
    assert t.loc["amount_collected", "change_previous"] == pytest.approx(-0.10)
    assert t.loc["amount_collected", "change_last_year"] == pytest.approx(0.125)
    # headline order of HEADLINE_KPIS, only the columns present
    assert list(t.index) == ["overdue_rate_30plus_balance", "cure_rate", "amount_collected"]


def test_kpi_change_table_missing_months_give_nan():
    t = kpi_change_table(_kpis(), "2026-08").set_index("kpi")
    assert np.isnan(t.loc["cure_rate", "previous"])  # no July 2026
    assert np.isnan(t.loc["cure_rate", "change_last_year"])  # no August 2025
    assert t.loc["cure_rate", "value"] == pytest.approx(0.29)


def test_kpi_change_table_custom_specs_and_zero_base():
    k = pd.DataFrame(
        {"month_end": pd.to_datetime(["2026-09-30", "2026-10-31"]), "cost": [0.0, 10.0]}
    )
    t = kpi_change_table(k, "2026-10", specs=[KpiSpec("cost", "Cost", "money", False)])
    assert np.isnan(t["change_previous"].iloc[0])  # relative change from 0 is undefined
    with pytest.raises(ValueError):
        KpiSpec("x", "X", "percent")


def _history() -> pd.DataFrame:
    """26 months to October 2026: 24 changes of history alternating up and down, then
    overdue +0.6 pp (far outside), cure +0.2 pp (inside) and collected -10% (outside)."""
    i = np.arange(26)
    overdue = 0.040 + 0.001 * (i % 2)
    overdue[25] = overdue[24] + 0.006
    cure = 0.30 + 0.02 * (i % 2)
    cure[25] = cure[24] + 0.002
    collected = 100_000 * (1 + 0.03 * (i % 2))
    collected[25] = 90_000.0
    return pd.DataFrame(
        {
            "month_end": pd.date_range("2024-09-30", periods=26, freq="ME"),
            "overdue_rate_30plus_balance": overdue,
            "cure_rate": cure,
            "amount_collected": collected,
        }
    )


def test_kpi_changes_judged_against_control_limits_by_hand():
    t = kpi_change_table(_history(), "2026-10").set_index("kpi")
    q = stats.t.ppf(0.995, 23)  # 24 changes of history: mean and sd estimated
    # overdue: changes of ±0.1 pp, mean 0; band ±q·sd·√(1 + 1/24)
    sd = np.sqrt(24 * 0.001**2 / 23)
    edge = q * sd * np.sqrt(1 + 1 / 24)
    row = t.loc["overdue_rate_30plus_balance"]
    assert row["band_low"] == pytest.approx(-edge) and row["band_high"] == pytest.approx(edge)
    assert row["verdict"] == "unusual" and row["beyond"] == pytest.approx(0.006 - edge)
    assert row["history"] == 24
    # collected: log changes ±log(1.03); band exp(±edge) - 1; -10% is outside
    sd = np.sqrt(24 * np.log(1.03) ** 2 / 23)
    edge = q * sd * np.sqrt(1 + 1 / 24)
    row = t.loc["amount_collected"]
    assert row["band_low"] == pytest.approx(np.expm1(-edge))
    assert row["band_high"] == pytest.approx(np.expm1(edge))
    assert row["verdict"] == "unusual" and row["change_previous"] == pytest.approx(-0.1)
    assert t.loc["cure_rate", "verdict"] == "normal"
    # the level is a setting: at 0.5 the narrow band calls the cure change unusual too
    wide = kpi_change_table(_history(), "2026-10", level=0.51).set_index("kpi")
    assert wide.loc["cure_rate", "band_high"] < t.loc["cure_rate", "band_high"]


def test_format_kpi_change_table_colours_only_unusual_changes():
    text, marks = format_kpi_change_table(kpi_change_table(_history(), "2026-10"))
    assert list(text.columns) == [
        "KPI",
        "October 2026",
        "September 2026",
        "Change",
        "Normal variation",
        "Judged",
        "October 2025",
        "Change vs last year",
    ]
    row = text.set_index("KPI").loc["Amount collected"]
    assert row["October 2026"] == "90,000" and row["Change"] == "-10.0%"
    assert row["Judged"].startswith("unusual (") and row["Judged"].endswith("beyond)")
    assert (
        text.set_index("KPI").loc["Cure rate (delinquent accounts back to current)"]["Judged"]
        == "within normal variation"
    )
    # overdue up = bad, cure within normal variation = no colour, collected down = bad
    assert marks["Change"].tolist() == ["bad", "", "bad"]
    assert set(marks["Change vs last year"]) == {""}  # a year ago is context, not judged


def test_change_notes_unusual_first_and_how_far():
    notes = change_notes(kpi_change_table(_history(), "2026-10"))
    assert len(notes) == 3
    # overdue is 2.1 band edges away, collected 1.2: overdue first
    assert notes[0].startswith(
        "Overdue rate 30+ DPD (share of open balance) rose from 4.0% in September 2026 to "
        "4.6% in October 2026 (+0.6 pp): unusual, 0.3 pp beyond its normal variation of "
        "-0.3 pp to +0.3 pp; a deterioration."
    )
    assert notes[1].startswith("Amount collected fell from 100,000 in September 2026 to 90,000")
    assert "unusual" in notes[1] and "a deterioration" in notes[1]
    assert notes[2] == (
        "Cure rate (delinquent accounts back to current) was 30.2% in October 2026 against "
        "30.0% in September 2026 (+0.2 pp): within normal variation (-5.9 pp to +5.9 pp)."
    )
    short = change_notes(kpi_change_table(_kpis(), "2026-10"))
    assert all("not enough history to judge" in n for n in short)
    assert not any("rose" in n or "fell" in n for n in short)  # nothing is called news


def test_rates_judged_from_their_own_denominators_and_thin_ones_flagged():
    from recovery.analytics.variation import kpi_moments

    rng = np.random.default_rng(4)
    months = pd.date_range("2024-09-30", periods=26, freq="ME")
    n = np.r_[np.full(25, 400), 14]  # October's cure rate stands on 14 accounts
    units = {
        "cure_rate": pd.DataFrame(
            {
                "month_end": np.repeat(months, n),
                "x": 1.0,
                "y": (rng.random(n.sum()) < 0.3).astype(float),
            }
        )
    }
    moments = kpi_moments(units)
    kpis = moments.assign(cure_rate=moments["sum_y"] / moments["sum_x"])[["month_end", "cure_rate"]]
    t = kpi_change_table(kpis, "2026-10", moments=moments)
    row = t.iloc[0]
    assert row["accounts"] == 14 and row["history"] == 24
    # 14 accounts: a band far wider than September's own change of 400 accounts allows
    assert row["band_high"] - row["band_low"] > 0.4
    note = change_notes(t)[0]
    assert "; based on 14 accounts)" in note
    assert "based on 14 accounts" in report.kpi_cards_html(t, kpis=["cure_rate"])


def test_change_notes_say_when_a_figure_is_missing():
    k = _kpis().assign(cure_rate=[0.3, 0.3, 0.3, np.nan])
    notes = change_notes(kpi_change_table(k, "2026-10"))
    assert (
        notes[-1]
        == "Cure rate (delinquent accounts back to current) is not available for October 2026."
    )


def test_roll_rate_notes_judged_with_their_average_for_context():
    months = pd.date_range("2024-09-30", periods=26, freq="ME")
    i = np.arange(26)
    m1 = 0.20 + 0.01 * (i % 2)
    m1[25] = 0.32  # 400 accounts: +12 pp is far outside
    m2 = 0.50 + 0.01 * (i % 2)
    m2[25] = 0.505  # +0.5 pp is inside
    m3 = np.where(i % 2, 9 / 12, 8 / 12)  # 12 accounts: 8 or 9 roll forward
    t = pd.DataFrame(
        {
            "month_end": np.tile(months, 3),
            "from_state": ["M1"] * 26 + ["M2"] * 26 + ["M3"] * 26,
            "n": [400] * 26 + [120] * 26 + [12] * 26,
            "roll_forward": np.r_[m1, m2, m3],
        }
    )
    notes = roll_rate_notes(t, "2026-11", states=["M1", "M2", "M3", "M4"])
    assert len(notes) == 3  # no M4 rows
    assert notes[0].startswith(
        "Roll forward from M1 rose from 20.0% to 32.0% in November 2026 (+12.0 pp): unusual,"
    )
    assert notes[0].endswith("its 12-month average is 20.5%.")
    assert notes[1].startswith(
        "Roll forward from M2 was 50.5% in November 2026 against 50.0% the month before "
        "(+0.5 pp): within normal variation ("
    )
    assert "based on" not in notes[1]  # 120 accounts is not thin
    assert "(+8.3 pp; based on 12 accounts): within normal variation" in notes[2]


def test_book_by_state_shares_sum_to_one():
    s = pd.DataFrame(
        {
            "account_id": list("ABCDE"),
            "month_end": pd.to_datetime(["2026-10-31"] * 4 + ["2026-09-30"]),
            "bucket": ["M0", "M1", None, None, "M0"],
            "status": ["open", "open", "charged_off", "paid_off", "open"],
            "balance": [500.0, 300.0, 200.0, 0.0, 999.0],
        }
    )
    book = book_by_state(s, "2026-10")
    assert book["state"].tolist() == ["M0", "M1", "charged_off"]  # paid_off excluded
    assert book["share_of_balance"].sum() == pytest.approx(1.0)
    assert book["share_of_balance"].tolist() == pytest.approx([0.5, 0.3, 0.2])


def test_section_turns_missing_pieces_into_a_note(capsys):
    with report.section("x", "The thing"):
        import recovery.no_such_module  # noqa: F401
    assert 'class="report-unavailable" data-section="x"' in capsys.readouterr().out
    with report.section("y", "The other thing"):
        raise report.SectionUnavailable("no agents table")
    assert "The other thing cannot be shown: no agents table" in capsys.readouterr().out
    with pytest.raises(ZeroDivisionError):  # a bug is not hidden
        with report.section("z"):
            1 / 0  # noqa: B018


def test_forecast_section_warns_when_the_forecast_would_explode():
    from recovery.config import Config
    from recovery.data.portfolio import Portfolio
    from recovery.report.data import ReportData
    from test_forecast import card_book

    book = card_book(m1_stay=0.99)  # a thin M1 that keeps and grows its balance
    months = pd.DatetimeIndex(sorted(book["month_end"].unique()))
    data = ReportData(Portfolio(snapshots=book), book, months[-1], months, months[-1], Config())
    table, _ = report.forecast_summary(data, months_ahead=3)
    notes = table.attrs["notes"]
    assert any("M1" in n and "without bound" in n for n in notes)
    # the balances shown stay near today's instead of growing 70 % a month
    row = table.set_index("Measure").loc["Delinquent balance"]
    values = [float(v.replace(",", "")) for v in row]
    assert max(values) < 1.5 * values[0]
    # the template shows the notes under the forecast table
    nb = (Path(report.__file__).parent / "templates" / "monthly_report.ipynb").read_text()
    assert 'table.attrs.get(\\"notes\\", [])' in nb


def test_model_health_says_when_a_model_had_no_out_of_time_test():
    health = pd.DataFrame(
        {
            "model": ["p_pay", "p_cure"],
            "trained_on": ["2024-01-31 to 2024-05-31"] * 2,
            "in_training_window": [False, False],
            "tested": [False, True],
            "test_auc": [np.nan, 0.78],
            "score_psi": [0.04, 0.05],
            "psi_status": ["stable", "stable"],
            "shifted_features": ["dpd (0.02)"] * 2,
            "matured_month": [pd.Timestamp("2024-08-31")] * 2,
            "matured_accounts": [120, 80],
            "matured_auc": [0.71, 0.77],
        }
    )
    notes = report.model_health_notes(health)
    assert (
        "p_pay: trained without an out-of-time test, so its accuracy on months after its "
        "training data was not checked at training; its AUC on August 2024, after "
        "training, is 0.71."
    ) in notes
    assert "p_cure: AUC 0.77 on August 2024 (out-of-time test: 0.78)." in notes
    table = report.format_model_health(health)
    assert table["Test AUC (at training)"].tolist() == ["no test", "0.780"]
    # inside the training window there is no later month to quote
    inside = report.model_health_notes(health.assign(in_training_window=True).head(1))
    assert inside[-1].endswith("was not checked at training.")


# ----------------------------------------------------------------------------- a book


def simulate_snapshots(
    n_accounts: int = 400, months: int = 40, seed: int = 7
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded snapshot-only book: a Markov chain over buckets, vectorised by month.

    Each month an open account at DPD d either pays (back to 0 with prob 0.6 − 0.08 ×
    bucket), stays or rolls 30 days; past 180 DPD it is charged off and pays 3% of its
    balance with prob 0.1 a month. Loans originate uniformly over the first 30 months
    and pay off after 24 months on book if current.
    """
    rng = np.random.default_rng(seed)
    month_ends = pd.date_range("2023-01-31", periods=months, freq="ME")
    start = rng.integers(0, 30, n_accounts)
    principal = rng.uniform(2_000, 20_000, n_accounts).round(0)
    product = np.where(rng.uniform(size=n_accounts) < 0.6, "consumer_installment", "small_business")
    region = rng.choice(["north", "south", "east"], n_accounts)
    dpd = np.zeros(n_accounts, dtype=int)
    status = np.array(["open"] * n_accounts, dtype=object)
    balance = principal.copy()
    rows = []
    for t, me in enumerate(month_ends):
        live = start <= t
        first = start == t
        u = rng.uniform(size=n_accounts)
        bucket_no = np.minimum(dpd // 30 + (dpd > 0), 7)
        open_ = live & ~first & (status == "open")
        pays = open_ & (u < 0.6 - 0.08 * bucket_no)
        rolls = open_ & ~pays & (u > 0.75 - 0.03 * bucket_no)
        paid = np.zeros(n_accounts)
        installment = principal / 24
        paid[pays] = installment[pays] * (1 + dpd[pays] / 30)
        dpd = np.where(pays, 0, np.where(rolls, dpd + 30 + (dpd == 0) * 1, dpd))
        balance = np.where(pays, np.maximum(balance - installment, 0), balance)
        charged = (status == "open") & (dpd > 180)
        status = np.where(charged, "charged_off", status)
        co = live & (status == "charged_off") & ~charged
        recover = co & (rng.uniform(size=n_accounts) < 0.1)
        paid[recover] = 0.03 * balance[recover]
        balance = np.where(recover, balance - paid, balance)
        dpd = np.where(status == "charged_off", dpd + 30, dpd)
        payoff = (status == "open") & (t - start >= 24) & (dpd == 0)
        status = np.where(payoff, "paid_off", status)
        balance = np.where(payoff, 0.0, balance)
        on_book = live & ((status != "paid_off") | payoff)
        idx = np.flatnonzero(on_book)
        b = np.where(status[idx] == "open", np.minimum(dpd[idx] // 30 + (dpd[idx] % 30 > 0), 7), -1)
        labels = np.array(["M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7+"], dtype=object)
        rows.append(
            pd.DataFrame(
                {
                    "account_id": [f"A{i:04d}" for i in idx],
                    "month_end": me,
                    "dpd": dpd[idx],
                    "bucket": np.where(b >= 0, labels[np.maximum(b, 0)], None),
                    "balance": balance[idx].round(2),
                    "amount_overdue": np.where(
                        dpd[idx] > 0, (installment[idx] * np.ceil(dpd[idx] / 30)).round(2), 0.0
                    ),
                    "paid_in_month": paid[idx].round(2),
                    "status": status[idx],
                }
            )
        )
    snapshots = pd.concat(rows, ignore_index=True)
    snapshots["amount_overdue"] = np.minimum(snapshots["amount_overdue"], snapshots["balance"])
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i:04d}" for i in range(n_accounts)],
            "customer_id": [f"C{i:04d}" for i in range(n_accounts)],
            "product": product,
            "origination_date": month_ends[start] - pd.Timedelta(days=20),
            "principal": principal,
            "term_months": 24,
            "interest_rate": 0.12,
            "region": region,
        }
    )
    return accounts, snapshots


@pytest.fixture(scope="module")
def book_dir(tmp_path_factory) -> Path:
    accounts, snapshots = simulate_snapshots()
    directory = tmp_path_factory.mktemp("book")
    accounts.to_parquet(directory / "accounts.parquet", index=False)
    snapshots.to_parquet(directory / "snapshots.parquet", index=False)
    (directory / "portfolio.json").write_text(json.dumps({"data_end": "2026-04-30"}))
    return directory


@pytest.fixture(scope="module")
def rendered(book_dir, tmp_path_factory) -> Path:
    """The report of March 2026, rendered once through the CLI with a config file."""
    from recovery.cli import main

    work = tmp_path_factory.mktemp("render")
    cfg = work / "recovery.toml"
    cfg.write_text(
        "[analytics]\nrecovery_horizon_months = 6\nbootstrap_samples = 40\n", encoding="utf-8"
    )
    out = work / "reports"
    rc = main(
        ["report", str(book_dir), "--month", "2026-03", "--out", str(out), "--config", str(cfg)]
    )
    assert rc == 0
    return out / "recovery_report_2026-03.html"


def test_render_writes_one_standalone_html(rendered):
    assert rendered.name == "recovery_report_2026-03.html"
    assert [p.name for p in rendered.parent.iterdir()] == [rendered.name]  # no temp files left
    page = rendered.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "Monthly recovery report — March 2026" in page
    # code hidden: no input cells, no prompts
    assert "input_area" not in page and "In&nbsp;[" not in page
    assert "load_report_data" not in page
    # standalone: no external scripts, styles or images
    assert not re.search(r'(src|href)="https?://', page)


def test_render_writes_a_file_others_can_read(rendered):
    from recovery.data.atomic import current_umask

    # the permissions a plain write would give, not a private temporary file's
    assert rendered.stat().st_mode & 0o777 == 0o666 & ~current_umask()


def test_render_has_sections_toc_and_images(rendered):
    page = rendered.read_text(encoding="utf-8")
    for sid in (
        "summary",
        "kpis",
        "book",
        "roll-rates",
        "segments",
        "recovery-by-age",
        "agents",
        "models",
        "forecast",
        "about",
    ):
        assert f'<h2 id="{sid}"' in page, sid
        assert f'href="#{sid}"' in page, sid  # in the table of contents
    assert embedded_images(page) >= 4
    # numbers are formatted for people: KPI table has percentages
    kpi = re.search(r'<table class="report-table" id="kpi-table">.*?</table>', page, re.S).group(0)
    assert re.search(r">\d+\.\d%<", kpi)
    assert re.search(r">[+-]\d+\.\d pp<", kpi)
    book = re.search(r'id="book-table">.*?</table>', page, re.S).group(0)
    assert re.search(r">\d{1,3}(,\d{3})+<", book)  # balances with thousands separators
    # the snapshot-only book supports these sections in full
    for table in (
        "book-table",
        "roll-rate-table",
        "segment-table",
        "recovery-age-table",
        "forecast-table",
    ):
        assert f'id="{table}"' in page, table


def test_render_says_plainly_what_is_unavailable(rendered):
    page = rendered.read_text(encoding="utf-8")
    # a snapshot-only book has no assignments: the agent section says so instead of numbers
    agents = re.search(r'data-section="agents"><p>(.*?)</p>', page)
    assert agents is not None and "assignments" in agents.group(1)
    models = re.search(r'data-section="models"><p>(.*?)</p>', page)
    assert models is not None and "no model directory" in models.group(1)


def test_render_notes_are_generated_from_the_numbers(book_dir, rendered):
    page = rendered.read_text(encoding="utf-8")
    accounts, snapshots = (
        pd.read_parquet(book_dir / "accounts.parquet"),
        pd.read_parquet(book_dir / "snapshots.parquet"),
    )
    from recovery.analytics.kpis import monthly_kpis

    k = monthly_kpis(snapshots[snapshots["month_end"] <= "2026-03-31"]).set_index("month_end")
    value = k.loc[pd.Timestamp("2026-03-31"), "overdue_rate_30plus_balance"]
    summary = page[page.index('id="summary"') : page.index('id="kpis"')]
    assert format_pct(value) in summary
    del accounts


def test_render_judges_changes_against_normal_variation(rendered):
    page = rendered.read_text(encoding="utf-8")
    summary = page[page.index('id="summary"') : page.index('id="kpis"')]
    judged = summary.count("within normal variation") + summary.count("unusual")
    assert judged >= 11  # the cards and every headline note
    assert "material" not in summary and "broadly unchanged" not in summary
    kpi = re.search(r'id="kpi-table">.*?</table>', page, re.S).group(0)
    assert "<th>Normal variation</th>" in kpi
    about = page[page.index('id="about"') :]
    assert "How changes are judged" in about and "99%" in about


@pytest.mark.parametrize("month", ["2022-06", "2026-06", "1999-13"])
def test_month_outside_the_data_fails_and_writes_nothing(book_dir, tmp_path, month):
    out = tmp_path / "reports"
    with pytest.raises(DataError) as info:
        render_monthly_report(book_dir, month, out)
    assert "YYYY-MM" in str(info.value) or "covers January 2023 to April 2026" in str(info.value)
    assert not out.exists()


def test_month_after_data_end_is_incomplete(book_dir, tmp_path):
    meta = json.loads((book_dir / "portfolio.json").read_text())
    cut = tmp_path / "cut"
    shutil.copytree(book_dir, cut)
    (cut / "portfolio.json").write_text(json.dumps({**meta, "data_end": "2026-04-15"}))
    with pytest.raises(DataError, match="no data for April 2026"):
        render_monthly_report(cut, "2026-04", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_missing_directory_is_a_clear_error(book_dir, tmp_path):
    with pytest.raises(RecoveryError, match="does not exist"):
        render_monthly_report(tmp_path / "nope", "2026-03", tmp_path / "out")
    with pytest.raises(RecoveryError, match="model directory .* does not exist"):
        render_monthly_report(book_dir, "2026-03", tmp_path / "out", model_path=tmp_path / "none")
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------- Chromium

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


def run_chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    binary = find_chromium()
    assert binary is not None
    return subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


chromium = pytest.mark.skipif(
    find_chromium() is None,
    reason="headless Chromium not found (install the Debian package 'chromium'; .ci/run does)",
)


def dump_dom(page: Path, profile: Path) -> str:
    """The page's DOM once headless Chromium has laid it out."""
    result = run_chromium(["--virtual-time-budget=5000", "--dump-dom", page.as_uri()], profile)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@chromium
def test_report_renders_in_headless_chromium(rendered, tmp_path):
    dom = dump_dom(rendered, tmp_path / "profile")
    for sid in ("summary", "kpis", "roll-rates", "recovery-by-age", "forecast"):
        assert f'id="{sid}"' in dom
    images = re.findall(r'<img[^>]+src="data:image/png;base64,', dom)
    assert len(images) >= 4
    assert 'id="toc"' in dom and "kpi-table" in dom


@chromium
def test_report_screenshot_of_first_screen(rendered, tmp_path):
    shot = tmp_path / "first_screen.png"
    result = run_chromium(
        ["--hide-scrollbars", "--window-size=1280,900", f"--screenshot={shot}", rendered.as_uri()],
        tmp_path / "profile",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 900)
    # not a blank page: a rendered report has many distinct pixel rows
    from matplotlib.image import imread

    pixels = imread(shot)
    assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 20


def test_cli_passes_the_config_file_to_the_template(rendered):
    about = re.search(r'id="about-table">.*?</table>', rendered.read_text(encoding="utf-8"), re.S)
    assert "6 months" in about.group(0)  # recovery_horizon_months from the TOML file
    assert "of the balance recovered within 6 months" in rendered.read_text(encoding="utf-8")


def test_cli_bad_month_is_one_line_and_exit_1(book_dir, tmp_path, capsys):
    from recovery.cli import main

    out = tmp_path / "reports"
    rc = main(["report", str(book_dir), "--month", "2030-01", "--out", str(out)])
    assert rc == 1
    err = capsys.readouterr().err
    assert "error: no data for January 2030" in err and "Traceback" not in err
    assert not out.exists()


# ----------------------------------------------------------------------------- the demo's report

#: What must never reach a manager's page: internal references, the machine's paths,
#: Python's missing values, nbconvert's placeholder alt text.
FORBIDDEN = {
    "a seed document": re.compile(r"seed 00"),
    "the design notes": re.compile(r"DESIGN\.md"),
    "an absolute path": re.compile(r"(?<![\w.])/[\w.-]+/[\w./-]*|\b[A-Za-z]:\\"),
    "nan": re.compile(r"\bnan\b"),
    "NaN": re.compile(r"\bNaN\b"),
    "None": re.compile(r"\bNone\b"),
    "a placeholder alt text": re.compile(r"No description has been provided"),
}


def page_text(page: str) -> str:
    """What a reader sees (and a screen reader reads): the text and the images' alt text."""
    import html as html_module

    body = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", page, flags=re.S)
    alts = " ".join(re.findall(r'<img[^>]*\balt="([^"]*)"', body))
    return html_module.unescape(re.sub(r"<[^>]+>", " ", body) + " " + alts)


def leaks(text: str) -> list[str]:
    return [
        f"{what}: …{text[max(m.start() - 50, 0) : m.end() + 50]}…"
        for what, pattern in FORBIDDEN.items()
        for m in pattern.finditer(text)
    ]


def test_the_leak_check_finds_each_leak():
    assert leaks("Financial results, noted; no missing values; /") == []
    for bad in (
        "The measures of seed 004",
        "see DESIGN.md",
        "Model directory /tmp/x/models",
        r"read from C:\books",
        "rate nan",
        "rate NaN",
        "team None",
        '<img alt="No description has been provided for this image">',
    ):
        assert leaks(page_text(bad)), bad


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory) -> Path:
    """The report ``recovery demo`` writes from the shipped sample (what a new user reads)."""
    from recovery.commands.demo import run_demo

    out = tmp_path_factory.mktemp("demo")
    return run_demo(out, echo=lambda line: None, progress=False).report


def test_demo_report_reads_in_a_managers_words(demo_report):
    page = demo_report.read_text(encoding="utf-8")
    text = page_text(page)
    assert leaks(text) == []
    # every chart has a title and an alt text that describes it
    alts = re.findall(r'<img[^>]*\balt="([^"]*)"', page)
    assert len(alts) == embedded_images(page) >= 5
    assert all(re.match(r"Chart: \S.+\. Horizontal axis: ", a) for a in alts), alts
    # legends in words, not column names
    assert "overdue_rate" not in text and "charged_off" not in text and "30plus" not in text
    # the footer names the data as the user gave it
    assert "Made with recovery" in text and "from the shipped sample." in text
    # no degenerate interval; small groups say so
    assert not re.search(r"(-?\+?\d+\.\d(?:%| pp)) to \1(?!\d)", text)
    assert "too few accounts" in text


def test_demo_report_agent_section(demo_report):
    page = demo_report.read_text(encoding="utf-8")
    agents = page[page.index('id="agents"') : page.index('id="models"')]
    text = page_text(agents)
    # the sample's agents are too few to rank: one sentence, no ranks, the rest shown
    assert "No agent can be ranked yet:" in text
    assert 'id="agent-table"' not in agents and "Rank" not in text
    assert 'id="agent-waiting-table"' in agents and "not enough data yet (" in text
    assert 'id="activity-table"' in agents
    assert "actions in December 2025" in text  # the compliance flags
    assert not re.search(r"\(-\d", text)  # no interval below zero


@chromium
def test_demo_report_in_headless_chromium(demo_report, tmp_path):
    dom = dump_dom(demo_report, tmp_path / "profile")
    for sid in ("summary", "kpis", "book", "roll-rates", "segments", "recovery-by-age",
                "agents", "models", "forecast", "about"):  # fmt: skip
        assert f'id="{sid}"' in dom, sid
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', dom)) >= 5
    assert 'data-section="models"' not in dom  # every section of the demo has its numbers
    assert leaks(page_text(dom)) == []


def test_screenshot_shows_what_the_demo_reports(demo_report):
    """docs/report_screenshot.png is regenerated by docs/report_screenshot.py, which also
    writes the figures of that first screen; when the demo's figures change this fails
    until the script is run again."""
    from recovery.report.render import first_screen_figures

    docs = Path(__file__).resolve().parents[1] / "docs"
    shown = json.loads((docs / "report_screenshot.json").read_text(encoding="utf-8"))
    assert first_screen_figures(demo_report.read_text(encoding="utf-8")) == shown
    assert shown["title"] == "Monthly recovery report — December 2025" and len(shown["cards"]) == 6
    png = (docs / "report_screenshot.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == (1280, 900)


def test_report_data_of_a_partitioned_dataset_equals_the_directory(tmp_path):
    """The report's analyses read part by part: the same KPIs, moments and book."""
    from recovery.config import Config
    from recovery.datasets import load_sample, sample_path
    from recovery.engine.partitioning import write_partitioned
    from recovery.report.sections import SectionUnavailable, require_table

    config = Config()
    plain = report.load_report_data(sample_path(), "2025-06", config=config)
    target = write_partitioned(load_sample(), tmp_path / "book", 3, config)
    parted = report.load_report_data(target, "2025-06", config=config)
    assert parted.snapshots.npartitions == 3 and parted.month == plain.month
    assert list(parted.months) == list(plain.months)
    for name, f in {
        "kpis": report.report_kpis,
        "moments": report.report_moments,
        "book": lambda d: report.book_by_state(d.history, d.month, d.config),
    }.items():
        pd.testing.assert_frame_equal(
            f(parted), f(plain), check_exact=False, rtol=1e-9, atol=1e-9, obj=name
        )
    assert report.report_kpis(parted)["collection_cost"].notna().any()
    with pytest.raises(SectionUnavailable, match="partitioned dataset is read one partition"):
        require_table(parted, "actions", "the agents' activity")
