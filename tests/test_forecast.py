"""Tests of the roll-rate (Markov) forecaster; its backtests: tests/test_backtest.py."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from recovery.analytics.forecast import RollRateForecaster
from recovery.analytics.liquidation import ERCForecaster
from recovery.errors import DataError
from synthetic_snapshots import snapshot_rows


def _hand_book() -> pd.DataFrame:
    # Jan -> Feb transitions from M1: A M1->M2 (bal 100 -> 100), B M1->M0 (cure, 100 ->
    # 60), C M1->M1 (50 -> 50), D M1->M2 (50 -> 40). From M2: E M2->M3 (200 -> 200).
    # New delinquency in Feb: F M0->M1 (Jan 300, Feb balance 300); G current both months.
    jan, feb = "2024-01-31", "2024-02-29"
    return snapshot_rows(
        [
            ("A", jan, 10, "M1", 100.0, 0.0, "open"),
            ("A", feb, 40, "M2", 100.0, 0.0, "open"),
            ("B", jan, 10, "M1", 100.0, 0.0, "open"),
            ("B", feb, 0, "M0", 60.0, 40.0, "open"),
            ("C", jan, 20, "M1", 50.0, 0.0, "open"),
            ("C", feb, 20, "M1", 50.0, 0.0, "open"),
            ("D", jan, 25, "M1", 50.0, 0.0, "open"),
            ("D", feb, 55, "M2", 40.0, 10.0, "open"),
            ("E", jan, 45, "M2", 200.0, 0.0, "open"),
            ("E", feb, 75, "M3", 200.0, 0.0, "open"),
            ("F", jan, 0, "M0", 300.0, 0.0, "open"),
            ("F", feb, 5, "M1", 300.0, 0.0, "open"),
            ("G", jan, 0, "M0", 900.0, 10.0, "open"),
            ("G", feb, 0, "M0", 890.0, 10.0, "open"),
        ]
    )


def test_matrices_inflow_and_one_step_forecast_by_hand():
    f = RollRateForecaster(lookback_months=1, new_volume="recent_mean", new_volume_growth=0.0)
    f.fit(_hand_book())
    p, t = f.count_matrix_, f.balance_matrix_
    # from M1: 4 accounts -> M2 2, M0 1, M1 1 (one pair of months: the pooled row is
    # the same row, so shrinkage changes nothing)
    assert p.loc["M1", ["M1", "M2", "M0"]].tolist() == [0.25, 0.5, 0.25]
    # balance at Jan: M1 held 300, of which C 50 stayed in M1, A 100 + D 50 rolled to M2,
    # B 100 cured: shares of the balance at m, so the row sums to 1
    assert t.loc["M1", ["M1", "M2", "M0"]].tolist() == pytest.approx(
        [50 / 300, 150 / 300, 100 / 300]
    )
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(t.sum(axis=1), 1.0)
    # growth while overdue, M1: A 100 -> 100, C 50 -> 50, D 50 -> 40: observed 190 / 200;
    # noise = (Σ b·r² / Σ b − 0.95²) / n_eff with n_eff = 200² / (100² + 50² + 50²);
    # prior 1 with sd 1.05 − 1; weight of the data z = prior var / (prior var + noise).
    # One pair of months is one group: α is infinite, the pooled factor is used.
    noise = ((100 + 50 + 50 * 0.8**2) / 200 - 0.95**2) / (200**2 / (100**2 + 2 * 50**2))
    z = 0.05**2 / (0.05**2 + noise)
    growth = 1 + z * (0.95 - 1)
    assert f.shrinkage_alpha_ == np.inf and (f.credibility_ == 0).all()
    assert f.accrual_.loc["M1", "observed"] == pytest.approx(0.95)
    assert f.accrual_.loc["M1", "used"] == pytest.approx(growth)
    assert f.accrual_.loc["M2", "used"] == pytest.approx(1.0)  # E: 200 -> 200, no noise
    # an unseen bucket (M5) stays where it is
    assert p.loc["M5", "M5"] == 1.0
    assert f.inflow_.loc["M1"].tolist() == [1.0, 300.0]
    # starting book at Feb: M1 {C, F} = 2 / 350; M2 {A, D} = 2 / 140; M3 {E} = 1 / 200
    assert f.initial_.loc[["M1", "M2", "M3"], "count"].tolist() == [2.0, 2.0, 1.0]
    # one step: M1 = 2 * 0.25 + inflow 1 = 1.5; M2 = 2 * 0.5 = 1.0 (M2 -> M3 for all)
    # M3 = 2 (from M2) + 1 stays (M3 unseen) = 3
    one = f.predict(1).set_index("state")
    assert one.loc[["M1", "M2", "M3"], "count"].tolist() == pytest.approx([1.5, 1.0, 3.0])
    # balance M1 = 350 * 50/300 (stays) * growth + 300 (inflow)
    assert one.loc["M1", "balance"] == pytest.approx(350 * 50 / 300 * growth + 300)
    assert f.health_["stable"] is False  # M3 is reached and never seen leaving
    assert "M3" in " ".join(f.warnings_)


def test_counts_reconcile_without_inflow(stable_book):
    f = RollRateForecaster(new_volume="none").fit(stable_book)
    n0 = f.initial_["count"].sum()
    totals = f.predict_totals(12)
    p = f.count_matrix_
    # whatever leaves the delinquent buckets (cure, exits) plus what stays = the start
    stay = totals["delinquent_count"].to_numpy()
    left = np.r_[n0, stay[:-1]] - stay
    exits = p.drop(columns=p.index).sum(axis=1)
    n = f.initial_["count"].to_numpy()
    for h in range(12):
        assert left[h] == pytest.approx(float(n @ exits.to_numpy()))
        n = n @ p[list(p.index)].to_numpy()
    assert (totals["gross_charge_off_count"] >= 0).all()


def test_explicit_new_volume_and_growth():
    given = pd.DataFrame({"count": [10.0], "balance": [1000.0]}, index=["M1"])
    f = RollRateForecaster(
        lookback_months=1, new_volume=given, new_volume_growth=0.1, trend_damping=1.0
    )
    f.fit(_hand_book())
    assert f.inflow_.loc["M1", "count"] == 10.0 and f.inflow_.loc["M2", "count"] == 0.0
    pred = f.predict(2).set_index(["horizon", "state"])
    # h=1: 2 * 0.25 + 10 = 10.5; h=2: 10.5 * 0.25 + 10 * (1 + 0.1) = 13.625
    assert pred.loc[(1, "M1"), "count"] == pytest.approx(10.5)
    assert pred.loc[(2, "M1"), "count"] == pytest.approx(13.625)
    # damped (φ = 0.5): by h=2 the inflow grew by 0.1 * 0.5, by h=3 by 0.1 * (0.5 + 0.25).
    # The trend's own term is the forecast minus the flat-inflow one: h=2: 10 * 0.05 =
    # 0.5 in M1; h=3: of that 0.5, a quarter stays in M1 and half rolls to M2, plus
    # 10 * 0.075 new: 0.125 + 0.25 + 0.75 = 1.125
    damped = RollRateForecaster(
        lookback_months=1, new_volume=given, new_volume_growth=0.1, trend_damping=0.5
    ).fit(_hand_book())
    totals = damped.predict_totals(3)
    flat = RollRateForecaster(lookback_months=1, new_volume=given, new_volume_growth=0.0)
    flat_totals = flat.fit(_hand_book()).predict_totals(3)
    trend = totals["delinquent_count"] - flat_totals["delinquent_count"]
    np.testing.assert_allclose(totals["delinquent_count_trend"], trend)
    assert totals["delinquent_count_trend"].tolist() == pytest.approx([0.0, 0.5, 1.125])
    m1 = damped.predict(3).set_index(["horizon", "state"]).loc[(3, "M1"), "count"]
    assert m1 == pytest.approx((10.5 * 0.25 + 10 * 1.05) * 0.25 + 10 * 1.075)
    with pytest.raises(DataError, match="new_volume"):
        RollRateForecaster(new_volume="lots").fit(_hand_book())


def test_fit_uses_only_data_up_to_the_origin(stable_book):
    book = stable_book
    end = pd.Timestamp("2021-06-30")
    a = RollRateForecaster().fit(book, data_end=end).predict_totals(6)
    b = RollRateForecaster().fit(book[book["month_end"] <= end]).predict_totals(6)
    pd.testing.assert_frame_equal(a, b)


def test_recoveries_from_erc_and_net_charge_offs(stable_book):
    book = stable_book
    f = RollRateForecaster(recoveries=ERCForecaster(n_bootstrap=0)).fit(book)
    tot = f.predict_totals(6)
    assert (tot["recoveries"] > 0).all()
    np.testing.assert_allclose(
        tot["net_charge_off_balance"], tot["gross_charge_off_balance"] - tot["recoveries"]
    )
    # the ERC part alone is the collections forecast of the book charged off so far
    erc = ERCForecaster(n_bootstrap=0).fit(book)
    assert (tot["recoveries"].to_numpy() >= erc.predict(6)["collections"].to_numpy() - 1e-9).all()


def test_errors():
    with pytest.raises(DataError, match="not fitted"):
        RollRateForecaster().predict(3)
    one_month = _hand_book()[lambda d: d["month_end"] == "2024-01-31"]
    with pytest.raises(DataError, match="consecutive"):
        RollRateForecaster().fit(one_month)


# --------------------------------------------------------------------------- sane forecasts


def card_book(m1_stay: float, seed: int = 0) -> pd.DataFrame:
    """Six month ends of a card book whose overdue balances grow (interest, fees, spend).

    3,000 current cards, about 400 overdue in M2–M6 and a thin M1 (30 cards, a few
    new ones a month). Overdue cards in M2–M6 cure 10 %, stay 20 %, roll 70 % a month
    and their balances grow 3 % a month; M1 cards stay in M1 with probability
    ``m1_stay`` and their balance then grows 70 % (the pattern of the card export in
    issue 18: a thin M1 row whose balance self-loop is above 1).
    """
    rng = np.random.default_rng(seed)
    labels = ["M0", "M1", "M2", "M3", "M4", "M5", "M6"]
    state = np.r_[np.zeros(3000, int), rng.integers(2, 7, 400), np.ones(30, int)]
    bal = rng.lognormal(np.log(1000), 0.6, len(state))
    frames = []
    for m, end in enumerate(pd.date_range("2024-01-31", periods=6, freq="ME")):
        if m:  # one month of moves (7 = charged off)
            u = rng.random(len(state))
            m1, late = state == 1, (state >= 2) & (state <= 6)
            new = state.copy()
            new[(state == 0) & (u < 0.003)] = 1
            new[m1] = np.where(u[m1] < m1_stay, 1, np.where(u[m1] < m1_stay + 0.05, 0, 2))
            new[late] = np.where(u[late] < 0.1, 0, state[late] + (u[late] >= 0.3))
            bal = bal * np.where(m1 & (new == 1), 1.7, np.where(late & (new >= 2), 1.03, 1.0))
            state = np.where(state == 7, 7, new)
        frames.append(
            pd.DataFrame(
                {
                    "account_id": [f"C{i}" for i in range(len(state))],
                    "month_end": end,
                    "dpd": np.where(state >= 1, np.minimum(30 * state - 15, 179), 0),
                    "bucket": [labels[s] if s <= 6 else None for s in state],
                    "balance": bal,
                    "paid_in_month": 0.0,
                    "status": np.where(state == 7, "charged_off", "open"),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out["amount_overdue"] = 0.0
    return out


def _balance_per_unit(book: pd.DataFrame) -> pd.DataFrame:
    """Balance at m + 1 by destination per unit of balance at m, pooled (the old T)."""
    s = book.assign(state=book["bucket"].fillna("charged_off"))
    s = s.sort_values(["account_id", "month_end"])
    s["next_state"] = s.groupby("account_id")["state"].shift(-1)
    s["next_balance"] = s.groupby("account_id")["balance"].shift(-1)
    s = s.dropna(subset=["next_state"])
    s = s[s["state"].isin(["M1", "M2", "M3", "M4", "M5", "M6"])]
    moved = s.pivot_table(index="state", columns="next_state", values="next_balance", aggfunc="sum")
    return moved.fillna(0.0).div(s.groupby("state")["balance"].sum(), axis=0)


def test_growing_balances_and_a_thin_self_loop_keep_the_forecast_bounded():
    book = card_book(m1_stay=0.9)
    raw = _balance_per_unit(book)
    # the failing pattern: every overdue row carries more than it had, M1 keeps > 1
    assert (raw.sum(axis=1) > 1.0).all()
    assert raw.loc["M1", "M1"] > 1.3
    assert book[(book["bucket"] == "M1")].groupby("month_end").size().max() < 80  # thin
    f = RollRateForecaster().fit(book)
    today = f.initial_["balance"].sum()
    path = f.predict_totals(12)["delinquent_balance"]
    assert (path > today / 3).all() and (path < 3 * today).all()
    # balances move by shares of the balance at m (rows sum to 1) times a capped growth
    np.testing.assert_allclose(f.balance_matrix_.sum(axis=1), 1.0)
    grew = f.accrual_.loc["M1", "observed"]  # M1 cards staying grow 70 %, those rolling 0 %
    assert grew == pytest.approx(1.7, abs=0.05)
    assert f.accrual_.loc["M1", "used"] == pytest.approx(1.05)
    assert f.accrual_.loc["M3", "used"] == pytest.approx(1.03, abs=0.005)
    # its health is reported, and the capped growth is said in words
    s = f.summary()
    assert s["spectral_radius"].iloc[0] == pytest.approx(f.health_["spectral_radius"])
    assert f.health_["spectral_radius"] < 1 and f.health_["stable"]
    assert {"shrinkage_weight", "growth_factor", "max_monthly_growth"} <= set(s.columns)
    assert any(f"M1 grew by up to {100 * (grew - 1):.0f} %" in w for w in f.warnings_)


def test_a_bucket_that_keeps_and_grows_its_balance_loses_its_growth():
    book = card_book(m1_stay=0.99)
    f = RollRateForecaster().fit(book)
    s = f.balance_matrix_.loc["M1", "M1"]
    # with the capped growth M1 alone would grow: 0.99 · 1.05 > 1
    assert s * 1.05 > 1 and f.health_["spectral_radius_fitted"] >= 1
    assert f.health_["fallback"] == "M1"
    assert f.accrual_.loc["M1", "used"] == 1.0  # only M1 loses its growth
    assert f.accrual_.loc["M4", "used"] == pytest.approx(1.03, abs=0.005)
    assert f.health_["spectral_radius"] == pytest.approx(s) and f.health_["stable"]
    assert any("grow without bound" in w for w in f.warnings_)
    today = f.initial_["balance"].sum()
    path = f.predict_totals(12)["delinquent_balance"]
    assert (path > today / 3).all() and (path < 3 * today).all()


def test_a_thin_recent_row_leans_on_the_row_of_all_months():
    # Jan -> Feb: 10 M1 accounts, 5 cure and 5 roll to M2; Feb -> Mar (the lookback):
    # 2 M1 accounts, both roll. With alpha = 4 accounts the recent row is
    # (counts + 4 · pooled) / (2 + 4), pooled = 5/12 cure, 7/12 roll.
    rows = []
    for i in range(10):
        rows += [(f"A{i}", "2024-01-31", 10, "M1", 100.0, 0.0, "open")]
        rows += (
            [(f"A{i}", "2024-02-29", 0, "M0", 100.0, 0.0, "open")]
            if i < 5
            else [(f"A{i}", "2024-02-29", 40, "M2", 100.0, 0.0, "open")]
        )
    for i in range(2):
        rows += [(f"B{i}", "2024-02-29", 10, "M1", 100.0, 0.0, "open")]
        rows += [(f"B{i}", "2024-03-31", 40, "M2", 100.0, 0.0, "open")]
    f = RollRateForecaster(lookback_months=1, new_volume="none", shrinkage=4.0)
    f.fit(snapshot_rows(rows))
    p = f.count_matrix_
    assert p.loc["M1", "M2"] == pytest.approx((2 + 4 * 7 / 12) / 6)
    assert p.loc["M1", "M0"] == pytest.approx((0 + 4 * 5 / 12) / 6)
    assert f.summary().loc["M1", "shrinkage_weight"] == pytest.approx(4 / 6)
    # no shrinkage: the recent months raw
    raw = RollRateForecaster(lookback_months=1, new_volume="none", shrinkage=0.0)
    assert raw.fit(snapshot_rows(rows)).count_matrix_.loc["M1", "M2"] == 1.0
    with pytest.raises(DataError, match="shrinkage"):
        RollRateForecaster(shrinkage=-1.0).fit(snapshot_rows(rows))
