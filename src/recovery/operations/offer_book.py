"""Offers on a lender's book: from the event tables to one recommendation per account.

The steps the ``recovery offers`` command and the notebooks run, each a plain function:

1. :func:`offer_history` — the offers made before a day, with each account's state at
   the offer (:func:`~recovery.operations.offer_rules.offer_context`); a book without
   an offer history gets a clear error saying what is needed, never a guess;
   :func:`offer_features` adds recovery's point-in-time features at the day before
   each offer;
2. :func:`fit_offer_model` — the response model on that history;
3. :func:`fit_usual` — collecting as usual, from the snapshots before the day;
4. :func:`book_offers` — the accounts' state on the day and the recommendation.

Examples
--------
>>> from recovery.datasets import tiny_portfolio
>>> offer_history(tiny_portfolio(), "2024-06-01")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
recovery.errors.DataError: recommending offers needs the lender's offer history...
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.errors import DataError
from recovery.operations.offer_recommend import account_offer_state, recommend_offers
from recovery.operations.offer_response import OfferResponseModel
from recovery.operations.offer_rules import offer_context
from recovery.operations.offer_value import UsualCollections
from recovery.timeline.aging import snapshots
from recovery.timeline.features import build_features

__all__ = [
    "NEEDS",
    "offer_history",
    "offer_features",
    "fit_offer_model",
    "fit_usual",
    "book_offers",
]

#: What an offer recommendation needs from a lender, in words.
NEEDS = (
    "recommending offers needs the lender's offer history: an 'offers' table with one row "
    "per offer made (account_id, offered_at, kind, the terms: discount_share, installments, "
    "deferral_months), its answer (outcome: accepted, declined, no_answer) and, for accepted "
    "offers, the result (completed, broken); and, to learn how borrowers respond to the "
    "terms without bias, some offers made at random terms, flagged 'randomized' with their "
    "'assignment_probability' (docs/offers.md)"
)


def offer_history(
    portfolio: Portfolio, before: Any, config: Config | None = None, min_offers: int = 50
) -> pd.DataFrame:
    """Offers made before ``before`` with each account's state at the offer.

    Raises
    ------
    DataError
        Without an ``offers`` table, or with fewer than ``min_offers`` offers before
        the day (the message says what is needed).
    """
    day = pd.Timestamp(before).normalize()
    offers = portfolio.offers
    if offers is None or not len(offers):
        raise DataError(NEEDS)
    made = offers[pd.to_datetime(offers["offered_at"]) < day]
    if len(made) < min_offers:
        raise DataError(f"{NEEDS}. Found {len(made)} offers before {day.date()}")
    import dataclasses

    book = dataclasses.replace(portfolio, offers=made.reset_index(drop=True))
    return offer_context(book, config)


def offer_features(
    portfolio: Portfolio, frame: pd.DataFrame, day: Any = None, config: Config | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """``frame`` with recovery's point-in-time features at the day before each row's date.

    Parameters
    ----------
    portfolio : Portfolio
    frame : pandas.DataFrame
        Rows with ``account_id`` and ``offered_at`` (an offer history), or any rows with
        ``account_id`` when ``day`` is given (the accounts' state on that day).
    day : date-like, optional
        The one day of every row (features at the day before).
    config : Config, optional

    Returns
    -------
    tuple
        The frame with the feature columns added (rows not overdue the day before get
        missing values), and the names of the features added — those not already
        columns of ``frame`` (the state's own columns are kept).
    """
    when = (
        pd.Series(pd.Timestamp(day), index=frame.index)
        if day is not None
        else pd.to_datetime(frame["offered_at"])
    )
    pairs = pd.DataFrame(
        {
            "account_id": frame["account_id"].astype(str).to_numpy(),
            "as_of": (when.dt.normalize() - pd.Timedelta(days=1)).to_numpy(),
        }
    )
    matrix = build_features(portfolio, pairs.drop_duplicates(), config)
    matrix = matrix.assign(account_id=matrix["account_id"].astype(str))
    names = [c for c in matrix.columns if c not in ("account_id", "as_of") and c not in frame]
    extra = pairs.merge(
        matrix[["account_id", "as_of", *names]], on=["account_id", "as_of"], how="left"
    )
    added = extra[names].set_axis(frame.index)
    return pd.concat([frame, added], axis=1), names


def fit_offer_model(
    history: pd.DataFrame, features: list[str] | None = None, **params: Any
) -> OfferResponseModel:
    """The response model fitted on an offer history (:func:`offer_history`)."""
    return OfferResponseModel(features=features, **params).fit(history)


def fit_usual(
    portfolio: Portfolio, before: Any, config: Config | None = None, by_state: bool = True
) -> UsualCollections:
    """Collecting as usual, learned from the snapshots of the month ends before ``before``
    (an account's months from its first accepted offer on left out: what offers brought
    is not collecting as usual; :meth:`UsualCollections.fit`), by segments of the
    account's own state (``by_state``: DPD bucket and a payment in the month before)."""
    day = pd.Timestamp(before).normalize()
    snaps = portfolio.snapshots
    if snaps is None:
        snaps = snapshots(portfolio, config=config)
    snaps = snaps[pd.to_datetime(snaps["month_end"]) < day]
    if not len(snaps):
        raise DataError(f"snapshots: no month end before {day.date()} to learn collections from")
    offers = portfolio.offers
    if offers is not None:
        offers = offers[pd.to_datetime(offers["offered_at"]) < day]
    return UsualCollections(config, by_state=by_state).fit(snaps, offers=offers)


def book_offers(
    portfolio: Portfolio,
    date: Any,
    model: OfferResponseModel,
    usual: UsualCollections,
    config: Config | None = None,
    p_pay: pd.Series | None = None,
    features: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One recommendation per open delinquent or charged-off account on ``date``.

    Parameters
    ----------
    portfolio : Portfolio
    date : date-like
        Day of the offers (data up to the day before).
    model, usual : fitted
        :func:`fit_offer_model`, :func:`fit_usual`.
    config : Config, optional
    p_pay : pandas.Series, optional
        Propensity to pay by ``account_id`` (scales V_usual within its segment).
    features : pandas.DataFrame, optional
        The model's extra features by ``account_id`` at the day before; default: built
        with :func:`offer_features` when the model has extra features.

    Returns
    -------
    pandas.DataFrame
        :func:`~recovery.operations.offer_recommend.recommend_offers`'s table.
    """
    state = account_offer_state(portfolio, date, config)
    if features is None and model.features:
        state, _ = offer_features(portfolio, state, date, config)
    if p_pay is not None:
        state["p_pay"] = state["account_id"].map(p_pay).to_numpy()
    if features is not None:
        extra = features.drop(columns=[c for c in features if c in state and c != "account_id"])
        state = state.merge(extra, on="account_id", how="left")
    return recommend_offers(state, model, usual, config)
