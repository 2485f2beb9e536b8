"""The truth of offers: acceptance and completion of every grid term (issue 22).

:class:`OfferTruth` is a mixin of
:class:`recovery.simulate.offer_engine.OfferChunkSimulation`: for each month's offers
(whether made, or only valued by the oracle) it computes, for every term of the offer's
grid, the probability of an answer, of acceptance and of completion, exact under the
model (:func:`recovery.simulate.offers.plan_completion`,
:func:`recovery.simulate.offers.deferral_completion`). It reads the chunk's book,
parameters, response model and ledger.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from recovery.simulate.offers import (
    DEFERRAL,
    PLAN,
    SETTLEMENT,
    deferral_completion,
    plan_completion,
)

__all__ = ["OfferTruth"]


class OfferTruth:
    """Truth rows of offers (a mixin; see the module notes)."""

    def _truth(self, f, m: int) -> None:
        """Acceptance and completion of every grid term of each offer (exact under the model)."""
        self.truth_log.append(self._truth_frame(f, m))

    def _truth_frame(self, f, m: int) -> pd.DataFrame:
        b, model = self.book, self.model
        jo, rows, kind, ctx, grid, allowed = f.jo, f.rows, f.kind, f.ctx, f.grid, f.allowed
        reach, blocked, a_now, shock = f.reach, f.blocked, f.a_now, f.shock
        discount, installments = f.discount, f.installments
        n, width = grid.shape
        inst = np.maximum(ctx["installment_amount"], 0.01)
        term = np.nan_to_num(grid)
        rep = lambda a: np.repeat(np.asarray(a), width).reshape(n, width)  # noqa: E731
        is_settle = rep(kind == SETTLEMENT)
        is_plan = rep(kind == PLAN)
        accept_s = model.settlement_acceptance(
            rep(b.settlement_share[jo]),
            rep(b.willingness[jo]),
            rep(np.nan_to_num(ctx["debt_age_days"])),
            rep(b.archetype[jo]),
            term,
        )
        pay_s = model.settlement_payment(
            rep(a_now),
            rep(b.promise_keep[jo]),
            (1 - term) * rep(ctx["balance"]) / rep(inst),
            rep(blocked),
        )
        ratio = rep(ctx["owed"]) / np.maximum(term, 1) / rep(inst)
        accept_p = model.plan_acceptance(
            rep(b.willingness[jo]), rep(shock), rep(b.archetype[jo]), ratio
        )
        complete_p = np.full((n, width), np.nan)
        self.plan_path = np.zeros((n, width, 0))
        if is_plan.any():
            complete_p, self.plan_path = self._plan_truth(jo, m, ratio, term, is_plan, blocked)
        p_accept = np.where(is_settle, accept_s, np.where(is_plan, accept_p, np.nan))
        p_complete = np.where(is_settle, pay_s, np.where(is_plan, complete_p, np.nan))
        on_grid = ~np.isnan(grid)
        offered = on_grid & np.where(
            is_settle,
            np.isclose(term, rep(discount)),
            np.where(is_plan, term == rep(installments), False),
        )
        # deferrals: every length of the deferral grid
        d = kind == DEFERRAL
        frame = pd.DataFrame(
            {
                "row": rep(rows)[on_grid],
                "pos": rep(jo)[on_grid],
                "kind": rep(kind)[on_grid],
                "discount_share": np.where(is_settle, term, 0.0)[on_grid],
                "installments": np.where(is_plan, term, 1).astype(np.int64)[on_grid],
                "deferral_months": np.zeros(on_grid.sum(), np.int64),
                "offered": offered[on_grid],
                "allowed": allowed[on_grid],
                "p_answer": rep(reach)[on_grid],
                "p_accept_if_answered": p_accept[on_grid],
                "p_complete": p_complete[on_grid],
            }
        )
        if d.any():
            frame = pd.concat([frame, self._deferral_rows(f, d, m)], ignore_index=True)
        frame["month"] = m
        return frame

    def _deferral_rows(self, f, d: np.ndarray, m: int) -> pd.DataFrame:
        """Truth rows of the deferrals ``d``: every length of ``deferral_grid`` (and the one
        offered, when off the grid), with the guardrails' verdict and completion."""
        grid = np.asarray(sorted(self.op.deferral_grid), float)
        nd, g = int(d.sum()), len(grid)
        offered_months = f.months[d].astype(float)
        months = np.full((nd, g + 1), np.nan)
        months[:, :g] = grid
        off = ~np.isin(offered_months, grid)
        months[off, g] = offered_months[off]
        on = ~np.isnan(months)
        rep = lambda a: np.repeat(np.asarray(a), g + 1).reshape(nd, g + 1)[on]  # noqa: E731
        flat = months[on].astype(np.int64)
        ctx = {c: (rep(v[d]) if np.ndim(v) else v) for c, v in f.ctx.items()}
        kind = np.full(len(flat), DEFERRAL)
        bad = self._breaches(ctx, kind, np.zeros(len(flat)), np.zeros(len(flat), np.int64), flat)
        complete = self._deferral_truth(f.jo[d], m, months, f.blocked[d])
        return pd.DataFrame(
            {
                "row": rep(f.rows[d]),
                "pos": rep(f.jo[d]),
                "kind": DEFERRAL,
                "discount_share": 0.0,
                "installments": 0,
                "deferral_months": flat,
                "offered": flat == rep(f.months[d]),
                "allowed": ~bad,
                "p_answer": rep(f.reach[d]),
                "p_accept_if_answered": np.repeat(
                    self.model.deferral_acceptance(nd), g + 1
                ).reshape(nd, g + 1)[on],
                "p_complete": complete[on],
            }
        )

    def _shock_paths(self, jo: np.ndarray, m: int, horizon: int):
        """Months ``m + 1 … m + horizon`` after an offer: P(a shock starts) (n, horizon),
        ability in each shock state (n, horizon, 3: none, temporary, permanent) and the
        shock state in the offer month (n, 3)."""
        months = m + 1 + np.arange(horizon)
        start = np.stack([self.shock_start_prob(jo, int(k)) for k in months], axis=1)
        ability = np.zeros((len(jo), horizon, 3))
        for s, shocked in enumerate((False, True, True)):
            for i, k in enumerate(months):
                ability[:, i, s] = self.ability_now(jo, np.full(len(jo), shocked), int(k))
        state0 = np.zeros((len(jo), 3))
        code = np.where(self.shock[jo], np.where(self.shock_perm[jo], 2, 1), 0)
        state0[np.arange(len(jo)), code] = 1
        return start, ability, state0

    def _plan_truth(self, jo, m, ratio, term, is_plan, blocked):
        """P(complete) of each plan term (:func:`~recovery.simulate.offers.plan_completion`)
        and P(the first k installments are paid) (n, terms, longest plan)."""
        n, width = ratio.shape
        horizon = int(np.nanmax(np.where(is_plan, term, 0)))
        start, ability, state0 = self._shock_paths(jo, m, horizon)
        keep = self.model.installment_kept(
            ability[:, None, :, :],
            self.book.promise_keep[jo][:, None, None, None],
            ratio[:, :, None, None],
            blocked[:, None, None, None],
        )
        survival = self._shock_chain(
            plan_completion,
            keep.reshape(n * width, horizon, 3),
            start,
            state0,
            term.reshape(-1).astype(np.int64),
            path=True,
        ).reshape(n, width, horizon)
        length = np.clip(np.nan_to_num(term).astype(np.int64), 1, horizon)
        done = np.take_along_axis(survival, (length - 1)[:, :, None], axis=2)[:, :, 0]
        return np.where(is_plan, done, np.nan), survival

    def _deferral_truth(self, jo, m, months, blocked) -> np.ndarray:
        """P(complete) of each deferral length (``months`` (n, w), NaN off the grid):
        :func:`~recovery.simulate.offers.deferral_completion`. The first installment
        falls on a current account, which the collection operation does not work (odds
        multiplier 1); it is paid in full (one installment or a payoff, not a partial)
        with the benchmark's probabilities of a current account."""
        p = self.p
        n, width = months.shape
        length = np.nan_to_num(months).astype(np.int64)
        horizon = max(int(length.max(initial=0)), 1)
        start, a, state0 = self._shock_paths(jo, m, horizon)
        w = self.book.willingness[jo][:, None, None]
        h = expit(p.pay_logit_current + p.ability_effect * a + p.willingness_effect * w)
        partial = expit(p.partial_logit_current + p.partial_ability * a)
        pay = h * (p.prepay_rate_monthly + (1 - p.prepay_rate_monthly) * (1 - partial))
        pay = np.where(blocked[:, None, None], 0.0, pay)
        done = self._shock_chain(
            deferral_completion,
            np.repeat(pay, width, axis=0),
            start,
            state0,
            np.maximum(length.reshape(-1), 1),
        )
        return np.where(length > 0, done.reshape(n, width), np.nan)

    def _shock_chain(self, completion, values, start, state0, length, **options):
        """``completion`` (plan or deferral) of each (account, grid term) row of
        ``values`` with the scenario's shock, death and reversal rates; ``start`` and
        ``state0`` are per account, repeated over its terms."""
        p = self.p
        width = len(values) // max(len(start), 1)
        return completion(
            values,
            np.repeat(start, width, axis=0),
            p.shock_end_rate_monthly,
            p.shock_permanent_share,
            np.repeat(state0, width, axis=0),
            p.death_rate_monthly,
            p.reversal_rate,
            length,
            **options,
        )
