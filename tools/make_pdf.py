"""The polycopié: the built site printed as one PDF (``make pdf``).

The pages of ``_toc.yml`` (the introduction, the 14 chapters, the annexes; not the labs, which
are handed out as notebooks, and never the solutions) are opened one by one from the built
site (``_build/html``, made by ``make site``) in Debian's Chromium through Playwright, once
MathJax has typeset them, and printed to A4 with a print style sheet (no sidebars or buttons,
outputs never cut, no heading alone at the foot of a page). ``pypdf`` then merges them behind
a title page and a table of contents (chapters and their sections, with page numbers), stamps
the page numbers (printed by Chromium on blank pages of the same size) and adds the PDF
outline. The chapters and sections keep the site's numbering (``numbered: true`` in the TOC).

Chosen over Jupyter Book's LaTeX builder: the print is what the site shows (MathJax, the
SVG diagrams, the outputs as the site styles them) and needs nothing more than the site's
own tools; no TeX Live is installed on the build machines.

Usage: ``python tools/make_pdf.py [--html _build/html] [-o _build/pdf/polycopie.pdf]``.
"""

from __future__ import annotations

import argparse
import html
import io
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pypdf import PdfReader, PdfWriter

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
LEFT_OUT = {"Travaux pratiques"}  # TOC parts not printed (the labs)
MARGIN = {"top": "16mm", "bottom": "18mm", "left": "16mm", "right": "16mm"}

PRINT_CSS = """
@page { size: A4; }
html { font-size: 10.5pt; }
.bd-header, .bd-header-article, .header-article, .bd-sidebar-primary, .bd-sidebar-secondary,
.bd-footer, .bd-footer-article, .bd-footer-content, .prev-next-area, .headerlink, .skip-link,
.article-header-buttons, .dropdown-buttons, #pst-back-to-top, .pst-async-banner-revealer,
.bd-search, .search-button-field, .primary-toggle, .secondary-toggle, #jb-print-docs-body
{ display: none !important; }
/* the theme hides the page's own title in print (it prints #jb-print-docs-body instead) */
.bd-main .bd-content .bd-article h1:first-of-type { display: block !important; }
.bd-main, .bd-content, .bd-article-container, .bd-article, .bd-page-width, .bd-container,
.bd-container__inner { max-width: none !important; width: auto !important; margin: 0 !important;
  padding: 0 !important; display: block !important; }
body { hyphens: auto; }
pre, .highlight pre, .output pre, div.cell_output pre { white-space: pre-wrap !important;
  word-break: break-word; max-height: none !important; overflow: visible !important; }
.cell_output, .output, .output_area { max-height: none !important; overflow: visible !important; }
h1, h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
figure, img, svg, table, .admonition, mjx-container[display="true"], div.cell_input,
div.cell_output > div.output { break-inside: avoid; }  /* no empty code box at a page foot */
img { max-width: 100% !important; height: auto; }
"""

TOC_CSS = """
@page { size: A4; margin: 20mm 18mm; }
body { font-family: "DejaVu Serif", serif; font-size: 11pt; }
h1 { font-size: 20pt; margin-bottom: 12mm; }
.entry { display: flex; align-items: baseline; }
.entry .title { flex: 0 1 auto; }
.entry .dots { flex: 1 1 auto; border-bottom: 1px dotted #666; margin: 0 1.5mm; }
.entry .page { flex: 0 0 auto; }
.chapter { font-weight: bold; margin-top: 3mm; }
.section { margin-left: 7mm; font-size: 10pt; }
.cover { height: 240mm; display: flex; flex-direction: column; justify-content: center;
  text-align: center; break-after: page; }
.cover h1 { font-size: 28pt; margin-bottom: 8mm; }
"""


@dataclass
class Page:
    """One page of the site and what the book needs of it once printed."""

    path: Path
    title: str = ""
    sections: list[str] = field(default_factory=list)
    pdf: bytes = b""
    n_pages: int = 0
    first: int = 0  # 1-based page number of its first page in the body


def book_pages(html_dir: Path, toc: Path) -> list[Path]:
    """The site's HTML pages in the order of ``_toc.yml`` (its parts in ``LEFT_OUT`` dropped)."""
    spec = yaml.safe_load(toc.read_text(encoding="utf-8"))
    files = [spec["root"]]
    for part in spec.get("parts", []):
        if part.get("caption") not in LEFT_OUT:
            files += [entry["file"] for entry in part.get("chapters", [])]
    pages = [html_dir / f"{Path(f).with_suffix('')}.html" for f in files]
    missing = [str(p) for p in pages if not p.is_file()]
    if missing:
        raise ValueError(f"html ({html_dir}) lacks {', '.join(missing)}: run `make site` first")
    return pages


def _print_pages(pages: list[Page], browser) -> None:
    """Open, typeset and print every page (Chromium, A4, the print style sheet)."""
    context = browser.new_context(locale="fr-FR")
    tab = context.new_page()
    for page in pages:
        tab.goto(page.path.resolve().as_uri(), wait_until="load")
        tab.evaluate("() => (window.MathJax && MathJax.startup) ? MathJax.startup.promise : null")
        tab.emulate_media(media="print")
        tab.add_style_tag(content=PRINT_CSS)
        tab.evaluate("() => Promise.all([...document.images].map(i => i.complete ? null :"
                     " new Promise(r => { i.onload = i.onerror = r; })))")
        page.title = tab.eval_on_selector("article h1", "h => h.innerText").strip()
        page.sections = [s.strip() for s in tab.eval_on_selector_all(
            "article section > h2", "hs => hs.map(h => h.innerText)")]
        page.pdf = tab.pdf(format="A4", margin=MARGIN, print_background=True)
        page.n_pages = len(PdfReader(io.BytesIO(page.pdf)).pages)
    context.close()


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def _section_pages(page: Page) -> list[int]:
    """Body page number of each section of ``page`` (its heading found in the text layer)."""
    texts = [_squash(p.extract_text() or "") for p in PdfReader(io.BytesIO(page.pdf)).pages]
    found, start = [], 0
    for title in page.sections:
        key = _squash(title)[:40]
        index = next((i for i in range(start, len(texts)) if key in texts[i]), start)
        found.append(page.first + index)
        start = index
    return found


def _toc_html(pages: list[Page], title: str, author: str) -> str:
    rows = []
    for page in pages:
        rows.append(f'<div class="entry chapter"><span class="title">{html.escape(page.title)}'
                    f'</span><span class="dots"></span><span class="page">{page.first}</span></div>')
        for name, number in zip(page.sections, _section_pages(page), strict=True):
            rows.append(f'<div class="entry section"><span class="title">{html.escape(name)}'
                        f'</span><span class="dots"></span><span class="page">{number}</span></div>')
    return (f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><style>{TOC_CSS}'
            f'</style></head><body><div class="cover"><h1>{html.escape(title)}</h1>'
            f'<p>{html.escape(author)}</p><p>Polycopié imprimé depuis le site du cours</p></div>'
            f'<h1>Table des matières</h1>{"".join(rows)}</body></html>')


def _numbers(n_pages: int, browser) -> PdfReader:
    """``n_pages`` blank A4 pages whose footer is their number: stamped on the body."""
    tab = browser.new_page()
    tab.set_content('<!doctype html><html><body style="margin:0">'
                    + '<div style="break-after:page;height:1px"></div>' * n_pages + "</body></html>")
    footer = ('<div style="width:100%;text-align:center;font-size:9pt;font-family:serif;'
              'color:#444"><span class="pageNumber"></span></div>')
    data = tab.pdf(format="A4", margin=MARGIN, display_header_footer=True,
                   header_template="<span></span>", footer_template=footer)
    tab.close()
    reader = PdfReader(io.BytesIO(data))
    if len(reader.pages) != n_pages:
        raise RuntimeError(f"numbering pages: {len(reader.pages)} printed for {n_pages}")
    return reader


def make_pdf(html_dir: Path, output: Path, toc: Path = ROOT / "_toc.yml") -> dict:
    """Print the book of ``html_dir`` into ``output``; returns pages and seconds per step."""
    from playwright.sync_api import sync_playwright

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    pages = [Page(p) for p in book_pages(html_dir, toc)]
    start = time.perf_counter()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        _print_pages(pages, browser)
        printed = time.perf_counter() - start
        first = 1
        for page in pages:
            page.first, first = first, first + page.n_pages
        tab = browser.new_page()
        tab.set_content(_toc_html(pages, config["title"], config.get("author", "")))
        front = PdfReader(io.BytesIO(tab.pdf(format="A4", print_background=True)))
        numbers = _numbers(first - 1, browser)
        browser.close()
    writer = PdfWriter()
    for sheet in front.pages:
        writer.add_page(sheet)
    offset = len(writer.pages)
    for page in pages:
        for sheet in PdfReader(io.BytesIO(page.pdf)).pages:
            stamp = numbers.pages[len(writer.pages) - offset]
            writer.add_page(sheet).merge_page(stamp)  # pypdf 7 merges into a writer's page
    writer.add_outline_item(title="Table des matières", page_number=1)
    for page in pages:
        parent = writer.add_outline_item(title=page.title, page_number=offset + page.first - 1)
        for name, number in zip(page.sections, _section_pages(page), strict=True):
            writer.add_outline_item(title=name, page_number=offset + number - 1, parent=parent)
    writer.add_metadata({"/Title": config["title"], "/Author": config.get("author", "")})
    writer.page_mode = "/UseOutlines"
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "wb") as handle:
        writer.write(handle)
    return dict(pages=len(writer.pages), chapters=len(pages), print_seconds=printed,
                seconds=time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--toc", type=Path, default=ROOT / "_toc.yml")
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "_build" / "pdf" / "polycopie.pdf")
    args = parser.parse_args(argv)
    try:
        done = make_pdf(args.html, args.output, args.toc)
    except ValueError as err:
        print(f"make_pdf: {err}", file=sys.stderr)
        return 2
    print(f"make_pdf: {args.output} — {done['pages']} pages, {done['chapters']} pages du site, "
          f"{done['seconds']:.0f} s (dont {done['print_seconds']:.0f} s d'impression)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
