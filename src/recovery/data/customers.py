"""The person behind each account: customer ids for rules and lists kept per person.

Contact limits and work lists are per person (DESIGN.md §3, customer level): a
borrower with three loans is one person to call, not three. :func:`person_keys` maps
account ids to the key those rules group by — the account's ``customer_id`` from the
``accounts`` table — and falls back to the account itself where the customer is not
known, saying so with a :class:`~recovery.data.schema.DataNoteWarning`.

Examples
--------
>>> import pandas as pd
>>> accounts = pd.DataFrame({"account_id": ["A1", "A2", "A3"], "customer_id": ["C1", "C1", "C2"]})
>>> person_keys(pd.Series(["A1", "A2", "A3"]), accounts).tolist()
['customer C1', 'customer C1', 'customer C2']
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from recovery.data.schema import DataNoteWarning

__all__ = ["person_keys", "customer_ids"]


def customer_ids(accounts: pd.DataFrame | None) -> pd.Series:
    """``customer_id`` per ``account_id`` (missing ids dropped; empty without the column).

    Parameters
    ----------
    accounts : pandas.DataFrame, optional
        The ``accounts`` table.

    Returns
    -------
    pandas.Series
        Customer id (str) indexed by account id (str).

    Examples
    --------
    >>> acc = pd.DataFrame({"account_id": ["A1", "A2"], "customer_id": ["C1", None]})
    >>> customer_ids(acc).to_dict()
    {'A1': 'C1'}
    """
    if accounts is None or "customer_id" not in accounts or "account_id" not in accounts:
        return pd.Series(dtype=object, index=pd.Index([], dtype=object, name="account_id"))
    known = accounts[["account_id", "customer_id"]].dropna()
    known = known[known["customer_id"].astype(str).str.strip().ne("")]
    out = known["customer_id"].astype(str)
    out.index = pd.Index(known["account_id"].astype(str), name="account_id")
    return out[~out.index.duplicated(keep="first")].rename("customer_id")


def person_keys(
    account_ids: pd.Series,
    accounts: pd.DataFrame | None,
    what: str = "contact limits",
    stacklevel: int = 3,
) -> pd.Series:
    """The key each account's per-person rules group by.

    ``"customer <id>"`` for an account whose customer is known, ``"account <id>"``
    otherwise (the two never collide), so a rule counted per person falls back to per
    account where it must.

    Parameters
    ----------
    account_ids : pandas.Series
        Account ids to map (any index; kept).
    accounts : pandas.DataFrame, optional
        The ``accounts`` table (``account_id``, ``customer_id``). Without it every
        account is its own person and nothing is said (the caller chose per account).
    what : str
        What is counted, for the note (e.g. ``"contact limits"``, ``"work lists"``).
    stacklevel : int
        Passed to :func:`warnings.warn`.

    Returns
    -------
    pandas.Series
        One key (str) per element of ``account_ids``, same index.

    Warns
    -----
    DataNoteWarning
        When ``accounts`` is given but some of the accounts have no ``customer_id``
        (or the table has no such column): those accounts are counted on their own,
        with a few example ids.

    Examples
    --------
    >>> import warnings
    >>> acc = pd.DataFrame({"account_id": ["A1", "A2"], "customer_id": ["C1", None]})
    >>> with warnings.catch_warnings(record=True) as notes:
    ...     warnings.simplefilter("always")
    ...     keys = person_keys(pd.Series(["A1", "A2"]), acc)
    >>> keys.tolist()
    ['customer C1', 'account A2']
    >>> print(notes[0].message)
    table 'accounts', column 'customer_id': 1 account(s) without a customer id; their contact limits are counted per account, e.g. ['A2']
    """
    ids = account_ids.astype(str).astype(object)
    customer = ids.map(customer_ids(accounts)).astype(object)
    keys = pd.Series(
        np.where(customer.notna(), "customer " + customer.fillna("").astype(str), "account " + ids),
        index=account_ids.index,
        dtype=object,
    )
    if accounts is not None and customer.isna().any():
        missing = pd.unique(ids[customer.isna()])
        warnings.warn(
            f"table 'accounts', column 'customer_id': {len(missing):,} account(s) without a "
            f"customer id; their {what} are counted per account, e.g. {list(missing[:3])}",
            DataNoteWarning,
            stacklevel=stacklevel,
        )
    return keys
