"""Tests of recovery.aging: hand-worked cases, a slow day-by-day reference, leakage.

Dates are in 2023 (not a leap year) so the day arithmetic in the comments is easy to
check: Jan 31 + 28 days = Feb 28, + 31 = Mar 31, + 30 = Apr 30, + 31 = May 31, ...
"""

from __future__ import annotations

import pandas as pd
import pytest

from recovery.aging import account_states
from recovery.config import Config
from recovery.errors import DataError
from recovery.portfolio import Portfolio

DUES = ["2023-01-31", "2023-02-28", "2023-03-31"]


def book(
    installments=None,
    payments=(),
    events=(),
    principal=None,
    principal_due=None,
    origination="2023-01-01",
    account="A",
) -> Portfolio:
    """One account: installments [(due, amount[, version, effective_from])]."""
    installments = installments or [(d, 100.0) for d in DUES]
    rows = []
    counter: dict[int, int] = {}
    for item in installments:
        due, amount = item[0], item[1]
        version = item[2] if len(item) > 2 else 1
        eff = item[3] if len(item) > 3 else None
        counter[version] = counter.get(version, 0) + 1
        rows.append(
            {
                "account_id": account,
                "installment_no": counter[version],
                "due_date": pd.Timestamp(due),
                "amount_due": float(amount),
                "schedule_version": version,
                "effective_from": pd.Timestamp(eff) if eff else pd.NaT,
            }
        )
    schedule = pd.DataFrame(rows)
    if principal_due is not None:
        schedule["principal_due"] = principal_due
    pay = pd.DataFrame(
        {
            "account_id": account,
            "payment_id": [f"P{i}" for i in range(len(payments))],
            "payment_date": pd.to_datetime([p[0] for p in payments]),
            "amount": [float(p[1]) for p in payments],
            "channel": "bank_transfer",
            "reversed_date": pd.to_datetime([p[2] if len(p) > 2 else None for p in payments]),
        }
    )
    ev = pd.DataFrame(
        {
            "account_id": account,
            "date": pd.to_datetime([e[0] for e in events]),
            "event": [e[1] for e in events],
        }
    )
    total = schedule.loc[schedule["schedule_version"] == 1, "amount_due"].sum()
    accounts = pd.DataFrame(
        {
            "account_id": [account],
            "origination_date": [pd.Timestamp(origination)],
            "principal": [float(principal if principal is not None else total)],
        }
    )
    return Portfolio(accounts=accounts, schedule=schedule, payments=pay, events=ev)


def state(portfolio: Portfolio, day: str, config: Config | None = None) -> pd.Series:
    out = account_states(portfolio, day, config)
    assert len(out) == 1
    return out.iloc[0]


def cfg(**aging) -> Config:
    return Config.from_dict({"aging": aging})


# ----------------------------------------------------------------- hand-worked cases


def test_on_time_payments_stay_current():
    p = book(payments=[("2023-01-31", 100), ("2023-02-28", 100)])
    s = state(p, "2023-03-10")
    # both due installments paid on their due dates: nothing overdue
    assert (s.dpd, s.bucket, s.status, s.amount_overdue) == (0, "M0", "open", 0.0)
    # principal defaults to the total due (300); 200 repaid -> 100 outstanding
    assert s.balance == pytest.approx(100.0)
    assert s.paid_to_date == 200.0 and s.amount_due_to_date == 200.0
    assert pd.isna(s.debt_age_days) and pd.isna(s.episode_start)


def test_due_day_itself_is_not_overdue():
    p = book()
    # due on Jan 31: DPD 0 on Jan 31, 1 on Feb 1
    assert state(p, "2023-01-31").dpd == 0
    assert state(p, "2023-02-01").dpd == 1


def test_late_payment_then_cure():
    p = book(payments=[("2023-01-31", 100), ("2023-03-15", 100)])
    # Feb 28 missed: Mar 10 - Feb 28 = 10 days
    s = state(p, "2023-03-10")
    assert (s.dpd, s.bucket, s.amount_overdue) == (10, "M1", 100.0)
    assert s.episode_start == pd.Timestamp("2023-02-28") and s.debt_age_days == 10
    # paid on Mar 15: current again, episode over
    s = state(p, "2023-03-15")
    assert (s.dpd, s.amount_overdue) == (0, 0.0) and pd.isna(s.debt_age_days)
    # worst DPD so far: 15 on Mar 14 (Mar 14 - Feb 28)
    assert s.worst_dpd_to_date == 14


def test_partial_payment_keeps_oldest_installment_unpaid():
    p = book(payments=[("2023-01-31", 100), ("2023-03-05", 50)])
    s = state(p, "2023-03-20")
    # installment 2 (Feb 28) still 50 short: Mar 20 - Feb 28 = 20 days
    assert (s.dpd, s.amount_overdue) == (20, 50.0)


def test_catch_up_payment_cures():
    p = book(payments=[("2023-03-05", 200)])
    before = state(p, "2023-03-04")
    # Jan 31 and Feb 28 missed: Mar 4 - Jan 31 = 32 days, 200 overdue
    assert (before.dpd, before.bucket, before.amount_overdue) == (32, "M2", 200.0)
    after = state(p, "2023-03-05")
    assert (after.dpd, after.amount_overdue) == (0, 0.0)
    assert after.worst_dpd_to_date == 32


def test_overpayment_carries_forward():
    p = book(payments=[("2023-01-31", 150)])
    # 150 covers installment 1 and half of installment 2
    assert state(p, "2023-02-28").dpd == 0
    s = state(p, "2023-03-05")
    # installment 2 is 50 short since Feb 28: Mar 5 - Feb 28 = 5 days
    assert (s.dpd, s.amount_overdue) == (5, 50.0)


def test_prepayment_covers_later_installments():
    p = book(payments=[("2023-01-20", 200)])
    # installments 1 and 2 prepaid; installment 3 (Mar 31) unpaid
    assert state(p, "2023-03-31").dpd == 0
    s = state(p, "2023-04-10")
    # Apr 10 - Mar 31 = 10 days
    assert (s.dpd, s.amount_overdue, s.balance) == (10, 100.0, 100.0)


def test_reversed_payment_counts_only_before_reversal_date():
    p = book(payments=[("2023-01-31", 100, "2023-02-10")])
    s = state(p, "2023-02-09")
    assert (s.dpd, s.paid_to_date) == (0, 100.0)
    s = state(p, "2023-02-10")
    # returned on Feb 10: installment 1 unpaid since Jan 31 -> 10 days
    assert (s.dpd, s.paid_to_date, s.amount_overdue) == (10, 0.0, 100.0)
    # the episode starts at the missed due date
    assert s.episode_start == pd.Timestamp("2023-01-31")


def test_small_balance_tolerance():
    p = book(payments=[("2023-01-31", 99.5)])
    # 0.50 short < tolerance 1.00: counts as paid
    assert state(p, "2023-02-10", cfg(tolerance=1.0)).dpd == 0
    # no tolerance: 10 days past due (Feb 10 - Jan 31)
    assert state(p, "2023-02-10", cfg(tolerance=0.0)).dpd == 10


def test_grace_days():
    p = book()
    c = cfg(grace_days=5)
    # Feb 5 is 5 days after Jan 31: still in grace
    assert state(p, "2023-02-05", c).dpd == 0
    # Feb 6: overdue, DPD counted from the due date = 6
    s = state(p, "2023-02-06", c)
    assert s.dpd == 6 and s.episode_start == pd.Timestamp("2023-01-31")


def test_restructure_uses_new_version_without_rewriting_history():
    v1 = [(d, 100) for d in DUES]
    v2 = [("2023-05-15", 160, 2, "2023-04-15"), ("2023-06-15", 160, 2, "2023-04-15")]
    p = book(v1 + v2, events=[("2023-04-15", "restructured")])
    only_v1 = book(v1)
    # before Apr 15 the original schedule applies: Apr 14 - Jan 31 = 73 days
    s = state(p, "2023-04-14")
    assert s.dpd == 73 and s.dpd == state(only_v1, "2023-04-14").dpd
    # from Apr 15 version 2: nothing due yet -> current; the episode ended (restructure)
    s = state(p, "2023-04-15")
    assert (s.dpd, s.bucket) == (0, "M0") and pd.isna(s.debt_age_days)
    assert s.amount_due_to_date == 0.0 and s.balance == pytest.approx(320.0)
    # May 15 installment missed: May 20 - May 15 = 5 DPD, a new episode from May 15
    s = state(p, "2023-05-20")
    assert s.dpd == 5 and s.episode_start == pd.Timestamp("2023-05-15")
    assert s.debt_age_days == 5
    assert s.worst_dpd_to_date == 73


def test_payments_before_restructure_do_not_pay_new_version():
    v1 = [(d, 100) for d in DUES]
    v2 = [("2023-05-15", 160, 2, "2023-04-15"), ("2023-06-15", 160, 2, "2023-04-15")]
    p = book(v1 + v2, payments=[("2023-01-31", 100), ("2023-04-20", 200)])
    s = state(p, "2023-06-20")
    # version 2 gets only the 200 paid on Apr 20: May 15 (160) paid, 40 of Jun 15's 160
    # -> Jun 20 - Jun 15 = 5 DPD, 320 - 200 = 120 overdue; paid to date 100 + 200 = 300,
    # due to date = paid before the restructure (100) + version 2 due (320)
    assert (s.dpd, s.amount_overdue, s.paid_to_date) == (5, 120.0, 300.0)
    assert s.amount_due_to_date == 420.0


def test_charge_off_on_the_exact_day():
    dues = ["2023-01-31", "2023-02-28", "2023-03-31", "2023-04-30", "2023-05-31", "2023-06-30"]
    p = book([(d, 100) for d in dues])
    # never paid: Jan 31 + 180 days = Jul 30 (28+31+30+31+30 = 150 to Jun 30, +30)
    s = state(p, "2023-07-29")
    assert (s.status, s.dpd, s.bucket) == ("open", 179, "M6")
    s = state(p, "2023-07-30")
    assert (s.status, s.dpd) == ("charged_off", 180) and pd.isna(s.bucket)
    assert s.charge_off_date == pd.Timestamp("2023-07-30")
    # a payment covering installment 1 on Mar 1 moves the oldest unpaid to Feb 28:
    # Feb 28 + 180 = Aug 27 (31+30+31+30+31 = 153 to Jul 31, +27)
    p = book([(d, 100) for d in dues], payments=[("2023-03-01", 100)])
    assert state(p, "2023-08-26").status == "open"
    s = state(p, "2023-08-27")
    assert s.status == "charged_off" and s.charge_off_date == pd.Timestamp("2023-08-27")
    # charged off stays charged off after a later partial recovery
    p = book([(d, 100) for d in dues], payments=[("2023-09-01", 300)])
    s = state(p, "2023-09-10")
    assert (
        s.status == "charged_off"
        and s.debt_age_days == (pd.Timestamp("2023-09-10") - pd.Timestamp("2023-01-31")).days
    )


def test_charge_off_threshold_from_config():
    p = book()
    # threshold 30: Jan 31 + 30 = Mar 2
    assert state(p, "2023-03-01", cfg(charge_off_dpd=30)).status == "open"
    assert state(p, "2023-03-02", cfg(charge_off_dpd=30)).status == "charged_off"


def test_paid_off():
    p = book(payments=[("2023-01-31", 100), ("2023-02-28", 200)], principal=270)
    s = state(p, "2023-03-01")
    assert (s.status, s.dpd, s.balance, s.amount_overdue) == ("paid_off", 0, 0.0, 0.0)
    assert pd.isna(s.bucket)


def test_settlement_ends_the_account():
    p = book(
        payments=[("2023-04-01", 120, None)],
        events=[("2023-04-01", "settled")],
    )
    s = state(p, "2023-03-31")
    # Mar 31 - Jan 31 = 59 days
    assert (s.status, s.dpd, s.bucket) == ("open", 59, "M2")
    s = state(p, "2023-04-01")
    assert (s.status, s.dpd, s.balance) == ("settled", 0, 0.0) and pd.isna(s.bucket)
    assert pd.isna(s.debt_age_days)


def test_debt_age_not_reset_by_partial_payments():
    p = book(payments=[("2023-02-10", 50), ("2023-03-15", 50)])
    s = state(p, "2023-03-10")
    # Jan 31 still 50 short: Mar 10 - Jan 31 = 38 DPD, debt age 38
    assert (s.dpd, s.debt_age_days) == (38, 38)
    s = state(p, "2023-03-20")
    # installment 1 now paid, Feb 28 unpaid: DPD Mar 20 - Feb 28 = 20,
    # but the debt is as old as the episode: Mar 20 - Jan 31 = 48
    assert (s.dpd, s.debt_age_days) == (20, 48)


def test_balance_uses_principal_due_or_proportional_split():
    # principal 80 of each 100: 150 paid = 80 + 50 * 0.8 = 120 repaid, 240 - 120 = 120
    p = book(payments=[("2023-01-31", 150)], principal_due=[80.0, 80.0, 80.0])
    assert state(p, "2023-02-01").balance == pytest.approx(120.0)
    # no principal_due: principal 270 of 300 due -> share 0.9; 270 - 150 * 0.9 = 135
    p = book(payments=[("2023-01-31", 150)], principal=270)
    assert state(p, "2023-02-01").balance == pytest.approx(135.0)


def test_accounts_originated_later_are_omitted_and_dates_sorted():
    p = book(origination="2023-01-10")
    out = account_states(p, ["2023-02-01", "2023-01-05"])
    assert list(out["as_of"]) == [pd.Timestamp("2023-02-01")]


def test_missing_effective_from_is_a_clear_error():
    p = book([(d, 100) for d in DUES] + [("2023-05-15", 100, 2)])
    with pytest.raises(DataError, match="effective_from"):
        account_states(p, "2023-03-01")
