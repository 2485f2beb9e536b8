"""The data contract (DESIGN.md §2) as data, and its validation.

Each table is described once, in :data:`TABLES`: its columns (kind, required or
optional, nullable, range) and unique key. :func:`validate_table` checks one table with
pandera and :func:`validate_portfolio` adds the cross-table rules (referential
integrity, dates after origination, non-overlapping assignment spells). Failures are
collected, never raised one at a time, into a table of ``table, column, rule, count,
examples`` rows (:class:`recovery.errors.ValidationError`).

Examples
--------
>>> from recovery.data.schema import TABLES, column_names
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
from recovery.data.offers import check_offer_rules
from recovery.data.portfolio import TABLE_ORDER, Portfolio
from recovery.errors import ValidationError

__all__ = [
    "Column",
    "TableSpec",
    "TABLES",
    "EVENT_TABLES",
    "FREE_TEXT_COLUMNS",
    "column_names",
    "screen_columns",
    "coerce_table",
    "validate_table",
    "validate_portfolio",
    "validated_copy",
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
    max : float, optional
        Largest allowed value (inclusive).
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
    max: float | None = None
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
            C(
                "cost",
                "float",
                required=False,
                nullable=True,
                min=0,
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

EVENT_TABLES = tuple(name for name in TABLE_ORDER if name != "snapshots")
FREE_TEXT_COLUMNS = ("note", "notes", "comment", "comments", "free_text", "remarks")


class ExtraColumnsWarning(UserWarning):
    """A table has columns the contract does not know; they are kept."""


def column_names(table: str, required_only: bool = False) -> list[str]:
    """Column names of a contract table, in contract order."""
    return [c.name for c in TABLES[table].columns if c.required or not required_only]


def screen_columns(name: str, frame: pd.DataFrame, keep_free_text: bool = False) -> pd.DataFrame:
    """A raw table without its free-text note columns, warning about unknown columns.

    Free-text notes (:data:`FREE_TEXT_COLUMNS`, any case) may hold personal data and are
    dropped unless ``keep_free_text`` (DESIGN.md §2). Columns the contract does not
    know are kept, with one :class:`ExtraColumnsWarning` naming them (attributed to the
    caller of the function that reads the table).

    Parameters
    ----------
    name : str
        Table name; a name that is not a contract table is not checked for unknown
        columns.
    frame : pandas.DataFrame
        The table as read.
    keep_free_text : bool
        Keep the note columns.

    Returns
    -------
    pandas.DataFrame
        ``frame`` itself when nothing is dropped.

    Examples
    --------
    >>> raw = pd.DataFrame({"agent_id": ["G1"], "team": ["a"], "level": [1],
    ...     "hire_date": [None], "Notes": ["call back"]})
    >>> screen_columns("agents", raw).columns.tolist()
    ['agent_id', 'team', 'level', 'hire_date']
    """
    dropped = [c for c in frame.columns if str(c).lower() in FREE_TEXT_COLUMNS]
    out = frame.drop(columns=dropped) if dropped and not keep_free_text else frame
    spec = TABLES.get(name)
    if spec is not None:
        known = {c.name for c in spec.columns}
        extra = [
            c for c in frame.columns if c not in known and str(c).lower() not in FREE_TEXT_COLUMNS
        ]
        if extra:
            warnings.warn(
                f"table '{name}': unknown column(s) {extra} kept as they are",
                ExtraColumnsWarning,
                stacklevel=3,
            )
    return out


# --------------------------------------------------------------------------- checks

_MAX_EXAMPLES = 5
_DATE_MIN = pd.Timestamp("1950-01-01")
_DATE_MAX = pd.Timestamp("2100-12-31")


def _allowed(kind: str, config: Config) -> tuple[str, ...] | None:
    if kind.startswith("cat:"):
        return tuple(getattr(config.categories, kind[4:]))
    return None


def _examples(df: pd.DataFrame, mask: np.ndarray | pd.Series, columns: list[str]) -> str:
    rows = df.loc[np.asarray(mask, dtype=bool), [c for c in columns if c in df.columns]]
    rows = rows.head(_MAX_EXAMPLES)
    parts = []
    for idx, row in rows.iterrows():
        fields = ", ".join(f"{k}={_show(v)}" for k, v in row.items())
        parts.append(f"row {idx}: {fields}")
    return "; ".join(parts)


def _show(value: object) -> str:
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else str(value)
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return "<missing>"
    return repr(value) if isinstance(value, str) else str(value)


class _Failures:
    """Collects broken rules as rows of a report."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.unparsed: dict[tuple[str, str], np.ndarray] = {}

    def add(self, table: str, column: str, rule: str, count: int, examples: str = "") -> None:
        self.rows.append(
            {
                "table": table,
                "column": column,
                "rule": rule,
                "count": int(count),
                "examples": examples,
            }
        )

    def check(
        self,
        df: pd.DataFrame,
        table: str,
        column: str,
        rule: str,
        mask: np.ndarray | pd.Series,
        show: list[str] | None = None,
    ) -> None:
        mask = np.asarray(mask, dtype=bool)
        n = int(mask.sum())
        if n:
            cols = show or _key_columns(table, column)
            self.add(table, column, rule, n, _examples(df, mask, cols))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=["table", "column", "rule", "count", "examples"])


def _key_columns(table: str, column: str) -> list[str]:
    spec = TABLES.get(table)
    first = [c.name for c in spec.columns[:1]] if spec else []
    cols = list(dict.fromkeys([*first, *(spec.key if spec else ()), column]))
    return cols


def coerce_table(
    name: str, df: pd.DataFrame, config: Config | None = None, failures: _Failures | None = None
) -> pd.DataFrame:
    """Cast a raw table (e.g. all-text CSV) to the contract's types.

    Values that cannot be parsed (text in an amount, an unparseable date) become missing
    and are recorded as failures when ``failures`` is given. Unknown columns are kept.

    Examples
    --------
    >>> raw = pd.DataFrame({"account_id": [1], "payment_date": ["2024-01-05"],
    ...                     "amount": ["12.5"], "channel": ["cash"]})
    >>> coerce_table("payments", raw).dtypes["amount"]
    dtype('float64')
    """
    spec = TABLES[name]
    out = df.copy()
    for col in spec.columns:
        if col.name not in out.columns:
            continue
        raw = out[col.name]
        present = raw.notna() & ~(
            raw.astype(str).str.strip().isin(["", "nan", "NaN", "NaT", "None"])
        )
        if col.kind in ("id", "str") or col.kind.startswith("cat:"):
            values = raw.astype(object).where(present, None)
            if col.kind == "id":
                values = values.map(_id_text, na_action="ignore")
            else:
                values = values.map(str, na_action="ignore")
            out[col.name] = values.astype(object)
            continue
        if col.kind in ("date", "datetime"):
            parsed = _parse_dates(raw.where(present))
            if getattr(parsed.dt, "tz", None) is not None:
                parsed = parsed.dt.tz_localize(None)
            if col.kind == "date":
                parsed = parsed.dt.normalize()
            parsed = parsed.astype("datetime64[ns]")
            bad = present & parsed.isna()
            what = "a date (YYYY-MM-DD)" if col.kind == "date" else "a timestamp"
        elif col.kind in ("float", "int"):
            parsed = pd.to_numeric(raw.where(present), errors="coerce")
            bad = present & parsed.isna()
            if col.kind == "int":
                frac = parsed.notna() & (parsed != np.floor(parsed.fillna(0)))
                bad = bad | frac
                parsed = parsed.where(~frac)
                parsed = parsed.astype("Int64") if parsed.isna().any() else parsed.astype("int64")
            else:
                parsed = parsed.astype("float64")
            what = "a whole number" if col.kind == "int" else "a number"
        elif col.kind == "bool":
            mapping = {
                "true": True,
                "false": False,
                "1": True,
                "0": False,
                "yes": True,
                "no": False,
            }
            text = raw.astype(str).str.strip().str.lower()
            parsed = text.map(mapping).where(present)
            bad = present & parsed.isna()
            parsed = parsed.astype("boolean") if parsed.isna().any() else parsed.astype(bool)
            what = "true/false"
        else:  # pragma: no cover - a contract typo
            raise ValueError(f"unknown column kind {col.kind!r}")
        if failures is not None:
            failures.check(df, name, col.name, f"must be {what}", bad)
            failures.unparsed[(name, col.name)] = np.asarray(bad, dtype=bool)
        out[col.name] = parsed
    return out


def _parse_dates(values: pd.Series) -> pd.Series:
    """ISO 8601 first (fast, unambiguous); anything else parsed element-wise."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    parsed = pd.to_datetime(values, format="ISO8601", errors="coerce")
    retry = values.notna() & parsed.isna()
    if retry.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            parsed = parsed.astype(object)
            parsed[retry] = pd.to_datetime(values[retry], errors="coerce", format="mixed")
            parsed = pd.to_datetime(parsed)
    return parsed


def _id_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _pandera_schema(spec: TableSpec, config: Config, columns: list[str]):
    import pandera.pandas as pa

    cols = {}
    for col in spec.columns:
        if col.name not in columns:
            continue
        checks = []
        if col.min is not None:
            checks.append(pa.Check.ge(col.min, error=f"must be >= {col.min:g}"))
        if col.max is not None:
            checks.append(pa.Check.le(col.max, error=f"must be <= {col.max:g}"))
        if col.strictly_positive:
            checks.append(pa.Check.gt(0, error="must be > 0"))
        allowed = _allowed(col.kind, config)
        if allowed is not None:
            checks.append(
                pa.Check.isin(
                    list(allowed),
                    error=f"must be one of the allowed categories (config.categories.{col.kind[4:]})",
                )
            )
        if col.kind in ("date", "datetime"):
            checks.append(
                pa.Check.in_range(
                    _DATE_MIN, _DATE_MAX, error="must be a date between 1950 and 2100"
                )
            )
        cols[col.name] = pa.Column(nullable=col.nullable, checks=checks, required=False)
    unique = [k for k in spec.key if k in columns] if set(spec.key) <= set(columns) else None
    return pa.DataFrameSchema(cols, unique=unique or None, report_duplicates="all", strict=False)


def validate_table(
    name: str,
    df: pd.DataFrame,
    config: Config | None = None,
    failures: _Failures | None = None,
    coerce: bool = True,
) -> pd.DataFrame:
    """Check one table against the contract; return it with contract types.

    Parameters
    ----------
    name : str
        Table name, a key of :data:`TABLES`.
    df : pandas.DataFrame
        The table.
    config : Config, optional
        Allowed categories come from ``config.categories``.
    failures : optional
        Internal collector; when omitted, problems raise :class:`ValidationError`.
    coerce : bool
        Cast columns to the contract types first (needed for text input).

    Returns
    -------
    pandas.DataFrame
        The coerced table.

    Raises
    ------
    ValidationError
        Listing every broken rule (table, column, rule, count, example rows).

    Examples
    --------
    >>> bad = pd.DataFrame({"account_id": ["A1"], "payment_date": ["2024-01-05"],
    ...                     "amount": [-5.0], "channel": ["cash"]})
    >>> try:
    ...     validate_table("payments", bad)
    ... except ValidationError as err:
    ...     print(err.failures.loc[0, "rule"])
    must be > 0
    """
    import pandera.errors

    config = config or Config()
    spec = TABLES[name]
    own = failures is None
    failures = failures or _Failures()
    df = df.reset_index(drop=True)  # examples name rows by position
    missing = [c.name for c in spec.columns if c.required and c.name not in df.columns]
    for col in missing:
        failures.add(
            name, col, "required column is missing", len(df), f"columns present: {list(df.columns)}"
        )
    if len(df) == 0 and name in ("accounts", "schedule"):
        failures.add(name, "-", "table must not be empty", 0, "")
    out = coerce_table(name, df, config, failures) if coerce else df
    schema = _pandera_schema(spec, config, list(out.columns))
    try:
        schema.validate(out, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        _add_pandera_failures(exc.failure_cases, out, name, failures)
    if own and failures.rows:
        raise ValidationError(failures.frame())
    return out


def _add_pandera_failures(
    cases: pd.DataFrame, df: pd.DataFrame, table: str, failures: _Failures
) -> None:
    cases = cases.copy()
    cases["column"] = cases["column"].fillna("-").astype(str)
    cases["check"] = cases["check"].astype(str)
    seen = set()
    for (column, check), group in cases.groupby(["column", "check"], sort=False):
        if check == "not_nullable":
            rule = "must not be missing"
        elif check.startswith("field_uniqueness") or check.startswith("multiple_fields_uniqueness"):
            rule = f"key {list(TABLES[table].key)} must be unique (duplicate rows)"
            column = ",".join(TABLES[table].key)
        elif check == "column_in_dataframe":
            continue
        else:
            rule = check
        if (column, rule) in seen:
            continue
        seen.add((column, rule))
        index = pd.Index(group["index"].dropna().unique())
        mask = df.index.isin(index)
        if check == "not_nullable" and (table, column) in failures.unparsed:
            mask &= ~failures.unparsed[(table, column)]  # already reported as unparseable
            if not mask.any():
                continue
        show = _key_columns(table, column.split(",")[0])
        if "," in column:
            show = list(dict.fromkeys([*show, *column.split(",")]))
        failures.add(table, column, rule, int(mask.sum()) or len(group), _examples(df, mask, show))


def validate_portfolio(portfolio: Portfolio, config: Config | None = None) -> pd.DataFrame:
    """Check every table of a portfolio and the rules between tables.

    Returns the failures as a DataFrame (empty when valid) instead of raising, so the
    CLI can print a full report; :func:`recovery.data.io.load_portfolio` raises on it.

    Examples
    --------
    >>> acc = pd.DataFrame({"account_id": ["A1"], "customer_id": ["C1"],
    ...     "product": ["consumer_installment"], "origination_date": ["2024-01-01"],
    ...     "principal": [1000.0], "term_months": [2], "interest_rate": [0.1]})
    >>> sch = pd.DataFrame({"account_id": ["A1", "A1"], "installment_no": [1, 2],
    ...     "due_date": ["2024-02-01", "2024-03-01"], "amount_due": [510.0, 510.0]})
    >>> pay = pd.DataFrame({"account_id": ["A9"], "payment_date": ["2024-02-01"],
    ...     "amount": [510.0], "channel": ["cash"]})
    >>> report = validate_portfolio(Portfolio(accounts=acc, schedule=sch, payments=pay))
    >>> report[["table", "column", "rule"]].values.tolist()
    [['payments', 'account_id', 'must name an account in accounts']]
    """
    config = config or Config()
    failures = _Failures()
    tables = {}
    for name, df in portfolio.tables().items():
        tables[name] = validate_table(name, df, config, failures)
        setattr(portfolio, name, tables[name])
    if not tables:
        failures.add("-", "-", "portfolio has no tables", 0, "")
    elif "snapshots" not in tables:
        for needed in ("accounts", "schedule", "payments"):
            if needed not in tables:
                failures.add(needed, "-", "table is required (or give a snapshots table)", 0, "")
    _cross_table(tables, portfolio.meta, failures)
    return failures.frame()


def validated_copy(portfolio: Portfolio, config: Config | None = None) -> Portfolio:
    """A copy of the portfolio with contract types, once it passes every rule.

    The check that comes before writing a book anywhere: nothing is written when it
    fails. The portfolio itself is left as it is.

    Parameters
    ----------
    portfolio : Portfolio
        The book to check.
    config : Config, optional
        Allowed categories and rules; defaults to DESIGN.md's.

    Returns
    -------
    Portfolio
        The checked copy, typed by :func:`validate_portfolio`.

    Raises
    ------
    ValidationError
        Listing every broken rule (table, column, rule, count, example rows).

    Examples
    --------
    >>> pay = pd.DataFrame({"account_id": ["A1"], "payment_date": ["2024-02-01"],
    ...     "amount": ["510"], "channel": ["cash"]})
    >>> try:
    ...     validated_copy(Portfolio(payments=pay))
    ... except ValidationError as err:
    ...     print(err.failures["table"].tolist())
    ['accounts', 'schedule']
    """
    typed = portfolio.copy()
    report = validate_portfolio(typed, config)
    if len(report):
        raise ValidationError(report)
    return typed


def _cross_table(tables: dict[str, pd.DataFrame], meta: dict, failures: _Failures) -> None:
    accounts = tables.get("accounts")
    if accounts is not None and "account_id" in accounts:
        known = pd.Index(accounts["account_id"].dropna().unique())
        for name in (
            "schedule",
            "payments",
            "actions",
            "assignments",
            "events",
            "offers",
            "snapshots",
        ):
            df = tables.get(name)
            if df is not None and "account_id" in df:
                failures.check(
                    df,
                    name,
                    "account_id",
                    "must name an account in accounts",
                    ~df["account_id"].isin(known),
                )
        origination = (
            accounts.set_index("account_id")["origination_date"]
            if "origination_date" in accounts
            else None
        )
        if origination is not None and not accounts["account_id"].duplicated().any():
            for name, col in (
                ("schedule", "due_date"),
                ("payments", "payment_date"),
                ("offers", "offered_at"),
            ):
                df = tables.get(name)
                if df is not None and col in df and "account_id" in df:
                    start = df["account_id"].map(origination)
                    failures.check(
                        df,
                        name,
                        col,
                        "must not be before the account's origination_date",
                        (df[col] < start).fillna(False),
                        show=["account_id", col],
                    )
    agents = tables.get("agents")
    for name in ("actions", "assignments"):
        df = tables.get(name)
        if df is None or "agent_id" not in df:
            continue
        if agents is None:
            failures.add(name, "agent_id", "needs an agents table to check agent_id", len(df), "")
        else:
            failures.check(
                df,
                name,
                "agent_id",
                "must name an agent in agents",
                ~df["agent_id"].isin(agents["agent_id"]),
            )
    spells = tables.get("assignments")
    if spells is not None and {"account_id", "start_date", "end_date"} <= set(spells.columns):
        s = spells.sort_values(["account_id", "start_date"])
        same = s["account_id"].eq(s["account_id"].shift())
        prev_end = s["end_date"].shift()
        overlap = same & (prev_end.isna() | (prev_end >= s["start_date"]))
        ends_before_start = (s["end_date"] < s["start_date"]).fillna(False)
        failures.check(
            s,
            "assignments",
            "start_date",
            "spells of one account must not overlap",
            overlap.to_numpy(),
            show=["account_id", "agent_id", "start_date", "end_date"],
        )
        failures.check(
            s,
            "assignments",
            "end_date",
            "must not be before start_date",
            ends_before_start.to_numpy(),
            show=["account_id", "agent_id", "start_date", "end_date"],
        )
    check_offer_rules(tables, failures)
    data_end = meta.get("data_end") if meta else None
    if data_end:
        end = pd.Timestamp(data_end) + pd.Timedelta(days=1)
        for name, col in (
            ("payments", "payment_date"),
            ("actions", "ts"),
            ("events", "date"),
            ("offers", "offered_at"),
        ):
            df = tables.get(name)
            if df is not None and col in df:
                failures.check(
                    df,
                    name,
                    col,
                    f"must not be after the data end {data_end}",
                    (df[col] >= end).fillna(False),
                )


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
            if col.min is not None:
                rules.append(f">= {col.min:g}")
            if col.max is not None:
                rules.append(f"<= {col.max:g}")
            if col.strictly_positive:
                rules.append("> 0")
            allowed = _allowed(col.kind, config)
            if allowed is not None:
                rules.append("one of " + ", ".join(f"`{a}`" for a in allowed))
            kind = "category" if col.kind.startswith("cat:") else col.kind
            lines.append(
                f"| `{col.name}` | {kind} | {'yes' if col.required else 'no'} | "
                f"{'yes' if col.nullable else 'no'} | {'; '.join(rules)} | {col.description} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
