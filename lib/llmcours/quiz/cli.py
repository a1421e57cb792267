"""``llmcours quiz export|check``: the instructor's side of the QCM (registered in
:mod:`llmcours.cli`; also ``python -m llmcours.quiz``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from llmcours.quiz.bank import load_bank
from llmcours.quiz.moodle import to_gift, to_moodle_xml


def _run(args: argparse.Namespace) -> int:
    bank = load_bank(chapters=getattr(args, "chapters", None))
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
        raise ValueError(f"cannot write {output}: {err}") from err
    n = sum(len(c.questions) for c in bank)
    print(f"→ {n} questions de {len(bank)} chapitres écrites dans {output}")
    return 0


def register(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """``llmcours quiz export|check`` (the contract of :mod:`llmcours.cli`)."""
    parser = commands.add_parser("quiz", help="the QCM bank: check it, export it for Moodle")
    steps = parser.add_subparsers(dest="step", required=True)
    export = steps.add_parser("export", help="write the bank for Moodle's question bank")
    export.add_argument("--format", required=True, choices=("moodle-xml", "gift"))
    export.add_argument("--chapters", nargs="+", metavar="CH",
                        help="chapter numbers or slugs (default: every chapter)")
    export.add_argument("-o", "--output", help="file (default: quiz-moodle.xml or quiz.gift)")
    steps.add_parser("check", help="check every bank file; print a summary per chapter")
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
        print(f"llmcours {args.label(args)}: erreur : {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
