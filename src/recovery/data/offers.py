"""The ``offers`` table's rules within itself and against the ledger (DESIGN.md §2).

An offer is a payment plan, a settlement or a deferral proposed to a borrower. Its
columns are checked like every table's (:data:`recovery.data.schema.TABLES`); this module
adds the rules that read several columns or tables, called by
:func:`recovery.data.schema.validate_portfolio`:

- **terms**: a plan names its ``installments``, a deferral its ``deferral_months``, a
  settlement its ``discount_share`` or ``plan_amount``;
- **answers and results**: only an accepted offer has a ``result``; a result has its
  ``result_date`` and the other way round; ``offered_at`` ≤ ``outcome_date`` ≤
  ``result_date``;
- **how the terms were chosen**: a randomised offer records its
  ``assignment_probability`` (> 0) — the data a lender needs to learn price response
  without bias;
- **the ledger link**: an accepted plan or deferral (or a settlement paid in more than
  one installment) is a schedule version in force from the acceptance day
  (``effective_from`` = ``outcome_date``, or ``offered_at`` when the answer came the same
  day; ``schedule_version`` names it when given), and a completed settlement is a
  ``settled`` event on or after the acceptance — so days past due, episodes and labels
  follow the offer;
- ``agent_id``, when given, names an agent of ``agents``.

Examples
--------
>>> from recovery.data.offers import acceptance_day
>>> offers = pd.DataFrame({"offered_at": pd.to_datetime(["2024-03-01", "2024-03-01"]),
...     "outcome_date": pd.to_datetime(["2024-03-04", None])})
>>> acceptance_day(offers).dt.strftime("%Y-%m-%d").tolist()
['2024-03-04', '2024-03-01']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SCHEDULE_CHANGING", "acceptance_day", "changes_schedule", "check_offer_rules"]

#: Offer kinds whose acceptance is a new schedule version (settlements too when paid in
#: more than one installment).
SCHEDULE_CHANGING = ("payment_plan", "deferral")


def acceptance_day(offers: pd.DataFrame) -> pd.Series:
    """Day each offer was answered: ``outcome_date``, else ``offered_at``.

    Parameters
    ----------
    offers : pandas.DataFrame
        ``offered_at`` and optionally ``outcome_date`` (dates).

    Returns
    -------
    pandas.Series
        Dates, day precision.
    """
    day = pd.to_datetime(offers["offered_at"])
    if "outcome_date" in offers:
        day = pd.to_datetime(offers["outcome_date"]).fillna(day)
    return day.dt.normalize()


def changes_schedule(offers: pd.DataFrame) -> np.ndarray:
    """Accepted offers that are a new schedule version (plans, deferrals, split settlements).

    Parameters
    ----------
    offers : pandas.DataFrame
        ``kind``, ``outcome`` and optionally ``installments``.

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> o = pd.DataFrame({"kind": ["payment_plan", "settlement", "settlement", "deferral"],
    ...     "outcome": ["accepted", "accepted", "accepted", "declined"],
    ...     "installments": [6, 1, 3, None]})
    >>> changes_schedule(o).tolist()
    [True, False, True, False]
    """
    kind = offers["kind"].astype(object).to_numpy()
    accepted = (offers["outcome"].astype(object) == "accepted").to_numpy()
    split = np.zeros(len(offers), dtype=bool)
    if "installments" in offers:
        n = pd.to_numeric(offers["installments"], errors="coerce").astype("float64")
        split = (n > 1).to_numpy(dtype=bool)
    return accepted & (np.isin(kind, SCHEDULE_CHANGING) | ((kind == "settlement") & split))


def _column(df: pd.DataFrame, name: str) -> pd.Series:
    return df[name] if name in df else pd.Series(np.nan, index=df.index)


def check_offer_rules(tables: dict[str, pd.DataFrame], failures: Any) -> None:
    """Add the ``offers`` table's cross-column and cross-table failures to a collector.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        The portfolio's typed tables (``offers`` and whatever it links to).
    failures : object
        The validator's collector: ``failures.check(df, table, column, rule, mask, show)``
        and ``failures.add(table, column, rule, count, examples)``.
    """
    offers = tables.get("offers")
    if offers is None or not len(offers) or not {"kind", "outcome", "offered_at"} <= set(offers):
        return
    show = ["offer_id", "account_id", "kind", "outcome"]
    kind = offers["kind"].astype(object)
    terms = (
        ("payment_plan", "installments", "a payment plan needs its installments"),
        ("deferral", "deferral_months", "a deferral needs its deferral_months"),
    )
    for name, column, rule in terms:
        failures.check(
            offers,
            "offers",
            column,
            rule,
            (kind == name) & _column(offers, column).isna(),
            show=[*show, column],
        )
    failures.check(
        offers,
        "offers",
        "discount_share",
        "a settlement needs its discount_share or plan_amount",
        (kind == "settlement")
        & _column(offers, "discount_share").isna()
        & _column(offers, "plan_amount").isna(),
        show=[*show, "discount_share", "plan_amount"],
    )
    accepted = offers["outcome"].astype(object) == "accepted"
    result = _column(offers, "result")
    result_date = pd.to_datetime(_column(offers, "result_date"))
    failures.check(
        offers,
        "offers",
        "result",
        "only an accepted offer has a result",
        result.notna() & ~accepted,
        show=[*show, "result"],
    )
    failures.check(
        offers,
        "offers",
        "result_date",
        "a result needs its result_date and a result_date its result",
        result.notna() != result_date.notna(),
        show=[*show, "result", "result_date"],
    )
    offered = pd.to_datetime(offers["offered_at"])
    answered = acceptance_day(offers)
    failures.check(
        offers,
        "offers",
        "outcome_date",
        "must not be before offered_at",
        (answered < offered.dt.normalize()).fillna(False),
        show=["offer_id", "account_id", "offered_at", "outcome_date"],
    )
    failures.check(
        offers,
        "offers",
        "result_date",
        "must not be before the answer (outcome_date, else offered_at)",
        (result_date < answered).fillna(False),
        show=["offer_id", "account_id", "offered_at", "outcome_date", "result_date"],
    )
    if "randomized" in offers:
        probability = _column(offers, "assignment_probability")
        failures.check(
            offers,
            "offers",
            "assignment_probability",
            "a randomised offer needs its assignment_probability (> 0)",
            offers["randomized"].fillna(False).astype(bool) & ~(probability > 0),
            show=["offer_id", "account_id", "randomized", "assignment_probability"],
        )
    _check_agents(offers, tables.get("agents"), failures)
    _check_schedule_link(offers, answered, tables.get("schedule"), failures)
    _check_settled_link(offers, answered, tables.get("events"), failures)


def _check_agents(offers: pd.DataFrame, agents: pd.DataFrame | None, failures: Any) -> None:
    if "agent_id" not in offers:
        return
    named = offers["agent_id"].notna()
    if not named.any():
        return
    if agents is None:
        failures.add(
            "offers", "agent_id", "needs an agents table to check agent_id", int(named.sum()), ""
        )
        return
    failures.check(
        offers,
        "offers",
        "agent_id",
        "must name an agent in agents",
        named & ~offers["agent_id"].isin(agents["agent_id"]),
    )


def _check_schedule_link(
    offers: pd.DataFrame, answered: pd.Series, schedule: pd.DataFrame | None, failures: Any
) -> None:
    linked = changes_schedule(offers)
    if not linked.any() or schedule is None or "account_id" not in offers:
        return
    rule = (
        "an accepted plan or deferral needs its schedule version "
        "(effective_from = the day it was accepted)"
    )
    show = ["offer_id", "account_id", "kind", "offered_at", "outcome_date", "schedule_version"]
    if not {"schedule_version", "effective_from"} <= set(schedule.columns):
        failures.check(offers, "offers", "schedule_version", rule, linked, show=show)
        return
    versions = schedule.loc[
        schedule["effective_from"].notna(), ["account_id", "schedule_version", "effective_from"]
    ].drop_duplicates()
    versions = versions.assign(effective_from=pd.to_datetime(versions["effective_from"]))
    wanted = pd.DataFrame(
        {
            "row": np.arange(len(offers)),
            "account_id": offers["account_id"].to_numpy(),
            "effective_from": answered.to_numpy(),
            "schedule_version": pd.to_numeric(
                _column(offers, "schedule_version"), errors="coerce"
            ).to_numpy(dtype="float64"),
        }
    )[linked]
    named = wanted["schedule_version"].notna()
    by_version = (
        wanted[named]
        .astype({"schedule_version": "int64"})
        .merge(
            versions.astype({"schedule_version": "int64"}),
            on=["account_id", "schedule_version", "effective_from"],
        )
    )
    by_day = (
        wanted[~named]
        .drop(columns="schedule_version")
        .merge(versions, on=["account_id", "effective_from"])
    )
    found = np.zeros(len(offers), dtype=bool)
    found[by_version["row"].to_numpy()] = True
    found[by_day["row"].to_numpy()] = True
    failures.check(offers, "offers", "schedule_version", rule, linked & ~found, show=show)


def _check_settled_link(
    offers: pd.DataFrame, answered: pd.Series, events: pd.DataFrame | None, failures: Any
) -> None:
    done = (
        (offers["kind"].astype(object) == "settlement")
        & (offers["outcome"].astype(object) == "accepted")
        & (_column(offers, "result").astype(object) == "completed")
    ).to_numpy()
    if not done.any() or "account_id" not in offers:
        return
    settled = pd.Series(dtype="datetime64[ns]")
    if events is not None and {"account_id", "date", "event"} <= set(events.columns):
        hit = events.loc[events["event"].astype(object) == "settled", ["account_id", "date"]]
        settled = pd.to_datetime(hit.groupby("account_id")["date"].max())
    last = offers["account_id"].map(settled)
    failures.check(
        offers,
        "offers",
        "result",
        "a completed settlement needs a 'settled' event on or after its acceptance",
        done & ~(last >= answered).fillna(False).to_numpy(),
        show=["offer_id", "account_id", "kind", "result", "result_date"],
    )
