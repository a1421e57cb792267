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

# subcommand -> module that registers it
COMMANDS = {
    "grade": "llmcours.grading.cli",
    "quiz": "llmcours.quiz.cli",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llmcours", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS.values():
        importlib.import_module(module).register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``llmcours`` script; returns the exit status."""
    args = _parser().parse_args(argv)
    # nbgrader runs `alembic` by name: make this interpreter's bin/ visible even when the
    # virtual environment is not activated.
    bin_dir = os.path.dirname(sys.executable)
    os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    label = args.label(args) if hasattr(args, "label") else args.command
    try:
        return args.run(args)
    except (ValueError, RuntimeError) as err:
        print(f"llmcours {label}: erreur : {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
