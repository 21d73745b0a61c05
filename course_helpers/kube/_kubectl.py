"""The kubectl a learner types: the helpers' cluster, the pinned binary, one context.

After ``ch.connect()``, ``!kubectl ...`` in a notebook cell, a ``%%kubectl`` cell
and a JupyterLab terminal whose environment came from ``course-cluster env``
(Binder's ``start`` and ``make course`` set it) all run the same kubectl against
the same one-context kubeconfig, both under the state directory:

* ``<state>/kubectl/kubeconfig``: mode 0600, holding ONLY the context the helpers
  chose (the embedded cluster's, or the user's chosen local one with its cluster
  and user); rewritten by every ``connect()``, so a terminal opened later agrees.
* ``<state>/kubectl/bin/kubectl``: a link to the pinned kubectl, first on ``PATH``.

The user's own kubeconfig is only read, never changed, and its other contexts are
never copied. When the pinned kubectl is not built (possible with your own
cluster), a kubectl on ``PATH`` within one minor version of the API server is
linked instead (Kubernetes' version-skew policy for kubectl); otherwise the link
is a stand-in that says how to build the pinned one and runs nothing else, so an
unrelated old ``kubectl`` never talks to the course's cluster.

Example:
    >>> import course_helpers as ch
    >>> info = ch.connect()  # doctest: +SKIP
    >>> !kubectl config get-contexts -o name  # doctest: +SKIP
    kwok-course
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from ..cluster import _binaries, _embedded, _pins
from ..cluster._binaries import Log
from ..cluster._paths import state_dir
from ..errors import BinaryError

#: Where ``export()`` keeps the user's KUBECONFIG once KUBECONFIG points at ours.
ORIGINAL_KUBECONFIG = "COURSE_USER_KUBECONFIG"

_STAND_IN = """#!/bin/sh
# Written by course_helpers: the course's kubectl is not available.
echo "kubectl: the course's kubectl ({version}) is not built, and no kubectl within one \
minor version of the API server ({server}) is on PATH, so none is run." >&2
echo "Build it with \\`course-cluster install\\` (about 5-10 minutes the first time), \
then run ch.connect() again." >&2
exit 1
"""

#: Path-valued kubeconfig fields, resolved against the file that defined them.
_PATH_FIELDS = {
    "cluster": ("certificate-authority",),
    "user": ("client-certificate", "client-key", "tokenFile"),
}


def session_dir() -> Path:
    """Return ``<state>/kubectl``, created if needed (mode 0700: it holds credentials)."""
    path = state_dir() / "kubectl"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def kubeconfig_path() -> Path:
    """Return the one-context kubeconfig that notebooks and terminals use."""
    return session_dir() / "kubeconfig"


def bin_dir() -> Path:
    """Return the directory put first on ``PATH``; it holds only ``kubectl``."""
    path = session_dir() / "bin"
    path.mkdir(exist_ok=True)
    return path


def user_kubeconfig() -> str:
    """Return the user's kubeconfig path(s), even after ``export()`` replaced KUBECONFIG."""
    value = os.environ.get("KUBECONFIG")
    if value and value != str(kubeconfig_path()):
        return value
    return os.environ.get(ORIGINAL_KUBECONFIG) or os.path.expanduser("~/.kube/config")


def _resolve(entry: dict[str, Any], kind: str, base: Path) -> dict[str, Any]:
    entry = dict(entry)
    for key in _PATH_FIELDS[kind]:
        value = entry.get(key)
        if isinstance(value, str) and value and not os.path.isabs(value):
            entry[key] = str(base / value)
    command = entry.get("exec", {}).get("command") if kind == "user" else None
    if isinstance(command, str) and "/" in command and not os.path.isabs(command):
        entry["exec"] = {**entry["exec"], "command": str(base / command)}
    return entry


def single_context(source: str, context: str) -> dict[str, Any]:
    """Return a kubeconfig holding only ``context``, its cluster and its user.

    ``source`` is one path or several joined by ``os.pathsep`` (as in KUBECONFIG);
    the first definition of a name wins, as kubectl merges them. Relative
    certificate and key paths are made absolute, so the copy works from anywhere.

    Example:
        >>> single_context("~/.kube/config", "kind-kind")["contexts"]  # doctest: +SKIP
        [{'name': 'kind-kind', 'context': {'cluster': 'kind-kind', 'user': 'kind-kind'}}]

    Raises:
        ValueError: the context, or the cluster it names, is not in ``source``.
    """
    found: dict[str, dict[str, dict[str, Any]]] = {"context": {}, "cluster": {}, "user": {}}
    for name in filter(None, source.split(os.pathsep)):
        path = Path(name).expanduser()
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError):
            continue
        for kind in found:
            for item in data.get(f"{kind}s") or []:
                if isinstance(item, dict) and item.get("name") and item.get(kind) is not None:
                    entry = item[kind]
                    if kind != "context":
                        entry = _resolve(entry, kind, path.resolve().parent)
                    found[kind].setdefault(item["name"], entry)
    ctx = found["context"].get(context)
    if ctx is None:
        raise ValueError(f"no context {context!r} in {source}")
    cluster, user = ctx.get("cluster"), ctx.get("user")
    if cluster not in found["cluster"]:
        raise ValueError(f"context {context!r} names cluster {cluster!r}, not in {source}")
    config: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": found["cluster"][cluster]}],
        "contexts": [{"name": context, "context": ctx}],
        "current-context": context,
        "users": [],
    }
    if user:
        config["users"] = [{"name": user, "user": found["user"].get(user, {})}]
    return config


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically with mode 0600."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_kubeconfig(source: str, context: str) -> Path:
    """Write the one-context kubeconfig for ``context`` from ``source``; return its path."""
    path = kubeconfig_path()
    write_private(path, yaml.safe_dump(single_context(source, context), sort_keys=False))
    return path


def _minor(version: str) -> tuple[int, int] | None:
    match = re.match(r"v?(\d+)\.(\d+)", version)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _client_version(kubectl: str) -> str | None:
    try:
        out = subprocess.run(
            [kubectl, "version", "--client", "-o", "json"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        return str(json.loads(out.stdout)["clientVersion"]["gitVersion"])
    except (OSError, subprocess.TimeoutExpired, ValueError, KeyError, TypeError):
        return None


def _own_kubectl_within_skew(server_version: str) -> tuple[str, str] | None:
    """Return (path, version) of a kubectl on PATH within one minor of the server."""
    ours = str(bin_dir())
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p != ours)
    found = shutil.which("kubectl", path=path)
    server = _minor(server_version)
    if not found or server is None:
        return None
    version = _client_version(found)
    client = _minor(version or "")
    if version and client and client[0] == server[0] and abs(client[1] - server[1]) <= 1:
        return found, version
    return None


def _link(target: Path) -> None:
    link = bin_dir() / "kubectl"
    if link.is_symlink() and os.readlink(link) == str(target):
        return
    tmp = bin_dir() / f".kubectl.{os.getpid()}.new"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    os.replace(tmp, link)


def install_kubectl(server_version: str | None = None, log: Log = print) -> Path | None:
    """Link ``bin_dir()/kubectl`` to the kubectl the course runs; return its target.

    The pinned kubectl when it is built; otherwise, when ``server_version`` is
    known, a kubectl on ``PATH`` within one minor version of it; otherwise a
    stand-in that explains and exits 1 (None is returned then).
    """
    try:
        pinned = _binaries.locate("kubectl")
    except BinaryError as exc:
        log(f"kubectl: {exc}")
        pinned = None
    if pinned is not None:
        pinned = Path(os.path.realpath(pinned))  # never a link to our own link
        _link(pinned)
        return pinned
    own = _own_kubectl_within_skew(server_version) if server_version else None
    if own is not None:
        _link(Path(own[0]))
        log(
            f"kubectl: the course's kubectl {_pins.KUBERNETES} is not built; `kubectl` runs your "
            f"{own[0]} ({own[1]}), within one minor version of the API server. "
            "`course-cluster install` builds the course's own."
        )
        return Path(own[0])
    link = bin_dir() / "kubectl"
    link.unlink(missing_ok=True)
    text = _STAND_IN.format(version=_pins.KUBERNETES, server=server_version or "unknown")
    fd = os.open(link, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o755)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    if server_version:
        log(
            f"kubectl: the course's kubectl {_pins.KUBERNETES} is not built and no kubectl within "
            f"one minor version of {server_version} is on PATH; `!kubectl` will say so. "
            "Run `course-cluster install`, then ch.connect() again."
        )
    return None


def kubectl() -> Path:
    """Return the kubectl the course runs (``bin_dir()/kubectl``), installing it if needed."""
    link = bin_dir() / "kubectl"
    if not link.exists():
        install_kubectl(log=lambda _msg: None)
    return link


def env_lines() -> list[str]:
    """Return the shell lines that give a terminal the course's kubectl and kubeconfig.

    Example:
        >>> env_lines()  # doctest: +SKIP
        ['export KUBECONFIG=/home/me/.cache/k8s-workloads-course/state/kubectl/kubeconfig',
         'export PATH=/home/me/.cache/k8s-workloads-course/state/kubectl/bin:"$PATH"']
    """
    return [
        f"export KUBECONFIG={shlex.quote(str(kubeconfig_path()))}",
        f'export PATH={shlex.quote(str(bin_dir()))}:"$PATH"',
    ]


def export(context: str, embedded: bool, server_version: str | None, log: Log = print) -> Path:
    """Give this process (a notebook kernel) and its children the chosen cluster's kubectl.

    Writes the one-context kubeconfig (from the embedded cluster's kubeconfig, or
    from the user's), links kubectl, sets ``KUBECONFIG`` and puts ``bin_dir()``
    first on ``PATH`` (once). ``connect()`` calls it.

    Example:
        >>> export("kwok-course", True, "v1.36.1")  # doctest: +SKIP
        PosixPath('/home/me/.cache/k8s-workloads-course/state/kubectl/kubeconfig')
    """
    source = str(_embedded.kubeconfig_path()) if embedded else user_kubeconfig()
    path = write_kubeconfig(source, context)
    install_kubectl(server_version, log)
    previous = os.environ.get("KUBECONFIG")
    if previous and previous != str(path):
        os.environ[ORIGINAL_KUBECONFIG] = previous
    os.environ["KUBECONFIG"] = str(path)
    ours = str(bin_dir())
    rest = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != ours]
    os.environ["PATH"] = os.pathsep.join([ours, *rest])
    return path


def forget_embedded(context: str) -> None:
    """Remove the one-context kubeconfig when it is ``context``'s (the cluster is gone)."""
    path = state_dir() / "kubectl" / "kubeconfig"
    try:
        current = (yaml.safe_load(path.read_text()) or {}).get("current-context")
    except (OSError, yaml.YAMLError):
        return
    if current == context:
        path.unlink(missing_ok=True)
