"""Course data: a French corpus, French sentences and a labelled French sentiment set.

Every file here was written for the course (see ``README.md`` beside this module) and ships
inside the package, so nothing is downloaded:

- ``corpus_fr.txt``: French prose (> 200 KB), paragraphs separated by a blank line, for
  language modelling (n-grams, tiny GPT) and for training tokenizers (BPE, WordPiece);
- ``phrases_fr.txt``: one French sentence per line (attention maps, token counts, perplexity);
- ``sentiment_fr/{train,test}.jsonl``: ``{"text": str, "label": 0 | 1}`` per line, with
  0 = négatif and 1 = positif, balanced in each split;
- ``instructions_fr.jsonl``: ``{"task", "instruction", "input", "output"}`` per line, French
  (instruction, answer) pairs for instruction tuning (chapter 10);
- ``preferences_fr.jsonl``: ``{"prompt", "answers"}`` per line, four French answers ranked
  best first, the preference data of chapter 11 (``llmcours.alignment.load_preferences``).

The sentiment set is read with the real ``datasets`` loader,
``load_dataset("json", data_files={"train": ..., "test": ...})``, and its ``label`` column is
cast to a ``ClassLabel`` named by :data:`LABELS`, so ``label`` stays an integer 0/1.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing datasets is slow; only load_sentiment needs it
    from datasets import DatasetDict

__all__ = [
    "LABELS", "corpus_split", "data_path", "load_corpus", "load_instructions", "load_sentences",
    "load_sentiment",
]

LABELS: tuple[str, str] = ("négatif", "positif")
"""Names of the sentiment labels: ``LABELS[0]`` = négatif, ``LABELS[1]`` = positif."""

_DATA_DIR = Path(__file__).resolve().parent


def _available() -> list[str]:
    """Relative names (POSIX style) of the data files shipped with the package."""
    return sorted(
        p.relative_to(_DATA_DIR).as_posix()
        for p in _DATA_DIR.rglob("*")
        if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts
    )


def data_path(name: str) -> Path:
    """Path of a shipped data file, e.g. ``data_path("sentiment_fr/train.jsonl")``.

    Raises ``FileNotFoundError`` naming the available files when ``name`` is not one of them.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name ({name!r}) must be a non-empty file name such as 'corpus_fr.txt'")
    path = _DATA_DIR / name
    if not path.is_file():
        available = ", ".join(_available()) or "none"
        raise FileNotFoundError(
            f"no course data file {name!r} in {_DATA_DIR}; available: {available}. "
            "If a shipped file is missing, reinstall the package (pip install -e .)."
        )
    return path


def load_corpus() -> str:
    """The French corpus as one string (paragraphs separated by a blank line)."""
    return data_path("corpus_fr.txt").read_text(encoding="utf-8")


def corpus_split() -> tuple[str, str]:
    """The corpus cut into (train, held-out) text: every tenth paragraph is held out.

    Every chapter that scores a language model in bits per character (n-grams, LSTM, GPT,
    SmolLM2) trains on the first string and scores on the second, so their figures compare.
    Paragraphs stay whole and keep their blank-line separators.
    """
    paragraphs = [p for p in load_corpus().split("\n\n") if p.strip()]
    train = [p for i, p in enumerate(paragraphs) if i % 10 != 9]
    heldout = [p for i, p in enumerate(paragraphs) if i % 10 == 9]
    return "\n\n".join(train), "\n\n".join(heldout)


def load_sentences() -> list[str]:
    """The French sentences, one string per non-empty line."""
    text = data_path("phrases_fr.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def _cache_dir() -> str | None:
    """``None`` (the default ``datasets`` cache) when writable, else a temporary folder."""
    from datasets import config

    default = Path(config.HF_DATASETS_CACHE)
    probe = default
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if os.access(probe, os.W_OK):
        return None
    return str(Path(tempfile.gettempdir()) / "llmcours_datasets_cache")


@contextlib.contextmanager
def _quiet_datasets() -> Iterator[None]:
    """No ``datasets`` progress bars while a small shipped file loads: in a notebook they are
    widgets, stored in the executed page as empty ``widget-view`` outputs."""
    import datasets

    was_disabled = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if not was_disabled:
            datasets.enable_progress_bars()


def load_sentiment() -> DatasetDict:
    """The French sentiment set: a ``DatasetDict`` with splits ``train`` and ``test``.

    Columns: ``text`` (str) and ``label`` (``ClassLabel(names=["négatif", "positif"])``,
    i.e. the integers 0 = négatif and 1 = positif).
    """
    from datasets import ClassLabel, load_dataset

    files = {split: str(data_path(f"sentiment_fr/{split}.jsonl")) for split in ("train", "test")}
    with _quiet_datasets():
        dsd = load_dataset("json", data_files=files, cache_dir=_cache_dir())
        return dsd.cast_column("label", ClassLabel(names=list(LABELS)))


def load_instructions() -> DatasetDict:
    """The French instruction set: a ``DatasetDict`` with splits ``train`` and ``test``.

    Columns: ``task`` (e.g. ``"traduction"``), ``instruction``, ``input`` (``""`` when the
    instruction needs none) and ``output`` (the reference answer). Every eighth pair of the
    file (lines 8, 16, …) is held out as ``test``, the others are ``train``.
    """
    from datasets import DatasetDict, load_dataset

    path = str(data_path("instructions_fr.jsonl"))
    with _quiet_datasets():
        pairs = load_dataset("json", data_files=path, cache_dir=_cache_dir())["train"]  # all pairs
    held_out = [i for i in range(pairs.num_rows) if i % 8 == 7]
    kept = [i for i in range(pairs.num_rows) if i % 8 != 7]
    return DatasetDict(train=pairs.select(kept), test=pairs.select(held_out))
