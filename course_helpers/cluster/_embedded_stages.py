"""Keep a kept cluster's simulated containers in step with the course's kwok stages.

kwok-controller reads its stages (how a simulated container starts, runs, exits
and becomes Ready: ``kwok/stages.yaml``, ``kwok/volumes.yaml``) once, from the
cluster's ``kwok.yaml``, which kwokctl wrote when the cluster was created. A
cluster outlives kernels and course updates, so after an update that changes
the stages an old cluster would go on simulating the old behaviour, and a
lesson would show an outcome the course no longer means. ``up`` therefore
compares a fingerprint of the course's stages with the one recorded for the
cluster and, when they differ, writes the new stages into ``kwok.yaml`` and
restarts kwok-controller alone; etcd and the learner's objects are untouched.

Example:
    >>> len(fingerprint()) == 64
    True
"""

from __future__ import annotations

import hashlib
import re
from importlib import resources

import yaml

from ._binaries import Log
from ._embedded_kwok import stop_kwok_controller
from ._embedded_state import cluster_dir
from ._paths import state_dir

#: The course's stage files, in the order they are written into kwok.yaml.
STAGE_FILES = ("stages.yaml", "volumes.yaml")

_SEPARATOR = re.compile(r"^---[ \t]*$", re.MULTILINE)


def course_stages() -> list[str]:
    """Return the text of each of the course's stage files."""
    package = resources.files("course_helpers.cluster") / "kwok"
    return [(package / name).read_text() for name in STAGE_FILES]


def fingerprint() -> str:
    """Return the SHA-256 of the course's stage files."""
    digest = hashlib.sha256()
    for text in course_stages():
        digest.update(text.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _record() -> str:
    return str(state_dir() / "kwok-stages.sha256")


def remember() -> None:
    """Record that the cluster runs the course's current stages (after creating it)."""
    with open(_record(), "w") as out:
        out.write(fingerprint() + "\n")


def recorded() -> str | None:
    """Return the fingerprint recorded for the cluster, or None (an older course made it)."""
    try:
        with open(_record()) as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def _is_stage(chunk: str) -> bool:
    try:
        docs = list(yaml.safe_load_all(chunk))
    except yaml.YAMLError:
        return False
    return any(isinstance(doc, dict) and doc.get("kind") == "Stage" for doc in docs)


def rewrite(config: str) -> str:
    r"""Return kwokctl's saved configuration with its Stage documents replaced by the course's.

    Example:
        >>> text = rewrite("kind: KwokctlConfiguration\n---\nkind: Stage\nmetadata: {name: old}")
        >>> "name: old" in text, text.startswith("kind: KwokctlConfiguration")
        (False, True)
    """
    kept = [chunk.strip("\n") for chunk in _SEPARATOR.split(config)]
    kept = [chunk for chunk in kept if chunk.strip() and not _is_stage(chunk)]
    return "\n---\n".join(kept + [text.strip("\n") for text in course_stages()]) + "\n"


def refresh(log: Log) -> bool:
    """Give a kept cluster the course's current stages; return True if they changed.

    Writes them into the cluster's ``kwok.yaml`` and stops kwok-controller, so
    the caller's resume starts it again on them (``_embedded_kwok`` hands it the
    nodes). Nothing else is touched.
    """
    config = cluster_dir() / "kwok.yaml"
    if recorded() == fingerprint() or not config.exists():
        return False
    config.write_text(rewrite(config.read_text()))
    stopped = stop_kwok_controller()
    remember()
    log(
        "the course's simulated container behaviour (its kwok stages) changed since this "
        "cluster was made: "
        + ("restarting kwok-controller with the new stages" if stopped else "updated them")
        + "; your objects are kept"
    )
    return True
