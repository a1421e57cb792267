"""One vocabulary: annexes/glossaire.md lists every term of the course with its rejected
variants, and no chapter, lab or annex prose uses one of them.

Prose is the markdown of notebooks and pages minus what is not French prose: code blocks and
code spans (identifiers, `[CLS]`, roles' targets), math, italics (the English term given at
first use, paper titles), link targets and URLs, MyST labels and directive options."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "annexes" / "glossaire.md"
PAGES = sorted(
    p for pattern in ("chapters/*.ipynb", "labs/*/*.ipynb", "solutions/*/*.ipynb", "*.md", "annexes/*.md")
    for p in ROOT.glob(pattern)
    if p != GLOSSARY and p.name != "README.md"
)
# A few terms every version of the course needs (DESIGN.md's plan, chapters 1-14).
REQUIRED = {
    "token", "tokeniseur", "plongement", "surapprentissage", "décroissance des poids", "affinage",
    "pré-entraînement", "taux d'apprentissage", "perte", "recherche en faisceau", "échantillonnage",
    "tête d'attention", "masque causal", "fenêtre de contexte", "cache clés-valeurs",
    "modèle de récompense", "politique", "loi d'échelle", "perplexité", "température",
    "échauffement", "quantification", "LoRA", "RLHF", "PPO", "DPO", "BLEU", "ROUGE", "hallucination",
    "segment", "rappel@k", "AdamW",
    # chapters 11-14
    "politique de référence", "modèle de Bradley–Terry", "RLAIF", "exactitude", "précision",
    "rappel", "matrice de confusion", "BERTScore", "LLM juge", "contamination", "courbe isoFLOP",
    "FlashAttention", "attention à fenêtre glissante", "mémorisation", "chevauchement",
    "index vectoriel", "recherche approchée", "fidélité",
    # issue 19: terms chapters 8-14 use, and one French term for each English one
    "divergence KL", "affinage supervisé", "MFU", "FLOP", "BM25", "reclassement", "loi de Goodhart",
    "accumulation de gradient", "précision mixte", "correspondance exacte", "optimal en calcul",
    "modèle instruit",
}

FENCE = re.compile(r"^\s*(```+|~~~+)\s*(\{[\w-]+\})?\s*(\S*)")
# Directives whose body is prose (their fences and options are not).
PROSE_DIRECTIVES = {"{admonition}", "{note}", "{tip}", "{warning}", "{important}", "{figure}",
                    "{hint}", "{attention}", "{caution}", "{seealso}", "{dropdown}", "{margin}",
                    "{exercise}", "{solution}"}
NOT_PROSE = re.compile(
    r"^[ \t]*(?:```+|~~~+)[^\n]*$"                       # directive fences
    r"|\$\$.+?\$\$"                                     # display math
    r"|\$[^$\n]+?\$"                                    # inline math
    r"|``[^\n]+?``|`[^`\n]+`"                           # code spans, roles' targets
    r"|\]\([^)]*\)"                                     # link targets
    r"|<https?://[^>]*>|https?://\S+"                   # URLs
    r"|\\begin\{.+?\\end\{[a-z*]+\}"                    # LaTeX environments
    r"|(?<![*\w])\*(?![*\s])[^*]+?(?<![*\s])\*(?![*\w])"  # italics (may wrap a line)
    r"|^\([\w-]+\)=$"                                   # MyST labels
    r"|^[ \t]*:(?!alt:)[\w-]+:[^\n]*$",                 # directive options, except :alt:
    re.S | re.M,
)


def prose(text: str) -> str:
    """The French prose of a markdown text: everything else is replaced by one space, so that
    line numbers stay those of the source."""
    kept, open_directives, in_code, fence = [], [], False, ""
    for line in text.split("\n"):
        m = FENCE.match(line)
        if in_code:
            if m and m.group(1).startswith(fence) and not m.group(2) and not m.group(3):
                in_code = False
            kept.append("")
            continue
        if m and not m.group(2) and not m.group(3) and open_directives and m.group(1) == open_directives[-1]:
            open_directives.pop()
        elif m and m.group(2) in PROSE_DIRECTIVES:
            open_directives.append(m.group(1))
        elif m:
            in_code, fence = True, m.group(1)
            kept.append("")
            continue
        kept.append(line)
    return NOT_PROSE.sub(lambda m: " " + "\n" * m.group(0).count("\n"), "\n".join(kept))


def glossary_rows() -> list[list[str]]:
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if line.startswith("| ") and not line.startswith("| terme |"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows


def variant_pattern(variant: str) -> re.Pattern:
    """`jeton` matches jeton, jetons, Jeton; `sur-apprend*` any word that starts so."""
    prefix = variant.endswith("*")
    words = [re.escape(w) for w in variant.rstrip("*").split()]
    body = r"[\s\u00a0]+".join(words)
    tail = r"[\w-]*" if prefix else r"(?:s|x)?(?![\w-])"
    return re.compile(r"(?<![\w-])" + body + tail, re.IGNORECASE)


def rejected() -> dict[str, tuple[str, re.Pattern]]:
    """variant -> (the French term to use instead, its pattern)."""
    out = {}
    for row in glossary_rows():
        for variant in re.findall(r"`([^`]+)`", row[4]):
            out[variant] = (row[0], variant_pattern(variant))
    return out


def markdown_texts(path: Path) -> list[tuple[str, str]]:
    """(where, markdown) for each markdown cell of a notebook, or the whole page."""
    if path.suffix == ".md":
        return [(path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8"))]
    nb = nbformat.read(path, as_version=4)
    return [(f"{path.relative_to(ROOT).as_posix()} cell {i}", cell.source)
            for i, cell in enumerate(nb.cells) if cell.cell_type == "markdown"]


def violations(text: str, variants=None) -> list[tuple[int, str, str]]:
    """(line, variant found, term to use) in the prose of a markdown text."""
    variants = rejected() if variants is None else variants
    found = {}
    for lineno, line in enumerate(prose(text).split("\n"), 1):
        for term, pattern in variants.values():
            for m in pattern.finditer(line):
                found.setdefault((lineno, m.start()), (lineno, m.group(0), term))
    return [found[k] for k in sorted(found)]


def test_glossary_rows_are_complete():
    rows = glossary_rows()
    assert len(rows) >= 80, f"the glossary has only {len(rows)} terms"
    for row in rows:
        assert len(row) == 5, f"a glossary row needs 5 cells, got {len(row)}: {row}"
        fr, en, definition, where, _ = row
        assert fr and en.startswith("*") and len(definition) > 15, f"incomplete row: {row}"
        doc = re.fullmatch(r"\{doc\}`\.\./([\w/]+)`", where)
        if doc:
            assert (ROOT / f"{doc.group(1)}.ipynb").exists() or (ROOT / f"{doc.group(1)}.md").exists(), (
                f"{fr}: {where} names no page")
        else:  # every chapter of the plan is published: no « chapitre à venir » left
            pytest.fail(f"{fr}: 'introduit dans' must be a {{doc}} link to a page: {where}")
    terms = [row[0] for row in rows]
    assert len(terms) == len(set(terms)), "a term is listed twice"
    missing = {t for t in REQUIRED if not any(row[0] == t or row[0].startswith(t + " ") for row in rows)}
    assert not missing, f"terms missing from the glossary: {sorted(missing)}"


def test_no_rejected_variant_is_a_chosen_term():
    terms = {row[0].lower() for row in glossary_rows()}
    clash = {v for v in rejected() if v.lower() in terms}
    assert not clash, f"variants that are also chosen terms: {clash}"


def test_the_detector_finds_what_it_must_and_only_that():
    text = (
        "Le jeton suivant, le tokenizer et les embeddings ; le modèle sur-apprend.\n"
        "On règle le weight decay.\n"
        "Le tokeniseur (*tokenizer*) et `tokenizer.decode`, $\\text{embedding}$, *Neural Word\n"
        "Embedding as Implicit Matrix Factorization*, [texte](05_embeddings.ipynb).\n"
        "```python\njetons = tokenizer(x)\n```\n"
        "```{admonition} Solution\n:class: dropdown\nUn jeton.\n```\n"
    )
    found = violations(text)
    assert [(line, word.lower()) for line, word, _ in found] == [
        (1, "jeton"), (1, "tokenizer"), (1, "embeddings"), (1, "sur-apprend"), (2, "weight decay"),
        (10, "jeton"),
    ], found


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_pages_use_the_glossary_terms(path):
    variants = rejected()
    bad = [f"{where}, line {line}: « {word} » (use « {term} »)"
           for where, text in markdown_texts(path) for line, word, term in violations(text, variants)]
    assert not bad, "rejected variants (annexes/glossaire.md):\n" + "\n".join(bad)
