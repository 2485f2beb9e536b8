"""Tests of an offer's value against collecting as usual (hand-worked numbers)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recovery.config import Config
from recovery.errors import DataError
from recovery.operations.offer_value import (
    UsualCollections,
    discount_factors,
    offer_value,
    usual_segment,
)


def cfg(h=3, r=0.0):
    return Config.from_dict({"offers": {"horizon_months": h, "monthly_discount_rate": r}})


def test_plan_value_by_hand():
    # 2-installment plan of 400 each (due in months 2 and 3: the month after the offer
    # and the next), completed with 0.81 -> each kept with 0.9;
    # usual: 10 % of the balance a month (share by month: 0, .1, .2, .3), V_usual = 300
    o = pd.DataFrame(
        {
            "kind": ["payment_plan"],
            "installments": [2],
            "plan_amount": [800.0],
            "balance": [1000.0],
            "installment_amount": [500.0],
        }
    )
    share = [[0.0, 0.1, 0.2, 0.3]]
    v = offer_value(
        o, [0.5], [0.81], [300.0], share, horizon_months=3, monthly_discount_rate=0.0, cost=10.0
    )
    cash = 0.9 * 400 + 0.81 * 400
    # break at installment 1 (month 2, p 0.1): 1000 owed, 1 month left -> 1000 * 0.1
    # break at installment 2 (month 3, p 0.9 * 0.1): 600 owed, no month left -> 0
    rescue = 0.1 * 1000 * 0.1 + 0.09 * 600 * 0.0
    assert v["expected_cash"].iloc[0] == pytest.approx(cash)
    assert v["expected_after_break"].iloc[0] == pytest.approx(rescue)
    assert v["value"].iloc[0] == pytest.approx(0.5 * (cash + rescue - 300.0) - 10.0)


def test_discounting_and_horizon_cut():
    # a 6-month plan over a 3-month horizon: only the installments of months 2 and 3 count
    o = pd.DataFrame(
        {
            "kind": ["payment_plan"],
            "installments": [6],
            "plan_amount": [600.0],
            "balance": [600.0],
            "installment_amount": [100.0],
        }
    )
    v = offer_value(
        o, [1.0], [1.0], [0.0], [[0.0] * 4], horizon_months=3, monthly_discount_rate=0.1
    )
    # the offer's month is not discounted: months 2 and 3 count δ^1, δ^2
    assert v["value"].iloc[0] == pytest.approx(100 / 1.1 + 100 / 1.1**2)
    assert discount_factors(3, 0.1)[3] == pytest.approx(1 / 1.331)


def test_deferral_value_by_hand():
    # 1-month deferral over 3 months, completed with 0.5: then pays like a current
    # account (25 % a month) or as usual (10 % a month) for the 2 months left
    o = pd.DataFrame(
        {
            "kind": ["deferral"],
            "deferral_months": [1],
            "balance": [1000.0],
            "installment_amount": [250.0],
        }
    )
    usual = [[0.0, 0.1, 0.2, 0.3]]
    cured = [[0.0, 0.25, 0.5, 0.75]]
    v = offer_value(
        o,
        [1.0],
        [0.5],
        [300.0],
        usual,
        horizon_months=3,
        monthly_discount_rate=0.0,
        cured_share=cured,
    )
    assert v["value"].iloc[0] == pytest.approx(1000 * (0.5 * 0.5 + 0.5 * 0.2) - 300.0)


def test_declined_offer_is_worth_nothing_but_its_cost():
    o = pd.DataFrame({"kind": ["settlement"], "discount_share": [0.9], "balance": [100.0]})
    v = offer_value(o, [0.0], [1.0], [50.0], [[0, 0.5]], 1, 0.0, cost=2.0)
    assert v["value"].iloc[0] == pytest.approx(-2.0)


def snaps():
    """Two charged-off accounts over 4 months; A pays 10 then 20, B pays 40 in month 4."""
    me = pd.date_range("2024-01-31", periods=4, freq="ME")
    return pd.DataFrame(
        {
            "account_id": ["A"] * 4 + ["B"] * 4,
            "month_end": list(me) * 2,
            "dpd": [200, 230, 260, 290] * 2,
            "status": ["charged_off"] * 8,
            "balance": [100.0] * 4 + [200.0] * 4,
            "paid_in_month": [0, 10, 20, 0, 0, 0, 0, 40.0],
        }
    )


def test_usual_curves_by_hand_and_p_pay_scaling():
    u = UsualCollections(cfg(h=2), min_rows=1).fit(snaps())
    # month 1 ahead, from months 1-3 (3 x 300 of balance): (10 + 20 + 0 + 0 + 0 + 40) / 900
    # month 2 ahead, from months 1-2 (2 x 300): (20 + 0 + 0 + 40) / 600
    assert u.curves_["rate"].tolist() == pytest.approx([70 / 900, 60 / 600])
    # paying next month: A at months 1 and 2, B at month 3 -> 3 of 6
    assert u.paying_share_.iloc[0] == pytest.approx(0.5)
    acc = pd.DataFrame(
        {
            "stage": "charged_off",
            "debt_age_days": 230.0,
            "balance": [1000.0, 1000.0, 1000.0],
            "p_pay": [0.5, 0.25, np.nan],
        }
    )
    base = 1000 * (70 / 900 + 60 / 600)
    assert u.value(acc) == pytest.approx([base, base / 2, base])
    # scale capped: V_usual never above the balance
    assert u.value(acc.assign(p_pay=1.0, balance=10.0)).max() <= 10.0
    assert usual_segment(["charged_off"], [230.0])[0] == u.curves_["segment"].iloc[0]
    with pytest.raises(DataError, match="paid_in_month"):
        UsualCollections().fit(snaps().drop(columns="paid_in_month"))


def test_usual_curves_leave_out_months_from_an_accepted_offer_on():
    # B accepted an offer in April (month 4): its 40 then is the offer's, not the usual
    # work's, so B's cells ending in April or later are not observed
    offers = pd.DataFrame(
        {
            "account_id": ["B", "A"],
            "offered_at": pd.to_datetime(["2024-04-03", "2024-02-10"]),
            "outcome": ["accepted", "declined"],
        }
    )
    u = UsualCollections(cfg(h=2), min_rows=1).fit(snaps(), offers=offers)
    # month 1 ahead: A from months 1-3 (10, 20, 0 of 3 x 100), B from months 1-2 (0, 0 of
    # 2 x 200); month 2 ahead: A from months 1-2 (20, 0 of 2 x 100), B from month 1 (0 of 200)
    assert u.curves_["rate"].tolist() == pytest.approx([30 / 700, 20 / 400])
    # a declined offer changes nothing; without offers the curves are as before
    plain = UsualCollections(cfg(h=2), min_rows=1).fit(snaps())
    none_taken = offers.assign(outcome="declined")
    again = UsualCollections(cfg(h=2), min_rows=1).fit(snaps(), offers=none_taken)
    assert again.curves_["rate"].tolist() == pytest.approx(plain.curves_["rate"].tolist())
    with pytest.raises(DataError, match="outcome"):
        UsualCollections(cfg(h=2)).fit(snaps(), offers=offers.drop(columns="outcome"))


def open_snaps():
    """A pays 30 a month at M1; B, at M3, pays nothing, then 10 in month 3."""
    me = pd.date_range("2024-01-31", periods=3, freq="ME")
    return pd.DataFrame(
        {
            "account_id": ["A"] * 3 + ["B"] * 3,
            "month_end": list(me) * 2,
            "dpd": [10, 10, 10, 65, 70, 75],
            "status": ["open"] * 6,
            "balance": [100.0] * 6,
            "paid_in_month": [30.0, 30.0, 30.0, 0.0, 0.0, 10.0],
        }
    )


def test_usual_curves_by_state_bucket_and_recent_payment():
    # one month ahead, from months 1-2: pooled over the early stage (one segment by debt
    # age: both are 0-3 months), (30 + 30 + 0 + 10) / 400
    pooled = UsualCollections(cfg(h=1), min_rows=1).fit(open_snaps())
    assert pooled.curves_["rate"].tolist() == pytest.approx([70 / 400])
    u = UsualCollections(cfg(h=1), min_rows=1, by_state=True).fit(open_snaps())
    rate = u.curves_.set_index("segment")["rate"]
    # A at M1 paid in each month before: 60 / 200; B at M3 had not: 10 / 200
    assert rate["early M1 paid"] == pytest.approx(0.3)
    assert rate["early M3 unpaid"] == pytest.approx(0.05)
    assert rate["early M1"] == pytest.approx(0.3) and rate["early M3"] == pytest.approx(0.05)
    acc = pd.DataFrame(
        {
            "stage": "early",
            "debt_age_days": [70.0, 70.0, 20.0],
            "dpd": [70.0, np.nan, np.nan],
            "balance": 1000.0,
            "paid_last_month": [0.0, np.nan, 5.0],
        }
    )
    # the M3 account that did not pay: 1000 x 0.05; without DPD the debt age gives the
    # bucket (M3; M1), without a known payment the bucket's curve over both
    assert u.value(acc) == pytest.approx([50.0, 50.0, 300.0])
    assert pooled.value(acc) == pytest.approx([175.0] * 3)
    # too few rows: a split takes its bucket's curve, a bucket its stage's
    few = UsualCollections(cfg(h=1), min_rows=3, by_state=True).fit(open_snaps())
    assert few.value(acc) == pytest.approx([175.0] * 3)
