"""The download path with real binaries: etcd and kwok from a local server in the release layout.

The release servers are out of reach here, so the binaries built into the
shared cache by `course-cluster install` are packed as their projects publish
them (etcd's tar.gz and SHA256SUMS, kwok's bare files and GitHub's digests),
served on 127.0.0.1, downloaded into an empty cache, verified and run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from release_mirror import serve, write_mirror

from course_helpers.cluster import _binaries

pytestmark = pytest.mark.integration


def test_real_etcd_and_kwok_are_downloaded_verified_and_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = {name: _binaries.locate(name) for name in ("etcd", "kwok", "kwokctl")}
    missing = [name for name, path in real.items() if path is None]
    assert not missing, f"run `course-cluster install` first: {missing} not built"
    binaries = {name: path for name, path in real.items() if path is not None}
    root = tmp_path / "mirror"
    write_mirror(root, binaries, ["etcd", "kwok"])
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_GO", "/nonexistent/go")  # a build attempt would fail loudly
    monkeypatch.delenv("COURSE_RELEASES", raising=False)
    for name in ("KWOK_ETCD_BINARY", "KWOK_CONTROLLER_BINARY", "COURSE_KWOKCTL_BINARY"):
        monkeypatch.delenv(name, raising=False)
    lines: list[str] = []
    with serve(root) as (address, requests):
        monkeypatch.setenv("COURSE_RELEASES_MIRROR", address)
        _binaries.install(lines.append, only=["etcd", "kwok"])
    assert not [line for line in lines if "no verified release download" in line], lines
    for name in ("etcd", "kwok", "kwokctl"):
        got = _binaries.locate(name)
        assert got is not None and got.is_relative_to(tmp_path / "cache"), got
        assert got.read_bytes() == binaries[name].read_bytes()
        assert (got.parent / ".source").read_text().startswith("downloaded\n")
    assert len(requests) == 5  # SHA256SUMS and the tarball; the release JSON once, two binaries
