"""Plots of a scorer's quality: ROC, calibration, lift, importance, stability.

Each function draws on ``ax`` (a new figure when ``None``) and returns the Axes;
none calls ``plt.show()``.

Examples
--------
>>> import numpy as np
>>> from recovery.models.plots import plot_roc
>>> ax = plot_roc([0, 1, 0, 1], [0.1, 0.8, 0.3, 0.6])
>>> ax.get_xlabel()
'false positive rate'
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from recovery.docstrings import fill_doc
from recovery.models.evaluation import auc, calibration_table, lift_table

__all__ = [
    "plot_roc",
    "plot_calibration",
    "plot_lift",
    "plot_importance",
    "plot_stability",
]


# parameter descriptions the plots share
_DOC = {
    "y": "y : array-like\n    0/1 outcomes.",
    "scores": "p : array-like or mapping of name → array-like\n    Predicted probabilities.",
    "ax": "ax : matplotlib Axes, optional\n\nReturns\n-------\nmatplotlib Axes",
}


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 4))
    return ax


def _diagonal_frame(ax, xlabel: str, ylabel: str, title: str, legend_loc: str):
    """The y = x reference line, axis labels, title and legend of a curve plot."""
    ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc=legend_loc, fontsize="small")
    return ax


def _as_mapping(p) -> Mapping[str, np.ndarray]:
    return p if isinstance(p, Mapping) else {"model": p}


@fill_doc(**_DOC)
def plot_roc(y, p, p_true=None, ax=None):
    """ROC curve of one score or several (``{"name": scores}``), with AUCs.

    Parameters
    ----------
    {{y}}
    {{scores}}
    p_true : array-like, optional
        True probabilities (simulated data), drawn as the oracle curve.
    {{ax}}
    """
    ax = _axes(ax)
    y = np.asarray(y, dtype=float)
    curves = dict(_as_mapping(p))
    if p_true is not None:
        curves["oracle (true p)"] = p_true
    for name, score in curves.items():
        score = np.asarray(score, dtype=float)
        order = np.argsort(-score, kind="mergesort")
        tpr = np.r_[0, np.cumsum(y[order]) / max(y.sum(), 1)]
        fpr = np.r_[0, np.cumsum(1 - y[order]) / max((1 - y).sum(), 1)]
        ax.plot(
            fpr,
            tpr,
            label=f"{name} (AUC {auc(y, score):.3f})",
            linestyle="--" if name.startswith("oracle") else "-",
        )
    return _diagonal_frame(ax, "false positive rate", "true positive rate", "ROC", "lower right")


@fill_doc(**_DOC)
def plot_calibration(y, p, bins: int = 10, ax=None):
    """Observed rate against mean predicted probability by equal-size bins.

    Parameters
    ----------
    {{y}}
    {{scores}}
    bins : int
    {{ax}}

    Examples
    --------
    >>> ax = plot_calibration([0, 1, 0, 1], {"a": [0.2, 0.7, 0.3, 0.6]}, bins=2)
    >>> ax.get_title()
    'calibration'
    """
    ax = _axes(ax)
    for name, score in _as_mapping(p).items():
        table = calibration_table(y, score, bins)
        ax.plot(table["mean_p"], table["observed"], marker="o", label=name)
    return _diagonal_frame(
        ax, "mean predicted probability", "observed rate", "calibration", "upper left"
    )


@fill_doc(**_DOC)
def plot_lift(y, p, groups: int = 10, ax=None):
    """Lift by score decile (1 = best scored) with cumulative capture.

    Parameters
    ----------
    {{y}}
    p : array-like
        Predicted probabilities.
    groups : int
    {{ax}}

    Examples
    --------
    >>> ax = plot_lift([0, 1, 0, 1, 1], [0.2, 0.7, 0.3, 0.6, 0.9], groups=5)
    >>> ax.get_xlabel()
    'score decile (1 = highest)'
    """
    ax = _axes(ax)
    table = lift_table(y, p, groups)
    ax.bar(table["decile"], table["lift"], color="#4C72B0", label="lift")
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_xlabel("score decile (1 = highest)")
    ax.set_ylabel("lift (rate / overall rate)")
    twin = ax.twinx()
    twin.plot(table["decile"], table["capture"], color="#DD8452", marker="o", label="capture")
    twin.set_ylim(0, 1.05)
    twin.set_ylabel("cumulative capture of payers")
    ax.set_title("lift and capture by decile")
    return ax


@fill_doc(**_DOC)
def plot_importance(importance: pd.DataFrame, top: int = 15, segment: str | None = None, ax=None):
    """Horizontal bars of the most important features.

    Parameters
    ----------
    importance : DataFrame
        From :meth:`recovery.models.Scorer.feature_importance` (``feature``,
        ``segment``, ``share``).
    top : int
        Features shown.
    segment : str, optional
        Segment to show; default the first.
    {{ax}}

    Examples
    --------
    >>> import pandas as pd
    >>> imp = pd.DataFrame({"feature": ["dpd", "kept"], "segment": "all", "share": [0.7, 0.3]})
    >>> plot_importance(imp).get_xlabel()
    'share of importance'
    """
    ax = _axes(ax)
    segment = segment or importance["segment"].iloc[0]
    part = importance[importance["segment"] == segment].nlargest(top, "share")[::-1]
    ax.barh(part["feature"], part["share"], color="#4C72B0")
    ax.set_xlabel("share of importance")
    ax.set_title(f"feature importance ({segment})")
    return ax


@fill_doc(**_DOC)
def plot_stability(stability: pd.DataFrame, variables=None, top: int = 6, ax=None):
    """PSI by month of the score and the most shifted features.

    Parameters
    ----------
    stability : DataFrame
        From :func:`recovery.models.monitoring.stability_by_month`.
    variables : sequence of str, optional
        Variables to draw; default ``score`` plus the ``top`` features with the
        largest maximum PSI.
    top : int
    {{ax}}

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"month": pd.to_datetime(["2024-01-31", "2024-02-29"]),
    ...                   "variable": "score", "psi": [0.01, 0.3]})
    >>> plot_stability(s).get_ylabel()
    'PSI vs training'
    """
    ax = _axes(ax)
    if variables is None:
        worst = (
            stability[stability["variable"] != "score"]
            .groupby("variable")["psi"]
            .max()
            .nlargest(top)
            .index.tolist()
        )
        variables = (["score"] if (stability["variable"] == "score").any() else []) + worst
    for name in variables:
        part = stability[stability["variable"] == name].sort_values("month")
        ax.plot(
            part["month"],
            part["psi"],
            marker=".",
            label=name,
            linewidth=2.5 if name == "score" else 1.0,
        )
    ax.axhline(0.10, color="grey", linestyle=":", linewidth=0.8)
    ax.axhline(0.25, color="grey", linestyle="--", linewidth=0.8)
    ax.set_ylabel("PSI vs training")
    ax.set_title("population stability by month")
    ax.legend(fontsize="small")
    return ax
