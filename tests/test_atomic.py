"""Atomic writes: the permissions of a plain write, and no leftovers after a killed run."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from recovery.data.atomic import plain_mode, publish, remove_leftovers, stage_file
from recovery.data.io import atomic_path, load_portfolio, save_portfolio, write_table

SRC = Path(__file__).resolve().parents[1] / "src"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask():
    """Set the process umask for one test, then put it back."""
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def test_new_files_get_the_mode_of_a_plain_write(tmp_path, umask):
    umask(0o022)
    plain = tmp_path / "plain.csv"
    plain.write_text("a\n")  # what open(..., "w") gives: -rw-r--r--
    table = write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.parquet")
    assert mode(table) == mode(plain) == 0o644
    umask(0o077)
    private = write_table(pd.DataFrame({"a": [1]}), tmp_path / "p.csv")
    assert mode(private) == 0o600
    umask(0o002)
    with atomic_path(tmp_path / "report.html") as tmp:
        tmp.write_text("<html></html>")
    assert mode(tmp_path / "report.html") == 0o664


def test_an_existing_file_keeps_its_mode(tmp_path, umask):
    umask(0o022)
    target = tmp_path / "shared.csv"
    target.write_text("old\n")
    os.chmod(target, 0o640)
    write_table(pd.DataFrame({"a": [1]}), target)
    assert mode(target) == 0o640 and target.read_text().startswith("a")
    assert plain_mode(tmp_path / "new.csv") == 0o644
    assert plain_mode(tmp_path / "new", directory=True) == 0o755


def test_saved_portfolio_files_are_readable_by_the_group(tmp_path, umask):
    from recovery.datasets import load_sample

    umask(0o022)
    out = save_portfolio(load_sample(), tmp_path / "book")
    assert {mode(p) for p in out.iterdir()} == {0o644}
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    assert len(load_portfolio(out).accounts) == 2000


KILLED_WRITE = """
import os, signal, sys
import pandas as pd
sys.path.insert(0, {src!r})
import recovery.data.io as io

real = io._write_frame

def write_then_die(df, path, fmt):
    real(df, path, fmt)  # the staging file is complete on disk ...
    os.kill(os.getpid(), signal.SIGKILL)  # ... and the process is killed before the rename

io._write_frame = write_then_die
io.write_table(pd.DataFrame({{"a": range(100_000)}}), {target!r})
"""


def test_a_killed_write_leaves_the_old_output_and_the_next_write_removes_its_leftover(
    tmp_path,
):
    target = tmp_path / "out.parquet"
    write_table(pd.DataFrame({"a": [1, 2, 3]}), target)
    script = KILLED_WRITE.format(src=str(SRC), target=str(target))
    run = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True)
    assert run.returncode == -signal.SIGKILL
    # the old output is intact; the killed run's full-size staging file is left over
    assert pd.read_parquet(target)["a"].tolist() == [1, 2, 3]
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".out.parquet.")]
    assert len(leftovers) == 1 and leftovers[0].suffix == ".tmp"
    assert leftovers[0].stat().st_size > 100_000
    # the next write to the same target removes it
    write_table(pd.DataFrame({"a": [4]}), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet"]
    assert pd.read_parquet(target)["a"].tolist() == [4]


def test_a_running_writers_staging_file_is_left_alone(tmp_path):
    target = tmp_path / "out.csv"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        live = tmp_path / f".out.csv.{sleeper.pid}-abc.tmp"
        live.write_text("being written")
        gone = tmp_path / ".out.csv.999999999-def.tmp"  # no such process
        gone.write_text("killed")
        other = tmp_path / ".other.csv.999999999-x.tmp"  # another target's
        other.write_text("not ours")
        assert remove_leftovers(target) == [gone]
        staged = stage_file(target)
        _ = staged.write_text("a\n")
        publish(staged, target)
        assert live.exists() and other.exists() and not gone.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    remove_leftovers(target)
    assert not live.exists()  # its writer is gone now
