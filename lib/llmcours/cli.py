"""The ``llmcours`` command: one subcommand per tool of the course, found in ``COMMANDS``.

    llmcours grade ...   the instructor's side of the labs (:mod:`llmcours.grading.cli`)
    llmcours quiz ...    the QCM bank: check it, export it for Moodle (:mod:`llmcours.quiz.cli`)

A subcommand is a module with ``register(subparsers) -> parser``, which sets the parser's
defaults ``run`` (``args -> exit status``) and ``label`` (``args -> "grade autograde"``, for
error messages); add it to ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

__all__ = ["COMMANDS", "main"]

# argparse's own messages, in French: everything the instructor reads is French.
ARGPARSE_FR = {
    "usage: ": "usage : ",
    "positional arguments": "arguments",
    "options": "options ",  # argparse adds the colon: « options : »
    "show this help message and exit": "affiche cette aide et quitte",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "unrecognized arguments: %s": "arguments inconnus : %s",
    "invalid choice: %(value)r (choose from %(choices)s)":
        "choix invalide : %(value)r (au choix : %(choices)s)",
    "expected one argument": "une valeur est attendue",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
}


def _french(message: str) -> str:
    return ARGPARSE_FR.get(message, message)

# subcommand -> module that registers it
COMMANDS = {
    "grade": "llmcours.grading.cli",
    "quiz": "llmcours.quiz.cli",
}


def _parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmcours", description="Les outils du cours : noter les TP, exporter le QCM.")
    parser._positionals.title = "commandes "  # argparse adds the colon
    commands = parser.add_subparsers(dest="command", required=True, metavar="{grade,quiz}")
    # Only the module of the command asked for is imported: `llmcours quiz export` never
    # imports nbgrader, and `llmcours grade --help` does not wait for `quiz`.
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, module in COMMANDS.items():
        if chosen in (None, name) or chosen not in COMMANDS:
            importlib.import_module(module).register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``llmcours`` script; returns the exit status."""
    argparse._ = _french  # argparse looks its messages up through this name at call time
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser(argv).parse_args(argv)
    # nbgrader runs `alembic` by name: make this interpreter's bin/ visible even when the
    # virtual environment is not activated.
    bin_dir = os.path.dirname(sys.executable)
    os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    label = args.label(args) if hasattr(args, "label") else args.command
    try:
        return args.run(args)
    except (ValueError, RuntimeError) as err:
        print(f"llmcours {label} : erreur : {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
