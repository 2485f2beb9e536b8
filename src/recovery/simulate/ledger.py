"""The installment ledger of a simulated chunk, in integer cents.

The ledger follows ``recovery.timeline.aging``'s definitions (DESIGN.md §3): payments are
allocated oldest installment first, an installment counts as paid when less than
``config.aging.tolerance`` of it is unpaid, DPD is days since the due date of the
oldest unpaid installment, and charge-off happens on the first day DPD reaches
``config.aging.charge_off_dpd``. Due dates and payments fall on days
:data:`DAY_LO` … :data:`DAY_HI` of a month. A restructure starts a new schedule
version; the ledger counts installments of the version in force.

:class:`ScheduleLedger` is a mixin of :class:`recovery.simulate.engine.ChunkSimulation`:
it reads the chunk's schedule arrays (``cum_due``, ``cum_prin``, ``vbase``, ``vterm``,
``base_paid``, ``inst``, ``regular``), ``tol`` and ``co_dpd`` (cents, days), and the
book's due days and the calendar (``book``, ``cal``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["INF_DAY", "DAY_LO", "DAY_HI", "hook_day", "ScheduleLedger"]

#: A day after every simulated one (no due date, no charge-off).
INF_DAY = np.int64(1) << 40
#: Due dates and payments fall on these days of a month (first, last).
DAY_LO, DAY_HI = 3, 28


def hook_day(payment_day: np.ndarray | None, n: int) -> np.ndarray:
    """Promised payment day of month (3…28) of an operation's response; 0 = none.

    Parameters
    ----------
    payment_day : array-like of int, optional
        ``OperationResponse.payment_day`` (None: no preference).
    n : int
        Accounts of the month state.

    Returns
    -------
    ndarray of int64

    Examples
    --------
    >>> hook_day(np.array([0, 1, 15, 31]), 4).tolist()
    [0, 3, 15, 28]
    """
    if payment_day is None:
        return np.zeros(n, np.int64)
    day = np.clip(np.asarray(payment_day, np.int64), 0, DAY_HI)
    return np.where(day > 0, np.maximum(day, DAY_LO), 0)


class ScheduleLedger:
    """Installment arithmetic of a chunk's schedules (a mixin; see the module notes)."""

    def n_paid(self, j: np.ndarray, paid: np.ndarray) -> np.ndarray:
        """Installments fully paid (within tolerance) of the version in force.

        Schedules whose installments are all equal but the last (almost all) use
        integer arithmetic; the others count over the cumulative schedule.
        """
        cv = paid - self.base_paid[j]
        A = self.inst[j]
        T = self.vterm[j]
        # k * A - cv < tol  <=>  k <= (cv + tol - 1) // A   (integers, A > 0)
        n = np.clip((cv + self.tol - 1) // A, 0, T - 1)
        last = (self.cum_due[j, T] - cv) < self.tol
        n = np.where((n == T - 1) & last, T, n)
        irregular = ~self.regular[j]
        if irregular.any():
            ji = j[irregular]
            n[irregular] = ((self.cum_due[ji, 1:] - cv[irregular, None]) < self.tol).sum(axis=1)
        return n

    def _n_paid_by_count(self, j: np.ndarray, paid: np.ndarray) -> np.ndarray:
        """Reference implementation of :meth:`n_paid` (for tests)."""
        cv = paid - self.base_paid[j]
        return ((self.cum_due[j, 1:] - cv[:, None]) < self.tol).sum(axis=1)

    def set_regular(self, j: np.ndarray) -> None:
        """Record which schedules are k x installment up to the last installment.

        Parameters
        ----------
        j : ndarray of int
            Accounts (positions in the chunk) whose schedule was (re)set.
        """
        self.inst[j] = self.cum_due[j, 1]
        k = np.arange(self.cum_due.shape[1])
        T = self.vterm[j]
        expected = self.inst[j, None] * k[None, :]
        inside = k[None, :] < T[:, None]
        ok = np.where(inside, self.cum_due[j] == expected, True).all(axis=1)
        self.regular[j] = ok & (self.inst[j] > 0)

    def due_count(self, j: np.ndarray, m: int, day: np.ndarray | None = None) -> np.ndarray:
        """Installments due by the end of month ``m`` (or due strictly before day ``day``)."""
        k = m - self.vbase[j]
        if day is not None:
            k = k - (day <= self.book.due_day[j])
        return np.clip(k, 0, self.vterm[j])

    def due_date(self, j: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Due date (days since epoch) of installment ``k`` (INF beyond the term)."""
        valid = (k >= 1) & (k <= self.vterm[j])
        month = np.clip(self.vbase[j] + k, 0, len(self.cal.starts) - 1)
        day = self.cal.starts[month] + self.book.due_day[j].astype(np.int64) - 1
        return np.where(valid, day, INF_DAY)

    def amount_due_to(self, j: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Cumulative amount (cents) due by installment ``k`` of the version in force."""
        return self.cum_due[j, k]

    def balance(self, j: np.ndarray, paid: np.ndarray) -> np.ndarray:
        """Outstanding principal (cents): principal minus principal covered oldest-first."""
        cv = paid - self.base_paid[j]
        n = self.n_paid(j, paid)
        T = self.vterm[j]
        nxt = np.minimum(n + 1, T)
        cum_d0 = self.cum_due[j, np.minimum(n, T)]
        cum_d1 = self.cum_due[j, nxt]
        cum_p0 = self.cum_prin[j, np.minimum(n, T)]
        cum_p1 = self.cum_prin[j, nxt]
        inst = np.maximum(cum_d1 - cum_d0, 1)
        frac = np.clip((cv - cum_d0) / inst, 0.0, 1.0)
        frac = np.where(n >= T, 0.0, frac)
        covered = cum_p0 + frac * (cum_p1 - cum_p0)
        total = self.cum_prin[j, T]
        return np.maximum(total - covered, 0.0)

    def ledger_view(self, j: np.ndarray, paid: np.ndarray, m: int) -> dict:
        """Month-end ledger quantities of month ``m`` for accounts ``j`` given ``paid``."""
        n = self.n_paid(j, paid)
        K = self.due_count(j, m)
        T = self.vterm[j]
        cv = paid - self.base_paid[j]
        overdue = np.maximum(self.cum_due[j, K] - cv, 0)
        end_day = self.cal.starts[m + 1] - 1
        oldest = self.due_date(j, n + 1)
        delinquent = n < K
        dpd = np.where(delinquent, end_day - oldest, 0)
        remaining = np.maximum(self.cum_due[j, T] - cv, 0)
        inst = self.cum_due[j, 1]
        oldest_amount = np.where(
            n < T, self.cum_due[j, np.minimum(n + 1, T)] - self.cum_due[j, np.minimum(n, T)], 0
        )
        return {
            "n": n,
            "K": K,
            "overdue": overdue,
            "dpd": dpd,
            "oldest": oldest,
            "delinquent": delinquent,
            "remaining": remaining,
            "installment": inst,
            "oldest_amount": oldest_amount,
        }

    def charge_off_day(self, j, paid, m, view=None):
        """Day DPD would reach the charge-off threshold if nothing were paid."""
        n = self.n_paid(j, paid)
        oldest = self.due_date(j, n + 1)
        K_end = self.due_count(j, m)
        return np.where(n < K_end, oldest + self.co_dpd, INF_DAY)

    def apply_payment(self, j, paid, amount, day_abs, m):
        """Ledger after a (non-reversed) payment: new paid and charge-off day if any.

        Returns (paid_after, co_day) where co_day is INF when no charge-off this month.
        """
        end_day = self.cal.starts[m + 1] - 1
        c0 = self.charge_off_day(j, paid, m)
        before = c0 < day_abs
        paid1 = paid + amount
        c1 = self.charge_off_day(j, paid1, m)
        co = np.where(before, c0, np.where(c1 <= end_day, c1, INF_DAY))
        return paid1, co
