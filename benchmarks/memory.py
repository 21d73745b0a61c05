"""Peak memory of a course session: JupyterLab, a kernel running a lesson, the cluster.

Starts, in a state directory of its own, the embedded cluster (``course-cluster
up``) and JupyterLab (as ``make course`` does, headless), then runs a notebook
(default ``notebooks/04-statefulsets.ipynb``) to the end while sampling every
process's memory four times a second. Prints the peak of the total and each
process's own peak, as RSS (what ``ps`` shows; shared pages counted in every
process) and PSS (shared pages split between the processes sharing them, so
the PSS total is what the session really takes). Target: total under 1500 MB.

The kernel runs the notebook through nbclient by default. With ``--browser``
the notebook is run the way a reader runs it instead: headless Chromium opens it
in JupyterLab and runs all cells (``tests/e2e/run_notebook.mjs``; run
``bash tests/e2e/setup.sh`` first); the browser's memory is then shown apart,
since it is the reader's browser rather than the course.

Run: ``.venv/bin/python benchmarks/memory.py [--notebook PATH] [--browser]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_MB = 1500
CLUSTER = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "coredns")


def _status_kb(pid: int, field: str) -> int:
    path = "smaps_rollup" if field == "Pss:" else "status"
    try:
        for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree[ppid].append(int(entry.name))
    return tree


def _descendants(root: int, tree: dict[int, list[int]]) -> list[int]:
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, []))
    return found


def _label(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "gone"
    words = [a.decode(errors="replace") for a in argv if a]
    if not words:
        return "gone"
    name = Path(words[0]).name
    joined = " ".join(words)
    if name in CLUSTER:
        return name
    if "_podlogs.py" in joined:
        return "pod log writer"
    if "ipykernel_launcher" in joined:
        return "kernel (ipykernel)"
    if "jupyter-lab" in joined or "jupyterlab" in joined:
        return "jupyterlab server"
    if "chrom" in name or "run_notebook.mjs" in joined or name == "node":
        return "browser (chromium + driver)"
    return name


class Sampler(threading.Thread):
    """Samples RSS and PSS of the watched processes until stopped."""

    def __init__(self, roots: list[int], cluster_pids: list[int], interval: float = 0.25):
        super().__init__(daemon=True)
        self.roots = roots
        self.cluster_pids = cluster_pids
        self.interval = interval
        self.stop_event = threading.Event()
        self.peak_rss: dict[str, float] = defaultdict(float)
        self.peak_pss: dict[str, float] = defaultdict(float)
        self.peak_total_rss = 0.0
        self.peak_total_pss = 0.0
        self.peak_browser_rss = 0.0
        self.samples = 0

    def sample(self) -> None:
        tree = _children()
        pids = {p for root in self.roots for p in _descendants(root, tree)}
        pids |= set(self.cluster_pids)
        pids.discard(os.getpid())
        rss: dict[str, float] = defaultdict(float)
        pss: dict[str, float] = defaultdict(float)
        for pid in pids:
            label = _label(pid)
            rss[label] += _status_kb(pid, "VmRSS:") / 1024
            pss[label] += _status_kb(pid, "Pss:") / 1024
        browser = "browser (chromium + driver)"
        for label in rss:
            self.peak_rss[label] = max(self.peak_rss[label], rss[label])
            self.peak_pss[label] = max(self.peak_pss[label], pss[label])
        course_rss = sum(v for k, v in rss.items() if k != browser)
        course_pss = sum(v for k, v in pss.items() if k != browser)
        self.peak_total_rss = max(self.peak_total_rss, course_rss)
        self.peak_total_pss = max(self.peak_total_pss, course_pss)
        self.peak_browser_rss = max(self.peak_browser_rss, rss.get(browser, 0.0))
        self.samples += 1

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.sample()
            self.stop_event.wait(self.interval)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _cli(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "course_helpers.cli", *args],
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )


def _cluster_pids(state: Path) -> list[int]:
    files = [
        *(state / "kwok/clusters/course/pids").glob("*.pid"),
        state / "coredns/coredns.pid",
        state / "podlogs/podlogs.pid",
    ]
    return [int(f.read_text()) for f in files if f.exists()]


def _start_lab(env: dict[str, str], root: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    port, token = _free_port(), secrets.token_hex(16)
    cmd = [
        str(Path(sys.executable).with_name("jupyter")),
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--ServerApp.root_dir={REPO}",
        f"--IdentityProvider.token={token}",
        f"--LabApp.workspaces_dir={root / 'workspaces'}",
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(root / "jupyterlab.log", "wb")  # noqa: SIM115 - lives as long as the server
    server = subprocess.Popen(
        cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2).close()
            return server, base, token
        time.sleep(0.5)
    raise SystemExit(f"JupyterLab did not start; see {root / 'jupyterlab.log'}")


def _run_with_nbclient(notebook: Path) -> float:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(notebook.parent)}},
    )
    started = time.monotonic()
    client.execute()
    return time.monotonic() - started


def _run_in_browser(notebook: Path, base: str, token: str, out: Path) -> float:
    driver = REPO / "tests" / "e2e" / "run_notebook.mjs"
    node = shutil.which("node")
    if node is None or not (driver.parent / "node_modules" / "playwright-core").is_dir():
        raise SystemExit("--browser needs node and `bash tests/e2e/setup.sh` first")
    rel = notebook.resolve().relative_to(REPO)
    url = f"{base}/lab/workspaces/memory/tree/{rel}?token={token}"
    started = time.monotonic()
    proc = subprocess.run(
        [node, str(driver), "--url", url, "--out", str(out), "--timeout", "600"],
        cwd=driver.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"run_notebook.mjs failed:\n{proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if result.get("errors"):
        print(f"warning: the notebook showed errors: {result['errors'][:3]}")
    return time.monotonic() - started


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebook", default="notebooks/04-statefulsets.ipynb")
    parser.add_argument("--browser", action="store_true", help="run it in headless Chromium")
    args = parser.parse_args()
    notebook = (REPO / args.notebook).resolve()
    if not notebook.exists():
        print(f"{args.notebook} does not exist")
        return 2

    with tempfile.TemporaryDirectory(prefix="course-memory-") as tmp:
        root = Path(tmp)
        env = {
            **os.environ,
            "COURSE_CLUSTER": "embedded",
            "COURSE_STATE_DIR": str(root / "state"),
            "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
        }
        env.pop("COURSE_KUBECONFIG", None)
        os.environ.update(env)  # the nbclient kernel inherits this process's environment
        _cli(env, "up")
        server = None
        try:
            server, base, token = _start_lab(env, root)
            sampler = Sampler([server.pid, os.getpid()], _cluster_pids(root / "state"))
            sampler.sample()
            idle = sum(v for k, v in sampler.peak_rss.items() if not k.startswith("browser"))
            sampler.start()
            if args.browser:
                seconds = _run_in_browser(notebook, base, token, root / "shots")
            else:
                seconds = _run_with_nbclient(notebook)
            time.sleep(1)
            sampler.stop_event.set()
            sampler.join()
        finally:
            if server is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=30)
            _cli(env, "down")

    how = "headless Chromium through JupyterLab" if args.browser else "nbclient"
    print(f"notebook: {args.notebook}, run with {how} in {seconds:.0f}s")
    print(f"samples: {sampler.samples} (every {sampler.interval}s)")
    print(f"idle before the run (cluster + JupyterLab): {idle:.0f} MB RSS")
    print(f"{'process':<28} {'peak RSS MB':>12} {'peak PSS MB':>12}")
    for label in sorted(sampler.peak_rss, key=lambda k: -sampler.peak_rss[k]):
        if label.startswith("browser") or label == "gone":
            continue
        print(f"{label:<28} {sampler.peak_rss[label]:>12.0f} {sampler.peak_pss[label]:>12.0f}")
    print(f"{'PEAK TOTAL':<28} {sampler.peak_total_rss:>12.0f} {sampler.peak_total_pss:>12.0f}")
    verdict = "under" if sampler.peak_total_rss < TARGET_MB else "OVER"
    print(f"peak total RSS {sampler.peak_total_rss:.0f} MB: {verdict} the {TARGET_MB} MB target")
    if args.browser:
        print(f"browser, apart (chromium + driver): peak {sampler.peak_browser_rss:.0f} MB RSS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
