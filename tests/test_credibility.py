"""Tests of the credibility shrinkage of roll-rate rows (Dirichlet prior, Bühlmann–Straub)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recovery.analytics.credibility import credibility_alpha, shrink_rows
from recovery.errors import DataError


def test_shrink_rows_by_hand():
    # M1: 3 accounts (2 cure, 1 roll), prior 50/50, alpha 3: (2 + 1.5) / 6, (1 + 1.5) / 6
    # M2: no accounts: the prior row; M3: 300 accounts, alpha 3 barely moves it
    counts = pd.DataFrame(
        {"M0": [2.0, 0.0, 150.0], "M2": [1.0, 0.0, 150.0]}, index=["M1", "M2", "M3"]
    )
    prior = pd.DataFrame({"M0": [0.5, 0.2, 0.0], "M2": [0.5, 0.8, 1.0]}, index=counts.index)
    shares, z = shrink_rows(counts, prior, alpha=3.0)
    assert shares.loc["M1"].tolist() == pytest.approx([3.5 / 6, 2.5 / 6])
    assert shares.loc["M2"].tolist() == pytest.approx([0.2, 0.8])
    assert shares.loc["M3", "M0"] == pytest.approx(150 / 303)
    assert z.tolist() == pytest.approx([0.5, 0.0, 300 / 303])
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    # alpha 0: raw rows (the prior only where there is nothing); alpha inf: the prior
    raw, _ = shrink_rows(counts, prior, alpha=0.0)
    assert raw.loc["M1"].tolist() == pytest.approx([2 / 3, 1 / 3])
    pooled, z_inf = shrink_rows(counts, prior, alpha=np.inf)
    pd.testing.assert_frame_equal(pooled, prior)
    assert (z_inf == 0).all()
    with pytest.raises(DataError, match="alpha"):
        shrink_rows(counts, prior, alpha=-1.0)


def test_segment_rows_lean_on_the_portfolio_row():
    idx = pd.MultiIndex.from_tuples([("north", "M1"), ("south", "M1")], names=["region", "from"])
    counts = pd.DataFrame({"M0": [1.0, 40.0], "M2": [0.0, 60.0]}, index=idx)
    book = pd.DataFrame({"M0": [0.41], "M2": [0.59]}, index=["M1"])
    shares, _ = shrink_rows(counts, book, alpha=9.0)
    assert shares.loc[("north", "M1"), "M0"] == pytest.approx((1 + 9 * 0.41) / 10)
    assert shares.loc[("south", "M1"), "M0"] == pytest.approx((40 + 9 * 0.41) / 109)


def test_alpha_by_hand():
    # Two months of M1 rows, 100 accounts each: 70/30 and 50/50. Pooled 0.6/0.4,
    # within variance of one account 1 − 0.6² − 0.4² = 0.48. Between:
    # A = Σ n ‖X − π‖² − (R − 1) s² = 100 · 0.02 + 100 · 0.02 − 0.48 = 3.52;
    # D = n − Σ n² / n = 200 − 100 = 100; τ² = 0.0352; alpha = 0.48 / 0.0352.
    c = pd.DataFrame(
        {"month": [1, 2], "from_state": ["M1", "M1"], "M0": [70.0, 50.0], "M2": [30.0, 50.0]}
    )
    assert credibility_alpha(c, "month") == pytest.approx(0.48 / 0.0352)
    # one month only, or months no more different than noise: infinite (the pooled row)
    assert credibility_alpha(c[c["month"] == 1], "month") == np.inf
    same = c.assign(M0=[60.0, 60.0], M2=[40.0, 40.0])
    assert credibility_alpha(same, "month") == np.inf


def test_alpha_recovers_the_truth_on_simulated_rows():
    # 40 months whose true cure share varies with sd 0.05 around 0.4; 400 accounts a
    # month. True alpha = s² / τ² with s² = 2 p (1 − p) and τ² = 2 · 0.05² (two columns).
    rng = np.random.default_rng(3)
    p = np.clip(0.4 + 0.05 * rng.standard_normal(40), 0.01, 0.99)
    cured = rng.binomial(400, p)
    c = pd.DataFrame({"month": np.arange(40), "from_state": "M1", "M0": cured, "M2": 400 - cured})
    truth = (2 * 0.4 * 0.6) / (2 * 0.05**2)
    assert credibility_alpha(c, "month") == pytest.approx(truth, rel=0.5)
    # the same months with no true variation: alpha is far larger (or infinite)
    flat = rng.binomial(400, 0.4, 40)
    c2 = c.assign(M0=flat, M2=400 - flat)
    assert credibility_alpha(c2, "month") > 10 * truth
