"""The JupyterHub path, end to end on one machine, through nbgrader's exchange.

On a hub every student's server runs as its own user; the exchange is a shared folder
(``c.Exchange.root``). Here the exchange is a temporary folder and each student is simulated as
a hub container does it: the OS user is ``jovyan`` and ``JUPYTERHUB_USER`` names the student
(nbgrader's ``get_username``), each with their own home folder. The instructor releases exp02
(the cheapest lab to grade), three students fetch it and submit it (right, half right: the
grading case's wrong answer, blank), the instructor collects, grades with ``llmcours grade``,
exports, writes the feedback and releases it, and every student fetches their page.
About 13 min on two loaded cores (grading three copies in the sandbox dominates).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from llmcours.grading import student_version

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
LAB = "exp02"
COURSE = "llmcours"  # c.CourseDirectory.course_id of nbgrader_config.py
# nbgrader as a hub's single-user container runs it: the OS user is jovyan, the student is
# JUPYTERHUB_USER (nbgrader.utils.get_username reads it then).
AS_STUDENT = ("import sys, nbgrader.utils as u; u.get_osusername = lambda: 'jovyan'; "
              "from nbgrader.apps import NbGraderApp; sys.argv[0] = 'nbgrader'; "
              "sys.exit(NbGraderApp.launch_instance())")


def _case():
    spec = importlib.util.spec_from_file_location("case", REPO / "tests/grading_cases" / f"{LAB}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(command[:4])}… failed in {cwd}:\n{output[-3000:]}"
    return output


def test_release_fetch_submit_collect_grade_feedback(tmp_path):
    root, exchange = tmp_path / "cours", tmp_path / "exchange"
    root.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", root)
    for folder in ("solutions", "labs"):
        shutil.copytree(REPO / folder / LAB, root / folder / LAB)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    where = [f"--Exchange.root={exchange}", f"--course={COURSE}"]
    nbgrader = [sys.executable, "-m", "nbgrader"]

    # The instructor releases the lab (labs/exp02, the students' version) into the exchange.
    _run([*nbgrader, "release_assignment", LAB, *where], root, env)
    assert (exchange / COURSE / "outbound" / LAB / f"{LAB}.ipynb").is_file()

    case = _case()
    answers = {"alice": None, "bruno": case.WRONG, "chloe": "blank"}
    for student, patches in answers.items():
        home = tmp_path / "home" / student
        home.mkdir(parents=True)
        senv = dict(env, HOME=str(home), JUPYTERHUB_USER=student)
        _run([sys.executable, "-c", AS_STUDENT, "fetch_assignment", LAB, *where], home, senv)
        fetched = home / LAB / f"{LAB}.ipynb"
        assert fetched.is_file(), f"{student}: nothing fetched"
        if patches != "blank":  # the blank copy is handed in as fetched
            nbformat.write(student_version(root, LAB, patches), fetched)
        _run([sys.executable, "-c", AS_STUDENT, "submit", LAB, *where], home, senv)
    assert len(list((exchange / COURSE / "inbound").iterdir())) == 3

    # The instructor collects (one uid here: the owner check is for real multi-user hubs).
    _run([*nbgrader, "collect", LAB, *where, "--ExchangeCollect.check_owner=False"], root, env)
    for student in answers:
        assert (root / "submitted" / student / LAB / f"{LAB}.ipynb").is_file(), student

    llmcours = [sys.executable, "-m", "llmcours.cli", "grade", "--root", str(root)]
    _run([*llmcours, "autograde", LAB, "--jobs", "2", "--timeout", "600"], root, env)
    _run([*llmcours, "export", LAB], root, env)
    _run([*llmcours, "feedback", LAB], root, env)
    with open(root / "grading" / LAB / f"notes_{LAB}.csv", encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert sorted(rows) == sorted(answers)
    released = nbformat.read(root / "labs" / LAB / f"{LAB}.ipynb", as_version=4)
    parts = {c.metadata.nbgrader.grade_id: float(c.metadata.nbgrader.points)  # autograded
             for c in released.cells
             if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"}
    full = sum(parts.values())
    lost = sum(parts[name] for name in case.LOSES)
    scores = {student: float(row["score"]) for student, row in rows.items()}
    assert scores == {"alice": full, "bruno": full - lost, "chloe": 0.0}, rows
    assert 0 < lost < full
    assert all(row["status"] == "ok" and row["flags"] == "" for row in rows.values()), rows

    # The feedback goes back through the exchange, and each student finds their own page.
    # release_feedback reads the submission's timestamp and secret next to each page; the
    # sandboxed autograde brings back the notebook alone, so they come from submitted/ (the
    # step the README gives).
    for student in answers:
        for name in ("timestamp.txt", "submission_secret.txt"):
            shutil.copy(root / "submitted" / student / LAB / name,
                        root / "feedback" / student / LAB / name)
    _run([*nbgrader, "release_feedback", LAB, *where], root, env)
    for student in answers:
        home = tmp_path / "home" / student
        senv = dict(env, HOME=str(home), JUPYTERHUB_USER=student)
        _run([sys.executable, "-c", AS_STUDENT, "fetch_feedback", LAB, *where], home, senv)
        pages = list((home / LAB / "feedback").glob(f"*/{LAB}.html"))
        assert len(pages) == 1, f"{student}: feedback pages {pages}"
        page = pages[0].read_text(encoding="utf-8")
        assert f"{scores[student]:g}" in page or f"{scores[student]:.1f}" in page, student
        # Their own copy: the blank one still raises where the others answered.
        assert ("NotImplementedError" in page) == (student == "chloe"), student
        assert "BEGIN HIDDEN TESTS" not in page, student
    summary = {s: scores[s] for s in answers}
    print(json.dumps(summary))
