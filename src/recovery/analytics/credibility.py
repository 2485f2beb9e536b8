"""Credibility shrinkage of roll-rate rows: thin from-states are not trusted raw.

A roll-rate row estimated from *n* accounts is a multinomial sample of the accounts'
destinations. With a Dirichlet prior centred on a reference row ``prior`` (the row
pooled over all months, or the portfolio row for a segment) and of weight ``alpha``
accounts, the posterior mean is

    ``shrunk = (counts + alpha · prior) / (n + alpha) = z · counts / n + (1 − z) · prior``

with the **credibility** ``z = n / (n + alpha)``: a row of many accounts keeps its own
shares, a row of a few leans on the reference, and no hard account threshold cuts
anything off (:func:`shrink_rows`).

``alpha`` is the ratio of the within-group variance (the multinomial noise of one
account, ``1 − Σ_j π_j²``) to the between-group variance of the true rows (how much
months, or segments, really differ), estimated by the Bühlmann–Straub method from the
rows of the groups (:func:`credibility_alpha`): for each from-state *i* with groups
*r* of ``n_ri`` accounts and shares ``X_ri`` around the pooled row ``π_i``,

    ``A_i = Σ_r n_ri ‖X_ri − π_i‖² − (R_i − 1) s²_i``,  ``D_i = n_i − Σ_r n_ri² / n_i``,

the between variance is ``τ² = Σ_i A_i / Σ_i D_i`` (pooled over from-states) and
``alpha = s̄² / τ²`` with ``s̄²`` the within variance averaged over the from-states
(weights ``R_i − 1``). When the groups differ no more than sampling noise explains
(``τ² ≤ 0``), ``alpha`` is infinite: every row is the reference row.

Examples
--------
>>> import pandas as pd
>>> counts = pd.DataFrame({"M1": [2.0, 0.0], "M0": [2.0, 0.0]}, index=["M1", "M2"])
>>> prior = pd.DataFrame({"M1": [0.25, 0.5], "M0": [0.75, 0.5]}, index=["M1", "M2"])
>>> shares, z = shrink_rows(counts, prior, alpha=4.0)
>>> shares.loc["M1"].tolist(), z.tolist()   # (2 + 4·0.25) / 8, (2 + 4·0.75) / 8
([0.375, 0.625], [0.5, 0.0])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recovery.errors import DataError

__all__ = ["credibility_alpha", "shrink_rows"]


def shrink_rows(
    counts: pd.DataFrame, prior: pd.DataFrame, alpha: float
) -> tuple[pd.DataFrame, pd.Series]:
    """Rows of shares shrunk toward prior rows: ``(counts + alpha·prior) / (n + alpha)``.

    Parameters
    ----------
    counts : DataFrame
        One row per from-state (or segment × from-state), one column per to-state:
        accounts (any non-negative weights; ``n`` is the row sum).
    prior : DataFrame
        Reference shares with the same columns; rows sum to 1 (or 0 where nothing is
        known). Indexed like ``counts``, or by the last level of its index (a segment's
        rows then lean on the portfolio's row of the same from-state).
    alpha : float
        Prior weight in accounts, ``>= 0``; ``inf`` gives the prior rows.

    Returns
    -------
    shares : DataFrame
        Shrunk rows (sum to 1 where ``n + alpha > 0`` and the prior row is known).
    credibility : Series
        ``z = n / (n + alpha)``, the weight of the row's own data (0 for an empty row).

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"a": [1.0], "b": [0.0]}, index=["M1"])
    >>> p = pd.DataFrame({"a": [0.0], "b": [1.0]}, index=["M1"])
    >>> s, z = shrink_rows(c, p, alpha=1.0)
    >>> s.loc["M1"].tolist(), float(z.iloc[0])
    ([0.5, 0.5], 0.5)
    """
    if not alpha >= 0:
        raise DataError(f"the shrinkage weight alpha must be >= 0 accounts, got {alpha!r}")
    counts = counts.astype(float)
    if isinstance(counts.index, pd.MultiIndex) and not isinstance(prior.index, pd.MultiIndex):
        ref = prior.reindex(counts.index.get_level_values(-1)).set_axis(counts.index)
    else:
        ref = prior.reindex(counts.index)
    ref = ref.reindex(columns=counts.columns).fillna(0.0)
    n = counts.sum(axis=1)
    z = n / (n + alpha) if np.isfinite(alpha) else pd.Series(0.0, index=counts.index)
    z = z.where(n > 0, 0.0).fillna(0.0)
    own = counts.div(n.where(n > 0), axis=0).fillna(0.0)
    shares = own.mul(z, axis=0) + ref.mul(1.0 - z, axis=0)
    return shares, z.rename("credibility")


def credibility_alpha(counts: pd.DataFrame, group: str, row: str = "from_state") -> float:
    """Bühlmann–Straub prior weight (accounts) for shrinking roll-rate rows.

    Parameters
    ----------
    counts : DataFrame
        Long table: a ``group`` column (e.g. the start month, or the segment), a
        ``row`` column (the from-state) and one numeric column per to-state (accounts).
    group : str
        The column whose values are the groups that may truly differ.
    row : str
        The from-state column.

    Returns
    -------
    float
        ``alpha`` (accounts); ``inf`` when the groups differ no more than multinomial
        noise explains, or when there are not two groups of any from-state.

    Examples
    --------
    Two months whose M1 rows differ far beyond noise (200 accounts each):

    >>> import pandas as pd
    >>> c = pd.DataFrame({"month": [1, 2], "from_state": ["M1", "M1"],
    ...                   "M0": [180.0, 20.0], "M2": [20.0, 180.0]})
    >>> round(credibility_alpha(c, "month"), 2)
    0.78
    """
    to_cols = [c for c in counts.columns if c not in (group, row)]
    x = counts.groupby([row, group], sort=True)[to_cols].sum().astype(float)
    n_rg = x.sum(axis=1)
    x, n_rg = x[n_rg > 0], n_rg[n_rg > 0]
    n_r = n_rg.groupby(level=row).sum()
    pooled = x.groupby(level=row).sum().div(n_r, axis=0)
    shares = x.div(n_rg, axis=0)
    dev = (shares - pooled.reindex(shares.index.get_level_values(row)).to_numpy()) ** 2
    s2 = 1.0 - (pooled**2).sum(axis=1)  # within variance of one account, by from-state
    groups = n_rg.groupby(level=row).size()
    a = (dev.sum(axis=1) * n_rg).groupby(level=row).sum() - (groups - 1) * s2
    d = n_r - (n_rg**2).groupby(level=row).sum() / n_r
    use = groups > 1
    if not use.any() or d[use].sum() <= 0:
        return float("inf")
    tau2 = a[use].sum() / d[use].sum()
    within = float(((groups - 1) * s2)[use].sum() / (groups - 1)[use].sum())
    if tau2 <= 0 or within <= 0:
        return float("inf") if tau2 <= 0 else 0.0
    return float(within / tau2)
