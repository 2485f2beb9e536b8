"""The portfolio as known at an as-of date: nothing recorded after it is seen (DESIGN.md §3).

:func:`point_in_time` cuts the portfolio at one date; :func:`point_in_time_views` does
it for many ``(account_id, as_of)`` pairs at once (one pseudo-account per pair);
:func:`known_at_as_of` runs a computation over pairs so that reversals dated after
as_of are not yet known; :func:`require_tables` says which event tables a computation
is missing. The structures they work on (events, pairs) are those of
:mod:`~recovery.timeline.events`.

Examples
--------
>>> pays = pd.DataFrame({"account_id": ["A", "A"], "amount": [5.0, 7.0],
...     "payment_date": pd.to_datetime(["2024-01-05", "2024-02-05"])})
>>> point_in_time(Portfolio(payments=pays), "2024-01-31").payments["amount"].tolist()
[5.0]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.errors import DataError
from recovery.timeline.aging import AgingLedger
from recovery.timeline.days import to_datetimes
from recovery.timeline.events import PairColumns
from recovery.timeline.ledger import id_codes

__all__ = [
    "require_tables",
    "point_in_time",
    "point_in_time_views",
    "known_at_as_of",
]


def require_tables(portfolio: Portfolio, *names: str) -> None:
    """Raise :class:`~recovery.errors.DataError` unless the event tables ``names`` are given.

    Parameters
    ----------
    portfolio : Portfolio
    *names : str
        Tables the ledger features need (``accounts``, ``schedule``, ``payments`` …).

    Examples
    --------
    >>> require_tables(Portfolio(), "payments")
    Traceback (most recent call last):
    ...
    recovery.errors.DataError: features need the table(s) ['payments']; ...
    """
    missing = [n for n in names if getattr(portfolio, n) is None]
    if missing:
        raise DataError(
            f"features need the table(s) {missing}; for a monthly performance table alone "
            "use recovery.snapshot_features"
        )


# ------------------------------------------------------------------- point in time
def point_in_time(portfolio: Portfolio, as_of: Any) -> Portfolio:
    """The portfolio as it was known at the end of ``as_of``.

    Drops payments posted after ``as_of`` (and forgets reversals dated after it),
    actions after the end of the ``as_of`` day, schedule versions effective after it,
    events, assignments and snapshots dated after it; ``meta['data_end']`` becomes
    ``as_of``. Features of ``as_of`` computed on the result equal those computed on
    the whole portfolio (the leakage test).

    Parameters
    ----------
    portfolio : Portfolio
    as_of : date-like
        Last day known (inclusive).

    Returns
    -------
    Portfolio

    Examples
    --------
    >>> import pandas as pd
    >>> pays = pd.DataFrame({"account_id": ["A", "A"], "amount": [5.0, 7.0],
    ...     "payment_date": pd.to_datetime(["2024-01-05", "2024-02-05"]),
    ...     "reversed_date": pd.to_datetime(["2024-03-01", None])})
    >>> known = point_in_time(Portfolio(payments=pays), "2024-01-31")
    >>> known.payments[["amount", "reversed_date"]].values.tolist()
    [[5.0, NaT]]
    """
    day = pd.Timestamp(as_of).normalize()
    out = portfolio.copy()
    if out.payments is not None:
        pays = out.payments[to_datetimes(out.payments["payment_date"]) <= day].copy()
        if "reversed_date" in pays:
            rev = to_datetimes(pays["reversed_date"])
            pays["reversed_date"] = rev.where(rev <= day)
        out.payments = pays.reset_index(drop=True)
    if out.actions is not None:
        keep = to_datetimes(out.actions["ts"]) < day + pd.Timedelta(days=1)
        out.actions = out.actions[keep].reset_index(drop=True)
    if out.schedule is not None and "effective_from" in out.schedule:
        eff = to_datetimes(out.schedule["effective_from"])
        out.schedule = out.schedule[eff.isna() | (eff <= day)].reset_index(drop=True)
    for name, col in (
        ("events", "date"),
        ("snapshots", "month_end"),
        ("assignments", "start_date"),
    ):
        df = getattr(out, name)
        if df is not None:
            setattr(out, name, df[to_datetimes(df[col]) <= day].reset_index(drop=True))
    if out.assignments is not None:
        end = to_datetimes(out.assignments["end_date"])
        out.assignments["end_date"] = end.where(end <= day)
    if out.accounts is not None:
        orig = to_datetimes(out.accounts["origination_date"])
        out.accounts = out.accounts[orig <= day].reset_index(drop=True)
    out.meta["data_end"] = day.strftime("%Y-%m-%d")
    return out


def _reversal_pending(payments: pd.DataFrame | None, pairs: pd.DataFrame) -> np.ndarray:
    """Pairs with a payment posted on or before as_of and reversed after it."""
    late = np.zeros(len(pairs), dtype=bool)
    if payments is None or "reversed_date" not in payments:
        return late
    rev = to_datetimes(payments["reversed_date"])
    has = rev.notna().to_numpy()
    if not has.any():
        return late
    # reversed payments are few: pair each with its account's as_of dates, by integer code
    rev_ids = payments["account_id"][has].astype(str).to_numpy()
    ids = pd.Index(pd.unique(rev_ids))
    code = id_codes(ids, pairs["account_id"])  # -1: no reversed payment
    rows = np.flatnonzero(code >= 0)
    reversed_rows = pd.DataFrame(
        {
            "code": ids.get_indexer(rev_ids),
            "posted": to_datetimes(payments["payment_date"]).to_numpy()[has],
            "reversed": rev.to_numpy()[has],
        }
    )
    q = pd.DataFrame({"code": code[rows], "row": rows, "as_of": pairs["as_of"].to_numpy()[rows]})
    m = q.merge(reversed_rows, on="code")
    hit = (m["posted"] <= m["as_of"]) & (m["reversed"] > m["as_of"])
    late[m.loc[hit, "row"].to_numpy()] = True
    return late


_KNOWN_BY = {  # table: (date column, rows known at the end of day a)
    "accounts": "origination_date",
    "schedule": "effective_from",
    "payments": "payment_date",
    "actions": "ts",
    "events": "date",
    "assignments": "start_date",
    "snapshots": "month_end",
}


def point_in_time_views(
    portfolio: Portfolio, pairs: pd.DataFrame
) -> tuple[Portfolio, pd.DataFrame]:
    """One pseudo-account per pair: its account as known at the pair's as_of.

    The vectorised counterpart of :func:`point_in_time` for many (account, as_of)
    pairs at once: each table's rows of the pairs' accounts are joined to the pairs,
    rows not yet known at as_of are dropped, reversals dated after as_of are
    forgotten, and ``account_id`` becomes ``"<account>@<as_of>"``.

    Parameters
    ----------
    portfolio : Portfolio
    pairs : pandas.DataFrame
        ``account_id`` (str), ``as_of`` (normalized datetimes).

    Returns
    -------
    views : Portfolio
        The tables of the pseudo-accounts.
    view_pairs : pandas.DataFrame
        The pairs on the pseudo-accounts (``account_id`` = ``"<account>@<as_of>"``).

    Examples
    --------
    >>> pays = pd.DataFrame({"account_id": ["A", "A"], "amount": [5.0, 7.0],
    ...     "payment_date": pd.to_datetime(["2024-01-05", "2024-02-05"])})
    >>> q = pd.DataFrame({"account_id": ["A", "A"],
    ...     "as_of": pd.to_datetime(["2024-01-31", "2024-02-29"])})
    >>> views, view_pairs = point_in_time_views(Portfolio(payments=pays), q)
    >>> views.payments.groupby("account_id")["amount"].sum().to_dict()
    {'A@2024-01-31': 5.0, 'A@2024-02-29': 12.0}
    """
    pairs = pairs[["account_id", "as_of"]].reset_index(drop=True)
    view = pairs["account_id"].astype(str) + "@" + pairs["as_of"].dt.strftime("%Y-%m-%d")
    key = pd.DataFrame(
        {"account_id": pairs["account_id"].astype(str), "_view": view, "_as_of": pairs["as_of"]}
    )
    ids = pd.Index(pd.unique(key["account_id"]))
    tables = {}
    for name, column in _KNOWN_BY.items():
        df = getattr(portfolio, name)
        if df is None:
            continue
        df = df[id_codes(ids, df["account_id"]) >= 0]  # the pairs' accounts' rows
        df = df.assign(account_id=df["account_id"].astype(str)).merge(key, on="account_id")
        a = df["_as_of"]
        if column not in df:
            known = np.ones(len(df), dtype=bool)
        elif name == "actions":
            known = to_datetimes(df[column]) < a + pd.Timedelta(days=1)
        elif name == "schedule":
            eff = to_datetimes(df[column])
            known = eff.isna() | (eff <= a)
        else:
            known = to_datetimes(df[column]) <= a
        df = df[np.asarray(known)].copy()
        for later in ("reversed_date", "end_date"):
            if later in df:
                d = to_datetimes(df[later])
                df[later] = d.where(d <= df["_as_of"])
        df["account_id"] = df["_view"]
        tables[name] = df.drop(columns=["_view", "_as_of"]).reset_index(drop=True)
    views = Portfolio(**tables, agents=portfolio.agents, meta=dict(portfolio.meta))
    return views, pd.DataFrame({"account_id": view, "as_of": pairs["as_of"]})


def known_at_as_of(
    core: Callable[..., PairColumns],
    portfolio: Portfolio,
    pairs: pd.DataFrame,
    config: Config,
    **kwargs: Any,
) -> PairColumns:
    """Run ``core`` so that reversals dated after as_of are not yet known.

    The vectorised cores treat every payment with a ``reversed_date`` as reversed.
    That is right for a pair unless one of the account's payments was posted on or
    before as_of and reversed after it; those few pairs are computed together on
    point-in-time views of their accounts (:func:`point_in_time_views`).

    Parameters
    ----------
    core : callable
        ``core(portfolio, pairs, config, **kwargs)`` returning :class:`PairColumns`
        in the order of ``pairs``.
    portfolio : Portfolio
    pairs : pandas.DataFrame
        Columns ``account_id``, ``as_of``.
    config : Config
    **kwargs
        Passed on to ``core``; DataFrames and aging ledgers among them (precomputed
        for the whole portfolio) become ``None`` for the views, which recompute them.

    Returns
    -------
    PairColumns
        One row per pair, in order.

    Examples
    --------
    >>> def reversal_known(pf, pairs, config):
    ...     out = PairColumns(pairs)
    ...     out["reversal_known"] = pf.payments["reversed_date"].notna().any()
    ...     return out
    >>> pays = pd.DataFrame({"account_id": ["A"], "amount": [5.0],
    ...     "payment_date": pd.to_datetime(["2024-01-05"]),
    ...     "reversed_date": pd.to_datetime(["2024-02-10"])})
    >>> q = pd.DataFrame({"account_id": ["A"], "as_of": pd.to_datetime(["2024-01-31"])})
    >>> known_at_as_of(reversal_known, Portfolio(payments=pays), q, Config())["reversal_known"]
    array([False])
    """
    pairs = pairs[["account_id", "as_of"]].reset_index(drop=True).copy()
    pairs["account_id"] = pairs["account_id"].astype(str)
    pairs["as_of"] = to_datetimes(pairs["as_of"]).dt.normalize()
    late = _reversal_pending(portfolio.payments, pairs)
    if not late.any():
        return core(portfolio, pairs, config, **kwargs)
    # every pair at once (few are late), then the late ones replaced by their views';
    # precomputed tables are recomputed on the views, flags are passed on
    out = core(portfolio, pairs, config, **kwargs)
    extra = {
        k: (None if isinstance(v, (pd.DataFrame, AgingLedger)) else v) for k, v in kwargs.items()
    }
    views, view_pairs = point_in_time_views(portfolio, pairs[late])
    done = core(views, view_pairs, config, **extra)
    done["account_id"] = pairs.loc[late, "account_id"].to_numpy()
    return out.replace_rows(late, done)
