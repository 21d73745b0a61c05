"""The new user's path: `make course` opens 00-start-here.ipynb, and running it works.

The server is started as `make course` starts it (see ``conftest.lab``). The
URL JupyterLab hands to a browser is opened in headless Chromium, exactly as
a user's browser would open it; then Run > Run All Cells.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import pytest
from e2e_support import (
    REPO,
    START_HERE,
    Lab,
    assert_ran_cleanly,
    describe,
    reader_issues,
    run_notebook,
)

pytestmark = pytest.mark.e2e


def _opened_url(lab: Lab) -> str:
    # JupyterLab calls the "browser" command just after it starts listening.
    deadline = time.monotonic() + 30
    while not lab.opened_url.exists():
        assert time.monotonic() < deadline, "JupyterLab never asked a browser to open a page"
        time.sleep(0.2)
    return lab.opened_url.read_text().strip()


#: The cells that wait while live views are on screen: they await, so the kernel's
#: event loop, and with it every view, keeps running meanwhile.
AWAITED = "await "


def _awaiting_cells() -> list[str]:
    cells = json.loads((REPO / START_HERE).read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    return [s for s in sources if AWAITED in s]


def test_make_course_opens_start_here_and_it_runs(lab: Lab, e2e_tools: Path) -> None:
    assert (REPO / START_HERE).exists(), f"{START_HERE} is missing"
    url = _opened_url(lab)
    try:
        result = run_notebook(lab, e2e_tools, url, "start-here", during=AWAITED)
    finally:
        lab.shutdown_sessions()
    info = describe(result)
    assert result["notebookPath"] == START_HERE, info
    assert result["title"] == "00-start-here.ipynb", info
    assert result["codeCells"], f"{START_HERE} has no code cells\n{info}"
    assert_ran_cleanly(result)
    # ch.connect() describes the cluster it reached: the embedded one, with its nodes.
    shown = " ".join(o["text"] for c in result["codeCells"] for o in c["outputs"])
    assert "embedded (kwok)" in shown and "worker-1" in shown, f"no working cluster shown\n{info}"
    # The views stay live while a cell waits: some view above an awaited wait drew
    # something new while that wait ran (a blocking wait would freeze them all).
    waits = result["during"]
    assert _awaiting_cells(), (
        f"{START_HERE} has no awaited wait, so its views freeze while it waits"
    )
    assert waits, f"no awaited cell was seen running\n{info}"
    live = [w for w in waits if w["changed"]]
    assert live, f"no live view changed during an awaited wait: {waits}\n{info}"
    # ...and a screenshot shows one of them mid-wait (the cell still running after it was taken)
    shots = [s for w in live for s in w["screenshots"] if s["duringWait"]]
    assert shots, f"no screenshot was taken while a wait still ran: {waits}\n{info}"
    assert all(Path(s["path"]).exists() for s in shots), shots
    # A learner's kubectl, run from a cell below a live view, prints kubectl's own table
    # (issue 10): the pinned kubectl on the helpers' cluster, beside the view it lists.
    magic = [c for c in result["codeCells"] if c["source"].startswith("%kubectl get pods")]
    assert magic, f"{START_HERE} has no %kubectl get pods cell\n{info}"
    listed = " ".join(o["text"] for o in magic[0]["outputs"])
    assert "NAME" in listed and "storage-daemon-" in listed and "worker-" in listed, listed
    views_above = [c for c in result["codeCells"] if "ch.PodsPerNode(" in c["source"]]
    assert views_above and views_above[0]["index"] < magic[0]["index"], info
    # Not failures, but worth a look in the screenshots (test-artifacts/e2e/start-here/).
    for issue in reader_issues(result):
        warnings.warn(f"{START_HERE}: {issue}", UserWarning, stacklevel=1)
