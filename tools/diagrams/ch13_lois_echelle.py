"""Chapter 13 diagrams: the isoFLOP idea behind the compute-optimal frontier, and the attention
masks of the remedies for long contexts (full causal, sliding window, strided sparse).

Run ``python tools/diagrams/ch13_lois_echelle.py``; writes ``figures/ch13_isoflop.svg`` and
``figures/ch13_attention_masks.svg``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _draw import COLORS, plt, save  # noqa: E402


def isoflop() -> None:
    """Top: loss against model size for three fixed budgets (U-shaped), minima joined by the
    frontier. Bottom: the optimal N against C, a straight line in log-log axes. Stacked, so
    that the figure fits the text column with 10-point labels."""
    fig, (left, right) = plt.subplots(2, 1, figsize=(6.8, 8.4))
    log_n = np.linspace(0, 10, 300)
    budgets = [(2.5, 3.4, "budget $C_1$"), (5.0, 2.7, "budget $C_2 = 10\\,C_1$"),
               (7.5, 2.1, "budget $C_3 = 100\\,C_1$")]
    colors = [COLORS["blue"], COLORS["orange"], COLORS["green"]]
    minima = []
    for (center, floor, name), color in zip(budgets, colors, strict=True):
        curve = floor + 0.09 * (log_n - center) ** 2
        keep = curve < 4.6
        left.plot(log_n[keep], curve[keep], color=color, linewidth=2, label=name)
        left.plot([center], [floor], "o", color=color, markersize=8)
        minima.append((center, floor))
    xs, ys = zip(*minima, strict=True)
    left.plot(xs, ys, "--", color=COLORS["red"], linewidth=1.5, label="frontière optimale en calcul")
    left.annotate("modèle trop petit :\nil voit beaucoup de tokens\nmais sature", xy=(1.5, 3.8),
                  xytext=(0.1, 1.9), fontsize=10.5, color=COLORS["grey"],
                  arrowprops=dict(arrowstyle="->", color=COLORS["grey"]))
    left.annotate("modèle trop grand :\ntrop peu de tokens\npour l'entraîner", xy=(8.6, 3.8),
                  xytext=(6.3, 4.25), fontsize=10.5, color=COLORS["grey"],
                  arrowprops=dict(arrowstyle="->", color=COLORS["grey"]))
    left.set(xlabel="taille du modèle $N$ (échelle log)", ylabel="perte de validation",
             xticks=[], yticks=[], ylim=(1.0, 4.8), title="Courbes isoFLOP : $C = 6ND$ fixé")
    left.legend(loc="lower left", fontsize=10.5, frameon=False, bbox_to_anchor=(0.42, 0.0))

    log_c = np.linspace(0, 6, 50)
    right.plot(log_c, 0.5 * log_c + 1.0, color=COLORS["red"], linewidth=2,
               label="Chinchilla : $N_{opt} \\propto C^{0,5}$,\n$D_{opt} \\propto C^{0,5}$ ($D \\approx 20 N$)")
    right.plot(log_c, 0.73 * log_c + 1.0, color=COLORS["purple"], linewidth=2, linestyle=":",
               label="Kaplan : $N_{opt} \\propto C^{0,73}$\n(plutôt des paramètres)")
    right.plot(np.array(xs) * 0.6 + 0.6, 0.5 * (np.array(xs) * 0.6 + 0.6) + 1.0, "o", color=COLORS["red"])
    right.set(xlabel="budget de calcul $C$ (échelle log)", ylabel="$N$ optimal (échelle log)",
              xticks=[], yticks=[], title="La frontière : où placer le budget")
    right.legend(loc="upper left", fontsize=10.5, frameon=False)
    for ax in (left, right):
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    save(fig, "ch13_isoflop")


def attention_masks() -> None:
    """Three T × T masks (query rows, key columns): full causal, sliding window, strided sparse."""
    T, window, stride = 16, 4, 4
    i, j = np.indices((T, T))
    causal = j <= i
    masks = [
        (causal, "attention complète\n(causale)", "$T^2/2$ scores : $O(T^2)$"),
        (causal & (i - j < window), f"fenêtre glissante\n($w = {window}$)", "$T \\cdot w$ scores : $O(T\\,w)$"),
        (causal & ((i - j < stride) | (j % stride == stride - 1)),
         f"creuse à pas fixe\n(pas de {stride})", "O(T √T) avec un pas ≈ √T"),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(6.9, 3.8))
    for ax, (mask, title, cost) in zip(axes, masks, strict=True):
        image = np.where(mask, 1.0, 0.0)
        ax.imshow(image, cmap=plt.matplotlib.colors.ListedColormap(["#F4F4F4", COLORS["blue"]]),
                  vmin=0, vmax=1)
        ax.set_xticks(np.arange(-0.5, T, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, T, 1), minor=True)
        ax.grid(which="minor", color="white", linewidth=0.8)
        ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
        ax.set_title(title, fontsize=10.5)
        ax.set_xlabel(f"clés (tokens lus)\n{cost}\n{int(mask.sum())} cases ici", fontsize=10)
        ax.set_ylabel("requêtes (positions)", fontsize=10)
    fig.tight_layout()
    save(fig, "ch13_attention_masks")


if __name__ == "__main__":
    isoflop()
    attention_masks()
