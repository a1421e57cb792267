"""Autograde: every submission graded by its own ``nbgrader autograde``, its kernel sandboxed.

A lab's grade is

    score = Σ_cells score(cell),  score(test cell) = points if it runs without error else 0,

where a test cell whose hidden region is a judgement (:mod:`llmcours.grading.judge`) "runs
without error" when its visible part does in the kernel and its judgement passes in the
grader's process (a fraction of the points when the judgement returns one),

plus the manual points that an instructor enters in nbgrader's formgrader.

nbgrader's gradebook is one SQLite file, and parallel ``nbgrader autograde`` processes writing
it lock each other. So each submission is graded in its own temporary course folder, which
holds a copy of the gradebook and that one submission; the student's kernel runs in the
sandbox of :mod:`llmcours.grading.sandbox`, which sees none of it. nbgrader runs the test
cells through :class:`llmcours.grading.guard.GuardedExecute`. When it finishes, the main
process alone copies the scores into the course gradebook (one writer, no lock) and the
autograded notebook (nothing else, size-capped) into ``autograded/``.

Records are saved after every copy, so a batch that is killed loses nothing already graded,
and ``resume=True`` grades only the copies without a result for their current content.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import nbformat

from llmcours.grading import sandbox
from llmcours.grading.course import (
    check_lab,
    course_config,
    grade_id,
    gradebook,
    grading_dir,
    grading_env,
    load_records,
    released,
    save_records,
)
from llmcours.grading.guard import judgements_of
from llmcours.grading.release import generate

__all__ = ["DEFAULT_MEMORY", "MAX_GRADED", "NO_SANDBOX_FLAG", "STATUSES", "autograde",
           "check_sandbox",
           "restore_locked_cells", "submitted_students"]

DEFAULT_MEMORY = 6 * 2**30  # bytes of address space; torch + SmolLM2 need about 2.5 GiB
MAX_GRADED = 50 * 2**20  # bytes of an autograded notebook brought back
STATUSES = ("ok", "timeout", "memory", "invalid", "missing", "error")
NO_SANDBOX_FLAG = "corrigé sans bac à sable (--no-sandbox)"
_MEMORY_MARKERS = ("MemoryError", "can't allocate memory", "Unable to allocate", "bad_alloc",
                   "Cannot allocate memory", "out of memory")
# Run argv[2:] with an address-space limit of argv[1] bytes (nbgrader's own process).
_WITH_LIMIT = ("import os, resource, sys; n = int(sys.argv[1]); "
               "resource.setrlimit(resource.RLIMIT_AS, (n, n)); os.execv(sys.argv[2], sys.argv[2:])")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to SIGKILL this process when the thread that started it dies."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def restore_locked_cells(nb: Any, released_nb: Any) -> list[str]:
    """Put back, in place, the locked cells (tests, read-only set-up) a student deleted.

    Each goes right after the closest preceding nbgrader cell still present; nbgrader then
    restores its exact source (hidden tests included) from the gradebook. nbgrader's own
    ``add_missing_cells`` only restores grade cells, and fails when the cell before the
    missing one is gone too. Returns the restored cells' ids.
    """
    present = {grade_id(cell) for cell in nb.cells} - {None}
    restored, previous = [], None
    for cell in released_nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = meta.get("grade_id")
        if gid is None:
            continue
        if gid not in present and (meta.get("locked") or meta.get("grade")):
            ids = [grade_id(c) for c in nb.cells]
            at = ids.index(previous) + 1 if previous in ids else 0
            nb.cells.insert(at, nbformat.from_dict(json.loads(json.dumps(cell))))
            present.add(gid)
            restored.append(gid)
        if gid in present:
            previous = gid
    return restored


def drop_foreign_cells(nb: Any, released_nb: Any) -> list[str]:
    """Make plain the cells that claim an nbgrader id twice or one the lab does not have
    (a pasted test cell, an invented graded cell); returns a note for each."""
    known = {grade_id(c) for c in released_nb.cells} - {None}
    seen: set[str] = set()
    notes = []
    for cell in nb.cells:
        meta = cell.get("metadata", {})
        gid = grade_id(cell)
        if "nbgrader" in meta and not isinstance(meta["nbgrader"], dict):
            del meta["nbgrader"]
            notes.append("métadonnées nbgrader invalides ignorées")
        elif gid is not None and (gid in seen or gid not in known):
            del meta["nbgrader"]
            notes.append(f"cellule « {gid} » {'en double' if gid in seen else 'inconnue'} "
                         "ignorée (corrigée comme une cellule ordinaire)")
        seen.add(gid)
    return notes


def _diagnose(nb: Any) -> tuple[str, str]:
    """Status of an autograded notebook (``ok``, ``timeout``, ``memory``) and a French note."""
    timeouts, memory, dead = [], [], []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            name = grade_id(cell) or cell.get("id", "?")
            text = f"{output.get('ename')}: {output.get('evalue')}"
            if output.get("ename") == "CellTimeoutError":
                timeouts.append(name)
            elif output.get("ename") == "KernelDied":
                dead.append(name)
            elif any(marker in text for marker in _MEMORY_MARKERS):
                memory.append(name)
    notes = []
    if memory:
        notes.append(f"mémoire dépassée dans : {', '.join(memory)}")
    if timeouts:
        notes.append(f"délai dépassé dans : {', '.join(timeouts)}")
    if dead:
        notes.append(f"noyau arrêté, cellules non exécutées : {', '.join(dead[:5])}"
                     + (" …" if len(dead) > 5 else ""))
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

    with gradebook(root) as gb, warnings.catch_warnings():
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


def _config(root: Path, course: Path, lab: str, student: str, timeout: int,
            use_sandbox: bool) -> str:
    """The throw-away course's ``nbgrader_config.py`` (read by nbgrader, never by the kernel)."""
    lines = [
        "from llmcours.grading.guard import GuardedExecute",
        "from nbconvert.preprocessors import ClearMetadataPreprocessor",
        "from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, IgnorePattern,",
        "                                    LimitOutput, SaveAutoGrades)",
        "c = get_config()  # noqa: F821",
        f"load_subconfig({str(root / 'nbgrader_config.py')!r})  # noqa: F821",
        f"c.CourseDirectory.root = {str(course)!r}",
        f"c.CourseDirectory.db_url = {'sqlite:///' + str(course / 'gradebook.db')!r}",
        'c.CourseDirectory.source_directory = "released"',
        f"c.CourseDirectory.assignment_id = {lab!r}",
        f"c.CourseDirectory.student_id = {student!r}",
        f"c.Execute.timeout = {int(timeout)}",
        f"c.GuardedExecute.flags_file = {str(course / 'flags.json')!r}",
        f"c.GuardedExecute.judgements_file = {str(course / 'judgements.json')!r}",
        "# nbgrader's list, with GuardedExecute in place of Execute",
        "c.Autograde.autograde_preprocessors = [GuardedExecute, IgnorePattern,",
        "    ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades, AssignLatePenalties,",
        "    CheckCellMetadata]",
    ]
    if use_sandbox:
        lines.append("c.GuardedExecute.ipc = True")
    return "\n".join(lines) + "\n"


def _run_bounded(command: list[str], cwd: Path, env: dict[str, str],
                 limit: float) -> tuple[subprocess.Popen, sandbox.BoundedReader, bool]:
    """Run nbgrader, its output (and the kernel's, which inherits it) read through a bounded
    buffer; killed with its process group after ``limit`` seconds. Returns the finished
    process, its output and whether it was killed."""
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True,
                               preexec_fn=_die_with_parent)
    output = sandbox.BoundedReader(process.stdout)
    try:
        process.wait(timeout=limit)
        return process, output, False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return process, output, True


def _grade_one(root: Path, lab: str, student: str, *, template_db: Path, timeout: int,
               memory: int, threads: int, use_sandbox: bool) -> dict[str, Any]:
    """Autograde one submission in a throw-away course folder (see the module docstring)."""
    start = time.perf_counter()
    config = course_config(root).CourseDirectory
    released_nb = released(root, lab)
    submitted = root / "submitted" / student / lab / f"{lab}.ipynb"
    digest = hashlib.sha256(submitted.read_bytes()).hexdigest()
    with tempfile.TemporaryDirectory(prefix="llmcours-grade-") as tmp:
        course = Path(tmp)
        shutil.copyfile(template_db, course / "gradebook.db")
        nb = nbformat.read(submitted, as_version=4)
        notes = drop_foreign_cells(nb, released_nb)
        restored = restore_locked_cells(nb, released_nb)
        if restored:
            notes.append(f"cellules restaurées : {', '.join(restored)}")
        (course / "submitted" / student / lab).mkdir(parents=True)
        nbformat.write(nb, course / "submitted" / student / lab / f"{lab}.ipynb")
        # Files handed out with the lab (data...) come from labs/, never from solutions/.
        extra = course / "released" / lab
        shutil.copytree(root / "labs" / lab, extra, ignore=shutil.ignore_patterns("*.ipynb"))
        (course / "nbgrader_config.py").write_text(
            _config(root, course, lab, student, timeout, use_sandbox), encoding="utf-8")
        # The judged test cells, from the solution (never from the submission): see guard.py
        (course / "judgements.json").write_text(json.dumps(judgements_of(nbformat.read(
            root / "solutions" / lab / f"{lab}.ipynb", as_version=4))), encoding="utf-8")
        env = grading_env(threads)
        env["JUPYTER_RUNTIME_DIR"] = str(course / "runtime")
        (course / "runtime").mkdir(mode=0o700)
        command = [sys.executable, "-c", _WITH_LIMIT, str(int(memory)),
                   sys.executable, "-m", "nbgrader", "autograde", "--force"]
        # A safety net above nbgrader's per-cell timeout (a kernel that ignores interrupts).
        limit = timeout * (2 + sum(c.cell_type == "code" for c in nb.cells)) + 120
        with contextlib.ExitStack() as stack:  # the copy's cgroups and runtime tmpfs
            box = None
            if use_sandbox:
                box = stack.enter_context(sandbox.confined(course / "runtime", memory=memory,
                                                           threads=threads))
                argv = sandbox.kernel_command(
                    lab_files=extra, runtime=course / "runtime", lab=lab, memory=memory,
                    threads=threads, library=sandbox.course_library(root),
                    cgroups=list(box.cgroups.values()))
                sandbox.write_kernelspec(course / "jupyter", argv)
                env["JUPYTER_PATH"] = str(course / "jupyter")
            process, output, killed = _run_bounded(command, course, env, limit)
            oom = box.oom_kills() if box else 0
        log = output.text()  # every process of the copy is dead: its pipe is closed
        if oom:  # the cgroup's OOM killer stopped processes of the copy (the kernel or not)
            notes.append(f"mémoire de la copie dépassée ({memory // 2**20} Mio) : {oom} "
                         "processus tués")
        logs = grading_dir(root, lab) / "logs"
        logs.mkdir(exist_ok=True)
        (logs / f"{student}.log").write_text(log[-1_000_000:], encoding="utf-8")
        record: dict[str, Any] = {"seconds": round(time.perf_counter() - start, 1),
                                  "sha256": digest}
        flags = json.loads((course / "flags.json").read_text()) \
            if (course / "flags.json").is_file() else []
        if not use_sandbox:
            flags.insert(0, NO_SANDBOX_FLAG)
        record["flags"] = flags
        graded = course / "autograded" / student / lab / f"{lab}.ipynb"
        size = graded.stat().st_size if graded.is_file() else 0
        if killed or not size or size > MAX_GRADED:
            errors = [line for line in log.splitlines() if "Error" in line or "error" in line]
            why = (f"arrêt après {limit} s" if killed else
                   f"copie corrigée trop grosse ({size} octets)" if size else
                   errors[-1].strip()[:300] if errors else f"exit {process.returncode}")
            notes.append(f"la correction automatique a échoué ({why}), voir logs/{student}.log")
            return {**record, "status": "memory" if oom else "timeout" if killed else "error",
                    "note": "; ".join(notes)}
        status, note = _diagnose(nbformat.read(graded, as_version=4))
        status = "memory" if oom else status
        scores = _read_grades(f"sqlite:///{course / 'gradebook.db'}", config.course_id, lab,
                              student)
        target = root / "autograded" / student / lab
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        shutil.copyfile(graded, target / f"{lab}.ipynb")
    return {**record, "status": status, "note": "; ".join(notes + [note] if note else notes),
            "scores": scores}


def submitted_students(root: Path, lab: str) -> list[str]:
    """Students with a notebook in ``submitted/<student>/<lab>/``, sorted."""
    return sorted(p.parent.parent.name for p in Path(root).glob(f"submitted/*/{lab}/{lab}.ipynb"))


def _prime_model_cache() -> None:
    """Convert SmolLM2 once, outside the sandbox (whose view of the cache is read-only)."""
    from llmcours import models

    try:
        models._smollm2_source()
    except Exception:  # a lab without the model must not fail here
        pass


def _up_to_date(root: Path, lab: str, student: str, record: dict[str, Any]) -> bool:
    path = root / "submitted" / student / lab / f"{lab}.ipynb"
    return bool(record.get("graded")) and record.get("sha256") == \
        hashlib.sha256(path.read_bytes()).hexdigest()


def check_sandbox(root: Path | None = None) -> None:
    """Raise ``RuntimeError`` (one line: why, and how to proceed) if the sandbox cannot start,
    or (given the course ``root``) if its kernel would not import the course's ``llmcours``."""
    problem = sandbox.sandbox_problem()
    if problem:
        raise RuntimeError(f"the sandbox cannot start: {problem}; install bubblewrap "
                           "(make test does) and grade as root (cgroups), or pass --no-sandbox "
                           "to grade trusted copies unconfined")
    if root is not None:
        sandbox.check_library(Path(root))


def autograde(root: Path, lab: str, *, students: Iterable[str] = (), jobs: int | None = None,
              timeout: int | None = None, memory: int = DEFAULT_MEMORY,
              threads: int | None = None, progress: bool = True, sandboxed: bool = True,
              resume: bool = False) -> dict[str, dict[str, Any]]:
    """Autograde the submissions of ``lab`` (all of ``submitted/`` by default), ``jobs`` at a
    time, each kernel in the sandbox under ``memory`` bytes of address space and ``timeout``
    seconds per cell. ``sandboxed=False`` runs the kernels unconfined (trusted copies only;
    flagged in the CSV); ``resume=True`` skips the copies already graded as they are now.

    Returns ``{student: {"status", "note", "flags", "seconds"}}`` (also in
    ``grading/<lab>/autograde.json``); a submission that fails never stops the others.
    """
    from tqdm.auto import tqdm

    root = Path(root)
    check_lab(root, lab)
    if sandboxed:
        check_sandbox(root)
    everyone = submitted_students(root, lab)
    students = list(students) or everyone
    unknown = sorted(set(students) - set(everyone))
    if unknown or not students:
        raise ValueError(f"students ({unknown or students}) have no submission in "
                         f"submitted/<student>/{lab}/: run `llmcours grade collect` first")
    if resume:
        done = load_records(root, lab, "autograde")
        students = [s for s in students if not _up_to_date(root, lab, s, done.get(s, {}))]
    jobs = jobs or os.cpu_count() or 1
    threads = threads or max(1, (os.cpu_count() or 1) // jobs)
    timeout = timeout or course_config(root).Execute.timeout
    if memory < 2**30:
        raise ValueError(f"memory ({memory}) must be at least 1 GiB (bytes of address space)")
    if sandboxed:
        _prime_model_cache()
    records: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="llmcours-gradebook-") as tmp:
        # Bring the gradebook up to date with solutions/ (cells, checksums, hidden tests) and
        # freeze a copy for the workers: the main gradebook changes while they run.
        generate(root, lab, Path(tmp) / "release", database=True)
        db_url = course_config(root).CourseDirectory.db_url
        template = Path(tmp) / "gradebook.db"
        shutil.copyfile(db_url.removeprefix("sqlite:///"), template)
        options = dict(template_db=template, timeout=timeout, memory=memory, threads=threads,
                       use_sandbox=sandboxed)
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_grade_one, root, lab, s, **options): s for s in students}
            for future in tqdm(as_completed(futures), total=len(futures), unit="copie",
                               desc=f"Correction de {lab}", disable=not progress):
                student = futures[future]
                try:
                    record = future.result()
                except Exception as err:  # one broken submission never stops the batch
                    record = {"status": "error", "note": f"{type(err).__name__}: {err}"[:500]}
                scores = record.pop("scores", None)
                if scores is not None:
                    _merge(root, lab, student, scores)
                else:  # no stale scores or feedback from an earlier run
                    shutil.rmtree(root / "autograded" / student / lab, ignore_errors=True)
                records[student] = {**record, "graded": scores is not None}
                save_records(root, lab, "autograde", {student: records[student]})
    return records
