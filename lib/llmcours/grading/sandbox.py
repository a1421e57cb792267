"""The sandbox a student's kernel runs in while nbgrader grades the copy (bubblewrap + cgroups).

nbgrader itself runs outside, in a throw-away course folder that holds the gradebook copy and
the submission; only the Jupyter *kernel*, which runs the student's code, is sandboxed. It is
started through a kernelspec (``kernel.json``, found first on ``JUPYTER_PATH``) whose command is

    env -i sh -c 'join the copy's cgroups' prlimit --as --fsize --core bwrap <mounts> \
        python -m ipykernel_launcher

and it talks to nbgrader over Unix sockets (``KernelManager.transport = "ipc"``) in a private
runtime folder, since the sandbox has no network at all. :func:`confined` prepares one copy:

- **cgroups (v1) for the copy's whole process tree**, made under the grader's own ones:
  ``memory`` (``memory.limit_in_bytes`` = ``memsw`` = the copy's memory, tmpfs and shared
  memory included: five children cannot add up past it), ``cpu`` (a CFS quota of ``threads``
  CPUs shared by all its processes, and as many CPUs' weight against the machine's other
  processes) and ``pids`` (``MAX_PROCESSES``). Every process left is
  killed and the cgroups removed when the copy ends, killed or not;
- **the runtime folder** (connection file, sockets) is a host tmpfs of ``RUNTIME_SIZE`` bytes
  mounted on the copy's folder, so the kernel has nothing writable on the grader's disk.

What the kernel sees (``bwrap``, started with an empty environment: ``/proc/1/environ``, the
sandbox's reaper, shows nothing of the instructor's; the kernel gets only :func:`_kernel_env`):

- ``--unshare-all``: no network, its own PID namespace (``--die-with-parent``: when the kernel
  stops, every process it started dies with it, ``setsid`` or not), IPC, UTS and cgroup;
- uid/gid 65534 in a user namespace, every capability dropped, a new terminal session;
- read-only: the system (``/usr``, ``/etc``...), the virtual environment, Python, the graded
  course's library (``<root>/lib``, first on ``PYTHONPATH``; the importing ``llmcours``'s
  ``lib/`` for a course without one) and the model cache; the root ``/`` itself;
- writable, each a size-capped tmpfs: ``/tmp``, the working folder ``/home/eleve/<lab>`` (a
  copy of the lab's data files), ``/dev/shm``, ``/dev`` (device nodes only), and the runtime
  folder (host tmpfs above);
- nothing else: not the course root, ``solutions/``, the gradebook, the repository, the other
  submissions, ``/root`` or ``/work``.

Limits per process: address space (``--as``: a cell that asks for too much gets a
``MemoryError`` instead of the copy being killed by the cgroup), size of one file
(``--fsize``), no core dumps. The cgroups and the mount need root (CI, the grading machine):
elsewhere :func:`sandbox_problem` says so in one line and grading refuses.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

__all__ = ["CONTROLLERS", "MAX_PROCESSES", "RUNTIME_SIZE", "SCRATCH_SIZE", "SHM_SIZE",
           "BoundedReader", "Confinement", "check_library", "confined", "course_library",
           "kernel_command", "sandbox_command", "sandbox_problem", "write_kernelspec"]

SCRATCH_SIZE = 512 * 2**20  # bytes of the writable working folder, and of /tmp
SHM_SIZE = 256 * 2**20  # bytes of /dev/shm
DEV_SIZE = 2**20  # bytes of /dev (device nodes and links only)
RUNTIME_SIZE = 4 * 2**20  # bytes of the runtime folder (connection file, sockets)
MAX_FILE = 256 * 2**20  # bytes of one written file
MAX_PROCESSES = 256
CPU_PERIOD = 100_000  # microseconds of the CFS period (the quota is threads × this)
HOME = "/home/eleve"
CONTROLLERS = ("memory", "cpu", "pids")
CGROUP_ROOT = Path("/sys/fs/cgroup")  # where the v1 controllers are mounted
_DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
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
    with tempfile.TemporaryDirectory(prefix="llmcours-probe-") as tmp:
        try:
            with confined(Path(tmp), memory=2**30, threads=1):
                pass
        except RuntimeError as err:
            return str(err)
    return ""


# ------------------------------------------------------------------ cgroups and runtime tmpfs
def _own_cgroup(controller: str) -> Path:
    """The folder of this process's cgroup for ``controller`` (v1), from /proc/self/cgroup."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, names, path = line.split(":", 2)
        if controller in names.split(","):
            return CGROUP_ROOT / controller / path.lstrip("/")
    return CGROUP_ROOT / controller


def _kill_all(folder: Path) -> None:
    """SIGKILL every process of the cgroup ``folder`` until none is left, then remove it."""
    for _ in range(200):
        try:
            pids = (folder / "cgroup.procs").read_text().split()
        except OSError:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(int(pid), 9)
        if not pids:
            try:
                folder.rmdir()
                return
            except OSError:  # the last processes are still being reaped
                pass
        time.sleep(0.05)


@dataclass
class Confinement:
    """One copy's cgroups (``{controller: folder}``) and its runtime tmpfs."""

    runtime: Path
    cgroups: dict[str, Path] = field(default_factory=dict)
    mounted: bool = False

    def oom_kills(self) -> int:
        """Processes the memory cgroup's OOM killer killed (0 if nothing was over)."""
        try:
            text = (self.cgroups["memory"] / "memory.oom_control").read_text()
        except (KeyError, OSError):
            return 0
        fields = dict(line.split() for line in text.splitlines() if line.strip())
        return int(fields.get("oom_kill", 0))

    def close(self) -> None:
        for folder in self.cgroups.values():
            _kill_all(folder)
        if self.mounted:
            done = subprocess.run(["umount", str(self.runtime)], capture_output=True)
            if done.returncode:
                subprocess.run(["umount", "-l", str(self.runtime)], capture_output=True)
            self.mounted = False


def _limit(folder: Path, name: str, value: int) -> None:
    (folder / name).write_text(str(int(value)))


@contextlib.contextmanager
def confined(runtime: Path, *, memory: int, threads: int) -> Iterator[Confinement]:
    """Make one copy's cgroups (``memory`` bytes, ``threads`` CPUs, ``MAX_PROCESSES``) and
    mount a ``RUNTIME_SIZE`` tmpfs on the folder ``runtime``; kill and clean up on exit.
    ``RuntimeError`` (one line) where this machine cannot (not root, no cgroup v1)."""
    box = Confinement(Path(runtime))
    name = uuid.uuid4().hex[:12]
    try:
        for controller in CONTROLLERS:
            folder = _own_cgroup(controller) / "llmcours" / name
            if not (CGROUP_ROOT / controller / "cgroup.procs").is_file():
                raise RuntimeError(f"no {controller} cgroup (v1) mounted at "
                                   f"{CGROUP_ROOT / controller}")
            try:
                folder.mkdir(parents=True)
            except OSError as err:
                raise RuntimeError(f"no {controller} cgroup (v1, writable: run as root) at "
                                   f"{folder.parent} ({err.strerror})") from None
            box.cgroups[controller] = folder
            if controller == "memory":
                _limit(folder, "memory.limit_in_bytes", memory)
                if (folder / "memory.memsw.limit_in_bytes").exists():  # no swapping past it
                    _limit(folder, "memory.memsw.limit_in_bytes", memory)
            elif controller == "cpu":
                _limit(folder, "cpu.cfs_period_us", CPU_PERIOD)
                _limit(folder, "cpu.cfs_quota_us", CPU_PERIOD * threads)
                # A group weighs as much as one process: weigh a copy as its threads, and all
                # the copies together as the machine's CPUs (what unconfined kernels weighed).
                _limit(folder, "cpu.shares", 1024 * threads)
                _limit(folder.parent, "cpu.shares", 1024 * (os.cpu_count() or 1))
            else:
                _limit(folder, "pids.max", MAX_PROCESSES)
        box.runtime.mkdir(mode=0o700, exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={RUNTIME_SIZE},mode=0700",
                               "llmcours-runtime", str(box.runtime)], capture_output=True,
                              text=True)
        if done.returncode:
            why = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
            raise RuntimeError(f"cannot mount the runtime tmpfs (run as root): {why}")
        box.mounted = True
    except OSError as err:
        box.close()
        raise RuntimeError(f"cannot set up the copy's cgroups: {err}") from None
    except RuntimeError:
        box.close()
        raise
    try:
        yield box
    finally:
        box.close()


# ------------------------------------------------------------------ the command line
def _library_dir() -> Path:
    """The folder that holds the importing ``llmcours`` package (``lib/`` of a checkout)."""
    import llmcours

    return Path(llmcours.__file__).resolve().parent.parent


def course_library(root: Path) -> Path:
    """The library the sandbox mounts for the course ``root``: its ``lib/`` when it holds
    ``llmcours``, else the importing ``llmcours``'s folder (a course made of labs only)."""
    lib = Path(root).resolve() / "lib"
    return lib if (lib / "llmcours" / "__init__.py").is_file() else _library_dir()


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    return args


def _dev() -> list[str]:
    """A size-capped ``/dev`` with the usual nodes (bwrap's ``--dev`` cannot be sized)."""
    args = ["--size", str(DEV_SIZE), "--tmpfs", "/dev"]
    for node in _DEVICES:
        args += ["--dev-bind", f"/dev/{node}", f"/dev/{node}"]
    for number, name in enumerate(("stdin", "stdout", "stderr")):
        args += ["--symlink", f"/proc/self/fd/{number}", f"/dev/{name}"]
    return args + ["--symlink", "/proc/self/fd", "/dev/fd",
                   "--perms", "1777", "--size", str(SHM_SIZE), "--tmpfs", "/dev/shm"]


def _kernel_env(threads: int, library: Path, cache: Path) -> dict[str, str]:
    python = Path(sys.executable)
    return {
        "HOME": HOME, "PATH": f"{python.parent}:/usr/bin:/bin", "LANG": "C.UTF-8",
        "PYTHONPATH": str(library),
        "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
        "MPLBACKEND": "Agg", "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
        "LLMCOURS_CACHE": str(cache.resolve() if cache.is_dir() else f"{HOME}/.cache"),
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
        "IPYTHONDIR": f"{HOME}/.ipython", "MPLCONFIGDIR": f"{HOME}/.matplotlib",
    }


def sandbox_command(command: Sequence[str], *, lab_files: Path, runtime: Path | None, lab: str,
                    memory: int, threads: int, library: Path | None = None,
                    cgroups: Sequence[Path] = ()) -> list[str]:
    """``command`` run in the copy's sandbox: in the cgroups ``cgroups`` (folders of a
    :class:`Confinement`), under prlimit, in bwrap, from ``/home/eleve/<lab>``."""
    from llmcours.models import cache_dir

    work = f"{HOME}/{lab}"
    library = Path(library or _library_dir()).resolve()
    ro = {Path(sys.prefix), Path(sys.base_prefix), library}
    cache = cache_dir()
    if cache.is_dir():
        ro.add(cache.resolve())
    binds = _system_binds()
    for path in sorted(p.resolve() for p in ro):
        binds += ["--ro-bind", str(path), str(path)]
    if runtime is not None:
        binds += ["--bind", str(runtime), str(runtime)]
    env = _kernel_env(threads, library, cache)
    setenv = [arg for key, value in env.items() for arg in ("--setenv", key, value)]
    bwrap = [
        shutil.which("bwrap") or "bwrap", "--unshare-all", "--die-with-parent", "--new-session",
        "--uid", "65534", "--gid", "65534", "--cap-drop", "ALL", "--hostname", "sandbox",
        "--clearenv", *setenv, "--proc", "/proc", *_dev(),
        # The scratch tmpfs first, the binds after: a venv or a course that lives under /tmp
        # (a CI clone, pytest's folders) is mounted on top of the empty /tmp, not hidden by it.
        "--size", str(SCRATCH_SIZE), "--tmpfs", "/tmp",
        "--size", str(SCRATCH_SIZE), "--tmpfs", HOME, *binds,
        "--ro-bind", str(lab_files), "/srv/lab", "--remount-ro", "/",
        "--chdir", HOME, "/bin/sh", "-c", f'cp -R /srv/lab {work} && cd {work} && exec "$@"',
        "sandbox", *command,
    ]
    limits = [shutil.which("prlimit") or "prlimit", f"--as={int(memory)}", f"--fsize={MAX_FILE}", "--core=0", "--"]
    # env -i: bwrap (the sandbox's PID 1, whose /proc/1/environ the student can read) and
    # prlimit start with an empty environment; the kernel gets only --setenv's.
    join = 'cd / && unset PWD OLDPWD; for g in "$@"; do [ "$g" = -- ] && break; echo $$ > "$g" || exit 125; done; ' \
           'while [ "$1" != -- ]; do shift; done; shift; exec "$@"'
    procs = [str(Path(folder) / "cgroup.procs") for folder in cgroups]
    return ["/usr/bin/env", "-i", "/bin/sh", "-c", join, "join", *procs, "--", *limits, *bwrap]


def kernel_command(*, lab_files: Path, runtime: Path, lab: str, memory: int, threads: int,
                   library: Path | None = None, cgroups: Sequence[Path] = ()) -> list[str]:
    """The kernel's command line (``{connection_file}`` left for jupyter_client to fill)."""
    return sandbox_command([sys.executable, "-m", "ipykernel_launcher", "-f",
                            "{connection_file}"], lab_files=lab_files, runtime=runtime, lab=lab,
                           memory=memory, threads=threads, library=library, cgroups=cgroups)


def check_library(root: Path) -> None:
    """Raise ``RuntimeError`` (one French line) unless ``import llmcours`` in the sandbox
    loads the library the sandbox mounts for ``root`` (:func:`course_library`)."""
    library = course_library(root)
    with tempfile.TemporaryDirectory(prefix="llmcours-lib-") as tmp:
        argv = sandbox_command([sys.executable, "-c", "import llmcours; print(llmcours.__file__)"],
                               lab_files=Path(tmp), runtime=None, lab="probe", memory=2**32,
                               threads=1, library=library)
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    found = done.stdout.strip().splitlines()[-1:] or ["rien"]
    if done.returncode or not Path(found[0]).is_relative_to(library):
        why = (done.stderr.strip().splitlines() or found)[-1][:200]
        raise RuntimeError(f"le noyau du bac à sable n'importe pas le llmcours du cours "
                           f"({library}) mais {found[0]} ({why}) : corrigez depuis un "
                           "environnement où ce dossier est importable")


# ------------------------------------------------------------------ output of the grader's children
class BoundedReader:
    """Drain a child's output pipe in a thread, keeping its first ``head`` and last ``tail``
    bytes: a kernel that writes gigabytes to its inherited stdout costs the grader nothing."""

    def __init__(self, stream: IO[bytes], head: int = 200_000, tail: int = 1_000_000) -> None:
        self._stream, self._head_max = stream, head
        self._head = bytearray()
        self._tail: collections.deque[bytes] = collections.deque()
        self._tail_size, self._tail_max, self.dropped = 0, tail, 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            while chunk := self._stream.read1(65536):  # type: ignore[attr-defined]
                room = self._head_max - len(self._head)
                if room > 0:
                    self._head += chunk[:room]
                    chunk = chunk[room:]
                self._tail.append(chunk)
                self._tail_size += len(chunk)
                while self._tail_size - len(self._tail[0]) >= self._tail_max:
                    old = self._tail.popleft()
                    self._tail_size -= len(old)
                    self.dropped += len(old)

    def text(self, timeout: float = 10) -> str:
        """What was kept, once the pipe is closed (or after ``timeout`` seconds)."""
        self._thread.join(timeout)
        cut = f"\n[… {self.dropped} octets omis …]\n" if self.dropped else ""
        return (bytes(self._head).decode(errors="replace") + cut
                + b"".join(list(self._tail)).decode(errors="replace"))


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
