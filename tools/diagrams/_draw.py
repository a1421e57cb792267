"""Shared drawing helpers for the course's diagrams (boxes, arrows, labels) with matplotlib.

Each ``tools/diagrams/<chapter>.py`` script draws its chapter's figures with these helpers and
saves them with :func:`save` into ``figures/`` as SVG (text kept as text, no date in the file,
so that a re-run with unchanged code gives byte-identical files). Run one script with
``python tools/diagrams/<chapter>.py`` or all of them with ``python tools/diagrams``.

Font sizes are the sizes the reader sees. The book shows a figure at its own size when it
fits the text column (672 CSS px, ``PAGE_WIDTH_IN`` inches, in a 1280-px window) and shrinks
a wider one to the column. So: draw on a canvas at most ``PAGE_WIDTH_IN`` wide, where a
10-point label shows at 10 points; on a wider canvas the helpers enlarge every font by
``width / PAGE_WIDTH_IN`` (the layout must then leave room for it). :func:`save` refuses a
figure with text under ``MIN_FONT_PT`` at the size the page shows, and warns about labels
that overlap (tests/test_book.py checks every ``figures/*.svg`` the same way).
"""

from __future__ import annotations

import sys
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

# The book's text column at its narrowest desktop width (672 CSS px = 7 in at 96 px/in) and
# the smallest text a reader should have to read there (sub- and superscripts excepted).
PAGE_WIDTH_IN = 7.0
MIN_FONT_PT = 10.0


def shrink(fig: plt.Figure) -> float:
    """How much the page shrinks ``fig``: 1 when it fits the column, else column / width
    (the saved width: the canvas and the padding that ``save`` adds on both sides)."""
    return min(1.0, PAGE_WIDTH_IN / (fig.get_figwidth() + 2 * plt.rcParams["savefig.pad_inches"]))


def fontsize(ax: plt.Axes, size: float) -> float:
    """The font size to draw so that text shows at ``size`` points on the page."""
    return size / shrink(ax.figure)


def canvas(width: float, height: float) -> tuple[plt.Figure, plt.Axes]:
    """A blank figure of ``width`` × ``height`` inches whose data units are inches (keep
    ``width`` ≤ ``PAGE_WIDTH_IN``: the page shows it at its own size)."""
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
        ax.text(x, y, text, ha="center", va="center", fontsize=_shown(ax, fontsize))
    return x, y


def arrow(ax: plt.Axes, start: tuple[float, float], end: tuple[float, float],
          color: str = COLORS["edge"], text: str = "", style: str = "-|>", rad: float = 0.0,
          fontsize: float = 10, **kwargs) -> None:
    """An arrow from ``start`` to ``end`` (optionally curved by ``rad``), labelled at its middle."""
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=12, color=color,
                                 linewidth=1.2, connectionstyle=f"arc3,rad={rad}", **kwargs))
    if text:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, text, fontsize=_shown(ax, fontsize),
                ha="center", va="center", backgroundcolor="white")


def label(ax: plt.Axes, x: float, y: float, text: str, fontsize: float = 11, **kwargs) -> None:
    """Free text at (x, y), centred, at ``fontsize`` points on the page."""
    ax.text(x, y, text, ha=kwargs.pop("ha", "center"), va=kwargs.pop("va", "center"),
            fontsize=_shown(ax, fontsize), **kwargs)


_shown = fontsize  # the helpers' ``fontsize`` argument shadows the function's name


def text_problems(fig: plt.Figure) -> tuple[list[str], list[str]]:
    """(texts under ``MIN_FONT_PT`` on the page, pairs of texts that overlap) in ``fig``."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    # the saved width: what bbox_inches="tight" keeps, plus its padding on both sides
    width = fig.get_tightbbox(renderer).width + 2 * plt.rcParams["savefig.pad_inches"]
    scale = min(1.0, PAGE_WIDTH_IN / width)
    texts = [t for ax in fig.axes for t in ax.texts if t.get_text().strip()]
    small = [f"{t.get_text()!r}: {t.get_fontsize() * scale:.1f} pt on the page" for t in texts
             if t.get_fontsize() * scale < MIN_FONT_PT - 1e-6]
    boxes = [t.get_window_extent(renderer) for t in texts]
    overlaps = [f"{a.get_text()!r} and {b.get_text()!r}"
                for i, (a, ba) in enumerate(zip(texts, boxes, strict=True))
                for b, bb in zip(texts[i + 1:], boxes[i + 1:], strict=True) if ba.overlaps(bb)]
    return small, overlaps


def save(fig: plt.Figure, name: str) -> Path:
    """Save ``fig`` as ``figures/<name>.svg`` (no date, reproducible) and close it; refuse
    text that the page would show under ``MIN_FONT_PT``, warn about overlapping labels."""
    small, overlaps = text_problems(fig)
    if small:
        plt.close(fig)
        raise ValueError(f"{name}: text under {MIN_FONT_PT} pt at the size the page shows it "
                         f"(column {PAGE_WIDTH_IN} in): " + "; ".join(small))
    for pair in overlaps:
        print(f"warning: {name}: overlapping labels {pair}", file=sys.stderr)
    FIGURES.mkdir(exist_ok=True)
    path = FIGURES / f"{name}.svg"
    fig.savefig(path, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(fig)
    return path
