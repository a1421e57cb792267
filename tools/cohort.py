"""Grade one cohort on several machines: split the submissions, merge the grade CSVs.

Every machine holds the same course (a clone) and the same collected submissions
(``llmcours grade collect LAB SOURCE`` takes seconds: run it on each machine, or copy
``submitted/``). Each then grades only its share and exports its CSV; one command merges them:

    python tools/cohort.py shard LAB 1/3            # the students of shard 1 of 3, one a line
    python tools/cohort.py autograde LAB 1/3 --jobs 16   # = llmcours grade autograde LAB
                                                    #   --student S for each S of shard 1/3
    llmcours grade export LAB -o notes_1.csv        # + feedback: its pages are per student
    python tools/cohort.py merge notes_*.csv -o notes_LAB.csv

Shard ``i/n`` holds the students ``k`` (in sorted order of ``submitted/*/LAB/``) with
``k % n == i - 1``: balanced to one copy, the same on every machine. A machine's CSV lists the
students graded elsewhere as ``missing``; ``merge`` keeps, for each student, the one row that
is not ``missing`` (an error if two machines graded the same student or the columns differ),
so the merged file is the CSV one machine would have written for the whole class.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

from llmcours import grading  # noqa: E402


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` -> ``(2, 3)``; ``ValueError`` naming ``shard`` unless ``1 <= i <= n``."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"shard ({text!r}) must look like i/n, e.g. 1/2") from None
    if not 1 <= index <= count:
        raise ValueError(f"shard ({text!r}) must have 1 <= i <= n")
    return index, count


def shard(root: Path, lab: str, text: str) -> list[str]:
    """The students of shard ``text`` (``i/n``) among the submissions of ``lab``."""
    index, count = parse_shard(text)
    return grading.submitted_students(root, lab)[index - 1::count]


def merge(paths: list[Path], output: Path) -> Path:
    """Merge per-machine grade CSVs into one (see the module docstring); returns ``output``."""
    if not paths:
        raise ValueError("paths must name at least one CSV")
    header, rows = None, {}
    for path in paths:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if header is None:
                header = reader.fieldnames
            elif reader.fieldnames != header:
                raise ValueError(f"paths: {path} has the columns {reader.fieldnames}, "
                                 f"not {header}")
            for row in reader:
                rows.setdefault(row["student"], []).append((path, row))
    merged = []
    for student in sorted(rows):
        graded = [(p, r) for p, r in rows[student] if r["status"] != "missing"]
        if len(graded) > 1:
            raise ValueError(f"paths: {student} was graded on several machines "
                             f"({', '.join(str(p) for p, _ in graded)})")
        merged.append((graded or rows[student])[0][1])
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(merged)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    steps = parser.add_subparsers(dest="step", required=True)
    one = steps.add_parser("shard", help="the students of one shard")
    one.add_argument("lab")
    one.add_argument("shard", help="i/n: shard i of n")
    one.add_argument("--root", default=".", help="course root (default: here)")
    run = steps.add_parser("autograde", help="autograde the students of one shard")
    run.add_argument("lab")
    run.add_argument("shard", help="i/n: shard i of n")
    run.add_argument("--root", default=".", help="course root (default: here)")
    run.add_argument("--jobs", type=int, default=None, help="copies at once (default: cores)")
    run.add_argument("--timeout", type=int, default=None, help="seconds per cell")
    many = steps.add_parser("merge", help="merge the shards' CSVs")
    many.add_argument("csv", nargs="+", type=Path)
    many.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        if args.step == "shard":
            print("\n".join(shard(grading.course_root(args.root), args.lab, args.shard)))
        elif args.step == "autograde":
            root = grading.course_root(args.root)
            students = shard(root, args.lab, args.shard)
            if not students:  # autograde would take an empty list for "everyone"
                print(f"part {args.shard} : aucune copie")
                return 0
            records = grading.autograde(root, args.lab, students=students, jobs=args.jobs,
                                        timeout=args.timeout)
            print(f"→ {len(records)} copies corrigées (part {args.shard}) dans {root / 'autograded'}")
        else:
            print(f"→ notes : {merge(args.csv, args.output)}")
    except ValueError as err:
        print(f"cohort: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
