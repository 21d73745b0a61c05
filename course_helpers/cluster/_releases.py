"""Where the official release binaries of the pinned components are published, and their layout.

The one place that knows the download addresses: ``course-cluster install``
first tries these files (each checked against the SHA-256 its project
publishes beside it, then run with ``--version`` like a built binary) and
builds from the pinned Go modules (``_pins``) only when they cannot be had.

Layout, for version ``V``, OS ``O`` (linux, darwin) and architecture ``A``
(amd64, arm64):

* Kubernetes: ``{KUBERNETES}/V/bin/O/A/<name>``, one file per binary, each with
  ``<name>.sha256`` (the bare hex digest) beside it. Server binaries
  (kube-apiserver, kube-controller-manager, kube-scheduler) exist for Linux only.
* etcd: ``{ETCD}/V/etcd-V-O-A.tar.gz`` (``.zip`` on macOS) holding
  ``etcd-V-O-A/etcd``; digests in ``{ETCD}/V/SHA256SUMS`` (``<hex>  <file>`` lines).
* kwok: ``{KWOK}/V/kwok-O-A`` and ``kwokctl-O-A``, bare binaries. kwok's
  release script uploads no checksum file; the SHA-256 GitHub records for each
  release asset (``digest`` in ``{KWOK_API}/V``) is the published one.
* CoreDNS: ``{COREDNS}/V/coredns_<V without v>_O_A.tgz`` holding ``coredns``,
  with ``<file>.sha256`` (``<hex>  <file>``) beside it.

``COURSE_RELEASES_MIRROR=http://host:port`` fetches every address from
``http://host:port/<original host>/<original path>`` instead (a local copy, or
the tests' server on 127.0.0.1); ``COURSE_RELEASES=off`` skips downloads.
"""

from __future__ import annotations

import os
import platform as _platform
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from . import _pins

KUBERNETES = "https://dl.k8s.io/release"
ETCD = "https://github.com/etcd-io/etcd/releases/download"
KWOK = "https://github.com/kubernetes-sigs/kwok/releases/download"
KWOK_API = "https://api.github.com/repos/kubernetes-sigs/kwok/releases/tags"
COREDNS = "https://github.com/coredns/coredns/releases/download"

#: How a checksum file states the digest: ``sums`` is a bare hex digest or
#: ``<hex>  <file>`` lines; ``github`` is GitHub's release JSON (``assets[].digest``).
ChecksumFormat = Literal["sums", "github"]


@dataclass(frozen=True)
class Asset:
    """One downloadable file, where its SHA-256 is published, and which binaries it holds."""

    url: str
    checksum_url: str
    checksum_format: ChecksumFormat
    #: binary name -> path inside the archive ("" when the file is the binary itself)
    members: dict[str, str]

    @property
    def filename(self) -> str:
        """The file's name, as its checksum file names it."""
        return self.url.rsplit("/", 1)[1]

    @property
    def archive(self) -> Literal["tar.gz", "zip", ""]:
        """The archive format, or "" for a bare binary."""
        if self.filename.endswith((".tar.gz", ".tgz")):
            return "tar.gz"
        return "zip" if self.filename.endswith(".zip") else ""


def enabled() -> bool:
    """Say whether downloads are allowed (``COURSE_RELEASES`` is not off/0/no/false)."""
    return os.environ.get("COURSE_RELEASES", "").strip().lower() not in ("off", "0", "no", "false")


def mirrored(url: str) -> str:
    """Return ``url``, or its place under ``COURSE_RELEASES_MIRROR`` when that is set."""
    mirror = os.environ.get("COURSE_RELEASES_MIRROR", "").strip().rstrip("/")
    if not mirror:
        return url
    parts = urlsplit(url)
    return f"{mirror}/{parts.netloc}{parts.path}"


def host_platform() -> tuple[str, str] | None:
    """Return (os, arch) as the release files name them, or None for a platform they lack."""
    system = {"Linux": "linux", "Darwin": "darwin"}.get(_platform.system())
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        _platform.machine().lower()
    )
    return (system, arch) if system and arch else None


def assets(component: str, os_: str, arch: str) -> tuple[Asset, ...]:
    """Return the files that hold ``component``'s binaries at its pinned version.

    An empty tuple means the project publishes none for this platform.

    Example:
        >>> [a.url for a in assets("etcd", "linux", "amd64")]  # doctest: +NORMALIZE_WHITESPACE
        ['https://github.com/etcd-io/etcd/releases/download/v3.6.10/etcd-v3.6.10-linux-amd64.tar.gz']
    """
    if component == "kubernetes":
        if os_ != "linux":
            return ()  # no server binaries for this OS: the whole component is built
        version = _pins.KUBERNETES
        names = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"]
        base = f"{KUBERNETES}/{version}/bin/{os_}/{arch}"
        return tuple(Asset(f"{base}/{n}", f"{base}/{n}.sha256", "sums", {n: ""}) for n in names)
    if component == "etcd":
        version = _pins.ETCD
        stem = f"etcd-{version}-{os_}-{arch}"
        ext = "zip" if os_ == "darwin" else "tar.gz"
        base = f"{ETCD}/{version}"
        members = {"etcd": f"{stem}/etcd"}
        return (Asset(f"{base}/{stem}.{ext}", f"{base}/SHA256SUMS", "sums", members),)
    if component == "kwok":
        version = _pins.KWOK
        api = f"{KWOK_API}/{version}"
        return tuple(
            Asset(f"{KWOK}/{version}/{n}-{os_}-{arch}", api, "github", {n: ""})
            for n in ("kwok", "kwokctl")
        )
    if component == "coredns":
        version = _pins.COREDNS
        name = f"coredns_{version.removeprefix('v')}_{os_}_{arch}.tgz"
        url = f"{COREDNS}/{version}/{name}"
        return (Asset(url, f"{url}.sha256", "sums", {"coredns": "coredns"}),)
    raise KeyError(f"no release layout for component {component!r}")
