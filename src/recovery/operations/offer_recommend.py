"""Which offer for which account: the best offer under the lender's rules, or none.

For each account, :func:`recommend_offers` values every candidate of the config's grid
(``[offers]`` ``discount_grid`` settlements, ``plan_grid`` payment plans of the balance,
``deferral_grid`` deferrals) with :func:`recovery.operations.offer_value.offer_value`,
drops those that break a lender rule (:func:`recovery.operations.offer_rules.offer_breaches`:
fraud, death, dispute, an open offer, plan length, affordability, the largest discount
— one minus the minimum acceptable share — by stage and debt age, re-age limits) or lie
outside what the response model has seen, and recommends the candidate worth most —
"no offer" (value 0: collecting as usual) is always a candidate, and an offer must beat
it by ``min_offer_value``. Each row says why, in plain words, and what the runner-up is
worth.

:func:`account_offer_state` builds the accounts' state on a day from a portfolio;
:func:`offer_policy` turns a fitted model into a policy callable for a re-simulation.

Examples
--------
>>> import pandas as pd
>>> grid = candidate_offers(pd.DataFrame({"account_id": ["A"], "balance": [900.0]}),
...     Config.from_dict({"offers": {"discount_grid": [0.0, 0.3], "plan_grid": [6],
...                                  "deferral_grid": []}}))
>>> grid[["kind", "discount_share", "installments"]].values.tolist()
[['settlement', 0.0, 1], ['settlement', 0.3, 1], ['payment_plan', 0.0, 6]]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.errors import DataError
from recovery.operations.offer_response import OfferResponseModel
from recovery.operations.offer_rules import OFFER_RULES, offer_breaches, offer_context
from recovery.operations.offer_value import UsualCollections, offer_value

__all__ = [
    "RULE_WORDS",
    "candidate_offers",
    "recommend_offers",
    "account_offer_state",
    "offer_policy",
    "describe_offer",
    "attach_offers",
]

#: Each lender rule in words (reasons of a recommendation).
RULE_WORDS = {
    "fraud": "confirmed fraud",
    "deceased": "borrower reported deceased",
    "in_dispute": "debt in dispute",
    "open_offer": "an earlier offer is still open",
    "plan_too_long": "plan longer than allowed",
    "deferral_too_long": "deferral longer than allowed",
    "unaffordable": "installment above the affordability cap",
    "discount_too_deep": "discount above the largest allowed for the stage and debt age",
    "reage_too_few_payments": "too few payments made for a re-age",
    "reage_within_12_months": "already re-aged in the last 12 months",
    "reage_within_5_years": "re-aged too often in 5 years",
}
_ACCOUNT_RULES = ("fraud", "deceased", "in_dispute", "open_offer")
_TERMS = ("kind", "discount_share", "installments", "deferral_months", "plan_amount")


def candidate_offers(accounts: pd.DataFrame, config: Config | None = None) -> pd.DataFrame:
    """Every candidate offer of the config's grid for every account (one row each).

    Parameters
    ----------
    accounts : pandas.DataFrame
        One row per account (``account_id``, ``balance``, optionally ``owed`` — the
        amount still due that a plan spreads, default the balance — and any state
        columns).
    config : Config, optional
        ``offers.discount_grid``, ``plan_grid`` (plans of what is owed, no discount),
        ``deferral_grid``.

    Returns
    -------
    pandas.DataFrame
        The accounts' columns (terms replaced) plus ``kind``, ``discount_share``,
        ``installments``, ``deferral_months``, ``plan_amount``.
    """
    rules = (config or Config()).offers
    terms = pd.DataFrame(
        [("settlement", float(d), 1, 0) for d in rules.discount_grid]
        + [("payment_plan", 0.0, int(n), 0) for n in rules.plan_grid]
        + [("deferral", 0.0, 0, int(m)) for m in rules.deferral_grid],
        columns=["kind", "discount_share", "installments", "deferral_months"],
    )
    base = accounts.drop(columns=[c for c in _TERMS if c in accounts]).reset_index(drop=True)
    base["_account"] = np.arange(len(base))
    out = base.merge(terms, how="cross")
    spread = pd.to_numeric(out["owed"] if "owed" in out else out["balance"], errors="coerce")
    out["plan_amount"] = np.where(
        out["kind"] == "payment_plan", (1.0 - out["discount_share"]) * spread.astype(float), np.nan
    )
    return out.sort_values(["_account"], kind="stable").reset_index(drop=True)


def describe_offer(kind, discount_share, installments, deferral_months) -> np.ndarray:
    """Offers in words: "settlement at 30% off", "6-month payment plan", "3-month deferral".

    Examples
    --------
    >>> describe_offer(["settlement", "payment_plan", "deferral", "none"], [0.3, 0, 0, 0],
    ...                [1, 6, 0, 0], [0, 0, 3, 0]).tolist()
    ['settlement at 30% off', '6-month payment plan', '3-month deferral', 'no offer']
    """
    kind = pd.Series(np.asarray(kind, dtype=object))
    d = pd.Series(np.asarray(discount_share, dtype=float)).fillna(0.0)
    n = pd.Series(np.asarray(installments, dtype=float)).fillna(0).astype(int).astype(str)
    m = pd.Series(np.asarray(deferral_months, dtype=float)).fillna(0).astype(int).astype(str)
    pct = (d * 100).round().astype(int).astype(str)
    words = np.select(
        [kind == "settlement", kind == "payment_plan", kind == "deferral"],
        [
            np.where(d > 0, "settlement at " + pct + "% off", "settlement in full"),
            n + "-month payment plan",
            m + "-month deferral",
        ],
        "no offer",
    )
    return np.asarray(words, dtype=object)


def recommend_offers(
    accounts: pd.DataFrame,
    model: OfferResponseModel,
    usual: UsualCollections,
    config: Config | None = None,
) -> pd.DataFrame:
    """The best offer per account under the lender's rules, its value and reasons.

    Parameters
    ----------
    accounts : pandas.DataFrame
        One row per account: ``account_id``, the state of
        :data:`~recovery.operations.offer_rules.CONTEXT_COLUMNS` (``stage``,
        ``debt_age_days``, ``balance``, ``installment_amount``, ``payments_before``,
        re-ages, flags), the model's extra features, and optionally ``p_pay``.
    model : OfferResponseModel
        Fitted acceptance and completion.
    usual : UsualCollections
        Fitted collections as usual (V_usual).
    config : Config, optional
        ``[offers]``: rules, grids, horizon, discount rate, cost, ``min_offer_value``.

    Returns
    -------
    pandas.DataFrame
        One row per account: ``account_id, offer`` (``none``, ``settlement``,
        ``payment_plan``, ``deferral``), ``discount_share, installments,
        deferral_months, amount`` (what the borrower pays per installment, currency),
        ``p_accept, p_complete, value`` (currency over collecting as usual; 0 for no
        offer), ``v_usual, runner_up, runner_up_value, offers_allowed, reasons``.
    """
    config = config or Config()
    rules = config.offers
    if "account_id" not in accounts:
        raise DataError("accounts: column 'account_id' missing (rule: one row per account)")
    accounts = accounts.reset_index(drop=True)
    cand = candidate_offers(accounts, config)
    breaches = offer_breaches(cand, config)
    broken = breaches.to_numpy().any(axis=1)
    pa = model.predict_accept(cand)
    pc = model.predict_complete(cand)
    known = ~np.isnan(pa) & ~np.isnan(pc)
    allowed = ~broken & known
    v_usual = usual.value(accounts)
    share = usual.share(accounts)
    idx = cand["_account"].to_numpy()
    val = offer_value(
        cand,
        pa,
        pc,
        v_usual[idx],
        share[idx],
        rules.horizon_months,
        rules.monthly_discount_rate,
        rules.offer_cost,
        usual.cured_share(len(cand)),
    )
    cand = pd.concat([cand, val.drop(columns=["v_usual"])], axis=1)
    cand["allowed"] = allowed
    ok = cand[allowed].sort_values(["_account", "value"], ascending=[True, False], kind="stable")
    first = ok.groupby("_account").head(1).set_index("_account")
    second = ok.groupby("_account").nth(1).set_index("_account")
    n = len(accounts)
    best_value = first["value"].reindex(range(n)).to_numpy()
    make = best_value > rules.min_offer_value
    out = pd.DataFrame({"account_id": accounts["account_id"].to_numpy()})
    for col in ("kind", "discount_share", "installments", "deferral_months"):
        chosen = first[col].reindex(range(n))
        out[col if col != "kind" else "offer"] = np.where(make, chosen, None)
    out["offer"] = out["offer"].fillna("none")
    for col in ("discount_share", "installments", "deferral_months"):
        out[col] = pd.to_numeric(out[col], errors="coerce").fillna(0)
    out["installments"] = out["installments"].astype(int)
    out["deferral_months"] = out["deferral_months"].astype(int)
    balance = pd.to_numeric(accounts["balance"], errors="coerce").fillna(0.0).to_numpy()
    regular = pd.to_numeric(
        accounts.get("installment_amount", pd.Series(np.nan, index=accounts.index)),
        errors="coerce",
    ).to_numpy()
    out["amount"] = np.select(
        [out["offer"] == "settlement", out["offer"] == "payment_plan", out["offer"] == "deferral"],
        [
            (1 - out["discount_share"]) * balance / np.maximum(out["installments"], 1),
            first["plan_amount"].reindex(range(n)).to_numpy() / np.maximum(out["installments"], 1),
            regular,
        ],
        0.0,
    )
    out["p_accept"] = np.where(make, first["p_accept"].reindex(range(n)), np.nan)
    out["p_complete"] = np.where(make, first["p_complete"].reindex(range(n)), np.nan)
    out["value"] = np.where(make, best_value, 0.0)
    out["v_usual"] = v_usual
    # runner-up: the next best offer, or no offer when an offer wins
    second_words = describe_offer(
        second["kind"].reindex(range(n)),
        second["discount_share"].reindex(range(n)),
        second["installments"].reindex(range(n)),
        second["deferral_months"].reindex(range(n)),
    )
    first_words = describe_offer(
        first["kind"].reindex(range(n)),
        first["discount_share"].reindex(range(n)),
        first["installments"].reindex(range(n)),
        first["deferral_months"].reindex(range(n)),
    )
    second_value = second["value"].reindex(range(n)).to_numpy()
    offer_wins_second = make & (second_value > 0)
    out["runner_up"] = np.where(
        make,
        np.where(offer_wins_second, second_words, "no offer"),
        np.where(np.isnan(best_value), "none allowed", first_words),
    )
    out["runner_up_value"] = np.where(
        make, np.where(offer_wins_second, second_value, 0.0), best_value
    )
    out["offers_allowed"] = pd.Series(allowed).groupby(idx).sum().reindex(range(n)).to_numpy()
    keeps_rules = pd.Series(~broken).groupby(idx).any().reindex(range(n)).to_numpy()
    out["reasons"] = _reasons(out, cand, breaches, best_value, first_words, keeps_rules, rules)
    return out


def _reasons(out, cand, breaches, best_value, first_words, keeps_rules, rules) -> np.ndarray:
    """Plain words per account: why this offer, or why none."""
    horizon = rules.horizon_months
    words = describe_offer(
        out["offer"], out["discount_share"], out["installments"], out["deferral_months"]
    )
    money = lambda x: pd.Series(x).map(lambda v: f"{v:,.0f}").to_numpy(dtype=object)  # noqa: E731
    pct = lambda x: pd.Series(x).map(lambda v: f"{v:.0%}").to_numpy(dtype=object)  # noqa: E731
    offered = (
        words
        + ": "
        + pct(out["p_accept"])
        + " likely to be accepted, "
        + pct(out["p_complete"])
        + " to be completed; worth "
        + money(out["value"])
        + " more than collecting as usual ("
        + money(out["v_usual"])
        + f" expected over {horizon} months)"
    )
    idx = cand["_account"].to_numpy()
    # account-level blocks: a rule every candidate breaks
    every = breaches.groupby(idx).all()
    blocked = np.full(len(out), "", dtype=object)
    for rule in OFFER_RULES:
        hit = every[rule].reindex(range(len(out)), fill_value=False).to_numpy()
        blocked = np.where(
            hit, np.where(blocked == "", "", blocked + "; ") + RULE_WORDS[rule], blocked
        )
    best = first_words.astype(object) + ", worth " + money(np.nan_to_num(best_value))
    none_words = np.select(
        [
            blocked != "",
            ~keeps_rules,
            np.isnan(best_value),
            best_value > 0,
        ],
        [
            "no offer allowed: " + blocked,
            "no offer of the grid keeps the lender's rules for this account",
            "no evidence in the offer history for the offers the rules allow here "
            "(kind, stage or terms never offered)",
            "no offer is worth enough more than collecting as usual (best: "
            + best
            + f"; at least {rules.min_offer_value:,.0f} needed)",
        ],
        "no offer beats collecting as usual (best: " + best + ")",
    )
    return np.where(out["offer"] != "none", offered, none_words)


def account_offer_state(
    portfolio: Portfolio, date, config: Config | None = None, accounts=None
) -> pd.DataFrame:
    """The state of the accounts that could get an offer on ``date`` (data to the day before).

    One row per open delinquent or charged-off account: ``account_id`` and the columns
    of :func:`~recovery.operations.offer_rules.offer_context` (stage, debt age, balance,
    regular installment, payments made, earlier re-ages, fraud, death, dispute, an open
    offer), as for an offer made that day, and ``paid_last_month`` (payments in the
    month before the day, net of those reversed by then; currency: what collecting as
    usual reads, :class:`~recovery.operations.offer_value.UsualCollections`).

    Parameters
    ----------
    portfolio : Portfolio
        ``schedule``, ``payments``; ``offers``, ``events``, ``actions`` when present.
    date : date-like
        Day of the offers.
    config : Config, optional
    accounts : sequence of str, optional
        Limit to these accounts.
    """
    day = pd.Timestamp(date).normalize()
    ids = (
        pd.Index(accounts).astype(str)
        if accounts is not None
        else pd.Index(portfolio.schedule["account_id"].astype(str).unique())
    )
    probe = pd.DataFrame(
        {
            "offer_id": "~candidate~" + ids.to_numpy(dtype=object),
            "account_id": ids.to_numpy(dtype=object),
            "offered_at": day,
            "kind": "settlement",
            "outcome": None,
        }
    )
    history = portfolio.offers
    if history is not None and len(history):
        history = history[pd.to_datetime(history["offered_at"]) < day]
        offers = pd.concat([history, probe], ignore_index=True)
    else:
        offers = probe
    book = dataclasses.replace(portfolio, offers=offers)
    context = offer_context(book, config)
    state = context[context["offer_id"].astype(str).str.startswith("~candidate~")]
    state = state[state["stage"].isin(["early", "late", "charged_off"])]
    keep = [c for c in state.columns if c not in (*_TERMS, "offer_id", "offered_at", "outcome")]
    state = state[keep].reset_index(drop=True)
    state["paid_last_month"] = _paid_in_month_before(portfolio.payments, state["account_id"], day)
    return state


def _paid_in_month_before(payments: pd.DataFrame, account_id: pd.Series, day) -> np.ndarray:
    """Per account, the payments dated in the month before ``day`` and not reversed by then."""
    pay = payments
    when = pd.to_datetime(pay["payment_date"])
    inside = (when >= day - pd.DateOffset(months=1)) & (when < day)
    if "reversed_date" in pay:
        reversed_on = pd.to_datetime(pay["reversed_date"])
        inside &= reversed_on.isna() | (reversed_on >= day)
    paid = pay.loc[inside.to_numpy()].groupby(pay["account_id"].astype(str))["amount"].sum()
    return account_id.astype(str).map(paid).fillna(0.0).to_numpy(dtype=float)


def offer_policy(
    model: OfferResponseModel, usual: UsualCollections, config: Config | None = None
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """A policy callable for a re-simulation: ``policy(candidates) -> offers``.

    Parameters
    ----------
    model, usual, config
        As for :func:`recommend_offers`.

    Returns
    -------
    callable
        Takes one row per account (``account_id``, the decision date, the state
        columns, observable features) and returns one row per account: ``account_id,
        kind`` (``none``, ``payment_plan``, ``settlement``, ``deferral``),
        ``discount_share, installments, deferral_months``.
    """

    def policy(candidates: pd.DataFrame) -> pd.DataFrame:
        rec = recommend_offers(candidates, model, usual, config)
        return rec.rename(columns={"offer": "kind"})[
            ["account_id", "kind", "discount_share", "installments", "deferral_months"]
        ]

    return policy


def attach_offers(worklist: pd.DataFrame, offers: pd.DataFrame) -> pd.DataFrame:
    """A work list with each account's recommended offer: ``offer`` (in words, empty for
    no offer), ``offer_value`` (currency over collecting as usual) and ``offer_reasons``.

    Parameters
    ----------
    worklist : pandas.DataFrame
        Rows with ``account_id``, or entries per customer with ``account_ids`` (``;``
        separated, as :func:`recovery.operations.strategy.build_worklists` writes them):
        then an entry lists the offers of all its accounts and sums their values.
    offers : pandas.DataFrame
        :func:`recommend_offers`'s table.

    Examples
    --------
    >>> wl = pd.DataFrame({"agent_id": ["G1", "G1"], "account_id": ["A", "B"]})
    >>> rec = pd.DataFrame({"account_id": ["A"], "offer": ["payment_plan"],
    ...     "discount_share": [0.0], "installments": [6], "deferral_months": [0],
    ...     "value": [120.0], "reasons": ["6-month payment plan: ..."]})
    >>> attach_offers(wl, rec)[["account_id", "offer", "offer_value"]].values.tolist()
    [['A', '6-month payment plan', 120.0], ['B', '', 0.0]]

    A work list of one entry per customer (``account_ids``) names each account's offer:

    >>> per_person = pd.DataFrame({"account_id": ["B"], "account_ids": ["B;A"]})
    >>> attach_offers(per_person, rec)[["offer", "offer_value"]].values.tolist()
    [['A: 6-month payment plan', 120.0]]
    """
    words = describe_offer(
        offers["offer"], offers["discount_share"], offers["installments"], offers["deferral_months"]
    )
    by = pd.DataFrame(
        {
            "offer": np.where(offers["offer"] == "none", "", words),
            "offer_value": offers["value"].to_numpy(),
            "offer_reasons": offers["reasons"].to_numpy(),
        },
        index=offers["account_id"].astype(str).to_numpy(),
    )
    out = worklist.copy()
    if "account_ids" not in worklist:
        ids = worklist["account_id"].astype(str)
        out["offer"] = ids.map(by["offer"]).fillna("").to_numpy()
        out["offer_value"] = ids.map(by["offer_value"]).fillna(0.0).to_numpy()
        out["offer_reasons"] = ids.map(by["offer_reasons"]).fillna("").to_numpy()
        return out
    # one entry per customer: every account of the entry, its offer named by account
    each = worklist["account_ids"].astype(str).str.split(";").explode().str.strip()
    made = each[each.map(by["offer"]).fillna("").ne("").to_numpy()]
    several = worklist["account_ids"].astype(str).str.contains(";").reindex(made.index)
    words = made.map(by["offer"])
    named = np.where(several.to_numpy(), made + ": " + words, words)
    group = made.index
    out["offer"] = pd.Series(named, index=group).groupby(level=0).agg("; ".join)
    out["offer"] = out["offer"].fillna("")
    value = pd.Series(made.map(by["offer_value"]).to_numpy(dtype=float), index=group)
    out["offer_value"] = value.groupby(level=0).sum().reindex(out.index).fillna(0.0)
    reasons = pd.Series(made.map(by["offer_reasons"]).to_numpy(dtype=object), index=group)
    out["offer_reasons"] = reasons.groupby(level=0).agg(" | ".join).reindex(out.index)
    out["offer_reasons"] = out["offer_reasons"].fillna("")
    return out
