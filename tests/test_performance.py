"""Monthly performance data as ``snapshots`` (issue 14): encodings, proxies, end to end."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import yaml

from recovery.config import Config
from recovery.data.performance import (
    STATUS_ENCODINGS,
    accounts_from_performance,
    decode_status,
    portfolio_from_performance,
    snapshots_from_performance,
)
from recovery.data.schema import DataNoteWarning, validate_portfolio
from recovery.errors import DataError, ValidationError
from recovery.timeline.labels import LABEL_COLUMNS, build_labels, snapshot_labels

# One row per row of the status-encoding table (recovery.data.performance, docs/data.md):
# (encoding, code, DPD days, bucket, status). Default buckets: M1 = 1-30 … M6 = 151-180,
# charge-off at 180 DPD.
ENCODING_ROWS = [
    # days past due: the number is the DPD; charged off once it reaches 180
    ("days_past_due", "0", 0, "M0", "open"),
    ("days_past_due", 15, 15, "M1", "open"),
    ("days_past_due", "45", 45, "M2", "open"),
    ("days_past_due", 179, 179, "M6", "open"),
    ("days_past_due", 180, 180, None, "charged_off"),
    ("days_past_due", "400", 400, None, "charged_off"),
    # months behind: 0 / C current; k months behind = 30k - 15 days (middle of month k)
    ("months_behind", "0", 0, "M0", "open"),
    ("months_behind", "C", 0, "M0", "open"),
    ("months_behind", "c", 0, "M0", "open"),  # case-insensitive
    ("months_behind", 1, 15, "M1", "open"),  # 30*1 - 15
    ("months_behind", 2.0, 45, "M2", "open"),  # a number column read as float
    ("months_behind", "3", 75, "M3", "open"),
    ("months_behind", "6", 165, "M6", "open"),  # 30*6 - 15 = 165 < 180
    ("months_behind", "7", 195, None, "charged_off"),  # 30*7 - 15 = 195 >= 180
    ("months_behind", "-1", 0, "M0", "open"),  # paid in full this month
    ("months_behind", -2, 0, "M0", "open"),  # no use / inactive
    ("months_behind", "X", 0, "M0", "open"),  # no loan this month = -2
    # bucket labels: the middle of the bucket's DPD range
    ("bucket_label", "M0", 0, "M0", "open"),
    ("bucket_label", "current", 0, "M0", "open"),
    ("bucket_label", "M1", 15, "M1", "open"),  # (1 + 30) // 2
    ("bucket_label", "m3", 75, "M3", "open"),  # (61 + 90) // 2
    ("bucket_label", "M6", 165, "M6", "open"),  # (151 + 180) // 2
    ("bucket_label", "M7+", 195, None, "charged_off"),  # 180 + 15, at/after charge-off
    ("bucket_label", "charged_off", np.nan, None, "charged_off"),
    ("bucket_label", "CO", np.nan, None, "charged_off"),
    ("bucket_label", "write_off", np.nan, None, "charged_off"),
    ("bucket_label", "written_off", np.nan, None, "charged_off"),
    ("bucket_label", "paid_off", 0, None, "paid_off"),
    ("bucket_label", "PIF", 0, None, "paid_off"),
    ("bucket_label", "settled", 0, None, "settled"),
    ("bucket_label", "closed", 0, None, "closed"),
]


@pytest.mark.parametrize("encoding, code, dpd, bucket, status", ENCODING_ROWS)
def test_each_status_encoding_row(encoding, code, dpd, bucket, status):
    row = decode_status([code], encoding).iloc[0]
    if np.isnan(dpd):
        assert np.isnan(row["dpd"])
    else:
        assert row["dpd"] == dpd
    assert row["bucket"] == bucket
    assert row["status"] == status


def test_every_encoding_is_covered_by_the_table():
    assert {r[0] for r in ENCODING_ROWS} == set(STATUS_ENCODINGS)


@pytest.mark.parametrize(
    "encoding, code",
    [
        ("months_behind", "Z"),
        ("months_behind", "-3"),
        ("months_behind", "1.5"),
        ("days_past_due", "-1"),
        ("days_past_due", "abc"),
        ("bucket_label", "M9"),
    ],
)
def test_unknown_codes_fail_naming_the_code(encoding, code):
    with pytest.raises(DataError, match=f"'{code}'.*not {encoding} codes"):
        decode_status(["0" if encoding != "bucket_label" else "M0", code], encoding)


def test_bucket_labels_follow_the_configured_buckets():
    config = Config.from_dict(
        {
            "aging": {
                "bucket_edges": [0, 30, 90],
                "bucket_names": ["M0", "M1", "M2", "M3+"],
                "charge_off_dpd": 120,
            }
        }
    )
    out = decode_status(["M2", "M3+"], "bucket_label", config)
    # M2 = 31-90 -> (31 + 90) // 2 = 60; M3+ = above 90 -> 90 + 15 = 105 < 120: still open
    assert out["dpd"].tolist() == [60.0, 105.0]
    assert out["bucket"].tolist() == ["M2", "M3+"]
    assert out["status"].tolist() == ["open", "open"]


# ----------------------------------------------------------------- snapshots_from_performance


def _perf(codes, balance, paid=0.0, account="L1", start="2024-01", **extra):
    n = len(codes)
    months = pd.period_range(start, periods=n, freq="M").strftime("%Y-%m")
    return pd.DataFrame(
        {
            "account_id": account,
            "month_end": months,
            "status_code": codes,
            "balance": balance,
            "paid_amount": paid,
            **extra,
        }
    )


def test_month_values_read_as_month_ends():
    perf = pd.DataFrame(
        {
            "account_id": ["A", "B", "C", "D"],
            "month_end": ["202401", "2024-02", "2024-03-15", "2024-04-30"],
            "dpd": [0, 0, 0, 0],
            "balance": 10.0,
            "paid_amount": 1.0,
        }
    )
    got = snapshots_from_performance(perf)["month_end"].dt.strftime("%Y-%m-%d").tolist()
    assert got == ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"]


def test_history_ending_current_at_zero_balance_is_paid_off():
    perf = pd.concat(
        [
            _perf(["1", "0", "-1", "-2"], [300.0, 200.0, 0.0, 0.0], account="A"),
            # zero balance in the middle of the history: still open
            _perf(["0", "0", "0"], [100.0, 0.0, 50.0], account="B"),
        ]
    )
    snaps = snapshots_from_performance(perf, "months_behind").set_index("account_id")
    assert snaps.loc["A", "status"].tolist() == ["open", "open", "paid_off", "paid_off"]
    assert snaps.loc["A", "bucket"].tolist() == ["M1", "M0", None, None]
    assert snaps.loc["B", "status"].tolist() == ["open"] * 3


def test_charge_off_is_sticky_and_its_dpd_keeps_ageing():
    perf = _perf(["6", "7", "8", "0", "0"], 500.0)
    snaps = snapshots_from_performance(perf, "months_behind")
    assert snaps["status"].tolist() == ["open"] + ["charged_off"] * 4
    # 165; 195 (30*7-15); 225; then at least 180 + 30 * months since charge-off
    assert snaps["dpd"].tolist() == [165, 195, 225, 240, 270]
    assert snaps["bucket"].isna().tolist() == [False, True, True, True, True]
    # a charged-off label without a day count: threshold + 30 per month since
    labels = snapshots_from_performance(_perf(["M6", "CO", "CO"], 500.0), "bucket_label")
    assert labels["dpd"].tolist() == [165, 180, 210]
    # a charged-off debt repaid in full at the end of its history: paid off
    repaid = snapshots_from_performance(
        _perf(["7", "8", "-1"], [500.0, 500.0, 0.0]), "months_behind"
    )
    assert repaid["status"].tolist() == ["charged_off", "charged_off", "paid_off"]


def test_a_status_column_wins_over_the_code():
    perf = _perf(["3", "7", "8"], [400.0, 400.0, 0.0], status=["open", "charged_off", "settled"])
    snaps = snapshots_from_performance(perf, "months_behind")
    assert snaps["status"].tolist() == ["open", "charged_off", "settled"]
    assert snaps["dpd"].tolist()[2] == 0 and snaps["bucket"].tolist()[2] is None


def test_amount_overdue_given_from_installment_or_from_the_last_current_payment():
    given = _perf(["0", "2"], 1000.0, amount_overdue=[0.0, 123.0])
    assert snapshots_from_performance(given, "months_behind")["amount_overdue"].tolist() == [
        0.0,
        123.0,
    ]
    # 2 months behind (DPD 45 -> ceil(45/30) = 2) x installment 100 = 200
    inst = _perf(["0", "2", "9"], [1000.0, 1000.0, 150.0], installment_amount=100.0)
    got = snapshots_from_performance(inst, "months_behind")["amount_overdue"].tolist()
    assert got == [0.0, 200.0, 150.0]  # a charged-off row owes its balance
    # proxy: paid 80 in a month that ended current -> 3 months behind owe 3 x 80 = 240;
    # capped at the balance (100) on the last row
    proxy = _perf(["0", "1", "3", "3"], [900.0, 900.0, 900.0, 100.0], paid=[80.0, 0, 0, 0])
    got = snapshots_from_performance(proxy, "months_behind")["amount_overdue"].tolist()
    assert got == [0.0, 80.0, 240.0, 100.0]
    # no payment seen yet: the whole balance counts as overdue
    never = _perf(["1"], 700.0)
    assert snapshots_from_performance(never, "months_behind")["amount_overdue"].tolist() == [700.0]


def test_bad_tables_fail_with_what_to_fix():
    with pytest.raises(DataError, match=r"lacks column\(s\) \['status_code'\]"):
        snapshots_from_performance(_perf(["0"], 1.0).drop(columns="status_code"), "months_behind")
    dup = pd.concat([_perf(["0"], 1.0), _perf(["1"], 1.0)])
    with pytest.raises(DataError, match="one row per account and month"):
        snapshots_from_performance(dup, "months_behind")
    with pytest.raises(DataError, match="not dates"):
        snapshots_from_performance(_perf(["0"], 1.0).assign(month_end="soon"), "months_behind")
    with pytest.raises(DataError, match="unknown status encoding"):
        snapshots_from_performance(_perf(["0"], 1.0), "cycles")


def test_minimal_accounts_make_a_valid_portfolio():
    perf = pd.concat(
        [
            _perf(["0", "1", "2"], [900.0, 950.0, 950.0], account="A", start="2023-11"),
            _perf(["0", "0"], [400.0, 300.0], account="B", start="2024-01", product="SB"),
        ]
    )
    perf["product"] = perf["product"].map({"SB": "small_business"}).fillna("consumer_installment")
    pf = portfolio_from_performance(perf, "months_behind")
    assert validate_portfolio(pf.copy()).empty
    acc = pf.accounts.set_index("account_id")
    # proxies, each known at the first month (none looks ahead): origination = first
    # month end seen; principal = first balance seen; term 1 (placeholder); customer =
    # the account
    assert acc.loc["A", "origination_date"] == pd.Timestamp("2023-11-30")
    assert acc.loc["A", "principal"] == 900.0 and acc["term_months"].eq(1).all()
    assert acc.loc["B", "product"] == "small_business" and acc.loc["B", "customer_id"] == "B"
    assert acc["interest_rate"].eq(0.0).all()
    assert pf.meta["data_end"] == "2024-02-29"
    only = accounts_from_performance(pf.snapshots)
    assert sorted(only["account_id"]) == ["A", "B"]


# ----------------------------------------------------------------- real exports (issue 18)


def _noted(call):
    """Run ``call`` and return its result and the notes (DataNoteWarning) it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    return out, [str(w.message) for w in caught if issubclass(w.category, DataNoteWarning)]


def test_credit_balances_are_zero_exposure_and_nothing_overdue():
    # a card 1 and 2 months behind with a credit balance (refund posted): before issue 18
    # the derived amount overdue was min(estimate, -200) = -200
    perf = pd.concat(
        [
            _perf(["1", "2"], [-200.0, -200.0], account="A"),
            _perf(["0", "1"], [300.0, -6.0], paid=[50.0, 0.0], account="B"),
        ]
    )
    snaps, notes = _noted(lambda: snapshots_from_performance(perf, "months_behind"))
    assert snaps["balance"].tolist() == [0.0, 0.0, 300.0, 0.0]
    assert snaps["credit_balance"].tolist() == [200.0, 200.0, 0.0, 6.0]
    assert snaps["amount_overdue"].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert len(notes) == 1 and notes[0].startswith(
        "table 'performance', column 'balance': 3 row(s) with a credit balance (below zero), "
        "read as zero exposure"
    )
    book, _ = _noted(lambda: portfolio_from_performance(perf, "months_behind"))
    assert validate_portfolio(book).empty


def test_a_negative_monthly_payment_is_kept_with_a_note():
    perf = _perf(["0", "0"], [500.0, 500.0], paid=[100.0, -40.0])
    snaps, notes = _noted(lambda: snapshots_from_performance(perf, "months_behind"))
    assert snaps["paid_in_month"].tolist() == [100.0, -40.0]  # the month's net
    assert notes == [
        "table 'performance', column 'paid_amount': 1 row(s) with a negative amount "
        "(reversals exceeding payments), kept as the net, e.g. row 1: account_id='L1', "
        "month_end='2024-02', paid_amount=-40.0"
    ]


def test_revolving_accounts_are_never_inferred_paid_off():
    codes, balance = ["1", "0", "-2", "-2"], [300.0, 0.0, 0.0, 0.0]
    loan = snapshots_from_performance(_perf(codes, balance), "months_behind")
    assert loan["status"].tolist() == ["open", "paid_off", "paid_off", "paid_off"]
    card = _perf(codes, balance, product_kind="revolving")
    assert snapshots_from_performance(card, "months_behind")["status"].tolist() == ["open"] * 4
    # the kind of a product code comes from the config
    cfg = Config.from_dict(
        {"categories": {"products": ["loan", "card"], "product_kinds": {"card": "revolving"}}}
    )
    by_code = snapshots_from_performance(
        _perf(codes, balance, product="card"), "months_behind", cfg
    )
    assert by_code["status"].tolist() == ["open"] * 4
    # an explicit closure code or status still wins
    closed = _perf(["1", "0", "paid_off"], [300.0, 0.0, 0.0], product_kind="revolving")
    assert snapshots_from_performance(closed, "months_behind")["status"].tolist()[-1] == "paid_off"
    given = _perf(codes, balance, product_kind="revolving", status=["open"] * 3 + ["closed"])
    assert snapshots_from_performance(given, "months_behind")["status"].tolist()[-1] == "closed"


def test_charge_off_threshold_per_product_kind():
    cfg = Config.from_dict({"aging": {"charge_off_dpd_by_kind": {"installment": 120}}})
    codes = ["3", "4", "5", "6", "7"]  # DPD 75, 105, 135, 165, 195
    loan = snapshots_from_performance(_perf(codes, 500.0), "months_behind", cfg)
    # 135 >= 120: charged off in month 3 and sticky; DPD at least 120 + 30 per month since
    assert loan["status"].tolist() == ["open", "open"] + ["charged_off"] * 3
    assert loan["dpd"].tolist() == [75, 105, 135, 165, 195]
    card = snapshots_from_performance(
        _perf(codes, 500.0, product_kind="revolving"), "months_behind", cfg
    )
    assert card["status"].tolist() == ["open"] * 4 + ["charged_off"]  # 195 >= 180
    assert card["bucket"].tolist() == ["M3", "M4", "M5", "M6", None]
    # decode_status takes the kind of each row
    decoded = decode_status(["5", "5"], "months_behind", cfg, kinds=["installment", "revolving"])
    assert decoded["status"].tolist() == ["charged_off", "open"]
    assert decoded["bucket"].tolist() == [None, "M5"]


def test_status_words_are_read_in_every_encoding():
    # the contract's own status words, so that a mapping can say {RA: charged_off}
    out = decode_status(["charged_off", "Paid_Off", "closed", "settled", "3"], "months_behind")
    assert out["status"].tolist() == ["charged_off", "paid_off", "closed", "settled", "open"]
    assert decode_status(["charged_off"], "days_past_due")["status"].tolist() == ["charged_off"]
    with pytest.raises(DataError, match="'WO'"):  # a lender's abbreviation is mapped first
        decode_status(["WO"], "months_behind")


def test_status_only_history_loads_without_amounts():
    """A bureau-style file: account, month, status code; no balance, no payments."""
    perf = pd.concat(
        [
            _perf(["0", "1", "2"], 0.0, account="A").drop(columns=["balance", "paid_amount"]),
            _perf(["1", "C", "X", "X"], 0.0, account="B").drop(columns=["balance", "paid_amount"]),
        ]
    )
    snaps = snapshots_from_performance(perf, "months_behind")
    assert list(snaps.columns) == ["account_id", "month_end", "dpd", "bucket", "status"]
    # no balance: no paid-off inference, trailing current / no-loan months stay open
    assert snaps["status"].tolist() == ["open"] * 7
    assert snaps["bucket"].tolist() == ["M0", "M1", "M2", "M1", "M0", "M0", "M0"]
    pf = portfolio_from_performance(perf, "months_behind")
    assert validate_portfolio(pf.copy()).empty
    assert pf.accounts["principal"].eq(1.0).all()  # unknown: a constant placeholder


def test_month_numbers_and_foreign_month_formats_are_refused_with_what_to_do():
    relative = _perf(["0", "1"], 1.0).assign(month_end=[-1, 0])
    with pytest.raises(DataError, match="relative to the extract.*month_anchor"):
        snapshots_from_performance(relative, "months_behind")
    slashed = _perf(["0", "1"], 1.0).assign(month_end=["01/2024", "02/2024"])
    with pytest.raises(DataError, match="format seen '##/####'.*date_format"):
        snapshots_from_performance(slashed, "months_behind")


def test_infinite_or_absurd_amounts_name_table_column_and_rows():
    perf = _perf(["0", "1", "2"], [100.0, float("inf"), 3e12])
    with pytest.raises(ValidationError) as err:
        snapshots_from_performance(perf, "months_behind")
    failures = err.value.failures
    assert failures[["table", "column", "count"]].values.tolist() == [
        ["performance", "balance", 1],
        ["performance", "balance", 1],
    ]
    assert failures["rule"].tolist()[0] == "must be a finite number"
    assert "row 1: account_id='L1'" in failures["examples"].tolist()[0]
    assert "row 2: account_id='L1'" in failures["examples"].tolist()[1]


# ----------------------------------------------------------------- snapshot labels


def _snaps(dpd, status, balance, overdue, paid, account="A"):
    n = len(dpd)
    return pd.DataFrame(
        {
            "account_id": account,
            "month_end": pd.date_range("2024-01-31", periods=n, freq="ME"),
            "dpd": dpd,
            "bucket": [
                Config().aging.bucket_of(d) if s == "open" else None
                for d, s in zip(dpd, status, strict=True)
            ],
            "balance": balance,
            "amount_overdue": overdue,
            "paid_in_month": paid,
            "status": status,
        }
    )


def test_snapshot_labels_by_hand():
    # A: 75 DPD (3 months behind), 300 overdue -> one installment = 300 / 3 = 100;
    #    pays 99.5 next month: short of 100 by 0.5 < tolerance 1.0 -> p_pay 1.
    #    Two months later DPD 0 -> p_cure 1; M3 -> roll_back 1 (better bucket).
    a = _snaps([75, 60, 0, 0], ["open"] * 4, 1000.0, [300.0, 200.0, 0, 0], [0, 99.5, 200, 50])
    # B: charged off, balance 2000 -> min payment 2% = 40; pays 38.5 (short by 1.5 >
    #    tolerance 1.0) -> 0; no cure label for a charged-off account.
    b = _snaps([200, 230, 260, 290], ["charged_off"] * 4, 2000.0, 2000.0, [0, 38.5, 0, 0], "B")
    labels = snapshot_labels(pd.concat([a, b]), ["2024-01-31"]).set_index("account_id")
    assert labels.loc["A", "min_payment"] == 100.0 and labels.loc["A", "p_pay"] == 1
    assert labels.loc["A", "amount_collected"] == 99.5
    assert labels.loc["A", "p_cure"] == 1 and labels.loc["A", "roll_back"] == 1
    assert labels.loc["B", "min_payment"] == 40.0 and labels.loc["B", "p_pay"] == 0
    assert pd.isna(labels.loc["B", "p_cure"]) and pd.isna(labels.loc["B", "roll_back"])
    assert list(labels.columns) == ["as_of", *LABEL_COLUMNS]
    # with the installment given: min(300 overdue, installment 80) = 80
    with_installment = snapshot_labels(a.assign(installment_amount=80.0), ["2024-01-31"])
    assert with_installment.loc[0, "min_payment"] == 80.0 and with_installment.loc[0, "p_pay"] == 1
    # as of 2024-03-31: p_pay (April) is known, p_cure (May) is censored
    later = snapshot_labels(b, pd.DataFrame({"account_id": ["B"], "as_of": ["2024-03-31"]}))
    assert later.loc[0, "p_pay"] == 0 and not later.loc[0, "p_pay_censored"]
    last = snapshot_labels(b, ["2024-04-30"])
    assert pd.isna(last.loc[0, "p_pay"]) and last.loc[0, "censored"]


def test_snapshot_labels_agree_with_event_labels_on_the_sample(sample_snapshots):
    """Month-end labels approximate the ledger's (DESIGN.md §3); measured agreement."""
    sample, snaps = sample_snapshots
    dates = list(pd.date_range("2020-01-31", "2025-06-30", freq="ME"))
    monthly = snapshot_labels(snaps, dates)
    ledger = build_labels(sample, monthly[["account_id", "as_of"]])
    both = monthly.merge(ledger, on=["account_id", "as_of"], suffixes=("_month", "_ledger"))
    assert len(both) == len(monthly) > 1000
    for target in ("p_pay", "p_cure"):
        known = both[f"{target}_month"].notna() & both[f"{target}_ledger"].notna()
        agree = (both.loc[known, f"{target}_month"] == both.loc[known, f"{target}_ledger"]).mean()
        assert known.sum() > 500 and agree > 0.97, (target, agree)


# ----------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def sample_snapshots():
    from recovery.datasets import load_sample
    from recovery.timeline.aging import snapshots

    sample = load_sample()
    return sample, snapshots(sample)


def _lender_monthly(snaps: pd.DataFrame) -> pd.DataFrame:
    """The sample's snapshots as a warehouse keeps them: months-behind codes, own names."""
    names = Config().aging.bucket_labels()
    behind = pd.Categorical(snaps["bucket"], categories=names).codes.astype(object)
    charged = snaps["status"].eq("charged_off").to_numpy()
    months_co = np.minimum(7 + (snaps["dpd"].to_numpy() - 180) // 30, 12)
    code = np.where(charged, months_co, behind)
    code = np.where(snaps["status"].isin(["paid_off", "settled"]), -1, code)
    code = pd.Series(code).astype(str).replace({"0": "C"})
    return pd.DataFrame(
        {
            "LoanNo": snaps["account_id"].to_numpy(),
            "stmt_month": snaps["month_end"].dt.strftime("%Y%m").to_numpy(),
            "mob_status": code.to_numpy(),
            "os_bal": snaps["balance"].round(2).to_numpy(),
            "paid": snaps["paid_in_month"].round(2).to_numpy(),
            "acct_status": snaps["status"]
            .map({"open": "A", "charged_off": "WO", "paid_off": "PIF", "settled": "STL"})
            .to_numpy(),
        }
    )


MONTHLY_MAPPING = {
    "version": 1,
    "tables": {
        "performance": {
            "file": "perf.csv",
            "columns": {
                "LoanNo": "account_id",
                "stmt_month": "month_end",
                "mob_status": "status_code",
                "os_bal": "balance",
                "paid": "paid_amount",
                "acct_status": "status",
            },
            "status_encoding": "months_behind",
            "codes": {
                "status": {"A": "open", "WO": "charged_off", "PIF": "paid_off", "STL": "settled"}
            },
        }
    },
}


@pytest.fixture(scope="module")
def monthly_book(sample_snapshots, tmp_path_factory):
    from recovery.data.io import load_portfolio

    _, snaps = sample_snapshots
    d = tmp_path_factory.mktemp("monthly")
    _lender_monthly(snaps).to_csv(d / "perf.csv", index=False)  # the only file
    mapping = d / "mapping.yml"
    mapping.write_text(yaml.safe_dump(MONTHLY_MAPPING), encoding="utf-8")
    return load_portfolio(d, mapping=mapping)  # validated


def test_monthly_table_loads_as_snapshots(monthly_book, sample_snapshots):
    _, original = sample_snapshots
    assert monthly_book.table_names() == ["accounts", "snapshots"]
    got = monthly_book.snapshots.sort_values(["account_id", "month_end"]).reset_index(drop=True)
    want = original.sort_values(["account_id", "month_end"]).reset_index(drop=True)
    assert len(got) == len(want)
    # states survive the lender's encoding exactly; balances and payments to the cent
    assert (got["status"].to_numpy() == want["status"].astype(str).to_numpy()).all()
    assert (got["bucket"].fillna("-") == want["bucket"].astype(object).fillna("-")).all()
    np.testing.assert_allclose(got["balance"], want["balance"], atol=0.006)
    np.testing.assert_allclose(got["paid_in_month"], want["paid_in_month"], atol=0.006)
    # the DPD of an open delinquent row is the middle of its bucket
    open_late = (want["status"] == "open") & (want["dpd"] > 0)
    assert ((got.loc[open_late, "dpd"] - 15) % 30 == 0).all()


def test_snapshot_analytics_run_on_monthly_data(monthly_book, sample_snapshots):
    from recovery.analytics.kpis import monthly_kpis
    from recovery.analytics.liquidation import liquidation_curves
    from recovery.analytics.recovery_curves import recovery_by_age
    from recovery.analytics.roll_rates import flow_rates, roll_rate_matrix
    from recovery.analytics.vintages import vintage_curves

    _, original = sample_snapshots
    snaps = monthly_book.snapshots
    matrix = roll_rate_matrix(snaps)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
    # same states as the ledger's snapshots, so the same roll rates
    pd.testing.assert_frame_equal(matrix, roll_rate_matrix(original), check_dtype=False)
    by_age = recovery_by_age(snaps, n_bootstrap=0, bands="coarse")
    assert by_age["n_debts"].sum() > 1000
    assert by_age["recovery_rate"].between(0, 1).all()
    curves = vintage_curves(snaps, accounts=monthly_book.accounts)
    assert len(curves) and curves.filter(like="ever").max().max() <= 1
    kpis = monthly_kpis(snaps)
    assert len(kpis) == snaps["month_end"].nunique()
    liquidation = liquidation_curves(snaps)
    assert len(liquidation) and (liquidation["cumulative_rate"] >= 0).all()
    assert len(flow_rates(snaps))


@pytest.fixture(scope="module")
def monthly_dir(monthly_book, tmp_path_factory):
    """The loaded monthly book saved as a contract directory (accounts, snapshots)."""
    from recovery.data.io import save_portfolio

    return save_portfolio(monthly_book, tmp_path_factory.mktemp("saved"), fmt="parquet")


def test_p_pay_model_trains_on_monthly_data_alone(monthly_book, monthly_dir, tmp_path):
    from recovery.cli import main
    from recovery.models.training import build_model_frame, train_and_evaluate

    frame = build_model_frame(monthly_book)
    assert {"dpd", "months_in_m1_3m", "paid_amount_3m", "p_pay", "p_cure"} <= set(frame.columns)
    assert frame["debt_age_days"].isna().all()  # a day-level feature month data lack
    result = train_and_evaluate(frame, "p_pay", test_months=6)
    assert result.metrics["n"] > 500
    # out-of-time AUC on the last six months; a model without signal scores about 0.5
    assert result.metrics["auc"] > 0.8, result.metrics
    scores = result.test["score"]
    assert scores.between(0, 1).all()
    # the saved model scores the monthly book from the command line
    result.scorer.save(tmp_path / "model", metrics=result.card_metrics())
    out = tmp_path / "scores.csv"
    args = ["score", str(monthly_dir), "--model", str(tmp_path / "model")]
    assert main([*args, "--as-of", "2025-12-31", "--out", str(out)]) == 0
    scored = pd.read_csv(out)
    assert len(scored) > 50 and scored["p_pay"].between(0, 1).all()


def test_cli_features_with_labels_on_monthly_data(monthly_dir, tmp_path):
    """`recovery features --labels` takes the snapshot path for a monthly-only book."""
    from recovery.cli import main

    out = tmp_path / "features.csv"
    code = main(["features", str(monthly_dir), "--as-of", "2025-06-30", "--labels"]
                + ["--out", str(out)])  # fmt: skip
    assert code == 0
    table = pd.read_csv(out)
    assert len(table) > 50 and {"months_in_m1_3m", "p_pay", "p_cure"} <= set(table.columns)
    assert table["p_pay"].isin([0, 1]).all()  # matured by the data end (2025-12-31)


@pytest.fixture(scope="module")
def status_only_book(sample_snapshots, tmp_path_factory):
    """The sample's monthly table with its amounts dropped: states only (issue 18)."""
    from recovery.data.io import load_portfolio

    _, snaps = sample_snapshots
    d = tmp_path_factory.mktemp("status_only")
    _lender_monthly(snaps).drop(columns=["os_bal", "paid"]).to_csv(d / "perf.csv", index=False)
    mapping = yaml.safe_load(yaml.safe_dump(MONTHLY_MAPPING))
    columns = mapping["tables"]["performance"]["columns"]
    del columns["os_bal"], columns["paid"]
    (d / "mapping.yml").write_text(yaml.safe_dump(mapping), encoding="utf-8")
    return load_portfolio(d, mapping=d / "mapping.yml")


def test_status_only_book_gives_the_count_results_of_the_full_book(status_only_book, monthly_book):
    from recovery.analytics.kpis import collection_rates, monthly_kpis
    from recovery.analytics.roll_rates import roll_rate_matrix
    from recovery.errors import MissingColumnError

    states, full = status_only_book.snapshots, monthly_book.snapshots
    assert not {"balance", "amount_overdue", "paid_in_month"} & set(states.columns)
    # the same states, so the same count roll rates, cure rates and overdue rates by count
    pd.testing.assert_frame_equal(roll_rate_matrix(states), roll_rate_matrix(full))
    k_states, k_full = monthly_kpis(states), monthly_kpis(full)
    for column in ("overdue_rate_30plus", "overdue_rate_90plus", "cure_rate"):
        np.testing.assert_allclose(k_states[column], k_full[column])
    # what needs amounts is left out, or refused naming what it needs; never zeros
    assert not [c for c in k_states.columns if "balance" in c or "collect" in c]
    with pytest.raises(MissingColumnError, match="needs balances: this data has no column"):
        roll_rate_matrix(states, weight="balance")
    with pytest.raises(MissingColumnError) as err:
        collection_rates(states)
    assert err.value.needs == "balances, overdue amounts and payments"


def test_status_only_book_trains_p_cure_and_refuses_p_pay(status_only_book, monthly_book):
    from recovery.errors import MissingColumnError
    from recovery.models.training import build_model_frame, train_and_evaluate

    frame = build_model_frame(status_only_book)
    full = build_model_frame(monthly_book)
    # p_cure and roll_back need states only: the same labels as the full book. The
    # status-only book scores every charged-off account (a balance repaid to zero is
    # unknown there); the full book leaves those out
    both = frame.merge(full, on=["account_id", "as_of"], suffixes=("", "_full"))
    assert len(both) == len(full) < len(frame)
    extra = frame.merge(full[["account_id", "as_of"]], how="left", indicator=True)
    assert (extra.loc[extra["_merge"] == "left_only", "status"] == "charged_off").all()
    for label in ("p_cure", "roll_back"):
        pd.testing.assert_series_equal(
            both[label], both[f"{label}_full"], check_names=False, check_dtype=False
        )
    assert frame["p_pay"].isna().all() and frame["paid_amount_3m"].isna().all()
    result = train_and_evaluate(frame, "p_cure", test_months=6)
    assert result.metrics["n"] > 150 and result.metrics["auc"] > 0.7, result.metrics
    with pytest.raises(MissingColumnError, match="the p_pay model — needs payments"):
        train_and_evaluate(frame, "p_pay", test_months=6)


def test_analyze_on_a_status_only_book_says_what_it_skips(status_only_book):
    from recovery.commands.analyze import run_analysis

    results = run_analysis(status_only_book, figures=False)
    skipped = results["skipped"].set_index("output")["reason"]
    assert skipped["recovery by debt age"] == (
        "recovery by debt age — needs balances and payments: this data has no columns "
        "'balance', 'paid_in_month'"
    )
    assert "the roll-rate forecast of balances" in skipped.index
    assert {"roll_rate_matrix_count", "flow_rates", "vintage_curves", "monthly_kpis"} <= set(
        results
    )
    assert "roll_rate_matrix_balance" not in results and "recovery_rates" not in results
    # flow rates by count; no table carries a balance column filled with zeros
    for name, table in results.items():
        if isinstance(table, pd.DataFrame) and name != "skipped":
            assert not [c for c in table.columns if "balance" in str(c)], name
