"""The exact truth of the simulated book: ``p_pay_true`` and ``p_cure_true``.

The truth probabilities of DESIGN.md §3's labels follow exactly from the hazards of
:mod:`recovery.simulate.behaviour`:

- ``p_pay_true`` (month end m): sum over the shock state of month m+1 and over the
  outcomes whose amount reaches the minimum, times (1 - reversal rate).
- ``p_cure_true`` (month end m): the same enumeration over two months (shock state
  and outcome of m+1, averaged shock state and outcome of m+2), with the exact
  probability that a payment day falls before a charge-off day; DPD at m + 60 days
  equals DPD at the end of month m+2 because no due date or payment falls after day 28.

A month end's truth is computed in the next month; it averages over the operation's
possible responses of that month (its contacts are drawn after the month end), given
as a :class:`recovery.simulate.hooks.ResponseDistribution` — by default in closed form
(:func:`recovery.simulate.operation.expectation.expected_response`), or redraws of the
month, or the realised response (:meth:`ExactTruth.response_distribution`). The
operation acts only through the probability of paying, and every outcome probability
is linear in it (:meth:`~recovery.simulate.behaviour.BorrowerBehaviour.outcome_table`):
so the ledger and the outcome structure are computed once per account and branch, and
only that probability is averaged over the scenarios,
``E[expit(logit + log multiplier)]`` (times the chance that the promised day comes
before a charge-off, where that matters).

:class:`ExactTruth` is a mixin of :class:`recovery.simulate.engine.ChunkSimulation`:
besides the ledger and behaviour it reads ``operation``, ``prev_rows`` (the previous
month's rows of the live accounts) and ``month_rows`` (month-end rows so far), and
writes the truth columns of ``out.months``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

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
from recovery.simulate.hooks import MonthState, ResponseDistribution
from recovery.simulate.ledger import DAY_HI, DAY_LO

__all__ = ["ExactTruth", "expected_hazard"]


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

    def response_distribution(self, state: MonthState) -> ResponseDistribution | None:
        """The operation's possible responses of month m, for the truth of month end m-1.

        ``p_pay_true`` / ``p_cure_true`` of the previous month end may depend only on
        what is determined at that month end; the month's contacts, promises and agents
        are drawn afterwards. Called before the operation's month: its
        ``response_distribution(state)`` (closed form or redraws, its own state left
        untouched) or, for operations that only offer it, ``response_draws(state)``.
        None: the realised response is used (an operation that offers neither is taken
        to be deterministic given the state; also for hidden follow-up month ends,
        whose truth is not kept).
        """
        op = self.operation
        if self.prev_rows is None or len(state) == 0:
            return None
        if state.month_index - 1 >= self.cal.observed_months:
            return None  # the previous month end is hidden follow-up: its truth is not kept
        method = getattr(op, "response_distribution", None)
        if method is not None:
            return method(state)
        redraw = getattr(op, "response_draws", None)
        draws = [] if redraw is None else list(redraw(state))
        return ResponseDistribution.from_responses(draws, len(state)) if draws else None

    def truth_previous(
        self, j, m, status, paid0, view, mult, response, debt_age, shock_prev, perm_prev
    ):
        """p_pay_true / p_cure_true of month end m-1 for the live accounts ``j``.

        ``mult``: the realised odds multiplier (recorded, not used by the probabilities).
        ``response``: the operation's possible responses in month m
        (:class:`~recovery.simulate.hooks.ResponseDistribution`, aligned with ``j``);
        the truth is their average. For month m+1 (second month of ``p_cure_true``)
        the same distribution is assumed, drawn independently: the operation's state
        at m+1 is not re-simulated.
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
            pay_t, cure_t = self.expected_probabilities(
                j[t],
                m,
                status[t],
                paid0[t],
                debt_age[t],
                delinquent[t],
                shock_prev[t],
                perm_prev[t],
                response.subset(t),
            )
            p_pay[t] = pay_t
            p_cure[t] = np.where(delinquent[t], cure_t, np.nan)
        rows = self.prev_rows  # (accounts, row ids) of the previous month, aligned to j
        if not np.array_equal(rows[0], j):  # pragma: no cover - internal invariant
            raise RuntimeError("simulator bookkeeping: live accounts do not match month rows")
        self._pending_truth = (rows, p_pay, p_cure, view["h"], mult)

    def expected_probabilities(
        self, j, m, status, paid0, debt_age, delinquent, s0, s0_perm, response
    ):
        """Closed-form p_pay and two-month enumeration for p_cure (see module doc).

        ``s0`` / ``s0_perm``: shock state of month m-1 (before this month's draw).
        ``response``: the operation's possible responses in month m for these accounts
        (:class:`~recovery.simulate.hooks.ResponseDistribution`, positions 0 … n-1);
        its month m+1 is assumed to be an independent draw of the same.
        Branches are stacked into long arrays so each month costs one call of
        :meth:`outcome_structure`; the operation enters only through
        :func:`expected_hazard`.
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
        acc = two([np.arange(nj), np.arange(nj)])  # the account of each stacked row
        shock1 = np.repeat([False, True], nj)
        structure = self.outcome_structure(
            J,
            two([paid0, paid0]),
            two([status, status]),
            shock1,
            m,
            two([self.dead[j], self.dead[j]]),
            two([debt_age, debt_age]),
            two([self.anchor[j], self.anchor[j]]),
        )
        h, rh = _expected_hazards(structure, response, acc)
        prob, amount, _ = self.outcome_table(structure, h, rh)
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
        c0 = self.charge_off_day(j[d], paid0[d], m)
        # paying branches: the payment day must come before a charge-off this month; the
        # promised day (if any) is part of the response, so averaged with it
        h_before = np.zeros(2 * nj)
        h_before[rows] = expected_hazard(
            response,
            acc[rows],
            structure["logit"][rows],
            charge_off_dom=two([c0, c0]) - ms + 1,
        )
        prob_before, _, _ = self.outcome_table(structure, h_before, None)
        pr = prob[rows]
        pr_before = prob_before[rows]
        none_w = pr[:, NONE] + rho * (pr * REVERSIBLE[None, :]).sum(axis=1)
        wshock = w1[rows]
        keep_next = two([pstart2[d], p_keep[d]])  # P(shock in m+1 | branch's s1)
        # a branch's ledger after month m does not depend on the shock of m (amounts do
        # not): one second month per branch and account, for both shock states of m+1
        branch_paid, branch_w = [], []
        nd = len(d)
        for o in (NONE, PARTIAL, ONE, CATCHUP, PAYOFF):
            if o == NONE:
                weight, amt = none_w, np.zeros(nd, np.int64)
            else:
                weight, amt = pr_before[:, o] * (1 - rho), amount[d, o]
            paid1 = paid0[d] + amt
            survive = self.charge_off_day(j[d], paid1, m) > me
            wt = wshock * weight * two([survive, survive])
            if o == PAYOFF:
                p_cure[d] += wt[:nd] + wt[nd:]
                continue
            branch_paid.append(paid1)
            branch_w.append(wt)
        k = len(branch_paid)
        bj = np.tile(j[d], k)
        calm, shocked = self.cure_second_month(
            bj,
            m + 1,
            two(branch_paid),
            response,
            np.tile(d, k),
            np.tile(debt_age[d], k),
            self.anchor[bj],
        )
        for b in range(k):
            c0, c1 = calm[b * nd : (b + 1) * nd], shocked[b * nd : (b + 1) * nd]
            second = (1.0 - keep_next) * two([c0, c0]) + keep_next * two([c1, c1])
            wt = branch_w[b] * second
            p_cure[d] += wt[:nd] + wt[nd:]
        return p_pay, p_cure

    def cure_second_month(self, j, m, paid1, response, acc, debt_age, anchor):
        """P(DPD 0 at the end of month m, by payments), from the open state ``paid1``.

        ``response`` / ``acc``: the operation's possible responses and each row's
        account in it (month m is an independent draw of the same).

        Returns
        -------
        (ndarray, ndarray)
            Without and with a shock in month m (the probability is linear in the
            outcome probabilities, so a shock probability mixes the two).
        """
        p = self.p
        n = len(j)
        rho = p.reversal_rate
        delta = p.death_rate_monthly
        two = np.concatenate
        structure = self.outcome_structure(
            two([j, j]),
            two([paid1, paid1]),
            np.zeros(2 * n, np.int8),
            np.repeat([False, True], n),
            m,
            two([self.dead[j], self.dead[j]]),
            two([debt_age, debt_age]),
            two([anchor, anchor]),
        )
        h, _ = _expected_hazards(structure, response, two([acc, acc]))
        prob, amount, _ = self.outcome_table(structure, h, None)
        amount = amount[:n]  # amounts do not depend on the shock
        # a death at the end of the previous month stops payments and restructures
        alive = np.where(self.dead[j], 0.0, 1.0 - delta)
        ms = self.cal.starts[m]
        c = self.charge_off_day(j, paid1, m)
        p_before = np.clip((c - ms + 1 - DAY_LO + 1) / (DAY_HI - DAY_LO + 1), 0.0, 1.0)
        K_end = self.due_count(j, m)
        cured = {
            o: self.n_paid(j, paid1 + amount[:, o]) >= K_end
            for o in (PARTIAL, ONE, CATCHUP, PAYOFF)
        }
        still = self.n_paid(j, paid1) >= K_end
        out = []
        for half in (prob[:n], prob[n:]):
            pay_mass = 1.0 - half[:, NONE]
            none_w = (
                half[:, NONE]
                + (1 - alive) * pay_mass
                + alive * rho * (half * REVERSIBLE[None, :]).sum(axis=1)
            )
            cure = none_w * still
            for o, ok in cured.items():
                cure = cure + alive * half[:, o] * (1 - rho) * p_before * ok
            out.append(cure)
        return out[0], out[1]

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


def expected_hazard(
    response: ResponseDistribution,
    account: np.ndarray,
    logit: np.ndarray,
    charge_off_dom: np.ndarray | None = None,
) -> np.ndarray:
    """``E[expit(logit + log multiplier)]`` per row over its account's scenarios.

    Parameters
    ----------
    response : ResponseDistribution
        Scenarios per account (rows sorted by account).
    account : ndarray of int
        The account (in ``response``) of each row.
    logit : ndarray of float
        The row's payment logit before the operation.
    charge_off_dom : ndarray of int, optional
        Day of the month of the row's charge-off (beyond 28: none this month). Given,
        each scenario is weighted by the chance that its payment day — the promised
        day, or uniform on days 3…28 — comes no later.

    Returns
    -------
    ndarray
        One expected probability per row.

    Examples
    --------
    >>> from recovery.simulate.hooks import OperationResponse
    >>> r = [OperationResponse(np.array([1.0])), OperationResponse(np.array([3.0]))]
    >>> dist = ResponseDistribution.from_responses(r, 1)
    >>> expected_hazard(dist, np.array([0]), np.array([0.0])).tolist()  # (0.5 + 0.75) / 2
    [0.625]
    """
    starts = np.searchsorted(response.account, np.arange(int(account.max(initial=-1)) + 2))
    first, count = starts[account], starts[account + 1] - starts[account]
    row = np.repeat(np.arange(len(account)), count)
    offset = np.arange(len(row)) - np.repeat(np.cumsum(count) - count, count)
    node = np.repeat(first, count) + offset
    value = response.weight[node] * expit(logit[row] + response.log_multiplier[node])
    if charge_off_dom is not None:
        day = response.payment_day[node]
        lo = np.where(day > 0, day, DAY_LO)
        hi = np.where(day > 0, day, DAY_HI)
        value = value * np.clip((charge_off_dom[row] - lo + 1) / (hi - lo + 1), 0.0, 1.0)
    out = np.bincount(row, weights=value, minlength=len(account))
    none = count == 0  # an account without scenarios: the neutral response
    if none.any():
        out[none] = expit(logit[none])
        if charge_off_dom is not None:
            dom = charge_off_dom[none]
            out[none] *= np.clip((dom - DAY_LO + 1) / (DAY_HI - DAY_LO + 1), 0.0, 1.0)
    return out


def _expected_hazards(structure: dict, response: ResponseDistribution, account: np.ndarray):
    """Expected payment and recovery probabilities of the stacked rows of a structure."""
    pays = ~structure["no_payment"]
    h = np.zeros(len(account))
    h[pays] = expected_hazard(response, account[pays], structure["logit"][pays])
    co = structure["co"] & ~structure["no_recovery"]
    rh = None
    if structure["co"].any():
        rh = np.zeros(len(account))
        rh[co] = expected_hazard(response, account[co], structure["recovery_logit"][co])
    return h, rh
