"""What the cluster's binaries are: each pinned component's Go module, packages, version check.

A :class:`Recipe` says how to build a group of binaries from one Go module at
its pinned version (``_pins``); its :attr:`Recipe.key` names the cache
directory, so a changed pin or build recipe refills the cache. A
:class:`Binary` says how to recognise its version from ``--version``.

Example:
    >>> sorted(all_binaries())[:3]
    ['coredns', 'etcd', 'kube-apiserver']
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from . import _pins


@dataclass(frozen=True)
class Binary:
    """One executable the cluster needs, and how to recognise its version."""

    name: str
    env_var: str
    version_args: tuple[str, ...]
    version_pattern: str

    def version_of(self, path: Path) -> str | None:
        """Return the version ``path`` reports, or None if it reports none."""
        try:
            out = subprocess.run(
                [str(path), *self.version_args],
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        match = re.search(self.version_pattern, out.stdout + out.stderr)
        return match.group(1) if match else None


@dataclass(frozen=True)
class Recipe:
    """How to build a group of binaries from one Go module at one version."""

    component: str
    version: str
    module: str
    packages: dict[str, str]
    binaries: tuple[Binary, ...]
    go_install: bool = False
    ldflags: str = ""
    extra_files: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Cache key: component, version and a hash of everything that shapes the build."""
        blob = json.dumps(
            [self.module, self.version, self.packages, self.ldflags, self.extra_files],
            sort_keys=True,
        )
        digest = hashlib.sha256(blob.encode()).hexdigest()[:10]
        return f"{self.component}-{self.version}-{digest}"


def bare(version: str) -> str:
    return version.removeprefix("v")


def kubernetes_ldflags(version: str) -> str:
    major, minor, *_ = bare(version).split(".")
    flags = []
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {pkg}.gitVersion={version}",
            f"-X {pkg}.gitMajor={major}",
            f"-X {pkg}.gitMinor={minor}",
            f"-X {pkg}.gitTreeState=clean",
            f"-X {pkg}.buildDate=1970-01-01T00:00:00Z",
        ]
    return "-s -w " + " ".join(flags)


# CoreDNS registers plugins through blank imports; importing the handful we
# use keeps the build small. The directive order comes from CoreDNS itself.
_COREDNS_PLUGINS_MAIN = """\
package main

import (
\t"github.com/coredns/coredns/coremain"

\t_ "github.com/coredns/coredns/plugin/bind"
\t_ "github.com/coredns/coredns/plugin/errors"
\t_ "github.com/coredns/coredns/plugin/kubernetes"
\t_ "github.com/coredns/coredns/plugin/log"
)

func main() { coremain.Run() }
"""


def recipes() -> tuple[Recipe, ...]:
    """Return the build recipes for every pinned component."""
    kube = _pins.KUBERNETES
    return (
        Recipe(
            component="kwok",
            version=_pins.KWOK,
            module="sigs.k8s.io/kwok",
            packages={
                "kwok": "sigs.k8s.io/kwok/cmd/kwok",
                "kwokctl": "sigs.k8s.io/kwok/cmd/kwokctl",
            },
            go_install=True,
            binaries=(
                Binary("kwok", "KWOK_CONTROLLER_BINARY", ("--version",), r"v?(\d+\.\d+\.\d+)"),
                Binary("kwokctl", "COURSE_KWOKCTL_BINARY", ("--version",), r"v?(\d+\.\d+\.\d+)"),
            ),
        ),
        Recipe(
            component="kubernetes",
            version=kube,
            module="k8s.io/kubernetes",
            packages={
                name: f"k8s.io/kubernetes/cmd/{name}"
                for name in (
                    "kube-apiserver",
                    "kube-controller-manager",
                    "kube-scheduler",
                    "kubectl",
                )
            },
            ldflags=kubernetes_ldflags(kube),
            binaries=(
                Binary(
                    "kube-apiserver",
                    "KWOK_KUBE_APISERVER_BINARY",
                    ("--version",),
                    r"Kubernetes v(\d+\.\d+\.\d+)",
                ),
                Binary(
                    "kube-controller-manager",
                    "KWOK_KUBE_CONTROLLER_MANAGER_BINARY",
                    ("--version",),
                    r"Kubernetes v(\d+\.\d+\.\d+)",
                ),
                Binary(
                    "kube-scheduler",
                    "KWOK_KUBE_SCHEDULER_BINARY",
                    ("--version",),
                    r"Kubernetes v(\d+\.\d+\.\d+)",
                ),
                Binary(
                    "kubectl",
                    "KWOK_KUBECTL_BINARY",
                    ("version", "--client"),
                    r"Client Version: v(\d+\.\d+\.\d+)",
                ),
            ),
        ),
        Recipe(
            component="etcd",
            version=_pins.ETCD,
            module="go.etcd.io/etcd/server/v3",
            packages={"etcd": "go.etcd.io/etcd/server/v3"},
            ldflags="-s -w",
            binaries=(
                Binary(
                    "etcd", "KWOK_ETCD_BINARY", ("--version",), r"etcd Version: (\d+\.\d+\.\d+)"
                ),
            ),
        ),
        Recipe(
            component="coredns",
            version=_pins.COREDNS,
            module="github.com/coredns/coredns",
            packages={"coredns": "."},
            ldflags="-s -w",
            extra_files={"main.go": _COREDNS_PLUGINS_MAIN},
            binaries=(
                Binary(
                    "coredns", "COURSE_COREDNS_BINARY", ("-version",), r"CoreDNS-(\d+\.\d+\.\d+)"
                ),
            ),
        ),
    )


def all_binaries() -> dict[str, tuple[Recipe, Binary]]:
    return {b.name: (r, b) for r in recipes() for b in r.binaries}
