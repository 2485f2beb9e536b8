"""The monthly simulation with an offer desk: plans, settlements and deferrals (issue 22).

:class:`OfferChunkSimulation` is :class:`recovery.simulate.engine.ChunkSimulation` plus the
offers of :mod:`recovery.simulate.offers`. Each month, after the collection operation has
acted and before the borrowers decide (:meth:`~OfferChunkSimulation.take_offers`):

1. the desk makes its offers, dated the first day of the month (so the account's state
   when the offer is made is the previous month end's), each checked against the
   lender's guardrails (``config.offers``, :func:`recovery.operations.offer_rules.offer_breaches`);
2. borrowers answer (answer, accept) with the draws of their own random stream;
3. an accepted **settlement** is paid within the month (the month's outcome becomes
   "settlement at the agreed amount" with the model's probability), an accepted **plan**
   or **deferral** is a new schedule version in force from the offer day (DPD back to 0:
   a re-age; the episode ends), counted from the version in force, so a schedule may be
   revised several times.

While a plan runs, the month's payment decision is the plan's
(:meth:`~OfferChunkSimulation.outcome_table`: the installment is paid with the
model's keep probability, nothing else happens), so the truth of ``p_pay_true`` and
``p_cure_true`` in later months follows the plan. At each month end the results are
read from the ledger: a plan is *broken* when an installment is unpaid at a month end
and *completed* when the account is paid off; a settlement is *completed* when paid in
the month; a deferral is completed when the first installment after it is paid.
The spontaneous settlements and restructures of the benchmark stay as they are.

An operation with a ``choose_offers(state, candidates)`` method decides the month's
offers itself from the accounts the desk considers (:meth:`~OfferChunkSimulation.candidates`;
:mod:`recovery.simulate.offer_policies`). The truth of each offer adds ``v_usual``, the
collections expected without it, re-simulated at the end of the chunk
(:mod:`recovery.simulate.continuation`).

Caveat: the ``p_pay_true`` / ``p_cure_true`` of the month end before an offer do not
include that offer (it is drawn after the month end); the offer's own truth is the
``truth_offers`` table (acceptance and completion for every term of the grid).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from recovery.operations.offer_rules import CONTEXT_COLUMNS, offer_breaches, stage_of
from recovery.simulate.behaviour import CHARGED_OFF, NONE, ONE, OPEN, PAID_OFF, SETTLE, SETTLED
from recovery.simulate.book import BIG, BlockStreams
from recovery.simulate.continuation import UsualWork, usual_value
from recovery.simulate.engine import ChunkSimulation
from recovery.simulate.offer_oracle import oracle_values
from recovery.simulate.offers import (
    DEFERRAL,
    KINDS,
    PLAN,
    SETTLEMENT,
    OfferParams,
    ResponseModel,
    deferral_completion,
    desk_terms,
    plan_completion,
)

__all__ = ["OfferChunkSimulation", "OFFER_STREAM"]

#: Random streams of the offer desk and the borrowers' answers (the benchmark's streams
#: are 0 and 1), and of the randomised cohort.
OFFER_STREAM, COHORT_STREAM = 22, 23
_EPOCH = np.datetime64("1970-01-01", "D")
_NO_DAY = np.int64(-(1 << 40))
_OUTCOMES = np.array(["no_answer", "declined", "accepted"], dtype=object)
_RESULTS = np.array([None, "completed", "broken"], dtype=object)
_RUNNING, _COMPLETED, _BROKEN = 0, 1, 2


def _plan_amount(kind: np.ndarray, discount: np.ndarray, ctx: dict) -> np.ndarray:
    """What the borrower agrees to pay (currency): the amount still due over a plan, the
    discounted balance of a settlement; nothing for a deferral."""
    return np.where(
        kind == PLAN,
        ctx["owed"],
        np.where(kind == SETTLEMENT, (1 - discount) * ctx["balance"], np.nan),
    )


@dataclass
class _Month:
    """The month's offers: accounts, terms, the borrowers' side and where they are logged."""

    jo: np.ndarray  # chunk positions
    kind: np.ndarray
    ctx: dict  # the account's state at the offer (offer_context's columns)
    discount: np.ndarray
    installments: np.ndarray
    months: np.ndarray
    probability: np.ndarray
    randomized: np.ndarray
    grid: np.ndarray  # (offers, terms) of each offer's grid, NaN off the grid
    allowed: np.ndarray  # the guardrails' verdict on each grid term
    reach: np.ndarray = None
    a_now: np.ndarray = None
    shock: np.ndarray = None
    blocked: np.ndarray = None
    outcome: np.ndarray = None
    rows: np.ndarray = None  # positions in the offer log


def _dates(days: np.ndarray) -> np.ndarray:
    return (_EPOCH + np.asarray(days, np.int64).astype("timedelta64[D]")).astype("datetime64[ns]")


class OfferChunkSimulation(ChunkSimulation):
    """A chunk of the book with an offer desk (see the module notes).

    Parameters
    ----------
    params, config, cal, seed, first_block, sizes, chunk_index, operation
        As :class:`~recovery.simulate.engine.ChunkSimulation`.
    offers : OfferParams
        The desk's rules and the borrowers' response.
    """

    def __init__(
        self, params, config, cal, seed, first_block, sizes, chunk_index, operation, offers
    ):
        super().__init__(params, config, cal, seed, first_block, sizes, chunk_index, operation)
        if max(offers.plan_grid) >= self.cum_due.shape[1]:
            from recovery.errors import ConfigError

            raise ConfigError("OfferParams.plan_grid: plans longer than the simulator's schedules")
        n = self.n
        self.op: OfferParams = offers
        self.model = ResponseModel(offers)
        self.offer_streams = BlockStreams(seed, first_block, sizes, stream=OFFER_STREAM)
        cohort = BlockStreams(seed, first_block, sizes, stream=COHORT_STREAM).uniform(1)[:, 0]
        self.in_randomized_share = cohort < offers.randomized_share
        self.running = np.zeros(n, np.int8)  # 0 none, 1 + KINDS index of the running offer
        self.running_row = np.full(n, -1, np.int64)  # its offer record
        self.running_until = np.full(n, -1, np.int64)  # month its result is due (deferral)
        self.plan_ratio = np.ones(n)  # plan installment / regular installment
        self.last_offer = np.full(n, -(1 << 20), np.int64)  # month of the last offer
        self.offer_seq = np.zeros(n, np.int64)
        keep = config.offers.reage_max_per_5_years + 1
        self.reage_days = np.full((n, max(keep, 1)), _NO_DAY)  # latest re-ages, newest first
        self.offer_log: dict[str, list] = {}
        self.truth_log: list[pd.DataFrame] = []
        self.versions: list[tuple] = []  # (pos, version, cum_due, cum_prin, term, base, day)
        # the truth's collections without an offer (v_usual): the operation's responses
        # by stage and archetype, and the offered accounts' state at the offer month
        self.usual = UsualWork(seed * 1_000_003 + chunk_index)
        self.captured: list[tuple[int, dict]] = []
        self.captured_rows: list[np.ndarray] = []
        self.shock_before: tuple[np.ndarray, ...] = ()

    # ------------------------------------------------------------------ behaviour
    def outcome_table(self, s: dict, h: np.ndarray, rh: np.ndarray | None):
        """The benchmark's month, except for accounts in a running plan: the installment
        due is paid with the keep probability, nothing else happens.

        Overriding the last step of :meth:`outcome_probabilities` keeps the simulated
        month and the truth (:mod:`recovery.simulate.exact_truth`, which averages the
        operation's response through this method) on the same plan.
        """
        prob, amount, view = super().outcome_table(s, h, rh)
        j, dead = s["j"], s["dead"]
        sel = (self.running[j] == 1 + PLAN) & (s["status"] == OPEN)
        if sel.any():
            js = j[sel]
            q = self.model.installment_kept(
                view["a_eff"][sel],
                self.book.promise_keep[js],
                self.plan_ratio[js],
                self.book.fraud[js] | dead[sel],
            )
            due = view["D"][sel] >= self.tol
            prob[sel] = 0.0
            prob[sel, ONE] = np.where(due, q, 0.0)
            prob[sel, NONE] = 1.0 - prob[sel, ONE]
            amount[sel, ONE] = view["D"][sel]
            view["h"][sel] = prob[sel, ONE]
        return prob, amount, view

    # ------------------------------------------------------------------ the month
    def step(self, m: int) -> None:
        """The benchmark's month (with offers), then the month's offer results."""
        if self.op.v_usual_draws > 0:  # the shock state at the start of the month
            self.shock_before = tuple(
                a.copy() for a in (self.shock, self.shock_perm, self.shock_type, self.shock_start)
            )
        super().step(m)
        self._resolve(m)

    def _capture(self, jo: np.ndarray, rows: np.ndarray, m: int) -> None:
        """Keep the offered accounts' state at the start of month ``m`` (for v_usual)."""
        if self.op.v_usual_draws < 1 or m >= self.cal.observed_months:
            return
        self.captured.append((m, self.month_start_state(jo)))
        self.captured_rows.append(np.asarray(rows).copy())

    def month_start_state(self, jo: np.ndarray) -> dict:
        """Every per-account array of the accounts ``jo`` as it was at the start of the
        month being simulated (what :func:`~recovery.simulate.continuation.usual_value`
        copies)."""
        state = {
            k: v[jo].copy()
            for k, v in vars(self).items()
            if isinstance(v, np.ndarray)
            and v.ndim >= 1
            and v.shape[0] == self.n
            and k not in ("paid_by_month", "in_randomized_share")
        }
        names = ("shock", "shock_perm", "shock_type", "shock_start")
        for k, v in zip(names, self.shock_before, strict=True):
            state[k] = v[jo].copy()
        state["pos"] = jo.copy()
        return state

    def usual_values(self) -> pd.DataFrame:
        """``v_usual`` and ``v_usual_se`` of every captured offer, by offer-log row
        (:func:`recovery.simulate.continuation.usual_value`)."""
        rules = self.cfg.offers
        value, error = usual_value(
            self,
            self.captured,
            self.usual,
            rules.value_horizon_months,
            rules.monthly_discount_rate,
            self.op.v_usual_draws,
            self.seed,
        )
        rows = np.concatenate(self.captured_rows) if self.captured_rows else np.zeros(0, int)
        return pd.DataFrame({"row": rows, "v_usual": value, "v_usual_se": error})

    def take_offers(self, j, m, state, response, prob, amount, promised_day):
        """Make the month's offers, draw the answers, apply the accepted ones."""
        day = int(self.cal.starts[m])
        u = self.offer_streams.uniform(6)[j]
        if self.op.v_usual_draws > 0:
            self.usual.record(m, state, response, day)
        proposed = response.offers
        chooser = getattr(self.operation, "choose_offers", None)
        if proposed is None and chooser is not None:  # an offer policy (offer_policies)
            candidates = self.candidates(j, m, day, state, u[:, 0])
            wants_truth = getattr(self.operation, "wants_truth", None)
            if wants_truth is not None and wants_truth(m) and len(candidates):
                candidates = oracle_values(self, j, m, day, state, candidates)
            proposed = chooser(state, candidates)
        if proposed is not None:  # the operation's own offers
            o, kind, given = self._proposed(j, m, state, proposed)
        else:
            kind, ok = self._candidates(j, m, state, u[:, 0])
            o, kind, given = np.flatnonzero(ok), kind[ok], None
        if len(o):
            prob, amount, promised_day = self._offer(
                j, o, kind, m, day, state, u[o], prob, amount, promised_day, given
            )
        return prob, amount, promised_day

    def candidates(self, j, m: int, day: int, state, u_rate) -> pd.DataFrame:
        """The accounts the desk considers this month (its own offer-rate draw and
        cooldown, no block), with what is known of them when the offer would be made:
        ``row`` (position in the month state), ``account_id``, ``decision_date``,
        ``desk_kind`` (what the default rule would offer) and the context of
        :data:`~recovery.operations.offer_rules.CONTEXT_COLUMNS` (``owed``: the amount
        still due, currency)."""
        kind, ok = self._candidates(j, m, state, u_rate)
        o = np.flatnonzero(ok)
        ctx = self._context(j, o, kind[o], m, day, state)
        frame = pd.DataFrame(
            {
                "row": o,
                "account_id": self.account_ids[j[o]],
                "decision_date": _dates(np.full(len(o), day)),
                "desk_kind": ctx.pop("kind"),
            }
        )
        ctx.pop("ratio_cap")
        for name, values in ctx.items():
            frame[name] = values
        for flag in ("fraud", "deceased", "in_dispute", "open_offer"):
            frame[flag] = False  # blocked accounts are not considered
        return frame

    def _blocked(self, j: np.ndarray, m: int) -> np.ndarray:
        """No offer: a running plan, a dispute, a known death, a confirmed fraud."""
        day = self.cal.starts[m]
        disputed, death_known, _ = self._known(j, m)
        known_dead = death_known | ((self.notice_day[j] >= 0) & (self.notice_day[j] <= day))
        fraud_known = self.book.fraud[j] & (self.co_day[j] >= 0) & (self.co_day[j] <= day)
        return (self.running[j] != 0) | disputed | known_dead | fraud_known

    def _proposed(self, j, m, state, proposed: pd.DataFrame):
        """An operation's offers: positions, kinds and terms of those the desk can make."""
        frame = proposed.drop_duplicates("row")  # one offer per account and month
        o = frame["row"].to_numpy(np.int64)
        kind = pd.Index(KINDS).get_indexer(frame["kind"])
        if (kind < 0).any():
            from recovery.errors import ConfigError

            raise ConfigError(f"OperationResponse.offers: kind must be one of {list(KINDS)}")
        ok = ~self._blocked(j[o], m) & (state.balance[o] * 100 >= self.tol)
        ok &= (state.status[o] == OPEN) | (kind == SETTLEMENT)

        def column(name, fill):
            values = frame[name] if name in frame else pd.Series(fill, index=frame.index)
            return pd.to_numeric(values, errors="coerce").fillna(fill).to_numpy()

        discount = column("discount_share", 0.0)
        if "settlement_amount" in frame:  # an amount asked instead of a discount
            asked = pd.to_numeric(frame["settlement_amount"], errors="coerce").to_numpy()
            balance = np.maximum(state.balance[o], 0.01)
            discount = np.where(np.isnan(asked), discount, np.maximum(1.0 - asked / balance, 0.0))
        given = {
            "discount": np.where(kind == SETTLEMENT, discount, 0.0),
            "installments": np.where(
                kind == PLAN, column("installments", 0), np.where(kind == SETTLEMENT, 1, 0)
            ).astype(np.int64),
            "months": np.where(kind == DEFERRAL, column("deferral_months", 0), 0).astype(np.int64),
            "probability": column("assignment_probability", 1.0),
            "randomized": column("randomized", 0.0).astype(bool),
        }
        return o[ok], kind[ok], {k: v[ok] for k, v in given.items()}

    def _known(self, j: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What the collectors know (the operation's ``account_flags``, when it has them):
        a dispute not yet closed, a known death, a hardship plan granted last month.

        Read after the operation's month: a dispute or death first known later in the
        month also stops the offer of its first day (the conservative side)."""
        n = len(j)
        flags = getattr(self.operation, "account_flags", None)
        if flags is None:
            return np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool)
        known = flags(self.chunk_index)
        day, previous = self.cal.starts[m], self.cal.starts[max(m - 1, 0)]
        disputed = known["dispute_until"][j] > day
        hardship = (known["hardship_from"][j] >= previous) & (known["hardship_from"][j] < day)
        return disputed, known["death_known"][j], hardship & (m > 0)

    def _candidates(self, j, m, state, u_rate):
        """Kind of offer each live account would get this month, and who gets one."""
        p = self.op
        status = state.status
        bucket = state.bucket
        is_open = status == OPEN
        claimed = self._known(j, m)[2]
        free = ~self._blocked(j, m) & (state.balance * 100 >= self.tol)
        hardship = claimed & is_open & (p.hardship_deferral_months > 0)
        settle = (is_open & (bucket >= p.settlement_from_bucket)) | (status == CHARGED_OFF)
        kind = np.where(
            hardship,
            DEFERRAL,
            np.where(
                is_open & np.isin(bucket, p.plan_buckets), PLAN, np.where(settle, SETTLEMENT, -1)
            ),
        )
        due = (m - self.last_offer[j] >= p.offer_cooldown_months) & (u_rate < p.offer_rate)
        return kind, free & (kind >= 0) & (hardship | due)

    def _context(self, j, o, kind, m, day, state) -> dict:
        """The account's state when the offer is made, as :data:`CONTEXT_COLUMNS` (arrays)."""
        jo = j[o]
        cum = self.cum_due[jo]
        amounts = np.diff(cum, axis=1).astype(float)
        k = np.arange(1, cum.shape[1])
        amounts[k[None, :] > self.vterm[jo][:, None]] = np.nan
        cv = self.paid[jo] - self.base_paid[jo]
        owed = np.maximum(cum[np.arange(len(jo)), self.vterm[jo]] - cv, 0)
        status = np.where(state.status[o] == OPEN, "open", "charged_off")
        paid_months = (self.paid_by_month[jo, :m] > 0).sum(axis=1)
        limit = self.cfg.offers
        return {
            "kind": np.asarray(KINDS, dtype=object)[kind],
            "stage": stage_of(status, state.dpd[o], self.cfg),
            "debt_age_days": np.where(state.debt_age_days[o] >= 0, state.debt_age_days[o], np.nan),
            "balance": np.rint(self.balance(jo, self.paid[jo])) / 100.0,
            "installment_amount": np.nanmedian(amounts, axis=1) / 100.0,
            "owed": owed / 100.0,
            "payments_before": paid_months,
            "reages_12_months": (self.reage_days[jo] >= day - 365).sum(axis=1),
            "reages_5_years": (self.reage_days[jo] >= day - 5 * 365 - 1).sum(axis=1),
            "ratio_cap": limit.max_installment_ratio,
        }

    def _terms(self, ctx: dict, kind: np.ndarray, randomized: np.ndarray, u: np.ndarray):
        """Terms (discount, installments, deferral months), assignment probability, and the
        guardrail verdict of every grid term (for the truth)."""
        p = self.op
        n = len(kind)
        discount, installments, months = desk_terms(
            p,
            kind,
            ctx["stage"],
            np.nan_to_num(ctx["debt_age_days"]),
            ctx["owed"],
            ctx["installment_amount"],
            ctx["ratio_cap"],
        )
        grid = self._grid(kind)
        allowed = self._allowed(ctx, kind, grid)
        probability = np.ones(n)
        count = allowed.sum(axis=1)
        # the randomised share: a term drawn uniformly among those the guardrails allow
        pick = randomized & (kind != DEFERRAL) & (count > 0)
        if pick.any():
            choice = np.minimum((u[pick] * count[pick]).astype(int), count[pick] - 1)
            col = np.argmax(np.cumsum(allowed[pick], axis=1) > choice[:, None], axis=1)
            chosen = grid[pick, col]
            is_plan = kind[pick] == PLAN
            discount[pick] = np.where(is_plan, 0.0, chosen)
            installments[pick] = np.where(is_plan, chosen, 1).astype(np.int64)
            probability[pick] = 1.0 / count[pick]
        own = self._breaches(ctx, kind, discount, installments, months)
        valid = ~own & ((kind != PLAN) | (installments > 0))
        return discount, installments, months, probability, pick, valid, grid, allowed

    def _grid(self, kind: np.ndarray) -> np.ndarray:
        """The grid of each offer: discounts (settlements) or plan lengths (plans)."""
        p = self.op
        width = max(len(p.discount_grid), len(p.plan_grid))
        d = np.full(width, np.nan)
        d[: len(p.discount_grid)] = p.discount_grid
        L = np.full(width, np.nan)
        L[: len(p.plan_grid)] = p.plan_grid
        return np.where(
            (kind == PLAN)[:, None],
            L[None, :],
            np.where((kind == SETTLEMENT)[:, None], d[None, :], np.nan),
        )

    def _breaches(self, ctx, kind, discount, installments, months) -> np.ndarray:
        frame = pd.DataFrame({c: ctx[c] for c in CONTEXT_COLUMNS if c in ctx})
        frame["discount_share"] = discount
        frame["installments"] = np.where(kind == DEFERRAL, np.nan, installments)
        frame["deferral_months"] = np.where(kind == DEFERRAL, months, np.nan)
        frame["plan_amount"] = _plan_amount(kind, discount, ctx)
        return offer_breaches(frame, self.cfg).to_numpy().any(axis=1)

    def _allowed(self, ctx, kind, grid) -> np.ndarray:
        """Guardrail verdict of every grid term of every offer (False off the grid)."""
        n, width = grid.shape
        rep = lambda a: np.repeat(np.asarray(a), width)  # noqa: E731
        flat = grid.reshape(-1)
        k = rep(kind)
        stacked = {c: rep(v) if np.ndim(v) else v for c, v in ctx.items()}
        discount = np.where(k == SETTLEMENT, np.nan_to_num(flat), 0.0)
        installments = np.where(k == PLAN, np.nan_to_num(flat), 1).astype(np.int64)
        bad = self._breaches(stacked, k, discount, installments, np.zeros(len(k), np.int64))
        return (~bad & ~np.isnan(flat)).reshape(n, width)

    def _offer(self, j, o, kind, m, day, state, u, prob, amount, promised_day, given=None):
        """Terms (the desk's, or ``given`` by the operation), answers and their effect for
        the offers ``o`` (positions in ``j``)."""
        b, model = self.book, self.model
        jo = j[o]
        ctx = self._context(j, o, kind, m, day, state)
        if given is None:
            randomized = self.in_randomized_share[jo]
            discount, installments, months, probability, randomized, valid, grid, allowed = (
                self._terms(ctx, kind, randomized, u[:, 1])
            )
        else:
            discount, installments, months = (
                given["discount"],
                given["installments"],
                given["months"],
            )
            probability, randomized = given["probability"], given["randomized"]
            grid = self._grid(kind)
            allowed = self._allowed(ctx, kind, grid)
            valid = ~self._breaches(ctx, kind, discount, installments, months)
            valid &= (kind != PLAN) | (installments > 0)
            valid &= (kind != DEFERRAL) | (months > 0)
        if not valid.any():
            return prob, amount, promised_day
        keep = np.flatnonzero(valid)
        o, u = o[keep], u[keep]
        f = _Month(
            jo=jo[keep],
            kind=kind[keep],
            ctx={c: (v[keep] if np.ndim(v) else v) for c, v in ctx.items()},
            discount=discount[keep],
            installments=installments[keep],
            months=months[keep],
            probability=probability[keep],
            randomized=randomized[keep],
            grid=grid[keep],
            allowed=allowed[keep],
        )
        jo, kind, ctx = f.jo, f.kind, f.ctx
        discount, installments, months = f.discount, f.installments, f.months
        # the borrower's answer
        self._borrower_side(f, m)
        a_now, blocked = f.a_now, f.blocked
        answered = u[:, 2] < f.reach
        inst = np.maximum(ctx["installment_amount"], 0.01)
        reservation = model.reservation_share(
            b.settlement_share[jo],
            b.willingness[jo],
            np.nan_to_num(ctx["debt_age_days"]),
            b.archetype[jo],
        )
        plan_ratio = ctx["owed"] / np.maximum(installments, 1) / inst
        p_plan = model.plan_acceptance(b.willingness[jo], f.shock, b.archetype[jo], plan_ratio)
        accept = np.where(
            kind == SETTLEMENT,
            model.accepts_settlement(reservation, discount, u[:, 3]),
            np.where(kind == PLAN, u[:, 3] < p_plan, u[:, 3] < model.deferral_acceptance(len(o))),
        )
        accept &= answered
        f.outcome = np.where(~answered, 0, np.where(accept, 2, 1))
        rows = f.rows = self._record(f, m, day)
        self._truth(f, m)
        self._capture(jo, rows, m)
        self.last_offer[jo] = m
        # accepted offers
        settle = accept & (kind == SETTLEMENT)
        if settle.any():
            s = o[settle]
            amt = np.maximum(np.rint((1 - discount[settle]) * ctx["balance"][settle] * 100), 1)
            pay = model.settlement_payment(
                a_now[settle],
                b.promise_keep[jo[settle]],
                amt / 100.0 / inst[settle],
                blocked[settle],
            )
            prob[s] = 0.0
            prob[s, SETTLE] = pay
            prob[s, NONE] = 1.0 - pay
            amount[s, SETTLE] = amt.astype(np.int64)
            self._start(jo[settle], rows[settle], SETTLEMENT, m)
        revise = accept & (kind != SETTLEMENT)
        if revise.any():
            r = o[revise]
            js = jo[revise]
            is_plan = kind[revise] == PLAN
            self._new_version(js, is_plan, installments[revise], months[revise], m, day)
            self.plan_ratio[js] = np.where(is_plan, plan_ratio[revise], 1.0)
            prob[r] = 0.0
            prob[r, NONE] = 1.0  # nothing is due under the new version this month
            reage = np.isin(ctx["stage"][revise], ("early", "late"))
            self.reage_days[js[reage]] = np.c_[
                np.full(reage.sum(), day), self.reage_days[js[reage], :-1]
            ]
            for is_kind, code in ((is_plan, PLAN), (~is_plan, DEFERRAL)):
                if is_kind.any():
                    self._start(
                        js[is_kind], rows[revise][is_kind], code, m + months[revise][is_kind]
                    )
        # an acceptance acknowledges the debt: the limitation clock restarts
        self.anchor[jo[accept]] = np.maximum(self.anchor[jo[accept]], day)
        return prob, amount, promised_day

    def _borrower_side(self, f: _Month, m: int) -> None:
        """Shock, current ability, blocked (fraud, dead) and P(answer) of the offers."""
        jo = f.jo
        f.shock = self.shock[jo]
        f.a_now = self.ability_now(jo, f.shock, m)
        f.blocked = self.book.fraud[jo] | self.dead[jo]
        # the borrower who asked for a deferral is reached; the dead answer nothing
        reach = np.where(f.kind == DEFERRAL, 1.0, self.book.reachability[jo])
        f.reach = np.where(self.dead[jo], 0.0, reach)

    def term_truth(self, j, o, kind, m: int, day: int, state) -> tuple[pd.DataFrame, dict]:
        """The truth of every grid term of an offer of ``kind`` to the accounts ``o``
        (positions in ``j``) this month, whether made or not — what the oracle policy
        values (:mod:`recovery.simulate.offer_oracle`).

        Returns
        -------
        (pandas.DataFrame, dict)
            The rows of ``truth_offers`` (``row`` = position in ``o``), and ``ctx`` (the
            offer context) with ``plan_path``: per plan row, P(the first k installments
            are paid), k = 1 … its length.
        """
        n = len(o)
        ctx = self._context(j, o, kind, m, day, state)
        grid = self._grid(kind)
        f = _Month(
            jo=j[o],
            kind=kind,
            ctx=ctx,
            discount=np.full(n, -1.0),
            installments=np.zeros(n, np.int64),
            months=np.zeros(n, np.int64),
            probability=np.ones(n),
            randomized=np.zeros(n, bool),
            grid=grid,
            allowed=self._allowed(ctx, kind, grid),
            rows=np.arange(n),
        )
        self._borrower_side(f, m)
        frame = self._truth_frame(f, m)
        ctx["plan_path"] = self.plan_path
        return frame, ctx

    def _start(self, pos, rows, kind, until) -> None:
        self.running[pos] = 1 + kind
        self.running_row[pos] = rows
        self.running_until[pos] = until

    def _new_version(self, js, is_plan, installments, months, m, day) -> None:
        """Schedule version of accepted plans (the amount still due over the plan's
        installments, the first due next month) and deferrals (the unpaid installments,
        the first due ``months`` after the offer month)."""
        width = self.cum_due.shape[1]
        cd = np.full((len(js), width), BIG, np.int64)
        cp = np.zeros((len(js), width), np.int64)
        cv = self.paid[js] - self.base_paid[js]
        T = self.vterm[js]
        owed = np.maximum(self.cum_due[js, T] - cv, 0)
        principal = np.rint(self.balance(js, self.paid[js])).astype(np.int64)
        k = np.arange(width)
        # plans: equal installments rounded up to the cent, the last one smaller
        L = np.where(is_plan, installments, 1).astype(np.int64)
        regular = -(-owed // L)
        plan_cd = np.minimum(regular[:, None] * k[None, :], owed[:, None])
        # deferrals: the unpaid installments as they were, moved later
        n_paid = self.n_paid(js, self.paid[js])
        src = np.minimum(n_paid[:, None] + k[None, :], T[:, None])
        def_cd = np.maximum(np.take_along_axis(self.cum_due[js], src, axis=1) - cv[:, None], 0)
        def_T = T - n_paid
        term = np.where(is_plan, L, def_T)
        cd = np.where(is_plan[:, None], plan_cd, def_cd)
        cd[:, 0] = 0
        beyond = k[None, :] > term[:, None]
        cd = np.where(beyond, BIG, cd)
        share = principal / np.maximum(owed, 1)
        cp = np.where(
            beyond, principal[:, None], np.rint(np.minimum(cd, owed[:, None]) * share[:, None])
        )
        cp[np.arange(len(js)), term] = principal
        cp = cp.astype(np.int64)
        base = np.where(is_plan, m, m + months - 1).astype(np.int64)
        self.cum_due[js] = cd
        self.cum_prin[js] = cp
        self.vbase[js] = base
        self.vterm[js] = term
        self.version[js] += 1
        self.set_regular(js)
        self.base_paid[js] = self.paid[js]
        self.episode_start[js] = -1  # a re-age: the episode ends
        self.versions.append(
            (js.copy(), self.version[js].copy(), cd.copy(), cp.copy(), term.copy(), base, day)
        )

    def _record(self, f: _Month, m: int, day: int) -> np.ndarray:
        """Offer rows (columns as arrays); returns their positions in the log."""
        log = self.offer_log
        start = sum(len(a) for a in log.get("pos", []))
        jo, kind, discount, outcome = f.jo, f.kind, f.discount, f.outcome
        self.offer_seq[jo] += 1
        n = len(jo)
        plan_amount = _plan_amount(kind, discount, f.ctx)
        for name, values in (
            ("pos", jo),
            ("seq", self.offer_seq[jo]),
            ("month", np.full(n, m)),
            ("day", np.full(n, day)),
            ("kind", kind),
            ("discount", np.where(kind == DEFERRAL, np.nan, discount)),
            ("installments", np.where(kind == DEFERRAL, 0, f.installments)),
            ("plan_amount", np.round(plan_amount, 2)),
            ("months", np.where(kind == DEFERRAL, f.months, 0)),
            ("outcome", outcome),
            ("version", np.where((outcome == 2) & (kind != SETTLEMENT), self.version[jo] + 1, 0)),
            ("result", np.zeros(n, np.int8)),
            ("result_day", np.full(n, -1)),
            ("randomized", f.randomized),
            ("probability", f.probability),
        ):
            log.setdefault(name, []).append(np.asarray(values))
        return start + np.arange(n)

    def _set_result(self, rows, result, days) -> None:
        """Write results into the offer log (rows are global positions)."""
        sizes = np.cumsum([0] + [len(a) for a in self.offer_log["pos"]])
        part = np.searchsorted(sizes, rows, side="right") - 1
        for p in np.unique(part):
            hit = part == p
            local = rows[hit] - sizes[p]
            self.offer_log["result"][p][local] = result[hit]
            self.offer_log["result_day"][p][local] = days[hit]

    def _resolve(self, m: int) -> None:
        """Results of the running offers at the end of month ``m``."""
        pos = np.flatnonzero(self.running > 0)
        if len(pos) == 0:
            return
        kind = self.running[pos] - 1
        status = self.status[pos]
        me = self.cal.starts[m + 1] - 1
        dpd = self.ledger_view(pos, self.paid[pos], m)["dpd"]
        paid_off = status == PAID_OFF
        late = (status == OPEN) & (dpd > 0)
        gone = ~np.isin(status, (OPEN, PAID_OFF))
        result = np.full(len(pos), _RUNNING)
        # settlements: paid in the month or broken
        s = kind == SETTLEMENT
        result[s] = np.where(status[s] == SETTLED, _COMPLETED, _BROKEN)
        p = kind == PLAN
        result[p] = np.where(
            paid_off[p], _COMPLETED, np.where(late[p] | gone[p], _BROKEN, _RUNNING)
        )
        d = kind == DEFERRAL
        first_due = m >= self.running_until[pos]
        result[d] = np.where(
            paid_off[d] | (first_due[d] & (status[d] == OPEN) & ~late[d]),
            _COMPLETED,
            np.where(late[d] | gone[d], _BROKEN, _RUNNING),
        )
        done = result != _RUNNING
        if not done.any():
            return
        pd_ = pos[done]
        on_day = np.where(
            (result[done] == _COMPLETED) & (kind[done] != DEFERRAL), self.last_pay_date[pd_], me
        )
        self._set_result(self.running_row[pd_], result[done].astype(np.int8), on_day)
        self.running[pd_] = 0
        self.running_row[pd_] = -1

    # ------------------------------------------------------------------ truth
    def _truth(self, f: _Month, m: int) -> None:
        """Acceptance and completion of every grid term of each offer (exact under the model)."""
        self.truth_log.append(self._truth_frame(f, m))

    def _truth_frame(self, f: _Month, m: int) -> pd.DataFrame:
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

    def _deferral_rows(self, f: _Month, d: np.ndarray, m: int) -> pd.DataFrame:
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

    # ------------------------------------------------------------------ tables
    def offer_tables(self) -> dict[str, pd.DataFrame]:
        """The chunk's ``offers`` rows, schedule versions and ``truth_offers`` (observed only)."""
        cal = self.cal
        data_end = cal.starts[cal.observed_months] - 1
        ids = self.account_ids
        log = {k: np.concatenate(v) for k, v in self.offer_log.items()} if self.offer_log else {}
        if not log:
            return {}
        seen = log["day"] <= data_end
        known = seen & (log["result_day"] <= data_end) & (log["result"] > 0)
        kind = log["kind"]
        offer_id = np.char.add(
            np.char.add(ids[log["pos"]].astype(str), "-O"), log["seq"].astype(str)
        )
        offers = pd.DataFrame(
            {
                "offer_id": offer_id.astype(object),
                "account_id": ids[log["pos"]],
                "offered_at": _dates(log["day"]),
                "kind": np.asarray(KINDS, dtype=object)[kind],
                "discount_share": log["discount"],
                "installments": pd.array(
                    np.where(kind == DEFERRAL, 0, log["installments"]), dtype="Int64"
                ),
                "plan_amount": log["plan_amount"],
                "deferral_months": pd.array(log["months"], dtype="Int64"),
                "outcome": _OUTCOMES[log["outcome"]],
                "outcome_date": _dates(log["day"]),
                "schedule_version": pd.array(log["version"], dtype="Int64"),
                "result": np.where(known, _RESULTS[log["result"]], None),
                "result_date": pd.to_datetime(
                    np.where(known, _dates(np.maximum(log["result_day"], 0)), np.datetime64("NaT"))
                ),
                "randomized": log["randomized"].astype(bool),
                "assignment_probability": log["probability"],
            }
        )
        for col in ("installments", "deferral_months", "schedule_version"):
            offers.loc[offers[col] == 0, col] = pd.NA
        offers = offers[seen].sort_values(["account_id", "offered_at"], kind="stable")
        truth = pd.concat(self.truth_log, ignore_index=True)
        truth = truth[log["day"][truth["row"].to_numpy()] <= data_end]
        truth.insert(0, "offer_id", offer_id[truth["row"].to_numpy()].astype(object))
        truth.insert(1, "account_id", ids[truth["pos"].to_numpy()])
        truth["kind"] = np.asarray(KINDS, dtype=object)[truth["kind"].to_numpy()]
        truth["p_accept"] = truth["p_answer"] * truth["p_accept_if_answered"]
        if self.op.v_usual_draws > 0:
            usual = self.usual_values().set_index("row")
            at = truth["row"].to_numpy()
            truth["v_usual"] = usual["v_usual"].reindex(at).to_numpy()
            truth["v_usual_se"] = usual["v_usual_se"].reindex(at).to_numpy()
        truth = truth.drop(columns=["row", "pos", "month"])
        return {
            "offers": offers.reset_index(drop=True),
            "schedule": self._version_rows(data_end),
            "truth_offers": truth.reset_index(drop=True),
        }

    def _version_rows(self, data_end: int) -> pd.DataFrame | None:
        """Schedule rows of the versions accepted offers created (in force by ``data_end``)."""
        frames = []
        for pos, version, cd, cp, term, base, day in self.versions:
            if day > data_end:
                continue
            T = term.astype(np.int64)
            rep = np.repeat(np.arange(len(pos)), T)
            k = np.arange(int(T.sum())) - np.repeat(np.cumsum(T) - T, T) + 1
            month = np.clip(base[rep] + k, 0, len(self.cal.starts) - 1)
            due = self.cal.starts[month] + self.book.due_day[pos[rep]].astype(np.int64) - 1
            frames.append(
                pd.DataFrame(
                    {
                        "account_id": self.account_ids[pos[rep]],
                        "installment_no": k.astype(np.int64),
                        "due_date": _dates(due),
                        "amount_due": (cd[rep, k] - cd[rep, k - 1]) / 100.0,
                        "principal_due": (cp[rep, k] - cp[rep, k - 1]) / 100.0,
                        "schedule_version": version[rep].astype(np.int64),
                        "effective_from": _dates(np.full(len(rep), day)),
                    }
                )
            )
        return pd.concat(frames, ignore_index=True) if frames else None
