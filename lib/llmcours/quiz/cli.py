"""``llmcours quiz export|check``: the instructor's side of the QCM (registered in
:mod:`llmcours.cli`; also ``python -m llmcours.quiz``).

The bank read is the course's in which the command runs (the nearest folder, from the current
one upwards, that holds ``quiz/`` and ``_toc.yml``), or ``--bank DIR``; only outside any course
the bank installed with the library. Messages and help are in French, like everything an
instructor reads.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from llmcours.quiz import bank as bank_module
from llmcours.quiz.bank import load_bank
from llmcours.quiz.moodle import to_gift, to_moodle_xml


def _bank_dirs(bank: str | None) -> tuple[Path, Path]:
    """(quiz/, chapters/) of ``--bank``, else of the course around the current folder."""
    if bank:
        folder = Path(bank)
        if not folder.is_dir():
            raise ValueError(f"--bank ({bank}) n'est pas un dossier")
        return folder, folder.parent / "chapters"
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / "quiz").is_dir() and (folder / "_toc.yml").is_file():
            return folder / "quiz", folder / "chapters"
    return bank_module.BANK_DIR, bank_module.CHAPTERS_DIR


def _run(args: argparse.Namespace) -> int:
    quiz_dir, chapters_dir = _bank_dirs(getattr(args, "bank", None))
    bank = load_bank(quiz_dir, chapters_dir, chapters=getattr(args, "chapters", None))
    if args.step == "check":
        for c in bank:
            state = "prévu, labels non vérifiés" if c.planned else c.notebook.name
            print(f"{c.slug} : {len(c.questions)} questions ({state})")
        return 0
    text = to_moodle_xml(bank) if args.format == "moodle-xml" else to_gift(bank)
    output = Path(args.output or ("quiz-moodle.xml" if args.format == "moodle-xml" else "quiz.gift"))
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as err:
        raise ValueError(f"impossible d'écrire {output} : {err}") from err
    n = sum(len(c.questions) for c in bank)
    chapitres = "chapitre" if len(bank) == 1 else "chapitres"
    print(f"→ {n} questions de {len(bank)} {chapitres} écrites dans {output}")
    return 0


def register(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """``llmcours quiz export|check`` (the contract of :mod:`llmcours.cli`)."""
    parser = commands.add_parser("quiz", help="la banque du QCM : la vérifier, l'exporter pour Moodle")
    parser._positionals.title = "étapes "  # argparse adds the colon
    steps = parser.add_subparsers(dest="step", required=True, metavar="{export,check}")
    export = steps.add_parser(
        "export", help="écrit la banque pour la banque de questions de Moodle")
    export.add_argument("--format", required=True, choices=("moodle-xml", "gift"),
                        help="moodle-xml (recommandé : garde le mélange des réponses) ou gift")
    export.add_argument("--chapters", nargs="+", metavar="CH",
                        help="numéros ou noms des chapitres (par défaut : tous)")
    export.add_argument("-o", "--output",
                        help="fichier écrit (par défaut : quiz-moodle.xml ou quiz.gift)")
    check = steps.add_parser(
        "check", help="vérifie chaque fichier de la banque ; un résumé par chapitre")
    for step in (export, check):
        step.add_argument("--bank", metavar="DOSSIER",
                          help="dossier quiz/ à lire (par défaut : celui du cours où l'on est)")
    parser.set_defaults(run=_run, label=lambda args: f"quiz {args.step}")
    return parser


def main(argv: list[str] | None = None) -> int:
    """``llmcours quiz ...`` on its own (``python -m llmcours.quiz export ...``); returns the
    exit status, 2 with a one-line message on a bad bank."""
    parser = argparse.ArgumentParser(prog="llmcours")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["quiz", *(sys.argv[1:] if argv is None else argv)])
    try:
        return args.run(args)
    except ValueError as err:
        print(f"llmcours {args.label(args)} : erreur : {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
