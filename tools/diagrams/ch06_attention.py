"""Diagrams of chapter 6 (attention and Transformer), written to ``figures/ch06_*.svg``.

- ``ch06_qkv``: Q = XW^Q, K = XW^K, V = XW^V, then softmax(QKᵀ/√d_k) V;
- ``ch06_multi_head``: one projection cut into h heads, attention per head, concatenation, W^O;
- ``ch06_transformer_block``: a pre-normalised block around its residual stream;
- ``ch06_encoder_decoder``: the encoder and decoder stacks joined by cross-attention.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _draw import COLORS, arrow, box, canvas, label, save  # noqa: E402

NOTE = "#555555"  # notes in grey, dark enough to read
HEAD_COLORS = [COLORS["blue"], COLORS["orange"], COLORS["green"], COLORS["purple"]]


def qkv() -> Path:
    """X projected three times, then the scores, the softmax and the weighted sum of values."""
    fig, ax = canvas(6.8, 5.0)
    box(ax, 0.55, 2.45, 1.0, 0.9, "$X$\n$T \\times d_{model}$", COLORS["input"], fontsize=10)
    rows = {"Q": 4.0, "K": 2.45, "V": 0.9}
    roles = {"Q": "requêtes : ce que\nchaque token cherche",
             "K": "clés : ce que\nchaque token propose",
             "V": "valeurs : ce que\nchaque token transmet"}
    for name, y in rows.items():
        arrow(ax, (1.07, 2.45), (1.4, y))
        box(ax, 1.75, y, 0.65, 0.5, f"$W^{name}$", COLORS["op"])
        arrow(ax, (2.08, y), (2.45, y))
        box(ax, 2.75, y, 0.6, 0.5, f"${name}$", COLORS["hidden"])
        label(ax, 2.6, y - 0.6, roles[name], fontsize=10, color=NOTE)
    # scores from Q and K, then the softmax
    box(ax, 4.35, 3.45, 1.45, 0.8, "$S = QK^\\top / \\sqrt{d_k}$\n$T \\times T$", COLORS["attn"],
        fontsize=10)
    arrow(ax, (3.05, 4.0), (3.62, 3.6))
    arrow(ax, (3.05, 2.45), (3.62, 3.25))
    box(ax, 6.05, 3.45, 1.35, 0.8, "$A$ = softmax\npar ligne", COLORS["attn"], fontsize=10)
    arrow(ax, (5.08, 3.45), (5.37, 3.45))
    label(ax, 4.95, 4.65, "masque éventuel : $-\\infty$ sur les cases interdites", fontsize=10,
          color=NOTE)
    # weighted sum of the values
    box(ax, 6.05, 1.3, 1.2, 0.8, "$A\\,V$\n$T \\times d_v$", COLORS["output"], fontsize=10)
    arrow(ax, (6.05, 3.05), (6.05, 1.7))
    arrow(ax, (3.05, 0.9), (5.45, 1.2))
    arrow(ax, (6.05, 0.9), (6.05, 0.45))
    label(ax, 6.05, 0.25, "sortie", fontsize=10)
    return save(fig, "ch06_qkv")


def multi_head(n_heads: int = 4) -> Path:
    """W^Q (and W^K, W^V) cut into heads of d_k columns, attention per head, Concat, W^O."""
    fig, ax = canvas(6.8, 4.8)
    box(ax, 0.5, 2.3, 0.95, 0.9, "$X$\n$T \\times d_{model}$", COLORS["input"], fontsize=10)
    arrow(ax, (0.98, 2.3), (1.16, 2.3))
    box(ax, 1.75, 2.3, 1.15, 1.0, "$XW^Q,\\ XW^K,$\n$XW^V$\n$T \\times d_{model}$", COLORS["op"],
        fontsize=10)
    # the split: d_model columns → h blocks of d_k columns
    x0, width = 2.6, 0.2
    for j, color in enumerate(HEAD_COLORS[:n_heads]):
        ax.add_patch(_rect(x0 + j * width, 1.8, width, 1.0, color))
    label(ax, x0 + n_heads * width / 2, 1.45, f"{n_heads} blocs de $d_k$\ncolonnes", fontsize=10)
    arrow(ax, (2.33, 2.3), (x0 - 0.03, 2.3))
    ys = [4.0, 3.1, 1.5, 0.6]
    head_x = 4.4
    for j, (y, color) in enumerate(zip(ys[:n_heads], HEAD_COLORS, strict=True)):
        arrow(ax, (x0 + (j + 0.5) * width, 2.8 if y > 2.3 else 1.8), (head_x - 0.5, y),
              color=color)
        box(ax, head_x, y, 0.95, 0.55, f"tête {j + 1}", "white", fontsize=10, linestyle="-")
        ax.add_patch(_rect(head_x - 0.47, y - 0.275, 0.07, 0.55, color))
        arrow(ax, (head_x + 0.48, y), (5.15, 2.3), color=color)
    label(ax, 4.2, 4.6, "$\\mathrm{softmax}(Q_jK_j^\\top/\\sqrt{d_k})\\,V_j$ dans chaque tête",
          fontsize=10)
    # concatenation then W^O
    for j, color in enumerate(HEAD_COLORS[:n_heads]):
        ax.add_patch(_rect(5.2 + j * 0.15, 1.8, 0.15, 1.0, color))
    label(ax, 5.5, 1.55, "Concat", fontsize=10)
    arrow(ax, (5.82, 2.3), (6.03, 2.3))
    box(ax, 6.35, 2.3, 0.6, 0.55, "$W^O$", COLORS["op"])
    label(ax, 6.3, 3.05, "sortie\n$T \\times d_{model}$", fontsize=10)
    label(ax, 1.75, 0.55, f"$d_k = d_{{model}} / h$\n(ici $h = {n_heads}$)", fontsize=10)
    return save(fig, "ch06_multi_head")


def _rect(x, y, w, h, color):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=color, edgecolor=COLORS["edge"], linewidth=0.8,
                     alpha=0.85)


def transformer_block() -> Path:
    """The pre-norm block: x + MHA(LN(x)), then x + FFN(LN(x)), along the residual stream."""
    fig, ax = canvas(6.8, 7.0)
    stream_x = 1.5
    # the residual stream: one vertical line from the input to the output
    ax.plot([stream_x, stream_x], [0.55, 6.35], color=COLORS["blue"], linewidth=3, zorder=0)
    label(ax, stream_x - 0.3, 4.55, "flux résiduel", rotation=90, fontsize=10,
          color=COLORS["blue"])
    box(ax, stream_x, 0.35, 2.3, 0.45, "entrée $x$ ($T \\times d_{model}$)", COLORS["input"],
        fontsize=10)
    box(ax, stream_x, 6.6, 2.3, 0.45, "sortie ($T \\times d_{model}$)", COLORS["output"],
        fontsize=10)
    branch_x = 3.55
    for y0, name, note, color in [
        (1.2, "attention multi-têtes", "masque causal (décodeur)\nou aucun (encodeur)",
         COLORS["attn"]),
        (3.8, "FFN\n$d_{model} \\to d_{ff} \\to d_{model}$", "chaque position\nséparément",
         COLORS["hidden"]),
    ]:
        plus_y = y0 + 2.0
        arrow(ax, (stream_x, y0), (branch_x - 0.88, y0 + 0.6), rad=-0.25)
        box(ax, branch_x, y0 + 0.6, 1.7, 0.45, "LayerNorm", COLORS["op"], fontsize=10)
        arrow(ax, (branch_x, y0 + 0.83), (branch_x, y0 + 1.05))
        box(ax, branch_x, y0 + 1.4, 2.0, 0.65, name, color, fontsize=10)
        label(ax, branch_x + 1.1, y0 + 1.4, note, fontsize=10, color=NOTE, ha="left")
        arrow(ax, (branch_x, y0 + 1.73), (stream_x + 0.2, plus_y), rad=0.25)
        ax.add_patch(_circle(stream_x, plus_y))
        label(ax, stream_x, plus_y, "+", fontsize=14, fontweight="bold")
    label(ax, 0.3, 3.45, "× $L$ blocs", fontsize=11, rotation=90)
    label(ax, 3.0, 6.6, "$x \\leftarrow x + \\mathrm{MHA}(\\mathrm{LN}(x))$\n"
          "$x \\leftarrow x + \\mathrm{FFN}(\\mathrm{LN}(x))$", fontsize=10, ha="left")
    return save(fig, "ch06_transformer_block")


def _circle(x, y):
    from matplotlib.patches import Circle

    return Circle((x, y), 0.2, facecolor="white", edgecolor=COLORS["edge"], linewidth=1.2,
                  zorder=3)


def encoder_decoder() -> Path:
    """Two stacks side by side; the encoder's output feeds the decoder's cross-attention."""
    fig, ax = canvas(6.8, 7.4)
    enc_x, dec_x = 1.65, 5.15
    # the two stacks, drawn as frames with their sub-layers
    for x, h, title in [(enc_x, 3.2, "Encodeur (× $L$)"), (dec_x, 4.35, "Décodeur (× $L$)")]:
        box(ax, x, 1.6 + h / 2, 3.1, h, "", "white", linestyle="--")
        label(ax, x - 1.4, 1.4 + h, title, fontsize=11, fontweight="bold", ha="left")
    enc_layers = [("auto-attention\nbidirectionnelle", COLORS["attn"], 2.55),
                  ("FFN", COLORS["hidden"], 3.95)]
    dec_layers = [("auto-attention\nmasquée (causale)", COLORS["attn"], 2.55),
                  ("attention croisée\n$Q$ : décodeur ; $K, V$ : encodeur", COLORS["attn"], 3.95),
                  ("FFN", COLORS["hidden"], 5.15)]
    for x, layers in [(enc_x, enc_layers), (dec_x, dec_layers)]:
        for i, (text, color, y) in enumerate(layers):
            box(ax, x, y, 2.8, 0.75, text, color, fontsize=10)
            label(ax, x + 1.4, y + 0.5, "+ Add & Norm", fontsize=10, color=NOTE,
                  ha="right")
            if i:
                arrow(ax, (x, layers[i - 1][2] + 0.38), (x, y - 0.38))
    # inputs
    box(ax, enc_x, 0.5, 2.9, 0.6, "phrase source\n(plongements + positions)", COLORS["input"],
        fontsize=10)
    box(ax, dec_x, 0.5, 2.9, 0.6, "phrase cible décalée\n(plongements + positions)",
        COLORS["input"], fontsize=10)
    arrow(ax, (enc_x, 0.8), (enc_x, 2.17))
    arrow(ax, (dec_x, 0.8), (dec_x, 2.17))
    # encoder output → cross-attention keys and values
    box(ax, enc_x, 5.6, 2.4, 0.5, "sortie de l'encodeur", COLORS["output"], fontsize=10)
    arrow(ax, (enc_x, 4.33), (enc_x, 5.35))
    arrow(ax, (enc_x + 1.2, 5.6), (dec_x - 1.4, 4.1), color=COLORS["red"], rad=-0.2,
          text="$K, V$", fontsize=10)
    # decoder output
    box(ax, dec_x, 6.85, 2.9, 0.55, "linéaire + softmax\n→ token suivant", COLORS["output"],
        fontsize=10)
    arrow(ax, (dec_x, 5.53), (dec_x, 6.57))
    return save(fig, "ch06_encoder_decoder")


def main() -> None:
    for draw in (qkv, multi_head, transformer_block, encoder_decoder):
        print(draw())


if __name__ == "__main__":
    main()
