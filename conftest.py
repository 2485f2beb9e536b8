"""Fixtures for every test, the doctests of src/recovery included."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the figures a test or a docstring example drew (plot functions return them
    open, for the caller to keep drawing on)."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
