"""Compliance rules: one hand-built case per rule, plus a slow reference for the windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recovery.config import Config
from recovery.data.schema import DataNoteWarning
from recovery.operations.compliance import RULES, flag_actions, violations_by_agent


def _actions(rows):
    """rows: (action_id, account_id, 'YYYY-MM-DD HH:MM', channel, outcome)."""
    df = pd.DataFrame(rows, columns=["action_id", "account_id", "ts", "channel", "outcome"])
    return df.assign(ts=pd.to_datetime(df["ts"]), agent_id="G1")


def _flagged(flags, rule):
    return sorted(flags.loc[flags["rule"] == rule, "action_id"])


def test_outside_hours_boundaries():
    acts = _actions(
        [
            ("a1", "A", "2024-03-01 07:59", "call", "no_answer"),  # before 08:00
            ("a2", "A", "2024-03-01 08:00", "call", "no_answer"),  # allowed
            ("a3", "A", "2024-03-01 20:59", "sms", "delivered"),  # allowed
            ("a4", "A", "2024-03-01 21:00", "call", "no_answer"),  # 21:00 is outside
            ("a5", "A", "2024-03-01 23:00", "letter", "delivered"),  # letters are not contacts
        ]
    )
    assert _flagged(flag_actions(acts), "outside_hours") == ["a1", "a4"]


def test_attempts_per_day_flags_only_the_excess():
    # limit 3 a day: the 4th and 5th call of 1 March are flagged, 2 March starts afresh
    rows = [(f"a{i}", "A", f"2024-03-01 {9 + i}:00", "call", "no_answer") for i in range(5)]
    rows += [
        ("b1", "A", "2024-03-02 09:00", "call", "no_answer"),
        ("c1", "B", "2024-03-01 09:00", "call", "no_answer"),
    ]
    assert _flagged(flag_actions(_actions(rows)), "attempts_per_day") == ["a3", "a4"]


def test_attempts_per_week_rolling_window():
    cfg = Config.from_dict({"compliance": {"max_attempts_per_week": 3, "max_attempts_per_day": 5}})
    rows = [
        ("a1", "A", "2024-03-01 10:00", "call", "no_answer"),
        ("a2", "A", "2024-03-03 10:00", "call", "no_answer"),
        ("a3", "A", "2024-03-05 10:00", "call", "no_answer"),
        ("a4", "A", "2024-03-07 10:00", "call", "no_answer"),  # 4 in (Feb 29 10:00, Mar 7 10:00]
        (
            "a5",
            "A",
            "2024-03-08 10:00",
            "call",
            "no_answer",
        ),  # window (Mar 1 10:00, Mar 8]: a2..a5 = 4
        ("a6", "A", "2024-03-15 10:00", "call", "no_answer"),  # window (Mar 8, Mar 15]: a6 only
    ]
    assert _flagged(flag_actions(_actions(rows), cfg), "attempts_per_week") == ["a4", "a5"]


def test_third_party_excess():
    rows = [
        (f"t{i}", "A", f"2024-03-0{i + 1} 10:00", "call", "third_party_contact") for i in range(4)
    ]
    # limit 2 per rolling week: the 3rd and 4th are flagged
    assert _flagged(flag_actions(_actions(rows)), "third_party_excess") == ["t2", "t3"]


def test_contact_after_dispute_until_closed():
    acts = _actions(
        [
            ("a1", "A", "2024-03-01 10:00", "call", "dispute"),  # the dispute itself is fine
            ("a2", "A", "2024-03-02 10:00", "sms", "delivered"),  # after: flagged
            ("a3", "A", "2024-03-02 11:00", "letter", "delivered"),  # not a contact channel
            ("a4", "A", "2024-03-20 10:00", "call", "no_answer"),  # after closure: fine
        ]
    )
    events = pd.DataFrame(
        {"account_id": ["A"], "date": pd.to_datetime(["2024-03-15"]), "event": ["dispute_closed"]}
    )
    assert _flagged(flag_actions(acts, events=events), "contact_after_dispute") == ["a2"]


def test_contact_after_death_from_outcome_or_event():
    acts = _actions(
        [
            ("a1", "A", "2024-03-01 10:00", "call", "deceased_reported"),
            ("a2", "A", "2024-03-05 10:00", "call", "no_answer"),
            ("b1", "B", "2024-03-05 10:00", "visit", "no_answer"),
            ("b2", "B", "2024-03-01 10:00", "call", "no_answer"),
        ]
    )
    events = pd.DataFrame(
        {"account_id": ["B"], "date": pd.to_datetime(["2024-03-03"]), "event": ["deceased"]}
    )
    assert _flagged(flag_actions(acts, events=events), "contact_after_death") == ["a2", "b1"]


def test_legal_after_limitation_restarted_by_payment():
    schedule = pd.DataFrame(
        {"account_id": ["A", "B"], "due_date": pd.to_datetime(["2019-01-10", "2019-01-10"])}
    )
    # B paid something in 2021: the 3-year clock restarts on 2021-06-01
    payments = pd.DataFrame({"account_id": ["B"], "payment_date": pd.to_datetime(["2021-06-01"])})
    acts = _actions(
        [
            ("a1", "A", "2022-06-01 10:00", "lawsuit", "filed"),  # > 2019-01-10 + 3y: flagged
            ("b1", "B", "2022-06-01 10:00", "lawsuit", "filed"),  # < 2021-06-01 + 3y: fine
        ]
    )
    flags = flag_actions(acts, schedule=schedule, payments=payments)
    assert _flagged(flags, "legal_after_limitation") == ["a1"]
    # without a schedule the rule cannot be checked, and is not guessed
    assert _flagged(flag_actions(acts), "legal_after_limitation") == []


def test_contact_during_hardship_plan():
    events = pd.DataFrame(
        {
            "account_id": ["A", "A"],
            "date": pd.to_datetime(["2024-03-01", "2024-04-01"]),
            "event": ["hardship_plan", "hardship_plan_ended"],
        }
    )
    acts = _actions(
        [
            ("a1", "A", "2024-03-10 10:00", "call", "no_answer"),  # during the plan
            ("a2", "A", "2024-03-10 11:00", "sms", "delivered"),  # reminders are allowed
            ("a3", "A", "2024-04-02 10:00", "call", "no_answer"),  # after the plan
        ]
    )
    assert _flagged(flag_actions(acts, events=events), "contact_during_hardship") == ["a1"]


def test_clean_actions_have_no_flags_and_rules_are_named():
    acts = _actions([("a1", "A", "2024-03-01 10:00", "call", "right_party_contact")])
    assert flag_actions(acts).empty
    assert len(RULES) == len(set(RULES)) == 8


def _slow_weekly(acts, limit):
    """Reference: for each contact, count the same account's contacts in (ts-7d, ts]."""
    out = []
    contacts = acts[acts["channel"].isin(["sms", "call", "visit", "guarantor_contact"])]
    for _, row in contacts.iterrows():
        same = contacts[
            (contacts.account_id == row.account_id)
            & (contacts.ts > row.ts - pd.Timedelta(days=7))
            & (contacts.ts <= row.ts)
        ]
        if len(same) > limit:
            out.append(row.action_id)
    return sorted(out)


@pytest.mark.parametrize("seed", [0, 1])
def test_weekly_window_matches_slow_reference(seed):
    rng = np.random.default_rng(seed)
    n = 300
    ts = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 60 * 24 * 40, n), unit="min")
    acts = pd.DataFrame(
        {
            "action_id": [f"x{i:03d}" for i in range(n)],
            "account_id": rng.choice(["A", "B", "C", "D"], n),
            "agent_id": "G1",
            "ts": ts,
            "channel": rng.choice(["call", "sms", "letter"], n),
            "outcome": "no_answer",
        }
    )
    cfg = Config.from_dict({"compliance": {"max_attempts_per_week": 12}})
    assert _flagged(flag_actions(acts, cfg), "attempts_per_week") == _slow_weekly(acts, 12)


def test_violations_by_agent_counts_and_rates():
    acts = _actions(
        [
            ("a1", "A", "2024-03-01 22:00", "call", "no_answer"),
            ("a2", "A", "2024-03-02 10:00", "call", "no_answer"),
        ]
    )
    acts.loc[1, "agent_id"] = "G2"
    table = violations_by_agent(flag_actions(acts), acts)
    g1 = table.set_index("agent_id").loc["G1"]
    assert g1["outside_hours"] == 1 and g1["violations"] == 1 and g1["violation_rate"] == 1.0
    assert table.set_index("agent_id").loc["G2", "violations"] == 0


# ---------------------------------------------------------------- per person (issue 24)
# customer C has three overdue loans K1, K2, K3; customer D one loan L1
_PEOPLE = pd.DataFrame(
    {"account_id": ["K1", "K2", "K3", "L1"], "customer_id": ["C", "C", "C", "D"]}
)


def test_daily_limit_holds_per_person_across_three_accounts():
    rows = [
        ("k1", "K1", "2024-03-01 09:00", "call", "no_answer"),
        ("k2", "K2", "2024-03-01 10:00", "call", "no_answer"),
        ("k3", "K3", "2024-03-01 11:00", "call", "no_answer"),  # 3rd for C: the limit
        ("k4", "K1", "2024-03-01 12:00", "sms", "delivered"),  # 4th for C: flagged
        ("k5", "K2", "2024-03-02 09:00", "call", "no_answer"),  # a new day
        ("l1", "L1", "2024-03-01 12:30", "call", "no_answer"),  # D's own count: 1
    ]
    acts = _actions(rows)
    # a call on each of three accounts the same day counts 3 for the person
    assert _flagged(flag_actions(acts, accounts=_PEOPLE), "attempts_per_day") == ["k4"]
    # per account (no accounts table) no account reaches 3 that day
    assert _flagged(flag_actions(acts), "attempts_per_day") == []


def test_weekly_limit_and_third_parties_per_person():
    # 11 attempts on C's three accounts within 7 days (4 a day at most 3): the 11th breaks 10
    days = ["02", "02", "02", "03", "03", "03", "04", "04", "04", "05", "05"]
    rows = [
        (f"w{i:02d}", f"K{i % 3 + 1}", f"2024-03-{d} {9 + i % 3}:00", "call", "no_answer")
        for i, d in enumerate(days)
    ]
    flags = flag_actions(_actions(rows), accounts=_PEOPLE)
    assert _flagged(flags, "attempts_per_week") == ["w10"]
    assert _flagged(flag_actions(_actions(rows)), "attempts_per_week") == []
    # third-party contacts about C, one per account: the 3rd in a week breaks the limit of 2
    third = [
        ("t1", "K1", "2024-03-01 10:00", "call", "third_party_contact"),
        ("t2", "K2", "2024-03-02 10:00", "call", "third_party_contact"),
        ("t3", "K3", "2024-03-03 10:00", "visit", "third_party_contact"),
        ("t4", "L1", "2024-03-03 10:00", "call", "third_party_contact"),
    ]
    assert _flagged(flag_actions(_actions(third), accounts=_PEOPLE), "third_party_excess") == ["t3"]


def test_death_on_one_account_stops_contact_on_the_persons_others_only():
    rows = [
        ("k1", "K1", "2024-03-01 10:00", "call", "deceased_reported"),
        ("k2", "K2", "2024-03-05 10:00", "call", "no_answer"),  # same person: flagged
        ("k3", "K3", "2024-02-28 10:00", "call", "no_answer"),  # before the news: fine
        ("l1", "L1", "2024-03-05 10:00", "call", "no_answer"),  # another person: fine
    ]
    flags = flag_actions(_actions(rows), accounts=_PEOPLE)
    assert _flagged(flags, "contact_after_death") == ["k2"]


def test_dispute_stays_per_account():
    rows = [
        ("k1", "K1", "2024-03-01 10:00", "call", "dispute"),
        ("k2", "K1", "2024-03-02 10:00", "call", "no_answer"),  # the disputed debt: flagged
        ("k3", "K2", "2024-03-02 11:00", "call", "no_answer"),  # C's other debt: not disputed
    ]
    flags = flag_actions(_actions(rows), accounts=_PEOPLE)
    assert _flagged(flags, "contact_after_dispute") == ["k2"]


def test_missing_customer_id_falls_back_to_per_account_and_says_so():
    people = _PEOPLE.assign(customer_id=["C", None, "C", "D"])  # K2's customer unknown
    rows = [
        ("k1", "K1", "2024-03-01 09:00", "call", "no_answer"),
        ("k2", "K2", "2024-03-01 10:00", "call", "no_answer"),
        ("k3", "K3", "2024-03-01 11:00", "call", "no_answer"),
        ("k4", "K1", "2024-03-01 12:00", "call", "no_answer"),
    ]
    with pytest.warns(DataNoteWarning, match=r"1 account\(s\) without a customer id.*'K2'"):
        flags = flag_actions(_actions(rows), accounts=people)
    # C counts K1 and K3 only: k1, k3, k4 = 3, within the limit
    assert _flagged(flags, "attempts_per_day") == []
