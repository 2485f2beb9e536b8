"""Column and code mapping: a lender's tables, columns and codes → the data contract.

A lender's collection system and warehouse name things their own way (``loan_no``
for ``account_id``, ``TEL`` for a ``call``, ``4`` for "four months behind"). A mapping
file (YAML or TOML, format in ``docs/data.md``) says, per contract table, where the
table is (a file name, or a SQL table or query for :mod:`recovery.data.sources`), which
lender column is which contract column, and which lender code is which contract
category. :func:`load_mapping` reads and checks it; :meth:`Mapping.apply` renames a
frame's columns and translates its codes; :meth:`Mapping.to_portfolio` does that for
every table and turns a monthly ``performance`` table into ``snapshots``
(:mod:`recovery.data.performance`). A first mapping for the user to edit is guessed from
a sample of the lender's files by :mod:`recovery.data.starter_mapping`.

A code that is neither mapped nor already a contract category stops the load with
one message naming the table, the column, each unmapped code with its count and a few
example rows — never a silent missing value.

Examples
--------
>>> m = Mapping.from_dict({"tables": {"actions": {
...     "columns": {"loan_no": "account_id", "act_type": "channel"},
...     "codes": {"channel": {"TEL": "call"}}}}})
>>> raw = pd.DataFrame({"loan_no": ["L1", "L2"], "act_type": ["TEL", "sms"]})
>>> m.apply("actions", raw).values.tolist()
[['L1', 'call'], ['L2', 'sms']]
"""

from __future__ import annotations

import difflib
import sys
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recovery.config import PRODUCT_KINDS, Config
from recovery.data.dates import date_shape, is_date_format, parse_dates
from recovery.data.mapped_tables import (
    MAPPING_TABLES,
    allowed_codes,
    coded_columns,
    known_status_codes,
    table_spec,
)
from recovery.data.performance import (
    STATUS_ENCODINGS,
    as_code,
    code_text,
    months_from_anchor,
    portfolio_from_performance,
)
from recovery.data.portfolio import Portfolio
from recovery.data.reversals import REVERSAL_STYLES, reverse_negative_rows
from recovery.data.schema import (
    FREE_TEXT_COLUMNS,
    ExtraColumnsWarning,
    TableSpec,
    product_kinds,
)
from recovery.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

__all__ = [
    "MappingError",
    "DateWindow",
    "TableMapping",
    "Mapping",
    "MAPPING_TABLES",
    "load_mapping",
    "as_mapping",
    "table_spec",
    "coded_columns",
    "allowed_codes",
    "known_status_codes",
]

_TOP_KEYS = ("version", "window", "product_kinds", "tables")
_TABLE_KEYS = (
    "table",
    "query",
    "params",
    "file",
    "date_column",
    "columns",
    "codes",
    "status_encoding",
    "date_format",
    "month_anchor",
    "reversals",
    "product_kind",
)
_EXAMPLE_ROWS = 3
_MAPPED = "recovery.data.mapping"  # DataFrame.attrs key marking a frame already mapped
_SHOWN_CODES = 10


class MappingError(ConfigError):
    """A mapping file is invalid, or a table holds codes the mapping does not translate.

    Attributes
    ----------
    table, column : str or None
        Where the problem is (contract names).
    unmapped : pandas.DataFrame or None
        For unmapped codes: ``code``, ``count`` (rows), ``examples`` (text).
    """

    def __init__(
        self,
        message: str,
        table: str | None = None,
        column: str | None = None,
        unmapped: pd.DataFrame | None = None,
    ) -> None:  # noqa: D107 - documented on the class
        super().__init__(message)
        self.table = table
        self.column = column
        self.unmapped = unmapped


@dataclass(frozen=True)
class DateWindow:
    """First and last day (inclusive) of the rows to load; either may be open (None).

    Examples
    --------
    >>> DateWindow(pd.Timestamp("2024-01-01"), None).contains(pd.Series(
    ...     pd.to_datetime(["2023-12-31", "2024-06-30"]))).tolist()
    [False, True]
    """

    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None

    def contains(self, dates: pd.Series) -> pd.Series:
        """Whether each date lies in the window (missing dates: False)."""
        d = pd.to_datetime(dates)
        keep = d.notna()
        if self.start is not None:
            keep &= d >= self.start
        if self.end is not None:
            keep &= d < self.end + pd.Timedelta(days=1)
        return keep


@dataclass(frozen=True)
class TableMapping:
    """How one lender table becomes one contract table.

    Attributes
    ----------
    name : str
        Contract table (``accounts`` … ``snapshots``) or ``performance`` (monthly data,
        loaded as ``snapshots``).
    table, query : str, optional
        SQL table name, or SQL text with ``:name`` bound parameters (one of them).
    params : dict
        Bound parameters of ``query``.
    file : str, optional
        File name inside a portfolio directory (CSV or Parquet).
    date_column : str, optional
        Lender column the date window applies to.
    columns : dict
        Lender column → contract column.
    codes : dict
        Contract column → {lender code → contract category}.
    status_encoding : str, optional
        ``performance`` only: ``days_past_due``, ``months_behind`` or ``bucket_label``.
    date_format : dict
        Contract date column → ``strftime`` format of the lender's values
        (``%d/%m/%Y``); columns not listed must be ISO.
    month_anchor : pandas.Period, optional
        ``performance`` / ``snapshots``: the month numbered 0 when ``month_end`` holds
        month numbers relative to the extract (0, −1, −2, …).
    reversals : str, optional
        ``payments`` only: ``negative_rows`` when the ledger exports a returned payment
        as a negative row (:mod:`recovery.data.reversals`).
    product_kind : str, optional
        ``accounts`` / ``performance``: the kind (``installment`` or ``revolving``) of
        every account of the table, when its rows do not say.

    Examples
    --------
    >>> tm = TableMapping("performance", columns={"mob": "status_code"},
    ...                   status_encoding="months_behind")
    >>> tm.target, tm.lender_column("status_code"), tm.lender_column("balance")
    ('snapshots', 'mob', 'balance')
    """

    name: str
    table: str | None = None
    query: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    file: str | None = None
    date_column: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    status_encoding: str | None = None
    date_format: dict[str, str] = field(default_factory=dict)
    month_anchor: pd.Period | None = None
    reversals: str | None = None
    product_kind: str | None = None

    @property
    def target(self) -> str:
        """The contract table this mapping fills (``snapshots`` for ``performance``)."""
        return "snapshots" if self.name == "performance" else self.name

    @property
    def encoding(self) -> str:
        """Status encoding of a performance table (``days_past_due`` by default)."""
        return self.status_encoding or "days_past_due"

    def lender_column(self, contract_column: str) -> str:
        """The lender's name of a contract column (itself when not renamed)."""
        for lender, contract in self.columns.items():
            if contract == contract_column:
                return lender
        return contract_column


@dataclass(frozen=True)
class Mapping:
    """A lender's mapping file: one :class:`TableMapping` per table, an optional window.

    Attributes
    ----------
    tables : dict
        ``{table name: TableMapping}``.
    window : DateWindow, optional
        Rows to load (pushed into SQL by :mod:`recovery.data.sources`).
    product_kinds : dict
        Contract product code → kind (``installment`` / ``revolving``), over the
        config's ``categories.product_kinds`` for this book.
    source : Path, optional
        The file it was read from (named in error messages).
    """

    tables: dict[str, TableMapping] = field(default_factory=dict)
    window: DateWindow | None = None
    product_kinds: dict[str, str] = field(default_factory=dict)
    source: Path | None = None

    # ------------------------------------------------------------------ building
    @classmethod
    def from_dict(
        cls, data: dict[str, Any], source: str | Path | None = None, config: Config | None = None
    ) -> Mapping:
        """Build and check a mapping from nested dicts (the parsed file).

        Raises
        ------
        MappingError
            Naming the file and key of each problem and what to write instead.
        """
        return _parse(data, Path(source) if source else None, config or Config())

    # ------------------------------------------------------------------ applying
    def _where(self) -> str:
        return f"{self.source.name}: " if self.source else "mapping: "

    def apply(self, name: str, frame: pd.DataFrame, config: Config | None = None) -> pd.DataFrame:
        """Rename a lender frame's columns and translate its codes to the contract.

        Idempotent: the result is marked (``DataFrame.attrs``) and passes a second
        time unchanged, as does a frame already in contract form. A table the mapping
        does not name is returned unchanged (a copy).

        Parameters
        ----------
        name : str
            Table name in the mapping (a contract table or ``performance``).
        frame : pandas.DataFrame
            The lender's rows (all of them, or one chunk).
        config : Config, optional
            Allowed categories (``config.categories``) and bucket names.

        Returns
        -------
        pandas.DataFrame
            Contract column names and categories; unmapped columns kept as they are.

        Raises
        ------
        MappingError
            A mapped column is missing, two columns would get one name, or a code is
            neither mapped nor a contract category (naming the code(s), their counts
            and example rows).

        Examples
        --------
        >>> m = Mapping.from_dict({"tables": {"payments": {"columns": {"pay_via": "channel"},
        ...     "codes": {"channel": {"TRF": "bank_transfer"}}}}})
        >>> raw = pd.DataFrame({"account_id": ["L1", "L2", "L3"], "pay_via": ["TRF", "CHQ", "CHQ"]})
        >>> try:
        ...     m.apply("payments", raw)
        ... except MappingError as err:
        ...     print(err.unmapped[["code", "count"]].values.tolist())
        [['CHQ', 2]]
        """
        config = config or Config()
        out = frame.copy()
        tm = self.tables.get(name)
        if tm is None or out.attrs.get(_MAPPED) == name:
            return out
        where = self._where()
        renames = {}
        for lender, contract in tm.columns.items():
            if lender in out.columns:
                if contract in out.columns and contract != lender:
                    raise MappingError(
                        f"{where}table '{name}': the data has both '{lender}' (mapped to "
                        f"'{contract}') and a column already named '{contract}'; drop one, or "
                        f"remove tables.{name}.columns.{lender}",
                        table=name,
                        column=contract,
                    )
                renames[lender] = contract
            elif contract not in out.columns:
                raise MappingError(
                    f"{where}tables.{name}.columns.{lender}: the table has no column '{lender}' "
                    f"(columns present: {list(out.columns)[:20]}); fix the name in the mapping",
                    table=name,
                    column=contract,
                )
        out = out.rename(columns=renames)
        for column, kind in coded_columns(name).items():
            if column in out.columns:
                out[column] = self._translate(tm, column, kind, out, config)
        for column in [*tm.date_format, *(["month_end"] if tm.month_anchor else [])]:
            if column in out.columns:
                out[column] = self._dates(tm, column, out)
        if tm.product_kind is not None and "product_kind" not in out.columns:
            out["product_kind"] = tm.product_kind
        out.attrs[_MAPPED] = name
        return out

    def dates(self, name: str, column: str, values: pd.Series) -> tuple[pd.Series, pd.Series]:
        """A date column of a lender table read the way the mapping declares.

        ``month_anchor`` for a relative month, ``date_format`` for a lender's own format,
        else ISO 8601 (:func:`recovery.data.schema.parse_dates`; never guessed).

        Parameters
        ----------
        name : str
            Mapping table name.
        column : str
            Contract column name.
        values : Series
            The lender's values.

        Returns
        -------
        parsed, bad : Series
            ``datetime64[ns]`` values, and which present values could not be read.

        Examples
        --------
        >>> m = Mapping.from_dict({"tables": {"payments": {"date_format": "%d/%m/%Y"}}})
        >>> m.dates("payments", "payment_date", pd.Series(["03/08/2018"]))[0].dt.month.tolist()
        [8]
        """
        tm = self.tables.get(name) or TableMapping(name)
        if column == "month_end" and tm.month_anchor is not None:
            return months_from_anchor(values, tm.month_anchor)
        try:
            kind = table_spec(name).column(column).kind
        except KeyError:  # a lender date column the contract does not know (a window's)
            kind = "date"
        return parse_dates(
            values, kind if kind == "datetime" else "date", tm.date_format.get(column)
        )

    def _dates(self, tm: TableMapping, column: str, frame: pd.DataFrame) -> pd.Series:
        parsed, bad = self.dates(tm.name, column, frame[column])
        if bad.any():
            lender = tm.lender_column(column)
            named = f"column '{column}'" + (
                f" (lender column '{lender}')" if lender != column else ""
            )
            if column == "month_end" and tm.month_anchor is not None:
                rule, key = (
                    f"month numbers relative to month_anchor {tm.month_anchor}",
                    "month_anchor",
                )
            else:
                rule, key = f"date_format '{tm.date_format[column]}'", "date_format"
            rows = frame.loc[bad.to_numpy(), column].head(_EXAMPLE_ROWS)
            shown = "; ".join(f"row {i}: {v!r}" for i, v in rows.items())
            raise MappingError(
                f"{self._where()}table '{tm.name}', {named}: {int(bad.sum())} value(s) are not "
                f"{rule} (format seen {date_shape(frame.loc[bad.to_numpy(), column])}); e.g. "
                f"{shown}. Fix tables.{tm.name}.{key} in the mapping file",
                table=tm.name,
                column=column,
            )
        return parsed

    def _translate(
        self, tm: TableMapping, column: str, kind: str, frame: pd.DataFrame, config: Config
    ) -> pd.Series:
        values = frame[column]
        text = code_text(values)
        uniques = pd.unique(text.dropna())
        lookup = {str(k): v for k, v in tm.codes.get(column, {}).items()}
        if kind == "status_code":
            known = known_status_codes([lookup.get(u, u) for u in uniques], tm.encoding, config)
            ok = {u for u in uniques if str(lookup.get(u, u)) in known}
        else:
            allowed = set(allowed_codes(kind, config))
            ok = {u for u in uniques if u in lookup or u in allowed}
        bad = [u for u in uniques if u not in ok]
        if bad:
            self._raise_unmapped(tm, column, kind, frame, text, bad, config)
        if not lookup:
            return values if kind == "status_code" else text
        codes, uniques = pd.factorize(text, use_na_sentinel=True)
        mapped = np.array([lookup.get(u, u) for u in uniques] + [None], dtype=object)
        return pd.Series(mapped[codes], index=text.index, dtype=object)

    def _raise_unmapped(self, tm, column, kind, frame, text, bad, config) -> None:
        where = self._where()
        counts = text[text.isin(bad)].value_counts()
        key = list(dict.fromkeys(c for c in ("account_id", *table_spec(tm.name).key) if c in frame))
        show = list(dict.fromkeys([*key[:2], column]))
        rows = []
        for code, count in counts.items():
            sample = frame.loc[text == code, show].head(_EXAMPLE_ROWS)
            examples = "; ".join(
                f"row {i}: " + ", ".join(f"{k}={v!r}" for k, v in r.items())
                for i, r in sample.iterrows()
            )
            rows.append({"code": code, "count": int(count), "examples": examples})
        table = pd.DataFrame(rows, columns=["code", "count", "examples"])
        listed = ", ".join(
            f"{r.code!r} ({r.count} rows)" for r in table.head(_SHOWN_CODES).itertuples()
        )
        more = f" and {len(table) - _SHOWN_CODES} more" if len(table) > _SHOWN_CODES else ""
        lender = tm.lender_column(column)
        named = f"column '{column}'" + (f" (lender column '{lender}')" if lender != column else "")
        if kind == "status_code":
            allowed = f"codes of the '{tm.encoding}' encoding (see docs/data.md)"
        else:
            allowed = "one of " + ", ".join(allowed_codes(kind, config))
        raise MappingError(
            f"{where}table '{tm.name}', {named}: {len(table)} code(s) not mapped: "
            f"{listed}{more}; e.g. {table.loc[0, 'examples']}. Add them under "
            f"tables.{tm.name}.codes.{column} in the mapping file ({allowed})",
            table=tm.name,
            column=column,
            unmapped=table,
        )

    def to_portfolio(
        self,
        frames: dict[str, pd.DataFrame],
        config: Config | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Portfolio:
        """A :class:`Portfolio` from the lender's frames, keyed by mapping table name.

        Each frame is mapped (:meth:`apply`); a ``performance`` frame becomes
        ``snapshots`` (:func:`recovery.data.performance.snapshots_from_performance`) and,
        when no ``accounts`` frame is given, a minimal ``accounts`` table
        (:func:`recovery.data.performance.accounts_from_performance`). Not validated. A
        mapped table's columns that are neither mapped nor contract columns are kept
        with an :class:`~recovery.data.schema.ExtraColumnsWarning` naming them.

        Examples
        --------
        >>> m = Mapping.from_dict({"tables": {"performance": {"columns": {"loan": "account_id",
        ...     "mth": "month_end", "mob": "status_code", "bal": "balance", "paid": "paid_amount"},
        ...     "status_encoding": "months_behind"}}})
        >>> perf = pd.DataFrame({"loan": ["L1", "L1"], "mth": ["2024-01", "2024-02"],
        ...     "mob": [0, 1], "bal": [100.0, 100.0], "paid": [10.0, 0.0]})
        >>> m.to_portfolio({"performance": perf})
        Portfolio(accounts=1, snapshots=2)
        """
        config = config or Config()
        if "performance" in frames and "snapshots" in frames:
            raise MappingError(
                f"{self._where()}give either a performance table or a snapshots table, not both"
            )
        tables = {}
        for name, frame in frames.items():
            if name not in MAPPING_TABLES:
                raise MappingError(f"{self._where()}unknown table {name!r}")
            tables[name] = self.apply(name, frame, config)
            known = {c.name for c in table_spec(name).columns} | set(FREE_TEXT_COLUMNS)
            extra = [c for c in tables[name].columns if c not in known]
            if extra and name in self.tables:
                warnings.warn(
                    f"table '{name}': column(s) {extra} are neither mapped nor contract "
                    f"columns; kept as they are (map them under tables.{name}.columns if "
                    "they are contract columns)",
                    ExtraColumnsWarning,
                    stacklevel=2,
                )
        payments = self.tables.get("payments")
        if "payments" in tables and payments is not None and payments.reversals:
            tables["payments"] = reverse_negative_rows(tables["payments"])
        kinds = {**config.categories.product_kinds, **self.product_kinds}
        if self.product_kinds:
            config = replace(config, categories=replace(config.categories, product_kinds=kinds))
        for name in ("accounts", "performance"):
            tm = self.tables.get(name)
            declared = self.product_kinds or (tm is not None and tm.product_kind)
            if name in tables and declared:
                tables[name] = tables[name].assign(product_kind=product_kinds(tables[name], config))
        perf = tables.pop("performance", None)
        meta = dict(meta or {})
        if perf is None:
            return Portfolio(**tables, meta=meta)
        tm = self.tables.get("performance") or TableMapping("performance")
        built = portfolio_from_performance(
            perf, tm.encoding, tables.get("accounts"), config, meta=meta
        )
        tables["snapshots"] = built.snapshots
        tables["accounts"] = built.accounts
        return Portfolio(**tables, meta=built.meta)


# ---------------------------------------------------------------------- reading


def _fail(source: Path | None, key: str, message: str) -> MappingError:
    where = f"{source}" if source else "mapping"
    return MappingError(f"{where}: {key}: {message}")


def _closest(word: str, options) -> str:
    near = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f" (did you mean {near[0]!r}?)" if near else ""


def _date(value: Any, source: Path | None, key: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        return pd.Timestamp(value).normalize()
    except (ValueError, TypeError):
        raise _fail(source, key, f"{value!r} is not a date; write YYYY-MM-DD") from None


def _parse(data: Any, source: Path | None, config: Config) -> Mapping:
    if not isinstance(data, dict):
        raise _fail(source, "(top level)", "must be a mapping with a 'tables' key")
    unknown = [k for k in data if k not in _TOP_KEYS]
    if unknown:
        raise _fail(
            source,
            str(unknown[0]),
            f"unknown key; use {list(_TOP_KEYS)}{_closest(unknown[0], _TOP_KEYS)}",
        )
    if data.get("version", 1) != 1:
        raise _fail(source, "version", f"{data['version']!r} is not supported; write version: 1")
    window = None
    if data.get("window") is not None:
        w = data["window"]
        if not isinstance(w, dict) or set(w) - {"start", "end"}:
            raise _fail(source, "window", "must be {start: YYYY-MM-DD, end: YYYY-MM-DD}")
        window = DateWindow(
            _date(w.get("start"), source, "window.start"), _date(w.get("end"), source, "window.end")
        )
        if window.start is not None and window.end is not None and window.start > window.end:
            raise _fail(
                source, "window", f"start {window.start.date()} is after end {window.end.date()}"
            )
    tables = data.get("tables")
    if not isinstance(tables, dict) or not tables:
        raise _fail(source, "tables", "must name at least one table (e.g. tables: {accounts: …})")
    parsed = {}
    for name, body in tables.items():
        parsed[str(name)] = _parse_table(str(name), body, source, config)
    if "performance" in parsed and "snapshots" in parsed:
        raise _fail(
            source, "tables", "give either performance (monthly data) or snapshots, not both"
        )
    kinds = data.get("product_kinds") or {}
    if not isinstance(kinds, dict):
        raise _fail(source, "product_kinds", "must be a mapping of product: installment|revolving")
    for product, kind in kinds.items():
        products = config.categories.products
        if str(product) not in products:
            raise _fail(
                source,
                f"product_kinds.{product}",
                f"{product!r} is not a product category{_closest(product, products)}; use one "
                f"of {list(products)} (or add it to the config's [categories] products)",
            )
        _kind(kind, source, f"product_kinds.{product}")
    kinds = {str(k): str(v) for k, v in kinds.items()}
    return Mapping(tables=parsed, window=window, product_kinds=kinds, source=source)


def _kind(value: Any, source: Path | None, key: str) -> str:
    if value not in PRODUCT_KINDS:
        raise _fail(
            source, key, f"{value!r} is not a product kind; use {' or '.join(PRODUCT_KINDS)}"
        )
    return str(value)


def _date_formats(value: Any, spec: TableSpec, name: str, source: Path | None) -> dict[str, str]:
    """``date_format:`` — one format for every date column of the table, or one per column."""
    key = f"tables.{name}.date_format"
    dates = [c.name for c in spec.columns if c.kind in ("date", "datetime")]
    if isinstance(value, str):
        value = dict.fromkeys(dates, value)
    elif not isinstance(value, dict):
        raise _fail(source, key, "must be a format ('%d/%m/%Y') or {date column: format}")
    out = {}
    for column, fmt in value.items():
        if column not in dates:
            raise _fail(
                source,
                f"{key}.{column}",
                f"'{column}' is not a date column of '{name}'{_closest(column, dates)}; use "
                f"one of {dates}",
            )
        ok = is_date_format(fmt)
        if not ok:
            raise _fail(
                source,
                f"{key}.{column}" if len(value) < len(dates) else key,
                f"{fmt!r} is not a date format; write strftime codes such as '%d/%m/%Y' "
                "(day first), '%m/%d/%Y' (month first) or '%Y%m' (year and month)",
            )
        out[str(column)] = fmt
    return out


def _parse_table(name: str, body: Any, source: Path | None, config: Config) -> TableMapping:
    key = f"tables.{name}"
    if name not in MAPPING_TABLES:
        raise _fail(
            source,
            key,
            f"unknown table {name!r}{_closest(name, MAPPING_TABLES)}; use one of "
            f"{list(MAPPING_TABLES)}",
        )
    body = body or {}
    if not isinstance(body, dict):
        raise _fail(source, key, "must be a mapping of settings (columns:, codes:, file: …)")
    unknown = [k for k in body if k not in _TABLE_KEYS]
    if unknown:
        raise _fail(
            source,
            f"{key}.{unknown[0]}",
            f"unknown setting{_closest(unknown[0], _TABLE_KEYS)}; use {list(_TABLE_KEYS)}",
        )
    for text_key in ("table", "query", "file", "date_column", "status_encoding", "reversals"):
        if body.get(text_key) is not None and not isinstance(body[text_key], str):
            raise _fail(source, f"{key}.{text_key}", "must be text")
    if body.get("table") and body.get("query"):
        raise _fail(source, key, "give either table: or query:, not both")
    params = body.get("params") or {}
    if not isinstance(params, dict):
        raise _fail(source, f"{key}.params", "must be a mapping of name: value")
    spec = table_spec(name)
    contract = [c.name for c in spec.columns]
    columns_in = body.get("columns") or {}
    if not isinstance(columns_in, dict):
        raise _fail(source, f"{key}.columns", "must be a mapping of lender column: contract column")
    columns: dict[str, str] = {}
    seen: dict[str, str] = {}
    for lender, target in columns_in.items():
        where = f"{key}.columns.{lender}"
        if target is None or target == "":
            raise _fail(
                source,
                where,
                f"no contract column given; write one of {contract} or delete the line",
            )
        target = str(target)
        if target not in contract:
            raise _fail(
                source,
                where,
                f"{target!r} is not a column of the contract table '{name}'"
                f"{_closest(target, contract)}; use one of {contract}",
            )
        if target in seen:
            raise _fail(
                source,
                where,
                f"'{seen[target]}' and '{lender}' are both mapped to '{target}'; keep one",
            )
        seen[target] = str(lender)
        columns[str(lender)] = target
    encoding = body.get("status_encoding")
    if encoding is not None:
        if name != "performance":
            raise _fail(source, f"{key}.status_encoding", "only the performance table has one")
        if encoding not in STATUS_ENCODINGS:
            raise _fail(
                source,
                f"{key}.status_encoding",
                f"{encoding!r} is not an encoding{_closest(encoding, STATUS_ENCODINGS)}; use "
                f"one of {list(STATUS_ENCODINGS)}",
            )
    if name == "performance" and encoding not in (None, "days_past_due"):
        if "dpd" in columns.values() and "status_code" not in columns.values():
            raise _fail(
                source,
                f"{key}.columns.{seen['dpd']}",
                f"a {encoding} code goes to status_code, not dpd (dpd holds days past due)",
            )
    if name == "performance" and "status_code" in columns.values() and encoding is None:
        raise _fail(
            source,
            f"{key}.status_encoding",
            f"required when a column is mapped to status_code; use one of {list(STATUS_ENCODINGS)}",
        )
    codes_in = body.get("codes") or {}
    if not isinstance(codes_in, dict):
        raise _fail(
            source, f"{key}.codes", "must be a mapping of contract column: {code: category}"
        )
    coded = coded_columns(name)
    status_encoding = encoding or "days_past_due"
    codes: dict[str, dict[str, str]] = {}
    for column, table in codes_in.items():
        where = f"{key}.codes.{column}"
        if column not in coded:
            raise _fail(
                source,
                where,
                f"'{column}' is not a coded column of '{name}'{_closest(column, coded)}; codes "
                f"apply to {sorted(coded)}",
            )
        if not isinstance(table, dict):
            raise _fail(source, where, "must be a mapping of lender code: contract category")
        kind = coded[column]
        out = {}
        for code, category in table.items():
            at = f"{where}.{code}"
            if category is None or category == "":
                raise _fail(
                    source, at, f"no category given; {_what(kind, status_encoding, config)}"
                )
            if kind == "status_code":
                if not known_status_codes([category], status_encoding, config):
                    raise _fail(
                        source,
                        at,
                        f"{category!r} is not a '{status_encoding}' code; see docs/data.md",
                    )
                out[as_code(code)] = as_code(category)
            else:
                allowed = allowed_codes(kind, config)
                if str(category) not in allowed:
                    raise _fail(
                        source,
                        at,
                        f"{category!r} is not a contract category{_closest(category, allowed)}; "
                        f"{_what(kind, status_encoding, config)}",
                    )
                out[as_code(code)] = str(category)
        codes[str(column)] = out
    anchor = body.get("month_anchor")
    if anchor is not None:
        if "month_end" not in contract:
            raise _fail(source, f"{key}.month_anchor", "only a table with month_end has one")
        try:
            anchor = pd.Period(str(anchor)[:7], freq="M")
        except (ValueError, TypeError):
            raise _fail(
                source, f"{key}.month_anchor", f"{anchor!r} is not a month; write YYYY-MM"
            ) from None
    reversals = body.get("reversals")
    if reversals is not None and (name != "payments" or reversals not in REVERSAL_STYLES):
        raise _fail(
            source,
            f"{key}.reversals",
            "only the payments table has one: reversals: negative_rows (the ledger exports a "
            "returned payment as a negative row)",
        )
    kind = body.get("product_kind")
    if kind is not None:
        if "product_kind" not in contract:
            raise _fail(source, f"{key}.product_kind", "only accounts and performance have one")
        kind = _kind(kind, source, f"{key}.product_kind")
    formats = _date_formats(body.get("date_format") or {}, spec, name, source)
    return TableMapping(
        name=name,
        table=body.get("table"),
        query=body.get("query"),
        params=dict(params),
        file=body.get("file"),
        date_column=body.get("date_column"),
        columns=columns,
        codes=codes,
        status_encoding=encoding,
        date_format=formats,
        month_anchor=anchor,
        reversals=reversals,
        product_kind=kind,
    )


def _what(kind: str, encoding: str, config: Config) -> str:
    if kind == "status_code":
        return f"write a '{encoding}' code (see docs/data.md)"
    allowed = allowed_codes(kind, config)
    return (
        "use one of "
        + ", ".join(allowed)
        + (" (or add it to the config's [categories])" if kind.startswith("cat:") else "")
    )


def load_mapping(path: str | Path, config: Config | None = None) -> Mapping:
    """Read and check a mapping file (YAML ``.yml``/``.yaml`` or TOML ``.toml``).

    Parameters
    ----------
    path : str or Path
        The mapping file (format in ``docs/data.md``).
    config : Config, optional
        Allowed categories the codes are checked against.

    Returns
    -------
    Mapping

    Raises
    ------
    MappingError
        The file is missing or unreadable, or a key is wrong: an unknown table,
        setting or contract column, two lender columns onto one contract column, a
        category the contract does not know, a bad ``status_encoding`` — each naming
        the file and the key.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = Path(tmp) / "mapping.yml"
    ...     _ = p.write_text("tables:\\n  acounts:\\n    file: loans.csv\\n")
    ...     try:
    ...         load_mapping(p)
    ...     except MappingError as err:
    ...         print(str(err).split(": ", 1)[1].split(";")[0])
    tables.acounts: unknown table 'acounts' (did you mean 'accounts'?)
    """
    path = Path(path)
    if not path.is_file():
        raise MappingError(f"mapping file {path} does not exist")
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8")
        if suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix in (".yml", ".yaml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            raise MappingError(f"mapping file {path} must end in .yml, .yaml or .toml")
    except MappingError:
        raise
    except Exception as exc:  # yaml.YAMLError / TOMLDecodeError / UnicodeDecodeError
        kind = "TOML" if suffix == ".toml" else "YAML"
        detail = " ".join(str(exc).split())  # one line
        raise MappingError(f"mapping file {path} is not valid {kind}: {detail}") from None
    return _parse(data, path, config or Config())


def as_mapping(
    mapping: Mapping | str | Path | None, config: Config | None = None
) -> Mapping | None:
    """A :class:`Mapping` from a mapping, a file path or ``None`` (no mapping).

    Examples
    --------
    >>> as_mapping(None) is None
    True
    """
    if mapping is None or isinstance(mapping, Mapping):
        return mapping
    if isinstance(mapping, dict):
        return Mapping.from_dict(mapping, config=config)
    return load_mapping(mapping, config)
