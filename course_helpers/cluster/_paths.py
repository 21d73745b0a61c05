"""Where the course keeps things outside the checkout."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Return the directory of built binaries (``COURSE_CACHE_DIR``, else ~/.cache/...)."""
    explicit = os.environ.get("COURSE_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "k8s-workloads-course"


def state_dir() -> Path:
    """Return the directory of the embedded cluster's state (``COURSE_STATE_DIR``).

    Keeping it apart from the binaries lets tests run a throw-away cluster
    without rebuilding anything.
    """
    explicit = os.environ.get("COURSE_STATE_DIR")
    path = Path(explicit).expanduser() if explicit else cache_dir() / "state"
    path.mkdir(parents=True, exist_ok=True)
    return path
