"""The report's charts: one style, readable type, embedded as PNG.

:data:`REPORT_STYLE` is the matplotlib settings the template applies before it draws;
:func:`show_figure` shows what a ``plot_*`` function returned as an embedded PNG (every
text at least 9 points, no grid across a heatmap, no version stamp so that the same
inputs give the same bytes) and closes the figure.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

__all__ = ["REPORT_STYLE", "describe_figure", "show_figure"]

#: Matplotlib settings of the report's charts: large enough type to read on a laptop.
REPORT_STYLE: dict[str, Any] = {
    "figure.figsize": (9.0, 4.2),
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "font.size": 11,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 10,
    "legend.frameon": False,
}


def _readable(fig: Any, min_size: float = 9.0) -> None:
    """Raise every text of a figure to at least ``min_size`` points; no grid on heatmaps."""
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        if text.get_text() and text.get_fontsize() < min_size:
            text.set_fontsize(min_size)
    for ax in fig.axes:
        if ax.images:  # no grid lines across a heatmap
            ax.grid(False)


def describe_figure(fig: Any) -> str:
    """Alt text of a chart from what it shows: its titles, axes and legend entries.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([1, 2], [3, 4], label="cure rate")
    >>> _ = ax.set(title="Cure rate by month", xlabel="month end", ylabel="share")
    >>> _ = ax.legend()
    >>> describe_figure(fig)
    'Chart: Cure rate by month. Horizontal axis: month end; vertical axis: share. Shown: cure rate.'
    >>> plt.close(fig)
    """
    parts = []
    for ax in fig.axes:
        if not ax.get_visible() or ax.get_label() == "<colorbar>":
            continue
        title = ax.get_title()
        if not (title or ax.get_xlabel() or ax.get_ylabel()):
            continue
        text = f"Chart: {title}." if title else "Chart."
        axes = [
            f"{name} axis: {label}"
            for name, label in (("Horizontal", ax.get_xlabel()), ("vertical", ax.get_ylabel()))
            if label
        ]
        if axes:
            text += " " + "; ".join(axes) + "."
        legend = ax.get_legend()
        if legend is not None:
            names = [t.get_text() for t in legend.get_texts() if t.get_text()]
            if names:
                text += " Shown: " + ", ".join(names) + "."
        parts.append(text)
    return " ".join(parts) or "Chart."


def show_figure(figure: Any, alt: str | None = None) -> None:
    """Show a chart in the report as an embedded PNG and close it.

    Parameters
    ----------
    figure : matplotlib Figure or Axes (or an array of Axes)
        What a ``plot_*`` function returned.
    alt : str, optional
        Text shown when the image cannot be (and read by screen readers); by default
        :func:`describe_figure` writes it from the chart's title, axes and legend.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([1, 2, 3])
    >>> show_figure(fig)  # in a notebook cell: an embedded PNG  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    fig = figure
    if isinstance(fig, np.ndarray):
        fig = fig.flat[0]
    fig = getattr(fig, "figure", fig)
    if hasattr(fig, "get_figure") and fig.get_figure() is not None:
        fig = fig.get_figure()
    _readable(fig)
    alt = alt or describe_figure(fig)
    buffer = io.BytesIO()
    fig.savefig(
        buffer,
        format="png",
        bbox_inches="tight",
        dpi=REPORT_STYLE["savefig.dpi"],
        metadata={"Software": None},  # no version stamp: same inputs, same bytes
    )
    plt.close(fig)
    try:
        from IPython.display import Image, display
    except ImportError:  # pragma: no cover
        return
    display(Image(data=buffer.getvalue(), format="png", alt=alt))
