"""The sandbox a student's kernel runs in while nbgrader grades the copy (bubblewrap).

nbgrader itself runs outside, in a throw-away course folder that holds the gradebook copy and
the submission; only the Jupyter *kernel*, which runs the student's code, is sandboxed. It is
started through a kernelspec (``kernel.json``, found first on ``JUPYTER_PATH``) whose command is

    [sh -c 'join a pids cgroup'] prlimit --as --fsize --core bwrap <binds> python -m ipykernel_launcher

and it talks to nbgrader over Unix sockets (``KernelManager.transport = "ipc"``) in a private
runtime folder, since the sandbox has no network at all. What the kernel sees (``bwrap``):

- ``--unshare-all``: no network, its own PID namespace (``--die-with-parent``: when the kernel
  stops, every process it started dies with it, ``setsid`` or not), IPC, UTS and cgroup;
- uid/gid 65534 in a user namespace, every capability dropped, a new terminal session;
- read-only: the system (``/usr``, ``/etc``...), the virtual environment, Python, the library
  folder of ``llmcours`` (not the repository around it) and the model cache;
- writable, size-capped tmpfs: ``/tmp`` and the working folder ``/home/eleve/<lab>`` (a copy of
  the lab's data files), and the runtime folder with the kernel's connection file;
- nothing else: not the course root, ``solutions/``, the gradebook, the repository, the other
  submissions, ``/root`` or ``/work``.

Limits: address space (``--as``), size of one file (``--fsize``), no core dumps, and at most
``MAX_PROCESSES`` processes when the pids cgroup (v1) is writable (root on this machine).
"""

from __future__ import annotations

import functools
import json
import os
import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

__all__ = ["MAX_PROCESSES", "SCRATCH_SIZE", "kernel_command", "sandbox_problem",
           "write_kernelspec"]

SCRATCH_SIZE = 512 * 2**20  # bytes of the writable working folder, and of /tmp
MAX_FILE = 256 * 2**20  # bytes of one written file
MAX_PROCESSES = 256
HOME = "/home/eleve"
_PIDS = Path("/sys/fs/cgroup/pids")
_PROBE_ARGS = ("--unshare-all", "--die-with-parent", "--uid", "65534", "--gid", "65534",
               "--cap-drop", "ALL", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
               "--tmpfs", "/tmp", "true")


def sandbox_problem() -> str:
    """Why the sandbox cannot start on this machine (one line), or "" when it can."""
    if os.environ.get("LLMCOURS_NO_BWRAP"):  # for testing the refusal
        return "LLMCOURS_NO_BWRAP is set"
    return _probe()


@functools.lru_cache(maxsize=1)
def _probe() -> str:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed (Debian: apt-get install bubblewrap)"
    if shutil.which("prlimit") is None:
        return "prlimit (util-linux) is not installed"
    try:
        done = subprocess.run([bwrap, *_PROBE_ARGS], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"bwrap does not start ({err})"
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return f"bwrap cannot create its namespaces here ({why})"
    return ""


def _library_dir() -> Path:
    """The folder that holds the ``llmcours`` package (``lib/`` of an editable install)."""
    import llmcours

    return Path(llmcours.__file__).resolve().parent.parent


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    return args


def pids_cgroup() -> Path | None:
    """A fresh pids cgroup (v1) limited to ``MAX_PROCESSES``, or None where none can be made."""
    folder = _PIDS / "llmcours" / uuid.uuid4().hex[:12]
    try:
        folder.mkdir(parents=True)
        (folder / "pids.max").write_text(str(MAX_PROCESSES))
    except OSError:
        return None
    return folder


def remove_cgroup(folder: Path | None) -> None:
    """Kill what is left in ``folder`` (a cgroup of :func:`pids_cgroup`) and remove it."""
    if folder is None:
        return
    try:
        for pid in (folder / "cgroup.procs").read_text().split():
            try:
                os.kill(int(pid), 9)
            except OSError:
                pass
        folder.rmdir()
    except OSError:
        pass


def kernel_command(*, lab_files: Path, runtime: Path, lab: str, memory: int, threads: int,
                   cgroup: Path | None = None) -> list[str]:
    """The kernel's command line (``{connection_file}`` left for jupyter_client to fill)."""
    from llmcours.models import cache_dir

    work = f"{HOME}/{lab}"
    python = Path(sys.executable)
    ro = {Path(sys.prefix), Path(sys.base_prefix), _library_dir()}
    cache = cache_dir()
    if cache.is_dir():
        ro.add(cache.resolve())
    binds = _system_binds()
    for path in sorted(p.resolve() for p in ro):
        binds += ["--ro-bind", str(path), str(path)]
    env = {
        "HOME": HOME, "PATH": f"{python.parent}:/usr/bin:/bin", "LANG": "C.UTF-8",
        "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
        "MPLBACKEND": "Agg", "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
        "LLMCOURS_CACHE": str(cache.resolve() if cache.is_dir() else f"{HOME}/.cache"),
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
        "IPYTHONDIR": f"{HOME}/.ipython", "MPLCONFIGDIR": f"{HOME}/.matplotlib",
    }
    setenv = [arg for key, value in env.items() for arg in ("--setenv", key, value)]
    bwrap = [
        shutil.which("bwrap") or "bwrap", "--unshare-all", "--die-with-parent", "--new-session",
        "--uid", "65534", "--gid", "65534", "--cap-drop", "ALL", "--hostname", "sandbox",
        "--clearenv", *setenv, "--proc", "/proc", "--dev", "/dev",
        # The scratch tmpfs first, the binds after: a venv or a course that lives under /tmp
        # (a CI clone, pytest's folders) is mounted on top of the empty /tmp, not hidden by it.
        "--size", str(SCRATCH_SIZE), "--tmpfs", "/tmp",
        "--size", str(SCRATCH_SIZE), "--tmpfs", HOME, *binds,
        "--ro-bind", str(lab_files), "/srv/lab", "--bind", str(runtime), str(runtime),
        "--chdir", HOME, "/bin/sh", "-c", f'cp -R /srv/lab {work} && cd {work} && exec "$@"',
        "sandbox", str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}",
    ]
    limits = ["prlimit", f"--as={int(memory)}", f"--fsize={MAX_FILE}", "--core=0", "--"]
    if cgroup is None:
        return limits + bwrap
    join = 'echo $$ > "$0" && exec "$@"'
    return ["/bin/sh", "-c", join, str(cgroup / "cgroup.procs"), *limits, *bwrap]


def write_kernelspec(folder: Path, argv: list[str]) -> Path:
    """Write ``folder/kernels/python3/kernel.json`` (put ``folder`` first on ``JUPYTER_PATH``)."""
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": argv, "display_name": "Python 3 (bac à sable)", "language": "python",
        # a signal would reach bwrap, not the kernel: interrupt through the control channel
        "interrupt_mode": "message",
        "metadata": {"debugger": False}}, indent=1), encoding="utf-8")
    return spec


def describe(argv: list[str]) -> str:
    """The command as one shell line (for the logs)."""
    return shlex.join(argv)
