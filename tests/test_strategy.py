"""Decision layer: every suppression rule by hand, one recommendation per account, capacity."""

from __future__ import annotations

import numpy as np
import pandas as pd

from conftest import three_loan_tables, tiny_tables
from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.operations.strategy import (
    SUPPRESSION_RULES,
    UpliftModel,
    build_worklists,
    estimate_uplift,
    recommend,
    suppressions,
)


def _portfolio(actions=None, events=None, payments=None):
    t = tiny_tables()
    cols = list(t["actions"].columns)
    if actions is not None:
        t["actions"] = (
            pd.DataFrame(actions, columns=["action_id", "account_id", "ts", "channel", "outcome"])
            .assign(agent_id="G1", ts=lambda d: pd.to_datetime(d["ts"]))
            .reindex(columns=cols)
        )
    if events is not None:
        t["events"] = pd.DataFrame(events, columns=["account_id", "date", "event"]).assign(
            date=lambda d: pd.to_datetime(d["date"])
        )
    if payments is not None:
        t["payments"] = payments
    return Portfolio(**t)


def _state(ids=("A1", "A2"), bucket="M2", p_pay=0.5, balance=1000.0):
    return pd.DataFrame(
        {
            "account_id": list(ids),
            "bucket": bucket,
            "status": "open",
            "p_pay": p_pay,
            "p_cure": 0.3,
            "balance": balance,
            "amount_given_payment": 300.0,
        }
    )


def test_open_dispute_blocks_everything_until_closed():
    p = _portfolio(actions=[("x1", "A1", "2024-03-12 10:00", "call", "dispute")])
    s = suppressions(p, "2024-03-20")
    assert s.loc["A1", "open_dispute"] and not s.loc["A2", "open_dispute"]
    rec = recommend(_state(), s).set_index("account_id")
    assert rec.loc["A1", "action"] == "none" and "open_dispute" in rec.loc["A1", "reason"]
    closed = _portfolio(
        actions=[("x1", "A1", "2024-03-12 10:00", "call", "dispute")],
        events=[("A1", "2024-03-15", "dispute_closed")],
    )
    assert not suppressions(closed, "2024-03-20").loc["A1", "open_dispute"]


def test_deceased_reported_blocks_everything():
    p = _portfolio(actions=[("x1", "A1", "2024-03-12 10:00", "call", "deceased_reported")])
    assert suppressions(p, "2024-03-13").loc["A1", "deceased_reported"]
    # not yet known the day before: point in time
    assert not suppressions(p, "2024-03-11").loc["A1", "deceased_reported"]


def test_active_hardship_plan():
    p = _portfolio(
        events=[("A2", "2024-03-20", "hardship_plan"), ("A2", "2024-04-10", "hardship_plan_ended")]
    )
    assert suppressions(p, "2024-03-25").loc["A2", "hardship_plan"]
    assert not suppressions(p, "2024-04-11").loc["A2", "hardship_plan"]


def test_limitation_expired_bars_legal_action_only():
    # A1's first due date 2024-02-10; no payment since 2024-02-10 -> expired after 2027-02-10
    t = tiny_tables()
    pays = t["payments"][t["payments"]["account_id"].eq("A2")]
    p = _portfolio(payments=pays, actions=[("x1", "A2", "2024-03-12 10:00", "sms", "delivered")])
    s = suppressions(p, "2027-03-01")
    assert (
        s.loc["A1", "limitation_expired"]
        and not suppressions(p, "2027-02-01").loc["A1", "limitation_expired"]
    )
    state = _state(ids=("A1",), bucket=None).assign(
        status="charged_off", p_pay=0.01, balance=9000.0
    )
    rec = recommend(state, s).iloc[0]
    assert rec["action"] == "letter" and "limitation" in rec["reason"]  # legal_notice -> letter


def test_daily_and_weekly_caps():
    cfg = Config.from_dict({"compliance": {"max_attempts_per_day": 2, "max_attempts_per_week": 3}})
    acts = [
        ("x1", "A1", "2024-03-20 09:00", "call", "no_answer"),
        ("x2", "A1", "2024-03-20 11:00", "call", "no_answer"),
        ("x3", "A2", "2024-03-15 09:00", "call", "no_answer"),
        ("x4", "A2", "2024-03-16 09:00", "sms", "delivered"),
        ("x5", "A2", "2024-03-18 09:00", "call", "no_answer"),
    ]
    s = suppressions(_portfolio(actions=acts), "2024-03-20", cfg)
    assert s.loc["A1", "daily_contact_cap"] and not s.loc["A2", "daily_contact_cap"]
    assert s.loc["A2", "weekly_contact_cap"] and not s.loc["A1", "weekly_contact_cap"]
    rec = recommend(_state(), s, cfg).set_index("account_id")
    assert (rec["action"] == "none").all()
    # a letter is not a contact attempt: caps do not stop it
    letter = recommend(_state(ids=("A1",), bucket="M3", p_pay=0.1, balance=100.0), s, cfg).iloc[0]
    assert letter["action"] == "letter"


def test_outside_contact_hours():
    p = _portfolio()
    assert suppressions(p, "2024-03-20", at="2024-03-20 21:30")["outside_contact_hours"].all()
    assert not suppressions(p, "2024-03-20", at="2024-03-20 10:00")["outside_contact_hours"].any()


def test_every_account_gets_exactly_one_recommendation_with_a_reason():
    rng = np.random.default_rng(0)
    n = 500
    state = pd.DataFrame(
        {
            "account_id": [f"A{i}" for i in range(n)],
            "bucket": rng.choice(["M1", "M2", "M3", "M4", "M5", "M6", None], n),
            "p_pay": rng.random(n),
            "p_cure": rng.random(n),
            "balance": rng.gamma(2, 3000, n),
            "has_guarantor": rng.random(n) < 0.3,
        }
    )
    state["status"] = np.where(state["bucket"].isna(), "charged_off", "open")
    rec = recommend(state)
    assert len(rec) == n and rec["account_id"].is_unique
    assert rec["reason"].notna().all() and (rec["action"] != "none").all()
    m1 = rec[rec["bucket"].eq("M1")]
    assert set(m1.loc[m1["p_pay"] >= 0.5, "action"]) == {"sms"}
    assert set(rec.loc[rec["status"].eq("charged_off"), "action"]) <= {
        "call",
        "legal_notice",
        "outsource",
    }


def test_worklists_respect_capacity_and_rank_by_value():
    rng = np.random.default_rng(1)
    rec = _state(ids=[f"A{i}" for i in range(50)], bucket="M1").assign(p_pay=rng.random(50))
    rec = recommend(rec)
    agents = pd.DataFrame({"agent_id": ["G1", "G2"], "team": ["early", "early"]})
    cfg = Config.from_dict({"strategy": {"contacts_per_agent_per_day": {"early": 10}}})
    wl = build_worklists(rec, agents, "2024-03-04", cfg)
    assert wl.groupby("agent_id").size().max() <= 10 and len(wl) == 20
    assert (wl.groupby("agent_id")["value"].apply(lambda v: v.is_monotonic_decreasing)).all()
    # the 20 chosen are the 20 most valuable
    value = rec["p_pay"] * rec["amount_given_payment"] - rec["action"].map(cfg.costs.per_action)
    assert set(wl["account_id"]) == set(rec.loc[value.nlargest(20).index, "account_id"])
    hours = wl["planned_at"].dt.hour
    assert hours.min() >= 8 and hours.max() < 21


def test_suppression_rule_names_are_complete():
    assert set(SUPPRESSION_RULES) == set(suppressions(_portfolio(), "2024-03-20").columns)


def test_uplift_by_segment_and_model():
    rng = np.random.default_rng(2)
    n = 6000
    d = pd.DataFrame({"bucket": rng.choice(["M1", "M2"], n), "treated": rng.random(n) < 0.5})
    true = np.where(d["bucket"].eq("M1"), 0.10, 0.0)
    d["paid"] = (rng.random(n) < 0.3 + true * d["treated"]).astype(int)
    u = estimate_uplift(d, segments=("bucket",)).set_index("bucket")
    assert u.loc["M1", "ci_low"] > 0 and u.loc["M2", "ci_low"] < 0 < u.loc["M2", "ci_high"]
    X = pd.get_dummies(d[["bucket"]]).astype(int)
    m = UpliftModel().fit(X, d["treated"], d["paid"])
    pred = pd.Series(m.predict(X)).groupby(d["bucket"]).mean()
    assert pred["M1"] > pred["M2"]
    assert m.summary.loc["treated", "rows"] + m.summary.loc["control", "rows"] == n


def test_weekly_cap_counts_the_rolling_week_before_the_contact_time():
    # 10 calls from 2024-03-13 15:00, every 13 hours (the last 2024-03-18 12:00). A call
    # on 2024-03-20 at 14:00 has all 10 in its window (03-13 14:00, 03-20 14:00], so it
    # would be the 11th: flag_actions flags it, the suppression must stop it; at 16:00
    # the 03-13 15:00 call has left the window (9 + 1 = 10 allowed).
    from recovery.operations.compliance import flag_actions

    ts = [pd.Timestamp("2024-03-13 15:00") + pd.Timedelta(hours=13 * k) for k in range(10)]
    acts = [(f"x{k}", "A1", str(t), "call", "no_answer") for k, t in enumerate(ts)]
    p = _portfolio(actions=acts)
    at = pd.Timestamp("2024-03-20 14:00")
    assert suppressions(p, "2024-03-20", at=at).loc["A1", "weekly_contact_cap"]
    assert not suppressions(p, "2024-03-20", at="2024-03-20 16:00").loc["A1", "weekly_contact_cap"]
    # without a time, any time that day is covered (counts from 03-13 00:00)
    assert suppressions(p, "2024-03-20").loc["A1", "weekly_contact_cap"]
    new = p.actions.iloc[[0]].assign(action_id="R", ts=at)
    flags = flag_actions(pd.concat([p.actions, new], ignore_index=True))
    assert "R" in set(flags.loc[flags["rule"].eq("attempts_per_week"), "action_id"])


def test_caps_and_death_count_per_person_across_three_accounts():
    # customer C9 holds K1, K2, K3 (three_loan_tables); A1 is C1's, A2 C2's
    t = three_loan_tables()
    cols = list(t["actions"].columns)
    rows = [
        ("k1", "K1", "2024-03-20 09:00", "call", "no_answer"),
        ("k2", "K2", "2024-03-20 10:00", "call", "no_answer"),
        ("k3", "K3", "2024-03-20 11:00", "sms", "delivered"),
        ("a1", "A1", "2024-03-20 11:00", "call", "no_answer"),
    ]
    t["actions"] = (
        pd.DataFrame(rows, columns=["action_id", "account_id", "ts", "channel", "outcome"])
        .assign(agent_id="G1", ts=lambda d: pd.to_datetime(d["ts"]))
        .reindex(columns=cols)
    )
    s = suppressions(Portfolio(**t), "2024-03-20")
    # one contact on each of C9's three accounts counts 3 for the person: the daily cap
    # (3) is reached on all three; A1's single call leaves A1 free
    assert s["daily_contact_cap"].to_dict() == {
        "A1": False,
        "A2": False,
        "K1": True,
        "K2": True,
        "K3": True,
    }
    # a death reported on K2 stops every account of C9, none of the others
    t["events"] = pd.concat(
        [
            t["events"],
            pd.DataFrame(
                {
                    "account_id": ["K2"],
                    "date": pd.to_datetime(["2024-03-18"]),
                    "event": ["deceased"],
                }
            ),
        ],
        ignore_index=True,
    )
    dead = suppressions(Portfolio(**t), "2024-03-20")["deceased_reported"]
    assert dead[dead].index.tolist() == ["K1", "K2", "K3"]


def test_a_customer_with_three_overdue_accounts_gets_one_worklist_entry():
    t = three_loan_tables()  # C9: K1, K2, K3; C1: A1; C2: A2
    p = Portfolio(**t)
    state = _state(ids=("A1", "K1", "K2", "K3")).assign(p_pay=[0.5, 0.2, 0.6, 0.4])
    # K2 disputed yesterday: held back, the other two still collected
    t["events"] = pd.DataFrame(
        {"account_id": ["K2"], "date": pd.to_datetime(["2024-03-19"]), "event": ["dispute_opened"]}
    )
    s = suppressions(Portfolio(**t), "2024-03-20")
    rec = recommend(state, s)
    agents = pd.DataFrame({"agent_id": ["G1", "G2"], "team": ["early", "early"]})
    wl = build_worklists(rec, agents, "2024-03-20", accounts=p.accounts).set_index("customer_id")
    assert sorted(wl.index) == ["C1", "C9"]  # one entry per person
    c9 = wl.loc["C9"]
    cost = Config().costs.per_action[c9["action"]]
    # K1 and K3 collected (0.2 and 0.4 of 300), K2 held back; one contact's cost
    assert c9["accounts"] == 3 and c9["account_ids"] == "K3;K1;K2"
    assert c9["account_id"] == "K3" and c9["held_back"] == "K2 (open_dispute)"
    assert np.isclose(c9["expected_collection"], 0.2 * 300 + 0.4 * 300)
    assert np.isclose(c9["value"], 180.0 - cost)
    # without the customers, three accounts are three entries (two collectable)
    per_account = build_worklists(rec, agents, "2024-03-20")
    assert sorted(per_account["account_id"]) == ["A1", "K1", "K3"]


def test_one_agent_per_customer_unless_config_says_otherwise():
    state = _state(ids=("K1", "K2", "K3")).assign(p_pay=[0.2, 0.6, 0.4])
    rec = recommend(state)
    accounts = pd.DataFrame({"account_id": ["K1", "K2", "K3"], "customer_id": "C9"})
    agents = pd.DataFrame({"agent_id": ["G1", "G2", "G3"], "team": "early"})
    owner = pd.Series({"K1": "G1", "K3": "G3"})  # K2 (the most valuable) has no agent
    wl = build_worklists(rec, agents, "2024-03-20", owner=owner, accounts=accounts)
    # one entry, given to the owner of the most valuable owned account (K3: G3)
    assert wl[["agent_id", "account_ids"]].values.tolist() == [["G3", "K2;K3;K1"]]
    split = Config.from_dict({"strategy": {"one_agent_per_customer": False}})
    wl = build_worklists(rec, agents, "2024-03-20", split, owner=owner, accounts=accounts)
    # each owned account stays with its agent; unowned K2 goes to an early agent in turn
    got = sorted(zip(wl["agent_id"], wl["account_ids"], strict=True))
    assert got == [("G1", "K1"), ("G1", "K2"), ("G3", "K3")]
    assert wl["customer_id"].eq("C9").all()
