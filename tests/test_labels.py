"""Tests of recovery.timeline.labels: hand-worked targets, horizons, reversals, censoring.

Dates are in 2023 (not a leap year). Default config: p_pay horizon 30 days, p_cure
horizon 60 days, minimum payment = min(overdue amount, 1 installment), after
charge-off 2% of the balance, tolerance 1.0 (a shortfall below it still qualifies).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.errors import DataError
from recovery.timeline.labels import LABEL_COLUMNS, build_labels

MONTH_ENDS = ["2023-01-31", "2023-02-28", "2023-03-31", "2023-04-30", "2023-05-31", "2023-06-30"]


def book(
    payments=(),
    dues=MONTH_ENDS[:3],
    extra_schedule=(),
    events=(),
    data_end="2023-12-31",
    origination="2023-01-01",
) -> Portfolio:
    """One account 'A' with 100 due on each of ``dues`` (principal 100 each)."""
    sched = pd.DataFrame(
        {
            "account_id": "A",
            "installment_no": range(1, len(dues) + 1),
            "due_date": pd.to_datetime(list(dues)),
            "amount_due": 100.0,
            "principal_due": 100.0,
            "schedule_version": 1,
            "effective_from": pd.NaT,
        }
    )
    if extra_schedule:
        sched = pd.concat([sched, pd.DataFrame(list(extra_schedule))], ignore_index=True)
    pays = pd.DataFrame(
        {
            "payment_id": [f"P{i}" for i in range(len(payments))],
            "account_id": "A",
            "payment_date": pd.to_datetime([p[0] for p in payments]),
            "amount": [float(p[1]) for p in payments],
            "channel": "bank_transfer",
            "reversed_date": pd.to_datetime([p[2] if len(p) > 2 else None for p in payments]),
        }
    )
    accounts = pd.DataFrame(
        {
            "account_id": ["A"],
            "customer_id": ["C"],
            "product": ["consumer_installment"],
            "origination_date": [pd.Timestamp(origination)],
            "principal": [100.0 * len(dues)],
            "term_months": [len(dues)],
            "interest_rate": [0.0],
        }
    )
    ev = pd.DataFrame(list(events), columns=["account_id", "date", "event"])
    ev["date"] = pd.to_datetime(ev["date"])
    return Portfolio(
        accounts=accounts, schedule=sched, payments=pays, events=ev, meta={"data_end": data_end}
    )


def label(pf, as_of, config=None):
    q = pd.DataFrame({"account_id": ["A"], "as_of": [pd.Timestamp(as_of)]})
    return build_labels(pf, q, config).iloc[0]


# ----------------------------------------------------------------------------- p_pay
def test_p_pay_two_payments_reach_the_minimum():
    # 02-15: the 01-31 installment is unpaid → DPD 15, overdue 100, minimum min(100, 100)
    pf = book([("2023-03-01", 60), ("2023-03-10", 40)])
    lab = label(pf, "2023-02-15")
    assert lab["min_payment"] == 100
    assert lab["p_pay"] == 1 and lab["amount_collected"] == 100
    assert lab["overdue"] and not lab["censored"]


def test_p_pay_short_payment_is_a_zero():
    pf = book([("2023-03-01", 60)])
    lab = label(pf, "2023-02-15")
    assert lab["p_pay"] == 0 and lab["amount_collected"] == 60


def test_payment_on_as_of_does_not_count():
    # on 03-01: 200 fallen due, 60 paid that day → overdue 140, minimum 100; only the 40
    # on 03-10 is after as_of
    pf = book([("2023-03-01", 60), ("2023-03-10", 40)])
    lab = label(pf, "2023-03-01")
    assert lab["min_payment"] == 100
    assert lab["amount_collected"] == 40 and lab["p_pay"] == 0


def test_horizon_edges():
    # as_of 02-15 + 30 days = 03-17: a payment that day counts, 03-18 does not
    assert label(book([("2023-03-17", 100)]), "2023-02-15")["p_pay"] == 1
    lab = label(book([("2023-03-18", 100)]), "2023-02-15")
    assert lab["p_pay"] == 0 and lab["amount_collected"] == 0


def test_minimum_is_the_overdue_amount_when_smaller():
    # 02-15: 100 due 01-31, 70 paid → overdue 30: a 30 payment qualifies
    pf = book([("2023-02-01", 70), ("2023-02-20", 30)])
    lab = label(pf, "2023-02-15")
    assert lab["min_payment"] == 30 and lab["p_pay"] == 1


def test_tolerance_and_installments_from_config():
    pf = book([("2023-03-01", 99.5)])
    assert label(pf, "2023-02-15")["p_pay"] == 1  # 0.5 short < tolerance 1.0
    cfg = Config.from_dict(
        {"aging": {"tolerance": 0.0}, "labels": {"min_payment_installments": 0.5}}
    )
    lab = label(book([("2023-03-01", 49.0)]), "2023-02-15", cfg)
    assert lab["min_payment"] == 50 and lab["p_pay"] == 0


def test_reversal_inside_the_horizon_does_not_count():
    # reversed 03-10 ≤ horizon end 03-17: does not count; reversed 03-20: counts
    assert label(book([("2023-03-01", 100, "2023-03-10")]), "2023-02-15")["p_pay"] == 0
    lab = label(book([("2023-03-01", 100, "2023-03-20")]), "2023-02-15")
    assert lab["p_pay"] == 1 and lab["amount_collected"] == 100


def test_charged_off_minimum_is_a_share_of_the_balance():
    # due 2022-06-30 … 2022-08-31, never paid: 2023-02-15 is 230 DPD → charged off at
    # 180 DPD; balance 300 → minimum 2% × 300 = 6 (less tolerance 1 → 5 qualifies)
    dues = ["2022-06-30", "2022-07-31", "2022-08-31"]
    lab = label(book([("2023-03-01", 5)], dues=dues, origination="2022-06-01"), "2023-02-15")
    assert lab["min_payment"] == pytest.approx(6.0)
    assert lab["p_pay"] == 1 and lab["overdue"]
    assert pd.isna(lab["p_cure"]) and pd.isna(lab["roll_back"])  # not for the recovery book
    lab = label(book([("2023-03-01", 4)], dues=dues, origination="2022-06-01"), "2023-02-15")
    assert lab["p_pay"] == 0


def test_censored_horizon_is_na_not_zero():
    pf = book([], data_end="2023-03-10")
    lab = label(pf, "2023-02-15")  # 02-15 + 30 = 03-17 > data end 03-10
    assert pd.isna(lab["p_pay"]) and pd.isna(lab["amount_collected"])
    assert pd.isna(lab["p_cure"]) and lab["censored"]
    assert lab["p_pay_censored"] and lab["p_cure_censored"]
    pf = book([], data_end="2023-03-20")  # 30 days observed, 60 not
    lab = label(pf, "2023-02-15")
    assert lab["p_pay"] == 0 and not lab["p_pay_censored"]
    assert pd.isna(lab["p_cure"]) and lab["p_cure_censored"] and lab["censored"]


def test_not_overdue_gets_no_labels():
    pf = book([("2023-01-31", 100)])
    lab = label(pf, "2023-02-15")  # paid on time: DPD 0
    assert not lab["overdue"]
    assert pd.isna(lab["p_pay"]) and pd.isna(lab["p_cure"]) and np.isnan(lab["min_payment"])


# ----------------------------------------------------------------------------- p_cure
def test_p_cure_payoff_is_a_cure():
    # 02-15 overdue; 300 on 03-05 pays everything → paid off, DPD 0 at 04-16
    lab = label(book([("2023-03-05", 300)]), "2023-02-15")
    assert lab["p_cure"] == 1


def test_p_cure_needs_dpd_still_zero_at_the_horizon():
    # 200 on 03-05 cures, but the 03-31 installment is unpaid on 04-16 (DPD 16)
    lab = label(book([("2023-03-05", 200)]), "2023-02-15")
    assert lab["p_pay"] == 1 and lab["p_cure"] == 0


def test_restructure_cure_is_not_a_payment_cure():
    # version 2 from 03-01: 3 × 100 due from 05-31 → on 04-16 nothing is past due, but
    # by restructure, not by payment
    v2 = [
        {
            "account_id": "A",
            "installment_no": i + 1,
            "due_date": pd.Timestamp(d),
            "amount_due": 100.0,
            "principal_due": 100.0,
            "schedule_version": 2,
            "effective_from": pd.Timestamp("2023-03-01"),
        }
        for i, d in enumerate(["2023-05-31", "2023-06-30", "2023-07-31"])
    ]
    pf = book([], extra_schedule=v2, events=[("A", "2023-03-01", "restructured")])
    lab = label(pf, "2023-02-15")
    assert lab["p_cure"] == 0
    # the same restructure before as_of is history, not an outcome in the horizon:
    # as_of 03-31 … 05-30 → the 05-31 installment is not due yet, so not overdue
    assert not label(pf, "2023-03-31")["overdue"]


# ----------------------------------------------------------------------------- roll_back
def test_roll_back_for_m3_plus():
    # six installments; nothing paid until as_of 04-05: oldest unpaid 01-31 → DPD 64 (M3)
    # 300 on 04-10 pays 01-31, 02-28, 03-31 → on 06-04 oldest unpaid is 04-30: DPD 35, M2
    pf = book([("2023-04-10", 300)], dues=MONTH_ENDS)
    lab = label(pf, "2023-04-05")
    assert lab["roll_back"] == 1 and lab["p_cure"] == 0
    # only 100 paid: oldest unpaid 02-28 → DPD 96 on 06-04, M4: worse
    pf = book([("2023-04-10", 100)], dues=MONTH_ENDS)
    assert label(pf, "2023-04-05")["roll_back"] == 0
    # an M1 account has no roll-back label
    assert pd.isna(label(book([], dues=MONTH_ENDS), "2023-02-15")["roll_back"])


# ----------------------------------------------------------------------------- time
def test_labels_use_only_rows_after_as_of_within_horizon():
    base = book([("2023-03-01", 60), ("2023-03-10", 40)])
    before = label(base, "2023-02-15")
    # a payment after the 60-day horizon changes nothing
    later = book([("2023-03-01", 60), ("2023-03-10", 40), ("2023-05-01", 500)])
    pd.testing.assert_series_equal(before, label(later, "2023-02-15"))
    # a payment inside the horizon does change the outcome
    more = book([("2023-03-01", 60), ("2023-03-10", 40), ("2023-03-12", 100)])
    assert label(more, "2023-02-15")["amount_collected"] == 200


def test_dates_give_overdue_pairs_and_columns():
    pf = book([("2023-03-01", 60)])
    out = build_labels(pf, ["2023-01-31", "2023-02-15", "2023-02-28"])
    assert list(out.columns) == ["account_id", "as_of", *LABEL_COLUMNS]
    assert out["as_of"].tolist() == list(pd.to_datetime(["2023-02-15", "2023-02-28"]))
    assert out["overdue"].all()
    assert set(out["p_pay"].dropna().unique()) <= {0, 1}


def test_partitions_do_not_change_labels():
    pfs = []
    for k, pays in enumerate([[("2023-03-01", 60)], [("2023-03-05", 300)], []]):
        pf = book(pays)
        for name in ("accounts", "schedule", "payments"):
            getattr(pf, name)["account_id"] = f"A{k}"
        pfs.append(pf)
    whole = Portfolio(
        **{
            n: pd.concat([getattr(p, n) for p in pfs], ignore_index=True)
            for n in ("accounts", "schedule", "payments")
        },
        meta={"data_end": "2023-12-31"},
    )
    dates = ["2023-02-15", "2023-03-15"]
    a = build_labels(whole, dates, partition_size=None)
    b = build_labels(whole, dates, partition_size=1)
    assert len(a) >= 4
    pd.testing.assert_frame_equal(a, b)


def test_missing_tables():
    with pytest.raises(DataError, match="schedule"):
        build_labels(Portfolio(payments=pd.DataFrame()), ["2023-01-31"])


# ----------------------------------------------------------------------------- reference
def reference_labels(pf: Portfolio, account: str, as_of: pd.Timestamp, config: Config) -> dict:
    """Slow, literal p_pay and amount collected of one pair (overdue pairs only)."""
    from recovery.timeline.aging import account_states
    from recovery.timeline.events import schedule_in_force

    st = account_states(pf.subset([account]), [as_of], config).iloc[0]
    end = as_of + pd.Timedelta(days=config.labels.p_pay_horizon_days)
    p = pf.payments[pf.payments["account_id"] == account]
    inside = p[(p["payment_date"] > as_of) & (p["payment_date"] <= end)]
    counted = inside[~(inside["reversed_date"] <= end)]
    collected = counted["amount"].sum()
    if st["status"] == "charged_off":
        minimum = config.labels.charged_off_min_share * st["balance"]
    else:
        inst = schedule_in_force(pf.schedule, pd.Series([account]), [as_of])
        minimum = min(st["amount_overdue"], inst["installment_amount"].iloc[0])
    return {
        "amount_collected": collected,
        "p_pay": int(collected >= minimum - config.aging.tolerance),
        "min_payment": minimum,
    }


def test_labels_agree_with_reference_on_a_messy_book():
    from test_features import random_portfolio  # the shared small messy book

    pf = random_portfolio(14, seed=5)
    cfg = Config()
    out = build_labels(pf, ["2022-10-31", "2023-01-31", "2023-05-31"], cfg)
    assert out["overdue"].all() and len(out) > 10
    # data end 06-30: 05-31 + 30 days is observed, + 60 days is not
    assert out["censored"].eq(out["as_of"] == pd.Timestamp("2023-05-31")).all()
    assert out.loc[out["censored"], "p_cure"].isna().all()
    assert out.loc[~out["censored"], "p_cure"].notna().sum() > 0
    for row in out.itertuples():
        ref = reference_labels(pf, row.account_id, row.as_of, cfg)
        assert row.amount_collected == pytest.approx(ref["amount_collected"]), row
        assert row.p_pay == ref["p_pay"], row
        assert row.min_payment == pytest.approx(ref["min_payment"]), row


def test_labels_match_the_simulator_truth_on_average():
    from recovery.datasets import load_sample, load_sample_truth

    pf, truth = load_sample(), load_sample_truth()
    month_ends = pd.date_range("2023-06-30", "2025-09-30", freq="ME")
    y = build_labels(pf, list(month_ends))
    am = truth.account_months.rename(columns={"month_end": "as_of"})
    m = y.merge(
        am[["account_id", "as_of", "p_pay_true", "p_cure_true"]], on=["account_id", "as_of"]
    )
    for label, true in (("p_pay", "p_pay_true"), ("p_cure", "p_cure_true")):
        ok = m[label].notna() & m[true].notna()
        observed = m.loc[ok, label].astype(float)
        p = m.loc[ok, true]
        assert ok.sum() > 300, label
        # the labels are draws from the true probabilities: their mean is within
        # 3.5 binomial standard errors of the mean true probability
        se = np.sqrt((p * (1 - p)).sum()) / ok.sum()
        assert abs(observed.mean() - p.mean()) < 3.5 * se, (label, observed.mean(), p.mean())
        # and they rank like the truth
        assert observed[p > p.median()].mean() > observed[p <= p.median()].mean()


# ----------------------------------------------------------------- shared ledger (#21)
def test_labels_unchanged_since_main(sample_book, simulated_20k):
    """Byte-identical to the labels main's code computed (digests in conftest)."""
    from conftest import assert_unchanged_since_main

    assert_unchanged_since_main("labels", build_labels, sample_book, simulated_20k)


def test_labels_on_a_shared_ledger_equal_an_independent_build(simulated_20k):
    from recovery.timeline.aging import aging_ledger

    pf, dates, _ = simulated_20k
    book = aging_ledger(pf)
    shared = build_labels(pf, dates[-6:], ledger=book)
    pd.testing.assert_frame_equal(shared, build_labels(pf, dates[-6:]))
    pairs = shared[["account_id", "as_of"]].iloc[::5]
    pd.testing.assert_frame_equal(
        build_labels(pf, pairs, ledger=book), build_labels(pf, pairs, partition_size=3_000)
    )
