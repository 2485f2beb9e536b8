"""What the simulated operation's contacts do to the borrower's payment probability.

Each month the contacts of an account add up to a log-odds effect (channel × outcome
weight × the archetype's contact response × the policy group's effect), saturating at
``effect_cap``; the holding agent's skill adds to it in months the agent talked with
the borrower, and a promise due this month raises the probability of paying to at
least its keep probability. The result is the odds multiplier the simulator applies
(:class:`recovery.simulate.hooks.OperationResponse`).
"""

from __future__ import annotations

import numpy as np

from recovery.docstrings import fill_doc
from recovery.simulate import contacts as ct
from recovery.simulate.operation.params import OperationParams
from recovery.simulate.operation.state import NONE, ChunkState, MonthWork

__all__ = ["contact_effects", "odds_multiplier", "saturate"]


@fill_doc
def contact_effects(
    ch: ChunkState,
    work: MonthWork,
    rows: dict,
    weights: np.ndarray,
    agent_skill: np.ndarray,
    params: OperationParams,
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Odds multiplier of the month's payment probability, and promised payment days.

    Also the counterfactual probability had an average agent (skill 0) made the same
    contacts: the agent's own causal effect is ``p_pay_operation − p_pay_average_agent``.
    Promises due this month are handed over to be checked next month.

    Parameters
    ----------
    {{op_chunk}}
    {{op_work}}
    rows : dict of ndarray
        The month's actions.
    weights : ndarray, shape (len(CHANNELS), len(OUTCOMES))
        Effect weight of a contact by channel and outcome
        (:func:`recovery.simulate.contacts.effect_weight_matrix`).
    agent_skill : ndarray, shape (n_agents, 2)
        True skill of each agent with early (M1–M2) and later cases.
    params : OperationParams
        ``bucket_effect`` and ``effect_cap``.

    Returns
    -------
    (ndarray, ndarray, (ndarray, ndarray))
        Per live account of the month state: odds multiplier and promised payment day
        of the month (0: none); per worked account: P(pay) with the operation and had
        an average agent made the same contacts.
    """
    state, w, wpos, agent, wgroup = work.state, work.rows, work.pos, work.agent, work.group
    ms_day, me_day = work.start_day, work.end_day
    p = params
    n_live = len(state)
    n = len(wpos)
    weight = weights[rows["chan"], rows["out"]]
    raw_w = np.bincount(rows["acc"], weights=weight, minlength=n)
    skill = agent_skill[agent, np.where(wgroup <= 1, 0, 1)]
    response = np.log(np.maximum(np.asarray(state.contact_response)[w], 1e-6))
    unit = response * np.asarray(p.bucket_effect)[wgroup]
    h = np.clip(np.asarray(state.p_pay_base)[w], 0.0, 1.0)
    # a promise due this month: pays at least with its keep probability, on its day
    pd_ = ch.prom_day[wpos]
    due = (pd_ >= ms_day) & (pd_ <= me_day)
    kappa = np.where(due, ch.prom_keep[wpos], 0.0)
    # the agent's skill shows when they talk with the borrower (log-odds that month)
    talked = np.bincount(rows["acc"], weights=ct.TALKED[rows["out"]], minlength=n) > 0
    k_total, p_op = odds_multiplier(raw_w * unit, skill * talked, h, kappa, p.effect_cap)
    _, p_avg = odds_multiplier(raw_w * unit, 0.0, h, kappa, p.effect_cap)
    mult = np.ones(n_live)
    mult[w] = k_total
    pay_day = np.zeros(n_live, np.int8)
    pay_day[w[due]] = (pd_[due] - ms_day + 1).astype(np.int8)
    # promises due now are checked next month
    d = np.flatnonzero(due)
    ch.check_row[wpos[d]] = ch.prom_row[wpos[d]]
    ch.check_dom[wpos[d]] = pd_[d] - ms_day + 1
    ch.prom_day[wpos[d]] = NONE
    ch.prom_row[wpos[d]] = NONE
    return mult, pay_day, (p_op, p_avg)


def saturate(raw: np.ndarray, cap: float) -> np.ndarray:
    """A positive log-odds effect saturating at ``cap``; negative effects unchanged.

    Parameters
    ----------
    raw : ndarray
        Summed log-odds effect of the month's contacts.
    cap : float
        Saturation (``effect_cap``).

    Returns
    -------
    ndarray
        ``cap (1 − exp(−raw / cap))`` where ``raw ≥ 0``, else ``raw``.

    Examples
    --------
    >>> saturate(np.array([-1.0, 0.0, 100.0]), 1.2).round(3).tolist()
    [-1.0, 0.0, 1.2]
    """
    return np.where(raw >= 0, cap * (1 - np.exp(-np.maximum(raw, 0) / cap)), raw)


def odds_multiplier(
    raw: np.ndarray, skill: np.ndarray | float, h: np.ndarray, kappa: np.ndarray, cap: float
) -> tuple[np.ndarray, np.ndarray]:
    """Saturating contact effect + agent skill (log-odds) and a due promise.

    Parameters
    ----------
    raw : ndarray
        Summed log-odds effect of the month's contacts.
    skill : ndarray or float
        The agent's skill (log-odds) where it shows.
    h : ndarray
        Payment probability without the operation.
    kappa : ndarray
        Keep probability of a promise due this month (0: none).
    cap : float
        Saturation of the contact effect (:func:`saturate`).

    Returns
    -------
    (ndarray, ndarray)
        The odds multiplier of the month's payment probability and P(pay).
    """
    effect = saturate(raw, cap)
    effect = effect + skill
    k = np.exp(effect)
    p_contact = np.where(h > 0, k * h / (1 - h + k * h), 0.0)
    p_target = 1 - (1 - kappa) * (1 - p_contact)
    ok = (h > 0) & (h < 1)
    odds_h = np.maximum(h / np.maximum(1 - h, 1e-12), 1e-12)
    q = np.minimum(p_target, 1 - 1e-9)
    k_total = np.where(ok, (q / (1 - q)) / odds_h, k)
    k_total = np.clip(k_total, 1e-3, 1e6)
    p_op = np.where(ok, k_total * h / (1 - h + k_total * h), h)
    return k_total, p_op
