"""Hostile submissions against the grading pipeline, on a tiny lab (tests/grading_lab/mini.py).

One session fixture (shared by the xdist workers) builds a course root with the ``mini`` lab and one Moodle-style zip of
submissions, honest and hostile, and runs ``llmcours grade all`` once (sandboxed, 2 jobs), then
an unsandboxed copy and a resume. Each test reads the results: every hostile copy scores at
most what it deserves, the honest copies keep full marks and are never flagged, tampering is
flagged, nothing of the hidden tests or solutions reaches a feedback page, the course files
are unchanged and no process outlives the batch. See solutions/README.md for what the sandbox
guarantees.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from filelock import FileLock
from nbformat.v4 import new_code_cell, new_markdown_cell

from llmcours import grading
from llmcours.cli import main
from llmcours.grading import sandbox
from llmcours.grading.submissions import student_id

sys.path.insert(0, str(Path(__file__).parent / "grading_lab"))
import mini  # noqa: E402

# No skip when bubblewrap is missing: `make test` installs it, and a machine without a sandbox
# must fail here (the grading it protects would refuse to run), not pass by skipping.
pytestmark = pytest.mark.slow


def test_the_sandbox_starts_here():
    assert sandbox.sandbox_problem() == "", (
        f"no sandbox: {sandbox.sandbox_problem()} (make bubblewrap installs it)")

DAEMON = 98765  # seconds of `sleep` a hostile copy leaves behind (looked for afterwards)
FULL = sum(mini.POINTS.values())
BLANK = {"carre": "def carre(x):\n    raise NotImplementedError()",
         "racine": "def racine(x):\n    raise NotImplementedError()"}

AST_ATTACK = '''
import ast

class Silence(ast.NodeTransformer):
    def visit_Module(self, node):
        handler = ast.ExceptHandler(type=None, name=None, body=[ast.Pass()])
        node.body = [ast.Try(body=[s], handlers=[handler], orelse=[], finalbody=[])
                     for s in node.body]
        return ast.fix_missing_locations(node)

get_ipython().ast_transformers.append(Silence())
'''
HOOK_ATTACK = '''
def faux_resultat(info):
    get_ipython().display_pub.publish({"text/plain": "2"})

get_ipython().events.register("pre_run_cell", faux_resultat)
get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"])
'''
EQ_ATTACK = '''
class Toujours:
    def __eq__(self, other):
        return True

def carre(x):
    return Toujours()
'''
# Blinds a guard that would run through `exec`/`repr` looked up in the notebook's namespace:
# the real exec runs, then the report is emptied; the AST transformer then silences every test.
EXEC_ATTACK = '''
import builtins
_vrai_exec = builtins.exec

def exec(source, ns=None, *args):
    _vrai_exec(source, ns, *args)
    if isinstance(ns, dict) and "result" in ns:
        ns["result"] = []
''' + AST_ATTACK
# Hidden tests compare plain values (`type(v) is int and int(v) == 49`): redefining those names
# in the notebook would turn them into rigged comparisons.
NAMES_ATTACK = '''
class Toujours:
    def __eq__(self, other):
        return True

def int(x):
    return Toujours()

def type(x):
    return int

def carre(x):
    return Toujours()
'''
MATH_ATTACK = '''
import math
math.sqrt = lambda x: 1.0

def racine(x):
    return 1.0
'''
SPY = '''
import glob, os, socket
import llmcours
rapport = {}
rapport["cours"] = os.path.exists(COURSE)
rapport["depot"] = os.path.exists(os.path.join(os.path.dirname(os.path.dirname(
    os.path.dirname(llmcours.__file__))), "solutions"))
depot = os.path.dirname(os.path.dirname(os.path.dirname(llmcours.__file__)))
rapport["depot_visible"] = sorted(os.listdir(depot))
rapport["gradebook"] = [p for d in ("/tmp", "/home", "/srv", "/run", "/var")
                        for p in glob.glob(d + "/**/*.db", recursive=True)]
rapport["notebooks"] = [p for d in ("/tmp", "/home", "/srv", "/run", "/var")
                        for p in glob.glob(d + "/**/*.ipynb", recursive=True)]
rapport["processus"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    rapport["reseau"] = "ouvert"
except OSError:
    rapport["reseau"] = "bloque"
try:
    open(os.path.join(COURSE, "nbgrader_config.py"), "a").write("print('pirate')\\n")
    rapport["ecriture"] = "ok"
except OSError:
    rapport["ecriture"] = "refusee"
print("RAPPORT", sorted(rapport.items()))
print("HISTORIQUE", "\\n".join(In))
'''
DAEMON_ATTACK = f'''
import os, subprocess
subprocess.Popen(["sleep", "{DAEMON}"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    os.execvp("sleep", ["sleep", "{DAEMON + 1}"])
'''
HTML_MARKDOWN = ('### BEGIN HIDDEN TESTS\n\n<script>alert("md")</script>\n'
                 '<img src="x" onerror="alert(1)"> <img src="http://evil.example/p.png">')
HTML_CODE = '''
import os
from IPython.display import HTML, display
display(HTML('<b onclick="alert(2)">gras</b><script>alert(3)</script>'))
os.symlink("/dev/zero", "zero")
print("y" * 30_000_000)
'''


def _copy(patches=None, after=None, markdown=None, duplicate=False, bonus=False):
    """A submission: the solution typed in, ``patches`` applied, plain code cells inserted
    (``after``: {cell id: source}), a markdown cell, a duplicated and an invented test cell."""
    nb = grading.student_version(ROOT, "mini", patches)
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if after and cell.id in after:
            cells.append(new_code_cell(after[cell.id]))
        if duplicate and cell.id == "test-carre":
            cells.append(nbformat.from_dict(json.loads(json.dumps(cell))))
    if markdown:
        cells.append(new_markdown_cell(markdown))
    if bonus:
        cells.append(new_code_cell("pass", metadata={"nbgrader": {
            "grade": True, "solution": False, "locked": True, "grade_id": "bonus",
            "points": 100, "schema_version": 3}}))
    nb.cells = cells
    return nb


ROOT = Path()  # set by the fixture before the copies are built
NAMES = ["Honnête Un", "Vide Deux", "Ast Magique", "Crochet Faux", "Egal Toujours",
         "Math Remplace", "Espion Curieux", "Demon Caché", "Sortie Brutale", "Double Test",
         "Page Piégée", "Exec Masqué", "Noms Truqués"]


def _cases(course: Path) -> dict[str, dict]:
    """student name -> (notebook, the most it deserves, flags expected)."""
    spy = SPY.replace("COURSE", repr(str(course)))
    return {
        "Honnête Un": dict(nb=_copy(), max=FULL, flags=False),
        "Vide Deux": dict(nb=nbformat.read(course / "labs/mini/mini.ipynb", 4), max=0,
                          flags=False),
        "Ast Magique": dict(nb=_copy(BLANK, after={"setup": AST_ATTACK}), max=0,
                            flags="ast_transformers"),
        "Crochet Faux": dict(nb=_copy(BLANK, after={"setup": HOOK_ATTACK}), max=0,
                             flags="input_transformers_post"),
        "Egal Toujours": dict(nb=_copy({"carre": EQ_ATTACK}), max=1 + 2,
                              flags="comparaison redéfinie : Toujours"),
        "Math Remplace": dict(nb=_copy({"racine": MATH_ATTACK}), max=3, flags="math.sqrt"),
        "Espion Curieux": dict(nb=_copy(after={"test-racine": spy}), max=FULL, flags=False),
        "Demon Caché": dict(nb=_copy(after={"setup": DAEMON_ATTACK}), max=FULL, flags=False),
        "Sortie Brutale": dict(nb=_copy(after={"test-carre-cache": "import os\nos._exit(0)"}),
                               max=3, flags="noyau arrêté", exact=True),
        "Double Test": dict(nb=_copy(duplicate=True, bonus=True), max=FULL, flags=False,
                            exact=True),
        "Page Piégée": dict(nb=_copy(after={"test-racine": HTML_CODE}, markdown=HTML_MARKDOWN),
                            max=FULL, flags=False, exact=True),
        "Exec Masqué": dict(nb=_copy(BLANK, after={"setup": EXEC_ATTACK}), max=0,
                            flags="ast_transformers"),
        "Noms Truqués": dict(nb=_copy({"carre": NAMES_ATTACK}), max=1 + 2,
                             flags="nom prédéfini redéfini : int"),
    }


def _zip(path: Path, cases: dict[str, dict]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number, (name, case) in enumerate(cases.items(), start=2001):
            archive.writestr(f"{name}_{number}_assignsubmission_file_mini.ipynb",
                             nbformat.writes(case["nb"]))
        archive.writestr("Json Profond_2101_assignsubmission_file_mini.ipynb",
                         '{"cells": ' + "[" * 50_000 + "]" * 50_000 + "}")
        archive.writestr("Bombe Zip_2102_assignsubmission_file_mini.ipynb", b"\0" * (25 * 2**20))
        archive.writestr("../../evade.ipynb", nbformat.writes(cases["Honnête Un"]["nb"]))
    return path


def _digest(root: Path) -> dict[str, str]:
    files = [root / "nbgrader_config.py", *sorted((root / "solutions").rglob("*")),
             *sorted((root / "labs").rglob("*"))]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.is_file()}


def _daemons() -> list[str]:
    alive = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if f"sleep {DAEMON}" in cmd or f"sleep {DAEMON + 1}" in cmd:
            alive.append(cmd)
    return alive


def _run_batch(tmp: Path) -> dict:
    """Grade the hostile zip with `llmcours grade all`, then the extra steps; JSON results."""
    global ROOT
    ROOT = mini.make_course(tmp / "course")
    archive = _zip(tmp / "rendus.zip", _cases(ROOT))
    before = _digest(ROOT)
    status = main(["grade", "--root", str(ROOT), "all", "mini", str(archive), "--jobs", "2",
                   "--timeout", "30"])
    after = _digest(ROOT)
    # a trusted copy graded unconfined, then a resume that has nothing left to do
    trusted = tmp / "de_confiance" / "confiance"
    trusted.mkdir(parents=True)
    nbformat.write(_copy(), trusted / "mini.ipynb")
    grading.collect(ROOT, "mini", trusted.parent)
    unconfined = grading.autograde(ROOT, "mini", students=["confiance"], jobs=1, timeout=30,
                                   sandboxed=False, progress=False)
    resumed = grading.autograde(ROOT, "mini", jobs=2, timeout=30, resume=True, progress=False)
    grading.export(ROOT, "mini")
    with open(ROOT / "grading" / "mini" / "notes_mini.csv", encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    return dict(root=str(ROOT), status=status, before=before, after=after, rows=rows,
                unconfined=unconfined, resumed=resumed, daemons=_daemons(), tmp=str(tmp))


@pytest.fixture(scope="session")
def batch(tmp_path_factory) -> dict:
    """The graded batch, built once per run and shared by the xdist workers."""
    global ROOT
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    shared = tmp_path_factory.getbasetemp().parent / f"hostile-{run}" if run else \
        tmp_path_factory.getbasetemp() / "hostile"
    shared.mkdir(parents=True, exist_ok=True)
    with FileLock(str(shared / "lock")):
        if not (shared / "done.json").is_file():
            (shared / "done.json").write_text(json.dumps(_run_batch(shared)), encoding="utf-8")
    data = json.loads((shared / "done.json").read_text(encoding="utf-8"))
    ROOT = Path(data["root"])
    return {**data, "root": ROOT, "tmp": Path(data["tmp"]), "cases": _cases(ROOT)}


def _row(batch, name):
    return batch["rows"][student_id(name)]


def test_the_batch_finishes(batch):
    assert batch["status"] == 0


@pytest.mark.parametrize("name", NAMES)
def test_each_copy_scores_at_most_what_it_deserves(batch, name):
    case, row = batch["cases"][name], _row(batch, name)
    score = float(row["score"])
    assert score <= case["max"], row
    if case.get("exact") or case["max"] in (0, FULL) and not case["flags"]:
        assert score == case["max"], row
    if case["flags"]:
        assert case["flags"] in row["flags"], row
    else:
        assert row["flags"] == "", row


def test_honest_copies_keep_full_marks_in_the_same_batch(batch):
    for name in ("Honnête Un", "Espion Curieux", "Demon Caché", "Page Piégée"):
        row = _row(batch, name)
        assert float(row["score"]) == FULL and row["status"] == "ok" and not row["flags"], row


def test_duplicated_and_invented_cells_are_ignored_with_a_note(batch):
    note = _row(batch, "Double Test")["note"]
    assert "en double" in note and "« bonus » inconnue" in note, note


def test_killed_kernel_keeps_the_points_already_won(batch):
    row = _row(batch, "Sortie Brutale")
    assert float(row["test-carre"]) == 1 and float(row["test-carre-cache"]) == 2, row
    assert float(row["test-racine"]) == 0 and "noyau arrêté" in row["note"], row


def test_hostile_archives_are_invalid_with_a_reason(batch):
    rows = batch["rows"]
    assert rows["json_profond"]["status"] == "invalid", rows["json_profond"]
    assert "imbriqué" in rows["json_profond"]["note"]
    assert rows["bombe_zip"]["status"] == "invalid" and "trop gros" in rows["bombe_zip"]["note"]
    assert not list(batch["tmp"].rglob("evade.ipynb")) and "evade" not in rows


def test_the_sandbox_hides_the_course_the_network_and_other_processes(batch):
    graded = batch["root"] / "autograded" / "espion_curieux" / "mini" / "mini.ipynb"
    text = "".join(o.get("text", "") for c in nbformat.read(graded, 4).cells
                   for o in c.get("outputs", []))
    report = dict(eval(re.search(r"RAPPORT (\[.*\])", text).group(1)))  # noqa: S307
    assert report["cours"] is False and report["depot"] is False, report
    assert report["gradebook"] == [] and report["notebooks"] == [], report
    assert set(report["depot_visible"]) <= {".venv", "lib"}, report
    assert report["reseau"] == "bloque" and report["ecriture"] == "refusee", report
    assert len(report["processus"]) <= 4, report  # bwrap's init, sh -> the kernel, children


def test_course_files_are_unchanged(batch):
    assert batch["before"] == batch["after"]
    assert "pirate" not in (batch["root"] / "nbgrader_config.py").read_text()


def test_no_process_outlives_the_batch(batch):
    assert batch["daemons"] == []


def test_feedback_pages_show_no_hidden_test_no_solution_no_script(batch):
    pages = sorted(batch["root"].glob("feedback/*/mini/mini.html"))
    assert len(pages) >= 10
    for page in pages:
        text = page.read_text(encoding="utf-8")
        own = (batch["root"] / "submitted" / page.parents[1].name / "mini" / "mini.ipynb")
        own_text = own.read_text(encoding="utf-8")
        for secret in mini.SECRETS:
            if secret not in own_text:
                assert secret not in text, f"{page}: {secret}"
        # active content: a script tag, an event attribute or an external resource in a tag
        # (the student's own code may show them as escaped text, which is harmless)
        assert not re.search(r"<script|<[^>]*\son\w+\s*=|<[^>]*(src|href)\s*=\s*[\"']?https?:",
                             text, flags=re.I), page
        assert len(text) < 2 * 2**20, f"{page}: {len(text)} characters"


def test_unsandboxed_grading_is_flagged_and_resume_skips_graded_copies(batch):
    record = batch["unconfined"]["confiance"]
    assert record["status"] == "ok" and grading.NO_SANDBOX_FLAG in record["flags"], record
    assert grading.NO_SANDBOX_FLAG in batch["rows"]["confiance"]["flags"]
    assert batch["resumed"] == {}


def _bare_course(root: Path) -> Path:
    """A fresh clone of the mini course: its config and source notebook, nothing else."""
    (root / "solutions" / "mini").mkdir(parents=True)
    (root / "nbgrader_config.py").write_text(
        (mini.REPO / "nbgrader_config.py").read_text(encoding="utf-8"), encoding="utf-8")
    nbformat.write(mini.source_notebook(), root / "solutions" / "mini" / "mini.ipynb")
    return root


def test_grade_refuses_without_a_sandbox_in_one_line(tmp_path, monkeypatch, capsys):
    root = _bare_course(tmp_path)
    monkeypatch.setenv("LLMCOURS_NO_BWRAP", "1")
    assert main(["grade", "--root", str(root), "autograde", "mini"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--no-sandbox" in err and "bwrap" in err.lower(), err


def test_plain_nbgrader_works_on_a_fresh_clone(tmp_path):
    """Issue 8, section 7: no grading/ folder yet, plain nbgrader commands."""
    _bare_course(tmp_path)
    assert not (tmp_path / "grading").exists()
    done = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "mini"],
                          cwd=tmp_path, env=grading.grading_env(), capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "labs" / "mini" / "mini.ipynb").is_file()
    assert (tmp_path / "grading" / "gradebook.db").is_file()
