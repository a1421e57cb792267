"""Small argument checks shared by the library's modules (private).

They keep the argument checking out of the functions the book shows with ``show_source``,
so that what the reader sees is the algorithm. Each raises a ``ValueError`` that names the
argument, its value and what was expected.
"""

from __future__ import annotations

import operator
from typing import Any


def check_int(value: Any, name: str, minimum: int | None = None) -> int:
    """``value`` as a Python ``int`` (numpy and 0-d torch integers accepted, bools and floats not).

    ``operator.index`` is the protocol of "an integer": ``int``, ``numpy.int64``, a 0-d integer
    tensor pass; ``2.0`` and ``"2"`` do not. ``True`` is an ``int`` to Python but never a size.
    """
    if isinstance(value, bool):
        raise ValueError(f"{name} ({value!r}) must be an integer, not a bool")
    try:
        value = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} ({value!r}) must be an integer") from None
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} ({value}) must be an integer >= {minimum}")
    return value


def check_ids(ids: Any, name: str = "ids") -> list[int]:
    """``ids`` (a list of ints, a 1-D integer tensor or numpy array) as a list of Python ints.

    The natural ``tok.decode(model_output[0])`` passes a tensor row: accept it. A 2-D batch, a
    string or float ids are refused with a message that says what to pass instead.
    """
    if isinstance(ids, str | bytes):
        raise ValueError(f"{name} must be a sequence of token ids (ints), got the string {ids!r}")
    if hasattr(ids, "ndim") and hasattr(ids, "tolist"):  # a torch tensor or a numpy array
        if ids.ndim != 1:
            raise ValueError(
                f"{name} must be 1-D (one sequence of ids), got shape {tuple(ids.shape)}: "
                f"decode one row at a time, e.g. decode({name}[0])"
            )
        ids = ids.tolist()
    try:
        items = list(ids)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of token ids (ints), got {ids!r}") from None
    return [check_int(i, f"{name}[{t}]") for t, i in enumerate(items)]
