"""Channel effectiveness: payment after each channel against the case-mix expectation.

For each treated account-episode (e.g. the first action of a channel per account and
month) the outcome in a window after it is compared with the outcome expected for
the same account from a case-mix model that does not know the channel
(:func:`recovery.operations.agents.expected_outcomes`), by channel and bucket.
Observational, not causal: channels are chosen for accounts by policy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from recovery.operations.agents import expected_outcomes
from recovery.operations.spells import net_payments_in_windows

__all__ = ["channel_effectiveness"]


def channel_effectiveness(
    actions: pd.DataFrame,
    payments: pd.DataFrame,
    features: pd.DataFrame,
    window_days: int = 30,
    confidence: float = 0.95,
    random_state: int = 0,
) -> pd.DataFrame:
    """Observed vs case-mix expected payment rate after each channel, by bucket.

    Observational, not causal: channels are chosen for accounts by policy. Use a
    randomised test (:mod:`recovery.operations.experiments`) to measure a channel's causal uplift.

    Parameters
    ----------
    actions : pandas.DataFrame
        One row per treated account-episode: ``account_id, ts, channel`` (e.g. the first
        action of each channel per account and month).
    payments : pandas.DataFrame
    features : pandas.DataFrame
        Point-in-time features of each action's account the day before it, aligned row
        by row with ``actions``, including ``bucket``.
    window_days : int
        Outcome window after the action (days).

    Returns
    -------
    pandas.DataFrame
        Per channel × bucket: ``actions, observed_rate, expected_rate, o_e_ratio,
        difference`` (+ interval).
    """
    start = actions["ts"].dt.normalize()
    windows = pd.DataFrame(
        {
            "account_id": actions["account_id"].to_numpy(),
            "start": start.to_numpy(),
            "end": (start + pd.Timedelta(days=window_days)).to_numpy(),
        }
    )
    amount, _ = net_payments_in_windows(windows, payments)
    rows = pd.DataFrame(
        {"account_id": actions["account_id"].to_numpy(), "paid": (amount > 0).astype(int)}
    )
    X = features.drop(columns=[c for c in ("channel",) if c in features.columns])
    rows["expected"] = expected_outcomes(rows, X, outcome="paid", random_state=random_state)
    rows["channel"] = actions["channel"].to_numpy()
    rows["bucket"] = features["bucket"].to_numpy() if "bucket" in features else "all"
    rows["diff"] = rows["paid"] - rows["expected"]
    g = rows.groupby(["channel", "bucket"], observed=True)
    out = pd.DataFrame(
        {
            "actions": g.size(),
            "observed_rate": g["paid"].mean(),
            "expected_rate": g["expected"].mean(),
            "difference": g["diff"].mean(),
            "se": g["diff"].std(ddof=1) / np.sqrt(g.size()),
        }
    )
    z = stats.norm.ppf(0.5 + confidence / 2)
    out["difference_low"] = out["difference"] - z * out["se"]
    out["difference_high"] = out["difference"] + z * out["se"]
    out["o_e_ratio"] = out["observed_rate"] / out["expected_rate"]
    return out.drop(columns="se").reset_index()
