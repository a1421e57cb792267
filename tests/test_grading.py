"""The grading pipeline (``llmcours.grading``, ``llmcours grade``) on every lab of solutions/.

A session fixture, shared by the xdist workers, copies each lab to its own temporary course
root, builds a Moodle-style zip of submissions, and runs collect → autograde → export →
feedback → histogram once per lab (two labs at once, one per worker); the tests then read the
results. Per lab: the solution scores every
autograded point, the released version 0, and ``tests/grading_cases/<lab>.py``'s ``WRONG``
passes the visible tests but loses ``LOSES`` to the hidden ones. TP1 also gets hostile
submissions (infinite loop, memory bomb, deleted and edited tests, a search for solutions/,
invalid JSON) in the same batch.
"""

from __future__ import annotations

import csv
import html
import importlib.util
import json
import os
import re
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest
from filelock import FileLock

from llmcours import grading
from llmcours.cli import main
from llmcours.grading import student_version
from llmcours.grading.submissions import student_id

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
LABS = grading.lab_ids(REPO)
CASES = Path(__file__).parent / "grading_cases"
TIMEOUT = 60  # seconds per cell; the slowest TP1 cell needs ~20 s on a busy 2-core CPU

SPY = '''
import glob
import os

marque = "BEGIN " + "SOLUTION"
trouve = [p for k in range(1, 5) for p in glob.glob(os.path.join(*[".."] * k, "solutions"))]
trouve += glob.glob(os.path.join("..", "..", "**", "solutions*"), recursive=True)
for chemin in glob.glob(os.path.join("..", "..", "**", "*.ipynb"), recursive=True):
    with open(chemin, encoding="utf-8", errors="replace") as fichier:
        if marque in fichier.read():
            trouve.append(chemin)
print("trouvé :", trouve)
if not trouve:
    PROMPTS = {"question": "Why?", "completion": "The sea is", "instruction": "Say hello."}
'''
BOMB = '''
import torch

_enorme = torch.ones(30_000, 30_000, 3)  # 10,8 Go d'un coup


def compter_tokens(texte):
    return len(tokenizer(texte, add_special_tokens=False)["input_ids"])
'''


def _case(lab: str):
    path = CASES / f"{lab}.py"
    assert path.is_file(), f"{lab}: write {path} with WRONG (cell id -> source) and LOSES"
    spec = importlib.util.spec_from_file_location(f"grading_case_{lab}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _hostile() -> dict[str, dict]:
    """TP1's hostile submissions: patches, deleted cells, expected part scores and status."""
    wrong = _case("tp1").WRONG
    return {
        "Boucle Infinie": dict(
            patches={**wrong, "prompts": "while True:\n    pass",
                     "test-generer-graine": "pass  # plus de tests cachés !"},
            delete=("test-pipeline", "test-compter-tokens-cache"), status="timeout",
            parts={"test-pipeline": 2, "test-prompts": 0, "test-compter-tokens": 1,
                   "test-compter-tokens-cache": 0, "test-generer": 2, "test-generer-exact": 3,
                   "test-generer-graine": 0}),
        "Bombe Mémoire": dict(
            patches={"compter-tokens": BOMB, "prompts": SPY}, delete=(), status="memory",
            parts={"test-pipeline": 2, "test-prompts": 2, "test-compter-tokens": 0,
                   "test-compter-tokens-cache": 0, "test-generer": 2, "test-generer-exact": 3,
                   "test-generer-graine": 3}),
    }


def _regions(lab: str, kind: str) -> list[str]:
    """Stripped lines inside the ``### BEGIN <kind>`` regions of a lab's solution."""
    lines, inside = [], False
    for cell in nbformat.read(REPO / "solutions" / lab / f"{lab}.ipynb", as_version=4).cells:
        for line in cell.source.splitlines():
            if re.match(rf"^\s*#+\s*(BEGIN|END) {kind}", line):
                inside = "BEGIN" in line
            elif inside and len(line.strip()) >= 8:
                lines.append(line.strip())
    return lines


def _moodle_zip(lab: str, path: Path) -> Path:
    """A Moodle "download all submissions" zip (file and folder styles, a wrong file name)."""
    def name(student: str, number: int, file: str) -> str:
        return f"{student}_{number}_assignsubmission_file_{file}"

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(name("Sol Parfaite", 1001, f"{lab}.ipynb"),
                         nbformat.writes(student_version(REPO, lab)))
        archive.writestr(name("Élodie Vide", 1002, "mon_rendu.ipynb"),
                         (REPO / "labs" / lab / f"{lab}.ipynb").read_text(encoding="utf-8"))
        archive.writestr(name("Faux Positif", 1003, "") + f"/{lab}.ipynb",
                         nbformat.writes(student_version(REPO, lab, _case(lab).WRONG, keep_plain=False)))
        if lab == "tp1":
            for number, (student, case) in enumerate(_hostile().items(), start=1004):
                nb = student_version(REPO, lab, case["patches"], case["delete"], keep_plain=False)
                archive.writestr(name(student, number, f"{lab}.ipynb"), nbformat.writes(nb))
            archive.writestr(name("Json Cassé", 1010, f"{lab}.ipynb"), '{"cells": [{"cell_type"')
    return path


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """``graded(lab)``: a course root where ``lab`` went through the whole pipeline, built once
    per run. Each lab has its own root and lock, so the two xdist workers grade two labs at
    once (each with 2 jobs: kernel start and sandbox set-up leave the CPU idle otherwise)
    instead of one worker grading all of them while the other waits."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    shared = tmp_path_factory.getbasetemp().parent / f"grading-{run}" if run else \
        tmp_path_factory.getbasetemp() / "grading"

    def grade(lab: str) -> Path:
        base = shared / lab
        base.mkdir(parents=True, exist_ok=True)
        root = base / "course"
        with FileLock(str(base / "lock")):
            if not (root / "done.json").is_file():
                shutil.rmtree(root, ignore_errors=True)
                root.mkdir()
                shutil.copy(REPO / "nbgrader_config.py", root)
                for folder in ("solutions", "labs"):
                    shutil.copytree(REPO / folder / lab, root / folder / lab)
                archive = _moodle_zip(lab, base / f"{lab}.zip")
                done = {
                    "collect": grading.collect(root, lab, archive),
                    "autograde": grading.autograde(root, lab, jobs=2, timeout=TIMEOUT,
                                                   threads=1, progress=False),
                    "csv": str(grading.export(root, lab)),
                    "feedback": [str(p) for p in grading.feedback(root, lab)],
                    "png": str(grading.histogram(root, lab)),
                }
                (root / "done.json").write_text(json.dumps(done, indent=1), encoding="utf-8")
        return root

    return grade


@pytest.fixture
def batch(request, graded) -> Path:
    """The graded course root of the test's ``lab`` parameter (TP1 for the hostile test)."""
    callspec = getattr(request.node, "callspec", None)
    return graded(callspec.params["lab"] if callspec and "lab" in callspec.params else "tp1")


def _rows(root: Path, lab: str) -> dict[str, dict[str, str]]:
    with open(root / "grading" / lab / f"notes_{lab}.csv", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def _auto_parts(lab: str) -> dict[str, float]:
    """Autograded test cells of a lab -> points (manual answers excluded)."""
    nb = nbformat.read(REPO / "labs" / lab / f"{lab}.ipynb", as_version=4)
    return {c.metadata.nbgrader.grade_id: float(c.metadata.nbgrader.points) for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"}


def _hidden_cells(lab: str) -> set[str]:
    nb = nbformat.read(REPO / "solutions" / lab / f"{lab}.ipynb", as_version=4)
    return {c.metadata.nbgrader.grade_id for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade") and "BEGIN HIDDEN TESTS" in c.source}


# ------------------------------------------------------------------ release (no grading)
def test_labs_equal_regenerated_solutions():
    assert grading.release(REPO, check=True) == [], "run `llmcours grade release`"
    assert main(["grade", "--root", str(REPO), "release", "--check"]) == 0


@pytest.mark.parametrize("lab", LABS)
def test_released_lab_has_no_solution_and_no_hidden_test(lab):
    released = (REPO / "labs" / lab / f"{lab}.ipynb").read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in released, f"labs/{lab}: contains {marker!r}"
    lines = {line.strip() for cell in nbformat.reads(released, as_version=4).cells
             for line in cell.source.splitlines()}
    # A line that the solution also has outside its regions (``with torch.no_grad():`` in a
    # locked cell) is no leak: only lines found nowhere but in the regions count.
    solution = [line.strip() for cell in
                nbformat.read(REPO / "solutions" / lab / f"{lab}.ipynb", as_version=4).cells
                for line in cell.source.splitlines()]
    secret = _regions(lab, "SOLUTION") + _regions(lab, "HIDDEN TESTS")
    public = {line for line in solution if solution.count(line) > secret.count(line)}
    leaked = [line for line in secret if line in lines and line not in public]
    assert not leaked, f"labs/{lab}: solution or hidden-test lines leaked: {leaked[:5]}"


def test_restore_locked_cells_puts_deleted_tests_back_in_place():
    released = nbformat.read(REPO / "labs" / "tp1" / "tp1.ipynb", as_version=4)
    nb = student_version(REPO, "tp1", delete=("generer", "test-generer", "test-generer-exact"))
    restored = grading.restore_locked_cells(nb, released)
    assert restored == ["test-generer", "test-generer-exact"]  # the solution cell stays gone
    ids = [c.id for c in nb.cells]
    assert ids.index("test-generer") == ids.index("test-compter-tokens-cache") + 1, ids
    assert ids.index("test-generer-exact") == ids.index("test-generer") + 1, ids


@pytest.mark.parametrize("argv, message", [
    (["collect", "tp99", "."], "lab ('tp99') is not a lab of this course"),
    (["collect", "tp1", "/nonexistent/rendus"], "does not exist"),
    (["collect", "tp1", "EMPTY_ZIP"], "holds no .ipynb notebook"),
    (["export", "tp99"], "is not a lab"),
])
def test_cli_bad_input_is_one_clear_line(argv, message, tmp_path, capsys):
    empty = tmp_path / "vide.zip"
    zipfile.ZipFile(empty, "w").close()
    argv = [str(empty) if a == "EMPTY_ZIP" else a for a in argv]
    assert main(["grade", "--root", str(REPO), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err


# -------------------------------------------------------------------- the graded batch
@pytest.mark.parametrize("lab", LABS)
def test_solution_scores_every_autograded_point(batch, lab):
    row = _rows(batch, lab)["sol_parfaite"]
    parts = _auto_parts(lab)
    got = {name: float(row[name]) for name in parts}
    assert got == parts, f"{lab}: solution lost points: {got} vs {parts}"
    assert float(row["score"]) == sum(parts.values()) and row["status"] == "ok", row


@pytest.mark.parametrize("lab", LABS)
def test_honest_copies_are_never_flagged(batch, lab):
    rows = _rows(batch, lab)
    for student in ("sol_parfaite", "elodie_vide", "faux_positif"):
        assert rows[student]["flags"] == "", rows[student]


@pytest.mark.parametrize("lab", LABS)
def test_released_version_scores_zero(batch, lab):
    row = _rows(batch, lab)["elodie_vide"]
    assert float(row["score"]) == 0 and row["status"] == "ok", row
    assert "mon_rendu.ipynb" in row["note"], row  # wrong file name: accepted, renamed, noted


@pytest.mark.parametrize("lab", LABS)
def test_wrong_answer_passes_visible_tests_but_loses_hidden_points(batch, lab):
    row = _rows(batch, lab)["faux_positif"]
    loses = _case(lab).LOSES
    assert loses <= _hidden_cells(lab), f"{lab}: LOSES must name cells with hidden tests"
    for name, points in _auto_parts(lab).items():
        expected = 0 if name in loses else points
        assert float(row[name]) == expected, f"{lab}/{name}: {row[name]} instead of {expected}"


def test_hostile_submissions_are_graded_without_stopping_the_batch(batch):
    rows = _rows(batch, "tp1")
    for student, case in _hostile().items():
        row = rows[student_id(student)]
        assert row["status"] == case["status"], row
        got = {name: float(row[name]) for name in case["parts"]}
        assert got == case["parts"], f"{student}: {got}"
    spy = nbformat.read(batch / "autograded" / "bombe_memoire" / "tp1" / "tp1.ipynb", 4)
    printed = "".join(o.get("text", "") for c in spy.cells for o in c.get("outputs", []))
    assert "trouvé : []" in printed, printed
    broken = rows["json_casse"]
    assert broken["status"] == "invalid" and "JSON invalide" in broken["note"], broken
    assert float(broken["score"]) == 0


@pytest.mark.parametrize("lab", LABS)
def test_csv_has_one_row_per_student_and_the_parts(batch, lab):
    rows = _rows(batch, lab)
    expected = {"sol_parfaite", "elodie_vide", "faux_positif"}
    if lab == "tp1":
        expected |= {"boucle_infinie", "bombe_memoire", "json_casse"}
    handed_in = {s for s, r in rows.items() if r["status"] != "missing"}
    assert handed_in == expected, f"{lab}: rows {sorted(rows)}"
    # Students of the course (the gradebook) who did not hand this lab in: 0, "missing".
    absent = {s: r for s, r in rows.items() if s not in expected}
    assert all(r["status"] == "missing" and float(r["score"]) == 0 for r in absent.values()), absent
    first = next(iter(rows.values()))
    assert list(first)[:4] == ["student", "lab", "score", "max_score"]
    assert set(_auto_parts(lab)) <= set(first)
    assert list(first)[-3:] == ["status", "flags", "note"]
    assert {row["status"] for row in rows.values()} <= set(grading.STATUSES)


@pytest.mark.parametrize("lab", LABS)
def test_feedback_never_shows_hidden_tests(batch, lab):
    pages = sorted(batch.glob(f"feedback/*/{lab}/{lab}.html"))
    graded = {s for s, r in _rows(batch, lab).items() if r["status"] not in ("invalid", "missing")}
    assert {p.parents[1].name for p in pages} == graded
    hidden = [line for line in _regions(lab, "HIDDEN TESTS")
              if line not in _regions(lab, "SOLUTION")]
    for page in pages:
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))
        assert "HIDDEN TESTS" not in text, page
        # Whole lines: a hidden line may be part of a longer line the student wrote.
        page_lines = {line.strip() for line in text.splitlines()}
        # Lines of the student's own notebook (parsed: the raw JSON escapes quotes) may show.
        own = {line.strip() for cell in nbformat.read(
            batch / "submitted" / page.parents[1].name / lab / f"{lab}.ipynb", as_version=4).cells
            for line in cell.source.splitlines()}
        shown = [line for line in hidden if line in page_lines and line not in own]
        assert not shown, f"{page}: hidden test source shown: {shown[:3]}"


@pytest.mark.parametrize("lab", LABS)
def test_histogram_is_a_png(batch, lab):
    import matplotlib.image

    path = batch / "grading" / lab / f"histogramme_{lab}.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width = matplotlib.image.imread(path).shape[:2]
    assert height > 100 and width > 100
