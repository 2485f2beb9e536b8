"""How good a score is: discrimination, calibration, lift — and distance to the truth.

Every metric is a plain function of outcomes ``y`` (0/1) and predicted
probabilities ``p``; :func:`evaluation_report` computes them all, overall and by
segment (stage, bucket). When the data is simulated, the true probabilities
``p_true`` give two more honest numbers: the **oracle AUC** (the AUC the true
probabilities reach on the same rows — the ceiling of any model) and the mean
absolute error ``mean |p - p_true|``.

Definitions
-----------
- AUC: probability a random payer is scored above a random non-payer; Gini = 2 AUC − 1.
- KS: largest gap between the score distributions of payers and non-payers
  (max over thresholds of TPR − FPR).
- Brier: mean (p − y)²; log loss: −mean(y log p + (1 − y) log(1 − p)).
- Calibration table: rows sorted by p, cut into ``bins`` groups of equal size; per
  group the mean p and the observed rate. ECE = Σ (n_b / N) |rate_b − mean p_b|.
- Lift by decile: deciles of p, best first; lift = decile rate / overall rate,
  capture = share of all positives in the deciles so far (cumulative).

Examples
--------
>>> import numpy as np
>>> from recovery.models.evaluation import auc, ks_statistic
>>> y = np.array([0, 0, 1, 1])
>>> auc(y, np.array([0.1, 0.4, 0.35, 0.8]))   # 3 of 4 payer/non-payer pairs ordered
0.75
>>> ks_statistic(y, np.array([0.1, 0.4, 0.35, 0.8]))
0.5
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata

__all__ = [
    "auc",
    "gini",
    "ks_statistic",
    "brier_score",
    "log_loss",
    "calibration_table",
    "expected_calibration_error",
    "truth_calibration_error",
    "lift_table",
    "classification_metrics",
    "regression_metrics",
    "evaluation_report",
]

_EPS = 1e-12


def _arrays(y, p) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if y.shape != p.shape:
        raise ValueError(f"y and p differ in length ({len(y)} vs {len(p)})")
    return y, p


def _classes(y, p) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Outcomes and scores as arrays, with the numbers of positives and negatives."""
    y, p = _arrays(y, p)
    n_pos = y.sum()
    return y, p, n_pos, len(y) - n_pos


def auc(y, p) -> float:
    """Area under the ROC curve (ties count one half); NaN with one class only.

    Examples
    --------
    >>> auc([0, 1], [0.5, 0.5])
    0.5
    """
    y, p, n_pos, n_neg = _classes(y, p)
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(p)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def gini(y, p) -> float:
    """Gini coefficient, 2 AUC − 1.

    Examples
    --------
    >>> gini([0, 1], [0.2, 0.9])
    1.0
    """
    return 2 * auc(y, p) - 1


def ks_statistic(y, p) -> float:
    """Kolmogorov–Smirnov statistic: max over thresholds of TPR − FPR.

    Examples
    --------
    >>> ks_statistic([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8])
    1.0
    """
    y, p, n_pos, n_neg = _classes(y, p)
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(-p, kind="mergesort")
    ys, ps = y[order], p[order]
    tpr = np.cumsum(ys) / n_pos
    fpr = np.cumsum(1 - ys) / n_neg
    last_of_tie = np.r_[ps[1:] != ps[:-1], True]  # evaluate only between distinct scores
    return float(np.max(np.abs(tpr - fpr)[last_of_tie]))


def brier_score(y, p) -> float:
    """Mean squared difference between probability and outcome.

    Examples
    --------
    >>> brier_score([0, 1], [0.5, 0.5])
    0.25
    """
    y, p = _arrays(y, p)
    return float(np.mean((p - y) ** 2))


def log_loss(y, p) -> float:
    """Mean negative log-likelihood (natural log), probabilities clipped at 1e-12.

    Examples
    --------
    >>> round(log_loss([0, 1], [0.5, 0.5]), 4)
    0.6931
    """
    y, p = _arrays(y, p)
    p = np.clip(p, _EPS, 1 - _EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _equal_mass_bins(p: np.ndarray, bins: int) -> np.ndarray:
    order = np.argsort(p, kind="mergesort")
    index = np.empty(len(p), dtype=int)
    index[order] = (np.arange(len(p)) * bins) // max(len(p), 1)
    return index


def calibration_table(y, p, bins: int = 10) -> pd.DataFrame:
    """Observed rate against mean probability in ``bins`` equal-size groups.

    Parameters
    ----------
    y, p : array-like
        0/1 outcomes and predicted probabilities.
    bins : int
        Number of groups (rows sorted by p, cut into equal counts).

    Returns
    -------
    DataFrame
        ``bin``, ``n``, ``p_min``, ``p_max``, ``mean_p``, ``observed`` (rate),
        ``gap`` (observed − mean_p).

    Examples
    --------
    >>> calibration_table([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], bins=2)[["n", "mean_p", "observed"]]
       n  mean_p  observed
    0  2    0.15       0.0
    1  2    0.80       1.0
    """
    y, p = _arrays(y, p)
    frame = pd.DataFrame({"bin": _equal_mass_bins(p, bins), "y": y, "p": p})
    out = frame.groupby("bin").agg(
        n=("y", "size"),
        p_min=("p", "min"),
        p_max=("p", "max"),
        mean_p=("p", "mean"),
        observed=("y", "mean"),
    )
    out["gap"] = out["observed"] - out["mean_p"]
    return out.reset_index()


def expected_calibration_error(y, p, bins: int = 10) -> float:
    """ECE: count-weighted mean |observed rate − mean p| over equal-size bins.

    Examples
    --------
    >>> expected_calibration_error([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], bins=2)
    0.175
    """
    y, p = _arrays(y, p)
    return _calibration_gap(p, y, bins)


def lift_table(y, p, groups: int = 10) -> pd.DataFrame:
    """Lift and capture by score decile, best-scored decile first.

    Returns
    -------
    DataFrame
        ``decile`` (1 = highest scores), ``n``, ``mean_p``, ``rate``, ``lift``
        (rate / overall rate), ``capture`` (cumulative share of all positives),
        ``cumulative_lift``.

    Examples
    --------
    >>> t = lift_table([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1], groups=2)
    >>> t[["decile", "rate", "lift", "capture"]]
       decile  rate  lift  capture
    0       1   1.0   2.0      1.0
    1       2   0.0   0.0      1.0
    """
    y, p = _arrays(y, p)
    frame = pd.DataFrame({"decile": groups - _equal_mass_bins(p, groups), "y": y, "p": p})
    out = frame.groupby("decile").agg(
        n=("y", "size"), mean_p=("p", "mean"), rate=("y", "mean"), positives=("y", "sum")
    )
    overall = y.mean() if len(y) else np.nan
    out["lift"] = out["rate"] / overall if overall > 0 else np.nan
    total = out["positives"].sum()
    out["capture"] = out["positives"].cumsum() / total if total > 0 else np.nan
    out["cumulative_lift"] = (
        (out["positives"].cumsum() / out["n"].cumsum()) / overall if overall > 0 else np.nan
    )
    return out.drop(columns="positives").reset_index()


def classification_metrics(y, p, p_true=None, bins: int = 10) -> dict[str, float]:
    """All headline metrics of a probability score.

    Parameters
    ----------
    y, p : array-like
        0/1 outcomes and predicted probabilities.
    p_true : array-like, optional
        True probabilities (simulated data): adds ``oracle_auc``, ``auc_gap``
        (oracle − model), ``mae_true`` (mean |p − p_true|), ``oracle_ece`` and
        ``mean_p_true``.
    bins : int
        Bins of the ECE.

    Returns
    -------
    dict
        ``n``, ``base_rate``, ``mean_p``, ``auc``, ``gini``, ``ks``, ``brier``,
        ``log_loss``, ``ece`` (+ truth metrics).

    Examples
    --------
    >>> m = classification_metrics([0, 1, 0, 1], [0.2, 0.8, 0.3, 0.6], p_true=[0.1, 0.9, 0.2, 0.7])
    >>> m["auc"], m["oracle_auc"], round(m["mae_true"], 3)
    (1.0, 1.0, 0.1)
    """
    y, p = _arrays(y, p)
    out = {
        "n": int(len(y)),
        "base_rate": float(y.mean()) if len(y) else float("nan"),
        "mean_p": float(p.mean()) if len(p) else float("nan"),
        "auc": auc(y, p),
        "gini": gini(y, p),
        "ks": ks_statistic(y, p),
        "brier": brier_score(y, p) if len(y) else float("nan"),
        "log_loss": log_loss(y, p) if len(y) else float("nan"),
        "ece": expected_calibration_error(y, p, bins),
    }
    if p_true is not None:
        _, t = _arrays(y, p_true)
        out["mean_p_true"] = float(t.mean()) if len(t) else float("nan")
        out["oracle_auc"] = auc(y, t)
        out["auc_gap"] = out["oracle_auc"] - out["auc"]
        out["mae_true"] = float(np.mean(np.abs(p - t))) if len(t) else float("nan")
        out["oracle_ece"] = expected_calibration_error(y, t, bins)
        out["ece_true"] = truth_calibration_error(p, t, bins)
    return out


def truth_calibration_error(p, p_true, bins: int = 10) -> float:
    """ECE against the true probabilities: Σ (n_b / N) |mean p_true_b − mean p_b|.

    Bins are equal-size groups of rows sorted by ``p``. Unlike the ECE against
    outcomes it has no sampling noise from the 0/1 draws, and unlike
    ``mean |p − p_true|`` it does not count the part of the truth that no model can
    see (latent traits): it asks whether accounts scored alike pay alike on average.

    Examples
    --------
    >>> truth_calibration_error([0.1, 0.2, 0.7, 0.9], [0.2, 0.1, 0.8, 0.6], bins=2)
    0.05
    """
    return _calibration_gap(*_arrays(p, p_true), bins)


def _calibration_gap(p: np.ndarray, target: np.ndarray, bins: int) -> float:
    """Σ (n_b / N) |mean target_b − mean p_b| over equal-size bins of rows sorted by p."""
    if len(p) == 0:
        return float("nan")
    frame = pd.DataFrame({"bin": _equal_mass_bins(p, bins), "p": p, "t": target})
    g = frame.groupby("bin").agg(n=("p", "size"), p=("p", "mean"), t=("t", "mean"))
    return float(round((g["n"] * (g["t"] - g["p"]).abs()).sum() / len(p), 12))


def regression_metrics(y, pred, y_true_mean=None) -> dict[str, float]:
    """Metrics of an amount model (currency): MAE, RMSE, R², mean bias.

    Parameters
    ----------
    y, pred : array-like
        Observed and predicted amounts.
    y_true_mean : array-like, optional
        True expected amounts (simulated data): adds ``mae_true``.

    Examples
    --------
    >>> regression_metrics([10.0, 20.0], [12.0, 18.0])["mae"]
    2.0
    """
    y, pred = _arrays(y, pred)
    resid = y - pred
    var = np.var(y)
    out = {
        "n": int(len(y)),
        "mean_y": float(y.mean()) if len(y) else float("nan"),
        "mean_pred": float(pred.mean()) if len(y) else float("nan"),
        "mae": float(np.mean(np.abs(resid))) if len(y) else float("nan"),
        "rmse": float(np.sqrt(np.mean(resid**2))) if len(y) else float("nan"),
        "r2": float(1 - np.mean(resid**2) / var) if len(y) and var > 0 else float("nan"),
        "bias": float(np.mean(pred - y)) if len(y) else float("nan"),
    }
    if y_true_mean is not None:
        _, t = _arrays(y, y_true_mean)
        out["mae_true"] = float(np.mean(np.abs(pred - t)))
    return out


def evaluation_report(
    frame: pd.DataFrame,
    label: str,
    score: str,
    truth: str | None = None,
    by: Sequence[str] = ("stage", "bucket"),
    bins: int = 10,
    min_rows: int = 1,
) -> pd.DataFrame:
    """Metrics overall and by each segment column.

    Parameters
    ----------
    frame : DataFrame
        One row per scored pair with the outcome, the score and the segment columns.
    label, score : str
        Columns of the 0/1 outcome and the predicted probability.
    truth : str, optional
        Column of the true probability (simulated data).
    by : sequence of str
        Segment columns; each gets its own block of rows (missing columns skipped).
    bins : int
        Bins of the ECE.
    min_rows : int
        Segments with fewer rows are left out.

    Returns
    -------
    DataFrame
        One row per (``segment``, ``value``) — ``("all", "all")`` first — with the
        columns of :func:`classification_metrics`.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"y": [0, 1, 0, 1], "p": [0.2, 0.7, 0.4, 0.6],
    ...                   "stage": ["early", "early", "late", "late"]})
    >>> evaluation_report(f, "y", "p", by=["stage"])[["segment", "value", "n", "auc"]]
      segment  value  n  auc
    0     all    all  4  1.0
    1   stage  early  2  1.0
    2   stage   late  2  1.0
    """
    frame = frame[frame[label].notna()]
    rows = []

    def block(part: pd.DataFrame, segment: str, value: str) -> None:
        if len(part) < min_rows:
            return
        metrics = classification_metrics(
            part[label].to_numpy(),
            part[score].to_numpy(),
            part[truth].to_numpy() if truth else None,
            bins,
        )
        rows.append({"segment": segment, "value": value, **metrics})

    block(frame, "all", "all")
    for column in by:
        if column not in frame.columns:
            continue
        for value, part in frame.groupby(column, observed=True, sort=True):
            block(part, column, str(value))
    return pd.DataFrame(rows)
