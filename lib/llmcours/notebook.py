"""Helpers for the course notebooks: show the library's own source instead of copying it.

The book never pastes library code into a chapter: it calls :func:`show_source` on the
function or class it teaches, so the reader sees exactly the code the tests check.
"""

from __future__ import annotations

import inspect
import textwrap
from typing import Any

__all__ = ["show_source"]


def show_source(obj: Any) -> Any:
    """Display the source code of ``obj`` (function, class or module), syntax-highlighted.

    In a notebook this returns an ``IPython.display.Code`` object, rendered as highlighted
    Python; outside IPython it returns the source as a string.
    """
    try:
        source = inspect.getsource(obj)
    except (TypeError, OSError) as err:
        raise ValueError(f"obj ({obj!r}) has no Python source to show") from err
    source = textwrap.dedent(source)
    try:
        from IPython.display import Code
    except ImportError:  # pragma: no cover - IPython is a dependency
        return source
    return Code(source, language="python")
