"""recovery — collections analytics for lenders.

Turns repayment schedules, payments and collection logs into point-in-time aging and
behaviour features, propensity-to-pay and curability scores, roll rates, recovery by
debt age, agent effectiveness and a monthly recovery report.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from recovery.config import Config, load_config
from recovery.errors import ConfigError, DataError, RecoveryError, ValidationError
from recovery.portfolio import Portfolio

try:
    __version__ = version("recovery")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "__version__",
    "Config",
    "load_config",
    "Portfolio",
    "RecoveryError",
    "ConfigError",
    "DataError",
    "ValidationError",
]
