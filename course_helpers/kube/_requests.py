"""What each node has promised its pods: requests against allocatable, as the scheduler counts.

The scheduler places a pod on a node only if the pod's requests fit in what
the node's ``status.allocatable`` leaves after the requests of the pods already
bound there (``NodeResourcesFit``). Which pods count, and how a pod's requests
add up, is read from Kubernetes v1.36.1:

* every pod with ``spec.nodeName`` set that is not Succeeded or Failed, a
  terminating one included until it is gone (the scheduler's pod informer
  drops only those two phases: ``pkg/scheduler/scheduler.go``);
* a pod's requests are its containers' summed, raised to what any init
  container needs while it runs (sidecars, init containers with
  ``restartPolicy: Always``, add to the sum and to the init containers after
  them), replaced by pod-level ``spec.resources.requests`` for cpu and memory
  where set, plus ``spec.overhead`` (``k8s.io/component-helpers/resource``,
  ``PodRequests``); a container that was resized in place counts with the
  larger of its spec and what its status reports;
* a DaemonSet pod that does not fit its node waits unscheduled, and names the
  node it is for in its node affinity (``matchFields`` on ``metadata.name``,
  ``pkg/controller/daemon/util``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from kubernetes.utils.quantity import parse_quantity

from ._echo import say
from ._manifests import list_objects
from ._objects import controller_of, meta, name_of, natural_key

if TYPE_CHECKING:  # pandas only for the tables: the lab's checks import this module too
    import pandas as pd

Obj = dict[str, Any]
Amounts = dict[str, Decimal]

#: The resources the views and tables show.
SHOWN = ("cpu", "memory")
#: Pod-level requests apply to these only (``IsSupportedPodLevelResource``).
POD_LEVEL = ("cpu", "memory")
NODE_COLUMNS = [
    "node",
    "pods",
    "cpu_requested",
    "cpu_allocatable",
    "cpu_percent",
    "memory_requested",
    "memory_allocatable",
    "memory_percent",
    "waiting",
]


def _amounts(values: Any) -> Amounts:
    return {str(k): parse_quantity(v) for k, v in (values or {}).items()}


def _add(total: Amounts, more: Amounts) -> None:
    for key, value in more.items():
        total[key] = total.get(key, Decimal(0)) + value


def _raise_to(total: Amounts, more: Amounts) -> None:
    for key, value in more.items():
        total[key] = max(total.get(key, Decimal(0)), value)


def _effective(container: Obj, statuses: dict[str, Obj]) -> Amounts:
    """Return a container's requests: its spec's, or more if its status reports more."""
    wanted = _amounts((container.get("resources") or {}).get("requests"))
    status = statuses.get(str(container.get("name")))
    if status:
        _raise_to(wanted, _amounts((status.get("resources") or {}).get("requests")))
        _raise_to(wanted, _amounts(status.get("allocatedResources")))
    return wanted


def pod_requests(spec: Obj, status: Obj | None = None) -> Amounts:
    """Return what a pod asks of its node, added up as the scheduler does.

    Example:
        >>> pod_requests({"containers": [{"resources": {"requests": {"cpu": "500m"}}},
        ...                              {"resources": {"requests": {"cpu": "1"}}}]})
        {'cpu': Decimal('1.500')}
        >>> sidecar = {"restartPolicy": "Always", "resources": {"requests": {"memory": "64Mi"}}}
        >>> setup = {"resources": {"requests": {"memory": "256Mi"}}}
        >>> app = {"resources": {"requests": {"memory": "128Mi"}}}
        >>> pod_requests({"initContainers": [sidecar, setup], "containers": [app]})["memory"]
        Decimal('335544320')

    The last is 320Mi: while ``setup`` runs, the sidecar runs beside it
    (64Mi + 256Mi), more than the sidecar and the app together (192Mi).
    """
    status = status or {}
    statuses = {
        str(s.get("name")): s
        for s in (status.get("containerStatuses") or [])
        + (status.get("initContainerStatuses") or [])
    }
    total: Amounts = {}
    for container in spec.get("containers") or []:
        _add(total, _effective(container, statuses))
    sidecars: Amounts = {}
    during_init: Amounts = {}
    for container in spec.get("initContainers") or []:
        if container.get("restartPolicy") == "Always":
            own = _effective(container, statuses)
            _add(total, own)
            _add(sidecars, own)
            needs = dict(sidecars)
        else:
            needs = _amounts((container.get("resources") or {}).get("requests"))
            _add(needs, sidecars)
        _raise_to(during_init, needs)
    _raise_to(total, during_init)
    pod_level = _amounts((spec.get("resources") or {}).get("requests"))
    for key in POD_LEVEL:
        if key in pod_level:
            total[key] = pod_level[key]
    _add(total, _amounts(spec.get("overhead")))
    return total


def counts_on_node(pod: Obj) -> bool:
    """Tell whether the scheduler counts ``pod`` against its node: bound, not finished."""
    phase = (pod.get("status") or {}).get("phase")
    return bool((pod.get("spec") or {}).get("nodeName")) and phase not in ("Succeeded", "Failed")


def wanted_node(pod: Obj) -> str | None:
    """Return the node an unscheduled DaemonSet pod is for (its ``matchFields`` node), or None."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName") or (pod.get("status") or {}).get("phase", "Pending") != "Pending":
        return None
    if meta(pod).get("deletionTimestamp") or (controller_of(pod) or ("",))[0] != "DaemonSet":
        return None
    terms = (
        ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        )
        or {}
    ).get("nodeSelectorTerms") or []
    for term in terms:
        for match in term.get("matchFields") or []:
            values = match.get("values") or []
            if match.get("key") == "metadata.name" and match.get("operator") == "In" and values:
                return str(values[0])
    return None


@dataclass
class NodeBook:
    """One node's books: what it offers, and what the pods bound to it (or waiting for it) ask."""

    node: str
    allocatable: Amounts
    requested: Amounts = field(default_factory=dict)
    #: Requests by owner ("DaemonSet/log-collector", or "Pod/<name>" for a bare pod).
    by_owner: dict[str, Amounts] = field(default_factory=dict)
    pods: int = 0
    #: Pods waiting to be scheduled onto this node (DaemonSet pods that do not fit), by name.
    waiting: dict[str, Amounts] = field(default_factory=dict)
    waiting_owner: dict[str, str] = field(default_factory=dict)

    def percent(self, resource: str) -> float:
        """Return how much of ``resource`` is requested, in percent of allocatable."""
        offered = self.allocatable.get(resource, Decimal(0))
        if offered <= 0:
            return 0.0
        return float(self.requested.get(resource, Decimal(0)) / offered * 100)

    def free(self, resource: str) -> Decimal:
        """Return how much of ``resource`` is not requested yet (never below zero)."""
        left = self.allocatable.get(resource, Decimal(0)) - self.requested.get(resource, Decimal(0))
        return max(left, Decimal(0))


def owner_label(pod: Obj, namespace: str | None = None) -> str:
    """Return whose requests these are: ``DaemonSet/x`` (``ns/DaemonSet/x`` from elsewhere)."""
    kind, name = controller_of(pod) or ("Pod", name_of(pod))
    where = str(meta(pod).get("namespace") or "")
    prefix = "" if namespace is not None and where == namespace else f"{where}/"
    return f"{prefix}{kind}/{name}"


def _requests_of(pod: Obj) -> Amounts:
    return pod_requests(pod.get("spec") or {}, pod.get("status"))


def node_books(
    nodes: Iterable[Obj],
    pods: Iterable[Obj],
    namespace: str | None = None,
    requests_of: Callable[[Obj], Amounts] = _requests_of,
) -> dict[str, NodeBook]:
    """Add up, for every node, the requests of the pods the scheduler counts there.

    Pods of nodes that are gone are left out (they no longer take anything from
    anyone). ``namespace`` only shortens owner names: pods of every namespace
    count, as they do for the scheduler. ``requests_of`` computes a pod's
    requests (a live view passes a cached one).
    """
    books = {
        name_of(n): NodeBook(name_of(n), _amounts((n.get("status") or {}).get("allocatable")))
        for n in nodes
    }
    for pod in pods:
        spec = pod.get("spec") or {}
        if counts_on_node(pod):
            book = books.get(str(spec["nodeName"]))
            if book is None:
                continue
            asks = requests_of(pod)
            book.pods += 1
            _add(book.requested, asks)
            _add(book.by_owner.setdefault(owner_label(pod, namespace), {}), asks)
        elif (target := wanted_node(pod)) in books:
            book = books[str(target)]
            book.waiting[name_of(pod)] = requests_of(pod)
            book.waiting_owner[name_of(pod)] = owner_label(pod, namespace)
    return dict(sorted(books.items(), key=lambda kv: natural_key(kv[0])))


def amount_text(resource: str, value: Decimal) -> str:
    """Say an amount as kubectl does: ``250m`` or ``2`` CPUs, ``64Mi`` or ``1Gi`` of memory.

    Example:
        >>> amount_text("cpu", Decimal("0.25")), amount_text("memory", Decimal(2**30))
        ('250m', '1Gi')
    """
    if resource == "cpu":
        milli = value * 1000
        if milli == milli.to_integral_value() and milli % 1000:
            return f"{int(milli)}m"
        return f"{value.normalize():f}"
    for unit, size in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if value >= size and value % size == 0:
            return f"{int(value / size)}{unit}"
    for unit, size in (("Gi", 2**30), ("Mi", 2**20)):
        if value >= size:
            return f"{float(value / size):.3g}{unit}"
    return f"{value.normalize():f}"


def books_frame(books: dict[str, NodeBook]) -> pd.DataFrame:
    """Return one row per node: pods, requested and allocatable cpu and memory, what waits."""
    import pandas as pd

    rows = []
    for book in books.values():
        row: dict[str, Any] = {"node": book.node, "pods": book.pods}
        for resource in SHOWN:
            row[f"{resource}_requested"] = amount_text(
                resource, book.requested.get(resource, Decimal(0))
            )
            row[f"{resource}_allocatable"] = amount_text(
                resource, book.allocatable.get(resource, Decimal(0))
            )
            row[f"{resource}_percent"] = round(book.percent(resource))
        row["waiting"] = ", ".join(
            f"{book.waiting_owner[name]} ({_asks(asks)})"
            for name, asks in sorted(book.waiting.items())
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=NODE_COLUMNS)


def _asks(asks: Amounts) -> str:
    return ", ".join(f"{r} {amount_text(r, asks[r])}" for r in SHOWN if asks.get(r))


def node_requests(namespace: str | None = None) -> pd.DataFrame:
    """Return, per node, what its pods request against what it offers, read now.

    What ``kubectl describe node`` prints under "Allocated resources", for every
    node at once: the requests of the pods the scheduler counts on it (every
    namespace's), its ``status.allocatable``, the percentage, and the DaemonSet
    pods that wait for it because they do not fit.

    Args:
        namespace: shortens the owner names of this namespace's pods in ``waiting``.

    Example:
        >>> print(ch.node_requests(ns).to_string(index=False))  # doctest: +SKIP
          node  pods cpu_requested cpu_allocatable  cpu_percent ...
    """
    say("kubectl describe nodes  # Allocated resources, and the pods Pending for each node")
    books = node_books(list_objects("Node", None), list_objects("Pod", None), namespace)
    return books_frame(books)
