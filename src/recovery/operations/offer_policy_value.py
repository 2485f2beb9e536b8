"""What an offer policy would have collected, estimated from the lender's own offer history.

The counterpart of a re-simulation for a lender without a simulator. The history is the
``offers`` table: each offer's terms (the *logged action*), the probability with which
those terms were chosen (``assignment_probability``) and what the account paid over the
H months after it (:func:`realised_collections`, discounted). A policy — e.g. the
recommendation — names, for the same accounts in the same state, the action it would
have taken. Then, per account *i* with logged action *a_i*, propensity *p_i*, outcome
*Y_i* and the policy's action *π_i*:

- **inverse propensity (IPW)**: ``V = mean(1[π_i = a_i] / p_i · Y_i)``;
- **self-normalised IPW**: the same divided by ``mean(1[π_i = a_i] / p_i)``;
- **doubly robust (DR)**: ``V = mean(q(x_i, π_i) + 1[π_i = a_i] / p_i · (Y_i − q(x_i, a_i)))``,
  where ``q`` is a model of the expected outcome of an action (the value model's
  expected collections); right if either the propensities or ``q`` are.

Intervals are normal ones from the per-account terms (delta method for the ratio).
The estimates are only as good as the propensities: an account whose terms were chosen
by rule (probability 1) tells nothing of the terms the policy would have chosen
instead, so by default only the offers with random terms (``randomized``, or a
probability below 1) are used, and the table says how many. An offers table holds
offers only: where the policy would make no offer, no logged action matches, so the
IPW counts nothing there and only the DR (through ``q``: V_usual) values it; the table
gives the share of such accounts (``no_offer``).

Examples
--------
>>> import numpy as np
>>> est = policy_value(matches=[True, False, True, False], propensity=[0.5] * 4,
...                    outcome=[10.0, 0.0, 20.0, 4.0])
>>> float(est.set_index("estimator").loc["ipw", "value"])   # (10 / 0.5 + 20 / 0.5) / 4
15.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.errors import DataError
from recovery.operations.offer_recommend import recommend_offers
from recovery.operations.offer_response import OfferResponseModel
from recovery.operations.offer_value import UsualCollections, discount_factors, offer_value
from recovery.timeline.days import DAYS_PER_MONTH

__all__ = [
    "policy_value",
    "policy_value_terms",
    "realised_collections",
    "same_action",
    "offer_policy_value",
]

_TERMS = ("kind", "discount_share", "installments", "deferral_months", "plan_amount")


def policy_value_terms(
    matches: Any,
    propensity: Any,
    outcome: Any,
    q_logged: Any = None,
    q_policy: Any = None,
    supported: Any = None,
) -> pd.DataFrame:
    """Per-row terms of the IPW, self-normalised IPW and DR estimates: their means are
    the estimates, their standard deviations over √n the standard errors (the
    self-normalised one's are its influence values: its value plus the delta method's
    term).

    Rows where the policy's action was not a possible logged action (``supported``
    False: e.g. no offer, when the history holds offers only, or another kind than the
    one whose terms were drawn) cannot be weighted — no logged row ever stands for
    them — and are valued by ``q_policy`` in every estimator; without ``q_policy``
    their IPW terms are missing.

    Parameters
    ----------
    matches, propensity, outcome, q_logged, q_policy
        As :func:`policy_value`.
    supported : array-like of bool, optional
        The policy's action had a positive probability of being logged (default: all
        rows).

    Returns
    -------
    pandas.DataFrame
        ``ipw``, ``snipw`` and (with ``q_logged`` and ``q_policy``) ``dr``, one row per
        input row.

    Examples
    --------
    >>> t = policy_value_terms([True, False, False], [0.5, 0.5, 0.5], [10.0, 2.0, 4.0],
    ...                        q_logged=[8.0, 3.0, 4.0], q_policy=[8.0, 6.0, 5.0],
    ...                        supported=[True, True, False])
    >>> t["ipw"].tolist()   # 10 / 0.5, nothing matched, the model's 5 (not supported)
    [20.0, 0.0, 5.0]
    """
    m = np.asarray(matches, dtype=bool)
    p = np.asarray(propensity, dtype=float)
    y = np.asarray(outcome, dtype=float)
    if not (len(m) == len(p) == len(y)) or not len(y):
        raise DataError("policy value: matches, propensity and outcome need the same rows")
    bad = ~((p > 0) & (p <= 1)) | np.isnan(y)
    if bad.any():
        rows = np.flatnonzero(bad)[:3].tolist()
        raise DataError(
            "offers: assignment_probability must be within (0, 1] and the outcome known "
            f"(rule: inverse propensity weights; e.g. rows {rows})"
        )
    s = np.ones(len(y), bool) if supported is None else np.asarray(supported, dtype=bool)
    s = s | m  # a logged action was possible
    qp = np.full(len(y), np.nan) if q_policy is None else np.asarray(q_policy, dtype=float)
    modelled = np.where(s, 0.0, qp)
    w = np.where(s, m / p, 0.0)
    terms = pd.DataFrame({"ipw": w * y + modelled})
    share, b = s.mean(), w.mean()
    if b > 0:
        ratio = (w * y).mean() / b
        value = share * ratio + modelled.mean()
        infl = share * (w * y - ratio * w) / b + ratio * (s - share) + modelled - modelled.mean()
        terms["snipw"] = value + infl
    else:
        terms["snipw"] = np.where(s, np.nan, modelled)
    if q_logged is not None and q_policy is not None:
        ql = np.asarray(q_logged, dtype=float)
        terms["dr"] = qp + w * (y - ql)
    return terms


def policy_value(
    matches: Any,
    propensity: Any,
    outcome: Any,
    q_logged: Any = None,
    q_policy: Any = None,
    level: float = 0.95,
    supported: Any = None,
) -> pd.DataFrame:
    """Inverse-propensity and doubly robust estimates of a policy's mean outcome.

    Parameters
    ----------
    matches : array-like of bool
        The policy takes the logged action.
    propensity : array-like of float
        Probability of the logged action under the logging policy, in (0, 1].
    outcome : array-like of float
        The outcome observed (e.g. discounted collections, currency).
    q_logged, q_policy : array-like of float, optional
        Modelled expected outcome of the logged action and of the policy's action;
        without them, no DR row.
    level : float
        Confidence level of the intervals.
    supported : array-like of bool, optional
        The policy's action could have been logged (positive probability); rows where
        it could not are valued by ``q_policy`` (:func:`policy_value_terms`). Default:
        all rows.

    Returns
    -------
    pandas.DataFrame
        ``estimator`` (ipw, snipw, dr), ``value`` (mean per account), ``se``, ``low``,
        ``high``, ``accounts``, ``matched``, ``modelled`` (rows valued by the model
        alone: the policy's action not supported).
    """
    terms = policy_value_terms(matches, propensity, outcome, q_logged, q_policy, supported)
    n = len(terms)
    m = np.asarray(matches, dtype=bool)
    s = np.ones(n, bool) if supported is None else np.asarray(supported, dtype=bool)
    z = norm.ppf(0.5 + level / 2)
    rows = []
    for name in terms.columns:
        t = terms[name].to_numpy()
        value = float(t.mean())
        se = float(t.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
        rows.append(
            {
                "estimator": name,
                "value": value,
                "se": se,
                "low": value - z * se,
                "high": value + z * se,
                "accounts": n,
                "matched": int(m.sum()),
                "modelled": int((~(s | m)).sum()),
            }
        )
    return pd.DataFrame(rows).dropna(subset=["value"]).reset_index(drop=True)


def realised_collections(
    portfolio: Portfolio, offers: pd.DataFrame, config: Config | None = None
) -> pd.DataFrame:
    """Discounted collections of each offer's account over the H months after the offer.

    A payment on day ``offered_at + s`` counts in month ``t = floor(s / 30.44) + 1`` with
    ``δ^(t-1)`` (the offer's month is not discounted); reversed payments do not count. Offers whose H months are not all observed
    (``offered_at`` + H months after the data end) are flagged ``complete = False``.

    Returns
    -------
    pandas.DataFrame
        Same rows as ``offers``: ``offer_id``, ``collected`` (currency), ``complete``.
    """
    rules = (config or Config()).offers
    horizon = rules.horizon_months
    delta = discount_factors(horizon, rules.monthly_discount_rate)
    o = offers.reset_index(drop=True)
    day = pd.to_datetime(o["offered_at"]).dt.normalize()
    frame = pd.DataFrame(
        {"_row": np.arange(len(o)), "account_id": o["account_id"].astype(str), "day": day}
    )
    pay = portfolio.payments
    collected = np.zeros(len(o))
    if pay is not None and len(pay):
        pay = pay.assign(account_id=pay["account_id"].astype(str))
        if "reversed_date" in pay:
            pay = pay[pay["reversed_date"].isna()]
        both = frame.merge(pay[["account_id", "payment_date", "amount"]], on="account_id")
        days = (pd.to_datetime(both["payment_date"]) - both["day"]).dt.days.to_numpy()
        month = np.floor(days / DAYS_PER_MONTH).astype(int) + 1
        inside = (days >= 0) & (month <= horizon)
        value = both["amount"].to_numpy(float) * delta[np.clip(month - 1, 0, horizon)]
        collected = np.bincount(
            both["_row"].to_numpy()[inside], weights=value[inside], minlength=len(o)
        )
    end = portfolio.data_end
    complete = (day + pd.to_timedelta(horizon * DAYS_PER_MONTH, unit="D")) <= end
    return pd.DataFrame(
        {
            "offer_id": o["offer_id"].to_numpy() if "offer_id" in o else np.arange(len(o)),
            "collected": collected,
            "complete": complete.to_numpy(),
        }
    )


def same_action(a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
    """Rows where two tables name the same action: kind and its term.

    Examples
    --------
    >>> a = pd.DataFrame({"kind": ["settlement", "payment_plan"], "discount_share": [0.3, 0],
    ...                   "installments": [1, 6]})
    >>> b = pd.DataFrame({"kind": ["settlement", "payment_plan"], "discount_share": [0.3, 0],
    ...                   "installments": [1, 12]})
    >>> same_action(a, b).tolist()
    [True, False]
    """

    def col(t: pd.DataFrame, name: str) -> np.ndarray:
        if name not in t:
            return np.zeros(len(t))
        return pd.to_numeric(t[name], errors="coerce").fillna(0).to_numpy(dtype=float)

    kind_a = a["kind"].astype(object).to_numpy()
    kind_b = b["kind"].astype(object).to_numpy()
    same = kind_a == kind_b
    settle = kind_a == "settlement"
    plan = kind_a == "payment_plan"
    defer = kind_a == "deferral"
    same &= ~settle | np.isclose(col(a, "discount_share"), col(b, "discount_share"))
    same &= ~plan | (col(a, "installments") == col(b, "installments"))
    same &= ~defer | (col(a, "deferral_months") == col(b, "deferral_months"))
    return same


def offer_policy_value(
    history: pd.DataFrame,
    collected: Any,
    model: OfferResponseModel,
    usual: UsualCollections,
    config: Config | None = None,
    policy: pd.DataFrame | None = None,
    randomized_only: bool = True,
    level: float = 0.95,
    supported: Any = None,
    return_terms: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """IPW and DR value of the recommendation (or another policy) on an offer history.

    Parameters
    ----------
    history : pandas.DataFrame
        Offers with their state (:func:`~recovery.operations.offer_book.offer_history`),
        ``assignment_probability`` and ``randomized`` when recorded.
    collected : array-like of float
        Discounted collections after each offer (:func:`realised_collections`).
    model, usual : fitted
        The response model and collecting as usual (for the DR's expected outcomes and
        for the recommendation).
    config : Config, optional
    policy : pandas.DataFrame, optional
        The policy's action per history row (``kind``, terms); default: the
        recommendation for each row's state.
    randomized_only : bool
        Use only the offers with random terms (positivity: a rule-assigned offer says
        nothing of other terms).
    level : float
    supported : array-like of bool, optional
        Per history row, whether the policy's action could have been the logged one.
        Default: the policy offers the kind that was offered (a desk draws the terms
        at random within the kind its rule gives; no offer, or another kind, was never
        a possible logged action — an offers table records offers only). Rows outside
        it are valued by the value model alone in every estimator (``modelled``).
    return_terms : bool
        Also return the per-offer terms (:func:`policy_value_terms`) of the offers used.

    Returns
    -------
    pandas.DataFrame
        :func:`policy_value`'s table plus the ``logged`` policy's mean outcome; with
        ``return_terms``, a tuple of it and the terms (``offer_id`` and one column per
        estimator, the offers used in order).
    """
    config = config or Config()
    rules = config.offers
    h = history.reset_index(drop=True)
    y = np.asarray(collected, dtype=float)
    p = (
        pd.to_numeric(h["assignment_probability"], errors="coerce").to_numpy(float)
        if "assignment_probability" in h
        else np.ones(len(h))
    )
    rand = h["randomized"].fillna(False).astype(bool).to_numpy() if "randomized" in h else p < 1
    keep = (rand | (p < 1)) if randomized_only else np.ones(len(h), dtype=bool)
    keep &= ~np.isnan(y)
    if not keep.any():
        raise DataError(
            "offers: no offer with random terms and a known outcome (rule: inverse "
            "propensity needs offers whose terms were drawn at random)"
        )
    h, y, p = h[keep].reset_index(drop=True), y[keep], p[keep]
    if policy is None:
        state = h.assign(account_id=np.arange(len(h)).astype(str))
        policy = recommend_offers(state, model, usual, config).rename(columns={"offer": "kind"})
    else:
        policy = policy[keep].reset_index(drop=True)
    if supported is None:
        supported = policy["kind"].astype(object).to_numpy() == h["kind"].astype(object).to_numpy()
    else:
        supported = np.asarray(supported, dtype=bool)[keep]
    if "plan_amount" not in policy:  # a plan of what was owed at the offer
        owed = h["owed"] if "owed" in h else h.get("plan_amount", h["balance"])
        logged_plan = h["kind"].astype(object) == "payment_plan"
        spread = np.where(logged_plan, h.get("plan_amount", owed), owed)
        policy = policy.assign(
            plan_amount=np.where(policy["kind"].astype(object) == "payment_plan", spread, np.nan)
        )
    matches = same_action(h, policy)
    vu = usual.value(h)
    share = usual.share(h)
    cured = usual.cured_share(len(h))

    def expected(action: pd.DataFrame) -> np.ndarray:
        """The value model's expected collections of each row's action (no offer: V_usual)."""
        kind = action["kind"].astype(object).to_numpy()
        frame = h.drop(columns=[c for c in _TERMS if c in h]).assign(
            kind=np.where(kind == "none", "settlement", kind),
            discount_share=action["discount_share"].to_numpy(),
            installments=action["installments"].to_numpy(),
            deferral_months=action["deferral_months"].to_numpy(),
            plan_amount=action["plan_amount"].to_numpy() if "plan_amount" in action else np.nan,
        )
        val = offer_value(
            frame,
            model.predict_accept(frame),
            model.predict_complete(frame),
            vu,
            share,
            rules.horizon_months,
            rules.monthly_discount_rate,
            0.0,
            cured,
        )["value"].to_numpy()
        return np.where(kind == "none", vu, vu + np.nan_to_num(val))

    q_logged = expected(h)
    q_policy = expected(policy)
    out = policy_value(matches, p, y, q_logged, q_policy, level, supported)
    terms = policy_value_terms(matches, p, y, q_logged, q_policy, supported)
    out["no_offer"] = float((policy["kind"].astype(object) == "none").mean())
    logged = pd.DataFrame(
        [
            {
                "estimator": "logged",
                "value": float(y.mean()),
                "se": float(y.std(ddof=1) / np.sqrt(len(y))) if len(y) > 1 else np.nan,
                "accounts": len(y),
                "matched": len(y),
                "modelled": 0,
                "no_offer": 0.0,
            }
        ]
    )
    z = norm.ppf(0.5 + level / 2)
    logged["low"] = logged["value"] - z * logged["se"]
    logged["high"] = logged["value"] + z * logged["se"]
    table = pd.concat([out, logged[out.columns]], ignore_index=True)
    if return_terms:
        ids = h["offer_id"].to_numpy() if "offer_id" in h else np.arange(len(h))
        return table, terms.assign(offer_id=ids)[["offer_id", *terms.columns]]
    return table
