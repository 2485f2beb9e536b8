"""Contact attempts of the simulated collection operation: policy, times, outcomes, rules.

Pure vectorised functions over one month of one chunk of accounts; the stateful
bookkeeping (spells, promises, disputes, tails of the previous week) lives in
:mod:`recovery.simulate.operation`.

- :func:`plan_contacts` — how many actions of each channel an account gets this month,
  from the escalation policy by bucket (seeds 002/004: M1 SMS and calls; M2 more
  calls and the guarantor; M3+ letters, visits, legal notices, lawsuits; the recovery
  book and agencies after charge-off) and the experiment arm.
- :func:`contact_times` — timestamps: a day of the month and an hour within the
  allowed contact hours.
- :func:`draw_outcomes` — no answer, wrong number, right-party or third-party contact,
  and after a right-party contact a promise, refusal, dispute or hardship, by the
  borrower's latent archetype; a dead borrower's relative reports the death.
- :func:`stated_reasons`, :func:`recorded_attitudes` — what the collector writes down:
  the reason the borrower gives and the collector's impression of the borrower's type
  (noisy: seniors read people better).
- :func:`rolling_count`, :func:`over_limit` — the contact limits of
  :class:`recovery.config.ComplianceConfig`, evaluated exactly as
  :func:`recovery.operations.compliance.flag_actions` does (calendar day; rolling 7 days).

Codes are positions in the tuples below (the defaults of
:class:`recovery.config.CategoryConfig`).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> counts = plan_contacts(np.array([0, 3]), np.array([1, 1]), np.array([False, True]),
...                        np.array([False, False]), rng)
>>> counts.shape
(2, 8)
>>> int(counts[0, CHANNELS.index("visit")])  # no field visits in M1
0
"""

from __future__ import annotations

import numpy as np

from recovery.config import CategoryConfig
from recovery.simulate.params import ARCHETYPES, SHOCK_TYPES

__all__ = [
    "CHANNELS",
    "OUTCOMES",
    "REASONS",
    "ATTITUDES",
    "GROUPS",
    "ARMS",
    "CONTACT",
    "TALKED",
    "DEFAULT_POLICY",
    "EFFECT_WEIGHTS",
    "effect_weight_matrix",
    "plan_contacts",
    "policy_means",
    "contact_times",
    "draw_outcomes",
    "outcome_probabilities",
    "stated_reasons",
    "recorded_attitudes",
    "rolling_count",
    "over_limit",
]

# the contract's default categories (one source: recovery.config.CategoryConfig); the
# simulator codes channels, outcomes and reasons by their position in these tuples
_CATEGORIES = CategoryConfig()
CHANNELS = _CATEGORIES.action_channels
OUTCOMES = _CATEGORIES.outcomes
REASONS = _CATEGORIES.reason_codes
ATTITUDES = (*ARCHETYPES, "unknown")
#: Policy groups: the bucket (or book) an account is worked in.
GROUPS = ("M1", "M2", "M3", "M4+", "recovery", "agency")
#: Experiment arms: no contact, the standard policy, a more intensive policy.
ARMS = ("hold_out", "champion", "challenger")

SMS, CALL, LETTER, VISIT, GUARANTOR, NOTICE, LAWSUIT, OUTSOURCE = range(len(CHANNELS))
(
    NO_ANSWER,
    WRONG_NUMBER,
    RPC,
    THIRD_PARTY,
    PROMISE,
    REFUSAL,
    DISPUTE,
    HARDSHIP,
    DECEASED,
    DELIVERED,
    FILED,
    PLACED,
) = range(len(OUTCOMES))
#: Channels that count as contact attempts (as in :mod:`recovery.operations.compliance`).
CONTACT = np.array([c in ("sms", "call", "visit", "guarantor_contact") for c in CHANNELS])
#: Channels suppressed during a hardship plan (calls, visits, guarantor contacts).
PRESSURE = np.array([c in ("call", "visit", "guarantor_contact") for c in CHANNELS])

#: Mean actions per account and month of the champion policy, by policy group
#: (lawsuits and placements are decided separately, see :func:`plan_contacts`).
DEFAULT_POLICY: dict[str, dict[str, float]] = {
    "M1": {"sms": 2.0, "call": 2.5},
    "M2": {"sms": 1.0, "call": 4.0, "guarantor_contact": 0.6},
    "M3": {
        "sms": 0.5,
        "call": 4.0,
        "guarantor_contact": 0.8,
        "letter": 1.0,
        "visit": 0.3,
        "legal_notice": 0.15,
    },
    "M4+": {
        "call": 3.0,
        "guarantor_contact": 0.6,
        "letter": 1.0,
        "visit": 0.3,
        "legal_notice": 0.3,
        "lawsuit": 0.03,
    },
    "recovery": {"call": 1.5, "letter": 0.6, "legal_notice": 0.15, "lawsuit": 0.02},
    "agency": {"call": 3.0, "letter": 0.6, "visit": 0.15, "sms": 1.0},
}

#: Effect of one action on the log-odds of paying, relative to one right-party call,
#: by (channel, outcome); anything not listed has no effect.
EFFECT_WEIGHTS: dict[tuple[str, str], float] = {
    ("sms", "delivered"): 0.08,
    ("letter", "delivered"): 0.12,
    ("legal_notice", "delivered"): 0.5,
    ("lawsuit", "filed"): 1.0,
    ("call", "no_answer"): 0.02,
    ("call", "third_party_contact"): 0.25,
    ("visit", "no_answer"): 0.05,
    ("visit", "third_party_contact"): 0.35,
    ("guarantor_contact", "third_party_contact"): 0.6,
    ("guarantor_contact", "no_answer"): 0.02,
    **{
        (ch, out): w * scale
        for ch, scale in (("call", 1.0), ("visit", 1.5))
        for out, w in (
            ("right_party_contact", 1.0),
            ("promise_to_pay", 1.0),
            ("refusal", 0.3),
            ("hardship", 0.4),
        )
    },
}


def effect_weight_matrix() -> np.ndarray:
    """:data:`EFFECT_WEIGHTS` as a (channel, outcome) array.

    Examples
    --------
    >>> round(float(effect_weight_matrix()[CHANNELS.index("visit"), OUTCOMES.index("refusal")]), 6)
    0.45
    """
    w = np.zeros((len(CHANNELS), len(OUTCOMES)))
    for (ch, out), value in EFFECT_WEIGHTS.items():
        w[CHANNELS.index(ch), OUTCOMES.index(out)] = value
    return w


def plan_contacts(
    group: np.ndarray,
    arm: np.ndarray,
    has_guarantor: np.ndarray,
    lawsuit_ok: np.ndarray,
    rng: np.random.Generator,
    policy: dict[str, dict[str, float]] | None = None,
    intensity: float = 1.0,
    challenger_scale: float = 1.6,
) -> np.ndarray:
    """Number of actions per channel for each worked account this month.

    Parameters
    ----------
    group : ndarray of int
        Policy group (:data:`GROUPS`): 0 M1, 1 M2, 2 M3, 3 M4+, 4 recovery book,
        5 with an agency.
    arm : ndarray of int
        Experiment arm (:data:`ARMS`): hold-out accounts get nothing, challenger
        accounts ``challenger_scale`` times the contact attempts.
    has_guarantor : ndarray of bool
        Guarantor contacts only where a guarantor signed.
    lawsuit_ok : ndarray of bool
        A lawsuit may be filed (eligible and inside the limitation period).
    rng : numpy.random.Generator
    policy : dict, optional
        Mean actions per month by group and channel (:data:`DEFAULT_POLICY`).
    intensity : float
        Scales every mean (volume control).
    challenger_scale : float
        Multiplier on contact attempts of the challenger arm.

    Returns
    -------
    ndarray of int, shape (n, len(CHANNELS))
        Poisson counts (at most one lawsuit; no placements — decided elsewhere).

    Examples
    --------
    >>> c = plan_contacts(np.zeros(1000, int), np.zeros(1000, int), np.ones(1000, bool),
    ...                   np.ones(1000, bool), np.random.default_rng(0))
    >>> int(c.sum())  # the hold-out arm is not contacted
    0
    """
    mean, lawsuit_p = policy_means(
        group, arm, has_guarantor, lawsuit_ok, policy, intensity, challenger_scale
    )
    counts = rng.poisson(mean)
    counts[:, LAWSUIT] = rng.random(len(lawsuit_p)) < lawsuit_p
    return counts


def policy_means(
    group: np.ndarray,
    arm: np.ndarray,
    has_guarantor: np.ndarray,
    lawsuit_ok: np.ndarray,
    policy: dict[str, dict[str, float]] | None = None,
    intensity: float = 1.0,
    challenger_scale: float = 1.6,
) -> tuple[np.ndarray, np.ndarray]:
    """What :func:`plan_contacts` draws from: Poisson means and the lawsuit probability.

    Parameters are those of :func:`plan_contacts` (without ``rng``).

    Returns
    -------
    (ndarray, ndarray)
        Mean actions per account and channel, shape (n, len(CHANNELS)), with 0 in
        the lawsuit and placement columns; the probability of a lawsuit per account.

    Examples
    --------
    >>> mean, lawsuit = policy_means(np.array([0, 3]), np.array([2, 1]),
    ...                              np.array([False, True]), np.array([False, True]))
    >>> round(float(mean[0, CALL]), 2), float(lawsuit[1])  # challenger: 1.6 x 2.5 calls
    (4.0, 0.03)
    """
    policy = DEFAULT_POLICY if policy is None else policy
    table = np.zeros((len(GROUPS), len(CHANNELS)))
    for g, name in enumerate(GROUPS):
        for ch, mean in policy.get(name, {}).items():
            table[g, CHANNELS.index(ch)] = mean
    mean = table[np.asarray(group)] * intensity
    scale = np.where(np.asarray(arm) == 2, challenger_scale, 1.0)
    mean[:, CONTACT] *= scale[:, None]
    mean[np.asarray(arm) == 0] = 0.0
    mean[~np.asarray(has_guarantor, bool), GUARANTOR] = 0.0
    mean[:, OUTSOURCE] = 0.0
    lawsuit_p = np.where(np.asarray(lawsuit_ok, bool), mean[:, LAWSUIT], 0.0)
    mean[:, LAWSUIT] = 0.0
    return mean, lawsuit_p


# hour weights of contact attempts, 08:00 … 20:00 (peaks late morning and evening)
_HOURS = np.arange(8, 21)
_HOUR_W = np.array([3, 6, 7, 6, 4, 4, 6, 6, 5, 5, 6, 6, 4], float)


def contact_times(
    month_start_s: int,
    n_days: int,
    channel: np.ndarray,
    rng: np.random.Generator,
    hour_start: int = 8,
    hour_end: int = 21,
) -> np.ndarray:
    """Timestamps (seconds since 1970-01-01) of actions in one month.

    The day is uniform over the month except its last day (a death is recorded
    at a month end); contact attempts fall within ``[hour_start, hour_end)`` with
    the minute below 59 (so a one-second shift never leaves the window); letters,
    notices and filings in office hours 09:00–17:00.

    Examples
    --------
    >>> ts = contact_times(0, 31, np.array([1, 1, 2]), np.random.default_rng(0))
    >>> hours = (ts % 86400) // 3600
    >>> bool(((hours >= 8) & (hours < 21)).all()), bool((ts < 30 * 86400).all())
    (True, True)
    """
    n = len(channel)
    day = rng.integers(0, max(n_days - 1, 1), n)
    hours = _HOURS[(_HOURS >= hour_start) & (_HOURS < hour_end)]
    weights = _HOUR_W[(_HOURS >= hour_start) & (_HOURS < hour_end)]
    if not len(hours):  # a config with no allowed hour: no legal contact attempt
        hours, weights = np.array([12]), np.array([1.0])
    hour = rng.choice(hours, size=n, p=weights / weights.sum())
    office = rng.integers(9, 17, n)
    hour = np.where(CONTACT[channel], hour, office)
    second = rng.integers(0, 3540, n)
    return month_start_s + day * 86400 + hour * 3600 + second


# outcome of a right-party contact by archetype: promise, refusal, dispute, hardship
_RPC_BRANCH = np.array(
    [
        [0.12, 0.40, 0.030, 0.04],  # hostile
        [0.30, 0.15, 0.010, 0.05],  # evasive
        [0.30, 0.05, 0.005, 0.30],  # victim
        [0.35, 0.20, 0.020, 0.04],  # confident
        [0.12, 0.45, 0.030, 0.04],  # stubborn
        [0.25, 0.15, 0.060, 0.05],  # sophisticated
        [0.70, 0.05, 0.005, 0.05],  # serial promiser
    ]
)


def draw_outcomes(
    channel: np.ndarray,
    group: np.ndarray,
    archetype: np.ndarray,
    reachability: np.ndarray,
    deceased: np.ndarray,
    shock_active: np.ndarray,
    fraud: np.ndarray,
    promise_allowed: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Outcome code (:data:`OUTCOMES`) of each action.

    SMS, letters and notices are ``delivered``, lawsuits ``filed``, placements
    ``placed``. A call or visit reaches the borrower with the archetype's
    reachability (lower in later buckets, higher for visits); otherwise a contact
    person or neighbour may answer (M2 on), the number may be wrong, or nobody
    answers. After a right-party contact the archetype decides between a promise,
    a refusal, a dispute, a hardship claim or a plain conversation; a borrower in a
    shock claims hardship more, a fraudster disputes. Guarantor contacts reach the
    guarantor (a third party) or nobody. A dead borrower's relative reports the death.

    Examples
    --------
    >>> out = draw_outcomes(np.array([0, 6, 1]), np.zeros(3, int), np.zeros(3, int),
    ...                     np.ones(3), np.array([False, False, True]), np.zeros(3, bool),
    ...                     np.zeros(3, bool), np.ones(3, bool), np.random.default_rng(1))
    >>> [OUTCOMES[o] for o in out[:2]]
    ['delivered', 'filed']
    >>> OUTCOMES[out[2]] in ("deceased_reported", "no_answer")
    True
    """
    n = len(channel)
    channel = np.asarray(channel)
    group = np.asarray(group)
    u = rng.random((n, 3))
    out = np.full(n, DELIVERED, np.int8)
    out[channel == LAWSUIT] = FILED
    out[channel == OUTSOURCE] = PLACED
    # calls and visits
    talk = (channel == CALL) | (channel == VISIT)
    reach, wrong, third = _answer_odds(channel, group, reachability)
    is_wrong = u[:, 0] < wrong
    is_rpc = ~is_wrong & (u[:, 0] < wrong + (1 - wrong) * reach)
    is_third = ~is_wrong & ~is_rpc & (u[:, 1] < third)
    res = np.where(
        is_wrong, WRONG_NUMBER, np.where(is_rpc, RPC, np.where(is_third, THIRD_PARTY, NO_ANSWER))
    )
    # after a right-party contact
    branch = _rpc_branch(archetype, group, promise_allowed, shock_active, fraud)
    cum = np.cumsum(branch, axis=1)
    k = (u[:, 2][:, None] >= cum).sum(axis=1)
    after = np.array(_AFTER_RPC)[k]
    res = np.where(is_rpc, after, res)
    # a dead borrower: a relative may answer and report the death
    dead_out = np.where(u[:, 1] < _death_reported(channel), DECEASED, NO_ANSWER)
    res = np.where(deceased, dead_out, res)
    out = np.where(talk, res, out)
    guarantor = channel == GUARANTOR
    out = np.where(guarantor, np.where(u[:, 0] < _GUARANTOR_REACHED, THIRD_PARTY, NO_ANSWER), out)
    sms_wrong = (channel == SMS) & (u[:, 0] < _SMS_WRONG)
    out = np.where(sms_wrong, WRONG_NUMBER, out)
    return out.astype(np.int8)


def outcome_probabilities(
    group: np.ndarray,
    archetype: np.ndarray,
    reachability: np.ndarray,
    deceased: np.ndarray,
    shock_active: np.ndarray,
    fraud: np.ndarray,
    promise_allowed: np.ndarray,
) -> np.ndarray:
    """Probability of each outcome of an action, per account and channel.

    The distribution :func:`draw_outcomes` draws from (same parameters, one row per
    account instead of per action); the simulator's truth averages over it.

    Returns
    -------
    ndarray, shape (n, len(CHANNELS), len(OUTCOMES))
        Rows (account, channel) sum to 1.

    Examples
    --------
    >>> p = outcome_probabilities(np.array([1]), np.array([6]), np.array([0.8]),
    ...                           np.array([False]), np.array([False]),
    ...                           np.array([False]), np.array([True]))
    >>> # M2 call: (1 - 0.035 wrong) x 0.8 x 0.93 reach x 0.70 promise (serial promiser)
    >>> bool(np.allclose(p.sum(axis=2), 1.0)), round(float(p[0, CALL, PROMISE]), 3)
    (True, 0.503)
    """
    group = np.asarray(group)
    n = len(group)
    p = np.zeros((n, len(CHANNELS), len(OUTCOMES)))
    p[:, [LETTER, NOTICE], DELIVERED] = 1.0
    p[:, SMS, DELIVERED] = 1.0 - _SMS_WRONG
    p[:, SMS, WRONG_NUMBER] = _SMS_WRONG
    p[:, LAWSUIT, FILED] = 1.0
    p[:, OUTSOURCE, PLACED] = 1.0
    p[:, GUARANTOR, THIRD_PARTY] = _GUARANTOR_REACHED
    p[:, GUARANTOR, NO_ANSWER] = 1.0 - _GUARANTOR_REACHED
    branch = _rpc_branch(archetype, group, promise_allowed, shock_active, fraud)
    cum = np.minimum(np.cumsum(branch, axis=1), 1.0)
    after = np.diff(cum, axis=1, prepend=0.0, append=1.0)  # (n, 5) in _AFTER_RPC order
    deceased = np.asarray(deceased, bool)
    for channel in (CALL, VISIT):
        reach, wrong, third = _answer_odds(np.full(n, channel), group, reachability)
        rpc = (1 - wrong) * reach
        p[:, channel, WRONG_NUMBER] = wrong
        p[:, channel, THIRD_PARTY] = (1 - wrong) * (1 - reach) * third
        p[:, channel, NO_ANSWER] = (1 - wrong) * (1 - reach) * (1 - third)
        p[:, channel, list(_AFTER_RPC)] = rpc[:, None] * after
        reported = _death_reported(np.array(channel))
        p[deceased, channel] = 0.0
        p[deceased, channel, DECEASED] = reported
        p[deceased, channel, NO_ANSWER] = 1.0 - reported
    return p


#: Outcomes after a right-party contact, in the order of :data:`_RPC_BRANCH`'s columns
#: (the remainder is a plain conversation).
_AFTER_RPC = (PROMISE, REFUSAL, DISPUTE, HARDSHIP, RPC)
_GUARANTOR_REACHED = 0.7
_SMS_WRONG = 0.02


def _answer_odds(channel, group, reachability):
    """Reach, wrong-number and third-party probabilities of calls and visits."""
    decay = np.clip(1.0 - 0.07 * group, 0.5, 1.0)
    reach = np.clip(reachability * decay * np.where(channel == VISIT, 1.3, 1.0), 0.0, 0.95)
    wrong = np.where(channel == CALL, 0.02 + 0.015 * group, 0.0)
    third = np.where(channel == VISIT, 0.35, np.where(group >= 1, 0.18, 0.04))
    return reach, wrong, third


def _rpc_branch(archetype, group, promise_allowed, shock_active, fraud):
    """P(promise, refusal, dispute, hardship) after a right-party contact."""
    branch = _RPC_BRANCH[np.asarray(archetype)].copy()
    branch[:, 0] *= np.where(group >= 4, 0.6, 1.0)  # fewer promises on old debt
    branch[:, 0] = np.where(promise_allowed, branch[:, 0], 0.0)
    branch[:, 3] = np.where(shock_active, branch[:, 3] + 0.25, branch[:, 3])
    branch[:, 2] = np.where(fraud, 0.10, branch[:, 2])
    return branch


def _death_reported(channel):
    """P(a relative reports a death) when a call or visit reaches a dead borrower."""
    return np.where(channel == VISIT, 0.7, 0.35)


# reason a borrower states, by archetype, over REASONS (fraud/dispute handled apart)
_REASON_BY_ARCHETYPE = np.array(
    [
        # cash job  ill  biz  mkt  fam  fraud disp unknown
        [0.35, 0.05, 0.05, 0.05, 0.05, 0.05, 0.0, 0.10, 0.30],  # hostile
        [0.30, 0.05, 0.05, 0.05, 0.05, 0.05, 0.0, 0.00, 0.45],  # evasive
        [0.10, 0.25, 0.25, 0.05, 0.05, 0.30, 0.0, 0.00, 0.00],  # victim
        [0.60, 0.05, 0.00, 0.10, 0.15, 0.00, 0.0, 0.00, 0.10],  # confident
        [0.40, 0.05, 0.05, 0.05, 0.05, 0.05, 0.0, 0.05, 0.30],  # stubborn
        [0.50, 0.05, 0.05, 0.10, 0.15, 0.00, 0.0, 0.10, 0.05],  # sophisticated
        [0.50, 0.15, 0.05, 0.05, 0.00, 0.20, 0.0, 0.00, 0.05],  # serial promiser
    ]
)
#: Outcomes of a conversation with the borrower (the collector's skill shows there).
TALKED = np.array(
    [
        o in ("right_party_contact", "promise_to_pay", "refusal", "dispute", "hardship")
        for o in OUTCOMES
    ]
)


def stated_reasons(
    outcome: np.ndarray,
    archetype: np.ndarray,
    shock_type: np.ndarray,
    rng: np.random.Generator,
    truthful: float = 0.75,
) -> np.ndarray:
    """Reason code (:data:`REASONS`, -1 = not recorded) the borrower states.

    Only after a conversation with the borrower. A borrower in a shock names it
    with probability ``truthful``; otherwise the archetype's usual story. A dispute
    is recorded as ``dispute``.

    Examples
    --------
    >>> r = stated_reasons(np.array([0, 6]), np.array([0, 0]), np.array([-1, -1]),
    ...                    np.random.default_rng(0))
    >>> int(r[0]), REASONS[r[1]]
    (-1, 'dispute')
    """
    n = len(outcome)
    cum = np.cumsum(_REASON_BY_ARCHETYPE[np.asarray(archetype)], axis=1)
    cum /= cum[:, -1:]
    u = rng.random((n, 2))
    usual = (u[:, 0][:, None] >= cum[:, :-1]).sum(axis=1)
    shock_code = np.array([REASONS.index(s) for s in SHOCK_TYPES])
    st = np.asarray(shock_type)
    named = np.where(st >= 0, shock_code[np.clip(st, 0, None)], usual)
    reason = np.where((st >= 0) & (u[:, 1] < truthful), named, usual)
    reason = np.where(np.asarray(outcome) == DISPUTE, REASONS.index("dispute"), reason)
    return np.where(TALKED[np.asarray(outcome)], reason, -1).astype(np.int8)


def recorded_attitudes(
    outcome: np.ndarray,
    archetype: np.ndarray,
    accuracy: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """The collector's recorded impression (:data:`ATTITUDES`; -1 = not recorded).

    After a conversation the collector records the true archetype with probability
    ``accuracy`` (by agent), else ``unknown`` or, equally likely, another archetype.

    Examples
    --------
    >>> a = recorded_attitudes(np.full(4, 2), np.full(4, 3), np.ones(4),
    ...                        np.random.default_rng(0))
    >>> [ATTITUDES[x] for x in a]
    ['confident', 'confident', 'confident', 'confident']
    """
    n = len(outcome)
    u = rng.random((n, 2))
    k = len(ARCHETYPES)
    other = (np.asarray(archetype) + 1 + (u[:, 1] * (k - 1)).astype(int)) % k
    wrong = np.where(u[:, 1] < 0.5, len(ARCHETYPES), other)  # 'unknown' or a wrong type
    att = np.where(u[:, 0] < accuracy, archetype, wrong)
    return np.where(TALKED[np.asarray(outcome)], att, -1).astype(np.int8)


def rolling_count(pos: np.ndarray, ts: np.ndarray, window_s: int) -> np.ndarray:
    """Rows of the same account with time in ``(ts - window, ts]``, counting the row.

    Rows must be sorted by (``pos``, ``ts``); ties count only the rows up to this
    one, as :func:`recovery.operations.compliance.flag_actions` does.

    Examples
    --------
    >>> rolling_count(np.array([0, 0, 0, 1]), np.array([0, 5, 20, 5]), 10).tolist()
    [1, 2, 1, 1]
    """
    if not len(pos):
        return np.zeros(0, np.int64)
    t = np.asarray(ts, np.int64) - int(np.min(ts))
    span = int(t.max()) + window_s + 1
    key = np.asarray(pos, np.int64) * span + t
    return np.arange(len(key)) - np.searchsorted(key, key - window_s, side="right") + 1


def over_limit(
    pos: np.ndarray,
    ts: np.ndarray,
    counted: np.ndarray,
    limit: int,
    window_s: int | None,
    history: np.ndarray | None = None,
) -> np.ndarray:
    """Rows that break a count limit (the excess ones, in time order).

    ``window_s=None`` counts per calendar day (attempts per day); otherwise in the
    rolling window ``(ts - window_s, ts]``. ``history`` marks rows that belong to
    earlier months (they count, but are never flagged here). Rows sorted by
    (``pos``, ``ts``); only ``counted`` rows count and can be flagged.

    Examples
    --------
    >>> pos = np.zeros(5, int); ts = np.array([0, 10, 20, 30, 86400])
    >>> over_limit(pos, ts, np.ones(5, bool), 3, None).tolist()
    [False, False, False, True, False]
    """
    flag = np.zeros(len(pos), bool)
    rows = np.flatnonzero(counted)
    if not len(rows):
        return flag
    p, t = pos[rows], ts[rows]
    if window_s is None:
        day = t // 86400
        new = np.ones(len(rows), bool)
        new[1:] = (p[1:] != p[:-1]) | (day[1:] != day[:-1])
        start = np.maximum.accumulate(np.where(new, np.arange(len(rows)), 0))
        count = np.arange(len(rows)) - start + 1
    else:
        count = rolling_count(p, t, window_s)
    hit = count > limit
    if history is not None:
        hit &= ~history[rows]
    flag[rows[hit]] = True
    return flag
