"""Account features: the loan and the application, as booked (DESIGN.md §3).

Every column of :data:`~recovery.timeline.catalogue.ACCOUNT_COLUMNS` read from
``accounts`` (protected attributes only on request), and the months on book at an
as-of date, which the aging features of both modes share.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.timeline.catalogue import ACCOUNT_COLUMNS
from recovery.timeline.days import to_datetimes
from recovery.timeline.events import PairColumns, Pairs

__all__ = ["account_features", "account_columns", "account_rows", "months_on_book"]

_NUMERIC_ACCOUNT_COLUMNS = ("principal", "term_months", "interest_rate", "bureau_score")


def account_features(
    portfolio: Portfolio,
    pairs: pd.DataFrame,
    config: Config | None = None,
    include_protected: bool = False,
) -> pd.DataFrame:
    """Account and application features of each pair, from ``accounts``.

    Every column of :data:`~recovery.timeline.catalogue.ACCOUNT_COLUMNS` is returned (NA when the table lacks it)
    except protected attributes (``config.categories.protected_attributes``, e.g. age
    band, gender), which are left out unless ``include_protected=True``.

    Examples
    --------
    >>> acc = pd.DataFrame({"account_id": ["A"], "principal": [1000.0], "gender": ["f"]})
    >>> q = pd.DataFrame({"account_id": ["A"], "as_of": pd.to_datetime(["2024-01-31"])})
    >>> f = account_features(Portfolio(accounts=acc), q)
    >>> f.loc[0, "principal"], "gender" in f, f.loc[0, "region"] is None
    (np.float64(1000.0), False, True)
    """
    config = config or Config()
    return account_columns(portfolio, pairs, config, include_protected).frame()


def account_columns(
    portfolio: Portfolio, pairs: pd.DataFrame, config: Config, include_protected: bool
) -> PairColumns:
    """The account features of pairs as :class:`~recovery.timeline.events.PairColumns`.

    The core of :func:`account_features` (same parameters, ``config`` required; one
    row per pair, in order). No table of the account is dated, so nothing depends on
    as_of.
    """
    p = Pairs.of(pairs)
    out = PairColumns(p.frame)
    if portfolio.accounts is None:
        portfolio = Portfolio(accounts=pd.DataFrame({"account_id": []}))
    protected = set(config.categories.protected_attributes)
    columns = [c for c in ACCOUNT_COLUMNS if include_protected or c not in protected]
    acc, idx = account_rows(portfolio.accounts, out["account_id"])
    for c in columns:
        if c not in acc:  # every catalogue column is present; absent data is NA
            numeric = c in _NUMERIC_ACCOUNT_COLUMNS
            out[c] = np.full(
                len(idx), np.nan if numeric else None, dtype=float if numeric else object
            )
            continue
        col = acc[c].to_numpy()[np.maximum(idx, 0)].copy()
        if (idx < 0).any():
            col = col.astype("float64" if col.dtype.kind in "fi" else object)
            col[idx < 0] = np.nan if col.dtype.kind == "f" else None
        out[c] = col
    if "product" in out:
        out["product"] = pd.Categorical(out["product"], categories=list(config.categories.products))
    return out


def account_rows(accounts: pd.DataFrame, account_ids: Any) -> tuple[pd.DataFrame, np.ndarray]:
    """The ``accounts`` rows (first per account) of some account ids.

    Parameters
    ----------
    accounts : pandas.DataFrame
        The ``accounts`` table.
    account_ids : array-like of str

    Returns
    -------
    table : pandas.DataFrame
        ``accounts`` without repeated account ids.
    positions : numpy.ndarray
        Row of ``table`` of each account id, -1 for an account it lacks.

    Examples
    --------
    >>> acc = pd.DataFrame({"account_id": ["A", "B", "A"], "principal": [1.0, 2.0, 3.0]})
    >>> table, positions = account_rows(acc, ["B", "C", "A"])
    >>> positions.tolist(), len(table)
    ([1, -1, 0], 2)
    """
    table = accounts.drop_duplicates("account_id")
    positions = pd.Index(table["account_id"].astype(str)).get_indexer(account_ids)
    return table, positions


def months_on_book(table: pd.DataFrame, positions: np.ndarray, as_of: Any) -> np.ndarray:
    """Whole calendar months from origination to each as_of.

    Parameters
    ----------
    table, positions
        From :func:`account_rows` (``table`` needs ``origination_date``).
    as_of : array-like of dates
        One per position.

    Returns
    -------
    numpy.ndarray
        float64 months; NaN where the position is -1.

    Examples
    --------
    >>> acc = pd.DataFrame({"account_id": ["A"], "origination_date": ["2024-01-15"]})
    >>> table, positions = account_rows(acc, ["A", "A", "Z"])
    >>> months_on_book(table, positions, pd.to_datetime(["2024-03-14", "2024-03-15",
    ...                                                  "2024-03-15"])).tolist()
    [1.0, 2.0, nan]
    """
    orig = pd.DatetimeIndex(
        to_datetimes(table["origination_date"]).to_numpy()[np.maximum(positions, 0)]
    )
    asof = pd.DatetimeIndex(as_of)
    mob = (asof.year - orig.year) * 12 + (asof.month - orig.month) - (asof.day < orig.day)
    return np.where(positions >= 0, np.asarray(mob, dtype="float64"), np.nan)
