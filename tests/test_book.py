"""Consistency of the book: toc vs notebooks on disk, the Colab install cell, stripped outputs,
and an executed build without errors (no browser; see test_site.py for the rendered pages)."""

from __future__ import annotations

import re

import nbformat
import pytest
from book_toc import CACHE, ROOT, SITE, load_config, source_of, toc_files

INSTALL_CELL = """\
# Sur Colab : installer la bibliothèque du cours (cette cellule ne fait rien ailleurs).
import sys

if "google.colab" in sys.modules:
    %pip install -q "llmcours @ git+{url}"
"""

NOTEBOOKS = sorted(
    p.relative_to(ROOT).with_suffix("").as_posix()
    for pattern in ("chapters/*.ipynb", "labs/*/*.ipynb")
    for p in ROOT.glob(pattern)
)
FRENCH_WORDS = re.compile(r"\b(le|la|les|des|du|de|et|un|une|est|pour|dans|vous)\b", re.IGNORECASE)


def test_every_notebook_is_in_the_toc():
    missing = sorted(set(NOTEBOOKS) - set(toc_files()))
    assert not missing, f"notebooks absent from _toc.yml: {missing}"


def test_every_toc_entry_exists():
    absent = [page for page in toc_files() if source_of(page) is None]
    assert not absent, f"_toc.yml lists pages with no .ipynb/.md source: {absent}"
    pages = toc_files()
    assert len(pages) == len(set(pages)), "a page is listed twice in _toc.yml"


def test_solutions_never_reach_the_site():
    leaked = [page for page in toc_files() if page.split("/")[0] == "solutions"]
    assert not leaked, f"solutions listed in _toc.yml: {leaked}"
    config = load_config()
    assert config.get("only_build_toc_files") is True, "_config.yml: only_build_toc_files must be true"
    assert "solutions" in config["exclude_patterns"], "_config.yml: exclude_patterns lacks solutions"
    if SITE.is_dir():
        built = [p.relative_to(SITE).as_posix() for p in SITE.rglob("solutions*")]
        assert not built, f"the built site contains solutions: {built}"


def test_labs_are_not_executed():
    patterns = load_config()["execute"]["exclude_patterns"]
    assert "labs/*/*.ipynb" in patterns, f"labs must be excluded from execution, got {patterns}"


@pytest.mark.parametrize("page", NOTEBOOKS)
def test_notebook_conventions(page):
    nb = nbformat.read(ROOT / f"{page}.ipynb", as_version=4)
    first, second = nb.cells[0], nb.cells[1]
    assert first.cell_type == "markdown" and first.source.startswith("# "), (
        f"{page}: cell 0 must be the markdown title '# ...'"
    )
    assert len(FRENCH_WORDS.findall(first.source)) >= 3, f"{page}: cell 0 is not in French"
    expected = INSTALL_CELL.format(url=load_config()["repository"]["url"]).strip()
    assert second.cell_type == "code" and second.source.strip() == expected, (
        f"{page}: cell 1 must be exactly the Colab install cell:\n{expected}\n"
        f"--- found ---\n{second.source}"
    )
    numbered = [line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines()
                if re.match(r"#{2,} \d+\. ", line)]
    assert not page.startswith("chapters/") or not numbered, (
        f"{page}: the book numbers sections itself (3.1, 3.2…); drop the manual numbers: {numbered}"
    )
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{page}: outputs not stripped in cells {dirty} (jupyter nbconvert --clear-output)"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", f"{page}: kernel must be python3"
    assert "widgets" not in nb.metadata, f"{page}: widget state left in the metadata"


def _executed_notebooks() -> list[str]:
    excluded = load_config()["execute"]["exclude_patterns"]
    return [p for p in NOTEBOOKS if not any((ROOT / f"{p}.ipynb").match(x) for x in excluded)]


@pytest.mark.site
def test_the_build_executed_every_chapter_without_error():
    """The jupyter-cache of the last build holds a successful run of each current notebook."""
    from jupyter_cache import get_cache

    if not (CACHE / "global.db").is_file():
        pytest.fail(f"no execution cache at {CACHE}: build the site first (run `make site`)")
    cache = get_cache(CACHE)
    records = {ROOT.joinpath(r.uri).resolve(): r for r in cache.list_project_records()}
    problems = []
    for page in _executed_notebooks():
        path = (ROOT / f"{page}.ipynb").resolve()
        record = records.get(path)
        if record is None:
            problems.append(f"{page}: never executed by the build")
        elif record.traceback:
            problems.append(f"{page}: execution failed:\n{record.traceback[-2000:]}")
        elif (cached := cache.get_cached_project_nb(record.pk)) is None:
            problems.append(f"{page}: changed since the last build (run `make site`)")
        else:
            nb = cache.get_cache_bundle(cached.pk).nb
            errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
            if errors:
                problems.append(f"{page}: error output {errors[0].ename}: {errors[0].evalue}")
    assert not problems, "\n".join(problems)


@pytest.mark.site
def test_built_pages_show_their_figures_and_no_traceback():
    """A chapter that draws shows figures (a kernel started with MPLBACKEND=Agg silently
    draws nothing), and no error output reaches the page."""
    if not SITE.is_dir():
        pytest.fail(f"{SITE} is missing: build the site first (run `make site`)")
    bad = []
    for page in _executed_notebooks():
        html = SITE / f"{page}.html"
        if not html.is_file():
            bad.append(f"{page}: not built")
            continue
        text = html.read_text(encoding="utf-8")
        if 'class="output traceback' in text:
            bad.append(f"{page}: shows a traceback")
        source_text = (ROOT / f"{page}.ipynb").read_text(encoding="utf-8")
        for quote in "“”":  # Sphinx smart quotes mangle French apostrophes (l'**x** -> l”x)
            if quote in text and quote not in source_text:
                bad.append(f"{page}: the page has {quote} that its source lacks (smartquotes?)")
        nb = nbformat.read(ROOT / f"{page}.ipynb", as_version=4)
        shows = any("plt.show()" in c.source for c in nb.cells if c.cell_type == "code")
        if shows and not re.search(r'<img [^>]*src="[^"]*_images/', text):
            bad.append(f"{page}: calls plt.show() but shows no figure (MPLBACKEND=Agg set?)")
        for img in re.findall(r'<img [^>]*src="[^"]*_images/[^>]*>', text):
            alt = re.search(r'alt="([^"]*)"', img)
            if alt is None or not alt.group(1) or re.search(r"\.(png|jpe?g|svg)$", alt.group(1)):
                bad.append(f"{page}: a figure whose alt text is {alt.group(1) if alt else None!r}")
    assert not bad, "\n".join(bad)


DIRECTIVE = re.compile(r"^(```+|:::+)\{(figure|image|glue:figure)\}")
OPTION = re.compile(r"^:[\w-]+:( .*)?$")
MARKDOWN_PAGES = sorted(
    p.relative_to(ROOT).as_posix()
    for pattern in ("chapters/*.ipynb", "annexes/*.ipynb", "annexes/*.md", "intro.md")
    for p in ROOT.glob(pattern)
)


def _markdown_sources(path: str) -> list[tuple[str, str]]:
    """(where, text) for each markdown cell of a notebook, or the whole text of a .md page."""
    if path.endswith(".md"):
        return [(path, (ROOT / path).read_text(encoding="utf-8"))]
    nb = nbformat.read(ROOT / path, as_version=4)
    return [(f"{path} cell {c.get('id', i)}", c.source) for i, c in enumerate(nb.cells)
            if c.cell_type == "markdown"]


def figure_option_problems(text: str) -> list[str]:
    """Lines of a figure's option block that MyST would not read as options.

    In MyST, the options of a directive are the ``:key: value`` lines right after its first
    line, up to the first line that is not one; a wrapped ``:alt:`` ends the block, so its
    second line, the ``:name:`` and everything after them become the caption and the label
    is never registered. A ``---`` YAML block is the way to write a long option.
    """
    problems = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not DIRECTIVE.match(line):
            continue
        j = i + 1
        if j < len(lines) and lines[j].strip() == "---":  # YAML options: anything goes inside
            continue
        while j < len(lines) and lines[j].strip():
            if not OPTION.match(lines[j]):
                problems.append(f"{line.strip()} → {lines[j].strip()[:60]!r}")
                break
            j += 1
    return problems


def test_figure_option_block_detector():
    good = "```{figure} a.svg\n:alt: Un texte.\n:name: fig-a\n\nLégende.\n```"
    wrapped = "```{figure} a.svg\n:alt: Un texte\n  qui continue.\n:name: fig-a\n\nLégende.\n```"
    assert figure_option_problems(good) == []
    assert figure_option_problems(wrapped) == ["```{figure} a.svg → 'qui continue.'"]
    yaml_block = "```{figure} a.svg\n---\nalt: Un texte\n  qui continue.\nname: fig-a\n---\nLégende.\n```"
    assert figure_option_problems(yaml_block) == []


@pytest.mark.parametrize("path", MARKDOWN_PAGES)
def test_figure_options_are_read_as_options(path):
    """A wrapped ``:alt:`` puts the rest of the alt text and a literal ``:name: fig-…`` into
    the caption and leaves the label unregistered (issue 19): every option on one line."""
    bad = [f"{where}: {p}" for where, text in _markdown_sources(path) for p in figure_option_problems(text)]
    assert not bad, "figure options MyST reads as caption (write each on one line):\n" + "\n".join(bad)


# A cell that draws (plt.show() or a llmcours.plots function) gives its figure a French alt
# text in its metadata, which MyST-NB puts on the <img> of every image the cell outputs:
#     "metadata": {"mystnb": {"image": {"alt": "Deux courbes de perte… "}}}
# (in JupyterLab: the cell's property inspector; in code: cell.metadata["mystnb"] = {...}).
# Without it the page's <img> has the file's path as alt text (issue 19).
DRAWS = re.compile(r"plt\.show\(\)|\b(attention_heatmap|learning_curves|decision_boundary)\(")
CHAPTERS = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("chapters/*.ipynb"))


def figure_alt_problems(nb) -> list[str]:
    """The cells that draw a figure without a French alt text in ``mystnb.image.alt``."""
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not DRAWS.search(cell.source):
            continue
        alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
        if len(alt) < 40 or len(FRENCH_WORDS.findall(alt)) < 3:
            problems.append(f"cell {cell.get('id', i)}: alt text {alt[:40]!r}")
    return problems


def test_figure_alt_detector():
    draws = nbformat.v4.new_code_cell("plt.plot(x)\nplt.show()")
    nb = nbformat.v4.new_notebook(cells=[draws, nbformat.v4.new_code_cell("print(1)")])
    assert figure_alt_problems(nb) == [f"cell {draws.id}: alt text ''"]
    draws.metadata["mystnb"] = {"image": {"alt": "Une courbe de la perte qui baisse avec les époques."}}
    assert figure_alt_problems(nb) == []


@pytest.mark.parametrize("page", CHAPTERS)
def test_every_figure_has_a_french_alt_text(page):
    problems = figure_alt_problems(nbformat.read(ROOT / page, as_version=4))
    assert not problems, (f"{page}: cells that draw without a French alt text "
                          '(metadata {"mystnb": {"image": {"alt": "…"}}}):\n' + "\n".join(problems))


# Diagrams: the page shows an SVG at its own size when it fits the text column (672 CSS px
# in a 1280-px window, measured in Chromium on a built page) and shrinks a wider one to it.
COLUMN_PX, MIN_FONT_PT = 672, 10.0
SVGS = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("figures/*.svg"))


def svg_text_sizes(svg: str) -> list[tuple[str, float]]:
    """(text, size in points at which the page shows it) for each <text> of an SVG written by
    matplotlib (svg.fonttype none): a text's size is its largest tspan's, so a sub- or
    superscript (0.7 × the base) counts with its base."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(svg)
    view_width = float(root.get("viewBox").split()[2])
    width_px = float(root.get("width").removesuffix("pt")) * 4 / 3
    shown_px = min(width_px, COLUMN_PX)
    sizes = []
    for text in root.iter("{http://www.w3.org/2000/svg}text"):
        markup = ET.tostring(text, encoding="unicode")
        found = [float(x) for x in re.findall(r"font-size:\s*([\d.]+)px", markup)]
        if found:  # user units are points (viewBox = width in pt); 1 CSS px = 0.75 pt
            sizes.append(("".join(text.itertext()).strip(), max(found) * shown_px / view_width * 0.75))
    return sizes


def test_svg_text_size_detector():
    def svg(width_pt: float, size: float) -> str:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_pt}pt" height="100pt" '
                f'viewBox="0 0 {width_pt} 100"><text><tspan style="font-size: {size}px">a</tspan>'
                f'<tspan style="font-size: {0.7 * size}px">b</tspan></text></svg>')

    assert svg_text_sizes(svg(504, 10)) == [("ab", 10.0)]  # 504 pt = 672 px: shown as drawn
    (_, shrunk), = svg_text_sizes(svg(1008, 10))  # twice the column: shown at half size
    assert shrunk == pytest.approx(5.0)


@pytest.mark.parametrize("path", SVGS)
def test_diagram_text_is_readable_on_the_page(path):
    """Every label of a diagram shows at ≥ 10 pt in the text column (issue 19): draw on a
    canvas ≤ 7 in wide with tools/diagrams/_draw.py, whose save() refuses smaller text."""
    small = [f"{text[:40]!r}: {size:.1f} pt" for text, size in
             svg_text_sizes((ROOT / path).read_text(encoding="utf-8")) if size < MIN_FONT_PT - 0.05]
    assert not small, f"{path}: text under {MIN_FONT_PT} pt on the page:\n" + "\n".join(small)
