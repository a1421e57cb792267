"""Reports: the grade rows of a lab, their CSV (with a ``flags`` column) and a histogram.

Text cells of the CSV that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, a
tab or a carriage return first) are written with a leading apostrophe (:func:`neutralised`).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from llmcours.grading.course import (
    check_lab,
    grade_id,
    gradebook,
    grading_dir,
    load_records,
    released,
)

__all__ = ["export", "grade_parts", "grade_rows", "histogram", "neutralised"]

# A spreadsheet reads a cell that starts with one of these as a formula (CSV injection).
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text: a string that starts like a formula gets
    a leading apostrophe (OWASP's advice); numbers are left as they are."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA) else value


def grade_parts(root: Path, lab: str) -> list[tuple[str, float]]:
    """``[(grade cell id, points)]`` of a lab, in notebook order."""
    return [(grade_id(cell), float(cell.metadata["nbgrader"]["points"]))
            for cell in released(root, lab).cells
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade")]


def grade_rows(root: Path, lab: str) -> list[dict[str, Any]]:
    """One row per student known to the gradebook or to collect/autograde, with the columns
    of the CSV: student, lab, score, max_score, one per graded part, status, flags, note.
    ``flags`` names what looked like tampering (or a copy graded without the sandbox), for
    the instructor to review; it is empty for honest copies."""
    from nbgrader.api import MissingEntry

    root = Path(root)
    check_lab(root, lab)
    parts = grade_parts(root, lab)
    collected, graded = load_records(root, lab, "collect"), load_records(root, lab, "autograde")
    rows = []
    with gradebook(root) as gb:
        students = sorted({s.id for s in gb.students} | set(collected) | set(graded))
        for student in students:
            row: dict[str, Any] = {"student": student, "lab": lab, "score": 0.0,
                                   "max_score": sum(points for _, points in parts)}
            row.update({name: "" for name, _ in parts})
            notes = [collected.get(student, {}).get("note", "")]
            flags: list[str] = []
            if collected.get(student, {}).get("status") == "invalid":
                status = "invalid"
            elif student not in graded:
                status, notes = "missing", notes + ["aucun rendu corrigé"]
            else:
                status = graded[student]["status"]
                notes.append(graded[student].get("note", ""))
                flags = graded[student].get("flags", [])
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
            row["flags"] = "; ".join(flags)
            row["note"] = "; ".join(n for n in notes if n)
            rows.append(row)
    return rows


def export(root: Path, lab: str, output: str | os.PathLike | None = None) -> Path:
    """Write the grades of ``lab`` as CSV (default ``grading/<lab>/notes_<lab>.csv``)."""
    rows = grade_rows(root, lab)
    output = Path(output) if output else grading_dir(root, lab) / f"notes_{lab}.csv"
    output.parent.mkdir(parents=True, exist_ok=True)
    fields = ["student", "lab", "score", "max_score",
              *(name for name, _ in grade_parts(root, lab)), "status", "flags", "note"]
    with open(output, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: f"{v:g}" if isinstance(v, float) else neutralised(v)
                             for k, v in row.items()})
    return output


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
