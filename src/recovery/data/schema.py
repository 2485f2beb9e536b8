"""The data contract (DESIGN.md §2) and its validation.

Each table is described once, in :data:`TABLES` (:mod:`recovery.data.contract`, whose
names this module re-exports): its columns (kind, required or optional, nullable,
range) and unique key. :func:`validate_table` checks one table with
pandera and :func:`validate_portfolio` adds the cross-table rules (referential
integrity, dates after origination, non-overlapping assignment spells). Failures are
collected, never raised one at a time, into a table of ``table, column, rule, count,
examples`` rows (:class:`recovery.errors.ValidationError`).

Dates are ISO (``YYYY-MM-DD``, timestamps ``YYYY-MM-DD HH:MM:SS``): a date column in
another format is a failure naming the format seen, never a guess between day-first
and month-first (a lender's own format is declared in the mapping file). Every amount
is finite and at most ``config.data.max_amount``. What real exports hold and is normal
— a credit balance (a balance below zero), a month whose payments net below zero — is
read with a :class:`DataNoteWarning`, not refused (:func:`read_negative_amounts`).

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

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.contract import (
    EVENT_TABLES,
    FREE_TEXT_COLUMNS,
    TABLES,
    Column,
    TableSpec,
    allowed_categories,
    column_names,
    contract_markdown,
    product_kinds,
)
from recovery.data.dates import date_shape, parse_dates
from recovery.data.offers import check_offer_rules
from recovery.data.portfolio import Portfolio
from recovery.errors import ValidationError

__all__ = [
    "Column",
    "TableSpec",
    "TABLES",
    "EVENT_TABLES",
    "FREE_TEXT_COLUMNS",
    "column_names",
    "allowed_categories",
    "product_kinds",
    "contract_markdown",
    "screen_columns",
    "coerce_table",
    "validate_table",
    "validate_portfolio",
    "validated_copy",
    "read_negative_amounts",
    "NOTED",
    "check_amounts",
    "date_shape",
    "parse_dates",
    "ExtraColumnsWarning",
    "DataNoteWarning",
]


class ExtraColumnsWarning(UserWarning):
    """A table has columns the contract does not know; they are kept."""


class DataNoteWarning(UserWarning):
    """Something normal in real exports, read in a stated way (e.g. a credit balance).

    Not an error: the data loads. ``recovery validate`` prints each one as a note.
    """


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


def _key_columns(table: str | TableSpec, column: str) -> list[str]:
    spec = TABLES.get(table) if isinstance(table, str) else table
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
            parsed, bad = parse_dates(raw.where(present), col.kind)
            if col.kind == "date":
                what = "a date in ISO form (YYYY-MM-DD)"
            else:
                what = "a timestamp in ISO form (YYYY-MM-DD HH:MM:SS)"
            if bad.any():
                what += (
                    f"; format seen {date_shape(raw[bad])} — declare the lender's format "
                    "with date_format in the mapping file (e.g. '%d/%m/%Y'), never guessed"
                )
        elif col.kind in ("float", "int"):
            parsed = pd.to_numeric(raw.where(present), errors="coerce")
            bad = present & parsed.isna()
            if col.kind == "int":
                frac = parsed.notna() & ~np.isfinite(parsed.fillna(0))
                frac |= parsed.notna() & (parsed != np.floor(parsed.where(~frac, 0).fillna(0)))
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
        cap = config.data.max_amount if col.money else np.inf
        if col.kind in ("float", "int"):
            # one rule per value: a non-finite or absurd amount breaks only that rule
            def sane(x: pd.Series, cap: float = cap) -> pd.Series:
                return np.isfinite(x) & (x.abs() <= cap)

            if col.kind == "float":
                checks.append(pa.Check(lambda x: np.isfinite(x), error="must be a finite number"))
            if col.money:
                checks.append(
                    pa.Check(
                        lambda x, cap=cap: ~np.isfinite(x) | (x.abs() <= cap),
                        error=f"must be at most {cap:,.0f} in absolute value "
                        "(an export glitch? the ceiling is config data.max_amount)",
                    )
                )
            if col.min is not None and col.negative is None:
                checks.append(
                    pa.Check(
                        lambda x, m=col.min, ok=sane: ~ok(x) | (x >= m),
                        error=f"must be >= {col.min:g}",
                    )
                )
            if col.max is not None:
                checks.append(
                    pa.Check(
                        lambda x, m=col.max, ok=sane: ~ok(x) | (x <= m),
                        error=f"must be <= {col.max:g}",
                    )
                )
            if col.strictly_positive:
                checks.append(pa.Check(lambda x, ok=sane: ~ok(x) | (x > 0), error="must be > 0"))
        allowed = allowed_categories(col.kind, config)
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
    out = read_negative_amounts(spec, out, config, stacklevel=3)
    schema = _pandera_schema(spec, config, list(out.columns))
    try:
        schema.validate(out, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        _add_pandera_failures(exc.failure_cases, out, name, failures)
    if own and failures.rows:
        raise ValidationError(failures.frame())
    return out


def read_negative_amounts(
    table: str | TableSpec,
    frame: pd.DataFrame,
    config: Config | None = None,
    stacklevel: int = 2,
) -> pd.DataFrame:
    """Read the negative amounts real exports hold as what they mean, with a note each.

    - A **credit balance** (a balance below zero: the customer overpaid, a refund
      posted; normal on revolving products) is zero exposure: ``balance`` becomes 0,
      the credit goes to ``credit_balance`` (currency, ≥ 0) and ``amount_overdue`` of
      the row to 0, so balance-weighted results never see a negative balance.
    - A **negative amount paid in a month** (reversals exceeding payments) is kept: it
      is the month's net.

    Each kind found is reported once as a :class:`DataNoteWarning` naming the table,
    the column, the number of rows and example rows. Values beyond
    ``config.data.max_amount`` (or not finite) are left as they are for the checks to
    report. The columns concerned are those whose contract ``negative`` is set.

    Parameters
    ----------
    table : str or TableSpec
        A contract table name or a spec (the monthly performance table's).
    frame : DataFrame
        The table, with numeric amount columns.
    config : Config, optional
        ``config.data.max_amount``.
    stacklevel : int
        Passed to :func:`warnings.warn`.

    Returns
    -------
    DataFrame
        ``frame`` itself when nothing is negative, else a corrected copy.

    Examples
    --------
    >>> snaps = pd.DataFrame({"account_id": ["A1", "A2"], "balance": [-6.0, 500.0],
    ...     "amount_overdue": [-6.0, 20.0]})
    >>> with warnings.catch_warnings(record=True) as notes:
    ...     warnings.simplefilter("always")
    ...     out = read_negative_amounts("snapshots", snaps)
    >>> out.values.tolist()
    [['A1', 0.0, 0.0, 6.0], ['A2', 500.0, 20.0, 0.0]]
    >>> print(notes[0].message)  # doctest: +ELLIPSIS
    table 'snapshots', column 'balance': 1 row(s) with a credit balance (below zero), read as zero exposure ...
    """
    spec = TABLES[table] if isinstance(table, str) else table
    config = config or Config()
    cap = config.data.max_amount
    out = frame
    noted = tuple(frame.attrs.get(NOTED, ()))
    for col in spec.columns:
        if col.negative is None or col.name not in frame.columns or col.name in noted:
            continue
        values = pd.to_numeric(frame[col.name], errors="coerce")
        below = ((values < 0) & (values >= -cap)).to_numpy()
        if not below.any():
            continue
        shown = _examples(frame, below, _key_columns(spec, col.name))
        if out is frame:
            out = frame.copy()
        if col.negative == "credit":
            credit = np.where(below, -values.to_numpy(dtype="float64"), 0.0)
            if "credit_balance" in out.columns:
                credit = np.fmax(credit, pd.to_numeric(out["credit_balance"], errors="coerce"))
            out[col.name] = values.where(~below, 0.0)
            if "amount_overdue" in out.columns:
                out["amount_overdue"] = out["amount_overdue"].where(~below, 0.0)
            out["credit_balance"] = credit
            meaning = (
                "with a credit balance (below zero), read as zero exposure (the credit "
                "kept in credit_balance, nothing overdue)"
            )
        else:
            meaning = "with a negative amount (reversals exceeding payments), kept as the net"
        warnings.warn(
            f"table '{spec.name}', column '{col.name}': {int(below.sum())} row(s) {meaning}, "
            f"e.g. {shown}",
            DataNoteWarning,
            stacklevel=stacklevel,
        )
    return out


#: ``DataFrame.attrs`` key: columns whose negative amounts were already read (and noted),
#: so that a table checked twice (made from a monthly table, then validated) notes once.
NOTED = "recovery.data.noted"


def check_amounts(
    table: str | TableSpec, frame: pd.DataFrame, config: Config | None = None
) -> None:
    """Refuse infinite or absurd amounts in a table's money columns.

    The check :func:`validate_table` makes, for a table read before it becomes a
    contract table (a monthly performance table).

    Parameters
    ----------
    table : str or TableSpec
        A contract table name or a spec.
    frame : DataFrame
        The table (amounts as numbers or text).
    config : Config, optional
        ``config.data.max_amount`` (currency).

    Raises
    ------
    ValidationError
        Naming the table, each column and example rows.

    Examples
    --------
    >>> acc = pd.DataFrame({"account_id": ["A1", "A2"], "principal": [1000.0, float("inf")]})
    >>> try:
    ...     check_amounts("accounts", acc)
    ... except ValidationError as err:
    ...     print(err.failures[["column", "rule", "count"]].values.tolist())
    [['principal', 'must be a finite number', 1]]
    """
    spec = TABLES[table] if isinstance(table, str) else table
    cap = (config or Config()).data.max_amount
    failures = _Failures()
    for col in spec.columns:
        if not col.money or col.name not in frame.columns:
            continue
        values = pd.to_numeric(frame[col.name], errors="coerce")
        infinite = np.isinf(values).to_numpy()
        show = _key_columns(spec, col.name)
        failures.check(frame, spec.name, col.name, "must be a finite number", infinite, show)
        absurd = (np.isfinite(values) & (values.abs() > cap)).to_numpy()
        failures.check(
            frame,
            spec.name,
            col.name,
            f"must be at most {cap:,.0f} in absolute value (the ceiling is config data.max_amount)",
            absurd,
            show,
        )
    if failures.rows:
        raise ValidationError(failures.frame())


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
