"""The formgrader renders student notebooks in the instructor's Jupyter session with an
``HTMLExporter`` built from the course's nbgrader config: what a student writes must reach that
page without scripts, event attributes or external resources (issue 12, item 4)."""

from __future__ import annotations

from html.parser import HTMLParser

import nbformat
import pytest
from book_toc import ROOT
from nbconvert.exporters import HTMLExporter
from nbgrader.server_extensions.formgrader import handlers
from traitlets.config.loader import Config, PyFileConfigLoader

PAYLOADS = {
    "script": "<script>alert('pwned-script')</script>",
    "onerror": "<img src=x onerror=\"alert('pwned-onerror')\">",
    "javascript": "<a href=\"javascript:alert('pwned-href')\">lien</a>",
    "iframe": "<iframe src=\"https://evil.example/pwned-iframe\"></iframe>",
}


class _Active(HTMLParser):
    """What would run in a browser: script bodies, event attributes, javascript: links,
    frames and external sources that carry a payload's marker."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        for name, value in attrs:
            value = value or ""
            if name.startswith("on") or "javascript:" in value or (tag == "iframe"):
                if "pwned" in value or tag == "iframe":
                    self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and "pwned" in data:
            self.found.append(f"<script>{data.strip()[:60]}")


def _active_payloads(html: str) -> list[str]:
    parser = _Active()
    parser.feed(html)
    return parser.found


def _course_config(formgrade_template: bool) -> Config:
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    if formgrade_template:  # what FormgradeExtension.build_extra_config adds
        config.HTMLExporter.template_name = "formgrade"
        config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    return config


def _hostile_notebook() -> nbformat.NotebookNode:
    v4 = nbformat.v4
    text = "\n\n".join(PAYLOADS.values())
    code = v4.new_code_cell("print('ok')")
    code.outputs = [
        v4.new_output("display_data", data={"text/html": text, "text/plain": "x"}),
        v4.new_output("execute_result", data={"text/html": text}, execution_count=1),
    ]
    return v4.new_notebook(cells=[v4.new_markdown_cell(text), code],
                           metadata={"kernelspec": {"name": "python3", "language": "python",
                                                    "display_name": "Python 3"}})


def test_the_course_config_turns_sanitizing_on():
    assert _course_config(False).HTMLExporter.sanitize_html is True


@pytest.mark.parametrize("formgrade_template", [False, True], ids=["feedback", "formgrader"])
def test_student_html_is_sanitized(formgrade_template):
    exporter = HTMLExporter(config=_course_config(formgrade_template))
    resources = {"assignment_id": "tp1", "notebook_id": "tp1", "submission_id": "x",
                 "index": 0, "total": 1, "base_url": "", "student": "x", "last_name": "X",
                 "first_name": "Y", "notebook_path": "tp1.ipynb"}
    html, _ = exporter.from_notebook_node(_hostile_notebook(), resources=resources)
    assert "pwned" in html, "the student's text must still be shown (escaped)"
    assert not _active_payloads(html), f"active content reached the page: {_active_payloads(html)}"


def test_without_the_preprocessor_the_formgrader_would_run_them():
    """The check above can fail: the formgrade template ignores ``sanitize_html``, so without
    the course's SanitizeHTML preprocessor the same notebook keeps its scripts."""
    config = _course_config(True)
    config.HTMLExporter.preprocessors = []
    resources = {"assignment_id": "tp1", "notebook_id": "tp1", "index": 0, "total": 1,
                 "base_url": "", "notebook_path": "tp1.ipynb"}
    html, _ = HTMLExporter(config=config).from_notebook_node(_hostile_notebook(), resources)
    found = " ".join(_active_payloads(html))
    assert all(marker in found for marker in ("<script>", "onerror", "javascript:", "<iframe")), found
