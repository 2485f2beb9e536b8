"""Rule breaking in the simulated operation: violations injected by a few agents.

A small share of in-house agents (``violator_share``) break contact rules: each month,
on some of the accounts they hold, one violation of a rule the account is eligible
for. The injected actions are added to the month's rows like any other; which rules
they break is labelled by :func:`recovery.simulate.operation.rules.label_violations`
and kept in the truth (``truth_violations``).
"""

from __future__ import annotations

import numpy as np

from recovery.docstrings import fill_doc
from recovery.simulate import contacts as ct
from recovery.simulate.operation.rows import concat_rows, sort_rows
from recovery.simulate.operation.rules import RULE_BITS, VIOLATION_RULES
from recovery.simulate.operation.state import DAY, NONE, ChunkState, MonthWork

__all__ = ["inject_violations"]


@fill_doc
def inject_violations(
    ch: ChunkState,
    work: MonthWork,
    rows: dict,
    violator: np.ndarray,
    violation_rate: float,
    first_dispute: np.ndarray,
    death_from: np.ndarray,
    plans: tuple[np.ndarray, np.ndarray],
    restart_high: np.ndarray,
) -> tuple[dict, np.ndarray]:
    """Violator agents break one rule on some of their accounts.

    Each account held by a violator agent is, with probability ``violation_rate``,
    the target of one violation of a rule it is eligible for (contact during a
    dispute, after a death, during a hardship plan and legal action after the
    limitation period only where they can happen, weighted up): calls at night,
    too many calls a day or a week, third-party calls, calls in a dispute, after a
    death or in a hardship plan, or a lawsuit on expired debt. The hold-out arm is
    left alone. Injected lawsuits are flagged ``legal_after_limitation`` here (the
    other rules are labelled by :func:`recovery.simulate.operation.rules.label_violations`).

    Parameters
    ----------
    {{op_chunk}}
    {{op_work}}
    rows : dict of ndarray
        The month's actions (sorted); the injected ones are added.
    violator : ndarray of bool
        Per agent of the roster: breaks rules.
    violation_rate : float
    first_dispute, death_from, plans
        From :func:`recovery.simulate.operation.rules.keep_within_rules`.
    restart_high : ndarray of int
        Upper bound of the limitation clock's last restart (day), per worked account.

    Returns
    -------
    (dict, ndarray)
        The rows with the injected actions (sorted), and the worked accounts sued
        after the limitation period.
    """
    wpos, wgroup, rng = work.pos, work.group, work.state.rng
    ms_day, n_days = work.start_day, work.n_days
    n = len(wpos)
    cand = violator[work.agent] & (rng.random(n) < violation_rate)
    if not cand.any():
        return rows, np.zeros(0, np.int64)
    last_day = n_days - 2  # contacts avoid the month's last day
    # eligibility of the rule-specific violations
    dispute_open = (ch.dispute_until[wpos] > ms_day) | (first_dispute >= 0)
    death = death_from < ms_day * DAY + last_day * DAY
    cand &= ch.spell_arm[wpos] != 0  # the hold-out arm is left alone
    h_from, h_until = plans
    hardship = h_until > ms_day
    expired = (
        (wgroup >= 3)
        & (ms_day > restart_high + 1100)
        & ~death
        & ~dispute_open
        & ~ch.ever_sued[wpos]
    )
    weights = np.zeros((n, len(VIOLATION_RULES)))
    weights[:, :4] = 1.0
    weights[:, 2] = np.where(last_day >= 7, 1.0, 0.0)
    weights[:, 4] = np.where(dispute_open, 6.0, 0.0)
    weights[:, 5] = np.where(death, 6.0, 0.0)
    weights[:, 6] = np.where(expired, 6.0, 0.0)
    weights[:, 7] = np.where(hardship, 6.0, 0.0)
    cum = np.cumsum(weights, 1)
    u = rng.random(n) * cum[:, -1]
    rule = (u[:, None] >= cum).sum(1)
    parts = []
    legal_acc = np.zeros(0, np.int64)

    def add(acc_idx, day, hour, chan, out, spread_s=3540):
        k = len(acc_idx)
        if not k:
            return
        ts = (
            ms_s0
            + day.astype(np.int64) * DAY
            + hour.astype(np.int64) * 3600
            + rng.integers(0, spread_s, k)
        )
        parts.append(
            {
                "acc": acc_idx.astype(np.int64),
                "ts": ts.astype(np.int64),
                "chan": np.full(k, chan, np.int8) if np.isscalar(chan) else chan.astype(np.int8),
                "out": np.full(k, out, np.int8) if np.isscalar(out) else out.astype(np.int8),
            }
        )

    def random_day(lo, hi):
        """A day drawn uniformly in [lo, hi] (days of the month from 0)."""
        return lo + (rng.random(len(lo)) * (hi - lo + 1)).astype(int)

    def two_calls(acc_idx, day, out):
        """Calls at 10:xx and 15:xx on one day."""
        add(np.repeat(acc_idx, 2), np.repeat(day, 2), np.tile([10, 15], len(acc_idx)), ct.CALL, out)

    ms_s0 = ms_day * DAY
    sel = np.flatnonzero(cand)
    r = rule[sel]
    # outside hours: one call at night
    a = sel[r == 0]
    add(
        a,
        rng.integers(0, last_day + 1, len(a)),
        rng.choice([6, 7, 21, 22], len(a)),
        ct.CALL,
        ct.NO_ANSWER,
    )
    # attempts per day: four extra calls in one day
    a = sel[r == 1]
    d = rng.integers(0, last_day + 1, len(a))
    add(
        np.repeat(a, 4),
        np.repeat(d, 4),
        np.tile([9, 11, 14, 17], len(a)),
        ct.CALL,
        ct.NO_ANSWER,
    )
    # attempts per week: two calls a day on six consecutive days
    a = sel[r == 2]
    d = rng.integers(0, max(last_day - 5, 0) + 1, len(a))
    rep = np.repeat(a, 12)
    add(
        rep,
        np.repeat(d, 12) + np.tile(np.repeat(np.arange(6), 2), len(a)),
        np.tile([10, 16], 6 * len(a)),
        ct.CALL,
        ct.NO_ANSWER,
    )
    # third-party excess: three calls to contact persons in three days
    a = sel[r == 3]
    d = rng.integers(0, max(last_day - 2, 0) + 1, len(a))
    add(
        np.repeat(a, 3),
        np.repeat(d, 3) + np.tile([0, 1, 2], len(a)),
        np.full(3 * len(a), 12),
        ct.CALL,
        ct.THIRD_PARTY,
    )
    # contact during a dispute: two calls before it is closed
    a = sel[r == 4]
    lo = np.where(first_dispute[a] >= 0, first_dispute[a] // DAY - ms_day + 1, 0)
    hi = np.minimum(ch.dispute_until[wpos[a]] - ms_day - 1, last_day)
    hi = np.where(first_dispute[a] >= 0, last_day, hi)
    ok = hi >= lo
    a, lo, hi = a[ok], lo[ok], hi[ok]
    two_calls(a, random_day(lo, hi), ct.REFUSAL)
    # contact after a death was reported
    a = sel[r == 5]
    lo = np.maximum(death_from[a] // DAY - ms_day + 1, 0)
    ok = lo <= last_day
    a, lo = a[ok], lo[ok]
    two_calls(a, random_day(lo, last_day), ct.NO_ANSWER)
    # legal action after the limitation period: a lawsuit first thing on day 1
    a = sel[r == 6]
    if len(a):
        parts.append(
            {
                "acc": a.astype(np.int64),
                "ts": np.full(len(a), ms_s0 + 8 * 3600, np.int64),
                "chan": np.full(len(a), ct.LAWSUIT, np.int8),
                "out": np.full(len(a), ct.FILED, np.int8),
            }
        )
        legal_acc = a
    # calls during a hardship plan
    a = sel[r == 7]
    lo = np.maximum(h_from[a] - ms_day, 0)
    hi = np.minimum(h_until[a] - ms_day - 1, last_day)
    ok = hi >= lo
    a, lo, hi = a[ok], lo[ok], hi[ok]
    add(a, random_day(lo, hi), np.full(len(a), 11), ct.CALL, ct.NO_ANSWER)
    if not parts:
        return rows, legal_acc
    extra = concat_rows(parts)
    k = len(extra["ts"])
    extra.update(
        {
            "history": np.zeros(k, bool),
            "injected": np.ones(k, bool),
            "bits": np.zeros(k, np.int16),
            "promise_day": np.full(k, NONE, np.int64),
            "promise_amount": np.full(k, np.nan),
            "promise_seq": np.full(k, NONE, np.int64),
        }
    )
    if len(legal_acc):
        extra["bits"] = np.where(
            extra["chan"] == ct.LAWSUIT, RULE_BITS["legal_after_limitation"], 0
        ).astype(np.int16)
        ch.ever_sued[wpos[legal_acc]] = True
    rows = sort_rows(concat_rows([rows, extra]), wpos)
    return rows, legal_acc
