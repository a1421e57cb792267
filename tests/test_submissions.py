"""Finding submissions in folders and LMS zips (``llmcours.grading.submissions``): fast."""

from __future__ import annotations

import zipfile
from pathlib import Path

import nbformat
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmcours.grading.submissions import MAX_NOTEBOOK, find_submissions, read_notebook, student_id

NOTEBOOK = nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]))


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def _found(source: Path, lab: str = "tp1") -> dict[str, tuple[str | None, str]]:
    with find_submissions(source, lab) as found:
        return {s: (p.name if p else None, note) for s, (p, note) in found.items()}


@pytest.mark.parametrize("name, expected", [
    ("Élodie Martin-Dupont", "elodie_martin_dupont"),
    ("  N'Guyen   Thi  ", "n_guyen_thi"),
    ("ÇA", "ca"),
    ("李", "anonyme"),
])
def test_student_id_is_ascii_and_readable(name, expected):
    assert student_id(name) == expected


@given(st.text(max_size=40))
def test_student_id_is_always_safe_for_nbgrader(name):
    sid = student_id(name)
    assert sid and set(sid) <= set("abcdefghijklmnopqrstuvwxyz0123456789_"), sid
    assert not sid.startswith("_") and not sid.endswith("_"), sid


def test_folder_per_student_and_file_per_student(tmp_path):
    _write(tmp_path, {"alice/tp1.ipynb": NOTEBOOK, "bob/brouillon/mon tp.ipynb": NOTEBOOK,
                      "Chloé.ipynb": NOTEBOOK, "notes.txt": "pas un rendu",
                      "alice/.ipynb_checkpoints/tp1-checkpoint.ipynb": NOTEBOOK})
    assert _found(tmp_path) == {
        "alice": ("tp1.ipynb", ""),
        "bob": ("mon tp.ipynb", "fichier « mon tp.ipynb » renommé en tp1.ipynb"),
        "chloe": ("Chloé.ipynb", ""),
    }


def test_moodle_zip_in_both_styles_with_homonyms(tmp_path):
    archive = tmp_path / "rendus.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("TP1 rendus/Marie Curie_501_assignsubmission_file_tp1.ipynb", NOTEBOOK)
        z.writestr("TP1 rendus/Marie Curie_502_assignsubmission_file_TP1 final.ipynb", NOTEBOOK)
        z.writestr("TP1 rendus/Paul Dirac_503_assignsubmission_file_/tp1.ipynb", NOTEBOOK)
        z.writestr("TP1 rendus/Paul Dirac_503_assignsubmission_onlinetext_/onlinetext.html", "")
        z.writestr("TP1 rendus/Ada Byron_504_assignsubmission_file_/a.ipynb", NOTEBOOK)
        z.writestr("TP1 rendus/Ada Byron_504_assignsubmission_file_/b.ipynb", NOTEBOOK)
        z.writestr("__MACOSX/._x.ipynb", "")
    assert _found(archive) == {
        "marie_curie_501": ("Marie Curie_501_assignsubmission_file_tp1.ipynb", ""),
        "marie_curie_502": ("Marie Curie_502_assignsubmission_file_TP1 final.ipynb",
                            "fichier « TP1 final.ipynb » renommé en tp1.ipynb"),
        "paul_dirac": ("tp1.ipynb", ""),
        "ada_byron": (None, "plusieurs notebooks et aucun ne s'appelle tp1.ipynb : a.ipynb, b.ipynb"),
    }


def test_single_wrapped_student_folder_is_not_unwrapped(tmp_path):
    _write(tmp_path, {"alice/tp1.ipynb": NOTEBOOK})
    assert _found(tmp_path) == {"alice": ("tp1.ipynb", "")}


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "absent", "does not exist"),
    (lambda p: _write(p, {"a.txt": "x"}) / "a.txt", "must be a folder or a .zip archive"),
    (lambda p: zipfile.ZipFile(p / "vide.zip", "w").close() or p / "vide.zip", "holds no .ipynb"),
    (lambda p: _write(p, {"alice/notes.txt": "x"}), "holds no .ipynb"),
])
def test_bad_sources_are_refused_early(tmp_path, make, message):
    with pytest.raises(ValueError, match="source"), find_submissions(make(tmp_path), "tp1"):
        pass
    with pytest.raises(ValueError, match=message), find_submissions(make(tmp_path), "tp1"):
        pass


@pytest.mark.parametrize("text, reason", [
    ('{"cells": [', "JSON invalide (Expecting value, ligne 1, colonne 12)"),
    ("", "JSON invalide (Expecting value, ligne 1, colonne 1)"),
    ("[1, 2]", "pas de liste « cells »"),
    ('{"cells": "non"}', "pas de liste « cells »"),
])
def test_read_notebook_names_what_is_wrong(tmp_path, text, reason):
    path = _write(tmp_path, {"x.ipynb": text}) / "x.ipynb"
    nb, problem = read_notebook(path)
    assert nb is None and reason in problem, problem


def test_read_notebook_accepts_a_notebook_and_rejects_binary(tmp_path):
    path = _write(tmp_path, {"ok.ipynb": NOTEBOOK}) / "ok.ipynb"
    nb, problem = read_notebook(path)
    assert problem == "" and nb.cells[0].source == "1 + 1"
    (tmp_path / "bin.ipynb").write_bytes(b"\xff\xfe\x00")
    assert "UTF-8" in read_notebook(tmp_path / "bin.ipynb")[1]


def test_hostile_folder_entries_are_invalid_with_a_reason(tmp_path):
    _write(tmp_path, {"alice/tp1.ipynb": NOTEBOOK})
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / "tp1.ipynb").symlink_to("/dev/zero")
    (tmp_path / "carl.ipynb").symlink_to(tmp_path / "alice" / "tp1.ipynb")
    (tmp_path / "dina").mkdir()
    (tmp_path / "dina" / "tp1.ipynb").write_bytes(b" " * (MAX_NOTEBOOK + 1))
    found = _found(tmp_path)
    assert found["alice"] == ("tp1.ipynb", "")
    assert found["bob"] == (None, "lien symbolique refusé")
    assert found["carl"] == (None, "lien symbolique refusé")
    assert found["dina"][0] is None and "trop gros" in found["dina"][1]


def test_zip_caps_and_path_traversal(tmp_path):
    archive = tmp_path / "rendus.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("alice/tp1.ipynb", NOTEBOOK)
        z.writestr("../../evade.ipynb", NOTEBOOK)
        z.writestr("/etc/absolu.ipynb", NOTEBOOK)
        z.writestr("bob/tp1.ipynb", b"\0" * (MAX_NOTEBOOK + 10))
    found = _found(archive)
    assert found["alice"] == ("tp1.ipynb", "") and "evade" not in found
    assert found["bob"][0] is None and "trop gros" in found["bob"][1]
    assert not list(tmp_path.parent.rglob("evade.ipynb"))


def test_zip_too_big_once_unzipped_is_refused(tmp_path, monkeypatch):
    from llmcours.grading import submissions

    monkeypatch.setattr(submissions, "MAX_ARCHIVE", 1000)
    archive = tmp_path / "bombe.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("alice/tp1.ipynb", b"\0" * 5000)
    with pytest.raises(ValueError, match="too big once unzipped"), find_submissions(archive, "tp1"):
        pass


@pytest.mark.parametrize("text", ["[" * 100 + "]" * 100, '{"cells": ' + "[" * 100_000])
def test_deeply_nested_json_is_refused_before_parsing(tmp_path, text):
    path = _write(tmp_path, {"x.ipynb": text}) / "x.ipynb"
    nb, problem = read_notebook(path)
    assert nb is None and "imbriqué" in problem, problem
