"""The default learner of the operations analytics: a small, deterministic LightGBM.

The case-mix model of agent effectiveness, the uplift model of the strategy and the
simulator's policy priorities each fit a small gradient-boosted model by default.
:func:`small_lightgbm` gives it with the settings that make results repeatable on
any machine (fixed seed, deterministic histogram construction, one thread, silent);
each caller sets its own size.

Examples
--------
>>> m = small_lightgbm(random_state=3, n_estimators=50)
>>> m.get_params()["n_estimators"], m.get_params()["random_state"]
(50, 3)
"""

from __future__ import annotations

from typing import Any

__all__ = ["small_lightgbm"]


def small_lightgbm(kind: str = "classifier", random_state: int = 0, **params: Any) -> Any:
    """A LightGBM classifier or regressor with deterministic, single-threaded settings.

    Parameters
    ----------
    kind : {"classifier", "regressor"}
    random_state : int
        Seed of bagging and feature sampling.
    **params
        Size and regularisation (``n_estimators``, ``min_child_samples``, …); the
        defaults are ``learning_rate=0.05`` and ``num_leaves=15``.

    Returns
    -------
    lightgbm.LGBMClassifier or lightgbm.LGBMRegressor
        Unfitted.
    """
    import lightgbm as lgb

    if kind not in ("classifier", "regressor"):
        raise ValueError(f"kind must be 'classifier' or 'regressor', got {kind!r}")
    settings = {
        "learning_rate": 0.05,
        "num_leaves": 15,
        **params,
        "random_state": random_state,
        "deterministic": True,
        "n_jobs": 1,
        "verbose": -1,
    }
    model = lgb.LGBMClassifier if kind == "classifier" else lgb.LGBMRegressor
    return model(**settings)
