"""The pod-log writer's loop: watch every pod, keep its containers' files and ``Logs`` object.

See :mod:`._podlogs` for what the files are and how the process is started.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import queue
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from ._podlogs_api import Api, ApiError
from ._podlogs_files import ContainerLog, _time

GROUP, VERSION, PLURAL = "kwok.x-k8s.io", "v1alpha1", "logs"


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
