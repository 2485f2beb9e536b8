"""A small Markov loan book in ``snapshots`` form, for the analytics tests.

Not the project's simulator (``recovery.simulate``): a deliberately simple generator
whose truths are known in closed form, so tests of roll-rate forecasts, liquidation
curves and recovery by age can check estimates against them. Vectorised over
accounts; the loop runs over months only.

States: 0 = M0 (current), 1…6 = M1…M6, 7 = charged off, 8 = paid off.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BUCKETS = ["M0", "M1", "M2", "M3", "M4", "M5", "M6"]


def snapshot_rows(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (account_id, month_end, dpd, bucket, balance, paid_in_month, status)."""
    df = pd.DataFrame(
        rows,
        columns=["account_id", "month_end", "dpd", "bucket", "balance", "paid_in_month", "status"],
    )
    df["month_end"] = pd.to_datetime(df["month_end"])
    df["amount_overdue"] = 0.0
    return df


def transition_matrix(worsen: float = 1.0) -> np.ndarray:
    """Monthly transition probabilities between states 0…8 (rows sum to 1)."""
    p = np.zeros((9, 9))
    p[0, [0, 1, 8]] = [0.955, 0.035 * worsen, 0.01]
    p[0, 0] = 1 - p[0, 1] - p[0, 8]
    cure = [0.0, 0.45, 0.25, 0.12, 0.08, 0.05, 0.03]
    for i in range(1, 7):
        roll = min(0.55 * worsen, 0.95 - cure[i]) if i < 6 else 1 - cure[i]
        p[i, 0] = cure[i]
        p[i, i + 1 if i < 6 else 7] = roll
        p[i, i] = 1 - cure[i] - roll
    p[7, 7] = 1.0
    p[8, 8] = 1.0
    return p


def make_book(
    months: int = 36,
    new_per_month: int = 300,
    seed: int = 0,
    recovery_prob: float = 0.12,
    age_decay: float = 0.06,
    shift_from: int | None = None,
    worsen: float = 1.5,
) -> pd.DataFrame:
    """Snapshots of a book: ``new_per_month`` accounts originate each month in M0.

    Charged-off accounts pay a recovery with monthly probability
    ``recovery_prob * exp(-age_decay * (debt_age_months - 6))``, of 5–20 % of the
    balance. From month ``shift_from`` on, roll rates are multiplied by ``worsen``
    (a regime shift).
    """
    rng = np.random.default_rng(seed)
    n = months * new_per_month
    start = np.repeat(np.arange(months), new_per_month)
    balance = rng.lognormal(np.log(5000), 0.5, n)
    state = np.full(n, -1)
    dpd_days = np.zeros(n)
    episode_start = np.full(n, np.nan)
    ends = pd.date_range("2020-01-31", periods=months, freq="ME")
    base, shifted = transition_matrix(), transition_matrix(worsen)
    rows = []
    for m in range(months):
        p = shifted if shift_from is not None and m >= shift_from else base
        alive = state >= 0
        new = start == m
        u = rng.random(n)
        cdf = np.cumsum(p[np.clip(state, 0, 8)], axis=1)
        nxt = (u[:, None] > cdf).sum(axis=1)
        prev = state.copy()
        state = np.where(alive & (prev < 7), nxt, state)
        state = np.where(new, 0, state)
        active = state >= 0
        paid = np.zeros(n)
        # current accounts pay an installment (3 % of balance); cures pay the overdue
        inst = 0.03 * balance
        stay_current = active & (prev == 0) & (state == 0)
        cured = active & (prev >= 1) & (prev <= 6) & (state == 0)
        payoff = active & (prev >= 0) & (prev < 7) & (state == 8)
        paid = np.where(stay_current, inst, paid)
        paid = np.where(cured, inst * (prev + 1), paid)
        paid = np.where(payoff, balance, paid)
        balance = np.where(stay_current | cured, balance - inst, balance)
        balance = np.where(payoff, 0.0, balance)
        # delinquency: dpd grows 30 a month; episode start fixed at entry to M1
        late = (state >= 1) & (state <= 6)
        enter = late & ~((prev >= 1) & (prev <= 7))
        episode_start = np.where(enter, m - 0.5, episode_start)
        episode_start = np.where(state == 0, np.nan, episode_start)
        age_months = m - episode_start
        dpd_days = np.where(late | (state == 7), np.round(age_months * 30.4375), 0)
        # recoveries after charge-off
        in_book = (state == 7) & (prev == 7) & (balance > 0)
        q = recovery_prob * np.exp(-age_decay * (age_months - 6))
        pays = in_book & (rng.random(n) < q)
        amt = np.where(pays, balance * rng.uniform(0.05, 0.2, n), 0.0)
        paid = paid + amt
        balance = balance - amt
        show = active & ~((prev == 8) & (state == 8))
        status = np.select([state == 7, state == 8], ["charged_off", "paid_off"], "open")
        bucket = np.where(state <= 6, np.array(BUCKETS, dtype=object)[np.clip(state, 0, 6)], None)
        idx = np.flatnonzero(show)
        rows.append(
            pd.DataFrame(
                {
                    "account_id": idx,
                    "month_end": ends[m],
                    "dpd": dpd_days[idx].astype(np.int64),
                    "bucket": bucket[idx],
                    "balance": balance[idx].round(2),
                    "amount_overdue": np.where(late[idx], inst[idx] * state[idx], 0.0),
                    "paid_in_month": paid[idx].round(2),
                    "status": status[idx],
                }
            )
        )
    out = pd.concat(rows, ignore_index=True)
    out["account_id"] = "A" + out["account_id"].astype(str).str.zfill(6)
    out["bucket"] = out["bucket"].astype(object).where(out["status"] == "open", pd.NA)
    out["product"] = np.where(
        out["account_id"].str[-1].isin(list("01234")), "consumer_installment", "small_business"
    )
    return out


def make_recovery_book(
    months: int = 36,
    per_month: int = 200,
    seed: int = 0,
    recovery_prob: float = 0.15,
    age_decay: float = 0.05,
) -> pd.DataFrame:
    """Snapshots of a recovery book only: ``per_month`` accounts charged off each month.

    An account charged off in month c (debt age 6 months then) pays in each later month
    with probability ``recovery_prob * exp(-age_decay * months_since_charge_off)`` a
    share U(0.05, 0.2) of its balance; it stays in the book to the data end.
    """
    rng = np.random.default_rng(seed)
    n = months * per_month
    cohort = np.repeat(np.arange(months), per_month)
    balance = rng.lognormal(np.log(4000), 0.6, n)
    ends = pd.date_range("2020-01-31", periods=months, freq="ME")
    rows = []
    for m in range(months):
        k = m - cohort
        alive = k >= 0
        q = recovery_prob * np.exp(-age_decay * np.maximum(k, 0))
        pays = alive & (k >= 1) & (rng.random(n) < q)
        amt = np.where(pays, balance * rng.uniform(0.05, 0.2, n), 0.0)
        balance = balance - amt
        idx = np.flatnonzero(alive)
        rows.append(
            pd.DataFrame(
                {
                    "account_id": idx,
                    "month_end": ends[m],
                    "dpd": (180 + 30.4375 * k[idx]).astype(np.int64),
                    "bucket": pd.NA,
                    "balance": balance[idx],
                    "amount_overdue": balance[idx],
                    "paid_in_month": amt[idx],
                    "status": "charged_off",
                }
            )
        )
    out = pd.concat(rows, ignore_index=True)
    out["account_id"] = "R" + out["account_id"].astype(str).str.zfill(6)
    return out
