"""Domain errors: each says what is wrong and what to fix."""

from __future__ import annotations

__all__ = [
    "RecoveryError",
    "ConfigError",
    "ValidationError",
    "DataError",
    "MissingColumnError",
    "ModelCardError",
]


class RecoveryError(Exception):
    """Base class of every error the library raises on purpose."""


class ConfigError(RecoveryError):
    """A configuration file or setting is invalid."""


class DataError(RecoveryError):
    """Input data cannot be read or used (missing file, wrong format, empty)."""


class MissingColumnError(DataError):
    """An output needs a column the data does not have (e.g. balances in a status-only history).

    The output is skipped, never filled with zeros: the command line and the report
    print the message as one line, and a library call raises it.

    Attributes
    ----------
    what : str
        The output asked for, in words ("the collection rate").
    needs : str
        What it needs, in words ("balances").
    columns : list of str
        The missing columns (contract names).
    """

    def __init__(self, what: str, needs: str, columns: list[str]):  # noqa: D107
        self.what = what
        self.needs = needs
        self.columns = list(columns)
        named = ", ".join(f"'{c}'" for c in self.columns)
        column = "column" if len(self.columns) == 1 else "columns"
        super().__init__(f"{what} — needs {needs}: this data has no {column} {named}")


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
