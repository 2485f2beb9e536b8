"""The ``recovery`` command line.

Each sub-command lives in its own module of :mod:`recovery.commands` and exposes a
click command named ``command``; they are registered here. Errors are one clear line
on stderr and a non-zero exit; ``--debug`` shows the traceback.

Warnings the package gives about the data (a column kept as it is, a credit balance read
as zero exposure, an estimate that cannot be trusted) are one line on stderr, ``note:``
or ``warning:`` and the message — no source file or line. Warnings of the libraries
underneath (pandas, scikit-learn, LightGBM) are not for the user and are shown only
with ``--debug``, in Python's own form.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import warnings

import click

from recovery.errors import RecoveryError
from recovery.version import __version__

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="recovery")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """recovery — collections analytics for lenders.

    Aging and snapshots, point-in-time features, propensity-to-pay and curability
    scores, roll rates, recovery by debt age, agent effectiveness and the monthly
    recovery report, from a directory of CSV or Parquet tables.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _register() -> None:
    import recovery.commands as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"recovery.commands.{info.name}")
        command = getattr(module, "command", None)
        if isinstance(command, click.Command):
            cli.add_command(command)


_register()


def _say_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: object = None,
    line: str | None = None,
) -> None:
    """A warning as the user reads it: the package's own in one line, others not at all."""
    if not category.__module__.startswith("recovery"):
        return  # a library's warning: --debug shows it
    from recovery.data.schema import DataNoteWarning

    kind = "note" if issubclass(category, DataNoteWarning) else "warning"
    click.echo(f"{kind}: {message}", err=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        with warnings.catch_warnings():
            if not debug:
                warnings.showwarning = _say_warning
            rc = cli.main(args=argv, prog_name="recovery", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except RecoveryError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        return 1
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a bare traceback
        if debug:
            raise
        click.echo(f"error: {type(exc).__name__}: {exc} (run with --debug for details)", err=True)
        return 1
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
