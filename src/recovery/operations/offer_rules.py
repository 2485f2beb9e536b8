"""Guardrails on offers: which lender rule an offer breaks (DESIGN.md §3, offer value).

The rules are :class:`recovery.config.OfferConfig` (``[offers]`` in a config file). Each
rule is a vectorised check; :func:`offer_breaches` applies them to offers described by
the account's observable state when the offer was made (:data:`CONTEXT_COLUMNS`), so
anything that proposes offers — a lender's own table (:func:`check_offers`), the
simulator's offer rule, recommendations — is held to the same rules. Rules and why
they exist:

``fraud`` / ``deceased``
    No offer on a confirmed fraud (``fraud_confirmed`` event) or after a reported death
    (claims go to the estate).
``in_dispute``
    No offer while the debt is disputed: the dispute is resolved first.
``open_offer``
    One open offer at a time: an earlier offer still waits for its answer, or an
    accepted one is still running (no result yet).
``plan_too_long`` / ``deferral_too_long``
    A plan of more than ``max_plan_months`` installments; a deferral of more than
    ``max_deferral_months``.
``unaffordable``
    A plan installment above ``max_installment_ratio`` × the regular installment of the
    schedule in force (the affordability cap).
``discount_too_deep``
    A discount above the largest one allowed for the account's stage and debt age
    (``max_discount``; the minimum acceptable share is one minus it).
``reage_too_few_payments`` / ``reage_within_12_months`` / ``reage_within_5_years``
    A plan or deferral offered to a delinquent open account re-ages it (brings it
    current). The regulators' usual rule: only after ``reage_min_payments`` payments,
    at most ``reage_max_per_12_months`` re-ages in 12 months and
    ``reage_max_per_5_years`` in 5 years. A charged-off account is not re-aged.

:func:`forborne` flags accounts under an accepted plan or deferral (forbearance).

Examples
--------
>>> import pandas as pd
>>> offers = pd.DataFrame({"kind": ["settlement", "payment_plan"],
...     "discount_share": [0.4, 0.0], "installments": [1, 72], "stage": ["early", "late"],
...     "debt_age_days": [40, 150], "installment_amount": [100.0, 100.0],
...     "balance": [900.0, 900.0], "payments_before": [5, 5]})
>>> breaches = offer_breaches(offers)
>>> [list(breaches.columns[row]) for row in breaches.to_numpy()]
[['discount_too_deep'], ['plan_too_long']]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.offers import acceptance_day, changes_schedule
from recovery.data.portfolio import Portfolio
from recovery.errors import DataError
from recovery.operations.compliance import death_times, dispute_spells, in_spells
from recovery.timeline.aging import account_states
from recovery.timeline.days import DAYS_PER_MONTH, day_numbers
from recovery.timeline.events import Events, schedule_in_force

__all__ = [
    "OFFER_RULES",
    "CONTEXT_COLUMNS",
    "STAGES",
    "stage_of",
    "is_reage",
    "offer_breaches",
    "offer_context",
    "check_offers",
    "forborne",
]

OFFER_RULES = (
    "fraud",
    "deceased",
    "in_dispute",
    "open_offer",
    "plan_too_long",
    "deferral_too_long",
    "unaffordable",
    "discount_too_deep",
    "reage_too_few_payments",
    "reage_within_12_months",
    "reage_within_5_years",
)
#: What :func:`offer_breaches` reads per offer (missing columns: the rules that need
#: them are not checked; missing flags count as False, missing counts as 0).
CONTEXT_COLUMNS = (
    "kind",  # payment_plan, settlement, deferral
    "discount_share",  # fraction
    "installments",  # monthly installments of a plan
    "plan_amount",  # currency
    "deferral_months",
    "stage",  # STAGES
    "debt_age_days",
    "balance",  # outstanding principal at the offer (currency)
    "installment_amount",  # regular installment in force (currency)
    "payments_before",  # payments made on the account before the offer
    "reages_12_months",  # earlier re-ages accepted in the 12 months before the offer
    "reages_5_years",
    "fraud",
    "deceased",
    "in_dispute",
    "open_offer",
)
#: Stages of an account when an offer is made (``max_discount`` rules use them).
STAGES = ("current", "early", "late", "charged_off", "closed")
_CENT = 0.005


def stage_of(status: Any, dpd: Any, config: Config | None = None) -> np.ndarray:
    """Stage of each account: current, early (M1–M3), late (M4+), charged_off or closed.

    Parameters
    ----------
    status : array-like of str
        Account status (``open``, ``charged_off``, ``paid_off``, ``settled``, ``closed``).
    dpd : array-like of int
        Days past due.
    config : Config, optional
        Bucket edges (early = buckets 1–3 of ``config.aging``).

    Returns
    -------
    numpy.ndarray of str

    Examples
    --------
    >>> stage_of(["open", "open", "open", "charged_off", "paid_off"], [0, 45, 100, 200, 0]).tolist()
    ['current', 'early', 'late', 'charged_off', 'closed']
    """
    config = config or Config()
    status = np.asarray(pd.Series(status).astype(object), dtype=object)
    dpd = pd.to_numeric(pd.Series(dpd), errors="coerce").fillna(0).to_numpy()
    bucket = np.asarray(config.aging.bucket_index(dpd))
    open_stage = np.where(dpd <= 0, "current", np.where(bucket <= 3, "early", "late"))
    return np.where(
        status == "open", open_stage, np.where(status == "charged_off", "charged_off", "closed")
    ).astype(object)


def is_reage(kind: Any, stage: Any, installments: Any = None) -> np.ndarray:
    """Offers that re-age the account if accepted: a plan or deferral of a delinquent open
    account (a settlement paid in installments counts as a plan).

    Examples
    --------
    >>> is_reage(["payment_plan", "deferral", "payment_plan", "settlement"],
    ...          ["early", "current", "charged_off", "late"], [6, None, 6, 3]).tolist()
    [True, False, False, True]
    """
    kind = np.asarray(pd.Series(kind).astype(object), dtype=object)
    stage = np.asarray(pd.Series(stage).astype(object), dtype=object)
    n = np.full(len(kind), np.nan)
    if installments is not None:
        n = pd.to_numeric(pd.Series(installments), errors="coerce").to_numpy(dtype="float64")
    plan = np.isin(kind, ("payment_plan", "deferral")) | ((kind == "settlement") & (n > 1))
    return plan & np.isin(stage, ("early", "late"))


def _num(frame: pd.DataFrame, name: str, fill: float = np.nan) -> np.ndarray:
    if name not in frame:
        return np.full(len(frame), fill)
    return pd.to_numeric(frame[name], errors="coerce").fillna(fill).to_numpy(dtype=float)


def _flag(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.zeros(len(frame), dtype=bool)
    return frame[name].fillna(False).astype(bool).to_numpy()


def offer_breaches(offers: pd.DataFrame, config: Config | None = None) -> pd.DataFrame:
    """Which guardrail each offer breaks: one boolean column per rule of :data:`OFFER_RULES`.

    Parameters
    ----------
    offers : pandas.DataFrame
        One row per offer with the columns of :data:`CONTEXT_COLUMNS` (terms, and the
        account's state when the offer was made, before it takes effect).
    config : Config, optional
        The rules: ``config.offers``; stages from ``config.aging``.

    Returns
    -------
    pandas.DataFrame
        Same index as ``offers``; True where the offer breaks the rule.

    Examples
    --------
    >>> o = pd.DataFrame({"kind": ["deferral"], "deferral_months": [9], "stage": ["early"],
    ...     "payments_before": [1], "in_dispute": [True]})
    >>> b = offer_breaches(o)
    >>> b.columns[b.iloc[0].to_numpy()].tolist()
    ['in_dispute', 'deferral_too_long', 'reage_too_few_payments']
    """
    rules = (config or Config()).offers
    kind = np.asarray(offers["kind"].astype(object), dtype=object)
    stage = (
        np.asarray(offers["stage"].astype(object), dtype=object)
        if "stage" in offers
        else np.full(len(offers), None, dtype=object)
    )
    installments = _num(offers, "installments")
    discount = _num(offers, "discount_share", 0.0)
    out: dict[str, np.ndarray] = {}
    for name in ("fraud", "deceased", "in_dispute", "open_offer"):
        out[name] = _flag(offers, name)
    planned = (kind == "payment_plan") | ((kind == "settlement") & (installments > 1))
    out["plan_too_long"] = planned & (installments > rules.max_plan_months)
    out["deferral_too_long"] = (kind == "deferral") & (
        _num(offers, "deferral_months") > rules.max_deferral_months
    )
    owed = _num(offers, "plan_amount")
    owed = np.where(np.isnan(owed), (1.0 - discount) * _num(offers, "balance"), owed)
    per_installment = owed / np.where(installments >= 1, installments, 1.0)
    cap = rules.max_installment_ratio * _num(offers, "installment_amount")
    out["unaffordable"] = planned & (per_installment > cap + _CENT)
    age_months = _num(offers, "debt_age_days", 0.0) / DAYS_PER_MONTH
    out["discount_too_deep"] = discount > rules.max_discount_for(stage, age_months) + 1e-9
    reage = is_reage(kind, stage, installments)
    out["reage_too_few_payments"] = reage & (
        _num(offers, "payments_before", 0.0) < rules.reage_min_payments
    )
    out["reage_within_12_months"] = reage & (
        _num(offers, "reages_12_months", 0.0) >= rules.reage_max_per_12_months
    )
    out["reage_within_5_years"] = reage & (
        _num(offers, "reages_5_years", 0.0) >= rules.reage_max_per_5_years
    )
    return pd.DataFrame({rule: out[rule] for rule in OFFER_RULES}, index=offers.index)


def offer_context(portfolio: Portfolio, config: Config | None = None) -> pd.DataFrame:
    """The ``offers`` table with the account's state when each offer was made.

    The state is the one at the end of the day before the offer (the offer's own
    schedule version is not yet in force): stage, debt age, balance, the regular
    installment of the schedule in force, payments made before the offer (not reversed
    by then), earlier re-ages, and the flags of :func:`offer_breaches`.

    Parameters
    ----------
    portfolio : Portfolio
        ``offers``, ``schedule``, ``payments``; ``events`` and ``actions`` if present
        (fraud, deaths, disputes).
    config : Config, optional

    Returns
    -------
    pandas.DataFrame
        The offers (same order) plus :data:`CONTEXT_COLUMNS` not already there.

    Raises
    ------
    DataError
        Without an ``offers`` or ``schedule`` table.
    """
    config = config or Config()
    offers = portfolio.offers
    if offers is None or portfolio.schedule is None:
        raise DataError("checking offers needs the 'offers' and 'schedule' tables")
    out = offers.reset_index(drop=True).copy()
    out["account_id"] = out["account_id"].astype(str)
    offered = pd.to_datetime(out["offered_at"]).dt.normalize()
    before = offered - pd.Timedelta(days=1)
    pairs = pd.DataFrame({"account_id": out["account_id"], "as_of": before})
    states = account_states(portfolio, pairs.drop_duplicates(), config, partition_size=None)
    states = states.assign(account_id=states["account_id"].astype(str))
    st = pairs.merge(states, on=["account_id", "as_of"], how="left")
    out["stage"] = np.where(
        st["status"].isna(), "closed", stage_of(st["status"].astype(object), st["dpd"], config)
    )
    out["debt_age_days"] = pd.to_numeric(st["debt_age_days"], errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan
    )
    out["balance"] = st["balance"].to_numpy()
    inst = schedule_in_force(portfolio.schedule, out["account_id"], before)
    out["installment_amount"] = inst["installment_amount"].to_numpy()
    ids = pd.Index(pd.unique(out["account_id"]))
    code = ids.get_indexer(out["account_id"]).astype(np.int64)
    day = day_numbers(offered)
    out["payments_before"] = _payments_before(portfolio.payments, ids, code, day)
    # earlier accepted re-ages, counted on the day each was accepted
    reage = is_reage(out["kind"], out["stage"], out.get("installments")) & changes_schedule(out)
    accepted = Events(code[reage], day_numbers(acceptance_day(out[reage])))
    out["reages_12_months"] = accepted.window(None, code, day - 1, 365).astype(int)
    out["reages_5_years"] = accepted.window(None, code, day - 1, 5 * 365 + 1).astype(int)
    events, actions = portfolio.events, portfolio.actions
    if events is not None and len(events):
        fraud = events[events["event"].astype(object) == "fraud_confirmed"]
        first = fraud.assign(account_id=fraud["account_id"].astype(str)).groupby("account_id")
        out["fraud"] = (out["account_id"].map(first["date"].min()) <= offered).to_numpy()
    else:
        out["fraud"] = False
    died = out["account_id"].map(death_times(actions, events).rename(index=str))
    out["deceased"] = (died <= offered).fillna(False).to_numpy()
    spells = dispute_spells(actions, events)
    if len(spells):
        spells = spells.assign(account_id=spells["account_id"].astype(str))
    out["in_dispute"] = in_spells(out["account_id"], offered, spells, strict_start=False)
    out["open_offer"] = _open_offer(out, offered)
    return out


def _payments_before(
    payments: pd.DataFrame | None, ids: pd.Index, code: np.ndarray, day: np.ndarray
) -> np.ndarray:
    """Payments posted before each day and not reversed by then (count)."""
    if payments is None or not len(payments):
        return np.zeros(len(code), dtype=int)
    p_code = ids.get_indexer(payments["account_id"].astype(str)).astype(np.int64)
    ok = p_code >= 0
    posted = Events(p_code[ok], day_numbers(payments["payment_date"])[ok])
    count = posted.window(None, code, day - 1, None)
    if "reversed_date" in payments:
        rev = day_numbers(payments["reversed_date"])
        r = ok & (rev >= 0)
        count = count - Events(p_code[r], rev[r]).window(None, code, day, None)
    return count.astype(int)


def _open_offer(offers: pd.DataFrame, offered: pd.Series) -> np.ndarray:
    """An earlier offer of the account is still open on this offer's day.

    An offer is open from its day until its answer (declined, no answer), or, once
    accepted, until its result (completed, broken); without an answer or result, it
    is still open.
    """
    answered = acceptance_day(offers)
    outcome = offers["outcome"].astype(object)
    result_date = (
        pd.to_datetime(offers["result_date"])
        if "result_date" in offers
        else pd.Series(pd.NaT, index=offers.index)
    )
    closes = np.where(
        outcome.isna(), pd.NaT, np.where(outcome == "accepted", result_date, answered)
    )
    frame = pd.DataFrame(
        {
            "row": np.arange(len(offers)),
            "account_id": offers["account_id"].to_numpy(),
            "day": offered.to_numpy(),
            "closes": pd.to_datetime(closes),
            "offer_id": offers["offer_id"].astype(str).to_numpy()
            if "offer_id" in offers
            else np.arange(len(offers)).astype(str),
        }
    )
    pairs = frame.merge(frame, on="account_id", suffixes=("", "_other"))
    earlier = (pairs["day_other"] < pairs["day"]) | (
        (pairs["day_other"] == pairs["day"]) & (pairs["offer_id_other"] < pairs["offer_id"])
    )
    still = pairs["closes_other"].isna() | (pairs["closes_other"] > pairs["day"])
    hit = pairs.loc[earlier & still, "row"].unique()
    out = np.zeros(len(offers), dtype=bool)
    out[hit] = True
    return out


def check_offers(portfolio: Portfolio, config: Config | None = None) -> pd.DataFrame:
    """Every (offer, broken guardrail) of a portfolio's ``offers`` table.

    Parameters
    ----------
    portfolio : Portfolio
        ``offers``, ``schedule``, ``payments`` (``events``, ``actions`` if present).
    config : Config, optional
        The rules (``config.offers``).

    Returns
    -------
    pandas.DataFrame
        ``offer_id, account_id, offered_at, kind, rule``, sorted by day and offer; empty
        when every offer keeps the rules.

    Examples
    --------
    >>> sched = pd.DataFrame({"account_id": "A", "installment_no": [1, 2, 3],
    ...     "due_date": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31"]),
    ...     "amount_due": 100.0})
    >>> pays = pd.DataFrame({"account_id": ["A"], "payment_date": pd.to_datetime(["2024-01-31"]),
    ...     "amount": [100.0], "channel": ["cash"]})
    >>> offers = pd.DataFrame({"offer_id": ["O1"], "account_id": ["A"],
    ...     "offered_at": pd.to_datetime(["2024-03-10"]), "kind": ["payment_plan"],
    ...     "installments": [4], "outcome": ["declined"]})
    >>> check_offers(Portfolio(schedule=sched, payments=pays, offers=offers))["rule"].tolist()
    ['reage_too_few_payments']
    """
    context = offer_context(portfolio, config)
    breaches = offer_breaches(context, config)
    cols = ["offer_id", "account_id", "offered_at", "kind"]
    out = [context.loc[breaches[rule].to_numpy(), cols].assign(rule=rule) for rule in OFFER_RULES]
    result = pd.concat(out, ignore_index=True)
    return result.sort_values(["offered_at", "offer_id"], kind="stable").reset_index(drop=True)


def forborne(offers: pd.DataFrame, dates: Any, config: Config | None = None) -> pd.DataFrame:
    """Accounts flagged as forborne on each date: under an accepted plan or deferral.

    The flag starts on the day the plan or deferral was accepted and ends
    ``forbearance_probation_months`` after it was completed; a running or broken plan
    keeps it.

    Parameters
    ----------
    offers : pandas.DataFrame
        The ``offers`` table.
    dates : date or sequence of dates
    config : Config, optional
        ``config.offers.forbearance_probation_months``.

    Returns
    -------
    pandas.DataFrame
        ``account_id, as_of`` of the forborne accounts, sorted.

    Examples
    --------
    >>> o = pd.DataFrame({"account_id": ["A", "B"], "kind": ["payment_plan", "deferral"],
    ...     "offered_at": pd.to_datetime(["2024-01-10", "2024-01-10"]),
    ...     "outcome": ["accepted", "accepted"], "result": ["completed", None],
    ...     "result_date": pd.to_datetime(["2024-06-10", None])})
    >>> forborne(o, ["2024-01-09", "2025-01-01", "2026-07-01"]).astype(str).values.tolist()
    [['A', '2025-01-01'], ['B', '2025-01-01'], ['B', '2026-07-01']]
    """
    rules = (config or Config()).offers
    if isinstance(dates, (str, pd.Timestamp)) or not hasattr(dates, "__len__"):
        dates = [dates]
    days = pd.DatetimeIndex(pd.to_datetime(list(dates))).normalize().unique().sort_values()
    plans = offers[changes_schedule(offers)]
    start = acceptance_day(plans)
    completed = (
        plans["result"].astype(object).eq("completed")
        if "result" in plans
        else pd.Series(False, index=plans.index)
    )
    end = pd.to_datetime(
        plans["result_date"] if "result_date" in plans else pd.Series(pd.NaT, index=plans.index)
    )
    until = (end + pd.DateOffset(months=rules.forbearance_probation_months)).where(completed)
    spans = pd.DataFrame(
        {"account_id": plans["account_id"].to_numpy(), "start": start, "until": until}
    )
    grid = spans.merge(pd.DataFrame({"as_of": days}), how="cross")
    inside = (grid["start"] <= grid["as_of"]) & (
        grid["until"].isna() | (grid["as_of"] < grid["until"])
    )
    out = grid.loc[inside, ["account_id", "as_of"]].drop_duplicates()
    return out.sort_values(["account_id", "as_of"]).reset_index(drop=True)
