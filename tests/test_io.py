"""Loading, saving and validating portfolios: round trips and the bad-input suite."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import tiny_tables
from recovery.cli import main
from recovery.data.io import atomic_path, load_portfolio, save_portfolio, write_table
from recovery.data.portfolio import Portfolio
from recovery.data.schema import ExtraColumnsWarning
from recovery.errors import DataError, ValidationError


def _portfolio(**changes) -> Portfolio:
    tables = tiny_tables()
    for name, change in changes.items():
        tables[name] = change(tables[name].copy())
    return Portfolio(**tables, meta={"data_end": "2024-04-30"})


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_round_trip_gives_equal_frames(tmp_path, fmt):
    original = _portfolio()
    save_portfolio(original, tmp_path, fmt=fmt)
    again = load_portfolio(tmp_path)
    assert again.table_names() == original.table_names()
    assert again.meta == original.meta
    for name, df in original.tables().items():
        loaded = again.tables()[name][df.columns]
        pd.testing.assert_frame_equal(loaded, df.reset_index(drop=True), check_dtype=False)
        # types follow the contract, not the file format
        assert str(loaded.dtypes.get("account_id", "object")) == "object"


def test_save_replaces_other_format_and_missing_tables(tmp_path):
    save_portfolio(_portfolio(), tmp_path, fmt="csv")
    smaller = _portfolio()
    smaller.events = None
    save_portfolio(smaller, tmp_path, fmt="parquet")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "events.csv" not in names and "accounts.csv" not in names
    assert load_portfolio(tmp_path).events is None


def test_atomic_path_leaves_previous_output_on_failure(tmp_path):
    target = tmp_path / "report.txt"
    target.write_text("previous")
    with pytest.raises(RuntimeError), atomic_path(target) as part:
        part.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]


def test_write_table_rejects_unknown_suffix(tmp_path):
    with pytest.raises(DataError, match="parquet or .csv"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "x.xlsx")


# ----------------------------------------------------------------- bad input suite
# Each case: how to break the tiny portfolio, and the (table, column, rule) expected.


def _drop(col):
    return lambda df: df.drop(columns=[col])


def _set(col, row, value):
    def change(df):
        df[col] = df[col].astype(object)
        df.loc[row, col] = value
        return df

    return change


BAD_TABLES = {
    "missing required column": (
        {"payments": _drop("amount")},
        "payments",
        "amount",
        "required column is missing",
    ),
    "text in an amount": (
        {"payments": _set("amount", 1, "abc")},
        "payments",
        "amount",
        "must be a number",
    ),
    "negative money": ({"payments": _set("amount", 0, -10.0)}, "payments", "amount", "must be > 0"),
    "NaN money": (
        {"schedule": _set("amount_due", 2, np.nan)},
        "schedule",
        "amount_due",
        "must not be missing",
    ),
    "unparseable date": (
        {"payments": _set("payment_date", 0, "31/02/2024x")},
        "payments",
        "payment_date",
        "must be a date",
    ),
    "missing date": (
        {"accounts": _set("origination_date", 0, None)},
        "accounts",
        "origination_date",
        "must not be missing",
    ),
    "duplicate keys": (
        {"accounts": lambda df: pd.concat([df, df.iloc[[0]]], ignore_index=True)},
        "accounts",
        "account_id",
        "must be unique",
    ),
    "payment for an unknown account": (
        {"payments": _set("account_id", 2, "A404")},
        "payments",
        "account_id",
        "must name an account",
    ),
    "action by an unknown agent": (
        {"actions": _set("agent_id", 0, "G404")},
        "actions",
        "agent_id",
        "must name an agent",
    ),
    "due date before origination": (
        {"schedule": _set("due_date", 0, pd.Timestamp("2023-12-01"))},
        "schedule",
        "due_date",
        "before the account's origination_date",
    ),
    "overlapping assignments": (
        {
            "assignments": lambda df: pd.concat(
                [
                    df,
                    df.assign(
                        agent_id="G1", start_date=pd.Timestamp("2024-04-01"), end_date=pd.NaT
                    ),
                ],
                ignore_index=True,
            )
        },
        "assignments",
        "start_date",
        "must not overlap",
    ),
    "empty required table": (
        {"schedule": lambda df: df.iloc[0:0]},
        "schedule",
        "-",
        "must not be empty",
    ),
    "unknown channel": (
        {"actions": _set("channel", 1, "carrier_pigeon")},
        "actions",
        "channel",
        "allowed categories",
    ),
    "unknown outcome": (
        {"actions": _set("outcome", 1, "vanished")},
        "actions",
        "outcome",
        "allowed categories",
    ),
    "duplicate installments": (
        {"schedule": lambda df: pd.concat([df, df.iloc[[1]]], ignore_index=True)},
        "schedule",
        "installment_no",
        "must be unique",
    ),
    "payment after the data end": (
        {"payments": _set("payment_date", 4, pd.Timestamp("2024-06-01"))},
        "payments",
        "payment_date",
        "after the data end",
    ),
    "fractional installment number": (
        {"schedule": _set("installment_no", 0, 1.5)},
        "schedule",
        "installment_no",
        "whole number",
    ),
    # issue 18: infinite or absurd money, dates in a lender's format, negatives that
    # stay errors (only balances may be below zero)
    "infinite principal": (
        {"accounts": _set("principal", 0, float("inf"))},
        "accounts",
        "principal",
        "must be a finite number",
    ),
    "absurd payment": (
        {"payments": _set("amount", 1, 5e15)},
        "payments",
        "amount",
        "must be at most 1,000,000,000,000",
    ),
    "infinite promise": (
        {"actions": _set("promise_amount", 1, float("-inf"))},
        "actions",
        "promise_amount",
        "must be a finite number",
    ),
    "day-first date": (
        {"payments": _set("payment_date", 1, "20/04/2024")},
        "payments",
        "payment_date",
        "format seen '##/##/####'",
    ),
    "negative principal": (
        {"accounts": _set("principal", 1, -600.0)},
        "accounts",
        "principal",
        "must be > 0",
    ),
    "negative installment": (
        {"schedule": _set("amount_due", 2, -350.0)},
        "schedule",
        "amount_due",
        "must be >= 0",
    ),
    "negative payment without declared reversals": (
        {"payments": _set("amount", 2, -210.0)},
        "payments",
        "amount",
        "must be > 0",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_TABLES))
def test_bad_table_rejected_with_table_column_rule_and_nothing_written(case, tmp_path, capsys):
    changes, table, column, rule = BAD_TABLES[case]
    bad = _portfolio(**changes)
    out = tmp_path / "out"
    with pytest.raises(ValidationError) as err:
        save_portfolio(bad, out, fmt="csv")
    failures = err.value.failures
    hit = failures[(failures.table == table) & failures.rule.str.contains(rule)]
    assert len(hit) >= 1, failures.to_string()
    assert column in hit.iloc[0]["column"]
    assert not out.exists() or not any(out.iterdir())  # nothing written

    # the CLI: the same portfolio on disk (written without validation) exits 1
    raw = tmp_path / "raw"
    save_portfolio(bad, raw, fmt="csv", validate=False)
    assert main(["validate", str(raw)]) == 1
    err_text = capsys.readouterr().err
    assert f"table '{table}'" in err_text and rule in err_text
    assert "Traceback" not in err_text


def test_valid_portfolio_cli_exits_zero(tmp_path, capsys):
    save_portfolio(_portfolio(), tmp_path, fmt="parquet")
    assert main(["validate", str(tmp_path)]) == 0
    assert "OK" in capsys.readouterr().out


def test_non_utf8_csv(tmp_path, capsys):
    save_portfolio(_portfolio(), tmp_path, fmt="csv")
    (tmp_path / "accounts.csv").write_bytes("account_id,region\nA1,Zürich\n".encode("latin-1"))
    with pytest.raises(DataError, match="table 'accounts'.*not UTF-8"):
        load_portfolio(tmp_path)
    assert main(["validate", str(tmp_path)]) == 1
    assert "not UTF-8" in capsys.readouterr().err


def test_directory_with_no_tables(tmp_path, capsys):
    (tmp_path / "readme.txt").write_text("nothing here")
    with pytest.raises(DataError, match="no tables found"):
        load_portfolio(tmp_path)
    assert main(["validate", str(tmp_path)]) == 1


def test_parquet_file_that_is_not_parquet(tmp_path):
    save_portfolio(_portfolio(), tmp_path, fmt="parquet")
    (tmp_path / "payments.parquet").write_text("account_id,amount\nA1,5\n")
    with pytest.raises(DataError, match="table 'payments'.*not a readable Parquet"):
        load_portfolio(tmp_path)


def test_extra_columns_kept_with_a_warning(tmp_path):
    save_portfolio(
        _portfolio(accounts=lambda df: df.assign(campaign="spring")), tmp_path, fmt="csv"
    )
    with pytest.warns(ExtraColumnsWarning, match="campaign"):
        loaded = load_portfolio(tmp_path)
    assert loaded.accounts["campaign"].tolist() == ["spring", "spring"]


def test_free_text_note_dropped_unless_asked(tmp_path):
    with_notes = _portfolio(
        actions=lambda df: df.assign(note=["left voicemail", "will pay Friday"])
    )
    save_portfolio(with_notes, tmp_path, fmt="csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExtraColumnsWarning)  # notes are not "unknown"
        assert "note" not in load_portfolio(tmp_path).actions.columns
    assert "note" in load_portfolio(tmp_path, keep_free_text=True).actions.columns


def test_unknown_category_allowed_when_configured(tmp_path):
    from recovery.config import Config

    cfg = Config.from_dict({"categories": {"action_channels": ["sms", "call", "carrier_pigeon"]}})
    bad = _portfolio(actions=_set("channel", 1, "carrier_pigeon"))
    save_portfolio(bad, tmp_path, fmt="csv", config=cfg)
    assert load_portfolio(tmp_path, config=cfg).actions["channel"].tolist() == [
        "sms",
        "carrier_pigeon",
    ]


def test_snapshot_only_portfolio_is_valid(tmp_path):
    snaps = pd.DataFrame(
        {
            "account_id": ["A1", "A1"],
            "month_end": pd.to_datetime(["2024-01-31", "2024-02-29"]),
            "dpd": [0, 19],
            "bucket": ["M0", "M1"],
            "balance": [1000.0, 900.0],
            "amount_overdue": [0.0, 100.0],
            "paid_in_month": [0.0, 100.0],
            "status": ["open", "open"],
        }
    )
    save_portfolio(Portfolio(snapshots=snaps), tmp_path)
    assert load_portfolio(tmp_path).table_names() == ["snapshots"]


def test_missing_directory_is_a_data_error():
    with pytest.raises(DataError, match="does not exist"):
        load_portfolio(Path("/nonexistent/portfolio"))


def test_infinite_principal_writes_no_snapshots(tmp_path, capsys):
    """Issue 18: `recovery snapshots` refuses an infinite amount and writes nothing."""
    raw = tmp_path / "raw"
    bad = _portfolio(accounts=_set("principal", 1, float("inf")))
    save_portfolio(bad, raw, fmt="csv", validate=False)
    out = tmp_path / "snaps.csv"
    assert main(["snapshots", str(raw), "--out", str(out)]) != 0
    err = capsys.readouterr().err
    assert "table 'accounts', column 'principal': must be a finite number" in err
    assert "row 1: account_id='A2'" in err and "principal=inf" in err
    assert not out.exists()


def test_amount_ceiling_comes_from_the_config(tmp_path):
    """The ceiling is config ``data.max_amount``: a lender in a small currency unit raises it."""
    big = _portfolio(accounts=lambda df: df.assign(principal=[2e12, 600.0]))
    with pytest.raises(ValidationError, match="principal': must be at most 1,000,000,000,000"):
        save_portfolio(big, tmp_path / "a", fmt="csv")
    from recovery.config import Config

    raised = Config.from_dict({"data": {"max_amount": 1e13}})
    save_portfolio(big, tmp_path / "b", fmt="csv", config=raised)
    assert load_portfolio(tmp_path / "b", config=raised).accounts["principal"].max() == 2e12
