"""Collections expected without an offer (recovery.simulate.continuation): the truth's
``v_usual``, checked against the realised collections of offers nobody accepts, and the
recorded responses of the collection operation its copies draw from."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recovery.simulate import simulate_portfolio
from recovery.simulate.continuation import POOL_SIZE, UsualWork, discount_factors
from recovery.simulate.hooks import MonthState, OperationResponse
from recovery.simulate.offers import OfferParams
from recovery.simulate.params import ARCHETYPES


def test_discount_factors_by_hand():
    assert np.allclose(discount_factors(3, 0.25), [1.0, 0.8, 0.64])
    assert np.allclose(discount_factors(2, 0.0), [1.0, 1.0])


def test_the_usual_work_draws_the_responses_of_the_same_stage_and_archetype():
    n = 200
    state = MonthState.empty(month_index=5)
    state.account_index = np.arange(n)
    state.status = np.where(np.arange(n) < 100, 0, 2).astype(np.int8)  # open, charged off
    state.bucket = np.where(np.arange(n) < 100, 2, -1).astype(np.int8)
    state.archetype = np.zeros(n, np.int8)
    # M2 accounts were worked (odds x3, promised day 12), charged-off ones were not
    mult = np.where(np.arange(n) < 100, 3.0, 1.0)
    response = OperationResponse(mult, payment_day=np.where(np.arange(n) < 100, 12, 0))
    work = UsualWork(seed=1)
    work.record(5, state, response, day0=0)
    assert work.pools[5][3].max() == POOL_SIZE  # at most POOL_SIZE kept per group
    later = MonthState.empty(month_index=9)  # after the last recorded month: month 5's
    later.account_index = np.arange(4)
    later.status = np.array([0, 2, 0, 0], np.int8)
    later.bucket = np.array([2, -1, 5, 2], np.int8)
    later.archetype = np.array([0, 0, 0, 3], np.int8)
    got = work.step(later)
    # M2 / archetype 0: worked; charged off: not; M5 and another archetype: none recorded
    assert np.allclose(got.odds_multiplier, [3.0, 1.0, 1.0, 1.0])
    assert got.payment_day.tolist() == [12, 0, 0, 0]


#: Offers nobody accepts (each account gets at most one): after the offer the account
#: follows the usual collection work, so its realised collections estimate v_usual.
REFUSED = dict(
    plan_accept_logit=-40.0,
    deferral_accept_logit=-40.0,
    strategic_archetypes=tuple(ARCHETYPES),
    strategic_shift=1.0,
    acceptance_scale=0.02,
    offer_cooldown_months=1000,
)


def test_v_usual_matches_the_realised_collections_of_refused_offers():
    horizon, rate = 24, 0.01
    portfolio, truth = simulate_portfolio(
        n_accounts=3000, months=60, seed=3, scenario="offers", offers=OfferParams(**REFUSED)
    )
    offers = portfolio.offers
    assert len(offers) > 300 and not (offers["outcome"] == "accepted").any()
    t = truth.extra["offers"]
    assert (t.groupby("offer_id")["v_usual"].nunique() == 1).all()  # one value per offer
    assert (t["v_usual"] >= 0).all() and (t["v_usual_se"] >= 0).all()
    v = t.drop_duplicates("offer_id").set_index("offer_id")["v_usual"]
    # realised: non-reversed payments of months 0..23 from the offer month, discounted
    end = pd.Timestamp(portfolio.data_end)
    month = lambda d: d.dt.year * 12 + d.dt.month  # noqa: E731
    o = offers.assign(m=month(offers["offered_at"]))
    o = o[o["m"] + horizon <= end.year * 12 + end.month]
    pay = portfolio.payments
    pay = pay[pay["reversed_date"].isna() | (pay["reversed_date"] > end)]
    pay = pay.merge(o[["account_id", "offer_id", "m"]], on="account_id")
    k = month(pay["payment_date"]) - pay["m"]
    pay = pay[(k >= 0) & (k < horizon)]
    pay = pay.assign(value=pay["amount"] / (1 + rate) ** (k[pay.index]))
    realised = pay.groupby("offer_id")["value"].sum().reindex(o["offer_id"]).fillna(0.0)
    assert len(realised) > 200
    se = realised.std() / np.sqrt(len(realised))
    assert abs(realised.mean() - v.loc[o["offer_id"]].mean()) < 3 * se
    assert se < 0.2 * realised.mean()  # the check has the power to see a wrong horizon


def test_v_usual_leaves_the_simulated_tables_alone():
    kwargs = dict(n_accounts=600, months=30, seed=5, scenario="offers")
    plain, plain_truth = simulate_portfolio(**kwargs, offers=OfferParams(v_usual_draws=0))
    valued, valued_truth = simulate_portfolio(**kwargs)
    for name, df in plain.tables().items():
        pd.testing.assert_frame_equal(getattr(valued, name), df, check_exact=True)
    assert "v_usual" not in plain_truth.extra["offers"]
    again, again_truth = simulate_portfolio(**kwargs)
    pd.testing.assert_frame_equal(again_truth.extra["offers"], valued_truth.extra["offers"])
