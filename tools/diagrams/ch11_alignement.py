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


def elbow(ax, start: tuple[float, float], end: tuple[float, float], y_turn: float,
          color: str) -> None:
    """A right-angled link: down from ``start`` to ``y_turn``, across, then down into ``end``."""
    ax.plot([start[0], start[0], end[0]], [start[1], y_turn, y_turn], color=color, linewidth=1.2)
    arrow(ax, (end[0], y_turn), end, color=color)


def stage(ax, bottom: float, height: float, title: str, steps: list[tuple[str, str]]) -> float:
    """One stage of the pipeline: a dashed frame, its title (top right) and three boxes from
    left to right, joined by arrows; returns the boxes' centre height."""
    ax.add_patch(FancyBboxPatch((0.05, bottom), WIDTH - 0.1, height,
                                boxstyle="round,pad=0.02,rounding_size=0.12", facecolor="none",
                                edgecolor=COLORS["grey"], linewidth=1.0, linestyle="--"))
    label(ax, WIDTH - 0.15, bottom + height - 0.22, title, fontsize=12, fontweight="bold",
          ha="right")
    y = bottom + height - 0.95
    for x, (text, color) in zip(COLUMNS, steps, strict=True):
        box(ax, x, y, BOX_W, 1.0, text, color=COLORS[color], fontsize=10)
    for left, right in zip(COLUMNS, COLUMNS[1:], strict=False):
        arrow(ax, (left + BOX_W / 2 + 0.02, y), (right - BOX_W / 2 - 0.02, y))
    return y


# Every diagram is at most 7 inches wide (504 pt, with the margins): the book's text column
# (672 px) shows it at its own size, so that 10-point text stays 10 points on the page.
WIDTH, BOX_W = 6.8, 2.0
COLUMNS = (1.17, 3.4, 5.63)


def rlhf_pipeline() -> None:
    """SFT on demonstrations → reward model on comparisons → PPO against the reward model,
    one stage per row."""
    fig, ax = canvas(WIDTH, 6.2)
    y1 = stage(ax, 4.55, 1.6, "Étape 1 : affinage supervisé", [
        ("un prompt $x$ et\nune réponse écrite\npar un annotateur", "input"),
        ("affinage du modèle\npré-entraîné\n$-\\sum_t \\log \\pi_\\theta(y_t \\mid x, y_{<t})$", "op"),
        ("modèle SFT =\npolitique de référence\n$\\pi_{\\mathrm{ref}}$", "output")])
    y2 = stage(ax, 2.5, 1.6, "Étape 2 : modèle de récompense", [
        ("le modèle SFT génère\n$K$ réponses $y_1, \\ldots, y_K$\nà un prompt $x$", "input"),
        ("un annotateur les classe :\n$y_2 \\succ y_1 \\succ y_4 \\succ y_3$\n$K(K-1)/2$ paires", "hidden"),
        ("modèle de récompense\n$r_\\phi(x, y)$, perte\n$-\\log \\sigma(r^+ - r^-)$", "output")])
    y3 = stage(ax, 0.05, 2.0, "Étape 3 : optimisation par PPO", [
        ("la politique $\\pi_\\theta$\n(initialisée à $\\pi_{\\mathrm{ref}}$)\ngénère $y$ pour $x$", "input"),
        ("récompense $r_\\phi(x, y)$\n$-\\ \\beta \\log \\dfrac{\\pi_\\theta(y \\mid x)}{\\pi_{\\mathrm{ref}}(y \\mid x)}$", "hidden"),
        ("pas de PPO :\nobjectif écrêté\nmin(ρ Â, clip(ρ, 1 ± ε) Â)", "op")])
    # the PPO loop, under the third row
    arrow(ax, (COLUMNS[2], y3 - 0.52), (COLUMNS[0], y3 - 0.52), rad=-0.05, color=COLORS["blue"])
    label(ax, COLUMNS[1], y3 - 0.88, "boucle : générer, noter, mettre à jour", fontsize=10,
          color=COLORS["blue"])
    # links between stages: the SFT model generates (stage 2), the reward model scores (stage 3)
    elbow(ax, (COLUMNS[2], y1 - 0.52), (COLUMNS[0], y2 + 0.52), 4.3, COLORS["red"])
    elbow(ax, (COLUMNS[2], y2 - 0.52), (COLUMNS[1], y3 + 0.52), 2.25, COLORS["red"])
    save(fig, "ch11_rlhf_pipeline")


def dpo_vs_rlhf() -> None:
    """Top: RLHF (reward model, sampling loop, PPO, four models). Bottom: DPO (one loss)."""
    fig, ax = canvas(WIDTH, 7.0)
    # RLHF: pairs → reward model → the policy samples and r_φ scores → PPO, and back
    label(ax, 0.1, 6.75, "RLHF", fontsize=13, fontweight="bold", ha="left")
    top = 6.0
    box(ax, COLUMNS[0], top, BOX_W, 0.9, "paires de préférences\n$(x, y^+, y^-)$",
        color=COLORS["input"], fontsize=10)
    box(ax, COLUMNS[1], top, BOX_W, 0.9, "modèle de récompense\n$r_\\phi$ (Bradley–Terry)",
        color=COLORS["hidden"], fontsize=10)
    box(ax, COLUMNS[2], top, BOX_W, 0.9, "la politique $\\pi_\\theta$\ngénère $y$,\n$r_\\phi$ la note",
        color=COLORS["attn"], fontsize=10)
    ppo = 4.75
    box(ax, COLUMNS[2], ppo, BOX_W, 0.9,
        "PPO :\n$r_\\phi - \\beta\\,\\mathrm{KL}(\\pi_\\theta \\| \\pi_{\\mathrm{ref}})$",
        color=COLORS["op"], fontsize=10)
    for left, right in zip(COLUMNS, COLUMNS[1:], strict=False):
        arrow(ax, (left + BOX_W / 2 + 0.02, top), (right - BOX_W / 2 - 0.02, top))
    arrow(ax, (COLUMNS[2] - 0.3, top - 0.47), (COLUMNS[2] - 0.3, ppo + 0.47))
    arrow(ax, (COLUMNS[2] + 0.3, ppo + 0.47), (COLUMNS[2] + 0.3, top - 0.47), color=COLORS["blue"])
    label(ax, 3.0, ppo, "boucle : générer, noter,\nmettre à jour la politique", fontsize=10,
          color=COLORS["blue"])
    label(ax, WIDTH / 2, 3.75, "4 modèles en mémoire (politique, référence, récompense,\n"
          "valeur) ; une génération à chaque itération", fontsize=10, color=COLORS["grey"])
    ax.plot([0.1, WIDTH - 0.1], [3.25, 3.25], color=COLORS["grey"], linewidth=0.8, linestyle=":")
    # DPO: pairs → log-probabilities of both answers → one classification loss
    label(ax, 0.1, 3.0, "DPO", fontsize=13, fontweight="bold", ha="left")
    mid = 2.3
    box(ax, COLUMNS[0], mid, BOX_W, 0.9, "paires de préférences\n$(x, y^+, y^-)$",
        color=COLORS["input"], fontsize=10)
    box(ax, 4.5, mid, 4.3, 0.9,
        "$\\log \\pi_\\theta(y^\\pm \\mid x)$ : 2 passes par pas ;\n"
        "$\\log \\pi_{\\mathrm{ref}}(y^\\pm \\mid x)$ (gelée) : 2 passes, une fois",
        color=COLORS["attn"], fontsize=10)
    arrow(ax, (COLUMNS[0] + BOX_W / 2 + 0.02, mid), (2.33, mid))
    bottom = 1.05
    box(ax, WIDTH / 2, bottom, 6.3, 0.85,
        "$-\\log \\sigma(\\beta \\log \\frac{\\pi_\\theta(y^+)}{\\pi_{\\mathrm{ref}}(y^+)}"
        " - \\beta \\log \\frac{\\pi_\\theta(y^-)}{\\pi_{\\mathrm{ref}}(y^-)})$",
        color=COLORS["output"], fontsize=12)
    arrow(ax, (4.5, mid - 0.47), (4.5, bottom + 0.45))
    label(ax, WIDTH / 2, 0.22, "2 modèles ; un entraînement supervisé, sans génération ;\n"
          "récompense implicite $\\beta \\log (\\pi_\\theta / \\pi_{\\mathrm{ref}})$",
          fontsize=10, color=COLORS["grey"])
    save(fig, "ch11_dpo_vs_rlhf")


if __name__ == "__main__":
    rlhf_pipeline()
    dpo_vs_rlhf()
