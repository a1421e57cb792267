"""The course's QCM: one question bank, checked, shown as self-checks, exported to Moodle.

The bank is ``quiz/<slug>.yml`` at the root of the course, one file per chapter, keyed by the
chapter's *slug* (``chapters/06_attention_transformer.ipynb`` → ``attention_transformer``), so
that renumbering the chapters changes nothing. A file looks like::

    chapter: attention_transformer      # the slug; must be the file's name
    title: Attention et Transformer
    planned: false                       # true: the chapter is not written yet (see below)
    labels:                              # label -> heading, for tools/add_selfcheck.py --labels
      sec-attention-trois-tokens: "## Un exemple à la main : trois tokens"
    questions:
      - id: attention-trois-tokens-t2    # unique in the whole bank
        section: sec-attention-trois-tokens   # a MyST label (sec-...)= of the chapter
        difficulty: 2                    # 1 facile, 2 moyen, 3 difficile
        type: single                     # single | multiple | numeric
        stem: "Quel poids $t_3$ donne-t-il à $t_2$ ?"    # Markdown: $maths$, `code`, *em*
        choices:
          - {text: "0,503", correct: true, why: "softmax de (0,707 ; 1,414 ; 0,707)"}
          - {text: "0,248", why: "c'est le poids de $t_1$ et de $t_3$"}

A ``numeric`` question has ``answer`` (a number, or ``{compute: "llmcours.module:function",
args: {...}}`` so that a number the course computes is computed by the library, never typed
twice), ``tolerance`` (absolute, or ``"1%"`` relative) and ``explanation``. Every value of
``args`` must appear in the stem, so the question and its computation cannot drift apart.

A chapter with ``planned: true`` has no notebook yet: its labels are not checked, and the
loader says so (``Chapter.planned``); once the notebook exists the flag must go (an error
says so), so no check is ever skipped silently.

``load_bank`` raises one ``ValueError`` naming the file and the question for any problem
(no correct answer, unknown label, duplicate id...). ``self_check(slug)`` renders a chapter's
questions as self-contained HTML + JavaScript (no server, no network: the answer and its
explanation appear as soon as the student clicks); ``final_quiz()`` draws a balanced,
seeded set across the chapters. ``to_moodle_xml`` and ``to_gift`` export the bank for
Moodle's question bank (one category per chapter, maths as ``\\(...\\)`` / ``$$...$$`` for
Moodle's MathJax filter, explanations as feedback, multiple answers scored with fractions
summing to 100 % and negative fractions for wrong choices).
"""

from __future__ import annotations

import argparse
import html
import importlib
import json
import random
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "Choice", "Question", "Chapter", "load_chapter", "load_bank", "notebook_labels",
    "markdown_to_html", "render_html", "self_check", "draw_final", "final_quiz",
    "moodle_fractions", "to_moodle_xml", "to_gift", "register", "main",
]

ROOT = Path(__file__).resolve().parents[2]
BANK_DIR = ROOT / "quiz"
CHAPTERS_DIR = ROOT / "chapters"
TYPES = ("single", "multiple", "numeric")
DIFFICULTIES = {1: "facile", 2: "moyen", 3: "difficile"}
LABEL = re.compile(r"^\(([A-Za-z0-9_.:-]+)\)=\s*$", re.MULTILINE)
ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Moodle accepts only these grades for an answer (question_bank::fraction_options_full), in %.
MOODLE_GRADES = (100, 90, 83.33333, 80, 75, 70, 66.66667, 60, 50, 40, 33.33333, 30, 25, 20,
                 16.66667, 14.28571, 12.5, 11.11111, 10, 5, 0)


@dataclass
class Choice:
    text: str
    correct: bool
    why: str


@dataclass
class Question:
    id: str
    chapter: str
    section: str
    difficulty: int
    type: str
    stem: str
    choices: list[Choice] = field(default_factory=list)
    answer: float | None = None      # numeric questions
    tolerance: float | None = None   # absolute
    explanation: str = ""            # numeric: why; choices carry their own


@dataclass
class Chapter:
    slug: str
    title: str
    planned: bool
    path: Path
    notebook: Path | None
    questions: list[Question]
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def number(self) -> str | None:
        """The two digits of the notebook's file name, or None for a planned chapter."""
        return self.notebook.name[:2] if self.notebook else None

    @property
    def category(self) -> str:
        """The Moodle category's name (no Markdown: ``*embeddings*`` -> ``embeddings``)."""
        title = self.title.replace("*", "")
        return f"Chapitre {self.number} — {title}" if self.number else title


def notebook_labels(path: Path) -> set[str]:
    """The MyST labels ``(name)=`` of a notebook's markdown cells."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return set(LABEL.findall(text))


def find_notebook(slug: str, chapters_dir: Path) -> Path | None:
    found = sorted(Path(chapters_dir).glob(f"[0-9][0-9]_{slug}.ipynb"))
    return found[0] if found else None


def _compute(spec: Any, where: str) -> float:
    """``{compute: "llmcours.module:function", args: {...}}`` -> the library's number.

    ``item: i`` takes element i of a tuple; ``measure: parameters`` counts the parameters of
    the module that the call builds (``llmcours.rnn:LSTM`` with its sizes)."""
    if not isinstance(spec, dict) or set(spec) - {"compute", "args", "item", "measure"} or "compute" not in spec:
        raise ValueError(f"{where}: answer must be a number or {{compute: 'llmcours.module:function', "
                         f"args: {{...}}}}, got {spec!r}")
    target = str(spec["compute"])
    module_name, _, name = target.partition(":")
    if not module_name.startswith("llmcours.") or not name:
        raise ValueError(f"{where}: compute ({target!r}) must be 'llmcours.<module>:<function>'")
    try:
        function = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"{where}: compute ({target!r}) not found: {err}") from err
    value = function(**(spec.get("args") or {}))
    if "item" in spec:
        value = value[spec["item"]]
    if spec.get("measure") == "parameters":  # a module built from args: count its parameters
        value = sum(p.numel() for p in value.parameters())
    elif "measure" in spec:
        raise ValueError(f"{where}: measure ({spec['measure']!r}) can only be 'parameters'")
    return float(value)


def _plain(text: str) -> str:
    """The stem without spaces and LaTeX spacing, to find the numbers it states."""
    return re.sub(r"\\[,;! ]|[\s\u202f\u00a0{}]", "", text.replace("{,}", ","))


def _check_args_in_stem(spec: Any, stem: str, where: str) -> None:
    plain = _plain(stem)
    for name, value in (spec.get("args") or {}).items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            forms = {str(v), str(v).replace(".", ",")}
            if isinstance(v, float) and v.is_integer():
                forms |= {str(int(v))}
            for e in range(3, 31):  # 175e9 written 175 \times 10^9, 175 milliards...
                m = round(v / 10**e, 6) if isinstance(v, (int, float)) and v >= 10**e else None
                if m is not None and abs(m * 10**e - v) <= 1e-9 * v:
                    for mant in {f"{m:g}", f"{m:g}".replace(".", ",")}:
                        forms |= {f"{mant}\\times10^{e}", f"{mant}\\times10^{{{e}}}",
                                  f"{mant}·10^{e}", f"{mant}e{e}"}
                        forms |= {f"{mant}milliards"} if e == 9 else set()
            if not any(_plain(f) in plain for f in forms):
                raise ValueError(f"{where}: the stem does not state {name} = {v} "
                                 "(every argument of the computation must appear in the stem)")


def _tolerance(value: Any, answer: float, where: str) -> float:
    if isinstance(value, str) and value.strip().endswith("%"):
        return abs(answer) * float(value.strip()[:-1].replace(",", ".")) / 100
    if isinstance(value, (int, float)) and value >= 0:
        return float(value)
    raise ValueError(f"{where}: tolerance ({value!r}) must be a number >= 0 or a percentage '1%'")


def _question(raw: Any, slug: str, where: str) -> Question:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: a question must be a mapping, got {raw!r}")
    qid = raw.get("id")
    if not isinstance(qid, str) or not ID.match(qid):
        raise ValueError(f"{where}: id ({qid!r}) must be lowercase letters, digits and '-'")
    where = f"{where} (question {qid!r})"
    missing = [k for k in ("section", "difficulty", "type", "stem") if not raw.get(k)]
    if missing:
        raise ValueError(f"{where}: missing {', '.join(missing)}")
    known = {"id", "section", "difficulty", "type", "stem", "choices", "answer", "tolerance",
             "explanation"}
    if unknown := sorted(set(raw) - known):
        raise ValueError(f"{where}: unknown keys {unknown} (expected some of {sorted(known)})")
    if raw["type"] not in TYPES:
        raise ValueError(f"{where}: type ({raw['type']!r}) must be one of {TYPES}")
    if raw["difficulty"] not in DIFFICULTIES:
        raise ValueError(f"{where}: difficulty ({raw['difficulty']!r}) must be 1, 2 or 3")
    q = Question(id=qid, chapter=slug, section=str(raw["section"]), difficulty=raw["difficulty"],
                 type=raw["type"], stem=str(raw["stem"]).strip())
    if q.type == "numeric":
        if "answer" not in raw or "tolerance" not in raw or not raw.get("explanation"):
            raise ValueError(f"{where}: a numeric question needs answer, tolerance and explanation")
        if "choices" in raw:
            raise ValueError(f"{where}: a numeric question has no choices")
        if isinstance(raw["answer"], (int, float)) and not isinstance(raw["answer"], bool):
            q.answer = float(raw["answer"])
        else:
            _check_args_in_stem(raw["answer"], q.stem, where)
            q.answer = _compute(raw["answer"], where)
        q.tolerance = _tolerance(raw["tolerance"], q.answer, where)
        q.explanation = str(raw["explanation"]).strip()
        return q
    choices = raw.get("choices")
    if not isinstance(choices, list) or len(choices) < 2:
        raise ValueError(f"{where}: needs a list of at least 2 choices")
    for i, c in enumerate(choices, 1):
        if not isinstance(c, dict) or not c.get("text") or not c.get("why"):
            raise ValueError(f"{where}: choice {i} needs text and why (the explanation)")
        if set(c) - {"text", "correct", "why"} or not isinstance(c.get("correct", False), bool):
            raise ValueError(f"{where}: choice {i} has keys text, why and correct: true/false")
        q.choices.append(Choice(str(c["text"]).strip(), c.get("correct", False), str(c["why"]).strip()))
    n_correct = sum(c.correct for c in q.choices)
    if n_correct == 0:
        raise ValueError(f"{where}: no correct answer (mark one choice correct: true)")
    if q.type == "single" and n_correct != 1:
        raise ValueError(f"{where}: a single-answer question has {n_correct} correct choices")
    if q.type == "multiple" and n_correct == len(q.choices):
        raise ValueError(f"{where}: every choice is correct; keep at least one wrong choice")
    if len({c.text for c in q.choices}) != len(q.choices):
        raise ValueError(f"{where}: two choices have the same text")
    if raw.get("explanation"):
        q.explanation = str(raw["explanation"]).strip()
    return q


def load_chapter(path: Path, chapters_dir: Path | None = None) -> Chapter:
    """Read and check one bank file (its labels against the chapter's notebook)."""
    path, chapters_dir = Path(path), Path(chapters_dir or CHAPTERS_DIR)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(raw, dict) or not raw.get("chapter") or not raw.get("title"):
        raise ValueError(f"{path}: needs chapter (the slug), title and questions")
    slug = str(raw["chapter"])
    if slug != path.stem:
        raise ValueError(f"{path}: chapter ({slug!r}) must be the file's name ({path.stem!r})")
    planned = raw.get("planned", False)
    if not isinstance(planned, bool):
        raise ValueError(f"{path}: planned ({planned!r}) must be true or false")
    notebook = find_notebook(slug, chapters_dir)
    if notebook is None and not planned:
        raise ValueError(f"{path}: no notebook chapters/NN_{slug}.ipynb; write `planned: true` "
                         "if the chapter is not written yet")
    if notebook is not None and planned:
        raise ValueError(f"{path}: {notebook.name} exists now: remove `planned: true` so that "
                         "its labels are checked")
    labels = notebook_labels(notebook) if notebook else None
    questions = [_question(q, slug, str(path)) for q in raw.get("questions") or []]
    if not questions:
        raise ValueError(f"{path}: no questions")
    for q in questions:
        if labels is not None and q.section not in labels:
            hint = ("; run tools/add_selfcheck.py to add it before its heading"
                    if q.section in (raw.get("labels") or {}) else "")
            raise ValueError(f"{path} (question {q.id!r}): unknown label {q.section!r}: "
                             f"{notebook.name} has no ({q.section})={hint}")
    return Chapter(slug, str(raw["title"]), planned, path, notebook, questions,
                   dict(raw.get("labels") or {}))


def load_bank(bank_dir: Path | None = None, chapters_dir: Path | None = None,
              chapters: list[str] | None = None) -> list[Chapter]:
    """Every bank file, checked, in the order of the course (planned chapters last).

    ``chapters`` keeps only those slugs or chapter numbers (``["06", "bert_gpt_t5"]``).
    """
    bank_dir = Path(bank_dir or BANK_DIR)
    files = sorted(bank_dir.glob("*.yml"))
    if not files:
        raise ValueError(f"{bank_dir}: no bank file *.yml")
    bank = [load_chapter(f, chapters_dir) for f in files]
    seen: dict[str, Path] = {}
    for chapter in bank:
        for q in chapter.questions:
            if q.id in seen:
                raise ValueError(f"{chapter.path} (question {q.id!r}): duplicate id, "
                                 f"already used in {seen[q.id]}")
            seen[q.id] = chapter.path
    bank.sort(key=lambda c: (c.number or "99", c.slug))
    if chapters:
        wanted = [str(c) for c in chapters]
        known = {c.slug for c in bank} | {c.number for c in bank if c.number}
        if unknown := [w for w in wanted if w.zfill(2) not in known and w not in known]:
            raise ValueError(f"chapters {unknown} not in the bank; known: {sorted(known)}")
        bank = [c for c in bank if c.slug in wanted or (c.number and c.number in
                                                          {w.zfill(2) for w in wanted})]
    return bank


# ---------------------------------------------------------------- Markdown of the stems
MATH_OR_CODE = re.compile(r"(\$\$.+?\$\$|\$[^$]+?\$|`[^`]+`)", re.DOTALL)


def markdown_to_html(text: str, *, display_math: tuple[str, str] = ("\\[", "\\]")) -> str:
    """The little Markdown of the bank: ``$x$`` → ``\\(x\\)``, ``$$x$$`` → display maths,
    `code`, **bold**, *italics*; everything else HTML-escaped."""
    out = []
    for i, part in enumerate(MATH_OR_CODE.split(text)):
        if i % 2:
            if part.startswith("$$"):
                out.append(display_math[0] + html.escape(part[2:-2], quote=False) + display_math[1])
            elif part.startswith("$"):
                out.append("\\(" + html.escape(part[1:-1], quote=False) + "\\)")
            else:
                out.append("<code>" + html.escape(part[1:-1], quote=False) + "</code>")
        else:
            part = html.escape(part, quote=False)
            part = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", part)
            part = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", part)
            out.append(part.replace("\n\n", "<br><br>"))
    return "".join(out)


def _fr_number(x: float) -> str:
    text = f"{x:,.6g}" if abs(x) < 1e6 else f"{x:,.0f}"
    return text.replace(",", "\u202f").replace(".", ",")


# ---------------------------------------------------------------- the self-check (HTML + JS)
_CSS = """
.llmq{font-size:.95rem;margin:1rem 0}
.llmq-q{border:1px solid #c9d3df;border-radius:6px;padding:.7rem 1rem;margin:0 0 1rem 0}
.llmq-stem{font-weight:600;margin:.2rem 0 .5rem 0}
.llmq-meta{font-size:.8rem;color:#555;margin-bottom:.3rem}
.llmq ul{list-style:none;padding-left:0;margin:0}
.llmq li{margin:.25rem 0;padding:.15rem .4rem;border-radius:4px}
.llmq li.llmq-ok{background:#e3f4e5}
.llmq li.llmq-ko{background:#fbe4e4}
.llmq-why{font-size:.88rem;margin:.2rem 0 .2rem 1.6rem;color:#333}
.llmq-verdict{margin-top:.4rem;font-weight:600}
.llmq-verdict.llmq-ok{color:#1b6e2a}.llmq-verdict.llmq-ko{color:#a32020}
.llmq button{margin-top:.4rem;padding:.15rem .8rem;border:1px solid #888;border-radius:4px;
 background:#f4f4f4;cursor:pointer}
.llmq input[type=text]{width:12em;padding:.1rem .3rem}
.llmq-score{font-weight:600;margin-top:.5rem}
"""

# Written once per output; each output wires only its own container (found by id), so
# re-running a cell or showing several quizzes on one page is harmless.
_JS = """
(function () {
  var root = document.getElementById(%(uid)s);
  if (!root || root.getAttribute("data-ready")) return;
  root.setAttribute("data-ready", "1");
  function verdict(q, ok, text) {
    var v = q.querySelector(".llmq-verdict");
    v.textContent = text;
    v.className = "llmq-verdict " + (ok ? "llmq-ok" : "llmq-ko");
    q.setAttribute("data-state", ok ? "ok" : "ko");
    var score = root.querySelector(".llmq-score");
    if (score) {
      var n = root.querySelectorAll(".llmq-q").length;
      var k = root.querySelectorAll('.llmq-q[data-state="ok"]').length;
      score.textContent = "Score : " + k + " / " + n;
    }
  }
  function show(li, state) {
    li.classList.remove("llmq-ok", "llmq-ko");
    if (state) li.classList.add(state);
    li.querySelector(".llmq-why").hidden = !state;
  }
  root.querySelectorAll(".llmq-q").forEach(function (q) {
    var kind = q.getAttribute("data-kind");
    var items = Array.prototype.slice.call(q.querySelectorAll("li"));
    if (kind === "single") {
      items.forEach(function (li) {
        li.querySelector("input").addEventListener("change", function () {
          items.forEach(function (other) { show(other, null); });
          var ok = li.getAttribute("data-correct") === "1";
          show(li, ok ? "llmq-ok" : "llmq-ko");
          verdict(q, ok, ok ? "Bonne réponse." : "Mauvaise réponse : lisez pourquoi, puis réessayez.");
        });
      });
    } else if (kind === "multiple") {
      q.querySelector("button").addEventListener("click", function () {
        var errors = 0;
        items.forEach(function (li) {
          var checked = li.querySelector("input").checked;
          var correct = li.getAttribute("data-correct") === "1";
          if (checked !== correct) errors += 1;
          show(li, checked === correct ? (checked ? "llmq-ok" : null) : "llmq-ko");
        });
        verdict(q, errors === 0, errors === 0 ? "Bonne réponse." :
          "Pas tout à fait : " + errors + " case(s) à revoir (expliquées ci-dessus).");
      });
    } else {
      q.querySelector("button").addEventListener("click", function () {
        var raw = q.querySelector("input").value.replace(/[\\s\\u202f\\u00a0]/g, "").replace(",", ".");
        var x = Number(raw);
        var answer = Number(q.getAttribute("data-answer"));
        var tol = Number(q.getAttribute("data-tolerance"));
        var ok = raw !== "" && isFinite(x) && Math.abs(x - answer) <= tol + 1e-12 * Math.abs(answer);
        q.querySelector(".llmq-why").hidden = false;
        verdict(q, ok, raw === "" || !isFinite(x) ? "Entrez un nombre." :
          (ok ? "Bonne réponse." : "Mauvaise réponse : la valeur attendue est " +
           q.getAttribute("data-shown") + "."));
      });
    }
  });
})();
"""


def _question_html(q: Question, uid: str, number: int, where: str = "") -> str:
    name = f"{uid}-{number}"
    meta = f"Question {number} · {DIFFICULTIES[q.difficulty]}" + (f" · {html.escape(where)}" if where else "")
    parts = [f'<div class="llmq-q" data-kind="{q.type}" data-qid="{q.id}"'
             + (f' data-answer="{q.answer!r}" data-tolerance="{q.tolerance!r}" '
                f'data-shown="{_fr_number(q.answer)}"' if q.type == "numeric" else "") + ">",
             f'<div class="llmq-meta">{meta}'
             + (" · plusieurs réponses possibles" if q.type == "multiple" else "") + "</div>",
             f'<div class="llmq-stem">{markdown_to_html(q.stem)}</div>']
    if q.type == "numeric":
        parts.append(f'<label>Votre réponse : <input type="text" inputmode="decimal" '
                     f'name="{name}" aria-label="réponse"></label> <button type="button">'
                     f'Vérifier</button><div class="llmq-why" hidden>'
                     f'{markdown_to_html(q.explanation)}</div>')
    else:
        kind = "radio" if q.type == "single" else "checkbox"
        parts.append("<ul>")
        # The bank often lists the right answer first: show the choices in an order of their
        # own, the same at every build (seeded by the question's id); data-choice keeps the
        # index in the bank.
        order = list(range(len(q.choices)))
        random.Random(q.id).shuffle(order)
        for i in order:
            c = q.choices[i]
            parts.append(f'<li data-choice="{i}" data-correct="{int(c.correct)}"><label><input type="{kind}" '
                         f'name="{name}"> {markdown_to_html(c.text)}</label>'
                         f'<div class="llmq-why" hidden>{markdown_to_html(c.why)}</div></li>')
        parts.append("</ul>")
        if q.type == "multiple":
            parts.append('<button type="button">Vérifier</button>')
    parts.append('<div class="llmq-verdict" role="status" aria-live="polite"></div></div>')
    return "".join(parts)


def render_html(questions: list[Question], uid: str, *, score: bool = False,
                chapters: dict[str, str] | None = None) -> str:
    """Self-contained HTML (style, questions, script) of an interactive quiz; ``score`` adds
    a running score, ``chapters`` (slug -> name) shows each question's chapter."""
    if not re.fullmatch(r"[A-Za-z][\w-]*", uid):
        raise ValueError(f"uid ({uid!r}) must be a valid HTML id")
    body = "".join(_question_html(q, uid, i, (chapters or {}).get(q.chapter, ""))
                   for i, q in enumerate(questions, 1))
    footer = f'<div class="llmq-score">Score : 0 / {len(questions)}</div>' if score else ""
    # mathjax_process: Sphinx's MathJax only typesets elements of that class (or .math).
    return (f'<div class="llmq mathjax_process tex2jax_process" id="{uid}"><style>{_CSS}</style>'
            f"{body}{footer}</div><script>{_JS % {'uid': json.dumps(uid)}}</script>")


class _HTML:
    """What a notebook displays: the quiz as text/html, a one-line summary as text/plain."""

    def __init__(self, markup: str, summary: str):
        self.markup, self.summary = markup, summary

    def _repr_html_(self) -> str:
        return self.markup

    def __repr__(self) -> str:
        return self.summary


def _course_dirs() -> tuple[Path, Path] | None:
    """(quiz/, chapters/) of the course: next to the library (editable install), else in the
    folder being built or one above it (a notebook runs in chapters/); None on a bare Colab."""
    if BANK_DIR.is_dir():
        return BANK_DIR, CHAPTERS_DIR
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / "quiz").is_dir() and (folder / "_toc.yml").is_file():
            return folder / "quiz", folder / "chapters"
    return None


def _bank_or_none(chapter: str | None = None) -> list[Chapter] | None:
    """The whole bank, or one chapter's file; None where the course's quiz/ is absent."""
    dirs = _course_dirs()
    if dirs is None:
        return None  # a pip-installed llmcours (Colab) has no quiz/: say so instead of failing
    bank_dir, chapters_dir = dirs
    if chapter is None:
        return load_bank(bank_dir, chapters_dir)
    path = bank_dir / f"{chapter}.yml"
    if not path.is_file():
        raise ValueError(f"chapter ({chapter!r}) has no bank file {path}")
    return [load_chapter(path, chapters_dir)]  # only this file: one bad file breaks one page


def self_check(chapter: str) -> _HTML:
    """The *Testez-vous* quiz of a chapter (its slug), for the last cell of the notebook."""
    bank = _bank_or_none(chapter)
    if bank is None:
        return _HTML("<p>Le QCM de ce chapitre est sur le site du cours.</p>",
                     "Le QCM de ce chapitre est sur le site du cours.")
    questions = bank[0].questions
    return _HTML(render_html(questions, f"llmq-{chapter.replace('_', '-')}"),
                 f"Testez-vous : {len(questions)} questions ({bank[0].title})")


def draw_final(bank: list[Chapter], per_chapter: int = 3, seed: int = 2025) -> list[Question]:
    """A balanced draw: ``per_chapter`` questions of every written chapter, difficulties taken
    in turn (1, 2, 3, 1...) as long as the chapter has some; the same seed, the same QCM."""
    rng = random.Random(seed)
    drawn = []
    for chapter in bank:
        if chapter.planned:
            continue
        pools = {d: [q for q in chapter.questions if q.difficulty == d] for d in DIFFICULTIES}
        for pool in pools.values():
            rng.shuffle(pool)
        picked: list[Question] = []
        while len(picked) < min(per_chapter, len(chapter.questions)):
            for d in DIFFICULTIES:
                if pools[d] and len(picked) < per_chapter:
                    picked.append(pools[d].pop())
        drawn += picked
    return drawn


def final_quiz(per_chapter: int = 3, seed: int = 2025) -> _HTML:
    """The « QCM final » page: a balanced, seeded draw across the chapters, with a score."""
    bank = _bank_or_none()
    if bank is None:
        return _HTML("<p>Le QCM final est sur le site du cours.</p>", "QCM final : voir le site")
    questions = draw_final(bank, per_chapter, seed)
    names = {c.slug: f"chapitre {c.number}" for c in bank}
    return _HTML(render_html(questions, "llmq-final", score=True, chapters=names),
                 f"QCM final : {len(questions)} questions, graine {seed}")


# ---------------------------------------------------------------- Moodle XML and GIFT
def moodle_fractions(q: Question) -> list[float]:
    """Moodle grades (%) of the choices: a single answer 100/0; several, 100/k for each of the
    k correct choices and −100/(n−k) for each of the n−k wrong ones (ticking everything
    scores 0, as Moodle's own multiple-answer questions do)."""
    k = sum(c.correct for c in q.choices)
    if q.type == "single":
        return [100.0 if c.correct else 0.0 for c in q.choices]
    wrong = len(q.choices) - k
    out = [round(100 / k, 5) if c.correct else -round(100 / wrong, 5) for c in q.choices]
    for f in out:
        if not any(abs(abs(f) - g) < 1e-4 for g in MOODLE_GRADES):
            raise ValueError(f"question {q.id!r}: grade {f} % is not one Moodle accepts; "
                             "change the number of correct or wrong choices")
    return out


def _fmt(x: float) -> str:
    """A number in plain decimal notation (Moodle and GIFT): 3.15e+23 -> 315000...0, 1e-06 -> 0.000001."""
    text = format(Decimal(repr(float(x))), "f")
    return text[:-2] if text.endswith(".0") else text


def _moodle_html(text: str) -> str:
    # Moodle's MathJax filter reads \( \) and $$ $$.
    return markdown_to_html(text, display_math=("$$", "$$"))


def _text(parent: ET.Element, tag: str, content: str, fmt: str | None = "html") -> ET.Element:
    el = ET.SubElement(parent, tag, {"format": fmt} if fmt else {})
    ET.SubElement(el, "text").text = content
    return el


def _tags(q: Question) -> list[str]:
    """Moodle tags of a question, to filter the question bank."""
    return [f"difficulte-{q.difficulty}", q.section, f"chapitre-{q.chapter}"]


def to_moodle_xml(bank: list[Chapter]) -> str:
    """The bank as a Moodle XML file: a category per chapter, then its questions."""
    quiz = ET.Element("quiz")
    for chapter in bank:
        cat = ET.SubElement(quiz, "question", {"type": "category"})
        _text(cat, "category", f"$course$/top/llmcours/{chapter.category}", fmt=None)
        _text(cat, "info", f"Questions du chapitre « {html.escape(chapter.title)} » (llmcours).")
        for q in chapter.questions:
            kind = "numerical" if q.type == "numeric" else "multichoice"
            el = ET.SubElement(quiz, "question", {"type": kind})
            _text(el, "name", q.id, fmt=None)
            _text(el, "questiontext", _moodle_html(q.stem))
            _text(el, "generalfeedback", _moodle_html(q.explanation))
            ET.SubElement(el, "defaultgrade").text = "1"
            ET.SubElement(el, "penalty").text = "0.3333333"
            ET.SubElement(el, "hidden").text = "0"
            ET.SubElement(el, "idnumber").text = q.id
            if q.type == "numeric":
                answer = ET.SubElement(el, "answer", {"fraction": "100", "format": "moodle_auto_format"})
                ET.SubElement(answer, "text").text = _fmt(q.answer)
                ET.SubElement(answer, "tolerance").text = _fmt(q.tolerance)
                _text(answer, "feedback", _moodle_html(q.explanation))
            else:
                ET.SubElement(el, "single").text = "true" if q.type == "single" else "false"
                ET.SubElement(el, "shuffleanswers").text = "true"
                ET.SubElement(el, "answernumbering").text = "abc"
                for c, fraction in zip(q.choices, moodle_fractions(q), strict=True):
                    answer = ET.SubElement(el, "answer", {"fraction": _fmt(fraction), "format": "html"})
                    ET.SubElement(answer, "text").text = _moodle_html(c.text)
                    _text(answer, "feedback", _moodle_html(c.why))
            tags = ET.SubElement(el, "tags")
            for tag in _tags(q):
                ET.SubElement(ET.SubElement(tags, "tag"), "text").text = tag
    ET.indent(quiz)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="unicode") + "\n"


def gift_escape(text: str) -> str:
    """GIFT's special characters ``~ = # { } :`` and the backslash, escaped with ``\\``."""
    return re.sub(r"([\\~=#{}:])", r"\\\1", text).replace("\n", "\\n")


def to_gift(bank: list[Chapter]) -> str:
    """The bank in Moodle's GIFT text format (``$CATEGORY:`` per chapter, ``[html]`` text)."""
    lines = ["// Banque de questions du cours llmcours (format GIFT de Moodle).", ""]
    for chapter in bank:
        lines += [f"$CATEGORY: $course$/top/llmcours/{chapter.category}", ""]
        for q in chapter.questions:
            # Moodle reads the idnumber and the tags from the comment above a question.
            lines.append(f"// [id:{q.id}] " + " ".join(f"[tag:{t}]" for t in _tags(q)))
            head = f"::{gift_escape(q.id)}::[html]{gift_escape(_moodle_html(q.stem))}"
            if q.type == "numeric":
                why = gift_escape(_moodle_html(q.explanation))
                body = f"#\n\t={_fmt(q.answer)}:{_fmt(q.tolerance)}#{why}\n\t####{why}\n"
            else:
                answers = []
                for c, fraction in zip(q.choices, moodle_fractions(q), strict=True):
                    mark = ("=" if c.correct else "~") if q.type == "single" else f"~%{_fmt(fraction)}%"
                    answers.append(f"\t{mark}{gift_escape(_moodle_html(c.text))}"
                                   f"#{gift_escape(_moodle_html(c.why))}")
                if q.explanation:
                    answers.append(f"\t####{gift_escape(_moodle_html(q.explanation))}")
                body = "\n" + "\n".join(answers) + "\n"
            lines += [head + " {" + body + "}", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------- llmcours quiz ...
def _run(args: argparse.Namespace) -> int:
    bank = load_bank(chapters=getattr(args, "chapters", None))
    if args.step == "check":
        for c in bank:
            state = "prévu, labels non vérifiés" if c.planned else c.notebook.name
            print(f"{c.slug} : {len(c.questions)} questions ({state})")
        return 0
    text = to_moodle_xml(bank) if args.format == "moodle-xml" else to_gift(bank)
    output = Path(args.output or ("quiz-moodle.xml" if args.format == "moodle-xml" else "quiz.gift"))
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as err:
        raise ValueError(f"cannot write {output}: {err}") from err
    n = sum(len(c.questions) for c in bank)
    print(f"→ {n} questions de {len(bank)} chapitres écrites dans {output}")
    return 0


def register(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """``llmcours quiz export|check`` (the contract of :mod:`llmcours.cli`)."""
    parser = commands.add_parser("quiz", help="the QCM bank: check it, export it for Moodle")
    steps = parser.add_subparsers(dest="step", required=True)
    export = steps.add_parser("export", help="write the bank for Moodle's question bank")
    export.add_argument("--format", required=True, choices=("moodle-xml", "gift"))
    export.add_argument("--chapters", nargs="+", metavar="CH",
                        help="chapter numbers or slugs (default: every chapter)")
    export.add_argument("-o", "--output", help="file (default: quiz-moodle.xml or quiz.gift)")
    steps.add_parser("check", help="check every bank file; print a summary per chapter")
    parser.set_defaults(run=_run, label=lambda args: f"quiz {args.step}")
    return parser


def main(argv: list[str] | None = None) -> int:
    """``llmcours quiz ...`` on its own (``python -m llmcours.quiz export ...``); returns the
    exit status, 2 with a one-line message on a bad bank."""
    parser = argparse.ArgumentParser(prog="llmcours")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["quiz", *(sys.argv[1:] if argv is None else argv)])
    try:
        return args.run(args)
    except ValueError as err:
        print(f"llmcours {args.label(args)}: erreur : {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
