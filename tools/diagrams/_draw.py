"""Shared drawing helpers for the course's diagrams (boxes, arrows, labels) with matplotlib.

Each ``tools/diagrams/<chapter>.py`` script draws its chapter's figures with these helpers and
saves them with :func:`save` into ``figures/`` as SVG (text kept as text, no date in the file,
so that a re-run with unchanged code gives byte-identical files). Run one script with
``python tools/diagrams/<chapter>.py`` or all of them with ``python tools/diagrams``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

FIGURES = Path(__file__).resolve().parents[2] / "figures"

# One palette for every diagram of the book (colour-blind safe, Okabe–Ito).
COLORS = {
    "input": "#E8F1FA", "hidden": "#FDF1DC", "output": "#E6F4EA", "op": "#F3E8F8",
    "attn": "#FCE4E4", "edge": "#333333", "blue": "#0072B2", "orange": "#E69F00",
    "green": "#009E73", "red": "#D55E00", "purple": "#CC79A7", "grey": "#999999",
}
plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "llmcours", "font.size": 11})


def canvas(width: float, height: float) -> tuple[plt.Figure, plt.Axes]:
    """A blank figure of ``width`` × ``height`` inches whose data units are inches."""
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.subplots_adjust(0, 0, 1, 1)
    return fig, ax


def box(ax: plt.Axes, x: float, y: float, w: float, h: float, text: str = "",
        color: str = COLORS["input"], fontsize: float = 11, **kwargs) -> tuple[float, float]:
    """A rounded box centred on (x, y), of size w × h, with ``text`` inside; returns its centre."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=color, edgecolor=COLORS["edge"], linewidth=1.2, **kwargs))
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)
    return x, y


def arrow(ax: plt.Axes, start: tuple[float, float], end: tuple[float, float],
          color: str = COLORS["edge"], text: str = "", style: str = "-|>", rad: float = 0.0,
          fontsize: float = 10, **kwargs) -> None:
    """An arrow from ``start`` to ``end`` (optionally curved by ``rad``), labelled at its middle."""
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=12, color=color,
                                 linewidth=1.2, connectionstyle=f"arc3,rad={rad}", **kwargs))
    if text:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, text, fontsize=fontsize,
                ha="center", va="center", backgroundcolor="white")


def label(ax: plt.Axes, x: float, y: float, text: str, **kwargs) -> None:
    """Free text at (x, y), centred."""
    ax.text(x, y, text, ha=kwargs.pop("ha", "center"), va=kwargs.pop("va", "center"), **kwargs)


def save(fig: plt.Figure, name: str) -> Path:
    """Save ``fig`` as ``figures/<name>.svg`` (no date, reproducible) and close it."""
    FIGURES.mkdir(exist_ok=True)
    path = FIGURES / f"{name}.svg"
    fig.savefig(path, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(fig)
    return path
