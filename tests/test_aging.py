"""Tests of recovery.timeline.aging: hand-worked cases, a slow day-by-day reference, leakage.

Dates are in 2023 (not a leap year) so the day arithmetic in the comments is easy to
check: Jan 31 + 28 days = Feb 28, + 31 = Mar 31, + 30 = Apr 30, + 31 = May 31, ...
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.errors import DataError
from recovery.timeline.aging import account_states

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


def test_reversal_undoing_a_cure_dates_the_debt_back():
    p = book(payments=[("2023-02-10", 100, "2023-03-05")])
    # Jan 31 missed, cured by the Feb 10 payment; Feb 28 missed: new episode from Feb 28
    s = state(p, "2023-03-04")
    assert (s.dpd, s.debt_age_days) == (4, 4)
    # Mar 5: the Feb 10 payment is returned -> Jan 31 unpaid again: DPD 33 (28 + 5), and
    # the debt is as old as its oldest unpaid installment: debt age 33, not 5
    s = state(p, "2023-03-05")
    assert (s.dpd, s.debt_age_days) == (33, 33)
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


def test_reversal_of_a_payment_posted_before_the_restructure_leaves_new_version_alone():
    v1 = [(d, 100) for d in DUES]
    v2 = [("2023-05-15", 160, 2, "2023-04-15"), ("2023-06-15", 160, 2, "2023-04-15")]
    p = book(v1 + v2, payments=[("2023-04-10", 100, "2023-04-20"), ("2023-05-15", 160)])
    s = state(p, "2023-05-20")
    # the Apr 10 payment (posted under version 1) is returned on Apr 20: it no longer
    # counts in paid_to_date, but version 2 is paid only by the May 15 payment -> current
    assert (s.dpd, s.paid_to_date, s.amount_overdue) == (0, 160.0, 0.0)
    # due to date = paid towards version 1 (0 now) + version 2 due (160)
    assert s.amount_due_to_date == 160.0


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


def test_charged_off_account_repaid_in_full_stays_charged_off():
    p = book(payments=[("2023-03-10", 300)])
    c = cfg(charge_off_dpd=30)
    # Jan 31 + 30 = Mar 2 charge-off; everything repaid on Mar 10
    s = state(p, "2023-03-20", c)
    assert (s.status, s.dpd, s.balance) == ("charged_off", 0, 0.0)
    assert s.charge_off_date == pd.Timestamp("2023-03-02") and pd.isna(s.debt_age_days)


def test_charge_off_threshold_from_config():
    p = book()
    # threshold 30: Jan 31 + 30 = Mar 2
    assert state(p, "2023-03-01", cfg(charge_off_dpd=30)).status == "open"
    assert state(p, "2023-03-02", cfg(charge_off_dpd=30)).status == "charged_off"


def test_charge_off_threshold_per_product_kind():
    """Issue 18: 120 days for installment loans, 180 for revolving credit (config)."""
    dues = ["2023-01-31", "2023-02-28", "2023-03-31", "2023-04-30", "2023-05-31", "2023-06-30"]
    c = Config.from_dict(
        {
            "aging": {"charge_off_dpd_by_kind": {"installment": 120, "revolving": 180}},
            "categories": {"products": ["loan", "card"], "product_kinds": {"card": "revolving"}},
        }
    )
    loan = book([(d, 100) for d in dues], account="L")
    loan.accounts["product"] = "loan"
    # never paid: Jan 31 + 120 days = May 31 (28 + 31 + 30 + 31 = 120)
    assert state(loan, "2023-05-30", c).status == "open"
    s = state(loan, "2023-05-31", c)
    assert s.status == "charged_off" and s.charge_off_date == pd.Timestamp("2023-05-31")
    # the same schedule on a card: Jan 31 + 180 = Jul 30, as the default threshold
    card = book([(d, 100) for d in dues], account="K")
    card.accounts["product"] = "card"
    assert (state(card, "2023-07-29", c).status, state(card, "2023-07-29", c).bucket) == (
        "open",
        "M6",
    )
    assert state(card, "2023-07-30", c).charge_off_date == pd.Timestamp("2023-07-30")
    # an account's own product_kind wins over its product's
    loan.accounts["product_kind"] = "revolving"
    assert state(loan, "2023-05-31", c).status == "open"


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
    # an installment paid within the tolerance (99.50 of 100) counts as paid, principal
    # included: 240 - 80 = 160 (not 240 - 99.5 * 0.8 = 160.40)
    p = book(payments=[("2023-01-31", 99.5)], principal_due=[80.0, 80.0, 80.0])
    assert state(p, "2023-02-01").balance == pytest.approx(160.0)
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


# ----------------------------------------------------------------- slow reference


def bucket_by_hand(dpd: int, aging) -> str:
    """First bucket whose upper edge (inclusive) holds the DPD, else the last one."""
    for edge, name in zip(aging.bucket_edges, aging.bucket_names[:-1], strict=True):
        if dpd <= edge:
            return name
    return aging.bucket_names[-1]


def reference_states(portfolio: Portfolio, last_day: str, config: Config | None = None):
    """Day-by-day loop, written from the definitions, independent of the engine.

    Returns (states, episodes): states on every day from origination to ``last_day``.
    """
    config = config or Config()
    a = config.aging
    tol = max(round(a.tolerance * 100), 1)  # cents
    last = pd.Timestamp(last_day)
    sched = portfolio.schedule.copy()
    if "schedule_version" not in sched:
        sched["schedule_version"] = 1
    if "effective_from" not in sched:
        sched["effective_from"] = pd.NaT
    pays = portfolio.payments
    events = (
        portfolio.events
        if portfolio.events is not None
        else pd.DataFrame(columns=["account_id", "date", "event"])
    )
    accounts = portfolio.accounts.set_index("account_id")
    rows, eps = [], []
    for acct, s in sched.groupby("account_id"):
        s = s.sort_values(["schedule_version", "due_date", "installment_no"])
        versions = []
        for v, sv in s.groupby("schedule_version"):
            eff = sv["effective_from"].iloc[0]
            versions.append((v, None if len(versions) == 0 else eff, sv))
        v1 = versions[0][2]
        total1 = int(np.rint(v1["amount_due"] * 100).sum()) / 100
        share = min(accounts.loc[acct, "principal"] / total1, 1.0)

        def insts(sv, share=share):
            out = []
            for _, r in sv.iterrows():
                cents = int(round(r["amount_due"] * 100))
                pr = r.get("principal_due", np.nan)
                pr = cents / 100 * share if pd.isna(pr) else pr
                out.append((r["due_date"], cents, pr))
            return out

        versions = [(v, eff, insts(sv)) for v, eff, sv in versions]
        my_pays = pays[pays["account_id"] == acct]
        paid = [
            (r["payment_date"], int(round(r["amount"] * 100)), r["reversed_date"])
            for _, r in my_pays.iterrows()
        ]
        ev = events[events["account_id"] == acct]
        settle = ev.loc[ev["event"] == "settled", "date"].min()
        close = ev.loc[ev["event"] == "closed", "date"].min()
        end_ev, end_kind = pd.NaT, None
        if pd.notna(settle) and (pd.isna(close) or settle <= close):
            end_ev, end_kind = settle, "settled"
        elif pd.notna(close):
            end_ev, end_kind = close, "closed"
        co_event = ev.loc[ev["event"] == "charged_off", "date"].min()
        restructure_days = set(ev.loc[ev["event"] == "restructured", "date"])
        restructure_days |= {eff for _, eff, _ in versions[1:]}
        offers = portfolio.offers
        accepted = (
            offers[(offers["account_id"] == acct) & (offers["outcome"] == "accepted")]
            if offers is not None
            else offers
        )
        # a version that is an accepted plan, in force from the day of the answer
        reage_days = set() if accepted is None else set(accepted["outcome_date"])
        reage_days &= {eff for _, eff, _ in versions[1:]}

        co_day, in_prev, ep, worst, by_restructure = None, False, None, 0, False
        day = accounts.loc[acct, "origination_date"]
        while day <= last:
            v, eff, inst = [x for x in versions if x[1] is None or x[1] <= day][-1]
            # a payment counts from its posting date until (excluding) its reversal date;
            # a version is paid only by payments posted on or after its effective_from
            known = [(d, c) for d, c, r in paid if d <= day and not (pd.notna(r) and r <= day)]
            paid_all = sum(c for _, c in known)
            paid_v = sum(c for d, c in known if eff is None or d >= eff)
            remaining, oldest = paid_v, None
            for due, cents, _ in inst:
                remaining -= cents
                if remaining <= -tol:
                    oldest = due
                    break
            ended = pd.notna(end_ev) and end_ev <= day
            paid_off = oldest is None and not ended
            terminal = ended or paid_off
            late = (day - oldest).days if oldest is not None else -1
            dpd = 0 if terminal or late <= a.grace_days else late
            if co_day is None and (
                (not terminal and dpd >= a.charge_off_dpd)
                or (pd.notna(co_event) and co_event <= day)
            ):
                co_day = day
            status = (  # charge-off is final unless settled or closed
                end_kind
                if ended
                else "charged_off"
                if co_day is not None
                else "paid_off"
                if paid_off
                else "open"
            )
            in_now = not terminal and (dpd > 0 or co_day is not None)
            # after charge-off only payoff, settlement or closure end an episode
            restructure = day in restructure_days and co_day is None
            if in_prev and (not in_now or restructure):
                ep["end_date"] = day
                ep["end_reason"] = (
                    end_kind
                    if ended
                    else ("re_aged" if day in reage_days else "restructured")
                    if restructure
                    else "paid_off"
                    if paid_off
                    else "payment_cure"
                )
                eps.append(ep)
                ep = None
            if in_now and (not in_prev or restructure):
                start = day if restructure else min(oldest, day)
                ep = {"account_id": acct, "start_date": start, "end_date": pd.NaT, "max_dpd": 0}
                by_restructure = restructure
            if in_now and not by_restructure and oldest is not None:
                # a returned payment re-opening an older installment dates the episode back
                ep["start_date"] = min(ep["start_date"], oldest)
            if in_now:
                ep["max_dpd"] = max(ep["max_dpd"], dpd)
            in_prev = in_now
            worst = max(worst, dpd)
            due_by_grace = sum(c for due, c, _ in inst if (day - due).days >= a.grace_days)
            due_now = sum(c for due, c, _ in inst if due <= day)
            # principal: installments paid within the tolerance count in full, the next
            # one pro rata to what was paid of it
            cum, repaid = 0, 0.0
            for _, cents, pr in inst:
                cum += cents
                if cum - paid_v < tol:
                    repaid += pr
                else:
                    part = min(max(paid_v - (cum - cents), 0), cents)
                    repaid += part / cents * pr if cents else 0.0
                    break
            total_pr = sum(pr for _, _, pr in inst)
            rows.append(
                {
                    "account_id": acct,
                    "as_of": day,
                    "dpd": dpd,
                    "bucket": bucket_by_hand(dpd, a) if status == "open" else np.nan,
                    "status": status,
                    "balance": 0.0 if terminal else max(total_pr - repaid, 0.0),
                    "amount_overdue": 0.0 if terminal else max(due_by_grace - paid_v, 0) / 100,
                    "amount_due_to_date": (paid_all - paid_v + due_now) / 100,
                    "paid_to_date": paid_all / 100,
                    "episode_start": ep["start_date"] if in_now else pd.NaT,
                    "debt_age_days": (day - ep["start_date"]).days if in_now else pd.NA,
                    "charge_off_date": co_day if co_day is not None else pd.NaT,
                    "worst_dpd_to_date": worst,
                }
            )
            day += pd.Timedelta(days=1)
        if ep is not None:
            eps.append(ep)
    states = pd.DataFrame(rows)
    episodes_ = pd.DataFrame(eps)
    return states, episodes_


def random_book(seed: int, n: int = 12) -> Portfolio:
    """Small random books exercising every rule (restructures, reversals, events)."""
    rng = np.random.default_rng(seed)
    sched, pays, events, accounts, offers = [], [], [], [], []
    for i in range(n):
        acct = f"R{i:02d}"
        orig = pd.Timestamp("2022-01-01") + pd.Timedelta(days=int(rng.integers(0, 60)))
        k = int(rng.integers(2, 7))
        dues = [orig + pd.DateOffset(months=m + 1) for m in range(k)]
        amounts = np.round(rng.uniform(50, 150, k), 2)
        with_principal = rng.random() < 0.5
        for j, (d, amt) in enumerate(zip(dues, amounts, strict=True)):
            sched.append(
                (acct, j + 1, d, amt, round(amt * 0.8, 2) if with_principal else np.nan, 1, pd.NaT)
            )
        if rng.random() < 0.35:  # restructure: a new version
            eff = dues[0] + pd.Timedelta(days=int(rng.integers(10, 150)))
            first = eff + pd.Timedelta(days=int(rng.integers(0, 40)))
            for j in range(int(rng.integers(1, 5))):
                amt = round(float(rng.uniform(40, 120)), 2)
                sched.append((acct, j + 1, first + pd.DateOffset(months=j), amt, np.nan, 2, eff))
            if rng.random() < 0.6:
                events.append((acct, eff, "restructured"))
            if i % 2 == 0:  # the version is an accepted payment plan (a re-age)
                offers.append((f"O{i}", acct, eff - pd.Timedelta(days=3), eff))
        elif rng.random() < 0.1:  # a flagged restructure without a new schedule
            events.append((acct, dues[0] + pd.Timedelta(days=45), "restructured"))
        for _ in range(int(rng.integers(0, 13))):
            day = orig + pd.Timedelta(days=int(rng.integers(0, 40 + 31 * k + 120)))
            kind = rng.random()
            amt = (
                float(amounts[0])
                if kind < 0.4
                else round(float(rng.uniform(1, 60)), 2)
                if kind < 0.7
                else round(float(rng.uniform(100, 300)), 2)
                if kind < 0.9
                else 0.5
            )
            rev = (
                day + pd.Timedelta(days=int(rng.integers(0, 25))) if rng.random() < 0.15 else pd.NaT
            )
            pays.append((acct, day, amt, rev))
        u = rng.random()
        when = orig + pd.Timedelta(days=int(rng.integers(60, 300)))
        if u < 0.06:
            events.append((acct, when, "settled"))
        elif u < 0.1:
            events.append((acct, when, "closed"))
        elif u < 0.15:
            events.append((acct, when, "charged_off"))
        accounts.append((acct, orig, float(amounts.sum()) * float(rng.uniform(0.7, 1.0))))
    schedule = pd.DataFrame(
        sched,
        columns=[
            "account_id",
            "installment_no",
            "due_date",
            "amount_due",
            "principal_due",
            "schedule_version",
            "effective_from",
        ],
    )
    payments = pd.DataFrame(pays, columns=["account_id", "payment_date", "amount", "reversed_date"])
    payments["channel"] = "cash"
    payments["payment_id"] = [f"P{i}" for i in range(len(payments))]
    events = pd.DataFrame(events, columns=["account_id", "date", "event"])
    accounts = pd.DataFrame(accounts, columns=["account_id", "origination_date", "principal"])
    offers = pd.DataFrame(offers, columns=["offer_id", "account_id", "offered_at", "outcome_date"])
    offers = offers.assign(kind="payment_plan", installments=3, outcome="accepted")
    return Portfolio(
        accounts=accounts, schedule=schedule, payments=payments, events=events, offers=offers
    )


CONFIGS = [
    {},
    {"tolerance": 0.0, "grace_days": 3, "charge_off_dpd": 60},
    {"tolerance": 5.0, "grace_days": 0, "charge_off_dpd": 90},
]


def _compare(engine: pd.DataFrame, reference: pd.DataFrame) -> None:
    key = ["account_id", "as_of"]
    engine = engine.sort_values(key).reset_index(drop=True)
    reference = reference.sort_values(key).reset_index(drop=True)
    assert len(engine) == len(reference)
    for col in ["account_id", "as_of", "dpd", "status", "worst_dpd_to_date"]:
        pd.testing.assert_series_equal(
            engine[col].astype(object), reference[col].astype(object), check_names=False
        )
    for col in ["bucket", "episode_start", "charge_off_date", "debt_age_days"]:
        mismatch = ~(
            (engine[col].isna() & reference[col].isna())
            | (engine[col].astype(object) == reference[col].astype(object))
        )
        assert not mismatch.any(), (col, engine[mismatch].head(), reference[mismatch].head())
    for col in ["balance", "amount_overdue", "amount_due_to_date", "paid_to_date"]:
        np.testing.assert_allclose(engine[col], reference[col], atol=1e-6, err_msg=col)


@pytest.mark.parametrize("seed, aging", [(s, c) for s in (1, 2, 3) for c in CONFIGS])
def test_engine_agrees_with_day_by_day_reference(seed, aging):
    portfolio = random_book(seed)
    config = cfg(**aging)
    last = "2022-12-31"
    ref_states, _ = reference_states(portfolio, last, config)
    days = pd.date_range("2022-01-01", last, freq="D")
    engine = account_states(portfolio, days, config, partition_size=5)  # several partitions
    _compare(engine, ref_states)


@pytest.mark.parametrize("seed", [4, 5])
def test_episodes_agree_with_reference(seed):
    from recovery.timeline.aging import episodes

    portfolio = random_book(seed)
    config = cfg(charge_off_dpd=60, grace_days=2)
    _, ref = reference_states(portfolio, "2022-12-31", config)
    got = episodes(portfolio, config, end="2022-12-31")
    assert len(got) == len(ref)
    key = ["account_id", "start_date"]
    got = got.sort_values(key).reset_index(drop=True)
    ref = ref.sort_values(key).reset_index(drop=True)
    for col in ["account_id", "start_date", "end_date", "max_dpd"]:
        pd.testing.assert_series_equal(
            got[col].astype(object), ref[col].astype(object), check_names=False
        )
    ended = ref["end_reason"].notna()
    assert (got.loc[ended, "end_reason"].astype(str) == ref.loc[ended, "end_reason"]).all()
    running = got.loc[~ended, "end_reason"].astype(str)
    assert running.isin(["open", "charged_off"]).all()


# ----------------------------------------------------------------- leakage


def _truncate(portfolio: Portfolio, as_of: pd.Timestamp, alter: bool) -> Portfolio:
    """Delete (or scramble) every row dated after ``as_of``."""
    p = portfolio.copy()
    pay = p.payments
    late = pay["payment_date"] > as_of
    rev_late = pay["reversed_date"] > as_of
    sched = p.schedule
    new_version = sched["effective_from"] > as_of
    ev_late = p.events["date"] > as_of
    if alter:
        pay.loc[late, "amount"] = pay.loc[late, "amount"] * 7 + 3
        pay.loc[rev_late, "reversed_date"] = pay.loc[rev_late, "reversed_date"] + pd.Timedelta(
            days=3
        )
        sched.loc[new_version, "amount_due"] = 1.0
        p.events.loc[ev_late, "event"] = "settled"
    else:
        p.payments = pay.loc[~late].assign(
            reversed_date=pay.loc[~late, "reversed_date"].where(~rev_late[~late])
        )
        p.schedule = sched.loc[~new_version]
        p.events = p.events.loc[~ev_late]
    return p


@pytest.mark.parametrize("alter", [False, True])
@pytest.mark.parametrize("as_of", ["2022-03-15", "2022-06-30", "2022-09-02"])
def test_account_states_use_only_rows_known_at_as_of(as_of, alter):
    portfolio = random_book(7, n=20)
    day = pd.Timestamp(as_of)
    config = cfg(charge_off_dpd=60)
    full = account_states(portfolio, day, config)
    cut = account_states(_truncate(portfolio, day, alter), day, config)
    pd.testing.assert_frame_equal(full, cut)
    # and the test can fail: a change on or before as_of does change the answer
    changed = portfolio.copy()
    changed.payments.loc[changed.payments["payment_date"] <= day, "amount"] *= 0.5
    assert not account_states(changed, day, config).equals(full)


# ----------------------------------------------------------------- snapshots, episodes


def test_snapshots_month_end_rows_paid_in_month_and_exits():
    from recovery.timeline.aging import snapshots

    p = book(
        payments=[("2023-01-31", 100), ("2023-02-10", 60, "2023-03-05"), ("2023-03-20", 40)],
        principal=270,
    )
    p.accounts["product"] = "consumer_installment"
    months = pd.date_range("2022-12-31", "2023-06-30", freq="ME")
    snap = snapshots(p, months)
    # originated Jan 1: no Dec 31 row
    assert snap["month_end"].min() == pd.Timestamp("2023-01-31")
    jan, feb, mar, apr = (snap.iloc[i] for i in range(4))
    assert (jan.dpd, jan.paid_in_month, jan.bucket) == (0, 100.0, "M0")
    # Feb: 60 paid on Feb 10 (reversed only in March, so it counts in February);
    # installment 2 is due on Feb 28 itself: 0 DPD that day, but due to date - paid to
    # date = 200 - 160 = 40 overdue
    assert (feb.dpd, feb.paid_in_month, feb.amount_overdue) == (0, 60.0, 40.0)
    # Mar: the Feb 10 payment returned on Mar 5; 40 paid Mar 20 -> 140 paid in all,
    # installment 2 is 60 short since Feb 28: Mar 31 - Feb 28 = 31 DPD (M2);
    # overdue = due to date (3 installments, Mar 31's due that day) - paid = 300 - 140
    # paid in March: only the 40 (the February payment is dated in February)
    assert (mar.dpd, mar.bucket, mar.paid_in_month) == (31, "M2", 40.0)
    assert mar.amount_overdue == 160.0
    assert mar.debt_age_days == 31 and mar.episode_start == pd.Timestamp("2023-02-28")
    # balance: principal share 270/300 = 0.9; 140 paid -> 270 - 126 = 144
    assert mar.balance == pytest.approx(144.0)
    # Apr 30 - Feb 28 = 61 DPD (M3); overdue 300 - 140 = 160
    assert (apr.dpd, apr.bucket, apr.amount_overdue) == (61, "M3", 160.0)
    assert apr["product"] == "consumer_installment"
    assert list(snap.columns[:8]) == [
        "account_id",
        "month_end",
        "dpd",
        "bucket",
        "balance",
        "amount_overdue",
        "paid_in_month",
        "status",
    ]


def test_snapshots_stop_after_the_first_paid_off_month_unless_asked():
    from recovery.timeline.aging import snapshots

    p = book(payments=[("2023-02-15", 300)])
    months = pd.date_range("2023-01-31", "2023-06-30", freq="ME")
    snap = snapshots(p, months)
    assert list(snap["status"].astype(str)) == ["open", "paid_off"]
    assert snap["dpd"].tolist() == [0, 0]
    everything = snapshots(p, months, keep_closed=True)
    assert len(everything) == 6 and (everything["status"].iloc[1:] == "paid_off").all()


def test_snapshots_charged_off_accounts_stay_in_the_recovery_book():
    from recovery.timeline.aging import snapshots

    p = book(payments=[("2023-09-15", 50)])
    snap = snapshots(p, pd.date_range("2023-01-31", "2023-10-31", freq="ME"))
    # charged off on Jan 31 + 180 = Jul 30
    co = snap[snap["status"] == "charged_off"]
    assert co["month_end"].tolist() == list(pd.date_range("2023-07-31", "2023-10-31", freq="ME"))
    assert co["bucket"].isna().all()
    assert (co["charge_off_date"] == pd.Timestamp("2023-07-30")).all()
    assert co.set_index("month_end").loc["2023-09-30", "paid_in_month"] == 50.0


def test_snapshots_default_month_ends_run_to_data_end():
    from recovery.timeline.aging import snapshots

    p = book(payments=[("2023-01-31", 100)])
    p.meta["data_end"] = "2023-04-15"
    snap = snapshots(p)
    assert snap["month_end"].tolist() == list(pd.date_range("2023-01-31", "2023-03-31", freq="ME"))


def test_episodes_end_reasons_by_hand():
    from recovery.timeline.aging import episodes

    dues = [(d, 100) for d in ["2023-01-31", "2023-02-28", "2023-03-31", "2023-04-30"]]
    # A: misses Jan 31, pays 100 on Feb 10 (payment cure), misses Mar 31, restructured
    # on May 1 into one installment due Jun 1, paid off Jun 1.
    a = book(
        dues + [("2023-06-01", 250, 2, "2023-05-01")],
        payments=[("2023-02-10", 100), ("2023-02-28", 100), ("2023-06-01", 250)],
        events=[("2023-05-01", "restructured")],
    )
    ep = episodes(a, end="2023-12-31")
    # episode 1: Jan 31 -> Feb 10, worst DPD on Feb 9 = 9
    # episode 2: Mar 31 -> May 1 (restructured), worst DPD on Apr 30 = 30
    assert ep["start_date"].tolist() == [pd.Timestamp("2023-01-31"), pd.Timestamp("2023-03-31")]
    assert ep["end_date"].tolist() == [pd.Timestamp("2023-02-10"), pd.Timestamp("2023-05-01")]
    assert ep["max_dpd"].tolist() == [9, 30]
    assert ep["end_reason"].astype(str).tolist() == ["payment_cure", "restructured"]
    assert ep["episode_no"].tolist() == [1, 2]
    # known from the first overdue day: Feb 1 and Apr 1
    assert ep["first_overdue_date"].tolist() == [
        pd.Timestamp("2023-02-01"),
        pd.Timestamp("2023-04-01"),
    ]
    # B: never pays, charged off on Jan 31 + 180 = Jul 30, settles on Oct 1
    b = book(dues, events=[("2023-10-01", "settled")], account="B")
    ep = episodes(b, end="2023-12-31").iloc[0]
    assert (ep.start_date, ep.end_date) == (pd.Timestamp("2023-01-31"), pd.Timestamp("2023-10-01"))
    assert ep.end_reason == "settled" and ep.charge_off_date == pd.Timestamp("2023-07-30")
    # Sep 30 - Jan 31 = 242 DPD on the last day before settlement
    assert ep.max_dpd == 242
    # C: never pays, nothing else: still running at the end, charged off
    ep = episodes(book(dues, account="C"), end="2023-12-31").iloc[0]
    assert pd.isna(ep.end_date) and ep.end_reason == "charged_off"
    # D: late, then pays everything: paid_off
    d = book(payments=[("2023-02-05", 300)], account="D")
    ep = episodes(d, end="2023-12-31").iloc[0]
    assert (ep.end_date, ep.end_reason, ep.max_dpd) == (pd.Timestamp("2023-02-05"), "paid_off", 4)


def test_dpd_series_guards_size():
    from recovery.timeline.aging import dpd_series

    p = book()
    with pytest.raises(DataError, match="account_ids"):
        dpd_series(p, "2023-01-01", "2023-12-31", max_rows=100)
    s = dpd_series(p, "2023-01-30", "2023-02-02", account_ids=["A"])
    assert s["dpd"].tolist() == [0, 0, 1, 2]


# ----------------------------------------------------------------- CLI


def test_cli_snapshots_writes_table_and_episodes(tiny_portfolio, tmp_path):
    from recovery.cli import main
    from recovery.data.io import save_portfolio

    save_portfolio(tiny_portfolio, tmp_path / "book")
    out, ep_out = tmp_path / "snap.parquet", tmp_path / "episodes.csv"
    code = main(["snapshots", str(tmp_path / "book"), "--out", str(out), "--episodes", str(ep_out)])
    assert code == 0
    snap = pd.read_parquet(out).set_index(["account_id", "month_end"])
    assert len(snap) == 8  # 2 accounts x Jan..Apr 2024
    # A1: Mar 10 installment unpaid on Mar 31 -> 21 DPD; all 1,050 paid by Apr 20
    assert snap.loc[("A1", pd.Timestamp("2024-03-31")), "dpd"] == 21
    assert snap.loc[("A1", pd.Timestamp("2024-04-30")), "status"] == "paid_off"
    # A2: Mar 15 installment paid Mar 25 -> current on Mar 31
    assert snap.loc[("A2", pd.Timestamp("2024-03-31")), "dpd"] == 0
    episodes_ = pd.read_csv(ep_out)
    # A1 Mar 10 -> Apr 20 (paid off); A2 Mar 15 -> Mar 25 (payment cure)
    assert sorted(episodes_["end_reason"]) == ["paid_off", "payment_cure"]


def test_cli_snapshots_bad_output_name_is_one_line_error(tiny_portfolio, tmp_path, capsys):
    from recovery.cli import main
    from recovery.data.io import save_portfolio

    save_portfolio(tiny_portfolio, tmp_path / "book")
    code = main(["snapshots", str(tmp_path / "book"), "--out", str(tmp_path / "snap.xlsx")])
    assert code == 1
    assert "parquet or .csv" in capsys.readouterr().err
    assert not (tmp_path / "snap.xlsx").exists()


# ----------------------------------------------------------------- simulated book


@pytest.fixture(scope="module")
def simulated():
    simulate = pytest.importorskip("recovery.simulate")
    return simulate.simulate_portfolio(n_accounts=120, months=24, seed=11)


def test_snapshots_agree_with_the_simulators_own_ledger(simulated):
    portfolio, truth = simulated
    months = truth.account_months
    snap = snapshots_of(portfolio, sorted(months["month_end"].unique()))
    both = snap.merge(months, on=["account_id", "month_end"], suffixes=("", "_sim"))
    assert len(both) == len(months)  # every simulated account-month has a snapshot
    assert (both["dpd"] == both["dpd_sim"]).all()
    assert (both["status"].astype(str) == both["status_sim"].astype(str)).all()
    np.testing.assert_allclose(both["balance"], both["balance_sim"], atol=0.02)
    np.testing.assert_allclose(both["amount_overdue"], both["amount_overdue_sim"], atol=0.02)
    age = both["debt_age_days"].astype("Float64")
    age_sim = both["debt_age_days_sim"].astype("Float64")
    assert ((age == age_sim) | (age.isna() & age_sim.isna())).all()


def snapshots_of(portfolio, month_ends):
    from recovery.timeline.aging import snapshots

    return snapshots(portfolio, month_ends, keep_closed=True)


def test_engine_agrees_with_reference_on_simulated_accounts(simulated):
    portfolio, _ = simulated
    # a handful of accounts, preferring ones with reversals, charge-offs and events
    pay, ev = portfolio.payments, portfolio.events
    interesting = list(
        dict.fromkeys(
            list(pay.loc[pay["reversed_date"].notna(), "account_id"].unique()[:3])
            + list(ev.loc[ev["event"] == "charged_off", "account_id"].unique()[:3])
            + list(portfolio.accounts["account_id"].iloc[:3])
        )
    )
    small = portfolio.subset(interesting)
    start = pd.Timestamp(portfolio.meta["start"]) if "start" in portfolio.meta else None
    first = max(small.accounts["origination_date"].min(), start or pd.Timestamp.min)
    last = pd.Timestamp(portfolio.meta["data_end"])
    ref, _ = reference_states(small, str(last.date()))
    ref = ref[ref["as_of"] >= first]
    engine = account_states(small, pd.date_range(first, last, freq="D"))
    _compare(engine, ref)


def test_account_states_for_given_pairs_match_the_full_grid():
    portfolio = random_book(9, n=10)
    days = pd.to_datetime(["2022-03-31", "2022-05-15", "2022-09-30"])
    grid = account_states(portfolio, days)
    pairs = grid[["account_id", "as_of"]].sample(frac=0.5, random_state=0)
    pairs = pd.concat([pairs, pairs.head(2)])  # duplicates are evaluated once
    pairs.loc[len(pairs) + 100] = ["unknown", pd.Timestamp("2022-03-31")]
    pairs.loc[len(pairs) + 101] = ["R03x", pd.Timestamp("2022-03-31")]  # inside a range
    got = account_states(portfolio, pairs, partition_size=4)
    want = grid.merge(pairs.drop_duplicates(), on=["account_id", "as_of"])
    pd.testing.assert_frame_equal(got, want.reset_index(drop=True))


def test_snapshots_reproduce_the_shipped_samples_truth_table():
    from recovery.datasets import load_sample, load_sample_truth
    from recovery.timeline.aging import snapshots

    try:
        portfolio, truth = load_sample(), load_sample_truth()
    except Exception as exc:  # noqa: BLE001 - sample or simulator not available
        pytest.skip(f"shipped sample not available: {exc}")
    snap = snapshots(portfolio)
    months = truth.account_months
    key = ["account_id", "month_end"]
    # same rows (origination month end through the exit month end; recovery book stays)
    assert len(snap) == len(months)
    both = snap.merge(months, on=key, suffixes=("", "_sim"))
    assert len(both) == len(months)
    assert (both["dpd"] == both["dpd_sim"]).all()
    assert (both["status"].astype(str) == both["status_sim"].astype(str)).all()
    np.testing.assert_allclose(both["balance"], both["balance_sim"], atol=0.02)
    np.testing.assert_allclose(both["amount_overdue"], both["amount_overdue_sim"], atol=0.02)
    age, age_sim = both["debt_age_days"].astype("Float64"), both["debt_age_days_sim"]
    assert ((age == age_sim.astype("Float64")) | (age.isna() & age_sim.isna())).all()


def test_partitions_are_independent():
    """Any split of the accounts gives the same rows: ready for Dask map_partitions."""
    from recovery.timeline.aging import snapshots

    portfolio = random_book(12, n=14)
    months = pd.date_range("2022-01-31", "2022-12-31", freq="ME")
    whole = snapshots(portfolio, months)
    ids = sorted(portfolio.accounts["account_id"])
    halves = [snapshots(portfolio.subset(part), months) for part in (ids[::2], ids[1::2])]
    joined = pd.concat(halves).sort_values(["account_id", "month_end"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(joined, whole)


def test_plot_dpd_series_draws_one_line_per_account_and_the_threshold():
    import matplotlib

    matplotlib.use("Agg")
    from recovery.timeline.aging import dpd_series, plot_dpd_series

    p = book()
    series = dpd_series(p, "2023-01-25", "2023-03-10", account_ids=["A"])
    ax = plot_dpd_series(series, config=cfg(charge_off_dpd=60))
    assert len(ax.get_lines()) == 1 + 6 + 1  # account, bucket edges 30..180, threshold
    assert ax.get_lines()[0].get_ydata().max() == series["dpd"].max()
    assert ax.get_lines()[-1].get_ydata()[0] == 60


def test_snapshots_satisfy_the_data_contract_and_reconcile():
    from recovery.data.schema import validate_table
    from recovery.timeline.aging import snapshots

    portfolio = random_book(13, n=16)
    snap = snapshots(portfolio, pd.date_range("2022-01-31", "2022-12-31", freq="ME"))
    validate_table("snapshots", snap)  # raises ValidationError on any broken rule
    # invariants: bucket only while open; dpd 0 when paid off/settled/closed; money >= 0
    open_ = snap["status"] == "open"
    assert snap.loc[open_, "bucket"].notna().all() and snap.loc[~open_, "bucket"].isna().all()
    exits = snap["status"].isin(["paid_off", "settled", "closed"])
    assert (snap.loc[exits, ["dpd", "balance", "amount_overdue"]] == 0).all().all()
    assert (snap[["balance", "amount_overdue", "paid_in_month"]] >= 0).all().all()
    # debt age is never below DPD while in an episode (a flagged restructure without a new
    # schedule restarts the episode while DPD runs on: excluded)
    restructured = portfolio.events.loc[portfolio.events["event"] == "restructured", "account_id"]
    in_episode = snap["debt_age_days"].notna() & ~snap["account_id"].isin(restructured)
    assert (snap.loc[in_episode, "debt_age_days"] >= snap.loc[in_episode, "dpd"]).all()
    # paid_in_month over the year = payments dated in 2022 not reversed by their month end
    # (all rows kept, so that payments after an exit month are in the table too)
    full = snapshots(
        portfolio, pd.date_range("2022-01-31", "2022-12-31", freq="ME"), keep_closed=True
    )
    pay = portfolio.payments
    month_end = pay["payment_date"] + pd.offsets.MonthEnd(0)
    counted = (pay["payment_date"].dt.year == 2022) & ~(pay["reversed_date"] <= month_end)
    expected = pay.loc[counted].groupby("account_id")["amount"].sum()
    got = full.groupby("account_id")["paid_in_month"].sum()
    keep = expected.index
    np.testing.assert_allclose(got.reindex(keep), expected.reindex(keep))


# ----------------------------------------------------------------- shared ledger (#21)
def test_snapshots_and_episodes_unchanged_since_main(sample_book, simulated_20k):
    """Byte-identical to the tables main's code computed (digests in conftest)."""
    from conftest import assert_unchanged_since_main
    from recovery.timeline.aging import episodes, snapshots

    for table, make in (("snapshots", snapshots), ("episodes", episodes)):
        assert_unchanged_since_main(table, lambda pf, _, f=make: f(pf), sample_book, simulated_20k)


@pytest.mark.parametrize("size", [None, 7_000])
def test_a_shared_ledger_gives_the_tables_of_independent_builds(simulated_20k, size):
    from recovery.timeline.aging import aging_ledger, episodes, snapshots

    pf, dates, _ = simulated_20k
    book = aging_ledger(pf, partition_size=size)
    assert len(book.parts) == (1 if size is None else 3)
    pd.testing.assert_frame_equal(snapshots(pf, ledger=book), snapshots(pf))
    pd.testing.assert_frame_equal(
        snapshots(pf, dates, keep_closed=True, ledger=book), snapshots(pf, dates, keep_closed=True)
    )
    pd.testing.assert_frame_equal(account_states(pf, dates, ledger=book), account_states(pf, dates))
    pairs = account_states(pf, dates[-1])[["account_id", "as_of"]].iloc[::7]
    pd.testing.assert_frame_equal(account_states(pf, pairs, ledger=book), account_states(pf, pairs))
    pd.testing.assert_frame_equal(episodes(pf, ledger=book), episodes(pf))


def test_snapshots_read_only_the_rows_they_keep():
    """A paid-off account's later month ends are dropped, and the row kept is whole."""
    from recovery.timeline.aging import snapshots

    schedule = pd.DataFrame(
        {
            "account_id": ["A", "A", "B"],
            "installment_no": [1, 2, 1],
            "due_date": pd.to_datetime(["2024-01-15", "2024-02-15", "2024-01-20"]),
            "amount_due": [100.0, 100.0, 50.0],
        }
    )
    payments = pd.DataFrame(
        {
            "account_id": ["A", "A"],
            "amount": [100.0, 100.0],
            "payment_date": pd.to_datetime(["2024-01-15", "2024-02-10"]),
        }
    )
    months = pd.date_range("2024-01-31", "2024-04-30", freq="ME")
    snap = snapshots(Portfolio(schedule=schedule, payments=payments), months)
    # A: open in January, paid off in February (kept once), then gone; B never pays
    assert snap["account_id"].tolist() == ["A", "A", "B", "B", "B", "B"]
    assert snap["status"].astype(str).tolist() == ["open", "paid_off"] + ["open"] * 4
    assert snap["dpd"].tolist() == [0, 0, 11, 40, 71, 101]
    assert snap["paid_in_month"].tolist() == [100.0, 100.0, 0.0, 0.0, 0.0, 0.0]
    assert snap["debt_age_days"].isna().tolist() == [True, True, False, False, False, False]
    full = snapshots(Portfolio(schedule=schedule, payments=payments), months, keep_closed=True)
    assert len(full) == 8 and (full["status"].astype(str) == "paid_off").sum() == 3


def test_a_ledger_is_refused_for_another_portfolio_or_config(tiny_portfolio):
    from recovery.config import AgingConfig
    from recovery.timeline.aging import aging_ledger, snapshots

    book = aging_ledger(tiny_portfolio)
    other = Portfolio(**{k: getattr(tiny_portfolio, k) for k in ("accounts", "schedule")})
    with pytest.raises(DataError, match="another portfolio"):
        snapshots(other, ledger=book)
    with pytest.raises(DataError, match="another config"):
        account_states(
            tiny_portfolio, "2024-03-31", Config(aging=AgingConfig(grace_days=3)), ledger=book
        )
