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

Run by hand for debugging: ``python course_helpers/cluster/_podlogs.py --kubeconfig K --dir D``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import queue
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

if __package__:
    from ._shell import Event, Run, Shell
else:  # run as a script by start(): no course_helpers (nor kubernetes) import, ~20 MB
    from _shell import Event, Run, Shell  # type: ignore[import-not-found,no-redef]

GROUP, VERSION, PLURAL = "kwok.x-k8s.io", "v1alpha1", "logs"
NOTE = "[kwok simulation]"
SHELLS = ("sh", "ash", "bash", "dash")


def log_dir() -> Path:
    """Return the directory of the log files (and of this process's pid and log)."""
    from ._paths import state_dir

    path = state_dir() / "podlogs"
    path.mkdir(parents=True, exist_ok=True)
    return path


# --------------------------------------------------------------------------- one container


def _time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def cri_line(at: dt.datetime, event: Event) -> str:
    r"""Return ``event`` as one line of the CRI log format.

    Example:
        >>> cri_line(dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), Event(0, "stdout", "hi"))
        '2026-01-02T03:04:05.000000000Z stdout F hi\\n'
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


def _env(container: dict[str, Any], pod: dict[str, Any]) -> dict[str, str]:
    fields = {
        "metadata.name": pod["metadata"]["name"],
        "metadata.namespace": pod["metadata"]["namespace"],
        "spec.nodeName": pod["spec"].get("nodeName", ""),
        "status.podIP": pod.get("status", {}).get("podIP", ""),
        "status.hostIP": pod.get("status", {}).get("hostIP", ""),
    }
    env: dict[str, str] = {}
    for item in container.get("env") or []:
        if "value" in item:
            env[item["name"]] = str(item["value"])
        else:
            path = ((item.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
            if path in fields:
                env[item["name"]] = fields[path]
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


# --------------------------------------------------------------------------- the process


class ApiError(Exception):
    """An HTTP error from the API server."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"{status}: {text[:300]}")
        self.status = status


class Api:
    """The few API calls the writer makes, over HTTPS with the kubeconfig's credentials.

    The standard library is enough for a list, a watch and a create, and keeps
    this long-lived process small (the kubernetes client alone is ~35 MB).
    """

    def __init__(self, kubeconfig: str, context: str | None) -> None:
        config = yaml.safe_load(Path(kubeconfig).read_text())
        name = context or config["current-context"]
        ctx = next(c["context"] for c in config["contexts"] if c["name"] == name)
        cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == ctx["cluster"])
        users = config.get("users") or []
        user: dict[str, Any] = next((u["user"] for u in users if u["name"] == ctx.get("user")), {})
        self.server = cluster["server"].rstrip("/")
        self.ssl = ssl.create_default_context(
            cafile=cluster.get("certificate-authority"),
            cadata=_b64(cluster.get("certificate-authority-data")),
        )
        cert, key = user.get("client-certificate"), user.get("client-key")
        if user.get("client-certificate-data"):
            cert, key = _private_file(user["client-certificate-data"], user["client-key-data"])
        if cert:
            self.ssl.load_cert_chain(cert, key)
        self.headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if user.get("token"):
            self.headers["Authorization"] = f"Bearer {user['token']}"

    def _open(self, method: str, path: str, body: Any, timeout: float) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.server + path, data=data, headers=self.headers, method=method
        )
        try:
            return urllib.request.urlopen(request, context=self.ssl, timeout=timeout)
        except urllib.error.HTTPError as exc:
            raise ApiError(exc.code, exc.read().decode(errors="replace")) from None

    def call(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
        """Return the decoded JSON answer of one request."""
        with self._open(method, path, body, timeout) as response:
            return json.loads(response.read())

    def watch(self, path: str, timeout: float) -> Iterator[dict[str, Any]]:
        """Yield the events of a watch request until the server ends it."""
        with self._open("GET", path, None, timeout) as response:
            for line in response:
                if line.strip():
                    yield json.loads(line)


def _b64(data: str | None) -> str | None:
    import base64

    return base64.b64decode(data).decode() if data else None


def _private_file(cert_data: str, key_data: str) -> tuple[str, str]:
    """Write inline client credentials to mode-0600 files (ssl loads files only)."""
    paths = []
    for data in (cert_data, key_data):
        fd, path = tempfile.mkstemp(prefix="podlogs-", suffix=".pem")
        with os.fdopen(fd, "w") as out:
            out.write(_b64(data) or "")
        paths.append(path)
    return paths[0], paths[1]


class Writer:
    """Watches pods and keeps every container's log files and ``Logs`` object in step."""

    def __init__(self, kubeconfig: str, context: str | None, root: Path) -> None:
        self.kubeconfig, self.context = kubeconfig, context
        self.connect()
        self.root = root
        self.logs: dict[tuple[str, str], ContainerLog] = {}
        self.due: dict[str, float] = {}
        self.pods: dict[str, dict[str, Any]] = {}
        self.declared: set[str] = set()
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()

    def connect(self) -> None:
        """(Re)read the kubeconfig: a resumed cluster may listen on another port."""
        self.api = Api(self.kubeconfig, self.context)

    def pod_dir(self, pod: dict[str, Any]) -> Path:
        meta = pod["metadata"]
        return Path(self.root, meta["namespace"], meta["name"], meta["uid"])

    def watch(self) -> None:
        """List then watch every pod, forever, relisting after any error (a thread)."""
        while True:
            try:
                data = self.api.call("GET", "/api/v1/pods")
                self.events.put(("SYNC", data["items"]))
                version = data["metadata"]["resourceVersion"]
                while True:
                    query = (
                        f"/api/v1/pods?watch=1&resourceVersion={version}"
                        "&allowWatchBookmarks=true&timeoutSeconds=240"
                    )
                    for event in self.api.watch(query, timeout=300):
                        obj = event["object"]
                        if event["type"] == "ERROR":
                            raise RuntimeError(obj.get("message", "watch error"))
                        version = obj["metadata"]["resourceVersion"]
                        if event["type"] != "BOOKMARK":
                            self.events.put((event["type"], obj))
            except Exception as exc:  # the API server restarting, a 410: list again
                print(f"watch: {type(exc).__name__}: {exc}; listing again", flush=True)
                time.sleep(2)
                with contextlib.suppress(Exception):
                    self.connect()

    def declare(self, pod: dict[str, Any]) -> None:
        """Create the pod's ``Logs`` object, owned by the pod, once."""
        meta = pod["metadata"]
        if meta["uid"] in self.declared:
            return
        directory = self.pod_dir(pod)
        body: dict[str, Any] = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "Logs",
            "metadata": {
                "name": meta["name"],
                "namespace": meta["namespace"],
                "labels": {"app.kubernetes.io/managed-by": "course-podlogs"},
                "ownerReferences": [
                    {"apiVersion": "v1", "kind": "Pod", "name": meta["name"], "uid": meta["uid"]}
                ],
            },
            "spec": {
                "logs": [
                    {
                        "containers": [c["name"]],
                        "logsFile": str(directory / f"{c['name']}.log"),
                        "previousLogsFile": str(directory / f"{c['name']}.previous.log"),
                    }
                    for c in pod["spec"]["containers"]
                ]
            },
        }
        for container in pod["spec"]["containers"]:  # kwok can open them from the start
            (directory / f"{container['name']}.log").touch()
        collection = f"/apis/{GROUP}/{VERSION}/namespaces/{meta['namespace']}/{PLURAL}"
        try:
            self.api.call("POST", collection, body, timeout=10)
        except ApiError as exc:
            if exc.status != 409:
                raise
            # A Logs object of an earlier pod of that name (a StatefulSet's): replace it.
            # Should the garbage collector delete it meanwhile, the next try creates one.
            old = self.api.call("GET", f"{collection}/{meta['name']}")
            body["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            self.api.call("PUT", f"{collection}/{meta['name']}", body)
        self.declared.add(meta["uid"])

    def seen(self, pod: dict[str, Any], now: dt.datetime) -> None:
        meta = pod["metadata"]
        uid = meta["uid"]
        if not pod["spec"].get("nodeName"):
            return
        self.pods[uid] = pod
        directory = self.pod_dir(pod)
        directory.mkdir(parents=True, exist_ok=True)
        try:
            self.declare(pod)
        except (ApiError, OSError) as exc:
            print(f"Logs {meta['namespace']}/{meta['name']}: {exc}; trying again", flush=True)
        specs = {c["name"]: c for c in pod["spec"]["containers"]}
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        pod_started = _time((pod.get("status") or {}).get("startTime")) or now
        due: list[float] = []
        for status in statuses:
            if status["name"] not in specs:
                continue
            key = (uid, status["name"])
            if key not in self.logs:
                self.logs[key] = ContainerLog(pod, specs[status["name"]], directory)
            self.logs[key].pod = pod
            when = self.logs[key].update(status, pod_started, now)
            if when is not None:
                due.append(when)
        if uid not in self.declared:
            due.append(time.time() + 2)
        if due:
            self.due[uid] = min(due)
        else:
            self.due.pop(uid, None)

    def gone(self, uid: str, pod: dict[str, Any] | None) -> None:
        self.pods.pop(uid, None)
        self.due.pop(uid, None)
        self.declared.discard(uid)
        for key in [k for k in self.logs if k[0] == uid]:
            del self.logs[key]
        if pod is not None:
            shutil.rmtree(self.pod_dir(pod), ignore_errors=True)
            with contextlib.suppress(OSError):  # the pod's and namespace's empty dirs
                self.pod_dir(pod).parent.rmdir()
                self.pod_dir(pod).parent.parent.rmdir()

    def sync(self, items: list[dict[str, Any]], now: dt.datetime) -> None:
        """After a (re)list: forget pods that are gone, remove their files, see the rest."""
        live = {p["metadata"]["uid"] for p in items}
        for uid in [u for u in self.pods if u not in live]:
            self.gone(uid, self.pods[uid])
        for uid_dir in self.root.glob("*/*/*"):
            if uid_dir.is_dir() and uid_dir.name not in live:
                shutil.rmtree(uid_dir, ignore_errors=True)
        for empty in [*self.root.glob("*/*"), *self.root.glob("*")]:  # pods, then namespaces
            with contextlib.suppress(OSError):
                empty.rmdir()
        for pod in items:
            self.seen(pod, now)

    def serve(self) -> None:
        """Handle pod events and due lines until killed."""
        threading.Thread(target=self.watch, daemon=True).start()
        while True:
            wait = min(self.due.values(), default=time.time() + 60) - time.time()
            try:
                kind, obj = self.events.get(timeout=max(0.0, min(wait, 60)))
            except queue.Empty:
                kind, obj = "TICK", None
            now = dt.datetime.now(dt.UTC)
            try:
                if kind == "SYNC":
                    self.sync(obj, now)
                elif kind == "DELETED":
                    self.gone(obj["metadata"]["uid"], obj)
                elif kind in ("ADDED", "MODIFIED"):
                    self.seen(obj, now)
                for uid in [u for u, t in self.due.items() if t <= time.time()]:
                    self.seen(self.pods[uid], now)
            except Exception as exc:  # one odd pod must not stop the logs of all others
                print(f"{kind}: {type(exc).__name__}: {exc}", flush=True)


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
