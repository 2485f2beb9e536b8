"""Roll rates and KPIs from ``snapshots`` agree with a direct recomputation from events.

The snapshots come from :func:`recovery.timeline.aging.snapshots`; the reference side never
touches them: month-end states come from :func:`recovery.timeline.aging.account_states` (one
call per month end, slow Python bookkeeping below), collected amounts straight from
the ``payments`` table. The book is a small synthetic ledger built here (good payers,
late payers, defaulters with post-charge-off recoveries, curers) and, once it is
available, the simulator's benchmark scenario.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from recovery.analytics.kpis import collection_rates, monthly_kpis
from recovery.analytics.roll_rates import roll_rates
from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.timeline import aging

EXITS = {"paid_off", "settled", "other_exit"}


def synthetic_ledger(n: int = 120, seed: int = 7) -> Portfolio:
    """Twelve monthly installments of 100 per account; behaviour by type (vectorised)."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"L{i:04d}" for i in range(n)])
    orig = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 180, n), "D")
    accounts = pd.DataFrame(
        {
            "account_id": ids,
            "customer_id": [f"C{i:04d}" for i in range(n)],
            "product": rng.choice(["consumer_installment", "small_business"], n),
            "origination_date": orig.normalize(),
            "principal": 1200.0,
            "term_months": 12,
            "interest_rate": 0.0,
        }
    )
    k = np.tile(np.arange(1, 13), n)
    acct = np.repeat(np.arange(n), 12)
    due = (
        pd.DatetimeIndex(np.repeat(accounts["origination_date"].to_numpy(), 12))
        + pd.to_timedelta(k * 30, "D")
    ).normalize()
    schedule = pd.DataFrame(
        {"account_id": ids[acct], "installment_no": k, "due_date": due, "amount_due": 100.0}
    )
    kind = rng.choice(["good", "late", "stop", "curer"], n, p=[0.45, 0.2, 0.2, 0.15])[acct]
    stop_after = rng.integers(1, 6, n)[acct]
    lag = np.select(
        [kind == "good", kind == "late", kind == "curer"],
        [0, 40, np.where((k >= 3) & (k <= 4), 75 - 30 * (k - 3), 0)],
        default=0,
    )
    paid = (kind != "stop") | (k <= stop_after)
    payments = pd.DataFrame(
        {
            "account_id": ids[acct][paid],
            "payment_date": (due + pd.to_timedelta(lag, "D"))[paid],
            "amount": 100.0,
            "channel": "bank_transfer",
        }
    )
    # defaulters: a recovery of 150 about 9 months after their last payment (post charge-off)
    stop = kind == "stop"
    last = pd.Series(due[stop & (k == stop_after)]).to_numpy()
    rec_ids = ids[acct][stop & (k == stop_after)]
    recoveries = pd.DataFrame(
        {
            "account_id": rec_ids,
            "payment_date": pd.DatetimeIndex(last) + pd.Timedelta(days=290),
            "amount": 150.0,
            "channel": "agency",
        }
    )
    payments = pd.concat([payments, recoveries], ignore_index=True)
    payments["payment_id"] = [f"P{i:05d}" for i in range(len(payments))]
    return Portfolio(
        accounts=accounts,
        schedule=schedule,
        payments=payments,
        meta={"data_end": "2023-12-31"},
    )


def _simulated() -> Portfolio:
    simulate = pytest.importorskip("recovery.simulate")
    if not hasattr(simulate, "simulate_portfolio"):
        pytest.skip("recovery.simulate.simulate_portfolio not available yet")
    portfolio, _ = simulate.simulate_portfolio(
        n_accounts=300, months=24, seed=1, scenario="benchmark"
    )
    return portfolio


@pytest.fixture(params=["synthetic", "simulator"], scope="module")
def book(request):
    portfolio = synthetic_ledger() if request.param == "synthetic" else _simulated()
    snaps = aging.snapshots(portfolio)
    month_ends = pd.DatetimeIndex(sorted(snaps["month_end"].unique()))
    states = aging.account_states(portfolio, month_ends)
    return portfolio, snaps, states, month_ends


def _state(row) -> str:
    if row.status == "open":
        return str(row.bucket)
    return "other_exit" if row.status == "closed" else str(row.status)


def test_roll_counts_match_states_from_account_states(book):
    portfolio, snaps, states, month_ends = book
    # reference: plain dictionaries of account -> state per month end, slow loop
    by_month = {
        m: {r.account_id: _state(r) for r in part.itertuples()}
        for m, part in states.groupby("as_of")
    }
    expected = Counter()
    for m, m1 in zip(month_ends[:-1], month_ends[1:], strict=True):
        now, nxt = by_month.get(m, {}), by_month.get(m1, {})
        for account, state in now.items():
            if state in EXITS:
                continue
            expected[(m, state, nxt.get(account, "other_exit"))] += 1
        for account, state in nxt.items():
            before = now.get(account)
            if before is None or (before in EXITS and state not in EXITS):
                expected[(m, "new", state)] += 1
    got = roll_rates(snaps)
    got = Counter({(r.month_end, r.from_state, r.to_state): int(r.count) for r in got.itertuples()})
    assert sum(expected.values()) > 100
    assert got == expected


def test_amount_collected_matches_payments(book):
    portfolio, snaps, _, month_ends = book
    pay = portfolio.payments.copy()
    pay["month_end"] = (
        pd.to_datetime(pay["payment_date"])
        .dt.to_period("M")
        .dt.to_timestamp(how="end")
        .dt.normalize()
    )
    if "reversed_date" in pay:
        reversed_by = pd.to_datetime(pay["reversed_date"]) <= pay["month_end"]
        pay = pay[~reversed_by.fillna(False)]
    direct = pay.groupby("month_end")["amount"].sum().reindex(month_ends, fill_value=0.0)
    k = monthly_kpis(snaps).set_index("month_end")["amount_collected"]
    # payments dated before an account's first month end fall in that month, as here
    np.testing.assert_allclose(k.reindex(month_ends).to_numpy(), direct.to_numpy(), rtol=1e-9)


def test_overdue_and_cure_rates_match_account_states(book):
    _, snaps, states, month_ends = book
    k = monthly_kpis(snaps).set_index("month_end")
    open_ = states[states["status"].astype(str) == "open"]
    rate = open_.groupby("as_of").apply(
        lambda g: (g["dpd"] >= 30).sum() / len(g), include_groups=False
    )
    np.testing.assert_allclose(k["overdue_rate_30plus"].reindex(rate.index), rate.to_numpy())
    labels = Config().aging.bucket_labels()
    wide = states.assign(state=[_state(r) for r in states.itertuples()]).pivot(
        index="account_id", columns="as_of", values="state"
    )
    for m, m1 in zip(month_ends[:-1], month_ends[1:], strict=True):
        late = wide[m].isin(labels[1:])
        if late.sum() == 0:
            continue
        cured = (wide.loc[late, m1] == labels[0]).mean()
        assert k.loc[m1, "cure_rate"] == pytest.approx(cured)


def test_collection_rates_match_payments_by_start_state(book):
    portfolio, snaps, states, month_ends = book
    # reference: payments of month m, grouped by the account's state at m - 1 (from
    # account_states), for the accounts on the books at m - 1
    pay = portfolio.payments.copy()
    pay["period"] = pd.to_datetime(pay["payment_date"]).dt.to_period("M")
    if "reversed_date" in pay:
        rev = pd.to_datetime(pay["reversed_date"])
        pay = pay[~(rev.dt.to_period("M") <= pay["period"]).fillna(False)]
    paid = pay.groupby(["account_id", "period"])["amount"].sum()
    st = states.assign(state=[_state(r) for r in states.itertuples()])
    st = st[~st["state"].isin(EXITS)]
    st["period"] = pd.to_datetime(st["as_of"]).dt.to_period("M") + 1  # the month collected
    st = st[st["as_of"] < month_ends[-1]]
    st["collected"] = (
        paid.reindex(pd.MultiIndex.from_frame(st[["account_id", "period"]])).fillna(0.0).to_numpy()
    )
    expected = st.groupby(["period", "state"])["collected"].sum()
    got = collection_rates(snaps)
    got = got.set_index([got["month_end"].dt.to_period("M"), "state"])["collected"]
    got.index.names = ["period", "state"]
    pd.testing.assert_series_equal(
        got.sort_index(), expected.reindex(got.index).sort_index(), check_names=False
    )
    assert expected.sum() == pytest.approx(got.sum())


def test_repeated_exit_rows_change_nothing(book):
    portfolio, snaps, _, _ = book
    repeated = aging.snapshots(portfolio, keep_closed=True)
    assert len(repeated) > len(snaps)
    pd.testing.assert_frame_equal(roll_rates(repeated), roll_rates(snaps))
