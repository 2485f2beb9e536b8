"""Tests of the offer response model (acceptance, completion; designs; files)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from recovery.errors import DataError, ModelCardError
from recovery.operations.offer_response import (
    ConfoundedPriceWarning,
    OfferResponseModel,
    load_offer_model,
    logistic_slope,
    offer_terms_frame,
)

GRID = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6])


def true_accept(discount, age_days):
    """The book's acceptance: rises with the discount, falls with debt age."""
    return expit(-2.0 + 5.0 * discount - 1.0 * (age_days / 365.0))


def book(n=4000, seed=0, randomized_share=0.5):
    """Settlements to charged-off accounts: half with random discounts (recorded
    probability 1/7), half by rule (deeper discount for older debt, probability 1)."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(200, 1100, n)
    rand = rng.uniform(size=n) < randomized_share
    rule = np.where(age > 700, 0.5, 0.2)
    d = np.where(rand, rng.choice(GRID, n), rule)
    accepted = rng.uniform(size=n) < true_accept(d, age)
    paid = rng.uniform(size=n) < 0.7
    return pd.DataFrame(
        {
            "offer_id": [f"O{i}" for i in range(n)],
            "kind": "settlement",
            "discount_share": d,
            "installments": 1,
            "stage": "charged_off",
            "debt_age_days": age,
            "balance": 1000.0,
            "installment_amount": 100.0,
            "randomized": rand,
            "assignment_probability": np.where(rand, 1 / len(GRID), 1.0),
            "outcome": np.where(accepted, "accepted", "declined"),
            "result": np.where(accepted, np.where(paid, "completed", "broken"), None),
        }
    )


def test_offer_terms_frame_burden_by_hand():
    o = pd.DataFrame(
        {
            "kind": ["settlement", "payment_plan", "deferral"],
            "discount_share": [0.25, 0.0, 0.0],
            "installments": [1, 4, 0],
            "plan_amount": [np.nan, 800.0, np.nan],
            "balance": [1000.0, 1000.0, 1000.0],
            "installment_amount": [150.0, 100.0, 100.0],
        }
    )
    f = offer_terms_frame(o)
    # 750 / 150 = 5; 800 / 4 / 100 = 2; a deferral asks nothing
    assert f["asked_ratio"].iloc[:2].tolist() == [5.0, 2.0]
    assert np.isnan(f["asked_ratio"].iloc[2])


def test_weighted_fit_recovers_acceptance_and_is_monotone():
    offers = book()
    m = OfferResponseModel(random_state=1).fit(offers)
    assert m.design_ == "weighted" and not m.confounded_
    # every account at every discount of the grid
    probe = offers.head(300).loc[lambda d: d.index.repeat(len(GRID))]
    probe = probe.assign(discount_share=np.tile(GRID, 300))
    p = m.predict_accept(probe)
    truth = true_accept(probe["discount_share"].to_numpy(), probe["debt_age_days"].to_numpy())
    assert np.mean(np.abs(p - truth)) < 0.05
    assert np.all(np.diff(p.reshape(300, len(GRID)), axis=1) >= -1e-12)
    assert 0.6 < np.nanmean(m.predict_complete(probe)) < 0.8
    s = m.summary()
    assert set(s["target"]) == {"accept", "complete"} and (s["warning"] == "").all()


def test_randomized_design_uses_only_random_offers():
    offers = book().drop(columns="assignment_probability")
    m = OfferResponseModel(random_state=1).fit(offers)
    assert m.design_ == "randomized"
    assert m.rows_[("accept", "settlement")][0] == int(offers["randomized"].sum())


def test_rule_assigned_offers_alone_are_confounded_and_do_not_extrapolate():
    offers = book()
    rule = offers[~offers["randomized"]].drop(columns=["randomized", "assignment_probability"])
    with pytest.warns(ConfoundedPriceWarning):
        naive = OfferResponseModel(random_state=1).fit(rule)
    assert naive.confounded_ and naive.summary()["warning"].str.contains("confounded").all()
    probe = rule.head(200).assign(discount_share=0.0)
    assert np.isnan(naive.predict_accept(probe)).all()  # never seen: refused
    seen = rule.head(200)
    assert not np.isnan(naive.predict_accept(seen)).any()
    # asked anyway, the naive fit is biased: it reads the rule's discounts as debt age
    fair = OfferResponseModel(random_state=1).fit(offers)
    young = offers[offers["debt_age_days"] < 600].head(300)
    truth = true_accept(0.6, young["debt_age_days"].to_numpy())
    bias_naive = np.mean(naive.predict_accept(young.assign(discount_share=0.6), True) - truth)
    bias_fair = np.mean(fair.predict_accept(young.assign(discount_share=0.6)) - truth)
    assert abs(bias_naive) > 0.1 > abs(bias_fair) + 0.05


def test_truth_probabilities_as_target():
    offers = book(2000)
    y = true_accept(offers["discount_share"].to_numpy(), offers["debt_age_days"].to_numpy())
    m = OfferResponseModel(design="randomized", random_state=1).fit(
        offers.assign(randomized=True), y=y
    )
    assert np.mean(np.abs(m.predict_accept(offers) - y)) < 0.02
    assert ("complete", "settlement") not in m.models_


def test_save_and_load_without_pickle(tmp_path):
    offers = book(1500).assign(region=lambda d: np.where(d.index % 2, "north", "south"))
    m = OfferResponseModel(features=["region"], min_rows=50, random_state=1).fit(offers)
    m.save(tmp_path)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [
        "offer_accept_settlement.txt",
        "offer_complete_settlement.txt",
        "offer_model.json",
    ]
    again = load_offer_model(tmp_path)
    np.testing.assert_allclose(again.predict_accept(offers), m.predict_accept(offers))
    pd.testing.assert_frame_equal(again.summary(), m.summary())
    with pytest.raises(ModelCardError):
        load_offer_model(tmp_path / "nothing")


def test_small_kinds_use_the_mean_rate_and_errors_name_the_column():
    offers = book(100)
    m = OfferResponseModel(min_rows=200).fit(offers)
    assert isinstance(m.models_[("accept", "settlement")], float)
    weights = np.where(offers["randomized"], 7.0, 1.0)
    expected = np.average(offers["outcome"] == "accepted", weights=weights)
    assert m.models_[("accept", "settlement")] == pytest.approx(expected)
    with pytest.raises(DataError, match="outcome"):
        OfferResponseModel().fit(offers.drop(columns="outcome"))
    with pytest.raises(DataError, match="region"):
        OfferResponseModel(features=["region"]).fit(offers)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        OfferResponseModel(min_rows=10).fit(offers)  # not confounded: no warning


def test_no_prediction_at_a_stage_the_kind_was_never_offered_to(tmp_path):
    offers = book(1500).assign(stage="late")
    m = OfferResponseModel(min_rows=50, random_state=1).fit(offers)
    assert m.stages_ == {"settlement": ["late"]}
    probe = offers.head(5)
    assert not np.isnan(m.predict_accept(probe)).any()
    assert np.isnan(m.predict_accept(probe.assign(stage="charged_off"))).all()
    m.save(tmp_path)
    assert load_offer_model(tmp_path).stages_ == m.stages_


def test_price_slope_under_the_trees_recovers_the_discount_response(tmp_path):
    # the book's acceptance is logistic in the discount with slope 5 (true_accept)
    offers = book()
    m = OfferResponseModel(random_state=1).fit(offers)
    a, b = m.slopes_[("accept", "settlement")]
    assert 3.5 < b < 6.5
    probe = offers.head(300).loc[lambda d: d.index.repeat(len(GRID))]
    probe = probe.assign(discount_share=np.tile(GRID, 300))
    p = m.predict_accept(probe).reshape(300, len(GRID))
    truth = true_accept(
        probe["discount_share"].to_numpy(), probe["debt_age_days"].to_numpy()
    ).reshape(300, len(GRID))
    # the rise from no discount to 60 % off, per account, within 0.03 of the truth's
    assert abs(np.mean(p[:, -1] - p[:, 0]) - np.mean(truth[:, -1] - truth[:, 0])) < 0.03
    assert np.all(np.diff(p, axis=1) >= -1e-12)
    # no slope on completion, nor on a kind without random terms; saved and read back
    assert set(m.slopes_) == {("accept", "settlement")}
    m.save(tmp_path)
    assert load_offer_model(tmp_path).slopes_ == m.slopes_
    trees = OfferResponseModel(random_state=1, price_slope=False).fit(offers)
    assert trees.slopes_ == {}


def test_logistic_slope_is_never_negative():
    z = np.repeat([0.0, 1.0], 50)
    y = np.where(z > 0, 0.1, 0.3)  # falls with the term: the slope stops at 0
    a, b = logistic_slope(z, y, np.ones(100))
    assert b == 0.0
    assert expit(a) == pytest.approx(0.2, abs=1e-6)
