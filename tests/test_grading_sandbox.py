"""The sandbox holds what it promises (issue 17 §2): each limit against a small hostile snippet.

Every test runs the kernel's real command line (``sandbox.sandbox_command``, which
``kernel_command`` is, with a snippet in place of ``ipykernel_launcher``) inside a copy's
:func:`sandbox.confined` cgroups and runtime tmpfs, or a whole ``autograde`` of the mini lab
(tests/grading_lab/mini.py). Needs bubblewrap and root (cgroups v1): no skip, as in
test_grading_hostile.py: a machine where the sandbox cannot start must fail here.
"""

from __future__ import annotations

import importlib
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from llmcours import grading
from llmcours.grading import sandbox
from llmcours.grading.course import gradebook

sys.path.insert(0, str(Path(__file__).parent / "grading_lab"))
import mini  # noqa: E402

_autograde = importlib.import_module("llmcours.grading.autograde")  # the module, not the function

pytestmark = pytest.mark.slow
GIB, MIB = 2**30, 2**20

# Five children holding 300 MiB each: each under the per-process address-space limit (1 GiB),
# together past the copy's 1 GiB.
FIVE_CHILDREN = """
import os, time
kids = []
for _ in range(5):
    pid = os.fork()
    if pid == 0:
        block = bytearray(300 * 2**20)
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(1)
        os._exit(0)
    kids.append(pid)
print("statuts", [os.waitpid(pid, 0)[1] for pid in kids], flush=True)
"""
# 2 GiB written to each writable place, 64 MiB files, until the first error.
FILL = """
import os, sys
block = b"x" * 2**20
for place in sys.argv[1:]:
    total, i, error = 0, 0, "aucune"
    try:
        while total < 2 * 2**30:
            with open(os.path.join(place, f"f{i}"), "wb") as handle:
                for _ in range(64):
                    handle.write(block)
                    total += 2**20
            i += 1
    except OSError as err:
        error = err.strerror
    print(place, total // 2**20, error, sep="|", flush=True)
    for j in range(i + 1):
        try:
            os.remove(os.path.join(place, f"f{j}"))
        except OSError:
            pass
"""
SPIN = """
import os, time
start = time.time()
end = start + 3
kids = []
for _ in range(16):
    pid = os.fork()
    if pid == 0:
        while time.time() < end:
            pass
        os._exit(0)
    kids.append(pid)
for pid in kids:
    os.waitpid(pid, 0)
times = os.times()
print(times.children_user + times.children_system, time.time() - start)
"""
FLOOD = "import os\nblock = b'x' * 2**20\nfor _ in range(1536):\n    os.write(1, block)\n"
# In a kernel, fd 1 is ipykernel's capture pipe: the stdout it inherited is kept elsewhere.
FLOOD_KERNEL = FLOOD.replace("os.write(1,", "os.write(sys.stdout._original_stdstream_copy,"
                             ).replace("import os", "import os, sys")


def _run(tmp: Path, code: str, *args: str, memory: int = GIB, threads: int = 1,
         library: Path | None = None, prepare=None,
         check=None) -> tuple[subprocess.CompletedProcess, dict]:
    """Run ``python -c code args`` as a copy's kernel would run; ``prepare(box)`` and
    ``check(box)`` are called before and after, while the copy's cgroups and runtime exist.
    Returns the process and what the cgroups saw."""
    (tmp / "lab").mkdir(exist_ok=True)
    (tmp / "lab" / "donnees.txt").write_text("des données\n")
    runtime = tmp / "runtime"
    with sandbox.confined(runtime, memory=memory, threads=threads) as box:
        if prepare is not None:
            prepare(box)
        argv = sandbox.sandbox_command([sys.executable, "-c", code, *args], lab_files=tmp / "lab",
                                       runtime=runtime, lab="mini", memory=memory,
                                       threads=threads, library=library,
                                       cgroups=list(box.cgroups.values()))
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        seen = {"oom": box.oom_kills(),
                "peak": int((box.cgroups["memory"] / "memory.max_usage_in_bytes").read_text()),
                "cpu": dict(line.split() for line in
                            (box.cgroups["cpu"] / "cpu.stat").read_text().splitlines())}
        if check is not None:
            check(box)
    assert not any(folder.exists() for folder in box.cgroups.values()), "cgroups left behind"
    assert not os.path.ismount(runtime), "runtime tmpfs left mounted"
    return done, seen


def test_memory_is_capped_per_copy_not_per_process(tmp_path):
    done, seen = _run(tmp_path, FIVE_CHILDREN, memory=GIB)
    statuses = eval(done.stdout.split("statuts", 1)[1])
    assert seen["oom"] >= 1 and statuses.count(signal.SIGKILL) >= 1, (done, seen)
    assert seen["peak"] <= GIB, seen  # the copy as a whole, tmpfs included, never went past


def test_every_writable_place_is_size_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "SCRATCH_SIZE", 64 * MIB)  # quicker to fill than 512 MiB
    monkeypatch.setattr(sandbox, "SHM_SIZE", 32 * MIB)
    before = shutil.disk_usage(tmp_path).used
    runtime = tmp_path / "runtime"
    places = {"/": 0, "/dev": sandbox.DEV_SIZE, "/dev/shm": 32 * MIB, "/tmp": 64 * MIB,
              sandbox.HOME: 64 * MIB, f"{sandbox.HOME}/mini": 64 * MIB,
              str(runtime): sandbox.RUNTIME_SIZE}

    def runtime_is_a_small_tmpfs(box):
        stat = os.statvfs(runtime)
        assert os.path.ismount(runtime) and stat.f_blocks * stat.f_frsize == sandbox.RUNTIME_SIZE

    done, _ = _run(tmp_path, FILL, *places, check=runtime_is_a_small_tmpfs)
    written = {line.split("|")[0]: line.split("|")[1:] for line in done.stdout.splitlines()}
    for place, cap in places.items():
        mib, error = written[place]
        assert error in ("No space left on device", "Read-only file system"), (place, written)
        assert max(cap - 4 * MIB, 0) <= int(mib) * MIB <= cap, (place, written)
    assert shutil.disk_usage(tmp_path).used - before < GIB  # the host disk did not take 2 GiB
    assert "--dev" not in sandbox.kernel_command(lab_files=tmp_path, runtime=runtime, lab="x",
                                                 memory=GIB, threads=1)  # unsized tmpfs


def test_the_sandbox_shows_nothing_of_the_instructors_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMCOURS_SECRET_DU_PROF", "mot-de-passe-4242")
    code = ("import os\nprint(repr(open('/proc/1/environ').read()))\n"
            "print(open('/proc/self/environ').read().replace(chr(0), ' '))\n"
            "print(sorted(os.environ))")
    done, _ = _run(tmp_path, code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "''", done.stdout  # bwrap, PID 1, has no environment
    assert "mot-de-passe-4242" not in done.stdout and "SECRET" not in done.stdout
    assert "PYTHONPATH" in done.stdout and "OMP_NUM_THREADS" in done.stdout


def test_the_grader_reads_the_kernels_output_through_a_bounded_buffer(tmp_path):
    (tmp_path / "lab").mkdir()
    with sandbox.confined(tmp_path / "runtime", memory=GIB, threads=1) as box:
        argv = sandbox.sandbox_command([sys.executable, "-c", FLOOD], lab_files=tmp_path / "lab",
                                       runtime=tmp_path / "runtime", lab="mini", memory=GIB,
                                       threads=1, cgroups=list(box.cgroups.values()))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        process, output, killed = _autograde._run_bounded(argv, tmp_path, {}, 300)
    text = output.text()
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - peak
    assert not killed and process.returncode == 0
    assert output.dropped >= 1536 * MIB - 2 * MIB, output.dropped  # 1.5 GiB went through
    assert len(text) < 2 * MIB and "octets omis" in text
    assert grown < 200 * MIB, f"the grader grew by {grown / MIB:.0f} MiB"


def test_a_copy_shares_one_cpu_quota_between_all_its_processes(tmp_path):
    parent, weight = None, ""

    def first_in_line(box):
        # On a loaded machine the copies' cgroups (one scheduling entity) would get less than
        # the quota anyway: give them every CPU they ask for, so that only the quota holds
        # the 16 spinners back.
        nonlocal parent, weight
        parent = box.cgroups["cpu"].parent / "cpu.shares"
        weight = parent.read_text()
        for shares in (parent, box.cgroups["cpu"] / "cpu.shares"):
            shares.write_text("262144")
        assert int((box.cgroups["cpu"] / "cpu.cfs_quota_us").read_text()) == sandbox.CPU_PERIOD

    try:
        done, seen = _run(tmp_path, SPIN, threads=1, prepare=first_in_line)
    finally:
        if parent is not None:
            parent.write_text(weight)
    cpu, wall = map(float, done.stdout.split())
    assert int(seen["cpu"]["nr_throttled"]) > 0, seen  # the spinners ran into the quota
    assert cpu <= 1.2 * wall, f"16 spinners used {cpu:.1f} s of CPU in {wall:.1f} s"


def _course_with_own_library(root: Path, *, lab: bool = True) -> Path:
    """The mini course (without its lab if not ``lab``) with its own ``lib/llmcours``, a copy
    marked as this course's."""
    if lab:
        mini.make_course(root)
    shutil.copytree(Path(sandbox._library_dir()) / "llmcours", root / "lib" / "llmcours",
                    ignore=shutil.ignore_patterns("__pycache__"))
    with open(root / "lib" / "llmcours" / "__init__.py", "a", encoding="utf-8") as handle:
        handle.write("\nCOURSE_MARK = 'cours-corrige'\n")
    return root


def test_the_kernel_imports_the_graded_courses_library(tmp_path):
    root = _course_with_own_library(tmp_path / "cours", lab=False)
    library = sandbox.course_library(root)
    assert library == root.resolve() / "lib" != sandbox._library_dir()
    sandbox.check_library(root)
    done, _ = _run(tmp_path, "import llmcours; print(llmcours.__file__, llmcours.COURSE_MARK)",
                   library=library)
    assert done.stdout.split() == [str(library / "llmcours" / "__init__.py"), "cours-corrige"]
    (root / "lib" / "llmcours" / "__init__.py").write_text("raise ImportError('cassé')\n")
    with pytest.raises(RuntimeError, match="n'importe pas le llmcours du cours") as err:
        sandbox.check_library(root)
    assert "\n" not in str(err.value)


@pytest.fixture
def no_cgroups(monkeypatch):
    monkeypatch.setattr(sandbox, "CGROUP_ROOT", Path("/proc/llmcours-pas-de-cgroup"))
    sandbox._probe.cache_clear()
    yield
    sandbox._probe.cache_clear()


def test_no_cgroups_is_a_one_line_refusal(no_cgroups, tmp_path):
    assert sandbox.sandbox_problem().startswith("no memory cgroup (v1) mounted")
    with pytest.raises(RuntimeError, match="the sandbox cannot start: no memory cgroup") as err:
        grading.check_sandbox()
    assert "\n" not in str(err.value)
    with pytest.raises(RuntimeError, match="no memory cgroup"):
        with sandbox.confined(tmp_path / "runtime", memory=GIB, threads=1):
            pass
    assert not os.path.ismount(tmp_path / "runtime")


def test_autograde_confines_each_copy_and_grades_the_honest_one_fully(tmp_path):
    """One batch: the course has its own library; a copy whose children add up past the copy's
    memory is `memory`; a copy that floods its stdout costs the grader nothing; the honest
    copy keeps full marks."""
    root = _course_with_own_library(tmp_path / "cours")
    where = "import llmcours\nprint('LIB', llmcours.__file__, llmcours.COURSE_MARK)"
    copies = {"honnete": {"setup": where}, "gourmand": {"setup": FIVE_CHILDREN},
              "bavard": {"setup": FLOOD_KERNEL}}
    for student, after in copies.items():
        nb = grading.student_version(root, "mini")
        at = next(i for i, cell in enumerate(nb.cells) if cell.id in after)
        nb.cells.insert(at + 1, new_code_cell(after[nb.cells[at].id]))
        (root / "submitted" / student / "mini").mkdir(parents=True)
        nbformat.write(nb, root / "submitted" / student / "mini" / "mini.ipynb")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    records = grading.autograde(root, "mini", jobs=2, threads=1, memory=GIB, progress=False)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - peak
    assert grown < 300 * MIB, f"the grader grew by {grown / MIB:.0f} MiB"
    assert records["gourmand"]["status"] == "memory", records["gourmand"]
    assert "mémoire de la copie dépassée" in records["gourmand"]["note"]
    assert records["honnete"]["status"] == "ok" and records["bavard"]["status"] == "ok", records
    with gradebook(root) as gb:
        score = gb.find_submission("mini", "honnete").score
    assert score == sum(mini.POINTS.values())
    graded = (root / "autograded" / "honnete" / "mini" / "mini.ipynb").read_text()
    assert f"LIB {root.resolve() / 'lib' / 'llmcours' / '__init__.py'} cours-corrige" in graded
