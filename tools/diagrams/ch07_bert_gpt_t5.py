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
    """[CLS] A [SEP] B [SEP]: each position adds three embeddings from three learned tables."""
    tokens = ["[CLS]", "le", "chat", "dort", "[SEP]", "il", "rêve", "[SEP]"]
    segments = ["A"] * 5 + ["B"] * 3
    fig, ax = canvas(11.9, 5.0)
    x0, step, w = 2.3, 1.1, 0.95

    def token_text(i: int) -> str:
        name = tokens[i].strip("[]").replace("ê", "\\hat{e}")
        return "$W_e[\\mathrm{" + name + "}]$"

    rows = [  # (y, row label, text of column i, colour)
        (4.1, "entrée du\npremier bloc", lambda i: "$h_0[" + str(i) + "]$", COLORS["output"]),
        (3.0, "plongements\nde position", lambda i: "$W_p[" + str(i) + "]$", COLORS["op"]),
        (2.0, "plongements\nde segment", lambda i: "$W_s[" + segments[i] + "]$",
         COLORS["hidden"]),
        (1.0, "plongements\nde token", token_text, COLORS["input"]),
    ]
    for y, row_label, text, color in rows:
        label(ax, 0.75, y, row_label, fontsize=10, ha="center")
        for i in range(len(tokens)):
            box(ax, x0 + i * step, y, w, 0.55, text(i), color, fontsize=9)
    for i, token in enumerate(tokens):
        x = x0 + i * step
        label(ax, x, 0.2, token, fontsize=11, fontweight="bold" if "[" in token else "normal")
        arrow(ax, (x, 0.38), (x, 0.7))
        label(ax, x, 1.5, "+", fontsize=13)
        label(ax, x, 2.5, "+", fontsize=13)
        arrow(ax, (x, 3.3), (x, 3.8))
    label(ax, x0 + 2 * step, 4.75, "phrase A (segment 0)", fontsize=10, color=COLORS["blue"])
    label(ax, x0 + 6 * step, 4.75, "phrase B (segment 1)", fontsize=10, color=COLORS["red"])
    label(ax, 11.35, 4.1, "puis\nLayerNorm", fontsize=9, color=NOTE)
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
    fig, ax = canvas(12.0, 4.6)
    cell, y0 = 0.42, 1.3
    names = [f"$x_{i + 1}$" for i in range(n)]
    panels = [
        (0.9, full, "Bidirectionnel (BERT)", names, names),
        (4.9, causal, "Causal (GPT)", names, names),
        (8.9, prefix, "Préfixe / encodeur-décodeur (T5)",
         [f"$s_{i + 1}$" for i in range(n_prefix)] + [f"$c_{i + 1}$" for i in range(n - n_prefix)],
         None),
    ]
    for x0, colors, title, cols, _ in panels:
        _grid(ax, x0, y0, colors, cell)
        label(ax, x0 + n * cell / 2, y0 + n * cell + 0.35, title, fontsize=11,
              fontweight="bold")
        for j, name in enumerate(cols):
            label(ax, x0 + (j + 0.5) * cell, y0 + n * cell + 0.1, name, fontsize=9)
            label(ax, x0 - 0.2, y0 + (n - 1 - j + 0.5) * cell, name, fontsize=9)
        label(ax, x0 + n * cell / 2, y0 - 0.25, "token regardé →", fontsize=8, color=NOTE)
        label(ax, x0 - 0.55, y0 + n * cell / 2, "← token qui regarde", fontsize=8,
              color=NOTE, rotation=90)
    # legend of the third panel
    x_leg = 8.9
    for k, (color, text) in enumerate([(blue, "auto-attention (source)"),
                                       (orange, "attention croisée (cible → source)"),
                                       (green, "auto-attention causale (cible)")]):
        ax.add_patch(Rectangle((x_leg, 0.65 - 0.3 * k), 0.2, 0.2, facecolor=color,
                               edgecolor="#BBBBBB"))
        label(ax, x_leg + 0.3, 0.75 - 0.3 * k, text, fontsize=9, ha="left")
    label(ax, 2.5, 0.5, "case colorée : la ligne peut regarder la colonne ;\n"
          "case blanche : interdit (score mis à $-\\infty$)", fontsize=9, ha="left")
    return save(fig, "ch07_masks")


def main() -> None:
    for draw in (bert_input, masks):
        print(draw())


if __name__ == "__main__":
    main()
