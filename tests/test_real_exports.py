"""Public-format exports through a mapping (issue 18): each loads, and rolls as worked by hand.

Each fixture is a small table in the shape a real export takes — a card portfolio's
months-behind history, a bureau's status-only file, an agency's loan-level performance
file, a ledger with day-first dates, a ledger that exports reversals as negative rows, a
contact log with two-level dispositions and local timestamps, a relative-month
warehouse extract — written with the lender's own column names and codes and read
through a mapping file, as a new user would. Each row carries the state worked out by
hand (the ``_state`` column, dropped before the file is written); the test builds the
roll counts from those states with its own crosstab and compares them with
:func:`recovery.analytics.roll_rates.roll_rates` on the loaded book.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from recovery.analytics.roll_rates import roll_rates
from recovery.data.io import load_portfolio
from recovery.data.schema import DataNoteWarning
from recovery.errors import DataError
from recovery.timeline.aging import snapshots as aged_snapshots

_EXITS = ("paid_off", "settled", "other_exit")


def _write(directory: Path, files: dict[str, pd.DataFrame], mapping: str) -> Path:
    for name, frame in files.items():
        frame.drop(columns=["_state"], errors="ignore").to_csv(directory / name, index=False)
    (directory / "mapping.yml").write_text(mapping, encoding="utf-8")
    return directory / "mapping.yml"


def _load(directory: Path, mapping: Path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        book = load_portfolio(directory, mapping=mapping)
    notes = [str(w.message) for w in caught if issubclass(w.category, DataNoteWarning)]
    return book, notes


def _hand_rolls(rows: pd.DataFrame, account: str, month: str) -> dict:
    """Roll counts from hand-worked states: an independent crosstab of consecutive months.

    ``rows`` holds one row per account and month with its ``_state``. An account seen
    after the first month enters from ``new``; one last seen before the last month,
    on the books, leaves to ``other_exit``; an exit state is counted once.
    """
    s = rows.assign(_m=pd.PeriodIndex(rows[month], freq="M")).sort_values([account, "_m"])
    first, last = s["_m"].min(), s["_m"].max()
    pairs = []
    for _, g in s.groupby(account, sort=False):
        states, months = g["_state"].tolist(), g["_m"].tolist()
        if months[0] > first:
            pairs.append(("new", states[0]))
        for i in range(len(states) - 1):
            if states[i] in _EXITS:
                break
            pairs.append((states[i], states[i + 1]))
        else:
            if months[-1] < last and states[-1] not in _EXITS:
                pairs.append((states[-1], "other_exit"))
    table = pd.crosstab(
        pd.Series([p[0] for p in pairs], name="from"), pd.Series([p[1] for p in pairs], name="to")
    )
    return {(f, t): int(n) for (f, t), n in table.stack().items() if n}


def _library_rolls(snapshots: pd.DataFrame) -> dict:
    counts = roll_rates(snapshots).groupby(["from_state", "to_state"])["count"].sum()
    return {(f, t): int(n) for (f, t), n in counts.items() if n}


def _states(snapshots: pd.DataFrame) -> list:
    s = snapshots.sort_values(["account_id", "month_end"])
    status = s["status"].astype(object)
    return s["bucket"].astype(object).where(status == "open", status).tolist()


# ----------------------------------------------------------------------------------
# 1. A card portfolio: months behind with -2 (no use), -1 (paid in full), 0 (revolving,
#    minimum paid), bill amounts with credit balances. Revolving: never inferred paid off.

CARDS = pd.DataFrame(
    [
        # CARD_ID, STMT_YM, PAY_STATUS, BILL_AMT, PAY_AMT, hand state
        ("C1", 200504, -1, 500.0, 500.0, "M0"),
        ("C1", 200505, -1, 300.0, 300.0, "M0"),
        ("C1", 200506, 0, 2000.0, 100.0, "M0"),
        ("C1", 200507, 0, 1800.0, 200.0, "M0"),
        ("C1", 200508, -2, 0.0, 1800.0, "M0"),  # no use at a zero bill: still an open card
        ("C2", 200504, 0, 1000.0, 50.0, "M0"),
        ("C2", 200505, 1, 1050.0, 0.0, "M1"),  # 1 month behind: DPD 15
        ("C2", 200506, 2, 1100.0, 0.0, "M2"),
        ("C2", 200507, 3, 1150.0, 0.0, "M3"),
        ("C2", 200508, 1, 1100.0, 100.0, "M1"),
        ("C3", 200504, -2, -6.0, 0.0, "M0"),  # a credit balance: exposure 0
        ("C3", 200505, -2, -6.0, 0.0, "M0"),
        ("C3", 200506, -2, -200.0, -20.0, "M0"),  # a refund: payments net below zero
        ("C3", 200507, -2, 0.0, 0.0, "M0"),
        ("C3", 200508, -2, 0.0, 0.0, "M0"),
        ("C4", 200504, 4, 5000.0, 0.0, "M4"),
        ("C4", 200505, 5, 5000.0, 0.0, "M5"),
        ("C4", 200506, 6, 5000.0, 0.0, "M6"),  # 165 days
        ("C4", 200507, 7, 5000.0, 0.0, "charged_off"),  # 195 >= 180
        ("C4", 200508, 8, 5000.0, 0.0, "charged_off"),
        ("C5", 200504, 0, 800.0, 800.0, "M0"),
        ("C5", 200505, -1, 0.0, 0.0, "M0"),  # an installment loan would read paid off here
        ("C5", 200506, -1, 0.0, 0.0, "M0"),
        ("C5", 200507, -1, 0.0, 0.0, "M0"),
        ("C5", 200508, -1, 0.0, 0.0, "M0"),
    ],
    columns=["CARD_ID", "STMT_YM", "PAY_STATUS", "BILL_AMT", "PAY_AMT", "_state"],
)

CARD_MAPPING = """\
version: 1
tables:
  performance:
    file: cards.csv
    columns: {CARD_ID: account_id, STMT_YM: month_end, PAY_STATUS: status_code,
              BILL_AMT: balance, PAY_AMT: paid_amount}
    status_encoding: months_behind
    product_kind: revolving
"""


def test_card_months_behind_with_credit_balances(tmp_path):
    book, notes = _load(tmp_path, _write(tmp_path, {"cards.csv": CARDS}, CARD_MAPPING))
    snaps = book.snapshots
    assert _states(snaps) == CARDS.sort_values(["CARD_ID", "STMT_YM"])["_state"].tolist()
    assert _library_rolls(snaps) == _hand_rolls(CARDS, "CARD_ID", "STMT_YM")
    # credit balances: zero exposure, nothing overdue, the credit kept; two notes
    c3 = snaps[snaps["account_id"] == "C3"]
    assert c3["balance"].tolist() == [0.0] * 5
    assert c3["credit_balance"].tolist() == [6.0, 6.0, 200.0, 0.0, 0.0]
    assert (snaps["balance"] >= 0).all() and (snaps["amount_overdue"] >= 0).all()
    assert [n.split(":")[0] for n in notes] == [
        "table 'performance', column 'balance'",
        "table 'performance', column 'paid_amount'",
    ]
    assert "3 row(s) with a credit balance" in notes[0] and "1 row(s)" in notes[1]
    assert set(book.accounts["product_kind"]) == {"revolving"}


# ----------------------------------------------------------------------------------
# 2. A bureau-style status history: account, month, code only; the scale is shifted
#    (0 = 1-29 days late), C = paid that month, X = no loan that month.

BUREAU = pd.DataFrame(
    [
        ("B1", "2019-01", "X", "M0"),
        ("B1", "2019-02", "X", "M0"),
        ("B1", "2019-03", "C", "M0"),
        ("B1", "2019-04", "0", "M1"),  # 1-29 days late
        ("B1", "2019-05", "1", "M2"),  # 30-59
        ("B2", "2019-02", "0", "M1"),  # opens in February: enters from new
        ("B2", "2019-03", "1", "M2"),
        ("B2", "2019-04", "2", "M3"),
        ("B2", "2019-05", "3", "M4"),
        ("B3", "2019-01", "C", "M0"),
        ("B3", "2019-02", "C", "M0"),
        ("B3", "2019-03", "C", "M0"),  # history ends in March: no balance, no payoff
        ("B4", "2019-01", "3", "M4"),
        ("B4", "2019-02", "4", "M5"),
        ("B4", "2019-03", "5", "charged_off"),  # the bureau's 'written off'
        ("B4", "2019-04", "5", "charged_off"),
        ("B4", "2019-05", "5", "charged_off"),
    ],
    columns=["ID", "MONTH", "STATUS", "_state"],
)

BUREAU_MAPPING = """\
version: 1
tables:
  performance:
    file: credit_record.csv
    columns: {ID: account_id, MONTH: month_end, STATUS: status_code}
    status_encoding: months_behind
    codes:
      status_code: {0: 1, 1: 2, 2: 3, 3: 4, 4: 5, 5: charged_off}
"""


def test_bureau_status_only_with_a_shifted_scale(tmp_path):
    path = _write(tmp_path, {"credit_record.csv": BUREAU}, BUREAU_MAPPING)
    book, notes = _load(tmp_path, path)
    snaps = book.snapshots
    assert not notes
    assert list(snaps.columns) == ["account_id", "month_end", "dpd", "bucket", "status"]
    assert _states(snaps) == BUREAU.sort_values(["ID", "MONTH"])["_state"].tolist()
    assert _library_rolls(snaps) == _hand_rolls(BUREAU, "ID", "MONTH")
    # DPD read from a code is the middle of the band (an estimate)
    b1 = snaps[snaps["account_id"] == "B1"]["dpd"].tolist()
    assert b1 == [0, 0, 0, 15, 45]


# ----------------------------------------------------------------------------------
# 3. An agency-style loan-level performance file: numeric delinquency months and
#    non-numeric codes (RA: real estate acquired, XX: unknown) translated in the mapping.

AGENCY = pd.DataFrame(
    [
        ("G1", "201901", "0", 100000.0, "M0"),
        ("G1", "201902", "0", 99500.0, "M0"),
        ("G1", "201903", "1", 99500.0, "M1"),
        ("G1", "201904", "0", 98500.0, "M0"),
        ("G1", "201905", "0", 98000.0, "M0"),
        ("G2", "201901", "0", 50000.0, "M0"),
        ("G2", "201902", "1", 50000.0, "M1"),
        ("G2", "201903", "2", 50000.0, "M2"),
        ("G2", "201904", "3", 50000.0, "M3"),
        ("G2", "201905", "RA", 0.0, "charged_off"),  # repossessed: the recovery book
        ("G3", "201901", "XX", 80000.0, "M0"),  # unknown, read as no activity
        ("G3", "201902", "0", 79000.0, "M0"),
        ("G3", "201903", "0", 78000.0, "M0"),
        ("G3", "201904", "0", 0.0, "paid_off"),  # current at a zero balance, last row
    ],
    columns=["LOAN_SEQ", "RPT_PERIOD", "DLQ_STATUS", "CUR_UPB", "_state"],
)

AGENCY_MAPPING = """\
version: 1
tables:
  performance:
    file: loan_performance.csv
    columns: {LOAN_SEQ: account_id, RPT_PERIOD: month_end, DLQ_STATUS: status_code,
              CUR_UPB: balance}
    status_encoding: months_behind
    codes:
      status_code: {RA: charged_off, XX: X}
"""


def test_agency_performance_with_non_numeric_codes(tmp_path):
    path = _write(tmp_path, {"loan_performance.csv": AGENCY}, AGENCY_MAPPING)
    book, _ = _load(tmp_path, path)
    snaps = book.snapshots
    assert _states(snaps) == AGENCY.sort_values(["LOAN_SEQ", "RPT_PERIOD"])["_state"].tolist()
    assert _library_rolls(snaps) == _hand_rolls(AGENCY, "LOAN_SEQ", "RPT_PERIOD")
    assert "paid_in_month" not in snaps  # no payments column: none invented


# ----------------------------------------------------------------------------------
# 4. A ledger whose payments file has day-first dates, declared in the mapping.

LOANS = pd.DataFrame(
    {
        "LOAN_NO": ["L1", "L2"],
        "CUST": ["K1", "K2"],
        "PROD": ["PL", "PL"],
        "OPEN_DT": ["2018-06-15", "2018-07-01"],
        "AMT": [300.0, 600.0],
        "TENOR": [3, 3],
        "RATE": [0.0, 0.0],
    }
)
INSTALLMENTS = pd.DataFrame(
    {
        "LOAN_NO": ["L1"] * 3 + ["L2"] * 3,
        "INST": [1, 2, 3] * 2,
        "DUE": ["2018-07-15", "2018-08-15", "2018-09-15", "2018-08-01", "2018-09-01", "2018-10-01"],
        "DUE_AMT": [100.0] * 3 + [200.0] * 3,
    }
)
DAY_FIRST_PAYMENTS = pd.DataFrame(
    {
        "TXN": ["T1", "T2", "T3", "T4", "T5"],
        "LOAN_NO": ["L1", "L1", "L1", "L2", "L2"],
        # 3 August would be 8 March read month-first (before the loan); 15/07 no month
        "VALUE_DT": ["15/07/2018", "03/09/2018", "15/09/2018", "01/08/2018", "12/10/2018"],
        "AMT": [100.0, 100.0, 100.0, 200.0, 200.0],
        "VIA": ["DD", "TRF", "DD", "DD", "TRF"],
    }
)
# month-end states worked by hand (DPD on the month end: days since the oldest unpaid due)
LEDGER_STATES = pd.DataFrame(
    [
        ("L1", "2018-06", "M0"),  # nothing due yet
        ("L1", "2018-07", "M0"),  # July paid on the 15th
        ("L1", "2018-08", "M1"),  # August unpaid: 16 days on 31 August
        ("L1", "2018-09", "paid_off"),  # 3 Sept pays August, 15 Sept the last
        ("L2", "2018-07", "M0"),  # opens 1 July: enters from new
        ("L2", "2018-08", "M0"),
        ("L2", "2018-09", "M1"),  # September unpaid: 29 days
        ("L2", "2018-10", "M1"),  # 12 Oct pays September; October due 1 Oct: 30 days
    ],
    columns=["account", "month", "_state"],
)
LEDGER_MAPPING = """\
version: 1
tables:
  accounts:
    file: loans.csv
    columns: {LOAN_NO: account_id, CUST: customer_id, PROD: product, OPEN_DT: origination_date,
              AMT: principal, TENOR: term_months, RATE: interest_rate}
    codes: {product: {PL: consumer_installment}}
  schedule:
    file: installments.csv
    columns: {LOAN_NO: account_id, INST: installment_no, DUE: due_date, DUE_AMT: amount_due}
  payments:
    file: payments.csv
    columns: {TXN: payment_id, LOAN_NO: account_id, VALUE_DT: payment_date, AMT: amount,
              VIA: channel}
    codes: {channel: {DD: auto_debit, TRF: bank_transfer}}
"""


def _ledger_files(payments: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {"loans.csv": LOANS, "installments.csv": INSTALLMENTS, "payments.csv": payments}


def _ledger_book(directory: Path, payments: pd.DataFrame, mapping: str):
    path = _write(directory, _ledger_files(payments), mapping)
    (directory / "portfolio.json").write_text('{"data_end": "2018-10-31"}', encoding="utf-8")
    return load_portfolio(directory, mapping=path)


def test_day_first_payments_with_a_declared_date_format(tmp_path):
    # without the declaration: refused, naming the column and the format seen
    with pytest.raises(Exception) as err:
        _ledger_book(tmp_path / "plain", DAY_FIRST_PAYMENTS, LEDGER_MAPPING)
    assert "column 'payment_date'" in str(err.value)
    assert "format seen '##/##/####'" in str(err.value)
    declared = LEDGER_MAPPING + "    date_format: '%d/%m/%Y'\n"
    book = _ledger_book(tmp_path / "declared", DAY_FIRST_PAYMENTS, declared)
    assert book.payments["payment_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2018-07-15",
        "2018-09-03",
        "2018-09-15",
        "2018-08-01",
        "2018-10-12",
    ]
    snaps = aged_snapshots(book)
    assert _states(snaps) == LEDGER_STATES["_state"].tolist()
    assert _library_rolls(snaps) == _hand_rolls(LEDGER_STATES, "account", "month")


@pytest.fixture(autouse=True)
def _dirs(tmp_path):
    for name in ("plain", "declared", "negative", "contract", "contacts"):
        (tmp_path / name).mkdir(exist_ok=True)


# ----------------------------------------------------------------------------------
# 5. A ledger that exports a returned payment as a negative row.

NEGATIVE_PAYMENTS = pd.DataFrame(
    {
        "TXN": ["T1", "T2", "T3", "T4", "T5", "T6", "T7"],
        "LOAN_NO": ["L1", "L1", "L1", "L1", "L2", "L2", "L2"],
        "VALUE_DT": [
            "2018-07-15",
            "2018-07-20",  # the July debit comes back
            "2018-08-10",
            "2018-09-15",
            "2018-08-01",
            "2018-09-01",
            "2018-09-06",  # the September debit comes back
        ],
        "AMT": [100.0, -100.0, 200.0, 100.0, 200.0, 200.0, -200.0],
        "VIA": ["DD", "DD", "TRF", "DD", "DD", "DD", "DD"],
    }
)
NEGATIVE_STATES = pd.DataFrame(
    [
        ("L1", "2018-06", "M0"),
        ("L1", "2018-07", "M1"),  # paid 15 July, returned 20 July: 16 days on 31 July
        ("L1", "2018-08", "M0"),  # 200 on 10 Aug pays July and August
        ("L1", "2018-09", "paid_off"),
        ("L2", "2018-07", "M0"),
        ("L2", "2018-08", "M0"),
        ("L2", "2018-09", "M1"),  # September returned on the 6th: 29 days on 30 Sept
        ("L2", "2018-10", "M2"),  # September and October unpaid: 60 days on 31 Oct
    ],
    columns=["account", "month", "_state"],
)


def test_reversals_exported_as_negative_rows(tmp_path):
    declared = LEDGER_MAPPING + "    reversals: negative_rows\n"
    book = _ledger_book(tmp_path / "negative", NEGATIVE_PAYMENTS, declared)
    pay = book.payments.set_index("payment_id")
    assert pay.loc["T1", "reversed_date"] == pd.Timestamp("2018-07-20")
    assert pay.loc["T6", "reversed_date"] == pd.Timestamp("2018-09-06")
    assert pay["reversed_date"].notna().sum() == 2 and (pay["amount"] > 0).all()
    snaps = aged_snapshots(book)
    assert _states(snaps) == NEGATIVE_STATES["_state"].tolist()
    assert _library_rolls(snaps) == _hand_rolls(NEGATIVE_STATES, "account", "month")
    # the same ledger in contract form (reversed_date on the payment) ages the same
    contract = NEGATIVE_PAYMENTS[NEGATIVE_PAYMENTS["AMT"] > 0].assign(
        REV_DT=["2018-07-20", None, None, None, "2018-09-06"]
    )
    as_contract = LEDGER_MAPPING.replace("VIA: channel}", "VIA: channel, REV_DT: reversed_date}")
    again = aged_snapshots(_ledger_book(tmp_path / "contract", contract, as_contract))
    pd.testing.assert_frame_equal(again, snaps)


def test_an_unmatched_negative_row_names_it(tmp_path):
    stray = NEGATIVE_PAYMENTS.copy()
    stray.loc[6, "AMT"] = -150.0  # no 150 payment to return
    declared = LEDGER_MAPPING + "    reversals: negative_rows\n"
    with pytest.raises(DataError, match="1 negative row.*payment_id='T7'"):
        _ledger_book(tmp_path / "negative", stray, declared)
    # without the declaration a negative amount is a contract error
    with pytest.raises(Exception, match="'amount': must be > 0"):
        _ledger_book(tmp_path / "plain", NEGATIVE_PAYMENTS, LEDGER_MAPPING)


# ----------------------------------------------------------------------------------
# 6. A contact log with two-level disposition codes and local timestamps with an offset.

CONTACTS = pd.DataFrame(
    {
        "CONTACT_ID": ["K1", "K2", "K3", "K4", "K5", "K6"],
        "LOAN_NO": ["L1", "L1", "L2", "L2", "L2", "L1"],
        "COLLECTOR": ["U7"] * 6,
        # local time in Shanghai; 21:30 local is 13:30 UTC: read in local time
        "CONTACT_TS": [
            "2018-08-20T09:05:00+08:00",
            "2018-08-20T21:30:00+08:00",
            "2018-09-04T07:45:00+08:00",
            "2018-09-05T12:00:00+08:00",
            "2018-09-06T18:10:00+08:00",
            "2018-08-21T10:00:00+08:00",
        ],
        "CH": ["TEL", "TEL", "SMS", "TEL", "TEL", "TEL"],
        "DISPO": ["NC-NA", "RPC-PTP", "NC-NA", "TPC-MSG", "RPC-RTP", "NC-WN"],
    }
)
COLLECTORS = pd.DataFrame({"agent_id": ["U7"], "team": ["early"], "level": [1], "hire_date": [""]})
CONTACT_MAPPING = """\
  actions:
    file: contacts.csv
    columns: {CONTACT_ID: action_id, LOAN_NO: account_id, COLLECTOR: agent_id, CONTACT_TS: ts,
              CH: channel, DISPO: outcome}
    codes:
      channel: {TEL: call, SMS: sms}
      outcome: {RPC-PTP: promise_to_pay, RPC-RTP: refusal, NC-NA: no_answer,
                NC-WN: wrong_number, TPC-MSG: third_party_contact}
"""


def test_contact_log_with_two_level_dispositions_and_local_times(tmp_path):
    from recovery.operations.compliance import flag_actions

    d = tmp_path / "contacts"
    COLLECTORS.to_csv(d / "agents.csv", index=False)
    CONTACTS.to_csv(d / "contacts.csv", index=False)
    mapping = LEDGER_MAPPING + "    date_format: '%d/%m/%Y'\n" + CONTACT_MAPPING
    book = _ledger_book(d, DAY_FIRST_PAYMENTS, mapping)
    acts = book.actions.set_index("action_id")
    # channel x outcome from the loaded table = the raw crosstab translated by hand
    by_hand = {
        ("call", "no_answer"): 1,  # K1
        ("call", "promise_to_pay"): 1,  # K2
        ("sms", "no_answer"): 1,  # K3
        ("call", "third_party_contact"): 1,  # K4
        ("call", "refusal"): 1,  # K5
        ("call", "wrong_number"): 1,  # K6
    }
    raw = pd.crosstab(CONTACTS["CH"], CONTACTS["DISPO"]).stack()
    assert sum(raw) == sum(by_hand.values()) == len(acts)
    loaded = pd.crosstab(acts["channel"], acts["outcome"]).stack()
    assert {k: int(v) for k, v in loaded.items() if v} == by_hand
    # the local time written is kept: 21:30 and 07:45 are outside 08:00-21:00
    assert acts["ts"].dt.strftime("%H:%M").tolist() == [
        "09:05",
        "21:30",
        "07:45",
        "12:00",
        "18:10",
        "10:00",
    ]
    flagged = flag_actions(book.actions)
    assert sorted(flagged.loc[flagged["rule"] == "outside_hours", "action_id"]) == ["K2", "K3"]
    # the book's roll counts are the ledger's
    snaps = aged_snapshots(book)
    assert _library_rolls(snaps) == _hand_rolls(LEDGER_STATES, "account", "month")


# ----------------------------------------------------------------------------------
# 7. A relative-month extract: month 0 is the extract month, then -1, -2, ...

RELATIVE = pd.DataFrame(
    [
        # newest first, as such extracts come
        ("K1", 0, 0, 700.0, 200.0, "M0"),
        ("K1", -1, 40, 900.0, 0.0, "M2"),
        ("K1", -2, 12, 900.0, 0.0, "M1"),
        ("K1", -3, 0, 900.0, 100.0, "M0"),
        ("K2", 0, 0, 0.0, 100.0, "paid_off"),  # current at a zero balance at the end
        ("K2", -1, 0, 100.0, 100.0, "M0"),
        ("K2", -2, 0, 200.0, 100.0, "M0"),
        ("K2", -3, 0, 300.0, 100.0, "M0"),
        ("K3", 0, 95, 500.0, 0.0, "M4"),
        ("K3", -1, 65, 500.0, 0.0, "M3"),
        ("K3", -2, 35, 500.0, 0.0, "M2"),  # first seen two months back: enters from new
    ],
    columns=["ACCT", "MTH", "DPD_DAYS", "BAL", "PAID", "_state"],
)
RELATIVE_MAPPING = """\
version: 1
tables:
  performance:
    file: extract.csv
    columns: {ACCT: account_id, MTH: month_end, DPD_DAYS: dpd, BAL: balance, PAID: paid_amount}
    month_anchor: 2024-06
"""


def test_relative_months_with_a_month_anchor(tmp_path):
    path = _write(tmp_path, {"extract.csv": RELATIVE}, RELATIVE_MAPPING)
    book, _ = _load(tmp_path, path)
    snaps = book.snapshots
    months = snaps.loc[snaps["account_id"] == "K1", "month_end"].dt.strftime("%Y-%m-%d")
    assert months.tolist() == ["2024-03-31", "2024-04-30", "2024-05-31", "2024-06-30"]
    hand = RELATIVE.assign(month=pd.Period("2024-06", "M") + RELATIVE["MTH"].to_numpy())
    hand = hand.sort_values(["ACCT", "month"])
    assert _states(snaps) == hand["_state"].tolist()
    assert _library_rolls(snaps) == _hand_rolls(hand, "ACCT", "month")
    # without the anchor: refused, saying what to add
    plain = RELATIVE_MAPPING.replace("    month_anchor: 2024-06\n", "")
    with pytest.raises(DataError, match="relative to the extract.*month_anchor"):
        load_portfolio(tmp_path, mapping=_write(tmp_path, {"extract.csv": RELATIVE}, plain))


# ----------------------------------------------------------------------------------
# The command line on these exports, as a new user runs it


def test_validate_notes_credit_balances_and_exits_zero(tmp_path, capsys):
    from recovery.cli import main

    path = _write(tmp_path, {"cards.csv": CARDS}, CARD_MAPPING)
    assert main(["validate", str(tmp_path), "--mapping", str(path)]) == 0
    out = capsys.readouterr().out
    assert (
        "note: table 'performance', column 'balance': 3 row(s) with a credit balance "
        "(below zero), read as zero exposure" in out
    )
    assert "note: table 'performance', column 'paid_amount': 1 row(s)" in out
    assert "OK " in out


def test_status_only_analyze_and_report_say_what_they_need(tmp_path, capsys):
    """Issue 18: a status-only book runs `recovery analyze` and `recovery report`."""
    import re

    from recovery.cli import main

    path = _write(tmp_path, {"credit_record.csv": BUREAU}, BUREAU_MAPPING)
    out = tmp_path / "analysis"
    args = ["analyze", str(tmp_path), "--mapping", str(path), "--out", str(out)]
    assert main([*args, "--no-progress", "--no-figures"]) == 0
    printed = capsys.readouterr().out
    assert (
        "skipped: recovery by debt age — needs balances and payments: this data has no "
        "columns 'balance', 'paid_in_month'" in printed
    )
    assert "skipped: the roll-rate matrix by balance — needs balances" in printed
    assert (out / "tables" / "roll_rate_matrix_count.csv").is_file()
    assert not (out / "tables" / "roll_rate_matrix_balance.csv").exists()
    skipped = pd.read_csv(out / "tables" / "skipped.csv")
    assert len(skipped) == skipped["output"].nunique() >= 5
    # the report: the sections that need amounts say so; the others show the counts
    report = tmp_path / "report"
    args = ["report", str(tmp_path), "--mapping", str(path), "--month", "2019-05"]
    assert main([*args, "--out", str(report)]) == 0
    html = (report / "recovery_report_2019-05.html").read_text(encoding="utf-8")
    notes = dict(re.findall(r'data-section="([^"]+)"><p>(.*?)</p>', html.replace("&#x27;", "'")))
    assert notes["recovery-by-age"] == (
        "Recovery by debt age needs balances and payments, which this data does not have."
    )
    assert notes["forecast"] == "The forecast needs balances, which this data does not have."
    assert notes["roll-rates-balance"].endswith("needs balances, which this data does not have.")
    assert "roll-rates" not in notes and "book" not in notes and "kpis" not in notes
