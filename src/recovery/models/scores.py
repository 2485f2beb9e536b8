"""The scores table: what a work list is built from.

One row per scored ``(account_id, as_of)``: ``p_pay`` (propensity to pay within the
p_pay horizon), ``p_cure`` (curability), ``amount_given_payment`` (currency),
``expected_amount`` = ``p_pay × amount_given_payment`` (expected collection,
DESIGN.md §3), a score band of each probability and the reason codes of ``p_pay``.

Score bands (:func:`score_band`) cut a probability at fixed edges, so a band means the
same thing from month to month: A ≥ 0.60, B 0.40–0.60, C 0.20–0.40, D 0.10–0.20,
E < 0.10.

Examples
--------
>>> from recovery.models.scores import score_band
>>> score_band([0.05, 0.15, 0.35, 0.5, 0.9]).tolist()
['E', 'D', 'C', 'B', 'A']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from recovery.errors import ModelCardError

__all__ = ["score_band", "score_table", "BAND_EDGES", "BAND_NAMES"]

BAND_EDGES: tuple[float, ...] = (0.10, 0.20, 0.40, 0.60)
"""Lower probability edge of bands D, C, B, A."""
BAND_NAMES: tuple[str, ...] = ("E", "D", "C", "B", "A")
"""Band names from lowest to highest probability."""


def score_band(
    p, edges: Sequence[float] = BAND_EDGES, names: Sequence[str] = BAND_NAMES
) -> np.ndarray:
    """Band of each probability: ``names[i]`` where ``edges[i-1] <= p < edges[i]``.

    Parameters
    ----------
    p : array-like
        Probabilities.
    edges : sequence of float
        Increasing band edges (``len(names) - 1`` of them).
    names : sequence of str
        Band names from lowest to highest.

    Returns
    -------
    ndarray of str (object); missing probabilities get ``""``.
    """
    p = np.asarray(p, dtype=float)
    if len(names) != len(edges) + 1:
        raise ValueError("names must have one more entry than edges")
    out = np.asarray(names, dtype=object)[np.searchsorted(np.asarray(edges), p, side="right")]
    return np.where(np.isnan(p), "", out).astype(object)


def score_table(
    frame: pd.DataFrame,
    models: Mapping[str, object],
    top_reasons: int = 3,
    descriptions: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Score a feature frame with the p_pay, p_cure and amount models given.

    Parameters
    ----------
    frame : DataFrame
        Feature frame (``account_id``, ``as_of`` and the features the models need).
    models : mapping
        Target name → fitted or loaded :class:`~recovery.models.Scorer`, among
        ``p_pay``, ``p_cure``, ``roll_back`` and ``amount``; each model's
        ``target`` must match its key.
    top_reasons : int
        Reason codes per row (from the p_pay model, else the p_cure model).
    descriptions : mapping, optional
        Feature name → words for the reasons.

    Returns
    -------
    DataFrame
        ``account_id``, ``as_of``, ``stage`` and, for the models given, ``p_pay``,
        ``p_pay_band``, ``p_cure``, ``p_cure_band``, ``roll_back``,
        ``amount_given_payment``, ``expected_amount`` (needs p_pay and amount) and
        ``reason_1`` … ``reasons``. A probability is missing (band ``""``) where its
        model does not apply (:meth:`~recovery.models.Scorer.in_domain`: p_cure after
        charge-off, roll-back before M3).
    """
    from recovery.models.design import assign_stage

    for key, model in models.items():
        if getattr(model, "target", key) != key:
            raise ModelCardError(f"the model given for '{key}' was trained for '{model.target}'")
    first = next(iter(models.values()), None)
    config = getattr(first, "config", None)
    out = frame[["account_id", "as_of"]].copy()
    out["stage"] = assign_stage(frame, config).to_numpy()
    for key in ("p_pay", "p_cure", "roll_back"):
        if key in models:
            ok = models[key].in_domain(frame)
            values = np.full(len(frame), np.nan)
            if ok.any():
                values[ok] = models[key].predict(frame[ok])
            out[key] = values
            out[f"{key}_band"] = score_band(values)
    if "amount" in models:
        out["amount_given_payment"] = models["amount"].predict(frame)
        if "p_pay" in models:
            out["expected_amount"] = out["p_pay"] * out["amount_given_payment"]
    explainer = models.get("p_pay") or models.get("p_cure")
    if explainer is not None and top_reasons > 0:
        reasons = explainer.explain(frame, top=top_reasons, descriptions=descriptions)
        keep = [c for c in reasons.columns if not c.startswith("reason_feature_")]
        out = out.join(reasons[keep])
    return out.reset_index(drop=True)
