"""``%kubectl logs -f`` on a simulated cluster ends when the followed containers end.

On a real node ``kubectl logs -f`` returns once the container stops. kwok cannot
tell that a simulated container stopped, so the stream stays open after the last
line. The magic therefore watches the pods the command follows and, once all
their containers have terminated and the output has settled, ends kubectl and
says so. ``!kubectl logs -f`` in a cell and a terminal keep kwok's behaviour.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import yaml
from kubernetes import client as k8s
from kubernetes import watch as k8s_watch

from . import _kubectl, _session

#: ``kubectl logs`` flags that take a value (``--flag value`` or ``--flag=value``).
VALUE_FLAGS = {
    "-n",
    "--namespace",
    "-c",
    "--container",
    "-l",
    "--selector",
    "--tail",
    "--since",
    "--since-time",
    "--limit-bytes",
    "--max-log-requests",
    "--pod-running-timeout",
    "--request-timeout",
    "--context",
    "--cluster",
    "--user",
}


@dataclass(frozen=True)
class Target:
    """The pods a ``kubectl logs -f`` command follows."""

    namespace: str
    label_selector: str | None = None
    field_selector: str | None = None


def _default_namespace() -> str:
    try:
        config = yaml.safe_load(_kubectl.kubeconfig_path().read_text())
        return str(config["contexts"][0]["context"].get("namespace") or "default")
    except (OSError, KeyError, IndexError, TypeError, yaml.YAMLError):
        return "default"


def follow_target(args: list[str], default_namespace: str | None = None) -> Target | None:
    """Return what ``kubectl logs -f ...`` follows, or None when it does not follow.

    Example:
        >>> follow_target(["logs", "-f", "job/pi", "-n", "course-jobs"])
        Target(namespace='course-jobs', label_selector='job-name=pi', field_selector=None)
        >>> follow_target(["logs", "web-0", "-n", "x"]) is None
        True
    """
    if args[:1] != ["logs"]:
        return None
    follow, namespace, selector = False, None, None
    positional: list[str] = []
    rest = iter(args[1:])
    for arg in rest:
        name, eq, value = arg.partition("=")
        if arg in ("-f", "--follow") or (name == "--follow" and value == "true"):
            follow = True
        elif name in VALUE_FLAGS:
            value = value if eq else next(rest, "")
            if name in ("-n", "--namespace"):
                namespace = value
            elif name in ("-l", "--selector"):
                selector = value
        elif not arg.startswith("-"):
            positional.append(arg)
    if not follow:
        return None
    namespace = namespace or default_namespace or _default_namespace()
    if selector:
        return Target(namespace, label_selector=selector)
    if not positional:
        return None
    kind, _, name = positional[0].rpartition("/")
    kind = kind.split(".")[0].lower()
    if kind in ("", "pod", "pods", "po"):
        return Target(namespace, field_selector=f"metadata.name={name}")
    if kind in ("job", "jobs"):
        return Target(namespace, label_selector=f"job-name={name}")
    return None  # a Deployment, StatefulSet...: their pods do not end by themselves


def _terminated(pod: Any) -> bool:
    statuses = (pod.status and pod.status.container_statuses) or []
    return bool(statuses) and all(s.state and s.state.terminated for s in statuses)


def ended(target: Target) -> threading.Event:
    """Return an event set once every pod of ``target`` has all its containers terminated."""
    done = threading.Event()

    def watch() -> None:
        core = k8s.CoreV1Api(_session.api_client())
        pods: dict[str, Any] = {}
        watcher = k8s_watch.Watch()
        try:
            for event in watcher.stream(
                core.list_namespaced_pod,
                target.namespace,
                label_selector=target.label_selector,
                field_selector=target.field_selector,
                timeout_seconds=3600,
            ):
                pod = event["object"]
                if event["type"] == "DELETED":
                    pods.pop(pod.metadata.name, None)
                else:
                    pods[pod.metadata.name] = pod
                if pods and all(_terminated(p) for p in pods.values()):
                    done.set()
                    return
        except Exception:  # the magic then behaves as kubectl does: stop it by hand
            return
        finally:
            watcher.stop()

    threading.Thread(target=watch, name="kubectl-logs-follow", daemon=True).start()
    return done
