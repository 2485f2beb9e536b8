"""Tests of recovery.timeline.features: hand-worked cases, a slow reference, leakage, catalogue.

Dates are in 2023 (not a leap year): Jan 31 + 28 days = Feb 28, + 31 = Mar 31, + 30 =
Apr 30, + 31 = May 31. Windows "last N days" include as_of: (as_of − N, as_of].
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.errors import DataError
from recovery.timeline.account_features import account_features
from recovery.timeline.catalogue import catalogue_markdown, feature_catalogue, feature_names
from recovery.timeline.contact_features import contact_features
from recovery.timeline.events import schedule_in_force
from recovery.timeline.features import build_features
from recovery.timeline.known_at import point_in_time
from recovery.timeline.payment_features import payment_features
from recovery.timeline.snapshot_features import snapshot_features

DOCS = Path(__file__).resolve().parents[1] / "docs" / "features.md"


# ----------------------------------------------------------------------------- builders
def accounts_table(ids, origination="2023-01-01", principal=300.0, **extra):
    n = len(ids)
    df = pd.DataFrame(
        {
            "account_id": ids,
            "customer_id": [f"C{i}" for i in ids],
            "product": "consumer_installment",
            "origination_date": pd.Timestamp(origination),
            "principal": principal,
            "term_months": 3,
            "interest_rate": 0.1,
        }
    )
    for k, v in extra.items():
        df[k] = v if np.ndim(v) else [v] * n
    return df


def schedule_table(ids, dues=("2023-01-31", "2023-02-28", "2023-03-31"), amount=100.0):
    rows = [
        {
            "account_id": a,
            "installment_no": i + 1,
            "due_date": pd.Timestamp(d),
            "amount_due": amount,
            "principal_due": amount,
            "schedule_version": 1,
            "effective_from": pd.NaT,
        }
        for a in ids
        for i, d in enumerate(dues)
    ]
    return pd.DataFrame(rows)


def payments_table(rows):
    """rows: (account, date, amount[, reversed_date])."""
    return pd.DataFrame(
        {
            "payment_id": [f"P{i}" for i in range(len(rows))],
            "account_id": [r[0] for r in rows],
            "payment_date": pd.to_datetime([r[1] for r in rows]),
            "amount": [float(r[2]) for r in rows],
            "channel": "bank_transfer",
            "reversed_date": pd.to_datetime([r[3] if len(r) > 3 else None for r in rows]),
        }
    )


def actions_table(rows):
    """rows: (account, ts, channel, outcome[, promise_amount, promise_date, reason, attitude])."""
    full = [tuple(r) + (None,) * (8 - len(r)) for r in rows]
    return pd.DataFrame(
        {
            "action_id": [f"X{i}" for i in range(len(full))],
            "account_id": [r[0] for r in full],
            "agent_id": "G1",
            "ts": pd.to_datetime([r[1] for r in full]),
            "channel": [r[2] for r in full],
            "outcome": [r[3] for r in full],
            "promise_amount": pd.array([r[4] for r in full], dtype="Float64").astype(float),
            "promise_date": pd.to_datetime([r[5] for r in full]),
            "reason_code": [r[6] for r in full],
            "attitude": [r[7] for r in full],
        }
    )


def pairs(*rows):
    return pd.DataFrame(
        {"account_id": [r[0] for r in rows], "as_of": pd.to_datetime([r[1] for r in rows])}
    )


def random_portfolio(n_accounts=24, seed=3) -> Portfolio:
    """A small messy book: late, partial, over- and pre-payments, reversals,
    restructures, charge-offs, contacts and promises (deterministic)."""
    rng = np.random.default_rng(seed)
    ids = [f"R{i:02d}" for i in range(n_accounts)]
    orig = pd.Timestamp("2022-01-15") + pd.to_timedelta(rng.integers(0, 120, n_accounts), "D")
    acc = accounts_table(ids, principal=1200.0)
    acc["origination_date"] = orig
    acc["term_months"] = 12
    acc["has_guarantor"] = rng.random(n_accounts) < 0.3
    acc["age_band"] = rng.choice(["18-30", "31-50", "51+"], n_accounts)
    sched, pays, acts, events = [], [], [], []
    channels = ["sms", "call", "letter", "visit", "guarantor_contact", "legal_notice"]
    outcomes = ["no_answer", "right_party_contact", "promise_to_pay", "refusal", "hardship"]
    for k, a in enumerate(ids):
        dues = pd.date_range(orig[k] + pd.DateOffset(months=1), periods=12, freq="MS") + (
            pd.Timedelta(days=int(rng.integers(0, 27)))
        )
        for i, d in enumerate(dues):
            sched.append((a, i + 1, d, 100.0, 1, pd.NaT))
        if k % 6 == 1:  # a restructure: version 2 from the 7th due date on, smaller
            eff = dues[6] - pd.Timedelta(days=3)
            for i, d in enumerate(
                pd.date_range(eff + pd.Timedelta(days=20), periods=10, freq="30D")
            ):
                sched.append((a, i + 1, d, 60.0, 2, eff))
            events.append((a, eff, "restructured"))
        habit = rng.random()
        for d in dues:
            r = rng.random()
            if r < habit:
                amount = float(rng.choice([100.0, 100.0, 50.0, 150.0]))
                day = d + pd.Timedelta(days=int(rng.integers(-5, 40)))
                rev = (
                    day + pd.Timedelta(days=int(rng.integers(1, 20)))
                    if rng.random() < 0.12
                    else None
                )
                pays.append((a, day, amount, rev))
        n_act = int(rng.integers(0, 14))
        for _ in range(n_act):
            ts = dues[0] + pd.Timedelta(hours=int(rng.integers(0, 24 * 400)))
            ch = str(rng.choice(channels))
            out = str(rng.choice(outcomes)) if ch in ("call", "visit") else "delivered"
            pa = pd_ = None
            if out == "promise_to_pay":
                pa = float(rng.choice([50.0, 100.0, 200.0]))
                pd_ = ts.normalize() + pd.Timedelta(days=int(rng.integers(0, 15)))
            reason = (
                str(rng.choice(["cash_flow", "illness", "unknown"])) if out != "no_answer" else None
            )
            att = str(rng.choice(["victim", "evasive", "unknown"])) if out != "no_answer" else None
            acts.append((a, ts, ch, out, pa, pd_, reason, att))
    schedule = pd.DataFrame(
        sched,
        columns=[
            "account_id",
            "installment_no",
            "due_date",
            "amount_due",
            "schedule_version",
            "effective_from",
        ],
    )
    return Portfolio(
        accounts=acc,
        schedule=schedule,
        payments=payments_table(pays),
        actions=actions_table(acts),
        events=pd.DataFrame(events, columns=["account_id", "date", "event"]),
        meta={"data_end": "2023-06-30"},
    )


# ----------------------------------------------------------------------------- catalogue
def test_catalogue_names_unique_and_units_known():
    cat = feature_catalogue()
    assert cat["name"].is_unique
    assert set(cat["group"]) == {"aging", "payment", "contact", "account", "customer"}
    known = {
        "days",
        "months",
        "currency",
        "count",
        "share",
        "ratio",
        "category",
        "flag",
        "stage",
        "score",
    }
    assert set(cat["unit"]) <= known
    assert cat["definition"].str.len().min() > 5


def test_docs_table_is_the_catalogue():
    text = DOCS.read_text(encoding="utf-8")
    block = re.search(r"<!-- catalogue:start -->\n(.*?)\n<!-- catalogue:end -->", text, re.S)
    assert block, "docs/features.md lacks the catalogue markers"
    assert block.group(1).strip() == catalogue_markdown().strip()


def test_matrix_columns_are_the_catalogue():
    pf = random_portfolio(12)
    X = build_features(pf, ["2023-03-31", "2023-05-31"])
    assert len(X) > 0
    assert list(X.columns) == ["account_id", "as_of", *feature_names()]
    assert "age_band" not in X  # protected, excluded by default
    Xp = build_features(pf, ["2023-03-31"], include_protected=True)
    assert Xp["age_band"].notna().all() and Xp["gender"].isna().all()  # no gender column
    snap = snapshot_features(_snapshots_of(pf), ["2023-05-31"])
    assert set(snap.columns[2:]) <= set(feature_names(mode="snapshots"))


# ----------------------------------------------------------------------------- payments
def test_payment_features_by_hand():
    pays = payments_table(
        [
            ("A", "2023-01-31", 100),  # 120 days before as_of 2023-05-31
            ("A", "2023-03-05", 40),  # 87 days before: partial (< 100 − 1)
            ("A", "2023-05-10", 60),  # 21 days before: partial
            ("A", "2023-05-20", 100, "2023-05-25"),  # reversed before as_of: ignored
            ("A", "2023-05-31", 30, "2023-06-10"),  # reversed after as_of: counts (partial)
            ("A", "2023-06-01", 500),  # after as_of: ignored
        ]
    )
    pf = Portfolio(schedule=schedule_table(["A"]), payments=pays)
    f = build_payment(pf, "A", "2023-05-31")
    assert f["days_since_last_payment"] == 0  # the 05-31 payment, not yet reversed
    assert f["paid_amount_30d"] == 60 + 30  # 05-10 and 05-31
    assert f["payment_count_30d"] == 2
    assert f["paid_amount_90d"] == 40 + 60 + 30  # 03-05 is 87 days back
    assert f["payment_count_90d"] == 3
    assert f["paid_amount_180d"] == 100 + 40 + 60 + 30
    assert f["partial_payment_share"] == pytest.approx(3 / 4)  # 40, 60, 30 of 4 payments
    # day of month 31, 5, 10, 31: mean 19.25, sample sd = sqrt((11.75² + 14.25² +
    # 9.25² + 11.75²) / 3) = sqrt((138.0625 + 203.0625 + 85.5625 + 138.0625) / 3)
    assert f["payment_day_std_days"] == pytest.approx(np.sqrt(564.75 / 3))


def build_payment(pf, account, as_of):
    return payment_features(pf, pairs((account, as_of))).iloc[0]


def test_payment_features_no_payments():
    pf = Portfolio(
        schedule=schedule_table(["A"]), payments=payments_table([("B", "2023-01-01", 5)])
    )
    f = build_payment(pf, "A", "2023-05-31")
    assert np.isnan(f["days_since_last_payment"]) and f["paid_amount_180d"] == 0
    assert np.isnan(f["partial_payment_share"]) and np.isnan(f["payment_day_std_days"])


def test_schedule_in_force_ignores_future_versions():
    s = schedule_table(["A"])
    v2 = pd.DataFrame(
        {
            "account_id": "A",
            "installment_no": [1, 2, 3, 4],
            "due_date": pd.to_datetime(["2023-03-31", "2023-04-30", "2023-05-31", "2023-06-30"]),
            "amount_due": 40.0,
            "schedule_version": 2,
            "effective_from": pd.Timestamp("2023-03-15"),
        }
    )
    s = pd.concat([s.drop(columns="effective_from"), v2], ignore_index=True)
    got = schedule_in_force(
        s, pd.Series(["A", "A", "A"]), pd.to_datetime(["2023-03-14", "2023-03-15", "2023-05-31"])
    )
    # 03-14: version 1, one installment (03-31) left of 100; 03-15: version 2, four left
    assert got["schedule_version"].tolist() == [1, 2, 2]
    assert got["installments_remaining"].tolist() == [1, 4, 1]
    assert got["installment_amount"].tolist() == [100, 40, 40]


# ----------------------------------------------------------------------------- contacts
def contact_book():
    acts = actions_table(
        [
            # account, ts, channel, outcome, promise amount, promise date, reason, attitude
            ("A", "2023-03-01 09:00", "sms", "delivered"),
            ("A", "2023-03-02 10:00", "call", "no_answer"),
            (
                "A",
                "2023-03-03 11:00",
                "call",
                "promise_to_pay",
                100,
                "2023-03-10",
                "cash_flow",
                "victim",
            ),  # kept: 60 + 40 by 03-12 (≤ 03-10 + 3 grace)
            (
                "A",
                "2023-04-01 11:00",
                "call",
                "promise_to_pay",
                200,
                "2023-04-05",
                "illness",
                "evasive",
            ),  # broken: only 50 paid by 04-08
            ("A", "2023-05-01 12:00", "letter", "delivered"),
            (
                "A",
                "2023-05-20 15:00",
                "visit",
                "right_party_contact",
                None,
                None,
                "unknown",
                "unknown",
            ),  # 'unknown' does not replace the last stated reason / attitude
            ("A", "2023-05-25 16:00", "guarantor_contact", "third_party_contact"),
            ("A", "2023-05-29 10:00", "call", "promise_to_pay", 80, "2023-06-02", None, None),
            # pending at 05-31: its date is after as_of
            ("A", "2023-05-31 23:59", "call", "refusal"),  # end of the as_of day: counts
            ("A", "2023-06-01 00:00", "lawsuit", "filed"),  # after as_of: ignored
        ]
    )
    pays = payments_table(
        [
            ("A", "2023-03-06", 60),
            ("A", "2023-03-12", 40),
            ("A", "2023-04-08", 50),
            ("A", "2023-06-02", 80),
        ]
    )
    return Portfolio(schedule=schedule_table(["A"]), payments=pays, actions=acts)


def test_contact_features_by_hand():
    f = contact_features(contact_book(), pairs(("A", "2023-05-31"))).iloc[0]
    # last 7 days (05-25 … 05-31): guarantor contact, promise call, refusal call
    assert f["attempts_7d"] == 3
    assert f["right_party_contacts_7d"] == 2  # promise and refusal
    assert f["attempts_call_7d"] == 2 and f["attempts_guarantor_contact_7d"] == 1
    # last 30 days (05-02 … 05-31): + visit on 05-20 (the letter on 05-01 is out)
    assert f["attempts_30d"] == 4 and f["attempts_letter_30d"] == 0
    assert f["right_party_contacts_visit_30d"] == 1
    # last 90 days (03-03 … 05-31): everything but the 03-01 sms and 03-02 call
    assert f["attempts_90d"] == 7
    assert f["right_party_contacts_90d"] == 5  # 03-03, 04-01, 05-20, 05-29, 05-31
    assert f["contact_rate_90d"] == pytest.approx(5 / 7)
    assert f["days_since_last_action"] == 0 and f["days_since_last_contact"] == 0
    assert f["last_outcome"] == "refusal"
    assert f["last_reason"] == "illness" and f["last_attitude"] == "evasive"
    assert f["escalation_stage"] == 2  # letter then visit; the lawsuit is after as_of
    assert f["guarantor_contacted"] and not f["outsourced"]
    assert f["promises_made"] == 3 and f["promises_made_90d"] == 3
    assert f["promises_kept"] == 1 and f["promises_broken"] == 1
    assert f["promises_pending"] == 1  # dated 06-02: pending, never broken
    assert f["promises_broken_90d"] == 1  # deadline 04-08 is within 90 days
    assert f["promise_keep_rate"] == pytest.approx(0.5)
    assert f["pending_promise_amount"] == 80
    assert f["days_since_last_promise"] == 2


def test_conversation_features_by_hand():
    f = contact_features(contact_book(), pairs(("A", "2023-05-31"))).iloc[0]
    # reasons recorded: 03-03 cash_flow, 04-01 illness, 05-20 unknown (all within the
    # 90 days (03-02, 05-31]); stated = not unknown = 2, of which 1 hardship (illness)
    assert f["hardship_reasons_90d"] == 1
    assert f["hardship_reason_share_90d"] == pytest.approx(1 / 2)
    assert f["days_since_hardship_reason"] == 60  # 04-01 -> 05-31
    assert f["hardship_claims_90d"] == 0
    assert f["reasons_stated"] == 2
    assert f["reason_cash_flow_share"] == pytest.approx(1 / 2)
    assert f["reason_unknown_share"] == pytest.approx(1 / 3)  # 1 of 3 recorded reasons
    # attitudes: victim (03-03), evasive (04-01); 'unknown' is not an attitude
    assert f["attitudes_recorded"] == 2
    assert f["attitude_victim_share"] == pytest.approx(0.5)
    assert f["attitude_evasive_share"] == pytest.approx(0.5)
    assert f["attitude_hostile_share"] == 0
    # before the first conversation: nothing recorded, shares empty
    g = contact_features(contact_book(), pairs(("A", "2023-03-02"))).iloc[0]
    assert g["reasons_stated"] == 0 and g["attitudes_recorded"] == 0
    assert np.isnan(g["reason_cash_flow_share"]) and np.isnan(g["attitude_victim_share"])
    assert np.isnan(g["days_since_hardship_reason"])


def test_promise_status_moves_with_as_of():
    pf = contact_book()
    q = pairs(("A", "2023-03-09"), ("A", "2023-03-12"), ("A", "2023-04-07"), ("A", "2023-04-08"))
    f = contact_features(pf, q)
    # 03-09: 60 of 100 paid, due 03-13 → pending; 03-12: 100 reached → kept
    assert f["promises_pending"].tolist()[:2] == [1, 0]
    assert f["promises_kept"].tolist() == [0, 1, 1, 1]
    # the 04-01 promise's deadline is 04-08 (04-05 + 3): pending on 04-07, broken on 04-08
    assert f["promises_broken"].tolist() == [0, 0, 0, 1]
    assert f["promises_pending"].tolist()[2:] == [1, 0]


def test_promise_grace_days_from_config():
    pf = contact_book()
    strict = Config.from_dict({"labels": {"promise_grace_days": 0}})
    f = contact_features(pf, pairs(("A", "2023-03-31")), strict).iloc[0]
    # with no grace the 40 paid on 03-12 is too late for the 03-10 promise
    assert f["promises_kept"] == 0 and f["promises_broken"] == 1


def test_promise_kept_then_reversal_after_as_of_is_unknown():
    pf = contact_book()
    pf.payments.loc[pf.payments["payment_date"] == "2023-03-12", "reversed_date"] = pd.Timestamp(
        "2023-04-15"
    )
    full = _full_portfolio(pf)
    X = build_features(full, pairs(("A", "2023-03-31"), ("A", "2023-04-30")), partition_size=None)
    # on 03-31 the reversal is not known: kept; on 04-30 it is: the promise is broken
    assert X["promises_kept"].tolist() == [1, 0]
    assert X["promises_broken"].tolist() == [0, 2]


def _full_portfolio(pf: Portfolio) -> Portfolio:
    pf = pf.copy()
    ids = sorted(pf.schedule["account_id"].unique())
    pf.accounts = accounts_table(ids)
    pf.meta["data_end"] = "2023-06-30"
    return pf


# ----------------------------------------------------------------------------- accounts
def test_account_features_protected_opt_in():
    acc = accounts_table(
        ["A", "B"],
        region=["n", "s"],
        age_band=["18-30", "51+"],
        gender=["f", "m"],
        bureau_score=[600.0, 700.0],
    )
    pf = Portfolio(accounts=acc)
    q = pairs(("B", "2023-03-31"), ("A", "2023-03-31"), ("Z", "2023-03-31"))
    f = account_features(pf, q)
    assert "gender" not in f and "age_band" not in f
    assert f["region"].tolist()[:2] == ["s", "n"] and f["region"].iloc[2] is None
    assert f["bureau_score"].tolist()[:2] == [700.0, 600.0]
    g = account_features(pf, q, include_protected=True)
    assert g["gender"].tolist()[:2] == ["m", "f"]


# ----------------------------------------------------------------------------- aging
def test_aging_features_by_hand():
    # 3 × 100 due 01-31, 02-28, 03-31; principal 300. Paid 01-31 in full, then nothing
    # until 03-20 (50), so on 04-30: oldest unpaid = the 02-28 installment (50 left).
    pays = payments_table([("A", "2023-01-31", 100), ("A", "2023-03-20", 50)])
    pf = Portfolio(
        accounts=accounts_table(["A"]),
        schedule=schedule_table(["A"]),
        payments=pays,
        meta={"data_end": "2023-06-30"},
    )
    f = build_features(pf, pairs(("A", "2023-04-30"))).iloc[0]
    assert f["dpd"] == 61  # 04-30 − 02-28 = 61 days
    assert f["bucket"] == "M3"
    assert f["amount_overdue"] == 150  # 300 fallen due − (100 + 50) paid
    assert f["status"] == "open"
    assert f["debt_age_days"] == 61
    assert f["months_on_book"] == 3  # 01-01 → 04-30: 3 whole months
    assert f["installments_remaining"] == 0
    # month ends: 04-30 M3 (61 DPD), 03-31 M2 (31), 02-28 M0 (due that day: 0 DPD),
    # 01-31 M0 (paid on its due date); the last 3 month ends are 04, 03, 02
    assert f["months_in_m3_3m"] == 1 and f["months_in_m2_3m"] == 1
    assert f["months_in_m0_3m"] == 1 and f["months_in_m0_6m"] == 2  # 01-31 too
    assert f["worst_dpd"] == 61
    assert f["paid_to_due_ratio"] == pytest.approx(150 / 300)
    assert f["months_since_first_delinquency"] == pytest.approx(61 / (365.25 / 12))
    assert f["past_cures"] == 0


def test_past_cures_count_only_payment_cures():
    # late on the first installment (cured 02-10), late on the second (cured 03-15)
    pays = payments_table([("A", "2023-02-10", 100), ("A", "2023-03-15", 100)])
    pf = Portfolio(
        accounts=accounts_table(["A"]),
        schedule=schedule_table(["A"]),
        payments=pays,
        meta={"data_end": "2023-06-30"},
    )
    f = build_features(pf, pairs(("A", "2023-03-14"), ("A", "2023-04-30")))
    assert f["past_cures"].tolist() == [1, 2]
    assert f["dpd"].tolist() == [14, 30]  # 03-14 − 02-28; 04-30 − 03-31


# ----------------------------------------------------------------------------- leakage
def _scramble_after(pf: Portfolio, day: pd.Timestamp, seed: int = 0) -> Portfolio:
    """Alter every row dated after ``day``: amounts, outcomes, reversals, new rows."""
    rng = np.random.default_rng(seed)
    out = pf.copy()
    p = out.payments
    late = p["payment_date"] > day
    p.loc[late, "amount"] = rng.uniform(1, 500, late.sum())
    rev_late = p["reversed_date"] > day
    p.loc[rev_late, "reversed_date"] = pd.NaT  # a later reversal is forgotten …
    fresh = p[(p["payment_date"] <= day) & p["reversed_date"].isna()].head(5).index
    p.loc[fresh, "reversed_date"] = day + pd.Timedelta(days=3)  # … or invented
    a = out.actions
    late = a["ts"] >= day + pd.Timedelta(days=1)
    a.loc[late, "outcome"] = "promise_to_pay"
    a.loc[late, "channel"] = "lawsuit"
    extra = a.head(6).copy()
    extra["action_id"] = [f"new{i}" for i in range(len(extra))]
    extra["ts"] = day + pd.Timedelta(hours=30)
    out.actions = pd.concat([a, extra], ignore_index=True)
    newpay = p.head(4).copy()
    newpay["payment_id"] = [f"NP{i}" for i in range(len(newpay))]
    newpay["payment_date"] = day + pd.Timedelta(days=1)
    out.payments = pd.concat([p, newpay], ignore_index=True)
    return out


@pytest.mark.parametrize("as_of", ["2022-11-30", "2023-02-28", "2023-04-17"])
def test_features_do_not_leak(as_of):
    pf = random_portfolio(16)
    day = pd.Timestamp(as_of)
    ids = sorted(pf.accounts["account_id"])
    q = pairs(*[(a, as_of) for a in ids])
    full = build_features(pf, q)
    cut = build_features(point_in_time(pf, day), q)
    scrambled = build_features(_scramble_after(pf, day), q)
    pd.testing.assert_frame_equal(full, cut)
    pd.testing.assert_frame_equal(full, scrambled)
    # and the data did move after as_of, so the test can fail
    later = build_features(pf, pairs(*[(a, day + pd.Timedelta(days=45)) for a in ids]))
    assert not later.drop(columns="as_of").equals(full.drop(columns="as_of"))


def test_partitions_do_not_change_results():
    pf = random_portfolio(10)
    dates = ["2023-01-31", "2023-03-31", "2023-05-31"]
    whole = build_features(pf, dates, partition_size=None)
    parts = build_features(pf, dates, partition_size=4)
    assert len(whole) > 10
    pd.testing.assert_frame_equal(whole, parts)


def test_dates_give_overdue_accounts_only():
    pf = random_portfolio()
    X = build_features(pf, ["2023-03-31"])
    assert ((X["dpd"] > 0) | (X["status"] == "charged_off")).all()
    assert (X["as_of"] == pd.Timestamp("2023-03-31")).all()


def test_bad_inputs():
    pf = random_portfolio(4)
    with pytest.raises(DataError, match="account_id and as_of"):
        build_features(pf, pd.DataFrame({"id": ["R00"]}))
    with pytest.raises(DataError, match="snapshot_features"):
        build_features(Portfolio(snapshots=pd.DataFrame()), ["2023-01-31"])
    with pytest.raises(DataError, match="as_of"):
        build_features(pf, ["not a date"])


# ----------------------------------------------------------------------------- reference
def reference_features(pf: Portfolio, account: str, as_of: str, config: Config) -> dict:
    """Slow, literal per-pair implementation of the payment and contact features."""
    day = pd.Timestamp(as_of)
    p = pf.payments[pf.payments["account_id"] == account]
    known = p[(p["payment_date"] <= day) & ~(p["reversed_date"] <= day)]
    out = {}
    out["days_since_last_payment"] = (
        (day - known["payment_date"].max()).days if len(known) else np.nan
    )
    for w in (30, 90, 180):
        inw = known[known["payment_date"] > day - pd.Timedelta(days=w)]
        out[f"paid_amount_{w}d"] = inw["amount"].sum()
        out[f"payment_count_{w}d"] = len(inw)
    a = pf.actions[
        (pf.actions["account_id"] == account) & (pf.actions["ts"] < day + pd.Timedelta(days=1))
    ]
    rpc = a["outcome"].isin(
        ["right_party_contact", "promise_to_pay", "refusal", "dispute", "hardship"]
    )
    for w in (7, 30, 90):
        inw = a["ts"].dt.normalize() > day - pd.Timedelta(days=w)
        out[f"attempts_{w}d"] = int(inw.sum())
        out[f"right_party_contacts_{w}d"] = int((inw & rpc).sum())
        out[f"attempts_call_{w}d"] = int((inw & (a["channel"] == "call")).sum())
    kept = broken = 0
    grace = pd.Timedelta(days=config.labels.promise_grace_days)
    for _, r in a[a["outcome"] == "promise_to_pay"].iterrows():
        start = r["ts"].normalize()
        deadline = max(r["promise_date"], start) + grace
        paid = known[
            (known["payment_date"] >= start) & (known["payment_date"] <= min(deadline, day))
        ]["amount"]
        # kept when the running total reaches the amount (less tolerance) by the deadline
        if paid.sum() >= r["promise_amount"] - config.aging.tolerance:
            kept += 1
        elif deadline <= day:
            broken += 1
    out["promises_kept"] = kept
    out["promises_broken"] = broken
    return out


def test_vectorized_agrees_with_reference():
    pf = random_portfolio(12, seed=11)
    cfg = Config()
    dates = ["2022-12-31", "2023-03-15", "2023-05-31"]
    ids = sorted(pf.accounts["account_id"])
    q = pairs(*[(a, d) for a in ids for d in dates])
    X = build_features(pf, q, cfg).set_index(["account_id", "as_of"])
    checked = 0
    for a in ids:
        for d in dates:
            ref = reference_features(pf, a, d, cfg)
            row = X.loc[(a, pd.Timestamp(d))]
            for k, v in ref.items():
                if isinstance(v, float) and np.isnan(v):
                    assert np.isnan(row[k]), (a, d, k)
                else:
                    assert row[k] == pytest.approx(v), (a, d, k, row[k], v)
                checked += 1
    assert checked > 300


# ----------------------------------------------------------------------------- snapshots
def _snapshots_of(pf: Portfolio) -> pd.DataFrame:
    from recovery.timeline.aging import snapshots

    return snapshots(pf, pd.date_range("2022-02-28", "2023-06-30", freq="ME"))


def test_snapshot_features_by_hand():
    me = pd.to_datetime(["2023-01-31", "2023-02-28", "2023-03-31", "2023-04-30", "2023-05-31"])
    snaps = pd.DataFrame(
        {
            "account_id": "A",
            "month_end": me,
            "dpd": [0, 10, 0, 30, 61],
            "bucket": ["M0", "M1", "M0", "M1", "M3"],
            "balance": [300.0, 300.0, 200.0, 200.0, 200.0],
            "amount_overdue": [0.0, 100.0, 0.0, 100.0, 200.0],
            "paid_in_month": [100.0, 0.0, 200.0, 0.0, 20.0],
            "status": "open",
        }
    )
    f = snapshot_features(snaps, ["2023-04-30", "2023-05-31"]).set_index("as_of")
    a, b = f.loc["2023-04-30"], f.loc["2023-05-31"]
    assert a["dpd"] == 30 and b["bucket"] == "M3"
    assert a["worst_dpd"] == 30 and b["worst_dpd"] == 61
    assert a["past_cures"] == 1 and b["past_cures"] == 1  # 02 (10) → 03 (0)
    assert a["months_since_first_delinquency"] == 2  # first at 02-28
    assert a["months_in_m1_3m"] == 2 and b["months_in_m1_3m"] == 1  # 02, 04 | 04
    assert a["months_since_last_payment"] == 1 and b["months_since_last_payment"] == 0
    assert a["paid_amount_3m"] == 200 and b["paid_amount_3m"] == 220
    assert b["months_with_payment_6m"] == 3
    assert a["months_on_book"] == 3  # first snapshot 01-31


def test_snapshot_features_do_not_leak():
    pf = random_portfolio()
    snaps = _snapshots_of(pf)
    as_of = pd.Timestamp("2023-02-28")
    full = snapshot_features(snaps, [as_of])
    cut = snapshot_features(snaps[snaps["month_end"] <= as_of], [as_of])
    assert len(full) > 0
    pd.testing.assert_frame_equal(full, cut)


def test_snapshot_features_agree_with_ledger_at_month_ends():
    pf = random_portfolio()
    dates = ["2023-03-31", "2023-05-31"]
    X = build_features(pf, dates)
    S = snapshot_features(_snapshots_of(pf), dates, accounts=pf.accounts)
    assert X[["account_id", "as_of"]].equals(S[["account_id", "as_of"]])
    for c in [
        "dpd",
        "balance",
        "amount_overdue",
        "months_on_book",
        "months_in_m1_6m",
        "months_in_m2_12m",
    ]:
        np.testing.assert_allclose(X[c].astype(float), S[c].astype(float), err_msg=c)


# ----------------------------------------------------------------------------- CLI
def test_cli_writes_features_and_labels(tmp_path):
    from click.testing import CliRunner

    from recovery.cli import cli
    from recovery.data.io import save_portfolio

    pf = random_portfolio(10)
    pf.meta["data_end"] = "2023-12-31"
    pf.agents = pd.DataFrame(
        {
            "agent_id": ["G1"],
            "team": ["t"],
            "level": [1],
            "hire_date": pd.to_datetime(["2020-01-01"]),
        }
    )
    save_portfolio(pf, tmp_path / "book")
    out = tmp_path / "x.parquet"
    runner = CliRunner()
    args = ["features", str(tmp_path / "book"), "--as-of", "2023-03-31,2023-04-30"]
    res = runner.invoke(cli, [*args, "--out", str(out), "--labels"])
    assert res.exit_code == 0, res.output
    got = pd.read_parquet(out)
    assert {"dpd", "promises_kept", "p_pay", "censored"} <= set(got.columns)
    assert got["as_of"].nunique() == 2 and len(got) > 0
    bad = runner.invoke(cli, [*args[:2], "--as-of", "2023-13-01", "--out", str(out)])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in str(bad.exception or bad.output)
    assert not (tmp_path / "y.csv").exists()


def test_write_features_streams_partitions(tmp_path):
    from recovery.timeline.features import write_features

    pf = random_portfolio(12)
    dates = ["2023-02-28", "2023-04-30"]
    expected = build_features(pf, dates)
    n = write_features(pf, dates, tmp_path / "f.parquet", partition_size=4)
    got = pd.read_parquet(tmp_path / "f.parquet")
    assert n == len(expected) == len(got)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_categorical=False)
    write_features(pf, dates, tmp_path / "f.csv", partition_size=7)
    csv = pd.read_csv(tmp_path / "f.csv")
    assert list(csv.columns) == list(expected.columns) and len(csv) == n
    np.testing.assert_allclose(csv["paid_amount_90d"], expected["paid_amount_90d"])
    with pytest.raises(DataError, match="parquet or .csv"):
        write_features(pf, dates, tmp_path / "f.xlsx")
    assert not (tmp_path / "f.xlsx").exists()


def test_write_features_parquet_is_the_matrix_and_a_failed_write_leaves_no_file(
    tmp_path, monkeypatch
):
    """Pieces are written in a background thread: the file is the matrix, dtypes included,
    and an error there (a full disk) reaches the caller and leaves no file behind."""
    import pyarrow.parquet as pq

    from recovery.timeline.features import write_features

    pf = random_portfolio(12)
    dates = ["2023-02-28", "2023-04-30"]
    expected = build_features(pf, dates)
    write_features(pf, dates, tmp_path / "f.parquet", partition_size=3)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "f.parquet"), expected)
    written = []

    def full_disk(self, table, *args, **kwargs):
        written.append(len(table))
        if len(written) == 2:
            raise OSError("No space left on device")

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full_disk)
    with pytest.raises(OSError, match="No space"):
        write_features(pf, dates, tmp_path / "g.parquet", partition_size=3)
    assert len(written) == 2 and sorted(p.name for p in tmp_path.iterdir()) == ["f.parquet"]


# ----------------------------------------------------------------------------- simulator
def test_features_on_the_simulated_sample_reconcile():
    from recovery.datasets import load_sample, load_sample_truth

    pf, truth = load_sample(), load_sample_truth()
    month_ends = pd.date_range("2024-10-31", "2025-09-30", freq="ME")
    X = build_features(pf, list(month_ends))
    assert len(X) > 500
    # the aging part agrees with the simulator's own month-end ledger
    am = truth.account_months.rename(columns={"month_end": "as_of"})
    m = X.merge(am, on=["account_id", "as_of"], suffixes=("", "_true"))
    assert len(m) == len(X)
    np.testing.assert_array_equal(m["dpd"], m["dpd_true"])
    np.testing.assert_allclose(m["balance"], m["balance_true"], atol=0.01)
    np.testing.assert_allclose(m["amount_overdue"], m["amount_overdue_true"], atol=0.01)
    # counts reconcile
    made = X["promises_kept"] + X["promises_broken"] + X["promises_pending"]
    np.testing.assert_array_equal(X["promises_made"], made)
    for w in (7, 30, 90):
        assert (X[f"right_party_contacts_{w}d"] <= X[f"attempts_{w}d"]).all()
        by_channel = sum(X[f"attempts_{c}_{w}d"] for c in Config().categories.action_channels)
        np.testing.assert_array_equal(by_channel, X[f"attempts_{w}d"])
    assert (X["attempts_7d"] <= X["attempts_30d"]).all()
    assert (X["attempts_30d"] <= X["attempts_90d"]).all()
    assert (X["paid_amount_30d"] <= X["paid_amount_90d"] + 1e-6).all()
    assert X["contact_rate_90d"].dropna().between(0, 1).all()
    assert X["share_principal_repaid"].dropna().between(-1e-6, 1 + 1e-6).all()
    assert ((X["dpd"] > 0) | (X["status"] == "charged_off")).all()
    assert X["promises_made"].sum() > 0 and X["escalation_stage"].max() >= 1


def test_cli_snapshots_only(tmp_path):
    from click.testing import CliRunner

    from recovery.cli import cli
    from recovery.data.io import save_portfolio

    pf = random_portfolio(8)
    snaps = _snapshots_of(pf)
    contract = [c for c in snaps.columns if c not in ("episode_start", "product")]
    only = Portfolio(
        accounts=pf.accounts, snapshots=snaps[contract], meta={"data_end": "2023-06-30"}
    )
    save_portfolio(only, tmp_path / "monthly", validate=False)
    out = tmp_path / "s.csv"
    res = CliRunner().invoke(
        cli,
        [
            "features",
            str(tmp_path / "monthly"),
            "--as-of",
            "2023-04-30",
            "--out",
            str(out),
            "--snapshots-only",
        ],
    )
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out)
    expected = snapshot_features(snaps, ["2023-04-30"], accounts=pf.accounts)
    assert len(got) == len(expected) > 0
    np.testing.assert_allclose(got["months_in_m1_6m"], expected["months_in_m1_6m"])


# ----------------------------------------------------------------- shared ledger (#21)
def test_features_unchanged_since_main(sample_book, simulated_20k):
    """Byte-identical to the matrices main's code computed (digests in conftest)."""
    from conftest import assert_unchanged_since_main

    assert_unchanged_since_main("features", build_features, sample_book, simulated_20k)


def test_features_do_not_depend_on_the_partitions(simulated_20k):
    """The ledger is built once per partition: any partition size gives the same rows."""
    pf, dates, _ = simulated_20k
    whole = build_features(pf, dates[-3:], partition_size=None)
    assert len(whole) > 5_000
    pd.testing.assert_frame_equal(build_features(pf, dates[-3:], partition_size=6_000), whole)


def test_labels_beside_the_features_are_those_of_build_labels(simulated_20k, tmp_path):
    """iter_features(with_labels) and write_features(with_labels) label on the partition's
    own ledger: the same labels as build_labels, the same file as the pieces."""
    from recovery.timeline.features import iter_features, write_features
    from recovery.timeline.labels import LABEL_COLUMNS, build_labels

    pf, dates, _ = simulated_20k
    pieces = pd.concat(list(iter_features(pf, dates[-4:], with_labels=True)), ignore_index=True)
    labels = build_labels(pf, pieces[["account_id", "as_of"]])
    pd.testing.assert_frame_equal(
        pieces[["account_id", "as_of", *LABEL_COLUMNS]].reset_index(drop=True), labels
    )
    assert pieces["p_pay"].notna().sum() > 1_000
    path = tmp_path / "features.parquet"
    assert write_features(pf, dates[-4:], path, with_labels=True) == len(pieces)
    written = pd.read_parquet(path)
    pd.testing.assert_frame_equal(written[list(labels.columns)], labels, check_dtype=False)


# ----------------------------------------------------------------------------- customer
CUSTOMER_LEVEL = Config.from_dict({"features": {"customer_level": True}})


def _customers_of(pf: Portfolio) -> Portfolio:
    """The random book with its accounts grouped three by three into customers."""
    out = pf.copy()
    ids = out.accounts["account_id"].astype(str)
    out.accounts["customer_id"] = "C" + (ids.str[1:].astype(int) // 3).astype(str)
    return out


@pytest.mark.parametrize("as_of", ["2022-11-30", "2023-02-28", "2023-04-17"])
def test_customer_features_do_not_leak(as_of):
    pf = _customers_of(random_portfolio(18))
    day = pd.Timestamp(as_of)
    ids = sorted(pf.accounts["account_id"])
    q = pairs(*[(a, as_of) for a in ids])
    full = build_features(pf, q, CUSTOMER_LEVEL)
    assert {"customer_accounts", "customer_other_paid_90d"} <= set(full.columns)
    cut = build_features(point_in_time(pf, day), q, CUSTOMER_LEVEL)
    scrambled = build_features(_customers_of(_scramble_after(pf, day)), q, CUSTOMER_LEVEL)
    pd.testing.assert_frame_equal(full, cut)
    pd.testing.assert_frame_equal(full, scrambled)
    # the other accounts' payments did move after as_of, so the test can fail
    later = build_features(
        pf, pairs(*[(a, day + pd.Timedelta(days=45)) for a in ids]), CUSTOMER_LEVEL
    )
    cols = [c for c in full.columns if c.startswith("customer_other_paid")]
    assert not later[cols].equals(full[cols])


def test_customer_features_do_not_depend_on_partitions():
    pf = _customers_of(random_portfolio(10))
    dates = ["2023-01-31", "2023-03-31"]
    whole = build_features(pf, dates, CUSTOMER_LEVEL, partition_size=None)
    parts = build_features(pf, dates, CUSTOMER_LEVEL, partition_size=2)  # customers split
    assert list(whole.columns) == ["account_id", "as_of", *feature_names(CUSTOMER_LEVEL)]
    pd.testing.assert_frame_equal(whole, parts)
    assert (whole["customer_accounts"] >= 1).all() and whole["customer_accounts"].max() > 1
