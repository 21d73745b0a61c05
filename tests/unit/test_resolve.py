"""ch.resolve waits until the cluster DNS agrees with the Service and its pods."""

from __future__ import annotations

from typing import Any

import pytest

from course_helpers.kube import _cluster_ops
from course_helpers.kube._cluster_ops import DnsExpectation, expected_answer
from course_helpers.kube._wait import WaitTimeout

NS = "course-statefulsets"
HEADLESS = {"spec": {"clusterIP": "None", "selector": {"app": "web"}}}
NORMAL = {"spec": {"clusterIP": "10.96.0.7", "selector": {"app": "web"}}}


def pod(name: str, ip: str, ready: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"app": "web"}, **extra},
        "spec": {"hostname": name, "subdomain": "web"},
        "status": {
            "podIP": ip,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


PODS = [pod("web-0", "10.0.0.2"), pod("web-1", "10.0.0.1"), pod("web-2", "10.0.0.3", False)]


def test_a_normal_service_answers_its_cluster_ip() -> None:
    want = expected_answer(f"web-lb.{NS}.svc.cluster.local", NS, NORMAL, PODS)
    assert want == DnsExpectation(["10.96.0.7"], "Service web-lb's ClusterIP")


def test_a_headless_service_answers_its_ready_pods_sorted() -> None:
    want = expected_answer(f"web.{NS}.svc.cluster.local.", NS, HEADLESS, PODS)
    assert want is not None and want.addresses == ["10.0.0.1", "10.0.0.2"]


def test_a_pod_name_answers_once_the_pod_is_ready() -> None:
    ready = expected_answer(f"web-0.web.{NS}.svc.cluster.local", NS, HEADLESS, PODS)
    starting = expected_answer(f"web-2.web.{NS}.svc.cluster.local", NS, HEADLESS, PODS)
    assert ready is not None and ready.addresses == ["10.0.0.2"]
    assert starting is not None and starting.addresses == []


def test_terminating_and_unselected_pods_are_left_out() -> None:
    leaving = pod("web-0", "10.0.0.2", deletionTimestamp="2026-01-01T00:00:00Z")
    other = pod("db-0", "10.0.0.9")
    other["metadata"]["labels"] = {"app": "db"}
    want = expected_answer(f"web.{NS}.svc.cluster.local", NS, HEADLESS, [leaving, other])
    assert want is not None and want.addresses == []


def test_publish_not_ready_addresses_answers_pods_that_are_not_ready() -> None:
    service = {"spec": {**HEADLESS["spec"], "publishNotReadyAddresses": True}}
    want = expected_answer(f"web-2.web.{NS}.svc.cluster.local", NS, service, PODS)
    assert want is not None and want.addresses == ["10.0.0.3"]


def test_names_without_a_service_or_per_pod_name_expect_no_address() -> None:
    missing = expected_answer(f"nope.{NS}.svc.cluster.local", NS, None, [])
    assert missing == DnsExpectation([], f"there is no Service nope in {NS}")
    not_headless = expected_answer(f"web-0.web-lb.{NS}.svc.cluster.local", NS, NORMAL, PODS)
    assert not_headless is not None and not_headless.addresses == []


@pytest.mark.parametrize(
    "name",
    [
        "web.other.svc.cluster.local",
        f"a.b.web.{NS}.svc.cluster.local",
        "example.com",
    ],
)
def test_names_it_does_not_model_are_looked_up_once(name: str) -> None:
    assert expected_answer(name, NS, HEADLESS, PODS) is None


def test_services_without_selector_or_external_names_are_not_modelled() -> None:
    headless_no_selector = {"spec": {"clusterIP": "None"}}
    assert expected_answer(f"x.{NS}.svc.cluster.local", NS, headless_no_selector, []) is None
    external = {"spec": {"type": "ExternalName", "selector": {"a": "b"}}}
    assert expected_answer(f"x.{NS}.svc.cluster.local", NS, external, []) is None


class FakeInfo:
    embedded = True
    dns_port = 53053


def test_resolve_asks_again_until_the_dns_caught_up(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter([[], [], ["10.96.0.7"]])
    monkeypatch.setattr(_cluster_ops, "cluster_info", FakeInfo)
    monkeypatch.setattr(_cluster_ops._dns, "resolve", lambda name, port: next(answers))
    monkeypatch.setattr(
        _cluster_ops, "_expectation_now", lambda n, ns: DnsExpectation(["10.96.0.7"], "its IP")
    )
    assert _cluster_ops.resolve(f"web-lb.{NS}.svc.cluster.local", NS) == ["10.96.0.7"]
    assert "waited" in capsys.readouterr().out


def test_resolve_gives_up_saying_what_it_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_cluster_ops, "cluster_info", FakeInfo)
    monkeypatch.setattr(_cluster_ops._dns, "resolve", lambda name, port: [])
    monkeypatch.setattr(
        _cluster_ops,
        "_expectation_now",
        lambda n, ns: DnsExpectation(["10.96.0.7"], "Service web-lb's ClusterIP"),
    )
    with pytest.raises(WaitTimeout, match=r"answer web-lb.*\['10.96.0.7'\].*ClusterIP.*no address"):
        _cluster_ops.resolve(f"web-lb.{NS}.svc.cluster.local", NS, timeout=0.3)


def test_resolve_of_a_name_it_does_not_model_asks_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(_cluster_ops, "cluster_info", FakeInfo)
    monkeypatch.setattr(_cluster_ops._dns, "resolve", lambda name, port: calls.append(name) or [])
    monkeypatch.setattr(_cluster_ops, "_expectation_now", lambda n, ns: None)
    assert _cluster_ops.resolve("example.com", NS) == []
    assert calls == ["example.com"]


def test_endpoints_reads_every_slice_one_row_per_pod(monkeypatch: pytest.MonkeyPatch) -> None:
    def endpoint(host: str, ip: str, ready: bool) -> dict[str, Any]:
        return {
            "hostname": host,
            "addresses": [ip],
            "conditions": {"ready": ready},
            "targetRef": {"kind": "Pod", "name": host},
        }

    slices = [
        {"endpoints": [endpoint("web-1", "10.0.0.1", True)]},
        {"endpoints": [endpoint("web-0", "10.0.0.2", False)]},
        {"endpoints": None},
    ]
    asked: list[tuple[str, str, str | None]] = []

    def listing(kind: str, ns: str, label_selector: str | None = None) -> list[Any]:
        asked.append((kind, ns, label_selector))
        return slices

    monkeypatch.setattr(_cluster_ops, "list_objects", listing)
    table = _cluster_ops.endpoints(NS, "web")
    assert asked == [("EndpointSlice", NS, "kubernetes.io/service-name=web")]
    assert table.to_dict("records") == [
        {"hostname": "web-0", "address": "10.0.0.2", "ready": False, "pod": "web-0"},
        {"hostname": "web-1", "address": "10.0.0.1", "ready": True, "pod": "web-1"},
    ]
