"""Reading and writing portfolios: a directory of CSV or Parquet files, one per table.

Loading validates every table (:func:`recovery.data.schema.validate_portfolio`) and raises a
:class:`~recovery.errors.ValidationError` that names table, column, rule and example
rows. Writing is atomic: every file is first written to a temporary name in the target
directory and only renamed into place once all of them were written, so a failed or
interrupted run leaves the previous output intact and no partial files.

Examples
--------
>>> import tempfile
>>> from recovery.datasets import tiny_portfolio
>>> with tempfile.TemporaryDirectory() as tmp:
...     _ = save_portfolio(tiny_portfolio(), tmp, fmt="csv")
...     again = load_portfolio(tmp)
>>> again, again.meta["data_end"]
(Portfolio(accounts=2, schedule=6, payments=5, actions=2, agents=1, assignments=1, events=1), '2024-04-30')
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from recovery.config import Config
from recovery.data.atomic import publish, stage_file
from recovery.data.mapping import as_mapping
from recovery.data.portfolio import TABLE_ORDER, Portfolio
from recovery.data.schema import (
    ExtraColumnsWarning,
    screen_columns,
    validate_portfolio,
    validated_copy,
)
from recovery.data.windows import window_frames
from recovery.errors import DataError, ValidationError

__all__ = [
    "read_portfolio",
    "load_portfolio",
    "save_portfolio",
    "read_table",
    "write_table",
    "atomic_path",
    "read_json",
    "read_meta",
    "FORMATS",
    "META_FILE",
]

FORMATS = ("parquet", "csv")
META_FILE = "portfolio.json"
"""The file holding a book's metadata (``data_end``, …) beside its tables."""
_TABLE_FILES = ("parquet", "csv", "csv.gz")  # a table's file: <table>.<one of these>


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    On an exception the temporary file is removed and ``path`` is untouched. The file
    ends with the permissions a plain write would give it, and leftovers of earlier
    killed writes to ``path`` are removed first (:mod:`recovery.data.atomic`).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     target = Path(tmp) / "out.txt"
    ...     with atomic_path(target) as part:
    ...         _ = part.write_text("done")
    ...     target.read_text()
    'done'
    """
    path = Path(path)
    tmp_path = stage_file(path)
    try:
        yield tmp_path
        publish(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write one DataFrame atomically as Parquet or CSV (chosen by the suffix).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = write_table(pd.DataFrame({"a": [1, 2]}), Path(tmp) / "t.parquet")
    ...     pd.read_parquet(p)["a"].tolist()
    [1, 2]
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise DataError(f"cannot write {path}: use a .parquet or .csv file name")
    with atomic_path(path) as tmp:
        _write_frame(df, tmp, suffix[1:])
    return path


def _write_frame(df: pd.DataFrame, path: Path, fmt: str) -> None:
    """One table as Parquet or CSV (timestamps as ``YYYY-MM-DD HH:MM:SS``)."""
    if fmt == "parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S")


def read_json(path: str | Path, name: str | None = None) -> Any:
    """The content of a JSON file (UTF-8).

    Parameters
    ----------
    path : str or Path
        The file.
    name : str, optional
        How error messages name the file (default: ``path``).

    Returns
    -------
    object
        The parsed JSON.

    Raises
    ------
    DataError
        The file is not valid JSON or not UTF-8 text.

    Examples
    --------
    >>> from recovery.datasets import sample_path
    >>> read_json(sample_path() / META_FILE)["scenario"]
    'benchmark'
    """
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{name or path} is not valid JSON: {exc}") from None


def read_meta(directory: str | Path) -> dict[str, Any]:
    """A book's metadata: the :data:`META_FILE` in its directory, or ``{}`` without one.

    Parameters
    ----------
    directory : str or Path
        A portfolio directory or a partitioned dataset.

    Returns
    -------
    dict
        ``data_end`` (the last day the data covers) and whatever else the extract
        recorded.

    Raises
    ------
    DataError
        The file is not valid JSON or not UTF-8 text, naming it
        (:func:`read_json`).

    Examples
    --------
    >>> from recovery.datasets import sample_path
    >>> read_meta(sample_path())["data_end"], read_meta("/nonexistent")
    ('2025-12-31', {})
    """
    meta_file = Path(directory) / META_FILE
    return read_json(meta_file, meta_file.name) if meta_file.is_file() else {}


def _find(directory: Path, name: str) -> Path | None:
    found = [directory / f"{name}.{ext}" for ext in _TABLE_FILES]
    found = [p for p in found if p.is_file()]
    if len(found) > 1:
        raise DataError(
            f"table '{name}': both {found[0].name} and {found[1].name} exist in {directory}; keep one"
        )
    return found[0] if found else None


def read_table(
    path: str | Path, name: str | None = None, keep_free_text: bool = False
) -> pd.DataFrame:
    """Read one table file (Parquet or UTF-8 CSV) without validating it.

    CSV columns are read as text and typed later by the contract, so that text in an
    amount column is reported rather than silently turned into a missing value.
    Free-text note columns are dropped unless ``keep_free_text``.
    """
    path = Path(path)
    name = name or path.name.split(".")[0]
    if path.suffix == ".parquet":
        try:
            df = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for a non-Parquet file
            raise DataError(
                f"table '{name}': {path.name} is not a readable Parquet file ({type(exc).__name__}); "
                "re-export it as Parquet or CSV"
            ) from None
    else:
        try:
            df = pd.read_csv(
                path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8"
            )
        except UnicodeDecodeError as exc:
            raise DataError(
                f"table '{name}': {path.name} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at "
                f"position {exc.start}); save it as UTF-8 CSV"
            ) from None
        except pd.errors.EmptyDataError:
            raise DataError(f"table '{name}': {path.name} is empty (no header row)") from None
        except pd.errors.ParserError as exc:
            raise DataError(f"table '{name}': {path.name} is not a valid CSV file: {exc}") from None
    return screen_columns(name, df, keep_free_text)


def read_portfolio(
    path: str | Path,
    keep_free_text: bool = False,
    mapping: Any = None,
    window: Any = None,
    config: Config | None = None,
) -> Portfolio:
    """Read a portfolio directory or database as raw tables, without typing or validating them.

    See :func:`load_portfolio` for the layout; this is its first half, used by
    ``recovery validate`` to report every problem at once. ``path`` may also be a
    database URL (it contains ``://``; read by :func:`recovery.data.sources.read_sql_portfolio`)
    or a :class:`recovery.data.sources.PortfolioSource`. ``window`` (first and last day)
    keeps the loans originated in it, with all their rows (see :mod:`recovery.data.windows`). A ``mapping``
    (:class:`recovery.data.mapping.Mapping` or a mapping file) names each table's file
    (``file:``), renames the lender's columns and translates its codes
    (:meth:`recovery.data.mapping.Mapping.to_portfolio`; a ``performance`` table becomes
    ``snapshots``); ``config`` gives the categories codes are checked against.
    """
    if not isinstance(path, (str, os.PathLike)):  # a recovery.data.sources.PortfolioSource
        path, mapping, window = path.location, path.mapping or mapping, path.window or window
    if "://" in str(path):
        from recovery.data.sources import read_sql_portfolio  # SQLAlchemy loads only for a URL

        return read_sql_portfolio(
            str(path), mapping=mapping, window=window, keep_free_text=keep_free_text, config=config
        )
    directory = Path(path)
    if not directory.is_dir():
        raise DataError(f"portfolio directory {directory} does not exist")
    mapping = as_mapping(mapping, config)
    frames = {}
    for name in (*TABLE_ORDER, "performance"):
        named = mapping.tables.get(name) if mapping is not None else None
        if named is not None and named.file:
            file = directory / named.file
            if not file.is_file():
                raise DataError(
                    f"table '{name}': {named.file} (tables.{name}.file in the mapping) is not "
                    f"in {directory}"
                )
            with warnings.catch_warnings():  # lender column names: renamed by the mapping
                warnings.simplefilter("ignore", ExtraColumnsWarning)
                frames[name] = read_table(file, name, keep_free_text=keep_free_text)
        elif name != "performance":
            file = _find(directory, name)
            if file is not None:
                frames[name] = read_table(file, name, keep_free_text=keep_free_text)
    if not frames:
        raise DataError(
            f"no tables found in {directory}: expected files such as accounts.parquet or "
            "accounts.csv (one per table of the data contract)"
        )
    meta = read_meta(directory)
    if window is None and mapping is not None:
        window = mapping.window
    if window is not None:  # the SQL push-down's rule, on the lender's tables
        frames = window_frames(frames, window, mapping)
    if mapping is not None:
        return mapping.to_portfolio(frames, config, meta)
    return Portfolio(**frames, meta=meta)


def load_portfolio(
    path: str | Path,
    config: Config | None = None,
    validate: bool = True,
    keep_free_text: bool = False,
    mapping: Any = None,
    window: Any = None,
) -> Portfolio:
    """Load a portfolio from a directory with one file per table, or from a database.

    Parameters
    ----------
    path : str or Path
        Directory holding ``accounts``, ``schedule``, ``payments`` (and optionally
        ``actions``, ``agents``, ``assignments``, ``events``, ``snapshots``) as
        ``<table>.parquet`` or ``<table>.csv``, and optionally ``portfolio.json``
        (metadata such as ``data_end``); or a database URL such as
        ``sqlite:///book.db`` or ``postgresql://user@host/db`` holding the same tables
        (:func:`recovery.data.sources.read_sql_portfolio`).
    config : Config, optional
        Allowed categories and rules; defaults to DESIGN.md's.
    validate : bool
        Check the data contract (default). Types are always coerced.
    keep_free_text : bool
        Keep free-text note columns (dropped by default: DESIGN.md §2).
    mapping : Mapping or path, optional
        The lender's table, column and code names (``docs/data.md``).
    window : tuple or str, optional
        ``(first_day, last_day)`` or ``"START:END"``: keep the loans originated in it,
        with all their rows (pushed into the SQL for a database; a mapping's
        ``date_column`` filters that table by its own date instead).

    Returns
    -------
    Portfolio

    Raises
    ------
    DataError
        The directory, a file or the database cannot be read.
    ValidationError
        A table breaks the data contract.
    """
    config = config or Config()
    portfolio = read_portfolio(
        path, keep_free_text=keep_free_text, mapping=mapping, window=window, config=config
    )
    report = validate_portfolio(portfolio, config)  # also coerces types in place
    if validate and len(report):
        raise ValidationError(report)
    return portfolio


def save_portfolio(
    portfolio: Portfolio,
    path: str | Path,
    fmt: str = "parquet",
    config: Config | None = None,
    validate: bool = True,
) -> Path:
    """Write a portfolio as one file per table, atomically.

    The portfolio is validated first (nothing is written when it is invalid); every
    table goes to a temporary file in the target directory and all of them are renamed
    into place only once all were written. Files of tables the portfolio lacks, and the
    other format's file of a written table, are removed so the directory reads back
    as the same portfolio.

    Parameters
    ----------
    portfolio : Portfolio
    path : str or Path
        Target directory (created if needed).
    fmt : {"parquet", "csv"}
    config : Config, optional
    validate : bool

    Returns
    -------
    Path
        The directory.
    """
    if fmt not in FORMATS:
        raise DataError(f"unknown format {fmt!r}; use one of {FORMATS}")
    if validate:
        validated_copy(portfolio, config)
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, df in portfolio.tables().items():
            target = directory / f"{name}.{fmt}"
            staged.append((stage_file(target), target))
            _write_frame(df, staged[-1][0], fmt)
        staged.append((stage_file(directory / META_FILE), directory / META_FILE))
        staged[-1][0].write_text(
            json.dumps(portfolio.meta, indent=2, default=str), encoding="utf-8"
        )
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, target in staged:
        publish(tmp, target)
    written = {target.name for _, target in staged}
    for name in TABLE_ORDER:
        for ext in _TABLE_FILES:
            stale = directory / f"{name}.{ext}"
            if stale.name not in written and stale.is_file():
                stale.unlink()
    return directory
