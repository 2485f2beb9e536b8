"""Options shared by the commands: the portfolio, the configuration, outputs and models.

:func:`portfolio_source` adds the ``PATH`` argument (a directory of tables or a
database URL), ``--source URL`` (the same, as an option), ``--mapping FILE`` and
``--window START:END`` to a command, and hands the command one ``path`` value that
:func:`recovery.data.io.load_portfolio` accepts: a :class:`recovery.data.sources.PortfolioSource`
(printing it shows the directory, or the URL without its password).

:func:`config_option` (``--config FILE``), :func:`output_file_option` and
:func:`output_directory_option` (``--out``) and :func:`model_option` (``--model DIR``,
resolved by :func:`model_dirs`) are the options several commands declare alike.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from recovery.data.sources import PortfolioSource, hide_password, is_database_url
from recovery.data.windows import parse_window
from recovery.errors import DataError, ModelCardError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "config_option",
    "model_dirs",
    "parse_date",
    "model_option",
    "output_directory_option",
    "output_file_option",
    "portfolio_directory",
    "portfolio_source",
]

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

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


def config_option(help: str = "TOML/YAML config.", **attrs: Any) -> Decorator:
    """``--config FILE``: the configuration file, passed to the command as ``config_path``.

    Parameters
    ----------
    help : str
        The option's help text.
    **attrs
        Further :func:`click.option` settings.

    Examples
    --------
    >>> @click.command()
    ... @config_option()
    ... def show(config_path):
    ...     click.echo(config_path)
    >>> from click.testing import CliRunner
    >>> CliRunner().invoke(show, ["--config", "recovery.toml"]).output
    'recovery.toml\\n'
    """
    return click.option(
        "--config", "config_path", type=click.Path(dir_okay=False), help=help, **attrs
    )


def output_file_option(help: str) -> Decorator:
    """``--out FILE``: the file a command writes (required), passed as ``out``.

    Parameters
    ----------
    help : str
        The option's help text (say which formats).
    """
    return click.option(
        "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=str), help=help
    )


def output_directory_option(default: str, help: str) -> Decorator:
    """``--out DIR``: the directory a command writes into, passed as ``out_dir``.

    Parameters
    ----------
    default : str
        The directory when the option is not given (shown in ``--help``).
    help : str
        The option's help text.
    """
    return click.option(
        "--out",
        "out_dir",
        default=default,
        show_default=True,
        type=click.Path(file_okay=False, path_type=str),
        help=help,
    )


def model_option() -> Decorator:
    """``--model DIR`` (repeatable, required): saved models, passed as ``models``.

    Each value is a model directory (with ``card.json``) or a folder of them;
    :func:`model_dirs` lists the model directories.
    """
    return click.option(
        "--model",
        "models",
        multiple=True,
        required=True,
        type=click.Path(exists=True, file_okay=False, path_type=str),
        help="Model directory (repeat for p_pay, p_cure, amount), or a folder of them.",
    )


def model_dirs(paths: tuple[str, ...]) -> list[Path]:
    """The saved model directories named by ``--model`` values.

    Parameters
    ----------
    paths : tuple of str
        Each a model directory (with ``card.json``) or a directory of model
        directories (``p_pay/``, ``p_cure/``, ``amount/``).

    Returns
    -------
    list of Path
        The model directories, in the order given (those of a folder sorted).

    Raises
    ------
    ModelCardError
        When none of ``paths`` holds a model.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for name in ("p_pay", "p_cure"):
    ...         (Path(tmp) / name).mkdir()
    ...         _ = (Path(tmp) / name / "card.json").write_text("{}")
    ...     print([p.name for p in model_dirs((tmp,))])
    ['p_cure', 'p_pay']
    """
    out = []
    for raw in paths:
        path = Path(raw)
        if (path / "card.json").is_file():
            out.append(path)
        else:  # a directory of model directories (p_pay/, p_cure/, amount/)
            out.extend(sorted(p.parent for p in path.glob("*/card.json")))
    if not out:
        raise ModelCardError(f"no model directory (with card.json) found in {list(paths)}")
    return out


def parse_date(value: str, option: str) -> pd.Timestamp:
    """The date an option gives, as a :class:`pandas.Timestamp`.

    Parameters
    ----------
    value : str
        The option's value (``YYYY-MM-DD``).
    option : str
        The option's name, for the error message (``--as-of``).

    Raises
    ------
    DataError
        When ``value`` is not a date.

    Examples
    --------
    >>> parse_date("2024-06-30", "--as-of")
    Timestamp('2024-06-30 00:00:00')
    >>> parse_date("2024-13-45", "--as-of")
    Traceback (most recent call last):
    ...
    recovery.errors.DataError: --as-of '2024-13-45' is not a date (use YYYY-MM-DD)
    """
    import pandas as pd

    try:
        return pd.Timestamp(value)
    except ValueError:
        raise DataError(f"{option} {value!r} is not a date (use YYYY-MM-DD)") from None
