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
    """Four nested rounded boxes, the name of each field at its top-left, examples at the right."""
    fig, ax = canvas(10.4, 5.6)
    layers = [
        # (x0, y0, width, height, colour, name, examples)
        (0.2, 0.2, 10.0, 5.2, COLORS["input"], "Intelligence artificielle (IA)",
         "systèmes experts, recherche dans un arbre de jeu, planification"),
        (0.9, 0.45, 8.6, 4.15, COLORS["hidden"], "Apprentissage automatique",
         "k-moyennes, régression, arbres de décision, bandits"),
        (1.6, 0.7, 7.2, 3.1, COLORS["output"], "Apprentissage profond",
         "réseaux de neurones à plusieurs couches : MLP, RNN, LSTM"),
        (2.3, 0.95, 5.8, 2.05, COLORS["attn"], "Grands modèles de langage (LLM)",
         "Transformers pré-entraînés à prédire le token suivant :\nGPT, BERT, T5, SmolLM2"),
    ]
    for x0, y0, w, h, color, name, examples in layers:
        box(ax, x0 + w / 2, y0 + h / 2, w, h, "", color)
        label(ax, x0 + 0.2, y0 + h - 0.25, name, fontsize=12, ha="left", fontweight="bold")
        label(ax, x0 + 0.2, y0 + h - 0.48, examples, fontsize=9, ha="left", va="top",
              color=NOTE)
    return save(fig, "ch01_ia_ml_dl_llm")


if __name__ == "__main__":
    print(ia_ml_dl_llm())
