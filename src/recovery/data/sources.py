"""Portfolios in SQL databases: read and write the contract's tables through SQLAlchemy.

A lender's collection system or warehouse is reached by a SQLAlchemy database URL:
``sqlite:///book.db`` (a file; SQLite is built into Python) or
``postgresql://user:password@host:5432/dbname`` (PostgreSQL through psycopg 3:
``pip install "recovery[postgres]"``). Without a mapping the tables carry the contract's
names (``accounts``, ``schedule``, ``payments``, …, as :func:`write_sql_portfolio`
writes them); a mapping file names the lender's own tables or SQL queries
(``table:`` / ``query:``) and columns (see ``docs/data.md``).

**Safety.** Table names are quoted by SQLAlchemy (reflection of the named table, never
formatted into SQL); the date window and a query's ``params`` travel as bound
parameters, so neither can change the SQL that runs.

**The date window** ``(first_day, last_day)`` selects loans by origination date and
keeps every row of those loans (the rule is :mod:`recovery.data.windows`'s); it is
pushed into the SQL, so only the rows in the window leave the database. Both ends are
whole days and inclusive: a timestamp on the last day counts (the SQL is
``start <= column < last_day + 1 day``).

Examples
--------
>>> import tempfile
>>> import pandas as pd
>>> book = Portfolio(snapshots=pd.DataFrame({
...     "account_id": ["A1", "A1", "A2"],
...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-02-29"]),
...     "dpd": [0, 31, 0], "bucket": ["current", "M1", "current"],
...     "balance": [900.0, 900.0, 500.0], "amount_overdue": [0.0, 100.0, 0.0],
...     "paid_in_month": [100.0, 0.0, 50.0], "status": ["open"] * 3}))
>>> with tempfile.TemporaryDirectory() as tmp:
...     url = f"sqlite:///{tmp}/book.db"
...     _ = write_sql_portfolio(book, url)
...     again = read_sql_portfolio(url, window="2024-02-01:2024-02-29", progress=False)
>>> again.snapshots[["account_id", "dpd"]].values.tolist()
[['A1', 31], ['A2', 0]]
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from tqdm.auto import tqdm

from recovery.config import Config
from recovery.data.mapping import Mapping, as_mapping
from recovery.data.portfolio import TABLE_ORDER, Portfolio
from recovery.data.schema import TABLES, screen_columns, validated_copy
from recovery.data.windows import (
    Window,
    lender_column,
    parse_window,
    window_columns,
    window_rules,
)
from recovery.errors import DataError

__all__ = [
    "read_sql_portfolio",
    "write_sql_portfolio",
    "PortfolioSource",
    "is_database_url",
    "hide_password",
    "META_TABLE",
]

META_TABLE = "portfolio_meta"
"""Table holding the extract metadata (``key``, ``value`` as JSON), like ``portfolio.json``."""

_POSTGRES_HINT = 'pip install "recovery[postgres]" (PostgreSQL through psycopg 3)'


# --------------------------------------------------------------------------- helpers


def is_database_url(location: object) -> bool:
    """True when ``location`` is a database URL (it contains ``://``), not a directory.

    Examples
    --------
    >>> is_database_url("sqlite:///book.db"), is_database_url("data/sample")
    (True, False)
    """
    return isinstance(location, str) and "://" in location


def hide_password(url: str | sa.engine.URL) -> str:
    """The URL as text with its password replaced by ``***`` (safe to print or log).

    Both places a password can be are hidden: ``user:password@`` and a
    ``?password=`` query parameter.

    Examples
    --------
    >>> hide_password("postgresql://ana:s3cret@db.example:5432/loans")
    'postgresql://ana:***@db.example:5432/loans'
    >>> hide_password("postgresql://db/loans?user=ana&password=s3cret")
    'postgresql://db/loans?password=***&user=ana'
    """
    try:
        parsed = sa.engine.make_url(url)
    except Exception:  # noqa: BLE001 - an unparseable URL: show only its scheme
        text = str(url)
        return text.split("://", 1)[0] + "://…" if "://" in text else "<database URL>"
    hidden = "recovery-hidden-password"
    if "password" in parsed.query:
        parsed = parsed.update_query_dict({"password": hidden})
    return parsed.render_as_string(hide_password=True).replace(hidden, "***")


def _secrets(url: sa.engine.URL) -> list[str]:
    found = [url.password, url.query.get("password")]
    values = [v if isinstance(v, str) else (v[0] if v else None) for v in found]
    return [str(v) for v in values if v]


def _scrub(message: object, url: sa.engine.URL) -> str:
    """A driver's error message, first line only, without the URL's password."""
    text = str(message).strip()
    line = text.splitlines()[0] if text else ""
    for secret in _secrets(url):
        line = line.replace(secret, "***")
    return line


@dataclass(frozen=True)
class PortfolioSource:
    """Where a portfolio comes from: a directory or database URL, a mapping, a window.

    :func:`recovery.data.io.load_portfolio` accepts it in place of a path; the CLI builds
    one from ``PATH``/``--source``, ``--mapping`` and ``--window``. Printing it never
    shows a database password.

    Examples
    --------
    >>> str(PortfolioSource("postgresql://ana:s3cret@db/loans", window=("2020-01-01", None)))
    'postgresql://ana:***@db/loans'
    """

    location: str
    mapping: Any = None
    window: Any = None

    def __str__(self) -> str:
        return hide_password(self.location) if is_database_url(self.location) else self.location

    @property
    def is_database(self) -> bool:
        """True for a database URL."""
        return is_database_url(self.location)


# --------------------------------------------------------------------------- engine


def _engine(url: str, must_exist: bool = True) -> sa.engine.Engine:
    """Create an engine with errors a user can act on (no password echoed)."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise DataError(
            f"{hide_password(url)} is not a database URL; write it as sqlite:///path/to/book.db "
            "or postgresql://user:password@host:5432/dbname"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, the postgres extra
    shown = hide_password(parsed)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        in_memory = database in ("", ":memory:") or database.startswith("file:")
        if must_exist and not in_memory and not Path(database).is_file():
            raise DataError(
                f"cannot read {shown}: the SQLite file {database} does not exist "
                "(sqlite:///relative/path.db or sqlite:////absolute/path.db)"
            )
    try:
        engine = sa.create_engine(parsed)
    except sa.exc.NoSuchModuleError:
        raise DataError(
            f"{shown}: unknown database type {parsed.drivername!r}; use sqlite:///book.db or "
            f"postgresql://user@host/dbname ({_POSTGRES_HINT})"
        ) from None
    except ImportError as exc:
        hint = (
            _POSTGRES_HINT
            if parsed.get_backend_name() == "postgresql"
            else (f"install the Python driver for {parsed.drivername}")
        )
        raise DataError(
            f"{shown}: the database driver is not installed ({exc.name or exc}); {hint}"
        ) from None
    if engine.dialect.name == "sqlite":
        _sqlite_transactions(engine)
    return engine


def _sqlite_transactions(engine: sa.engine.Engine) -> None:
    """Let SQLite run DDL inside the transaction (pysqlite would commit it early)."""

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: sa.engine.Connection) -> None:
        connection.exec_driver_sql("BEGIN")


def _connect(engine: sa.engine.Engine) -> sa.engine.Connection:
    try:
        return engine.connect()
    except sa.exc.DBAPIError as exc:
        raise DataError(
            f"cannot connect to {hide_password(engine.url)}: {_scrub(exc.orig, engine.url)}"
        ) from None


# --------------------------------------------------------------------------- reading


@dataclass
class _Source:
    """One table to read: a reflected table or a SQL query, and its window filter."""

    name: str
    label: str
    selectable: Any  # sa.Table or a subquery of a text() query
    statement: Any  # what to run without a window
    is_query: bool


def _reflect(conn: sa.engine.Connection, name: str, schema: str | None) -> sa.Table:
    if schema is None and "." in name:
        schema, name = name.split(".", 1)
    return sa.Table(name, sa.MetaData(), autoload_with=conn, schema=schema)


def _available(conn: sa.engine.Connection, schema: str | None) -> list[str]:
    try:
        return sorted(sa.inspect(conn).get_table_names(schema=schema))
    except sa.exc.SQLAlchemyError:  # pragma: no cover - listing is only for the message
        return []


def _query_source(
    name: str, query: str, params: dict | None, window_names: dict, columns: list[str]
) -> _Source:
    """A mapping's SQL query; ``columns`` are the ones a window may filter on."""
    clause = sa.text(query)
    wanted = set(clause.compile().params)
    values = {**(params or {}), **{k: v for k, v in window_names.items() if v is not None}}
    missing = wanted - set(values)
    if missing:
        raise DataError(
            f"table '{name}': the query uses :{', :'.join(sorted(missing))} but no value is given "
            "(set params: in the mapping, or a window for :start/:end)"
        )
    clause = clause.bindparams(**{k: v for k, v in values.items() if k in wanted})
    typed = clause.columns(*(sa.column(c) for c in dict.fromkeys(columns)))
    return _Source(name, f"{name} (query)", typed.subquery(f"{name}_query"), clause, True)


def _bound(column: sa.ColumnElement, value: pd.Timestamp, key: str, dialect: str) -> Any:
    """A bound parameter for a window bound, typed so the database compares dates.

    SQLite and text columns get ISO text (which sorts in date order); date and
    timestamp columns get a date or timestamp; a query's column, whose type is not
    known, gets a date (the database widens it to a timestamp when needed).
    """
    col_type = column.type
    if dialect == "sqlite" or isinstance(col_type, sa.String):
        return sa.bindparam(key, value.strftime("%Y-%m-%d"), type_=sa.String(), unique=True)
    if isinstance(col_type, sa.DateTime):
        return sa.bindparam(key, value.to_pydatetime(), type_=col_type, unique=True)
    return sa.bindparam(key, value.date(), type_=sa.Date(), unique=True)


def _in_window(column: sa.ColumnElement, window: Window, dialect: str) -> list:
    first, last = window
    conditions = []
    if first is not None:
        conditions.append(column >= _bound(column, first, "start", dialect))
    if last is not None:
        after = last + pd.Timedelta(days=1)
        conditions.append(column < _bound(column, after, "end_exclusive", dialect))
    return conditions


def _column(source: _Source, name: str, what: str) -> sa.ColumnElement:
    try:
        return source.selectable.c[name]
    except KeyError:
        raise DataError(
            f"table '{source.name}': {what} column {name!r} is not in {source.label} "
            f"(columns: {', '.join(source.selectable.c.keys())})"
        ) from None


def _select_all(source: _Source, conditions: list) -> sa.Select:
    if source.is_query:  # SELECT * FROM (query) AS <name>_query WHERE …
        statement = sa.select(sa.literal_column("*")).select_from(source.selectable)
    else:
        statement = sa.select(source.selectable)
    return statement.where(*conditions) if conditions else statement


def _stream(
    conn: sa.engine.Connection, statement: Any, label: str, chunksize: int, progress: bool
) -> pd.DataFrame:
    total = None
    if progress:
        counted = sa.select(sa.func.count()).select_from(statement.subquery("counted"))
        total = conn.execute(counted).scalar()
    result = conn.execution_options(stream_results=True, yield_per=chunksize).execute(statement)
    keys = list(result.keys())
    frames = []
    with tqdm(
        total=total, desc=label, unit=" rows", disable=None if progress else True, leave=False
    ) as bar:
        for part in result.partitions(chunksize):
            frames.append(pd.DataFrame([tuple(row) for row in part], columns=keys))
            bar.update(len(part))
    if not frames:
        return pd.DataFrame(columns=keys)
    if len(frames) == 1:
        return frames[0]
    with warnings.catch_warnings():  # an all-missing column in one chunk: typed later anyway
        warnings.simplefilter("ignore", FutureWarning)
        return pd.concat(frames, ignore_index=True)


def _read_meta(conn: sa.engine.Connection, schema: str | None) -> dict:
    try:
        table = _reflect(conn, META_TABLE, schema)
    except sa.exc.NoSuchTableError:
        return {}
    meta = {}
    for key, value in conn.execute(sa.select(table.c.key, table.c.value)):
        try:
            meta[key] = json.loads(value)
        except (TypeError, json.JSONDecodeError):
            raise DataError(f"{META_TABLE}: the value of {key!r} is not JSON") from None
    return meta


def read_sql_portfolio(
    url: str,
    mapping: Any = None,
    window: Any = None,
    chunksize: int = 100_000,
    progress: bool = True,
    keep_free_text: bool = False,
    schema: str | None = None,
    config: Config | None = None,
) -> Portfolio:
    """Read a portfolio's tables from a database, as raw tables (not yet validated).

    The counterpart of :func:`recovery.data.io.read_portfolio` for a database;
    :func:`recovery.data.io.load_portfolio` with a URL calls this and then types and
    validates the tables.

    Parameters
    ----------
    url : str
        SQLAlchemy database URL, e.g. ``sqlite:///book.db`` or
        ``postgresql://user:password@host:5432/dbname`` (psycopg 3 is used for
        ``postgresql://``).
    mapping : Mapping or path, optional
        The lender's table names (``table:``) or SQL (``query:``, with ``params:``),
        columns, codes and ``date_column`` per table (:mod:`recovery.data.mapping`).
        Without one, the tables carry the contract's names.
    window : str or tuple, optional
        ``"START:END"`` or ``(first_day, last_day)`` (either may be ``None``): the loans
        originated in it (see the module notes); overrides the mapping's ``window``.
        Sent as bound parameters; a query may use ``:start`` and ``:end`` (first and
        last day, as dates) itself.
    chunksize : int
        Rows fetched at a time (server-side cursor where the database has one).
    progress : bool
        Show a progress bar per table (rows).
    keep_free_text : bool
        Keep free-text note columns (dropped by default: DESIGN.md §2).
    schema : str, optional
        Database schema holding the tables (PostgreSQL); a mapping's table name may
        also be written ``schema.table``.
    config : Config, optional
        Categories the mapping's codes are checked against.

    Returns
    -------
    Portfolio
        Raw tables; ``meta`` from the ``portfolio_meta`` table when present.

    Raises
    ------
    DataError
        The database cannot be reached (the message never shows the password), its
        driver is missing, a named table or column does not exist, or no table of the
        contract is found.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> book = Portfolio(snapshots=pd.DataFrame({
    ...     "account_id": ["A1", "A2"], "month_end": pd.to_datetime(["2024-01-31"] * 2),
    ...     "dpd": [0, 45], "bucket": ["current", "M2"], "balance": [900.0, 500.0],
    ...     "amount_overdue": [0.0, 80.0], "paid_in_month": [100.0, 0.0],
    ...     "status": ["open", "open"]}))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     url = f"sqlite:///{tmp}/book.db"
    ...     _ = write_sql_portfolio(book, url)
    ...     raw = read_sql_portfolio(url, progress=False)
    >>> raw.snapshots["dpd"].tolist(), raw.table_names()
    ([0, 45], ['snapshots'])
    """
    mapping = as_mapping(mapping, config)
    window = parse_window(window if window is not None else getattr(mapping, "window", None))
    if chunksize < 1:
        raise DataError(f"chunksize must be at least 1, not {chunksize}")
    engine = _engine(url)
    shown = hide_password(engine.url)
    try:
        with _connect(engine) as conn:
            portfolio = _read_all(conn, shown, mapping, window, chunksize, progress, schema, config)
    finally:
        engine.dispose()
    for name, frame in portfolio.tables().items():
        setattr(portfolio, name, screen_columns(name, frame, keep_free_text))
    return portfolio


def _read_all(
    conn: sa.engine.Connection,
    shown: str,
    mapping: Mapping | None,
    window: Window | None,
    chunksize: int,
    progress: bool,
    schema: str | None,
    config: Config | None,
) -> Portfolio:
    dialect = conn.dialect.name
    names = list(TABLE_ORDER)
    extra = [n for n in (mapping.tables if mapping is not None else {}) if n not in names]
    window_names = {}
    if window is not None:
        window_names = {  # dates: the database compares them with its date columns
            "start": window[0].date() if window[0] is not None else None,
            "end": window[1].date() if window[1] is not None else None,
        }
    sources: dict[str, _Source] = {}
    for name in names + extra:
        entry = mapping.tables.get(name) if mapping is not None else None
        query = getattr(entry, "query", None)
        if query:
            sources[name] = _query_source(
                name,
                query,
                getattr(entry, "params", None),
                window_names,
                window_columns(mapping, name),
            )
            continue
        table_name = getattr(entry, "table", None) or name
        try:
            table = _reflect(conn, table_name, schema)
        except sa.exc.NoSuchTableError:
            if entry is None:
                continue  # an optional contract table the database does not have
            found = _available(conn, schema)
            raise DataError(
                f"table '{name}': {shown} has no table {table_name!r} "
                f"(tables there: {', '.join(found) or 'none'}); fix the mapping's table: name"
            ) from None
        except sa.exc.DBAPIError as exc:
            raise DataError(
                f"table '{name}': cannot read {table_name!r}: {_scrub(exc.orig, conn.engine.url)}"
            ) from None
        sources[name] = _Source(name, table_name, table, sa.select(table), False)
    if not sources:
        found = _available(conn, schema)
        raise DataError(
            f"no tables of the data contract in {shown} (tables there: {', '.join(found) or 'none'}); "
            "expected accounts, schedule, payments, … or a mapping (--mapping) naming yours"
        )
    conditions = _window_conditions(sources, mapping, window, dialect) if window else {}
    frames = {}
    for name, source in sources.items():
        statement = _select_all(source, conditions.get(name, []))
        try:
            frame = _stream(conn, statement, source.label, chunksize, progress)
        except sa.exc.DBAPIError as exc:
            raise DataError(
                f"table '{name}': reading {source.label} failed: {_scrub(exc.orig, conn.engine.url)}"
            ) from None
        frames[name] = frame
    meta = _read_meta(conn, schema)
    if mapping is not None:  # rename, translate codes, performance -> snapshots
        portfolio = mapping.to_portfolio(frames, config, meta)
    else:
        portfolio = Portfolio(**frames, meta=meta)
    for name, frame in portfolio.tables().items():
        setattr(portfolio, name, _in_key_order(name, frame))
    return portfolio


def _in_key_order(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by the contract key: a database returns rows in no fixed order."""
    spec = TABLES[name]
    by = list(spec.key)
    if not by or not set(by) <= set(frame.columns):
        by = [c.name for c in spec.columns if c.name in frame.columns]
    if not by or frame.empty:
        return frame
    try:
        ordered = frame.sort_values(by, kind="mergesort", na_position="last")
    except TypeError:  # mixed types in a raw column (SQLite allows it): leave as read
        return frame
    return ordered.reset_index(drop=True)


def _window_conditions(
    sources: dict[str, _Source], mapping: Mapping | None, window: Window, dialect: str
) -> dict[str, list]:
    """WHERE conditions per table: the window's rules (:func:`window_rules`) in SQL."""
    rules = window_rules(sources, mapping)
    conditions: dict[str, list] = {}
    for name, rule in rules.items():
        if not rule.of_loans:
            column = _column(sources[name], rule.column, rule.what)
            conditions[name] = _in_window(column, window, dialect)
    accounts = sources.get("accounts")
    if accounts is not None:
        own = lender_column(mapping, "accounts", "account_id")
        loans = sa.select(_column(accounts, own, "account id")).select_from(accounts.selectable)
        loans = loans.where(*conditions["accounts"])
        for name, rule in rules.items():
            if rule.of_loans:
                conditions[name] = [_column(sources[name], rule.column, rule.what).in_(loans)]
    return conditions


# --------------------------------------------------------------------------- writing


def _copy_rows(table: Any, conn: sa.engine.Connection, keys: list[str], rows: Any) -> int:
    """Insert rows into PostgreSQL with COPY (pandas ``to_sql`` method); names quoted."""
    from psycopg import sql

    target = sql.Identifier(*([table.schema] if table.schema else []), table.name)
    columns = sql.SQL(", ").join(sql.Identifier(k) for k in keys)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(target, columns)
    count = 0
    with conn.connection.driver_connection.cursor() as cursor:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


def write_sql_portfolio(
    portfolio: Portfolio,
    url: str,
    if_exists: str = "fail",
    config: Config | None = None,
    validate: bool = True,
    chunksize: int = 10_000,
    schema: str | None = None,
) -> str:
    """Write a portfolio into a database, one table per contract table, in one transaction.

    The portfolio is validated first (nothing is written when it is invalid) and its
    typed tables are written under the contract's names, plus ``portfolio_meta``
    (``key``, ``value`` as JSON) for the metadata such as ``data_end``. Everything
    happens in one transaction: a failure leaves the database as it was.

    Parameters
    ----------
    portfolio : Portfolio
    url : str
        SQLAlchemy database URL; a SQLite file is created when missing.
    if_exists : {"fail", "replace"}
        What to do when the database already holds a table of the contract: stop
        with a :class:`~recovery.errors.DataError` before writing anything, or replace
        the book (contract tables the portfolio lacks are dropped too, so the
        database reads back as this portfolio).
    config : Config, optional
        Categories and rules for the validation.
    validate : bool
        Check the data contract first (default).
    chunksize : int
        Rows sent per batch.
    schema : str, optional
        Database schema to write into (PostgreSQL).

    Returns
    -------
    str
        The URL, password hidden.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> book = Portfolio(snapshots=pd.DataFrame({
    ...     "account_id": ["A1"], "month_end": pd.to_datetime(["2024-01-31"]), "dpd": [0],
    ...     "bucket": ["current"], "balance": [900.0], "amount_overdue": [0.0],
    ...     "paid_in_month": [100.0], "status": ["open"]}))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_sql_portfolio(book, f"sqlite:///{tmp}/book.db").endswith("book.db")
    True
    """
    if if_exists not in ("fail", "replace"):
        raise DataError(f"if_exists must be 'fail' or 'replace', not {if_exists!r}")
    tables = portfolio.tables()
    if not tables:
        raise DataError("the portfolio has no tables to write")
    if validate:
        tables = validated_copy(portfolio, config).tables()
    engine = _engine(url, must_exist=False)
    shown = hide_password(engine.url)
    try:
        with _connect(engine) as conn:
            present = set(sa.inspect(conn).get_table_names(schema=schema))
            conn.rollback()  # end the inspection's implicit transaction
            clash = [n for n in (*TABLE_ORDER, META_TABLE) if n in present]
            if clash and if_exists == "fail":
                raise DataError(
                    f"{shown} already holds table(s) {', '.join(clash)}; "
                    'pass if_exists="replace" to replace the book'
                )
            try:
                with conn.begin():
                    for name in clash:
                        sa.Table(name, sa.MetaData(), schema=schema).drop(conn)
                    method = _copy_rows if engine.dialect.name == "postgresql" else None
                    for name, frame in tables.items():
                        frame.to_sql(
                            name,
                            conn,
                            schema=schema,
                            index=False,
                            chunksize=chunksize,
                            method=method,
                        )
                    meta = pd.DataFrame(
                        {
                            "key": list(portfolio.meta),
                            "value": [json.dumps(v, default=str) for v in portfolio.meta.values()],
                        },
                        dtype=object,
                    )
                    meta.to_sql(META_TABLE, conn, schema=schema, index=False)
            except sa.exc.DBAPIError as exc:
                raise DataError(
                    f"writing to {shown} failed, nothing was changed: {_scrub(exc.orig, engine.url)}"
                ) from None
    finally:
        engine.dispose()
    return shown
