"""Chapter 9 diagrams: the pre-training pipeline and one step of Adam.

Run ``python tools/diagrams/ch09_preentrainement.py``; writes ``figures/ch09_pipeline.svg`` and
``figures/ch09_adam.svg``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _draw import COLORS, arrow, box, canvas, label, save  # noqa: E402


def pipeline() -> None:
    """Raw text → cleaning → tokens → windows (x, y shifted by one) → GPT → loss → Adam."""
    fig, ax = canvas(12.6, 4.6)
    top = 3.55
    steps = [
        (1.2, "Textes bruts\n(web, livres,\ncode, Wikipédia)", COLORS["input"]),
        (3.65, "Nettoyage\nfiltres de qualité\ndéduplication", COLORS["op"]),
        (6.1, "Tokenisation\n(BPE, ou ici\nles caractères)", COLORS["op"]),
        (8.65, "Fenêtres de T + 1\ntokens mélangées\nen lots", COLORS["hidden"]),
    ]
    for x, text, color in steps:
        box(ax, x, top, 2.0, 1.25, text, color=color, fontsize=10)
    for (x0, *_), (x1, *_) in zip(steps, steps[1:], strict=False):
        arrow(ax, (x0 + 1.02, top), (x1 - 1.02, top))
    # the shifted pair
    label(ax, 11.35, top + 0.35, r"$x = x_1 \ldots x_T$", fontsize=12)
    label(ax, 11.35, top - 0.3, r"$y = x_2 \ldots x_{T+1}$", fontsize=12)
    arrow(ax, (9.67, top), (10.3, top))
    label(ax, 11.35, top - 0.8, "cible = entrée décalée d'un cran", fontsize=9, color=COLORS["grey"])

    bottom = 1.15
    box(ax, 11.0, bottom, 2.2, 1.1, "GPT (masque causal)\nlogits (B, T, |V|)", color=COLORS["attn"],
        fontsize=10)
    arrow(ax, (11.35, top - 1.0), (11.1, bottom + 0.6))
    box(ax, 7.3, bottom, 3.6, 1.1,
        "perte $= -\\frac{1}{BT}\\sum\\ \\log P_\\theta(x_{t+1} \\mid x_{\\leq t})$\n(entropie croisée)",
        color=COLORS["output"], fontsize=10)
    arrow(ax, (9.88, bottom), (9.12, bottom))
    label(ax, 9.5, bottom + 0.25, "softmax", fontsize=9)
    box(ax, 3.3, bottom, 3.3, 1.1, "gradient (rétropropagation),\nécrêtage, pas d'Adam(W)\navec le planning $\\eta_t$",
        color=COLORS["op"], fontsize=10)
    arrow(ax, (5.48, bottom), (4.97, bottom))
    arrow(ax, (3.3, bottom + 0.57), (8.0, top - 0.65), rad=-0.15, color=COLORS["blue"])
    label(ax, 4.3, 2.5, "lot suivant", fontsize=9, color=COLORS["blue"])
    arrow(ax, (3.3, bottom - 0.57), (11.0, bottom - 0.57), rad=0.12, color=COLORS["blue"])
    label(ax, 7.3, 0.0, "paramètres θ mis à jour", fontsize=9, color=COLORS["blue"])
    save(fig, "ch09_pipeline")


def adam() -> None:
    """g_t → (m_t, v_t) → bias correction (m̂_t, v̂_t) → θ_t."""
    fig, ax = canvas(11.6, 4.0)
    y_m, y_v, mid = 2.95, 0.95, 1.95
    box(ax, 1.1, mid, 1.9, 1.0, "gradient\n$g_t = \\nabla_\\theta L_t(\\theta_{t-1})$",
        color=COLORS["input"], fontsize=10)
    box(ax, 4.1, y_m, 3.0, 1.0, "$m_t = \\beta_1 m_{t-1} + (1 - \\beta_1)\\, g_t$\nmoyenne (inertie)",
        color=COLORS["hidden"], fontsize=10)
    box(ax, 4.1, y_v, 3.0, 1.0, "$v_t = \\beta_2 v_{t-1} + (1 - \\beta_2)\\, g_t^2$\nmoyenne des carrés",
        color=COLORS["hidden"], fontsize=10)
    arrow(ax, (2.07, mid + 0.2), (2.58, y_m))
    arrow(ax, (2.07, mid - 0.2), (2.58, y_v))
    box(ax, 7.2, y_m, 2.2, 0.9, "$\\hat m_t = m_t \\,/\\, (1 - \\beta_1^t)$", color=COLORS["op"], fontsize=10)
    box(ax, 7.2, y_v, 2.2, 0.9, "$\\hat v_t = v_t \\,/\\, (1 - \\beta_2^t)$", color=COLORS["op"], fontsize=10)
    arrow(ax, (5.62, y_m), (6.08, y_m))
    arrow(ax, (5.62, y_v), (6.08, y_v))
    label(ax, 7.2, mid, "correction du biais\n($m_0 = v_0 = 0$)", fontsize=9, color=COLORS["grey"])
    box(ax, 10.2, mid, 2.5, 1.2, "$\\theta_t = \\theta_{t-1} - \\eta\\, \\frac{\\hat m_t}{\\sqrt{\\hat v_t} + \\epsilon}$",
        color=COLORS["output"], fontsize=11)
    arrow(ax, (8.32, y_m), (8.93, mid + 0.35))
    arrow(ax, (8.32, y_v), (8.93, mid - 0.35))
    label(ax, 4.1, y_m + 0.75, "gardés en mémoire pour le pas t + 1 (deux tenseurs par paramètre)",
          fontsize=9, color=COLORS["grey"])
    save(fig, "ch09_adam")


if __name__ == "__main__":
    pipeline()
    adam()
