"""Give every chapter its *Testez-vous* section and the section labels its quiz cites.

For each ``chapters/NN_<slug>.ipynb`` with a bank file ``quiz/<slug>.yml``:

1. labels: every ``labels:`` entry of the bank file (``sec-x: "## Début du titre"``) that the
   notebook lacks is inserted as ``(sec-x)=`` right before the first heading starting with
   that text (headings that cannot be found are reported, nothing is guessed);
2. self-check: if no code cell calls ``self_check(``, two cells are appended: the heading
   ``## Testez-vous`` with one sentence, and ``self_check("<slug>")`` tagged ``remove-input``
   (the page shows the quiz, not the code).

Idempotent: a second run changes nothing. ``--check`` writes nothing and exits 1 when a
chapter would change (or a heading is missing). Outputs and execution counts are untouched
(committed notebooks have none).

    python tools/add_selfcheck.py            # every chapter
    python tools/add_selfcheck.py --check    # CI: is every chapter done?
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Testez-vous"
INTRO = (
    f"{HEADING}\n\n"
    "Choisissez une réponse : la correction et son explication s'affichent aussitôt. Rien "
    "n'est noté ni envoyé ; ces questions alimentent aussi le QCM final du cours."
)
CODE = 'from llmcours.quiz import self_check\n\nself_check("{slug}")'
TAGS = ["remove-input"]
LABEL_LINE = re.compile(r"^\(([\w.:-]+)\)=\s*$")


def _norm(text: str) -> str:
    """A heading without its case, non-breaking spaces (French « : ») or repeated spaces."""
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split()).casefold()


def has_self_check(nb: nbformat.NotebookNode) -> bool:
    return any(c.cell_type == "code" and "self_check(" in c.source for c in nb.cells)


def add_labels(nb: nbformat.NotebookNode, labels: dict[str, str]) -> tuple[list[str], list[str]]:
    """Insert the missing labels before their headings; return (added, headings not found)."""
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    present = {m[1] for line in text.split("\n") if (m := LABEL_LINE.match(line.strip()))}
    added, missing = [], []
    for label, heading in labels.items():
        if label in present:
            continue
        for cell in (c for c in nb.cells if c.cell_type == "markdown"):
            lines = cell.source.split("\n")
            at = next((i for i, line in enumerate(lines) if line.startswith("#")
                       and _norm(line).startswith(_norm(heading))), None)
            if at is None:
                continue
            # MyST: the target line directly above the heading (after another target, or a blank
            # line if text precedes)
            above = lines[at - 1].strip() if at else ""
            insert = [f"({label})="] if not above or LABEL_LINE.match(above) else ["", f"({label})="]
            cell.source = "\n".join(lines[:at] + insert + lines[at:])
            added.append(label)
            break
        else:
            missing.append(f"{label} ({heading!r})")
    return added, missing


def process(notebook: Path, bank_dir: Path, *, write: bool) -> tuple[list[str], list[str]]:
    """What changes (or would change) in one chapter, and the problems found."""
    slug = notebook.stem[3:]
    bank = bank_dir / f"{slug}.yml"
    if not bank.is_file():
        return [], [f"{notebook.name}: no bank file {bank}"]
    nb = nbformat.read(notebook, as_version=4)
    labels = (yaml.safe_load(bank.read_text(encoding="utf-8")) or {}).get("labels") or {}
    added, missing = add_labels(nb, labels)
    changes = [f"label ({label})=" for label in added]
    problems = [f"{notebook.name}: heading not found for {m}" for m in missing]
    if not has_self_check(nb):
        nb.cells.append(nbformat.v4.new_markdown_cell(INTRO))
        code = nbformat.v4.new_code_cell(CODE.format(slug=slug))
        code.metadata["tags"] = list(TAGS)
        nb.cells.append(code)
        changes.append("section Testez-vous")
    if changes and write:
        nbformat.write(nb, notebook)
    return changes, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if not done")
    parser.add_argument("--chapters-dir", type=Path, default=ROOT / "chapters")
    parser.add_argument("--bank-dir", type=Path, default=ROOT / "quiz")
    args = parser.parse_args(argv)
    status = 0
    for notebook in sorted(args.chapters_dir.glob("[0-9][0-9]_*.ipynb")):
        changes, problems = process(notebook, args.bank_dir, write=not args.check)
        for line in problems:
            print(f"PROBLÈME {line}")
        if changes:
            verb = "à ajouter" if args.check else "ajouté"
            print(f"{notebook.name} : {verb} : {', '.join(changes)}")
        status |= bool(problems) or (args.check and bool(changes))
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
