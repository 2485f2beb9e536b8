"""Policy evaluation machinery: equal capacity, identical history before the switch,
determinism, the allocation rules. Not a fixed winner (that is the benchmark's job)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from recovery.errors import ConfigError
from recovery.operations.compliance import CONTACT_CHANNELS
from recovery.simulate import contacts as ct
from recovery.simulate import simulate_portfolio
from recovery.simulate.policies import (
    PolicyOperation,
    allocate_intensity,
    compare_policies,
    evaluate_policies,
    match_capacity,
    policy_outcomes,
)
from recovery.simulate.priority import PriorityModel, month_collections

BOOK = dict(n_accounts=200, months=24, start="2019-01-01")
# these tests read the tables and the operation's truth, not p_pay_true / p_cure_true:
# skip the truth's redraws of each month (truth_draws=0; the tables are the same)
FAST = dict(truth_draws=0)


def _model(seed: int = 0) -> PriorityModel:
    return PriorityModel(HistGradientBoostingClassifier(max_iter=25, random_state=seed))


@pytest.fixture(scope="module")
def evaluation():
    """Two seeds, the three policies (the fast version of benchmarks/bench_strategy.py)."""
    keep: dict = {}
    table = evaluate_policies(seeds=(3, 4), model=_model(), keep=keep, **FAST, **BOOK)
    return table, keep


@pytest.fixture(scope="module")
def runs(evaluation):
    """Seed 3's runs by policy: (operation, portfolio)."""
    keep = evaluation[1]
    return {p: keep[(3, p)] for p in ("default", "propensity", "uplift")}


def test_switch_defaults_to_twelve_months_before_data_end(runs):
    op, portfolio = runs["default"]
    switch = pd.Timestamp(op.month_start_days[op.switch_month_], unit="D")
    # data end 2020-12-31 (24 months from 2019-01) -> the last 12 months start 2020-01-01
    assert portfolio.data_end == pd.Timestamp("2020-12-31")
    assert switch == pd.Timestamp("2020-01-01")
    hist = op.history_
    assert len(hist) and (hist["month_start"] < switch).all()
    # only observable columns: no latent traits or true probabilities
    assert not {"archetype", "ability", "willingness", "p_pay_base"} & set(hist.columns)


def test_identical_history_before_the_switch(runs):
    switch = pd.Timestamp("2020-01-01")
    _, base = runs["default"]
    for policy in ("propensity", "uplift"):
        _, other = runs[policy]
        for name, col in (("actions", "ts"), ("payments", "payment_date")):
            a = getattr(base, name)
            b = getattr(other, name)
            a = a[a[col] < switch].reset_index(drop=True)
            b = b[b[col] < switch].reset_index(drop=True)
            # action ids are numbered over the whole run, so they shift; the rest is equal
            drop = ["action_id", "reversed_date"]
            pd.testing.assert_frame_equal(
                a.drop(columns=drop, errors="ignore"), b.drop(columns=drop, errors="ignore")
            )
        # the policy does change what happens after it
        acts_a = base.actions[base.actions["ts"] >= switch]
        acts_b = other.actions[other.actions["ts"] >= switch]
        assert not acts_a[["account_id", "ts"]].equals(acts_b[["account_id", "ts"]])


def test_ranked_policies_plan_exactly_the_default_capacity(runs):
    default, _ = runs["default"]
    budget = default.planned_
    for policy in ("propensity", "uplift"):
        op, portfolio = runs[policy]
        after = [k for k in budget if k[1] >= default.switch_month_]
        planned = np.array([op.planned_[k] for k in after])
        wanted = np.array([budget[k] for k in after])
        # every team-month with accounts to work gets exactly its attempts; a team left
        # without eligible accounts in this run cannot spend them
        assert (planned <= wanted + 1e-9).all()
        assert planned.sum() >= 0.97 * wanted.sum()
        assert np.mean(planned == wanted) >= 0.9
        # realised contact attempts stay close (limits and suppressions apply after)
        real = portfolio.actions["channel"].isin(CONTACT_CHANNELS) & (
            portfolio.actions["ts"] >= "2020-01-01"
        )
        _, base = runs["default"]
        base_real = base.actions["channel"].isin(CONTACT_CHANNELS) & (
            base.actions["ts"] >= "2020-01-01"
        )
        assert abs(real.sum() - base_real.sum()) <= 0.2 * base_real.sum()


def test_priority_model_scores_are_sane(runs):
    default, portfolio = runs["default"]
    model = _model().fit(default.history_, portfolio.payments, portfolio.data_end)
    scores = model.score(default.history_)
    assert scores["p_hat"].between(0, 1).all()
    assert (scores["amount"] >= 0).all()
    assert np.allclose(scores["expected_collection"], scores["p_hat"] * scores["amount"])
    table = model.summary
    assert set(table["step"]) <= {"standard", "intensive"}
    assert table["value"].notna().all()
    # the ranked run used exactly this model's priorities (fit is deterministic)
    ranked = runs["uplift"][0].model.score(default.history_)
    pd.testing.assert_frame_equal(ranked, scores)


def test_evaluate_policies_is_deterministic_and_paired(evaluation):
    first, keep = evaluation
    assert len(first) == 6 and set(first["policy"]) == {"default", "propensity", "uplift"}
    # seed 3's default again, by hand: the same numbers and the same capacity
    again = PolicyOperation("default", **FAST)
    portfolio, _ = simulate_portfolio(seed=3, operation=again, **BOOK)
    assert again.planned_ == keep[(3, "default")][0].planned_
    row = first[(first["seed"] == 3) & (first["policy"] == "default")].iloc[0]
    for key, value in policy_outcomes(portfolio, "2020-01-01").items():
        assert row[key] == value, key
    # and a ranked run again, with the same capacity and model
    first_op = keep[(3, "propensity")][0]
    op = PolicyOperation(
        "propensity",
        switch=again.switch_month_,
        capacity=again.planned_,
        model=first_op.model,
        record=False,
        **FAST,
    )
    ranked, _ = simulate_portfolio(seed=3, operation=op, **BOOK)
    assert op.planned_ == first_op.planned_
    row = first[(first["seed"] == 3) & (first["policy"] == "propensity")].iloc[0]
    for key, value in policy_outcomes(ranked, "2020-01-01").items():
        assert row[key] == value, key
    # paired: identical history before the switch within each seed, not across seeds
    same = first.groupby("seed")[["pre_switch_fingerprint", "pre_switch_collected"]].nunique()
    assert (same == 1).all().all()
    assert first.groupby("policy")["pre_switch_fingerprint"].nunique().eq(2).all()
    table = compare_policies(first)
    base = table[table["policy"].eq("default")]
    assert (base["difference"] == 0).all()
    ranked = table[table["policy"].ne("default") & table["measure"].eq("collected")]
    assert (ranked["ci_low"] <= ranked["difference"]).all()
    assert (ranked["difference"] <= ranked["ci_high"]).all()
    # the difference is the mean of the per-seed paired differences
    wide = first.pivot(index="seed", columns="policy", values="collected")
    expected = (wide["uplift"] - wide["default"]).mean()
    got = ranked.set_index("policy").loc["uplift", "difference"]
    assert got == pytest.approx(expected)


def test_allocate_intensity_by_value_per_attempt():
    # values per attempt: A 5, B 1, C 3 (standard); intensive steps A 4, B 0.1, C 0.2.
    # Order: A1 (5), A2 (4), C1 (3), C2 (0.2), B1 (1)... sorted: A1 5, A2 4, C1 3, B1 1,
    # C2 0.2, B2 0.1. Budget 3 attempts -> A1, A2, C1.
    level = allocate_intensity(
        np.array([5.0, 1.0, 3.0]), np.array([4.0, 0.1, 0.2]), np.ones(3), np.ones(3), 3
    )
    assert level.tolist() == [2, 0, 1]
    # an intensive step never comes before its standard step (ratio capped)
    level = allocate_intensity(np.array([1.0]), np.array([10.0]), np.ones(1), np.ones(1), 1)
    assert level.tolist() == [1]
    assert allocate_intensity(np.ones(2), np.ones(2), np.ones(2), np.ones(2), 0).tolist() == [0, 0]


def test_match_capacity_adds_and_trims_by_priority():
    counts = np.zeros((3, len(ct.CHANNELS)), np.int64)
    counts[:, ct.SMS] = [1, 0, 2]
    counts[:, ct.CALL] = [1, 2, 0]
    counts[:, ct.LETTER] = 5  # letters are not contact attempts: untouched
    more = match_capacity(counts, np.array([1.0, 3.0, 2.0]), 8)
    assert more[:, ct.CONTACT].sum() == 8 and (more[:, ct.LETTER] == 5).all()
    assert more[:, ct.CALL].tolist() == [1, 3, 1]  # +1 to the two highest priorities
    fewer = match_capacity(counts, np.array([1.0, 3.0, 2.0]), 3)
    # remove 3 from the lowest priorities: account 0 (2 attempts), then 1 from account 2
    assert fewer[:, ct.CONTACT].sum(1).tolist() == [0, 2, 1]


def test_month_collections_nets_reversals():
    pay = pd.DataFrame(
        {
            "account_id": ["A", "A", "A"],
            "payment_date": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-02-03"]),
            "amount": [10.0, 5.0, 7.0],
            "reversed_date": pd.to_datetime([None, "2024-01-25", None]),
        }
    )
    out = month_collections(pay, data_end="2024-03-31")
    assert out["collected"].tolist() == [10.0, 7.0]  # the reversed 5 does not count


def test_ranked_policy_needs_capacity_and_model():
    with pytest.raises(ConfigError, match="capacity"):
        PolicyOperation("uplift")
    with pytest.raises(ConfigError, match="unknown"):
        PolicyOperation("random")


def test_oracle_uplift_follows_the_true_response_and_saturates():
    from recovery.simulate.hooks import MonthState
    from recovery.simulate.operation import PlanContext

    n = 4
    state = MonthState.empty()
    state.account_index = np.arange(n)
    state.p_pay_base = np.array([0.3, 0.3, 0.3, 0.97])
    state.contact_response = np.array([1.0, 2.0, 4.0, 4.0])  # odds multiplier of a talk
    state.reachability = np.full(n, 0.6)
    group = np.ones(n, np.int64)  # M2
    z = np.zeros(n, np.int64)
    ctx = PlanContext(state, np.arange(n), group, z, z + 1, z, z.astype(bool), z.astype(bool), z)
    op = PolicyOperation("default")
    mean = np.zeros((n, len(ct.CHANNELS)))
    mean[:, ct.CALL] = 4.0
    u1, u2 = op._true_uplift(ctx, mean, 1.6)
    assert u1[0] == pytest.approx(0.0) and u2[0] == pytest.approx(0.0)  # no response
    assert 0 < u1[1] < u1[2]  # stronger response, larger gain
    assert u1[3] < u1[2]  # likely payers gain little (propensity is not uplift)
    # saturation: the 0.6 x extra attempts gain less per attempt than the standard ones
    assert (u2[1:] / 0.6 < u1[1:]).all()


def test_logged_arms_are_the_assignments_table(runs):
    # the uplift segments use the experiment arm of each logged account-month: the
    # same arm and randomised flag a lender reads from portfolio.assignments
    op, portfolio = runs["default"]
    hist = op.history_.sort_values("month_start")
    spells = portfolio.assignments.sort_values("start_date")
    arms = {"hold_out": 0, "champion": 1, "challenger": 2}
    joined = pd.merge_asof(
        hist,
        spells[["account_id", "start_date", "end_date", "arm", "randomized"]].rename(
            columns={"randomized": "spell_randomized"}
        ),
        left_on="month_start",
        right_on="start_date",
        by="account_id",
    )
    covered = joined["start_date"].notna() & (
        joined["end_date"].isna() | (joined["end_date"] >= joined["month_start"])
    )
    assert covered.mean() > 0.95
    j = joined[covered]
    assert (j["arm_x"].to_numpy() == j["arm_y"].map(arms).to_numpy()).all()
    assert (j["randomized"].to_numpy() == j["spell_randomized"].to_numpy()).all()
