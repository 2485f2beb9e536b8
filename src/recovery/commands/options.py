"""Options shared by the commands that read a portfolio: where it is and how to map it.

:func:`portfolio_source` adds the ``PATH`` argument (a directory of tables or a
database URL), ``--source URL`` (the same, as an option), ``--mapping FILE`` and
``--window START:END`` to a command, and hands the command one ``path`` value that
:func:`recovery.data.io.load_portfolio` accepts: a :class:`recovery.data.sources.PortfolioSource`
(printing it shows the directory, or the URL without its password).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from recovery.data.sources import PortfolioSource, hide_password, is_database_url
from recovery.data.windows import parse_window
from recovery.errors import DataError

__all__ = ["portfolio_source", "portfolio_directory"]

PATH_HELP = (
    "PATH is a directory of CSV/Parquet tables or a database URL "
    "(sqlite:///book.db, postgresql://user:password@host/dbname)."
)
SOURCE_HELP = (
    "PATH may also be a database URL (sqlite:///book.db, "
    "postgresql://user:password@host/dbname); --source URL is the same as PATH. "
    "--mapping names the lender's tables, columns and codes; --window keeps the loans "
    "originated in a date window."
)


def _window(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        parse_window(value)
    except DataError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return value


def portfolio_source(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``PATH``, ``--source``, ``--mapping`` and ``--window`` to a click command.

    The decorated function receives ``path``, a :class:`~recovery.data.sources.PortfolioSource`
    (location, mapping, window) that :func:`recovery.data.io.load_portfolio` accepts; ``str(path)``
    never shows a password. Put it where the command's ``@click.argument("path", ...)`` was.

    Examples
    --------
    >>> @click.command()
    ... @portfolio_source
    ... def show(path):
    ...     click.echo(f"{path} {path.window}")
    >>> from click.testing import CliRunner
    >>> args = ["--source", "postgresql://ana:s3cret@db/loans", "--window", "2024-01-01:"]
    >>> CliRunner().invoke(show, args).output
    'postgresql://ana:***@db/loans 2024-01-01:\\n'
    """

    @functools.wraps(command)
    def wrapper(
        *args: Any,
        path: str | None = None,
        source: str | None = None,
        mapping: str | None = None,
        window: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if path and source and path != source:
            raise click.UsageError(
                f"give the portfolio once: PATH {hide_password(path)!r} or --source, not both"
            )
        location = source or path
        if not location:
            raise click.UsageError(f"missing the portfolio: PATH or --source URL. {PATH_HELP}")
        if not is_database_url(location) and Path(location).is_file():
            raise click.BadParameter(
                f"{location} is a file; give the directory holding the tables, or a database "
                f"URL such as sqlite:///{location}",
                param_hint="PATH",
            )
        value = PortfolioSource(location, mapping=mapping, window=window)
        return command(*args, path=value, **kwargs)

    doc = inspect.cleandoc(command.__doc__ or "")
    wrapper.__doc__ = f"{doc}\n\n{SOURCE_HELP}"
    options = [
        click.argument("path", required=False, metavar="PATH"),
        click.option(
            "--source",
            "source",
            metavar="URL",
            help="The portfolio, instead of PATH: a database URL (sqlite:///book.db, "
            "postgresql://user:password@host/dbname) or a directory.",
        ),
        click.option(
            "--mapping",
            "mapping",
            type=click.Path(exists=True, dir_okay=False),
            help="Mapping file (YAML/TOML): the lender's table, column and code names.",
        ),
        click.option(
            "--window",
            "window",
            metavar="START:END",
            callback=_window,
            help="Load only the loans originated in this date window (YYYY-MM-DD:YYYY-MM-DD; "
            "either end may be empty); pushed into the SQL for a database.",
        ),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


@contextlib.contextmanager
def portfolio_directory(path: Any, config: Any = None) -> Iterator[Path]:
    """A directory holding the portfolio: ``path`` itself, or a temporary copy of a database.

    For commands that work on files (the report notebook): a database URL or a mapped
    source is loaded, validated and written as Parquet to a temporary directory that
    is removed afterwards.
    """
    plain = not isinstance(path, PortfolioSource) or (path.mapping is None and path.window is None)
    if plain and not is_database_url(getattr(path, "location", str(path))):
        yield Path(getattr(path, "location", path))
        return
    from recovery.data.io import load_portfolio, save_portfolio

    portfolio = load_portfolio(path, config=config)
    location = path.location if isinstance(path, PortfolioSource) else str(path)
    name = Path(location.rsplit("/", 1)[-1].split("?")[0]).stem or "portfolio"
    with tempfile.TemporaryDirectory(prefix="recovery-source-") as tmp:
        directory = Path(tmp) / name
        save_portfolio(portfolio, directory, config=config, validate=False)
        yield directory
