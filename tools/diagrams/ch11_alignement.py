"""Chapter 11 diagrams: the three stages of RLHF, and RLHF beside DPO.

Run ``python tools/diagrams/ch11_alignement.py``; writes ``figures/ch11_rlhf_pipeline.svg`` and
``figures/ch11_dpo_vs_rlhf.svg``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _draw import COLORS, arrow, box, canvas, label, save  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402


def stage(ax, x: float, title: str, steps: list[tuple[str, str]], middle: str = "") -> None:
    """One column of the pipeline: a dashed frame, its title and three boxes top to bottom."""
    ax.add_patch(FancyBboxPatch((x - 2.05, 0.2), 4.1, 5.2,
                                boxstyle="round,pad=0.02,rounding_size=0.12", facecolor="none",
                                edgecolor=COLORS["grey"], linewidth=1.0, linestyle="--"))
    label(ax, x, 5.7, title, fontsize=12, fontweight="bold")
    for y, (text, color) in zip((4.6, 3.0, 1.3), steps, strict=True):
        box(ax, x, y, 3.4, 0.85, text, color=COLORS[color], fontsize=10)
    arrow(ax, (x, 4.18), (x, 3.47))
    arrow(ax, (x, 2.53), (x, 1.77), text=middle, fontsize=9)


def rlhf_pipeline() -> None:
    """SFT on demonstrations → reward model on comparisons → PPO against the reward model."""
    fig, ax = canvas(13.6, 6.0)
    columns = (2.1, 6.6, 11.1)
    stage(ax, columns[0], "Étape 1 : affinage supervisé", [
        ("un prompt $x$ et une réponse\nécrite par un annotateur", "input"),
        ("affinage du modèle pré-entraîné\n$-\\sum_t \\log f_\\theta(y_t \\mid x, y_{<t})$", "op"),
        ("modèle SFT\n= politique de référence $f_{\\mathrm{ref}}$", "output")])
    stage(ax, columns[1], "Étape 2 : modèle de récompense", [
        ("le modèle SFT génère $K$ réponses\n$y_1, \\ldots, y_K$ à un prompt $x$", "input"),
        ("un annotateur les classe :\n$y_2 \\succ y_1 \\succ y_4 \\succ y_3$", "hidden"),
        ("modèle de récompense $r_\\phi(x, y)$\nperte $-\\log \\sigma(r^+ - r^-)$", "output")],
        middle="$K(K-1)/2$ paires")
    stage(ax, columns[2], "Étape 3 : optimisation par PPO", [
        ("la politique $f_\\theta$ (initialisée à $f_{\\mathrm{ref}}$)\ngénère $y$ pour un prompt $x$",
         "input"),
        ("récompense $r_\\phi(x, y)$\n$-\\ \\beta\\,(\\log f_\\theta(y \\mid x) - \\log f_{\\mathrm{ref}}(y \\mid x))$",
         "hidden"),
        ("pas de PPO : objectif écrêté\nmin(ρ Â, clip(ρ, 1 ± ε) Â)", "op")])
    x = columns[2]
    arrow(ax, (x + 1.72, 1.3), (x + 1.72, 4.6), rad=0.15, color=COLORS["blue"])
    label(ax, x + 2.45, 2.95, "boucle", fontsize=9, color=COLORS["blue"], rotation=90)
    # links between stages
    arrow(ax, (columns[0] + 1.72, 1.3), (columns[1] - 1.72, 4.6), color=COLORS["red"])
    arrow(ax, (columns[1] + 1.72, 1.3), (columns[2] - 1.72, 3.0), color=COLORS["red"])
    save(fig, "ch11_rlhf_pipeline")


def dpo_vs_rlhf() -> None:
    """Top: RLHF (reward model, sampling loop, PPO, four models). Bottom: DPO (one loss)."""
    fig, ax = canvas(12.4, 6.2)
    # RLHF row
    top = 4.6
    label(ax, 0.2, 5.85, "RLHF", fontsize=13, fontweight="bold", ha="left")
    box(ax, 1.4, top, 2.2, 1.0, "paires de\npréférences\n$(x, y^+, y^-)$", color=COLORS["input"],
        fontsize=10)
    box(ax, 4.3, top, 2.4, 1.0, "modèle de\nrécompense $r_\\phi$\n(Bradley–Terry)", color=COLORS["hidden"],
        fontsize=10)
    box(ax, 7.3, top, 2.4, 1.0, "la politique $f_\\theta$\ngénère $y$,\n$r_\\phi$ la note", color=COLORS["attn"],
        fontsize=10)
    box(ax, 10.5, top, 2.6, 1.0, "PPO :\n$r_\\phi - \\beta\\,\\mathrm{KL}(f_\\theta \\| f_{\\mathrm{ref}})$",
        color=COLORS["op"], fontsize=10)
    arrow(ax, (2.52, top), (3.08, top))
    arrow(ax, (5.52, top), (6.08, top))
    arrow(ax, (8.52, top), (9.18, top))
    arrow(ax, (10.5, top - 0.52), (7.3, top - 0.52), rad=-0.35, color=COLORS["blue"])
    label(ax, 8.9, top - 1.25, "boucle : générer, noter, mettre à jour", fontsize=9,
          color=COLORS["blue"])
    label(ax, 6.2, 3.05, "4 modèles en mémoire (politique, référence, récompense, valeur) ;"
          " génération à chaque itération", fontsize=10, color=COLORS["grey"])
    ax.plot([0.2, 12.2], [2.7, 2.7], color=COLORS["grey"], linewidth=0.8, linestyle=":")
    # DPO row
    bottom = 1.35
    label(ax, 0.2, 2.35, "DPO", fontsize=13, fontweight="bold", ha="left")
    box(ax, 1.4, bottom, 2.2, 1.0, "paires de\npréférences\n$(x, y^+, y^-)$", color=COLORS["input"],
        fontsize=10)
    box(ax, 4.6, bottom, 3.0, 1.0, "$\\log f_\\theta(y^\\pm \\mid x)$ et\n$\\log f_{\\mathrm{ref}}(y^\\pm \\mid x)$ (gelée)",
        color=COLORS["attn"], fontsize=10)
    box(ax, 9.2, bottom, 5.0, 1.0,
        "$-\\log \\sigma\\left(\\beta \\log \\frac{f_\\theta(y^+)}{f_{\\mathrm{ref}}(y^+)}"
        " - \\beta \\log \\frac{f_\\theta(y^-)}{f_{\\mathrm{ref}}(y^-)}\\right)$",
        color=COLORS["output"], fontsize=11)
    arrow(ax, (2.52, bottom), (3.08, bottom))
    arrow(ax, (6.12, bottom), (6.68, bottom))
    label(ax, 6.2, 0.35, "2 modèles ; un entraînement supervisé, sans génération ;"
          " récompense implicite $\\beta \\log (f_\\theta / f_{\\mathrm{ref}})$", fontsize=10,
          color=COLORS["grey"])
    save(fig, "ch11_dpo_vs_rlhf")


if __name__ == "__main__":
    rlhf_pipeline()
    dpo_vs_rlhf()
