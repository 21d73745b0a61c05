"""``kubectl logs`` on the embedded cluster: what simulated containers print, as files kwok serves.

kwok runs no container, so it has no logs of its own; it serves a container's
logs from files named by a ``Logs`` object (``kwok.x-k8s.io/v1alpha1``, one per
pod, named like the pod; the cluster runs kwok with ``enableCRDs: [Logs]``).
This module is the small process that writes those files, started with the
embedded cluster like CoreDNS (it outlives notebook kernels; ``course-cluster
down`` stops it). It watches every pod and, for each container:

* interprets the container's ``sh -c`` command with :mod:`._shell` (virtual
  time: ``sleep 5`` puts the next line five seconds after the previous one) and
  writes its lines as the container runs, so ``kubectl logs -f`` streams them;
* when kwok restarts the container in place (``restartPolicy: OnFailure``), the
  finished attempt becomes ``--previous`` and files under the container's
  ``emptyDir`` mounts carry over to the next attempt, as on a real node;
* for a container whose command it cannot interpret (an image's own program,
  a pipe, ``wget``...), writes a line saying plainly that the container is
  simulated and what was not interpreted.

Files are in the container-runtime (CRI) log format, ``<RFC3339Nano> stdout F
<line>``, under ``<state>/podlogs/<namespace>/<pod>/<uid>/``, and are removed with
their pod; the ``Logs`` object is owned by the pod, so it goes with it too.
kwok's exec (``ClusterExec``) stays disabled: nothing here runs on the host.

The parts: :mod:`._podlogs_files` (one container's files), :mod:`._podlogs_api`
(the API calls), :mod:`._podlogs_writer` (the watch loop) and here the process's
``main`` and its start and stop.

Run by hand for debugging: ``python course_helpers/cluster/_podlogs.py --kubeconfig K --dir D``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

if __package__:
    from ._podlogs_api import ApiError
    from ._podlogs_files import NOTE, ContainerLog, cri_line, script_of
    from ._podlogs_writer import Writer
else:  # run as a script by start(): no course_helpers (nor kubernetes) import, ~20 MB.
    # The sibling modules import each other relatively: load them as a package of their own.
    _siblings = types.ModuleType("_course_podlogs")
    _siblings.__path__ = [str(Path(__file__).resolve().parent)]
    sys.modules.setdefault("_course_podlogs", _siblings)
    from _course_podlogs._podlogs_api import ApiError  # type: ignore[import-not-found,no-redef]
    from _course_podlogs._podlogs_files import (  # type: ignore[import-not-found,no-redef]
        NOTE,
        ContainerLog,
        cri_line,
        script_of,
    )
    from _course_podlogs._podlogs_writer import Writer  # type: ignore[import-not-found,no-redef]

__all__ = [
    "NOTE",
    "ApiError",
    "ContainerLog",
    "Writer",
    "cri_line",
    "ensure",
    "is_running",
    "log_dir",
    "main",
    "script_of",
    "start",
    "stop",
]


def log_dir() -> Path:
    """Return the directory of the log files (and of this process's pid and log)."""
    from ._paths import state_dir

    path = state_dir() / "podlogs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def main(argv: list[str] | None = None) -> int:
    """Run the log writer for the cluster of ``--kubeconfig`` (started by :func:`start`)."""
    parser = argparse.ArgumentParser(prog="course-podlogs", description=__doc__)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--context", default=None)
    parser.add_argument("--dir", required=True, help="where the log files go")
    args = parser.parse_args(argv)
    root = Path(args.dir)
    root.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"writing container logs under {root}", flush=True)
    Writer(args.kubeconfig, args.context, root).serve()
    return 0


# --------------------------------------------------------------------------- start and stop


def pid() -> int | None:
    """Return the recorded process id of the log writer, if any."""
    try:
        return int((log_dir() / "podlogs.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def is_running() -> bool:
    """Return True when the log writer of this state directory runs."""
    from ._process import is_ours

    running = pid()
    return running is not None and is_ours(running, log_dir())


def start(kubeconfig: str, context: str) -> None:
    """Start the log writer for the embedded cluster (replacing a recorded one)."""
    stop()
    directory = log_dir()
    with open(directory / "podlogs.log", "a") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),  # as a script: no package import
                "--kubeconfig",
                kubeconfig,
                "--context",
                context,
                "--dir",
                str(directory / "pods"),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=directory,
        )
    (directory / "podlogs.pid").write_text(f"{process.pid}\n")


def ensure(kubeconfig: str, context: str) -> None:
    """Start the log writer unless it already runs (after a kernel restart, say)."""
    if not is_running():
        start(kubeconfig, context)


def stop(forget: bool = False) -> None:
    """Stop the log writer if one is recorded; ``forget`` deletes the log files too."""
    from ._process import is_ours, kill_if_ours

    running = pid()
    if running and kill_if_ours(running, log_dir(), signal=15):
        for _ in range(50):
            if not is_ours(running, log_dir()):
                break
            time.sleep(0.05)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(running, os.WNOHANG)
    (log_dir() / "podlogs.pid").unlink(missing_ok=True)
    if forget:
        shutil.rmtree(log_dir() / "pods", ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
