"""Feedback: one HTML page per student, without hidden tests, solutions or active content.

``nbgrader generate_feedback`` renders the autograded notebooks; before it, every notebook is
cleaned (:func:`clean_notebook`): any output or markdown cell that quotes a hidden-test or
solution line of the lab (compared without whitespace, so cutting or re-wrapping the lines
does not help) or one of their distinctive words is masked as a whole (a student's code can
print ``In``, a file or a test cell it saw run; judged hidden tests never reach the kernel;
what the student typed in their own cells is not masked), outputs are cut to
``MAX_OUTPUT`` characters, and markdown, HTML and SVG are passed through ``bleach`` (no ``<script>``, no ``on...=`` attribute, no external resource). The
pages it writes are sanitised again as a whole (:func:`sanitise_page`): the body keeps only
harmless tags and attributes, links and images only ``data:`` or in-page URLs, and the page
loads no script (formulas show as LaTeX source).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

from llmcours.grading.course import check_lab, run_nbgrader
from llmcours.grading.guard import MAX_OUTPUT
from llmcours.grading.release import _REGION

__all__ = ["ClearTestTracebacks", "clean_notebook", "feedback", "hidden_lines", "hidden_words",
           "sanitise_html", "sanitise_page"]

MASK = "[ligne masquée : elle cite un test caché ou une solution]"
_TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt",
         "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p",
         "pre", "s", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "th",
         "thead", "tr", "u", "ul", "main", "section", "header", "footer", "article", "label",
         "input", "style"}
_ATTRIBUTES = ["class", "id", "title", "alt", "href", "src", "width", "height", "colspan",
               "rowspan", "align", "type", "checked", "disabled"]


class ClearTestTracebacks(NbGraderPreprocessor):
    """Feedback preprocessor: shorten a failing test cell's traceback to ``ename: evalue``.

    IPython tracebacks quote the lines around the failing one, which in a test cell are test
    code, hidden tests included; the assertion message (written for the student) is kept.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', '')}: {output.get('evalue', '')}"]
        return cell, resources


def _released_text(root: Path, lab: str) -> str:
    return "\n".join(cell.source for cell in
                     nbformat.read(Path(root) / "labs" / lab / f"{lab}.ipynb", 4).cells)


def hidden_lines(root: Path, lab: str) -> set[str]:
    """Stripped lines (8 characters or more) inside the hidden-test and solution regions of
    the lab's source notebook, minus those the released version shows anyway."""
    root = Path(root)
    shown = {line.strip() for line in _released_text(root, lab).splitlines()}
    lines, inside = set(), False
    for cell in nbformat.read(root / "solutions" / lab / f"{lab}.ipynb", as_version=4).cells:
        for line in cell.source.splitlines():
            if _REGION.match(line):
                inside = "BEGIN" in line
            elif inside and len(line.strip()) >= 8 and line.strip() not in shown:
                lines.add(line.strip())
    return lines


def hidden_words(root: Path, lab: str, lines: set[str]) -> set[str]:
    """Words (8 characters or more) of the hidden ``lines`` that the released lab never uses,
    except in ``import`` lines (module names are public): one of them in an output is a
    quotation, however the output cuts or reorders the lines."""
    shown = set(_WORD.findall(_released_text(root, lab))) | {"judgement"}
    return {w for line in lines if not _IMPORT.match(line) for w in _WORD.findall(line)} - shown


_WORD = re.compile(r"\w{8,}")
_IMPORT = re.compile(r"\s*(from|import)\s")
_SPACE = re.compile(r"\s+")


def _mask(text: str, secret: set[str], own: set[str], words: set[str] = frozenset()) -> str:
    """``text`` whole, or :data:`MASK` when it quotes a hidden line (compared without any
    whitespace: cutting or re-wrapping the lines changes nothing) or a hidden word, except
    what the student typed (``own``: the lines of their own cells)."""
    if not text.strip():
        return text
    flat = _SPACE.sub("", text)
    own_flat = {_SPACE.sub("", line) for line in own}
    own_words = {w for line in own for w in _WORD.findall(line)}
    quoted = any(len(s := _SPACE.sub("", line)) >= 8 and s in flat and s not in own_flat
                 for line in secret) or \
        any(w in words and w not in own_words for w in _WORD.findall(text))
    return MASK + ("\n" if text.endswith("\n") else "") if quoted else text


def sanitise_html(text: str) -> str:
    """``text`` (HTML or markdown with HTML) with only harmless tags, attributes and URLs."""
    import bleach

    def allowed(tag: str, name: str, value: str) -> bool:
        if name in ("href", "src"):
            return value.startswith(("data:image/png", "data:image/jpeg", "#"))
        return name in _ATTRIBUTES and tag != "style"

    cleaner = bleach.Cleaner(tags=_TAGS - {"style", "input"}, attributes=allowed,
                             protocols=["data"], strip=True, strip_comments=True)
    return cleaner.clean(text)


def clean_notebook(nb: Any, secret: set[str], words: set[str] = frozenset()) -> Any:
    """The autograded notebook ``nb`` made safe to render (see the module docstring);
    ``secret``: :func:`hidden_lines`, ``words``: :func:`hidden_words`."""
    def is_locked(cell: Any) -> bool:
        return bool(cell.get("metadata", {}).get("nbgrader", {}).get("locked"))

    # what the student wrote anywhere (their own code, echoed by `In`, is no secret to them)
    typed = {line.strip() for cell in nb.cells if not is_locked(cell)
             for line in cell.get("source", "").splitlines()}
    for cell in nb.cells:
        locked = is_locked(cell)
        own = set() if locked else typed
        if not locked:  # a student's mention of a region marker is not a region
            cell.source = re.sub(r"(BEGIN|END) (HIDDEN|SOLUTION)", "\\1\u00a0\\2",
                                 cell.get("source", ""))
        if cell.cell_type in ("markdown", "raw"):
            cell.source = sanitise_html(_mask(cell.source, secret, own, words))
            cell.pop("attachments", None)
            continue
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "stream":
                output["text"] = _mask(str(output.get("text", ""))[:MAX_OUTPUT], secret, own, words)
            elif kind == "error":
                output["evalue"] = _mask(str(output.get("evalue", ""))[:2000], secret, own, words)
                output["traceback"] = [_mask(str(t)[:2000], secret, own, words)
                                       for t in output.get("traceback", [])[:100]]
            else:
                data = {}
                for mime, value in output.get("data", {}).items():
                    value = "".join(value) if isinstance(value, list) else value
                    if not isinstance(value, str) or len(value) > 5 * MAX_OUTPUT:
                        continue
                    if mime == "text/plain":
                        data[mime] = _mask(value[:MAX_OUTPUT], secret, own, words)
                    elif mime == "text/html":
                        data[mime] = sanitise_html(_mask(value, secret, own, words))
                    elif mime in ("image/png", "image/jpeg"):
                        data[mime] = value
                if not data:
                    continue
                output["data"] = data
                output["metadata"] = {}
            outputs.append(output)
        cell.outputs = outputs
    return nb


def sanitise_page(page: str) -> str:
    """A whole nbconvert HTML page with its ``<body>`` sanitised and no script anywhere."""
    head = re.search(r"<head>(.*?)</head>", page, flags=re.S | re.I)
    body = re.search(r"<body[^>]*>(.*)</body>", page, flags=re.S | re.I)
    styles = re.findall(r"<style[^>]*>.*?</style>", head.group(1) if head else "",
                        flags=re.S | re.I)
    title = re.search(r"<title>(.*?)</title>", page, flags=re.S | re.I)
    clean = sanitise_html(body.group(1) if body else page)
    return ("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{sanitise_html(title.group(1)) if title else 'Retour'}</title>\n"
            + "\n".join(s for s in styles if not re.search(r"@import|url\(\s*['\"]?http", s))
            + "\n</head>\n<body>\n" + clean + "\n</body>\n</html>\n")


def feedback(root: Path, lab: str) -> list[Path]:
    """Per-student feedback pages ``feedback/<student>/<lab>/<lab>.html`` (cleaned, see the
    module docstring). The autograded notebooks are cleaned in place first: they are what the
    pages are made from."""
    root = Path(root)
    check_lab(root, lab)
    graded = sorted(root.glob(f"autograded/*/{lab}/{lab}.ipynb"))
    if not graded:
        raise ValueError(f"lab ({lab!r}) has no autograded submission: run autograde first")
    secret = hidden_lines(root, lab)
    words = hidden_words(root, lab, secret)
    for path in graded:
        nb = nbformat.read(path, as_version=4)
        nbformat.write(clean_notebook(nb, secret, words), path)
    for old in root.glob(f"feedback/*/{lab}/{lab}.html"):
        old.unlink()
    done = run_nbgrader(root, "generate_feedback", lab, "--force", check=False)
    pages = sorted(root.glob(f"feedback/*/{lab}/{lab}.html"))
    if done.returncode != 0:  # one page that fails never stops the others
        missing = sorted({p.parents[1].name for p in graded} - {p.parents[1].name for p in pages})
        log = root / "grading" / lab / "feedback.log"
        log.write_text(done.stdout + done.stderr, encoding="utf-8")
        if not pages:
            raise RuntimeError(f"nbgrader generate_feedback {lab} failed for every copy "
                               f"(see {log})")
        print(f"attention : pas de page de retour pour {', '.join(missing)} (voir {log})")
    for page in pages:
        page.write_text(sanitise_page(page.read_text(encoding="utf-8", errors="replace")),
                        encoding="utf-8")
    return pages
