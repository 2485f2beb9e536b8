"""The oracle offer policy: the truth's best offer per account (issue 23, for scale).

Not a policy a lender can run — it reads the simulator's truth — but the reference a
recommender's gain is measured against. For every account the offer desk considers in
a month, :func:`oracle_values` values each term the guardrails allow, under the truth,
as its expected discounted gain over collecting as usual (DESIGN.md §3, offer value;
horizon ``H`` and monthly rate ``r`` of ``config.offers``, ``δ = 1 / (1 + r)``):

- a **settlement** at discount ``d`` of the balance ``B``: answered, accepted and paid
  within the offer month (probabilities exact under the model) it brings ``(1 - d) B``
  instead of ``V_usual``: ``gain = P(answer) P(accept) P(paid) ((1 - d) B - V_usual)``
  (an accepted settlement left unpaid, or a refusal, leaves the account as usual);
- a **payment plan** of ``L`` installments ``I = owed / L``, the first due next month:
  ``gain = P(answer) P(accept) (Σ_k S_k I δ^k + Σ_k (S_{k-1} - S_k) δ^k V_usual R_k / owed
  - V_usual)``, where ``S_k`` is the exact probability that the first ``k`` installments
  are paid (:func:`recovery.simulate.offers.plan_completion`), months after ``H`` are
  not counted, and a plan broken at installment ``k`` goes back to the usual work on what
  remains (``R_k = owed - (k - 1) I``), valued as that share of ``V_usual`` discounted
  to the month of the break — an approximation (the usual work on a re-aged, smaller
  debt is not re-simulated);
- **deferrals** are not valued (their worth — a re-aged account that pays as a current
  one — needs a re-simulation of the deferred schedule), so the oracle never offers one;
- **current accounts** (the desk considers them after a hardship claim) get nothing:
  ``V_usual`` counts only ``H`` months, so on a long loan paid as agreed a payoff "at no
  discount" would look like a gain only because the installments after ``H`` are left
  out.

``V_usual`` is the truth's (:mod:`recovery.simulate.continuation`), re-simulated for
the month's candidates. The oracle offers the term of largest gain when that gain is
positive, and nothing otherwise.

Examples
--------
>>> c = pd.DataFrame({"account_id": ["A1", "A2"], "oracle_kind": ["settlement", "none"],
...     "oracle_discount_share": [0.3, 0.0], "oracle_installments": [1, 0]})
>>> oracle_policy(c)[["kind", "discount_share"]].values.tolist()
[['settlement', 0.3], ['none', 0.0]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recovery.simulate.continuation import discount_factors, usual_value
from recovery.simulate.offers import PLAN, SETTLEMENT

__all__ = ["ORACLE_COLUMNS", "oracle_values", "oracle_policy"]

#: Columns :func:`oracle_values` adds to the candidates (truth: the oracle's only).
ORACLE_COLUMNS = (
    "v_usual",
    "oracle_kind",
    "oracle_discount_share",
    "oracle_installments",
    "oracle_gain",
)


def _settlement_gain(frame: pd.DataFrame, ctx: dict, v: np.ndarray) -> np.ndarray:
    at = frame["row"].to_numpy()
    cash = (1 - frame["discount_share"].to_numpy()) * ctx["balance"][at]
    q = frame["p_answer"] * frame["p_accept_if_answered"] * frame["p_complete"]
    return q.to_numpy() * (cash - v[at])


def _plan_gain(frame: pd.DataFrame, ctx: dict, v: np.ndarray, horizon: int, rate: float):
    at = frame["row"].to_numpy()
    length = frame["installments"].to_numpy(np.int64)
    path = ctx["plan_path"]  # (candidates, grid terms, months)
    survival = path[at, frame["col"].to_numpy()]  # (rows, months): first k paid
    months = survival.shape[1]
    k = np.arange(1, months + 1)[None, :]
    inside = (k <= length[:, None]) & (k < horizon)
    delta = discount_factors(months + 1, rate)[1:][None, :]
    owed = ctx["owed"][at]
    installment = owed / np.maximum(length, 1)
    cash = (np.where(inside, survival, 0.0) * delta).sum(axis=1) * installment
    before = np.concatenate([np.ones((len(frame), 1)), survival[:, :-1]], axis=1)
    remaining = np.maximum(owed[:, None] - (k - 1) * installment[:, None], 0.0)
    share = remaining / np.maximum(owed[:, None], 0.01)
    broken = np.where(inside, before - survival, 0.0) * delta * share
    back = v[at] * broken.sum(axis=1)
    q = (frame["p_answer"] * frame["p_accept_if_answered"]).to_numpy()
    return q * (cash + back - v[at])


def oracle_values(sim, j, m: int, day: int, state, candidates: pd.DataFrame) -> pd.DataFrame:
    """The candidates with the truth's best offer and its gain (:data:`ORACLE_COLUMNS`).

    Parameters
    ----------
    sim : OfferChunkSimulation
        The chunk being simulated, in month ``m`` (``day``: its first day).
    j : ndarray
        The month's live accounts (chunk positions); ``state`` their month state.
    candidates : pandas.DataFrame
        :meth:`~recovery.simulate.offer_engine.OfferChunkSimulation.candidates`.

    Returns
    -------
    pandas.DataFrame
        ``candidates`` plus ``v_usual`` (currency), ``oracle_kind`` (``none``,
        ``settlement`` or ``payment_plan``), ``oracle_discount_share``,
        ``oracle_installments`` and ``oracle_gain`` (currency, discounted).
    """
    from recovery.errors import ConfigError

    if sim.op.v_usual_draws < 1:
        raise ConfigError("the oracle policy needs OfferParams.v_usual_draws >= 1")
    rules = sim.cfg.offers
    o = candidates["row"].to_numpy(np.int64)
    n = len(o)
    v, _ = usual_value(
        sim,
        [(m, sim.month_start_state(j[o]))],
        sim.usual,
        rules.value_horizon_months,
        rules.monthly_discount_rate,
        sim.op.v_usual_draws,
        sim.seed + 7919 * (m + 1),
    )
    best_gain = np.zeros(n)
    best_kind = np.full(n, "none", dtype=object)
    best_discount = np.zeros(n)
    best_length = np.zeros(n, np.int64)
    stage = candidates["stage"].to_numpy(object)
    overdue = np.isin(stage, ("early", "late", "charged_off"))  # not current accounts
    terms = {
        SETTLEMENT: np.flatnonzero(overdue),
        PLAN: np.flatnonzero(overdue & (stage != "charged_off")),
    }
    for kind, who in terms.items():
        if not len(who):
            continue
        frame, ctx = sim.term_truth(j, o[who], np.full(len(who), kind), m, day, state)
        # the grid column of each row: rows come account by account, term by term
        frame = frame.assign(col=frame.groupby("row").cumcount().to_numpy())
        frame = frame[frame["allowed"].to_numpy()]
        if not len(frame):
            continue
        if kind == SETTLEMENT:
            gain = _settlement_gain(frame, ctx, v[who])
        else:
            gain = _plan_gain(
                frame, ctx, v[who], rules.value_horizon_months, rules.monthly_discount_rate
            )
        frame = frame.assign(gain=gain, at=who[frame["row"].to_numpy()])
        top = frame.sort_values("gain", ascending=False, kind="stable").drop_duplicates("at")
        at = top["at"].to_numpy()
        better = top["gain"].to_numpy() > best_gain[at]
        at = at[better]
        top = top[better]
        best_gain[at] = top["gain"].to_numpy()
        best_kind[at] = "settlement" if kind == SETTLEMENT else "payment_plan"
        best_discount[at] = top["discount_share"].to_numpy() if kind == SETTLEMENT else 0.0
        best_length[at] = top["installments"].to_numpy() if kind == PLAN else 1
    return candidates.assign(
        v_usual=v,
        oracle_kind=best_kind,
        oracle_discount_share=best_discount,
        oracle_installments=best_length,
        oracle_gain=best_gain,
    )


def oracle_policy(candidates: pd.DataFrame) -> pd.DataFrame:
    """The oracle's decisions from the columns :func:`oracle_values` added (see the
    module notes; :class:`recovery.simulate.offer_policies.OfferPolicyOperation` with
    ``policy="oracle"`` adds them)."""
    kind = candidates["oracle_kind"].to_numpy(object)
    return pd.DataFrame(
        {
            "account_id": candidates["account_id"].to_numpy(),
            "kind": kind,
            "discount_share": np.where(
                kind == "settlement", candidates["oracle_discount_share"], 0.0
            ),
            "installments": np.where(kind == "payment_plan", candidates["oracle_installments"], 0),
            "deferral_months": 0,
        }
    )
