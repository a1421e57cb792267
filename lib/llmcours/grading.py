"""Grading the labs with nbgrader: release, autograde in parallel, export, feedback, histogram.

The repository root is the nbgrader course root (``nbgrader_config.py``): ``solutions/<id>/``
holds the sources, ``labs/<id>/`` the students' versions. A lab's grade is

    score = Σ_cells score(cell),  score(test cell) = points if it runs without error else 0,

plus the manual points that an instructor enters in nbgrader's formgrader.

Autograding design. nbgrader's gradebook is one SQLite file, and parallel ``nbgrader
autograde`` processes writing it lock each other. So each submission is graded by its own
``nbgrader autograde`` in its own temporary course directory, which holds only a copy of the
gradebook and that one submission (never ``solutions/``: the student's code runs in
``<tmp>/autograded/<student>/<lab>/``, from where no relative path leads to the course). The
subprocess runs under an address-space limit (``RLIMIT_AS``) so a memory bomb raises
``MemoryError`` inside the kernel instead of taking the machine down, and nbgrader interrupts a
cell after ``Execute.timeout`` seconds. When it finishes, the main process alone copies the
scores into the course gradebook (one writer, no lock) and the autograded notebook into
``autograded/``, where ``nbgrader generate_feedback`` and the formgrader find them.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

__all__ = [
    "ClearTestTracebacks",
    "autograde",
    "course_root",
    "export",
    "feedback",
    "histogram",
    "lab_ids",
    "release",
    "student_version",
    "without_region_markers",
]

DEFAULT_MEMORY = 6 * 2**30  # bytes of address space; torch + SmolLM2 need about 2.5 GiB
STATUSES = ("ok", "timeout", "memory", "invalid", "missing", "error")
_MEMORY_MARKERS = ("MemoryError", "can't allocate memory", "Unable to allocate", "bad_alloc",
                   "Cannot allocate memory", "out of memory")
_REGION = re.compile(r"^\s*#+\s*(BEGIN|END) (SOLUTION|HIDDEN TESTS)")
# Run argv[2:] with an address-space limit of argv[1] bytes (inherited by the kernel).
_WITH_LIMIT = ("import os, resource, sys; n = int(sys.argv[1]); "
               "resource.setrlimit(resource.RLIMIT_AS, (n, n)); os.execv(sys.argv[2], sys.argv[2:])")


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


# --------------------------------------------------------------------------- course layout
def course_root(start: str | os.PathLike | None = None) -> Path:
    """The course root: the closest folder at or above ``start`` holding ``nbgrader_config.py``."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "nbgrader_config.py").is_file():
            return folder
    raise ValueError(f"start ({str(here)!r}) is not inside a course: no nbgrader_config.py "
                     "in it or above it")


def lab_ids(root: Path) -> list[str]:
    """Lab ids with a source notebook ``solutions/<id>/<id>.ipynb``."""
    return sorted(p.parent.name for p in Path(root).glob("solutions/*/*.ipynb")
                  if p.stem == p.parent.name)


def _check_lab(root: Path, lab: str) -> None:
    known = lab_ids(root)
    if lab not in known:
        raise ValueError(f"lab ({lab!r}) is not a lab of this course; expected one of {known}")


def grading_dir(root: Path, lab: str) -> Path:
    """Where the instructor's outputs for ``lab`` go (git-ignored): CSV, histogram, logs."""
    folder = Path(root) / "grading" / lab
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _course_config(root: Path) -> Any:
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()


def _gradebook(root: Path) -> Any:
    from nbgrader.api import Gradebook

    config = _course_config(root).CourseDirectory
    return Gradebook(config.db_url, config.course_id)


def load_records(root: Path, lab: str, step: str) -> dict[str, dict[str, Any]]:
    """Per-student outcome of a step (``collect`` or ``autograde``): status, note, ..."""
    path = grading_dir(root, lab) / f"{step}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def save_records(root: Path, lab: str, step: str, records: dict[str, dict[str, Any]]) -> None:
    """Merge ``records`` into the step's JSON file of outcomes (see :func:`load_records`)."""
    merged = {**load_records(root, lab, step), **records}
    path = grading_dir(root, lab) / f"{step}.json"
    path.write_text(json.dumps(merged, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                    encoding="utf-8")


def grading_env(threads: int | None = None) -> dict[str, str]:
    """Environment of the nbgrader subprocesses: the venv's ``bin`` first on PATH (nbgrader
    calls ``alembic`` by name), offline Hugging Face, and a bounded number of torch threads
    (several grading kernels on few cores slow down badly when each uses every core)."""
    env = dict(os.environ)
    bin_dir = os.path.dirname(sys.executable)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env.setdefault("MPLBACKEND", "Agg")
    if threads is not None:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
    return env


def _nbgrader(root: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "nbgrader", *args]
    done = subprocess.run(command, cwd=cwd or root, env=grading_env(), capture_output=True,
                          text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"nbgrader {' '.join(args)} failed (exit {done.returncode}):\n{tail}")
    return done


# ------------------------------------------------------------------------------- release
def _normalised(path: Path) -> str:
    """A generated notebook as canonical text, so that regenerating is byte-identical."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata = {key: nb.metadata[key] for key in ("kernelspec", "language_info")
                   if key in nb.metadata}
    return nbformat.writes(nb) + "\n"


def _generate(root: Path, lab: str, out: Path, *, database: bool) -> dict[str, bytes]:
    """Run ``nbgrader generate_assignment`` into ``out``; return {relative path: content}."""
    (Path(root) / "grading").mkdir(exist_ok=True)
    args = ["generate_assignment", lab, "--force", f"--CourseDirectory.release_directory={out}"]
    _nbgrader(root, *args, *([] if database else ["--no-db"]))
    files = {}
    for path in sorted((out / lab).rglob("*")):
        if path.is_file():
            rel = path.relative_to(out / lab).as_posix()
            text = _normalised(path) if path.suffix == ".ipynb" else None
            files[rel] = text.encode("utf-8") if text is not None else path.read_bytes()
    return files


def release(root: Path, labs: Iterable[str] = (), *, check: bool = False) -> list[str]:
    """Regenerate ``labs/<id>/`` from ``solutions/<id>/`` (all labs when ``labs`` is empty).

    With ``check=True`` nothing is written (not even the gradebook); the return value lists
    the drift, ``"labs/tp1/tp1.ipynb (differs)"``, empty when ``labs/`` is up to date.
    """
    root = Path(root)
    labs = list(labs) or lab_ids(root)
    drift = []
    for lab in labs:
        _check_lab(root, lab)
        with tempfile.TemporaryDirectory(prefix="llmcours-release-") as tmp:
            files = _generate(root, lab, Path(tmp), database=not check)
        target = root / "labs" / lab
        current = {p.relative_to(target).as_posix(): p.read_bytes()
                   for p in sorted(target.rglob("*")) if p.is_file()} if target.is_dir() else {}
        for rel in sorted(set(files) | set(current)):
            if files.get(rel) != current.get(rel):
                why = "missing" if rel not in current else "extra" if rel not in files else "differs"
                drift.append(f"labs/{lab}/{rel} ({why})")
        if not check:
            for rel in set(current) - set(files):
                (target / rel).unlink()
            for rel, content in files.items():
                (target / rel).parent.mkdir(parents=True, exist_ok=True)
                (target / rel).write_bytes(content)
    return drift


# ------------------------------------------------------------------------------- collect
def collect(root: Path, lab: str, source: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """Place the submissions found in ``source`` (folder or LMS zip) into
    ``submitted/<student>/<lab>/<lab>.ipynb``; see :mod:`llmcours.submissions` for the names
    it understands. Returns ``{student: {"status": "collected" | "invalid", "note": ...}}``
    (also saved in ``grading/<lab>/collect.json``)."""
    from llmcours.submissions import find_submissions, read_notebook

    root = Path(root)
    _check_lab(root, lab)
    records = {}
    with find_submissions(source, lab) as found:
        for student, (path, note) in sorted(found.items()):
            target = root / "submitted" / student / lab
            shutil.rmtree(target, ignore_errors=True)
            if path is None:
                records[student] = {"status": "invalid", "note": note}
                continue
            problem = read_notebook(path)[1]
            if problem:
                records[student] = {"status": "invalid", "note": problem}
                continue
            target.mkdir(parents=True)
            shutil.copyfile(path, target / f"{lab}.ipynb")
            records[student] = {"status": "collected", "note": note}
    save_records(root, lab, "collect", records)
    return records


# ----------------------------------------------------------------------------- autograde
def _released(root: Path, lab: str) -> Any:
    path = Path(root) / "labs" / lab / f"{lab}.ipynb"
    if not path.is_file():
        raise ValueError(f"lab ({lab!r}) is not released: run `llmcours grade release {lab}`")
    return nbformat.read(path, as_version=4)


def _grade_id(cell: Any) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def restore_locked_cells(nb: Any, released: Any) -> list[str]:
    """Put back, in place, the locked cells (tests, read-only set-up) a student deleted.

    Each goes right after the closest preceding nbgrader cell still present; nbgrader then
    restores its exact source (hidden tests included) from the gradebook. nbgrader's own
    ``add_missing_cells`` only restores grade cells, and fails when the cell before the
    missing one is gone too. Returns the restored cells' ids.
    """
    present = {_grade_id(cell) for cell in nb.cells} - {None}
    restored, previous = [], None
    for cell in released.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = meta.get("grade_id")
        if gid is None:
            continue
        if gid not in present and (meta.get("locked") or meta.get("grade")):
            ids = [_grade_id(c) for c in nb.cells]
            at = ids.index(previous) + 1 if previous in ids else 0
            nb.cells.insert(at, nbformat.from_dict(json.loads(json.dumps(cell))))
            present.add(gid)
            restored.append(gid)
        if gid in present:
            previous = gid
    return restored


def without_region_markers(source: str) -> str:
    """``source`` without its nbgrader ``### BEGIN/END SOLUTION`` and ``HIDDEN TESTS`` lines:
    what a student who found the answer would have typed, or the tests as they run."""
    return "\n".join(line for line in source.splitlines() if not _REGION.match(line))


def student_version(root: Path, lab: str, patches: dict[str, str] | None = None,
                    delete: Iterable[str] = (), *, keep_plain: bool = True) -> Any:
    """A simulated submission: the released notebook with the solution's answers typed in
    (without the region markers), then ``patches`` ({cell id: source}) applied and the cells
    ``delete`` removed. Without ``keep_plain``, ungraded code cells after the first are left
    out (quicker to grade). For testing a lab before handing it out."""
    root = Path(root)
    solution = nbformat.read(root / "solutions" / lab / f"{lab}.ipynb", as_version=4)
    answers = {c.id: c.source for c in solution.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    nb = _released(root, lab)
    cells, first_code = [], True
    for cell in nb.cells:
        plain = not cell.metadata.get("nbgrader") and cell.cell_type == "code"
        if cell.id in delete or (plain and not keep_plain and not first_code):
            continue
        first_code = first_code and cell.cell_type != "code"
        if cell.id in answers:
            cell.source = without_region_markers(answers[cell.id])
        if patches and cell.id in patches:
            cell.source = textwrap.dedent(patches[cell.id]).strip()
        cells.append(cell)
    nb.cells = cells
    return nb


def _diagnose(nb: Any) -> tuple[str, str]:
    """Status of an autograded notebook (``ok``, ``timeout``, ``memory``) and a French note."""
    timeouts, memory = [], []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            name = _grade_id(cell) or cell.get("id", "?")
            text = f"{output.get('ename')}: {output.get('evalue')}"
            if output.get("ename") == "CellTimeoutError":
                timeouts.append(name)
            elif any(marker in text for marker in _MEMORY_MARKERS):
                memory.append(name)
    notes = []
    if memory:
        notes.append(f"mémoire dépassée dans : {', '.join(memory)}")
    if timeouts:
        notes.append(f"délai dépassé dans : {', '.join(timeouts)}")
    return ("memory" if memory else "timeout" if timeouts else "ok"), "; ".join(notes)


def _read_grades(db_url: str, course_id: str, lab: str, student: str) -> dict[str, Any]:
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id) as gb:
        submission = gb.find_submission(lab, student)
        return {
            "grades": [(nb.name, g.name, g.auto_score) for nb in submission.notebooks
                       for g in nb.grades],
            "comments": [(nb.name, c.name, c.auto_comment) for nb in submission.notebooks
                         for c in nb.comments],
        }


def _merge(root: Path, lab: str, student: str, scores: dict[str, Any]) -> None:
    """Copy one student's autograder scores into the course gradebook (main process only)."""
    from sqlalchemy.exc import SAWarning

    with _gradebook(root) as gb, warnings.catch_warnings():
        # nbgrader's add_submission triggers harmless autoflush warnings (as in its autograde)
        warnings.simplefilter("ignore", SAWarning)
        gb.update_or_create_student(student)
        gb.update_or_create_submission(lab, student)
        for notebook, cell, auto_score in scores["grades"]:
            grade = gb.find_grade(cell, notebook, lab, student)
            grade.auto_score = auto_score
            # as nbgrader's SaveAutoGrades: a manual grade or no autograder score needs a human
            grade.needs_manual_grade = grade.manual_score is not None or auto_score is None
        for notebook, cell, auto_comment in scores["comments"]:
            gb.find_comment(cell, notebook, lab, student).auto_comment = auto_comment
        gb.db.commit()


def _grade_one(root: Path, lab: str, student: str, *, template_db: Path, timeout: int,
               memory: int, threads: int) -> dict[str, Any]:
    """Autograde one submission in a throw-away course directory (see the module docstring)."""
    start = time.perf_counter()
    config = _course_config(root).CourseDirectory
    released = _released(root, lab)
    with tempfile.TemporaryDirectory(prefix="llmcours-grade-") as tmp:
        course = Path(tmp)
        shutil.copyfile(template_db, course / "gradebook.db")
        nb = nbformat.read(root / "submitted" / student / lab / f"{lab}.ipynb", as_version=4)
        restored = restore_locked_cells(nb, released)
        (course / "submitted" / student / lab).mkdir(parents=True)
        nbformat.write(nb, course / "submitted" / student / lab / f"{lab}.ipynb")
        # Files handed out with the lab (data...) come from labs/, never from solutions/.
        extra = course / "released" / lab
        shutil.copytree(root / "labs" / lab, extra, ignore=shutil.ignore_patterns("*.ipynb"))
        db_url = f"sqlite:///{course / 'gradebook.db'}"
        (course / "nbgrader_config.py").write_text(
            "c = get_config()  # noqa: F821\n"
            f"load_subconfig({str(root / 'nbgrader_config.py')!r})  # noqa: F821\n"
            f"c.CourseDirectory.root = {str(course)!r}\n"
            f"c.CourseDirectory.db_url = {db_url!r}\n"
            'c.CourseDirectory.source_directory = "released"\n'
            f"c.CourseDirectory.assignment_id = {lab!r}\n"
            f"c.CourseDirectory.student_id = {student!r}\n"
            f"c.Execute.timeout = {int(timeout)}\n", encoding="utf-8")
        command = [sys.executable, "-c", _WITH_LIMIT, str(int(memory)),
                   sys.executable, "-m", "nbgrader", "autograde", "--force"]
        # A safety net above nbgrader's per-cell timeout (a kernel that ignores interrupts).
        limit = timeout * (2 + sum(c.cell_type == "code" for c in nb.cells)) + 120
        process = subprocess.Popen(command, cwd=course, env=grading_env(threads), text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            log, killed = process.communicate(timeout=limit)[0], False
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            log, killed = process.communicate()[0], True
        logs = grading_dir(root, lab) / "logs"
        logs.mkdir(exist_ok=True)
        (logs / f"{student}.log").write_text(log, encoding="utf-8")
        record: dict[str, Any] = {"seconds": round(time.perf_counter() - start, 1)}
        notes = [f"cellules restaurées : {', '.join(restored)}"] if restored else []
        graded_dir = course / "autograded" / student / lab
        if killed or not (graded_dir / f"{lab}.ipynb").is_file():
            errors = [line for line in log.splitlines() if "Error" in line or "error" in line]
            why = f"arrêt après {limit} s" if killed else (errors[-1].strip() if errors else
                                                             f"exit {process.returncode}")
            notes.append(f"la correction automatique a échoué ({why}), voir logs/{student}.log")
            return {**record, "status": "timeout" if killed else "error", "note": "; ".join(notes)}
        status, note = _diagnose(nbformat.read(graded_dir / f"{lab}.ipynb", as_version=4))
        scores = _read_grades(db_url, config.course_id, lab, student)
        target = root / "autograded" / student / lab
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(graded_dir, target)
    return {**record, "status": status, "note": "; ".join(notes + [note] if note else notes),
            "scores": scores}


def submitted_students(root: Path, lab: str) -> list[str]:
    """Students with a notebook in ``submitted/<student>/<lab>/``, sorted."""
    return sorted(p.parent.parent.name for p in Path(root).glob(f"submitted/*/{lab}/{lab}.ipynb"))


def autograde(root: Path, lab: str, *, students: Iterable[str] = (), jobs: int | None = None,
              timeout: int | None = None, memory: int = DEFAULT_MEMORY,
              threads: int | None = None, progress: bool = True) -> dict[str, dict[str, Any]]:
    """Autograde the submissions of ``lab`` (all of ``submitted/`` by default), ``jobs`` at a
    time, each under ``memory`` bytes of address space and ``timeout`` seconds per cell.

    Returns ``{student: {"status", "note", "seconds"}}`` (also in ``grading/<lab>/autograde.json``);
    a submission that fails never stops the others.
    """
    from tqdm.auto import tqdm

    root = Path(root)
    _check_lab(root, lab)
    everyone = submitted_students(root, lab)
    students = list(students) or everyone
    unknown = sorted(set(students) - set(everyone))
    if unknown or not students:
        raise ValueError(f"students ({unknown or students}) have no submission in "
                         f"submitted/<student>/{lab}/: run `llmcours grade collect` first")
    jobs = jobs or os.cpu_count() or 1
    threads = threads or max(1, (os.cpu_count() or 1) // jobs)
    timeout = timeout or _course_config(root).Execute.timeout
    if memory < 2**30:
        raise ValueError(f"memory ({memory}) must be at least 1 GiB (bytes of address space)")
    records: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="llmcours-gradebook-") as tmp:
        # Bring the gradebook up to date with solutions/ (cells, checksums, hidden tests) and
        # freeze a copy for the workers: the main gradebook changes while they run.
        _generate(root, lab, Path(tmp) / "release", database=True)
        db_url = _course_config(root).CourseDirectory.db_url
        template = Path(tmp) / "gradebook.db"
        shutil.copyfile(db_url.removeprefix("sqlite:///"), template)
        options = dict(template_db=template, timeout=timeout, memory=memory, threads=threads)
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_grade_one, root, lab, s, **options): s for s in students}
            for future in tqdm(as_completed(futures), total=len(futures), unit="copie",
                               desc=f"Correction de {lab}", disable=not progress):
                student = futures[future]
                try:
                    record = future.result()
                except Exception as err:  # one broken submission never stops the batch
                    record = {"status": "error", "note": f"{type(err).__name__}: {err}"}
                scores = record.pop("scores", None)
                if scores is not None:
                    _merge(root, lab, student, scores)
                else:  # no stale scores or feedback from an earlier run
                    shutil.rmtree(root / "autograded" / student / lab, ignore_errors=True)
                records[student] = {**record, "graded": scores is not None}
    save_records(root, lab, "autograde", records)
    return records


# ------------------------------------------------------------- export, feedback, histogram
def grade_parts(root: Path, lab: str) -> list[tuple[str, float]]:
    """``[(grade cell id, points)]`` of a lab, in notebook order."""
    return [(_grade_id(cell), float(cell.metadata["nbgrader"]["points"]))
            for cell in _released(root, lab).cells
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade")]


def grade_rows(root: Path, lab: str) -> list[dict[str, Any]]:
    """One row per student known to the gradebook or to collect/autograde, with the columns
    of the CSV: student, lab, score, max_score, one per graded part, status, note."""
    from nbgrader.api import MissingEntry

    root = Path(root)
    _check_lab(root, lab)
    parts = grade_parts(root, lab)
    collected, graded = load_records(root, lab, "collect"), load_records(root, lab, "autograde")
    rows = []
    with _gradebook(root) as gb:
        students = sorted({s.id for s in gb.students} | set(collected) | set(graded))
        for student in students:
            row: dict[str, Any] = {"student": student, "lab": lab, "score": 0.0,
                                   "max_score": sum(points for _, points in parts)}
            row.update({name: "" for name, _ in parts})
            notes = [collected.get(student, {}).get("note", "")]
            if collected.get(student, {}).get("status") == "invalid":
                status = "invalid"
            elif student not in graded:
                status, notes = "missing", notes + ["aucun rendu corrigé"]
            else:
                status = graded[student]["status"]
                notes.append(graded[student].get("note", ""))
                if graded[student].get("graded"):
                    try:
                        grades = gb.find_submission(lab, student).notebooks[0].grades
                    except MissingEntry:
                        grades = []
                    pending = [g.name for g in grades if g.needs_manual_grade]
                    for grade in grades:
                        if not grade.needs_manual_grade or grade.manual_score is not None:
                            row[grade.name] = grade.score
                    row["score"] = sum(g.score for g in grades)
                    if pending:
                        notes.append(f"à noter à la main : {', '.join(pending)}")
            row["status"] = status
            row["note"] = "; ".join(n for n in notes if n)
            rows.append(row)
    return rows


def export(root: Path, lab: str, output: str | os.PathLike | None = None) -> Path:
    """Write the grades of ``lab`` as CSV (default ``grading/<lab>/notes_<lab>.csv``)."""
    rows = grade_rows(root, lab)
    output = Path(output) if output else grading_dir(root, lab) / f"notes_{lab}.csv"
    output.parent.mkdir(parents=True, exist_ok=True)
    fields = ["student", "lab", "score", "max_score",
              *(name for name, _ in grade_parts(root, lab)), "status", "note"]
    with open(output, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: f"{v:g}" if isinstance(v, float) else v for k, v in row.items()})
    return output


def feedback(root: Path, lab: str) -> list[Path]:
    """Per-student feedback pages ``feedback/<student>/<lab>/<lab>.html`` (no hidden tests)."""
    root = Path(root)
    _check_lab(root, lab)
    if not list(root.glob(f"autograded/*/{lab}/{lab}.ipynb")):
        raise ValueError(f"lab ({lab!r}) has no autograded submission: run autograde first")
    _nbgrader(root, "generate_feedback", lab, "--force")
    return sorted(root.glob(f"feedback/*/{lab}/{lab}.html"))


def histogram(root: Path, lab: str, output: str | os.PathLike | None = None) -> Path:
    """PNG histogram of the graded submissions' scores (default ``grading/<lab>/``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rows = [r for r in grade_rows(root, lab) if r["status"] not in ("missing", "invalid")]
    if not rows:
        raise ValueError(f"lab ({lab!r}) has no graded submission: run autograde first")
    scores = np.array([r["score"] for r in rows], dtype=float)
    maximum = rows[0]["max_score"]
    output = Path(output) if output else grading_dir(root, lab) / f"histogramme_{lab}.png"
    output.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(scores, bins=np.arange(0, maximum + 2) - 0.5, color="#4c72b0", edgecolor="white")
    ax.axvline(scores.mean(), color="black", linestyle="--",
               label=f"moyenne : {scores.mean():.1f}".replace(".", ","))
    ax.set_xlim(-0.5, maximum + 0.5)
    ax.set_xlabel(f"Note (sur {maximum:g})")
    ax.set_ylabel("Nombre de copies")
    ax.set_title(f"{lab.upper()} — répartition des notes ({len(scores)} copies)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(output, dpi=120)
    plt.close(fig)
    return output
