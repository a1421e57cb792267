"""Helpers for the course notebooks: the library's own source, progress bars, French numbers.

The book never pastes library code into a chapter: it calls :func:`show_source` on the
function or class it teaches, so the reader sees exactly the code the tests check.
:func:`progress` is the one progress bar of the course (``fit`` and the chapters' loops use it);
:func:`fr` formats a number the French way for printed outputs meant for reading;
:func:`select_config` picks a chapter's ``CONFIG`` (CPU or CUDA sizes, see ``CONFIG_ENV``).
"""

from __future__ import annotations

import inspect
import io
import os
import sys
import textwrap
from typing import Any

from tqdm.std import tqdm as _std_tqdm

from ._checks import check_int, check_number

__all__ = ["CONFIG_ENV", "PROGRESS_ENV", "fr", "progress", "select_config", "show_source"]


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


#: Environment variable that chooses how :func:`progress` draws: ``text`` for the static site.
PROGRESS_ENV = "LLMCOURS_PROGRESS"


def progress(iterable: Any = None, **kwargs: Any) -> Any:
    """A progress bar (``tqdm``) over ``iterable``; keyword arguments go to ``tqdm``.

    Every long loop of the course goes through this one function, so that how the bar is drawn
    is decided in a single place: a widget in Jupyter (``tqdm.auto``), unless the environment
    variable ``LLMCOURS_PROGRESS=text`` (set by ``make site``) asks for a plain text bar on
    standard output that prints one line, its final state, when it closes. A widget is saved
    in the executed notebook as a JavaScript view that the static site cannot draw; that line
    is ordinary output, so the book shows how long the loop took.
    """
    if os.environ.get(PROGRESS_ENV, "").strip().lower() == "text":
        return _FinalLineBar(iterable, **kwargs)
    from tqdm.auto import tqdm

    return tqdm(iterable, **kwargs)


class _FinalLineBar(_std_tqdm):
    """A text ``tqdm`` on stdout that prints nothing while it runs and its final line on close.

    No carriage return ever reaches the output (each refresh of a text bar starts with ``\r``):
    the notebook stores exactly ``100%|██████████| 50/50 [00:03<00:00, 15.2it/s, perte=…]``.
    """

    def __init__(self, iterable: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("file", sys.stdout)
        kwargs.setdefault("mininterval", float("inf"))  # no intermediate refresh
        self._closing = False
        super().__init__(iterable, **kwargs)

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        if self._closing:  # tqdm.close() displays the final state, then writes "\n"
            self.fp.write(self.__str__() if msg is None else msg)
        return True

    def close(self) -> None:
        self._closing = True
        leave = abs(getattr(self, "pos", 0)) == 0 if self.leave is None else self.leave
        if not leave and not getattr(self, "disable", True):
            self.fp = io.StringIO()  # a bar that does not stay: not even tqdm's "\r"
        super().close()


def fr(x: float, decimals: int = 0, unit: str = "") -> str:
    """``x`` written the French way: narrow no-break spaces between thousands, a decimal comma.

    ``fr(28311552)`` → ``'28 311 552'``; ``fr(13.456, 1, "%")`` → ``'13,5 %'`` (the unit is
    separated by a no-break space).
    """
    decimals = check_int(decimals, "decimals", minimum=0)
    text = f"{check_number(x, 'x'):,.{decimals}f}".replace(",", "\u202f").replace(".", ",")
    return f"{text}\u00a0{unit}" if unit else text


CONFIG_ENV = "LLMCOURS_CONFIG"
# Under LLMCOURS_CONFIG=cuda on a CPU, the CUDA sizes run with these caps, so that every shape,
# key and dtype path of the GPU configuration is exercised without hours of training.
# The first suffix that matches wins: chapter 10's full fine-tuning of SmolLM2 (ft_epochs) gets
# one epoch, chapter 1's small MLP ten (it prints the epochs 1, 5, 10 and the last).
DRY_RUN_CAPS = {"steps": 3, "ft_epochs": 1, "epochs": 10, "iterations": 3, "max_new_tokens": 4,
                "n_evals": 2, "n_answers": 2, "n_shown": 2}
# Lists of lengths timed one after the other (chapter 8 generates up to 1 024 tokens without a
# cache, O(T²): over 30 min on a CPU): the dry run keeps their first values only.
DRY_RUN_LIST_CAPS = {"lengths": 2}


def select_config(configs: dict[str, dict[str, Any]], device: Any) -> dict[str, Any]:
    """Return ``configs["cuda"]`` on a GPU, else ``configs["cpu"]``.

    ``LLMCOURS_CONFIG=cuda`` (or ``cpu``) forces a configuration. The CUDA one forced on a
    machine without a GPU is a *dry run*: every integer whose key ends with one of
    ``DRY_RUN_CAPS`` (``steps``, ``rm_steps``, ``max_new_tokens``…) is capped to its small value,
    and a list whose key ends with one of ``DRY_RUN_LIST_CAPS`` (``kv_lengths``) keeps its first
    values.
    """
    if set(configs) != {"cpu", "cuda"}:
        raise ValueError(f"configs must have the keys 'cpu' and 'cuda', not {sorted(configs)}")
    on_gpu = getattr(device, "type", str(device)) == "cuda"
    name = os.environ.get(CONFIG_ENV, "").strip().lower() or ("cuda" if on_gpu else "cpu")
    if name not in configs:
        raise ValueError(f"{CONFIG_ENV} ({name!r}) must be 'cpu' or 'cuda'")
    config = dict(configs[name])
    if name == "cuda" and not on_gpu:
        for key, value in config.items():
            cap = next((c for suffix, c in DRY_RUN_CAPS.items() if key.endswith(suffix)), None)
            if cap is not None and isinstance(value, int) and not isinstance(value, bool):
                config[key] = min(value, cap)
            keep = next((c for suffix, c in DRY_RUN_LIST_CAPS.items() if key.endswith(suffix)),
                        None)
            if keep is not None and isinstance(value, list | tuple):
                config[key] = value[:keep]
    return config
