"""Small Sphinx fixes for the course site, loaded by ``_config.yml`` (``sphinx.local_extensions``).

1. The kernels that execute the chapters inherit the build's environment. With ``MPLBACKEND``
   set (``Agg`` is usual for tests), ipykernel keeps it instead of the inline backend and every
   ``plt.show()`` draws nothing: the site would lose all its figures without an error. We unset
   it for the build (tests/test_book.py checks that chapters which draw show figures).
2. Sphinx 7.4 registers a script added with ``app.add_js_file(None, body=...)`` twice when the
   builder already exists (once as ``None``, once as ``""``): sphinx-togglebutton and
   sphinx-thebe then declare their ``const`` twice and the browser reports a SyntaxError on
   every page. We drop the duplicates before the page is written (tests/test_site.py checks
   that the console stays clean).
"""

from __future__ import annotations

import os
from typing import Any

INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def _dedupe_scripts(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    seen: set = set()
    unique = []
    for js in context.get("script_files", []):
        attributes = getattr(js, "attributes", {})
        key = (getattr(js, "filename", js) or "", tuple(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def setup(app: Any) -> dict:
    if os.environ.get("MPLBACKEND", INLINE_BACKEND) != INLINE_BACKEND:
        del os.environ["MPLBACKEND"]  # ipykernel then selects the inline backend
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
