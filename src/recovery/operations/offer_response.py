"""How borrowers answer offers: acceptance and completion given the terms (DESIGN.md §3).

:class:`OfferResponseModel` learns, per offer kind (``settlement``, ``payment_plan``,
``deferral``), two probabilities from a lender's ``offers`` table:

- **acceptance**: P(the offer is accepted) — a ``no_answer`` counts as not accepted —
  given the terms and the account's state the day before the offer;
- **completion**: P(an accepted offer is completed) — a settlement paid, every plan
  installment paid, a deferral followed by payments — given the same.

Features are the offer's terms, the account's state of
:func:`recovery.operations.offer_rules.offer_context` (stage, debt age, balance, the
regular installment, payments made, earlier re-ages), the burden the terms put on the
borrower (what is asked against the regular installment), and any point-in-time
feature columns the caller adds (on real data: recovery's feature matrix at the day
before the offer). Each probability is a LightGBM model with the cross-entropy
objective; acceptance is constrained to rise with the discount and with the plan
length, and to fall with what is asked per month (monotone constraints), and, for a kind
whose terms were drawn at random, has a logistic slope in its term under the trees
(``price_slope``: small shrunk trees alone flatten the price response).

**Price response needs variation in the terms that the account's state does not
explain.** The fit chooses its ``design``:

``weighted``
    When ``assignment_probability`` is recorded on every offer (some below 1: some
    terms were drawn at random), all offers are used, each weighted by the inverse of
    its probability. Offers made by rule (probability 1) add what the rule saw — the
    account's state, which is among the features — so they sharpen the fit without
    biasing the price response, which the randomised offers identify.
``randomized``
    Otherwise, with enough offers flagged ``randomized`` (terms drawn at random, the
    probability not recorded), the model is fitted on them alone.
``confounded``
    Otherwise the terms were chosen by rule from the account's state, and how
    acceptance responds to the terms cannot be told apart from how it responds to the
    state. The fit still runs, warns, says so in ``summary``, and refuses to
    extrapolate: a term outside those seen for the account's kind and stage gets no
    prediction (NaN).

In every design a term outside the range seen in training, or a kind at a stage it was
never offered to (plans learned at M2–M3 say nothing of charged-off debt), gets no
prediction, and a
kind none of whose offers had random terms (e.g. deferrals granted on request) is
treated as confounded: within the terms seen per stage only.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> n = 600
>>> d = rng.choice([0.0, 0.2, 0.4, 0.6], n)
>>> offers = pd.DataFrame({"kind": "settlement", "discount_share": d, "installments": 1,
...     "stage": "charged_off", "debt_age_days": rng.uniform(200, 900, n),
...     "balance": 1000.0, "installment_amount": 100.0, "randomized": True,
...     "assignment_probability": 0.25,
...     "outcome": np.where(rng.uniform(size=n) < 0.1 + d, "accepted", "declined"),
...     "result": None})
>>> m = OfferResponseModel(min_rows=50).fit(offers)
>>> m.design_
'weighted'
>>> grid = offers.iloc[[0] * 4].assign(discount_share=[0.0, 0.2, 0.4, 0.6])
>>> p = m.predict_accept(grid)
>>> bool(np.all(np.diff(p) >= 0))
True
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from recovery.config import Config
from recovery.errors import DataError, ModelCardError
from recovery.operations.offer_rules import STAGES

__all__ = [
    "OfferResponseModel",
    "ConfoundedPriceWarning",
    "logistic_slope",
    "TERM_COLUMNS",
    "STATE_COLUMNS",
    "offer_terms_frame",
    "load_offer_model",
]

#: The terms of an offer (columns of the ``offers`` table).
TERM_COLUMNS = ("discount_share", "installments", "deferral_months")
#: The account's state at the offer used as features (from ``offer_context``).
STATE_COLUMNS = (
    "debt_age_days",
    "balance",
    "installment_amount",
    "payments_before",
    "reages_12_months",
)
KINDS = ("settlement", "payment_plan", "deferral")
_TERM_OF_KIND = {
    "settlement": "discount_share",
    "payment_plan": "installments",
    "deferral": "deferral_months",
}
_CARD = "offer_model.json"
_FORMAT = "recovery-offer-model/1"
_TARGETS = ("accept", "complete")


class ConfoundedPriceWarning(UserWarning):
    """The offers' terms were chosen by rule: their effect is confounded with the state."""


def offer_terms_frame(offers: pd.DataFrame) -> pd.DataFrame:
    """Terms, state and burden of each offer as model inputs (numbers only).

    ``asked_ratio`` is what the borrower is asked to pay per month against the regular
    installment: the settlement amount (``(1 - discount) × balance``) or the plan
    installment (``plan_amount / installments``, or the discounted balance spread over
    the installments); ``stage_code`` numbers :data:`~recovery.operations.offer_rules.STAGES`.

    Parameters
    ----------
    offers : pandas.DataFrame
        ``kind``, terms and state (missing columns count as missing values).

    Returns
    -------
    pandas.DataFrame
        Same index; :data:`TERM_COLUMNS`, ``stage_code``, :data:`STATE_COLUMNS`,
        ``asked_ratio``.

    Examples
    --------
    >>> o = pd.DataFrame({"kind": ["settlement", "payment_plan"], "discount_share": [0.4, 0.0],
    ...     "installments": [1, 10], "balance": [1000.0, 1000.0],
    ...     "installment_amount": [100.0, 50.0], "stage": ["late", "early"]})
    >>> offer_terms_frame(o)[["asked_ratio", "stage_code"]].values.tolist()
    [[6.0, 2.0], [2.0, 1.0]]
    """

    def num(name: str) -> pd.Series:
        if name not in offers:
            return pd.Series(np.nan, index=offers.index)
        return pd.to_numeric(offers[name], errors="coerce").astype("float64")

    out = pd.DataFrame(index=offers.index)
    out["discount_share"] = num("discount_share").fillna(0.0)
    out["installments"] = num("installments")
    out["deferral_months"] = num("deferral_months")
    stage = offers["stage"].astype(object) if "stage" in offers else None
    codes = {s: float(i) for i, s in enumerate(STAGES)}
    out["stage_code"] = np.nan if stage is None else stage.map(codes).astype("float64")
    for name in STATE_COLUMNS:
        out[name] = num(name)
    kind = offers["kind"].astype(object)
    balance = out["balance"]
    owed = num("plan_amount")
    owed = owed.where(owed.notna(), (1.0 - out["discount_share"]) * balance)
    n = out["installments"].where(out["installments"] >= 1, 1.0).fillna(1.0)
    per_month = np.where(kind == "deferral", np.nan, owed / n)
    out["asked_ratio"] = per_month / out["installment_amount"].where(out["installment_amount"] > 0)
    return out


class OfferResponseModel(BaseEstimator):
    """Acceptance and completion of offers given their terms (LightGBM, per kind).

    Parameters
    ----------
    features : sequence of str, optional
        Extra point-in-time feature columns of the offers frame (numbers, booleans or
        categories), e.g. recovery's feature matrix at the day before each offer.
    design : {"auto", "randomized", "weighted", "confounded"}
        How the price response is identified (module docstring); ``auto`` takes the
        first that the data supports.
    min_rows : int
        Fewest offers of a kind to fit its model; below it, the kind's mean rate is used.
    n_estimators, learning_rate, num_leaves, min_child_samples : int or float
        LightGBM settings (small trees: offer tables are small).
    random_state : int
        Seed of LightGBM.
    config : Config, optional
        Unused by the fit; kept for the model file.
    price_slope : bool
        Acceptance of a kind whose terms were drawn at random is
        ``logit P = a + b · term + trees(x)``: a logistic slope ``b ≥ 0`` in the kind's
        term (the discount, the plan length) under the boosted trees, fitted by
        backfitting (the trees on the offset ``a + b · term``, then ``a, b`` on the
        trees' score, three rounds). Small, shrunk trees alone flatten the price
        response (few acceptances per leaf); one parameter for the slope is learned
        from every offer. False: the trees alone.

    Attributes
    ----------
    design_ : str
        The design used.
    confounded_ : bool
        True when the price response is confounded (``design_ == "confounded"``).
    models_ : dict
        ``(target, kind)`` → fitted booster, or a float (the mean rate).
    support_ : dict
        Terms seen in training: ``kind`` → ``[min, max]`` of its term; when confounded,
        ``kind|stage`` → the sorted terms seen.
    stages_ : dict
        ``kind`` → the stages it was offered to in training (no prediction for others).
    columns_ : list of str
        Model inputs, in order.
    levels_ : dict
        Levels of each categorical extra feature.
    rows_ : dict
        ``(target, kind)`` → rows, positives, weight sum used.
    slopes_ : dict
        ``(target, kind)`` → ``[a, b]`` of the price response's logistic part (only
        where ``price_slope`` applies).
    """

    def __init__(
        self,
        features: tuple[str, ...] | list[str] | None = None,
        design: str = "auto",
        min_rows: int = 200,
        n_estimators: int = 300,
        learning_rate: float = 0.03,
        num_leaves: int = 4,
        min_child_samples: int = 60,
        random_state: int = 0,
        config: Config | None = None,
        price_slope: bool = True,
    ) -> None:
        self.features = features
        self.design = design
        self.min_rows = min_rows
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.random_state = random_state
        self.config = config
        self.price_slope = price_slope

    # ------------------------------------------------------------------ fit
    def _choose_design(self, offers: pd.DataFrame) -> str:
        if self.design not in ("auto", "randomized", "weighted", "confounded"):
            raise ValueError(
                f"design must be auto, randomized, weighted or confounded: {self.design!r}"
            )
        randomized = (
            offers["randomized"].fillna(False).astype(bool)
            if "randomized" in offers
            else pd.Series(False, index=offers.index)
        )
        prob = (
            pd.to_numeric(offers["assignment_probability"], errors="coerce")
            if "assignment_probability" in offers
            else pd.Series(np.nan, index=offers.index)
        )
        can_randomized = int(randomized.sum()) >= self.min_rows
        can_weighted = bool(prob.notna().all() and (prob < 1).any() and (prob > 0).all())
        if self.design == "randomized" and not randomized.any():
            raise DataError("offers: design='randomized' needs offers with randomized = True")
        if self.design == "weighted" and not can_weighted:
            raise DataError(
                "offers: design='weighted' needs assignment_probability in (0, 1] on every "
                "offer, some below 1"
            )
        if self.design != "auto":
            return self.design
        if can_weighted:
            return "weighted"
        return "randomized" if can_randomized else "confounded"

    def _matrix(self, offers: pd.DataFrame, fit: bool = False) -> np.ndarray:
        base = offer_terms_frame(offers)
        extra = list(self.features or ())
        missing = [c for c in extra if c not in offers]
        if missing:
            rows = offers.head(3).index.tolist()
            raise DataError(
                f"offers: feature column(s) {missing} missing (rule: every feature the "
                f"model was fitted with is needed; e.g. rows {rows})"
            )
        if fit:
            self.levels_ = {}
        for name in extra:
            col = offers[name]
            if col.dtype == bool or pd.api.types.is_numeric_dtype(col):
                base[name] = pd.to_numeric(col, errors="coerce").astype("float64")
                continue
            if fit:
                self.levels_[name] = sorted(pd.unique(col.dropna().astype(str)).tolist())
            codes = {v: float(i) for i, v in enumerate(self.levels_.get(name, []))}
            base[name] = col.astype(object).map(lambda v, c=codes: c.get(str(v), np.nan))
        if fit:
            self.columns_ = list(base.columns)
        return base[self.columns_].to_numpy(dtype="float64")

    def _kind_confounded(self, offers: pd.DataFrame, rows: np.ndarray) -> bool:
        """No offer of the kind had random terms: its response is confounded too."""
        if self.confounded_:
            return True
        random = np.zeros(len(offers), dtype=bool)
        if "randomized" in offers:
            random |= offers["randomized"].fillna(False).astype(bool).to_numpy()
        if "assignment_probability" in offers:
            random |= (pd.to_numeric(offers["assignment_probability"]) < 1).to_numpy()
        return not random[rows].any()

    def confounded_kinds(self) -> list[str]:
        """Kinds whose terms were never drawn at random (predictions stay within the
        terms seen per stage)."""
        self._check_fitted()
        return sorted({key.split("|")[0] for key in self.support_ if "|" in key})

    def _constraints(self, target: str) -> list[int]:
        if target != "accept":
            return [0] * len(self.columns_)
        sign = {"discount_share": 1, "installments": 1, "asked_ratio": -1}
        return [sign.get(c, 0) for c in self.columns_]

    def _fit_one(
        self, x: np.ndarray, y: np.ndarray, w: np.ndarray, target: str, term: int | None = None
    ) -> tuple[Any, list[float] | None]:
        """One booster (or the mean rate); with ``term`` (a column), the backfitted
        logistic price slope under it (:attr:`slopes_`)."""
        if len(y) < self.min_rows or np.ptp(y) == 0:
            return (float(np.average(y, weights=w)) if len(y) else float("nan")), None
        import lightgbm as lgb

        params = {
            "objective": "cross_entropy",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "monotone_constraints": self._constraints(target),
            "monotone_constraints_method": "advanced",
            "lambda_l2": 1.0,
            "seed": self.random_state,
            "deterministic": True,
            "num_threads": 1,
            "verbosity": -1,
        }
        if term is None:
            data = lgb.Dataset(x, label=y, weight=w, free_raw_data=True)
            return lgb.train(params, data, num_boost_round=self.n_estimators), None
        z = np.nan_to_num(x[:, term], nan=0.0)
        trees = np.zeros(len(y))
        for _ in range(3):
            ab = logistic_slope(z, y, w, offset=trees)
            data = lgb.Dataset(x, label=y, weight=w, init_score=ab[0] + ab[1] * z)
            booster = lgb.train(params, data, num_boost_round=self.n_estimators)
            trees = booster.predict(x, raw_score=True)
        return booster, logistic_slope(z, y, w, offset=trees)

    def fit(self, offers: pd.DataFrame, y=None, sample_weight=None) -> OfferResponseModel:
        """Fit acceptance and completion per kind.

        Parameters
        ----------
        offers : pandas.DataFrame
            One row per offer: ``kind``, terms, ``outcome`` (accepted, declined,
            no_answer), ``result`` (completed, broken; missing while running), the
            state columns of ``offer_context``, ``randomized`` and
            ``assignment_probability`` when recorded, and the extra ``features``.
        y : array-like of float, optional
            Acceptance probabilities to learn instead of the outcomes (e.g. a
            simulator's truth, to measure what the features can reach); completion
            is then not fitted.
        sample_weight : array-like, optional
            Multiplies the design's weights.

        Returns
        -------
        OfferResponseModel
        """
        required = {"kind", "outcome"} if y is None else {"kind"}
        missing = sorted(required - set(offers))
        if missing:
            raise DataError(f"offers: column(s) {missing} missing (rule: required to fit)")
        offers = offers.reset_index(drop=True)
        self.design_ = self._choose_design(offers)
        self.confounded_ = self.design_ == "confounded"
        if self.confounded_:
            warnings.warn(
                "the offers' terms were chosen by rule, not at random, and carry no "
                "assignment probabilities: how acceptance responds to the terms is "
                "confounded with the accounts' state, so predictions stay within the "
                "terms seen for each kind and stage",
                ConfoundedPriceWarning,
                stacklevel=2,
            )
        x_all = self._matrix(offers, fit=True)
        weight = np.ones(len(offers))
        if sample_weight is not None:
            weight = weight * np.asarray(sample_weight, float)
        use = np.ones(len(offers), dtype=bool)
        if self.design_ == "randomized":
            use = offers["randomized"].fillna(False).astype(bool).to_numpy()
        elif self.design_ == "weighted":
            weight = weight / pd.to_numeric(offers["assignment_probability"]).to_numpy(float)
        kind = offers["kind"].astype(object).to_numpy()
        accepted = (
            offers["outcome"].astype(object).eq("accepted").to_numpy()
            if "outcome" in offers
            else np.zeros(len(offers), bool)
        )
        result = (
            offers["result"].astype(object)
            if "result" in offers
            else pd.Series(None, index=offers.index, dtype=object)
        )
        self.models_, self.rows_, self.support_, self.stages_ = {}, {}, {}, {}
        self.slopes_ = {}
        for k in KINDS:
            rows = use & (kind == k)
            if not rows.any():
                continue
            term = x_all[rows, self.columns_.index(_TERM_OF_KIND[k])]
            self.support_[k] = [float(np.nanmin(term)), float(np.nanmax(term))]
            if "stage" in offers:
                self.stages_[k] = sorted(offers.loc[rows, "stage"].dropna().astype(str).unique())
            if self._kind_confounded(offers, rows):
                stage = offers.loc[rows, "stage"].astype(str) if "stage" in offers else None
                for s in [] if stage is None else sorted(stage.unique()):
                    seen = np.unique(term[(stage == s).to_numpy()])
                    self.support_[f"{k}|{s}"] = [float(v) for v in seen if np.isfinite(v)]
            target_accept = (
                accepted[rows].astype(float) if y is None else np.asarray(y, float)[rows]
            )
            targets = {"accept": (rows, target_accept)}
            done = rows & accepted & result.isin(["completed", "broken"]).to_numpy()
            if y is None and done.any():
                targets["complete"] = (done, result[done].eq("completed").to_numpy(float))
            priced = self.price_slope and not self._kind_confounded(offers, rows)
            for name, (mask, target) in targets.items():
                w = weight[mask]
                term = (
                    self.columns_.index(_TERM_OF_KIND[k])
                    if priced and name == "accept" and k != "deferral"
                    else None
                )
                model, slope = self._fit_one(x_all[mask], target, w, name, term)
                self.models_[(name, k)] = model
                if slope is not None:
                    self.slopes_[(name, k)] = slope
                self.rows_[(name, k)] = (int(mask.sum()), float(target.sum()), float(w.sum()))
        if not self.models_:
            raise DataError(
                "offers: no offer to learn from (rule: at least one offer of a known kind)"
            )
        return self

    # ------------------------------------------------------------------ predict
    def _check_fitted(self) -> None:
        if not hasattr(self, "models_"):
            raise ModelCardError("the offer model is not fitted: call fit first")

    def in_support(self, offers: pd.DataFrame) -> np.ndarray:
        """Offers whose kind was seen at the account's stage and whose term lies within
        the terms seen.

        In the confounded design, within the exact terms seen for the kind and stage.
        """
        self._check_fitted()
        kind = offers["kind"].astype(object).to_numpy()
        terms = offer_terms_frame(offers)
        ok = np.zeros(len(offers), dtype=bool)
        stage = (
            offers["stage"].astype(str).to_numpy()
            if "stage" in offers
            else np.full(len(offers), "", dtype=object)
        )
        for k in KINDS:
            if k not in self.support_:
                continue
            hit = kind == k
            term = terms[_TERM_OF_KIND[k]].to_numpy(float)
            lo, hi = self.support_[k]
            inside = (term >= lo - 1e-9) & (term <= hi + 1e-9)
            if "stage" in offers and self.stages_.get(k):
                inside &= np.isin(stage, self.stages_[k])
            if k in self.confounded_kinds():
                seen = np.zeros(len(offers), dtype=bool)
                for s in np.unique(stage[hit]):
                    allowed = self.support_.get(f"{k}|{s}", [])
                    at = hit & (stage == s)
                    seen[at] = (
                        np.isclose(term[at, None], np.asarray(allowed)[None, :]).any(axis=1)
                        if allowed
                        else False
                    )
                inside &= seen
            ok |= hit & inside
        return ok

    def _predict(self, offers: pd.DataFrame, target: str, extrapolate: bool) -> np.ndarray:
        self._check_fitted()
        offers = offers.reset_index(drop=True)
        x = self._matrix(offers)
        kind = offers["kind"].astype(object).to_numpy()
        out = np.full(len(offers), np.nan)
        for k in KINDS:
            model = self.models_.get((target, k))
            hit = kind == k
            if model is None or not hit.any():
                continue
            if isinstance(model, float):
                out[hit] = model
                continue
            slope = getattr(self, "slopes_", {}).get((target, k))
            if slope is None:
                out[hit] = model.predict(x[hit])
                continue
            z = np.nan_to_num(x[hit, self.columns_.index(_TERM_OF_KIND[k])], nan=0.0)
            raw = model.predict(x[hit], raw_score=True) + slope[0] + slope[1] * z
            out[hit] = 1.0 / (1.0 + np.exp(-raw))
        return out if extrapolate else np.where(self.in_support(offers), out, np.nan)

    def predict_accept(self, offers: pd.DataFrame, extrapolate: bool = False) -> np.ndarray:
        """P(accepted) per offer; NaN outside the terms seen or for a kind never seen.

        ``extrapolate=True`` predicts outside the terms seen too (to show what a
        confounded fit would say there; never for decisions).
        """
        return self._predict(offers, "accept", extrapolate)

    def predict_complete(self, offers: pd.DataFrame, extrapolate: bool = False) -> np.ndarray:
        """P(completed | accepted) per offer; NaN where no completion was learned."""
        return self._predict(offers, "complete", extrapolate)

    # ------------------------------------------------------------------ report
    def summary(self) -> pd.DataFrame:
        """One row per (target, kind): rows, positives, design, terms seen, warning."""
        self._check_fitted()
        rows, confounded = [], self.confounded_kinds()
        for (target, k), (n, pos, wsum) in self.rows_.items():
            model = self.models_[(target, k)]
            lo, hi = self.support_[k]
            rows.append(
                {
                    "target": target,
                    "kind": k,
                    "offers": n,
                    "positives": pos,
                    "weight_sum": wsum,
                    "model": "mean rate" if isinstance(model, float) else "lightgbm",
                    "design": self.design_,
                    "terms_seen": f"{_TERM_OF_KIND[k]} {lo:g}–{hi:g}",
                    "warning": (
                        "price response confounded: terms chosen by rule; no prediction "
                        "outside the terms seen per stage"
                        if k in confounded
                        else ""
                    ),
                }
            )
        return pd.DataFrame(rows)

    # ------------------------------------------------------------------ files
    def save(self, directory: str | Path) -> Path:
        """Write the model without pickle: LightGBM text models plus a JSON card."""
        self._check_fitted()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        models = {}
        for (target, k), model in self.models_.items():
            key = f"{target}|{k}"
            if isinstance(model, float):
                models[key] = {"mean": model}
            else:
                name = f"offer_{target}_{k}.txt"
                model.save_model(str(directory / name))
                models[key] = {"file": name}
        card = {
            "format": _FORMAT,
            "params": {k: v for k, v in self.get_params().items() if k != "config"},
            "design": self.design_,
            "columns": self.columns_,
            "levels": self.levels_,
            "support": self.support_,
            "stages": self.stages_,
            "rows": {f"{t}|{k}": list(v) for (t, k), v in self.rows_.items()},
            "slopes": {f"{t}|{k}": list(v) for (t, k), v in self.slopes_.items()},
            "models": models,
        }
        card["params"]["features"] = list(self.features or [])
        tmp = directory / (_CARD + ".tmp")
        tmp.write_text(json.dumps(card, indent=2))
        tmp.replace(directory / _CARD)
        return directory


def logistic_slope(
    z: np.ndarray, y: np.ndarray, w: np.ndarray, offset: np.ndarray | None = None
) -> list[float]:
    """``[a, b]`` of the weighted logistic ``logit P(y) = offset + a + b · z``, with
    ``b ≥ 0`` (Newton steps; ``y`` may be probabilities).

    Examples
    --------
    >>> z = np.repeat([0.0, 1.0], 2)
    >>> a, b = logistic_slope(z, np.array([0.2, 0.2, 0.5, 0.5]), np.ones(4))
    >>> round(a, 3), round(b, 3)     # logit 0.2 = -1.386; logit 0.5 - logit 0.2 = 1.386
    (-1.386, 1.386)
    """
    z = np.asarray(z, float)
    y = np.asarray(y, float)
    w = np.asarray(w, float)
    off = np.zeros(len(z)) if offset is None else np.asarray(offset, float)
    design = np.column_stack([np.ones(len(z)), z])
    coef = _newton(design, y, w, off)
    if coef[1] < 0:  # acceptance never falls with the discount or the length
        coef = np.array([_newton(design[:, :1], y, w, off)[0], 0.0])
    return [float(coef[0]), float(coef[1])]


def _newton(design: np.ndarray, y: np.ndarray, w: np.ndarray, off: np.ndarray) -> np.ndarray:
    """Weighted logistic regression with an offset (Newton steps)."""
    coef = np.zeros(design.shape[1])
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(off + design @ coef)))
        hess = (design * (w * p * (1 - p))[:, None]).T @ design
        step = np.linalg.solve(hess + 1e-9 * np.eye(len(coef)), design.T @ (w * (y - p)))
        coef = coef + step
        if np.abs(step).max() < 1e-10:
            break
    return coef


def load_offer_model(directory: str | Path) -> OfferResponseModel:
    """Read a model written by :meth:`OfferResponseModel.save`.

    Raises
    ------
    ModelCardError
        When the directory holds no offer model.
    """
    import lightgbm as lgb

    directory = Path(directory)
    path = directory / _CARD
    if not path.is_file():
        raise ModelCardError(f"no offer model in {directory.name!r}: fit one first")
    card = json.loads(path.read_text())
    if card.get("format") != _FORMAT:
        raise ModelCardError(f"{path.name}: not an offer model ({card.get('format')!r})")
    params = dict(card["params"])
    params["features"] = tuple(params.get("features") or ()) or None
    model = OfferResponseModel(**params)
    model.design_ = card["design"]
    model.confounded_ = model.design_ == "confounded"
    model.columns_ = card["columns"]
    model.levels_ = card["levels"]
    model.support_ = card["support"]
    model.stages_ = card.get("stages", {})
    model.rows_ = {tuple(k.split("|")): tuple(v) for k, v in card["rows"].items()}
    model.slopes_ = {tuple(k.split("|")): list(v) for k, v in card.get("slopes", {}).items()}
    model.models_ = {}
    for key, spec in card["models"].items():
        target, k = key.split("|")
        if "mean" in spec:
            model.models_[(target, k)] = float(spec["mean"])
        else:
            model.models_[(target, k)] = lgb.Booster(model_file=str(directory / spec["file"]))
    return model
