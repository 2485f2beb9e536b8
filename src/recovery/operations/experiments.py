"""Randomised champion/challenger tests: assign, size and analyse.

Observational comparisons of agents or channels are confounded by case mix: hard cases
go to senior agents and to harsher channels. A randomised share of accounts is what
makes an effect causal. These helpers design such a test (who is randomised, how many
accounts are needed for a target uplift) and analyse it (difference in means with a
confidence interval).

Examples
--------
>>> n = sample_size_per_arm(base_rate=0.20, uplift=0.03)
>>> 2500 < n < 3000
True
>>> arms = assign_randomly(["A1", "A2", "A3", "A4"], share=0.5, seed=1)
>>> int(arms.sum())
2
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "assign_randomly",
    "sample_size_per_arm",
    "difference_in_means",
    "minimum_detectable_uplift",
]


def assign_randomly(account_ids: Sequence[str], share: float = 0.1, seed: int = 0) -> pd.Series:
    """Randomly pick exactly ``round(share × n)`` accounts for the challenger arm.

    Parameters
    ----------
    account_ids : sequence of str
    share : float
        Fraction of accounts in the challenger (treated) arm, 0–1.
    seed : int
        Random seed; the same ids and seed give the same assignment.

    Returns
    -------
    pandas.Series
        Boolean, indexed by account_id: ``True`` = challenger.

    Examples
    --------
    >>> assign_randomly(["A", "B", "C"], share=1 / 3, seed=0).sum()
    np.int64(1)
    """
    if not 0 <= share <= 1:
        raise ValueError("share must be between 0 and 1")
    ids = pd.Index(sorted(set(map(str, account_ids))), name="account_id")
    rng = np.random.default_rng(seed)
    treated = np.zeros(len(ids), dtype=bool)
    treated[rng.permutation(len(ids))[: int(round(share * len(ids)))]] = True
    return pd.Series(treated, index=ids, name="challenger")


def sample_size_per_arm(
    base_rate: float,
    uplift: float,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
) -> int:
    """Accounts needed in the control arm to detect an absolute uplift in a rate.

    Two-sided test of two proportions (normal approximation).

    Parameters
    ----------
    base_rate : float
        Control arm's rate (e.g. share paying within 30 days).
    uplift : float
        Absolute difference to detect (e.g. 0.03 = 3 percentage points).
    alpha : float
        Two-sided significance level.
    power : float
        Probability of detecting the uplift when it is real.
    ratio : float
        Treated-arm size as a multiple of the control arm's.

    Returns
    -------
    int
        Control-arm size; the treated arm needs ``ceil(ratio × n)``.

    Examples
    --------
    >>> sample_size_per_arm(0.5, 0.1)  # (1.96·√(2·.55·.45) + 0.84·√(.25+.24))² / 0.1²
    388
    """
    p1, p2 = base_rate, base_rate + uplift
    if not (0 < p1 < 1 and 0 < p2 < 1) or uplift == 0:
        raise ValueError("base_rate and base_rate + uplift must lie strictly between 0 and 1")
    from scipy import stats  # scipy loads only when a test is computed (fast start-up)

    z_a = stats.norm.ppf(1 - alpha / 2)
    z_b = stats.norm.ppf(power)
    p_bar = (p1 + ratio * p2) / (1 + ratio)
    num = z_a * np.sqrt((1 + 1 / ratio) * p_bar * (1 - p_bar)) + z_b * np.sqrt(
        p1 * (1 - p1) + p2 * (1 - p2) / ratio
    )
    return int(np.ceil((num / uplift) ** 2))


def minimum_detectable_uplift(
    n_per_arm: int, base_rate: float, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Smallest absolute uplift a test with ``n_per_arm`` accounts per arm detects.

    Examples
    --------
    >>> round(minimum_detectable_uplift(388, 0.5), 3)
    0.1
    """
    lo, hi = 1e-6, 1 - base_rate - 1e-6
    for _ in range(60):  # bisection on a monotone function: a few dozen steps
        mid = (lo + hi) / 2
        if sample_size_per_arm(base_rate, mid, alpha, power) > n_per_arm:
            lo = mid
        else:
            hi = mid
    return hi


def difference_in_means(
    outcome: Sequence[float],
    treated: Sequence[bool],
    confidence: float = 0.95,
) -> dict[str, float]:
    """Treated minus control mean with a Welch confidence interval and p-value.

    Parameters
    ----------
    outcome : sequence of float
        Per-account outcome (0/1 paid, or amount collected in currency).
    treated : sequence of bool
        Arm of each account.
    confidence : float

    Returns
    -------
    dict
        ``effect``, ``ci_low``, ``ci_high``, ``p_value``, ``mean_treated``,
        ``mean_control``, ``n_treated``, ``n_control``.

    Examples
    --------
    >>> r = difference_in_means([1, 1, 0, 1, 0, 0, 0, 1], [1, 1, 1, 1, 0, 0, 0, 0])
    >>> r["effect"], r["n_treated"]
    (0.5, 4)
    """
    y = np.asarray(outcome, dtype=float)
    t = np.asarray(treated, dtype=bool)
    a, b = y[t], y[~t]
    if len(a) < 2 or len(b) < 2:
        raise ValueError("each arm needs at least two accounts")
    effect = a.mean() - b.mean()
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = np.sqrt(va + vb)
    if se == 0:
        low = high = effect
        p = 0.0 if effect != 0 else 1.0
    else:
        from scipy import stats  # scipy loads only when a test is computed (fast start-up)

        df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
        q = stats.t.ppf(0.5 + confidence / 2, df)
        low, high = effect - q * se, effect + q * se
        p = float(2 * stats.t.sf(abs(effect / se), df))
    return {
        "effect": float(effect),
        "ci_low": float(low),
        "ci_high": float(high),
        "p_value": p,
        "mean_treated": float(a.mean()),
        "mean_control": float(b.mean()),
        "n_treated": int(len(a)),
        "n_control": int(len(b)),
    }
