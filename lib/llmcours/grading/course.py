"""The course layout seen by the grading steps: root, labs, gradebook, records, subprocesses.

The repository root is the nbgrader course root (``nbgrader_config.py``): ``solutions/<id>/``
holds the sources, ``labs/<id>/`` the students' versions, ``grading/`` (git-ignored) the
gradebook and what the instructor produces while grading.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat

__all__ = ["course_root", "grading_dir", "grading_env", "lab_ids", "load_records",
           "save_records"]


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


def check_lab(root: Path, lab: str) -> None:
    """Raise ``ValueError`` unless ``lab`` has a source notebook in ``solutions/``."""
    known = lab_ids(root)
    if lab not in known:
        raise ValueError(f"lab ({lab!r}) is not a lab of this course; expected one of {known}")


def grading_dir(root: Path, lab: str) -> Path:
    """Where the instructor's outputs for ``lab`` go (git-ignored): CSV, histogram, logs."""
    folder = Path(root) / "grading" / lab
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def course_config(root: Path) -> Any:
    """The course's nbgrader configuration (``nbgrader_config.py``) as a traitlets config."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()


def gradebook(root: Path) -> Any:
    """The course's nbgrader ``Gradebook`` (use it as a context manager)."""
    from nbgrader.api import Gradebook

    config = course_config(root).CourseDirectory
    return Gradebook(config.db_url, config.course_id)


def load_records(root: Path, lab: str, step: str) -> dict[str, dict[str, Any]]:
    """Per-student outcome of a step (``collect`` or ``autograde``): status, note, ..."""
    path = grading_dir(root, lab) / f"{step}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def save_records(root: Path, lab: str, step: str, records: dict[str, dict[str, Any]]) -> None:
    """Merge ``records`` into the step's JSON file of outcomes (see :func:`load_records`);
    written to a temporary file then renamed, so a kill never leaves half a file."""
    merged = {**load_records(root, lab, step), **records}
    path = grading_dir(root, lab) / f"{step}.json"
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(merged, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    os.replace(tmp, path)


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


def run_nbgrader(root: Path, *args: str, cwd: Path | None = None,
                 check: bool = True) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in the course; a failure raises ``RuntimeError`` with its tail
    (unless ``check`` is false)."""
    (Path(root) / "grading").mkdir(exist_ok=True)
    command = [sys.executable, "-m", "nbgrader", *args]
    done = subprocess.run(command, cwd=cwd or root, env=grading_env(), capture_output=True,
                          text=True)
    if check and done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"nbgrader {' '.join(args)} failed (exit {done.returncode}):\n{tail}")
    return done


def released(root: Path, lab: str) -> Any:
    """The students' version ``labs/<lab>/<lab>.ipynb`` (``ValueError`` if not released)."""
    path = Path(root) / "labs" / lab / f"{lab}.ipynb"
    if not path.is_file():
        raise ValueError(f"lab ({lab!r}) is not released: run `llmcours grade release {lab}`")
    return nbformat.read(path, as_version=4)


def grade_id(cell: Any) -> str | None:
    """nbgrader's ``grade_id`` of a cell, or None for a plain cell."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta.get("grade_id") if isinstance(meta, dict) else None
