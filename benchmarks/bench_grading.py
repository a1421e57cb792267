"""Benchmark: autograding a lab (TP1 by default), one solution alone, then a class of 20.

Reference: the time budgets of the course, 3 min for the solution alone and 15 min for 20
submissions on a 2-core CPU; we print our times as ratios to these budgets (< 1 is within).
The class is 17 copies of the solution (as a student hands it in: the released notebook with
the answers typed in) and 3 wrong ones (``tests/grading_cases/<lab>.py``), under varied names,
graded with ``--jobs`` = the number of cores (each kernel then gets cores // jobs threads).
Everything runs in a temporary copy of the course; the repository is not touched. Each
kernel runs in the bubblewrap sandbox (``llmcours.grading.sandbox``); ``--no-sandbox`` grades
unconfined, to measure what the sandbox and the anti-tampering guard cost.

Besides the times it reports the peak memory of the whole process tree (this process, the
nbgrader subprocesses and their kernels: the sum of their resident sizes, sampled every
0.2 s) and the disk the course takes once graded (submitted/, autograded/, gradebook). The
class-sized run of the README: ``--lab exp02 --n 100 --jobs 2``.

Run: ``.venv/bin/python benchmarks/bench_grading.py [--lab tp1] [--n 20] [--jobs N] [--no-sandbox]``
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil

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


class PeakMemory(threading.Thread):
    """The largest summed resident size of this process and all its descendants, sampled."""

    def __init__(self, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.interval, self.peak, self._done = interval, 0, threading.Event()

    def run(self) -> None:
        me = psutil.Process()
        while not self._done.wait(self.interval):
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:  # a kernel that just ended
                    pass
            self.peak = max(self.peak, total)

    def stop(self) -> int:
        self._done.set()
        self.join()
        return self.peak


def _disk(folder: Path) -> int:
    """Bytes of the files under ``folder`` (what ``du`` would count, without links)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


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

        load_before = os.getloadavg()
        memory = PeakMemory()
        memory.start()
        start = time.perf_counter()
        records = grading.autograde(root, args.lab, jobs=args.jobs, sandboxed=sandboxed)
        t_class = time.perf_counter() - start
        peak = memory.stop()
        load_after = os.getloadavg()
        rows = grading.grade_rows(root, args.lab)
        disk = {name: _disk(root / name) for name in ("submitted", "autograded", "grading")}

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
    print(f"peak memory of the process tree during the class: {peak / 2**30:.2f} GiB; disk after "
          f"grading: " + ", ".join(f"{k}/ {v / 2**20:.1f} MiB" for k, v in disk.items())
          + f" ({sum(disk.values()) / args.n / 2**10:.0f} KiB per copy)")
    print(f"load average (1 min) before/after the class: {load_before[0]:.1f}/{load_after[0]:.1f}; "
          f"CPU time of the graded children (both runs): {sum(os.times()[2:4]):.0f} s")
    print(f"wall time of one grading subprocess: median {per[len(per) // 2]:.0f} s, "
          f"max {per[-1]:.0f} s; autograded scores: {scores}")


if __name__ == "__main__":
    main()
