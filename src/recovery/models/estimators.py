"""The models a scorer wraps: the deterministic LightGBM default, and telling LightGBM apart.

A :class:`recovery.models.scorer.Scorer` fits a LightGBM model (trees, with early
stopping and native categorical features) or a linear scikit-learn model exposing
``coef_``; :func:`default_estimator` is the LightGBM model it uses when none is given,
with settings that make results repeatable on any machine.

Examples
--------
>>> default_estimator("regression").__class__.__name__
'LGBMRegressor'
"""

from __future__ import annotations

from typing import Any

__all__ = ["default_estimator", "is_lightgbm"]


def default_estimator(task: str = "binary", random_state: int = 0, n_jobs: int = 1):
    """The default LightGBM model, with deterministic settings.

    Parameters
    ----------
    task : {"binary", "regression"}
    random_state : int
        Seed of bagging and feature sampling.
    n_jobs : int
        Threads; fixed so results do not depend on the machine.

    Examples
    --------
    >>> default_estimator("binary").get_params()["deterministic"]
    True
    """
    import lightgbm as lgb

    params = dict(
        n_estimators=3000,
        learning_rate=0.03,
        num_leaves=15,
        min_child_samples=200,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.5,
        reg_lambda=5.0,
        random_state=random_state,
        n_jobs=n_jobs,
        deterministic=True,
        force_row_wise=True,
        verbose=-1,
    )
    if task == "regression":
        return lgb.LGBMRegressor(**params)
    return lgb.LGBMClassifier(**params)


def is_lightgbm(estimator: Any) -> bool:
    """Whether a model is a LightGBM scikit-learn model (False when LightGBM is absent).

    Parameters
    ----------
    estimator : object

    Returns
    -------
    bool

    Examples
    --------
    >>> is_lightgbm(default_estimator()), is_lightgbm(object())
    (True, False)
    """
    try:
        import lightgbm as lgb
    except ImportError:  # pragma: no cover
        return False
    return isinstance(estimator, lgb.LGBMModel)
