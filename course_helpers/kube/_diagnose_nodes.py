"""Why no node can take a pod: labels, node affinity, taints, requests larger than a node.

A pod's requests are added up as the scheduler does (``_requests.pod_requests``).
"""

from __future__ import annotations

from decimal import Decimal

from kubernetes.utils.quantity import parse_quantity

from ._diagnose_base import Cause, Obj, _labels
from ._objects import name_of, natural_key
from ._requests import pod_requests


def _term_matches(node: Obj, term: Obj) -> bool:
    labels = _labels(node)
    checks = [(labels.get(e.get("key", "")), e) for e in term.get("matchExpressions") or []]
    checks += [
        (name_of(node) if e.get("key") == "metadata.name" else None, e)
        for e in term.get("matchFields") or []
    ]
    for value, expr in checks:
        op, values = expr.get("operator"), [str(v) for v in expr.get("values") or []]
        if op == "In" and value not in values:
            return False
        if op == "NotIn" and value in values:
            return False
        if op == "Exists" and value is None:
            return False
        if op == "DoesNotExist" and value is not None:
            return False
        if op in ("Gt", "Lt"):
            try:
                number, bound = int(value or ""), int(values[0])
            except (ValueError, IndexError):
                return False
            if (op == "Gt" and number <= bound) or (op == "Lt" and number >= bound):
                return False
    return bool(checks)


def _required_terms(spec: Obj) -> list[Obj]:
    affinity = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    return list(affinity.get("nodeSelectorTerms") or [])


def _selector_matches(spec: Obj, node: Obj) -> bool:
    labels = _labels(node)
    selector = spec.get("nodeSelector") or {}
    if any(labels.get(k) != v for k, v in selector.items()):
        return False
    terms = _required_terms(spec)
    return not terms or any(_term_matches(node, t) for t in terms)


def _tolerates(tolerations: list[Obj], taint: Obj) -> bool:
    for t in tolerations:
        if t.get("effect") and t.get("effect") != taint.get("effect"):
            continue
        if t.get("operator") == "Exists":
            if not t.get("key") or t.get("key") == taint.get("key"):
                return True
        elif t.get("key") == taint.get("key") and (t.get("value") or "") == (
            taint.get("value") or ""
        ):
            return True
    return False


def _blocking_taints(spec: Obj, node: Obj) -> list[Obj]:
    taints = (node.get("spec") or {}).get("taints") or []
    tolerations = spec.get("tolerations") or []
    return [
        t
        for t in taints
        if t.get("effect") in ("NoSchedule", "NoExecute") and not _tolerates(tolerations, t)
    ]


def _taint_text(taint: Obj) -> str:
    value = f"={taint['value']}" if taint.get("value") else ""
    return f"{taint.get('key')}{value}:{taint.get('effect')}"


def _allocatable(node: Obj, resource: str) -> Decimal:
    value = ((node.get("status") or {}).get("allocatable") or {}).get(resource)
    return parse_quantity(value) if value is not None else Decimal(0)


def _amount(resource: str, value: Decimal) -> str:
    if resource == "memory" or resource.endswith("storage"):
        for unit, size in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
            if value >= size:
                return f"{value / size:.3g}{unit}"
    return f"{value.normalize():f}"


def _label_values(nodes: list[Obj], key: str) -> str:
    values: dict[str, list[str]] = {}
    for node in sorted(nodes, key=lambda n: natural_key(name_of(n))):
        value = _labels(node).get(key)
        if value is not None:
            values.setdefault(value, []).append(name_of(node))
    if not values:
        return f"no node has the label {key} at all"
    shown = "; ".join(f"{key}={v} on {', '.join(ns)}" for v, ns in sorted(values.items()))
    return f"the nodes have {shown}"


def placement_causes(spec: Obj, nodes: list[Obj], who: str) -> list[Cause]:
    """Say why no node can take a pod with this spec (nothing when some node can).

    ``who`` names the pod or workload in the sentence. Only causes that do not
    depend on other pods are judged here: labels, affinity, taints, and requests
    larger than a whole node.

    Example:
        >>> nodes = [{"metadata": {"name": "w1", "labels": {"disk": "ssd"}}}]
        >>> print(placement_causes({"nodeSelector": {"disk": "SSD"}}, nodes, "Pod p")[0].text)
        ... # doctest: +NORMALIZE_WHITESPACE
        Pod p can run on no node: its nodeSelector asks for disk=SSD, but the nodes have
        disk=ssd on w1. Fix the nodeSelector, or label a node (`kubectl label node <name>
        <key>=<value>`).
    """
    if not nodes:
        return [Cause(f"The cluster has no nodes, so {who} cannot run anywhere.", final=True)]
    selector = dict(spec.get("nodeSelector") or {})
    matching = [n for n in nodes if _selector_matches(spec, n)]
    if not matching:
        missing = [
            (k, v) for k, v in selector.items() if not any(_labels(n).get(k) == v for n in nodes)
        ]
        if missing:
            parts = "; ".join(f"{k}={v}, but {_label_values(nodes, k)}" for k, v in sorted(missing))
            return [
                Cause(
                    f"{who} can run on no node: its nodeSelector asks for {parts}. Fix the "
                    "nodeSelector, or label a node (`kubectl label node <name> <key>=<value>`).",
                    final=True,
                )
            ]
        if selector and not any(
            all(_labels(n).get(k) == v for k, v in selector.items()) for n in nodes
        ):
            wanted = ", ".join(f"{k}={v}" for k, v in sorted(selector.items()))
            return [
                Cause(
                    f"{who} can run on no node: no single node has all of its nodeSelector "
                    f"labels {wanted}.",
                    final=True,
                )
            ]
        return [
            Cause(
                f"{who} can run on no node: no node satisfies its required node affinity "
                "(spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution).",
                final=True,
            )
        ]
    untainted = [n for n in matching if not _blocking_taints(spec, n)]
    if not untainted:
        shown = "; ".join(
            f"{name_of(n)} has {', '.join(_taint_text(t) for t in _blocking_taints(spec, n))}"
            for n in sorted(matching, key=lambda n: natural_key(name_of(n)))
        )
        return [
            Cause(
                f"{who} can run on no node: every node it may use has a taint it does not "
                f"tolerate ({shown}). Add a matching toleration, or remove the taint "
                "(`kubectl taint node <name> <key>-`).",
                final=True,
            )
        ]
    requests = pod_requests(spec)
    too_big = []
    for resource, amount in sorted(requests.items()):
        if amount <= 0:
            continue
        largest = max(_allocatable(n, resource) for n in untainted)
        if amount > largest:
            too_big.append(
                f"{resource} {_amount(resource, amount)} (the largest node offers "
                f"{_amount(resource, largest)})"
            )
    if too_big:
        return [
            Cause(
                f"{who} can run on no node: it requests {'; '.join(too_big)}. Lower "
                "the container's resources.requests.",
                final=True,
            )
        ]
    return []
