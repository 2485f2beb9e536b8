"""The simulator's offers (recovery.simulate.offers, recovery.simulate.offer_engine).

One small book of the ``offers`` scenario (module fixture) is checked against the data
contract, the lender's guardrails, the aging engine and its own truth; the response
model's closed forms are checked by hand and against an independent simulation; and
the benchmark's tables are shown not to move.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from recovery.config import Config
from recovery.data.schema import validate_portfolio
from recovery.errors import ConfigError
from recovery.operations.offer_rules import check_offers
from recovery.simulate import Truth, simulate_portfolio
from recovery.simulate.hooks import OperationResponse
from recovery.simulate.offers import (
    OfferParams,
    OfferResponse,
    ResponseModel,
    deferral_completion,
    plan_completion,
    shortest_affordable_plan,
)
from recovery.timeline.aging import episodes, snapshots


@pytest.fixture(scope="module")
def book():
    """1,500 accounts over 36 months with the default collection operation."""
    return simulate_portfolio(n_accounts=1500, months=36, seed=11, scenario="offers")


def test_every_kind_of_offer_is_made_answered_and_resolved(book):
    portfolio, _ = book
    offers = portfolio.offers
    assert set(offers["kind"]) == {"payment_plan", "settlement", "deferral"}
    assert set(offers["outcome"]) == {"accepted", "declined", "no_answer"}
    accepted = offers[offers["outcome"] == "accepted"]
    assert {"completed", "broken"} <= set(accepted["result"].dropna())
    assert offers.loc[offers["outcome"] != "accepted", "result"].isna().all()
    # a share of the offers has random terms, with their recorded probability
    rand = offers[offers["randomized"]]
    assert 0.05 < len(rand) / len(offers) < 0.4
    assert rand["assignment_probability"].between(1 / 7, 1).all()
    assert (offers.loc[~offers["randomized"], "assignment_probability"] == 1.0).all()


def test_the_offers_table_keeps_the_contract_and_the_guardrails(book):
    portfolio, _ = book
    report = validate_portfolio(portfolio.copy(), Config())
    assert report.empty, report
    assert check_offers(portfolio).empty


def test_aging_reads_the_simulated_offers_as_the_simulator_keeps_them(book):
    portfolio, truth = book
    snap = snapshots(portfolio)
    both = snap.merge(truth.account_months, on=["account_id", "month_end"], suffixes=("", "_t"))
    assert len(both) > 20_000
    assert (both["dpd"] == both["dpd_t"]).all()
    assert (both["status"].astype(str) == both["status_t"]).all()
    age, age_t = both["debt_age_days"].astype("Float64"), both["debt_age_days_t"].astype("Float64")
    assert ((age == age_t) | (age.isna() & age_t.isna())).all()
    # an accepted plan of a delinquent account ends its episode as a re-age cure
    ep = episodes(portfolio)
    assert (ep["end_reason"] == "re_aged").sum() > 0
    plans = portfolio.offers[
        (portfolio.offers["kind"] == "payment_plan") & (portfolio.offers["outcome"] == "accepted")
    ]
    re_aged = ep[ep["end_reason"] == "re_aged"]
    assert set(re_aged["account_id"]) <= set(
        portfolio.offers.loc[portfolio.offers["outcome"] == "accepted", "account_id"]
    )
    ended = re_aged.merge(
        plans, left_on=["account_id", "end_date"], right_on=["account_id", "offered_at"]
    )
    assert len(ended) > 0


def test_the_truth_covers_the_grid_and_is_monotone_in_the_discount(book):
    portfolio, truth = book
    t = truth.extra["offers"]
    params = OfferParams()
    settle = t[t["kind"] == "settlement"]
    assert (settle.groupby("offer_id").size() == len(params.discount_grid)).all()
    wide = settle.pivot(index="offer_id", columns="discount_share", values="p_accept")
    assert (np.diff(wide.to_numpy(), axis=1) >= 0).all()
    pay = settle.pivot(index="offer_id", columns="discount_share", values="p_complete")
    assert (np.diff(pay.to_numpy(), axis=1) >= -1e-12).all()
    plans = t[t["kind"] == "payment_plan"]
    longer = plans.pivot(index="offer_id", columns="installments", values="p_accept")
    assert (np.diff(longer.to_numpy(), axis=1) >= 0).all()
    for col in ("p_answer", "p_accept", "p_accept_if_answered"):
        assert t[col].between(0, 1).all()
    assert t.loc[t["kind"] != "deferral", "p_complete"].between(0, 1).all()
    # one offered term per offer, the one in the offers table
    offered = t[t["offered"]].set_index("offer_id")
    assert offered.index.is_unique and set(offered.index) == set(portfolio.offers["offer_id"])
    o = portfolio.offers.set_index("offer_id").loc[offered.index]
    s = (o["kind"] == "settlement").to_numpy()
    assert np.allclose(offered["discount_share"].to_numpy()[s], o["discount_share"].to_numpy()[s])
    p = (o["kind"] == "payment_plan").to_numpy()
    assert (offered["installments"].to_numpy()[p] == o["installments"].to_numpy()[p]).all()
    # the randomised terms are drawn among the allowed ones: 1 / (allowed terms)
    rand = o[o["randomized"]]
    allowed = t[t["allowed"]].groupby("offer_id").size()
    assert np.allclose(rand["assignment_probability"], 1.0 / allowed.loc[rand.index])


def test_answers_follow_the_truth_on_average(book):
    portfolio, truth = book
    t = truth.extra["offers"]
    offered = t[t["offered"]].set_index("offer_id")
    o = portfolio.offers.set_index("offer_id")
    accepted = (o["outcome"] == "accepted").loc[offered.index].to_numpy()
    expected = offered["p_accept"].to_numpy()
    # a binomial sum: within 4 standard deviations
    sd = np.sqrt((expected * (1 - expected)).sum())
    assert abs(accepted.sum() - expected.sum()) < 4 * sd


def test_settlement_acceptance_by_hand():
    model = ResponseModel(OfferParams())
    # reservation = 0.5 + 0.08 * 1.0 - 0.05 * 2 years = 0.48; asking 0.6 (40 % off):
    # expit((0.48 - 0.6) / 0.15) = expit(-0.8)
    got = model.settlement_acceptance(
        np.array([0.5]), np.array([1.0]), np.array([2 * 365.25]), np.array([2]), np.array([0.4])
    )
    assert got[0] == pytest.approx(expit(-0.8))
    # the strategic defaulter (sophisticated, index 5): 0.3 lower
    strategic = model.settlement_acceptance(
        np.array([0.5]), np.array([1.0]), np.array([2 * 365.25]), np.array([5]), np.array([0.4])
    )
    assert strategic[0] == pytest.approx(expit((0.18 - 0.6) / 0.15))
    # the draw is the same rule with logistic noise: accept iff 0.6 <= 0.48 + 0.15 logit(u)
    u = np.linspace(0.001, 0.999, 999)
    share = model.accepts_settlement(np.full(999, 0.48), np.full(999, 0.4), u).mean()
    assert share == pytest.approx(expit(-0.8), abs=0.002)


def test_plan_keep_by_archetype_by_hand():
    model = ResponseModel(OfferParams())
    # a victim (promise keep 0.6) in a shock (ability now -1.6) on a plan at half the
    # installment: 3.5 + 0.7 (-1.6 + log 2) + 1.5 logit(0.6)
    victim = model.installment_kept(np.array([-1.6]), np.array([0.6]), np.array([0.5]), False)
    assert victim[0] == pytest.approx(expit(3.5 + 0.7 * (-1.6 + np.log(2)) + 1.5 * np.log(1.5)))
    assert victim[0] > 0.95
    # a serial promiser (0.10) at the same terms without a shock breaks soon
    promiser = model.installment_kept(np.array([0.0]), np.array([0.1]), np.array([0.5]), False)
    assert promiser[0] ** 6 < 0.1
    assert model.installment_kept(np.array([2.0]), np.array([0.9]), np.array([0.5]), True) == 0


def test_plan_completion_agrees_with_a_simulated_chain():
    """The closed form against paths drawn one month at a time (an independent count)."""
    rng = np.random.default_rng(0)
    keep = np.array([[[0.95, 0.7, 0.6]] * 6])  # (1 offer, 6 months, 3 states)
    start = np.full((1, 6), 0.1)
    end_rate, perm, death, rev = 0.3, 0.25, 0.01, 0.02
    exact = plan_completion(
        keep, start, end_rate, perm, np.array([[0.0, 1.0, 0.0]]), death, rev, np.array([6])
    )[0]
    n = 400_000
    state = np.ones(n, np.int64)  # a temporary shock in the offer month
    alive = np.ones(n, bool)
    ok = np.ones(n, bool)
    for k in range(6):
        alive &= rng.random(n) >= death
        u = rng.random(n)
        starts = (state == 0) & (u < 0.1)
        ends = (state == 1) & (rng.random(n) < end_rate)
        kind = np.where(rng.random(n) < perm, 2, 1)
        state = np.where(starts, kind, np.where(ends, 0, state))
        paid = rng.random(n) < keep[0, k, state]
        returned = rng.random(n) < rev
        ok &= alive & paid & ~returned
    assert ok.mean() == pytest.approx(exact, abs=0.004)


def test_shortest_affordable_plan_and_the_grid():
    got = shortest_affordable_plan(
        (3, 6, 9, 12, 18, 24),
        np.array([2_400.0, 500.0, 100.0]),
        np.array([100.0, 100.0, 100.0]),
        1.0,
    )
    assert got.tolist() == [24, 6, 3]


def test_the_benchmark_is_unchanged_by_an_idle_offer_desk():
    """With no offer made, the offer engine writes the benchmark's tables exactly."""
    kwargs = dict(n_accounts=400, months=24, seed=4, chunk_size=1000)
    plain, plain_truth = simulate_portfolio(**kwargs)
    idle = OfferParams(offer_rate=0.0, hardship_deferral_months=0)
    same, same_truth = simulate_portfolio(**kwargs, offers=idle)
    assert same.offers is None or len(same.offers) == 0
    for name, df in plain.tables().items():
        pd.testing.assert_frame_equal(getattr(same, name), df, check_exact=True)
    for name, df in plain_truth.tables().items():
        if name != "operation_params":
            pd.testing.assert_frame_equal(same_truth.tables()[name], df, check_exact=True)
    assert "offer_params" not in plain.meta and "offer_params" not in plain_truth.meta


def test_the_offers_sample_is_built_apart_from_the_main_sample(tmp_path, monkeypatch):
    from recovery.datasets import OFFERS_SETTINGS, load_sample, load_sample_truth, sample_path

    monkeypatch.setenv("RECOVERY_CACHE", str(tmp_path))
    monkeypatch.setitem(OFFERS_SETTINGS, "n_accounts", 300)
    monkeypatch.setitem(OFFERS_SETTINGS, "months", 24)
    offers = load_sample("offers")
    assert sample_path("offers").parent == tmp_path
    assert offers.offers is not None and len(offers.offers) > 0
    assert offers.meta["scenario"] == "offers"
    assert "offers" in load_sample_truth("offers").extra
    main = load_sample()
    assert main.offers is None and main.meta["scenario"] == "benchmark"


class Proposer:
    """An operation that makes its own offers: half price, or 90 % off, to charged-off debt."""

    def __init__(self, by_amount: bool = False):
        self.by_amount = by_amount

    def start(self, book):  # noqa: D102
        return None

    def start_chunk(self, chunk_index, accounts):  # noqa: D102
        return None

    def end_chunk(self, chunk_index):  # noqa: D102
        return None

    def tables(self):  # noqa: D102
        return {}

    def step(self, state):  # noqa: D102
        rows = np.flatnonzero(state.status == 2)
        offers = pd.DataFrame(
            {
                "row": rows,
                "kind": "settlement",
                "discount_share": np.where(state.account_index[rows] % 2 == 0, 0.5, 0.9),
            }
        )
        if self.by_amount:  # the same offers as amounts asked
            balance = state.balance[rows]
            offers["settlement_amount"] = (1 - offers.pop("discount_share")) * balance
        return OperationResponse(odds_multiplier=np.ones(len(state)), offers=offers)


@pytest.mark.parametrize("by_amount", [False, True])
def test_an_operation_makes_its_own_offers_within_the_guardrails(by_amount):
    portfolio, truth = simulate_portfolio(
        n_accounts=800, months=36, seed=6, scenario="offers", operation=Proposer(by_amount)
    )
    offers = portfolio.offers
    assert len(offers) > 50 and set(offers["kind"]) == {"settlement"}
    # 90 % off is above every max_discount rule: never made; half price always allowed
    assert np.allclose(offers["discount_share"], 0.5)
    index = offers["account_id"].str[1:].astype(int)
    assert (index % 2 == 0).all()
    assert not offers["randomized"].any() and (offers["assignment_probability"] == 1).all()
    assert (offers["outcome"] == "accepted").any()
    assert check_offers(portfolio).empty
    assert validate_portfolio(portfolio.copy(), Config()).empty
    assert set(truth.extra["offers"]["offer_id"]) == set(offers["offer_id"])


def test_streamed_parquet_takes_a_column_empty_in_the_first_chunk(book, tmp_path, monkeypatch):
    """A tiny first chunk whose offers have no result yet (all empty) must not fix the
    ``result`` column's type for the chunks after it."""
    import recovery.simulate.simulation as simulation
    from recovery.data.io import load_portfolio

    portfolio, truth = book
    first_ids = portfolio.accounts["account_id"].iloc[:20]
    chunks = []
    for part in (True, False):
        piece = portfolio.copy()
        for name, df in piece.tables().items():
            if "account_id" in df:
                setattr(piece, name, df[df["account_id"].isin(first_ids) == part].copy())
        piece.agents = piece.agents if part else None  # agent rows come with the first chunk
        chunks.append((piece, Truth(borrowers=truth.borrowers.iloc[:0], meta=truth.meta)))
    first = chunks[0][0].offers
    first["result"] = None
    first["result_date"] = pd.NaT
    assert len(first) and first["result"].isna().all()
    assert chunks[1][0].offers["result"].notna().any()
    chunks[1][1].recovery_by_age = truth.recovery_by_age
    chunks[1][1].recovery_curve = truth.recovery_curve
    monkeypatch.setattr(simulation, "iter_simulation", lambda *a, **k: iter(chunks))
    simulation.write_simulation(tmp_path, scenario="offers", validate="none")
    back = load_portfolio(tmp_path).offers
    expected = pd.concat([first, chunks[1][0].offers], ignore_index=True)
    assert len(back) == len(expected)
    assert back["result"].tolist() == expected["result"].tolist()


def test_offers_need_an_offer_desk_and_the_old_response_still_works():
    with pytest.raises(ConfigError, match="no offer desk"):
        simulate_portfolio(n_accounts=300, months=30, seed=6, operation=Proposer())
    assert issubclass(OfferResponse, OperationResponse)
    neutral = OperationResponse.neutral(3)
    assert neutral.offers is None  # the default: no offer


def test_deferral_completion_by_hand():
    """Two months deferred, no shock at the offer: shocks start (0.1 a month, a quarter
    permanent) and end (0.3), two month ends to survive (0.01), then the first
    installment is paid with 0.9 / 0.5 / 0.4 by shock state and not returned (0.98)."""
    pay = np.zeros((1, 3, 3))
    pay[0, 1] = [0.9, 0.5, 0.4]  # month 2 decides; month 1 and 3 do not count
    got = deferral_completion(
        pay, np.full((1, 3), 0.1), 0.3, 0.25, np.array([[1.0, 0, 0]]), 0.01, 0.02, np.array([2])
    )[0]
    none = 0.9 * 0.9 + 0.075 * 0.3  # month 1: none 0.9, temporary 0.075, permanent 0.025
    temp = 0.9 * 0.1 * 0.75 + 0.075 * 0.7
    perm = 0.9 * 0.1 * 0.25 + 0.025
    assert none + temp + perm == pytest.approx(1.0)
    expected = 0.99**2 * (none * 0.9 + temp * 0.5 + perm * 0.4) * 0.98
    assert got == pytest.approx(expected, abs=1e-12)


def test_deferral_truth_covers_its_grid_and_follows_the_results(book):
    portfolio, truth = book
    t = truth.extra["offers"]
    d = t[t["kind"] == "deferral"]
    grid = OfferParams().deferral_grid
    assert set(d["deferral_months"]) >= set(grid)
    assert d["p_complete"].between(0, 1).all() and d["allowed"].loc[d["offered"]].all()
    # longer deferrals: more months to survive, a later installment
    assert (d.groupby("deferral_months")["p_complete"].mean().diff().dropna() < 0.05).all()
    o = portfolio.offers.set_index("offer_id")
    offered = d[d["offered"]].set_index("offer_id")
    done = o.loc[offered.index]
    known = (done["outcome"] == "accepted") & done["result"].notna()
    p = offered.loc[known[known].index, "p_complete"].to_numpy()
    completed = (done.loc[known, "result"] == "completed").to_numpy()
    assert len(p) > 30
    sd = np.sqrt((p * (1 - p)).sum())
    assert abs(completed.sum() - p.sum()) < 4 * sd
