"""Domain errors: each says what is wrong and what to fix."""

from __future__ import annotations

__all__ = [
    "RecoveryError",
    "ConfigError",
    "ValidationError",
    "DataError",
    "ModelCardError",
]


class RecoveryError(Exception):
    """Base class of every error the library raises on purpose."""


class ConfigError(RecoveryError):
    """A configuration file or setting is invalid."""


class DataError(RecoveryError):
    """Input data cannot be read or used (missing file, wrong format, empty)."""


class ValidationError(RecoveryError):
    """A table breaks the data contract.

    Attributes
    ----------
    failures : pandas.DataFrame
        One row per broken rule: ``table``, ``column``, ``rule``, ``count``,
        ``examples`` (up to five offending rows, as text).
    """

    def __init__(self, failures):  # noqa: D107 - documented on the class
        self.failures = failures
        first = failures.iloc[0]
        more = f" (and {len(failures) - 1} more problem(s))" if len(failures) > 1 else ""
        super().__init__(
            f"table '{first['table']}', column '{first['column']}': {first['rule']} "
            f"— {first['count']} row(s), e.g. {first['examples']}{more}"
        )


class ModelCardError(RecoveryError):
    """A saved model's card does not match the data it is asked to score."""
