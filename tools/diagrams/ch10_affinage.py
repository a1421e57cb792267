"""Diagrams of chapter 10 (affinage): the LoRA layer, W frozen with A and B beside it.

Run ``python tools/diagrams/ch10_affinage.py``; writes ``figures/ch10_lora.svg``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _draw import COLORS, arrow, box, canvas, label, save  # noqa: E402
from matplotlib.patches import Circle, Polygon  # noqa: E402


def trapezoid(ax, x: float, y: float, bottom: float, top: float, h: float, text: str,
              color: str) -> None:
    """A trapezoid centred on (x, y): its width goes from ``bottom`` to ``top``."""
    points = [(x - bottom / 2, y - h / 2), (x + bottom / 2, y - h / 2),
              (x + top / 2, y + h / 2), (x - top / 2, y + h / 2)]
    ax.add_patch(Polygon(points, closed=True, facecolor=color, edgecolor=COLORS["edge"],
                         linewidth=1.2))
    label(ax, x, y, text, fontsize=11)


def lora() -> None:
    # 6.8 inches wide (under 504 pt with the margins): shown at its own size in the book's text column, so that the
    # smallest text (10 points) stays 10 points on the page.
    fig, ax = canvas(6.8, 6.0)
    trained = COLORS["hidden"]
    # input x, at the bottom
    box(ax, 3.0, 0.45, 2.6, 0.55, r"entrée $x$, de dimension $d_{\mathrm{in}}$")
    # the frozen pre-trained weight
    box(ax, 1.35, 2.75, 2.5, 2.3, "", color="#E4E4E4")
    label(ax, 1.35, 3.35, "poids pré-entraînés", fontsize=11)
    label(ax, 1.35, 2.8, r"$W$ : $d_{\mathrm{out}} \times d_{\mathrm{in}}$",
          fontsize=13)
    label(ax, 1.35, 2.2, "gelés (aucun gradient)", fontsize=10, color=COLORS["blue"])
    # the low-rank path: A narrows d_in to r, B widens r to d_out
    trapezoid(ax, 4.45, 2.05, 2.2, 0.7, 0.9, r"$A$ : $r \times d_{\mathrm{in}}$", trained)
    trapezoid(ax, 4.45, 3.45, 0.7, 2.2, 0.9, r"$B$ : $d_{\mathrm{out}} \times r$", trained)
    label(ax, 5.1, 2.75, r"rang $r$", fontsize=10, ha="left")
    label(ax, 5.65, 1.8, "initialisation\naléatoire", fontsize=10, ha="left",
          color=COLORS["red"])
    label(ax, 5.65, 3.7, "initialisation\nà zéro", fontsize=10, ha="left", color=COLORS["red"])
    label(ax, 5.5, 0.45, "A et B : entraînés", fontsize=10, color=COLORS["red"])
    # the sum and the output
    ax.add_patch(Circle((3.0, 4.65), 0.22, facecolor="white", edgecolor=COLORS["edge"],
                        linewidth=1.2))
    label(ax, 3.0, 4.65, "+", fontsize=15)
    box(ax, 3.0, 5.5, 3.6, 0.6, r"$h = W x + (\alpha / r)\, B A x$", color=COLORS["output"],
        fontsize=12)
    # arrows
    arrow(ax, (2.5, 0.73), (1.35, 1.58))
    arrow(ax, (3.5, 0.73), (4.45, 1.58))
    arrow(ax, (4.45, 2.5), (4.45, 2.98))
    arrow(ax, (1.35, 3.92), (2.8, 4.55))
    arrow(ax, (4.45, 3.92), (3.22, 4.6), text=r"$\times\, \alpha / r$")
    arrow(ax, (3.0, 4.88), (3.0, 5.18))
    save(fig, "ch10_lora")


if __name__ == "__main__":
    lora()
