"""The built site in headless Chromium: maths rendered by the site's own MathJax, figures
loaded, Colab launch links, internal links, no console error and no request leaving the site.

Needs `_build/html` (run `make site`) and Debian's chromium at /usr/bin/chromium
(`apt-get install -y chromium`; never `playwright install`).
"""

from __future__ import annotations

import functools
import sys
import threading
import urllib.error
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urldefrag, urlsplit

import pytest
from book_toc import SITE, colab_url, source_of, toc_files

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PAGES = toc_files()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the signature of the base class
        pass


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # The browser closes connections it no longer needs (a page closed while a font is
        # still streaming): a broken pipe then is normal, not a failure of the site.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@pytest.fixture(scope="module")
def base_url():
    if not (SITE / "index.html").is_file():
        pytest.fail(f"{SITE} is missing or incomplete: build the site first (run `make site`)")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = _QuietServer(("127.0.0.1", 0), handler)  # port 0: a free port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def _open(browser, url: str):
    """Open ``url``; return the page and the lists of problems it records while loading."""
    page = browser.new_page()
    # Generous limits: MathJax typesets a long chapter in seconds, but CI machines are shared.
    page.set_default_timeout(90_000)
    problems: dict[str, list[str]] = {"console": [], "failed": [], "external": []}
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    page.on("console", lambda m: m.type == "error" and problems["console"].append(m.text))
    page.on("pageerror", lambda e: problems["console"].append(str(e)))
    page.on("requestfailed", lambda r: problems["failed"].append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and problems["failed"].append(f"{r.url} ({r.status})"))

    def check_origin(route):
        if route.request.url.startswith(origin) or route.request.url.startswith("data:"):
            route.continue_()
        else:  # the site must work offline: nothing may be fetched from elsewhere (CDN...)
            problems["external"].append(route.request.url)
            route.abort()

    page.route("**/*", check_origin)
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    return page, problems


@pytest.mark.parametrize("name", PAGES)
def test_page(browser, base_url, name):
    source = source_of(name)
    assert source is not None, f"{name} is in _toc.yml but has no source file"
    page, problems = _open(browser, f"{base_url}{name}.html")
    try:
        # Maths: pages with TeX must get MathJax output, without TeX errors.
        if page.locator("span.math, div.math").count() > 0:
            page.wait_for_selector("mjx-container", state="attached", timeout=90_000)
            assert page.locator("mjx-merror").count() == 0, f"{name}: MathJax reports a TeX error"
            # Formulas are not tab stops (_config.yml: MathJax's inTabOrder off): chapter 6 had
            # 288 of them before its quiz for a keyboard user to go through.
            focusable = page.locator("mjx-container[tabindex]:not([tabindex='-1'])").count()
            assert focusable == 0, f"{name}: {focusable} formulas are in the tab order"

        broken = page.evaluate(
            "Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
            ".map(i => i.src)"
        )
        assert not broken, f"{name}: images that did not load: {broken}"

        if source.suffix == ".ipynb":
            hrefs = page.eval_on_selector_all("a[href*='colab']", "els => els.map(e => e.href)")
            assert colab_url(name) in hrefs, (
                f"{name}: no Colab launch link to {colab_url(name)}; found {hrefs}"
            )

        links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        internal = sorted({urldefrag(h).url for h in links if h.startswith(base_url)})
        dead = [u for u in internal if _status(u) != 200]
        assert not dead, f"{name}: internal links without HTTP 200: {dead}"
        anchors = {urldefrag(h).fragment for h in links if urldefrag(h).url == page.url.split("#")[0]}
        missing = [a for a in anchors if a and page.locator(f"[id='{a}']").count() == 0]
        assert not missing, f"{name}: links to missing anchors on the page: {missing}"

        assert not problems["external"], f"{name}: requests outside the site: {problems['external']}"
        assert not problems["failed"], f"{name}: failed requests: {problems['failed']}"
        assert not problems["console"], f"{name}: console errors: {problems['console']}"
    finally:
        page.close()


def test_mathjax_is_served_by_the_site(base_url):
    assert _status(f"{base_url}mathjax/tex-chtml.js") == 200, (
        "mathjax/tex-chtml.js is not in the site: run `bash tools/fetch_mathjax.sh` before building"
    )
    assert not (SITE / "_static" / "mathjax").exists(), "MathJax must not live under _static/"


def test_search_finds_a_course_word(browser, base_url):
    page, problems = _open(browser, f"{base_url}search.html?q=gradient")
    try:
        page.wait_for_selector("#search-results ul.search li", timeout=90_000)
        assert page.locator("#search-results ul.search li").count() > 0, "search found nothing"
        assert not problems["console"] and not problems["failed"] and not problems["external"], problems
    finally:
        page.close()
