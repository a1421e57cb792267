"""The bibliography: one BibTeX file, cited from every chapter's « Pour aller plus loin »,
listed by annexes/bibliographie.md; every key a chapter cites exists, with the references the
course promises (the founding papers of each part)."""

from __future__ import annotations

import re

import nbformat
import pytest
from book_toc import ROOT, load_config, toc_files
from pybtex.database import parse_file

BIB = ROOT / "references.bib"
CHAPTERS = sorted(ROOT.glob("chapters/*.ipynb"))
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
# (first author's last name, year) of the references every edition must cite.
REQUIRED = [("Vaswani", 2017), ("Devlin", 2019), ("Radford", 2018), ("Radford", 2019),
            ("Brown", 2020), ("Raffel", 2020), ("Kaplan", 2020), ("Hoffmann", 2022),
            ("Ouyang", 2022), ("Rafailov", 2023), ("Hu", 2021), ("Lewis", 2020),
            ("Sennrich", 2016), ("Schuster", 2012), ("Hochreiter", 1997), ("Bengio", 2003)]


@pytest.fixture(scope="module")
def entries():
    return parse_file(str(BIB), bib_format="bibtex").entries


def _cited_keys(path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return [k.strip() for group in CITE.findall(text) for k in group.split(",")]


def test_the_site_uses_the_bib_file():
    config = load_config()
    assert config.get("bibtex_bibfiles") == ["references.bib"], "_config.yml: bibtex_bibfiles"
    assert "annexes/bibliographie" in toc_files()
    page = (ROOT / "annexes" / "bibliographie.md").read_text(encoding="utf-8")
    assert "```{bibliography}" in page


def test_every_entry_is_complete(entries):
    for key, entry in entries.items():
        fields = {f.lower() for f in entry.fields}
        assert {"title", "year"} <= fields, f"{key}: title and year are required"
        assert entry.persons.get("author"), f"{key}: no author"
        venue = {"journal", "booktitle", "institution", "publisher", "url"} & fields
        assert venue, f"{key}: say where it was published"


@pytest.mark.parametrize("author, year", REQUIRED, ids=[f"{a}{y}" for a, y in REQUIRED])
def test_the_founding_papers_are_there(entries, author, year):
    found = [k for k, e in entries.items()
             if e.persons["author"][0].last_names[-1] == author and int(e.fields["year"]) == year]
    assert found, f"references.bib lacks {author} {year}"


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_each_chapter_cites_its_papers(entries, path):
    nb = nbformat.read(path, as_version=4)
    further = [c.source for c in nb.cells
               if c.cell_type == "markdown" and "## Pour aller plus loin" in c.source]
    assert further, f"{path.name}: no « Pour aller plus loin » section"
    section = further[0].split("## Pour aller plus loin", 1)[1]
    assert CITE.search(section), f"{path.name}: « Pour aller plus loin » cites nothing with {{cite}}"
    unknown = sorted(set(_cited_keys(path)) - set(entries))
    assert not unknown, f"{path.name} cites keys absent from references.bib: {unknown}"


CITING_PAGES = sorted(p for pattern in ("chapters/*.ipynb", "annexes/*.ipynb", "annexes/*.md",
                                          "labs/*/*.ipynb", "*.md")
                      for p in ROOT.glob(pattern) if p.name != "README.md")


def _all_cited_keys() -> set[str]:
    """Every key that a page of the book cites with {cite}, {cite:p}, {cite:t}…"""
    keys: set[str] = set()
    for path in CITING_PAGES:
        if path.suffix == ".ipynb":
            keys.update(_cited_keys(path))
        else:
            text = path.read_text(encoding="utf-8")
            keys.update(k.strip() for group in CITE.findall(text) for k in group.split(","))
    return keys


def test_every_entry_is_cited_where_it_is_used(entries):
    """The bibliography page lists everything (``:all:``), so an entry no page cites has no
    link back to the place that uses it (issue 19: Besiroglu, Patterson and Malkov were only
    listed). Cite it with {cite:p} in the section that uses it, or drop it."""
    uncited = sorted(set(entries) - _all_cited_keys())
    assert not uncited, f"references.bib entries that no page cites with {{cite}}: {uncited}"


def test_a_missing_key_is_caught(entries, tmp_path):
    """The check above can fail: a planted unknown key is reported."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "## Pour aller plus loin\n\n- X {cite:p}`vaswani2017attention,nobody1900nothing`")])
    path = tmp_path / "planted.ipynb"
    nbformat.write(nb, path)
    assert set(_cited_keys(path)) - set(entries) == {"nobody1900nothing"}
