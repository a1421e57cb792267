"""Diagrams of chapter 7 (BERT, GPT, T5), written to ``figures/ch07_*.svg``.

- ``ch07_bert_input``: BERT's input, the sum of token, segment and position embeddings;
- ``ch07_masks``: the three attention masks side by side (bidirectional, causal, and the
  prefix / encoder-decoder mask with its cross-attention block).
"""

from __future__ import annotations

import sys
from pathlib import Path

from matplotlib.patches import Rectangle

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _draw import COLORS, arrow, box, canvas, label, save  # noqa: E402

NOTE = "#555555"  # notes in grey, dark enough to read


def bert_input() -> Path:
    """[CLS] A [SEP] B [SEP]: each position adds three embeddings from three learned tables
    (one row per position, so that the figure fits the text column)."""
    tokens = ["[CLS]", "le", "chat", "dort", "[SEP]", "il", "rêve", "[SEP]"]
    segments = ["A"] * 5 + ["B"] * 3
    row_h = 0.52
    fig, ax = canvas(6.8, 0.45 + len(tokens) * row_h + 0.65)

    def y_of(i: int) -> float:
        return 0.45 + (len(tokens) - 1 - i) * row_h

    def token_text(i: int) -> str:
        name = tokens[i].strip("[]").replace("ê", "\\hat{e}")
        return "$W_e[\\mathrm{" + name + "}]$"

    columns = [  # (x, width, header, text of row i, colour)
        (1.85, 1.35, "plongements\nde token", token_text, COLORS["input"]),
        (3.35, 0.85, "plongements\nde segment", lambda i: "$W_s[" + segments[i] + "]$",
         COLORS["hidden"]),
        (4.6, 0.85, "plongements\nde position", lambda i: "$W_p[" + str(i) + "]$", COLORS["op"]),
        (6.05, 0.85, "entrée du\npremier bloc", lambda i: "$h_0[" + str(i) + "]$",
         COLORS["output"]),
    ]
    top = y_of(0) + 0.65
    for x, w, header, text, color in columns:
        label(ax, x, top, header, fontsize=10)
        for i in range(len(tokens)):
            box(ax, x, y_of(i), w, row_h * 0.78, text(i), color, fontsize=10)
    for i, token in enumerate(tokens):
        y = y_of(i)
        label(ax, 0.7, y, token, fontsize=11, fontweight="bold" if "[" in token else "normal")
        arrow(ax, (1.0, y), (1.16, y))
        label(ax, 2.77, y, "+", fontsize=13)
        label(ax, 3.97, y, "+", fontsize=13)
        arrow(ax, (5.04, y), (5.6, y))
    for name, rows, color in [("phrase A", range(0, 5), COLORS["blue"]),
                              ("phrase B", range(5, 8), COLORS["red"])]:
        middle = (y_of(rows[0]) + y_of(rows[-1])) / 2
        label(ax, 0.12, middle, name, fontsize=10, color=color, rotation=90)
    label(ax, 6.05, 0.1, "puis LayerNorm", fontsize=10, color=NOTE)
    return save(fig, "ch07_bert_input")


def _grid(ax, x0: float, y0: float, colors: list[list[str | None]], cell: float = 0.42) -> None:
    """Draw a mask as a grid of cells; row 0 at the top; ``None`` = forbidden (white)."""
    n_rows = len(colors)
    for i, row in enumerate(colors):
        for j, color in enumerate(row):
            ax.add_patch(Rectangle((x0 + j * cell, y0 + (n_rows - 1 - i) * cell), cell, cell,
                                   facecolor=color or "white", edgecolor="#BBBBBB",
                                   linewidth=0.8))


def masks(n: int = 6, n_prefix: int = 3) -> Path:
    """Bidirectional, causal, and prefix (= encoder-decoder seen as one sequence) masks."""
    blue, orange, green = COLORS["blue"], COLORS["orange"], COLORS["green"]
    full = [[blue] * n for _ in range(n)]
    causal = [[blue if j <= i else None for j in range(n)] for i in range(n)]
    prefix = []
    for i in range(n):
        if i < n_prefix:  # the source (encoder): sees the whole source, never the target
            prefix.append([blue if j < n_prefix else None for j in range(n)])
        else:  # the target (decoder): the whole source (cross-attention), the past of the target
            prefix.append([orange if j < n_prefix else (green if j <= i else None)
                           for j in range(n)])
    fig, ax = canvas(6.8, 4.6)
    cell, y0 = 0.28, 2.05
    names = [f"$x_{i + 1}$" for i in range(n)]
    panels = [
        (0.7, full, "Bidirectionnel\n(BERT)", names),
        (2.8, causal, "Causal\n(GPT)", names),
        (4.9, prefix, "Préfixe ou encodeur-\ndécodeur (T5)",
         [f"$s_{i + 1}$" for i in range(n_prefix)] + [f"$c_{i + 1}$" for i in range(n - n_prefix)]),
    ]
    for k, (x0, colors, title, cols) in enumerate(panels):
        _grid(ax, x0, y0, colors, cell)
        label(ax, x0 + n * cell / 2, y0 + n * cell + 0.5, title, fontsize=11,
              fontweight="bold")
        for j, name in enumerate(cols):
            label(ax, x0 + (j + 0.5) * cell, y0 + n * cell + 0.12, name, fontsize=10)
            label(ax, x0 - 0.17, y0 + (n - 1 - j + 0.5) * cell, name, fontsize=10)
        label(ax, x0 + n * cell / 2, y0 - 0.22, "token regardé →", fontsize=10, color=NOTE)
        if k == 0:
            label(ax, x0 - 0.52, y0 + n * cell / 2, "← token qui regarde", fontsize=10,
                  color=NOTE, rotation=90)
    # legend of the third panel, then how to read a cell
    for k, (color, text) in enumerate([(blue, "auto-attention (source)"),
                                       (orange, "attention croisée (cible → source)"),
                                       (green, "auto-attention causale (cible)")]):
        ax.add_patch(Rectangle((2.9, 1.3 - 0.3 * k), 0.2, 0.2, facecolor=color,
                               edgecolor="#BBBBBB"))
        label(ax, 3.2, 1.4 - 0.3 * k, text, fontsize=10, ha="left")
    label(ax, 0.15, 0.2, "case colorée : la ligne peut regarder la colonne ; "
          "case blanche : interdit ($-\\infty$)", fontsize=10, ha="left")
    return save(fig, "ch07_masks")


def main() -> None:
    for draw in (bert_input, masks):
        print(draw())


if __name__ == "__main__":
    main()
