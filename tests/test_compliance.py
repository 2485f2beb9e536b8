"""Compliance rules: one hand-built case per rule, plus a slow reference for the windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recovery.config import Config
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
