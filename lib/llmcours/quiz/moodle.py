"""Export the bank for Moodle's question bank: Moodle XML and GIFT, one category per chapter,
maths as ``\\(...\\)`` / ``$$...$$`` for Moodle's MathJax filter, the explanations as feedback,
multiple answers scored with fractions Moodle accepts (+100/k per right box, -100/(n-k) per
wrong one)."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

from llmcours.quiz.bank import Chapter, Question, markdown_to_html

# Moodle accepts only these grades for an answer (question_bank::fraction_options_full), in %.
MOODLE_GRADES = (100, 90, 83.33333, 80, 75, 70, 66.66667, 60, 50, 40, 33.33333, 30, 25, 20,
                 16.66667, 14.28571, 12.5, 11.11111, 10, 5, 0)


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
