"""Tests of the IPW and DR value of an offer policy from an offer history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.errors import DataError
from recovery.operations.offer_policy_value import (
    offer_policy_value,
    policy_value,
    realised_collections,
    same_action,
)
from recovery.operations.offer_response import OfferResponseModel
from recovery.operations.offer_value import UsualCollections


def test_estimators_by_hand():
    est = policy_value(
        matches=[True, False, True, False],
        propensity=[0.5, 0.5, 0.25, 1.0],
        outcome=[10.0, 0.0, 20.0, 4.0],
        q_logged=[8.0, 1.0, 12.0, 4.0],
        q_policy=[9.0, 5.0, 15.0, 6.0],
    ).set_index("estimator")
    # weights 2, 0, 4, 0: IPW terms 20, 0, 80, 0
    assert est.loc["ipw", "value"] == pytest.approx(25.0)
    assert est.loc["ipw", "se"] == pytest.approx(np.std([20, 0, 80, 0], ddof=1) / 2)
    assert est.loc["snipw", "value"] == pytest.approx(100 / 6)
    # DR terms: 9 + 2·2, 5, 15 + 4·8, 6
    assert est.loc["dr", "value"] == pytest.approx((13 + 5 + 47 + 6) / 4)
    assert (est["low"] < est["value"]).all() and (est["value"] < est["high"]).all()
    assert est["matched"].tolist() == [2, 2, 2]
    with pytest.raises(DataError, match="assignment_probability"):
        policy_value([True], [0.0], [1.0])


def test_known_policy_value_is_inside_the_intervals():
    # two actions at random (1/2 each); A pays 100 on average, B pays 60 + 80·x
    rng = np.random.default_rng(7)
    n = 20_000
    x = rng.uniform(size=n)
    a = rng.uniform(size=n) < 0.5
    mean_a, mean_b = np.full(n, 100.0), 60 + 80 * x
    y = np.where(a, mean_a, mean_b) + rng.normal(0, 30, n)
    policy_a = x < 0.5  # A below 0.5, B above: value 100/2 + E[60 + 80x | x > .5]/2 = 50 + 60
    truth = 0.5 * 100 + 0.5 * (60 + 80 * 0.75)
    matches = policy_a == a
    est = policy_value(
        matches,
        np.full(n, 0.5),
        y,
        q_logged=np.where(a, mean_a, mean_b),
        q_policy=np.where(policy_a, mean_a, mean_b),
    ).set_index("estimator")
    for name in ("ipw", "snipw", "dr"):
        assert est.loc[name, "low"] < truth < est.loc[name, "high"], name
    assert est.loc["dr", "se"] < est.loc["ipw", "se"]  # a right q cuts the noise


def test_realised_collections_by_hand():
    pays = pd.DataFrame(
        {
            "account_id": ["A"] * 5 + ["B"],
            "payment_date": pd.to_datetime(
                ["2023-12-31", "2024-01-01", "2024-01-21", "2024-02-10", "2026-03-15", "2024-01-05"]
            ),
            "amount": [999.0, 100.0, 50.0, 200.0, 70.0, 30.0],
            "reversed_date": pd.to_datetime([None, None, None, None, None, "2024-01-09"]),
        }
    )
    offers = pd.DataFrame(
        {
            "offer_id": ["O1", "O2"],
            "account_id": ["A", "B"],
            "offered_at": pd.to_datetime(["2024-01-01", "2024-01-01"]),
        }
    )
    book = Portfolio(payments=pays, meta={"data_end": "2025-06-30"})
    got = realised_collections(
        book, offers, Config.from_dict({"offers": {"monthly_discount_rate": 0.1}})
    )
    # before the offer: out; days 0 and 20: month 1; day 40: month 2; day 804: beyond 24
    assert got["collected"].tolist() == pytest.approx([150 + 200 / 1.1, 0.0])
    assert got["complete"].tolist() == [False, False]


def test_same_action():
    a = pd.DataFrame(
        {
            "kind": ["deferral", "none", "settlement"],
            "deferral_months": [3, 0, 0],
            "discount_share": [0, 0, 0.2],
        }
    )
    b = pd.DataFrame(
        {
            "kind": ["deferral", "none", "settlement"],
            "deferral_months": [2, 0, 0],
            "discount_share": [0, 0, 0.2],
        }
    )
    assert same_action(a, b).tolist() == [False, True, True]


def settlement_history(d, rand, acc) -> pd.DataFrame:
    """Settlements of charged-off accounts at discounts ``d`` (random where ``rand``,
    each of the grid's terms then equally likely), accepted where ``acc`` and paid."""
    n = len(d)
    return pd.DataFrame(
        {
            "offer_id": [f"O{i}" for i in range(n)],
            "kind": "settlement",
            "discount_share": d,
            "installments": 1,
            "deferral_months": 0,
            "stage": "charged_off",
            "debt_age_days": 500.0,
            "balance": 1000.0,
            "installment_amount": 100.0,
            "payments_before": 5,
            "randomized": rand,
            "assignment_probability": np.where(rand, 1 / len(np.unique(d[rand])), 1.0),
            "outcome": np.where(acc, "accepted", "declined"),
            "result": np.where(acc, "completed", None),
        }
    )


def charged_off_usual() -> UsualCollections:
    """Collecting as usual from 30 charged-off accounts paying 20 every tenth month."""
    me = pd.date_range("2022-01-31", periods=30, freq="ME")
    snaps = pd.DataFrame(
        {
            "account_id": np.repeat([f"S{i}" for i in range(30)], 30),
            "month_end": np.tile(me, 30),
            "dpd": 400,
            "status": "charged_off",
            "balance": 1000.0,
            "paid_in_month": np.tile(np.where(np.arange(30) % 10 == 0, 20.0, 0), 30),
        }
    )
    return UsualCollections(min_rows=10).fit(snaps)


def test_offer_policy_value_on_a_history():
    rng = np.random.default_rng(3)
    n = 3000
    d = rng.choice([0.0, 0.2, 0.4, 0.6], n)
    rand = rng.uniform(size=n) < 0.7
    d = np.where(rand, d, 0.2)
    acc = rng.uniform(size=n) < expit(-1 + 4 * d)
    history = settlement_history(d, rand, acc)
    collected = np.where(acc, (1 - d) * 1000, 50.0)
    usual = charged_off_usual()
    model = OfferResponseModel(min_rows=50, random_state=0).fit(history)
    logged = history[["kind", "discount_share", "installments", "deferral_months"]]
    est = offer_policy_value(history, collected, model, usual, policy=logged).set_index("estimator")
    assert est.loc["logged", "accounts"] == rand.sum()  # the randomised offers only
    # the logged policy itself: the self-normalised IPW is the logged mean exactly
    assert est.loc["snipw", "value"] == pytest.approx(est.loc["logged", "value"])
    rec = offer_policy_value(history, collected, model, usual).set_index("estimator")
    assert np.isfinite(rec.loc["dr", "value"]) and rec.loc["dr", "se"] > 0
    with pytest.raises(DataError, match="random terms"):
        offer_policy_value(history[~rand], collected[~rand], model, usual)


def test_no_offer_and_other_kinds_are_valued_by_the_model_not_counted_as_nothing():
    # an offers history holds offers only: where the policy makes no offer (or offers
    # another kind than the one whose terms were drawn), no logged row can stand for it
    est = policy_value(
        matches=[True, False, False, False],
        propensity=[0.5, 0.5, 0.25, 0.5],
        outcome=[10.0, 6.0, 20.0, 4.0],
        q_logged=[8.0, 5.0, 12.0, 4.0],
        q_policy=[9.0, 7.0, 15.0, 3.0],
        supported=[True, True, False, False],
    ).set_index("estimator")
    # IPW terms: 10 / 0.5 = 20, 0 (supported, not matched), the model's 15 and 3
    assert est.loc["ipw", "value"] == pytest.approx((20 + 0 + 15 + 3) / 4)
    assert est.loc["ipw", "modelled"] == 2 and est.loc["ipw", "matched"] == 1
    # self-normalised: half the rows supported, their weighted mean 20 / (2 + 0) = 10
    assert est.loc["snipw", "value"] == pytest.approx(0.5 * 10 + (15 + 3) / 4)
    # DR is unchanged: 9 + 2·2, 7, 15, 3
    assert est.loc["dr", "value"] == pytest.approx((13 + 7 + 15 + 3) / 4)


def test_a_policy_that_sometimes_makes_no_offer_is_valued_without_bias():
    # offers at random terms A or B (1/2 each), never "no offer"; the policy makes no
    # offer below x = 0.4 (worth 30 + 50x, known to the model) and offers A above
    rng = np.random.default_rng(11)
    n = 40_000
    x = rng.uniform(size=n)
    a = rng.uniform(size=n) < 0.5
    mean_a, mean_b, none = 100.0 + 0 * x, 60 + 80 * x, 30 + 50 * x
    y = np.where(a, mean_a, mean_b) + rng.normal(0, 30, n)
    offer = x >= 0.4
    truth = 0.4 * (30 + 50 * 0.2) + 0.6 * 100
    args = dict(
        matches=offer & a,
        propensity=np.full(n, 0.5),
        outcome=y,
        q_logged=np.where(a, mean_a, mean_b),
        q_policy=np.where(offer, mean_a, none),
    )
    est = policy_value(**args, supported=offer).set_index("estimator")
    for name in ("ipw", "snipw", "dr"):
        assert est.loc[name, "low"] < truth < est.loc[name, "high"], name
    # counting the no-offer rows as collecting nothing misses their 40 % share's value
    naive = policy_value(**args).set_index("estimator")
    assert naive.loc["ipw", "high"] < truth - 0.3 * 40


def test_offer_policy_value_models_a_policy_without_offers():
    rng = np.random.default_rng(5)
    n = 400
    d = rng.choice([0.0, 0.2, 0.4], n)
    acc = rng.uniform(size=n) < expit(-1 + 4 * d)
    history = settlement_history(d, np.ones(n, bool), acc)
    collected = np.where(acc, (1 - d) * 1000, 50.0)
    usual = charged_off_usual()
    model = OfferResponseModel(min_rows=50, random_state=0).fit(history)
    none = pd.DataFrame(
        {"kind": ["none"] * n, "discount_share": 0.0, "installments": 0, "deferral_months": 0}
    )
    est, terms = offer_policy_value(
        history, collected, model, usual, policy=none, return_terms=True
    )
    est = est.set_index("estimator")
    v_usual = usual.value(history)
    # no logged row stands for "no offer": every estimator is collecting as usual
    for name in ("ipw", "dr"):
        assert est.loc[name, "value"] == pytest.approx(v_usual.mean())
        assert terms[name].to_numpy() == pytest.approx(v_usual)
    assert est.loc["ipw", "modelled"] == n and est.loc["ipw", "matched"] == 0
    assert terms["offer_id"].tolist() == history["offer_id"].tolist()
