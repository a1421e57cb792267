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
Help and messages are French (the instructor reads them); the grading package (nbgrader…) is
imported only when a step runs, so ``llmcours grade --help`` answers at once.
"""

from __future__ import annotations

import argparse
import os
import re
from collections import Counter
from pathlib import Path

__all__ = ["STATUS_FR", "register", "run"]

DEFAULT_MEMORY = "6G"  # = llmcours.grading.DEFAULT_MEMORY, kept here so --help imports nothing
# Statuses of the records (llmcours.grading.STATUSES), as the instructor reads them.
STATUS_FR = {"collected": "collectée(s)", "ok": "ok", "timeout": "temps dépassé",
             "memory": "mémoire dépassée", "invalid": "invalide(s)", "missing": "absente(s)",
             "error": "erreur(s)"}


def _memory(text: str) -> int:
    """``6G``, ``512M`` or a number of bytes -> bytes."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMG]?)i?B?", text.strip(), flags=re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"mémoire ({text!r}) : attendu 6G, 512M ou un nombre d'octets")
    power = {"": 0, "K": 1, "M": 2, "G": 3}[match[2].upper()]
    return int(float(match[1]) * 1024**power)


def register(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``grade`` subcommand and its steps to the ``llmcours`` parser."""
    grade = commands.add_parser("grade", help="noter les TP (nbgrader, en bac à sable)")
    grade._positionals.title = "étapes "  # argparse adds the colon
    grade.add_argument("--root", help="racine du cours (par défaut : trouvée depuis le dossier courant)")
    steps = grade.add_subparsers(dest="step", required=True,
                                 metavar="{release,collect,autograde,export,feedback,histogram,all}")

    release = steps.add_parser("release", help="régénère labs/ depuis solutions/")
    release.add_argument("labs", nargs="*", metavar="LAB", help="identifiants des TP (par défaut : tous)")
    release.add_argument("--check", action="store_true",
                         help="n'écrit rien ; sort en 1 et liste les fichiers qui changeraient")

    def lab_step(name: str, help: str, *, source: bool = False) -> argparse.ArgumentParser:
        step = steps.add_parser(name, help=help)
        step.add_argument("lab", metavar="LAB")
        if source:
            step.add_argument("source", metavar="SOURCE", help="dossier ou .zip des rendus")
        return step

    lab_step("collect", "range les rendus dans submitted/", source=True)
    auto = lab_step("autograde", "corrige chaque copie rendue")
    every = lab_step("all", "collect, autograde, export, feedback, histogram", source=True)
    for step in (auto, every):
        step.add_argument("--jobs", type=int, default=os.cpu_count(),
                          help="copies corrigées à la fois (par défaut : %(default)s, les cœurs)")
        step.add_argument("--timeout", type=int,
                          help="secondes par cellule (par défaut : celles de la configuration)")
        step.add_argument("--memory", type=_memory, default=_memory(DEFAULT_MEMORY),
                          help=f"mémoire par copie, par ex. 6G (par défaut : {DEFAULT_MEMORY})")
        step.add_argument("--no-sandbox", action="store_true",
                          help="noyaux sans bac à sable (copies de confiance seulement ; signalé)")
        step.add_argument("--resume", action="store_true",
                          help="saute les copies déjà corrigées telles qu'elles sont")
    auto.add_argument("--student", action="append", default=[], help="seulement ces étudiants")
    lab_step("export", "les notes en CSV").add_argument("-o", "--output", help="fichier CSV")
    lab_step("feedback", "une page HTML de retour par étudiant")
    lab_step("histogram", "PNG de la distribution des notes").add_argument(
        "-o", "--output", help="fichier PNG")
    grade.set_defaults(run=run, label=lambda args: f"grade {args.step}")
    return grade


def _report(records: dict[str, dict], title: str) -> None:
    counts = Counter(r["status"] for r in records.values())
    print(f"{title} : " + ", ".join(f"{n} {STATUS_FR.get(status, status)}"
                                    for status, n in sorted(counts.items())))
    for student, record in sorted(records.items()):
        if record.get("note") or record.get("flags") or record["status"] not in ("ok", "collected"):
            label = STATUS_FR.get(record["status"], record["status"]).replace("(s)", "")
            extra = [record["note"]] if record.get("note") else []
            extra += [f"signalé : {'; '.join(record['flags'])}"] if record.get("flags") else []
            print(f"  {student} : {label}" + "".join(f" — {e}" for e in extra))


def run(args: argparse.Namespace) -> int:
    """Run one ``llmcours grade`` step; returns the exit status."""
    from llmcours import grading

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
