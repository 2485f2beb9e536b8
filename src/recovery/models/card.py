"""Saving and loading scorers without pickle: text models plus a JSON model card.

A model directory holds

- ``card.json`` — the model card: target, task, label horizon (days), stage
  strategy, features with kinds, training dtypes and levels, training window, row
  counts, metrics, calibration maps, the training data fingerprint (SHA-256), the
  reference distributions for PSI, package versions, the scorer's parameters and
  the project config, and a SHA-256 checksum of every model file;
- ``model_<segment>.txt`` — LightGBM's own text model (``Booster.save_model``), or
  ``model_<segment>.json`` — a linear model's coefficients, centring, scaling and
  fill values.

Nothing is pickled, so a model can be read, diffed and loaded safely. Loading
(:func:`recovery.models.scorer.load_model`, which builds the scorer from the card's
parameters and hands it to :func:`restore_fitted`) verifies the checksums; scoring checks the card against the data (missing
features, changed types) and raises :class:`recovery.errors.ModelCardError` naming
what to fix.

Examples
--------
>>> import tempfile, numpy as np, pandas as pd
>>> from sklearn.linear_model import LogisticRegression
>>> from recovery.models import Scorer, load_model
>>> rng = np.random.default_rng(1)
>>> X = pd.DataFrame({"account_id": [f"A{i}" for i in range(400)],
...                   "as_of": pd.Timestamp("2024-01-31"), "dpd": rng.integers(1, 90, 400)})
>>> y = rng.uniform(size=400) < 0.3
>>> scorer = Scorer(LogisticRegression(), validation_fraction=0).fit(X, y)
>>> with tempfile.TemporaryDirectory() as tmp:
...     _ = scorer.save(tmp)
...     again = load_model(tmp)
>>> bool(np.array_equal(again.predict(X), scorer.predict(X)))
True
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.errors import ModelCardError
from recovery.models.calibration import Calibrator
from recovery.models.design import is_categorical
from recovery.models.estimators import default_estimator
from recovery.models.segment import BoosterModel, LinearModel

__all__ = [
    "save_model",
    "read_card",
    "out_of_time_tested",
    "restore_fitted",
    "check_frame",
    "CARD_FILE",
    "CARD_FORMAT",
]

CARD_FILE = "card.json"
CARD_FORMAT = "recovery-model-card/1"
_PACKAGES = ("recovery", "lightgbm", "scikit-learn", "numpy", "pandas")


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover
            out[name] = "not installed"
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return str(pd.Timestamp(value).date())
    return value


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _estimator_description(scorer) -> dict[str, Any]:
    est = scorer.estimator
    if est is None:
        est = default_estimator(scorer.task_, scorer.random_state)
    params = {
        k: v
        for k, v in est.get_params().items()
        if isinstance(v, (int, float, str, bool)) or v is None
    }
    return {"class": f"{type(est).__module__}.{type(est).__name__}", "params": params}


def save_model(scorer, directory, metrics: dict | None = None, extra: dict | None = None) -> Path:
    """Save a fitted scorer to a directory (replaced as a whole, atomically).

    Parameters
    ----------
    scorer : Scorer
        Fitted scorer.
    directory : str or Path
        Target directory; written beside under a temporary name, then renamed, so a
        failure leaves any previous model intact.
    metrics : dict, optional
        More metrics to record (e.g. out-of-time test metrics).
    extra : dict, optional
        More JSON-ready facts for the card (e.g. the test window).

    Returns
    -------
    Path
        The model directory.
    """
    scorer._check_fitted()
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = directory.with_name(f".{directory.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        segments = {}
        for name, model in scorer.segments_.items():
            suffix = ".txt" if model.kind == "lightgbm" else ".json"
            path = tmp / f"model_{name}{suffix}"
            model.save(path)
            segments[name] = {
                **model.describe(),
                "file": path.name,
                "sha256": _sha256(path),
                "calibration": scorer.calibrators_[name].to_dict(),
                "calibration_candidates": scorer.calibration_scores_.get(name, {}),
                "rows": scorer.row_counts_.get(name, {}),
                "validation_metrics": scorer.validation_metrics_.get(name, {}),
            }
        params = {
            k: v
            for k, v in scorer.get_params(deep=False).items()
            if k not in ("estimator", "config")
        }
        config = scorer.config or Config()
        card = {
            "format": CARD_FORMAT,
            "target": scorer.target,
            "task": scorer.task_,
            "horizon_days": scorer.horizon_days_,
            "stage_strategy": scorer.stage_strategy,
            "stages": scorer.stages_,
            "buckets": scorer.buckets_,
            "features": scorer.feature_spec_,
            "training_window": scorer.training_window_,
            "row_counts": scorer.row_counts_,
            "metrics": _card_metrics(scorer.validation_metrics_, metrics),
            "data_fingerprint": scorer.fingerprint_,
            "segments": segments,
            "estimator": _estimator_description(scorer),
            "params": params,
            "config": config.to_dict(),
            "package_versions": _versions(),
            "offsets": getattr(scorer, "offsets_", {}) or {},
            "recalibration": getattr(scorer, "recalibration_", None),
            "reference": scorer.reference_,
            **(extra or {}),
        }
        (tmp / CARD_FILE).write_text(
            json.dumps(_jsonable(card), indent=1, sort_keys=False), encoding="utf-8"
        )
        old = directory.with_name(f".{directory.name}.old")
        if directory.exists():
            if old.exists():
                shutil.rmtree(old)
            os.replace(directory, old)
        os.replace(tmp, directory)
        if old.exists():
            shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    scorer.card_ = read_card(directory)
    return directory


def _card_metrics(validation: dict, metrics: dict | None) -> dict[str, Any]:
    out = {"validation": validation, **(metrics or {})}
    out["out_of_time_test"] = out_of_time_tested({"metrics": out})
    return out


def out_of_time_tested(card: dict[str, Any]) -> bool:
    """Whether a model card records an out-of-time test (held-out later months).

    A model trained with no test months (``recovery train --test-months 0``, or saved
    without test metrics) has ``metrics.out_of_time_test`` false; for cards written
    before that field, the presence of test metrics decides.

    Examples
    --------
    >>> out_of_time_tested({"metrics": {"test": {"auc": 0.8}}})
    True
    >>> out_of_time_tested({"metrics": {"out_of_time_test": False, "test": {}}})
    False
    """
    metrics = card.get("metrics") or {}
    if "out_of_time_test" in metrics:
        return bool(metrics["out_of_time_test"])
    return bool(metrics.get("test"))


def read_card(directory) -> dict[str, Any]:
    """The model card of a model directory, as a dict.

    Raises
    ------
    ModelCardError
        When the directory has no readable card of this format.
    """
    path = Path(directory) / CARD_FILE
    if not path.is_file():
        raise ModelCardError(
            f"{directory} is not a model directory: {CARD_FILE} is missing "
            "(train one with `recovery train`)"
        )
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelCardError(f"model card {path} is not valid JSON: {exc}") from None
    if card.get("format") != CARD_FORMAT:
        raise ModelCardError(
            f"model card {path} has format {card.get('format')!r}; this version reads "
            f"{CARD_FORMAT!r} — retrain the model"
        )
    return card


def restore_fitted(scorer, card: dict[str, Any], directory) -> Any:
    """Give an unfitted scorer the fitted state recorded in a model directory.

    Reads each segment's model file after checking it against the checksum in the
    card, and sets the scorer's fitted attributes from the card
    (:func:`recovery.models.scorer.load_model` builds the scorer and calls this).

    Parameters
    ----------
    scorer : Scorer
        Built with the card's parameters.
    card : dict
        From :func:`read_card`.
    directory : str or Path
        The model directory.

    Returns
    -------
    Scorer
        ``scorer``, fitted, with ``card_`` and ``model_dir_``.

    Raises
    ------
    ModelCardError
        A model file named in the card is missing or does not match its checksum.
    """
    directory = Path(directory)
    segments, calibrators = {}, {}
    for name, info in card["segments"].items():
        path = directory / info["file"]
        if not path.is_file():
            raise ModelCardError(f"model file {path} named in the card is missing")
        if _sha256(path) != info["sha256"]:
            raise ModelCardError(
                f"model file {path} does not match the checksum in its card; the "
                "directory was edited or mixed with another model — retrain or restore it"
            )
        segments[name] = (
            BoosterModel.load(path) if info["kind"] == "lightgbm" else LinearModel.load(path)
        )
        calibrators[name] = Calibrator.from_dict(info["calibration"])
    scorer.segments_ = segments
    scorer.calibrators_ = calibrators
    scorer.task_ = card["task"]
    scorer.horizon_days_ = card["horizon_days"]
    scorer.feature_spec_ = card["features"]
    scorer.training_window_ = card["training_window"]
    scorer.row_counts_ = {k: v for k, v in card["row_counts"].items()}
    scorer.validation_metrics_ = {k: v["validation_metrics"] for k, v in card["segments"].items()}
    scorer.calibration_scores_ = {
        k: v["calibration_candidates"] for k, v in card["segments"].items()
    }
    scorer.fingerprint_ = card["data_fingerprint"]
    scorer.reference_ = card["reference"]
    scorer.stages_ = list(card["stages"])
    scorer.buckets_ = list(card.get("buckets") or [])
    scorer.offsets_ = dict(card.get("offsets") or {})
    if card.get("recalibration"):
        scorer.recalibration_ = card["recalibration"]
    scorer.n_features_in_ = len(card["features"])
    scorer.feature_names_in_ = np.array([f["name"] for f in card["features"]], dtype=object)
    scorer.card_ = card
    scorer.model_dir_ = str(directory)
    return scorer


def check_frame(scorer, X: pd.DataFrame) -> None:
    """Check a feature frame against a scorer's feature spec before scoring.

    Raises
    ------
    ModelCardError
        When features are missing or a feature changed between numeric and
        categorical; the message lists every problem and the model it concerns.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> s = SimpleNamespace(feature_spec_=[{"name": "dpd", "kind": "numeric", "dtype": "int64"}])
    >>> check_frame(s, pd.DataFrame({"dpd": ["ten"]}))
    Traceback (most recent call last):
    ...
    recovery.errors.ModelCardError: the scoring data does not match the model card: feature 'dpd' was numeric (int64) at training but is object now
    """
    problems = []
    missing = [
        f["name"]
        for f in scorer.feature_spec_
        if f["name"] not in X.columns and f["name"] != "stage"
    ]
    if missing:
        problems.append(f"missing feature(s) {missing}")
    for feature in scorer.feature_spec_:
        name = feature["name"]
        if name not in X.columns:
            continue
        series = X[name]
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            now_categorical = None
        else:
            now_categorical = is_categorical(series)
        if feature["kind"] == "numeric" and now_categorical is not False:
            problems.append(
                f"feature '{name}' was numeric ({feature.get('dtype')}) at training "
                f"but is {series.dtype} now"
            )
        elif feature["kind"] == "categorical" and now_categorical is not True:
            problems.append(
                f"feature '{name}' was categorical at training but is {series.dtype} now"
            )
    if problems:
        where = getattr(scorer, "model_dir_", None)
        model = f" at {where}" if where else ""
        raise ModelCardError(
            f"the scoring data does not match the model card{model}: " + "; ".join(problems)
        )
