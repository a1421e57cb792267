"""Diagrams of chapter 3 (recurrent networks), written to ``figures/ch03_*.svg``.

- ``ch03_rnn_unrolled``: the RNN cell with its loop, then unrolled over T steps (same weights);
- ``ch03_lstm_cell``: the LSTM cell, its memory line c_{t-1} → c_t and its three gates;
- ``ch03_gru_cell``: the GRU cell, its two gates and the interpolation between h_{t-1} and h̃_t.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _draw import COLORS, arrow, box, canvas, label, save  # noqa: E402
from matplotlib.patches import Circle, FancyBboxPatch  # noqa: E402

NOTE = "#555555"


def rnn_unrolled() -> Path:
    """Left: the cell and its loop; right: the same cell copied at t = 1, 2, 3, ..., T."""
    fig, ax = canvas(10.4, 4.2)
    # the folded cell
    box(ax, 1.2, 1.9, 1.2, 0.8, "cellule\n$f$", COLORS["hidden"])
    box(ax, 1.2, 0.5, 0.8, 0.5, "$x_t$", COLORS["input"])
    box(ax, 1.2, 3.3, 0.8, 0.5, "$h_t$", COLORS["output"])
    arrow(ax, (1.2, 0.75), (1.2, 1.5))
    arrow(ax, (1.2, 2.3), (1.2, 3.05))
    arrow(ax, (1.8, 2.1), (1.8, 1.7), rad=-2.2, color=COLORS["red"])
    label(ax, 2.45, 2.55, "$h_{t-1}$", fontsize=10, color=COLORS["red"])
    label(ax, 2.55, 1.9, "=", fontsize=20)
    # the unrolled chain
    xs = [4.0, 5.7, 7.4, 9.5]
    names = ["1", "2", "3", "T"]
    box(ax, 3.0, 1.9, 0.5, 0.45, "$h_0$", COLORS["output"], fontsize=10)
    arrow(ax, (3.25, 1.9), (xs[0] - 0.55, 1.9), color=COLORS["red"])
    for i, (x, n) in enumerate(zip(xs, names, strict=True)):
        box(ax, x, 1.9, 1.1, 0.8, "$f$", COLORS["hidden"])
        box(ax, x, 0.5, 0.8, 0.5, f"$x_{n}$", COLORS["input"])
        box(ax, x, 3.3, 0.8, 0.5, f"$h_{n}$", COLORS["output"])
        arrow(ax, (x, 0.75), (x, 1.5))
        arrow(ax, (x, 2.3), (x, 3.05))
        if i + 1 < len(xs):
            nxt = xs[i + 1]
            if n == "3":
                label(ax, (x + nxt) / 2, 1.9, "…", fontsize=16)
                arrow(ax, (x + 0.55, 1.9), (x + 0.85, 1.9), color=COLORS["red"])
                arrow(ax, (nxt - 0.85, 1.9), (nxt - 0.55, 1.9), color=COLORS["red"])
            else:
                arrow(ax, (x + 0.55, 1.9), (nxt - 0.55, 1.9), color=COLORS["red"],
                      text=f"$h_{n}$")
    label(ax, 6.75, 3.9, "mêmes poids $W_h$, $W_x$, $b$ à chaque pas", fontsize=10, color=NOTE)
    label(ax, 6.75, 0.05, "la chaîne est séquentielle : $h_t$ attend $h_{t-1}$", fontsize=10,
          color=NOTE)
    return save(fig, "ch03_rnn_unrolled")


def _gate(ax, x, y, text, color=COLORS["op"]):
    return box(ax, x, y, 0.75, 0.5, text, color, fontsize=10)


def _op(ax, x, y, text):
    ax.add_patch(Circle((x, y), 0.22, facecolor="white", edgecolor=COLORS["edge"], lw=1.2))
    label(ax, x, y, text, fontsize=12)
    return x, y


def _cell(ax, top: float, name: str) -> None:
    """The grey frame of a cell, from y = 0.9 to ``top``, with its name in the corner."""
    ax.add_patch(FancyBboxPatch((1.3, 0.9), 7.6, top - 0.9,
                                boxstyle="round,pad=0.02,rounding_size=0.15",
                                facecolor="#FAFAFA", edgecolor=COLORS["grey"], lw=1.0))
    label(ax, 1.55, top - 0.2, name, fontsize=10, color=NOTE, ha="left")


def _carried_line(ax, y: float, x_mult: float, x_add: float, start: str, end: str,
                  color: str) -> None:
    """The line a cell carries from step to step: ``start`` → × → + → ``end``."""
    label(ax, 0.55, y, start, fontsize=12)
    arrow(ax, (0.95, y), (x_mult - 0.22, y), color=color)
    _op(ax, x_mult, y, "×")
    arrow(ax, (x_mult + 0.22, y), (x_add - 0.22, y), color=color)
    _op(ax, x_add, y, "+")
    arrow(ax, (x_add + 0.22, y), (9.6, y), color=color)
    label(ax, 9.95, y, end, fontsize=12)


def lstm_cell() -> Path:
    """The memory line on top, the four pre-activations below, the gates acting on the line."""
    fig, ax = canvas(10.4, 5.0)
    _cell(ax, 4.4, "cellule LSTM")
    _carried_line(ax, 3.7, 3.2, 5.5, "$c_{t-1}$", "$c_t$", COLORS["orange"])  # the memory
    label(ax, 7.1, 4.17, "mémoire : ni matrice ni tanh", fontsize=10, color=NOTE)
    # inputs
    label(ax, 0.55, 0.9, "$h_{t-1}$", fontsize=12)
    label(ax, 1.75, 0.25, "$x_t$", fontsize=12)
    ax.plot([0.95, 7.2], [0.9, 0.9], color=COLORS["edge"], lw=1.2)
    ax.plot([1.75, 1.75], [0.45, 0.9], color=COLORS["edge"], lw=1.2)
    # gates
    gates = [(3.2, "$f_t$\n$\\sigma$", "oubli"), (4.6, "$i_t$\n$\\sigma$", "entrée"),
             (5.85, "$\\tilde{c}_t$\ntanh", "candidat"), (7.2, "$o_t$\n$\\sigma$", "sortie")]
    for x, text, name in gates:
        arrow(ax, (x, 0.9), (x, 1.6))
        box(ax, x, 1.9, 0.75, 0.6, text, COLORS["attn"] if "sigma" in text else COLORS["hidden"],
            fontsize=10)
        label(ax, x, 1.35, name, fontsize=10, color=NOTE)
    arrow(ax, (3.2, 2.2), (3.2, 3.48))
    _op(ax, 5.05, 2.85, "×")
    arrow(ax, (4.6, 2.2), (4.88, 2.68))
    arrow(ax, (5.75, 2.2), (5.22, 2.68))
    arrow(ax, (5.2, 3.02), (5.38, 3.5))
    # output: h_t = o_t ⊙ tanh(c_t)
    box(ax, 7.9, 3.0, 0.75, 0.4, "tanh", COLORS["hidden"], fontsize=10)
    arrow(ax, (7.9, 3.7), (7.9, 3.2))
    _op(ax, 7.9, 2.2, "×")
    arrow(ax, (7.9, 2.8), (7.9, 2.42))
    arrow(ax, (7.58, 1.9), (7.7, 2.08))
    arrow(ax, (8.12, 2.2), (9.6, 2.2), color=COLORS["red"])
    label(ax, 9.95, 2.2, "$h_t$", fontsize=12)
    label(ax, 6.0, 0.25, "chaque porte : $\\sigma(W x_t + U h_{t-1} + b)$, un vecteur de $d$ "
          "nombres entre 0 et 1", fontsize=10, color=NOTE)
    return save(fig, "ch03_lstm_cell")


def gru_cell() -> Path:
    """Two gates, the candidate, and h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t."""
    fig, ax = canvas(10.4, 4.6)
    _cell(ax, 4.0, "cellule GRU")
    _carried_line(ax, 3.3, 4.6, 7.2, "$h_{t-1}$", "$h_t$", COLORS["red"])  # the state
    label(ax, 0.55, 0.45, "$x_t$", fontsize=12)
    ax.plot([0.55, 0.55], [0.65, 0.9], color=COLORS["edge"], lw=1.2)
    ax.plot([0.55, 6.2], [0.9, 0.9], color=COLORS["edge"], lw=1.2)
    ax.plot([1.1, 1.1], [3.3, 0.9], color=COLORS["red"], lw=1.0, ls=":")
    # gates
    box(ax, 2.4, 1.8, 0.8, 0.6, "$r_t$\n$\\sigma$", COLORS["attn"], fontsize=10)
    label(ax, 2.4, 1.25, "réinitialisation", fontsize=10, color=NOTE)
    box(ax, 3.9, 1.8, 0.8, 0.6, "$z_t$\n$\\sigma$", COLORS["attn"], fontsize=10)
    label(ax, 3.9, 1.25, "mise à jour", fontsize=10, color=NOTE)
    box(ax, 6.2, 1.8, 0.9, 0.6, "$\\tilde{h}_t$\ntanh", COLORS["hidden"], fontsize=10)
    label(ax, 6.2, 1.25, "candidat", fontsize=10, color=NOTE)
    for x in (2.4, 3.9, 6.2):
        arrow(ax, (x, 0.9), (x, 1.5))
    # r_t ⊙ h_{t-1} feeds the candidate
    _op(ax, 3.1, 2.6, "×")
    arrow(ax, (2.6, 2.1), (2.93, 2.45))
    arrow(ax, (3.1, 3.3), (3.1, 2.82), color=COLORS["red"])
    arrow(ax, (3.32, 2.55), (5.85, 2.05))
    # z_t weighs old state and candidate
    box(ax, 4.6, 2.85, 0.8, 0.36, "$1-z_t$", "white", fontsize=10)
    arrow(ax, (4.1, 2.1), (4.5, 2.7))
    arrow(ax, (4.6, 3.0), (4.6, 3.08))
    _op(ax, 7.2, 2.4, "×")
    arrow(ax, (4.3, 1.75), (6.98, 2.35), rad=-0.15)
    arrow(ax, (6.65, 1.9), (7.0, 2.25))
    arrow(ax, (7.2, 2.62), (7.2, 3.08))
    label(ax, 5.2, 0.3, "$h_t = (1 - z_t) \\odot h_{t-1} + z_t \\odot \\tilde{h}_t$ : "
          "avec $z_t \\approx 0$, l'état est recopié", fontsize=10, color=NOTE)
    return save(fig, "ch03_gru_cell")


if __name__ == "__main__":
    for draw in (rnn_unrolled, lstm_cell, gru_cell):
        print(draw())
