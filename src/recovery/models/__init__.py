"""Propensity-to-pay, curability and expected-amount models (DESIGN.md §3, §4).

- :class:`Scorer` — the estimator (LightGBM or a logistic baseline), stage-aware,
  with out-of-time early stopping and calibration (:mod:`.scorer`);
- :mod:`.evaluation` — AUC, Gini, KS, Brier, log loss, lift/capture, calibration
  and ECE, with oracle metrics against true probabilities;
- :mod:`.reasons` — reason codes from feature contributions;
- :mod:`.card` — saving as LightGBM text / JSON plus a JSON model card, no pickle
  (loading: :func:`load_model` in :mod:`.scorer`);
- :mod:`.estimators` — the deterministic LightGBM default;
- :mod:`.monitoring` — PSI by month and performance as labels mature;
- :mod:`.split` — out-of-time splits with a one-horizon gap;
- :mod:`.scores` — the scores table with bands and reasons;
- :mod:`.training` — from a portfolio: features → labels → fit → evaluate;
- :mod:`.plots` — ROC, calibration, lift, importance, stability.

Examples
--------
>>> from recovery.models import Scorer
>>> Scorer(target="p_cure", stage_strategy="separate").get_params()["stage_strategy"]
'separate'
"""

from __future__ import annotations

from recovery.models import evaluation, plots, split
from recovery.models.calibration import Calibrator, choose_calibration
from recovery.models.card import check_frame, out_of_time_tested, read_card, save_model
from recovery.models.design import STAGES, assign_stage, design_matrix, infer_feature_spec
from recovery.models.estimators import default_estimator
from recovery.models.evaluation import *  # noqa: F403 (the whole of evaluation.__all__)
from recovery.models.monitoring import (
    performance_by_month,
    population_stability_index,
    score_distribution_by_month,
    stability_by_month,
    stability_table,
)
from recovery.models.plots import *  # noqa: F403 (the whole of plots.__all__)
from recovery.models.reasons import describe_feature, reason_codes
from recovery.models.scorer import TARGETS, Scorer, load_model
from recovery.models.scores import score_band, score_table
from recovery.models.split import *  # noqa: F403 (the whole of split.__all__)

__all__ = [
    "Scorer",
    "TARGETS",
    "STAGES",
    "default_estimator",
    "Calibrator",
    "choose_calibration",
    "save_model",
    "load_model",
    "read_card",
    "out_of_time_tested",
    "check_frame",
    "assign_stage",
    "design_matrix",
    "infer_feature_spec",
    *evaluation.__all__,
    "population_stability_index",
    "stability_by_month",
    "stability_table",
    "score_distribution_by_month",
    "performance_by_month",
    *plots.__all__,
    "reason_codes",
    "describe_feature",
    "score_band",
    "score_table",
    *split.__all__,
]
