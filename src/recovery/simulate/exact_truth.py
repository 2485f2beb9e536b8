"""The exact truth of the simulated book: ``p_pay_true`` and ``p_cure_true``.

The truth probabilities of DESIGN.md §3's labels follow exactly from the hazards of
:mod:`recovery.simulate.behaviour`:

- ``p_pay_true`` (month end m): sum over the shock state of month m+1 and over the
  outcomes whose amount reaches the minimum, times (1 - reversal rate).
- ``p_cure_true`` (month end m): the same enumeration over two months (shock state
  and outcome of m+1, averaged shock state and outcome of m+2), with the exact
  probability that a payment day falls before a charge-off day; DPD at m + 60 days
  equals DPD at the end of month m+2 because no due date or payment falls after day 28.

A month end's truth is computed in the next month, when the operation's response is
known; it averages over the operation's possible responses (its contacts are drawn
after the month end), :meth:`ExactTruth.response_draws`.

:class:`ExactTruth` is a mixin of :class:`recovery.simulate.engine.ChunkSimulation`:
besides the ledger and behaviour it reads ``operation``, ``prev_rows`` (the previous
month's rows of the live accounts) and ``month_rows`` (month-end rows so far), and
writes the truth columns of ``out.months``.
"""

from __future__ import annotations

import numpy as np

from recovery.simulate.behaviour import (
    CATCHUP,
    CHARGED_OFF,
    NONE,
    ONE,
    OPEN,
    PARTIAL,
    PAYOFF,
    RESTRUCTURE,
    REVERSIBLE,
)
from recovery.simulate.hooks import MonthState
from recovery.simulate.ledger import DAY_HI, DAY_LO, hook_day

__all__ = ["ExactTruth"]


class ExactTruth:
    """Truth probabilities of the month-end rows (a mixin; see the module notes)."""

    def start_truth(self) -> None:
        """Start a run: no truth computed yet."""
        self._truth_fill = []

    def keep_pending_truth(self) -> None:
        """Keep the truth computed this month for the previous month's rows."""
        pending = getattr(self, "_pending_truth", None)
        if pending is not None and self.prev_rows is not None:
            rows, p_pay, p_cure, h, mlt = pending
            # rows: previous-month row positions of live accounts, aligned with j_live
            self._truth_fill.append((rows, p_pay, p_cure, h, mlt))
            self._pending_truth = None

    def response_draws(self, state: MonthState) -> list[tuple[np.ndarray, np.ndarray]] | None:
        """The operation's month under independent random draws, for the truth.

        ``p_pay_true`` / ``p_cure_true`` of the previous month end may depend only on
        what is determined at that month end; the month's contacts, promises and agents
        are drawn afterwards, so the truth averages over the operation's
        ``response_draws(state)`` (its own state left untouched). None when the
        operation cannot redraw (it is then taken to be deterministic given the state)
        or returns no draw.
        """
        redraw = getattr(self.operation, "response_draws", None)
        if redraw is None or self.prev_rows is None or len(state) == 0:
            return None
        if state.month_index - 1 >= self.cal.observed_months:
            return None  # the previous month end is hidden follow-up: its truth is not kept
        draws = [
            (np.asarray(r.odds_multiplier, float), hook_day(r.payment_day, len(state)))
            for r in redraw(state)
        ]
        return draws or None

    def truth_previous(
        self, j, m, status, paid0, view, mult, draws, debt_age, shock_prev, perm_prev
    ):
        """p_pay_true / p_cure_true of month end m-1 for the live accounts ``j``.

        ``mult``: the realised odds multiplier (recorded, not used by the probabilities).
        ``draws``: the operation's possible responses in month m, ``[(odds multiplier,
        payment day), ...]``, equally likely; the truth is their average. The response
        assumed for month m+1 (second month of ``p_cure_true``) is the next draw in the
        list: an independent draw of the contacts, from the same state.
        """
        if self.prev_rows is None:
            return
        nj = len(j)
        p_pay = np.full(nj, np.nan)
        p_cure = np.full(nj, np.nan)
        is_open = status == OPEN
        delinquent = is_open & (view["dpd"] > 0)
        co = status == CHARGED_OFF
        target = delinquent | (co & (view["remaining"] >= self.tol))  # repaid: not overdue
        if target.any():
            t = np.flatnonzero(target)
            k = len(draws)
            # the draws stacked into one long call: draw i's rows are [i*n, (i+1)*n)
            tile = lambda a: np.tile(a[t], k)  # noqa: E731
            pay_k, cure_k = self.exact_probabilities(
                tile(j),
                m,
                tile(status),
                tile(paid0),
                np.concatenate([d[0][t] for d in draws]),
                np.concatenate([d[1][t] for d in draws]),
                tile(debt_age),
                tile(delinquent),
                tile(shock_prev),
                tile(perm_prev),
                np.concatenate([draws[(s + 1) % k][0][t] for s in range(k)]),
            )
            p_pay[t] = pay_k.reshape(k, len(t)).mean(axis=0)
            cure = cure_k.reshape(k, len(t)).mean(axis=0)
            p_cure[t] = np.where(delinquent[t], cure, np.nan)
        rows = self.prev_rows  # (accounts, row ids) of the previous month, aligned to j
        if not np.array_equal(rows[0], j):  # pragma: no cover - internal invariant
            raise RuntimeError("simulator bookkeeping: live accounts do not match month rows")
        self._pending_truth = (rows, p_pay, p_cure, view["h"], mult)

    def exact_probabilities(
        self, j, m, status, paid0, mult, hook_day, debt_age, delinquent, s0, s0_perm, mult_next
    ):
        """Closed-form p_pay and two-month enumeration for p_cure (see module doc).

        ``s0`` / ``s0_perm``: shock state of month m-1 (before this month's draw).
        ``mult`` / ``hook_day``: one response of the operation in month m; ``mult_next``:
        the odds multiplier assumed for month m+1 (second month of p_cure).
        Branches are stacked into long arrays so each month costs one call of
        :meth:`outcome_probabilities`.
        """
        p = self.p
        nj = len(j)
        rho = p.reversal_rate
        # shock state of month m (integrated over) and its persistence into m+1
        pstart = self.shock_start_prob(j, m)
        p_s1 = np.where(s0, np.where(s0_perm, 1.0, 1.0 - p.shock_end_rate_monthly), pstart)
        p_keep_new = 1.0 - (1.0 - p.shock_permanent_share) * p.shock_end_rate_monthly
        p_keep = np.where(s0, np.where(s0_perm, 1.0, 1.0 - p.shock_end_rate_monthly), p_keep_new)
        pstart2 = self.shock_start_prob(j, m + 1)
        v0 = self.ledger_view(j, paid0, m - 1)
        thr = np.where(
            status == OPEN,
            np.minimum(v0["overdue"], v0["oldest_amount"]),
            self.cfg.labels.charged_off_min_share * self.balance(j, paid0),
        )
        two = np.concatenate
        J = two([j, j])
        shock1 = np.repeat([False, True], nj)
        prob, amount, _ = self.outcome_probabilities(
            J,
            two([paid0, paid0]),
            two([status, status]),
            shock1,
            m,
            two([mult, mult]),
            two([self.dead[j], self.dead[j]]),
            two([debt_age, debt_age]),
            two([self.anchor[j], self.anchor[j]]),
        )
        w1 = two([1.0 - p_s1, p_s1])
        thr2 = two([thr, thr])
        # qualifying: at least the minimum less the tolerance (as recovery.timeline.labels counts)
        qual = (amount >= thr2[:, None] - self.tol - 1e-9) & (amount > 0)
        eff = prob * np.where(REVERSIBLE, 1.0 - rho, 1.0)[None, :]
        eff[:, [NONE, RESTRUCTURE]] = 0.0
        p_pay = (w1 * (eff * qual).sum(axis=1)).reshape(2, nj).sum(axis=0)
        p_cure = np.zeros(nj)
        d = np.flatnonzero(delinquent)
        if len(d) == 0:
            return p_pay, p_cure
        # --- p_cure, first month: branches (shock s1) x (none, partial, one, catch-up, payoff)
        ms, me = self.cal.starts[m], self.cal.starts[m + 1] - 1
        rows = two([d, d + nj])  # positions in the stacked first-month arrays
        jd = J[rows]
        lo = np.where(hook_day[d] > 0, hook_day[d], DAY_LO)
        hi = np.where(hook_day[d] > 0, hook_day[d], DAY_HI)
        c0 = self.charge_off_day(j[d], paid0[d], m)
        p_before = np.clip((c0 - ms + 1 - lo + 1) / (hi - lo + 1), 0.0, 1.0)  # P(day <= c)
        p_before = two([p_before, p_before])
        pr = prob[rows]
        none_w = pr[:, NONE] + rho * (pr * REVERSIBLE[None, :]).sum(axis=1)
        base_paid = two([paid0[d], paid0[d]])
        wshock = w1[rows]
        keep_next = two([pstart2[d], p_keep[d]])  # P(shock in m+1 | branch's s1)
        branch_j, branch_paid, branch_w, branch_keep, branch_idx = [], [], [], [], []
        nd = len(d)
        for o in (NONE, PARTIAL, ONE, CATCHUP, PAYOFF):
            if o == NONE:
                weight, amt = none_w, np.zeros(2 * nd, np.int64)
            else:
                weight, amt = pr[:, o] * (1 - rho) * p_before, amount[rows, o]
            paid1 = base_paid + amt
            survive = self.charge_off_day(jd, paid1, m) > me
            wt = wshock * weight * survive
            target = two([np.arange(nd), np.arange(nd)])
            if o == PAYOFF:
                np.add.at(p_cure, d[target], wt)
                continue
            branch_j.append(jd)
            branch_paid.append(paid1)
            branch_w.append(wt)
            branch_keep.append(keep_next)
            branch_idx.append(d[target])
        bj = two(branch_j)
        second = self.cure_second_month(
            bj,
            m + 1,
            two(branch_paid),
            np.tile(two([mult_next[d], mult_next[d]]), len(branch_j)),
            two(branch_keep),
            np.tile(two([debt_age[d], debt_age[d]]), len(branch_j)),
            self.anchor[bj],
        )
        np.add.at(p_cure, two(branch_idx), two(branch_w) * second)
        return p_pay, p_cure

    def cure_second_month(self, j, m, paid1, mult, p_s2, debt_age, anchor):
        """P(DPD 0 at the end of month m, by payments), from the open state ``paid1``."""
        p = self.p
        n = len(j)
        rho = p.reversal_rate
        delta = p.death_rate_monthly
        two = np.concatenate
        prob, amount, _ = self.outcome_probabilities(
            two([j, j]),
            two([paid1, paid1]),
            np.zeros(2 * n, np.int8),
            np.repeat([False, True], n),
            m,
            two([mult, mult]),
            two([self.dead[j], self.dead[j]]),
            two([debt_age, debt_age]),
            two([anchor, anchor]),
        )
        prob_avg = (1.0 - p_s2)[:, None] * prob[:n] + p_s2[:, None] * prob[n:]
        amount = amount[:n]  # amounts do not depend on the shock
        # a death at the end of the previous month stops payments and restructures
        alive = np.where(self.dead[j], 0.0, 1.0 - delta)
        ms = self.cal.starts[m]
        c = self.charge_off_day(j, paid1, m)
        p_before = np.clip((c - ms + 1 - DAY_LO + 1) / (DAY_HI - DAY_LO + 1), 0.0, 1.0)
        K_end = self.due_count(j, m)
        pay_mass = 1.0 - prob_avg[:, NONE]
        none_w = (
            prob_avg[:, NONE]
            + (1 - alive) * pay_mass
            + alive * rho * (prob_avg * REVERSIBLE[None, :]).sum(axis=1)
        )
        cure = none_w * (self.n_paid(j, paid1) >= K_end)
        for o in (PARTIAL, ONE, CATCHUP, PAYOFF):
            cured = self.n_paid(j, paid1 + amount[:, o]) >= K_end
            cure += alive * prob_avg[:, o] * (1 - rho) * p_before * cured
        return cure

    def finish_truth(self) -> None:
        """Attach the truth columns (computed a month later) to the month-end rows.

        The last simulated month end is hidden follow-up; its truth stays empty.
        """
        total = self.month_rows
        p_pay = np.full(total, np.nan, np.float32)
        p_cure = np.full(total, np.nan, np.float32)
        hz = np.full(total, np.nan, np.float32)
        mult = np.full(total, np.nan, np.float32)
        for (_acc_prev, rows_prev), pp, pc, h, mlt in self._truth_fill:
            p_pay[rows_prev] = pp
            p_cure[rows_prev] = pc
            hz[rows_prev] = h
            mult[rows_prev] = mlt
        self.out.months["p_pay_true"] = [p_pay]
        self.out.months["p_cure_true"] = [p_cure]
        self.out.months["p_payment_month"] = [hz]
        self.out.months["operation_multiplier"] = [mult]
