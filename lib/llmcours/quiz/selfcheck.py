"""The *Testez-vous* self-check and the final QCM: self-contained HTML + JavaScript (no
server, no network), the answer and its explanation shown when the student presses
« Vérifier ». Every choice box has its text as label, and single-choice questions are a
``radiogroup`` named by their stem."""

from __future__ import annotations

import html
import json
import random
import re

from llmcours.quiz import bank as _bank
from llmcours.quiz.bank import (
    DIFFICULTIES,
    Chapter,
    Question,
    draw_final,
    load_bank,
    load_chapter,
    markdown_to_html,
)


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
.llmq li.llmq-ok{background:#e3f4e5;color:#111}
.llmq li.llmq-ko{background:#fbe4e4;color:#111}
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
      // Answered on « Vérifier » only: a keyboard user moves between radios with the arrow
      // keys, and each move checks a radio; answering on "change" would judge every step.
      q.querySelector("button").addEventListener("click", function () {
        var chosen = items.filter(function (li) { return li.querySelector("input").checked; });
        items.forEach(function (other) { show(other, null); });
        if (!chosen.length) { verdict(q, false, "Choisissez une réponse."); return; }
        var ok = chosen[0].getAttribute("data-correct") === "1";
        show(chosen[0], ok ? "llmq-ok" : "llmq-ko");
        verdict(q, ok, ok ? "Bonne réponse." : "Mauvaise réponse : lisez pourquoi, puis réessayez.");
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
    meta = f"Question {number} · {DIFFICULTIES[q.difficulty]}"
    meta += f" · {html.escape(where)}" if where else ""
    parts = [f'<div class="llmq-q" data-kind="{q.type}" data-qid="{q.id}"'
             + (f' data-answer="{q.answer!r}" data-tolerance="{q.tolerance!r}" '
                f'data-shown="{_fr_number(q.answer)}"' if q.type == "numeric" else "") + ">",
             f'<div class="llmq-meta">{meta}'
             + (" · plusieurs réponses possibles" if q.type == "multiple" else "") + "</div>",
             f'<div class="llmq-stem" id="{name}-stem">{markdown_to_html(q.stem)}</div>']
    if q.type == "numeric":
        parts.append(f'<label>Votre réponse : <input type="text" inputmode="decimal" '
                     f'name="{name}" aria-label="réponse"></label> <button type="button">'
                     f'Vérifier</button><div class="llmq-why" hidden>'
                     f'{markdown_to_html(q.explanation)}</div>')
    else:
        kind = "radio" if q.type == "single" else "checkbox"
        role = "radiogroup" if q.type == "single" else "group"
        parts.append(f'<ul role="{role}" aria-labelledby="{name}-stem">')
        # The bank often lists the right answer first: show the choices in an order of their
        # own, the same at every build (seeded by the question's id); data-choice keeps the
        # index in the bank.
        order = list(range(len(q.choices)))
        random.Random(q.id).shuffle(order)
        for i in order:
            c = q.choices[i]
            # Each box is named by its text (label for=…): screen readers read the choice,
            # and a click on the text ticks the box.
            box = f"{name}-c{i}"
            parts.append(f'<li data-choice="{i}" data-correct="{int(c.correct)}">'
                         f'<input type="{kind}" name="{name}" id="{box}"> '
                         f'<label for="{box}">{markdown_to_html(c.text)}</label>'
                         f'<div class="llmq-why" hidden>{markdown_to_html(c.why)}</div></li>')
        parts.append("</ul>")
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


def _bank_or_none(chapter: str | None = None) -> list[Chapter] | None:
    """The whole bank, or one chapter's file; None where the course's quiz/ is absent."""
    dirs = _bank.course_dirs()
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


def final_quiz(per_chapter: int = 3, seed: int = 2025) -> _HTML:
    """The « QCM final » page: a balanced, seeded draw across the chapters, with a score."""
    bank = _bank_or_none()
    if bank is None:
        return _HTML("<p>Le QCM final est sur le site du cours.</p>", "QCM final : voir le site")
    questions = draw_final(bank, per_chapter, seed)
    names = {c.slug: f"chapitre {c.number}" for c in bank}
    return _HTML(render_html(questions, "llmq-final", score=True, chapters=names),
                 f"QCM final : {len(questions)} questions, graine {seed}")
