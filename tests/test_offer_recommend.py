"""Tests of offer recommendations: rules kept, 'no offer' always a candidate, reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.operations.offer_recommend import (
    account_offer_state,
    candidate_offers,
    offer_policy,
    recommend_offers,
)
from recovery.operations.offer_response import OfferResponseModel
from recovery.operations.offer_rules import offer_breaches
from recovery.operations.offer_value import UsualCollections

STAGES = np.array(["early", "late", "charged_off"])


def history(n=3000, seed=0):
    """Random settlements and plans to delinquent accounts, with their answers."""
    rng = np.random.default_rng(seed)
    plan = rng.uniform(size=n) < 0.4
    d = np.where(plan, 0.0, rng.choice([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6], n))
    k = np.where(plan, rng.choice([3, 6, 9, 12, 18, 24], n), 1)
    age = rng.uniform(30, 1200, n)
    p = np.where(plan, expit(-1 + 0.08 * k), expit(-2 + 5 * d - age / 365))
    acc = rng.uniform(size=n) < p
    return pd.DataFrame(
        {
            "kind": np.where(plan, "payment_plan", "settlement"),
            "discount_share": d,
            "installments": k,
            "stage": rng.choice(STAGES, n),
            "debt_age_days": age,
            "balance": 1000.0,
            "installment_amount": 100.0,
            "payments_before": 5,
            "randomized": True,
            "assignment_probability": 1 / 7,
            "outcome": np.where(acc, "accepted", "declined"),
            "result": np.where(
                acc, np.where(rng.uniform(size=n) < 0.6, "completed", "broken"), None
            ),
        }
    )


def usual():
    me = pd.date_range("2023-01-31", periods=30, freq="ME")
    rng = np.random.default_rng(2)
    frames = []
    for i, (status, dpd) in enumerate(
        [("open", 45), ("open", 100), ("charged_off", 400), ("open", 0)] * 20
    ):
        frames.append(
            pd.DataFrame(
                {
                    "account_id": f"A{i}",
                    "month_end": me,
                    "dpd": dpd,
                    "status": status,
                    "balance": 1000.0,
                    "paid_in_month": rng.choice([0.0, 30.0], 30),
                }
            )
        )
    return UsualCollections(min_rows=10).fit(pd.concat(frames))


@pytest.fixture(scope="module")
def fitted():
    return OfferResponseModel(min_rows=50, random_state=0).fit(history()), usual()


def accounts(n=400, seed=1):
    """Accounts in every state the rules read, some blocked outright."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "account_id": [f"C{i}" for i in range(n)],
            "stage": rng.choice(STAGES, n),
            "debt_age_days": rng.uniform(30, 1500, n),
            "balance": rng.uniform(200, 5000, n),
            "installment_amount": rng.uniform(50, 400, n),
            "payments_before": rng.integers(0, 6, n),
            "reages_12_months": rng.integers(0, 2, n),
            "reages_5_years": rng.integers(0, 3, n),
            "fraud": rng.uniform(size=n) < 0.05,
            "deceased": rng.uniform(size=n) < 0.05,
            "in_dispute": rng.uniform(size=n) < 0.05,
            "open_offer": rng.uniform(size=n) < 0.05,
        }
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_recommendation_breaks_a_rule(fitted, seed):
    model, u = fitted
    acc = accounts(seed=seed)
    config = Config.from_dict({"offers": {"max_installment_ratio": 2.0}})
    rec = recommend_offers(acc, model, u, config)
    assert len(rec) == len(acc) and rec["account_id"].tolist() == acc["account_id"].tolist()
    made = rec[rec["offer"] != "none"]
    assert len(made) > 20
    state = acc.set_index("account_id").loc[made["account_id"]].reset_index()
    terms = made.rename(columns={"offer": "kind"})[
        ["kind", "discount_share", "installments", "deferral_months"]
    ].reset_index(drop=True)
    breaches = offer_breaches(pd.concat([state, terms], axis=1), config)
    assert not breaches.to_numpy().any()
    # 'no offer' is always a candidate: an offer is made only when worth more than it
    assert (made["value"] > 0).all() and (rec.loc[rec["offer"] == "none", "value"] == 0).all()
    assert (made["value"] >= made["runner_up_value"]).all()
    blocked = acc["fraud"] | acc["deceased"] | acc["in_dispute"] | acc["open_offer"]
    assert (rec.loc[blocked.to_numpy(), "offer"] == "none").all()


def test_reasons_in_plain_words(fitted):
    model, u = fitted
    acc = accounts(6).assign(fraud=False, deceased=False, in_dispute=False, open_offer=False)
    acc.loc[0, "in_dispute"] = True
    acc.loc[1, ["stage", "payments_before"]] = ["early", 0]
    rec = recommend_offers(acc, model, u)
    assert rec["reasons"].iloc[0] == "no offer allowed: debt in dispute"
    for text in rec["reasons"]:
        assert "_" not in text and text
    made = rec[rec["offer"] != "none"]
    assert made["reasons"].str.contains("more than collecting as usual").all()
    # a stage the offer history never saw: nothing to value the offers with
    unseen = recommend_offers(acc.head(1).assign(stage="current", in_dispute=False), model, u)
    assert unseen["reasons"].iloc[0].startswith("no evidence in the offer history")


def test_min_offer_value_and_grids(fitted):
    model, u = fitted
    acc = accounts(50, seed=4)
    strict = Config.from_dict({"offers": {"min_offer_value": 1e12}})
    rec = recommend_offers(acc, model, u, strict)
    assert (rec["offer"] == "none").all()
    worth = rec["runner_up_value"] > 0  # the best offer, not made
    assert worth.any()
    assert rec.loc[worth, "reasons"].str.startswith("no offer is worth enough more").all()
    grid = candidate_offers(acc.head(2))
    assert len(grid) == 2 * (7 + 6)  # no deferrals by default


def test_policy_adapter_interface(fitted):
    model, u = fitted
    acc = accounts(30, seed=5).assign(decision_date=pd.Timestamp("2024-01-01"), dpd=40.0)
    out = offer_policy(model, u)(acc)
    assert list(out.columns) == [
        "account_id",
        "kind",
        "discount_share",
        "installments",
        "deferral_months",
    ]
    assert set(out["kind"]) <= {"none", "payment_plan", "settlement", "deferral"}
    assert len(out) == 30


def test_account_offer_state_from_a_ledger():
    sched = pd.DataFrame(
        {
            "account_id": ["A"] * 3 + ["B"] * 3,
            "installment_no": [1, 2, 3] * 2,
            "due_date": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31"] * 2),
            "amount_due": 100.0,
        }
    )
    pays = pd.DataFrame(
        {
            "account_id": ["A", "B", "B", "B"],
            "payment_date": pd.to_datetime(
                ["2024-01-31", "2024-01-31", "2024-02-29", "2024-03-31"]
            ),
            "amount": 100.0,
            "channel": "cash",
        }
    )
    offers = pd.DataFrame(
        {
            "offer_id": ["O1"],
            "account_id": ["A"],
            "offered_at": pd.to_datetime(["2024-04-02"]),
            "kind": ["settlement"],
            "discount_share": [0.2],
            "installments": [1],
            "outcome": [None],
        }
    )
    state = account_offer_state(
        Portfolio(schedule=sched, payments=pays, offers=offers), "2024-04-10"
    )
    # B paid everything (closed/current): not a candidate; A is overdue since Feb 29
    assert state["account_id"].tolist() == ["A"]
    row = state.iloc[0]
    assert row["stage"] == "early" and row["payments_before"] == 1
    assert row["debt_age_days"] == (pd.Timestamp("2024-04-09") - pd.Timestamp("2024-02-29")).days
    assert bool(row["open_offer"])  # O1 never answered


def test_account_offer_state_reads_the_payments_of_the_month_before():
    sched = pd.DataFrame(
        {
            "account_id": ["A"] * 3,
            "installment_no": [1, 2, 3],
            "due_date": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31"]),
            "amount_due": 100.0,
        }
    )
    pays = pd.DataFrame(
        {
            "account_id": "A",
            "payment_date": pd.to_datetime(
                ["2024-01-31", "2024-03-05", "2024-03-20", "2024-03-25", "2024-04-05"]
            ),
            "amount": [100.0, 11.0, 40.0, 30.0, 25.0],
            "channel": "cash",
            "reversed_date": pd.to_datetime([None, None, None, "2024-04-01", None]),
        }
    )
    state = account_offer_state(Portfolio(schedule=sched, payments=pays), "2024-04-10")
    # the month before 10 April: 10 March to 9 April; 5 March is before it, the 30 of
    # 25 March was reversed on 1 April: 40 + 25
    assert state["paid_last_month"].tolist() == [65.0]


def test_the_recommendation_runs_in_the_simulators_re_simulation():
    """The policy callable meets the simulator's interface and rules: the harness
    refuses (ConfigError) any offer breaking a guardrail, so a run that completes and
    makes offers shows none did."""
    from recovery.operations.offer_book import fit_offer_model, fit_usual, offer_history
    from recovery.simulate.offer_policies import evaluate_offer_policies, no_offers

    keep: dict = {}
    common = {"n_accounts": 800, "seeds": (4,), "months": 48}  # switch: 24 months before the end
    base = evaluate_offer_policies({"none": no_offers}, keep=keep, **common)
    book, _ = keep[(4, "none")]
    switch = pd.Timestamp(base["switch_date"].iloc[0])
    model = fit_offer_model(offer_history(book, switch), min_rows=50)
    policy = offer_policy(model, fit_usual(book, switch))
    run = evaluate_offer_policies({"recommended": policy}, **common)
    assert run["offers_made"].iloc[0] > 0
    assert run["pre_switch_fingerprint"].iloc[0] == base["pre_switch_fingerprint"].iloc[0]


def test_attach_offers_to_a_work_list_of_one_entry_per_customer():
    """A customer's entry names the offer of each of its accounts and sums their values."""
    from recovery.operations.offer_recommend import attach_offers

    worklist = pd.DataFrame(
        {"customer_id": ["X", "Y"], "account_id": ["A", "C"], "account_ids": ["A;B", "C"]}
    )
    rec = pd.DataFrame(
        {
            "account_id": ["A", "B", "C"],
            "offer": ["payment_plan", "settlement", "none"],
            "discount_share": [0.0, 0.3, 0.0],
            "installments": [6, 0, 0],
            "deferral_months": [0, 0, 0],
            "value": [120.0, 80.0, 0.0],
            "reasons": ["plan pays", "settlement pays", "no offer"],
        }
    )
    got = attach_offers(worklist, rec)
    assert got["offer_value"].tolist() == [200.0, 0.0]
    assert got.loc[0, "offer"].startswith("A: 6-month payment plan; B: ")
    assert got.loc[0, "offer_reasons"] == "plan pays | settlement pays"
    assert got.loc[1, ["offer", "offer_reasons"]].tolist() == ["", ""]
