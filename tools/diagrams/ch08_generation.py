"""Diagrams of chapter 8 (generation): a worked beam search of width 2 drawn as a tree, and the
KV cache (what one generation step computes without and with it).

Run: ``python tools/diagrams/ch08_generation.py`` → ``figures/ch08_beam_tree.svg``,
``figures/ch08_kv_cache.svg``. The probabilities of the beam tree are those of the toy model
of the chapter's worked example (section « La recherche en faisceau »).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _draw import COLORS, arrow, box, canvas, label, save  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

# The worked example: P(next word | « Le chat », first word).
STEP1 = {"dort": 0.5, "mange": 0.4, "est": 0.1}
STEP2 = {
    "dort": {"bien": 0.4, "ici": 0.3, "peu": 0.3},
    "mange": {"la": 0.9, "du": 0.05, "vite": 0.05},
    "est": {"là": 0.6, "noir": 0.4},
}
KEPT1 = {"dort", "mange"}  # the 2 best after step 1
KEPT2 = {("mange", "la"), ("dort", "bien")}  # the 2 best after step 2


def fr(x: float, fmt: str = ".2f") -> str:
    """A number written the French way: decimal comma, true minus sign."""
    return format(x, fmt).replace(".", ",").replace("-", "−")


def beam_tree() -> Path:
    """The tree of the worked example, narrow enough (with the saved padding, at most the
    7-in text column) that the page shows it at its own size, text of 10 pt or more."""
    fig, ax = canvas(6.8, 6.2)
    root = box(ax, 0.6, 3.3, 1.15, 0.6, "« Le chat »", COLORS["input"], fontsize=10)
    label(ax, 2.35, 6.05, "étape 1 : on garde 2 suites sur 3", fontsize=10, color=COLORS["edge"])
    label(ax, 5.5, 6.05, "étape 2 : on garde 2 suites sur 6", fontsize=10, color=COLORS["edge"])
    y1 = {"dort": 4.85, "mange": 2.55, "est": 0.75}
    rows = {"dort": [5.55, 4.9, 4.25], "mange": [3.2, 2.55, 1.9], "est": [1.05, 0.45]}
    for w1, p1 in STEP1.items():
        kept = w1 in KEPT1
        node = box(ax, 2.35, y1[w1], 1.3, 0.7, f"{w1}\nlog P = {fr(math.log(p1))}",
                   COLORS["hidden"] if kept else "white", fontsize=10, alpha=1 if kept else 0.6)
        arrow(ax, (root[0] + 0.58, root[1]), (node[0] - 0.65, node[1]),
              color=COLORS["edge"] if kept else COLORS["grey"], text=fr(p1, "g"), fontsize=10)
        if not kept:
            label(ax, 3.25, y1[w1], "✗", color=COLORS["red"], fontsize=14)
            continue
        for (w2, p2), y in zip(STEP2[w1].items(), rows[w1], strict=True):
            best = (w1, w2) in KEPT2
            lp = math.log(p1 * p2)
            leaf = box(ax, 5.05, y, 2.2, 0.5, f"{w1} {w2} : log P = {fr(lp)}",
                       COLORS["output"] if best else "white", fontsize=10)
            arrow(ax, (node[0] + 0.65, node[1]), (leaf[0] - 1.1, leaf[1]),
                  color=COLORS["green"] if best else COLORS["grey"], text=fr(p2, "g"), fontsize=10)
            label(ax, 6.25, y, "gardé" if best else "✗", fontsize=10 if best else 13,
                  color=COLORS["green"] if best else COLORS["red"], ha="left")
    label(ax, 3.7, -0.15, "Glouton : « dort » (0,5) puis « bien » → P = 0,20.", fontsize=10)
    label(ax, 3.7, -0.5, "Faisceau de largeur 2 : « mange la » → P = 0,36.", fontsize=10)
    ax.set_ylim(-0.75, 6.2)
    return save(fig, "ch08_beam_tree")


def kv_cache() -> Path:
    """One generation step without and with the cache, the two panels side by side (6.7 in)."""
    fig, ax = canvas(6.7, 4.0)
    n, c = 5, 0.32  # tokens, cell size
    panels = [(0.7, "Sans cache : tout est recalculé"), (4.0, "Avec le cache : une ligne")]
    for panel, (x0, title) in enumerate(panels):
        label(ax, x0 + 1.1, 3.85, title, fontsize=10.5, fontweight="bold")
        # keys on top: cached (grey) or computed now (pink)
        for j in range(n):
            new = panel == 0 or j == n - 1
            box(ax, x0 + 0.5 + j * c, 3.3, c * 0.92, 0.34, f"k{j + 1}",
                COLORS["attn"] if new else "#DDDDDD", fontsize=10)
        label(ax, x0 - 0.05, 3.3, "clés", fontsize=10, ha="right")
        for i in range(n):
            new_q = panel == 0 or i == n - 1
            box(ax, x0 + 0.05, 2.8 - i * c, c * 0.92, 0.3, f"q{i + 1}",
                COLORS["attn"] if new_q else "white", fontsize=10, alpha=1 if new_q else 0.35)
            for j in range(i + 1):  # causal mask: scores for j ≤ i only
                x, y = x0 + 0.5 + j * c, 2.8 - i * c
                computed = panel == 0 or i == n - 1
                ax.add_patch(Rectangle(
                    (x - c * 0.45, y - c * 0.45), c * 0.9, c * 0.9,
                    facecolor=COLORS["blue"] if computed else "#EEEEEE",
                    edgecolor="white", alpha=0.85 if computed else 1))
        label(ax, x0 - 0.3, 2.1, "requêtes", fontsize=10, ha="right", rotation=90)
        if panel == 0:
            text = ("étape t : ≈ t²/2 scores q·k,\nk et v de tout le préfixe\nrecalculés\n"
                    "→ O(t²·d) par token,\nO(T³·d) pour T tokens")
        else:
            text = ("étape t : t scores (une ligne),\nkₜ et vₜ seulement, les autres\n"
                    "lus dans le cache (en gris)\n→ O(t·d) par token,\nO(T²·d) en tout")
        label(ax, x0 + 1.1, 0.5, text, fontsize=10, va="center")
    return save(fig, "ch08_kv_cache")


if __name__ == "__main__":
    for path in (beam_tree(), kv_cache()):
        print("wrote", path)
