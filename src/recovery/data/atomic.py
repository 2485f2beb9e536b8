"""Atomic writes that look like plain ones: staged beside the target, renamed into place.

Everything ``recovery`` writes (tables, reports, figures, models) is first written to a
hidden staging file beside its target and renamed onto it only when complete, so a
failed or killed run never leaves a half-written output. Two things make such a write
indistinguishable from a plain one:

* **permissions** — a staging file made by :func:`tempfile.mkstemp` is private
  (``-rw-------``); :func:`publish` gives it the mode a plain write would have: the
  existing target's, else ``0o666`` less the user's umask (typically ``-rw-r--r--``);
* **leftovers** — a run killed mid-write (``kill -9``) cannot remove its staging file.
  :func:`stage_file` first removes the leftovers of earlier writes to the same target
  whose process is gone (the staging name carries the writer's process id, so a
  concurrent writer's file is left alone).

Examples
--------
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     target = Path(tmp) / "out.csv"
...     staged = stage_file(target)
...     _ = staged.write_text("a\\n1\\n")
...     _ = publish(staged, target)
...     oct(target.stat().st_mode & 0o777) == oct(0o666 & ~current_umask())
True
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

__all__ = ["current_umask", "plain_mode", "remove_leftovers", "stage_file", "publish"]

#: A leftover whose writer cannot be checked (no process id in its name, or a system
#: without POSIX signals) is removed once it is this old (seconds).
STALE_AFTER = 24 * 3600


def current_umask() -> int:
    """The process's umask (read by setting it and putting it back).

    Examples
    --------
    >>> 0 <= current_umask() <= 0o777
    True
    """
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def plain_mode(target: str | Path, directory: bool = False) -> int:
    """The permissions a plain write of ``target`` would leave.

    An existing target keeps its mode (as ``open(path, "w")`` does); a new file gets
    ``0o666`` and a new directory ``0o777``, less the umask.

    Examples
    --------
    >>> plain_mode("no/such/file.txt") == 0o666 & ~current_umask()
    True
    """
    path = Path(target)
    if path.exists():
        return path.stat().st_mode & 0o7777
    return (0o777 if directory else 0o666) & ~current_umask()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another write in this process (a thread): not a leftover
    if os.name != "posix":  # pragma: no cover - no signal 0 to ask with
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_leftovers(target: str | Path, suffix: str = ".tmp") -> list[Path]:
    """Remove staging files of earlier writes to ``target`` whose writer is gone.

    Staging names are ``.<target name>.<pid>[-<random>]<suffix>``; one whose process
    no longer runs (or, without a process id, older than :data:`STALE_AFTER`) is a
    leftover of a killed run.

    Parameters
    ----------
    target : str or Path
        The file (or directory) being written.
    suffix : str
        The staging suffix (``.tmp`` for files).

    Returns
    -------
    list of Path
        The leftovers removed.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     dead = Path(tmp) / ".out.parquet.999999999-x1.tmp"  # no such process
    ...     _ = dead.write_text("half a table")
    ...     [p.name for p in remove_leftovers(Path(tmp) / "out.parquet")]
    ['.out.parquet.999999999-x1.tmp']
    """
    import shutil

    path = Path(target)
    prefix = f".{path.name}."
    removed = []
    if not path.parent.is_dir():
        return removed
    for candidate in path.parent.iterdir():
        name = candidate.name
        if not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        token = name[len(prefix) : len(name) - len(suffix)].split("-")[0]
        if token.isdigit():
            if _alive(int(token)):
                continue
        elif time.time() - candidate.stat().st_mtime < STALE_AFTER:
            continue
        if candidate.is_dir() and not candidate.is_symlink():
            shutil.rmtree(candidate, ignore_errors=True)
        else:
            candidate.unlink(missing_ok=True)
        removed.append(candidate)
    return removed


def stage_file(target: str | Path) -> Path:
    """A new, empty staging file beside ``target`` (after removing old leftovers).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     staged = stage_file(Path(tmp) / "report.html")
    ...     staged.name.startswith(f".report.html.{os.getpid()}-"), staged.suffix
    (True, '.tmp')
    """
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp",
                                dir=path.parent)  # fmt: skip
    os.close(fd)
    return Path(name)


def publish(staged: str | Path, target: str | Path) -> Path:
    """Give a staged file the permissions of a plain write and rename it onto ``target``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     target = Path(tmp) / "t.txt"
    ...     staged = stage_file(target)
    ...     publish(staged, target).name
    't.txt'
    """
    staged, target = Path(staged), Path(target)
    os.chmod(staged, plain_mode(target, directory=staged.is_dir()))
    os.replace(staged, target)
    return target
