"""Reversals a ledger exports as negative payment rows, read as the reversed payment.

The data contract records a returned payment on the payment itself (its
``reversed_date``: it counts only before that date, DESIGN.md §2). Many ledgers export a
reversal instead as a second row: the same account, the amount negated, the date of
the reversal. With ``reversals: negative_rows`` on the mapping's ``payments`` table
(:mod:`recovery.data.mapping`), :func:`reverse_negative_rows` reads each negative row as
the reversal of the **latest earlier unmatched payment of the same account and
amount** (the same day counts as earlier): that payment gets the negative row's date
as its ``reversed_date`` and the negative row is dropped. A negative row with no such
payment is an error naming it — never a silent adjustment. Without the declaration a
negative payment amount stays an error of the contract (``amount > 0``).

Matching is last-in first-out within each account and amount, like brackets: in
date order, payments open and reversals close. It is vectorised (sorting and
cumulative sums), with no loop over accounts.

Examples
--------
>>> ledger = pd.DataFrame({"account_id": ["A1", "A1", "A1"],
...     "payment_date": ["2024-02-01", "2024-03-01", "2024-03-04"],
...     "amount": [100.0, 100.0, -100.0], "channel": "auto_debit"})
>>> out = reverse_negative_rows(ledger)
>>> out[["payment_date", "amount", "reversed_date"]].astype(str).values.tolist()
[['2024-02-01', '100.0', 'NaT'], ['2024-03-01', '100.0', '2024-03-04']]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recovery.data.dates import parse_dates
from recovery.errors import DataError

__all__ = ["REVERSAL_STYLES", "reverse_negative_rows"]

#: Values of a payments table's ``reversals:`` setting in the mapping file.
REVERSAL_STYLES = ("negative_rows",)

_SHOWN = 5


def reverse_negative_rows(payments: pd.DataFrame) -> pd.DataFrame:
    """Payments with negative rows read as reversals of earlier payments.

    Parameters
    ----------
    payments : DataFrame
        The ``payments`` table in contract names (amounts as numbers or text, dates as
        dates or ISO text), negative rows included. A payment that already has a
        ``reversed_date`` is not reversed twice.

    Returns
    -------
    DataFrame
        The positive rows (and rows whose amount or date cannot be read, left for the
        contract checks to report), in their order, with ``reversed_date`` set on
        each reversed payment; ``payments`` itself when it has no negative row.

    Raises
    ------
    DataError
        Negative rows that reverse no earlier unmatched payment of the same account
        and amount, named with example rows.

    Examples
    --------
    >>> rows = pd.DataFrame({"account_id": ["A1", "A1"],
    ...     "payment_date": ["2024-03-04", "2024-03-09"], "amount": [-80.0, 80.0],
    ...     "channel": "cash"})
    >>> try:
    ...     reverse_negative_rows(rows)
    ... except DataError as err:
    ...     print(str(err).split(";")[0])
    table 'payments': 1 negative row(s) reverse no earlier payment of the same account and amount
    """
    amount = pd.to_numeric(payments["amount"], errors="coerce").to_numpy(dtype="float64")
    negative = amount < 0
    if not negative.any():
        return payments
    date = parse_dates(payments["payment_date"])[0].to_numpy()
    open_ = amount > 0
    if "reversed_date" in payments.columns:
        open_ &= payments["reversed_date"].isna().to_numpy()
    known = ~np.isnat(date)
    sign = np.where(open_ & known, 1, np.where(negative & known, -1, 0))
    events = pd.DataFrame(
        {
            "row": np.arange(len(payments)),
            "account": payments["account_id"].astype(str).to_numpy(),
            "size": np.round(np.abs(amount), 6),
            "date": date,
            "sign": sign,
        }
    )[sign != 0]
    # in date order within account and amount; on one day the payment comes first
    events = events.sort_values(
        ["account", "size", "date", "sign", "row"],
        ascending=[True, True, True, False, True],
        kind="mergesort",
    )
    group = events.groupby(["account", "size"], sort=False).ngroup().to_numpy()
    depth = pd.Series(events["sign"].to_numpy()).groupby(group).cumsum().to_numpy()
    lowest = pd.Series(depth).groupby(group).cummin()
    before = lowest.groupby(group).shift(1).fillna(0).clip(upper=0).to_numpy()
    is_reversal = events["sign"].to_numpy() == -1
    unmatched = is_reversal & (depth < before)
    unmatched_rows = events["row"].to_numpy()[unmatched]
    if not known[negative].all() or len(unmatched_rows):
        _raise_unmatched(payments, unmatched_rows, negative & ~known)
    # a payment at depth d is closed by the next reversal that brings the depth back
    # from d to d - 1: within (group, level) payments and reversals alternate
    level = np.where(is_reversal, depth + 1, depth)
    order = pd.Series(np.arange(len(events))).groupby([group, level]).cumcount().to_numpy()
    pair = pd.Series(order // 2).to_numpy()
    keys = pd.DataFrame({"group": group, "level": level, "pair": pair})
    rows = events["row"].to_numpy()
    opened = keys[~is_reversal].assign(row=rows[~is_reversal])
    closed = keys[is_reversal].assign(date=events["date"].to_numpy()[is_reversal])
    matched = opened.merge(closed, on=["group", "level", "pair"], how="inner")
    out = payments.copy()
    reversed_date = (
        parse_dates(out["reversed_date"])[0]
        if "reversed_date" in out.columns
        else pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    )
    reversed_date.iloc[matched["row"].to_numpy()] = matched["date"].to_numpy()
    out["reversed_date"] = reversed_date.to_numpy()
    return out[~negative].reset_index(drop=True)


def _raise_unmatched(payments: pd.DataFrame, rows: np.ndarray, undated: np.ndarray) -> None:
    bad = np.zeros(len(payments), dtype=bool)
    bad[rows] = True
    bad |= undated
    columns = [c for c in ("account_id", "payment_id", "payment_date", "amount") if c in payments]
    shown = payments.loc[bad, columns].head(_SHOWN)
    examples = "; ".join(
        f"row {i}: " + ", ".join(f"{k}={v!r}" for k, v in row.items())
        for i, row in zip(shown.index, shown.to_dict("records"), strict=True)
    )
    raise DataError(
        f"table 'payments': {int(bad.sum())} negative row(s) reverse no earlier payment of "
        f"the same account and amount; e.g. {examples}. With reversals: negative_rows in "
        "the mapping a negative row must follow the payment it returns"
    )
