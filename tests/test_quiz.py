"""The QCM: the bank (quiz/*.yml) against the chapters, the self-checks in the chapters, the
Moodle XML and GIFT exports parsed back, bad bank files, tools/add_selfcheck.py, and the
self-check answered right and wrong in headless Chromium on the built site.

Two tests look at the chapters as they are and fail until `python tools/add_selfcheck.py`
has given each chapter its labels and its *Testez-vous* section
(test_every_label_of_the_bank_resolves, test_every_chapter_has_its_bank_and_self_check).
The browser tests need the built site (`make site`) and /usr/bin/chromium, like test_site.py
(LLMCOURS_SITE=<folder> points them at another build with the same page paths).
"""

from __future__ import annotations

import contextlib
import functools
import html
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest
import yaml
from book_toc import ROOT, SITE

from llmcours import cli, quiz
from llmcours.attention import MultiHeadAttention
from llmcours.metrics import perplexity
from llmcours.transformer import estimate_gpt_params

TOOL = ROOT / "tools" / "add_selfcheck.py"
BANK_FILES = sorted((ROOT / "quiz").glob("*.yml"))
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
# Numeric answers typed in the bank (plain arithmetic on numbers of the stem); every other
# numeric answer must be computed by the library (`compute:`), never typed twice.
TYPED_NUMERIC = {"bgt-mlm-nombre"}
# Facts from the source lectures the bank must ask about: chapter -> patterns of its text.
KEY_FACTS = {
    "attention_transformer": [r"0,503", r"\\sqrt\{d_k\}", r"masque causal"],
    "tokenisation": [r"`e s`", r"WordPiece", r"octets"],
    "bert_gpt_t5": [r"80 %", r"12\\,L\\,d\^2 \+ V\\,d", r"BERT-large", r"NSP"],
    "ngrammes": [r"\\mathrm\{PPL\}", r"add-", r"je suis content"],
    "rnn_lstm_gru": [r"f_t", r"T > 2d", r"écrêtage"],
    "fondamentaux_ml": [r"entropie croisée", r"\\eta", r"surapprentissage"],
    "embeddings": [r"one-hot", r"cosinus", r"contextuel"],
    "generation": [r"\|y\|\^\{\\alpha\}", r"top-\$p\$", r"cache clés-valeurs"],
    "affinage": [r"\\frac\{\\alpha\}\{r\} B A", r"QLoRA", r"-100"],
    "preentrainement": [r"1 - \\beta_1\^t", r"6\\,N\\,D", r"AdamW"],
    "alignement": [r"-\\log \\sigma", r"KL", r"DPO"],
    "evaluation": [r"\\mathrm\{BP\}", r"ROUGE"],
    "lois_echelle": [r"6\\,N\\,D", r"20 tokens par paramètre"],
    "rag": [r"cosinus", r"rappel@"],
}


def _spec(name: str, relative: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


add_selfcheck = _spec("add_selfcheck", "tools/add_selfcheck.py")


@pytest.fixture(scope="module")
def labelled(tmp_path_factory) -> Path:
    """A copy of the chapters that have a bank file, with the bank's labels and the
    self-checks added by the tool (a chapter without a bank file is reported by
    test_every_chapter_has_its_bank_and_self_check)."""
    folder = tmp_path_factory.mktemp("chapters")
    for nb in CHAPTERS:
        if (ROOT / "quiz" / f"{nb.stem[3:]}.yml").is_file():
            shutil.copy(nb, folder / nb.name)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        status = add_selfcheck.main(["--chapters-dir", str(folder)])
    assert status == 0, f"tools/add_selfcheck.py cannot place every label (a heading changed?):\n{output.getvalue()}"
    return folder


@pytest.fixture(scope="module")
def bank(labelled) -> list[quiz.Chapter]:
    return quiz.load_bank(chapters_dir=labelled)


@pytest.fixture
def course(monkeypatch, labelled):
    """The library and the CLI read the labelled copy of the chapters."""
    monkeypatch.setattr(quiz.bank, "CHAPTERS_DIR", labelled)


# ---------------------------------------------------------------- the bank and the chapters
def test_every_label_of_the_bank_resolves():
    """Fails until `python tools/add_selfcheck.py` has added the labels to the chapters."""
    quiz.load_bank()


def test_every_chapter_has_its_bank_and_self_check():
    """Fails until `python tools/add_selfcheck.py` has appended the *Testez-vous* sections."""
    problems = []
    for path in CHAPTERS:
        slug = path.stem[3:]
        if not (ROOT / "quiz" / f"{slug}.yml").is_file():
            problems.append(f"{path.name}: no bank file quiz/{slug}.yml")
        nb = nbformat.read(path, as_version=4)
        cells = [i for i, c in enumerate(nb.cells)
                 if c.cell_type == "code" and f'self_check("{slug}")' in c.source]
        if not cells:
            problems.append(f"{path.name}: no self_check(\"{slug}\") cell")
            continue
        cell = nb.cells[cells[0]]
        if "remove-input" not in cell.metadata.get("tags", []):
            problems.append(f"{path.name}: the self_check cell is not tagged remove-input")
        if not any(c.cell_type == "markdown" and c.source.startswith(add_selfcheck.HEADING)
                   for c in nb.cells[:cells[0]]):
            problems.append(f"{path.name}: no '{add_selfcheck.HEADING}' heading before it")
    assert not problems, "run `python tools/add_selfcheck.py`:\n" + "\n".join(problems)


def test_every_written_chapter_has_at_least_8_questions(bank):
    assert {c.slug for c in bank if not c.planned} <= {p.stem[3:] for p in CHAPTERS}
    small = {c.slug: len(c.questions) for c in bank if not c.planned and len(c.questions) < 8}
    assert not small, f"chapters with fewer than 8 questions: {small}"
    for chapter in bank:
        kinds = {q.type for q in chapter.questions}
        assert {"single", "multiple"} <= kinds, f"{chapter.slug}: single and multiple answers expected"


def test_planned_chapters_are_explicit(bank):
    for chapter in bank:
        assert chapter.planned == (chapter.notebook is None), chapter.slug
    planned = [c.slug for c in bank if c.planned]
    print(f"planned chapters (labels checked once their notebook exists): {planned}")


def test_the_bank_asks_the_key_facts(bank):
    text = {c.slug: "\n".join(part for q in c.questions for part in
                              [q.stem, q.explanation, *(x.text + " " + x.why for x in q.choices)])
            for c in bank}
    missing = [f"{slug}: {pattern}" for slug, patterns in KEY_FACTS.items()
               for pattern in patterns if not re.search(pattern, text[slug])]
    assert not missing, f"key facts absent from the bank: {missing}"


def test_the_bank_uses_the_glossary_terms():
    """The questions are course prose: annexes/glossaire.md's rejected variants are banned."""
    test_glossary = pytest.importorskip("test_glossary")
    variants = test_glossary.rejected()
    bad = []
    for path in BANK_FILES:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for q in data["questions"]:
            texts = [q["stem"], q.get("explanation", "")]
            texts += [c["text"] + "\n" + c["why"] for c in q.get("choices", [])]
            bad += [f"{path.name} {q['id']}: {word!r} -> {term}" for text in texts
                    for _, word, term in test_glossary.violations(text, variants)]
        bad += [f"{path.name} title: {word!r} -> {term}"
                for _, word, term in test_glossary.violations(data["title"], variants)]
    assert not bad, "rejected variants in the bank:\n" + "\n".join(bad)


def test_numeric_answers_come_from_the_library(bank):
    by_id = {q.id: q for c in bank for q in c.questions}
    assert by_id["bgt-formule-bert-base"].answer == estimate_gpt_params(12, 768, 30522)
    assert by_id["bgt-formule-gpt3"].answer == estimate_gpt_params(96, 12288, 50257)
    assert by_id["ngram-perplexite-calcul"].answer == pytest.approx(perplexity([-0.5, -1.0, -1.5, -1.0]))
    mha = sum(p.numel() for p in MultiHeadAttention(512, 8).parameters())
    assert by_id["attn-mha-params"].answer == mha
    typed = []
    for path in BANK_FILES:
        for q in yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]:
            if q["type"] == "numeric" and not isinstance(q["answer"], dict):
                typed.append(q["id"])
    assert set(typed) <= TYPED_NUMERIC, (
        f"numeric answers typed by hand: {sorted(set(typed) - TYPED_NUMERIC)}; compute them with "
        "`answer: {compute: 'llmcours.module:function', args: {...}}`"
    )


def _right(bank, qid: str) -> str:
    [q] = [q for c in bank for q in c.questions if q.id == qid]
    return next(c.text for c in q.choices if c.correct)


def _fr3(x: float) -> str:
    return f"{x:.3f}".replace(".", "{,}")


def test_numbers_typed_in_choices_match_the_library(bank):
    """The right choices that state a number the course computes are recomputed here."""
    import torch
    from torch import nn

    from llmcours.attention import causal_mask, scaled_dot_product_attention
    from llmcours.lora import LoRALinear, count_trainable
    from llmcours.ngram import NGramLM

    q = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # the course's three tokens
    k = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    out, weights = scaled_dot_product_attention(q, k, q)
    assert _right(bank, "attn-trois-tokens-t2") == f"{weights[2, 1]:.3f}".replace(".", ",")
    assert _right(bank, "attn-trois-tokens-sortie") == f"$({_fr3(out[2, 0])} ;\\ {_fr3(out[2, 1])})$"
    _, causal = scaled_dot_product_attention(q, k, q, mask=causal_mask(3))
    assert _right(bank, "attn-causal-t2") == (
        f"$({_fr3(causal[1, 0])} ;\\ {_fr3(causal[1, 1])} ;\\ 0)$")
    lora = LoRALinear(nn.Linear(576, 576), r=8, alpha=16)
    assert _right(bank, "aff-lora-compte") == f"${count_trainable(lora):,}$".replace(",", "\\,")
    ngram = NGramLM(2, k=0).fit([["je", "suis", "content"], ["je", "suis"]])
    assert ngram.prob("content", ("suis",)) == 0.5 and _right(bank, "ngram-mle-bigramme") == "$1/2$"
    v, d = 49_152, 576  # SmolLM2's table, as the stem states it
    assert _right(bank, "emb-taille-smollm2") == f"{v * d / 1e6:.1f} millions".replace(".", ",")


# ---------------------------------------------------------------- bad bank files
GOOD = {
    "id": "x-one", "section": "sec-x", "difficulty": 1, "type": "single", "stem": "Question ?",
    "choices": [{"text": "oui", "correct": True, "why": "parce que"}, {"text": "non", "why": "non"}],
}


def _bank(tmp_path: Path, questions: list[dict], *, slug: str = "demo", planned: bool = False,
          notebook: bool = True, label: str = "sec-x") -> tuple[Path, Path]:
    chapters, bank_dir = tmp_path / "chapters", tmp_path / "quiz"
    chapters.mkdir(exist_ok=True)
    bank_dir.mkdir(exist_ok=True)
    if notebook:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell(f"# Démo\n\n({label})=\n## Section")]
        nbformat.write(nb, chapters / f"09_{slug}.ipynb")
    data = {"chapter": slug, "title": "Démo", "planned": planned, "questions": questions}
    (bank_dir / f"{slug}.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return bank_dir, chapters


@pytest.mark.parametrize("change, message", [
    ({"choices": [{"text": "a", "why": "w"}, {"text": "b", "why": "w"}]}, "no correct answer"),
    ({"section": "sec-nowhere"}, "unknown label 'sec-nowhere'"),
    ({"choices": [{"text": "a", "correct": True, "why": "w"},
                  {"text": "b", "correct": True, "why": "w"}]}, "2 correct choices"),
    ({"choices": [{"text": "a", "correct": True}, {"text": "b", "why": "w"}]}, "needs text and why"),
    ({"type": "essay"}, "type ('essay') must be one of"),
    ({"difficulty": 5}, "difficulty (5) must be 1, 2 or 3"),
    ({"type": "numeric", "choices": None}, "needs answer, tolerance and explanation"),
    ({"type": "numeric", "choices": None, "tolerance": 0, "explanation": "e",
      "answer": {"compute": "llmcours.transformer:estimate_gpt_params",
                 "args": {"n_layers": 12, "d_model": 768, "vocab_size": 30522}}},
     "the stem does not state d_model = 768"),
    ({"type": "numeric", "choices": None, "tolerance": 0, "explanation": "e",
      "answer": {"compute": "os:system", "args": {}}}, "must be 'llmcours.<module>:<function>'"),
])
def test_a_bad_question_names_the_file_and_the_question(tmp_path, change, message):
    question = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    bank_dir, chapters = _bank(tmp_path, [question])
    with pytest.raises(ValueError, match=re.escape(message)) as err:
        quiz.load_bank(bank_dir, chapters)
    assert str(bank_dir / "demo.yml") in str(err.value) and "'x-one'" in str(err.value)


def test_a_duplicate_id_names_both_files(tmp_path):
    _bank(tmp_path, [GOOD], slug="aaa")
    bank_dir, chapters = _bank(tmp_path, [GOOD], slug="bbb")
    with pytest.raises(ValueError, match=r"bbb\.yml \(question 'x-one'\): duplicate id, already used in .*aaa\.yml"):
        quiz.load_bank(bank_dir, chapters)


def test_planned_is_explicit_both_ways(tmp_path):
    bank_dir, chapters = _bank(tmp_path, [{**GOOD, "section": "sec-later"}], notebook=False)
    with pytest.raises(ValueError, match="write `planned: true`"):
        quiz.load_bank(bank_dir, chapters)
    bank_dir, chapters = _bank(tmp_path, [GOOD], planned=True)
    with pytest.raises(ValueError, match="remove `planned: true`"):
        quiz.load_bank(bank_dir, chapters)
    (chapters / "09_demo.ipynb").unlink()
    [chapter] = quiz.load_bank(bank_dir, chapters)
    assert chapter.planned and chapter.number is None  # labels not checked, and it says so


def test_the_llmcours_command_has_quiz(course, tmp_path, capsys):
    assert cli.COMMANDS.get("quiz") == "llmcours.quiz.cli", (
        "lib/llmcours/cli.py: add \"quiz\": \"llmcours.quiz.cli\" to COMMANDS"
    )
    assert cli.main(["quiz", "export", "--format", "gift", "-o", str(tmp_path / "q.gift")]) == 0
    assert (tmp_path / "q.gift").read_text(encoding="utf-8").startswith("// Banque")
    assert cli.main(["quiz", "export", "--format", "gift", "--chapters", "99"]) == 2
    assert capsys.readouterr().err.startswith(
        "llmcours quiz export : erreur : chapitres absents de la banque : 99 ;")


def test_quiz_export_reads_the_course_it_runs_in(tmp_path, monkeypatch, capsys):
    """Not the bank of the checkout where llmcours is installed: the course around the current
    folder, or --bank."""
    bank_dir, _ = _bank(tmp_path, [GOOD])
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\n", encoding="utf-8")
    (tmp_path / "chapters" / "sub").mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(tmp_path / "chapters" / "sub")
    assert quiz.main(["check"]) == 0
    assert capsys.readouterr().out.count("questions") == 1  # the one-file bank, not the course's
    monkeypatch.chdir(ROOT)
    assert quiz.main(["check", "--bank", str(bank_dir)]) == 0
    assert capsys.readouterr().out.count("questions") == 1
    assert quiz.main(["check", "--bank", str(tmp_path / "absent")]) == 2
    assert "--bank" in capsys.readouterr().err


def test_the_cli_prints_one_line_and_exits_2(tmp_path, monkeypatch, capsys):
    bank_dir, chapters = _bank(tmp_path, [{**GOOD, "choices": GOOD["choices"][1:] * 2}])
    assert quiz.main(["export", "--format", "gift", "--bank", str(bank_dir),
                      "-o", str(tmp_path / "q.gift")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("llmcours quiz export : erreur : ") and "'x-one'" in err


# ---------------------------------------------------------------- Moodle XML
def _html(text: str) -> str:
    return quiz.markdown_to_html(text, display_math=("$$", "$$"))


def test_moodle_xml_round_trip(bank, tmp_path, course):
    out = tmp_path / "bank.xml"
    assert quiz.main(["export", "--format", "moodle-xml", "-o", str(out)]) == 0
    root = ET.parse(out).getroot()
    assert root.tag == "quiz"
    expected = [(c, q) for c in bank for q in [None, *c.questions]]
    nodes = list(root)
    assert len(nodes) == len(expected)
    for node, (chapter, q) in zip(nodes, expected, strict=True):
        if q is None:
            assert node.get("type") == "category"
            assert node.findtext("category/text") == f"$course$/top/llmcours/{chapter.category}"
            continue
        assert node.findtext("name/text") == q.id == node.findtext("idnumber")
        text = node.findtext("questiontext/text")
        assert text == _html(q.stem)
        assert not re.search(r"(?<!\$)\$(?!\$)", text), f"{q.id}: single $ left for Moodle"
        tags = [t.text for t in node.findall("tags/tag/text")]
        assert f"difficulte-{q.difficulty}" in tags and q.section in tags
        answers = node.findall("answer")
        if q.type == "numeric":
            assert node.get("type") == "numerical" and len(answers) == 1
            assert float(answers[0].findtext("text")) == q.answer
            assert float(answers[0].findtext("tolerance")) == pytest.approx(q.tolerance)
            assert answers[0].findtext("feedback/text") == _html(q.explanation)
            continue
        assert node.get("type") == "multichoice"
        assert node.findtext("single") == ("true" if q.type == "single" else "false")
        assert [a.findtext("text") for a in answers] == [_html(c.text) for c in q.choices]
        assert [a.findtext("feedback/text") for a in answers] == [_html(c.why) for c in q.choices]
        fractions = [float(a.get("fraction")) for a in answers]
        for f in fractions:
            assert any(abs(abs(f) - g) < 1e-4 for g in quiz.MOODLE_GRADES), f"{q.id}: grade {f}"
        good = [f for f, c in zip(fractions, q.choices, strict=True) if c.correct]
        bad = [f for f, c in zip(fractions, q.choices, strict=True) if not c.correct]
        assert sum(good) == pytest.approx(100, abs=1e-3), q.id
        assert all(f > 0 for f in good) and len(set(good)) == 1, q.id
        if q.type == "single":
            assert bad == [0] * len(bad)
        else:  # ticking every box scores 0 (Moodle clamps the sum at 0)
            assert sum(bad) == pytest.approx(-100, abs=1e-3) and all(f < 0 for f in bad), q.id


def test_moodle_xml_keeps_maths_for_mathjax(bank):
    text = quiz.to_moodle_xml(bank)
    assert r"\(\mathrm{softmax}" in html.unescape(text) or r"\(QK^\top" in html.unescape(text)
    assert "$$" in quiz.markdown_to_html("$$a$$", display_math=("$$", "$$"))
    assert quiz.markdown_to_html("$a < b$ et `x<y` **g**") == (
        r"\(a &lt; b\) et <code>x&lt;y</code> <strong>g</strong>")


def test_chosen_chapters_by_number_or_slug(bank, tmp_path, course):
    out = tmp_path / "two.xml"
    number = next(c.number for c in bank if c.slug == "attention_transformer")
    assert quiz.main(["export", "--format", "moodle-xml", "--chapters", number,
                     "bert_gpt_t5", "-o", str(out)]) == 0
    cats = [n.findtext("category/text") for n in ET.parse(out).getroot() if n.get("type") == "category"]
    assert [c.rsplit("/", 1)[1] for c in cats] == [
        c.category for c in bank if c.slug in ("attention_transformer", "bert_gpt_t5")]
    with pytest.raises(ValueError, match=r"chapitres absents de la banque : 42 ;"):
        quiz.load_bank(chapters=["42"])


# ---------------------------------------------------------------- GIFT
def _split_unescaped(text: str, marks: str) -> list[tuple[str, str]]:
    """Split GIFT text at the unescaped characters of ``marks``: [(mark, piece), ...]."""
    out, mark, piece, i = [], "", "", 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            piece += text[i:i + 2]
            i += 2
            continue
        if text[i] in marks:
            out.append((mark, piece))
            mark, piece = text[i], ""
        else:
            piece += text[i]
        i += 1
    return out + [(mark, piece)]


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], text.strip())


def parse_gift(text: str) -> list[dict]:
    """A small GIFT reader: categories, then ``::name::[html]text{answers}`` questions."""
    questions, category = [], None
    blocks = [b for b in text.split("\n\n") if b.strip() and not b.lstrip().startswith("// Banque")]
    for block in blocks:
        comments = " ".join(line for line in block.strip().split("\n") if line.startswith("//"))
        lines = [line for line in block.strip().split("\n") if not line.startswith("//")]
        block = "\n".join(lines)
        if block.startswith("$CATEGORY:"):
            category = block[len("$CATEGORY:"):].strip()
            continue
        m = re.fullmatch(r"::((?:\\.|[^:\\])+)::\[html\]((?:\\.|[^{\\])+)\{(.*)\}", block, re.DOTALL)
        assert m, f"not a GIFT question: {block[:200]}"
        q = {"category": category, "id": _unescape(m[1]), "text": _unescape(m[2]), "answers": [],
             "general": None, "idnumber": re.findall(r"\[id:([^\]]+)\]", comments),
             "tags": re.findall(r"\[tag:([^\]]+)\]", comments)}
        body = m[3].strip()
        if body.startswith("#") and not body.startswith("####"):
            q["numeric"] = True
            body = body[1:]
        for mark, piece in _split_unescaped(body, "=~"):
            if not piece.strip() and not mark:
                continue
            parts = _split_unescaped(piece, "#")
            answer = {"mark": mark, "text": parts[0][1]}
            rest = [p for _, p in parts[1:]]
            if len(rest) >= 4 and rest[1:4] == ["", "", ""]:  # '####': the general feedback
                q["general"] = _unescape(rest[4]) if len(rest) > 4 else ""
                rest = rest[:1]
            answer["feedback"] = _unescape(rest[0]) if rest else None
            weight = re.match(r"%(-?[\d.]+)%", answer["text"])
            answer["weight"] = float(weight[1]) if weight else (100.0 if mark == "=" else 0.0)
            answer["text"] = _unescape(answer["text"][weight.end():] if weight else answer["text"])
            if answer["text"] or answer["feedback"]:
                q["answers"].append(answer)
        questions.append(q)
    return questions


def test_gift_round_trip(bank, tmp_path, course):
    out = tmp_path / "bank.gift"
    assert quiz.main(["export", "--format", "gift", "-o", str(out)]) == 0
    parsed = parse_gift(out.read_text(encoding="utf-8"))
    expected = [(c, q) for c in bank for q in c.questions]
    assert [p["id"] for p in parsed] == [q.id for _, q in expected]
    for p, (chapter, q) in zip(parsed, expected, strict=True):
        assert p["category"] == f"$course$/top/llmcours/{chapter.category}"
        assert p["text"] == _html(q.stem), q.id
        assert p["idnumber"] == [q.id] and f"difficulte-{q.difficulty}" in p["tags"]
        if q.type == "numeric":
            [a] = p["answers"]
            value, tolerance = a["text"].split(":")
            assert float(value) == pytest.approx(q.answer) and float(tolerance) == pytest.approx(q.tolerance)
            assert a["feedback"] == _html(q.explanation) and p["general"] == _html(q.explanation)
            continue
        assert [a["text"] for a in p["answers"]] == [_html(c.text) for c in q.choices], q.id
        assert [a["feedback"] for a in p["answers"]] == [_html(c.why) for c in q.choices], q.id
        weights = [a["weight"] for a in p["answers"]]
        assert weights == pytest.approx(quiz.moodle_fractions(q)), q.id
        if q.type == "single":
            assert [a["mark"] for a in p["answers"]] == ["=" if c.correct else "~" for c in q.choices]


def test_gift_escapes_its_special_characters():
    assert quiz.gift_escape(r"a: {b} = c ~ #d \(x\)") == r"a\: \{b\} \= c \~ \#d \\(x\\)"
    assert _unescape(quiz.gift_escape(r"a: {b} = c ~ #d \(x\)")) == r"a: {b} = c ~ #d \(x\)"


# ---------------------------------------------------------------- the self-check
def test_self_check_renders_every_choice_offline(bank, course):
    chapter = next(c for c in bank if c.slug == "attention_transformer")
    out = quiz.self_check("attention_transformer")
    markup = out._repr_html_()
    assert markup.count('class="llmq-q"') == len(chapter.questions)
    assert "<script>" in markup and "mathjax_process" in markup
    for q in chapter.questions:
        for c in q.choices:
            assert quiz.markdown_to_html(c.text) in markup and quiz.markdown_to_html(c.why) in markup
    assert not re.search(r"(src|href)=|https?:|@import", markup), "the quiz must load nothing"
    assert "Testez-vous" in repr(out)
    first = [m for m in re.findall(r'data-choice="(\d+)"', markup)]
    assert first != sorted(first), "the choices are shown in the bank's order"
    assert markup == quiz.self_check("attention_transformer")._repr_html_(), "not reproducible"
    with pytest.raises(ValueError, match="no bank file"):
        quiz.self_check("nowhere")


def test_without_the_course_the_self_check_says_where_it_is(monkeypatch, tmp_path):
    monkeypatch.setattr(quiz.bank, "BANK_DIR", tmp_path / "absent")
    monkeypatch.chdir(tmp_path)  # no quiz/ here or above: a pip-installed llmcours on Colab
    assert "site du cours" in quiz.self_check("attention_transformer")._repr_html_()
    assert "site du cours" in quiz.final_quiz()._repr_html_()


def test_final_draw_is_balanced_and_seeded(bank):
    drawn = quiz.draw_final(bank, per_chapter=3, seed=7)
    assert [q.id for q in drawn] == [q.id for q in quiz.draw_final(bank, per_chapter=3, seed=7)]
    assert [q.id for q in drawn] != [q.id for q in quiz.draw_final(bank, per_chapter=3, seed=8)]
    written = [c for c in bank if not c.planned]
    for chapter in written:
        mine = [q for q in drawn if q.chapter == chapter.slug]
        assert len(mine) == 3
        levels = {q.difficulty for q in chapter.questions}
        assert len({q.difficulty for q in mine}) == min(3, len(levels)), chapter.slug
    assert len(drawn) == 3 * len(written) == len({q.id for q in drawn})


# ---------------------------------------------------------------- tools/add_selfcheck.py
def test_the_tool_is_idempotent_and_keeps_notebooks_clean(labelled, tmp_path):
    assert add_selfcheck.main(["--chapters-dir", str(labelled), "--check"]) == 0
    before = {p.name: p.read_bytes() for p in labelled.glob("*.ipynb")}
    assert add_selfcheck.main(["--chapters-dir", str(labelled)]) == 0
    assert before == {p.name: p.read_bytes() for p in labelled.glob("*.ipynb")}
    for path in labelled.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert not any(c.get("outputs") or c.get("execution_count") for c in nb.cells if c.cell_type == "code")
        assert nb.cells[-2].source.startswith(add_selfcheck.HEADING)
        assert nb.cells[-1].metadata["tags"] == ["remove-input"]
    # each label sits on the line right above its heading
    nb = nbformat.read(next(labelled.glob("*_attention_transformer.ipynb")), as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert re.search(r"^\(sec-attn-trois-tokens\)=\n## Un exemple", text, re.MULTILINE)
    fresh = tmp_path / "fresh"  # a chapter without its section: --check fails
    fresh.mkdir()
    nb = nbformat.read(CHAPTERS[0], as_version=4)
    nb.cells = [c for c in nb.cells if "self_check(" not in c.source
                and not c.source.startswith(add_selfcheck.HEADING)]
    nbformat.write(nb, fresh / CHAPTERS[0].name)
    assert add_selfcheck.main(["--chapters-dir", str(fresh), "--check"]) == 1


def test_the_tool_runs_as_a_script(labelled):
    run = subprocess.run([sys.executable, str(TOOL), "--check", "--chapters-dir", str(labelled)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


# ---------------------------------------------------------------- in a browser
FINAL_PAGE = "annexes/qcm_final"


def _answer_for(page, bank_by_id, question, *, right: bool) -> None:
    """Answer one question on the page, right or wrong, from the bank (not from the page)."""
    q = bank_by_id[question.get_attribute("data-qid")]
    if q.type == "numeric":
        value = q.answer if right else q.answer + 10 * q.tolerance + 1
        question.locator("input").fill(f"{value:.12g}".replace(".", ","))
        question.locator("button").click()
        return
    targets = [c.correct for c in q.choices]
    if not right:
        wrong = targets.index(False)
        targets = [i == wrong for i in range(len(targets))] if q.type == "single" else \
            [t or i == wrong for i, t in enumerate(targets)]
    for i, tick in enumerate(targets):  # data-choice: the index in the bank (shown shuffled)
        box = question.locator(f'li[data-choice="{i}"] input')
        if q.type == "single":
            if tick:
                box.check()
        elif tick != box.is_checked():
            box.set_checked(tick)
    question.locator("button", has_text="Vérifier").click()  # single and multiple answer on it


@pytest.fixture(scope="module")
def site_url():
    test_site = pytest.importorskip("test_site")  # its quiet local server, reused
    site = Path(os.environ.get("LLMCOURS_SITE", SITE))  # another build (a throwaway book)
    if not (site / FINAL_PAGE).with_suffix(".html").is_file():
        pytest.fail(f"{site}/{FINAL_PAGE}.html is missing: add it to _toc.yml and build the site")
    handler = functools.partial(test_site._QuietHandler, directory=str(site))
    server = test_site._QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    test_site = pytest.importorskip("test_site")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=test_site.CHROMIUM, args=test_site.CHROMIUM_ARGS)
        yield browser
        browser.close()


def _pages() -> list[str]:
    chapter = next((f"chapters/{p.stem}" for p in CHAPTERS if p.stem.endswith("attention_transformer")), None)
    return [FINAL_PAGE] + ([chapter] if chapter else [])


@pytest.mark.browser
@pytest.mark.parametrize("name", _pages())
def test_the_quiz_answers_right_and_wrong_in_a_browser(chromium, site_url, bank, name):
    import test_site

    bank_by_id = {q.id: q for c in bank for q in c.questions}
    page, problems = test_site._open(chromium, f"{site_url}{name}.html")
    try:
        questions = page.locator(".llmq-q")
        assert questions.count() >= 8, f"{name}: no quiz on the page"
        page.wait_for_selector(".llmq mjx-container", state="attached")  # maths typeset offline
        kinds = [questions.nth(i).get_attribute("data-kind") for i in range(questions.count())]
        for kind in ("single", "multiple", "numeric"):
            if kind not in kinds:
                continue
            question = questions.nth(kinds.index(kind))
            verdict = question.locator(".llmq-verdict")
            _answer_for(page, bank_by_id, question, right=False)
            assert "llmq-ko" in verdict.get_attribute("class"), f"{name}: {kind} wrong not flagged"
            assert verdict.inner_text().startswith(("Mauvaise", "Pas tout à fait"))
            assert question.locator(".llmq-why:visible").count() >= 1, "no explanation shown"
            _answer_for(page, bank_by_id, question, right=True)
            assert "llmq-ok" in verdict.get_attribute("class"), f"{name}: {kind} right not flagged"
            assert verdict.inner_text() == "Bonne réponse."
        if name == FINAL_PAGE:
            right = sum(k in ("single", "multiple", "numeric") for k in set(kinds))
            assert page.locator(".llmq-score").inner_text() == f"Score : {right} / {len(kinds)}"
        assert not problems["external"], f"requests outside the site: {problems['external']}"
        assert not problems["console"], f"console errors: {problems['console']}"
    finally:
        page.close()


def test_quiz_command_never_imports_the_grading_wing():
    """`llmcours quiz …` works where only the teaching library is installed (no nbgrader)."""
    code = ("import sys; from llmcours.cli import main; rc = main(['quiz', 'check']); "
            "assert rc == 0, rc; heavy = [m for m in ('nbgrader', 'llmcours.grading', 'nbformat') "
            "if m in sys.modules]; assert not heavy, heavy")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.browser
def test_self_check_in_chromium_answers_on_verifier_and_names_every_box(chromium, bank, course, tmp_path):
    """In the browser (issue 19): a single-choice question answers only on « Vérifier » (the
    arrow keys that move between radios must not judge each step), and every radio and
    checkbox is named by its choice's text."""
    chapter = next(c for c in bank if c.slug == "attention_transformer")
    page_file = tmp_path / "quiz.html"
    page_file.write_text('<!doctype html><html lang="fr"><meta charset="utf-8"><body>'
                         + quiz.self_check("attention_transformer")._repr_html_() + "</body></html>",
                         encoding="utf-8")
    page = chromium.new_page()
    try:
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_file.as_uri())
        names = page.eval_on_selector_all(
            ".llmq input[type=radio], .llmq input[type=checkbox]",
            "els => els.map(e => Array.from(e.labels).map(l => l.textContent.trim()).join(' '))")
        n_choices = sum(len(q.choices) for q in chapter.questions if q.type != "numeric")
        assert len(names) == n_choices and all(names), f"boxes without a text label: {names}"
        for q in chapter.questions:
            if q.type == "single":
                for c in q.choices:
                    text = html.unescape(re.sub(r"<[^>]+>", "", quiz.markdown_to_html(c.text)))
                    assert page.get_by_role("radio", name=text, exact=True).count() >= 1, (
                        f"{q.id}: no radio named « {c.text} »")
        single = page.locator('.llmq-q[data-kind="single"]').first
        verdict = single.locator(".llmq-verdict")
        single.locator("button", has_text="Vérifier").click()
        assert verdict.text_content() == "Choisissez une réponse."
        radios = single.locator("input[type=radio]")
        radios.nth(0).focus()
        page.keyboard.press("Space")
        page.keyboard.press("ArrowDown")
        assert radios.nth(1).is_checked(), "the arrow key did not move to the next radio"
        assert verdict.text_content() == "Choisissez une réponse.", "an arrow key answered the question"
        assert single.locator(".llmq-why:not([hidden])").count() == 0, "an explanation shows before « Vérifier »"
        single.locator("button", has_text="Vérifier").click()
        correct = single.locator("li").nth(1).get_attribute("data-correct") == "1"
        assert verdict.text_content().startswith("Bonne réponse" if correct else "Mauvaise réponse")
        assert single.locator(".llmq-why:not([hidden])").count() == 1, "the chosen answer's explanation"
        assert not errors, errors
    finally:
        page.close()
