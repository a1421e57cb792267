"""Collect: submissions from a folder or an LMS zip into ``submitted/<student>/<lab>/``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from llmcours.grading.course import check_lab, save_records
from llmcours.grading.submissions import find_submissions, read_notebook

__all__ = ["collect"]


def collect(root: Path, lab: str, source: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """Place the submissions found in ``source`` (folder or LMS zip) into
    ``submitted/<student>/<lab>/<lab>.ipynb``; see :mod:`llmcours.grading.submissions` for the
    names it understands and the caps on hostile archives. Returns ``{student: {"status":
    "collected" | "invalid", "note": ...}}`` (also saved in ``grading/<lab>/collect.json``).
    Only the notebook is copied (as a new plain file): no link, no other file."""
    root = Path(root)
    check_lab(root, lab)
    records = {}
    with find_submissions(source, lab) as found:
        for student, (path, note) in sorted(found.items()):
            target = root / "submitted" / student / lab
            shutil.rmtree(target, ignore_errors=True)
            if path is None:
                records[student] = {"status": "invalid", "note": note}
                continue
            try:
                problem = read_notebook(path)[1]
            except (OSError, RecursionError, MemoryError) as err:
                problem = f"fichier illisible ({type(err).__name__})"
            if problem:
                records[student] = {"status": "invalid", "note": problem}
                continue
            target.mkdir(parents=True)
            (target / f"{lab}.ipynb").write_bytes(Path(path).read_bytes())
            records[student] = {"status": "collected", "note": note}
    save_records(root, lab, "collect", records)
    return records
