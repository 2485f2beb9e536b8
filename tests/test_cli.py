"""The command line's own behaviour: how warnings reach the user."""

from __future__ import annotations

import warnings

import click
import pytest

from recovery.cli import cli, main
from recovery.data.schema import DataNoteWarning, ExtraColumnsWarning


@click.command("warn-test", hidden=True)
def _warn_command() -> None:
    """A command that warns as the package and a library do."""
    warnings.warn(
        "table 'accounts': unknown column(s) ['branch'] kept", ExtraColumnsWarning, stacklevel=1
    )
    warnings.warn("table 'payments': 2 credit balances read as zero", DataNoteWarning, stacklevel=1)
    warnings.warn("a library's internal deprecation", FutureWarning, stacklevel=1)
    click.echo("done")


@pytest.fixture(autouse=True)
def _warning_command():
    cli.add_command(_warn_command)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        yield
    cli.commands.pop("warn-test")


def test_package_warnings_are_one_line_without_source_file(capsys):
    assert main(["warn-test"]) == 0
    out, err = capsys.readouterr()
    assert out == "done\n"
    assert err.splitlines() == [
        "warning: table 'accounts': unknown column(s) ['branch'] kept",
        "note: table 'payments': 2 credit balances read as zero",
    ]  # no path, no line of code, no library warning


def test_debug_leaves_warnings_to_python():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["--debug", "warn-test"]) == 0
    assert [w.category for w in caught] == [ExtraColumnsWarning, DataNoteWarning, FutureWarning]


def test_warning_display_is_restored_after_the_command():
    before = warnings.showwarning
    main(["warn-test"])
    assert warnings.showwarning is before
