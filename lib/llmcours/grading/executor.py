"""The calls of a hidden test, run in the student's kernel: data in, plain values out.

A hidden test written as a judgement (:mod:`llmcours.grading.judge`) never runs in the
student's kernel. The grader sends the kernel one request at a time, as data: the name of a
function of the notebook and its arguments, or the name of a value. :func:`call` decodes the
arguments (fresh objects at every call), calls the function, and returns its result encoded as
JSON. That is all the kernel ever sees of a hidden test: no expected value, no reference
function, no test source.

The encoding (:func:`encode`, :func:`decode`): ``None``, ``bool``, ``int``, ``float``, ``str``
and lists as JSON; a tuple as ``{"tuple": [...]}``; a dict with string keys as
``{"dict": {...}}``; a NumPy array or a torch tensor as ``{"array": {"kind", "dtype", "shape",
"data"}}`` (``data`` flat). Anything else is refused. The grader decodes the answer with the
same :func:`decode` in its own process, with size limits, and type-checks it there: the kernel
can only lie about the student's own outputs.

This module imports nothing but the standard library at import time (NumPy and torch only to
encode or decode an array).
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["MAX_DEPTH", "MAX_ITEMS", "Refused", "call", "decode", "encode"]

MAX_DEPTH = 20  # nesting of lists, tuples and dicts
MAX_ITEMS = 2_000_000  # numbers of an array, items of all lists and dicts, characters of all str
DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64")


class Refused(ValueError):
    """A value that the encoding does not carry (type, size, nesting), or malformed data."""


def _array_parts(value: Any) -> tuple[str, str, list[int], Any] | None:
    """(kind, dtype, shape, flat list) of a NumPy array or torch tensor, else ``None``."""
    kind = type(value).__module__.split(".")[0]
    if kind == "torch" and type(value).__name__ in ("Tensor", "Parameter"):

        tensor = value.detach().cpu()
        dtype = str(tensor.dtype).removeprefix("torch.")
        flat = (tensor.float() if dtype == "bfloat16" else tensor).reshape(-1).tolist()
        return "torch", dtype, list(tensor.shape), flat
    if kind == "numpy" and type(value).__name__ in ("ndarray",) or \
            kind == "numpy" and hasattr(value, "dtype") and hasattr(value, "shape"):
        import numpy as np

        array = np.asarray(value)
        return "numpy", str(array.dtype), list(array.shape), array.reshape(-1).tolist()
    return None


def encode(value: Any, budget: list[int] | None = None, depth: int = 0) -> Any:
    """``value`` as JSON-able data (see the module docstring); :class:`Refused` otherwise."""
    budget = [MAX_ITEMS] if budget is None else budget
    if depth > MAX_DEPTH:
        raise Refused(f"valeur imbriquée sur plus de {MAX_DEPTH} niveaux")
    kind = type(value)
    if value is None or kind in (bool, int):
        return value
    if kind is float:
        return value if math.isfinite(value) else {"float": repr(value)}
    if kind is str:
        budget[0] -= len(value)
    elif kind in (list, tuple, dict):
        budget[0] -= len(value)
    if budget[0] < 0:
        raise Refused(f"valeur trop grosse (plus de {MAX_ITEMS} éléments)")
    if kind is str:
        return value
    if kind is list:
        return [encode(v, budget, depth + 1) for v in value]
    if kind is tuple:
        return {"tuple": [encode(v, budget, depth + 1) for v in value]}
    if kind is dict:
        if not all(type(k) is str for k in value):
            raise Refused("un dict à clés non textuelles n'est pas transmis")
        return {"dict": {k: encode(v, budget, depth + 1) for k, v in value.items()}}
    parts = _array_parts(value)
    if parts is None:
        raise Refused(f"type non transmis : {kind.__module__}.{kind.__qualname__}")
    array_kind, dtype, shape, flat = parts
    if dtype not in DTYPES:
        raise Refused(f"tableau de type {dtype} non transmis")
    budget[0] -= len(flat)
    if budget[0] < 0:
        raise Refused(f"valeur trop grosse (plus de {MAX_ITEMS} éléments)")
    flat = [v if not isinstance(v, float) or math.isfinite(v) else repr(v) for v in flat]
    return {"array": {"kind": array_kind, "dtype": dtype, "shape": shape, "data": flat}}


def _array(spec: Any) -> Any:
    if not isinstance(spec, dict) or set(spec) != {"kind", "dtype", "shape", "data"}:
        raise Refused("tableau mal formé")
    kind, dtype, shape, data = spec["kind"], spec["dtype"], spec["shape"], spec["data"]
    if kind not in ("numpy", "torch") or dtype not in DTYPES or not isinstance(data, list) \
            or not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape) \
            or len(shape) > 32 or math.prod(shape) != len(data):
        raise Refused("tableau mal formé (type, forme ou nombre de valeurs)")
    if not all(type(v) in (int, float, bool) or v in ("nan", "inf", "-inf") for v in data):
        raise Refused("tableau mal formé (valeur non numérique)")
    data = [float(v) if isinstance(v, str) else v for v in data]
    import numpy as np

    if kind == "torch":
        import torch

        target = getattr(torch, dtype)
        return torch.tensor(data, dtype=torch.float32 if dtype == "bfloat16" else target) \
            .to(target).reshape(shape)
    return np.array(data, dtype=dtype).reshape(shape)


def decode(data: Any, budget: list[int] | None = None, depth: int = 0) -> Any:
    """The value that :func:`encode` encoded as ``data``; :class:`Refused` if malformed."""
    budget = [MAX_ITEMS] if budget is None else budget
    if depth > MAX_DEPTH:
        raise Refused(f"valeur imbriquée sur plus de {MAX_DEPTH} niveaux")
    kind = type(data)
    if data is None or kind in (bool, int, float):
        return data
    if kind in (str, list, dict):
        budget[0] -= len(data)
        if budget[0] < 0:
            raise Refused(f"valeur trop grosse (plus de {MAX_ITEMS} éléments)")
    if kind is str:
        return data
    if kind is list:
        return [decode(v, budget, depth + 1) for v in data]
    if kind is dict and len(data) == 1:
        (tag, inner), = data.items()
        if tag == "float" and inner in ("nan", "inf", "-inf"):
            return float(inner)
        if tag == "tuple" and type(inner) is list:
            return tuple(decode(v, budget, depth + 1) for v in inner)
        if tag == "dict" and type(inner) is dict:
            return {k: decode(v, budget, depth + 1) for k, v in inner.items()}
        if tag == "array" and type(inner) is dict and type(inner.get("data")) is list:
            budget[0] -= len(inner["data"])
            if budget[0] < 0:
                raise Refused(f"valeur trop grosse (plus de {MAX_ITEMS} éléments)")
            return _array(inner)
    raise Refused(f"donnée mal formée ({kind.__name__})")


def call(request: str, namespace: dict[str, Any]) -> str:
    """Run one request of the grader in ``namespace`` (the notebook's); the answer as JSON.

    ``request`` is ``{"fn": name, "args": [...], "kwargs": {...}}`` (call ``namespace[name]``
    on fresh decoded arguments) or ``{"value": name}`` (the value itself). The answer is
    ``{"ok": encoded result}`` or ``{"error": "<exception>: <message>"}``.
    """
    try:
        asked = json.loads(request)
        name = asked.get("fn", asked.get("value"))
        if not isinstance(name, str) or name not in namespace:
            return json.dumps({"error": f"NameError: « {name} » n'est pas défini"})
        target = namespace[name]
        if "fn" in asked:
            result = target(*decode(asked.get("args", [])),
                            **decode(asked.get("kwargs", {"dict": {}})))
        else:
            result = target
        return json.dumps({"ok": encode(result)})
    except Exception as err:  # the student's error, reported to the grader as data
        return json.dumps({"error": f"{type(err).__name__}: {str(err)[:500]}"})
