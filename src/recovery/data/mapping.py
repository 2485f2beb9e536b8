"""Column and code mapping: a lender's tables, columns and codes → the data contract.

A lender's collection system and warehouse name things their own way (``loan_no``
for ``account_id``, ``TEL`` for a ``call``, ``4`` for "four months behind"). A mapping
file (YAML or TOML, format in ``docs/data.md``) says, per contract table, where the
table is (a file name, or a SQL table or query for :mod:`recovery.data.sources`), which
lender column is which contract column, and which lender code is which contract
category. :func:`load_mapping` reads and checks it; :meth:`Mapping.apply` renames a
frame's columns and translates its codes; :meth:`Mapping.to_portfolio` does that for
every table and turns a monthly ``performance`` table into ``snapshots``
(:mod:`recovery.data.performance`). :func:`starter_mapping` guesses a first mapping from a
sample of the lender's files and :func:`write_mapping` writes it as commented YAML for
the user to edit (``recovery init-mapping PATH``).

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
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.performance import (
    PERFORMANCE,
    STATUS_ENCODINGS,
    _one_code,
    decode_status,
    portfolio_from_performance,
)
from recovery.data.performance import (
    _code_text as _text,
)
from recovery.data.portfolio import TABLE_ORDER, Portfolio
from recovery.data.schema import FREE_TEXT_COLUMNS, TABLES, ExtraColumnsWarning, TableSpec
from recovery.errors import ConfigError, DataError

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
    "starter_mapping",
    "write_mapping",
]

#: Table names a mapping may use: the contract's tables and ``performance``.
MAPPING_TABLES = (*TABLE_ORDER, "performance")
_TOP_KEYS = ("version", "window", "tables")
_TABLE_KEYS = (
    "table",
    "query",
    "params",
    "file",
    "date_column",
    "columns",
    "codes",
    "status_encoding",
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


def _spec(name: str) -> TableSpec:
    return PERFORMANCE if name == "performance" else TABLES[name]


def _coded_columns(name: str) -> dict[str, str]:
    """Contract columns of a table that hold codes, with the kind of their categories.

    ``cat:<field>`` (``config.categories.<field>``), ``bucket`` (``config.aging``
    bucket names) or ``status_code`` (read by the table's status encoding).
    """
    out = {c.name: c.kind for c in _spec(name).columns if c.kind.startswith("cat:")}
    if name == "snapshots":
        out["bucket"] = "bucket"
    if name == "performance":
        out["status_code"] = "status_code"
    return out


def _allowed(kind: str, config: Config) -> tuple[str, ...]:
    if kind == "bucket":
        return tuple(config.aging.bucket_names)
    if kind.startswith("cat:"):
        return tuple(getattr(config.categories, kind[4:]))
    return ()


def _code_key(value: object) -> str:
    return _one_code(value)


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
    source : Path, optional
        The file it was read from (named in error messages).
    """

    tables: dict[str, TableMapping] = field(default_factory=dict)
    window: DateWindow | None = None
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
        for column, kind in _coded_columns(name).items():
            if column in out.columns:
                out[column] = self._translate(tm, column, kind, out, config)
        out.attrs[_MAPPED] = name
        return out

    def _translate(
        self, tm: TableMapping, column: str, kind: str, frame: pd.DataFrame, config: Config
    ) -> pd.Series:
        values = frame[column]
        text = _text(values)
        uniques = pd.unique(text.dropna())
        lookup = {str(k): v for k, v in tm.codes.get(column, {}).items()}
        if kind == "status_code":
            known = _known_status_codes([lookup.get(u, u) for u in uniques], tm.encoding, config)
            ok = {u for u in uniques if str(lookup.get(u, u)) in known}
        else:
            allowed = set(_allowed(kind, config))
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
        key = list(dict.fromkeys(c for c in ("account_id", *_spec(tm.name).key) if c in frame))
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
            allowed = "one of " + ", ".join(_allowed(kind, config))
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
            known = {c.name for c in _spec(name).columns} | set(FREE_TEXT_COLUMNS)
            extra = [c for c in tables[name].columns if c not in known]
            if extra and name in self.tables:
                warnings.warn(
                    f"table '{name}': column(s) {extra} are neither mapped nor contract "
                    f"columns; kept as they are (map them under tables.{name}.columns if "
                    "they are contract columns)",
                    ExtraColumnsWarning,
                    stacklevel=2,
                )
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


def _known_status_codes(codes: list, encoding: str, config: Config) -> set[str]:
    """Which of a handful of codes the encoding reads."""
    ok = set()
    for code in codes:
        try:
            decode_status([code], encoding, config)
        except DataError:
            continue
        ok.add(_code_key(code))
    return ok


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
    return Mapping(tables=parsed, window=window, source=source)


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
    for text_key in ("table", "query", "file", "date_column", "status_encoding"):
        if body.get(text_key) is not None and not isinstance(body[text_key], str):
            raise _fail(source, f"{key}.{text_key}", "must be text")
    if body.get("table") and body.get("query"):
        raise _fail(source, key, "give either table: or query:, not both")
    params = body.get("params") or {}
    if not isinstance(params, dict):
        raise _fail(source, f"{key}.params", "must be a mapping of name: value")
    spec = _spec(name)
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
    coded = _coded_columns(name)
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
                if not _known_status_codes([category], status_encoding, config):
                    raise _fail(
                        source,
                        at,
                        f"{category!r} is not a '{status_encoding}' code; see docs/data.md",
                    )
                out[_code_key(code)] = _code_key(category)
            else:
                allowed = _allowed(kind, config)
                if str(category) not in allowed:
                    raise _fail(
                        source,
                        at,
                        f"{category!r} is not a contract category{_closest(category, allowed)}; "
                        f"{_what(kind, status_encoding, config)}",
                    )
                out[_code_key(code)] = str(category)
        codes[str(column)] = out
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
    )


def _what(kind: str, encoding: str, config: Config) -> str:
    if kind == "status_code":
        return f"write a '{encoding}' code (see docs/data.md)"
    allowed = _allowed(kind, config)
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


# ---------------------------------------------------------------- starter mapping

# fmt: off
#: Common lender names of contract columns (normalised: lower case, ``_`` separated).
COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "account_id": (
        "loan_id", "loan_no", "loan_number", "loanid", "acct_no", "acct_id", "account_no",
        "account_number", "accountid", "acc_id", "acc_no", "contract_id", "contract_no", "loan",
        "account", "acct",
    ),
    "customer_id": ("cust_id", "cust_no", "customer_no", "client_id", "client_no", "borrower_id"),
    "product": ("product_code", "product_type", "prod", "prod_code", "loan_type", "product_line"),
    "origination_date": (
        "open_date", "open_dt", "opened", "disbursement_date", "disb_date", "disbursed_on",
        "booking_date", "loan_date", "orig_date", "origination_dt",
    ),
    "principal": (
        "loan_amount", "loan_amt", "amount_lent", "disbursed_amount", "principal_amount",
        "original_amount", "orig_amt", "sanctioned_amount",
    ),
    "term_months": ("term", "tenor", "tenure", "loan_term", "term_mths", "n_installments"),
    "interest_rate": ("rate", "int_rate", "apr", "interest", "annual_rate"),
    "region": ("branch", "area", "province", "zone"),
    "installment_no": ("inst_no", "installment_number", "instalment_no", "seq_no", "period_no"),
    "due_date": ("due_dt", "installment_date", "instalment_date", "due"),
    "amount_due": ("due_amount", "amt_due", "emi", "instalment_amount"),
    "payment_date": (
        "pay_date", "paid_date", "txn_date", "posting_date", "post_date", "value_date",
        "trans_date", "transaction_date",
    ),
    "amount": ("pay_amount", "payment_amount", "amt", "txn_amount", "pay_amt"),
    "reversed_date": ("reversal_date", "returned_date", "bounce_date", "reversed_on"),
    "payment_id": ("txn_id", "transaction_id", "pay_id", "receipt_no", "payment_no"),
    "action_id": ("contact_id", "activity_id", "call_id", "act_id", "action_no"),
    "agent_id": ("collector_id", "collector", "officer_id", "user_id", "staff_id", "agent"),
    "ts": (
        "timestamp", "contact_time", "call_time", "action_time", "datetime", "act_ts",
        "contact_ts", "act_time", "contact_date", "action_date",
    ),
    "channel": (
        "act_type", "action_type", "contact_type", "channel_code", "pay_channel",
        "payment_method", "pay_via", "method", "pay_method",
    ),
    "outcome": ("result", "result_code", "disposition", "contact_result", "outcome_code"),
    "promise_amount": ("ptp_amount", "ptp_amt", "promised_amount"),
    "promise_date": ("ptp_date", "promised_date", "ptp_dt"),
    "reason_code": ("reason", "delinquency_reason", "default_reason", "reason_cd"),
    "level": ("seniority", "grade", "agent_level"),
    "hire_date": ("join_date", "joined", "hired"),
    "start_date": ("assign_date", "assigned_date", "from_date", "assigned_on"),
    "end_date": ("unassign_date", "to_date", "released_date", "end_dt"),
    "event": ("event_type", "event_code", "status_change"),
    "date": ("event_date", "event_dt"),
    "month_end": (
        "month", "stmt_month", "statement_month", "report_month", "reporting_month", "as_of",
        "as_of_date", "snapshot_date", "period", "yyyymm", "stmt_date", "mth", "month_id",
    ),
    "dpd": ("days_past_due", "days_overdue", "overdue_days", "dpd_days", "days_late"),
    "status_code": (
        "mob_status", "months_behind", "delinquency_status", "dq_status", "pay_status",
        "payment_status", "cycle", "cycles_delinquent", "dq_bucket", "delinquency_bucket",
        "status_cd",
    ),
    "balance": (
        "bal", "outstanding", "outstanding_balance", "os_balance", "os_bal", "current_balance",
        "principal_outstanding", "balance_amount", "curr_bal",
    ),
    "amount_overdue": (
        "overdue_amount", "overdue_amt", "arrears", "arrears_amount", "past_due_amount",
    ),
    "paid_in_month": ("paid_amount", "amount_paid", "paid", "paid_amt", "collected", "payment"),
    "paid_amount": ("paid_in_month", "amount_paid", "paid", "paid_amt", "collected", "payment"),
    "installment_amount": ("emi", "instalment", "installment", "min_due", "monthly_payment"),
    "status": ("account_status", "acct_status", "loan_status", "acc_status"),
    "bucket": ("aging_bucket", "dq_bucket"),
}

#: Common lender codes of contract categories (normalised: lower case).
CODE_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "action_channels": {
        "call": ("tel", "phone", "call", "calls", "outbound_call", "ph"),
        "sms": ("msg", "text", "sms", "message"),
        "letter": ("ltr", "letter", "mail", "post"),
        "visit": ("fv", "field", "field_visit", "visit"),
        "legal_notice": ("legal", "lgl", "lawyer", "legal_letter", "ln"),
        "lawsuit": ("suit", "court", "litigation"),
        "outsource": ("agency", "dca", "outsourced"),
        "guarantor_contact": ("guarantor", "gtr", "gc"),
    },
    "outcomes": {
        "promise_to_pay": ("ptp", "promise", "promised"),
        "no_answer": ("na", "noans", "no_ans", "nr", "no_response", "noanswer"),
        "right_party_contact": ("rpc", "contacted", "contact"),
        "third_party_contact": ("tpc", "third_party"),
        "wrong_number": ("wn", "wrong", "wrong_no"),
        "refusal": ("rtp", "refused", "refuse"),
        "dispute": ("disp", "disputed"),
        "hardship": ("hs", "hardship"),
        "deceased_reported": ("dec", "deceased", "dead"),
        "delivered": ("dlv", "sent", "delivered"),
        "filed": ("filed",),
        "placed": ("placed",),
    },
    "payment_channels": {
        "bank_transfer": ("bt", "trf", "transfer", "bank", "wire", "neft"),
        "auto_debit": ("dd", "ach", "auto", "autodebit", "direct_debit", "nach"),
        "cash": ("csh", "cash", "counter", "branch"),
        "agency": ("agency", "dca"),
        "court": ("court", "legal"),
        "guarantor": ("guarantor", "gtr"),
        "settlement": ("settlement", "sett", "ots"),
    },
    "statuses": {
        "open": ("a", "act", "active", "open", "o", "live"),
        "paid_off": ("pif", "paid", "paid_off", "paidoff", "repaid", "p"),
        "charged_off": ("wo", "co", "write_off", "written_off", "chargeoff", "charged_off"),
        "settled": ("set", "stl", "settled", "settlement"),
        "closed": ("c", "closed", "cl", "cls"),
    },
    "products": {
        "consumer_installment": ("pl", "cl", "consumer", "personal", "personal_loan", "ci"),
        "small_business": ("sb", "sme", "biz", "business", "msme"),
    },
    "events": {
        "charged_off": ("wo", "co", "write_off", "chargeoff"),
        "restructured": ("rs", "restructure", "resched", "rescheduled"),
        "settled": ("set", "stl", "settlement"),
        "legal_filed": ("legal", "suit_filed", "filed"),
        "deceased": ("dec", "dead"),
        "closed": ("cls", "close"),
    },
}


# fmt: on


def _norm(name: object) -> str:
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name).strip())
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


#: File-name stems that point at a table (normalised).
_TABLE_NAMES = {
    "accounts": ("accounts", "account", "loans", "loan", "loan_master", "accts", "contracts"),
    "schedule": ("schedule", "schedules", "installments", "instalments", "repayment_schedule"),
    "payments": ("payments", "payment", "repayments", "receipts", "transactions", "txn"),
    "actions": ("actions", "contacts", "calls", "collection_log", "activities", "cms_contacts"),
    "agents": ("agents", "collectors", "staff", "users"),
    "assignments": ("assignments", "allocations", "allocation", "queues"),
    "events": ("events", "status_changes", "status_history"),
    "snapshots": ("snapshots", "snapshot"),
    "performance": ("performance", "perf", "monthly", "monthly_performance", "mob", "history"),
}


class StarterMapping(dict):
    """A mapping dict (the file format) with comments for :func:`write_mapping`."""

    comments: dict[str, list[str]]


def _read_sample(path: Path, rows: int) -> pd.DataFrame:
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        reader = pq.ParquetFile(path)
        batch = next(reader.iter_batches(batch_size=rows), None)
        return (
            batch.to_pandas()
            if batch is not None
            else reader.schema_arrow.empty_table().to_pandas()
        )
    return pd.read_csv(path, nrows=rows, dtype=str, keep_default_na=False, na_values=[""])


def _looks_like_dates(values: pd.Series) -> bool:
    v = values.dropna()
    if not len(v):
        return False
    if pd.api.types.is_datetime64_any_dtype(v):
        return True
    if pd.api.types.is_numeric_dtype(v):
        return False
    text = v.astype(str).head(200)
    if not text.str.contains(r"\d{4}|\d{1,2}[/.-]\d{1,2}", regex=True).all():
        return False
    parsed = pd.to_datetime(text, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.9)


def _match_columns(columns: list[str], name: str) -> dict[str, str]:
    """Lender column → contract column of ``name`` by exact, normalised or synonym name."""
    contract = [c.name for c in _spec(name).columns]
    found: dict[str, str] = {}
    taken: set[str] = set()
    for stage in ("exact", "normalised", "synonym"):
        for col in columns:
            if col in found:
                continue
            n = _norm(col)
            for target in contract:
                if target in taken:
                    continue
                hit = (
                    col == target
                    if stage == "exact"
                    else n == target
                    if stage == "normalised"
                    else n in COLUMN_SYNONYMS.get(target, ())
                )
                if hit:
                    found[col] = target
                    taken.add(target)
                    break
    return found


def _score(columns: list[str], name: str, stem: str) -> float:
    spec = _spec(name)
    found = set(_match_columns(columns, name).values())
    required = {c.name for c in spec.columns if c.required}
    if name == "performance":
        required |= {"paid_amount"}
        if "dpd" in found or "status_code" in found:
            required |= {"dpd", "status_code"} & found
        else:
            required |= {"status_code"}
        if "paid_in_month" in found:
            found.add("paid_amount")
    score = 2 * len(found & required) + len(found - required) - len(required - found)
    if stem in _TABLE_NAMES.get(name, ()) or any(s in stem for s in _TABLE_NAMES.get(name, ())[:2]):
        score += 3
    return score


def _guess_code(code: str, kind: str, config: Config) -> str | None:
    allowed = _allowed(kind, config)
    n = _norm(code)
    if code in allowed:
        return code
    for category in allowed:
        if n == category:
            return category
    field_name = kind[4:] if kind.startswith("cat:") else kind
    for category, words in CODE_SYNONYMS.get(field_name, {}).items():
        if category in allowed and n in words:
            return category
    if kind == "bucket":
        return None
    if len(n) >= 3:
        starts = [c for c in allowed if c.startswith(n)]
        if len(starts) == 1:
            return starts[0]
    near = difflib.get_close_matches(n, list(allowed), n=1, cutoff=0.8)
    return near[0] if near else None


def _guess_encoding(values: pd.Series) -> str:
    text = _text(values).dropna().astype(str).str.upper()
    if not len(text):
        return "months_behind"
    if text.str.fullmatch(r"M\d+\+?|CURRENT|CHARGED_OFF|WRITE_OFF|PAID_OFF|CO|WO").mean() > 0.8:
        return "bucket_label"
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.notna().mean() > 0.8 and numbers.max() > 24:
        return "days_past_due"
    return "months_behind"


def starter_mapping(
    source: str | Path | dict[str, pd.DataFrame],
    rows: int = 1000,
    config: Config | None = None,
) -> StarterMapping:
    """Guess a mapping from a sample of a lender's files, for the user to edit.

    Each file (CSV or Parquet; the first ``rows`` rows) is matched to the contract
    table whose columns it matches best (exact, normalised — ``LoanNo`` → ``loan_no`` —
    and common synonyms such as ``loan_id``/``acct_no`` → ``account_id``,
    ``days_past_due`` → ``dpd``, ``bal``/``outstanding`` → ``balance``), helped by the
    file name; a still unmatched date-like column fills a missing date column. Columns
    without a guess map to ``None``; every distinct code of a coded column is listed
    with a guessed category or ``None``. A monthly table without the contract's
    snapshot columns becomes ``performance`` with a guessed ``status_encoding``.

    Parameters
    ----------
    source : str, Path or dict
        A directory of files, or ``{file name: DataFrame}``.
    rows : int
        Rows read from each file.
    config : Config, optional
        Categories and bucket names codes are matched against.

    Returns
    -------
    StarterMapping
        A dict in the mapping-file format (``version``, ``tables``), with
        ``None`` where the user must decide; :func:`write_mapping` writes it.

    Examples
    --------
    >>> frames = {"loans.csv": pd.DataFrame({"LoanNo": ["L1"], "cust_no": ["C1"],
    ...     "prod": ["PL"], "open_dt": ["2024-01-05"], "loan_amt": ["1000"]})}
    >>> m = starter_mapping(frames)
    >>> m["tables"]["accounts"]["columns"]
    {'LoanNo': 'account_id', 'cust_no': 'customer_id', 'prod': 'product', 'open_dt': 'origination_date', 'loan_amt': 'principal'}
    >>> m["tables"]["accounts"]["codes"]
    {'product': {'PL': 'consumer_installment'}}
    """
    config = config or Config()
    if isinstance(source, dict):
        samples = {str(k): v.head(rows) for k, v in source.items()}
    else:
        directory = Path(source)
        if not directory.is_dir():
            raise DataError(f"{directory} is not a directory of CSV or Parquet files")
        files = sorted(
            p
            for p in directory.iterdir()
            if p.is_file() and p.name.lower().endswith((".csv", ".parquet", ".csv.gz"))
        )
        if not files:
            raise DataError(f"no .csv or .parquet files in {directory}")
        samples = {p.name: _read_sample(p, rows) for p in files}
    scored = []
    for file, frame in samples.items():
        stem = _norm(file.split(".")[0])
        cols = [str(c) for c in frame.columns]
        for name in MAPPING_TABLES:
            scored.append((_score(cols, name, stem), file, name))
    scored.sort(key=lambda t: (-t[0], t[1], MAPPING_TABLES.index(t[2])))
    chosen: dict[str, str] = {}
    used_tables: set[str] = set()
    for score, file, name in scored:
        if file in chosen or name in used_tables or score <= 0:
            continue
        if name in ("snapshots", "performance") and used_tables & {"snapshots", "performance"}:
            continue
        chosen[file] = name
        used_tables.add(name)
    tables: dict[str, Any] = {}
    comments: dict[str, list[str]] = {}
    leftovers = [f for f in samples if f not in chosen]
    for file, name in sorted(chosen.items(), key=lambda t: MAPPING_TABLES.index(t[1])):
        frame = samples[file]
        cols = [str(c) for c in frame.columns]
        found = _match_columns(cols, name)
        spec = _spec(name)
        date_targets = [
            c.name
            for c in spec.columns
            if c.kind in ("date", "datetime") and c.name not in found.values()
        ]
        loose = [c for c in cols if c not in found and _looks_like_dates(frame[c])]
        if (
            len(date_targets) >= 1
            and len(loose) == 1
            and (
                len(date_targets) == 1
                or any(c.required for c in spec.columns if c.name == date_targets[0])
            )
        ):
            found[loose[0]] = date_targets[0]
        columns = {c: found.get(c) for c in cols}
        columns = {c: t for c, t in columns.items() if t is None or t != c}  # same name: no line
        entry: dict[str, Any] = {"file": file, "columns": columns}
        notes = [f"{file}: {len(frame):,} sample rows, {len(found)} of {len(cols)} columns guessed"]
        if name == "performance":
            code_col = next((c for c, t in found.items() if t == "status_code"), None)
            entry["status_encoding"] = (
                _guess_encoding(frame[code_col]) if code_col is not None else "days_past_due"
            )
            notes.append(
                "monthly performance table: loaded as snapshots; check status_encoding "
                f"({', '.join(STATUS_ENCODINGS)})"
            )
        codes: dict[str, dict[str, Any]] = {}
        for lender, target in found.items():
            kind = _coded_columns(name).get(target)
            if kind is None:
                continue
            values = _text(frame[lender]).dropna()
            distinct = pd.unique(values)
            if len(distinct) > 50:
                notes.append(
                    f"{lender}: {len(distinct)} distinct values, too many to list as codes"
                )
                continue
            if kind == "status_code":
                known = _known_status_codes(list(distinct), entry["status_encoding"], config)
                unknown = [d for d in distinct if str(d) not in known]
                if unknown:
                    codes[target] = {str(d): None for d in sorted(unknown, key=str)}
                continue
            guesses = {str(d): _guess_code(str(d), kind, config) for d in sorted(distinct, key=str)}
            if any(str(k) != v for k, v in guesses.items()):
                codes[target] = guesses
        if codes:
            entry["codes"] = codes
        tables[name] = entry
        comments[name] = notes
    mapping = StarterMapping(version=1, tables=tables)
    mapping.comments = comments
    if leftovers:
        mapping.comments["_files"] = [f"no table guessed for: {', '.join(leftovers)}"]
    return mapping


def _yaml_scalar(value: Any) -> str:
    import yaml

    if value is None:
        return "null"
    dumped = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).strip()
    return dumped[:-4].rstrip() if dumped.endswith("\n...") else dumped.removesuffix("...").strip()


def write_mapping(mapping: dict[str, Any], path: str | Path, config: Config | None = None) -> Path:
    """Write a mapping dict as commented YAML (atomically).

    ``None`` values are the user's to fill: a column without a guess is written as a
    commented-out line, a code without a category as ``null`` with the allowed
    categories beside it (the file does not load until each is filled in or removed).

    Parameters
    ----------
    mapping : dict
        In the mapping-file format (e.g. from :func:`starter_mapping`).
    path : str or Path
        Output file (``.yml``/``.yaml``).
    config : Config, optional
        Categories listed in the comments.

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile
    >>> m = {"tables": {"payments": {"file": "pay.csv", "columns": {"pay_via": "channel",
    ...     "memo": None}, "codes": {"channel": {"TRF": "bank_transfer", "CHQ": None}}}}}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     text = write_mapping(m, Path(tmp) / "m.yml").read_text()
    >>> print("\\n".join(text.splitlines()[-9:]))
      payments:
        file: pay.csv
        columns:
          pay_via: channel
          # memo:            # no guess: a column of 'payments', or leave it out
        codes:
          channel:
            TRF: bank_transfer
            CHQ: null        # fill in: bank_transfer, auto_debit, cash, agency, court, guarantor, settlement
    """
    from recovery.data.io import atomic_path

    config = config or Config()
    comments = getattr(mapping, "comments", {}) or {}
    lines = [
        "# recovery mapping: a lender's tables, columns and codes -> the recovery data contract",
        '# Format: docs/data.md ("Mapping file"). Check every guess; fill in each null',
        "# (a code without a category stops the load with a message naming it).",
        f"version: {mapping.get('version', 1)}",
    ]
    for note in comments.get("_files", []):
        lines.append(f"# {note}")
    window = mapping.get("window")
    if window:
        lines.append("window:")
        for k in ("start", "end"):
            if window.get(k) is not None:
                lines.append(f"  {k}: {_yaml_scalar(str(pd.Timestamp(window[k]).date()))}")
    else:
        lines.append("# window: {start: 2019-01-01, end: 2024-12-31}   # optional date window")
    lines.append("tables:")
    for name, body in mapping.get("tables", {}).items():
        for note in comments.get(name, []):
            lines.append(f"  # {note}")
        lines.append(f"  {name}:")
        for key in ("table", "query", "params", "file", "date_column", "status_encoding"):
            if body.get(key) not in (None, {}, ""):
                lines.append(f"    {key}: {_yaml_scalar(body[key])}")
        if name == "performance" and "status_encoding" in body:
            lines[-1] += "   # days_past_due | months_behind | bucket_label"
        columns = body.get("columns") or {}
        if columns:
            lines.append("    columns:")
            for lender, target in columns.items():
                key = _yaml_scalar(str(lender))
                if target is None:
                    lines.append(
                        f"      # {key}:".ljust(24)
                        + f" # no guess: a column of '{name}', or leave it out"
                    )
                else:
                    lines.append(f"      {key}: {target}")
        codes = body.get("codes") or {}
        if codes:
            lines.append("    codes:")
            for column, table in codes.items():
                lines.append(f"      {column}:")
                kind = _coded_columns(name).get(column, "")
                if kind == "status_code":
                    hint = f"a {body.get('status_encoding', 'days_past_due')} code (docs/data.md)"
                else:
                    hint = ", ".join(_allowed(kind, config))
                for code, category in table.items():
                    key = _yaml_scalar(str(code))
                    if category is None:
                        lines.append(f"        {key}: null".ljust(24) + f" # fill in: {hint}")
                    else:
                        lines.append(f"        {key}: {_yaml_scalar(category)}")
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
