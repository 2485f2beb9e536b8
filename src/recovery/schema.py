"""The data contract (DESIGN.md §2) as data, and its validation.

Each table is described once, in :data:`TABLES`: its columns (kind, required or
optional, nullable, range) and unique key. :func:`validate_table` checks one table with
pandera and :func:`validate_portfolio` adds the cross-table rules (referential
integrity, dates after origination, non-overlapping assignment spells). Failures are
collected, never raised one at a time, into a table of ``table, column, rule, count,
examples`` rows (:class:`recovery.errors.ValidationError`).

Examples
--------
>>> from recovery.schema import TABLES, column_names
>>> column_names("payments", required_only=True)
['account_id', 'payment_date', 'amount', 'channel']
>>> TABLES["schedule"].key
('account_id', 'schedule_version', 'installment_no')
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.errors import ValidationError

__all__ = [
    "Column",
    "TableSpec",
    "TABLES",
    "EVENT_TABLES",
    "FREE_TEXT_COLUMNS",
    "column_names",
    "coerce_table",
    "validate_table",
    "validate_portfolio",
    "ExtraColumnsWarning",
]

# kinds: "id" (string), "str", "date" (datetime64, day precision), "datetime"
# (timestamp), "float" (money or rate), "int", "bool", or "cat:<CategoryConfig field>"


@dataclass(frozen=True)
class Column:
    """One column of the data contract.

    Attributes
    ----------
    name : str
        Column name (snake_case).
    kind : str
        ``id``, ``str``, ``date``, ``datetime``, ``float``, ``int``, ``bool`` or
        ``cat:<field>`` where ``<field>`` names the allowed values in
        :class:`recovery.config.CategoryConfig`.
    required : bool
        The column must be present.
    nullable : bool
        Missing values are allowed.
    min : float, optional
        Smallest allowed value (inclusive).
    strictly_positive : bool
        Values must be > 0 (e.g. payment amounts).
    description : str
        Meaning and unit.
    """

    name: str
    kind: str
    required: bool = True
    nullable: bool = False
    min: float | None = None
    strictly_positive: bool = False
    description: str = ""


@dataclass(frozen=True)
class TableSpec:
    """One table of the data contract: one row per ``grain``, unique on ``key``."""

    name: str
    grain: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    date_columns_for_range: tuple[str, ...] = field(default=())

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


C = Column
TABLES: dict[str, TableSpec] = {
    "accounts": TableSpec(
        "accounts",
        "loan",
        (
            C("account_id", "id", description="loan identifier"),
            C("customer_id", "id", description="borrower identifier (no personal data)"),
            C("product", "cat:products", description="product line"),
            C("origination_date", "date", description="disbursement date"),
            C("principal", "float", strictly_positive=True, description="amount lent (currency)"),
            C("term_months", "int", min=1, description="contractual term (months)"),
            C("interest_rate", "float", min=0, description="annual nominal rate (fraction)"),
            C("region", "str", required=False, description="branch or region"),
            C("has_guarantor", "bool", required=False, description="a guarantor signed"),
            C("has_collateral", "bool", required=False, description="collateral pledged"),
            C("income_band", "str", required=False, nullable=True, description="application"),
            C("employment", "str", required=False, nullable=True, description="application"),
            C("bureau_score", "float", required=False, nullable=True, description="application"),
            C("age_band", "str", required=False, nullable=True, description="protected"),
            C("gender", "str", required=False, nullable=True, description="protected"),
        ),
        key=("account_id",),
    ),
    "schedule": TableSpec(
        "schedule",
        "installment (per schedule version)",
        (
            C("account_id", "id"),
            C("installment_no", "int", min=1, description="1, 2, … within a version"),
            C("due_date", "date"),
            C("amount_due", "float", min=0, description="installment amount (currency)"),
            C("principal_due", "float", required=False, min=0, description="principal part"),
            C("schedule_version", "int", required=False, min=1, description="1 = original"),
            C(
                "effective_from",
                "date",
                required=False,
                nullable=True,
                description="first day the version is in force (restructure date)",
            ),
        ),
        key=("account_id", "schedule_version", "installment_no"),
    ),
    "payments": TableSpec(
        "payments",
        "payment received",
        (
            C("account_id", "id"),
            C("payment_date", "date", description="posting date"),
            C("amount", "float", strictly_positive=True, description="currency"),
            C("channel", "cat:payment_channels"),
            C("payment_id", "id", required=False),
            C(
                "reversed_date",
                "date",
                required=False,
                nullable=True,
                description="date the payment was returned; counts only before it",
            ),
        ),
        key=("payment_id",),
    ),
    "actions": TableSpec(
        "actions",
        "collection action or contact attempt",
        (
            C("action_id", "id"),
            C("account_id", "id"),
            C("agent_id", "id"),
            C("ts", "datetime", description="timestamp of the attempt"),
            C("channel", "cat:action_channels"),
            C("outcome", "cat:outcomes"),
            C("promise_amount", "float", required=False, nullable=True, min=0),
            C("promise_date", "date", required=False, nullable=True),
            C("reason_code", "cat:reason_codes", required=False, nullable=True),
            C("attitude", "cat:attitudes", required=False, nullable=True),
        ),
        key=("action_id",),
    ),
    "agents": TableSpec(
        "agents",
        "collector or agency",
        (
            C("agent_id", "id"),
            C("team", "str"),
            C("level", "int", min=1, description="seniority: 1 junior … 3 senior"),
            C("hire_date", "date", nullable=True),
            C("is_agency", "bool", required=False, description="outside collection agency"),
        ),
        key=("agent_id",),
    ),
    "assignments": TableSpec(
        "assignments",
        "account-to-agent spell",
        (
            C("account_id", "id"),
            C("agent_id", "id"),
            C("start_date", "date"),
            C("end_date", "date", nullable=True, description="last day; empty = still open"),
        ),
        key=("account_id", "start_date"),
    ),
    "events": TableSpec(
        "events",
        "account status change",
        (
            C("account_id", "id"),
            C("date", "date"),
            C("event", "cat:events"),
        ),
        key=(),
    ),
    "snapshots": TableSpec(
        "snapshots",
        "account × month end",
        (
            C("account_id", "id"),
            C("month_end", "date"),
            C("dpd", "int", min=0, description="days past due at month end"),
            C("bucket", "str", nullable=True, description="aging bucket; empty unless open"),
            C("balance", "float", min=0, description="outstanding principal (currency)"),
            C("amount_overdue", "float", min=0, description="currency"),
            C("paid_in_month", "float", min=0, description="net payments in the month"),
            C("status", "cat:statuses"),
            C("debt_age_days", "int", required=False, nullable=True, min=0),
            C("charge_off_date", "date", required=False, nullable=True),
        ),
        key=("account_id", "month_end"),
    ),
}

EVENT_TABLES = ("accounts", "schedule", "payments", "actions", "agents", "assignments", "events")
FREE_TEXT_COLUMNS = ("note", "notes", "comment", "comments", "free_text", "remarks")


class ExtraColumnsWarning(UserWarning):
    """A table has columns the contract does not know; they are kept."""


def column_names(table: str, required_only: bool = False) -> list[str]:
    """Column names of a contract table, in contract order."""
    return [c.name for c in TABLES[table].columns if c.required or not required_only]
