"""Chapter 14 diagrams: the RAG pipeline (offline indexing, online question) and chunking with
overlap.

Run ``python tools/diagrams/ch14_rag.py``; writes ``figures/ch14_pipeline.svg`` and
``figures/ch14_chunking.svg``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _draw import COLORS, arrow, box, canvas, label, save  # noqa: E402
from matplotlib.patches import FancyBboxPatch, Rectangle  # noqa: E402


def pipeline() -> None:
    """Offline: documents → chunks → encoder → index. Online: question → encoder → top-k →
    prompt with numbered sources → LLM → answer citing [n]."""
    fig, ax = canvas(13.0, 5.6)
    # the two lanes
    ax.add_patch(Rectangle(
        (0.1, 3.05), 12.8, 2.35, facecolor="#F7F7F7", edgecolor=COLORS["grey"], linestyle="--"))
    ax.add_patch(Rectangle(
        (0.1, 0.1), 12.8, 2.75, facecolor="white", edgecolor=COLORS["grey"], linestyle="--"))
    label(ax, 0.3, 5.15, "Indexation (hors ligne, une fois)", ha="left", fontsize=11,
          color=COLORS["blue"], fontweight="bold")
    label(ax, 0.3, 2.6, "Question (en ligne, à chaque requête)", ha="left", fontsize=11,
          color=COLORS["red"], fontweight="bold")
    top = 4.05
    steps = [
        (1.35, "Documents\n(chapitres 1 à 10)", COLORS["input"]),
        (4.0, "Découpage en\nsegments qui se\nchevauchent", COLORS["op"]),
        (6.75, "Encodeur E5\nmoyenne + L2\n→ dim. 384", COLORS["hidden"]),
        (9.6, "Index vectoriel\n(exact, IVF\nou HNSW)", COLORS["attn"]),
    ]
    for x, text, color in steps:
        box(ax, x, top, 2.3, 1.3, text, color=color, fontsize=10)
    for (x0, *_), (x1, *_) in zip(steps, steps[1:], strict=False):
        arrow(ax, (x0 + 1.17, top), (x1 - 1.17, top))
    bottom = 1.35
    box(ax, 1.35, bottom, 2.3, 1.1, "Question q", color=COLORS["input"], fontsize=10)
    box(ax, 4.0, bottom, 2.3, 1.1, "même encodeur\n→ vecteur de q", color=COLORS["hidden"],
        fontsize=10)
    arrow(ax, (2.52, bottom), (2.83, bottom))
    box(ax, 6.75, bottom, 2.3, 1.3, "top-k par\nsimilarité cosinus\n$q \\cdot d / \\|q\\|\\|d\\|$",
        color=COLORS["attn"], fontsize=10)
    arrow(ax, (5.17, bottom), (5.58, bottom))
    arrow(ax, (9.6, top - 0.67), (7.3, bottom + 0.67), color=COLORS["blue"])
    label(ax, 8.85, 2.75, "vecteurs stockés", fontsize=10, color=COLORS["blue"],
          backgroundcolor="white")
    box(ax, 9.6, bottom, 2.3, 1.3, "Prompt :\nconsigne, sources\n[1]…[k], question",
        color=COLORS["op"], fontsize=10)
    arrow(ax, (7.92, bottom), (8.43, bottom))
    box(ax, 12.0, bottom, 1.5, 1.3, "LLM\n→ réponse\nqui cite [n]", color=COLORS["output"],
        fontsize=10)
    arrow(ax, (10.77, bottom), (11.23, bottom))
    save(fig, "ch14_pipeline")


def chunking() -> None:
    """A text of 20 words cut into chunks of 8 words with an overlap of 3 (stride 5)."""
    n_words, size, overlap = 20, 8, 3
    stride = size - overlap
    w = 0.55
    fig, ax = canvas(12.6, 5.8)
    x0, y_text = 0.6, 5.05
    for i in range(n_words):
        box(ax, x0 + i * w + w / 2, y_text, w * 0.9, 0.5, f"{i + 1}", color=COLORS["input"],
            fontsize=10)
    label(ax, x0 + n_words * w + 0.15, y_text, "texte", ha="left", fontsize=10)
    colors = [COLORS["blue"], COLORS["orange"], COLORS["green"], COLORS["purple"]]
    starts = list(range(0, n_words, stride))
    starts = starts[: next(i for i, s in enumerate(starts) if s + size >= n_words) + 1]
    for j, s in enumerate(starts):
        e = min(s + size, n_words)
        y = 4.2 - 0.62 * j
        ax.add_patch(FancyBboxPatch(
            (x0 + s * w + 0.03, y - 0.2), (e - s) * w - 0.06, 0.4,
            boxstyle="round,pad=0.0,rounding_size=0.08", facecolor=colors[j], alpha=0.35,
            edgecolor=colors[j]))
        # the label sits left of its bar (inside the first one, which starts at the margin)
        label(ax, x0 + s * w - 0.1 if j else x0 + 0.15, y,
              f"segment {j + 1} : mots {s + 1} à {e}", fontsize=10, ha="right" if j else "left")
        if j:
            ov0, ov1 = s, min(starts[j - 1] + size, n_words)
            ax.add_patch(Rectangle(
                (x0 + ov0 * w, y - 0.2), (ov1 - ov0) * w, 0.62 + 0.4, fill=False,
                edgecolor=COLORS["red"], linestyle=":", linewidth=1.5))
    label(ax, x0, 0.75,
          f"taille = {size} mots\nchevauchement = {overlap} mots\npas = taille − chevauchement"
          f" = {stride}", ha="left", fontsize=10)
    label(ax, x0 + 5.6, 0.75,
          "en pointillé rouge : les mots partagés par deux\nsegments voisins (une phrase plus courte que\n"
          "le chevauchement, coupée à une frontière,\nreste entière dans l'un des deux)", ha="left",
          fontsize=10, color=COLORS["red"])
    arrow(ax, (x0 + 0.2, y_text - 0.3), (x0 + 0.2, 4.45), color=COLORS["grey"])
    save(fig, "ch14_chunking")


if __name__ == "__main__":
    pipeline()
    chunking()
