"""Roll rates, trends and flow rates on a hand-built snapshot table.

The book (four month ends, January–April 2024), balances in currency units:

=======  ==================  ==================  ==================  =================
account  2024-01-31          2024-02-29          2024-03-31          2024-04-30
=======  ==================  ==================  ==================  =================
A        M0 dpd 0, 100       M1 dpd 30, 95       M2 dpd 60, 95       M4 dpd 91, 95
B        M1 dpd 15, 50       M0, 40              paid_off, 0         paid_off (repeat)
C        —                   M0, 80 (new)        M0, 70              — (vanished)
D        M6 dpd 170, 60      charged_off, 60     charged_off, 55     settled, 0
E        M0, 200             M0, 190             M1 dpd 10, 190      closed, 0
F        —                   —                   —                   M0, 300 (new)
=======  ==================  ==================  ==================  =================

A never pays and skips M3 (30 → 60 → 91 DPD: M1 → M2 → M4).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from conftest import hand_snapshot_book
from recovery.analytics.roll_rates import (
    flow_rates,
    plot_flow_rates,
    plot_roll_rate_matrix,
    plot_roll_rate_trends,
    roll_rate_matrix,
    roll_rate_trends,
    roll_rates,
)
from recovery.analytics.states import snapshot_states, transitions
from recovery.config import Config
from recovery.errors import DataError

J, F, M, A = "2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"
PRODUCT = {"A": "card", "B": "card", "E": "card", "C": "loan", "D": "loan", "F": "loan"}


@pytest.fixture
def book() -> pd.DataFrame:
    return hand_snapshot_book()


def _cell(matrix: pd.DataFrame, row: str, col: str) -> float:
    return float(matrix.loc[row, col])


def test_states_and_repeated_exits(book):
    s = snapshot_states(book)
    state = s.set_index(["account_id", "month_end"])["state"]
    assert state[("E", pd.Timestamp(A))] == "other_exit"  # closed reads as other_exit
    assert state[("D", pd.Timestamp(F))] == "charged_off"
    repeated = s[~s["first_exit"]]
    assert repeated[["account_id", "month_end"]].values.tolist() == [["B", pd.Timestamp(A)]]


def test_one_month_matrix_by_count_and_balance(book):
    counts = roll_rate_matrix(book, month=J)
    # on the books at Jan: A (M0), E (M0), B (M1), D (M6); C enters in Feb
    assert list(counts.index) == ["M0", "M1", "M6", "new"]
    # M0: A -> M1, E -> M0: 1/2 each
    assert _cell(counts, "M0", "M0") == 0.5 and _cell(counts, "M0", "M1") == 0.5
    assert _cell(counts, "M1", "M0") == 1.0  # B cures
    assert _cell(counts, "M6", "charged_off") == 1.0  # D charged off
    assert _cell(counts, "new", "M0") == 1.0  # C
    balance = roll_rate_matrix(book, month=J, weight="balance")
    # M0 by balance at Jan: E 200 stays, A 100 rolls: 200/300 and 100/300
    assert _cell(balance, "M0", "M0") == pytest.approx(200 / 300)
    assert _cell(balance, "M0", "M1") == pytest.approx(100 / 300)
    np.testing.assert_allclose(counts.sum(axis=1), 1.0)
    np.testing.assert_allclose(balance.sum(axis=1), 1.0)


def test_pooled_and_mean_matrices(book):
    # M0 transitions: Jan A->M1, E->M0; Feb B->paid_off, C->M0, E->M1; Mar C->other_exit
    pooled = roll_rate_matrix(book)
    assert _cell(pooled, "M0", "M0") == pytest.approx(2 / 6)
    assert _cell(pooled, "M0", "M1") == pytest.approx(2 / 6)
    assert _cell(pooled, "M0", "paid_off") == pytest.approx(1 / 6)
    assert _cell(pooled, "M0", "other_exit") == pytest.approx(1 / 6)
    # balances at the start month: A 100, E 200 | B 40, C 80, E 190 | C 70 -> total 680
    by_balance = roll_rate_matrix(book, weight="balance")
    assert _cell(by_balance, "M0", "M0") == pytest.approx((200 + 80) / 680)
    assert _cell(by_balance, "M0", "M1") == pytest.approx((100 + 190) / 680)
    assert _cell(by_balance, "M0", "paid_off") == pytest.approx(40 / 680)
    # simple mean of monthly M0 rows: Jan (1/2 M0, 1/2 M1), Feb (1/3 M0, 1/3 M1,
    # 1/3 paid_off), Mar (1 other_exit) -> M0 (1/2 + 1/3 + 0) / 3 = 5/18
    mean = roll_rate_matrix(book, average="mean")
    assert _cell(mean, "M0", "M0") == pytest.approx(5 / 18)
    assert _cell(mean, "M0", "M1") == pytest.approx(5 / 18)
    assert _cell(mean, "M0", "paid_off") == pytest.approx(1 / 9)
    assert _cell(mean, "M0", "other_exit") == pytest.approx(1 / 3)
    # charged_off row: Feb D stays charged off, Mar D settles
    assert _cell(pooled, "charged_off", "charged_off") == 0.5
    assert _cell(pooled, "charged_off", "settled") == 0.5
    for m in (pooled, by_balance, mean):
        np.testing.assert_allclose(m.sum(axis=1), 1.0)
    # a range: Feb and Mar start months only
    ranged = roll_rate_matrix(book, start=F, end=M, normalize=False)
    assert ranged.loc["M0"].sum() == 4  # B, C, E in Feb; C in Mar


def test_skipping_buckets_roll_forward(book):
    t = transitions(book)
    a = t[t["account_id"] == "A"][["from_state", "to_state"]].values.tolist()
    assert a == [["M0", "M1"], ["M1", "M2"], ["M2", "M4"]]
    trends = roll_rate_trends(book).set_index(["month_end", "from_state"])
    # A: M2 at Mar -> M4 at Apr is a roll forward (skipping M3), not lost
    assert trends.loc[(pd.Timestamp(M), "M2"), "roll_forward"] == 1.0
    assert trends.loc[(pd.Timestamp(J), "M1"), "cure"] == 1.0  # B
    assert trends.loc[(pd.Timestamp(J), "M6"), "roll_forward"] == 1.0  # D charged off
    assert trends.loc[(pd.Timestamp(F), "charged_off"), "stay"] == 1.0
    assert trends.loc[(pd.Timestamp(M), "charged_off"), "settled"] == 1.0
    # M0 at Feb: B paid off, C stays, E rolls -> 1/3 each; cure undefined from M0
    row = trends.loc[(pd.Timestamp(F), "M0")]
    assert row["paid_off"] == pytest.approx(1 / 3) and row["stay"] == pytest.approx(1 / 3)
    assert row["roll_forward"] == pytest.approx(1 / 3) and np.isnan(row["cure"])
    rates = ["roll_forward", "stay", "roll_back", "cure", "paid_off", "settled", "other_exit"]
    np.testing.assert_allclose(trends[rates].fillna(0).sum(axis=1), 1.0)


def test_counts_reconcile_with_snapshots(book):
    """Nothing is lost between months: from-counts and to-counts match the snapshots."""
    s = snapshot_states(book)
    s = s[s["first_exit"]]
    t = transitions(book)
    for m, part in t.groupby("month_end"):
        nxt = part["next_month_end"].iloc[0]
        on_books_m = s[(s["month_end"] == m) & ~s["state"].isin(["paid_off", "settled"])]
        on_books_m = on_books_m[on_books_m["state"] != "other_exit"]
        assert (part["from_state"] != "new").sum() == len(on_books_m)
        rows_next = s[s["month_end"] == nxt]
        vanished = part[part["to_state"].eq("other_exit") & part["next_balance"].eq(0)]
        vanished = vanished[~vanished["account_id"].isin(rows_next["account_id"])]
        assert len(part) - len(vanished) == len(rows_next)
        # every account at m + 1 appears exactly once as a destination
        present = part[part["account_id"].isin(rows_next["account_id"])]
        assert sorted(present["account_id"]) == sorted(rows_next["account_id"])
        # state at m + 1 matches the snapshot state
        merged = present.merge(rows_next[["account_id", "state"]], on="account_id")
        assert (merged["to_state"] == merged["state"]).all()
    # Mar -> Apr: C vanished (other_exit), E closed (other_exit), F new
    apr = t[t["month_end"] == pd.Timestamp(M)].set_index("account_id")
    assert apr.loc["C", "to_state"] == "other_exit" and apr.loc["E", "to_state"] == "other_exit"
    assert apr.loc["F", "from_state"] == "new"
    assert "B" not in apr.index  # paid off in Mar, repeat row in Apr ignored


def test_long_roll_rates_rows_sum_to_one(book):
    r = roll_rates(book)
    sums = r.groupby(["month_end", "from_state"])[["count_rate", "balance_rate"]].sum()
    np.testing.assert_allclose(sums["count_rate"], 1.0)
    np.testing.assert_allclose(sums["balance_rate"].dropna(), 1.0)
    # total transitions = 4 (Jan) + 1 new + 5 (Feb) + 4 (Mar) + 1 new
    assert r["count"].sum() == 15


def test_flow_rates_by_hand(book):
    f = flow_rates(book).set_index(["month_end", "from_bucket"])
    # Jan -> Feb: M1 balance at Feb (A 95) / M0 balance at Jan (A 100 + E 200)
    assert f.loc[(pd.Timestamp(J), "M0"), "flow_rate"] == pytest.approx(95 / 300)
    # newly charged off in Feb (D 60) / M6 at Jan (D 60)
    assert f.loc[(pd.Timestamp(J), "M6"), "to_bucket"] == "charged_off"
    assert f.loc[(pd.Timestamp(J), "M6"), "flow_rate"] == pytest.approx(1.0)
    # Feb -> Mar: M1 at Mar (E 190) / M0 at Feb (B 40 + C 80 + E 190 = 310)
    assert f.loc[(pd.Timestamp(F), "M0"), "flow_rate"] == pytest.approx(190 / 310)
    assert f.loc[(pd.Timestamp(F), "M1"), "flow_rate"] == pytest.approx(95 / 95)
    # D was already charged off at Feb: nothing newly charged off in Mar, no M6 at Feb
    assert np.isnan(f.loc[(pd.Timestamp(F), "M6"), "flow_rate"])
    # Mar -> Apr: A skips M3, so M2 -> M3 is 0 and M3 -> M4 has no base
    assert f.loc[(pd.Timestamp(M), "M2"), "flow_rate"] == 0.0
    assert np.isnan(f.loc[(pd.Timestamp(M), "M3"), "flow_rate"])
    counts = flow_rates(book, weight="count").set_index(["month_end", "from_bucket"])
    assert counts.loc[(pd.Timestamp(J), "M0"), "flow_rate"] == pytest.approx(1 / 2)


def test_segments_from_accounts_table(book):
    accounts = pd.DataFrame({"account_id": list(PRODUCT), "product": list(PRODUCT.values())})
    seg = roll_rate_matrix(book, segment="product", accounts=accounts, normalize=False)
    total = roll_rate_matrix(book, normalize=False)
    summed = seg.groupby(level="from_state").sum().reindex(total.index)
    np.testing.assert_allclose(summed.to_numpy(), total.to_numpy())
    rates = roll_rate_matrix(book, segment="product", accounts=accounts)
    # card M0 rows: Jan A->M1, E->M0; Feb B->paid_off, E->M1 -> M1 2/4
    assert rates.loc[("card", "M0"), "M1"] == pytest.approx(0.5)
    # loan M0 rows: Feb C->M0, Mar C->other_exit
    assert rates.loc[("loan", "M0"), "other_exit"] == pytest.approx(0.5)
    np.testing.assert_allclose(rates.sum(axis=1), 1.0)
    trends = roll_rate_trends(book, segment="product", accounts=accounts)
    assert set(trends["product"]) == {"card", "loan"}
    flows = flow_rates(book, segment="product", accounts=accounts)
    assert set(flows["product"]) == {"card", "loan"}


def test_segment_rows_shrunk_toward_the_portfolio_row(book):
    accounts = pd.DataFrame({"account_id": list(PRODUCT), "product": list(PRODUCT.values())})
    kw = {"segment": "product", "accounts": accounts}
    # portfolio M0 rows (6): Jan A->M1, E->M0; Feb B->paid_off, C->M0, E->M1; Mar
    # C->other_exit. With alpha = 2 accounts: card (4 rows, 2 to M1) gives
    # (2 + 2 · 2/6) / (4 + 2); loan (2 rows, 1 out) gives (1 + 2 · 1/6) / (2 + 2)
    rates = roll_rate_matrix(book, shrinkage=2.0, **kw)
    assert rates.loc[("card", "M0"), "M1"] == pytest.approx((2 + 2 * 2 / 6) / 6)
    assert rates.loc[("loan", "M0"), "other_exit"] == pytest.approx((1 + 2 * 1 / 6) / 4)
    np.testing.assert_allclose(rates.sum(axis=1), 1.0)
    # alpha 0 leaves the rows raw; "estimate" lies between raw and the portfolio rows
    raw = roll_rate_matrix(book, shrinkage=0.0, **kw)
    pd.testing.assert_frame_equal(raw, roll_rate_matrix(book, **kw))
    est = roll_rate_matrix(book, shrinkage="estimate", **kw)
    lo, hi = sorted([raw.loc[("card", "M0"), "M1"], 2 / 6])
    assert lo - 1e-12 <= est.loc[("card", "M0"), "M1"] <= hi + 1e-12
    np.testing.assert_allclose(
        roll_rate_matrix(book, weight="balance", shrinkage=2.0, **kw).sum(axis=1), 1.0
    )
    with pytest.raises(DataError, match="shrinkage"):
        roll_rate_matrix(book, shrinkage="lots", **kw)


def test_segment_column_in_snapshots_and_vintage(book):
    book = book.assign(product=book["account_id"].map(PRODUCT))
    r = roll_rates(book, segment="product")
    assert set(r["product"]) == {"card", "loan"}
    book["origination_date"] = pd.Timestamp("2023-06-15")
    v = roll_rates(book, segment="vintage")
    assert set(v["vintage"]) == {"2023-06"}
    with pytest.raises(DataError, match="segment column 'region'"):
        roll_rates(book, segment="region")


def test_bad_input_is_a_clear_error(book):
    with pytest.raises(DataError, match="lacks column"):
        roll_rates(book.drop(columns="status"))
    with pytest.raises(DataError, match="duplicated"):
        roll_rates(pd.concat([book, book.head(1)]))
    with pytest.raises(DataError, match="not in config"):
        roll_rates(book.assign(bucket=book["bucket"].replace({"M0": "current"})))
    with pytest.raises(DataError, match="no month-to-month"):
        roll_rate_matrix(book, month="2030-01-31")


def test_missing_bucket_derived_from_dpd_and_custom_buckets(book):
    no_bucket = book.assign(bucket=None)
    pd.testing.assert_frame_equal(roll_rate_matrix(no_bucket), roll_rate_matrix(book))
    cfg = Config.from_dict(
        {"aging": {"bucket_edges": [0, 30, 90], "bucket_names": ["C", "X1", "X2", "X3"]}}
    )
    m = roll_rate_matrix(book.assign(bucket=None), config=cfg)
    # A: dpd 0 -> 30 -> 60 -> 91 is C -> X1 -> X2 -> X3
    assert m.loc["X2", "X3"] == 1.0


def test_plots_return_axes(book):
    ax = plot_roll_rate_matrix(roll_rate_matrix(book))
    assert ax.get_title() == "Roll rates"
    ax = plot_roll_rate_trends(roll_rate_trends(book), rate="cure")
    assert len(ax.get_lines()) >= 1
    ax = plot_flow_rates(flow_rates(book).dropna())
    assert ax.get_yscale() == "log"


def test_pooled_windows(book):
    trends = roll_rate_trends(book, window=2).set_index(["month_end", "from_state"])
    # Feb, pooling Jan (A -> M1, E -> M0) and Feb (B -> paid_off, C -> M0, E -> M1)
    row = trends.loc[(pd.Timestamp(F), "M0")]
    assert row["n"] == 5
    assert row["stay"] == pytest.approx(2 / 5) and row["roll_forward"] == pytest.approx(2 / 5)
    assert row["paid_off"] == pytest.approx(1 / 5)
    flows = flow_rates(book, window=2).set_index(["month_end", "from_bucket"])
    # Feb: (M1 at Feb 95 + M1 at Mar 190) / (M0 at Jan 300 + M0 at Feb 310)
    assert flows.loc[(pd.Timestamp(F), "M0"), "flow_rate"] == pytest.approx(285 / 610)
    # a window of 1 is the monthly table
    pd.testing.assert_frame_equal(roll_rate_trends(book, window=1), roll_rate_trends(book))
    with pytest.raises(ValueError, match="window"):
        flow_rates(book, window=0)


def test_wilson_intervals(book):
    r = roll_rates(book, confidence=0.95).set_index(["month_end", "from_state", "to_state"])
    # Jan M0: 1 of 2 to M1. Wilson, z = 1.95996: centre (0.5 + z^2/4) / (1 + z^2/2) = 0.5,
    # half = z * sqrt(0.25/2 + z^2/16) / (1 + z^2/2) = 0.4055 -> (0.0945, 0.9055)
    row = r.loc[(pd.Timestamp(J), "M0", "M1")]
    assert row["count_rate_low"] == pytest.approx(0.0945, abs=5e-4)
    assert row["count_rate_high"] == pytest.approx(0.9055, abs=5e-4)
    assert (r["count_rate_low"] <= r["count_rate"]).all()
    assert (r["count_rate"] <= r["count_rate_high"]).all()
    from recovery.analytics.roll_rates import wilson_interval

    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(np.array([1]), np.array([2]), 1.5)


def test_balance_weights_use_the_exposure_not_a_credit_balance():
    """Issue 18: a negative (credit) balance given straight to the library weighs 0."""
    s = pd.DataFrame(
        {
            "account_id": ["A", "B", "C", "A", "B", "C"],
            "month_end": pd.to_datetime(["2024-01-31"] * 3 + ["2024-02-29"] * 3),
            "dpd": [5, 5, 5, 0, 35, 35],
            "bucket": ["M1", "M1", "M1", "M0", "M2", "M2"],
            "balance": [30.0, 10.0, -200.0, 25.0, 10.0, -190.0],
            "status": ["open"] * 6,
        }
    )
    m = roll_rate_matrix(s, weight="balance")
    # M1 at January: exposures 30, 10 and 0 (C's credit) -> M0 30 / 40, M2 10 / 40
    assert m.loc["M1", ["M0", "M2"]].tolist() == [0.75, 0.25]
    assert (snapshot_states(s)["balance"] >= 0).all()
