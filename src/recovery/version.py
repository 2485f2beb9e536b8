"""The installed version of recovery (``recovery.__version__``).

Examples
--------
>>> from recovery.version import __version__
>>> isinstance(__version__, str)
True
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("recovery")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
