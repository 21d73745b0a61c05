import subprocess
import sys
from pathlib import Path

import pytest

from course_helpers.cluster import _process
from course_helpers.cluster._process import is_ours, kill_if_ours


@pytest.fixture(params=["proc", "ps"])
def how(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Run each test with /proc, and as on macOS (no /proc: `ps` answers)."""
    if request.param == "ps":
        monkeypatch.setattr(_process, "PROC", tmp_path / "no-proc")
    return str(request.param)


def test_only_processes_started_from_the_marker_directory_are_ours(
    tmp_path: Path, how: str
) -> None:
    # Each child says when it runs. Popen returns once exec has closed the child's
    # close-on-exec pipe, a moment before the kernel gives it its new command line:
    # /proc/<pid>/cmdline read in between is empty (1 run in ~80 under load).
    mine = subprocess.Popen(
        [sys.executable, "-c", "import time; print(1, flush=True); time.sleep(30)", str(tmp_path)],
        stdout=subprocess.PIPE,
    )
    stranger = subprocess.Popen(["sh", "-c", "echo 1; exec sleep 30"], stdout=subprocess.PIPE)
    try:
        for child in (mine, stranger):
            assert child.stdout is not None and child.stdout.readline() == b"1\n"
        assert is_ours(mine.pid, tmp_path)
        assert not is_ours(stranger.pid, tmp_path)
        assert not kill_if_ours(stranger.pid, tmp_path)
        assert stranger.poll() is None, "a process that merely reused a pid must survive"
        assert kill_if_ours(mine.pid, tmp_path)
        assert mine.wait(timeout=10) == -9
        assert not is_ours(mine.pid, tmp_path)
    finally:
        for child in (mine, stranger):
            child.kill()
            child.wait()
            if child.stdout is not None:
                child.stdout.close()
