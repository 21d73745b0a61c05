"""One container's log files (CRI format), kept in step with its status by interpreting its command.

Example:
    >>> script_of({"command": ["sh", "-c", "echo hi"]})[0]
    'echo hi'
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._shell import Event, Run, Shell

NOTE = "[kwok simulation]"
SHELLS = ("sh", "ash", "bash", "dash")


def _time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def cri_line(at: dt.datetime, event: Event) -> str:
    r"""Return ``event`` as one line of the CRI log format.

    Example:
        >>> cri_line(dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), Event(0, "stdout", "hi"))
        '2026-01-02T03:04:05.000000000Z stdout F hi\n'
    """
    stamp = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
    return f"{stamp} {event.stream} {'P' if event.partial else 'F'} {event.text}\n"


def script_of(container: dict[str, Any]) -> tuple[str | None, list[str], str]:
    """Return (script, $0 and arguments, what to call it) for a container's command.

    The script is None when the command is not one the interpreter can take:
    no command (the image's own program) or a program other than a shell.

    Example:
        >>> script_of({"command": ["sh", "-c", "echo hi"]})[0]
        'echo hi'
        >>> script_of({"image": "nginx:1.27"})
        (None, [], "the image's own program (nginx:1.27)")
    """
    argv = [*(container.get("command") or []), *(container.get("args") or [])]
    if not container.get("command"):  # the image's entrypoint, perhaps with args
        return None, [], f"the image's own program ({container.get('image', '?')})"
    program = os.path.basename(argv[0])
    if program in SHELLS and len(argv) >= 3 and argv[1] in ("-c", "-ec", "-ce"):
        script = argv[2] if argv[1] == "-c" else f"set -e\n{argv[2]}"
        return script, argv[3:] or [program], program
    if program in ("echo", "printf", "date", "sleep", "true", "false", "hostname"):
        return " ".join(_quote(a) for a in argv), [program], program
    return None, [], f"`{argv[0]}`"


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\"'\"'") + "'"


#: A downward API field path into the pod's labels or annotations: ``metadata.labels['k']``.
_KEYED_FIELD = re.compile(r"metadata\.(labels|annotations)\['([^']+)'\]")


def _env(container: dict[str, Any], pod: dict[str, Any]) -> dict[str, str]:
    """Return the container's environment as the kubelet would set it (values, downward API).

    Fields the kubelet resolves: the pod's name, namespace, uid, node, IPs, and
    one label or annotation (``metadata.labels['k']``, empty when the pod has
    no such key). That is how an Indexed Job's ``JOB_COMPLETION_INDEX`` gets its
    value: the Job controller adds it to every container as
    ``metadata.labels['batch.kubernetes.io/job-completion-index']``.

    Example:
        >>> pod = {"metadata": {"name": "p-2-x", "namespace": "n", "labels": {"i": "2"}},
        ...        "spec": {}}
        >>> ref = {"fieldRef": {"fieldPath": "metadata.labels['i']"}}
        >>> _env({"env": [{"name": "I", "valueFrom": ref}]}, pod)
        {'I': '2'}
    """
    meta = pod["metadata"]
    status = pod.get("status") or {}
    fields = {
        "metadata.name": meta["name"],
        "metadata.namespace": meta["namespace"],
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": pod["spec"].get("nodeName", ""),
        "spec.serviceAccountName": pod["spec"].get("serviceAccountName", ""),
        "status.podIP": status.get("podIP", ""),
        "status.hostIP": status.get("hostIP", ""),
    }
    env: dict[str, str] = {}
    for item in container.get("env") or []:
        if "value" in item:
            env[item["name"]] = str(item["value"])
            continue
        path = ((item.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
        keyed = _KEYED_FIELD.fullmatch(path or "")
        if keyed:
            env[item["name"]] = str((meta.get(keyed[1]) or {}).get(keyed[2], ""))
        elif path in fields:
            env[item["name"]] = str(fields[path])
    return env


def _mounts(container: dict[str, Any], pod: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Return (emptyDir mount paths, other volume mount paths) of a container."""
    empty = {v["name"] for v in pod["spec"].get("volumes") or [] if "emptyDir" in v}
    kept: list[str] = []
    unknown: list[str] = []
    for mount in container.get("volumeMounts") or []:
        (kept if mount["name"] in empty else unknown).append(mount["mountPath"])
    return kept, unknown


@dataclass
class Attempt:
    """One run of a container (restartCount ``index``) and the lines written so far."""

    index: int
    started: dt.datetime
    run: Run
    lines: list[str] = field(default_factory=list)
    finished: dt.datetime | None = None
    noted: bool = False

    def render(self, now: dt.datetime) -> float | None:
        """Render lines up to ``now``, or to the end of a finished attempt.

        A finished attempt runs until its ``finished`` time (a second of slack for
        the API's whole-second times): what a script would print after kwok ended
        the container was never printed. Returns when more lines are due (epoch s).
        """
        if self.finished is not None:
            until = (self.finished - self.started).total_seconds() + 1.0
        else:
            until = (now - self.started).total_seconds()
        for event in self.run.advance(until):
            at = self.started + dt.timedelta(seconds=event.at)
            if self.finished is not None:
                at = min(at, max(self.finished, self.started))
            self.lines.append(cri_line(at, event))
        if self.run.done and not self.noted:
            self.noted = True
            if self.run.unsupported is not None:
                clock = self.run.shell.clock
                at = self.started + dt.timedelta(seconds=0 if math.isinf(clock) else clock)
                if self.finished is not None:
                    at = min(at, max(self.finished, self.started))
                text = (
                    f"{NOTE} The container is simulated: its output after this point is not "
                    f"known, because the log simulator does not interpret "
                    f"{self.run.unsupported}."
                )
                self.lines.append(cri_line(at, Event(0, "stdout", text)))
        due = self.run.next_at()
        if self.finished is not None or due is None or math.isinf(due):
            return None
        return (self.started + dt.timedelta(seconds=due)).timestamp()


class ContainerLog:
    """The log files of one container of one pod, kept in step with its status."""

    def __init__(self, pod: dict[str, Any], container: dict[str, Any], directory: Path) -> None:
        self.name = container["name"]
        self.pod, self.container = pod, container
        self.current = directory / f"{self.name}.log"
        self.previous = directory / f"{self.name}.previous.log"
        self.attempts: list[Attempt] = []
        self.written: dict[Path, tuple[int, int]] = {}  # path -> (attempt, lines in it)
        self.script, self.args, self.what = script_of(container)
        self.kept, self.unknown = _mounts(container, pod)

    def _new_attempt(self, index: int, started: dt.datetime) -> Attempt:
        files: dict[str, str] = {}
        if self.attempts:
            left = self.attempts[-1].run.shell.files
            files = {p: t for p, t in left.items() if any(p.startswith(k + "/") for k in self.kept)}
        if self.script is None:
            # Nothing to interpret: one plain line, at the start.
            run = Run(Shell(), "true")
            attempt = Attempt(index, started, run, noted=True)
            text = (
                f"{NOTE} This container is simulated by kwok: {self.what} does not run, so "
                "there is no output to show."
            )
            attempt.lines.append(cri_line(started, Event(0, "stdout", text)))
            return attempt
        shell = Shell(
            env=_env(self.container, self.pod),
            files=files,
            hostname=self.pod["metadata"]["name"],
            started=started,
            unknown_dirs=(*Shell().unknown_dirs, *self.unknown),
            args=self.args,
            workdir=self.container.get("workingDir") or "/",
        )
        return Attempt(index, started, Run(shell, self.script))

    def update(
        self, status: dict[str, Any], pod_started: dt.datetime, now: dt.datetime
    ) -> float | None:
        """Bring the files in step with a container status; return when to look again."""
        restarts = int(status.get("restartCount") or 0)
        state = status.get("state") or {}
        current = state.get("running") or state.get("terminated")
        if current is None:
            return None  # waiting: nothing has run yet
        last = (status.get("lastState") or {}).get("terminated") or {}
        while len(self.attempts) <= restarts:
            # Every earlier attempt has ended: finish it first, so that the files
            # it left in emptyDir mounts carry over to the next one.
            if self.attempts and self.attempts[-1].finished is None:
                ended = self.attempts[-1]
                ended.finished = self._end(ended, restarts, last)
                ended.render(now)
            index = len(self.attempts)
            if index == restarts:
                started = _time(current.get("startedAt")) or now
            elif index == restarts - 1:
                started = _time(last.get("startedAt")) or pod_started
            else:
                started = pod_started  # not known any more; never served
            attempt = self._new_attempt(index, started)
            self.attempts.append(attempt)
            if index < restarts:
                attempt.finished = self._end(attempt, restarts, last)
                attempt.render(now)
        attempt = self.attempts[restarts]
        if "terminated" in state and attempt.finished is None:
            attempt.finished = _time(state["terminated"].get("finishedAt")) or now
        due = attempt.render(now)
        if restarts:
            previous = self.attempts[restarts - 1]
            previous.render(now)
            self._sync(self.previous, previous)
        self._sync(self.current, attempt)
        return due

    @staticmethod
    def _end(attempt: Attempt, restarts: int, last: dict[str, Any]) -> dt.datetime:
        """Return when an earlier attempt ended.

        The last one's end is in ``lastState``; older ones' are not kept by
        Kubernetes (they are never served, only their files matter): an hour.
        """
        if attempt.index == restarts - 1 and _time(last.get("finishedAt")):
            return _time(last.get("finishedAt")) or attempt.started
        return attempt.started + dt.timedelta(hours=1)

    def _sync(self, path: Path, attempt: Attempt) -> None:
        """Append new lines, or rewrite the file when it holds something else."""
        lines = attempt.lines
        known = self.written.get(path)
        done: int | None = None
        if known is not None:
            done = known[1] if known[0] == attempt.index else None
        else:  # first look since this process started: keep what is already right
            with contextlib.suppress(OSError):
                have = path.read_text().splitlines(keepends=True)
                if have == lines[: len(have)]:
                    done = len(have)
        if done is not None and done <= len(lines):
            if done < len(lines):
                with open(path, "a") as out:
                    out.write("".join(lines[done:]))
        else:
            tmp = path.with_suffix(".tmp")
            tmp.write_text("".join(lines))
            os.replace(tmp, path)
        self.written[path] = (attempt.index, len(lines))
