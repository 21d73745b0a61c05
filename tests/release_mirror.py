"""A local stand-in for the release servers: the same layout as ``_releases``, on 127.0.0.1.

``write_mirror`` lays out release files built from the binaries it is given
(real ones, or the small fakes of ``fake_binaries``), with checksum files in
each project's format; ``serve`` answers HTTP for them and records requests.
Point ``COURSE_RELEASES_MIRROR`` at the returned address.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from course_helpers.cluster import _binaries, _releases

#: What each binary prints for its version check at the pinned versions.
VERSION_LINES = {
    "kube-apiserver": "Kubernetes {kubernetes}",
    "kube-controller-manager": "Kubernetes {kubernetes}",
    "kube-scheduler": "Kubernetes {kubernetes}",
    "kubectl": "Client Version: {kubernetes}",
    "etcd": "etcd Version: {etcd_bare}",
    "kwok": "kwok version {kwok}",
    "kwokctl": "kwok version {kwok}",
    "coredns": "CoreDNS-{coredns_bare}",
}


def fake_binaries(directory: Path, versions: dict[str, str] | None = None) -> dict[str, Path]:
    """Write tiny shell scripts that report the pinned versions (or ``versions``' overrides)."""
    pins = {r.component: r.version for r in _binaries.recipes()}
    pins.update(versions or {})
    fields = {**pins, **{f"{k}_bare": v.removeprefix("v") for k, v in pins.items()}}
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, line in VERSION_LINES.items():
        path = directory / name
        path.write_text(f"#!/bin/sh\necho '{line.format(**fields)}'\n")
        path.chmod(0o755)
        out[name] = path
    return out


def local_path(root: Path, url: str) -> Path:
    """Return where ``url`` lives under the mirror ``root`` (``<host>/<path>``)."""
    parts = urlsplit(url)
    return root / parts.netloc / parts.path.lstrip("/")


def _pack(asset: _releases.Asset, binaries: dict[str, Path]) -> bytes:
    if not asset.archive:
        ((name, _),) = asset.members.items()
        return binaries[name].read_bytes()
    buffer = io.BytesIO()
    if asset.archive == "zip":
        with zipfile.ZipFile(buffer, "w") as zipped:
            for name, member in asset.members.items():
                zipped.write(binaries[name], member)
    else:
        with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as tar:
            for name, member in asset.members.items():
                tar.add(binaries[name], arcname=member)
    return buffer.getvalue()


def write_mirror(
    root: Path, binaries: dict[str, Path], components: list[str] | None = None
) -> dict[str, Path]:
    """Lay out the release files of ``components`` (default: all) under ``root``.

    Returns each asset's file name -> its path in the mirror, so a test can
    corrupt one or delete its checksum.
    """
    platform = _releases.host_platform()
    assert platform, "no release layout for this machine's platform"
    written: dict[str, Path] = {}
    sums: dict[Path, list[str]] = {}
    github: dict[Path, list[dict[str, Any]]] = {}
    for recipe in _binaries.recipes():
        if components is not None and recipe.component not in components:
            continue
        for asset in _releases.assets(recipe.component, *platform):
            data = _pack(asset, binaries)
            path = local_path(root, asset.url)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            written[asset.filename] = path
            digest = hashlib.sha256(data).hexdigest()
            checksum = local_path(root, asset.checksum_url)
            if asset.checksum_format == "github":
                github.setdefault(checksum, []).append(
                    {"name": asset.filename, "digest": f"sha256:{digest}"}
                )
            elif recipe.component == "kubernetes":
                sums.setdefault(checksum, []).append(digest)  # the bare digest, as dl.k8s.io
            else:
                sums.setdefault(checksum, []).append(f"{digest}  {asset.filename}")
    for path, lines in sums.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
    for path, entries in github.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"tag_name": path.name, "assets": entries}))
    return written


@contextmanager
def serve(root: Path) -> Iterator[tuple[str, list[str]]]:
    """Serve ``root`` on 127.0.0.1; yield (base address, list of requested paths)."""
    requests: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self) -> None:
            requests.append(self.path)
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()
