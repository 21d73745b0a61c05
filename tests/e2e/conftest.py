"""Browser end-to-end fixtures: a cluster, a JupyterLab server and a headless Chromium.

Everything runs apart from a user's set-up: the embedded cluster in its own
state directory (the built binaries are reused), JupyterLab on 127.0.0.1 with
a random free port, a token and settings of its own. ``tests/e2e/setup.sh``
installs Chromium and playwright-core first; ``run_notebook.mjs`` drives the page.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import CHROMIUM, HERE, REPO, START_HERE, Lab, cli, free_port, lab_settings


@pytest.fixture(scope="session")
def e2e_tools() -> Path:
    """Check that setup.sh ran: Chromium and playwright-core are where the script expects."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `bash tests/e2e/setup.sh` first")
    if not (HERE / "node_modules" / "playwright-core").is_dir():
        pytest.fail("playwright-core is not installed: run `bash tests/e2e/setup.sh` first")
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH (Node.js 20 or newer is needed)")
    return Path(node)


@pytest.fixture(scope="session")
def e2e_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment of a new user's session, with an embedded cluster of its own, started."""
    root = tmp_path_factory.mktemp("e2e")
    env = {
        **os.environ,
        "COURSE_CLUSTER": "embedded",
        "COURSE_STATE_DIR": str(root / "state"),
        "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("COURSE_KUBECONFIG", "COURSE_CONTEXT", "COURSE_APISERVER_PORT", "COURSE_DNS_PORT"):
        env.pop(name, None)
    # As `make course` does: the cluster first, then JupyterLab. A start that fails
    # (nodes never Ready) has still started processes: they are deleted too.
    try:
        cli(env, "up")
        yield env
    finally:
        cli(env, "down", timeout=180)


@pytest.fixture(scope="session")
def lab(
    e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory, e2e_tools: Path
) -> Iterator[Lab]:
    """JupyterLab started the way `make course` starts it, headless.

    `make course` runs ``jupyter lab --ip=127.0.0.1 --port=PORT
    --ServerApp.root_dir=REPO notebooks/00-start-here.ipynb``. The test adds only a
    random port, a token, settings and workspaces of its own, and a "browser"
    command that records the URL JupyterLab asks a browser to open.
    """
    root = tmp_path_factory.mktemp("lab")
    token = secrets.token_hex(16)
    port = free_port()
    opened = root / "opened-url.txt"
    record = "import pathlib, sys; pathlib.Path(sys.argv[1]).write_text(sys.argv[2])"
    browser = shlex.join([sys.executable, "-c", record, str(opened)]) + " %s"
    jupyter = Path(sys.executable).with_name("jupyter")
    cmd = [
        str(jupyter if jupyter.exists() else "jupyter"),
        "lab",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={REPO}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.browser={browser}",
        f"--LabApp.user_settings_dir={lab_settings(root / 'settings')}",
        f"--LabApp.workspaces_dir={root / 'workspaces'}",
    ]
    # JupyterLab refuses to start on a missing file; the start-here test then fails on its own.
    if (REPO / START_HERE).exists():
        cmd.append(START_HERE)
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = root / "jupyterlab.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=e2e_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    running = Lab(base=f"http://127.0.0.1:{port}", token=token, opened_url=opened, log=log)
    try:
        deadline = time.monotonic() + 90
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited ({server.returncode}):\n{log.read_text()[-3000:]}")
            with contextlib.suppress(OSError, ValueError):
                running.api("GET", "status")
                break
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer in 90s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield running
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
