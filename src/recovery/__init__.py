"""recovery — collections analytics for lenders.

Turns repayment schedules, payments and collection logs into point-in-time aging and
behaviour features, propensity-to-pay and curability scores, roll rates, recovery by
debt age, agent effectiveness and a monthly recovery report.

The public API is listed in ``__all__``; each name lives in a module named after its
concept (``recovery.aging``, ``recovery.roll_rates``, …) and is imported on first use,
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
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from recovery.config import Config, load_config
from recovery.errors import (
    ConfigError,
    DataError,
    ModelCardError,
    RecoveryError,
    ValidationError,
)
from recovery.portfolio import Portfolio

try:
    __version__ = version("recovery")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

# public name -> module that defines it (imported lazily, PEP 562)
_LAZY = {
    # data
    "load_portfolio": "recovery.io",
    "save_portfolio": "recovery.io",
    "validate_portfolio": "recovery.schema",
    "load_sample": "recovery.datasets",
    "load_sample_truth": "recovery.datasets",
    "read_sql_portfolio": "recovery.sources",
    "write_sql_portfolio": "recovery.sources",
    "load_mapping": "recovery.mapping",
    "Mapping": "recovery.mapping",
    "MappingError": "recovery.mapping",
    "starter_mapping": "recovery.mapping",
    "write_mapping": "recovery.mapping",
    "snapshots_from_performance": "recovery.performance",
    "portfolio_from_performance": "recovery.performance",
    # partitioned datasets and the Dask engine (pip install "recovery[dask]")
    "write_partitioned": "recovery.partitioning",
    "open_partitioned": "recovery.partitioning",
    "read_partition": "recovery.partitioning",
    "dask_client": "recovery.distributed",
    "distributed_snapshots": "recovery.distributed",
    "distributed_features": "recovery.distributed",
    "distributed_labels": "recovery.distributed",
    "distributed_scores": "recovery.distributed",
    "simulate_portfolio": "recovery.simulate",
    "Truth": "recovery.simulate",
    # aging, features, labels
    "account_states": "recovery.aging",
    "snapshots": "recovery.aging",
    "episodes": "recovery.aging",
    "build_features": "recovery.features",
    "snapshot_features": "recovery.features",
    "feature_catalogue": "recovery.features",
    "build_labels": "recovery.labels",
    "snapshot_labels": "recovery.labels",
    # models
    "Scorer": "recovery.models",
    "load_model": "recovery.models",
    "score_table": "recovery.models",
    # portfolio analytics
    "roll_rate_matrix": "recovery.roll_rates",
    "roll_rate_trends": "recovery.roll_rates",
    "flow_rates": "recovery.roll_rates",
    "vintage_curves": "recovery.vintages",
    "monthly_kpis": "recovery.kpis",
    "collection_cycle": "recovery.kpis",
    "recovery_by_age": "recovery.recovery_curves",
    "age_split_comparison": "recovery.recovery_curves",
    "cumulative_recovery_curves": "recovery.recovery_curves",
    "liquidation_curves": "recovery.liquidation",
    "ERCForecaster": "recovery.liquidation",
    "RollRateForecaster": "recovery.forecast",
    # agents, compliance, strategy
    "spell_outcomes": "recovery.agents",
    "AgentEffectiveness": "recovery.agents",
    "spell_month_outcomes": "recovery.agents",
    "reliability_curve": "recovery.agents",
    "plot_reliability": "recovery.agents",
    "activity_kpis": "recovery.agents",
    "flag_actions": "recovery.compliance",
    "suppressions": "recovery.strategy",
    "recommend": "recovery.strategy",
    "build_worklists": "recovery.strategy",
    "estimate_uplift": "recovery.strategy",
    # report
    "render_monthly_report": "recovery.report",
}

__all__ = [
    "__version__",
    "Config",
    "load_config",
    "Portfolio",
    "RecoveryError",
    "ConfigError",
    "DataError",
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
