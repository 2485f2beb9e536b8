"""How simulated borrowers behave: shocks, ability and the monthly payment decision.

Within a month each live account makes at most one payment decision (none, partial,
one installment, catch-up, payoff, settlement, restructure; after charge-off: none,
token, partial recovery, settlement) with probabilities that are closed-form
functions of the account's state at the start of the month
(:meth:`BorrowerBehaviour.outcome_probabilities`); the collection operation's odds
multiplier acts on the probability of paying. Life and business shocks lower the
borrower's ability; the downturn of the last observed months makes them more
frequent and lowers ability further.

:class:`BorrowerBehaviour` is a mixin of :class:`recovery.simulate.engine.ChunkSimulation`:
it reads the parameters ``p``, the config ``cfg``, the ``book`` and calendar ``cal``,
the ledger (:class:`recovery.simulate.ledger.ScheduleLedger`) and ``version``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

__all__ = [
    "OUTCOMES",
    "N_OUT",
    "REVERSIBLE",
    "NONE",
    "PARTIAL",
    "ONE",
    "CATCHUP",
    "PAYOFF",
    "SETTLE",
    "TOKEN",
    "RECOVERY",
    "RESTRUCTURE",
    "OPEN",
    "PAID_OFF",
    "CHARGED_OFF",
    "SETTLED",
    "DAYS_PER_MONTH",
    "odds",
    "BorrowerBehaviour",
]

#: Codes of the monthly payment decision (columns of :meth:`BorrowerBehaviour.outcome_probabilities`).
NONE, PARTIAL, ONE, CATCHUP, PAYOFF, SETTLE, TOKEN, RECOVERY, RESTRUCTURE = range(9)
OUTCOMES = (
    "none",
    "partial",
    "one_installment",
    "catch_up",
    "payoff",
    "settlement",
    "token",
    "recovery_partial",
    "restructure",
)
N_OUT = len(OUTCOMES)
#: Outcomes whose payment can be returned (reversed).
REVERSIBLE = np.array([0, 1, 1, 1, 1, 0, 1, 1, 0], bool)
#: Account status codes (:data:`recovery.simulate.hooks.STATUS_CODES`).
OPEN, PAID_OFF, CHARGED_OFF, SETTLED = 0, 1, 2, 3
#: Mean days in a month.
DAYS_PER_MONTH = 365.25 / 12


def odds(h: np.ndarray, k: np.ndarray) -> np.ndarray:
    """A probability ``h`` with its odds multiplied by ``k``: ``k h / (1 - h + k h)``.

    Examples
    --------
    >>> float(odds(np.array(0.5), np.array(3.0)))
    0.75
    """
    return k * h / (1.0 - h + k * h)


class BorrowerBehaviour:
    """Shocks, ability and payment-outcome probabilities (a mixin; see the module notes)."""

    def downturn(self, m: int) -> bool:
        """Month ``m`` is in the regime shift (the last ``downturn_months`` observed)."""
        p = self.p
        return p.downturn_months > 0 and m >= self.cal.observed_months - p.downturn_months

    def shock_start_prob(self, j: np.ndarray, m: int) -> np.ndarray:
        """Probability that a shock starts in month ``m`` for accounts ``j`` without one."""
        p = self.p
        rate = np.full(len(j), p.shock_rate_monthly)
        rate = rate * np.where(self.book.archetype[j] == 2, p.victim_shock_multiplier, 1.0)
        if self.downturn(m):
            rate = rate * p.downturn_shock_multiplier
        return np.minimum(rate, 1.0)

    def ability_now(self, j: np.ndarray, shock: np.ndarray, m: int) -> np.ndarray:
        """Current ability to pay: the borrower's, less a shock and the downturn."""
        a = self.book.ability[j] - self.p.shock_severity * shock
        if self.downturn(m):
            a = a - self.p.downturn_ability_shift
        return a

    def outcome_probabilities(
        self,
        j: np.ndarray,
        paid: np.ndarray,
        status: np.ndarray,
        shock: np.ndarray,
        m: int,
        multiplier: np.ndarray,
        dead: np.ndarray,
        debt_age_days: np.ndarray,
        anchor: np.ndarray,
    ):
        """Probabilities and amounts (cents) of the month's payment outcomes.

        The operation's odds ``multiplier`` acts on the probability of paying (open
        accounts) or of a recovery payment (charged off):
        :meth:`outcome_structure` then :meth:`outcome_table`.

        Returns
        -------
        prob : ndarray (n, 9)
            Rows sum to 1; columns follow :data:`OUTCOMES`.
        amount : ndarray (n, 9) of int64
            Amount paid under each outcome (0 for none and restructure).
        view : dict
            The ledger view at the start of the month (end of month ``m - 1``).
        """
        s = self.outcome_structure(j, paid, status, shock, m, dead, debt_age_days, anchor)
        h = odds(expit(s["logit"]), multiplier)
        rh = odds(expit(s["recovery_logit"]), multiplier) if s["co"].any() else None
        return self.outcome_table(s, h, rh)

    def outcome_structure(
        self,
        j: np.ndarray,
        paid: np.ndarray,
        status: np.ndarray,
        shock: np.ndarray,
        m: int,
        dead: np.ndarray,
        debt_age_days: np.ndarray,
        anchor: np.ndarray,
    ) -> dict:
        """Everything about the month's outcomes that the operation does not change.

        The payment probability is ``expit(logit)`` (open accounts) or
        ``expit(recovery_logit)`` (charged off) before the operation's odds multiplier;
        the outcomes split it in fixed shares, so the outcome probabilities are linear
        in it (:meth:`outcome_table`) — which lets the truth average over the
        operation's possible responses by averaging that one probability.

        Returns
        -------
        dict
            ``j`` and ``status`` as given, ``logit``, ``recovery_logit`` (NaN where not
            charged off), the masks and shares :meth:`outcome_table` combines,
            ``amount`` (n, 9) and the ledger ``view``.
        """
        p = self.p
        b = self.book
        nj = len(j)
        amount = np.zeros((nj, N_OUT), np.int64)
        view = self.ledger_view(j, paid, m - 1)
        a_eff = self.ability_now(j, shock, m)
        w = b.willingness[j]
        blocked = b.fraud[j] | dead
        cv = paid - self.base_paid[j]
        K_end = self.due_count(j, m)
        D = np.maximum(self.cum_due[j, K_end] - cv, 0)
        R = view["remaining"]
        bal = self.balance(j, paid)
        is_open = status == OPEN
        current = is_open & ~view["delinquent"]
        delinquent = is_open & view["delinquent"]
        # --- open accounts
        dpd = view["dpd"]
        bucket = np.clip(np.asarray(self.cfg.aging.bucket_index(dpd)), 1, None)
        by_bucket = np.asarray(p.pay_logit_by_bucket)
        logit = np.where(
            current,
            p.pay_logit_current,
            by_bucket[np.minimum(bucket - 1, len(by_bucket) - 1)],
        )
        logit = logit + p.ability_effect * a_eff + p.willingness_effect * w
        partial_share = expit(
            np.where(current, p.partial_logit_current, p.partial_logit) + p.partial_ability * a_eff
        )
        cu = expit(p.catch_up_logit + p.catch_up_ability * a_eff + p.catch_up_bucket * (bucket - 1))
        payoff = np.full(nj, p.prepay_rate_monthly)
        settle = np.where(delinquent & (bucket >= 4), p.settlement_rate_open, 0.0)
        rest = 1.0 - payoff - settle
        cu = np.where(current, 0.0, cu)
        restructure = np.where(
            delinquent & shock & (bucket <= 3) & (self.version[j] == 1) & ~blocked,
            p.restructure_rate,
            0.0,
        )
        inst = view["installment"]
        amount[:, PARTIAL] = np.maximum(
            1, np.rint(b.partial_share[j] * np.minimum(inst, D))
        ).astype(np.int64)
        amount[:, ONE] = np.where(current, D, np.minimum(inst, R))
        amount[:, CATCHUP] = D
        amount[:, PAYOFF] = R
        amount[:, SETTLE] = np.maximum(100, np.rint(b.settlement_share[j] * bal)).astype(np.int64)
        # --- charged-off accounts: recovery
        co = status == CHARGED_OFF
        rlogit = np.full(nj, np.nan)
        if co.any():
            age_m = np.maximum(debt_age_days, 0) / DAYS_PER_MONTH
            secured = b.has_guarantor[j] | b.has_collateral[j]
            expired = self.limitation_expired(anchor, m)
            rlogit = (
                p.recovery_logit
                - p.age_decay * (age_m - p.recovery_reference_age)
                + p.recovery_ability * a_eff
                + p.recovery_willingness * w
                + p.secured_recovery_bonus * secured
                + p.limitation_logit_penalty * expired
            )
            amount[:, TOKEN] = np.maximum(1, np.rint(p.token_payment_share * bal)).astype(np.int64)
            amount[:, RECOVERY] = np.maximum(1, np.rint(b.recovery_share[j] * bal)).astype(np.int64)
        amount = np.minimum(amount, R[:, None])
        view["bucket"] = bucket
        view["a_eff"] = a_eff
        view["D"] = D
        view["balance"] = bal
        return {
            "j": j,
            "status": status,
            "logit": logit,
            "recovery_logit": rlogit,
            "no_payment": blocked | (D < self.tol) | ~is_open,
            "dead": dead,
            "no_recovery": b.fraud[j] | (bal < self.tol) | (R < self.tol) | ~co,
            "co": co,
            "payoff": payoff,
            "settle": settle,
            "rest": rest,
            "catch_up": cu,
            "partial_share": partial_share,
            "restructure": restructure,
            "amount": amount,
            "view": view,
        }

    def outcome_table(self, s: dict, h: np.ndarray, rh: np.ndarray | None):
        """Outcome probabilities from :meth:`outcome_structure` and the payment probability.

        Parameters
        ----------
        s : dict
            From :meth:`outcome_structure` (its ``view`` gets ``h``, the probability of
            paying this month).
        h, rh : ndarray
            Probability of paying (open accounts) and of a recovery payment (charged
            off; None when no row is), before the masks of ``s``: the operation's odds
            multiplier applied — or, for the truth, averaged over its possible
            responses.

        Returns
        -------
        (prob, amount, view)
            As :meth:`outcome_probabilities`.
        """
        p = self.p
        prob = np.zeros((len(h), N_OUT))
        h = np.where(s["no_payment"], 0.0, h)
        keep = 1.0 - s["restructure"]
        rest, cu, partial_share = s["rest"], s["catch_up"], s["partial_share"]
        prob[:, PAYOFF] = h * s["payoff"] * keep
        prob[:, SETTLE] = h * s["settle"] * keep
        prob[:, CATCHUP] = h * rest * cu * keep
        prob[:, PARTIAL] = h * rest * (1 - cu) * partial_share * keep
        prob[:, ONE] = h * rest * (1 - cu) * (1 - partial_share) * keep
        prob[:, RESTRUCTURE] = s["restructure"]
        co = s["co"]
        if rh is not None and co.any():
            rh = np.where(s["dead"], rh * 0.3, rh)
            rh = np.where(s["no_recovery"], 0.0, rh)
            sp, tp = p.settlement_prob_recovery, p.token_payment_prob
            prob[:, SETTLE] = np.where(co, rh * sp, prob[:, SETTLE])
            prob[:, TOKEN] = rh * tp
            prob[:, RECOVERY] = rh * (1 - sp - tp)
        prob[:, NONE] = np.clip(1.0 - prob[:, 1:].sum(axis=1), 0.0, 1.0)
        view = s["view"]
        view["h"] = 1.0 - prob[:, NONE] - prob[:, RESTRUCTURE]
        return prob, s["amount"], view

    def limitation_expired(self, anchor: np.ndarray, m: int) -> np.ndarray:
        """The limitation period, from the clock's last restart ``anchor``, has run out."""
        limit_days = self.p.limitation_months * DAYS_PER_MONTH
        return (anchor >= 0) & (self.cal.starts[m] - anchor >= limit_days)
