"""One copy of the parameter descriptions that many public functions share.

A docstring names a shared description on a line of its own, ``{{snapshots}}``,
indented as the description should be; :func:`fill_doc` replaces that line with the
text registered in :data:`PARAMETERS` (or given to the decorator), re-indented. The
text users read with ``help()`` and in the docs is whole; the source keeps one copy.

Examples
--------
>>> @fill_doc
... def f(config=None):
...     '''Do something.
...
...     Parameters
...     ----------
...     {{config}}
...     '''
>>> print(f.__doc__.splitlines()[4])
    config : recovery.Config, optional
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Mapping
from typing import TypeVar

__all__ = ["PARAMETERS", "fill_doc", "register"]

F = TypeVar("F", bound=Callable)

#: Shared descriptions by name; a layer registers its own with :func:`register`.
PARAMETERS: dict[str, str] = {
    "config": """\
config : recovery.Config, optional
    Bucket bounds, charge-off rule and the other definitions of DESIGN.md
    (default: ``Config()``).""",
}

_PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)\{\{(?P<name>\w+)\}\}[ \t]*$", re.M)


def register(**texts: str) -> None:
    """Add shared descriptions (``name=text``, numpydoc, without indentation).

    Examples
    --------
    >>> register(example_table="example_table : pandas.DataFrame\\n    A table.")
    >>> "example_table" in PARAMETERS
    True
    """
    for name, text in texts.items():
        if name in PARAMETERS and PARAMETERS[name] != text:
            raise ValueError(f"shared docstring text {name!r} is registered twice, differently")
        PARAMETERS[name] = textwrap.dedent(text).strip("\n")


def fill_doc(func: F | None = None, /, **extra: str) -> F | Callable[[F], F]:
    """Replace each ``{{name}}`` line of a docstring with its shared description.

    Use as ``@fill_doc`` or ``@fill_doc(name=text)`` for descriptions shared within
    one module only. An unknown name raises at import time, so a typo cannot reach
    the docs.
    """

    def decorate(f: F) -> F:
        if f.__doc__:
            texts: Mapping[str, str] = {**PARAMETERS, **extra}

            def replace(match: re.Match[str]) -> str:
                name = match.group("name")
                if name not in texts:
                    raise KeyError(f"{f.__qualname__}: no shared docstring text named {name!r}")
                return textwrap.indent(textwrap.dedent(texts[name]).strip("\n"), match["indent"])

            f.__doc__ = _PLACEHOLDER.sub(replace, f.__doc__)
        return f

    return decorate(func) if func is not None else decorate
