"""The operation's month in expectation: the simulator's point-in-time truth without redraws.

The closed form (:mod:`recovery.simulate.operation.expectation`) is checked against the
thing it replaces — the average over real redraws of the operation's month — on the
states of a small book, and the truth built on it against a redraw-based truth; its
pieces (outcome and level probabilities, the expected hazard) against the draws and
hand-worked values.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from recovery.simulate import simulate_portfolio
from recovery.simulate.collectors import (
    DIFFICULTY_NOISE,
    assign_agents,
    level_probabilities,
)
from recovery.simulate.contacts import CHANNELS, OUTCOMES, draw_outcomes, outcome_probabilities
from recovery.simulate.exact_truth import expected_hazard
from recovery.simulate.hooks import OperationResponse, ResponseDistribution
from recovery.simulate.operation import CollectionOperation
from recovery.simulate.operation.department import STRATEGY_TRUTH_DRAWS
from recovery.simulate.operation.expectation import expected_response
from recovery.simulate.operation.state import snapshot
from recovery.simulate.params import get_scenario

SHORT = dict(scenario=get_scenario("benchmark", back_book_months=12))


def test_outcome_probabilities_are_what_draw_outcomes_draws():
    # one account per case: group, archetype, reachability, dead, shock, fraud, promise ok
    cases = [
        (0, 6, 0.80, False, False, False, True),
        (1, 2, 0.75, False, True, False, True),
        (3, 5, 0.70, False, False, True, False),
        (4, 0, 0.65, False, False, False, True),
        (2, 1, 0.25, True, False, False, True),
    ]
    cols = [np.array(c) for c in zip(*cases, strict=True)]
    p = outcome_probabilities(*cols)
    assert np.allclose(p.sum(axis=2), 1.0)
    rng = np.random.default_rng(4)
    k = 20_000
    for a in range(len(cases)):
        for channel in range(len(CHANNELS)):
            rep = [np.repeat(c[a : a + 1], k) for c in cols]
            out = draw_outcomes(np.full(k, channel), *rep[:6], rep[6], rng)
            freq = np.bincount(out, minlength=len(OUTCOMES)) / k
            se = np.sqrt(p[a, channel] * (1 - p[a, channel]) / k)
            assert (np.abs(freq - p[a, channel]) <= 4 * se + 1e-12).all(), (a, CHANNELS[channel])
    # a serial promiser in M1 promises on 0.70 of right-party calls: (1 - 0.02) x 0.8 x 0.70
    assert p[0, CHANNELS.index("call"), OUTCOMES.index("promise_to_pay")] == pytest.approx(0.5488)


def test_level_probabilities_follow_assign_agents():
    rng = np.random.default_rng(0)
    n = 400
    score = rng.normal(0.0, 1.2, n)
    randomized = rng.random(n) < 0.1
    team = np.zeros(n, int)
    agent_team = np.zeros(12, int)
    agent_level = np.repeat([1, 2, 3], [6, 4, 2])
    counts = np.zeros((n, 3))
    for _ in range(300):
        noisy = score + rng.normal(0.0, DIFFICULTY_NOISE, n)
        picked = assign_agents(team, noisy, randomized, agent_team, agent_level, rng, 0.8)
        counts[np.arange(n), agent_level[picked] - 1] += 1
    freq = counts / 300
    p = level_probabilities(team, score, randomized, agent_team, agent_level, 0.8)
    assert np.allclose(p.sum(axis=1), 1.0)
    assert np.abs(freq - p).mean() < 0.02  # binomial noise alone is about 0.02 per cell
    # the hardest decile goes to seniors far more often than the team's share (2 / 12)
    hard = score > np.quantile(score, 0.9)
    assert p[hard & ~randomized, 2].mean() > 0.5 and freq[hard & ~randomized, 2].mean() > 0.5
    assert np.allclose(p[randomized], [0.5, 1 / 3, 1 / 6])


def test_expected_hazard_by_hand():
    # two equally likely responses: odds x1 with no promise, odds x3 paying on day 20
    responses = [
        OperationResponse(np.array([1.0, 1.0])),
        OperationResponse(np.array([3.0, 1.0]), payment_day=np.array([20, 0])),
    ]
    dist = ResponseDistribution.from_responses(responses, 2)
    assert dist.account.tolist() == [0, 0, 1, 1]
    h = expected_hazard(dist, np.array([0, 0, 1]), np.array([0.0, np.log(3), 0.0]))
    # expit(0) = 1/2, expit(log 3) = 3/4; with odds x3: 3/4 and 9/10
    assert h.tolist() == pytest.approx([(0.5 + 0.75) / 2, (0.75 + 0.9) / 2, 0.5])
    # a charge-off on day 15: a free choice of day (3…28) comes first with 13/26,
    # the promised day 20 never
    before = expected_hazard(dist, np.array([0]), np.array([0.0]), charge_off_dom=np.array([15]))
    assert before[0] == pytest.approx(0.5 * 0.5 * 13 / 26)
    # an account without scenarios gets the neutral response
    sub = dist.subset(np.array([1]))
    assert sub.account.tolist() == [0, 0] and sub.weight.sum() == pytest.approx(1.0)
    built = ResponseDistribution.build(3, [2, 0], [1.0, 1.0], [0.5, 0.0], [0, 7])
    assert built.account.tolist() == [0, 1, 2] and built.payment_day.tolist() == [7, 0, 0]


def _same(a, b) -> bool:
    """Equal bookkeeping: arrays, dicts of them, counts and plain values."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


class _Recorder(CollectionOperation):
    """Records, at some months, the closed form and real redraws of the month."""

    def __init__(self, months, draws, **kw):
        super().__init__(truth_draws=0, **kw)
        self.months, self.draws, self.seen = set(months), draws, []

    def response_distribution(self, state):
        if state.month_index in self.months and len(state):
            ch = self._chunks[state.chunk_index]
            before = copy.deepcopy(snapshot(ch))
            rng_before = copy.deepcopy(state.rng.bit_generator.state)
            closed = expected_response(self, ch, state)
            after = snapshot(ch)
            untouched = state.rng.bit_generator.state == rng_before and _same(before, after)
            redraws = self.response_draws(state, self.draws)
            self.seen.append((state, closed, redraws, untouched))
        return None


def test_closed_form_matches_redraws_of_the_month():
    op = _Recorder(months=(24, 36, 46), draws=256)
    simulate_portfolio(n_accounts=3000, months=36, seed=9, operation=op, **SHORT)
    assert len(op.seen) == 3
    diffs = []
    for state, closed, redraws, untouched in op.seen:
        assert untouched  # bookkeeping and random numbers are read, never used up
        worked = ((state.status == 0) & (state.dpd > 0)) | (state.status == 2)
        rows = np.flatnonzero(worked & (state.p_pay_base > 0))
        mult = np.stack([r.odds_multiplier for r in redraws], axis=1)
        totals = np.bincount(closed.account, closed.weight, minlength=len(state))
        assert np.allclose(totals[rows], 1.0)
        for shift in (-1.0, 0.0, 1.0):  # the payment logit moved as the truth moves it
            z = logit(np.clip(state.p_pay_base[rows], 1e-4, 1 - 1e-4)) + shift
            drawn = expit(z[:, None] + np.log(mult[rows])).mean(axis=1)
            diffs.append(expected_hazard(closed.subset(rows), np.arange(len(rows)), z) - drawn)
    d = np.concatenate(diffs)
    # 256 redraws carry a Monte Carlo error of about 0.002 mean absolute on their own
    assert np.abs(d).mean() < 0.004
    assert abs(d.mean()) < 0.001


def test_truth_within_tolerance_of_redraws_on_a_small_book():
    kwargs = dict(n_accounts=800, months=18, seed=12, **SHORT)
    pf_closed, closed = simulate_portfolio(operation=CollectionOperation(), **kwargs)
    pf_drawn, drawn = simulate_portfolio(operation=CollectionOperation(truth_draws=96), **kwargs)
    for name in ("payments", "actions", "assignments", "events"):
        pd.testing.assert_frame_equal(getattr(pf_closed, name), getattr(pf_drawn, name))
    a, b = closed.account_months, drawn.account_months
    for col in ("p_pay_true", "p_cure_true"):
        x, y = a[col].to_numpy(float), b[col].to_numpy(float)
        assert np.array_equal(np.isnan(x), np.isnan(y))
        ok = ~np.isnan(x)
        assert ok.sum() > 500
        # 96 redraws: Monte Carlo error about 0.004 mean absolute for open accounts
        assert np.abs(x[ok] - y[ok]).mean() < 0.006, col
        assert abs((x[ok] - y[ok]).mean()) < 0.0015, col
        assert ((x[ok] >= 0) & (x[ok] <= 1)).all()


def test_an_operation_with_its_own_plan_is_redrawn(monkeypatch):
    class OwnPlan(CollectionOperation):
        def plan(self, context, counts):
            return counts

    asked = []
    real = CollectionOperation.response_draws

    def spy(self, state, draws=None):
        asked.append(draws)
        return real(self, state, 2)

    monkeypatch.setattr(CollectionOperation, "response_draws", spy)
    simulate_portfolio(n_accounts=200, months=3, seed=1, operation=OwnPlan(), **SHORT)
    assert asked and set(asked) == {STRATEGY_TRUTH_DRAWS}
    asked.clear()
    simulate_portfolio(n_accounts=200, months=3, seed=1, operation=CollectionOperation(), **SHORT)
    assert asked == []  # the default operation is followed in closed form
    simulate_portfolio(n_accounts=200, months=3, seed=1, operation=OwnPlan(truth_draws=0), **SHORT)
    assert asked == []  # the realised month: nothing redrawn
