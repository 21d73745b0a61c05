"""Cluster-level actions for the notebooks: nodes, pod tables and per-pod DNS lookups."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from kubernetes import client as k8s

from ..cluster import _dns, _nodes
from ..errors import ClusterError
from ._echo import say
from ._manifests import api_message, list_objects
from ._namespaces import require_managed
from ._objects import (
    CRONJOB_SCHEDULED_ANNOTATION,
    controller_of,
    epoch,
    job_state,
    meta,
    name_of,
    parse_time,
)
from ._session import api_client, cluster_info
from ._wait import WaitTimeout, nodes_ready, until

Obj = dict[str, Any]


def _needs_embedded(action: str) -> None:
    if not cluster_info().can_add_nodes:
        raise ClusterError(
            f"Cannot {action} here: this cluster's nodes are real machines or containers. "
            "With kind, create the cluster with more workers (`kind create cluster --config`); "
            "or use the embedded cluster (COURSE_CLUSTER=embedded)."
        )


def add_node(
    labels: Mapping[str, str] | None = None,
    taints: list[dict[str, str]] | None = None,
    name: str | None = None,
    allocatable: Mapping[str, str] | None = None,
) -> str:
    """Add a simulated worker node to the embedded cluster and return its name.

    ``allocatable`` makes a smaller machine than the default 32 CPUs and 256Gi
    of memory (what the scheduler may hand out to pods: ``status.allocatable``).

    Example:
        >>> ch.add_node(labels={"course.dev/disk": "ssd"})  # doctest: +SKIP
        'worker-4'
        >>> ch.add_node(name="worker-small", allocatable={"cpu": "1", "memory": "1Gi"})
        ... # doctest: +SKIP
    """
    _needs_embedded("add nodes")
    created = _nodes.add_node(
        api_client(),
        name=name,
        labels=labels,
        taints=taints,
        wait_ready=nodes_ready,
        allocatable=allocatable,
    )
    say(f"node/{created} joined (on a real cluster: a new machine runs kubelet and registers)")
    return created


def scale_nodes(count: int, timeout: float = 180) -> tuple[list[str], list[str]]:
    """Make the embedded cluster have ``count`` simulated workers; return (added, removed).

    kwok nodes are cheap (a Node object, kept Ready by kwok), so a few hundred
    fit on a laptop; real controllers (DaemonSets, the scheduler) react as on
    real hardware. Workers are added as ``worker-N`` with the usual zone and disk
    labels, or removed highest-numbered first (their pods are then
    garbage-collected). Returns once every added node is Ready.

    Example:
        >>> added, removed = ch.scale_nodes(300)  # doctest: +SKIP
        kubectl: 297 nodes join (worker-4 ... worker-300)
    """
    _needs_embedded("scale nodes")
    current = len(_nodes.worker_names(api_client()))
    if count > current:
        say(f"kubectl: {count - current} nodes join (worker-... on a real cluster: new machines)")
    elif count < current:
        say(f"kubectl delete node: {current - count} nodes leave")

    def wait(api: Any, names: list[str]) -> None:
        nodes_ready(api, names, timeout=timeout)

    return _nodes.scale_workers(api_client(), count, wait_ready=wait)


def remove_node(name: str) -> None:
    """Remove a simulated worker node; the control plane then garbage-collects its pods.

    Example:
        >>> ch.remove_node("worker-4")  # doctest: +SKIP
        kubectl delete node worker-4
    """
    _needs_embedded("remove nodes")
    say(f"kubectl delete node {name}")
    _nodes.remove_node(api_client(), name)


def nodes() -> pd.DataFrame:
    """Return the cluster's nodes with their zone, disk label, taints and readiness."""
    rows = []
    for node in k8s.CoreV1Api(api_client()).list_node(_request_timeout=10).items:
        labels = node.metadata.labels or {}
        ready = any(
            c.type == "Ready" and c.status == "True" for c in (node.status.conditions or [])
        )
        rows.append(
            {
                "node": node.metadata.name,
                "zone": labels.get(_nodes.ZONE_LABEL, ""),
                "disk": labels.get(_nodes.DISK_LABEL, ""),
                "taints": ", ".join(f"{t.key}:{t.effect}" for t in (node.spec.taints or [])),
                "ready": ready,
            }
        )
    return pd.DataFrame(rows, columns=["node", "zone", "disk", "taints", "ready"])


def _owner(pod: k8s.V1Pod) -> str:
    refs = pod.metadata.owner_references or []
    return f"{refs[0].kind}/{refs[0].name}" if refs else ""


def pods(namespace: str, label_selector: str | None = None) -> pd.DataFrame:
    """Return the namespace's pods: name, node, phase, ready, restarts, IP and owner, by name."""
    items = (
        k8s.CoreV1Api(api_client())
        .list_namespaced_pod(namespace, label_selector=label_selector, _request_timeout=10)
        .items
    )
    rows = []
    for pod in items:
        statuses = pod.status.container_statuses or []
        rows.append(
            {
                "pod": pod.metadata.name,
                "node": pod.spec.node_name or "",
                "phase": "Terminating" if pod.metadata.deletion_timestamp else pod.status.phase,
                "ready": bool(statuses) and all(s.ready for s in statuses),
                "restarts": sum(s.restart_count for s in statuses),
                "ip": pod.status.pod_ip or "",
                "owner": _owner(pod),
            }
        )
    columns = ["pod", "node", "phase", "ready", "restarts", "ip", "owner"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values("pod", ignore_index=True)


def jobs(namespace: str, label_selector: str | None = None) -> pd.DataFrame:
    """Return the namespace's Jobs as ``kubectl get jobs`` counts them, by name.

    Columns: ``job``, ``state`` (:func:`~course_helpers.job_state`: Complete,
    Failed, Suspended or Running), ``succeeded``, ``failed``, ``active``,
    ``completions`` (``<NA>`` for a work queue), ``parallelism``, ``owner`` (e.g.
    ``CronJob/backup``), ``duration`` in seconds (None until it finished), and the
    times (UTC): ``scheduled`` (the CronJob tick that made it, from the
    controller's ``batch.kubernetes.io/cronjob-scheduled-timestamp``; NaT for any
    other Job), ``started`` and ``finished`` (``status.startTime`` and
    ``completionTime``).

    Example:
        >>> table = ch.jobs(ns)[["job", "state", "succeeded", "failed"]]  # doctest: +SKIP
        >>> print(table.to_string(index=False))  # doctest: +SKIP
                job    state  succeeded  failed
        broken-task   Failed          0       3
         flaky-task Complete          1       0
    """
    rows = []
    for job in list_objects("Job", namespace, label_selector=label_selector):
        spec, status = job.get("spec") or {}, job.get("status") or {}
        owner = controller_of(job)
        started, ended = epoch(status.get("startTime")), epoch(status.get("completionTime"))
        rows.append(
            {
                "job": name_of(job),
                "state": job_state(job),
                "succeeded": int(status.get("succeeded") or 0),
                "failed": int(status.get("failed") or 0),
                "active": int(status.get("active") or 0),
                "completions": spec.get("completions"),
                "parallelism": spec.get("parallelism", 1),
                "owner": f"{owner[0]}/{owner[1]}" if owner else "",
                "duration": round(ended - started, 1) if started and ended else None,
                "scheduled": parse_time(
                    (meta(job).get("annotations") or {}).get(CRONJOB_SCHEDULED_ANNOTATION)
                ),
                "started": parse_time(status.get("startTime")),
                "finished": parse_time(status.get("completionTime")),
            }
        )
    columns = [
        "job",
        "state",
        "succeeded",
        "failed",
        "active",
        "completions",
        "parallelism",
        "owner",
        "duration",
        "scheduled",
        "started",
        "finished",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("scheduled", "started", "finished"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    # whole numbers, and <NA> for a work queue's missing completions (not 6.0 and NaN)
    frame["completions"] = frame["completions"].astype("Int64")
    return frame


def pods_per_node(namespace: str, label_selector: str | None = None) -> pd.DataFrame:
    """Return how many of the namespace's pods run on each node (every node listed)."""
    table = pods(namespace, label_selector)
    counts = table[table["node"] != ""].groupby("node").size()
    names = sorted(nodes()["node"])
    return pd.DataFrame({"node": names, "pods": [int(counts.get(n, 0)) for n in names]})


def pods_table(namespace: str, label_selector: str | None = None) -> pd.DataFrame:
    """Return how many pods each owner has on each node: one row per node, one column per owner.

    Like ``kubectl get pods -o wide`` counted by NODE and owner. Pods not yet
    scheduled are left out; owners are written ``Kind/name``, e.g.
    ``DaemonSet/log-collector``.

    Example:
        >>> print(ch.pods_table(ns).to_string())  # doctest: +SKIP
        owner     DaemonSet/log-collector  DaemonSet/ssd-cache
        node
        worker-1                        1                    1
        worker-2                        1                    1
        worker-3                        1                    0
    """
    table = pods(namespace, label_selector)
    table = table[table["node"] != ""]
    if table.empty:
        return pd.DataFrame(index=pd.Index([], name="node"), columns=pd.Index([], name="owner"))
    return pd.crosstab(table["node"], table["owner"])


def endpoints(namespace: str, service: str) -> pd.DataFrame:
    """Return the endpoints of Service ``service`` from its EndpointSlices, one row per pod.

    Like ``kubectl get endpointslices -l kubernetes.io/service-name=<service>
    -o yaml``, read down to what the cluster DNS uses: ``hostname`` (set when
    the pod's ``subdomain`` names the Service, as a StatefulSet's pods do),
    ``address`` (its first), ``ready``, and the ``pod`` it points at. Sorted
    by hostname, then pod.

    Example:
        >>> print(ch.endpoints(ns, "web").to_string(index=False))  # doctest: +SKIP
        hostname    address  ready   pod
           web-0 10.244.1.2   True web-0
    """
    slices = list_objects(
        "EndpointSlice", namespace, label_selector=f"kubernetes.io/service-name={service}"
    )
    rows = [
        {
            "hostname": endpoint.get("hostname") or "",
            "address": (endpoint.get("addresses") or [""])[0],
            "ready": bool((endpoint.get("conditions") or {}).get("ready")),
            "pod": (endpoint.get("targetRef") or {}).get("name") or "",
        }
        for piece in slices
        for endpoint in piece.get("endpoints") or []
    ]
    frame = pd.DataFrame(rows, columns=["hostname", "address", "ready", "pod"])
    return frame.sort_values(["hostname", "pod"], ignore_index=True)


_PROBE_IMAGE = "busybox:1.37"


@dataclass(frozen=True)
class DnsExpectation:
    """What the cluster DNS should answer for a name, read from the API, and why."""

    addresses: list[str]
    why: str


def _ready(pod: Obj) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def expected_answer(
    name: str, namespace: str, service: Obj | None, pods: list[Obj]
) -> DnsExpectation | None:
    """Return the A records CoreDNS serves for ``name``, given the Service and its pods.

    ``name`` is ``<service>.<namespace>.svc.cluster.local`` or
    ``<hostname>.<service>.<namespace>.svc.cluster.local``; ``service`` is that
    Service as the API returns it (None when it does not exist) and ``pods``
    the namespace's pods. This is what CoreDNS's ``kubernetes`` plugin derives
    from the Service and its EndpointSlices: a normal Service answers its
    ClusterIP; a headless one the IPs of its Ready pods; a pod name under a
    headless Service that pod's IP, once it is Ready. Returns None for names
    this does not model (other namespaces, ExternalName Services, Services
    without a selector).

    Example:
        >>> svc = {"spec": {"clusterIP": "10.96.0.7", "selector": {"app": "web"}}}
        >>> expected_answer("web-lb.demo.svc.cluster.local", "demo", svc, []).addresses
        ['10.96.0.7']
    """
    suffix = f".{namespace}.svc.{_dns.DOMAIN}"
    full = name.rstrip(".")
    if not full.endswith(suffix):
        return None
    parts = full[: -len(suffix)].split(".")
    if len(parts) not in (1, 2):
        return None
    host, svc_name = (None, parts[0]) if len(parts) == 1 else (parts[0], parts[1])
    if service is None:
        return DnsExpectation([], f"there is no Service {svc_name} in {namespace}")
    spec = service.get("spec") or {}
    selector = spec.get("selector") or {}
    if spec.get("type") == "ExternalName" or not selector:
        return None
    if spec.get("clusterIP") not in (None, "", "None"):
        if host is not None:
            return DnsExpectation([], f"Service {svc_name} is not headless: no per-pod names")
        return DnsExpectation([spec["clusterIP"]], f"Service {svc_name}'s ClusterIP")
    not_ready_too = bool(spec.get("publishNotReadyAddresses"))
    chosen = [
        p
        for p in pods
        if all(
            ((p.get("metadata") or {}).get("labels") or {}).get(k) == v for k, v in selector.items()
        )
        and not (p.get("metadata") or {}).get("deletionTimestamp")
        and (p.get("status") or {}).get("podIP")
        and (not_ready_too or _ready(p))
    ]
    if host is None:
        what = f"the Ready pods of headless Service {svc_name}"
    else:
        chosen = [
            p
            for p in chosen
            if (p.get("spec") or {}).get("hostname") == host
            and (p.get("spec") or {}).get("subdomain") == svc_name
        ]
        what = f"pod {host} of headless Service {svc_name}, once Ready"
    addresses = sorted({str(p["status"]["podIP"]) for p in chosen if "." in p["status"]["podIP"]})
    return DnsExpectation(addresses, what)


def _expectation_now(name: str, namespace: str) -> DnsExpectation | None:
    suffix = f".{namespace}.svc.{_dns.DOMAIN}"
    if not name.rstrip(".").endswith(suffix):
        return None
    svc_name = name.rstrip(".")[: -len(suffix)].split(".")[-1]
    api = api_client()
    core = k8s.CoreV1Api(api)
    try:
        service = api.sanitize_for_serialization(
            core.read_namespaced_service(svc_name, namespace, _request_timeout=10)
        )
    except k8s.ApiException as exc:
        if exc.status != 404:
            raise ClusterError(f"Could not read Service {svc_name}: {api_message(exc)}") from None
        service = None
    pods: list[Obj] = []
    if service is not None:
        listing = core.list_namespaced_pod(namespace, _request_timeout=10)
        pods = [api.sanitize_for_serialization(p) for p in listing.items]
    return expected_answer(name, namespace, service, pods)


def resolve(name: str, namespace: str, timeout: float = 30) -> list[str]:
    """Resolve ``name`` with the cluster's DNS and return its IPv4 addresses, sorted.

    On the embedded cluster the lookup goes to its CoreDNS on 127.0.0.1; on
    another cluster a short-lived pod in ``namespace`` runs ``nslookup``.

    CoreDNS learns Services and EndpointSlices from a watch on the API server,
    so a Service created a moment ago, or a pod that just became Ready, may not
    answer yet. For a Service's name or a pod's name under a Service in
    ``namespace``, the lookup is repeated until the DNS answers what the
    Service and its pods say it should (see :func:`expected_answer`), for at
    most ``timeout`` seconds. DNS cannot be watched, so this asks again after
    short, growing pauses. Other names are looked up once.

    Example:
        >>> ch.resolve("web-0.web.course-statefulsets.svc.cluster.local", ns)  # doctest: +SKIP
        ['10.244.1.1']

    Raises:
        WaitTimeout: the DNS answered something else than the API's state for ``timeout`` s;
            the message says what it waited for and what it got.
    """
    info = cluster_info()
    command = (
        f"kubectl run dns-probe -n {namespace} --rm -i --restart=Never "
        f"--image={_PROBE_IMAGE} -- nslookup {name}"
    )
    if info.embedded and info.dns_port:
        say(f"{command}    # here: asked the cluster DNS directly")
        port = info.dns_port

        def lookup() -> list[str]:
            return _dns.resolve(name, port)
    else:
        say(command)

        def lookup() -> list[str]:
            return _resolve_in_pod(name, namespace, max(timeout, 30))

    start = time.monotonic()
    pause = 0.05
    while True:
        want = _expectation_now(name, namespace)
        got = lookup()
        if want is None or got == want.addresses:
            waited = time.monotonic() - start
            if waited >= 0.05:
                say(f"  (the cluster DNS had not caught up yet: waited {waited:.1f} s)")
            return got
        if time.monotonic() - start >= timeout:
            raise WaitTimeout(
                f"Waited {timeout:.0f}s for the cluster DNS to answer {name} with "
                f"{want.addresses or 'no address'} ({want.why}); it answered "
                f"{got or 'no address'} last. CoreDNS answers from the Service's "
                "EndpointSlices: compare with `kubectl get endpointslices -n "
                f"{namespace} -o wide`."
            )
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


def _resolve_in_pod(name: str, namespace: str, timeout: float) -> list[str]:
    require_managed(namespace)
    core = k8s.CoreV1Api(api_client())
    pod_name = f"dns-probe-{int(time.time() * 1000) % 100000}"
    body: dict[str, Any] = {
        "metadata": {"name": pod_name, "labels": {"course.dev/probe": "dns"}},
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {"name": "nslookup", "image": _PROBE_IMAGE, "command": ["nslookup", name]}
            ],
        },
    }
    try:
        core.create_namespaced_pod(namespace, body, _request_timeout=10)
    except k8s.ApiException as exc:
        raise ClusterError(f"Could not start the DNS probe pod: {api_message(exc)}") from None
    try:
        until(
            "Pod",
            namespace,
            lambda ps: any(p["status"].get("phase") in ("Succeeded", "Failed") for p in ps),
            f"DNS probe pod {pod_name}",
            timeout,
            field_selector=f"metadata.name={pod_name}",
        )
        log = core.read_namespaced_pod_log(pod_name, namespace, _request_timeout=10)
    finally:
        core.delete_namespaced_pod(pod_name, namespace, grace_period_seconds=0, _request_timeout=10)
    answer = log.split("Name:", 1)[1] if "Name:" in log else ""
    return sorted(
        {
            line.split()[-1]
            for line in answer.splitlines()
            if line.strip().startswith("Address") and "." in line
        }
    )
