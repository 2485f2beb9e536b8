"""Collectors' activity per agent and month (seed 004: how their work is judged).

Attempts, right-party contacts, promises and promises kept, cost, accounts held,
amount collected while the agent held the account and days to the first payment of
the spells started in the month — the activity KPIs a collections manager reads.
They describe the work, not its effect: for a fair comparison of agents see
:class:`recovery.operations.agents.AgentEffectiveness`.

Examples
--------
>>> from recovery.datasets import tiny_portfolio
>>> p = tiny_portfolio()
>>> activity_kpis(p)["accounts_held"].tolist()
[1, 1]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.operations.spells import RIGHT_PARTY, net_payments_in_windows, spell_outcomes

__all__ = ["activity_kpis", "promises_kept"]


def activity_kpis(portfolio: Portfolio, config: Config | None = None) -> pd.DataFrame:
    """Activity per agent and month (seed 004: how collectors' work is judged).

    Parameters
    ----------
    portfolio : Portfolio
        Needs ``actions``, ``assignments``, ``agents`` and ``payments``.
    config : Config, optional
        Channel costs (``config.costs.per_action``, currency) and the promise grace
        (``config.labels.promise_grace_days``).

    Returns
    -------
    pandas.DataFrame
        One row per agent × month: ``agent_id, team, month, accounts_held,
        attempts, right_party_rate, promises_per_contact, promise_kept_rate,
        amount_collected`` (payments on accounts while assigned to the agent, currency),
        ``payers`` (accounts paying), ``days_to_first_payment`` (mean, days, for spells
        starting that month), ``cost`` (currency), ``cost_per_unit_collected``.

    Examples
    --------
    >>> from recovery.datasets import tiny_portfolio
    >>> p = tiny_portfolio()
    >>> k = activity_kpis(p)
    >>> k[["month", "attempts", "amount_collected"]].astype(str).values.tolist()
    [['2024-03', '2', '0.0'], ['2024-04', '0', '700.0']]
    """
    config = config or Config()
    acts = portfolio.actions.copy()
    acts["month"] = acts["ts"].dt.to_period("M")
    acts["cost"] = acts["channel"].map(config.costs.per_action).fillna(0.0)
    acts["rpc"] = acts["outcome"].isin(RIGHT_PARTY)
    acts["ptp"] = acts["outcome"].eq("promise_to_pay")
    acts["kept"] = promises_kept(acts, portfolio.payments, config)
    by = acts.groupby(["agent_id", "month"])
    activity = pd.DataFrame(
        {
            "attempts": by.size(),
            "right_party_contacts": by["rpc"].sum(),
            "promises": by["ptp"].sum(),
            "promises_kept": by["kept"].sum(),
            "cost": by["cost"].sum(),
        }
    )
    # spells × months they cover, and payments received while the spell was open
    spells = portfolio.assignments.copy()
    spells["end"] = spells["end_date"].fillna(portfolio.data_end)
    months = pd.period_range(spells["start_date"].min(), spells["end"].max(), freq="M")
    grid = spells.merge(pd.DataFrame({"month": months}), how="cross")
    grid = grid[
        (grid["month"].dt.start_time <= grid["end"])
        & (grid["month"].dt.end_time >= grid["start_date"])
    ]
    grid["start"] = np.maximum(grid["start_date"], grid["month"].dt.start_time)
    grid["stop"] = np.minimum(grid["end"], grid["month"].dt.end_time.dt.normalize()) + pd.Timedelta(
        days=1
    )
    windows = pd.DataFrame(
        {"account_id": grid["account_id"], "start": grid["start"], "end": grid["stop"]}
    )
    amount, _ = net_payments_in_windows(windows, portfolio.payments)
    grid["collected"] = amount
    held = grid.groupby(["agent_id", "month"]).agg(
        accounts_held=("account_id", "nunique"),
        amount_collected=("collected", "sum"),
        payers=("collected", lambda s: int((s > 0).sum())),
    )
    outcomes = spell_outcomes(portfolio, config)
    outcomes["month"] = outcomes["start_date"].dt.to_period("M")
    first = outcomes.groupby(["agent_id", "month"])["days_to_first_payment"].mean()
    out = held.join(activity, how="outer").join(first, how="left")
    fill = [
        "attempts",
        "right_party_contacts",
        "promises",
        "promises_kept",
        "cost",
        "accounts_held",
        "amount_collected",
        "payers",
    ]
    out[fill] = out[fill].fillna(0)
    out["right_party_rate"] = out["right_party_contacts"] / out["attempts"].where(
        out["attempts"] > 0
    )
    out["promises_per_contact"] = out["promises"] / out["right_party_contacts"].where(
        out["right_party_contacts"] > 0
    )
    out["promise_kept_rate"] = out["promises_kept"] / out["promises"].where(out["promises"] > 0)
    out["cost_per_unit_collected"] = out["cost"] / out["amount_collected"].where(
        out["amount_collected"] > 0
    )
    out = out.reset_index()
    out.insert(1, "team", out["agent_id"].map(portfolio.agents.set_index("agent_id")["team"]))
    out["month"] = out["month"].astype(str)
    int_cols = [
        "attempts",
        "right_party_contacts",
        "promises",
        "promises_kept",
        "accounts_held",
        "payers",
    ]
    out[int_cols] = out[int_cols].astype(int)
    return out.sort_values(["agent_id", "month"]).reset_index(drop=True)


def promises_kept(acts: pd.DataFrame, payments: pd.DataFrame | None, config: Config) -> np.ndarray:
    """Which promises to pay were kept: the amount arrived between the promise and its date + grace.

    Parameters
    ----------
    acts : pandas.DataFrame
        Actions (``account_id``, ``ts``, ``outcome``, ``promise_date``, ``promise_amount``).
    payments : pandas.DataFrame, optional
        The ``payments`` table; a payment counts unless reversed before the window ends.
    config : Config
        ``labels.promise_grace_days`` (days) and ``aging.tolerance`` (currency).

    Returns
    -------
    numpy.ndarray of bool
        One per action; False for an action that is not a promise.
    """
    is_ptp = acts["outcome"].eq("promise_to_pay") & acts["promise_date"].notna()
    if not is_ptp.any() or payments is None:
        return np.zeros(len(acts), dtype=bool)
    grace = pd.Timedelta(days=config.labels.promise_grace_days)
    ptp = acts.loc[is_ptp, ["account_id", "ts", "promise_date", "promise_amount"]]
    windows = pd.DataFrame(
        {
            "account_id": ptp["account_id"].to_numpy(),
            "start": ptp["ts"].dt.normalize().to_numpy(),
            "end": (ptp["promise_date"] + grace + pd.Timedelta(days=1)).to_numpy(),
        }
    )
    amount, _ = net_payments_in_windows(windows, payments)
    promised = ptp["promise_amount"].fillna(0).to_numpy()
    kept = np.zeros(len(acts), dtype=bool)
    kept[np.flatnonzero(is_ptp.to_numpy())] = (amount > 0) & (
        amount >= promised - config.aging.tolerance
    )
    return kept
