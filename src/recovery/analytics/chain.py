"""Markov-chain building blocks of the roll-rate forecast.

What :class:`recovery.analytics.forecast.RollRateForecaster` uses to keep its forecast
sane: the growth of a balance while it stays overdue (:func:`growth_factors`), a trend
shrunk by its own noise (:func:`shrunk_trend`), and the health of a transition matrix
restricted to the states a forecast can reach (:func:`spectral_radius`,
:func:`unstable_states`, :func:`reachable_states`).

A forecast ``b[h] = b[h-1] · M + inflow`` stays bounded when the spectral radius of
``M`` over the reachable states is below 1 (the book left alone shrinks); a class of
states (strongly connected) whose own spectral radius is 1 or more grows without
bound.

Examples
--------
>>> import numpy as np
>>> m = np.array([[0.9, 0.05], [0.0, 1.1]])   # the second state keeps and grows its balance
>>> round(spectral_radius(m, np.array([1.0, 0.0])), 2), unstable_states(m, np.array([1.0, 0.0])).tolist()
(1.1, [False, True])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "growth_factors",
    "reachable_states",
    "shrunk_trend",
    "spectral_radius",
    "unstable_states",
]


def reachable_states(matrix: np.ndarray, start: np.ndarray) -> np.ndarray:
    """States reachable from those with ``start > 0`` through positive entries.

    Parameters
    ----------
    matrix : ndarray
        Square transition matrix (from rows to columns).
    start : ndarray
        Mass by state at the start (balances, counts or inflow); positive = present.

    Returns
    -------
    ndarray of bool
        The states present at the start or reachable from them.

    Examples
    --------
    >>> import numpy as np
    >>> m = np.array([[0.5, 0.5, 0.0], [0.0, 0.5, 0.0], [0.0, 0.0, 1.0]])
    >>> reachable_states(m, np.array([1.0, 0.0, 0.0])).tolist()
    [True, True, False]
    """
    reach = start > 0
    step = matrix > 0
    for _ in range(len(reach)):  # loop over path lengths (a few buckets)
        reach = reach | (reach.astype(float) @ step > 0)
    return reach


def spectral_radius(matrix: np.ndarray, start: np.ndarray) -> float:
    """Largest |eigenvalue| of ``matrix`` over the states reachable from ``start``.

    Parameters
    ----------
    matrix : ndarray
        Square matrix carrying a balance (or count) from month to month.
    start : ndarray
        Mass by state at the start; states unreachable from it are left out (a bucket
        nobody can reach cannot make the forecast grow).

    Returns
    -------
    float
        The spectral radius (0 when nothing is reachable): the long-run monthly growth
        factor of what the matrix carries.

    Examples
    --------
    >>> import numpy as np
    >>> m = np.array([[0.5, 0.5, 0.0], [0.0, 0.8, 0.0], [0.0, 0.0, 1.2]])
    >>> spectral_radius(m, np.array([1.0, 0.0, 0.0]))   # the third state is out of reach
    0.8
    """
    reach = reachable_states(matrix, start)
    if not reach.any():
        return 0.0
    return float(np.max(np.abs(np.linalg.eigvals(matrix[np.ix_(reach, reach)]))))


def unstable_states(matrix: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Reachable states in a class (strongly connected) whose spectral radius is >= 1.

    Parameters
    ----------
    matrix : ndarray
        Square matrix carrying a balance (or count) from month to month.
    start : ndarray
        Mass by state at the start.

    Returns
    -------
    ndarray of bool
        The states that, left to the matrix, keep or grow what they hold for ever.

    Examples
    --------
    >>> import numpy as np
    >>> m = np.array([[0.3, 0.6], [0.0, 1.05]])
    >>> unstable_states(m, np.array([1.0, 0.0])).tolist()
    [False, True]
    """
    from scipy.sparse.csgraph import connected_components

    reach = reachable_states(matrix, start)
    _, label = connected_components(matrix > 0, directed=True, connection="strong")
    out = np.zeros(len(start), dtype=bool)
    for c in np.unique(label[reach]):  # loop over classes (a few buckets)
        members = (label == c) & reach
        sub = matrix[np.ix_(members, members)]
        if np.max(np.abs(np.linalg.eigvals(sub))) >= 1 - 1e-12:
            out |= members
    return out


def shrunk_trend(y: np.ndarray) -> float:
    """Least-squares slope of ``y`` per step over its last value, shrunk by its noise.

    The slope is multiplied by ``t² / (1 + t²)`` (``t`` = slope / its standard error):
    a trend that months of noise could make is mostly dropped, a steady one kept. Fewer
    than three points give no trend.

    Parameters
    ----------
    y : ndarray
        A level by month (e.g. the current book's count or balance), oldest first.

    Returns
    -------
    float
        Growth per month as a share of the last level (0.01 = +1 % of it a month).

    Examples
    --------
    >>> import numpy as np
    >>> shrunk_trend(np.array([90.0, 95.0, 100.0]))   # steady: +5 a month on 100
    0.05
    >>> round(shrunk_trend(np.array([100.0, 80.0, 120.0, 90.0, 110.0])), 4)   # mostly noise
    0.0062
    """
    if len(y) < 3 or y[-1] <= 0:
        return 0.0
    x = np.arange(len(y), dtype=float)
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    se2 = (resid @ resid) / (len(y) - 2) / ((x - x.mean()) @ (x - x.mean()))
    t2 = slope**2 / se2 if se2 > 0 else np.inf
    weight = 1.0 if np.isinf(t2) else t2 / (1.0 + t2)
    return float(weight * slope / y[-1])


def growth_factors(frm: pd.DataFrame, states: list[str], cap: float) -> pd.DataFrame:
    """Per from-state balance growth over a month while overdue: observed and shrunk.

    ``frm``: transitions from a delinquent bucket into a delinquent bucket or
    ``charged_off``, with a positive balance at *m*. ``observed`` is the ratio of sums
    (1 where nothing was seen); ``shrunk`` leans it toward 1 by its noise: the
    balance-weighted variance of the accounts' own factors over the effective number
    of accounts, against a prior of 1 with standard deviation ``cap − 1``.

    Parameters
    ----------
    frm : DataFrame
        Rows of :func:`recovery.analytics.states.transitions` (``from_state``,
        ``balance`` at *m* > 0, ``next_balance`` at *m + 1*, currency).
    states : list of str
        The from-states to report, in order.
    cap : float
        The largest plausible monthly factor (sets the prior's spread).

    Returns
    -------
    DataFrame
        Indexed by state: ``observed`` and ``shrunk`` monthly factors.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"from_state": ["M2", "M2"], "balance": [100.0, 100.0],
    ...                   "next_balance": [103.0, 103.0]})
    >>> growth_factors(t, ["M2", "M3"], cap=1.05).round(3).values.tolist()
    [[1.03, 1.03], [1.0, 1.0]]
    """
    bal, nxt = frm["balance"].to_numpy(float), frm["next_balance"].to_numpy(float)
    g = pd.DataFrame({"state": frm["from_state"].to_numpy(), "b": bal, "n": nxt})
    g["b2"] = bal**2
    g["r2b"] = nxt**2 / bal  # sum of b·r² with r = next / b
    sums = g.groupby("state")[["b", "n", "b2", "r2b"]].sum().reindex(states).fillna(0.0)
    total = sums["b"].where(sums["b"] > 0)
    observed = (sums["n"] / total).fillna(1.0)
    # balance-weighted variance of r around the ratio: Σ b·r² / Σ b − ratio²
    var = (sums["r2b"] / total - observed**2).clip(lower=0.0)
    n_eff = (sums["b"] ** 2 / sums["b2"].where(sums["b2"] > 0)).fillna(0.0)
    prior_var = (cap - 1.0) ** 2
    noise = (var / n_eff.where(n_eff > 0)).fillna(np.inf)
    z = (prior_var / (prior_var + noise)).fillna(0.0) if prior_var > 0 else noise * 0.0
    return pd.DataFrame({"observed": observed, "shrunk": 1.0 + z * (observed - 1.0)})
