"""What a lender learns from the logged history to rank accounts (issue 8).

A ranked policy (:class:`recovery.simulate.policies.PolicyOperation`) needs, for each
worked account at the start of a month, what it is worth to contact it. From what a
lender observes then (:func:`observable_features`) and the history logged before the
switch month, :class:`PriorityModel` learns the propensity to pay, the amount given a
payment, and the uplift of the standard and intensive contact packages per segment,
measured on the randomised hold-out / champion / challenger share and shrunk toward
the policy group's effect.

Examples
--------
>>> month_collections(pd.DataFrame({"account_id": ["A"], "amount": [5.0],
...     "payment_date": pd.to_datetime(["2024-01-05"])}))["collected"].tolist()
[5.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recovery.errors import ConfigError
from recovery.operations.learners import small_lightgbm
from recovery.operations.strategy import estimate_uplift
from recovery.simulate import contacts as ct
from recovery.simulate.operation import PlanContext

__all__ = ["FEATURES", "observable_features", "month_collections", "PriorityModel"]

#: The columns of :func:`observable_features` a :class:`PriorityModel` learns from.
FEATURES = (
    "group",
    "dpd",
    "amount_overdue",
    "balance",
    "installment",
    "debt_age_days",
    "months_since_charge_off",
    "paid_last_month",
    "days_since_payment",
    "has_guarantor",
    "has_collateral",
    "product",
    "limitation_expired",
    "bureau_score",
)


def observable_features(context: PlanContext, bureau: np.ndarray | None = None) -> pd.DataFrame:
    """What a lender knows about the worked accounts at the start of a month.

    Only observable fields of the month state (no latent traits, no true
    probabilities): policy group, days past due, amounts (currency), debt age (days),
    months since charge-off, last month's payment, days since the last payment,
    guarantor, collateral, product, limitation flag and the bureau score.

    Parameters
    ----------
    context : PlanContext
        The worked accounts of one chunk-month.
    bureau : ndarray, optional
        Bureau score of each worked account (NaN when unknown).

    Returns
    -------
    pandas.DataFrame
        One row per worked account, columns :data:`FEATURES` plus ``account_index``.

    Examples
    --------
    >>> from recovery.simulate.hooks import MonthState
    >>> s = MonthState.empty()
    >>> ctx = PlanContext(s, *(np.zeros(0, int) for _ in range(8)))
    >>> observable_features(ctx).shape
    (0, 15)
    """
    s, r = context.state, np.asarray(context.rows, np.int64)
    start = int((pd.Timestamp(s.month_start) - pd.Timestamp("1970-01-01")).days)
    last = np.asarray(s.last_payment_date, np.int64)[r] if len(s.last_payment_date) else r * 0
    out = pd.DataFrame(
        {
            "account_index": np.asarray(s.account_index)[r],
            "group": np.asarray(context.group, np.int8),
            "dpd": np.asarray(s.dpd)[r].astype(float),
            "amount_overdue": np.asarray(s.amount_overdue)[r],
            "balance": np.asarray(s.balance)[r],
            "installment": np.asarray(s.installment)[r],
            "debt_age_days": np.asarray(s.debt_age_days)[r].astype(float),
            "months_since_charge_off": np.asarray(s.months_since_charge_off)[r].astype(float),
            "paid_last_month": np.asarray(s.paid_last_month)[r],
            "days_since_payment": np.where(last >= 0, start - last, 99_999).astype(float),
            "has_guarantor": np.asarray(s.has_guarantor)[r].astype(np.int8),
            "has_collateral": np.asarray(s.has_collateral)[r].astype(np.int8),
            "product": np.asarray(s.product)[r].astype(np.int8),
            "limitation_expired": np.asarray(s.limitation_expired)[r].astype(np.int8),
            "bureau_score": np.full(len(r), np.nan) if bureau is None else np.asarray(bureau),
        }
    )
    return out


def month_collections(payments: pd.DataFrame, data_end: Any = None) -> pd.DataFrame:
    """Net collections per account and calendar month (reversed payments excluded).

    Examples
    --------
    >>> p = pd.DataFrame({"account_id": ["A", "A"], "payment_date": pd.to_datetime(
    ...     ["2024-01-05", "2024-01-20"]), "amount": [10.0, 5.0], "reversed_date": pd.NaT})
    >>> month_collections(p)["collected"].tolist()
    [15.0]
    """
    pay = payments
    if "reversed_date" in pay:
        end = pd.Timestamp(data_end) if data_end is not None else pd.Timestamp.max
        pay = pay[pay["reversed_date"].isna() | (pay["reversed_date"] > end)]
    month = pay["payment_date"].dt.to_period("M").dt.to_timestamp()
    return (
        pay.assign(month_start=month)
        .groupby(["account_id", "month_start"], as_index=False)["amount"]
        .sum()
        .rename(columns={"amount": "collected"})
    )


class PriorityModel:
    """Priorities for ranked policies, fitted on the pre-switch history.

    Parameters
    ----------
    estimator : classifier, optional
        Propensity model (paid this month, from :func:`observable_features`);
        defaults to a small LightGBM.
    bands : int
        Propensity bands per policy group for the uplift segments.
    random_state : int

    Attributes
    ----------
    propensity_model_ : fitted classifier
    amount_ratio_ : pandas.Series
        Median amount paid (given a payment) relative to the overdue amount (open
        accounts) or the balance (charged off), by policy group.
    band_edges_ : dict
        Propensity cut points per group.
    uplift_ : pandas.DataFrame
        Per segment (group, band) and step (``standard`` = champion vs hold-out,
        ``intensive`` = challenger vs champion): the difference in P(pay) with its CI
        on the randomised accounts (:func:`recovery.operations.strategy.estimate_uplift`) and the
        shrunken value used for ranking.

    Examples
    --------
    >>> PriorityModel(bands=3).bands
    3
    """

    def __init__(self, estimator: Any = None, bands: int = 2, random_state: int = 0) -> None:
        self.estimator = estimator
        self.bands = bands
        self.random_state = random_state

    def fit(self, history: pd.DataFrame, payments: pd.DataFrame, data_end: Any = None):
        """Fit on logged account-months (:attr:`PolicyOperation.history_`) and payments."""
        from sklearn.base import clone

        paid = month_collections(payments, data_end)
        h = history.merge(paid, on=["account_id", "month_start"], how="left")
        h["collected"] = h["collected"].fillna(0.0)
        h["paid"] = (h["collected"] > 0).astype(int)
        h = h[~h["idle"].astype(bool)].reset_index(drop=True)
        if h["paid"].nunique() < 2:
            raise ConfigError("history has no variation in payments; simulate more months")
        if self.estimator is None:
            base = small_lightgbm(
                random_state=self.random_state,
                n_estimators=120,
                min_child_samples=40,
                force_row_wise=True,
            )
        else:
            base = self.estimator
        self.propensity_model_ = clone(base).fit(h[list(FEATURES)], h["paid"])
        h["p_hat"] = self.propensity_model_.predict_proba(h[list(FEATURES)])[:, 1]
        base_amount = _amount_base(h)
        payers = h[(h["paid"] == 1) & (base_amount > 0)]
        ratio = (payers["collected"] / _amount_base(payers)).groupby(payers["group"]).median()
        self.amount_ratio_ = ratio.reindex(range(len(ct.GROUPS))).fillna(
            float(ratio.median()) if len(ratio) else 1.0
        )
        self.band_edges_ = {
            g: np.quantile(part["p_hat"], np.linspace(0, 1, self.bands + 1)[1:-1])
            for g, part in h.groupby("group")
        }
        h["band"] = self._bands(h)
        rnd = h[h["randomized"].astype(bool)]
        rows = []
        for step, (treated, control) in {"standard": (1, 0), "intensive": (2, 1)}.items():
            part = rnd[rnd["arm"].isin([treated, control])].assign(
                treated=lambda d, t=treated: d["arm"].eq(t)
            )
            for level, segments in (("group", ("group",)), ("segment", ("group", "band"))):
                est = estimate_uplift(part, "treated", "paid", segments)
                if len(est):
                    rows.append(est.assign(step=step, level=level))
        table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
        self.uplift_ = _shrink(table, self.bands)
        return self

    def _bands(self, frame: pd.DataFrame) -> np.ndarray:
        band = np.zeros(len(frame), np.int64)
        g = frame["group"].to_numpy()
        p = frame["p_hat"].to_numpy()
        for group, edges in self.band_edges_.items():
            m = g == group
            band[m] = np.searchsorted(edges, p[m], side="right")
        return band

    def score(self, features: pd.DataFrame) -> pd.DataFrame:
        """Propensity, amount given payment (currency), expected collection and the
        segment uplift of the standard and intensive packages, per row."""
        out = pd.DataFrame(index=features.index)
        p = self.propensity_model_.predict_proba(features[list(FEATURES)])[:, 1]
        out["p_hat"] = p
        ratio = self.amount_ratio_.reindex(features["group"].to_numpy()).to_numpy()
        out["amount"] = ratio * _amount_base(features).to_numpy()
        out["expected_collection"] = p * out["amount"]
        band = self._bands(features.assign(p_hat=p))
        keys = pd.MultiIndex.from_arrays([features["group"].to_numpy(), band])
        for step in ("standard", "intensive"):
            u = self.uplift_[self.uplift_["step"].eq(step)].set_index(["group", "band"])["value"]
            out[f"uplift_{step}"] = u.astype(float).reindex(keys).fillna(0.0).to_numpy()
        return out

    @property
    def summary(self) -> pd.DataFrame:
        """The uplift table by segment and step."""
        return self.uplift_


def _amount_base(frame: pd.DataFrame) -> pd.Series:
    """Overdue amount for open accounts, balance for charged-off ones (currency)."""
    charged = frame["group"].to_numpy() >= 4
    return pd.Series(
        np.where(charged, frame["balance"], np.maximum(frame["amount_overdue"], 0.0)),
        index=frame.index,
    )


def _shrink(table: pd.DataFrame, bands: int) -> pd.DataFrame:
    """Segment effects shrunk toward their group's effect (empirical Bayes).

    value = group + w (segment − group), w = τ² / (τ² + se²), τ² the spread of the
    segment effects beyond their sampling variance; groups without an estimate get 0.
    """
    cols = ["group", "band", "step", "effect", "ci_low", "ci_high", "n_treated", "n_control"]
    if not len(table):
        return pd.DataFrame(columns=[*cols, "value"])
    seg = table[table["level"].eq("segment")].copy()
    grp = table[table["level"].eq("group")].set_index(["step", "group"])["effect"]
    se = (seg["ci_high"] - seg["ci_low"]) / (2 * 1.96)
    seg["group_effect"] = grp.reindex(pd.MultiIndex.from_frame(seg[["step", "group"]])).to_numpy()
    out = []
    for _, part in seg.groupby("step"):
        s2 = se.loc[part.index] ** 2
        tau2 = max(float(((part["effect"] - part["group_effect"]) ** 2).mean() - s2.mean()), 0.0)
        w = tau2 / (tau2 + s2) if tau2 > 0 else s2 * 0
        out.append(
            part.assign(value=part["group_effect"] + w * (part["effect"] - part["group_effect"]))
        )
    seg = pd.concat(out)
    # segments without their own estimate use the group's
    full = pd.MultiIndex.from_product(
        [sorted(table["step"].unique()), range(len(ct.GROUPS)), range(bands)],
        names=["step", "group", "band"],
    ).to_frame(index=False)
    full = full.merge(seg[[*cols, "value"]], on=["step", "group", "band"], how="left")
    fallback = grp.reindex(pd.MultiIndex.from_frame(full[["step", "group"]])).to_numpy()
    value = pd.to_numeric(full["value"], errors="coerce").astype(float)
    full["value"] = value.fillna(pd.Series(fallback, dtype=float)).fillna(0.0)
    return full[cols + ["value"]]
