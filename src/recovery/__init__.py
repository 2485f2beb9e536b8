"""recovery — collections analytics for lenders.

Turns repayment schedules, payments and collection logs into point-in-time aging and
behaviour features, propensity-to-pay and curability scores, roll rates, recovery by
debt age, agent effectiveness and a monthly recovery report.

The public API is listed in ``__all__``; each name lives in a module named after its
concept (``recovery.timeline.aging``, ``recovery.analytics.roll_rates``, …) and is imported on first use,
so ``import recovery`` stays fast.

Examples
--------
>>> import recovery
>>> portfolio = recovery.load_sample()
>>> recovery.Config().aging.bucket_of(45)
'M2'
"""

from __future__ import annotations

import importlib
from typing import Any

from recovery.config import Config, load_config
from recovery.data.portfolio import Portfolio
from recovery.errors import (
    ConfigError,
    DataError,
    MissingColumnError,
    ModelCardError,
    RecoveryError,
    ValidationError,
)
from recovery.version import __version__

# public name -> module that defines it (imported lazily, PEP 562)
_LAZY = {
    # data
    "load_portfolio": "recovery.data.io",
    "save_portfolio": "recovery.data.io",
    "validate_portfolio": "recovery.data.schema",
    "load_sample": "recovery.datasets",
    "load_sample_truth": "recovery.datasets",
    "read_sql_portfolio": "recovery.data.sources",
    "write_sql_portfolio": "recovery.data.sources",
    "load_mapping": "recovery.data.mapping",
    "Mapping": "recovery.data.mapping",
    "MappingError": "recovery.data.mapping",
    "starter_mapping": "recovery.data.starter_mapping",
    "write_mapping": "recovery.data.starter_mapping",
    "snapshots_from_performance": "recovery.data.performance",
    "portfolio_from_performance": "recovery.data.performance",
    # partitioned datasets and the Dask engine (pip install "recovery[dask]")
    "write_partitioned": "recovery.engine.partitioning",
    "open_partitioned": "recovery.engine.partitioning",
    "read_partition": "recovery.engine.partitioning",
    "dask_client": "recovery.engine.dask",
    "distributed_snapshots": "recovery.engine.dask",
    "distributed_features": "recovery.engine.dask",
    "distributed_labels": "recovery.engine.dask",
    "distributed_scores": "recovery.engine.dask",
    "simulate_portfolio": "recovery.simulate",
    "Truth": "recovery.simulate",
    # aging, features, labels
    "account_states": "recovery.timeline.aging",
    "snapshots": "recovery.timeline.aging",
    "episodes": "recovery.timeline.aging",
    "build_features": "recovery.timeline.features",
    "snapshot_features": "recovery.timeline.snapshot_features",
    "feature_catalogue": "recovery.timeline.catalogue",
    "build_labels": "recovery.timeline.labels",
    "snapshot_labels": "recovery.timeline.labels",
    # models
    "Scorer": "recovery.models",
    "load_model": "recovery.models",
    "score_table": "recovery.models",
    # portfolio analytics
    "roll_rate_matrix": "recovery.analytics.roll_rates",
    "roll_rate_trends": "recovery.analytics.roll_rates",
    "flow_rates": "recovery.analytics.roll_rates",
    "vintage_curves": "recovery.analytics.vintages",
    "monthly_kpis": "recovery.analytics.kpis",
    "collection_cycle": "recovery.analytics.collection_cycle",
    "recovery_by_age": "recovery.analytics.recovery_curves",
    "age_split_comparison": "recovery.analytics.recovery_curves",
    "cumulative_recovery_curves": "recovery.analytics.recovery_curves",
    "liquidation_curves": "recovery.analytics.liquidation",
    "ERCForecaster": "recovery.analytics.liquidation",
    "RollRateForecaster": "recovery.analytics.forecast",
    # agents, compliance, strategy
    "spell_outcomes": "recovery.operations.spells",
    "AgentEffectiveness": "recovery.operations.agents",
    "spell_month_outcomes": "recovery.operations.spells",
    "reliability_curve": "recovery.operations.agents",
    "plot_reliability": "recovery.operations.agent_plots",
    "activity_kpis": "recovery.operations.activity",
    "flag_actions": "recovery.operations.compliance",
    "check_offers": "recovery.operations.offer_rules",
    "forborne": "recovery.operations.offer_rules",
    "OfferResponseModel": "recovery.operations.offer_response",
    "UsualCollections": "recovery.operations.offer_value",
    "offer_value": "recovery.operations.offer_value",
    "recommend_offers": "recovery.operations.offer_recommend",
    "offer_policy_value": "recovery.operations.offer_policy_value",
    "suppressions": "recovery.operations.strategy",
    "recommend": "recovery.operations.strategy",
    "build_worklists": "recovery.operations.strategy",
    "estimate_uplift": "recovery.operations.strategy",
    # report
    "render_monthly_report": "recovery.report.render",
    # the case file of a customer
    "case_file": "recovery.report.case_file",
    "case_files": "recovery.report.case_file",
    "load_customer": "recovery.data.customer_rows",
}

__all__ = [
    "__version__",
    "Config",
    "load_config",
    "Portfolio",
    "RecoveryError",
    "ConfigError",
    "DataError",
    "MissingColumnError",
    "ValidationError",
    "ModelCardError",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'recovery' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


# The Dask engine plugs into the analytics from above: importing it registers its
# implementations of their totals for Dask DataFrames (without importing Dask), so
# ``recovery.roll_rate_matrix(dask_frame)`` works; the analytics never import it.
import recovery.engine.dask_analytics  # noqa: E402, F401
