"""What the browser end-to-end tests share: the server handle, the driver, the checks."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ARTIFACTS = REPO / "test-artifacts" / "e2e"
START_HERE = "notebooks/00-start-here.ipynb"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

# What a reader would take for breakage, wherever it appears on the page.
ERROR_TEXTS = ("Error displaying widget", "model not found", "Traceback")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "course_helpers.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, f"course-cluster {' '.join(args)} failed:\n{proc.stderr}"
    return proc.stdout


def lab_settings(directory: Path) -> Path:
    """Write JupyterLab user settings that keep a test quiet and offline."""
    news = directory / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True, exist_ok=True)
    news.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # A test runs the course's own notebooks: JupyterLab must not save their outputs.
    docs = directory / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings"
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text(json.dumps({"autosave": False}))
    return directory


@dataclass
class Lab:
    """A running JupyterLab server."""

    base: str
    token: str
    opened_url: Path
    log: Path

    def api(self, method: str, path: str) -> Any:
        """Call the server's REST API and return the decoded JSON (None when empty)."""
        request = urllib.request.Request(
            f"{self.base}/api/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def url(self, path: str, workspace: str) -> str:
        """Return the tokenised URL that opens ``path`` in a JupyterLab workspace of its own.

        A workspace of its own keeps JupyterLab from reopening what an earlier test
        left open (and starting kernels for it).
        """
        return f"{self.base}/lab/workspaces/{workspace}/tree/{path}?token={self.token}"

    def shutdown_sessions(self) -> None:
        """Shut every kernel down, so a notebook's watchers stop before the next test."""
        for session in self.api("GET", "sessions"):
            with contextlib.suppress(urllib.error.URLError):
                self.api("DELETE", f"sessions/{session['id']}")


def cluster_nodes(env: dict[str, str]) -> list[str]:
    """Return the node names of the e2e session's embedded cluster."""
    from kubernetes import client as k8s
    from kubernetes import config as k8s_config

    kubeconfig = Path(env["COURSE_STATE_DIR"]) / "kubeconfig"
    api = k8s_config.new_client_from_config(config_file=str(kubeconfig))
    try:
        return sorted(n.metadata.name for n in k8s.CoreV1Api(api).list_node().items)
    finally:
        api.close()


def run_notebook(
    lab: Lab,
    node: Path,
    url: str,
    name: str,
    timeout: float = 240,
    settle: float = 3,
    during: str | None = None,
    viewport: tuple[int, int] | None = None,
    theme: str | None = None,
) -> dict[str, Any]:
    """Open ``url`` in headless Chromium, run all cells and return what the page showed.

    ``viewport`` is (width, height) in pixels (default 1400 x 1000; a projector's
    is 1024 x 768); ``theme="dark"`` switches JupyterLab to its dark theme first.
    ``result["layout"]`` lists chart text past its chart's edges and table
    headers that wrap (see ``checkLayout`` in run_notebook.mjs).

    Screenshots and ``result.json`` go to ``test-artifacts/e2e/<name>/``. With
    ``during``, every cell whose source contains it is watched while it runs:
    ``result["during"]`` lists, per such cell, the earlier widget cells whose
    view drew something new before it ended (``changed``) and a page screenshot
    scrolled to the first of them, taken as soon as it changed
    (``04-during-cell-NN-view-MM.png``; ``duringWait``: the cell still ran after).
    """
    out = ARTIFACTS / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cmd = [
        str(node),
        str(HERE / "run_notebook.mjs"),
        *("--url", url, "--api", lab.base, "--token", lab.token, "--out", str(out)),
        *("--timeout", str(timeout), "--settle", str(settle)),
        *(("--during", during) if during else ()),
        *(("--width", str(viewport[0]), "--height", str(viewport[1])) if viewport else ()),
        *(("--theme", theme) if theme else ()),
    ]
    proc = subprocess.run(
        cmd,
        cwd=HERE,
        env={**os.environ, "CHROMIUM": CHROMIUM},
        capture_output=True,
        text=True,
        timeout=timeout + 180,
        check=False,
    )
    (out / "driver.log").write_text(proc.stderr)
    assert proc.returncode == 0, f"run_notebook.mjs failed:\n{proc.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def describe(result: dict[str, Any]) -> str:
    """Return a short account of a run for assertion messages."""
    lines = [f"artifacts: {ARTIFACTS}", f"timings: {result.get('timings')}"]
    for cell in result.get("codeCells", []):
        texts = " | ".join(o["text"][:160].replace("\n", " ") for o in cell["outputs"])
        lines.append(f"  cell {cell['index']} {cell['prompt']} {cell['firstLine'][:50]!r}: {texts}")
    if result.get("console"):
        lines.append(f"browser console errors: {result['console'][:5]}")
    return "\n".join(lines)


def reader_issues(result: dict[str, Any], longest: int = 10_000) -> list[str]:
    """Return what a reader would find odd without it being an error.

    A blank output (a live view that was closed, so its picture is gone) and a
    wall of text (an output longer than ``longest`` characters).
    """
    issues = []
    for cell in result["codeCells"]:
        where = f"cell {cell['index']} ({cell['firstLine'][:40]!r})"
        for output in cell["outputs"]:
            if not output["text"].strip() and not output["widgets"]:
                issues.append(f"{where}: blank output after the run")
            if output.get("length", 0) > longest:
                issues.append(f"{where}: {output['length']} characters of output")
    issues += [f"browser: {message}" for message in result.get("console", [])]
    return issues


def assert_ran_cleanly(result: dict[str, Any]) -> None:
    """Every code cell ran, none showed an error, no widget failed to display."""
    info = describe(result)
    assert not result["timedOut"], f"the notebook did not finish running\n{info}"
    assert result["errors"] == [], f"error text on the page: {result['errors']}\n{info}"
    not_run = [
        c["index"] for c in result["codeCells"] if not any(ch.isdigit() for ch in c["prompt"])
    ]
    assert not_run == [], f"code cells that did not run: {not_run}\n{info}"
    assert result["loadingWidgets"] == 0, f"widgets still loading after the run\n{info}"
    page_text = json.dumps(result["codeCells"])
    for text in ERROR_TEXTS:
        assert text not in page_text, f"{text!r} in the outputs\n{info}"
