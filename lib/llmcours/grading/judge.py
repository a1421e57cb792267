"""Hidden tests as calls + judgement: the kernel computes, the grader judges.

The form, written by the instructor in the hidden region of a test cell of the solution
notebook (see solutions/README.md)::

    assert compter_tokens("") == 0          # visible part: runs in the student's kernel
    ### BEGIN HIDDEN TESTS
    from llmcours.grading.judge import judgement

    @judgement
    def juger(appels):
        from transformers import AutoTokenizer
        ...
        n = appels.fn("compter_tokens", "Le chat dort.", returns=int)
        assert n == reference, "compter_tokens ne compte pas les jetons du tokenizer"
    ### END HIDDEN TESTS

With ``llmcours grade autograde``, :class:`llmcours.grading.guard.GuardedExecute` runs the
visible part in the student's sandboxed kernel, then the judgement in its own (trusted)
process: each ``appels.fn(name, *args, returns=type, **kwargs)`` or ``appels.value(name,
returns=type)`` goes to the kernel as data (:mod:`llmcours.grading.executor`) and comes back as
a plain value, size-capped, decoded and type-checked here. References are computed here, never
in the kernel; the hidden region never reaches it. The judgement passes (all the points), fails
(``AssertionError``, :class:`Rejected`: 0 with its French message) or returns a fraction in
[0, 1] (partial credit, computed here). A value of the wrong type, too big, malformed, or an
exception of the student's function scores 0 with a French message; the grader never raises.

Run anywhere else (plain ``nbgrader autograde``, a notebook), ``@judgement`` raises one French
line that names ``llmcours grade``: plain nbgrader gives 0 to the hidden part and says why.
With ``LLMCOURS_JUDGE=local`` in the kernel's environment (the instructor's own checks, e.g.
tests/test_grading_cases.py), the judgement runs at once in the kernel with :class:`LocalCalls`:
same encoding, same checks, no isolation.
"""

from __future__ import annotations

import ast
import json
import os
import re
from collections.abc import Callable
from typing import Any

from llmcours.grading.executor import Refused, decode, encode

__all__ = ["MAX_REPLY", "NOT_HERE", "Calls", "LocalCalls", "Rejected", "judge", "judgement",
           "load", "split"]

MAX_REPLY = 16 * 2**20  # characters of one answer of the kernel
NOT_HERE = ("test caché jugé hors du noyau : seule la commande `llmcours grade autograde` le "
            "corrige (nbgrader seul lui donne 0)")
HIDDEN = re.compile(r"^[ \t]*#+[ \t]*BEGIN HIDDEN TESTS[^\n]*\n(.*?)^[ \t]*#+[ \t]*END HIDDEN "
                    r"TESTS[^\n]*\n?", re.MULTILINE | re.DOTALL)
_collected: list[Callable[..., Any]] | None = None  # set by load() in the grader's process


class Rejected(AssertionError):
    """A hidden test lost because of what the kernel sent back (or did not)."""


def judgement(function: Callable[..., Any]) -> Callable[..., Any]:
    """Mark ``function(appels)`` as the judgement of its test cell (see the module docstring)."""
    if _collected is not None:
        _collected.append(function)
        return function
    if os.environ.get("LLMCOURS_JUDGE") != "local":
        raise RuntimeError(NOT_HERE)
    from IPython import get_ipython

    import __main__

    shell = get_ipython()
    fraction = judge([function], LocalCalls(shell.user_ns if shell else vars(__main__)))
    if fraction == 0:
        raise AssertionError("crédit partiel nul")
    if fraction < 1:
        print(f"crédit partiel : {fraction:.2f}")
    return function


def split(source: str) -> tuple[str, str] | None:
    """``(visible part, hidden region)`` of a test cell written as a judgement (its hidden
    region defines a function decorated with ``@judgement``), ``None`` otherwise."""
    found = HIDDEN.search(source)
    if not found:
        return None
    try:
        tree = ast.parse(found.group(1))
    except SyntaxError:
        return None
    names = {getattr(d, "id", getattr(d, "attr", None)) for node in ast.walk(tree)
             if isinstance(node, ast.FunctionDef) for d in node.decorator_list}
    if "judgement" not in names:
        return None
    visible = (source[:found.start()] + source[found.end():]).rstrip("\n")
    return visible, found.group(1)


def load(hidden: str, namespace: dict[str, Any], name: str) -> list[Callable[..., Any]]:
    """Run a hidden region in ``namespace`` (the grader's, shared by one notebook's test
    cells); the judgements it defines."""
    global _collected
    _collected = []
    try:
        exec(compile(hidden, f"<jugement {name}>", "exec"), namespace)  # noqa: S102 - trusted
        return _collected
    finally:
        _collected = None


def _checked(value: Any, returns: Any, what: str) -> Any:
    if returns is None:
        return value
    kinds = returns if isinstance(returns, tuple) else (returns,)
    # bool is an int in Python, but `True` is not a count
    ok = any(type(value) is kind if kind in (int, bool, float, str) else isinstance(value, kind)
             for kind in kinds)
    if not ok:
        names = " ou ".join(getattr(k, "__name__", str(k)) for k in kinds)
        raise Rejected(f"{what} a renvoyé un {type(value).__name__}, un {names} était attendu")
    return value


class Calls:
    """What a judgement receives: ``fn`` and ``value`` run in the student's kernel through
    ``send`` (a request as JSON text → the kernel's answer as JSON text)."""

    def __init__(self, send: Callable[[str], str]) -> None:
        self._send = send

    def _ask(self, request: dict[str, Any], what: str) -> Any:
        answer = self._send(json.dumps(request))
        if not isinstance(answer, str) or len(answer) > MAX_REPLY:
            raise Rejected(f"{what} : réponse du noyau absente ou trop grosse")
        try:
            data = json.loads(answer)
        except (ValueError, RecursionError):
            raise Rejected(f"{what} : réponse du noyau illisible") from None
        if not isinstance(data, dict) or len(data) != 1:
            raise Rejected(f"{what} : réponse du noyau mal formée")
        if "error" in data:
            raise Rejected(f"{what} a levé {str(data['error'])[:500]}")
        try:
            return decode(data.get("ok", {"?": 0}))
        except (Refused, ValueError, TypeError, RecursionError) as err:
            raise Rejected(f"{what} : valeur refusée ({str(err)[:200]})") from None

    def fn(self, name: str, *args: Any, returns: Any = None, **kwargs: Any) -> Any:
        """``name(*args, **kwargs)`` called in the student's kernel; its result, of type
        ``returns`` (a type or a tuple of types; ``None``: any transmissible value)."""
        what = f"{name}(…)"  # the hidden test's arguments are not shown to the student
        request = {"fn": name, "args": encode(list(args)), "kwargs": encode(kwargs)}
        return _checked(self._ask(request, what), returns, what)

    def value(self, name: str, returns: Any = None) -> Any:
        """The value named ``name`` in the student's notebook, of type ``returns``."""
        return _checked(self._ask({"value": name}, name), returns, name)


class LocalCalls(Calls):
    """:class:`Calls` that run in this very process, in ``namespace`` (no isolation)."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        from llmcours.grading.executor import call

        super().__init__(lambda request: call(request, namespace))


def judge(judgements: list[Callable[..., Any]], calls: Calls) -> float:
    """Run ``judgements`` with ``calls``; the fraction of the points won (1.0 when they all
    return ``None``). An ``AssertionError`` (a failed check) propagates, with its message;
    any other exception of a judgement becomes a :class:`Rejected` (0 points)."""
    fraction = 1.0
    for function in judgements:
        try:
            result = function(calls)
        except AssertionError:
            raise
        except Exception as err:  # a student's value the judgement could not use
            raise Rejected(f"{type(err).__name__}: {str(err)[:500]}") from None
        if result is not None:
            if type(result) not in (int, float) or not 0 <= result <= 1:
                raise Rejected(f"un jugement doit renvoyer None ou une fraction dans [0, 1], "
                               f"pas {result!r}")
            fraction = min(fraction, float(result))
    return fraction
