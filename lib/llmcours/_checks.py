"""Small argument checks shared by the library's modules (private).

They keep the argument checking out of the functions the book shows with ``show_source``,
so that what the reader sees is the algorithm. Each raises a one-line ``ValueError`` (a wrong
value) or ``ArgumentTypeError`` (a wrong type: both a ``TypeError`` and a ``ValueError``) that
names the argument, its value or type and what was expected.
"""

from __future__ import annotations

import operator
from typing import Any


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type: a ``TypeError`` that is also a ``ValueError``.

    The checks raised ``ValueError`` for a wrong type before; both ``except`` clauses still work.
    """


def check_int(value: Any, name: str, minimum: int | None = None) -> int:
    """``value`` as a Python ``int`` (numpy and 0-d torch integers accepted, bools and floats not).

    ``operator.index`` is the protocol of "an integer": ``int``, ``numpy.int64``, a 0-d integer
    tensor pass; ``2.0`` and ``"2"`` do not. ``True`` is an ``int`` to Python but never a size.
    """
    if isinstance(value, bool):
        raise ArgumentTypeError(f"{name} ({value!r}) must be an integer, not a bool")
    try:
        value = operator.index(value)
    except TypeError:
        raise ArgumentTypeError(f"{name} ({value!r:.60}) must be an integer") from None
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


def _type_name(value: Any) -> str:
    return type(value).__name__


def check_str(value: Any, name: str, non_empty: bool = False) -> str:
    """``value`` if it is a ``str`` (bytes, None, lists refused); ``non_empty`` refuses ``""``."""
    if not isinstance(value, str):
        raise ArgumentTypeError(f"{name} must be a str, got {_type_name(value)} {value!r:.60}")
    if non_empty and not value.strip():
        raise ValueError(f"{name} ({value!r}) must be a non-empty string")
    return value


def check_number(
    value: Any,
    name: str,
    minimum: float | None = None,
    maximum: float | None = None,
    strict: bool = False,
) -> float:
    """``value`` as a ``float`` (ints, numpy and 0-d tensors accepted; str, bool, None not).

    ``minimum``/``maximum`` bound it (``strict``: the minimum itself is refused); NaN is refused.
    """
    if isinstance(value, bool | str | bytes) or value is None:
        raise ArgumentTypeError(f"{name} must be a number, got {_type_name(value)} {value!r:.60}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ArgumentTypeError(
            f"{name} must be a number, got {_type_name(value)} {value!r:.60}"
        ) from None
    if number != number:
        raise ValueError(f"{name} must be a number, got NaN")
    if minimum is not None and (number <= minimum if strict else number < minimum):
        raise ValueError(f"{name} ({value}) must be {'>' if strict else '>='} {minimum}")
    if maximum is not None and number > maximum:
        raise ValueError(f"{name} ({value}) must be <= {maximum}")
    return number


def check_callable(value: Any, name: str) -> Any:
    """``value`` if it is callable (a function, an ``nn.Module``), else a ``TypeError``."""
    if not callable(value):
        raise ArgumentTypeError(
            f"{name} must be callable (a function or a module), "
            f"got {_type_name(value)} {value!r:.60}"
        )
    return value


def check_tensor(value: Any, name: str, floating: bool = False, min_dim: int = 0) -> Any:
    """``value`` if it is a ``torch.Tensor`` (a numpy array or a list is refused: convert it
    with ``torch.as_tensor``); ``floating`` refuses integer tensors (token ids, not vectors)."""
    import torch

    if not isinstance(value, torch.Tensor):
        raise ArgumentTypeError(
            f"{name} must be a torch.Tensor, got {_type_name(value)}: "
            "convert it with torch.as_tensor"
        )
    if floating and not value.is_floating_point():
        raise ArgumentTypeError(
            f"{name} must be a floating-point tensor, got dtype {value.dtype} "
            "(token ids? embed them first)"
        )
    if value.dim() < min_dim:
        raise ValueError(
            f"{name} must have at least {min_dim} dimensions, got shape {tuple(value.shape)}"
        )
    return value


def check_sequence(value: Any, name: str, non_empty: bool = False) -> list:
    """``value`` (a list, tuple, array...) as a list; a string, ``None`` or a scalar is refused."""
    if isinstance(value, str | bytes) or value is None or not hasattr(value, "__iter__"):
        raise ArgumentTypeError(
            f"{name} must be a sequence (a list), got {_type_name(value)} {value!r:.60}"
        )
    items = value.tolist() if hasattr(value, "tolist") else list(value)
    if non_empty and not items:
        raise ValueError(f"{name} must not be empty")
    return items


def check_strs(value: Any, name: str, non_empty: bool = False) -> list[str]:
    """``value`` as a list of ``str`` (a lone string is refused: wrap it in a list)."""
    if isinstance(value, str):
        raise ArgumentTypeError(
            f"{name} must be a list of strings, got the string {value!r:.60}: wrap it in a list"
        )
    items = check_sequence(value, name, non_empty)
    for i, item in enumerate(items):
        check_str(item, f"{name}[{i}]")
    return items


def check_module(value: Any, name: str) -> Any:
    """``value`` if it is a ``torch.nn.Module``, else a ``TypeError`` naming ``name``."""
    from torch import nn

    if not isinstance(value, nn.Module):
        raise ArgumentTypeError(
            f"{name} must be a torch.nn.Module, got {_type_name(value)} {value!r:.60}"
        )
    return value


def check_optimizer(value: Any, name: str) -> Any:
    """``value`` if it is a ``torch.optim.Optimizer``, else a ``TypeError`` naming ``name``."""
    import torch

    if not isinstance(value, torch.optim.Optimizer):
        raise ArgumentTypeError(
            f"{name} must be a torch.optim.Optimizer, got {_type_name(value)} {value!r:.60}"
        )
    return value
