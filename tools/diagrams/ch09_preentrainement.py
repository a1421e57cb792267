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
    """Raw text → cleaning → tokens → windows (x, y shifted by one) → GPT → loss → Adam, drawn
    as a snake on three rows, 6.7 in wide, so that the page shows it at its own size (text of
    10 pt or more)."""
    fig, ax = canvas(6.7, 5.0)
    xs, w, h = (1.0, 3.35, 5.7), 1.9, 1.05
    r1, r2, r3 = 4.35, 2.55, 0.7
    # row 1, left to right: the data pipeline
    for x, text, color in zip(xs, [
        "Textes bruts\n(web, livres,\ncode, Wikipédia)",
        "Nettoyage\nfiltres de qualité\ndéduplication",
        "Tokenisation\n(BPE, ou ici\nles caractères)",
    ], [COLORS["input"], COLORS["op"], COLORS["op"]], strict=True):
        box(ax, x, r1, w, h, text, color=color, fontsize=10)
    for x0, x1 in zip(xs, xs[1:], strict=False):
        arrow(ax, (x0 + w / 2 + 0.02, r1), (x1 - w / 2 - 0.02, r1))
    # row 2, right to left: batches, the shifted pair, the model
    box(ax, xs[2], r2, w, h, "Fenêtres de T + 1\ntokens mélangées\nen lots", color=COLORS["hidden"],
        fontsize=10)
    arrow(ax, (xs[2], r1 - h / 2), (xs[2], r2 + h / 2))
    label(ax, xs[1], r2 + 0.3, r"$x = x_1 \ldots x_T$", fontsize=11)
    label(ax, xs[1], r2 - 0.05, r"$y = x_2 \ldots x_{T+1}$", fontsize=11)
    label(ax, xs[1], r2 - 0.42, "cible = entrée décalée d'un cran", fontsize=10, color=COLORS["grey"])
    arrow(ax, (xs[2] - w / 2 - 0.02, r2), (xs[1] + 0.95, r2))
    box(ax, xs[0], r2, w, h, "GPT\n(masque causal)\nlogits (B, T, |V|)", color=COLORS["attn"],
        fontsize=10)
    arrow(ax, (xs[1] - 0.95, r2), (xs[0] + w / 2 + 0.02, r2))
    # row 3, left to right: the loss, then the optimiser step
    box(ax, 1.45, r3, 2.8, h,
        "perte : moyenne sur le lot des\n$-\\log P_\\theta(x_{t+1} \\mid x_{\\leq t})$\n(entropie croisée)",
        color=COLORS["output"], fontsize=11)
    arrow(ax, (xs[0], r2 - h / 2), (xs[0], r3 + h / 2))
    label(ax, xs[0] + 0.42, (r2 + r3) / 2, "softmax", fontsize=10)
    box(ax, 5.05, r3, 3.1, h, "gradient (rétropropagation),\nécrêtage, pas d'Adam(W)\navec le planning $\\eta_t$",
        color=COLORS["op"], fontsize=11)
    arrow(ax, (2.87, r3), (3.48, r3))
    # the loop: the next batch, and the updated parameters back into the model
    arrow(ax, (xs[2], r3 + h / 2), (xs[2], r2 - h / 2), color=COLORS["blue"])
    label(ax, xs[2] + 0.15, (r2 + r3) / 2, "lot suivant", fontsize=10, color=COLORS["blue"], ha="left")
    arrow(ax, (3.9, r3 + h / 2), (1.8, r2 - h / 2), color=COLORS["blue"])
    label(ax, 3.2, (r2 + r3) / 2 + 0.15, "θ mis à jour", fontsize=10, color=COLORS["blue"],
          backgroundcolor="white")
    save(fig, "ch09_pipeline")


def adam() -> None:
    """g_t → (m_t, v_t) → bias correction (m̂_t, v̂_t) → θ_t, top to bottom, 6.7 in wide."""
    fig, ax = canvas(6.7, 5.6)
    left, right, mid = 1.75, 4.95, 3.35
    y_g, y_mv, y_hat, y_theta = 5.05, 3.75, 2.4, 0.95
    box(ax, mid, y_g, 3.6, 0.7, "gradient  $g_t = \\nabla_\\theta L_t(\\theta_{t-1})$",
        color=COLORS["input"], fontsize=11)
    box(ax, left, y_mv, 3.05, 0.85, "$m_t = \\beta_1 m_{t-1} + (1 - \\beta_1)\\, g_t$\nmoyenne (inertie)",
        color=COLORS["hidden"], fontsize=11)
    box(ax, right, y_mv, 3.05, 0.85, "$v_t = \\beta_2 v_{t-1} + (1 - \\beta_2)\\, g_t^2$\nmoyenne des carrés",
        color=COLORS["hidden"], fontsize=11)
    arrow(ax, (mid - 0.6, y_g - 0.37), (left + 0.3, y_mv + 0.45))
    arrow(ax, (mid + 0.6, y_g - 0.37), (right - 0.3, y_mv + 0.45))
    box(ax, left, y_hat, 2.0, 0.7, "$\\hat m_t = m_t \\,/\\, (1 - \\beta_1^t)$", color=COLORS["op"], fontsize=11)
    box(ax, right, y_hat, 2.0, 0.7, "$\\hat v_t = v_t \\,/\\, (1 - \\beta_2^t)$", color=COLORS["op"], fontsize=11)
    arrow(ax, (left, y_mv - 0.45), (left, y_hat + 0.37))
    arrow(ax, (right, y_mv - 0.45), (right, y_hat + 0.37))
    label(ax, mid, y_hat, "correction\ndu biais\n($m_0 = v_0 = 0$)", fontsize=10, color=COLORS["grey"])
    box(ax, mid, y_theta, 3.6, 0.8,
        "$\\theta_t = \\theta_{t-1} - \\eta\\, \\hat m_t \\,/\\, (√\\hat v_t + \\epsilon)$",
        color=COLORS["output"], fontsize=12)
    arrow(ax, (left + 0.3, y_hat - 0.37), (mid - 0.9, y_theta + 0.42))
    arrow(ax, (right - 0.3, y_hat - 0.37), (mid + 0.9, y_theta + 0.42))
    label(ax, mid, 0.2, "m et v sont gardés pour le pas t + 1 : deux tenseurs de plus par paramètre",
          fontsize=10, color=COLORS["grey"])
    save(fig, "ch09_adam")


if __name__ == "__main__":
    pipeline()
    adam()
