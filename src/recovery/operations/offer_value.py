"""What an offer is worth against collecting as usual (DESIGN.md §3, offer value).

**Collecting as usual.** :class:`UsualCollections` learns from the ``snapshots`` table,
by segment (stage × debt-age band), how much of the balance is collected in each of
the H months after a month end (``r_k``: collections in month *k* over the balance at
the month end, pooled over the account-months observed *k* months later — the
liquidation-rate method of the ERC, applied to open delinquent debt too), and the
segment's share of accounts paying within the next month. An account's **V_usual** is
its balance × the segment's discounted curve ``Σ_k r_k δ^(k-1)`` × its own propensity to
pay over the segment's (``p_pay / p̄``; without a score, 1), at most the balance. A
30-day ``p_pay`` ranks accounts within a segment; the curve carries it to H months.

**The offer.** :func:`offer_value` follows DESIGN.md §3::

    value = P(accept) · [Σ_t P(installment t paid) · cash_t · δ^(t-1)
                         + Σ_t P(break at t) · V_usual(remaining at t)]
            + P(decline) · V_usual − cost − V_usual

with ``δ = 1 / (1 + monthly_discount_rate)`` and months t = 1 … H counted from the
offer's month (whose cash is not discounted, as in the simulator's truth). An accepted offer is
completed with probability ``c`` (the response model's); each installment is kept with
``q = c^(1/n)`` so that all ``n`` are with ``c``, and the first missed one breaks the
offer. After a break the whole balance less what was paid is owed again (the discount
is lost) and is collected as usual over the months left. Cash per kind:

- settlement: ``(1 - discount) × balance`` in ``installments`` (default 1) monthly parts,
  the first in the offer's month;
- payment plan: ``plan_amount`` (else the discounted balance) in ``installments`` parts,
  the first due the month after the offer;
- deferral: nothing for ``deferral_months``; then, when completed, the account pays
  like a current account (the curve of current accounts), else as usual.

Examples
--------
>>> import pandas as pd
>>> o = pd.DataFrame({"kind": ["settlement"], "discount_share": [0.5],
...     "installments": [1], "balance": [1000.0], "installment_amount": [100.0]})
>>> v = offer_value(o, p_accept=[0.5], p_complete=[1.0], v_usual=[100.0],
...                 usual_share=[[0.0, 0.1]], horizon_months=1, monthly_discount_rate=0.0)
>>> v[["expected_cash", "value"]].round(2).values.tolist()    # 0.5·500 + 0.5·100 − 100
[[500.0, 200.0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from recovery.config import Config
from recovery.errors import DataError
from recovery.operations.offer_rules import stage_of
from recovery.timeline.days import DAYS_PER_MONTH

__all__ = ["UsualCollections", "usual_segment", "offer_value", "discount_factors"]


def discount_factors(horizon_months: int, monthly_discount_rate: float) -> np.ndarray:
    """``δ^t`` for t = 0 … H.

    Examples
    --------
    >>> discount_factors(2, 0.25).tolist()
    [1.0, 0.8, 0.64]
    """
    return (1.0 + monthly_discount_rate) ** -np.arange(horizon_months + 1, dtype=float)


def usual_segment(stage: Any, debt_age_days: Any, config: Config | None = None) -> np.ndarray:
    """Segment of each account for collecting as usual: ``stage`` and debt-age band.

    The bands are ``config.analytics.age_bands_months`` (default 0–3, 3–6, 6–12, 12–24,
    24–36, 36+ months).

    Examples
    --------
    >>> usual_segment(["early", "charged_off"], [45, 800]).tolist()
    ['early 0-3m', 'charged_off 24-36m']
    """
    config = config or Config()
    edges = np.asarray(config.analytics.age_bands_months, dtype=float)
    months = np.nan_to_num(np.asarray(debt_age_days, dtype=float), nan=0.0) / DAYS_PER_MONTH
    band = np.clip(np.searchsorted(edges, months, side="right") - 1, 0, len(edges) - 1)
    names = [f"{int(lo)}-{int(hi)}m" for lo, hi in zip(edges[:-1], edges[1:], strict=True)] + [
        f"{int(edges[-1])}m+"
    ]
    stage = np.asarray(pd.Series(stage).astype(str), dtype=object)
    return (stage + " " + np.asarray(names, dtype=object)[band]).astype(object)


def _with_payer(segment: np.ndarray, paid: pd.Series) -> np.ndarray:
    """Segments split by a payment in the month before (``paid``: an amount)."""
    flag = np.where(paid.fillna(0.0).to_numpy(dtype=float) > 0, " paid", " unpaid")
    return (np.asarray(segment, dtype=object) + flag.astype(object)).astype(object)


class UsualCollections(BaseEstimator):
    """Collections expected without an offer: curves by segment from the snapshots.

    Parameters
    ----------
    config : Config, optional
        ``offers.horizon_months`` (H), ``offers.monthly_discount_rate``, stages and
        debt-age bands.
    min_rows : int
        Fewest account-months a segment needs; smaller segments use their stage's curve.
    by_state : bool
        Finer segments from the account's own state: open delinquent accounts by DPD
        bucket (M1 … M6, from ``dpd``, else the debt age) instead of debt-age band, and
        every segment split by whether the account paid in the month before (a month
        end's ``paid_in_month``; an account's ``paid_last_month``, currency). An
        account without ``paid_last_month`` gets its segment's curve over both; a split
        with fewer than ``min_rows`` account-months, its segment's. The accounts a desk
        considers for an offer are rarely like their stage on average (M2–M3 accounts
        that have stopped paying, not the M1 accounts that pay next week): pooled, the
        early stage's curve is theirs times 1.5–2.5. Default False (the stage × age-band
        segments alone).

    Attributes
    ----------
    curves_ : pandas.DataFrame
        ``segment, month, rate, rows``: collections in month *k* per unit of balance.
    paying_share_ : pandas.Series
        Share of a segment's account-months with a payment in the next month (p̄).
    discounted_ : pandas.Series
        ``Σ_k r_k δ^(k-1)`` per segment (V_usual per unit of balance at p_pay = p̄).

    Examples
    --------
    >>> snaps = pd.DataFrame({"account_id": ["A"] * 3 + ["B"] * 3,
    ...     "month_end": list(pd.date_range("2024-01-31", periods=3, freq="ME")) * 2,
    ...     "dpd": [200, 230, 260] * 2, "status": ["charged_off"] * 6,
    ...     "balance": [100.0] * 6, "paid_in_month": [0, 10, 0, 0, 0, 0.0]})
    >>> u = UsualCollections(Config.from_dict({"offers": {"horizon_months": 2,
    ...     "monthly_discount_rate": 0.0}}), min_rows=1).fit(snaps)
    >>> u.curves_["rate"].round(3).tolist()   # month 1: (10 + 0 + 0 + 0) / 400; month 2: 0 / 200
    [0.025, 0.0]
    """

    def __init__(
        self, config: Config | None = None, min_rows: int = 200, by_state: bool = False
    ) -> None:
        self.config = config
        self.min_rows = min_rows
        self.by_state = by_state

    def fit(
        self, snapshots: pd.DataFrame, y=None, offers: pd.DataFrame | None = None
    ) -> UsualCollections:
        """Learn the curves from ``snapshots`` (``account_id, month_end, dpd, status,
        balance, paid_in_month``). Debt age is read from DPD (days).

        ``offers`` (the ``offers`` table: ``account_id, offered_at, outcome``), when
        given, removes the lender's offers from "as usual": an account's months from
        the month of its first accepted offer on are not observed (what a settlement or
        a plan brings is the offer's, not the usual work's), so a month-``k`` rate
        counts only accounts still without an accepted offer ``k`` months later.
        Without it, the curves include whatever offers were made and accepted — too
        high a V_usual where many were.
        """
        config = self.config or Config()
        needed = ["account_id", "month_end", "dpd", "status", "balance", "paid_in_month"]
        missing = [c for c in needed if c not in snapshots]
        if missing:
            raise DataError(
                f"snapshots: column(s) {missing} missing (rule: collecting as usual needs "
                "balances and monthly collections)"
            )
        horizon = config.offers.horizon_months
        s = snapshots[needed].copy()
        me = pd.to_datetime(s["month_end"])
        s["_m"] = (me.dt.year * 12 + me.dt.month - 1).to_numpy(np.int64)
        code = pd.factorize(s["account_id"].astype(str))[0].astype(np.int64)
        span = int(s["_m"].max() - s["_m"].min() + horizon + 2)
        key = code * span + (s["_m"].to_numpy() - int(s["_m"].min()))
        order = np.argsort(key, kind="stable")
        keys = key[order]
        paid = pd.to_numeric(s["paid_in_month"], errors="coerce").fillna(0.0).to_numpy()[order]
        balance = np.maximum(pd.to_numeric(s["balance"], errors="coerce").fillna(0.0), 0.0)
        stage = stage_of(s["status"], s["dpd"], config)
        delinquent = np.isin(stage, ("current", "early", "late", "charged_off")) & (
            balance.to_numpy() > 0
        )
        dpd = pd.to_numeric(s["dpd"], errors="coerce")
        seg = self._base_segments(stage, dpd.to_numpy(), dpd.to_numpy(), config)
        sub = seg
        if self.by_state:  # paid in the month ending: the account's own recent history
            sub = _with_payer(seg, pd.to_numeric(s["paid_in_month"], errors="coerce"))
        last = int(s["_m"].max())
        censor = self._censor_month(s, offers)
        rows = []
        for k in range(1, horizon + 1):
            observed = delinquent & (s["_m"].to_numpy() + k <= last)
            observed &= s["_m"].to_numpy() + k < censor
            at = np.searchsorted(keys, key + k)
            hit = (at < len(keys)) & (keys[np.minimum(at, len(keys) - 1)] == key + k)
            future = np.where(hit, paid[np.minimum(at, len(keys) - 1)], 0.0)
            frame = pd.DataFrame(
                {
                    "segment": sub[observed],
                    "base": seg[observed],
                    "stage": stage[observed],
                    "paid": future[observed],
                    "balance": balance.to_numpy()[observed],
                    "paying": future[observed] > 0,
                }
            )
            rows.append(frame.assign(month=k))
        cells = pd.concat(rows, ignore_index=True)
        self.curves_ = self._curves(cells)
        first = cells[cells["month"] == 1]
        self.paying_share_ = first.groupby("segment")["paying"].mean()
        if self.by_state:  # the segments over both splits, for accounts without the flag
            whole = cells.assign(segment=cells["base"])
            self.curves_ = pd.concat([self.curves_, self._curves(whole)], ignore_index=True)
            paying = whole[whole["month"] == 1].groupby("segment")["paying"].mean()
            self.paying_share_ = pd.concat([self.paying_share_, paying])
        delta = discount_factors(horizon, config.offers.monthly_discount_rate)
        c = self.curves_.assign(d=self.curves_["rate"] * delta[self.curves_["month"] - 1])
        self.discounted_ = c.groupby("segment")["d"].sum()
        self.horizon_ = horizon
        return self

    @staticmethod
    def _censor_month(s: pd.DataFrame, offers: pd.DataFrame | None) -> np.ndarray:
        """Per snapshot row, the month index of the account's first accepted offer
        (a large number when none, or without ``offers``)."""
        never = np.iinfo(np.int64).max // 4
        if offers is None or not len(offers):
            return np.full(len(s), never, dtype=np.int64)
        missing = [c for c in ("account_id", "offered_at", "outcome") if c not in offers]
        if missing:
            raise DataError(
                f"offers: column(s) {missing} missing (rule: collecting as usual leaves out "
                "accepted offers by account and date)"
            )
        taken = offers[offers["outcome"].astype(object).eq("accepted")]
        day = pd.to_datetime(taken["offered_at"])
        month = pd.Series(
            (day.dt.year * 12 + day.dt.month - 1).to_numpy(np.int64),
            index=taken["account_id"].astype(str).to_numpy(),
        )
        first = month.groupby(level=0).min()
        at = s["account_id"].astype(str).map(first)
        return at.fillna(never).to_numpy(np.int64)

    def _curves(self, cells: pd.DataFrame) -> pd.DataFrame:
        """Pooled rates by segment and month, a small segment taking its stage's."""
        sums = {"paid": ("paid", "sum"), "balance": ("balance", "sum")}
        if "base" not in cells:
            cells = cells.assign(base=cells["segment"])
        by_seg = cells.groupby(["segment", "month"]).agg(
            **sums, rows=("paid", "size"), base=("base", "first"), stage=("stage", "first")
        )
        by_seg = by_seg.reset_index()
        # a small segment takes its base segment's curve (the split pooled), and a small
        # base segment its stage's
        by_base = cells.groupby(["base", "month"]).agg(**sums, base_rows=("paid", "size"))
        by_stage = cells.groupby(["stage", "month"]).agg(**sums)
        base = by_base.reset_index().rename(columns={"paid": "bp", "balance": "bb"})
        pooled = by_stage.reset_index().rename(columns={"paid": "sp", "balance": "sb"})
        by_seg = by_seg.merge(base, on=["base", "month"], how="left")
        by_seg = by_seg.merge(pooled, on=["stage", "month"], how="left")
        small = by_seg.groupby("segment")["rows"].transform("first") < self.min_rows
        small_base = by_seg.groupby("segment")["base_rows"].transform("first") < self.min_rows
        num = np.where(small_base, by_seg["sp"], np.where(small, by_seg["bp"], by_seg["paid"]))
        den = np.where(small_base, by_seg["sb"], np.where(small, by_seg["bb"], by_seg["balance"]))
        by_seg["rate"] = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
        return by_seg[["segment", "month", "rate", "rows"]]

    def _check(self) -> None:
        if not hasattr(self, "curves_"):
            raise DataError("collecting as usual: call fit on the snapshots first")

    def scale(self, frame: pd.DataFrame) -> np.ndarray:
        """Per account: ``p_pay / p̄`` of its segment (1 without ``p_pay``), capped so that
        V_usual is at most the balance."""
        self._check()
        seg = self._segments(frame)
        base = pd.Series(seg).map(self.paying_share_).to_numpy(dtype=float)
        disc = pd.Series(seg).map(self.discounted_).fillna(0.0).to_numpy(dtype=float)
        if "p_pay" in frame:
            p = pd.to_numeric(frame["p_pay"], errors="coerce").to_numpy(dtype=float)
            ratio = np.where(base > 0, p / np.where(base > 0, base, 1.0), 1.0)
            ratio = np.where(np.isnan(ratio), 1.0, ratio)
        else:
            ratio = np.ones(len(frame))
        cap = np.where(disc > 0, 1.0 / np.where(disc > 0, disc, 1.0), 1.0)
        return np.minimum(ratio, cap)

    def _base_segments(self, stage, debt_age_days, dpd, config: Config) -> np.ndarray:
        """Stage × debt-age band; with ``by_state``, open delinquent accounts by DPD bucket."""
        seg = usual_segment(stage, debt_age_days, config)
        if not self.by_state:
            return seg
        stage = np.asarray(pd.Series(stage).astype(str), dtype=object)
        dpd = np.nan_to_num(np.asarray(dpd, dtype=float), nan=0.0)
        names = np.asarray(config.aging.bucket_names, dtype=object)
        bucket = names[np.clip(config.aging.bucket_index(dpd), 0, len(names) - 1)]
        open_late = np.isin(stage, ("early", "late"))
        return np.where(open_late, stage + " " + bucket, seg).astype(object)

    def _segments(self, frame: pd.DataFrame) -> np.ndarray:
        config = self.config or Config()
        missing = [c for c in ("stage", "debt_age_days", "balance") if c not in frame]
        if missing:
            raise DataError(f"accounts: column(s) {missing} missing (rule: V_usual needs them)")
        age = pd.to_numeric(frame["debt_age_days"], errors="coerce").to_numpy()
        dpd = pd.to_numeric(frame["dpd"], errors="coerce").to_numpy() if "dpd" in frame else age
        seg = self._base_segments(frame["stage"], age, np.where(np.isnan(dpd), age, dpd), config)
        if not self.by_state or "paid_last_month" not in frame:
            return seg
        paid = pd.to_numeric(frame["paid_last_month"], errors="coerce")
        split = _with_payer(seg, paid)
        known = paid.notna().to_numpy() & pd.Series(split).isin(self.discounted_.index).to_numpy()
        return np.where(known, split, seg)

    def share(self, frame: pd.DataFrame) -> np.ndarray:
        """Per account, ``(n, H + 1)``: cumulative discounted share of the balance
        collected as usual by month h (``Σ_{k≤h} r_k δ^(k-1)`` × scale)."""
        self._check()
        config = self.config or Config()
        seg = self._segments(frame)
        wide = self.curves_.pivot(index="segment", columns="month", values="rate")
        wide = wide.reindex(columns=range(1, self.horizon_ + 1), fill_value=0.0).fillna(0.0)
        delta = discount_factors(self.horizon_, config.offers.monthly_discount_rate)[:-1]
        cum = np.cumsum(wide.to_numpy() * delta[None, :], axis=1)
        at = wide.index.get_indexer(seg)
        out = np.zeros((len(frame), self.horizon_ + 1))
        known = at >= 0
        out[known, 1:] = cum[at[known]]
        return out * self.scale(frame)[:, None]

    def cured_share(self, n: int) -> np.ndarray:
        """``(n, H + 1)``: the cumulative discounted share of the balance a current
        account pays by month h (what a re-aged account pays once back on schedule)."""
        self._check()
        config = self.config or Config()
        frame = pd.DataFrame({"stage": ["current"], "debt_age_days": [0.0], "balance": [1.0]})
        seg = usual_segment(frame["stage"], frame["debt_age_days"], config)[0]
        rates = self.curves_[self.curves_["segment"] == seg].set_index("month")["rate"]
        rates = rates.reindex(range(1, self.horizon_ + 1), fill_value=0.0).to_numpy()
        delta = discount_factors(self.horizon_, config.offers.monthly_discount_rate)[:-1]
        row = np.concatenate([[0.0], np.cumsum(rates * delta)])
        return np.broadcast_to(row, (n, self.horizon_ + 1))

    def value(self, frame: pd.DataFrame) -> np.ndarray:
        """V_usual per account (currency): discounted collections over H without an offer.

        Parameters
        ----------
        frame : pandas.DataFrame
            ``stage``, ``debt_age_days``, ``balance`` and optionally ``p_pay``.
        """
        balance = pd.to_numeric(frame["balance"], errors="coerce").fillna(0.0).to_numpy()
        return np.maximum(balance, 0.0) * self.share(frame)[:, -1]


def offer_value(
    offers: pd.DataFrame,
    p_accept: Any,
    p_complete: Any,
    v_usual: Any,
    usual_share: Any,
    horizon_months: int = 24,
    monthly_discount_rate: float = 0.01,
    cost: float = 0.0,
    cured_share: Any = None,
) -> pd.DataFrame:
    """Value of each candidate offer against collecting as usual (module docstring).

    Parameters
    ----------
    offers : pandas.DataFrame
        ``kind``, terms (``discount_share``, ``installments``, ``plan_amount``,
        ``deferral_months``), ``balance`` and ``installment_amount`` (currency).
    p_accept, p_complete : array-like of float
        P(accepted) and P(completed | accepted) per offer.
    v_usual : array-like of float
        V_usual per offer's account (currency).
    usual_share : array-like, shape (n, H + 1)
        Cumulative discounted share of the balance collected as usual by month h
        (:meth:`UsualCollections.share`), for the value of what remains after a break.
    horizon_months : int
        H (months).
    monthly_discount_rate : float
        Discount rate per month.
    cost : float
        Cost of making the offer (currency).
    cured_share : array-like, shape (n, H + 1), optional
        Cumulative discounted share of the balance a current account pays by month h
        (:meth:`UsualCollections.cured_share`): what a completed deferral brings.
        Without it a deferral is worth nothing more than collecting as usual later.

    Returns
    -------
    pandas.DataFrame
        Same index: ``p_accept``, ``p_complete``, ``expected_cash`` (discounted cash of
        an accepted offer, breaks included), ``v_usual``, ``value`` (currency; 0 = as
        good as collecting as usual).
    """
    n = len(offers)
    horizon = int(horizon_months)
    pa = np.nan_to_num(np.asarray(p_accept, float), nan=0.0)
    pc = np.clip(np.nan_to_num(np.asarray(p_complete, float), nan=0.0), 0.0, 1.0)
    vu = np.asarray(v_usual, float)
    share = np.asarray(usual_share, float).reshape(n, -1)
    if share.shape[1] < horizon + 1:
        share = np.pad(share, ((0, 0), (0, horizon + 1 - share.shape[1])), mode="edge")

    def num(name: str, fill: float) -> np.ndarray:
        if name not in offers:
            return np.full(n, fill)
        return pd.to_numeric(offers[name], errors="coerce").fillna(fill).to_numpy(dtype=float)

    kind = offers["kind"].astype(object).to_numpy()
    balance = np.maximum(num("balance", 0.0), 0.0)
    regular = np.maximum(num("installment_amount", 0.0), 0.0)
    discount = num("discount_share", 0.0)
    parts = np.maximum(num("installments", 1.0), 1.0)
    owed = num("plan_amount", np.nan)
    owed = np.where(np.isnan(owed) | (kind == "settlement"), (1.0 - discount) * balance, owed)
    # a plan's first installment is due the month after the offer; a settlement is paid
    # in the offer's month; a deferral waits its months
    wait = np.where(
        kind == "deferral", num("deferral_months", 0.0), np.where(kind == "payment_plan", 1.0, 0.0)
    )
    each = np.where(kind == "deferral", regular, owed / parts)
    count = np.where(
        kind == "deferral",
        np.ceil(balance / np.where(regular > 0, regular, np.inf)),
        parts,
    )
    t = np.arange(1, horizon + 1, dtype=float)[None, :]
    due = (t > wait[:, None]) & (t <= (wait + count)[:, None])
    k = np.cumsum(due, axis=1)  # installment number due in month t
    n_due = np.maximum(count, 1.0)
    q = pc ** (1.0 / n_due)
    factors = discount_factors(horizon, monthly_discount_rate)
    delta = factors[:-1][None, :]  # cash of month t: δ^(t-1)
    paid_by_t = np.where(due, q[:, None] ** k, 0.0)
    cash = (paid_by_t * each[:, None] * delta).sum(axis=1)
    # a break at the k-th installment (month t): owed again = balance less what was paid
    p_break = np.where(due, q[:, None] ** np.maximum(k - 1, 0) * (1.0 - q[:, None]), 0.0)
    remaining = np.maximum(balance[:, None] - (k - 1) * each[:, None], 0.0)
    months_left = (horizon - t).astype(int)[0]
    after = np.take_along_axis(share, np.broadcast_to(months_left, (n, horizon)), axis=1)
    # what remains is collected as usual from the month after the break: δ^t · C(H - t)
    rescue = (p_break * remaining * factors[1:][None, :] * after).sum(axis=1)
    accepted = cash + rescue
    # a deferral: nothing for its months, then the account pays like a current account
    # when the deferral is completed, and as usual when it is not
    defer = kind == "deferral"
    if defer.any():
        cured = share * 0.0 if cured_share is None else np.asarray(cured_share, float)
        cured = cured.reshape(n, -1)[:, : horizon + 1]
        left = np.clip(horizon - wait, 0, horizon).astype(int)
        rows = np.arange(n)
        later = discount_factors(horizon, monthly_discount_rate)[
            np.minimum(wait, horizon).astype(int)
        ]
        after_wait = later * balance * (pc * cured[rows, left] + (1.0 - pc) * share[rows, left])
        cash = np.where(defer, 0.0, cash)
        rescue = np.where(defer, 0.0, rescue)
        accepted = np.where(defer, after_wait, accepted)
    value = pa * (accepted - vu) - float(cost)
    return pd.DataFrame(
        {
            "p_accept": pa,
            "p_complete": pc,
            "expected_cash": cash,
            "expected_after_break": rescue,
            "v_usual": vu,
            "value": value,
        },
        index=offers.index,
    )
