"""The bank: read ``quiz/<slug>.yml``, check every question against its chapter, compute the
numeric answers with the library, draw the final QCM, and the little Markdown of the stems.

See the package's docstring (``llmcours.quiz``) for the file format.
"""

from __future__ import annotations

import html
import importlib
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
BANK_DIR = ROOT / "quiz"          # read at call time: tests and throwaway books may point
CHAPTERS_DIR = ROOT / "chapters"  # these module attributes elsewhere
TYPES = ("single", "multiple", "numeric")
DIFFICULTIES = {1: "facile", 2: "moyen", 3: "difficile"}
LABEL = re.compile(r"^\(([A-Za-z0-9_.:-]+)\)=\s*$", re.MULTILINE)
ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


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
            raise ValueError(f"chapitres absents de la banque : {', '.join(unknown)} ; "
                             f"connus : {', '.join(sorted(known))}")
        bank = [c for c in bank if c.slug in wanted or (c.number and c.number in
                                                          {w.zfill(2) for w in wanted})]
    return bank


def course_dirs() -> tuple[Path, Path] | None:
    """(quiz/, chapters/) of the course: next to the library (editable install), else in the
    folder being built or one above it (a notebook runs in chapters/); None on a bare Colab."""
    if BANK_DIR.is_dir():
        return BANK_DIR, CHAPTERS_DIR
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / "quiz").is_dir() and (folder / "_toc.yml").is_file():
            return folder / "quiz", folder / "chapters"
    return None


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
