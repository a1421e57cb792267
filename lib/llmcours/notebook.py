"""Helpers for the course notebooks: the library's own source, progress bars, French numbers.

The book never pastes library code into a chapter: it calls :func:`show_source` on the
function or class it teaches, so the reader sees exactly the code the tests check.
:func:`progress` is the one progress bar of the course (``fit`` and the chapters' loops use it);
:func:`fr` formats a number the French way for printed outputs meant for reading.
"""

from __future__ import annotations

import inspect
import textwrap
from typing import Any

from ._checks import check_int

__all__ = ["fr", "progress", "show_source"]


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


def progress(iterable: Any = None, **kwargs: Any) -> Any:
    """A progress bar (``tqdm``) over ``iterable``; keyword arguments go to ``tqdm``.

    Every long loop of the course goes through this one function, so that how the bar is drawn
    (a widget in Jupyter, text elsewhere) is decided in a single place.
    """
    from tqdm.auto import tqdm

    return tqdm(iterable, **kwargs)


def fr(x: float, decimals: int = 0, unit: str = "") -> str:
    """``x`` written the French way: narrow no-break spaces between thousands, a decimal comma.

    ``fr(28311552)`` → ``'28 311 552'``; ``fr(13.456, 1, "%")`` → ``'13,5 %'`` (the unit is
    separated by a no-break space).
    """
    decimals = check_int(decimals, "decimals", minimum=0)
    text = f"{float(x):,.{decimals}f}".replace(",", "\u202f").replace(".", ",")
    return f"{text}\u00a0{unit}" if unit else text
