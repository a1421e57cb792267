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
    """A tree: evaluating a language model, four families of measures, and benchmarks."""
    fig, ax = canvas(11.0, 5.4)
    box(ax, 5.5, 4.9, 3.6, 0.6, "évaluer un modèle de langage", color=COLORS["op"], fontsize=12)
    families = [
        (1.45, "intrinsèque\n(le texte seul)", COLORS["input"],
         "perplexité\nbits par caractère"),
        (4.05, "contre une réponse\nde référence", COLORS["hidden"],
         "exactitude, précision,\nrappel, F1\nexact match, F1 (QR)"),
        (6.8, "contre un texte\nde référence", COLORS["output"],
         "BLEU (précision)\nROUGE (rappel)\nBERTScore (plongements)"),
        (9.5, "sans référence", COLORS["attn"], "juge humain\nLLM juge\n(biais de position,\nde verbosité…)"),
    ]
    for x, title, color, content in families:
        box(ax, x, 3.55, 2.45, 0.85, title, color=color, fontsize=11)
        box(ax, x, 2.05, 2.45, 1.45, content, color="white", fontsize=10)
        arrow(ax, (5.5, 4.58), (x, 4.0))
        arrow(ax, (x, 3.12), (x, 2.8))
    box(ax, 5.5, 0.55, 10.4, 0.7, "", color="#F2F2F2")
    label(ax, 5.5, 0.55, "bancs d'évaluation : une tâche + un jeu de test + une mesure "
          "(MMLU, HellaSwag, HELM…) ; attention à la contamination", fontsize=10.5)
    for x, _, _, _ in families:
        arrow(ax, (x, 1.3), (x, 0.92), color=COLORS["grey"])
    label(ax, 0.25, 4.9, "moins cher,\nplus indirect", fontsize=9, ha="left",
          color=COLORS["blue"])
    label(ax, 10.9, 4.9, "plus proche de l'usage,\nplus coûteux ou discutable", fontsize=9,
          ha="right", color=COLORS["red"])
    save(fig, "ch12_taxonomie")


def confusion() -> None:
    """The 2 × 2 confusion matrix; precision reads down a column, recall along a row."""
    fig, ax = canvas(8.6, 5.2)
    x0, y0, s = 2.3, 0.6, 1.7  # lower-left corner of the matrix, size of a cell
    cells = [  # (column, row from the top, text, colour)
        (0, 0, "VP\nvrai positif", COLORS["output"]), (1, 0, "FN\nfaux négatif", COLORS["attn"]),
        (0, 1, "FP\nfaux positif", COLORS["attn"]), (1, 1, "VN\nvrai négatif", COLORS["output"]),
    ]
    for col, row, text, color in cells:
        ax.add_patch(Rectangle((x0 + col * s, y0 + (1 - row) * s), s, s, facecolor=color,
                               edgecolor=COLORS["edge"], linewidth=1.2))
        label(ax, x0 + (col + 0.5) * s, y0 + (1.5 - row) * s, text, fontsize=11)
    label(ax, x0 + s, y0 + 2 * s + 0.75, "classe prédite", fontsize=11, fontweight="bold")
    label(ax, x0 + 0.5 * s, y0 + 2 * s + 0.3, "positif", fontsize=10)
    label(ax, x0 + 1.5 * s, y0 + 2 * s + 0.3, "négatif", fontsize=10)
    label(ax, x0 - 1.55, y0 + s, "vraie\nclasse", fontsize=11, fontweight="bold")
    label(ax, x0 - 0.45, y0 + 1.5 * s, "positif", fontsize=10)
    label(ax, x0 - 0.45, y0 + 0.5 * s, "négatif", fontsize=10)
    # precision: the "predicted positive" column; recall: the "truly positive" row
    ax.add_patch(Rectangle((x0 + 0.06, y0 + 0.06), s - 0.12, 2 * s - 0.12, fill=False,
                           edgecolor=COLORS["blue"], linewidth=2.2, linestyle="--"))
    ax.add_patch(Rectangle((x0 + 0.12, y0 + s + 0.12), 2 * s - 0.24, s - 0.24, fill=False,
                           edgecolor=COLORS["red"], linewidth=2.2, linestyle=":"))
    label(ax, 6.15, 3.95, r"rappel $R = \frac{\mathrm{VP}}{\mathrm{VP} + \mathrm{FN}}$",
          fontsize=12, ha="left", color=COLORS["red"])
    label(ax, 6.15, 3.35, "(la ligne des vrais positifs)", fontsize=9.5, ha="left",
          color=COLORS["red"])
    label(ax, 6.15, 2.2, r"précision $P = \frac{\mathrm{VP}}{\mathrm{VP} + \mathrm{FP}}$",
          fontsize=12, ha="left", color=COLORS["blue"])
    label(ax, 6.15, 1.6, "(la colonne « prédit positif »)", fontsize=9.5, ha="left",
          color=COLORS["blue"])
    label(ax, 6.15, 0.75, r"$F_1 = \frac{2PR}{P + R}$", fontsize=12, ha="left")
    save(fig, "ch12_confusion")


def bleu() -> None:
    """BLEU: tokens, clipped n-gram precisions, geometric mean, brevity penalty."""
    fig, ax = canvas(11.0, 5.0)
    box(ax, 1.6, 3.9, 3.0, 1.1, "hypothèse :\n« le chat est assis sur le tapis »\n\n"
        "référence(s) :\n« le chat est assis sur le tapis rouge »", fontsize=9.5)
    box(ax, 1.6, 1.85, 3.0, 0.75, "découpage en tokens\n(« 13a » de sacrebleu)",
        color=COLORS["op"], fontsize=10)
    arrow(ax, (1.6, 3.33), (1.6, 2.23))
    for i, n in enumerate(range(1, 5)):
        y = 4.35 - i * 0.85
        box(ax, 5.0, y, 2.9, 0.6, rf"$p_{n}$ : {n}-grammes écrêtés / total",
            color=COLORS["hidden"], fontsize=10)
        arrow(ax, (3.1, 1.85), (3.55, y), color=COLORS["grey"])
        arrow(ax, (6.45, y), (7.05, 3.1), color=COLORS["grey"])
    label(ax, 5.0, 0.75, "écrêtage : un n-gramme compte au plus autant\nde fois que dans "
          "la référence la plus généreuse", fontsize=9, color=COLORS["blue"])
    box(ax, 8.2, 3.1, 2.2, 0.85, "moyenne géométrique\n" r"$\exp\left(\sum_n \frac{1}{4} \log p_n\right)$",
        color=COLORS["output"], fontsize=10)
    box(ax, 8.2, 1.4, 2.2, 0.85, "pénalité de brièveté\n" r"$\mathrm{BP} = \min(1, e^{1 - r/c})$",
        color=COLORS["attn"], fontsize=10)
    label(ax, 8.2, 0.6, "c : longueur de l'hypothèse\nr : longueur de la référence", fontsize=9)
    arrow(ax, (3.1, 1.7), (7.1, 1.4), color=COLORS["grey"])
    box(ax, 10.35, 2.25, 1.1, 0.8, "BLEU =\nBP × moy.", color=COLORS["op"], fontsize=10)
    arrow(ax, (9.3, 3.0), (9.8, 2.5))
    arrow(ax, (9.3, 1.5), (9.8, 2.0))
    save(fig, "ch12_bleu")


if __name__ == "__main__":
    taxonomy()
    confusion()
    bleu()
