"""The data contract (DESIGN.md §2) as data: each table's columns, rules and key.

Each table is described once, in :data:`TABLES`: its columns (kind, required or
optional, nullable, range, whether it is an amount) and unique key.
:mod:`recovery.data.schema` validates tables against it and ``docs/data.md`` shows it
(:func:`contract_markdown`; a test keeps the two in step).

Examples
--------
>>> from recovery.data.contract import TABLES, column_names
>>> column_names("payments", required_only=True)
['account_id', 'payment_date', 'amount', 'channel']
>>> TABLES["schedule"].key
('account_id', 'schedule_version', 'installment_no')
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from recovery.config import PRODUCT_KINDS, Config
from recovery.data.portfolio import TABLE_ORDER
from recovery.errors import MissingColumnError

__all__ = [
    "Column",
    "TableSpec",
    "TABLES",
    "EVENT_TABLES",
    "FREE_TEXT_COLUMNS",
    "column_names",
    "allowed_categories",
    "product_kinds",
    "AMOUNT_NAMES",
    "has_column",
    "require_columns",
    "contract_markdown",
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
    max : float, optional
        Largest allowed value (inclusive).
    strictly_positive : bool
        Values must be > 0 (e.g. payment amounts).
    money : bool
        An amount in currency: finite and at most ``config.data.max_amount``.
    negative : {None, "credit", "kept"}
        What a value below zero means instead of breaking ``min``: ``credit``, a credit
        balance (read as zero exposure, the credit kept in ``credit_balance``);
        ``kept``, a legitimate negative (net payments of a month with reversals). Either
        is reported as a :class:`DataNoteWarning`.
    description : str
        Meaning and unit.
    """

    name: str
    kind: str
    required: bool = True
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    strictly_positive: bool = False
    money: bool = False
    negative: str | None = None
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
            C(
                "customer_id",
                "id",
                description="borrower identifier (no personal data); contact limits and "
                "work lists are per customer",
            ),
            C("product", "cat:products", description="product line"),
            C(
                "product_kind",
                "cat:product_kind",
                required=False,
                description="installment or revolving; default from the product "
                "(config categories.product_kinds)",
            ),
            C("origination_date", "date", description="disbursement date"),
            C(
                "principal",
                "float",
                strictly_positive=True,
                money=True,
                description="amount lent (currency)",
            ),
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
            C(
                "amount_due",
                "float",
                min=0,
                money=True,
                description="installment amount (currency)",
            ),
            C(
                "principal_due",
                "float",
                required=False,
                min=0,
                money=True,
                description="principal part",
            ),
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
            C("amount", "float", strictly_positive=True, money=True, description="currency"),
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
            C("promise_amount", "float", required=False, nullable=True, min=0, money=True),
            C("promise_date", "date", required=False, nullable=True),
            C("reason_code", "cat:reason_codes", required=False, nullable=True),
            C("attitude", "cat:attitudes", required=False, nullable=True),
            C(
                "cost",
                "float",
                required=False,
                nullable=True,
                min=0,
                money=True,
                description="cost of the action (currency)",
            ),
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
            C(
                "randomized",
                "bool",
                required=False,
                description="in the randomised champion/challenger share",
            ),
            C(
                "arm",
                "str",
                required=False,
                nullable=True,
                description="test arm (champion, challenger, hold_out)",
            ),
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
    "offers": TableSpec(
        "offers",
        "offer made to a borrower",
        (
            C("offer_id", "id"),
            C("account_id", "id"),
            C("offered_at", "date", description="day the offer was made"),
            C("kind", "cat:offer_kinds"),
            C(
                "discount_share",
                "float",
                required=False,
                nullable=True,
                min=0,
                max=1,
                description="share of the outstanding balance forgiven (fraction)",
            ),
            C(
                "installments",
                "int",
                required=False,
                nullable=True,
                min=1,
                description="monthly installments of a plan (1 = one payment)",
            ),
            C(
                "plan_amount",
                "float",
                required=False,
                nullable=True,
                min=0,
                money=True,
                description="total the borrower agrees to pay (currency)",
            ),
            C(
                "deferral_months",
                "int",
                required=False,
                nullable=True,
                min=1,
                description="months the due dates move (deferral)",
            ),
            C("agent_id", "id", required=False, nullable=True, description="who made it"),
            C("outcome", "cat:offer_outcomes", nullable=True, description="empty: no answer yet"),
            C(
                "outcome_date",
                "date",
                required=False,
                nullable=True,
                description="day of the answer (empty: the offer day)",
            ),
            C(
                "schedule_version",
                "int",
                required=False,
                nullable=True,
                min=2,
                description="schedule version an accepted plan or deferral created",
            ),
            C(
                "result",
                "cat:offer_results",
                required=False,
                nullable=True,
                description="of an accepted offer, once known (empty: running)",
            ),
            C("result_date", "date", required=False, nullable=True),
            C(
                "randomized",
                "bool",
                required=False,
                description="the terms were drawn at random (the randomised share)",
            ),
            C(
                "assignment_probability",
                "float",
                required=False,
                nullable=True,
                min=0,
                max=1,
                description="probability of these terms under the rule that chose them",
            ),
        ),
        key=("offer_id",),
    ),
    "snapshots": TableSpec(
        "snapshots",
        "account × month end",
        (
            C("account_id", "id"),
            C("month_end", "date"),
            C("dpd", "int", min=0, description="days past due at month end"),
            C("bucket", "str", nullable=True, description="aging bucket; empty unless open"),
            C(
                "balance",
                "float",
                required=False,
                min=0,
                money=True,
                negative="credit",
                description="outstanding principal (currency); status-only data: absent",
            ),
            C(
                "amount_overdue",
                "float",
                required=False,
                min=0,
                money=True,
                description="currency; 0 on a credit balance",
            ),
            C(
                "paid_in_month",
                "float",
                required=False,
                min=0,
                money=True,
                negative="kept",
                description="net payments in the month (currency)",
            ),
            C("status", "cat:statuses"),
            C("debt_age_days", "int", required=False, nullable=True, min=0),
            C("charge_off_date", "date", required=False, nullable=True),
            C(
                "credit_balance",
                "float",
                required=False,
                min=0,
                money=True,
                description="amount in credit when the reported balance was below zero",
            ),
        ),
        key=("account_id", "month_end"),
    ),
}

EVENT_TABLES = tuple(name for name in TABLE_ORDER if name != "snapshots")
FREE_TEXT_COLUMNS = ("note", "notes", "comment", "comments", "free_text", "remarks")


def column_names(table: str, required_only: bool = False) -> list[str]:
    """Column names of a contract table, in contract order."""
    return [c.name for c in TABLES[table].columns if c.required or not required_only]


def allowed_categories(kind: str, config: Config) -> tuple[str, ...] | None:
    """The values a ``cat:<field>`` column may hold; ``None`` for other kinds.

    ``cat:product_kind`` holds a product kind (:data:`recovery.config.PRODUCT_KINDS`);
    any other ``cat:<field>`` the categories ``config.categories.<field>``.

    Examples
    --------
    >>> allowed_categories("cat:product_kind", Config()), allowed_categories("float", Config())
    (('installment', 'revolving'), None)
    """
    if kind == "cat:product_kind":
        return PRODUCT_KINDS
    if kind.startswith("cat:"):
        return tuple(getattr(config.categories, kind[4:]))
    return None


def product_kinds(frame: pd.DataFrame, config: Config | None = None) -> np.ndarray:
    """The product kind (``installment`` / ``revolving``) of each row of a table.

    The row's ``product_kind`` when the table has one; else the kind of its
    ``product`` in ``config.categories.product_kinds``; else ``installment``.

    Examples
    --------
    >>> cfg = Config.from_dict({"categories": {"products": ["loan", "card"],
    ...     "product_kinds": {"card": "revolving"}}})
    >>> product_kinds(pd.DataFrame({"product": ["loan", "card"]}), cfg).tolist()
    ['installment', 'revolving']
    """
    config = config or Config()
    if "product" in frame.columns:
        kinds = config.categories.kind_of(frame["product"].astype(object).to_numpy())
    else:
        kinds = np.full(len(frame), "installment", dtype=object)
    if "product_kind" in frame.columns:
        given = frame["product_kind"].astype(object).to_numpy()
        kinds = np.where(pd.isna(given), kinds, given)
    return np.asarray(kinds, dtype=object)


#: The amount columns a status-only history lacks, as a person names them.
AMOUNT_NAMES = {
    "balance": "balances",
    "amount_overdue": "overdue amounts",
    "paid_in_month": "payments",
    "credit_balance": "credit balances",
}


def has_column(frame: pd.DataFrame, column: str) -> bool:
    """Whether a table carries a column with data (present, and not all missing).

    An empty table counts as carrying every column it names; a table of another engine
    (a Dask DataFrame) every column it has, without computing anything.

    Examples
    --------
    >>> states = pd.DataFrame({"account_id": ["A"], "balance": [float("nan")]})
    >>> has_column(states, "balance"), has_column(states, "account_id")
    (False, True)
    """
    if column not in frame.columns:
        return False
    if not isinstance(frame, pd.DataFrame):  # an engine's table: computing is not free
        return True
    return len(frame) == 0 or bool(frame[column].notna().any())


def require_columns(frame: pd.DataFrame, columns: list[str] | tuple[str, ...], what: str) -> None:
    """Refuse to compute ``what`` when the table lacks one of ``columns`` (no zeros instead).

    Parameters
    ----------
    frame : DataFrame
        Usually ``snapshots``.
    columns : list of str
        The columns ``what`` needs.
    what : str
        The output, in words, for the message ("the collection rate").

    Raises
    ------
    recovery.errors.MissingColumnError
        Naming the output, what it needs in words and the missing columns.

    Examples
    --------
    >>> states = pd.DataFrame({"account_id": ["A"], "status": ["open"]})
    >>> try:
    ...     require_columns(states, ["balance"], "the balance-weighted roll rate")
    ... except MissingColumnError as err:
    ...     print(err)
    the balance-weighted roll rate — needs balances: this data has no column 'balance'
    """
    missing = [c for c in columns if not has_column(frame, c)]
    if missing:
        names = list(dict.fromkeys(AMOUNT_NAMES.get(c, f"'{c}'") for c in missing))
        needs = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        raise MissingColumnError(what, needs, missing)


def contract_markdown(config: Config | None = None) -> str:
    """The data contract as Markdown tables (the source of ``docs/data.md``).

    Examples
    --------
    >>> print(contract_markdown().splitlines()[0])
    ### `accounts` — one row per loan
    """
    config = config or Config()
    lines: list[str] = []
    for spec in TABLES.values():
        lines.append(f"### `{spec.name}` — one row per {spec.grain}")
        lines.append("")
        if spec.key:
            lines.append(f"Unique key: {', '.join(f'`{k}`' for k in spec.key)}.")
            lines.append("")
        lines.append("| column | type | required | missing allowed | rule | meaning |")
        lines.append("|---|---|---|---|---|---|")
        for col in spec.columns:
            rules = []
            if col.negative == "credit":
                rules.append("below 0: a credit balance, read as 0 (a note)")
            elif col.negative == "kept":
                rules.append("may be below 0 (a note)")
            elif col.min is not None:
                rules.append(f">= {col.min:g}")
            if col.max is not None:
                rules.append(f"<= {col.max:g}")
            if col.strictly_positive:
                rules.append("> 0")
            if col.money:
                rules.append("finite, at most `data.max_amount`")
            allowed = allowed_categories(col.kind, config)
            if allowed is not None:
                rules.append("one of " + ", ".join(f"`{a}`" for a in allowed))
            kind = "category" if col.kind.startswith("cat:") else col.kind
            lines.append(
                f"| `{col.name}` | {kind} | {'yes' if col.required else 'no'} | "
                f"{'yes' if col.nullable else 'no'} | {'; '.join(rules)} | {col.description} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
