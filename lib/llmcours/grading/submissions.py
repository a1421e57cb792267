"""Finding students' notebooks in a folder or an LMS zip, before nbgrader grades them.

Accepted layouts (a zip may wrap any of them in one top-level folder):

- ``<student>/<anything>.ipynb``: one folder per student;
- ``<student>.ipynb``: one file per student;
- Moodle's "download all submissions": ``Nom Prénom_123456_assignsubmission_file_tp1.ipynb``,
  or the folder ``Nom Prénom_123456_assignsubmission_file_/tp1.ipynb`` of recent versions.

A student's name becomes an nbgrader id by dropping accents and keeping ``[a-z0-9_]``
(``Élodie Martin-Dupont`` → ``elodie_martin_dupont``); two students whose names give the same
id are told apart by their Moodle number. A student's notebook is the one named ``<lab>.ipynb``,
or else their only notebook (renamed, with a note); anything else is reported as invalid.

Hostile archives are held: a zip whose members add up to more than ``MAX_ARCHIVE`` bytes, or
has more than ``MAX_MEMBERS`` entries, is refused whole; a notebook over ``MAX_NOTEBOOK`` bytes,
a symbolic link or anything that is not a plain file is an ``invalid`` submission with its
reason (never read); paths are never followed out of the source (zip members with ``..`` or an
absolute path are skipped); JSON nested deeper than ``MAX_DEPTH`` is refused before parsing.
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat

__all__ = ["MAX_ARCHIVE", "MAX_DEPTH", "MAX_MEMBERS", "MAX_NOTEBOOK", "find_submissions",
           "read_notebook", "student_id"]

MAX_NOTEBOOK = 20 * 2**20  # bytes: a lab notebook with its figures weighs well under 5 MB
MAX_ARCHIVE = 2 * 2**30  # bytes once unzipped
MAX_MEMBERS = 20_000
MAX_DEPTH = 64  # nesting of JSON arrays and objects (a notebook needs about 6)

_MOODLE = re.compile(r"^(?P<name>.+?)_(?P<number>\d+)_assignsubmission_[a-z]+_?(?P<file>.*)$")


def student_id(name: str) -> str:
    """nbgrader-safe id of a student's name: ASCII, lower case, words joined by ``_``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_") or "anonyme"


def _visible(path: Path) -> bool:
    return not any(part.startswith((".", "__MACOSX")) for part in path.parts)


def _unwrap(folder: Path) -> Path:
    """Skip a single wrapping folder (``TP1-rendus/...``) unless it is itself one student's."""
    entries = [p for p in folder.iterdir() if _visible(p.relative_to(folder))]
    if len(entries) == 1 and entries[0].is_dir():
        inner = [p for p in entries[0].iterdir() if _visible(p.relative_to(entries[0]))]
        notebooks = [p for p in inner if p.suffix == ".ipynb"]
        if any(p.is_dir() for p in inner) or len(notebooks) > 1:
            return _unwrap(entries[0])
    return folder


def _entries(folder: Path, lab: str) -> dict[tuple[str, str], list[tuple[Path, str]]]:
    """{(name, moodle number): [(notebook path, file name as handed in)]}."""
    found: dict[tuple[str, str], list[tuple[Path, str]]] = defaultdict(list)
    for entry in sorted(folder.iterdir()):
        if not _visible(entry.relative_to(folder)):
            continue
        label = entry.name if entry.is_dir() else entry.stem
        match = _MOODLE.match(label if entry.is_dir() else entry.name)
        key = (match["name"], match["number"]) if match else (label, "")
        if entry.is_dir() and not entry.is_symlink():
            found[key] += [(p, p.name) for p in sorted(entry.rglob("*.ipynb"))
                           if _visible(p.relative_to(entry))]
        elif entry.suffix == ".ipynb":
            found[key].append((entry, match["file"] if match else f"{lab}.ipynb"))
    return found


def unsafe(path: Path) -> str:
    """Why ``path`` must not be read as a submission (French), or "" when it may."""
    if path.is_symlink():
        return "lien symbolique refusé"
    if not path.is_file():
        return "ce n'est pas un fichier ordinaire"
    size = path.stat().st_size
    if size > MAX_NOTEBOOK:
        return f"fichier trop gros ({size / 2**20:.0f} Mo > {MAX_NOTEBOOK // 2**20} Mo)"
    return ""


def _choose(files: list[tuple[Path, str]], lab: str) -> tuple[Path | None, str]:
    """The student's notebook for ``lab`` and a note for the report."""
    named = [path for path, name in files if name == f"{lab}.ipynb"]
    if len(named) == 1:
        return (None, unsafe(named[0])) if unsafe(named[0]) else (named[0], "")
    if len(files) == 1:
        if unsafe(files[0][0]):
            return None, unsafe(files[0][0])
        return files[0][0], f"fichier « {files[0][1]} » renommé en {lab}.ipynb"
    if not files:
        return None, "aucun notebook .ipynb dans le rendu"
    names = ", ".join(sorted(name for _, name in files))
    return None, f"plusieurs notebooks et aucun ne s'appelle {lab}.ipynb : {names}"


def _extract(source: Path, out: Path) -> None:
    """Unzip the notebooks of ``source`` into ``out`` with the caps of the module docstring
    (an oversized notebook is written as ``MAX_NOTEBOOK + 1`` bytes, so it is refused)."""
    with zipfile.ZipFile(source) as archive:
        members = archive.infolist()
        total = sum(m.file_size for m in members)
        if len(members) > MAX_MEMBERS or total > MAX_ARCHIVE:
            raise ValueError(f"source ({str(source)!r}) is too big once unzipped ({len(members)} "
                             f"files, {total} bytes; at most {MAX_MEMBERS} and {MAX_ARCHIVE})")
        for member in members:
            parts = Path(member.filename).parts
            if member.is_dir() or not member.filename.endswith(".ipynb") or \
                    member.filename.startswith("/") or ".." in parts:
                continue
            target = out.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            # read at most one byte past the cap, whatever the header claims
            with archive.open(member) as src, open(target, "wb") as dst:
                left = MAX_NOTEBOOK + 1
                while left > 0 and (chunk := src.read(min(left, 2**20))):
                    dst.write(chunk)
                    left -= len(chunk)


def _too_deep(text: str) -> bool:
    """Whether JSON ``text`` nests arrays or objects deeper than ``MAX_DEPTH`` (strings aside)."""
    depth = 0
    for char in re.sub(r'"(?:[^"\\]|\\.)*"', "", text):
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


@contextlib.contextmanager
def find_submissions(source: str | Path, lab: str) -> Iterator[dict[str, tuple[Path | None, str]]]:
    """Yield ``{student id: (notebook path or None, note)}`` for a folder or a zip archive."""
    source = Path(source)
    if not source.exists():
        raise ValueError(f"source ({str(source)!r}) does not exist")
    with tempfile.TemporaryDirectory(prefix="llmcours-collect-") as tmp:
        if source.is_file():
            if not zipfile.is_zipfile(source):
                raise ValueError(f"source ({str(source)!r}) must be a folder or a .zip archive")
            _extract(source, Path(tmp))
            folder = Path(tmp)
        else:
            folder = source
        entries = _entries(_unwrap(folder), lab)
        if not any(entries.values()):
            raise ValueError(f"source ({str(source)!r}) holds no .ipynb notebook")
        ids: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for key in entries:
            ids[student_id(key[0])].append(key)
        chosen = {}
        for sid, keys in ids.items():
            for rank, (name, number) in enumerate(keys, start=1):
                unique = sid if len(keys) == 1 else f"{sid}_{number or rank}"
                chosen[unique] = _choose(entries[(name, number)], lab)
        yield chosen


def read_notebook(path: Path) -> tuple[Any, str]:
    """``(notebook, "")`` or ``(None, reason in French)`` for a file that is not a notebook."""
    problem = unsafe(Path(path))
    if problem:
        return None, problem
    raw = Path(path).read_bytes()[:MAX_NOTEBOOK + 1]
    try:
        text = raw.decode("utf-8")
        if _too_deep(text):
            return None, f"JSON imbriqué sur plus de {MAX_DEPTH} niveaux"
        data = json.loads(text)
    except UnicodeDecodeError:
        return None, "fichier illisible : ce n'est pas du texte UTF-8"
    except RecursionError:
        return None, f"JSON imbriqué sur plus de {MAX_DEPTH} niveaux"
    except json.JSONDecodeError as err:
        return None, f"JSON invalide ({err.msg}, ligne {err.lineno}, colonne {err.colno})"
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return None, "ce fichier JSON n'est pas un notebook (pas de liste « cells »)"
    try:
        return nbformat.reads(raw.decode("utf-8"), as_version=4), ""
    except Exception as err:  # nbformat raises several kinds for malformed notebooks
        return None, f"notebook illisible : {type(err).__name__}: {err}"
