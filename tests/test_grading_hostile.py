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


# --- Third round (issue 17): tricks against a guard that runs inside the kernel. Each is used
# on a blank copy; with the judgements outside the kernel, none may win a point.
CALLABLE_TRANSFORMER = """
class Vide:
    def __call__(self, lines):
        return ["pass\\n"]

get_ipython().input_transformer_manager.line_transforms.append(Vide())
get_ipython().input_transformers_cleanup.append(Vide())
"""
SILENCE = """
import ast

class Silence(ast.NodeTransformer):
    def visit_Module(self, node):
        handler = ast.ExceptHandler(type=None, name=None, body=[ast.Pass()])
        node.body = [ast.Try(body=[s], handlers=[handler], orelse=[], finalbody=[])
                     for s in node.body]
        return ast.fix_missing_locations(node)
"""
EVENT_AST = SILENCE + """
class Ajoute:
    def __call__(self, *args):
        get_ipython().ast_transformers.append(Silence())

class Retire:
    def __call__(self, *args):
        get_ipython().ast_transformers.clear()

get_ipython().events.register("pre_run_cell", Ajoute())
get_ipython().events.register("post_run_cell", Retire())
"""
CUSTOM_EXC = """
def efface(shell, etype, evalue, tb, tb_offset=None):
    shell.last_execution_result.error_in_exec = None
    return None

get_ipython().set_custom_exc((BaseException,), efface)
"""
USER_EXPRESSIONS = """
def aucune(expressions):
    return {k: {"status": "ok", "data": {"text/plain": "'[]'"}, "metadata": {}}
            for k in expressions}

get_ipython().user_expressions = aucune
""" + SILENCE + "\nget_ipython().ast_transformers.append(Silence())\n"
FAKE_TYPES = SILENCE + """
import sys

class FauxTypes:
    FunctionType = type(None)

sys.modules["types"] = FauxTypes()
get_ipython().ast_transformers.append(Silence())
"""
# Builtins the guard calls, lying only to code exec'd from a string (the guard), so that the
# rest of the kernel keeps working.
FAKE_BUILTINS = SILENCE + """
import builtins
import sys

_vrais = {nom: getattr(builtins, nom) for nom in ("vars", "sorted", "callable", "getattr")}

def _faux(nom, vide):
    vrai = _vrais[nom]

    def faux(*args, **kwargs):
        if sys._getframe(1).f_code.co_filename == "<string>":
            return vide(*args) if nom == "getattr" else vide
        return vrai(*args, **kwargs)
    return faux

builtins.vars = _faux("vars", {})
builtins.sorted = _faux("sorted", [])
builtins.callable = _faux("callable", False)
builtins.getattr = _faux("getattr", lambda obj, name, *default: _vrais["getattr"](obj, name, *default))
get_ipython().ast_transformers.append(Silence())
"""
THREAD = SILENCE + """
import threading
import time

def reinstalle():
    while True:
        transformers = get_ipython().ast_transformers
        if not transformers:
            transformers.append(Silence())
        time.sleep(0.0005)

threading.Thread(target=reinstalle, daemon=True).start()
"""
SETTRACE = """
import sys

class Efface:
    def __call__(self, frame, event, arg):
        if frame.f_code.co_name == "run_code":
            return self.dans_run_code
        return None

    def dans_run_code(self, frame, event, arg):
        if event == "return":
            resultat = frame.f_locals.get("result")
            if resultat is not None:
                resultat.error_in_exec = None
        return self.dans_run_code

sys.settrace(Efface())
"""
# A transformer re-installed at each cell turns every test cell into `2` (an execute_result
# that nbgrader would read as 2 points if the planted metadata were honoured).
PARTIAL = """
import ast

class Deux(ast.NodeTransformer):
    def visit_Module(self, node):
        node.body = [ast.Expr(ast.Constant(1))]
        return ast.fix_missing_locations(node)

class Remet:
    def __call__(self, *args):
        get_ipython().ast_transformers[:] = [Deux()]

get_ipython().events.register("pre_run_cell", Remet())
"""
IN_CUT = """
for ligne in "\\n".join(In).splitlines():
    mots = ligne.split(" ", 1)
    print(mots[0])
    print(mots[1] if len(mots) > 1 else "")
"""
# An honest carre that, each time it is called, reads its callers' frames and linecache.
FRAMES = """
import linecache
import sys

VU = []

def carre(x):
    cadre = sys._getframe(1)
    while cadre is not None:
        VU.append(repr(cadre.f_code.co_filename) + repr(sorted(cadre.f_locals)))
        VU.append(repr({k: v for k, v in cadre.f_locals.items() if isinstance(v, (str, int))}))
        cadre = cadre.f_back
    VU.extend("".join(v[2]) for v in linecache.cache.values())
    return x * x
"""
SHOW_FRAMES = 'print("CADRES", "\\n".join(VU))'


def _copy(patches=None, after=None, markdown=None, duplicate=False, bonus=False,
          planted=False):
    """A submission: the solution typed in, ``patches`` applied, plain code cells inserted
    (``after``: {cell id: source}), a markdown cell, a duplicated and an invented test cell,
    ``"llmcours": {"partial_credit": true}`` planted in the test cells' metadata."""
    nb = grading.student_version(ROOT, "mini", patches)
    cells = []
    for cell in nb.cells:
        if planted and cell.metadata.get("nbgrader", {}).get("grade"):
            cell.metadata["llmcours"] = {"partial_credit": True}
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
         "Page Piégée", "Exec Masqué", "Noms Truqués",
         # third round
         "Objet Transformeur", "Evenement Ast", "Exception Perso", "Expressions Remplacees",
         "Types Faux", "Builtins Faux", "Fil Reinstalle", "Trace Effacee", "Credit Plante",
         "Racine Partielle", "Historique Coupe", "Cadres Lus"]


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
        # third round: blank copy + trick → 0, whatever the guard sees (flags=None)
        "Objet Transformeur": dict(nb=_copy(BLANK, after={"setup": CALLABLE_TRANSFORMER}),
                                   max=0, flags=None, exact=True),
        "Evenement Ast": dict(nb=_copy(BLANK, after={"setup": EVENT_AST}), max=0, flags=None,
                              exact=True),
        "Exception Perso": dict(nb=_copy(BLANK, after={"setup": CUSTOM_EXC}), max=0, flags=None,
                                exact=True),
        "Expressions Remplacees": dict(nb=_copy(BLANK, after={"setup": USER_EXPRESSIONS}),
                                       max=0, flags=None, exact=True),
        "Types Faux": dict(nb=_copy(BLANK, after={"setup": FAKE_TYPES}), max=0, flags=None,
                           exact=True),
        "Builtins Faux": dict(nb=_copy(BLANK, after={"setup": FAKE_BUILTINS}), max=0,
                              flags=None, exact=True),
        "Fil Reinstalle": dict(nb=_copy(BLANK, after={"setup": THREAD}), max=0, flags=None,
                               exact=True),
        "Trace Effacee": dict(nb=_copy(BLANK, after={"setup": SETTRACE}), max=0, flags=None,
                              exact=True),
        "Credit Plante": dict(nb=_copy(BLANK, after={"setup": PARTIAL}, planted=True), max=0,
                              flags=None, exact=True),
        # honest at x ≥ 1 only: racine earns (1 + 1) / 4 of its 2 points, computed outside
        "Racine Partielle": dict(nb=_copy({"racine": "def racine(x):\n"
                                           "    return math.sqrt(x) if x >= 1 else 0.0"}),
                                 max=1 + 2 + 1, flags=False, exact=True),
        # honest copies that look for the hidden tests: full marks, nothing found
        "Historique Coupe": dict(nb=_copy(after={"test-racine": IN_CUT}), max=FULL,
                                 flags=False, exact=True),
        "Cadres Lus": dict(nb=_copy({"carre": FRAMES}, after={"test-racine": SHOW_FRAMES}),
                           max=FULL, flags=False, exact=True),
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
    elif case["flags"] is not None:  # None: the guard's flags (a second line) do not matter
        assert row["flags"] == "", row


def test_honest_copies_keep_full_marks_in_the_same_batch(batch):
    for name in ("Honnête Un", "Espion Curieux", "Demon Caché", "Page Piégée",
                 "Historique Coupe", "Cadres Lus"):
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



def _outputs(batch, student: str) -> str:
    graded = batch["root"] / "autograded" / student / "mini" / "mini.ipynb"
    return "".join(o.get("text", "") + str(o.get("data", "")) + str(o.get("evalue", ""))
                   for c in nbformat.read(graded, 4).cells for o in c.get("outputs", []))


@pytest.mark.parametrize("student", ["historique_coupe", "cadres_lus", "espion_curieux"])
def test_no_hidden_test_reaches_the_kernel(batch, student):
    """`In` (cut after the first word), linecache and the callers' frames of a graded
    function, read from inside the kernel, hold no judgement and no expected value."""
    from llmcours.grading.feedback import MASK

    printed = _outputs(batch, student)  # cleaned for feedback: nothing may have been masked
    assert "carre(0) == 0" in printed or "CADRES" in printed, printed[:2000]
    assert MASK not in printed, printed[:2000]
    for secret in (*mini.SECRETS[:2], "juger_carre", "1.4142135623730951"):  # [2]: typed
        assert secret not in printed, (student, secret)


def test_partial_credit_is_computed_outside_the_kernel(batch):
    row = _row(batch, "Racine Partielle")
    assert float(row["test-racine"]) == 1 and float(row["score"]) == 4, row
    assert float(_row(batch, "Credit Plante")["score"]) == 0


def test_csv_cells_that_look_like_formulas_are_neutralised(batch, tmp_path):
    from llmcours.grading.reports import neutralised

    for value in ("=HYPERLINK(\"http://x\")", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"):
        assert neutralised(value) == "'" + value
    assert neutralised("ok = 1") == "ok = 1" and neutralised(-1.0) == -1.0
    with open(batch["root"] / "grading" / "mini" / "notes_mini.csv", encoding="utf-8") as f:
        cells = [cell for row in csv.reader(f) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")
                or c.startswith("-") and not re.fullmatch(r"-?[\d.]+", c)], cells


def test_feedback_masks_hidden_tests_by_content():
    from llmcours.grading.feedback import MASK, _mask

    secret = {"valeur = carre(7)  # secret_cache_7391"}
    cut = "valeur\n= carre(7)  # secret_cache_7391\n"  # each line cut after its first word
    assert _mask(cut, secret, set()) == MASK + "\n"
    assert _mask("secret\n_cache_7391 ok\n", {"x_secret_cache_7391"}, set(),
                 {"secret_cache_7391"}) != MASK + "\n"  # a word cut in two is not the word
    assert _mask("voici secret_cache_7391\n", set(), set(), {"secret_cache_7391"}) == MASK + "\n"
    assert _mask("carre(7) vaut 49\n", secret, set()) == "carre(7) vaut 49\n"
    own = {"valeur = carre(7)  # secret_cache_7391"}  # the student's own line may show
    assert _mask(cut, secret, own) == cut


def test_plain_nbgrader_autograde_gives_zero_to_judged_tests_and_says_why(tmp_path):
    """The formgrader's button (plain `nbgrader autograde`, no llmcours): the judgement is not
    run in the student's kernel; each judged cell fails with one French line."""
    from llmcours.grading.judge import NOT_HERE

    root = _bare_course(tmp_path)
    env = grading.grading_env()
    done = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "mini"],
                          cwd=root, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    global ROOT
    saved, ROOT = ROOT, root
    try:
        honest = _copy()
    finally:
        ROOT = saved
    (root / "submitted" / "honnete" / "mini").mkdir(parents=True)
    nbformat.write(honest, root / "submitted" / "honnete" / "mini" / "mini.ipynb")
    done = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "mini",
                           "--create"], cwd=root, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    graded = nbformat.read(root / "autograded" / "honnete" / "mini" / "mini.ipynb", 4)
    judged = [c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(judged) == 3
    for cell in judged:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert errors and errors[0].evalue == NOT_HERE, cell.outputs
