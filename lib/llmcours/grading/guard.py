"""The test cells of a lab run by the grader: hidden tests judged outside the kernel, a guard.

``GuardedExecute`` replaces nbgrader's ``Execute`` in the autograde step (see
:mod:`llmcours.grading.autograde`). For a test cell whose hidden region is a judgement
(:mod:`llmcours.grading.judge`), it runs only the visible part in the student's kernel, then
the judgement in this process: each call goes to the kernel as data
(:mod:`llmcours.grading.executor`), the references and comparisons stay here, and a failed
judgement appends an error output (nbgrader scores the cell 0); a fraction returned by the
judgement becomes nbgrader's partial credit, computed here. The cell's visible and hidden
sources come from the lab's solution notebook (``judgements_file``, written by the grader),
never from the submission. Nothing the kernel does can change a judged score: it can only lie
about the student's own outputs, which are type-checked and size-capped on arrival.

Test cells still written the old way (hidden asserts run in the kernel) keep working, with
the weaknesses of the previous design; they are converted lab by lab.

Before every graded code cell, :data:`GUARD` runs in the kernel (silently, outside the
notebook) as a second line: it looks for kernel-level tampering and reports it as flags for
the instructor; no judged score depends on it. It looks for

- IPython AST transformers, input transformers, event callbacks, display and exception hooks,
  shell methods, trace and profile functions defined by the student's code;
- builtins a hidden test calls (``int``, ``float``, ``type``, ``isinstance``...) redefined in
  the notebook's namespace (removed), or replaced in the builtins module (put back where the
  original is known); the guard itself reaches the real builtins from a literal, so redefining
  ``exec``, ``repr`` or ``get_ipython`` does not blind it;
- classes or functions of the notebook that define comparison methods (``__eq__`` always
  true makes ``x == expected`` pass whatever the test expects): reported;
- functions or methods of ``torch``, ``numpy``, ``math``, ``transformers``, ``llmcours`` (and
  the standard modules the guard relies on) replaced by the student's code, and methods of
  library objects of the student's namespace replaced on the instance (``tokenizer.encode =
  ...``).

"Defined by the student" means: Python code whose file is not under the environment, Python's
own library or the ``llmcours`` folder, i.e. a cell. Library code (matplotlib's inline
backend, tqdm...) is never flagged. The report becomes the ``flags`` column of the CSV.

After each test cell, outputs that nbgrader would read as partial credit (``execute_result``,
``display_data``) become plain text (partial credit comes from a judgement only), the cell's
metadata keeps only its ``nbgrader`` part (a planted ``partial_credit`` or anything else is
dropped), and every output is cut to ``MAX_OUTPUT`` characters. If the kernel dies
(``os._exit``, a crash), the remaining cells are marked as not run, and the tests that already
passed keep their points.
"""

from __future__ import annotations

import ast
import asyncio
import json
import sys
import uuid
from pathlib import Path
from typing import Any

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Bool, Unicode

from llmcours.grading.judge import MAX_REPLY, Calls, Rejected, judge, load

__all__ = ["GUARD", "GuardedExecute", "MAX_OUTPUT", "SHADOWED"]

MAX_OUTPUT = 100_000  # characters of one output kept in the graded notebook
WATCHED = ("torch", "numpy", "math", "transformers", "llmcours", "json", "os", "posixpath",
           "builtins", "operator", "functools", "IPython", "ipykernel")
# Builtins a hidden test may call on a student's value (see GUARD).
SHADOWED = ("int", "float", "str", "bool", "list", "tuple", "dict", "set", "type", "isinstance",
            "issubclass", "len", "abs", "round", "sum", "min", "max", "all", "any", "sorted",
            "range", "zip", "repr", "exec", "eval", "compile", "getattr", "hasattr",
            "__import__")
# Methods that decide a comparison: a notebook defining one may be faking `==` (see GUARD).
RIGGED = {"__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__bool__", "__abs__"}
# The public executor (llmcours/grading/executor.py) in the kernel, loaded from its file once:
# not through llmcours.grading, whose __init__ imports nbgrader.
EXECUTOR = (
    "(__import__('sys').modules.get('_llmcours_executor') or (lambda u: (lambda s: (lambda m: ("
    "s.loader.exec_module(m), __import__('sys').modules.setdefault('_llmcours_executor', m))[1])"
    "(u.module_from_spec(s)))(u.spec_from_file_location('_llmcours_executor', "
    "u.find_spec('llmcours').submodule_search_locations[0] + '/grading/executor.py')))"
    "(__import__('importlib.util', fromlist=['spec_from_file_location'])))")
# The real builtins, reached from a literal through attribute lookups only: no name that the
# student's namespace could redefine (``exec``, ``repr``, ``get_ipython``, ``__builtins__``).
REAL_BUILTINS = ("[c for c in ().__class__.__base__.__subclasses__() if c.__module__ == 'codecs'"
                 " and c.__name__ == 'IncrementalEncoder'][0].__init__.__globals__['__builtins__']")

GUARD = r'''
def _llmcours_guard(trusted, watched, real, shadowed, rigged):
    import sys as _sys
    from types import FunctionType as _FunctionType

    from IPython.core.interactiveshell import InteractiveShell as _Shell
    ip = _Shell._instance  # not get_ipython(): a student may redefine that name
    found, seen = [], {}

    def foreign(obj):
        obj = getattr(obj, "__func__", obj)
        obj = getattr(obj, "func", obj)  # functools.partial
        if type(obj) is not _FunctionType:  # C and Cython functions: not from a cell
            return False
        code = obj.__code__
        name = code.co_filename
        if name == "<string>":  # exec'd code: dataclasses, namedtuple... or a student's exec
            return getattr(obj, "__module__", None) in ("__main__", None)
        if name not in seen:
            seen[name] = not name.startswith(trusted) and not name.startswith("<frozen ")
        return seen[name]

    def restore(module, modname, name):
        """Put back a replaced module attribute from a fresh copy of the module, for C
        modules and llmcours (re-running another library's module is not safe)."""
        import importlib.util as _util
        try:
            spec = _util.find_spec(modname)
            origin = str(getattr(spec, "origin", "") or "")
            if origin not in ("built-in",) and not origin.endswith(".so") \
                    and modname.split(".")[0] != "llmcours":
                return ""
            fresh = _util.module_from_spec(spec)
            spec.loader.exec_module(fresh)
            if foreign(getattr(fresh, name, None)) or not hasattr(fresh, name):
                return ""
            setattr(module, name, getattr(fresh, name))
            return " (rétabli)"
        except Exception:
            return ""

    def label(obj):
        return getattr(obj, "__qualname__", type(obj).__name__)

    if ip.ast_transformers:
        found.append("ast_transformers: " + ", ".join(label(t) for t in ip.ast_transformers))
        ip.ast_transformers[:] = []
    manager = ip.input_transformer_manager
    for attr in ("cleanup_transforms", "line_transforms", "token_transformers"):
        kept = [t for t in getattr(manager, attr, []) if not foreign(t)]
        if len(kept) != len(getattr(manager, attr, [])):
            found.append("input_transformer_manager." + attr)
            setattr(manager, attr, kept)
    posts = list(getattr(ip, "input_transformers_post", []))
    if posts:
        found.append("input_transformers_post")
        ip.input_transformers_post[:] = []
    for event, callbacks in ip.events.callbacks.items():
        for callback in list(callbacks):
            if foreign(callback):
                found.append("events." + event + ": " + label(callback))
                callbacks.remove(callback)
    for name in ("displayhook", "excepthook"):
        hook = getattr(_sys, name)
        if foreign(hook) or any(foreign(v) for v in vars(type(hook)).values()):
            found.append("sys." + name)
            setattr(_sys, name, getattr(_sys, "__" + name + "__"))
    for name in ("gettrace", "getprofile"):
        if getattr(_sys, name)() is not None and foreign(getattr(_sys, name)()):
            found.append("sys." + name[3:])
            getattr(_sys, "set" + name[3:])(None)
    for obj, where in ((ip, "shell"), (ip.displayhook, "shell.displayhook"),
                       (ip.display_pub, "shell.display_pub"), (ip.kernel, "kernel")):
        for name, value in list(vars(obj).items()):
            if callable(value) and foreign(value):
                found.append(where + "." + name)
                try:
                    delattr(obj, name)
                except AttributeError:
                    pass
        for klass in type(obj).__mro__:
            found += [where + " (classe " + klass.__name__ + ")." + name
                      for name, value in vars(klass).items() if foreign(value)]
    for modname, module in list(_sys.modules.items()):
        if module is None or modname.split(".")[0] not in watched:
            continue
        try:
            items = list(vars(module).items())
        except TypeError:
            continue
        for name, value in items:
            try:
                if foreign(value):
                    found.append(modname + "." + name + restore(module, modname, name))
                elif isinstance(value, type) and value.__module__ == modname:
                    found += [modname + "." + name + "." + k
                              for k, v in list(vars(value).items()) if foreign(v)]
            except Exception:
                continue
    for key, value in list(ip.user_ns.items()):
        try:
            if key.startswith("_") or isinstance(value, type) or \
                    type(value).__module__.split(".")[0] not in watched:
                continue
            # dunder attributes (``__wrapped__`` of a decorated function...) are not patches
            found += [key + "." + name for name, attr in list(vars(value).items())
                      if not name.startswith("__") and callable(attr) and foreign(attr)]
        except Exception:
            continue
    # Names a hidden test relies on (int, float, type, isinstance...): a student function or
    # class under that name in the notebook's namespace, a replaced __builtins__, or a builtin
    # replaced in the builtins module itself would turn `type(x) is int and int(x) == 49` into
    # a rigged comparison. Shadows are removed; replaced builtins are put back when the real
    # one is known from a literal (the types), and reported in any case.
    module = real["exec"].__self__
    ns = ip.user_ns
    if ns.get("__builtins__") is not module and ns.get("__builtins__") is not real:
        found.append("__builtins__ remplacé")
        ns["__builtins__"] = module
    literal_types = {"int": (0).__class__, "float": (0.0).__class__, "str": "".__class__,
                     "bool": True.__class__, "list": [].__class__, "tuple": ().__class__,
                     "dict": {}.__class__, "set": {0}.__class__, "type": ().__class__.__class__}
    builtin_function = [].append.__class__
    for name in shadowed:
        value = ns.get(name, real.get(name))
        if name in ns and value is not real.get(name) and callable(value):
            found.append("nom prédéfini redéfini : " + name)
            del ns[name]
        original = real.get(name)
        if name in literal_types:
            if original is not literal_types[name]:
                found.append("builtins." + name + " (rétabli)")
                real[name] = literal_types[name]
        elif original is not None and not (
                original.__class__ is builtin_function and original.__self__ is module
                and original.__name__ == name
                # a type written in C (range, zip): never a heap type, unlike a class of a cell
                or isinstance(original, ().__class__.__class__) and not original.__flags__ & 512
                and original.__name__ == name):
            found.append("builtins." + name)
    # A value whose comparisons are rigged (`__eq__` always true...) passes `x == expected`
    # whatever the hidden test expects. Functions and classes of the notebook that define or
    # name such a method anywhere in their code are reported.
    def rigs(code, depth=0):
        names = set(code.co_names) | {c for c in code.co_consts if isinstance(c, str)}
        if code.co_name in rigged or names & rigged:
            return True
        return depth < 20 and any(rigs(c, depth + 1) for c in code.co_consts
                                  if isinstance(c, code.__class__))
    for key, value in list(ns.items()):
        try:
            if isinstance(value, type) and value.__module__ == "__main__":
                generated = "__dataclass_fields__" in vars(value)  # value equality: honest

                def made_by_dataclass(v):
                    code = getattr(getattr(v, "__func__", v), "__code__", None)
                    return generated and code is not None and code.co_filename == "<string>"
                methods = {k: v for k, v in vars(value).items() if not made_by_dataclass(v)}
                codes = [getattr(v, "__func__", v).__code__ for v in methods.values()
                         if foreign(v)]
                if set(methods) & rigged or any(rigs(c) for c in codes):
                    found.append("comparaison redéfinie : " + key)
            elif foreign(value) and rigs(getattr(value, "__func__", value).__code__):
                found.append("comparaison redéfinie : " + key)
        except Exception:
            continue
    return sorted(set(found))


result = _llmcours_guard(%r, %r, __builtins__, %r, %r)
'''


def _trusted_prefixes() -> tuple[str, ...]:
    import llmcours

    paths = {sys.prefix, sys.base_prefix, str(Path(llmcours.__file__).resolve().parent)}
    resolved = {str(Path(p).resolve()) for p in paths}
    return tuple(sorted(p.rstrip("/") + "/" for p in paths | resolved))


def _is_test(cell: Any) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _plain(output: Any) -> Any:
    """A display or result output as a plain ``stream`` output (no partial credit from it)."""
    data = output.get("data", {})
    return new_output("stream", name="stdout", text=str(data.get("text/plain", "")) + "\n")


def _capped(output: Any) -> Any:
    if output.get("output_type") == "stream" and len(output.get("text", "")) > MAX_OUTPUT:
        output["text"] = output["text"][:MAX_OUTPUT] + "\n… [sortie tronquée]\n"
    for key, value in list(output.get("data", {}).items()):
        if isinstance(value, str) and len(value) > MAX_OUTPUT:
            output["data"][key] = value[:MAX_OUTPUT] if key == "text/plain" else ""
    if output.get("output_type") == "error":
        output["evalue"] = str(output.get("evalue", ""))[:2000]
        output["traceback"] = [line[:2000] for line in output.get("traceback", [])[:100]]
    return output


def _error(ename: str, evalue: str) -> Any:
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def judgements_of(nb: Any) -> dict[str, dict[str, str]]:
    """``{grade id: {"visible", "hidden"}}`` of the test cells of a solution notebook ``nb``
    written as a judgement (:func:`llmcours.grading.judge.split`)."""
    from llmcours.grading.judge import split

    found = {}
    for cell in nb.cells:
        parts = split(cell.get("source", "")) if _is_test(cell) else None
        if parts:
            found[cell.metadata["nbgrader"]["grade_id"]] = {"visible": parts[0], "hidden": parts[1]}
    return found


class GuardedExecute(Execute):
    """nbgrader's ``Execute`` with the judgements and checks of the module docstring."""

    flags_file = Unicode("", help="JSON file where the flags are written").tag(config=True)
    judgements_file = Unicode("", help="JSON file {grade id: {visible, hidden}} of the test "
                                       "cells judged outside the kernel").tag(config=True)
    ipc = Bool(False, help="talk to the kernel over Unix sockets in the runtime folder (a "
                           "kernel without network)").tag(config=True)

    def create_kernel_manager(self) -> Any:
        km = super().create_kernel_manager()
        if self.ipc:
            from jupyter_core.paths import jupyter_runtime_dir

            name = Path(jupyter_runtime_dir()) / f"k{uuid.uuid4().hex[:8]}"
            km.transport = "ipc"
            km.ip = str(name)
            km.connection_file = f"{name}.json"
        return km

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.flags: list[str] = []
        self.dead = ""
        self.judged: dict[str, dict[str, str]] = json.loads(
            Path(self.judgements_file).read_text(encoding="utf-8")) if self.judgements_file else {}
        self.judge_namespace: dict[str, Any] = {"__name__": "llmcours_jugement"}

    async def async_execute_cell(self, cell: Any, cell_index: int, execution_count: Any = None,
                                 store_history: bool = True) -> Any:
        if self.dead:
            if cell.get("cell_type") == "code":
                cell.outputs = [_error("KernelDied", self.dead)]
            return cell
        test = _is_test(cell)
        spec = self.judged.get(cell.metadata["nbgrader"]["grade_id"]) if test else None
        if test:  # only nbgrader's metadata (restored from the gradebook) counts
            cell.metadata = {"nbgrader": cell.metadata["nbgrader"]}
        source = cell.source
        try:
            if test:
                await self._guard(cell_index)
            if spec is not None:  # the kernel sees the visible part only
                cell.source = spec["visible"]
            cell = await super().async_execute_cell(cell, cell_index, execution_count,
                                                    store_history)
        except DeadKernelError:
            self.dead = "le noyau s'est arrêté pendant cette cellule ou avant"
            self.flags.append(f"noyau arrêté à la cellule {cell_index}")
            cell.outputs = [_error("KernelDied", self.dead)]
            return cell
        except CellTimeoutError:  # the kernel did not come back after the interrupt
            self.dead = "le noyau ne répondait plus après un dépassement de délai"
            cell.outputs = [_error("CellTimeoutError", self.dead)]
            return cell
        finally:
            cell.source = source
        if cell.get("cell_type") == "code":
            if test:
                cell.outputs = [_plain(o) if o.get("output_type") in
                                ("execute_result", "display_data") else o for o in cell.outputs]
            cell.outputs = [_capped(o) for o in cell.outputs]
            failed = any(o.get("output_type") == "error" or o.get("name") == "stderr"
                         for o in cell.outputs)
            if spec is not None:
                await self._judge(cell, spec, failed)
        return cell

    # nbclient binds its sync wrapper to its own coroutine: rebind it to ours
    execute_cell = run_sync(async_execute_cell)

    async def _judge(self, cell: Any, spec: dict[str, str], failed: bool) -> None:
        """Run the cell's hidden region here (its definitions serve the next cells too) and,
        unless the visible part ``failed``, its judgement, whose calls run in the kernel;
        append the verdict to the cell."""
        name = cell.metadata["nbgrader"]["grade_id"]
        loop = asyncio.get_running_loop()

        def send(request: str) -> str:
            return asyncio.run_coroutine_threadsafe(self._call(request), loop).result()

        try:
            judgements = load(spec["hidden"], self.judge_namespace, name)
            if failed:
                return
            fraction = await loop.run_in_executor(None, judge, judgements, Calls(send))
        except AssertionError as err:
            cell.outputs.append(_error("AssertionError", str(err)[:2000] or "test caché échoué"))
            return
        except Exception as err:  # the grader's own failure: 0, said plainly, never a crash
            self.log.exception("judgement of %s", name)
            cell.outputs.append(_error("ErreurDeJugement", f"{type(err).__name__}: {err}"[:2000]))
            return
        if fraction < 1:
            points = float(cell.metadata["nbgrader"]["points"]) * fraction
            cell.outputs.append(new_output("execute_result", data={"text/plain": f"{points:g}"},
                                           execution_count=None))

    async def _call(self, request: str) -> str:
        """One call of a judgement, run in the kernel by the public executor; its answer as
        text (JSON). The kernel receives the request only: no test source, no expected value."""
        if self.dead:
            raise Rejected(f"appel impossible : {self.dead}")
        expression = f"{EXECUTOR}.call({request!r}, globals())"
        msg_id = self.kc.execute("", silent=True, store_history=False,
                                 user_expressions={"r": expression})
        try:
            reply = await self.async_wait_for_reply(msg_id)
        except DeadKernelError:
            self.dead = "le noyau s'est arrêté pendant un test caché"
            raise Rejected(self.dead) from None
        except Exception:  # nbclient's timeout handling: interrupt the student's code
            try:
                await ensure_async(self.km.interrupt_kernel())
            except Exception:
                pass
            raise Rejected(f"délai dépassé ({self.timeout} s) pendant un test caché") from None
        try:
            text = reply["content"]["user_expressions"]["r"]["data"]["text/plain"]
        except Exception:  # no answer: the student's code broke or replaced user_expressions
            raise Rejected("réponse du noyau absente ou mal formée") from None
        if not isinstance(text, str) or len(text) > 2 * MAX_REPLY:
            raise Rejected("réponse du noyau mal formée ou trop grosse")
        try:
            value = ast.literal_eval(text)
        except Exception:
            raise Rejected("réponse du noyau illisible") from None
        if not isinstance(value, str):
            raise Rejected("réponse du noyau mal formée")
        return value

    async def _guard(self, cell_index: int) -> None:
        """Run :data:`GUARD` as a user expression: evaluated by the shell as it is, without the
        input transformers or the cell hooks a student may have installed."""
        source = GUARD % (_trusted_prefixes(), WATCHED, SHADOWED, RIGGED)
        expression = ("(lambda b, ns: (b['exec'](ns['source'], ns), b['repr'](ns['result']))[1])"
                      f"({REAL_BUILTINS}, {{'source': {source!r}, '__builtins__': {REAL_BUILTINS}}})")
        msg_id = self.kc.execute("", silent=True, store_history=False,
                                 user_expressions={"guard": expression})
        reply = await self.async_wait_for_reply(msg_id)
        answer = ((reply or {}).get("content", {}).get("user_expressions", {}) or {}).get("guard")
        try:
            text = answer["data"]["text/plain"]
            found = [str(f) for f in ast.literal_eval(ast.literal_eval(text))]
        except (KeyError, TypeError, ValueError, SyntaxError, AttributeError, MemoryError,
                RecursionError):
            why = (answer or {}).get("ename", "pas de réponse") if isinstance(answer, dict) else \
                "pas de réponse"
            found = [f"contrôle anti-fraude sans réponse ({why} ; noyau modifié ?)"]
        self.flags += [f for f in found if f not in self.flags]

    def preprocess(self, nb: Any, resources: Any = None, km: Any = None) -> Any:
        try:
            return super().preprocess(nb, resources, km)
        finally:
            if self.flags_file:
                Path(self.flags_file).write_text(json.dumps(self.flags), encoding="utf-8")
