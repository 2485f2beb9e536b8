"""Customer-level features: the borrower's other accounts at an as-of date (DESIGN.md §3).

A borrower behind on one loan and current on two others is not the borrower behind on
all three. For each (account_id, as_of) pair this family reads the accounts of the same
customer (``customer_id`` in ``accounts``; an account without one is its own customer)
as known on ``as_of``: how many are on the books and overdue, the worst DPD across them,
how many of the others are charged off or paid off, what the others owe, and what was
paid on them recently. Point in time: an account opened after ``as_of`` does not exist
yet, its states come from :func:`~recovery.timeline.aging.account_states` on ``as_of``
(rows known by then), and a payment counts when posted on or before ``as_of`` and not
reversed by then. The features are those of the catalogue in group ``customer``
(:mod:`~recovery.timeline.catalogue`); :func:`~recovery.timeline.features.build_features`
adds them when ``config.features.customer_level`` is set. They are computed on the whole
portfolio, since a customer's accounts may fall in different partitions of accounts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.customers import person_keys
from recovery.data.portfolio import Portfolio
from recovery.timeline.aging import account_states
from recovery.timeline.catalogue import CUSTOMER_PAYMENT_WINDOWS_DAYS
from recovery.timeline.known_at import require_tables

__all__ = ["customer_features", "customer_columns", "CUSTOMER_FEATURES"]

#: the columns of this family, in catalogue order
CUSTOMER_FEATURES = (
    "customer_accounts",
    "customer_accounts_overdue",
    "customer_worst_dpd",
    "customer_other_charged_off",
    "customer_other_paid_off",
    "customer_other_amount_overdue",
    *(f"customer_other_paid_{w}d" for w in CUSTOMER_PAYMENT_WINDOWS_DAYS),
    *(f"customer_other_payment_count_{w}d" for w in CUSTOMER_PAYMENT_WINDOWS_DAYS),
)
_ON_BOOKS = ("open", "charged_off")


def customer_features(
    portfolio: Portfolio, pairs: pd.DataFrame, config: Config | None = None
) -> pd.DataFrame:
    """Customer-level features of each (account_id, as_of) pair.

    Parameters
    ----------
    portfolio : Portfolio
        ``accounts`` (with ``customer_id``), ``schedule``, ``payments`` (``events``
        when present, for statuses).
    pairs : pandas.DataFrame
        Columns ``account_id``, ``as_of``.
    config : Config, optional
        Aging rules for the states of the customer's accounts.

    Returns
    -------
    pandas.DataFrame
        One row per pair, in order: ``account_id, as_of`` and :data:`CUSTOMER_FEATURES`.

    Examples
    --------
    >>> from recovery.datasets import tiny_tables
    >>> t = tiny_tables()
    >>> t["accounts"]["customer_id"] = "C1"  # one borrower with both loans
    >>> q = pd.DataFrame({"account_id": ["A1"], "as_of": pd.to_datetime(["2024-03-31"])})
    >>> f = customer_features(Portfolio(**t), q)
    >>> f[["customer_accounts", "customer_accounts_overdue", "customer_other_paid_30d"]]
       customer_accounts  customer_accounts_overdue  customer_other_paid_30d
    0                2.0                        1.0                    210.0
    """
    config = config or Config()
    pairs = pairs[["account_id", "as_of"]].reset_index(drop=True).copy()
    pairs["account_id"] = pairs["account_id"].astype(str)
    pairs["as_of"] = pd.to_datetime(pairs["as_of"]).dt.normalize()
    cols = customer_columns(portfolio, pairs, config)
    return pd.concat([pairs, pd.DataFrame(cols)], axis=1)


def customer_columns(
    portfolio: Portfolio, pairs: pd.DataFrame, config: Config
) -> dict[str, np.ndarray]:
    """The customer-level features of pairs, one array per feature (pairs' order).

    The vectorised core of :func:`customer_features` (same parameters; ``pairs`` with
    string ``account_id`` and normalised ``as_of``).

    Examples
    --------
    >>> from recovery.datasets import tiny_portfolio
    >>> q = pd.DataFrame({"account_id": ["A1"], "as_of": pd.to_datetime(["2024-03-31"])})
    >>> int(customer_columns(tiny_portfolio(), q, Config())["customer_accounts"][0])
    1
    """
    require_tables(portfolio, "accounts", "schedule", "payments")
    n = len(pairs)
    accounts = portfolio.accounts
    all_ids = accounts["account_id"].astype(str)
    person = pd.Series(person_keys(all_ids, accounts, what="customer features").to_numpy(), all_ids)
    person = person[~person.index.duplicated()]
    # every account of the pair's customer (the pair's own included), on the pair's date
    query = pd.DataFrame(
        {
            "pair": np.arange(n),
            "person": pairs["account_id"].map(person).fillna("account " + pairs["account_id"]),
            "as_of": pairs["as_of"].to_numpy(),
            "self_id": pairs["account_id"].to_numpy(),
        }
    )
    members = pd.DataFrame({"person": person.to_numpy(), "account_id": person.index})
    sib = query.merge(members, on="person", how="left")
    sib["account_id"] = sib["account_id"].fillna(sib["self_id"])
    sib["other"] = sib["account_id"].ne(sib["self_id"]).to_numpy()
    states = _states(portfolio, sib[["account_id", "as_of"]], config)
    sib = sib.merge(states, on=["account_id", "as_of"], how="left")
    known = sib["status"].notna().to_numpy()  # opened on or before as_of
    status = sib["status"].astype(object).to_numpy()
    dpd = sib["dpd"].to_numpy(dtype=float)
    on_books = known & np.isin(status, _ON_BOOKS)
    overdue = on_books & ((dpd > 0) | (status == "charged_off"))
    other = sib["other"].to_numpy()
    pair = sib["pair"].to_numpy()

    def per_pair(weights: np.ndarray) -> np.ndarray:
        return np.bincount(pair, weights=weights.astype(float), minlength=n)

    out: dict[str, np.ndarray] = {
        "customer_accounts": per_pair(on_books),
        "customer_accounts_overdue": per_pair(overdue),
    }
    worst = np.full(n, np.nan)
    np.fmax.at(worst, pair[on_books], dpd[on_books])
    out["customer_worst_dpd"] = worst
    out["customer_other_charged_off"] = per_pair(other & known & (status == "charged_off"))
    out["customer_other_paid_off"] = per_pair(other & known & (status == "paid_off"))
    owed = np.where(other & on_books, np.nan_to_num(sib["amount_overdue"].to_numpy(float)), 0.0)
    out["customer_other_amount_overdue"] = per_pair(owed)
    others = sib[other & known]
    for w in CUSTOMER_PAYMENT_WINDOWS_DAYS:
        amount, count = _paid_in_window(portfolio.payments, others, w)
        out[f"customer_other_paid_{w}d"] = np.bincount(
            others["pair"].to_numpy(), weights=amount, minlength=n
        )
        out[f"customer_other_payment_count_{w}d"] = np.bincount(
            others["pair"].to_numpy(), weights=count, minlength=n
        )
    return {name: out[name] for name in CUSTOMER_FEATURES}


def _states(portfolio: Portfolio, queries: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Aging state of each distinct (account_id, as_of) on that day (rows known by then)."""
    cols = ["account_id", "as_of", "status", "dpd", "amount_overdue"]
    queries = queries.drop_duplicates().reset_index(drop=True)
    if not len(queries):
        return pd.DataFrame(columns=cols)
    states = account_states(portfolio, queries, config)
    states = states.assign(
        account_id=states["account_id"].astype(str),
        as_of=pd.to_datetime(states["as_of"]).dt.normalize(),
    )
    return states[cols]


def _paid_in_window(
    payments: pd.DataFrame, queries: pd.DataFrame, window: int
) -> tuple[np.ndarray, np.ndarray]:
    """Amount and count of payments of each query's account posted in
    (as_of - window, as_of] and not reversed by as_of."""
    if not len(queries) or payments is None or not len(payments):
        return np.zeros(len(queries)), np.zeros(len(queries))
    ids = payments["account_id"].astype(str)
    index = pd.Index(pd.unique(pd.concat([ids, queries["account_id"].astype(str)])))
    code = index.get_indexer(ids)
    day = payments["payment_date"].to_numpy("datetime64[D]").astype(np.int64)
    span = np.int64(day.max() - day.min() + 2 * window + 10) if len(day) else np.int64(1)
    base = day.min()
    key = code * span + (day - base)
    order = np.argsort(key, kind="stable")
    key = key[order]
    amount = payments["amount"].to_numpy(float)[order]
    cum_amount = np.concatenate([[0.0], np.cumsum(amount)])
    q_code = index.get_indexer(queries["account_id"].astype(str))
    q_day = queries["as_of"].to_numpy("datetime64[D]").astype(np.int64) - base
    # as_of beyond the payments' span: clip inside the account's key range
    hi_day = np.clip(q_day, -1, span - 1)
    lo_day = np.clip(q_day - window, -1, span - 1)
    hi = np.searchsorted(key, q_code * span + hi_day, side="right")
    lo = np.searchsorted(key, q_code * span + lo_day, side="right")
    total = cum_amount[hi] - cum_amount[lo]
    count = (hi - lo).astype(float)
    # payments in the window already reversed on as_of do not count
    if "reversed_date" in payments and payments["reversed_date"].notna().any():
        rev = payments.loc[payments["reversed_date"].notna(), ["account_id", "payment_date"]]
        rev = rev.assign(
            account_id=rev["account_id"].astype(str),
            amount=payments.loc[rev.index, "amount"].to_numpy(float),
            reversed_date=payments.loc[rev.index, "reversed_date"],
        )
        q = pd.DataFrame(
            {"q": np.arange(len(queries)), "account_id": queries["account_id"].astype(str)}
        ).assign(as_of=queries["as_of"].to_numpy())
        hit = q.merge(rev, on="account_id")
        hit = hit[
            (hit["payment_date"] <= hit["as_of"])
            & (hit["payment_date"] > hit["as_of"] - pd.Timedelta(days=window))
            & (hit["reversed_date"] <= hit["as_of"])
        ]
        total -= np.bincount(hit["q"], weights=hit["amount"], minlength=len(queries))
        count -= np.bincount(hit["q"], minlength=len(queries))
    return total, count
