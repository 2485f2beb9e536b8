"""Contacts still allowed per person: the day's and the week's limits across all accounts.

Seed 004's frequency rules protect the *person*: a borrower with three loans may not get
three times the calls (DESIGN.md §3, customer level). :func:`contact_allowance` counts a
customer's contact attempts (channels :data:`~recovery.operations.compliance.CONTACT_CHANNELS`)
across all the customer's accounts — on the day, and in the seven days before the day
started plus the day itself, the window :func:`recovery.operations.strategy.suppressions`
uses when the time of the next contact is not known — and third-party contacts in the
same week, and says what the limits of ``config.compliance`` still allow.

Examples
--------
>>> import pandas as pd
>>> acts = pd.DataFrame({"account_id": ["A", "B", "B"], "channel": ["call"] * 3,
...     "outcome": ["no_answer"] * 3,
...     "ts": pd.to_datetime(["2024-03-04 10:00", "2024-03-05 09:00", "2024-03-05 12:00"])})
>>> accounts = pd.DataFrame({"account_id": ["A", "B"], "customer_id": ["C1", "C1"]})
>>> contact_allowance(acts, accounts, "2024-03-05")[
...     ["customer_id", "contacts_today", "contacts_week", "allowed_today", "allowed_week"]
... ].values.tolist()
[['C1', 2, 3, 1, 7]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.customers import customer_ids
from recovery.operations.compliance import CONTACT_CHANNELS

__all__ = ["customer_of", "contact_allowance"]


def customer_of(account_ids: Any, accounts: pd.DataFrame | None) -> pd.Series:
    """The customer of each account (an account without a customer is its own customer).

    The customers of :func:`recovery.data.customers.customer_ids`, by which the contact
    limits of :func:`recovery.operations.strategy.suppressions` count per person.

    Parameters
    ----------
    account_ids : array-like
        Account ids.
    accounts : pandas.DataFrame, optional
        The ``accounts`` table (``account_id``, ``customer_id``).

    Returns
    -------
    pandas.Series
        Customer ids (text), in the order of ``account_ids``.

    Examples
    --------
    >>> acc = pd.DataFrame({"account_id": ["A"], "customer_id": ["C1"]})
    >>> customer_of(["A", "B"], acc).tolist()
    ['C1', 'B']
    """
    ids = pd.Series(np.asarray(account_ids, dtype=object)).astype(str)
    found = ids.map(customer_ids(accounts))
    return found.where(found.notna(), ids).astype(str)


def contact_allowance(
    actions: pd.DataFrame | None,
    accounts: pd.DataFrame | None,
    date: Any,
    config: Config | None = None,
    customers: Any = None,
) -> pd.DataFrame:
    """Contacts made and still allowed per customer on ``date``, across accounts.

    Parameters
    ----------
    actions : pandas.DataFrame, optional
        ``account_id``, ``ts``, ``channel``, ``outcome``; actions after the end of
        ``date`` are ignored.
    accounts : pandas.DataFrame, optional
        ``account_id``, ``customer_id`` (see :func:`customer_of`).
    date : date
        The day; contacts already made that day count.
    config : Config, optional
        ``config.compliance``: attempts per day and per week, third-party contacts per
        week, contact hours.
    customers : array-like, optional
        Customers to report (default: every customer of ``accounts``, or of ``actions``).

    Returns
    -------
    pandas.DataFrame
        One row per customer: ``customer_id``, ``contacts_today``, ``contacts_week``
        (attempts since seven days before the day started), ``third_party_week``,
        ``allowed_today`` (the smaller of the day's and the week's room), ``allowed_week``,
        ``third_party_allowed_week`` (counts), ``hour_start``, ``hour_end`` (the permitted
        hours, [start, end), local time).
    """
    config = config or Config()
    rules = config.compliance
    day = pd.Timestamp(date).normalize()
    if customers is None:
        source = accounts if accounts is not None else actions
        ids = [] if source is None else source["account_id"]
        customers = customer_of(ids, accounts).unique()
    out = pd.DataFrame({"customer_id": pd.Index(pd.unique(pd.Series(customers, dtype=object)))})
    out["customer_id"] = out["customer_id"].astype(str)
    today = week = third = pd.Series(dtype="int64")
    if actions is not None and len(actions):
        ts = pd.to_datetime(actions["ts"])
        recent = (ts > day - pd.Timedelta(days=7)) & (ts < day + pd.Timedelta(days=1))
        acts = actions[recent.to_numpy()]
        who = customer_of(acts["account_id"], accounts).to_numpy()
        contact = acts["channel"].astype(object).isin(CONTACT_CHANNELS).to_numpy()
        on_day = (pd.to_datetime(acts["ts"]) >= day).to_numpy()
        week = pd.Series(who[contact]).value_counts()
        today = pd.Series(who[contact & on_day]).value_counts()
        is_third = acts["outcome"].astype(object).eq("third_party_contact").to_numpy()
        third = pd.Series(who[is_third]).value_counts()
    for name, counts in (
        ("contacts_today", today),
        ("contacts_week", week),
        ("third_party_week", third),
    ):
        out[name] = out["customer_id"].map(counts).fillna(0).astype("int64")
    out["allowed_week"] = np.maximum(rules.max_attempts_per_week - out["contacts_week"], 0)
    out["allowed_today"] = np.minimum(
        np.maximum(rules.max_attempts_per_day - out["contacts_today"], 0), out["allowed_week"]
    )
    out["third_party_allowed_week"] = np.maximum(
        rules.max_third_party_per_week - out["third_party_week"], 0
    )
    out["hour_start"], out["hour_end"] = rules.contact_hour_start, rules.contact_hour_end
    return out
