"""From a feature frame to the matrix a model sees: feature list, dtypes, stage.

A *feature frame* has one row per (account_id, as_of) scoring pair and one column per
feature (numbers, booleans or categories). This module decides which columns are
features (never keys, labels, dates or protected attributes), records each feature's
kind and categorical levels in a JSON-friendly *feature spec*, and turns a frame into a
float matrix the same way at training and at scoring time.

The collection **stage** of a row (DESIGN.md §1) is ``early`` (M1–M3, 1–90 days past
due), ``late`` (M4–M6 and beyond while still open) or ``charged_off`` (in the recovery
book).

Examples
--------
>>> import pandas as pd
>>> from recovery.models.design import assign_stage
>>> frame = pd.DataFrame({"dpd": [15, 100, 200], "status": ["open", "open", "charged_off"]})
>>> assign_stage(frame).tolist()
['early', 'late', 'charged_off']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.errors import ConfigError, DataError

__all__ = [
    "STAGES",
    "KEY_COLUMNS",
    "LABEL_COLUMNS",
    "assign_stage",
    "is_categorical",
    "infer_feature_spec",
    "design_matrix",
]

STAGES: tuple[str, ...] = ("early", "late", "charged_off")
"""Collection stages, in order: M1–M3, M4 and worse while open, charged off."""

KEY_COLUMNS: tuple[str, ...] = ("account_id", "as_of")
"""Columns that identify a scoring pair; never features."""

LABEL_COLUMNS: tuple[str, ...] = (
    "p_pay",
    "p_cure",
    "roll_back",
    "amount_collected",
    "min_payment",
    "overdue",
    "censored",
    "p_pay_censored",
    "p_cure_censored",
    "score",
)
"""Label columns (:data:`recovery.timeline.labels.LABEL_COLUMNS`) and scores that may travel
with a feature frame; never features. Columns ending in ``_true`` (simulator truth) or
``_censored`` are never features either."""

_NEVER_SUFFIXES = ("_true", "_censored")

_NEVER_FEATURES = {"customer_id", "month_end", "episode_start", "charge_off_date"}


def assign_stage(frame: pd.DataFrame, config: Config | None = None) -> pd.Series:
    """Collection stage of each row: ``early``, ``late`` or ``charged_off``.

    Uses ``stage`` when the frame already has it; otherwise ``status``
    (``charged_off`` wins) and the bucket index of ``dpd`` (days) from the config's
    bucket edges: buckets 1–3 (M1–M3, 1–90 days) are early, worse ones late.
    A ``bucket`` column is used when ``dpd`` is absent.

    Parameters
    ----------
    frame : DataFrame
        Rows to stage; needs ``stage``, or ``dpd`` or ``bucket`` (and optionally
        ``status``).
    config : Config, optional
        Bucket edges and charge-off threshold (days); defaults of DESIGN.md.

    Returns
    -------
    Series of str
        Stage per row, aligned on ``frame.index``.

    Examples
    --------
    >>> import pandas as pd
    >>> assign_stage(pd.DataFrame({"bucket": ["M1", "M3", "M5"]})).tolist()
    ['early', 'early', 'late']
    """
    if "stage" in frame.columns:
        stage = frame["stage"].astype(str)
        bad = sorted(set(stage.unique()) - set(STAGES))
        if bad:
            raise DataError(f"column 'stage' has unknown value(s) {bad}; expected {list(STAGES)}")
        return stage
    config = config or Config()
    names = list(config.aging.bucket_names)
    if "dpd" in frame.columns:
        dpd = pd.to_numeric(frame["dpd"], errors="coerce").fillna(0).to_numpy()
        index = config.aging.bucket_index(dpd)
        charged = dpd >= config.aging.charge_off_dpd
    elif "bucket" in frame.columns:
        position = {name: i for i, name in enumerate(names)}
        index = frame["bucket"].map(position).fillna(len(names) - 1).to_numpy(dtype=int)
        charged = np.zeros(len(frame), dtype=bool)
    else:
        raise DataError(
            "cannot tell the collection stage: the frame needs a 'stage', 'dpd' or 'bucket' column"
        )
    if "status" in frame.columns:
        charged = (frame["status"].astype(str) == "charged_off").to_numpy()
    stage = np.where(charged, "charged_off", np.where(index <= 3, "early", "late"))
    return pd.Series(stage, index=frame.index, name="stage")


def is_categorical(series: pd.Series) -> bool:
    """Whether a feature column is categorical for a scorer (category, object or string).

    The feature spec records each feature's kind from this test at training; scoring
    data must pass it the same way (:func:`recovery.models.card.check_frame`).

    Parameters
    ----------
    series : pandas.Series

    Returns
    -------
    bool

    Examples
    --------
    >>> is_categorical(pd.Series(["M1", "M2"])), is_categorical(pd.Series([1, 2]))
    (True, False)
    """
    return (
        isinstance(series.dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(series.dtype)
        or pd.api.types.is_string_dtype(series.dtype)
    )


def infer_feature_spec(
    frame: pd.DataFrame,
    features: Sequence[str] | None = None,
    exclude: Iterable[str] = (),
    protected: Iterable[str] = (),
    allow_protected: bool = False,
    max_levels: int = 50,
) -> list[dict[str, Any]]:
    """Choose the feature columns of a frame and record their kind and levels.

    Parameters
    ----------
    frame : DataFrame
        Training feature frame.
    features : sequence of str, optional
        Explicit feature list; default every column except keys, labels, dates,
        ``exclude`` and protected attributes.
    exclude : iterable of str
        More columns to leave out (e.g. the target).
    protected : iterable of str
        Protected attributes (config ``categories.protected_attributes``); left out
        by default and refused in an explicit list unless ``allow_protected``.
    allow_protected : bool
        Let an explicit ``features`` list contain protected attributes.
    max_levels : int
        Categorical columns with more distinct values than this are refused (an
        identifier, not a feature).

    Returns
    -------
    list of dict
        One entry per feature: ``name``, ``kind`` (``numeric`` or ``categorical``),
        ``dtype`` (the training dtype, as text) and ``levels`` (sorted categories).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"account_id": ["a", "b"], "dpd": [3, 40],
    ...                       "channel": ["sms", "call"], "gender": ["f", "m"]})
    >>> [(f["name"], f["kind"]) for f in infer_feature_spec(frame, protected=["gender"])]
    [('dpd', 'numeric'), ('channel', 'categorical')]
    """
    protected = set(protected)
    skip = set(KEY_COLUMNS) | set(LABEL_COLUMNS) | _NEVER_FEATURES | set(exclude)
    if features is None:
        names = [
            c
            for c in frame.columns
            if c not in skip
            and not str(c).endswith(_NEVER_SUFFIXES)
            and not str(c).startswith("_")
            and c not in protected
            and not pd.api.types.is_datetime64_any_dtype(frame[c].dtype)
        ]
    else:
        names = list(features)
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise DataError(f"feature column(s) {missing} are not in the training frame")
        used = sorted(set(names) & protected)
        if used and not allow_protected:
            raise ConfigError(
                f"protected attribute(s) {used} listed as features; they are kept out of "
                "models by default (pass allow_protected=True to override deliberately)"
            )
    if not names:
        raise DataError("the training frame has no feature columns")
    spec = []
    for name in names:
        series = frame[name]
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            raise DataError(f"feature '{name}' is a date; turn it into a number of days first")
        if is_categorical(series):
            levels = sorted(str(v) for v in pd.unique(series.dropna()))
            if len(levels) > max_levels:
                raise DataError(
                    f"feature '{name}' has {len(levels)} distinct values (more than "
                    f"{max_levels}); it looks like an identifier — drop it or bin it"
                )
            spec.append(
                {"name": name, "kind": "categorical", "dtype": str(series.dtype), "levels": levels}
            )
        else:
            spec.append({"name": name, "kind": "numeric", "dtype": str(series.dtype), "levels": []})
    return spec


def design_matrix(frame: pd.DataFrame, spec: Sequence[dict[str, Any]]) -> np.ndarray:
    """The float matrix of a frame, columns in spec order.

    Numeric and boolean features become float64 (missing → NaN); a categorical
    feature becomes the index of its value in the training levels (unseen or missing
    → NaN).

    Parameters
    ----------
    frame : DataFrame
        Rows to encode; must hold every feature of ``spec``.
    spec : sequence of dict
        From :func:`infer_feature_spec`.

    Returns
    -------
    ndarray of float64, shape (n_rows, n_features)

    Examples
    --------
    >>> import pandas as pd
    >>> spec = [{"name": "dpd", "kind": "numeric"},
    ...         {"name": "channel", "kind": "categorical", "levels": ["call", "sms"]}]
    >>> design_matrix(pd.DataFrame({"dpd": [3, 40], "channel": ["sms", "visit"]}), spec)
    array([[ 3.,  1.],
           [40., nan]])
    """
    out = np.empty((len(frame), len(spec)), dtype=np.float64)
    for j, feature in enumerate(spec):
        series = frame[feature["name"]]
        if feature["kind"] == "categorical":
            codes = pd.Categorical(
                series.astype("string").astype(object), categories=feature["levels"]
            ).codes
            out[:, j] = np.where(codes < 0, np.nan, codes)
        else:
            out[:, j] = pd.to_numeric(series, errors="coerce").astype("float64").to_numpy()
    return out
