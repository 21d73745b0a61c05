"""The binaries cache: one directory a recipe, filled in a staging directory and committed whole.

A directory counts only once it holds ``.complete`` (written last, with
``.source``: where the binaries came from), and only binaries that report the
pinned version are committed, so an interrupted download or build never
leaves a half-filled cache behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ._paths import cache_dir
from ._recipes import Binary, Recipe, bare


def bin_dir(recipe: Recipe) -> Path:
    return cache_dir() / "bin" / recipe.key


def cached_path(recipe: Recipe, binary: Binary) -> Path | None:
    directory = bin_dir(recipe)
    path = directory / binary.name
    if (directory / ".complete").exists() and os.access(path, os.X_OK):
        return path
    return None


def check_versions(recipe: Recipe, directory: Path) -> str | None:
    """Return what is wrong with the binaries in ``directory``, or None if all match the pin."""
    for binary in recipe.binaries:
        got = binary.version_of(directory / binary.name)
        if got != bare(recipe.version):
            return f"{binary.name} reports version {got or 'unknown'}, expected {recipe.version}"
    return None


def commit(recipe: Recipe, staging_dir: Path, source: str) -> Path:
    """Mark ``staging_dir`` complete and move it to the recipe's cache directory."""
    target = bin_dir(recipe)
    (staging_dir / ".source").write_text(source + "\n")
    (staging_dir / ".complete").write_text(recipe.key + "\n")
    if target.exists():
        shutil.rmtree(target)
    staging_dir.rename(target)
    return target


def staging(recipe: Recipe) -> Path:
    parent = ensure(bin_dir(recipe).parent)
    return Path(tempfile.mkdtemp(prefix=f".{recipe.key}-", dir=parent))


def ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
