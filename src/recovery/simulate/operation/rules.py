"""The contact rules in the simulated operation: normal work kept inside them, and the truth.

Normal work keeps to ``config.compliance``: contact hours, attempts a day and a
rolling week, third-party contacts a week; no contact during a dispute or after a
reported death; no call, visit or guarantor contact during a hardship plan; no
lawsuit after the limitation period. :func:`keep_within_rules` drops the planned
attempts that would break a rule and grants hardship plans; :func:`label_violations`
marks every action with the rules it breaks by their definitions (the truth of the
injected violations, :mod:`recovery.simulate.operation.violations`), one bit per rule
of :data:`VIOLATION_RULES`; :func:`update_after_month` carries disputes, deaths,
lawsuits and the limitation clock into the next month.

Examples
--------
>>> VIOLATION_RULES[0], RULE_BITS[VIOLATION_RULES[1]]
('outside_hours', 2)
"""

from __future__ import annotations

import numpy as np

from recovery.config import ComplianceConfig
from recovery.docstrings import fill_doc
from recovery.operations.compliance import RULES
from recovery.simulate import contacts as ct
from recovery.simulate.operation.params import OperationParams
from recovery.simulate.operation.rows import first_per_account, take_rows, with_tail
from recovery.simulate.operation.state import DAY, FAR, NONE, WEEK, ChunkState, MonthWork

__all__ = [
    "VIOLATION_RULES",
    "RULE_BITS",
    "known_deaths",
    "limitation_restarts",
    "lawsuit_allowed",
    "keep_within_rules",
    "enforce_limits",
    "suppress",
    "hardship_plans",
    "label_violations",
    "update_after_month",
]

#: Rules whose violations are injected: exactly the rules :mod:`recovery.operations.compliance`
#: checks, in its order (the order sets the bit of each rule).
VIOLATION_RULES = RULES
#: The bit of each rule in an action's violation flags.
RULE_BITS = {r: 1 << i for i, r in enumerate(VIOLATION_RULES)}


@fill_doc
def known_deaths(ch: ChunkState, work: MonthWork) -> tuple[np.ndarray, np.ndarray]:
    """Which worked borrowers the lender knows to be dead, and from when.

    A death is known once reported or once the lender is notified (the event day):
    contacts strictly after that moment break ``contact_after_death``.

    Parameters
    ----------
    ch : ChunkState
        ``death_known`` is updated.
    {{op_work}}

    Returns
    -------
    (ndarray of bool, ndarray of int)
        Known at the start of the month, and the second from which contacts break
        the rule (:data:`recovery.simulate.operation.state.FAR` when never).
    """
    state, w, wpos, ms_day = work.state, work.rows, work.pos, work.start_day
    notice = getattr(state, "death_notice_day", None)
    if notice is None:  # no notification day: treat every death as known
        notice_w = np.where(np.asarray(state.deceased)[w], ms_day - 1, NONE)
    else:
        notice_w = np.asarray(notice, np.int64)[w]
    dead_known = ch.death_known[wpos] | ((notice_w >= 0) & (notice_w < ms_day))
    ch.death_known[wpos] = dead_known
    ms_s = ms_day * DAY
    death_from = np.where(dead_known, ms_s - 1, np.where(notice_w >= 0, notice_w * DAY, FAR))
    return dead_known, death_from


@fill_doc
def limitation_restarts(ch: ChunkState, work: MonthWork) -> tuple[np.ndarray, np.ndarray]:
    """Bounds on the last restart of each worked account's limitation clock (day).

    The clock restarts on the first due date, any posted payment, a promise, a legal
    notice or a lawsuit; exact when the month state gives the first due day and the
    last posted payment, bounds from the operation's own records otherwise.

    Parameters
    ----------
    {{op_chunk}}
    {{op_work}}

    Returns
    -------
    (ndarray of int, ndarray of int)
        Lower and upper bound of the restart day per worked account.
    """
    state, w, wpos, ms_day = work.state, work.rows, work.pos, work.start_day
    first_due = getattr(state, "first_due_day", None)
    posted = getattr(state, "last_posted_day", None)
    exact = first_due is not None and posted is not None and len(first_due) == len(state)
    if exact:
        due_w = np.asarray(first_due, np.int64)[w]
        posted_w = np.asarray(posted, np.int64)[w]
        restart_low = np.maximum.reduce([due_w, posted_w, ch.restart[wpos]])
        restart_high = np.maximum.reduce([due_w, posted_w, ch.restart[wpos] + 1])
    else:
        restart_low = np.maximum.reduce(
            [ch.orig_day_low[wpos], ch.last_pay[wpos], ch.restart[wpos]]
        )
        restart_high = np.maximum.reduce(
            [ch.first_due_high[wpos], ch.last_pay[wpos] + 1, ch.restart[wpos] + 1]
        )
        # without posted (incl. reversed) payments, trust the book's own flag too
        restart_high = np.where(np.asarray(state.limitation_expired)[w], restart_high, ms_day)
    return restart_low, restart_high


@fill_doc
def lawsuit_allowed(
    ch: ChunkState,
    work: MonthWork,
    dead_known: np.ndarray,
    restart_low: np.ndarray,
    min_balance: float,
) -> np.ndarray:
    """Worked accounts the legal team may sue this month.

    M4+ or recovery, never sued before, no known death, no open dispute, secured or
    owing at least ``min_balance``, and inside the limitation period all month.

    Parameters
    ----------
    {{op_chunk}}
    {{op_work}}
    dead_known : ndarray of bool
        From :func:`known_deaths`.
    restart_low : ndarray of int
        From :func:`limitation_restarts`.
    min_balance : float
        Unsecured accounts are sued only above this balance (currency).

    Returns
    -------
    ndarray of bool
    """
    state, w, wpos = work.state, work.rows, work.pos
    balance = np.asarray(state.balance)[w]
    return (
        (work.group >= 3)
        & ~ch.ever_sued[wpos]
        & ~dead_known
        & (ch.dispute_until[wpos] <= work.start_day)
        & (state.has_collateral[w] | state.has_guarantor[w] | (balance >= min_balance))
        & (work.end_day + 1 < restart_low + 1095)  # inside the limitation period all month
    )


@fill_doc
def keep_within_rules(
    ch: ChunkState,
    rows: dict,
    work: MonthWork,
    cfg: ComplianceConfig,
    death_from: np.ndarray,
    params: OperationParams,
) -> tuple[dict, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Keep normal work inside the contact rules; grant hardship plans.

    Parameters
    ----------
    {{op_chunk}}
    rows : dict of ndarray
        The month's planned attempts, sorted (:func:`~recovery.simulate.operation.rows.sort_rows`).
    {{op_work}}
    {{op_cfg}}
    death_from : ndarray of int
        From :func:`known_deaths`.
    params : OperationParams

    Returns
    -------
    (dict, ndarray, ndarray, (ndarray, ndarray))
        The rows kept; per worked account the time of the first dispute raised this
        month (-1: none), the second from which contacts break
        ``contact_after_death`` (a death reported this month included), and the
        hardship plan in force (first day, first day after; days).
    """
    wpos = work.pos
    rows = enforce_limits(ch, rows, wpos, cfg)
    death_base = death_from
    rows, first_dispute, death_from = suppress(ch, rows, wpos, death_from)
    rows, plans = hardship_plans(ch, rows, wpos, work.state.rng, work.start_day, params)
    # a plan may have removed the row that opened a dispute or reported a death
    n_w = len(wpos)
    first_dispute = first_per_account(rows["acc"], rows["out"] == ct.DISPUTE, n_w, rows["ts"])
    reported = first_per_account(rows["acc"], rows["out"] == ct.DECEASED, n_w, rows["ts"])
    death_from = np.where(reported >= 0, np.minimum(death_base, reported), death_base)
    return rows, first_dispute, death_from, plans


@fill_doc
def enforce_limits(ch: ChunkState, rows: dict, wpos: np.ndarray, cfg: ComplianceConfig) -> dict:
    """Drop the normal attempts that would break a count limit.

    Attempts a day, attempts and third-party contacts a rolling week, counted with
    the last week of the previous month.

    Parameters
    ----------
    {{op_chunk}}
    {{op_rows}}
    {{op_wpos}}
    {{op_cfg}}

    Returns
    -------
    dict of ndarray
    """
    for _ in range(20):
        both, _ = with_tail(ch, rows, wpos)
        contact = ct.CONTACT[both["chan"]]
        third = both["out"] == ct.THIRD_PARTY
        bad = ct.over_limit(
            both["pos"], both["ts"], third, cfg.max_third_party_per_week, WEEK, both["history"]
        )
        bad |= ct.over_limit(
            both["pos"], both["ts"], contact, cfg.max_attempts_per_day, None, both["history"]
        )
        bad |= ct.over_limit(
            both["pos"], both["ts"], contact, cfg.max_attempts_per_week, WEEK, both["history"]
        )
        if not bad.any():
            return rows
        drop = np.zeros(len(rows["ts"]), bool)
        drop[both["row"][bad]] = True
        rows = take_rows(rows, ~drop)
    return rows


@fill_doc
def suppress(
    ch: ChunkState, rows: dict, wpos: np.ndarray, death_from: np.ndarray
) -> tuple[dict, np.ndarray, np.ndarray]:
    """No action during a dispute or after a death is known (normal work).

    Parameters
    ----------
    {{op_chunk}}
    {{op_rows}}
    {{op_wpos}}
    death_from : ndarray of int
        From :func:`known_deaths`.

    Returns
    -------
    (dict, ndarray, ndarray)
        The rows kept, the first dispute per account (-1: none) and ``death_from``
        with deaths reported this month.
    """
    n = len(wpos)
    rpos = rows["acc"]
    ts = rows["ts"]
    until = ch.dispute_until[wpos][rpos]
    keep = ts >= until * DAY  # a dispute from an earlier month still open
    rows = take_rows(rows, keep)
    rpos, ts = rows["acc"], rows["ts"]
    first_dispute = first_per_account(rpos, rows["out"] == ct.DISPUTE, n, ts)
    fd = first_dispute[rpos]
    rows = take_rows(rows, ~((fd >= 0) & (ts > fd)))
    rpos, ts = rows["acc"], rows["ts"]
    rows = take_rows(rows, ts <= death_from[rpos])
    rpos, ts = rows["acc"], rows["ts"]
    first_death = first_per_account(rpos, rows["out"] == ct.DECEASED, n, ts)
    death_from = np.where(first_death >= 0, np.minimum(death_from, first_death), death_from)
    rows = take_rows(rows, ts <= death_from[rpos])
    return rows, first_dispute, death_from


@fill_doc
def hardship_plans(
    ch: ChunkState,
    rows: dict,
    wpos: np.ndarray,
    rng: np.random.Generator,
    ms_day: int,
    params: OperationParams,
) -> tuple[dict, tuple[np.ndarray, np.ndarray]]:
    """Grant hardship plans; no calls, visits or guarantor contacts while one runs.

    Parameters
    ----------
    ch : ChunkState
        Plans granted are kept (``hardship_from``/``hardship_until``) and recorded as
        events.
    {{op_rows}}
    {{op_wpos}}
    rng : numpy.random.Generator
    ms_day : int
        First day of the month.
    params : OperationParams
        ``hardship_plan_share`` and ``hardship_plan_days``.

    Returns
    -------
    (dict, (ndarray, ndarray))
        The rows kept and the plan in force per worked account (first day, first day
        after; 0 when none).
    """
    p = params
    n = len(wpos)
    rpos, ts = rows["acc"], rows["ts"]
    pressure = ct.PRESSURE[rows["chan"]]
    h_from, h_until = ch.hardship_from[wpos][rpos], ch.hardship_until[wpos][rpos]
    keep = ~(pressure & (ts >= h_from * DAY) & (ts < h_until * DAY))
    rows = take_rows(rows, keep)
    rpos, ts = rows["acc"], rows["ts"]
    first = first_per_account(rpos, rows["out"] == ct.HARDSHIP, n, ts)
    active = ch.hardship_until[wpos] > ms_day
    grant = (first >= 0) & ~active & (rng.random(n) < p.hardship_plan_share)
    plan_from = np.where(grant, first // DAY + 1, 0)
    plan_until = np.where(grant, plan_from + p.hardship_plan_days, 0)
    pf = plan_from[rows["acc"]]
    inside = ct.PRESSURE[rows["chan"]] & grant[rows["acc"]] & (ts >= pf * DAY)
    rows = take_rows(rows, ~inside)
    g = np.flatnonzero(grant)
    ch.hardship_from[wpos[g]] = plan_from[g]
    ch.hardship_until[wpos[g]] = plan_until[g]
    if len(g):
        ch.events.append({"pos": wpos[g], "day": plan_from[g], "code": np.full(len(g), 1, np.int8)})
        ch.events.append(
            {"pos": wpos[g], "day": plan_until[g], "code": np.full(len(g), 2, np.int8)}
        )
    plans = (np.maximum(ch.hardship_from[wpos], 0), ch.hardship_until[wpos])
    return rows, plans


@fill_doc
def label_violations(
    ch: ChunkState,
    rows: dict,
    wpos: np.ndarray,
    first_dispute: np.ndarray,
    death_from: np.ndarray,
    plans: tuple[np.ndarray, np.ndarray],
    cfg: ComplianceConfig,
) -> dict:
    """Which rule each action breaks, by the rules' definitions (the truth).

    Parameters
    ----------
    {{op_chunk}}
    rows : dict of ndarray
        With ``bits`` (flags already set, e.g. on injected lawsuits).
    {{op_wpos}}
    first_dispute, death_from, plans
        From :func:`keep_within_rules`.
    {{op_cfg}}

    Returns
    -------
    dict of ndarray
        ``rows`` with ``bits`` set (:data:`RULE_BITS`).
    """
    bits = rows["bits"].astype(np.int64)
    ts, acc, chan = rows["ts"], rows["acc"], rows["chan"]
    contact = ct.CONTACT[chan]
    hour = (ts % DAY) // 3600
    bits |= np.where(
        contact & ((hour < cfg.contact_hour_start) | (hour >= cfg.contact_hour_end)),
        RULE_BITS["outside_hours"],
        0,
    )
    both, order = with_tail(ch, rows, wpos)
    cur = both["row"] >= 0
    c = ct.CONTACT[both["chan"]]
    for rule, mask, limit, window in (
        ("attempts_per_day", c, cfg.max_attempts_per_day, None),
        ("attempts_per_week", c, cfg.max_attempts_per_week, WEEK),
        (
            "third_party_excess",
            both["out"] == ct.THIRD_PARTY,
            cfg.max_third_party_per_week,
            WEEK,
        ),
    ):
        hit = ct.over_limit(both["pos"], both["ts"], mask, limit, window, both["history"])
        idx = both["row"][hit & cur]
        bits[idx] |= RULE_BITS[rule]
    # disputes: open from an earlier month until dispute_until, or opened this month
    until = ch.dispute_until[wpos][acc]
    fd = first_dispute[acc]
    in_dispute = (ts < until * DAY) | ((fd >= 0) & (ts > fd))
    bits |= np.where(contact & in_dispute, RULE_BITS["contact_after_dispute"], 0)
    dead = ts > death_from[acc]
    bits |= np.where(contact & dead, RULE_BITS["contact_after_death"], 0)
    h_from, h_until = plans
    in_plan = (ts >= h_from[acc] * DAY) & (ts < h_until[acc] * DAY)
    bits |= np.where(ct.PRESSURE[chan] & in_plan, RULE_BITS["contact_during_hardship"], 0)
    rows["bits"] = bits.astype(np.int16)
    return rows


@fill_doc
def update_after_month(
    ch: ChunkState,
    rows: dict,
    wpos: np.ndarray,
    me_day: int,
    first_dispute: np.ndarray,
    death_from: np.ndarray,
    rng: np.random.Generator,
    dispute_days: tuple[int, int],
) -> None:
    """Carry the month into the next: limitation restarts, lawsuits, disputes, deaths.

    Promises, legal notices and lawsuits restart the limitation clock; a lawsuit is
    recorded as the lender's ``legal_filed`` event; a dispute raised this month is
    closed after ``dispute_days`` (contacts resume on the closing day; a pending
    promise is void); a death reported by the month end is known from then on.

    Parameters
    ----------
    {{op_chunk}}
    rows : dict of ndarray
        The month's actions.
    {{op_wpos}}
    me_day : int
        Last day of the month.
    first_dispute, death_from : ndarray of int
        From :func:`keep_within_rules`.
    rng : numpy.random.Generator
    dispute_days : (int, int)
        Range of days until a dispute is closed.
    """
    acc, ts = rows["acc"], rows["ts"]
    # restarts of the limitation clock: promises, legal notices, lawsuits
    restart = (
        (rows["out"] == ct.PROMISE) | (rows["chan"] == ct.NOTICE) | (rows["chan"] == ct.LAWSUIT)
    )
    if restart.any():
        last = np.full(len(wpos), NONE, np.int64)
        np.maximum.at(last, acc[restart], ts[restart] // DAY)
        got = last >= 0
        ch.restart[wpos[got]] = np.maximum(ch.restart[wpos[got]], last[got])
    sued = rows["chan"] == ct.LAWSUIT
    ch.ever_sued[wpos[np.unique(acc[sued])]] = True
    if sued.any():  # the lender's record of the filing
        ch.events.append(
            {
                "pos": wpos[acc[sued]],
                "day": ts[sued] // DAY,
                "code": np.full(sued.sum(), 3, np.int8),
            }
        )
    # a new dispute: closed after a while (contacts resume on the closing day)
    opened = np.flatnonzero(first_dispute >= 0)
    if len(opened):
        close = first_dispute[opened] // DAY + rng.integers(
            dispute_days[0], dispute_days[1] + 1, len(opened)
        )
        ch.dispute_until[wpos[opened]] = close
        ch.events.append(
            {"pos": wpos[opened], "day": close, "code": np.zeros(len(opened), np.int8)}
        )
        # a pending promise is void once the debt is disputed
        ch.prom_day[wpos[opened]] = NONE
        ch.prom_row[wpos[opened]] = NONE
    ch.death_known[wpos[death_from < (me_day + 1) * DAY]] = True
