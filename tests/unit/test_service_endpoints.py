"""ServiceEndpoints: a normal Service's virtual IP beside a headless one's endpoints."""

from __future__ import annotations

from typing import Any

import pytest

from course_helpers.kube._watch import WatchEvent
from course_helpers.widgets import ServiceEndpoints

NS = "demo"
T0 = 1_772_442_000.0


def _service(name: str, cluster_ip: str) -> WatchEvent:
    obj = {"kind": "Service", "metadata": {"name": name, "namespace": NS}}
    obj["spec"] = {"clusterIP": cluster_ip, "selector": {"app": "web"}}
    return WatchEvent("Service", "ADDED", obj, T0)


def _endpoint(pod: str, ip: str, hostname: str | None, **conditions: bool) -> dict[str, Any]:
    found: dict[str, Any] = {
        "addresses": [ip],
        "conditions": {"ready": True, **conditions},
        "targetRef": {"kind": "Pod", "name": pod, "namespace": NS},
        "nodeName": "worker-1",
    }
    if hostname:
        found["hostname"] = hostname
    return found


def _slice(name: str, service: str, endpoints: list[dict[str, Any]], at: float = 0) -> WatchEvent:
    obj = {
        "kind": "EndpointSlice",
        "metadata": {
            "name": name,
            "namespace": NS,
            "labels": {"kubernetes.io/service-name": service},
        },
        "addressType": "IPv4",
        "endpoints": endpoints,
    }
    return WatchEvent("EndpointSlice", "MODIFIED", obj, T0 + at)


def _both() -> list[WatchEvent]:
    pods = [("web-0", "10.244.1.2"), ("web-1", "10.244.2.2")]
    return [
        _service("web-lb", "10.96.0.10"),
        _service("web", "None"),
        _service("other", "10.96.0.11"),
        _slice("web-lb-abcde", "web-lb", [_endpoint(p, ip, None) for p, ip in reversed(pods)]),
        _slice("web-fghij", "web", [_endpoint(p, ip, p) for p, ip in pods]),
        _slice("other-klmno", "other", [_endpoint("x", "10.244.3.3", None)]),
    ]


def test_the_virtual_ip_beside_the_headless_services_endpoints() -> None:
    view = ServiceEndpoints(["web-lb", "web"], NS, source=_both())
    frame = view.to_frame()
    assert list(zip(frame["service"], frame["pod"], strict=True)) == [
        ("web-lb", "web-0"),
        ("web-lb", "web-1"),
        ("web", "web-0"),
        ("web", "web-1"),
    ]
    assert view.cluster_ip("web-lb") == "10.96.0.10" and view.cluster_ip("web") == "None"
    assert list(frame["hostname"]) == ["", "", "web-0", "web-1"]
    # only the headless Service's endpoints with a hostname get a per-pod name
    assert list(frame["dns_name"]) == [
        "",
        "",
        "web-0.web.demo.svc.cluster.local",
        "web-1.web.demo.svc.cluster.local",
    ]
    html = view.table.value
    assert "10.96.0.10 (virtual IP)" in html and "None (headless)" in html
    assert "other" not in set(frame["service"]) and "10.244.3.3" not in html
    assert view._summary() == "2 Services, 4 endpoints"


def test_a_pod_that_is_not_ready_keeps_its_endpoint_but_loses_its_name() -> None:
    events = _both()
    going = [
        _endpoint("web-0", "10.244.1.2", "web-0", ready=False, terminating=True),
        _endpoint("web-1", "10.244.2.2", "web-1"),
    ]
    view = ServiceEndpoints(
        ["web-lb", "web"], NS, source=[*events, _slice("web-fghij", "web", going, 5)]
    )
    rows = view.to_frame().to_dict("records")
    web_0 = next(r for r in rows if r["service"] == "web" and r["pod"] == "web-0")
    assert (web_0["ready"], web_0["terminating"], web_0["dns_name"]) == (False, True, "")
    assert "✗ not ready, terminating" in view.table.value


def test_services_not_seen_yet_or_without_endpoints_get_one_row() -> None:
    view = ServiceEndpoints(["web", "missing"], NS, source=[_service("web", "None")])
    frame = view.to_frame()
    assert list(frame["service"]) == ["web", "missing"]
    assert frame["address"].isna().all()
    html = view.snapshot().html
    assert "no endpoints" in html and "not seen yet" in html


def test_no_service_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="at least one Service"):
        ServiceEndpoints([], NS, source=[])
