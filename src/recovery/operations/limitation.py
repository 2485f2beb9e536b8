"""The limitation period of each account: its last restart and when it expires.

DESIGN.md §3: the limitation period for civil claims is ``config.compliance.limitation_years``
(3 years under the PRC Civil Code); a demand, an acknowledgement or a partial payment
restarts the clock (Art. 195). The restarts counted here are those of
:mod:`recovery.operations.compliance` (rule ``legal_after_limitation``): the first due
date, every payment, an accepted offer (on the day it was accepted), a promise to pay,
a legal notice and a lawsuit.

Examples
--------
>>> import pandas as pd
>>> from recovery.data.portfolio import Portfolio
>>> schedule = pd.DataFrame({"account_id": ["A", "A"], "installment_no": [1, 2],
...     "due_date": pd.to_datetime(["2020-01-10", "2020-02-10"]), "amount_due": [50.0, 50.0]})
>>> pays = pd.DataFrame({"account_id": ["A"], "amount": [20.0],
...     "payment_date": pd.to_datetime(["2021-06-01"])})
>>> limitation_expiry(Portfolio(schedule=schedule, payments=pays), "2024-01-31")[
...     ["account_id", "last_restart", "restart", "expires", "expired"]].values.tolist()
[['A', Timestamp('2021-06-01 00:00:00'), 'payment', Timestamp('2024-06-01 00:00:00'), False]]
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from recovery.config import Config
from recovery.data.offers import acceptance_day
from recovery.data.portfolio import Portfolio

__all__ = ["limitation_expiry"]


def limitation_expiry(
    portfolio: Portfolio, date: Any, config: Config | None = None
) -> pd.DataFrame:
    """Last restart of each account's limitation clock on ``date``, and its expiry date.

    Parameters
    ----------
    portfolio : Portfolio
        ``schedule`` (first due date), ``payments``, ``actions`` (promises to pay, legal
        notices, lawsuits) and ``offers`` (accepted offers); rows dated after ``date``
        are ignored. Without ``schedule`` the first due date is unknown and an account
        with no other restart is left out.
    date : date
        The day the clock is read.
    config : Config, optional
        ``config.compliance.limitation_years``.

    Returns
    -------
    pandas.DataFrame
        One row per account with a restart: ``account_id``, ``last_restart`` (day),
        ``restart`` (what restarted it: ``first_due_date``, ``payment``,
        ``accepted_offer``, ``promise_to_pay``, ``legal_notice``, ``lawsuit``),
        ``expires`` (``last_restart`` + the period) and ``expired`` (``expires`` before
        ``date``).
    """
    config = config or Config()
    day = pd.Timestamp(date).normalize()
    parts = []

    def add(ids: Any, times: Any, kind: str) -> None:
        parts.append(
            pd.DataFrame(
                {
                    "account_id": pd.Series(ids).astype(str).to_numpy(),
                    "last_restart": pd.to_datetime(pd.Series(times)).dt.normalize().to_numpy(),
                    "restart": kind,
                }
            )
        )

    if portfolio.schedule is not None and len(portfolio.schedule):
        first = portfolio.schedule.groupby("account_id")["due_date"].min()
        add(first.index, first.to_numpy(), "first_due_date")
    if portfolio.payments is not None and len(portfolio.payments):
        add(portfolio.payments["account_id"], portfolio.payments["payment_date"], "payment")
    offers = portfolio.offers
    if offers is not None and len(offers) and "outcome" in offers:
        accepted = offers[offers["outcome"].astype(object) == "accepted"]
        add(accepted["account_id"], acceptance_day(accepted), "accepted_offer")
    acts = portfolio.actions
    if acts is not None and len(acts):
        ptp = acts["outcome"].astype(object).eq("promise_to_pay")
        add(acts.loc[ptp, "account_id"], acts.loc[ptp, "ts"], "promise_to_pay")
        for channel in ("legal_notice", "lawsuit"):
            hit = acts["channel"].astype(object).eq(channel)
            add(acts.loc[hit, "account_id"], acts.loc[hit, "ts"], channel)
    columns = ["account_id", "last_restart", "restart", "expires", "expired"]
    if not parts:
        return pd.DataFrame(columns=columns)
    restarts = pd.concat(parts, ignore_index=True).dropna(subset=["last_restart"])
    restarts = restarts[restarts["last_restart"] <= day]
    last = (
        restarts.sort_values(["account_id", "last_restart"], kind="stable")
        .drop_duplicates("account_id", keep="last")
        .reset_index(drop=True)
    )
    last["expires"] = last["last_restart"] + pd.DateOffset(years=config.compliance.limitation_years)
    last["expired"] = last["expires"] < day
    return last[columns]
