"""``llmcours grade ...``: the grading pipeline as a command (registered by :mod:`llmcours.cli`).

    llmcours grade release [LAB...] [--check]   labs/<id>/ from solutions/<id>/ (nbgrader)
    llmcours grade collect LAB SOURCE           a folder or LMS zip -> submitted/
    llmcours grade autograde LAB [--jobs N]     grade every submission, in parallel, sandboxed
    llmcours grade export LAB [-o grades.csv]   the grades as CSV (with a flags column)
    llmcours grade feedback LAB                 one HTML page per student (no hidden tests)
    llmcours grade histogram LAB [-o f.png]     the distribution of the scores
    llmcours grade all LAB SOURCE               collect, autograde, export, feedback, histogram

Run it anywhere inside the course (the folder with ``nbgrader_config.py``) or pass ``--root``.
``--no-sandbox`` grades without the bubblewrap sandbox (trusted copies only; flagged).
"""

from __future__ import annotations

import argparse
import os
import re
from collections import Counter
from pathlib import Path

from llmcours import grading

__all__ = ["register", "run"]


def _memory(text: str) -> int:
    """``6G``, ``512M`` or a number of bytes -> bytes."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMG]?)i?B?", text.strip(), flags=re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"memory ({text!r}) must look like 6G, 512M or bytes")
    power = {"": 0, "K": 1, "M": 2, "G": 3}[match[2].upper()]
    return int(float(match[1]) * 1024**power)


def register(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``grade`` subcommand and its steps to the ``llmcours`` parser."""
    grade = commands.add_parser("grade", help="nbgrader pipeline of the labs")
    grade.add_argument("--root", help="course root (default: found from the current folder)")
    steps = grade.add_subparsers(dest="step", required=True)

    release = steps.add_parser("release", help="regenerate labs/ from solutions/")
    release.add_argument("labs", nargs="*", metavar="LAB", help="lab ids (default: all)")
    release.add_argument("--check", action="store_true",
                         help="write nothing; exit 1 and list the files that would change")

    def lab_step(name: str, help: str, *, source: bool = False) -> argparse.ArgumentParser:
        step = steps.add_parser(name, help=help)
        step.add_argument("lab", metavar="LAB")
        if source:
            step.add_argument("source", metavar="SOURCE", help="folder or .zip of submissions")
        return step

    lab_step("collect", "place submissions into submitted/", source=True)
    auto = lab_step("autograde", "grade every submitted notebook")
    every = lab_step("all", "collect, autograde, export, feedback, histogram", source=True)
    for step in (auto, every):
        step.add_argument("--jobs", type=int, default=os.cpu_count(),
                          help="submissions graded at once (default: %(default)s, the cores)")
        step.add_argument("--timeout", type=int, help="seconds per cell (default: the config)")
        step.add_argument("--memory", type=_memory, default=grading.DEFAULT_MEMORY,
                          help="address-space limit per submission, e.g. 6G (default)")
        step.add_argument("--no-sandbox", action="store_true",
                          help="run the kernels unconfined (trusted copies only; flagged)")
        step.add_argument("--resume", action="store_true",
                          help="skip the copies already graded as they are now")
    auto.add_argument("--student", action="append", default=[], help="only these students")
    lab_step("export", "grades as CSV").add_argument("-o", "--output", help="CSV file")
    lab_step("feedback", "HTML feedback per student")
    lab_step("histogram", "PNG of the scores").add_argument("-o", "--output", help="PNG file")
    grade.set_defaults(run=run, label=lambda args: f"grade {args.step}")
    return grade


def _report(records: dict[str, dict], title: str) -> None:
    counts = Counter(r["status"] for r in records.values())
    print(f"{title} : " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    for student, record in sorted(records.items()):
        if record.get("note") or record.get("flags") or record["status"] not in ("ok", "collected"):
            label = "invalide" if record["status"] == "invalid" else record["status"]
            extra = [record["note"]] if record.get("note") else []
            extra += [f"signalé : {'; '.join(record['flags'])}"] if record.get("flags") else []
            print(f"  {student} : {label}" + "".join(f" — {e}" for e in extra))


def run(args: argparse.Namespace) -> int:
    """Run one ``llmcours grade`` step; returns the exit status."""
    root = Path(args.root).resolve() if args.root else grading.course_root()
    if args.step == "release":
        drift = grading.release(root, args.labs, check=args.check)
        if args.check:
            for line in drift:
                print(f"à régénérer : {line}")
            print("labs/ est à jour." if not drift else
                  "labs/ diffère de solutions/ : lancez `llmcours grade release`.")
            return 1 if drift else 0
        print("\n".join(f"écrit : {line.split(' (')[0]}" for line in drift) or "labs/ inchangé.")
        return 0
    options = {}
    if args.step in ("autograde", "all"):
        options = dict(jobs=args.jobs, timeout=args.timeout, memory=args.memory,
                       sandboxed=not args.no_sandbox, resume=args.resume)
        if args.no_sandbox:
            print("attention : correction sans bac à sable (copies de confiance seulement) ; "
                  "signalé dans la colonne flags du CSV")
    if args.step in ("collect", "all"):
        if args.step == "all" and not args.no_sandbox:
            grading.check_sandbox()
        _report(grading.collect(root, args.lab, args.source), "Collecte")
        print(f"→ copies placées dans {root / 'submitted'}")
    if args.step in ("autograde", "all"):
        records = grading.autograde(root, args.lab, students=getattr(args, "student", []),
                                    **options)
        _report(records, "Correction")
        print(f"→ copies corrigées dans {root / 'autograded'}, gradebook mis à jour")
    if args.step in ("export", "all"):
        print(f"→ notes : {grading.export(root, args.lab, getattr(args, 'output', None))}")
    if args.step in ("feedback", "all"):
        pages = grading.feedback(root, args.lab)
        print(f"→ {len(pages)} pages de retour dans {root / 'feedback'}")
    if args.step in ("histogram", "all"):
        print(f"→ histogramme : {grading.histogram(root, args.lab, getattr(args, 'output', None))}")
    return 0
