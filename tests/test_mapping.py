"""Column and code mapping (issue 14): a lender's files load through a mapping file."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest
import yaml

from recovery.cli import main
from recovery.config import Config
from recovery.data.io import load_portfolio
from recovery.data.mapping import (
    DateWindow,
    Mapping,
    MappingError,
    as_mapping,
    load_mapping,
)
from recovery.data.starter_mapping import starter_mapping, write_mapping
from recovery.datasets import load_sample
from recovery.errors import ConfigError, RecoveryError, ValidationError

# the lender's names: contract column -> lender column, contract category -> lender code
ACCOUNT_COLUMNS = {
    "account_id": "LoanNo",
    "customer_id": "cust_no",
    "product": "prod",
    "origination_date": "open_dt",
    "principal": "loan_amt",
    "term_months": "tenor",
    "interest_rate": "int_rate",
    "region": "branch",
}
PRODUCT_CODES = {"consumer_installment": "PL", "small_business": "SB"}
PAYMENT_COLUMNS = {
    "account_id": "loan_no",
    "payment_date": "txn_date",
    "amount": "pay_amt",
    "channel": "pay_via",
    "payment_id": "txn_id",
    "reversed_date": "reversal_date",
}
# "court" stays in contract form: codes already in contract form pass unmapped
PAYMENT_CODES = {
    "auto_debit": "DD",
    "bank_transfer": "TRF",
    "cash": "CSH",
    "agency": "DCA",
    "settlement": "OTS",
    "guarantor": "GTR",
}
ACTION_COLUMNS = {
    "action_id": "contact_id",
    "account_id": "loan_no",
    "agent_id": "collector_id",
    "ts": "contact_time",
    "channel": "act_type",
    "outcome": "result",
    "promise_amount": "ptp_amt",
    "promise_date": "ptp_date",
    "reason_code": "reason",
}
CHANNEL_CODES = {
    "call": "TEL",
    "sms": "MSG",
    "letter": "LTR",
    "visit": "FV",
    "legal_notice": "LGL",
    "guarantor_contact": "GTR",
    "outsource": "DCA",
    "lawsuit": "SUIT",
}
OUTCOME_CODES = {
    "promise_to_pay": "PTP",
    "no_answer": "NA",
    "right_party_contact": "RPC",
    "third_party_contact": "TPC",
    "wrong_number": "WN",
    "refusal": "RTP",
    "delivered": "DLV",
    "hardship": "HS",
    "dispute": "DISP",
    "deceased_reported": "DEC",
}


def _lender(df: pd.DataFrame, columns: dict, codes: dict[str, dict]) -> pd.DataFrame:
    out = df.copy()
    for column, table in codes.items():
        out[column] = out[column].astype(object).replace(table)
    return out.rename(columns=columns)


@pytest.fixture(scope="module")
def book():
    """300 accounts of the sample (all tables)."""
    sample = load_sample()
    ids = sorted(sample.actions["account_id"].unique())[:300]
    return sample.subset(ids)


@pytest.fixture(scope="module")
def lender_dir(book, tmp_path_factory):
    """The book as a lender exports it: own file names, column names and codes."""
    d = tmp_path_factory.mktemp("lender")
    _lender(book.accounts, ACCOUNT_COLUMNS, {"product": PRODUCT_CODES}).to_csv(
        d / "loans.csv", index=False
    )
    _lender(book.payments, PAYMENT_COLUMNS, {"channel": PAYMENT_CODES}).to_csv(
        d / "repayments.csv", index=False
    )
    _lender(
        book.actions, ACTION_COLUMNS, {"channel": CHANNEL_CODES, "outcome": OUTCOME_CODES}
    ).to_csv(d / "contacts.csv", index=False)
    for name in ("schedule", "agents", "assignments", "events"):
        getattr(book, name).to_csv(d / f"{name}.csv", index=False)
    return d


def _inverse(table: dict) -> dict:
    return {v: k for k, v in table.items()}


def _truth_mapping(drop_outcome: str | None = None) -> dict:
    outcome = _inverse(OUTCOME_CODES)
    if drop_outcome:
        outcome.pop(drop_outcome)
    return {
        "version": 1,
        "tables": {
            "accounts": {
                "file": "loans.csv",
                "columns": _inverse(ACCOUNT_COLUMNS),
                "codes": {"product": _inverse(PRODUCT_CODES)},
            },
            "payments": {
                "file": "repayments.csv",
                "columns": _inverse(PAYMENT_COLUMNS),
                "codes": {"channel": _inverse(PAYMENT_CODES)},
            },
            "actions": {
                "file": "contacts.csv",
                "columns": _inverse(ACTION_COLUMNS),
                "codes": {"channel": _inverse(CHANNEL_CODES), "outcome": outcome},
            },
        },
    }


def _write_yaml(data: dict, path):
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _sorted(df: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    return df.sort_values(key).reset_index(drop=True)


# ----------------------------------------------------------------- loading through a mapping


def test_lender_csv_loads_and_validates_through_the_mapping(book, lender_dir, tmp_path):
    path = _write_yaml(_truth_mapping(), tmp_path / "mapping.yml")
    loaded = load_portfolio(lender_dir, mapping=path)  # validates (raises otherwise)
    assert loaded.table_names() == book.table_names()
    for name, key, columns in (
        ("accounts", ["account_id"], ["account_id", "customer_id", "product", "principal"]),
        ("payments", ["payment_id"], ["account_id", "payment_date", "amount", "channel"]),
        ("actions", ["action_id"], ["account_id", "agent_id", "ts", "channel", "outcome"]),
    ):
        got = _sorted(getattr(loaded, name), key)[columns]
        want = _sorted(getattr(book, name), key)[columns]
        pd.testing.assert_frame_equal(got, want, check_dtype=False, check_categorical=False)
    # every lender code became the contract category it stands for, row by row
    assert (
        loaded.actions["channel"].value_counts() == book.actions["channel"].value_counts()
    ).all()
    # a Mapping object works the same as its file
    again = load_portfolio(lender_dir, mapping=load_mapping(path))
    assert len(again.actions) == len(book.actions)


def test_unmapped_lender_columns_are_kept_with_a_warning(lender_dir, tmp_path):
    from recovery.data.schema import ExtraColumnsWarning

    extra = tmp_path / "extra"
    extra.mkdir()
    for f in lender_dir.iterdir():
        (extra / f.name).write_bytes(f.read_bytes())
    loans = pd.read_csv(extra / "loans.csv", dtype=str).rename(columns={"branch": "BranchCd"})
    loans.to_csv(extra / "loans.csv", index=False)
    data = _truth_mapping()
    data["tables"]["accounts"]["columns"].pop("branch")
    path = _write_yaml(data, tmp_path / "mapping.yml")
    with pytest.warns(ExtraColumnsWarning, match=r"table 'accounts'.*\['BranchCd'\]"):
        book = load_portfolio(extra, mapping=path)
    assert "BranchCd" in book.accounts.columns and "region" not in book.accounts.columns


def test_unmapped_code_fails_naming_the_code_column_and_rows(book, lender_dir, tmp_path):
    path = _write_yaml(_truth_mapping(drop_outcome="RTP"), tmp_path / "mapping.yml")
    n_refusals = int((book.actions["outcome"] == "refusal").sum())
    assert n_refusals > 0
    with pytest.raises(MappingError) as info:
        load_portfolio(lender_dir, mapping=path)
    message = str(info.value)
    assert "mapping.yml" in message
    assert "table 'actions'" in message and "column 'outcome'" in message
    assert "lender column 'result'" in message
    assert f"'RTP' ({n_refusals} rows)" in message
    assert "tables.actions.codes.outcome" in message  # where to add it
    assert "row " in message and "account_id=" in message  # example rows
    assert info.value.unmapped["code"].tolist() == ["RTP"]
    assert isinstance(info.value, RecoveryError)  # the CLI prints one line


def test_validate_cli_reports_the_unmapped_code_in_one_line(lender_dir, tmp_path, capsys):
    from recovery.data.io import read_portfolio

    path = _write_yaml(_truth_mapping(drop_outcome="WN"), tmp_path / "mapping.yml")
    with pytest.raises(MappingError, match="'WN'"):
        read_portfolio(lender_dir, mapping=path)


def test_apply_renames_translates_and_is_idempotent():
    actions = _truth_mapping()["tables"]["actions"]
    columns = {k: v for k, v in actions["columns"].items() if k in ("contact_id", "loan_no")}
    columns.update({"act_type": "channel", "result": "outcome"})
    m = Mapping.from_dict({"tables": {"actions": {**actions, "columns": columns}}})
    raw = pd.DataFrame(
        {
            "contact_id": ["X1", "X2", "X3"],
            "loan_no": ["L1", "L1", "L2"],
            "act_type": ["TEL", "sms", "LGL"],  # "sms" is already a contract category
            "result": ["PTP", np.nan, "NA"],  # missing stays missing
            "extra": [1, 2, 3],
        }
    )
    out = m.apply("actions", raw)
    assert list(out.columns) == ["action_id", "account_id", "channel", "outcome", "extra"]
    assert out["channel"].tolist() == ["call", "sms", "legal_notice"]
    assert out["outcome"].tolist()[0] == "promise_to_pay" and pd.isna(out["outcome"][1])
    assert out["outcome"].tolist()[2] == "no_answer"
    pd.testing.assert_frame_equal(m.apply("actions", out), out)  # applying twice is a no-op
    pd.testing.assert_frame_equal(m.apply("actions", out.copy()), out)  # also on a copy


def test_chained_codes_are_translated_once():
    """A lender code that is also a target (a shifted months-behind scale) maps once."""
    # a bureau whose 0 means 1-29 days late: 0 -> 1 month behind, 1 -> 2, C stays current
    m = Mapping.from_dict(
        {
            "tables": {
                "performance": {
                    "status_encoding": "months_behind",
                    "codes": {"status_code": {0: 1, 1: 2, 2: 3}},
                }
            }
        }
    )
    raw = pd.DataFrame({"status_code": ["0", "1", "C", "2"]})
    once = m.apply("performance", raw)
    assert once["status_code"].tolist() == ["1", "2", "C", "3"]
    assert m.apply("performance", once)["status_code"].tolist() == ["1", "2", "C", "3"]
    agents = pd.DataFrame({"agent_id": ["G1"], "team": ["early"]})
    pd.testing.assert_frame_equal(m.apply("agents", agents), agents)  # not in the mapping


def test_apply_numeric_codes_and_missing_mapped_column():
    m = Mapping.from_dict(
        {"tables": {"payments": {"columns": {"via": "channel"}, "codes": {"channel": {1: "cash"}}}}}
    )
    out = m.apply("payments", pd.DataFrame({"via": [1.0, 1.0]}))  # a number column
    assert out["channel"].tolist() == ["cash", "cash"]
    with pytest.raises(MappingError, match="no column 'via'"):
        m.apply("payments", pd.DataFrame({"amount": [1.0]}))
    with pytest.raises(MappingError, match="both 'via'"):
        m.apply("payments", pd.DataFrame({"via": [1], "channel": ["cash"]}))


def test_config_categories_extend_what_passes():
    m = Mapping.from_dict({"tables": {"payments": {"codes": {"channel": {"MP": "cash"}}}}})
    frame = pd.DataFrame({"channel": ["MP", "mobile_wallet"]})
    with pytest.raises(MappingError, match="'mobile_wallet'"):
        m.apply("payments", frame)
    cats = Config().categories.payment_channels + ("mobile_wallet",)
    config = Config.from_dict({"categories": {"payment_channels": list(cats)}})
    assert m.apply("payments", frame, config)["channel"].tolist() == ["cash", "mobile_wallet"]


# ----------------------------------------------------------------- checking the file


@pytest.mark.parametrize(
    "text, fragments",
    [
        ("tables:\n  acounts: {file: a.csv}\n", ["tables.acounts", "did you mean 'accounts'"]),
        (
            "tables:\n  actions:\n    columns: {result: outcomes}\n",
            ["tables.actions.columns.result", "'outcomes' is not a column", "'outcome'"],
        ),
        (
            "tables:\n  accounts:\n    columns: {loan_no: account_id, acct: account_id}\n",
            ["tables.accounts.columns.acct", "'loan_no' and 'acct' are both mapped"],
        ),
        (
            "tables:\n  performance:\n    status_encoding: months_behnd\n",
            ["tables.performance.status_encoding", "'months_behnd'", "months_behind"],
        ),
        (
            "tables:\n  performance:\n    columns: {mob: status_code}\n",
            ["tables.performance.status_encoding", "required"],
        ),
        (
            "tables:\n  performance:\n    columns: {mob: dpd}\n    status_encoding: months_behind\n",
            ["tables.performance.columns.mob", "goes to status_code, not dpd"],
        ),
        (
            "tables:\n  actions:\n    codes: {outcome: {PTP: promise}}\n",
            ["tables.actions.codes.outcome.PTP", "'promise' is not a contract category"],
        ),
        (
            "tables:\n  actions:\n    codes: {outcome: {PTP: null}}\n",
            ["tables.actions.codes.outcome.PTP", "no category given", "promise_to_pay"],
        ),
        (
            "tables:\n  actions:\n    codes: {agent_id: {G: x}}\n",
            ["tables.actions.codes.agent_id", "not a coded column"],
        ),
        ("tables:\n  actions:\n    colums: {}\n", ["tables.actions.colums", "did you mean"]),
        ("tables:\n  actions: {table: a, query: 'SELECT 1'}\n", ["either table: or query:"]),
        ("window: {start: 2024-05-01, end: 2024-01-01}\ntables: {agents: {}}\n", ["window"]),
        ("tables: {}\n", ["tables", "at least one table"]),
        ("version: 2\ntables: {agents: {}}\n", ["version"]),
        (
            "tables:\n  performance:\n    codes: {status_code: {WO: Z}}\n    status_encoding: "
            "months_behind\n",
            ["tables.performance.codes.status_code.WO", "'Z'"],
        ),
        # issue 18: the settings for real exports
        (
            "tables:\n  payments: {date_format: DD/MM/YYYY}\n",
            ["tables.payments.date_format", "'DD/MM/YYYY' is not a date format", "'%d/%m/%Y'"],
        ),
        (
            "tables:\n  payments: {date_format: {paid_on: '%d/%m/%Y'}}\n",
            ["tables.payments.date_format.paid_on", "not a date column", "payment_date"],
        ),
        (
            "tables:\n  performance: {month_anchor: last month}\n",
            ["tables.performance.month_anchor", "not a month", "YYYY-MM"],
        ),
        (
            "tables:\n  payments: {month_anchor: 2024-06}\n",
            ["tables.payments.month_anchor", "only a table with month_end"],
        ),
        (
            "tables:\n  actions: {reversals: negative_rows}\n",
            ["tables.actions.reversals", "only the payments table", "negative_rows"],
        ),
        (
            "tables:\n  payments: {reversals: minus}\n",
            ["tables.payments.reversals", "reversals: negative_rows"],
        ),
        (
            "tables:\n  performance: {product_kind: card}\n",
            ["tables.performance.product_kind", "'card' is not a product kind", "revolving"],
        ),
        (
            "product_kinds: {credit_card: revolving}\ntables: {agents: {}}\n",
            ["product_kinds.credit_card", "not a product category", "[categories] products"],
        ),
        (
            "product_kinds: {small_business: open_end}\ntables: {agents: {}}\n",
            ["product_kinds.small_business", "'open_end' is not a product kind"],
        ),
    ],
)
def test_bad_mapping_files_name_the_file_and_key(tmp_path, text, fragments):
    path = tmp_path / "lender.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as info:
        load_mapping(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message
    assert isinstance(info.value, ConfigError)


def test_missing_or_unparseable_file(tmp_path):
    with pytest.raises(MappingError, match="does not exist"):
        load_mapping(tmp_path / "nope.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("tables: [unclosed\n", encoding="utf-8")
    with pytest.raises(MappingError, match="not valid YAML"):
        load_mapping(bad)
    other = tmp_path / "m.json"
    other.write_text("{}", encoding="utf-8")
    with pytest.raises(MappingError, match=r"\.yml, \.yaml or \.toml"):
        load_mapping(other)


def test_toml_and_yaml_read_the_same(tmp_path):
    text = textwrap.dedent(
        """
        version = 1
        [window]
        start = 2019-01-01
        end = 2024-12-31
        [tables.actions]
        table = "cms_contacts"
        date_column = "contact_time"
        [tables.actions.columns]
        loan_no = "account_id"
        act_type = "channel"
        [tables.actions.codes.channel]
        TEL = "call"
        [tables.performance]
        query = "SELECT * FROM perf WHERE region = :region"
        params = {region = "north"}
        status_encoding = "months_behind"
        """
    )
    toml_path = tmp_path / "m.toml"
    toml_path.write_text(text, encoding="utf-8")
    yaml_path = tmp_path / "m.yml"
    yaml_path.write_text(
        textwrap.dedent(
            """
            version: 1
            window: {start: 2019-01-01, end: 2024-12-31}
            tables:
              actions:
                table: cms_contacts
                date_column: contact_time
                columns: {loan_no: account_id, act_type: channel}
                codes: {channel: {TEL: call}}
              performance:
                query: "SELECT * FROM perf WHERE region = :region"
                params: {region: north}
                status_encoding: months_behind
            """
        ),
        encoding="utf-8",
    )
    a, b = load_mapping(toml_path), load_mapping(yaml_path)
    assert a.tables == b.tables
    assert (
        a.window == b.window == DateWindow(pd.Timestamp("2019-01-01"), pd.Timestamp("2024-12-31"))
    )
    actions = a.tables["actions"]
    assert (actions.table, actions.date_column, actions.lender_column("channel")) == (
        "cms_contacts",
        "contact_time",
        "act_type",
    )
    assert a.tables["performance"].params == {"region": "north"}
    assert a.tables["performance"].target == "snapshots"
    assert as_mapping(yaml_path).tables == b.tables and as_mapping(b) is b


def test_window_contains_is_inclusive():
    w = DateWindow(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-31"))
    ts = pd.Series(
        pd.to_datetime(["2023-12-31 23:59", "2024-01-01 00:00", "2024-01-31 18:00", None])
    )
    assert w.contains(ts).tolist() == [False, True, True, False]


# ----------------------------------------------------------------- starter mapping


def test_init_mapping_proposes_the_lender_correspondences(lender_dir, tmp_path, capsys):
    out = tmp_path / "starter.yml"
    assert main(["init-mapping", str(lender_dir), "--out", str(out), "--rows", "400"]) == 0
    assert "loans.csv -> accounts" in capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# recovery mapping")
    data = yaml.safe_load(text)
    tables = data["tables"]
    assert {t: tables[t]["file"] for t in ("accounts", "payments", "actions")} == {
        "accounts": "loans.csv",
        "payments": "repayments.csv",
        "actions": "contacts.csv",
    }
    for name, truth in (
        ("accounts", ACCOUNT_COLUMNS),
        ("payments", PAYMENT_COLUMNS),
        ("actions", ACTION_COLUMNS),
    ):
        assert tables[name]["columns"] == _inverse(truth), name
    # files already in contract form need no renames
    assert tables["schedule"] == {"file": "schedule.csv"}
    assert tables["accounts"]["codes"]["product"] == _inverse(PRODUCT_CODES)
    channel = tables["actions"]["codes"]["channel"]
    for category, code in CHANNEL_CODES.items():
        if code in channel and code != "SUIT":  # no common synonym for this one
            assert channel[code] == category, code
    outcome = tables["actions"]["codes"]["outcome"]
    for code in ("PTP", "NA", "RPC", "TPC", "WN", "RTP", "DLV"):
        assert outcome[code] == _inverse(OUTCOME_CODES)[code], code
    assert tables["payments"]["codes"]["channel"]["DD"] == "auto_debit"
    # a code without a guess is written as null with the allowed categories beside it
    if None in channel.values():
        assert "# fill in: sms, call, letter" in text
        with pytest.raises(MappingError, match="no category given"):
            load_mapping(out)
    # once the user fills in the nulls, the starter mapping loads the book
    for name, column, truth in (
        ("actions", "channel", CHANNEL_CODES),
        ("actions", "outcome", OUTCOME_CODES),
        ("payments", "channel", PAYMENT_CODES),
    ):
        codes = tables[name]["codes"][column]
        for code in codes:
            codes[code] = codes[code] or _inverse(truth)[code]
    # codes the 400-row sample did not see stop the load, named; the user adds them
    truths = {("payments", "channel"): PAYMENT_CODES, ("actions", "channel"): CHANNEL_CODES}
    truths[("actions", "outcome")] = OUTCOME_CODES
    for _ in range(4):
        filled = _write_yaml(data, tmp_path / "filled.yml")
        try:
            loaded = load_portfolio(lender_dir, mapping=filled)
            break
        except MappingError as err:
            table = tables[err.table].setdefault("codes", {}).setdefault(err.column, {})
            for code in err.unmapped["code"]:
                assert code not in table
                table[code] = _inverse(truths[(err.table, err.column)])[code]
    assert len(loaded.actions) > 0
    # an existing file is not overwritten without --force
    assert main(["init-mapping", str(lender_dir), "--out", str(out)]) == 1


def test_starter_mapping_guesses_a_monthly_performance_table(tmp_path):
    perf = pd.DataFrame(
        {
            "acct_no": ["A1", "A1", "A2"],
            "stmt_month": ["202401", "202402", "202401"],
            "mob_status": ["C", "1", "WO"],
            "os_bal": ["100", "100", "50"],
            "paid": ["10", "0", "0"],
        }
    )
    m = starter_mapping({"monthly_perf.csv": perf})
    entry = m["tables"]["performance"]
    assert entry["columns"] == {
        "acct_no": "account_id",
        "stmt_month": "month_end",
        "mob_status": "status_code",
        "os_bal": "balance",
        "paid": "paid_amount",
    }
    assert entry["status_encoding"] == "months_behind"
    assert entry["codes"] == {"status_code": {"WO": None}}  # C and 1 are months-behind codes
    # the same file as Parquet (typed columns) gives the same guesses
    perf.assign(os_bal=perf["os_bal"].astype(float)).to_parquet(tmp_path / "monthly_perf.parquet")
    from_file = starter_mapping(tmp_path, rows=2)
    assert from_file["tables"]["performance"]["columns"] == entry["columns"]
    assert from_file["tables"]["performance"]["file"] == "monthly_perf.parquet"
    text = write_mapping(m, tmp_path / "perf.yml").read_text(encoding="utf-8")
    assert "status_encoding: months_behind" in text
    assert "WO: null" in text and "# fill in: a months_behind code" in text


def test_write_mapping_round_trips_a_complete_mapping(tmp_path):
    data = _truth_mapping()
    data["window"] = {"start": "2020-01-01", "end": None}
    path = write_mapping(data, tmp_path / "m.yml")
    loaded = load_mapping(path)
    assert loaded.tables == Mapping.from_dict(data).tables
    assert loaded.window == DateWindow(pd.Timestamp("2020-01-01"), None)


def test_mapping_with_bad_rows_still_reports_validation(lender_dir, tmp_path):
    """A mapped table is validated like any other: a bad amount is a ValidationError."""
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in lender_dir.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    pays = pd.read_csv(bad / "repayments.csv", dtype=str)
    pays.loc[0, "pay_amt"] = "-5"
    pays.to_csv(bad / "repayments.csv", index=False)
    path = _write_yaml(_truth_mapping(), tmp_path / "mapping.yml")
    with pytest.raises(ValidationError, match="table 'payments', column 'amount'"):
        load_portfolio(bad, mapping=path)


def test_starter_mapping_fills_a_missing_date_column_from_date_like_values():
    loans = pd.DataFrame(
        {
            "LoanNo": ["L1", "L2"],
            "cust_no": ["C1", "C2"],
            "prod": ["PL", "SB"],
            "booked": ["2024-01-05", "2024-02-11"],  # no known name: its values are dates
            "loan_amt": ["1000", "500"],
            "tenor": ["12", "6"],
            "int_rate": ["0.1", "0.2"],
            "note_code": ["x", "y"],  # neither a known name nor dates: no guess
        }
    )
    m = starter_mapping({"loans.csv": loans})
    columns = m["tables"]["accounts"]["columns"]
    assert columns["booked"] == "origination_date"
    assert columns["note_code"] is None


def test_starter_mapping_writes_the_date_format_the_values_prove(tmp_path):
    """Day-first dates with a day above 12 get their format; ambiguous ones a question."""
    pays = pd.DataFrame(
        {
            "loan_no": ["L1", "L1", "L2"],
            "txn_date": ["03/08/2018", "25/12/2018", "01/02/2019"],  # '25/12' proves day first
            "pay_amt": ["10", "20", "30"],
        }
    )
    loans = pd.DataFrame(
        {
            "LoanNo": ["L1", "L2"],
            "cust_no": ["C1", "C2"],
            "prod": ["PL", "PL"],
            "open_dt": ["03/08/2017", "04/09/2017"],  # both readings valid: the user decides
            "loan_amt": ["1000", "500"],
        }
    )
    m = starter_mapping({"pay.csv": pays, "loans.csv": loans})
    assert m["tables"]["payments"]["date_format"] == {"payment_date": "%d/%m/%Y"}
    assert "date_format" not in m["tables"]["accounts"]
    text = write_mapping(m, tmp_path / "m.yml").read_text()
    assert "      payment_date: '%d/%m/%Y'" in text
    assert "# origination_date:" in text and "(day first) or '%m/%d/%Y'" in text
    assert "'25/12/2018' reads only that way" in text
    assert "'03/08/2017' read both ways" in text
    # the proven format loads: 25/12/2018 is Christmas, 03/08/2018 the 3rd of August
    loaded = load_mapping(tmp_path / "m.yml")
    assert loaded.tables["payments"].date_format == {"payment_date": "%d/%m/%Y"}
    assert "date_format" not in yaml.safe_load(text)["tables"]["accounts"]


# ----------------------------------------------------------------- real exports (issue 18)


def test_date_format_reads_the_lenders_dates_and_names_the_ones_it_cannot():
    m = Mapping.from_dict(
        {
            "tables": {
                "payments": {
                    "columns": {"pay_dt": "payment_date"},
                    "date_format": {"payment_date": "%d/%m/%Y"},
                }
            }
        }
    )
    raw = pd.DataFrame({"account_id": ["L1", "L2"], "pay_dt": ["03/08/2018", "25/12/2018"]})
    out = m.apply("payments", raw)
    assert out["payment_date"].dt.strftime("%Y-%m-%d").tolist() == ["2018-08-03", "2018-12-25"]
    raw.loc[1, "pay_dt"] = "2018-12-25"
    with pytest.raises(MappingError) as err:
        m.apply("payments", raw)
    assert str(err.value) == (
        "mapping: table 'payments', column 'payment_date' (lender column 'pay_dt'): 1 value(s) "
        "are not date_format '%d/%m/%Y' (format seen '####-##-##' (e.g. '2018-12-25')); e.g. "
        "row 1: '2018-12-25'. Fix tables.payments.date_format in the mapping file"
    )


def test_one_date_format_applies_to_every_date_column_of_the_table():
    m = Mapping.from_dict({"tables": {"assignments": {"date_format": "%d.%m.%Y"}}})
    tm = m.tables["assignments"]
    assert tm.date_format == {"start_date": "%d.%m.%Y", "end_date": "%d.%m.%Y"}
    raw = pd.DataFrame({"start_date": ["01.02.2024"], "end_date": [None]})
    out = m.apply("assignments", raw)
    assert out["start_date"].tolist() == [pd.Timestamp("2024-02-01")]
    assert out["end_date"].isna().all()


def test_month_anchor_reads_relative_months():
    m = Mapping.from_dict({"tables": {"performance": {"month_anchor": "2018-09"}}})
    raw = pd.DataFrame({"month_end": [0, -1, "-12"]})
    got = m.apply("performance", raw)["month_end"].dt.strftime("%Y-%m-%d").tolist()
    assert got == ["2018-09-30", "2018-08-31", "2017-09-30"]
    with pytest.raises(MappingError, match="not month numbers relative to month_anchor 2018-09"):
        m.apply("performance", pd.DataFrame({"month_end": ["2018-09"]}))


def test_product_kinds_from_the_mapping_reach_the_accounts():
    m = Mapping.from_dict(
        {
            "product_kinds": {"small_business": "revolving"},
            "tables": {"performance": {"status_encoding": "months_behind"}},
        }
    )
    perf = pd.DataFrame(
        {
            "account_id": ["A", "A", "B", "B"],
            "month_end": ["2024-01", "2024-02"] * 2,
            "status_code": ["1", "0"] * 2,
            "balance": [100.0, 0.0] * 2,
            "paid_amount": 0.0,
            "product": ["small_business"] * 2 + ["consumer_installment"] * 2,
        }
    )
    book = m.to_portfolio({"performance": perf})
    acc = book.accounts.set_index("account_id")
    assert acc["product_kind"].to_dict() == {"A": "revolving", "B": "installment"}
    # the revolving account stays open at a zero balance; the installment loan is paid off
    last = book.snapshots.groupby("account_id")["status"].last().to_dict()
    assert last == {"A": "open", "B": "paid_off"}


def test_a_window_reads_dates_as_the_mapping_declares_them():
    """Day-first origination dates: the window keeps 3 August, not 8 March (never guessed)."""
    from recovery.data.windows import window_frames

    m = Mapping.from_dict(
        {
            "tables": {
                "accounts": {
                    "columns": {"LOAN": "account_id", "OPENED": "origination_date"},
                    "date_format": "%d/%m/%Y",
                }
            }
        }
    )
    loans = pd.DataFrame({"LOAN": ["L1", "L2", "L3"], "OPENED": ["03/08/2018", "08/03/2018", "x"]})
    kept = window_frames({"accounts": loans}, "2018-08-01:2018-08-31", m)["accounts"]
    # an unreadable date is kept, for the contract checks to name it
    assert kept["LOAN"].tolist() == ["L1", "L3"]
    # without a mapping the same text is not a date: nothing guessed into the window
    plain = window_frames({"accounts": loans.rename(columns={"LOAN": "account_id",
                                                             "OPENED": "origination_date"})},
                          "2018-08-01:2018-08-31")["accounts"]  # fmt: skip
    assert plain["account_id"].tolist() == ["L1", "L2", "L3"]
