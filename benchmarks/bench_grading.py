"""Benchmark: autograding a lab (TP1 by default), one solution alone, then a class of 20.

Reference: the time budgets of the course, 3 min for the solution alone and 15 min for 20
submissions on a 2-core CPU; we print our times as ratios to these budgets (< 1 is within).
The class is 17 copies of the solution (as a student hands it in: the released notebook with
the answers typed in) and 3 wrong ones (``tests/grading_cases/<lab>.py``), under varied names,
graded with ``--jobs`` = the number of cores (each kernel then gets cores // jobs threads).
Everything runs in a temporary copy of the course; the repository is not touched. Each
kernel runs in the bubblewrap sandbox (``llmcours.grading.sandbox``); ``--no-sandbox`` grades
unconfined, to measure what the sandbox and the anti-tampering guard cost.

Run: ``.venv/bin/python benchmarks/bench_grading.py [--lab tp1] [--n 20] [--jobs N] [--no-sandbox]``
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from llmcours import grading

REPO = Path(__file__).resolve().parents[1]
BUDGET_ONE, BUDGET_CLASS = 180.0, 900.0  # seconds
NAMES = ["Camille", "Léa", "Hugo", "Inès", "Lucas", "Chloé", "Nathan", "Manon", "Théo", "Zoé",
         "Louis", "Jade", "Gabriel", "Lina", "Arthur", "Emma", "Noé", "Sarah", "Jules", "Anaïs"]


def _wrong_patches(lab: str) -> dict[str, str]:
    spec = importlib.util.spec_from_file_location("case", REPO / f"tests/grading_cases/{lab}.py")
    case = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(case)
    return case.WRONG


def _course(tmp: Path) -> Path:
    root = tmp / "course"
    root.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", root)
    for folder in ("solutions", "labs"):
        shutil.copytree(REPO / folder, root / folder)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lab", default="tp1", help="lab id (default: tp1)")
    parser.add_argument("--n", type=int, default=20, help="submissions in the class")
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--no-sandbox", action="store_true", help="grade unconfined")
    args = parser.parse_args()
    sandboxed = not args.no_sandbox
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        root = _course(Path(tmp))
        rendus = Path(tmp) / "rendus"
        wrong = _wrong_patches(args.lab)
        for i in range(args.n):
            name = f"{NAMES[i % len(NAMES)]} {chr(65 + i // len(NAMES))}{i:02d}"
            nb = grading.student_version(root, args.lab, wrong if i % 7 == 3 else None)
            (rendus / name).mkdir(parents=True)
            nbformat.write(nb, rendus / name / f"{args.lab}.ipynb")
        solution = grading.collect(root, args.lab, rendus)
        first = sorted(solution)[0]

        start = time.perf_counter()
        one = grading.autograde(root, args.lab, students=[first], jobs=1, progress=False,
                                sandboxed=sandboxed)
        t_one = time.perf_counter() - start

        start = time.perf_counter()
        records = grading.autograde(root, args.lab, jobs=args.jobs, sandboxed=sandboxed)
        t_class = time.perf_counter() - start
        rows = grading.grade_rows(root, args.lab)

    scores = sorted(r["score"] for r in rows)
    statuses = sorted({r["status"] for r in records.values()})
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
          f"{'sandboxed' if sandboxed else 'NO sandbox'}")
    print(f"lab {args.lab}, solution alone ({first}): {t_one:.0f} s, status {one[first]['status']}, "
          f"ratio to the {BUDGET_ONE:.0f} s budget: {t_one / BUDGET_ONE:.2f}")
    print(f"{args.n} submissions, --jobs {args.jobs}: {t_class:.0f} s "
          f"({t_class / args.n:.1f} s per submission; statuses {statuses}), "
          f"ratio to the {BUDGET_CLASS:.0f} s budget: {t_class / BUDGET_CLASS:.2f}")
    per = sorted(r["seconds"] for r in records.values())
    print(f"wall time of one grading subprocess: median {per[len(per) // 2]:.0f} s, "
          f"max {per[-1]:.0f} s; autograded scores: {scores}")


if __name__ == "__main__":
    main()
