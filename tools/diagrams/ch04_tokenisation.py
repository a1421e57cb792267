"""Diagram of chapter 4 (tokenisation), written to ``figures/ch04_bpe_merges.svg``.

- ``ch04_bpe_merges``: BPE on Sennrich's corpus (low ×5, lower ×2, newest ×6, widest ×3), one
  row per merge: the pair merged, its count, and every word's segmentation after the merge,
  the symbol just created in colour. The merges and counts come from ``llmcours.bpe``
  (``train_on_words``, ``pair_counts``, ``segment``), the code the chapter runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _draw import COLORS, box, canvas, label, save  # noqa: E402

from llmcours.bpe import pair_counts, segment, train_on_words  # noqa: E402

WORD_COUNTS = {"low": 5, "lower": 2, "newest": 6, "widest": 3}  # chapter 4's worked example
NUM_MERGES = 10
NOTE = "#555555"


def bpe_merges() -> Path:
    merges = train_on_words(WORD_COUNTS, NUM_MERGES)
    char_w, gap, row_h = 0.16, 0.03, 0.4  # fits the text column (≤ 6.8 in)
    extents = [len(w) * char_w + (len(w) - 1) * gap for w in WORD_COUNTS]  # a word's width
    x_left = [2.5]  # left edge of each word's column
    for extent in extents[:-1]:
        x_left.append(x_left[-1] + extent + 0.16)
    n_rows = len(merges) + 1
    width = x_left[-1] + extents[-1] + 0.1
    height = (n_rows + 2.5) * row_h
    fig, ax = canvas(width, height)
    top = height - 0.4
    label(ax, 0.1, top, "fusion (compte de la paire)", fontsize=10, color=NOTE, ha="left")
    for x, extent, (word, freq) in zip(x_left, extents, WORD_COUNTS.items(), strict=True):
        label(ax, x + extent / 2, top, f"« {word} » ×{freq}", fontsize=10, color=NOTE)
    for t in range(n_rows):  # row 0 = the characters, row t = after merge t
        y = top - (t + 1) * row_h
        if t == 0:
            label(ax, 0.1, y, "départ : les caractères", fontsize=10, ha="left")
        else:
            a, b = merges[t - 1]
            count = pair_counts(WORD_COUNTS, merges[: t - 1])[(a, b)]
            label(ax, 0.1, y, f"{t:>2}. {a} + {b} → {a + b} ({count})", fontsize=10,
                  family="monospace", ha="left")
        new = "".join(merges[t - 1]) if t else None
        for x, word in zip(x_left, WORD_COUNTS, strict=True):
            for symbol in segment(word, merges[:t]):
                w = len(symbol) * char_w + (len(symbol) - 1) * gap
                color = COLORS["output"] if symbol == new else COLORS["input"]
                box(ax, x + w / 2, y, w, row_h * 0.66, "", color)
                label(ax, x + w / 2, y, symbol, fontsize=11, family="monospace")
                x += w + gap
    label(ax, width / 2, 0.2, "en vert : le symbole que la fusion vient de créer",
          fontsize=10, color=NOTE)
    return save(fig, "ch04_bpe_merges")


if __name__ == "__main__":
    print(bpe_merges())
