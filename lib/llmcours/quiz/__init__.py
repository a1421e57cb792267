"""The course's QCM: one question bank, checked, shown as self-checks, exported to Moodle.

The bank is ``quiz/<slug>.yml`` at the root of the course, one file per chapter, keyed by the
chapter's *slug* (``chapters/06_attention_transformer.ipynb`` → ``attention_transformer``), so
that renumbering the chapters changes nothing. A file looks like::

    chapter: attention_transformer      # the slug; must be the file's name
    title: Attention et Transformer
    planned: false                       # true: the chapter is not written yet (see below)
    labels:                              # label -> start of its heading: where
      sec-attention-trois-tokens: "## Un exemple à la main"   # tools/add_selfcheck.py puts it
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
twice; ``measure: parameters`` counts the parameters of the module the call builds),
``tolerance`` (absolute, or ``"1%"`` relative) and ``explanation``. Every value of ``args``
must appear in the stem, so the question and its computation cannot drift apart. A choice
question may also have an ``explanation``: Moodle's general feedback.

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

from llmcours.quiz import bank
from llmcours.quiz.bank import (
    Chapter,
    Choice,
    Question,
    draw_final,
    load_bank,
    load_chapter,
    markdown_to_html,
    notebook_labels,
)
from llmcours.quiz.cli import main, register
from llmcours.quiz.moodle import (
    MOODLE_GRADES,
    gift_escape,
    moodle_fractions,
    to_gift,
    to_moodle_xml,
)
from llmcours.quiz.selfcheck import final_quiz, render_html, self_check

__all__ = [
    "Choice", "Question", "Chapter", "load_chapter", "load_bank", "notebook_labels",
    "markdown_to_html", "render_html", "self_check", "draw_final", "final_quiz",
    "MOODLE_GRADES", "moodle_fractions", "gift_escape", "to_moodle_xml", "to_gift",
    "register", "main", "bank",
]
