"""Reason codes: why an account scored as it did, in a collector's words.

For each scored row the features with the largest contributions to the model's
raw score (LightGBM ``pred_contrib=True``: SHAP values on the log-odds scale; for a
linear model coefficient × standardised value) are named, with their value and
whether they raise or lower the score, e.g.
``"kept promises in the last 90 days = 2 (raises)"``.

Protected attributes (config ``categories.protected_attributes``) are never model
features by default, and are never named as reasons even when a user forced them in.

Examples
--------
>>> from recovery.models.reasons import describe_feature
>>> describe_feature("my_custom_flag")
'my custom flag'
>>> describe_feature("dpd", {"dpd": "days past due"})
'days past due'
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.models.design import assign_stage

__all__ = ["reason_codes", "describe_feature", "FEATURE_WORDS"]

FEATURE_WORDS: dict[str, str] = {
    "dpd": "days past due",
    "bucket": "aging bucket",
    "stage": "collection stage",
    "balance": "outstanding balance",
    "amount_overdue": "overdue amount",
    "debt_age_days": "age of the debt (days)",
    "worst_dpd_to_date": "worst days past due so far",
    "months_on_book": "months since the loan was made",
    "principal": "amount lent",
    "bureau_score": "credit bureau score at application",
    "has_guarantor": "has a guarantor",
    "has_collateral": "has collateral",
    "product": "product",
}
"""Plain words for common feature names; others fall back to the name spelled out."""


def describe_feature(name: str, descriptions: Mapping[str, str] | None = None) -> str:
    """Plain-language description of a feature name.

    Looks in ``descriptions``, then in :data:`FEATURE_WORDS`, then in the feature
    catalogue of :mod:`recovery.timeline.catalogue` when it has one; otherwise spells the name
    out (underscores become spaces).
    """
    if descriptions and name in descriptions:
        return str(descriptions[name])
    if name in FEATURE_WORDS:
        return FEATURE_WORDS[name]
    catalogue = _catalogue_words()
    if name in catalogue:
        return catalogue[name]
    return name.replace("_", " ")


def _catalogue_words() -> dict[str, str]:
    try:
        from recovery.timeline.catalogue import feature_catalogue
    except Exception:  # noqa: BLE001 - optional: the features module may be absent
        return {}
    try:
        catalogue = feature_catalogue()
    except Exception:  # noqa: BLE001
        return {}
    name = "name" if "name" in catalogue.columns else "feature"
    text = "definition" if "definition" in catalogue.columns else "description"
    if name not in catalogue.columns or text not in catalogue.columns:
        return {}
    words = catalogue[text].astype(str).str.replace(r"\s*\(.*?\)", "", regex=True)
    return dict(zip(catalogue[name].astype(str), words, strict=True))


def _format_values(values: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.map({True: "yes", False: "no"}).astype(object).fillna("missing")
    if pd.api.types.is_numeric_dtype(values.dtype):
        v = pd.to_numeric(values, errors="coerce").astype(float)
        rounded = np.where(np.abs(v) >= 100, np.round(v, 0), np.round(v, 2))
        text = (
            pd.Series(rounded, index=values.index).astype(str).str.replace(r"\.0$", "", regex=True)
        )
        return text.where(v.notna(), "missing")
    return values.astype("string").fillna("missing").astype(object)


def reason_codes(
    scorer,
    X: pd.DataFrame,
    top: int = 3,
    descriptions: Mapping[str, str] | None = None,
    config: Config | None = None,
) -> pd.DataFrame:
    """Top contributing features of each row, as sentences.

    Parameters
    ----------
    scorer : Scorer
        A fitted or loaded scorer.
    X : DataFrame
        Feature frame to explain.
    top : int
        Reasons per row.
    descriptions : mapping, optional
        Feature name → words, overriding the defaults.
    config : Config, optional
        Protected attributes (never named); default the scorer's config.

    Returns
    -------
    DataFrame
        Aligned on ``X.index``: ``reason_1`` … ``reason_<top>`` (text, empty when a
        row has fewer non-zero contributions), ``reason_feature_1`` … (feature names)
        and ``reasons`` (the sentences joined by ``"; "``).
    """
    config = config or getattr(scorer, "config", None) or Config()
    contrib = scorer.contributions(X).drop(columns="baseline")
    protected = set(config.categories.protected_attributes)
    names = [c for c in contrib.columns if c not in protected]
    values = contrib[names].to_numpy()
    n, k = values.shape[0], min(top, len(names))
    order = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :k]
    picked = np.take_along_axis(values, order, axis=1)
    stage_frame = X
    if "stage" in names and "stage" not in X.columns:
        stage_frame = X.assign(stage=assign_stage(X, config))
    out = pd.DataFrame(index=X.index)
    joined = pd.Series([""] * n, index=X.index, dtype=object)
    for slot in range(k):
        text = np.full(n, "", dtype=object)
        feature_col = np.full(n, "", dtype=object)
        for j, name in enumerate(names):  # loop over features, rows vectorised
            mask = (order[:, slot] == j) & (picked[:, slot] != 0)
            if not mask.any():
                continue
            source = stage_frame[name] if name in stage_frame.columns else None
            shown = (
                _format_values(source[mask]).to_numpy()
                if source is not None
                else np.full(mask.sum(), "", dtype=object)
            )
            direction = np.where(picked[mask, slot] > 0, "(raises)", "(lowers)")
            words = describe_feature(name, descriptions)
            text[mask] = (
                words + " = " + shown.astype(str).astype(object) + " " + direction.astype(object)
            )
            feature_col[mask] = name
        out[f"reason_{slot + 1}"] = text
        out[f"reason_feature_{slot + 1}"] = feature_col
        joined = np.where(
            text == "", joined, np.where(joined == "", text, joined + "; " + text)
        ).astype(object)
    out["reasons"] = joined
    return out
