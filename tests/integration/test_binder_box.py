"""A Binder session, simulated: an unprivileged user in a 2 GiB / 1 CPU box.

mybinder.org gives a session 2 GiB of memory and 1 CPU, runs it as a
non-root user whose HOME holds the repository and the binaries postBuild
baked in, and starts it through binder/start. Here: a user without
privileges (created if absent), a fresh HOME with a copy of the repository
and of the built binaries (a launch never builds), a cgroup v1 box with
memory.limit_in_bytes = 2 GiB and a CPU quota of one core. binder/start
launches nbval (which starts kernels) on notebooks 01 and 04 while the
cluster comes up in the background. Printed: the time to Ready nodes and the
box's peak memory (memory.max_usage_in_bytes).

Skipped, with the reason, when not root, when the cgroup v1 memory and cpu
controllers are not writable, or when the user cannot run this Python.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from course_helpers.cluster import _binaries
from course_helpers.cluster._paths import cache_dir

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
USER = "course-learner"
MEMORY = Path("/sys/fs/cgroup/memory")
CPU = Path("/sys/fs/cgroup/cpu")
LIMIT = 2 << 30
NOTEBOOKS = ["notebooks/01-daemonsets.ipynb", "notebooks/04-statefulsets.ipynb"]


def _user() -> tuple[int, int]:
    found = subprocess.run(["id", "-u", USER], capture_output=True, text=True, check=False)
    if found.returncode != 0:
        useradd = shutil.which("useradd")
        if useradd is None:
            pytest.skip(f"no user {USER} and no useradd to create one")
        cmd = [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER]
        subprocess.run(cmd, check=True)
    uid = int(subprocess.run(["id", "-u", USER], capture_output=True, text=True).stdout)
    gid = int(subprocess.run(["id", "-g", USER], capture_output=True, text=True).stdout)
    return uid, gid


@pytest.fixture
def box() -> Iterator[tuple[Path, Path]]:
    """A cgroup v1 memory + cpu box: 2 GiB, one CPU. Everything in it is killed at the end."""
    if os.geteuid() != 0:
        pytest.skip("needs root: to create the unprivileged user and the cgroup box")
    for controller in (MEMORY, CPU):
        if not (controller / "cgroup.procs").exists() or not os.access(controller, os.W_OK):
            pytest.skip(f"cgroup v1 controller {controller} is not writable here")
    name = f"course-binder-box-{os.getpid()}"
    memory, cpu = MEMORY / name, CPU / name
    memory.mkdir()
    cpu.mkdir()
    try:
        (memory / "memory.limit_in_bytes").write_text(str(LIMIT))
        (cpu / "cpu.cfs_period_us").write_text("100000")
        (cpu / "cpu.cfs_quota_us").write_text("100000")
        yield memory, cpu
    finally:
        for _ in range(50):
            pids = [int(p) for p in (memory / "cgroup.procs").read_text().split()]
            if not pids:
                break
            for pid in pids:  # only processes started in this box, by this test
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 9)
            time.sleep(0.2)
        for group in (memory, cpu):
            group.rmdir()


@pytest.fixture
def base() -> Iterator[Path]:
    """A directory the user can reach (pytest's own tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="course-binder-box-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _home(base: Path, uid: int, gid: int) -> Path:
    """A fresh HOME holding the repository and the baked-in binaries, as Binder's image does."""
    home = base / "home"
    repo = home / "repo"
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    for part in ("course_helpers", "notebooks", "binder"):
        shutil.copytree(REPO / part, repo / part, ignore=ignore)
    (repo / "tests").mkdir()
    shutil.copy2(REPO / "tests" / "nbval-sanitize.cfg", repo / "tests")
    shutil.copy2(REPO / "pyproject.toml", repo)
    bins = home / ".cache" / "k8s-workloads-course" / "bin"
    for recipe in _binaries.recipes():
        source = cache_dir() / "bin" / recipe.key
        if not (source / ".complete").exists():
            pytest.fail(f"run `course-cluster install` first: {source} is not built")
        target = bins / recipe.key
        target.mkdir(parents=True)
        for item in source.iterdir():
            try:
                os.link(item, target / item.name)
            except OSError:
                shutil.copy2(item, target / item.name)
    # The user owns its HOME and the copies; hard links to the shared cache stay root's
    # (readable by all), since chown would change the shared files themselves.
    for path in [home, *home.rglob("*")]:
        if path.is_dir() or path.stat().st_nlink == 1:
            os.chown(path, uid, gid, follow_symlinks=False)
    return home


def _runs_as_user(uid: int, gid: int, python: str) -> bool:
    """Say whether the user can start ``python`` (through a shell, as binder/start does)."""
    setpriv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]
    cmd = [*setpriv, "/bin/sh", "-c", f"exec {python} -c 'import sys'"]
    return subprocess.run(cmd, capture_output=True, cwd="/", check=False).returncode == 0


def _session_python(base: Path, uid: int, gid: int) -> Path:
    """The course environment's Python, as the user can run it.

    When the environment's interpreter lives where the user cannot reach (a
    Python under root's HOME, say), a venv on a system Python of the same
    version is layered on the course environment's site-packages instead.
    """
    if _runs_as_user(uid, gid, sys.executable):
        return Path(sys.executable)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [Path(d) / version for d in ("/usr/bin", "/usr/local/bin")]
    system = next(
        (str(c) for c in candidates if c.exists() and _runs_as_user(uid, gid, str(c))), None
    )
    if system is None:
        pytest.skip(f"{USER} can run neither {sys.executable} nor a system {version}")
    venv = base / "venv"
    subprocess.run([system, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = sysconfig.get_paths()["purelib"]
    site = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "course-env.pth").write_text(f"import site; site.addsitedir({purelib!r})\n")
    script = venv / "bin" / "course-cluster"
    script.write_text(
        f"#!{venv}/bin/python\nimport sys\nfrom course_helpers.cli import main\nsys.exit(main())\n"
    )
    script.chmod(0o755)
    return venv / "bin" / "python"


def _as_user(uid: int, gid: int, memory: Path, cpu: Path, cmd: list[str]) -> list[str]:
    """``cmd`` moved into the box, then run as the user with no supplementary groups."""
    enter = f"echo $$ > {memory}/cgroup.procs && echo $$ > {cpu}/cgroup.procs"
    setpriv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]
    return ["sh", "-c", f'{enter} && exec "$@"', "box", *setpriv, *cmd]


def test_a_binder_session_fits_the_box_and_runs_notebooks_01_and_04(
    box: tuple[Path, Path], base: Path
) -> None:
    memory, cpu = box
    uid, gid = _user()
    home = _home(base, uid, gid)
    repo = home / "repo"
    python = str(_session_python(base, uid, gid))
    venv_bin = str(Path(python).parent)
    env = {
        "HOME": str(home),
        "USER": USER,
        "LANG": "C.UTF-8",
        "PATH": os.pathsep.join([venv_bin, "/usr/local/bin", "/usr/bin", "/bin"]),
        "PYTHONPATH": str(repo),
        "SHELL": "/bin/bash",
    }
    probe = subprocess.run(
        _as_user(uid, gid, memory, cpu, ["/bin/sh", "-c", f"exec {python} -c 'import nbval'"]),
        env=env,
        capture_output=True,
        text=True,
        cwd=repo,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"{USER} cannot run {python} with the course: {probe.stderr[-500:]}")

    nbval = [
        python, "-m", "pytest", *NOTEBOOKS, "--nbval-lax",
        "--nbval-sanitize-with", "tests/nbval-sanitize.cfg", "-p", "no:randomly",
        "-p", "no:cacheprovider", "-q", "-o", "addopts=", "-o", "testpaths=notebooks",
    ]  # fmt: skip
    log = home / ".cache" / "k8s-workloads-course" / "state" / "binder-start.log"
    ready_after: list[float] = []
    done = threading.Event()

    def watch_log() -> None:  # the harness's stopwatch, not part of what is tested
        while not done.wait(0.2):
            if log.exists() and "nodes Ready:" in log.read_text():
                ready_after.append(time.monotonic() - started)
                return

    started = time.monotonic()
    stopwatch = threading.Thread(target=watch_log, daemon=True)
    stopwatch.start()
    try:
        session = subprocess.run(
            _as_user(uid, gid, memory, cpu, [str(repo / "binder" / "start"), *nbval]),
            env=env,
            capture_output=True,
            text=True,
            cwd=repo,
            timeout=1500,
            check=False,
        )
    finally:
        done.set()
        took = time.monotonic() - started
        peak = int((memory / "memory.max_usage_in_bytes").read_text())
        failcnt = int((memory / "memory.failcnt").read_text())
        down = subprocess.run(
            _as_user(uid, gid, memory, cpu, [python, "-m", "course_helpers.cli", "down"]),
            env=env,
            capture_output=True,
            text=True,
            cwd=repo,
            timeout=180,
            check=False,
        )
    start_log = log.read_text() if log.exists() else "(no binder-start.log)"
    print(
        f"\nbinder box: notebooks 01+04 in {took:.0f}s; nodes Ready after "
        f"{ready_after[0] if ready_after else float('nan'):.1f}s; peak memory "
        f"{peak / 2**20:.0f} MiB of {LIMIT / 2**20:.0f} MiB (limit hits: {failcnt})"
    )
    assert session.returncode == 0, (
        f"{session.stdout[-4000:]}\n{session.stderr[-2000:]}\nbinder-start.log:\n{start_log[-3000:]}"
    )
    assert "passed" in session.stdout and "failed" not in session.stdout, session.stdout[-2000:]
    assert ready_after, f"no 'nodes Ready' in binder-start.log:\n{start_log[-3000:]}"
    assert "building" not in start_log, "a launch built binaries:\n" + start_log
    assert peak < LIMIT, f"the session reached the 2 GiB limit ({failcnt} times)"
    assert down.returncode == 0, down.stdout + down.stderr
