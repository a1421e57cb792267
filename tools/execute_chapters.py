"""Execute the book's notebooks in parallel into Jupyter Book's execution cache.

``jupyter-book build`` executes outdated notebooks one after the other; on a two-core machine
that leaves a core idle for most of the build. ``make site`` runs this script first: every
chapter whose code is not in ``_build/.jupyter_cache`` yet is executed here, ``--jobs`` at a
time (the slowest first), and stored in that cache exactly as myst-nb would store it, so the
build that follows finds every notebook cached and only renders. A notebook that fails stops
the build with its traceback; its time is printed either way (each chapter must stay
≤ 120 s on CPU).

Usage: ``python tools/execute_chapters.py [--jobs 2] [--timeout 300] [paths...]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.cache.db import NbProjectRecord
from jupyter_cache.executors.utils import single_nb_execution

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "_build" / ".jupyter_cache"
DEFAULT = ("chapters/*.ipynb", "annexes/*.ipynb")


def _execute(path: str, timeout: int) -> tuple[str, float, object, str | None]:
    """Run one notebook in its own folder (as myst-nb does); returns it executed, or the error."""
    os.environ.pop("MPLBACKEND", None)  # the kernels must draw inline (see tools/sphinx_fixes.py)
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # one thread per kernel: kernels run side by side
    nb = nbformat.read(path, as_version=4)
    result = single_nb_execution(nb, cwd=str(Path(path).parent), timeout=timeout,
                                 allow_errors=False, meta_override=True)
    return path, result.time, nb, result.exc_string if result.err is not None else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="notebooks (default: chapters/ and annexes/)")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed at once")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    args = parser.parse_args(argv)
    paths = [Path(p).resolve() for p in args.paths] or sorted(
        p for pattern in DEFAULT for p in ROOT.glob(pattern))
    cache = get_cache(str(CACHE))
    todo = []
    for path in paths:
        cache.add_nb_to_project(str(path))  # as myst-nb does (tests read the project records)
        try:
            cache.match_cache_notebook(nbformat.read(path, as_version=4))
        except KeyError:
            todo.append(path)
    if not todo:
        print(f"execute_chapters: all {len(paths)} notebooks are in the execution cache")
        return 0
    # The slowest notebooks first (their size is a fair proxy), so the two cores finish together.
    todo.sort(key=lambda p: p.stat().st_size, reverse=True)
    print(f"execute_chapters: {len(todo)} notebook(s) to execute, {args.jobs} at a time")
    failed = []
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(_execute, str(p), args.timeout) for p in todo]
        for future in as_completed(futures):
            path, seconds, nb, error = future.result()
            name = Path(path).relative_to(ROOT)
            if error is not None:
                NbProjectRecord.set_traceback(path, error, cache.db)
                failed.append(name)
                print(f"  FAILED {name} after {seconds:.0f} s\n{error}", file=sys.stderr)
                continue
            NbProjectRecord.remove_tracebacks([cache.get_project_record(path).pk], cache.db)
            cache.cache_notebook_bundle(CacheBundleIn(nb, path, data={"execution_seconds": seconds}),
                                        check_validity=False, overwrite=True)
            print(f"  {seconds:6.1f} s  {name}", flush=True)
    print(f"execute_chapters: done in {time.perf_counter() - start:.0f} s")
    if failed:
        print(f"execute_chapters: {len(failed)} notebook(s) failed: "
              + ", ".join(map(str, failed)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
