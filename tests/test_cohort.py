"""A cohort graded on two machines (``tools/cohort.py``) gives the CSV of one batch.

Three course roots stand for three machines: one grades the whole class of exp02 (the cheapest
lab), the two others grade shards 1/2 and 2/2 of the same submissions; merging the two shards'
CSVs must give, byte for byte, the CSV of the single batch. The argument checks are tested
without grading.
"""

from __future__ import annotations

import csv
import importlib.util
import shutil
from pathlib import Path

import nbformat
import pytest

from llmcours import grading

REPO = Path(__file__).resolve().parents[1]
LAB = "exp02"
TIMEOUT = 600  # seconds per cell: importing torch in the sandbox takes minutes on a loaded machine
spec = importlib.util.spec_from_file_location("cohort", REPO / "tools" / "cohort.py")
cohort = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cohort)


def _course(path: Path) -> Path:
    path.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", path)
    for folder in ("solutions", "labs"):
        shutil.copytree(REPO / folder / LAB, path / folder / LAB)
    return path


def _submissions(path: Path) -> Path:
    """Five copies: three solutions, a wrong answer, a blank one (the released lab)."""
    spec = importlib.util.spec_from_file_location("case", REPO / "tests/grading_cases/exp02.py")
    case = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(case)
    copies = {"Ana Bel": None, "Côme Dru": None, "Eva Fort": case.WRONG, "Gil Huet": None}
    for name, patches in copies.items():
        (path / name).mkdir(parents=True)
        nbformat.write(grading.student_version(REPO, LAB, patches, keep_plain=False),
                       path / name / f"{LAB}.ipynb")
    (path / "Ida Jolo").mkdir()
    shutil.copy(REPO / "labs" / LAB / f"{LAB}.ipynb", path / "Ida Jolo" / f"{LAB}.ipynb")
    return path


@pytest.mark.slow
def test_two_shards_merge_into_the_csv_of_one_batch(tmp_path):
    rendus = _submissions(tmp_path / "rendus")
    whole = _course(tmp_path / "machine0")
    grading.collect(whole, LAB, rendus)
    grading.autograde(whole, LAB, jobs=2, threads=1, timeout=TIMEOUT, progress=False)
    one = grading.export(whole, LAB, tmp_path / "one.csv")

    parts, shards = [], []
    for i in (1, 2):
        root = _course(tmp_path / f"machine{i}")
        grading.collect(root, LAB, rendus)
        students = cohort.shard(root, LAB, f"{i}/2")
        shards.append(students)
        grading.autograde(root, LAB, students=students, jobs=2, threads=1, timeout=TIMEOUT,
                          progress=False)
        parts.append(grading.export(root, LAB, tmp_path / f"shard{i}.csv"))
    assert sorted(shards[0] + shards[1]) == grading.submitted_students(whole, LAB)
    assert abs(len(shards[0]) - len(shards[1])) <= 1 and not set(shards[0]) & set(shards[1])
    merged = cohort.merge(parts, tmp_path / "merged.csv")
    assert merged.read_bytes() == one.read_bytes()
    with open(one, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 5 and {r["status"] for r in rows} == {"ok"}, rows
    scores = sorted(float(r["score"]) for r in rows)
    assert scores[0] == 0 and scores[-1] > scores[1], scores  # blank, wrong < right
    with pytest.raises(ValueError, match="graded on several machines"):
        cohort.merge([parts[0], one], tmp_path / "twice.csv")


@pytest.mark.parametrize("text", ["0/2", "3/2", "1-2", "a/b", "1/0"])
def test_bad_shard_names_the_argument(text):
    with pytest.raises(ValueError, match="shard"):
        cohort.parse_shard(text)


def test_merge_refuses_different_columns(tmp_path):
    (tmp_path / "a.csv").write_text("student,lab,score,status\nx,exp02,1,ok\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("student,lab,status\ny,exp02,ok\n", encoding="utf-8")
    with pytest.raises(ValueError, match="columns"):
        cohort.merge([tmp_path / "a.csv", tmp_path / "b.csv"], tmp_path / "out.csv")
    with pytest.raises(ValueError, match="paths"):
        cohort.merge([], tmp_path / "out.csv")
