"""One fitted model of one stage segment, in a form saved without pickle.

:class:`BoosterModel` wraps a LightGBM booster (saved as LightGBM's own text model);
:class:`LinearModel` holds a linear model's coefficients with its imputation and
scaling numbers (saved as JSON). Both predict from the float design matrix of
:func:`recovery.models.design.design_matrix` and both give per-feature contributions
on the model's raw (log-odds or amount) scale, so reason codes work for either.

Examples
--------
>>> import numpy as np
>>> from recovery.models.segment import LinearModel
>>> m = LinearModel(coef=[2.0], intercept=0.0, center=[1.0], scale=[0.5], fill=[1.0],
...                 categorical=[False], levels=[[]], task="binary")
>>> m.predict_raw(np.array([[1.5], [np.nan]])).tolist()   # (1.5 - 1) / 0.5 * 2 ; NaN -> fill
[2.0, 0.0]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["BoosterModel", "LinearModel", "sigmoid"]


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + exp(−z)), computed stably.

    Examples
    --------
    >>> sigmoid(np.array([0.0])).tolist()
    [0.5]
    """
    z = np.asarray(z, dtype=float)
    return np.where(
        z >= 0, 1 / (1 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z)))
    )


class BoosterModel:
    """A LightGBM booster of one segment.

    Parameters
    ----------
    booster : lightgbm.Booster
        The fitted booster.
    best_iteration : int
        Trees used for prediction (after early stopping); 0 = all.
    """

    kind = "lightgbm"

    def __init__(self, booster: Any, best_iteration: int = 0) -> None:
        self.booster = booster
        self.best_iteration = int(best_iteration or 0)

    def _iterations(self) -> int | None:
        return self.best_iteration if self.best_iteration > 0 else None

    def predict_raw(self, x: np.ndarray) -> np.ndarray:
        """Raw score (log-odds for a classifier, the amount for a regressor)."""
        return self.booster.predict(x, raw_score=True, num_iteration=self._iterations())

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Per-feature contributions to the raw score (last column: the baseline)."""
        return self.booster.predict(x, pred_contrib=True, num_iteration=self._iterations())

    def importance(self) -> np.ndarray:
        """Total gain of each feature."""
        return self.booster.feature_importance(importance_type="gain", iteration=self._iterations())

    def save(self, path: Path) -> str:
        """Write LightGBM's text model to ``path``; returns the file name."""
        self.booster.save_model(str(path), num_iteration=self._iterations())
        return path.name

    @classmethod
    def load(cls, path: Path) -> BoosterModel:
        """Read a text model written by :meth:`save`."""
        import lightgbm as lgb

        return cls(lgb.Booster(model_file=str(path)), best_iteration=0)

    def describe(self) -> dict[str, Any]:
        """Numbers for the model card."""
        return {
            "kind": self.kind,
            "trees": int(self.booster.num_trees()),
            "best_iteration": self.best_iteration,
        }


class LinearModel:
    """A linear model on imputed, standardised numbers and one-hot categories.

    Parameters
    ----------
    coef : list of float
        One coefficient per expanded column (numeric features, then for each
        categorical feature one column per level).
    intercept : float
    center, scale, fill : list of float
        Per numeric feature: mean, standard deviation and the value that replaces
        a missing entry (the training median); NaN for categorical features.
    categorical : list of bool
        Which features are categorical (encoded as level index in the design matrix).
    levels : list of list
        Levels of each categorical feature.
    task : {"binary", "regression"}
    """

    kind = "linear"

    def __init__(self, coef, intercept, center, scale, fill, categorical, levels, task) -> None:
        self.coef = [float(c) for c in coef]
        self.intercept = float(intercept)
        self.center = [float(c) for c in center]
        self.scale = [float(s) for s in scale]
        self.fill = [float(f) for f in fill]
        self.categorical = [bool(c) for c in categorical]
        self.levels = [list(v) for v in levels]
        self.task = task

    @classmethod
    def fit(
        cls,
        estimator: Any,
        x: np.ndarray,
        y: np.ndarray,
        categorical: list[bool],
        levels: list[list[str]],
        task: str,
        sample_weight=None,
    ) -> LinearModel:
        """Standardise ``x``, fit ``estimator`` (anything with ``coef_``) and keep numbers."""
        numeric = ~np.asarray(categorical, dtype=bool)
        fill = np.full(x.shape[1], np.nan)
        center = np.full(x.shape[1], np.nan)
        scale = np.full(x.shape[1], np.nan)
        for j in np.flatnonzero(numeric):
            col = x[:, j]
            med = np.nanmedian(col) if np.isfinite(col).any() else 0.0
            filled = np.where(np.isnan(col), med, col)
            fill[j], center[j] = med, filled.mean()
            sd = filled.std()
            scale[j] = sd if sd > 0 else 1.0
        model = cls([], 0.0, center, scale, fill, categorical, levels, task)
        expanded = model._expand(x)
        fitted = estimator.fit(expanded, y, sample_weight=sample_weight)
        model.coef = [float(c) for c in np.ravel(fitted.coef_)]
        model.intercept = (
            float(np.ravel(fitted.intercept_)[0])
            if np.ndim(fitted.intercept_)
            else float(fitted.intercept_)
        )
        return model

    def _expand(self, x: np.ndarray) -> np.ndarray:
        blocks = []
        for j, is_cat in enumerate(self.categorical):
            col = x[:, j]
            if is_cat:
                n = len(self.levels[j])
                onehot = (col[:, None] == np.arange(n)[None, :]).astype(float)
                blocks.append(onehot)
            else:
                filled = np.where(np.isnan(col), self.fill[j], col)
                blocks.append(((filled - self.center[j]) / self.scale[j])[:, None])
        return np.hstack(blocks) if blocks else np.empty((len(x), 0))

    def _widths(self) -> list[int]:
        return [len(lv) if c else 1 for c, lv in zip(self.categorical, self.levels, strict=True)]

    def predict_raw(self, x: np.ndarray) -> np.ndarray:
        """Linear predictor (log-odds for a classifier, the amount for a regressor)."""
        return self._expand(x) @ np.asarray(self.coef) + self.intercept

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Per-feature contributions (coefficient × standardised value; last: intercept)."""
        terms = self._expand(x) * np.asarray(self.coef)[None, :]
        edges = np.cumsum([0, *self._widths()])
        out = np.add.reduceat(terms, edges[:-1], axis=1) if terms.shape[1] else terms
        return np.hstack([out, np.full((len(x), 1), self.intercept)])

    def importance(self) -> np.ndarray:
        """Sum of |coefficient| of each feature's expanded columns."""
        edges = np.cumsum([0, *self._widths()])
        return np.add.reduceat(np.abs(np.asarray(self.coef)), edges[:-1])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready numbers."""
        return {
            "kind": self.kind,
            "task": self.task,
            "intercept": self.intercept,
            "coef": self.coef,
            "center": _nan_to_none(self.center),
            "scale": _nan_to_none(self.scale),
            "fill": _nan_to_none(self.fill),
            "categorical": self.categorical,
            "levels": self.levels,
        }

    def save(self, path: Path) -> str:
        """Write the numbers as JSON to ``path``; returns the file name."""
        path.write_text(json.dumps(self.to_dict(), indent=1), encoding="utf-8")
        return path.name

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        """Read a model written by :meth:`save`."""
        d = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            d["coef"],
            d["intercept"],
            _none_to_nan(d["center"]),
            _none_to_nan(d["scale"]),
            _none_to_nan(d["fill"]),
            d["categorical"],
            d["levels"],
            d["task"],
        )

    def describe(self) -> dict[str, Any]:
        """Numbers for the model card."""
        return {"kind": self.kind, "coefficients": len(self.coef)}


def _nan_to_none(values) -> list:
    return [None if (v is None or np.isnan(v)) else float(v) for v in values]


def _none_to_nan(values) -> list:
    return [np.nan if v is None else float(v) for v in values]
