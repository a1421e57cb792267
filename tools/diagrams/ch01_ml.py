"""Diagram of chapter 1 (machine-learning basics), written to ``figures/ch01_*.svg``.

- ``ch01_ia_ml_dl_llm``: artificial intelligence ⊃ machine learning ⊃ deep learning ⊃ LLM,
  as nested boxes, each with a few examples.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _draw import COLORS, box, canvas, label, save  # noqa: E402

NOTE = "#555555"


def ia_ml_dl_llm() -> Path:
    """Four nested rounded boxes, the name of each field at its top-left, examples below it."""
    layers = [
        # (colour, name, examples)
        (COLORS["input"], "Intelligence artificielle (IA)",
         "systèmes experts, recherche dans un arbre de jeu, planification"),
        (COLORS["hidden"], "Apprentissage automatique",
         "k-moyennes, régression, arbres de décision, bandits"),
        (COLORS["output"], "Apprentissage profond",
         "réseaux de neurones à plusieurs couches : MLP, RNN, LSTM"),
        (COLORS["attn"], "Grands modèles de langage (LLM)",
         "Transformers pré-entraînés à prédire le token suivant :\nGPT, BERT, T5, SmolLM2"),
    ]
    width, step, band, inner = 6.8, 0.3, 0.72, 0.85  # band: room for a name and its examples
    height = band * 3 + inner + 0.15 * 4
    fig, ax = canvas(width, height)
    for level, (color, name, examples) in enumerate(layers):
        x0, y0 = 0.05 + level * step, 0.05 + level * 0.15
        w, h = width - 0.1 - 2 * level * step, height - 0.1 - level * (band + 0.15)
        box(ax, x0 + w / 2, y0 + h / 2, w, h, "", color)
        label(ax, x0 + 0.15, y0 + h - 0.2, name, fontsize=12, ha="left", fontweight="bold")
        label(ax, x0 + 0.15, y0 + h - 0.38, examples, fontsize=10, ha="left", va="top",
              color=NOTE)
    return save(fig, "ch01_ia_ml_dl_llm")


if __name__ == "__main__":
    print(ia_ml_dl_llm())
