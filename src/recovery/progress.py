"""Progress bars in the user's units, quiet when nobody is watching.

Long work (aging, features, labels, a simulation, the analyses) shows a bar counting
what the user asked for — accounts, months, steps — never the library's internal
partitions. A bar is drawn only on a terminal: when the output goes to a file or a pipe
(a scheduled job, a CI log) it stays silent. Built on :mod:`tqdm`.

Examples
--------
>>> chunks = [["A1", "A2"], ["A3"]]
>>> [len(c) for c in accounts_progress(chunks, "snapshots", enabled=False)]
[2, 1]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["progress_bar", "accounts_progress"]

T = TypeVar("T")


def progress_bar(
    iterable: Iterable[Any] | None = None,
    *,
    desc: str,
    unit: str,
    total: float | None = None,
    enabled: bool = True,
    **kwargs: Any,
) -> Any:
    """A tqdm bar counting ``unit`` (accounts, months, steps); silent off a terminal.

    Parameters
    ----------
    iterable : iterable, optional
    desc : str
        What is being done ("snapshots").
    unit : str
        What is counted, in the user's words ("accounts", "months", "steps").
    total : float, optional
    enabled : bool
        False: no bar at all.
    **kwargs
        Passed to :class:`tqdm.tqdm`.

    Examples
    --------
    >>> progress_bar(total=3, desc="analyze", unit="steps", enabled=False).disable
    True
    """
    from tqdm.auto import tqdm

    # disable=None: tqdm draws only when its output (stderr) is a terminal
    return tqdm(iterable, total=total, desc=desc, unit=f" {unit.strip()}",
                disable=None if enabled else True, **kwargs)  # fmt: skip


def accounts_progress(
    chunks: Iterable[T], desc: str, enabled: bool = True, size: Any = len, **kwargs: Any
) -> Iterator[T]:
    """Yield chunks of accounts while a bar counts the accounts done.

    Parameters
    ----------
    chunks : iterable
        Chunks of accounts (sized, or with ``size`` giving each one's account count).
    desc : str
    enabled : bool
    size : callable
        Accounts in a chunk (default ``len``).
    **kwargs
        Passed to :func:`progress_bar` (e.g. ``file``).

    Examples
    --------
    >>> list(accounts_progress([[1, 2], [3]], "features", enabled=False))
    [[1, 2], [3]]
    """
    chunks = list(chunks)
    counts = [int(size(c)) for c in chunks]
    with progress_bar(
        total=sum(counts), desc=desc, unit="accounts", enabled=enabled, **kwargs
    ) as bar:
        for chunk, count in zip(chunks, counts, strict=True):
            yield chunk
            bar.update(count)
