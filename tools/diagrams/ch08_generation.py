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
    fig, ax = canvas(10.6, 6.4)
    root = box(ax, 1.0, 3.4, 1.4, 0.6, "« Le chat »", COLORS["input"])
    label(ax, 3.6, 6.15, "étape 1 : 3 suites, on en garde 2", fontsize=10, color=COLORS["edge"])
    label(ax, 7.4, 6.15, "étape 2 : 2 × 3 candidats, on en garde 2", fontsize=10, color=COLORS["edge"])
    y1 = {"dort": 5.0, "mange": 2.6, "est": 0.7}
    rows = {"dort": [5.7, 5.05, 4.4], "mange": [3.3, 2.65, 2.0], "est": [1.0, 0.4]}
    for w1, p1 in STEP1.items():
        kept = w1 in KEPT1
        node = box(ax, 3.6, y1[w1], 1.7, 0.6, f"{w1}\nlog P = {fr(math.log(p1))}",
                   COLORS["hidden"] if kept else "white", fontsize=9.5, alpha=1 if kept else 0.6)
        arrow(ax, (root[0] + 0.7, root[1]), (node[0] - 0.85, node[1]),
              color=COLORS["edge"] if kept else COLORS["grey"], text=fr(p1, "g"), fontsize=9)
        if not kept:
            label(ax, 4.85, y1[w1], "✗", color=COLORS["red"], fontsize=14)
            continue
        for (w2, p2), y in zip(STEP2[w1].items(), rows[w1], strict=True):
            best = (w1, w2) in KEPT2
            lp = math.log(p1 * p2)
            leaf = box(ax, 7.4, y, 2.5, 0.5, f"{w1} {w2}   log P = {fr(lp)}",
                       COLORS["output"] if best else "white", fontsize=9.5)
            arrow(ax, (node[0] + 0.85, node[1]), (leaf[0] - 1.25, leaf[1]),
                  color=COLORS["green"] if best else COLORS["grey"], text=fr(p2, "g"), fontsize=9)
            label(ax, 9.0, y, "gardé" if best else "✗", fontsize=10 if best else 13,
                  color=COLORS["green"] if best else COLORS["red"], ha="left")
    label(ax, 5.3, -0.05,
          "Glouton : « dort » (0,5) puis « bien » → P = 0,20.   Faisceau de 2 : « mange la » → P = 0,36.",
          fontsize=10)
    ax.set_ylim(-0.35, 6.4)
    return save(fig, "ch08_beam_tree")


def kv_cache() -> Path:
    fig, ax = canvas(11.0, 5.0)
    n, c = 5, 0.42  # tokens, cell size
    for panel, (x0, title) in enumerate([(0.8, "Sans cache : l'étape 5 recalcule tout"),
                                         (6.3, "Avec le cache : l'étape 5 calcule une ligne")]):
        label(ax, x0 + 2.0, 4.75, title, fontsize=11, fontweight="bold")
        # keys / values column on the left: cached (grey) or computed now (orange)
        for j in range(n):
            new = panel == 0 or j == n - 1
            box(ax, x0 + 0.55 + j * c, 4.15, c * 0.9, 0.38, f"k{j + 1}",
                COLORS["attn"] if new else "#DDDDDD", fontsize=8.5)
        label(ax, x0 - 0.1, 4.15, "clés", fontsize=9, ha="right")
        for i in range(n):
            new_q = panel == 0 or i == n - 1
            box(ax, x0 + 0.05, 3.55 - i * c, c * 0.9, 0.38, f"q{i + 1}",
                COLORS["attn"] if new_q else "white", fontsize=8.5,
                alpha=1 if new_q else 0.35)
            for j in range(n):
                x, y = x0 + 0.55 + j * c, 3.55 - i * c
                if j > i:
                    continue  # causal mask: no score
                computed = panel == 0 or i == n - 1
                ax.add_patch(Rectangle(
                    (x - c * 0.45, y - c * 0.45), c * 0.9, c * 0.9,
                    facecolor=COLORS["blue"] if computed else "#EEEEEE",
                    edgecolor="white", alpha=0.85 if computed else 1))
        label(ax, x0 - 0.45, 2.7, "requêtes", fontsize=9, ha="right", rotation=90)
        if panel == 0:
            text = ("étape t : ≈ t²/2 scores q·k,\nk et v de tout le préfixe recalculés\n"
                    "→ O(t²·d) par token,\nO(T³·d) pour T tokens")
        else:
            text = ("étape t : t scores (une ligne),\nkₜ et vₜ seulement ; k₁ … kₜ₋₁\n"
                    "et v₁ … vₜ₋₁ lus dans le cache\n→ O(t·d) par token, O(T²·d) en tout")
        label(ax, x0 + 1.55, 0.55, text, fontsize=9.5, va="center")
    box(ax, 9.9, 3.0, 1.5, 0.9, "cache :\nK, V des tokens\ndéjà vus", "#DDDDDD", fontsize=9)
    arrow(ax, (9.9, 3.48), (8.9, 4.05), color=COLORS["grey"], rad=0.2)
    ax.set_xlim(-0.5, 11.0)
    return save(fig, "ch08_kv_cache")


if __name__ == "__main__":
    for path in (beam_tree(), kv_cache()):
        print("wrote", path)
