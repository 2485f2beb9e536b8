"""Offer policies by re-simulation (recovery.simulate.offer_policies, offer_oracle).

Hand-built candidate tables check the built-in policies and the guardrail check; small
books of the ``offers`` scenario check the switch month (a shared history, the desk's
own run unchanged), the refusal of a breaching policy, the paired evaluation and the
oracle, including the scenario where offers do not pay.
"""

from __future__ import annotations

import pandas as pd
import pytest

from recovery.errors import ConfigError
from recovery.simulate import simulate_portfolio
from recovery.simulate.offer_policies import (
    DECISION_COLUMNS,
    OUTCOME_MEASURES,
    AtRandomisedOffers,
    DeskRule,
    FixedDiscount,
    OfferPolicyOperation,
    check_decisions,
    evaluate_offer_policies,
    no_offers,
)
from recovery.simulate.operation import CollectionOperation
from recovery.simulate.policies import compare_policies


def candidates() -> pd.DataFrame:
    """Four accounts as the desk would hand them to a policy (the context columns)."""
    return pd.DataFrame(
        {
            "account_id": ["E1", "L1", "C1", "C2", "H1"],
            "desk_kind": ["payment_plan", "settlement", "settlement", "settlement", "deferral"],
            "stage": ["early", "late", "charged_off", "charged_off", "early"],
            "debt_age_days": [45.0, 150.0, 400.0, 800.0, 20.0],
            "balance": [850.0, 2000.0, 3000.0, 1000.0, 500.0],
            "installment_amount": [100.0, 200.0, 300.0, 100.0, 50.0],
            "owed": [900.0, 2200.0, 3300.0, 1100.0, 550.0],
            "payments_before": [5, 5, 5, 5, 5],
            "reages_12_months": [0, 0, 0, 0, 0],
            "reages_5_years": [0, 0, 0, 0, 0],
        }
    )


def test_the_desk_rule_by_hand():
    got = DeskRule()(candidates()).set_index("account_id")
    assert list(got.reset_index().columns) == list(DECISION_COLUMNS)
    # M2: the shortest plan of (3, 6, 9, 12, 18, 24) with 900 / L <= 100 is 9 installments
    assert got.loc["E1", "kind"] == "payment_plan" and got.loc["E1", "installments"] == 9
    # M4+: 20 %; charged off 13 months: 40 %; 26 months: 50 %
    assert got.loc[["L1", "C1", "C2"], "discount_share"].tolist() == [0.2, 0.4, 0.5]
    assert (got.loc[["L1", "C1", "C2"], "kind"] == "settlement").all()
    assert got.loc["H1", "kind"] == "deferral" and got.loc["H1", "deferral_months"] == 3


def test_a_fixed_discount_is_offered_only_where_the_rules_allow_it():
    # max discounts: early 10 %, late 30 %, charged off 50 % (under 24 months), 60 %
    got = FixedDiscount(0.4)(candidates()).set_index("account_id")
    assert got["kind"].to_dict() == {
        "E1": "none",
        "L1": "none",
        "C1": "settlement",
        "C2": "settlement",
        "H1": "none",
    }
    assert got.loc["C1", "discount_share"] == 0.4 and got.loc["E1", "discount_share"] == 0.0
    assert (no_offers(candidates())["kind"] == "none").all()
    with pytest.raises(ConfigError, match="discount"):
        FixedDiscount(1.2)


def decide(**changes) -> pd.DataFrame:
    d = no_offers(candidates())
    for account, (kind, term, value) in changes.items():
        row = d["account_id"] == account
        d.loc[row, "kind"] = kind
        d.loc[row, term] = value
    return d


def test_check_decisions_names_the_account_the_rule_and_the_terms():
    ok = check_decisions(candidates(), decide(C2=("settlement", "discount_share", 0.55)))
    assert ok.set_index("account_id").loc["C2", "discount_share"] == 0.55
    with pytest.raises(
        ConfigError, match="account L1: settlement discount 0.5 breaks discount_too_deep"
    ):
        check_decisions(candidates(), decide(L1=("settlement", "discount_share", 0.5)))
    with pytest.raises(
        ConfigError, match="account E1: payment_plan 72 installments breaks plan_too_long"
    ):
        check_decisions(candidates(), decide(E1=("payment_plan", "installments", 72)))
    with pytest.raises(ConfigError, match="E1: payment_plan 3 installments breaks unaffordable"):
        check_decisions(candidates(), decide(E1=("payment_plan", "installments", 3)))
    with pytest.raises(
        ConfigError, match="C1: payment_plan 12 installments breaks plan_or_deferral"
    ):
        check_decisions(candidates(), decide(C1=("payment_plan", "installments", 12)))
    with pytest.raises(ConfigError, match="one row per candidate"):
        check_decisions(candidates(), no_offers(candidates()).iloc[1:])
    with pytest.raises(ConfigError, match="unknown"):
        check_decisions(candidates(), decide(C1=("refund", "discount_share", 0.1)))
    with pytest.raises(ConfigError, match="DataFrame"):
        check_decisions(candidates(), [("C1", "none")])


@pytest.fixture(scope="module")
def runs():
    """One seed of a small book under no offers, the desk and the desk rule."""
    keep: dict = {}
    results = evaluate_offer_policies(
        {"none": no_offers, "desk": "desk", "desk_rule": DeskRule()},
        n_accounts=1000,
        seeds=(3,),
        months=40,
        switch=26,
        keep=keep,
    )
    return results, keep


def test_policies_share_the_history_before_the_switch(runs):
    results, keep = runs
    assert set(OUTCOME_MEASURES) <= set(results)  # what the benchmarks compare is measured
    assert results["pre_switch_fingerprint"].nunique() == 1
    assert results["pre_switch_offers"].nunique() == 1 and results["pre_switch_offers"].iloc[0] > 0
    switch = results["switch_date"].iloc[0]
    none = keep[(3, "none")][0].offers
    assert (none["offered_at"] < switch).all()
    desk = keep[(3, "desk")][0].offers
    assert (desk["offered_at"] >= switch).any()
    made = results.set_index("policy")["offers_made"]
    assert made["none"] == 0 and made["desk"] > 0 and made["desk_rule"] > 0
    # the desk rule never randomises; the desk keeps its randomised share
    rule = keep[(3, "desk_rule")][0].offers
    assert not rule.loc[rule["offered_at"] >= switch, "randomized"].any()
    assert desk.loc[desk["offered_at"] >= switch, "randomized"].any()


def test_the_desk_policy_is_the_offers_scenario_as_it_was(runs):
    _, keep = runs
    plain, _ = simulate_portfolio(
        n_accounts=1000, months=40, seed=3, scenario="offers", operation=CollectionOperation()
    )
    desk = keep[(3, "desk")][0]
    for name, df in plain.tables().items():
        pd.testing.assert_frame_equal(getattr(desk, name), df, check_exact=True)


def test_the_comparison_is_paired_by_seed(runs):
    results, _ = runs
    two = pd.concat([results, results.assign(seed=4)])
    two.loc[(two["seed"] == 4) & (two["policy"] == "desk"), "discounted_collected"] += 100.0
    c = compare_policies(two, ("discounted_collected",), baseline="none").set_index("policy")
    base = results.set_index("policy")["discounted_collected"]
    assert c.loc["desk", "difference"] == pytest.approx(base["desk"] - base["none"] + 50.0)
    assert c.loc["desk", "ci_low"] < c.loc["desk", "difference"] < c.loc["desk", "ci_high"]


def test_a_policy_breaking_a_rule_stops_the_run():
    def greedy(c: pd.DataFrame) -> pd.DataFrame:
        return FixedDiscount(0.0)(c).assign(kind="settlement", discount_share=0.95)

    op = OfferPolicyOperation(greedy, switch=20)
    with pytest.raises(ConfigError, match="offer policy 'greedy' made .* discount_too_deep"):
        simulate_portfolio(n_accounts=600, months=30, seed=1, scenario="offers", operation=op)


class Spy(OfferPolicyOperation):
    """The oracle, keeping the candidates it saw (with the truth's values)."""

    seen: list

    def choose_offers(self, state, candidates):  # noqa: D102
        if self.wants_truth(state.month_index):
            self.seen = getattr(self, "seen", []) + [candidates]
        return super().choose_offers(state, candidates)


@pytest.mark.parametrize("scenario", ["offers", "offers_pay_anyway"])
def test_the_oracle_offers_only_what_pays(scenario):
    op = Spy("oracle", switch=20)
    portfolio, _ = simulate_portfolio(
        n_accounts=1000, months=32, seed=2, scenario=scenario, operation=op
    )
    seen = pd.concat(op.seen, ignore_index=True)
    seen = seen[seen["decision_date"] <= pd.Timestamp(portfolio.data_end)]  # observed months
    assert (seen["oracle_gain"] >= 0).all() and (seen["v_usual"] >= 0).all()
    offered = seen["oracle_kind"] != "none"
    assert ((seen["oracle_gain"] > 0) == offered).all()
    after = portfolio.offers[portfolio.offers["offered_at"] >= op.month_starts_[20]]
    assert len(after) == offered.sum()
    share = offered.mean()
    if scenario == "offers":  # old charged-off debt: a settlement beats collecting as usual
        assert share > 0.5
        deferrals = seen[seen["oracle_kind"] == "deferral"]
        assert len(deferrals) and deferrals["oracle_deferral_months"].isin((1, 2, 3, 6)).all()
        assert (deferrals["stage"] != "charged_off").all()
    else:  # borrowers who would pay anyway: offers rarely beat the usual work
        assert share < 0.1


def test_at_randomised_offers_by_hand():
    month = candidates().assign(decision_date=pd.Timestamp("2024-03-01"))
    policy = AtRandomisedOffers(FixedDiscount(0.3), randomized=["E1", "C1", "H1"], seed=4)
    got = policy(month).set_index("account_id")
    # outside the randomised share, and hardship deferrals: the desk's rule
    assert got.loc[["L1", "C2"], "discount_share"].tolist() == [0.2, 0.5]
    assert got.loc["H1", "kind"] == "deferral" and got.loc["H1", "deferral_months"] == 3
    # the first randomised offer: the policy's (no 30 % plan: no offer for E1)
    assert got.loc["C1", "kind"] == "settlement" and got.loc["C1", "discount_share"] == 0.3
    assert got.loc["E1", "kind"] == "none"
    assert not got["randomized"].any() and (got["assignment_probability"] == 1).all()
    assert policy.events_["account_id"].tolist() == ["E1", "C1"]
    # later: uniform among the allowed terms (C1, charged off 13 months: 0 to 50 % off;
    # E1, 900 owed at 100 a month: plans of 9, 12, 18 or 24 installments)
    grid, allowed = policy.allowed_terms(month)
    assert allowed.sum(axis=1).tolist() == [4, 4, 6, 7, 0]
    later = policy(month.assign(decision_date=pd.Timestamp("2024-06-01"))).set_index("account_id")
    assert later.loc["C1", "assignment_probability"] == pytest.approx(1 / 6)
    assert later.loc["E1", "assignment_probability"] == pytest.approx(1 / 4)
    assert later.loc["C1", "discount_share"] in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
    assert later.loc["E1", "installments"] in (9, 12, 18, 24)
    assert later.loc[["C1", "E1"], "randomized"].all() and len(policy.events_) == 2
    check_decisions(month, later.reset_index())  # the draws keep every rule
    # the draws are the seed's, per account and month; the logging run draws first ones too
    again = AtRandomisedOffers(None, randomized=["E1", "C1"], seed=4)
    again(month)
    redo = again(month.assign(decision_date=pd.Timestamp("2024-06-01"))).set_index("account_id")
    pd.testing.assert_frame_equal(redo, later)
    assert again.events_["assignment_probability"].tolist() == [0.25, pytest.approx(1 / 6)]
    # over many accounts the draws cover the allowed terms evenly
    many = pd.concat([month.iloc[[2]]] * 600, ignore_index=True)
    many["account_id"] = [f"C{i}" for i in range(600)]
    shares = AtRandomisedOffers(None, many["account_id"], seed=1)(many)
    shares = shares["discount_share"].value_counts(normalize=True)
    assert sorted(shares.index) == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert (shares - 1 / 6).abs().max() < 0.05


def test_at_randomised_offers_logs_its_draws_and_lets_a_policy_take_the_first_offers(runs):
    results, keep = runs
    desk = keep[(3, "desk")][0].offers
    randomized = desk.loc[desk["randomized"], "account_id"].unique()
    logging = AtRandomisedOffers(None, randomized, seed=3)
    none = AtRandomisedOffers(no_offers, randomized, seed=3)
    got = evaluate_offer_policies(
        {"logged": logging, "none": none},
        n_accounts=1000,
        seeds=(3,),
        months=40,
        switch=26,
        keep=keep,
    )
    # the history before the switch is the desk's, in both runs
    assert set(got["pre_switch_fingerprint"]) == set(results["pre_switch_fingerprint"])
    switch = got["switch_date"].iloc[0]
    logged = keep[(3, "logged")][0].offers
    after = logged[logged["offered_at"] >= switch]
    first = logging.events_.rename(columns={"decision_date": "offered_at"})
    assert len(first) > 5 and first["account_id"].isin(randomized).all()
    # the logging run's draws are in the offers table with their probability
    rows = first.merge(after, on=["account_id", "offered_at"], suffixes=("", "_table"))
    assert len(rows) == len(first) and rows["randomized"].all()
    assert rows["assignment_probability_table"].to_numpy() == pytest.approx(
        rows["assignment_probability"].to_numpy()
    )
    assert (rows["kind"] == rows["kind_table"]).all()
    assert ((after["assignment_probability"] < 1) == after["randomized"]).all()
    assert not after.loc[~after["account_id"].isin(randomized), "randomized"].any()
    # the policy's first offers: no offer where it decided none
    made = keep[(3, "none")][0].offers
    decided = none.events_.rename(columns={"decision_date": "offered_at"})
    assert (decided["kind"] == "none").all() and len(decided) > 5
    clash = decided.merge(made, on=["account_id", "offered_at"])
    assert clash.empty
