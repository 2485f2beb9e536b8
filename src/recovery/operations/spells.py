"""Assignment spells and what happened in them (DESIGN.md §3 "Agent effectiveness").

An **assignment spell** is the time an account is held by one agent or agency (the
``assignments`` table). :func:`spell_outcomes` gives each spell its outcome in a
fixed window from its start (default 60 days): amount collected net of reversals,
paid or not, paying periods, days to the first payment. :func:`spell_month_outcomes`
is the finer unit: each calendar month the agent held the account, whether it paid
and whether the agent **talked with the borrower** (:data:`RIGHT_PARTY` outcomes).
These are the rows :class:`recovery.operations.agents.AgentEffectiveness` compares
with their case-mix expectation.

Examples
--------
>>> from recovery.datasets import tiny_portfolio
>>> p = tiny_portfolio("2024-06-30")
>>> spell_outcomes(p)[["agent_id", "paid"]].values.tolist()
[['G1', 1]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.portfolio import Portfolio

__all__ = ["RIGHT_PARTY", "net_payments_in_windows", "spell_outcomes", "spell_month_outcomes"]

#: Outcomes of a contact attempt that reached the borrower (a conversation).
RIGHT_PARTY = ("right_party_contact", "promise_to_pay", "refusal", "dispute", "hardship")


def net_payments_in_windows(
    windows: pd.DataFrame, payments: pd.DataFrame | None
) -> tuple[np.ndarray, np.ndarray]:
    """Net amount and first payment day per window [start, end) of an account.

    A payment counts when posted in the window and not reversed before the window ends.

    Parameters
    ----------
    windows : pandas.DataFrame
        ``account_id``, ``start`` and ``end`` (exclusive) per row.
    payments : pandas.DataFrame, optional
        The ``payments`` table (``account_id``, ``payment_date``, ``amount`` and
        optionally ``reversed_date``).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Per window: the amount (currency) and the days from ``start`` to the first
        counted payment (NaN when none).

    Examples
    --------
    >>> w = pd.DataFrame({"account_id": ["A"], "start": pd.to_datetime(["2024-01-01"]),
    ...                   "end": pd.to_datetime(["2024-02-01"])})
    >>> p = pd.DataFrame({"account_id": ["A", "A"], "amount": [10.0, 5.0],
    ...     "payment_date": pd.to_datetime(["2024-01-10", "2024-02-03"])})
    >>> amount, first = net_payments_in_windows(w, p)
    >>> amount.tolist(), first.tolist()
    ([10.0], [9.0])
    """
    n = len(windows)
    if payments is None or not len(payments) or not n:
        return np.zeros(n), np.full(n, np.nan)
    pay = payments[["account_id", "payment_date", "amount"]].copy()
    rev = (
        payments["reversed_date"]
        if "reversed_date" in payments
        else pd.Series(pd.NaT, index=payments.index)
    )
    pay["reversed_date"] = pd.to_datetime(rev)
    w = windows[["account_id", "start", "end"]].reset_index(drop=True).assign(row=np.arange(n))
    pairs = w.merge(pay, on="account_id", how="inner")
    inside = (pairs["payment_date"] >= pairs["start"]) & (pairs["payment_date"] < pairs["end"])
    kept = pairs["reversed_date"].isna() | (pairs["reversed_date"] >= pairs["end"])
    pairs = pairs[inside & kept]
    amount = pairs.groupby("row")["amount"].sum().reindex(range(n), fill_value=0.0).to_numpy()
    first = (pairs["payment_date"] - pairs["start"]).dt.days.groupby(pairs["row"]).min()
    return amount, first.reindex(range(n)).to_numpy(dtype=float)


def spell_outcomes(portfolio: Portfolio, config: Config | None = None) -> pd.DataFrame:
    """One row per assignment spell with its outcome in a fixed window.

    Parameters
    ----------
    portfolio : Portfolio
        Needs ``assignments``, ``agents`` and ``payments``.
    config : Config, optional
        ``config.analytics.agent_window_days`` (default 60 days) sets the window.

    Returns
    -------
    pandas.DataFrame
        ``spell_id, account_id, agent_id, team, level, is_agency, start_date,
        window_end`` (exclusive), ``censored`` (the window runs past the data end),
        ``amount_collected`` (currency, net of reversals), ``paid`` (0/1),
        ``paying_periods`` (30-day periods of the window with a payment: 0, 1 or 2 for
        60 days), ``days_to_first_payment`` (days, empty when none).

    Examples
    --------
    >>> from recovery.datasets import tiny_portfolio
    >>> p = tiny_portfolio("2024-06-30")
    >>> spell_outcomes(p)[["agent_id", "amount_collected", "paid"]].values.tolist()
    [['G1', 700.0, 1]]
    """
    config = config or Config()
    window = pd.Timedelta(days=config.analytics.agent_window_days)
    spells = portfolio.assignments.copy().reset_index(drop=True)
    spells["start"] = pd.to_datetime(spells["start_date"])
    spells["end"] = spells["start"] + window
    amount, first = net_payments_in_windows(spells, portfolio.payments)
    # paying periods: 30-day periods of the window with a net payment (more information
    # per spell than a single paid / not paid)
    periods = np.zeros(len(spells), dtype=int)
    for k in range(int(np.ceil(config.analytics.agent_window_days / 30))):
        lo = spells["start"] + pd.Timedelta(days=30 * k)
        hi = np.minimum(lo + pd.Timedelta(days=30), spells["end"])
        part, _ = net_payments_in_windows(
            pd.DataFrame({"account_id": spells["account_id"], "start": lo, "end": hi}),
            portfolio.payments,
        )
        periods += part > 0
    agents = portfolio.agents.set_index("agent_id")
    out = pd.DataFrame(
        {
            "spell_id": np.arange(len(spells)),
            "account_id": spells["account_id"].astype(str),
            "agent_id": spells["agent_id"].astype(str),
            "team": spells["agent_id"].map(agents["team"]),
            "level": spells["agent_id"].map(agents["level"]),
            "is_agency": spells["agent_id"].map(agents["is_agency"]).fillna(False).astype(bool)
            if "is_agency" in agents
            else False,
            "start_date": spells["start"],
            "window_end": spells["end"],
            "censored": (spells["end"] - pd.Timedelta(days=1)) > portfolio.data_end,
            "amount_collected": amount,
            "paid": (amount > 0).astype(int),
            "paying_periods": periods,
            "days_to_first_payment": first,
        }
    )
    return out


def spell_month_outcomes(
    portfolio: Portfolio, config: Config | None = None, window_months: int | None = None
) -> pd.DataFrame:
    """One row per assignment spell and calendar month of its window while it is open.

    A finer unit than :func:`spell_outcomes`: the outcome of each month the agent held
    the account (a payment or not), and whether the agent **talked with the borrower**
    that month. Months after the spell ends belong to the next holder and are left
    out, so a month's outcome is credited to the agent who held the account then.

    Parameters
    ----------
    portfolio : Portfolio
        Needs ``assignments``, ``agents``, ``payments``; ``actions`` for conversations.
    config : Config, optional
        ``config.analytics.agent_window_days`` sets the default window.
    window_months : int, optional
        Calendar months from the spell's first month (default
        ``ceil(agent_window_days / 30)``: 2 months for 60 days).

    Returns
    -------
    pandas.DataFrame
        ``spell_id`` (as in :func:`spell_outcomes`), ``account_id, agent_id, team,
        level, is_agency, start_date`` (of the spell), ``month_index`` (0 = the spell's
        first month), ``period_start``, ``period_end`` (exclusive: the part of the
        calendar month inside the spell), ``amount_collected`` (currency, net of
        reversals before the period end), ``paid`` (0/1), ``attempts`` and
        ``conversations`` (contact attempts by the spell's agent, and those reaching the
        borrower: right-party contact, promise, refusal, dispute, hardship), ``talked``
        (bool). Only periods that end on or before the data end.

    Examples
    --------
    >>> from recovery.datasets import tiny_portfolio
    >>> p = tiny_portfolio()
    >>> m = spell_month_outcomes(p)
    >>> m[["month_index", "paid", "conversations"]].values.tolist()
    [[0, 0, 1], [1, 1, 0]]
    """
    config = config or Config()
    if window_months is None:
        window_months = int(np.ceil(config.analytics.agent_window_days / 30))
    if window_months < 1:
        raise ValueError(f"window_months must be at least 1, got {window_months}")
    spells = portfolio.assignments.copy().reset_index(drop=True)
    spells["spell_id"] = np.arange(len(spells))
    start = pd.to_datetime(spells["start_date"])
    data_end = portfolio.data_end
    # the spell's last day (inclusive); an open spell runs to the data end
    last = pd.to_datetime(spells["end_date"]).fillna(data_end).clip(upper=data_end)
    # calendar months from the spell's first to its last day, both counted (vectorised)
    n_months = (
        (last.dt.year - start.dt.year) * 12 + (last.dt.month - start.dt.month)
    ).to_numpy() + 1
    n_months = np.clip(n_months, 0, window_months)
    rows = spells.loc[spells.index.repeat(n_months)].reset_index(drop=True)
    k = rows.groupby("spell_id").cumcount().to_numpy()
    month = (rows["start_date"].dt.to_period("M") + k).dt.start_time
    period_start = np.maximum(month, pd.to_datetime(rows["start_date"]))
    next_month = month + pd.offsets.MonthBegin(1)
    spell_last = last.reindex(rows["spell_id"].to_numpy()).to_numpy()
    period_end = np.minimum(next_month, spell_last + np.timedelta64(1, "D"))
    rows = rows.assign(month_index=k, period_start=period_start, period_end=period_end)
    # a period counts when it is fully observed: the calendar month ended by the data
    # end, or the spell itself ended inside it (on or before the data end)
    ended = pd.to_datetime(rows["end_date"])
    ended_here = ended.notna() & (ended <= data_end) & (ended < next_month)
    complete = (next_month - pd.Timedelta(days=1) <= data_end) | ended_here
    rows = rows[complete.to_numpy() & (rows["period_end"] > rows["period_start"])]
    rows = rows.reset_index(drop=True)
    windows = rows.rename(columns={"period_start": "start", "period_end": "end"})
    amount, _ = net_payments_in_windows(windows, portfolio.payments)
    attempts = np.zeros(len(rows))
    talks = np.zeros(len(rows))
    acts = portfolio.actions
    if acts is not None and len(acts) and len(rows):
        key = rows[["account_id", "agent_id", "period_start", "period_end"]].assign(
            row=np.arange(len(rows)), month=rows["period_start"].dt.to_period("M")
        )
        a = acts[["account_id", "agent_id", "ts", "outcome"]].assign(
            month=acts["ts"].dt.to_period("M")
        )
        pairs = key.merge(a, on=["account_id", "agent_id", "month"], how="inner")
        inside = (pairs["ts"] >= pairs["period_start"]) & (pairs["ts"] < pairs["period_end"])
        pairs = pairs[inside]
        attempts = pairs.groupby("row").size().reindex(range(len(rows)), fill_value=0)
        talks = (pairs["outcome"].isin(RIGHT_PARTY).groupby(pairs["row"]).sum()).reindex(
            range(len(rows)), fill_value=0
        )
        attempts, talks = attempts.to_numpy(), talks.to_numpy()
    agents = portfolio.agents.set_index("agent_id")
    return pd.DataFrame(
        {
            "spell_id": rows["spell_id"].to_numpy(),
            "account_id": rows["account_id"].astype(str).to_numpy(),
            "agent_id": rows["agent_id"].astype(str).to_numpy(),
            "team": rows["agent_id"].map(agents["team"]).to_numpy(),
            "level": rows["agent_id"].map(agents["level"]).to_numpy(),
            "is_agency": rows["agent_id"].map(agents["is_agency"]).fillna(False).astype(bool)
            if "is_agency" in agents
            else False,
            "start_date": pd.to_datetime(rows["start_date"]).to_numpy(),
            "month_index": rows["month_index"].to_numpy(),
            "period_start": rows["period_start"].to_numpy(),
            "period_end": rows["period_end"].to_numpy(),
            "amount_collected": amount,
            "paid": (amount > 0).astype(int),
            "attempts": attempts.astype(int),
            "conversations": talks.astype(int),
            "talked": talks > 0,
        }
    )
