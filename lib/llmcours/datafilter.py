"""Cleaning a pre-training corpus: exact deduplication and heuristic quality filters.

A web crawl is full of copies (mirrors, quotes, boilerplate) and of text that is not prose
(menus, keyword lists, tables of symbols). Pre-training pipelines (GPT-3, Brown et al. 2020;
Gopher's MassiveText, Rae et al. 2021; C4, Raffel et al. 2020) remove both before tokenising:

- **exact deduplication**: two documents are the same when their normalised text (lower case,
  runs of white space collapsed) has the same hash; the first copy is kept. GPT-3 also removed
  *near* duplicates (MinHash on word n-grams), which this module does not do;
- **quality filters**: simple rules measured on each document, in the spirit of Gopher's
  (Rae et al. 2021, appendix A.1.1): enough words, a plausible mean word length, mostly
  words that contain a letter, few symbols such as ``|`` or ``#``, and prose that ends with
  punctuation. The thresholds are parameters: a rule that suits English web text must be
  checked on the corpus at hand.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from llmcours._checks import check_int, check_number, check_sequence, check_str

__all__ = ["normalize", "exact_dedup", "QualityRules", "quality_problems", "quality_filter"]


def _check_documents(documents: Iterable[str]) -> list[str]:
    if isinstance(documents, str):
        raise ValueError("documents must be a list of strings, not one string")
    documents = check_sequence(documents, "documents")
    for i, doc in enumerate(documents):
        if not isinstance(doc, str):
            raise ValueError(f"documents[{i}] ({type(doc).__name__}) must be a string")
    return documents


def normalize(text: str) -> str:
    """Lower case, white space runs collapsed to one space, stripped: the text that is hashed."""
    return re.sub(r"\s+", " ", check_str(text, "text")).strip().lower()


def exact_dedup(documents: Iterable[str]) -> tuple[list[str], list[int]]:
    """``(kept, removed)``: the documents whose normalised text was not seen before (in order),
    and the indices of the copies removed."""
    documents = _check_documents(documents)
    seen: set[str] = set()
    kept, removed = [], []
    for i, doc in enumerate(documents):
        key = hashlib.sha1(normalize(doc).encode("utf-8")).hexdigest()  # 160 bits: no collision
        if key in seen:
            removed.append(i)
        else:
            seen.add(key)
            kept.append(doc)
    return kept, removed


@dataclass(frozen=True)
class QualityRules:
    """Thresholds of :func:`quality_problems` (Gopher-style values by default)."""

    min_words: int = 20
    mean_word_length: tuple[float, float] = (3.0, 10.0)
    min_alpha_words: float = 0.8  # fraction of words holding at least one letter
    max_symbol_ratio: float = 0.1  # '#', '|', '{', '}', '<', '>' per word
    end_punctuation: str = ".!?»…"

    def __post_init__(self) -> None:
        check_int(self.min_words, "min_words", minimum=0)
        for name in ("min_alpha_words", "max_symbol_ratio"):
            check_number(getattr(self, name), name, minimum=0)
        check_str(self.end_punctuation, "end_punctuation")


def quality_problems(text: str, rules: QualityRules = QualityRules()) -> list[str]:
    """The rules ``text`` breaks, in French (an empty list: the document is kept)."""
    if not isinstance(text, str):
        raise ValueError(f"text ({type(text).__name__}) must be a string")
    words = text.split()
    if len(words) < rules.min_words:
        return [f"moins de {rules.min_words} mots"]
    problems = []
    low, high = rules.mean_word_length
    if not low <= sum(map(len, words)) / len(words) <= high:
        problems.append("longueur moyenne des mots")
    if sum(any(c.isalpha() for c in w) for w in words) / len(words) < rules.min_alpha_words:
        problems.append("trop de mots sans lettre")
    if sum(text.count(s) for s in "#|{}<>") / len(words) > rules.max_symbol_ratio:
        problems.append("trop de symboles")
    if not text.rstrip().endswith(tuple(rules.end_punctuation)):
        problems.append("pas de ponctuation finale")
    return problems


def quality_filter(
    documents: Iterable[str], rules: QualityRules = QualityRules()
) -> tuple[list[str], dict[int, list[str]]]:
    """``(kept, rejected)``: the documents that break no rule, and ``{index: problems}``."""
    documents = _check_documents(documents)
    kept, rejected = [], {}
    for i, doc in enumerate(documents):
        problems = quality_problems(doc, rules)
        if problems:
            rejected[i] = problems
        else:
            kept.append(doc)
    return kept, rejected
