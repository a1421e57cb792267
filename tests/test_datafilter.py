"""Tests of llmcours.datafilter: exact deduplication on normalised text, each quality rule on
a document made to break it alone, the course corpus passing the default rules, bad input."""

from __future__ import annotations

import pytest

from llmcours.data import corpus_split
from llmcours.datafilter import (
    QualityRules,
    exact_dedup,
    normalize,
    quality_filter,
    quality_problems,
)

PROSE = ("Les planètes du système solaire se répartissent en deux familles, les mondes rocheux "
         "près du Soleil et les géantes gazeuses plus loin, au-delà de la ceinture d'astéroïdes.")


def test_normalize_and_exact_dedup_keep_the_first_copy():
    assert normalize("  Le  CHAT\n dort\t") == "le chat dort"
    docs = ["Le chat dort.", "Un autre texte.", "le   chat\ndort.", "Le chat dort !", "Un autre texte."]
    kept, removed = exact_dedup(docs)
    assert kept == ["Le chat dort.", "Un autre texte.", "Le chat dort !"]
    assert removed == [2, 4]
    assert exact_dedup(iter(docs))[1] == [2, 4], "a generator must work like a list"
    assert exact_dedup([]) == ([], [])


def test_each_quality_rule_alone():
    assert quality_problems(PROSE) == []
    assert quality_problems("Trop court.") == ["moins de 20 mots"]
    cases = {
        "longueur moyenne des mots": " ".join(["a"] * 25) + ".",
        "trop de mots sans lettre": PROSE[:-1] + " " + " ".join(["12,5"] * 40) + ".",
        "trop de symboles": PROSE.replace(", ", " | ") + " #" * 5 + ".",
        "pas de ponctuation finale": PROSE[:-1],
    }
    for problem, text in cases.items():
        assert problem in quality_problems(text), f"{problem!r} not found in {text[:60]!r}"
    assert quality_problems(PROSE[:-1], QualityRules(end_punctuation="")) == ["pas de ponctuation finale"]
    assert quality_problems(PROSE[:-1], QualityRules(end_punctuation="s")) == []


def test_the_course_corpus_passes_the_default_rules():
    paragraphs = [p for p in corpus_split()[0].split("\n\n") if p.strip()]
    kept, rejected = quality_filter(paragraphs)
    assert len(kept) >= 0.95 * len(paragraphs), f"rules reject real prose: {list(rejected.items())[:3]}"
    assert exact_dedup(paragraphs)[1] == [], "the course corpus has no exact duplicate paragraph"


def test_quality_filter_returns_kept_and_reasons():
    kept, rejected = quality_filter([PROSE, "Accueil | Contact | Connexion", PROSE])
    assert kept == [PROSE, PROSE] and list(rejected) == [1]
    assert rejected[1] == ["moins de 20 mots"]


@pytest.mark.parametrize("fn", [exact_dedup, quality_filter])
def test_bad_inputs_raise(fn):
    with pytest.raises(ValueError, match="documents must be a list"):
        fn("un seul texte")
    with pytest.raises(ValueError, match=r"documents\[1\]"):
        fn(["ok", 3])
    with pytest.raises(ValueError, match="text"):
        quality_problems(None)
