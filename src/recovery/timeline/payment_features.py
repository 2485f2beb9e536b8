"""Payment features: what the debtor paid up to an as-of date (DESIGN.md §3).

Payments count from their posting date; a payment whose reversal is dated on or before
as_of does not count, one reversed later still does
(:func:`~recovery.timeline.known_at.known_at_as_of`). The features are those of the
catalogue in group ``payment`` and mode ``ledger``
(:mod:`~recovery.timeline.catalogue`); ``paid_to_due_ratio`` needs the aging state and
comes with the aging features.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.timeline.catalogue import PAYMENT_WINDOWS_DAYS, REGULARITY_WINDOW_DAYS
from recovery.timeline.days import day_numbers, to_datetimes
from recovery.timeline.events import Events, PairColumns, Pairs
from recovery.timeline.known_at import known_at_as_of, require_tables

__all__ = ["payment_features", "payment_columns", "valid_payments"]


def payment_features(
    portfolio: Portfolio, pairs: pd.DataFrame, config: Config | None = None
) -> pd.DataFrame:
    """Payment behaviour of each (account_id, as_of) pair.

    Uses payments posted on or before ``as_of`` whose reversal (if any) is dated after
    ``as_of``. ``paid_to_due_ratio`` needs the aging columns and is added by
    :func:`~recovery.timeline.aging_features.aging_features`.

    Parameters
    ----------
    portfolio : Portfolio
        Needs ``payments`` (``schedule`` for the partial-payment share).
    pairs : pandas.DataFrame
        Columns ``account_id``, ``as_of``.
    config : Config, optional
        ``aging.tolerance``: a payment is partial when it falls short of the
        installment in force by more than this.

    Returns
    -------
    pandas.DataFrame
        One row per pair, in order: ``account_id, as_of`` and the payment features of
        :func:`~recovery.timeline.catalogue.feature_catalogue` (group ``payment``, mode ``ledger``) except
        ``paid_to_due_ratio``.

    Examples
    --------
    >>> pays = pd.DataFrame({"account_id": ["A", "A", "A"], "amount": [100.0, 50.0, 80.0],
    ...     "payment_date": pd.to_datetime(["2024-01-10", "2024-02-10", "2024-03-10"]),
    ...     "channel": "cash"})
    >>> f = payment_features(Portfolio(payments=pays),
    ...     pd.DataFrame({"account_id": ["A"], "as_of": pd.to_datetime(["2024-02-29"])}))
    >>> f[["days_since_last_payment", "paid_amount_30d", "payment_count_90d"]]
       days_since_last_payment  paid_amount_30d  payment_count_90d
    0                     19.0             50.0                2.0
    """
    config = config or Config()
    require_tables(portfolio, "payments")
    return known_at_as_of(payment_columns, portfolio, pairs, config).frame()


def payment_columns(portfolio: Portfolio, pairs: pd.DataFrame, config: Config) -> PairColumns:
    """The payment features of pairs as :class:`~recovery.timeline.events.PairColumns`.

    The vectorised core of :func:`payment_features` (same parameters, ``config``
    required; one row per pair, in order). It counts every recorded reversal:
    :func:`payment_features` runs it through
    :func:`~recovery.timeline.known_at.known_at_as_of` so that reversals dated after as_of
    are not yet known.
    """
    p = Pairs.of(pairs)
    out = PairColumns(p.frame)
    ev, valid = valid_payments(portfolio, p)
    out["days_since_last_payment"] = ev.since(p.codes, p.days)
    for days in PAYMENT_WINDOWS_DAYS:
        out[f"paid_amount_{days}d"] = ev.window("amount", p.codes, p.days, days)
        out[f"payment_count_{days}d"] = ev.window(None, p.codes, p.days, days)
    count = ev.window(None, p.codes, p.days, None)
    if portfolio.schedule is not None and len(valid):
        inst = p.schedule(portfolio.schedule).at(valid["code"].to_numpy(), valid["day"].to_numpy())
        tol = config.aging.tolerance
        partial = valid["amount"].to_numpy() < inst["installment_amount"].to_numpy() - tol
        # counted on the payments' events (same rows, same order): no second search
        lo, hi = ev.bounds(p.codes, p.days, None)
        cum = np.concatenate(([0.0], np.cumsum(partial[ev.values["row"]], dtype="float64")))
        partial_count = cum[hi] - cum[lo]
        out["partial_payment_share"] = np.where(
            count > 0, partial_count / np.maximum(count, 1), np.nan
        )
    else:
        out["partial_payment_share"] = np.nan
    n = ev.window(None, p.codes, p.days, REGULARITY_WINDOW_DAYS)
    s1 = ev.window("dom", p.codes, p.days, REGULARITY_WINDOW_DAYS)
    s2 = ev.window("dom2", p.codes, p.days, REGULARITY_WINDOW_DAYS)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (s2 - s1 * s1 / n) / (n - 1)
    out["payment_day_std_days"] = np.where(n >= 2, np.sqrt(np.maximum(var, 0.0)), np.nan)
    return out


def valid_payments(portfolio: Portfolio, p: Pairs) -> tuple[Events, pd.DataFrame]:
    """Payments of the pairs' accounts that count (no reversal recorded).

    Parameters
    ----------
    portfolio : Portfolio
        Needs ``payments``.
    p : Pairs

    Returns
    -------
    events : Events
        By account code and posting day, with values ``amount``, ``dom`` (day of the
        month), ``dom2`` (its square) and ``row`` (the payment's row in ``valid``).
    valid : pandas.DataFrame
        The same payments: ``account_id, payment_date, amount, code, day``, in table
        order.

    Examples
    --------
    >>> pays = pd.DataFrame({"account_id": ["A", "A", "B"], "amount": [5.0, 7.0, 9.0],
    ...     "payment_date": pd.to_datetime(["2024-01-05", "2024-01-09", "2024-01-07"]),
    ...     "reversed_date": pd.to_datetime([None, "2024-01-20", None])})
    >>> p = Pairs.of(pd.DataFrame({"account_id": ["A"], "as_of": ["2024-01-31"]}))
    >>> ev, valid = valid_payments(Portfolio(payments=pays), p)
    >>> valid["amount"].tolist(), len(ev)
    ([5.0], 1)
    """
    pays = portfolio.payments
    return p.remember("valid_payments", pays, lambda: _valid_payments(pays, p))


def _valid_payments(pays: pd.DataFrame, p: Pairs) -> tuple[Events, pd.DataFrame]:
    code = p.code(pays["account_id"])
    keep = code >= 0
    if "reversed_date" in pays:
        keep &= to_datetimes(pays["reversed_date"]).isna().to_numpy()
    valid = pd.DataFrame(
        {
            "account_id": pays["account_id"].astype(str).to_numpy()[keep],
            "payment_date": to_datetimes(pays["payment_date"]).to_numpy()[keep],
            "amount": pays["amount"].astype("float64").to_numpy()[keep],
            "code": code[keep],
        }
    )
    valid["day"] = day_numbers(valid["payment_date"])
    dom = valid["payment_date"].dt.day.to_numpy().astype("float64")
    ev = Events(
        valid["code"].to_numpy(),
        valid["day"].to_numpy(),
        amount=valid["amount"].to_numpy(),
        dom=dom,
        dom2=dom * dom,
        row=np.arange(len(valid)),
    )
    return ev, valid
