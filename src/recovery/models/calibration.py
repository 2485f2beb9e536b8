"""Probability calibration that is saved as plain numbers (JSON), never pickled.

A :class:`Calibrator` maps a model's probability to a calibrated one. ``isotonic``
is a monotone step map (stored as its breakpoints and interpolated); ``platt`` is a
logistic map of the log-odds, ``sigmoid(a * logit(p) + b)``; ``none`` is the identity.
:func:`choose_calibration` fits each on half of a held-out slice, measures the
expected calibration error (ECE) on the other half and back, and keeps the best when
it beats the raw model.

Examples
--------
>>> import numpy as np
>>> from recovery.models.calibration import Calibrator
>>> cal = Calibrator("platt").fit(np.array([0.2, 0.2, 0.8, 0.8]), np.array([0, 1, 1, 1]))
>>> bool(cal.transform(np.array([0.8]))[0] > 0.8)
True
>>> again = Calibrator.from_dict(cal.to_dict())
>>> bool(again.transform(np.array([0.5]))[0] == cal.transform(np.array([0.5]))[0])
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from recovery.errors import ConfigError

__all__ = ["Calibrator", "choose_calibration", "CALIBRATION_METHODS"]

CALIBRATION_METHODS = ("none", "isotonic", "platt")
_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


class Calibrator:
    """A fitted map from raw to calibrated probability, serialisable to JSON.

    Parameters
    ----------
    method : {"none", "isotonic", "platt"}
        The map's family.

    Attributes
    ----------
    params_ : dict
        Fitted numbers: ``x``/``y`` breakpoints (isotonic) or ``a``/``b`` (Platt).

    Examples
    --------
    >>> import numpy as np
    >>> cal = Calibrator("isotonic").fit(np.array([0.1, 0.4, 0.6, 0.9]), np.array([0, 0, 1, 1]))
    >>> cal.transform(np.array([0.05, 0.95])).tolist()
    [0.0, 1.0]
    """

    def __init__(self, method: str = "isotonic") -> None:
        if method not in CALIBRATION_METHODS:
            raise ConfigError(
                f"calibration must be one of {list(CALIBRATION_METHODS)}, got {method!r}"
            )
        self.method = method

    def fit(self, p: np.ndarray, y: np.ndarray) -> Calibrator:
        """Fit the map on raw probabilities ``p`` and 0/1 outcomes ``y``; returns self."""
        p = np.asarray(p, dtype=float)
        y = np.asarray(y, dtype=float)
        if self.method == "isotonic":
            from sklearn.isotonic import IsotonicRegression

            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, y)
            self.params_ = {
                "x": [float(v) for v in iso.X_thresholds_],
                "y": [float(v) for v in iso.y_thresholds_],
            }
        elif self.method == "platt":
            from sklearn.linear_model import LogisticRegression

            if len(np.unique(y)) < 2:
                self.params_ = {"a": 1.0, "b": 0.0}
            else:
                lr = LogisticRegression(C=1e6, max_iter=1000).fit(_logit(p)[:, None], y)
                self.params_ = {"a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])}
        else:
            self.params_ = {}
        return self

    def transform(self, p: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of raw probabilities ``p``."""
        p = np.asarray(p, dtype=float)
        if self.method == "isotonic":
            return np.interp(p, self.params_["x"], self.params_["y"])
        if self.method == "platt":
            z = self.params_["a"] * _logit(p) + self.params_["b"]
            return 1.0 / (1.0 + np.exp(-z))
        return p.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (method and fitted numbers)."""
        return {"method": self.method, **getattr(self, "params_", {})}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        """Rebuild a fitted calibrator from :meth:`to_dict` output."""
        out = cls(data.get("method", "none"))
        out.params_ = {k: v for k, v in data.items() if k != "method"}
        return out

    def __repr__(self) -> str:
        return f"Calibrator({self.method!r})"


def choose_calibration(
    p: np.ndarray,
    y: np.ndarray,
    method: str = "auto",
    groups: np.ndarray | None = None,
    min_improvement: float = 0.002,
    seed: int = 0,
) -> tuple[Calibrator, dict[str, float]]:
    """Pick and fit the calibration map of a held-out slice.

    With ``method="auto"`` each candidate (isotonic, Platt) is fitted on one half of
    the slice and its ECE measured on the other half, both ways round (halves split
    by ``groups``, e.g. account, so one account's rows stay together). A candidate is
    kept only when its ECE is at least ``min_improvement`` below the raw model's;
    the chosen map is then refitted on the whole slice. An explicit method is simply
    fitted.

    Parameters
    ----------
    p, y : ndarray
        Raw probabilities and 0/1 outcomes of the held-out slice.
    method : {"auto", "none", "isotonic", "platt"}
    groups : ndarray, optional
        Group label per row for the two halves; default row position.
    min_improvement : float
        ECE (probability points) a map must gain over the raw model to be used.
    seed : int
        Seed of the split into halves.

    Returns
    -------
    (Calibrator, dict)
        The fitted map and the cross-fitted ECE of each candidate (``ece_none``,
        ``ece_isotonic``, ``ece_platt``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.05, 0.95, 4000)
    >>> y = (rng.uniform(size=4000) < p ** 2).astype(int)   # p is too high
    >>> cal, ece = choose_calibration(p, y)
    >>> bool(cal.method != "none" and ece["ece_" + cal.method] < ece["ece_none"])
    True
    """
    from recovery.models.evaluation import expected_calibration_error

    p = np.asarray(p, dtype=float)
    y = np.asarray(y, dtype=float)
    if method != "auto":
        return Calibrator(method).fit(p, y), {}
    if groups is None:
        groups = np.arange(len(p))
    unique = np.unique(groups)
    rng = np.random.default_rng(seed)
    half = set(rng.permutation(unique)[: len(unique) // 2].tolist())
    first = np.isin(groups, list(half))
    second = ~first
    scores = {"ece_none": expected_calibration_error(y, p)}
    for name in ("isotonic", "platt"):
        total, n = 0.0, 0
        for fit_mask, test_mask in ((first, second), (second, first)):
            if fit_mask.sum() < 50 or test_mask.sum() < 50:
                continue
            cal = Calibrator(name).fit(p[fit_mask], y[fit_mask])
            e = expected_calibration_error(y[test_mask], cal.transform(p[test_mask]))
            total += e * test_mask.sum()
            n += test_mask.sum()
        scores[f"ece_{name}"] = total / n if n else np.inf
    best = min(("isotonic", "platt"), key=lambda m: scores[f"ece_{m}"])
    if scores[f"ece_{best}"] <= scores["ece_none"] - min_improvement:
        return Calibrator(best).fit(p, y), scores
    return Calibrator("none").fit(p, y), scores
