"""The scorer: propensity to pay, curability, roll-back or expected amount.

:class:`Scorer` is a scikit-learn-style estimator over a *feature frame* (one row per
``(account_id, as_of)`` overdue pair, DESIGN.md §3). It

1. picks the features (never keys, labels, dates or protected attributes) and
   records their kinds in a JSON-friendly spec;
2. handles the collection stage explicitly — ``stage_strategy="feature"`` fits one
   model with the stage as a feature, ``"separate"`` one model per stage
   (early M1–M3, late M4+, charged off);
3. holds out the latest as-of dates of the training window as a validation slice
   (with a gap of one label horizon before it, so no training label looks into it),
   used for LightGBM early stopping and for choosing a probability calibration;
4. calibrates (isotonic or Platt) when that lowers the validation ECE.

The underlying model is a parameter: a LightGBM model (default
``LGBMClassifier``/``LGBMRegressor`` with deterministic settings) or a linear model
with ``coef_`` (e.g. :class:`sklearn.linear_model.LogisticRegression`, the baseline).
Models are saved without pickle (:mod:`recovery.models.card`).

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> n = 3000
>>> frame = pd.DataFrame({
...     "account_id": [f"A{i % 600}" for i in range(n)],
...     "as_of": pd.to_datetime("2024-01-31") + pd.to_timedelta(30 * (np.arange(n) // 600), "D"),
...     "dpd": rng.integers(1, 90, n), "kept_promises": rng.poisson(1.0, n)})
>>> p = 1 / (1 + np.exp(-(-1.0 - 0.02 * frame["dpd"] + 0.8 * frame["kept_promises"])))
>>> y = (rng.uniform(size=n) < p).astype(int)
>>> from sklearn.linear_model import LogisticRegression
>>> scorer = Scorer(LogisticRegression(), target="p_pay", horizon_days=30).fit(frame, y)
>>> scorer.predict(frame.head(2)).round(2).tolist()  # doctest: +SKIP
>>> bool(0 < scorer.predict(frame).mean() < 1)
True
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from recovery.config import Config
from recovery.errors import ConfigError, DataError, ModelCardError
from recovery.models.calibration import Calibrator, choose_calibration
from recovery.models.card import check_frame, read_card, restore_fitted, save_model
from recovery.models.design import assign_stage, design_matrix, infer_feature_spec
from recovery.models.estimators import default_estimator, is_lightgbm
from recovery.models.evaluation import classification_metrics, regression_metrics
from recovery.models.segment import BoosterModel, LinearModel, sigmoid
from recovery.models.split import validation_masks

__all__ = ["Scorer", "TARGETS", "load_model"]

TARGETS: dict[str, dict[str, Any]] = {
    "p_pay": {"task": "binary", "label": "p_pay", "horizon": "p_pay_horizon_days"},
    "p_cure": {"task": "binary", "label": "p_cure", "horizon": "p_cure_horizon_days"},
    "roll_back": {"task": "binary", "label": "roll_back", "horizon": "p_cure_horizon_days"},
    "amount": {"task": "regression", "label": "amount_collected", "horizon": "p_pay_horizon_days"},
}
"""Known targets: the label column each reads and the config horizon that applies."""

STAGE_STRATEGIES = ("feature", "separate")
POOLED = "all"


@dataclass(eq=False, repr=False)
class Scorer(BaseEstimator):
    """A propensity-to-pay, curability, roll-back or amount scorer.

    Parameters
    ----------
    estimator : estimator, optional
        The underlying model, cloned for each stage segment: a LightGBM
        ``LGBMClassifier``/``LGBMRegressor`` or a linear model exposing ``coef_``
        (``LogisticRegression`` for the baseline, ``Ridge`` for amounts). Default:
        :func:`default_estimator`.
    target : {"p_pay", "p_cure", "roll_back", "amount"}
        What is scored (DESIGN.md §3). ``amount`` is the amount collected within the
        p_pay horizon (currency) *given a payment*: rows whose label is 0 or missing
        are left out of its fit.
    stage_strategy : {"feature", "separate"}
        One model with the stage as a feature, or one model per stage.
    calibration : {"auto", "isotonic", "platt", "none"}
        Probability calibration fitted on the validation slice; ``auto`` applies the
        best map when it lowers the cross-fitted ECE (binary targets only).
    features : sequence of str, optional
        Feature columns; default every eligible column (see
        :func:`recovery.models.design.infer_feature_spec`).
    horizon_days : int, optional
        Label horizon (days); default from ``config.labels`` for the target. Sets the
        gap before the validation slice.
    validation_fraction : float
        Share of the training window's latest as-of dates held out for early
        stopping and calibration.
    early_stopping_rounds : int
        LightGBM rounds without validation improvement before stopping.
    min_segment_rows : int
        With ``separate``, stages with fewer training rows share a pooled model.
    allow_protected : bool
        Let an explicit ``features`` list hold protected attributes.
    random_state : int
        Seed (model and validation split).
    config : Config, optional
        Horizons, bucket edges and protected attributes.

    Attributes
    ----------
    feature_spec_ : list of dict
        Features with kind, training dtype and categorical levels.
    segments_ : dict
        Stage (or ``"all"``) → fitted segment model.
    calibrators_ : dict
        Stage (or ``"all"``) → :class:`Calibrator`.
    task_ : str
        ``binary`` or ``regression``.
    horizon_days_ : int
    training_window_ : dict
        First and last training as-of, start of the validation slice.
    row_counts_ : dict
    validation_metrics_ : dict
        Segment → metrics on the validation slice (calibrated).
    calibration_scores_ : dict
        Segment → cross-fitted ECE of each calibration candidate.
    fingerprint_ : str
        SHA-256 of the training rows (keys, features, labels).
    reference_ : dict
        Training distribution of each feature and of the score, for PSI.
    stages_, buckets_ : list of str
        Stages and buckets seen in training (the model's domain, :meth:`in_domain`).
    offsets_ : dict
        Stage → level offset set by :meth:`recalibrate` (absent until then).
    """

    estimator: Any = None
    target: str = "p_pay"
    stage_strategy: str = "feature"
    calibration: str = "auto"
    features: Sequence[str] | None = None
    horizon_days: int | None = None
    validation_fraction: float = 0.2
    early_stopping_rounds: int = 100
    min_segment_rows: int = 500
    allow_protected: bool = False
    random_state: int = 0
    config: Config | None = None

    # ------------------------------------------------------------------ fitting
    def _check_params(self) -> None:
        if self.target not in TARGETS:
            raise ConfigError(f"target must be one of {list(TARGETS)}, got {self.target!r}")
        if self.stage_strategy not in STAGE_STRATEGIES:
            raise ConfigError(
                f"stage_strategy must be one of {list(STAGE_STRATEGIES)}, got {self.stage_strategy!r}"
            )
        if self.calibration not in ("auto", "isotonic", "platt", "none"):
            raise ConfigError(
                f"calibration must be auto, isotonic, platt or none, got {self.calibration!r}"
            )
        if not 0 <= self.validation_fraction < 1:
            raise ConfigError("validation_fraction must be in [0, 1)")

    def _base_estimator(self) -> Any:
        if self.estimator is None:
            return default_estimator(TARGETS[self.target]["task"], self.random_state)
        if not (is_lightgbm(self.estimator) or hasattr(self.estimator, "fit")):
            raise ConfigError("estimator must be a LightGBM model or a linear scikit-learn model")
        return self.estimator

    def fit(self, X: pd.DataFrame, y, sample_weight=None) -> Scorer:
        """Fit on a feature frame and its labels.

        Parameters
        ----------
        X : DataFrame
            Feature frame with ``account_id``, ``as_of`` and the stage inputs
            (``stage``, or ``dpd``/``bucket`` and ``status``).
        y : array-like
            Labels aligned with ``X``: 0/1 (missing = censored, dropped) or amounts.
        sample_weight : array-like, optional

        Returns
        -------
        Scorer
            self, fitted.
        """
        self._check_params()
        config = self.config or Config()
        if not isinstance(X, pd.DataFrame):
            raise DataError("Scorer.fit needs a DataFrame with account_id and as_of columns")
        for column in ("account_id", "as_of"):
            if column not in X.columns:
                raise DataError(f"the feature frame lacks the key column '{column}'")
        y = pd.Series(np.asarray(y, dtype=float), index=X.index)
        weight = (
            None
            if sample_weight is None
            else pd.Series(np.asarray(sample_weight, float), index=X.index)
        )
        info = TARGETS[self.target]
        self.task_ = info["task"]
        self.horizon_days_ = int(
            self.horizon_days
            if self.horizon_days is not None
            else getattr(config.labels, info["horizon"])
        )
        keep = y.notna().to_numpy()
        if self.task_ == "regression":
            keep &= (y > 0).to_numpy()
        elif not set(np.unique(y[keep])) <= {0.0, 1.0}:
            raise DataError(f"labels of target '{self.target}' must be 0/1 (or missing)")
        dropped = int((~keep).sum())
        X = X.loc[keep]
        y = y.loc[keep]
        weight = weight.loc[keep] if weight is not None else None
        if len(X) == 0:
            raise DataError("no labelled training rows (all labels missing or zero)")
        as_of = pd.to_datetime(X["as_of"])
        stage = assign_stage(X, config)
        frame = X.assign(stage=stage.to_numpy())
        protected = config.categories.protected_attributes
        exclude = () if self.stage_strategy == "feature" else ("stage",)
        self.feature_spec_ = infer_feature_spec(
            frame,
            self.features
            if self.features is None or self.stage_strategy == "separate"
            else [*self.features, *(["stage"] if "stage" not in self.features else [])],
            exclude=exclude,
            protected=protected,
            allow_protected=self.allow_protected,
        )
        matrix = design_matrix(frame, self.feature_spec_)
        fit_mask, valid_mask = validation_masks(as_of, self.validation_fraction, self.horizon_days_)
        self.training_window_ = {
            "first_as_of": str(as_of.min().date()),
            "last_as_of": str(as_of.max().date()),
            "validation_start": str(as_of[valid_mask].min().date()) if valid_mask.any() else None,
        }
        base = self._base_estimator()
        groups = {POOLED: np.ones(len(frame), dtype=bool)}
        if self.stage_strategy == "separate":
            groups = {}
            small = np.zeros(len(frame), dtype=bool)
            for name in sorted(stage.unique()):
                mask = (stage == name).to_numpy()
                if (mask & fit_mask).sum() >= self.min_segment_rows:
                    groups[name] = mask
                else:
                    small |= mask
            if small.any() or not groups:
                groups[POOLED] = np.ones(len(frame), dtype=bool)
        self.segments_, self.calibrators_ = {}, {}
        self.validation_metrics_, self.calibration_scores_ = {}, {}
        self.row_counts_ = {"labelled": int(len(frame)), "dropped_unlabelled": dropped}
        account = X["account_id"].astype(str).to_numpy()
        raw_all = np.zeros(len(frame))
        for name, mask in groups.items():
            segment, calibrator, scores, metrics, counts = self._fit_segment(
                base, matrix, y.to_numpy(), weight, mask & fit_mask, mask & valid_mask, account
            )
            self.segments_[name] = segment
            self.calibrators_[name] = calibrator
            self.calibration_scores_[name] = scores
            self.validation_metrics_[name] = metrics
            self.row_counts_[name] = counts
        self.fingerprint_ = _fingerprint(
            X, y, [f["name"] for f in self.feature_spec_ if f["name"] in X.columns]
        )
        raw_all = self._predict_matrix(matrix, stage.to_numpy(), raw=True)
        from recovery.models.monitoring import reference_distribution

        self.reference_ = reference_distribution(frame, self.feature_spec_, raw_all)
        self.stages_ = sorted(str(v) for v in stage.unique())
        self.buckets_ = (
            sorted(str(v) for v in X["bucket"].dropna().unique()) if "bucket" in X.columns else []
        )
        self.n_features_in_ = len(self.feature_spec_)
        self.feature_names_in_ = np.array([f["name"] for f in self.feature_spec_], dtype=object)
        return self

    def _fit_segment(self, base, matrix, y, weight, fit_mask, valid_mask, account):
        if fit_mask.sum() == 0:
            raise DataError(
                "no training rows before the validation slice: the training window is shorter "
                f"than one horizon ({self.horizon_days_} days) plus the validation slice; "
                "use more as-of dates or validation_fraction=0"
            )
        estimator = clone(base)
        categorical = [f["kind"] == "categorical" for f in self.feature_spec_]
        levels = [f["levels"] for f in self.feature_spec_]
        w_fit = None if weight is None else weight.to_numpy()[fit_mask]
        x_fit, y_fit = matrix[fit_mask], y[fit_mask]
        x_val, y_val = matrix[valid_mask], y[valid_mask]
        if self.task_ == "binary" and len(np.unique(y_fit)) < 2:
            raise DataError(
                "the training rows of a segment hold only one class; "
                "use more data or stage_strategy='feature'"
            )
        if is_lightgbm(estimator):
            import lightgbm as lgb

            cat_index = [j for j, c in enumerate(categorical) if c]
            kwargs: dict[str, Any] = {"categorical_feature": cat_index or "auto"}
            if len(y_val) and (self.task_ == "regression" or len(np.unique(y_val)) == 2):
                if "eval_X" in inspect.signature(estimator.fit).parameters:
                    kwargs.update(eval_X=(x_val,), eval_y=(y_val,))
                else:  # lightgbm < 4.6
                    kwargs["eval_set"] = [(x_val, y_val)]
                kwargs["callbacks"] = [
                    lgb.early_stopping(self.early_stopping_rounds, verbose=False)
                ]
            estimator.fit(x_fit, y_fit, sample_weight=w_fit, **kwargs)
            best = int(getattr(estimator, "best_iteration_", 0) or 0)
            segment = BoosterModel(estimator.booster_, best)
        else:
            segment = LinearModel.fit(
                estimator, x_fit, y_fit, categorical, levels, self.task_, sample_weight=w_fit
            )
        counts = {"fit": int(fit_mask.sum()), "validation": int(valid_mask.sum())}
        if self.task_ == "binary":
            counts["fit_positive_rate"] = float(y_fit.mean())
            raw_val = sigmoid(segment.predict_raw(x_val)) if len(y_val) else np.array([])
            if len(y_val) >= 100 and len(np.unique(y_val)) == 2 and self.calibration != "none":
                calibrator, scores = choose_calibration(
                    raw_val,
                    y_val,
                    self.calibration,
                    groups=account[valid_mask],
                    seed=self.random_state,
                )
            else:
                calibrator, scores = Calibrator("none").fit(raw_val, y_val), {}
            metrics = (
                classification_metrics(y_val, calibrator.transform(raw_val)) if len(y_val) else {}
            )
            if len(y_val):
                metrics["ece_raw"] = classification_metrics(y_val, raw_val)["ece"]
        else:
            calibrator, scores = Calibrator("none"), {}
            calibrator.params_ = {}
            pred = np.maximum(segment.predict_raw(x_val), 0) if len(y_val) else np.array([])
            metrics = regression_metrics(y_val, pred) if len(y_val) else {}
        metrics = {
            k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in metrics.items()
        }
        return segment, calibrator, scores, metrics, counts

    # --------------------------------------------------------------- prediction
    def _check_fitted(self) -> None:
        if not hasattr(self, "segments_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this Scorer is not fitted yet; call fit or load a model")

    def _segment_of(self, stage: np.ndarray) -> np.ndarray:
        if self.stage_strategy == "feature" or set(self.segments_) == {POOLED}:
            return np.full(len(stage), POOLED, dtype=object)
        out = np.asarray(stage, dtype=object).copy()
        unknown = ~np.isin(out, list(self.segments_))
        if unknown.any():
            if POOLED not in self.segments_:
                raise ModelCardError(
                    f"the model has no segment for stage(s) {sorted(set(out[unknown]))}; "
                    f"it was trained on {sorted(self.segments_)}"
                )
            out[unknown] = POOLED
        return out

    def _predict_matrix(self, matrix: np.ndarray, stage: np.ndarray, raw: bool = False):
        segment_of = self._segment_of(stage)
        out = np.empty(len(matrix))
        for name, model in self.segments_.items():
            mask = segment_of == name
            if not mask.any():
                continue
            score = model.predict_raw(matrix[mask])
            if self.task_ == "binary":
                score = sigmoid(score)
                if not raw:
                    score = self.calibrators_[name].transform(score)
            else:
                score = np.maximum(score, 0.0)
            out[mask] = score
        offsets = getattr(self, "offsets_", None)
        if offsets and not raw:
            shift = pd.Series(np.asarray(stage, dtype=object)).map(offsets).fillna(0.0)
            shift = shift.to_numpy(dtype=float)
            if self.task_ == "binary":
                out = sigmoid(_logit(out) + shift)
            else:
                out = out * np.exp(shift)
        return out

    def recalibrate(self, X: pd.DataFrame, y, min_rows: int = 200) -> Scorer:
        """A copy whose level is refitted on recent matured rows, stage by stage.

        Between retrainings the relation between features and outcome can drift
        (e.g. a downturn lowers every borrower's ability to pay). Monitoring sees it in
        the performance of the latest months whose labels have matured; this refits
        one number per stage on such rows — an offset on the log-odds of the
        calibrated probability (binary), or a log scale factor of the amount — so the
        mean score of each stage equals its observed rate. The trees and the
        calibration map are kept.

        Parameters
        ----------
        X : DataFrame
            Recent rows with matured labels (as-of at least one horizon before the
            dates to be scored, so nothing leaks).
        y : array-like
            Their labels (missing = dropped; for amounts, rows with a payment).
        min_rows : int
            Stages with fewer labelled rows keep offset 0.

        Returns
        -------
        Scorer
            A shallow copy with ``offsets_`` (stage → offset) and
            ``recalibration_`` (rows and window used); ``self`` is unchanged.
        """
        import copy

        self._check_fitted()
        y = np.asarray(y, dtype=float)
        keep = ~np.isnan(y)
        if self.task_ == "regression":
            keep &= y > 0
        X, y = X.loc[keep], y[keep]
        base = copy.copy(self)
        base.offsets_ = {}
        _, matrix, stage = self._prepare(X)
        p = base._predict_matrix(matrix, stage)
        offsets = {}
        for name in sorted(set(stage)):
            mask = stage == name
            if mask.sum() < min_rows:
                continue
            if self.task_ == "binary":
                offsets[name] = _solve_offset(_logit(p[mask]), y[mask])
            else:
                offsets[name] = float(np.log(max(y[mask].mean(), 1e-9) / max(p[mask].mean(), 1e-9)))
        out = copy.copy(self)
        out.offsets_ = offsets
        as_of = pd.to_datetime(X["as_of"]) if "as_of" in X.columns else None
        out.recalibration_ = {
            "rows": int(len(y)),
            "first_as_of": None if as_of is None else str(as_of.min().date()),
            "last_as_of": None if as_of is None else str(as_of.max().date()),
        }
        return out

    def _prepare(self, X: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        self._check_fitted()
        check_frame(self, X)
        config = self.config or Config()
        stage = assign_stage(X, config).to_numpy()
        frame = X.assign(stage=stage)
        return frame, design_matrix(frame, self.feature_spec_), stage

    def in_domain(self, X: pd.DataFrame) -> np.ndarray:
        """Rows like the training rows: a stage (and bucket, when known) seen in training.

        ``p_cure`` is trained on open accounts only and ``roll_back`` on M3 and
        worse; their scores elsewhere would be extrapolation.
        """
        self._check_fitted()
        stage = assign_stage(X, self.config or Config()).to_numpy()
        ok = np.isin(stage, self.stages_)
        if getattr(self, "buckets_", None) and "bucket" in X.columns:
            bucket = X["bucket"]
            ok &= (bucket.isna() | bucket.astype(str).isin(self.buckets_)).to_numpy()
        return ok

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The score of each row: calibrated probability, or amount (currency).

        Unlike a scikit-learn classifier this returns the probability of the
        positive class (the quantity collections work with), not a 0/1 decision.
        """
        _, matrix, stage = self._prepare(X)
        return self._predict_matrix(matrix, stage)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probabilities of class 0 and 1, shape (n, 2) (binary targets only)."""
        if getattr(self, "task_", "binary") != "binary":
            raise ConfigError("predict_proba is for probability targets; use predict")
        p = self.predict(X)
        return np.column_stack([1 - p, p])

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        """Uncalibrated score (probability before calibration, or amount)."""
        _, matrix, stage = self._prepare(X)
        return self._predict_matrix(matrix, stage, raw=True)

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per-feature contributions to the raw (log-odds) score of each row.

        Returns
        -------
        DataFrame
            One column per feature plus ``baseline``, aligned on ``X.index``.
        """
        _, matrix, stage = self._prepare(X)
        segment_of = self._segment_of(stage)
        names = [f["name"] for f in self.feature_spec_]
        out = np.zeros((len(matrix), len(names) + 1))
        for name, model in self.segments_.items():
            mask = segment_of == name
            if mask.any():
                out[mask] = model.contributions(matrix[mask])
        return pd.DataFrame(out, columns=[*names, "baseline"], index=X.index)

    def explain(self, X: pd.DataFrame, top: int = 3, descriptions=None) -> pd.DataFrame:
        """Reason codes of each row; see :func:`recovery.models.reasons.reason_codes`."""
        from recovery.models.reasons import reason_codes

        return reason_codes(self, X, top=top, descriptions=descriptions)

    # ------------------------------------------------------------------ reports
    def feature_importance(self) -> pd.DataFrame:
        """Importance of each feature (LightGBM gain or |coefficient|), per segment.

        Returns
        -------
        DataFrame
            ``feature``, ``segment``, ``importance``, ``share`` (of the segment total),
            sorted by segment then importance.
        """
        self._check_fitted()
        rows = []
        for name, model in self.segments_.items():
            imp = np.asarray(model.importance(), dtype=float)
            total = imp.sum() or 1.0
            for feature, value in zip(self.feature_spec_, imp, strict=True):
                rows.append(
                    {
                        "feature": feature["name"],
                        "segment": name,
                        "importance": float(value),
                        "share": float(value / total),
                    }
                )
        out = pd.DataFrame(rows)
        return out.sort_values(
            ["segment", "importance"], ascending=[True, False], ignore_index=True
        )

    @property
    def summary(self) -> pd.DataFrame:
        """One row per segment: rows, model, calibration and validation metrics."""
        self._check_fitted()
        rows = []
        for name, model in self.segments_.items():
            counts = self.row_counts_.get(name, {})
            metrics = self.validation_metrics_.get(name, {})
            row = {
                "target": self.target,
                "segment": name,
                **model.describe(),
                "calibration": self.calibrators_[name].method,
                "rows_fit": counts.get("fit"),
                "rows_validation": counts.get("validation"),
            }
            row.update({f"validation_{k}": v for k, v in metrics.items() if k != "n"})
            rows.append(row)
        return pd.DataFrame(rows)

    # ------------------------------------------------------------- persistence
    def save(self, directory, metrics: dict | None = None, extra: dict | None = None):
        """Save as LightGBM text / JSON models plus a JSON card; see :mod:`card`."""
        return save_model(self, directory, metrics=metrics, extra=extra)

    @classmethod
    def load(cls, directory) -> Scorer:
        """Load a scorer saved by :meth:`save`."""
        return load_model(directory)


def load_model(directory, config: Config | None = None) -> Scorer:
    """Load a scorer saved by :func:`recovery.models.card.save_model`.

    Parameters
    ----------
    directory : str or Path
        Model directory.
    config : Config, optional
        The config the model will be used with; its label horizon must match the
        card's.

    Returns
    -------
    Scorer
        Fitted scorer with ``card_`` (the card as a dict).

    Raises
    ------
    ModelCardError
        Missing or changed files (checksum), unknown format, or a config whose
        horizon differs from the card's.
    """
    directory = Path(directory)
    card = read_card(directory)
    card_config = Config.from_dict(card["config"])
    if config is not None:
        key = TARGETS[card["target"]]["horizon"]
        if getattr(config.labels, key) != card["horizon_days"]:
            raise ModelCardError(
                f"model {directory} was trained with a {card['horizon_days']}-day horizon "
                f"but the config says labels.{key} = {getattr(config.labels, key)}; "
                "retrain or use the training config"
            )
    scorer = Scorer(config=config or card_config, **card["params"])
    return restore_fitted(scorer, card, directory)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def _solve_offset(z: np.ndarray, y: np.ndarray, iterations: int = 50) -> float:
    """Offset b with mean(sigmoid(z + b)) = mean(y) (Newton's method on the log-likelihood)."""
    target = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
    b = 0.0
    for _ in range(iterations):  # a few scalar steps, not a loop over rows
        p = sigmoid(z + b)
        gradient = p.mean() - target
        hessian = max(float((p * (1 - p)).mean()), 1e-9)
        step = gradient / hessian
        b -= float(np.clip(step, -2.0, 2.0))
        if abs(step) < 1e-10:
            break
    return float(b)


def _fingerprint(X: pd.DataFrame, y: pd.Series, features: list[str]) -> str:
    columns = [c for c in ("account_id", "as_of") if c in X.columns] + features
    hashes = pd.util.hash_pandas_object(X[columns], index=False).to_numpy()
    digest = hashlib.sha256(hashes.tobytes())
    digest.update(np.asarray(y, dtype=float).tobytes())
    return digest.hexdigest()
