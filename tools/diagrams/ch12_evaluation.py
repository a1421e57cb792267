"""Diagrams of chapter 12 (évaluation): the families of measures, the confusion matrix with
precision and recall, and the computation of BLEU.

Run ``python tools/diagrams/ch12_evaluation.py``; writes ``figures/ch12_taxonomie.svg``,
``figures/ch12_confusion.svg`` and ``figures/ch12_bleu.svg``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _draw import COLORS, arrow, box, canvas, label, save  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402


def taxonomy() -> None:
    """The families of measures, from the cheapest (top) to the closest to use (bottom), and
    the benchmarks that package them; drawn on a canvas as wide as the text column."""
    fig, ax = canvas(6.9, 6.7)
    box(ax, 3.45, 6.35, 4.4, 0.55, "évaluer un modèle de langage", color=COLORS["op"], fontsize=11)
    families = [
        ("intrinsèque\n(le texte seul)", COLORS["input"], "perplexité\nbits par caractère"),
        ("contre une réponse\nde référence", COLORS["hidden"],
         "exactitude, précision, rappel, F1\ncorrespondance exacte, F1 (QR)"),
        ("contre un texte\nde référence", COLORS["output"],
         "BLEU (précision), ROUGE (rappel)\nBERTScore (plongements)"),
        ("sans référence", COLORS["attn"],
         "juge humain, LLM juge\n(biais de position, de verbosité…)"),
    ]
    ax.plot([0.12, 0.12], [6.35, 2.0], color=COLORS["edge"], linewidth=1.2)
    ax.plot([0.12, 1.25], [6.35, 6.35], color=COLORS["edge"], linewidth=1.2)
    for i, (title, color, content) in enumerate(families):
        y = 5.3 - i * 1.1
        box(ax, 1.45, y, 2.3, 0.85, title, color=color, fontsize=10)
        box(ax, 4.85, y, 3.8, 0.85, content, color="white", fontsize=10)
        arrow(ax, (0.12, y), (0.3, y))
        arrow(ax, (2.6, y), (2.95, y))
    box(ax, 3.45, 0.55, 6.7, 0.8, "", color="#F2F2F2")
    label(ax, 3.45, 0.55, "bancs d'évaluation : une tâche + un jeu de test + une mesure\n"
          "(MMLU, HellaSwag, HELM…) ; attention à la contamination", fontsize=10)
    arrow(ax, (3.45, 1.5), (3.45, 0.97), color=COLORS["grey"])
    label(ax, 6.85, 6.35, "↑ moins cher,\nplus indirect", fontsize=10, ha="right",
          color=COLORS["blue"])
    label(ax, 6.85, 1.3, "↓ plus proche de l'usage, plus coûteux", fontsize=10, ha="right",
          color=COLORS["red"])
    save(fig, "ch12_taxonomie")


def confusion() -> None:
    """The 2 × 2 confusion matrix; precision reads down a column, recall along a row."""
    fig, ax = canvas(6.9, 4.1)
    x0, y0, s = 1.45, 0.3, 1.3  # lower-left corner of the matrix, size of a cell
    cells = [  # (column, row from the top, text, colour)
        (0, 0, "VP\nvrai positif", COLORS["output"]), (1, 0, "FN\nfaux négatif", COLORS["attn"]),
        (0, 1, "FP\nfaux positif", COLORS["attn"]), (1, 1, "VN\nvrai négatif", COLORS["output"]),
    ]
    for col, row, text, color in cells:
        ax.add_patch(Rectangle((x0 + col * s, y0 + (1 - row) * s), s, s, facecolor=color,
                               edgecolor=COLORS["edge"], linewidth=1.2))
        label(ax, x0 + (col + 0.5) * s, y0 + (1.5 - row) * s, text, fontsize=10)
    label(ax, x0 + s, y0 + 2 * s + 0.6, "classe prédite", fontsize=11, fontweight="bold")
    label(ax, x0 + 0.5 * s, y0 + 2 * s + 0.22, "positif", fontsize=10)
    label(ax, x0 + 1.5 * s, y0 + 2 * s + 0.22, "négatif", fontsize=10)
    label(ax, 0.32, y0 + s, "vraie\nclasse", fontsize=11, fontweight="bold")
    label(ax, x0 - 0.4, y0 + 1.5 * s, "positif", fontsize=10)
    label(ax, x0 - 0.4, y0 + 0.5 * s, "négatif", fontsize=10)
    # precision: the "predicted positive" column; recall: the "truly positive" row
    ax.add_patch(Rectangle((x0 + 0.05, y0 + 0.05), s - 0.1, 2 * s - 0.1, fill=False,
                           edgecolor=COLORS["blue"], linewidth=2.2, linestyle="--"))
    ax.add_patch(Rectangle((x0 + 0.1, y0 + s + 0.1), 2 * s - 0.2, s - 0.2, fill=False,
                           edgecolor=COLORS["red"], linewidth=2.2, linestyle=":"))
    x_text = x0 + 2 * s + 0.3
    label(ax, x_text, 2.75, r"rappel $R = \frac{\mathrm{VP}}{\mathrm{VP} + \mathrm{FN}}$",
          fontsize=11, ha="left", color=COLORS["red"])
    label(ax, x_text, 2.3, "(la ligne des vrais positifs)", fontsize=10, ha="left",
          color=COLORS["red"])
    label(ax, x_text, 1.55, r"précision $P = \frac{\mathrm{VP}}{\mathrm{VP} + \mathrm{FP}}$",
          fontsize=11, ha="left", color=COLORS["blue"])
    label(ax, x_text, 1.1, "(la colonne « prédit positif »)", fontsize=10, ha="left",
          color=COLORS["blue"])
    label(ax, x_text, 0.45, r"$F_1 = \frac{2PR}{P + R}$", fontsize=11, ha="left")
    save(fig, "ch12_confusion")


def bleu() -> None:
    """BLEU from top to bottom: tokens, clipped n-gram precisions, geometric mean, brevity
    penalty, their product."""
    fig, ax = canvas(6.9, 7.1)
    box(ax, 3.3, 6.35, 6.3, 0.85, "hypothèse : « le chat est assis sur le tapis »\n"
        "référence(s) : « le chat est assis sur le tapis rouge »", fontsize=10)
    box(ax, 3.0, 5.25, 4.4, 0.5, "découpage en tokens (« 13a » de sacrebleu)",
        color=COLORS["op"], fontsize=10)
    arrow(ax, (3.0, 5.92), (3.0, 5.5))
    for i, n in enumerate(range(1, 5)):
        x = 0.85 + i * 1.55
        box(ax, x, 4.0, 1.4, 0.8, f"$p_{n}$ : {n}-grammes\nécrêtés / total",
            color=COLORS["hidden"], fontsize=10)
        arrow(ax, (3.0, 5.0), (x, 4.4), color=COLORS["grey"])
        arrow(ax, (x, 3.6), (1.9, 2.7), color=COLORS["grey"])
    box(ax, 1.9, 2.2, 3.0, 0.95, "moyenne géométrique\n"
        r"$\exp\left(\sum_n \frac{1}{4} \log p_n\right)$", color=COLORS["output"], fontsize=10)
    box(ax, 5.2, 2.2, 3.0, 0.95, "pénalité de brièveté\n"
        r"$\mathrm{BP} = \min(1, e^{1 - r/c})$", color=COLORS["attn"], fontsize=10)
    arrow(ax, (6.6, 5.92), (6.6, 2.7), color=COLORS["grey"])
    label(ax, 6.5, 3.3, "c, r", fontsize=10, ha="right", color=COLORS["grey"])
    box(ax, 3.55, 0.95, 3.6, 0.55, "BLEU = BP × moyenne géométrique", color=COLORS["op"],
        fontsize=10)
    arrow(ax, (1.9, 1.72), (2.6, 1.23))
    arrow(ax, (5.2, 1.72), (4.5, 1.23))
    label(ax, 3.45, 0.2, "écrêtage : un n-gramme compte au plus autant de fois que dans\n"
          "la référence la plus généreuse ; c, r : longueurs de l'hypothèse et de la référence",
          fontsize=10, color=COLORS["blue"])
    save(fig, "ch12_bleu")


if __name__ == "__main__":
    taxonomy()
    confusion()
    bleu()
