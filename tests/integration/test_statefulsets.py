"""StatefulSets with a headless Service on the embedded cluster."""

from __future__ import annotations

import time
from typing import Any

import pytest
from kubernetes import client as k8s

import course_helpers as ch
from course_helpers.kube._session import api_client
from course_helpers.kube._wait import condition_true

pytestmark = pytest.mark.integration
Obj = dict[str, Any]


class Timeline:
    """Records, in watch order, when each pod was first seen, became Ready, and vanished."""

    def __init__(self) -> None:
        self.step = 0
        self.seen: dict[str, int] = {}
        self.ready: dict[str, int] = {}
        self.gone: dict[str, int] = {}
        self.present: set[str] = set()

    def update(self, pods: list[Obj]) -> None:
        self.step += 1
        names = {p["metadata"]["name"] for p in pods}
        for pod in pods:
            name = pod["metadata"]["name"]
            self.seen.setdefault(name, self.step)
            if condition_true(pod, "Ready"):
                self.ready.setdefault(name, self.step)
        for name in self.present - names:
            self.gone.setdefault(name, self.step)
        self.present = names


def _start_web(namespace: str) -> Timeline:
    timeline = Timeline()

    def three_ready(pods: list[Obj]) -> bool:
        timeline.update(pods)
        return len(timeline.ready) == 3

    ch.apply("statefulset-web", namespace)
    ch.until("Pod", namespace, three_ready, "web-0..2 Ready", timeout=90, label_selector="app=web")
    return timeline


def test_pods_start_in_order_each_after_the_previous_is_ready(namespace: str) -> None:
    t = _start_web(namespace)
    assert sorted(t.seen, key=t.seen.__getitem__) == ["web-0", "web-1", "web-2"]
    assert t.ready["web-0"] < t.seen["web-1"]
    assert t.ready["web-1"] < t.seen["web-2"]


def test_each_pod_has_its_own_bound_claim(namespace: str) -> None:
    _start_web(namespace)
    core = k8s.CoreV1Api(api_client())
    claims = {
        c.metadata.name: c for c in core.list_namespaced_persistent_volume_claim(namespace).items
    }
    assert sorted(claims) == ["data-web-0", "data-web-1", "data-web-2"]
    assert {c.status.phase for c in claims.values()} == {"Bound"}
    assert len({c.spec.volume_name for c in claims.values()}) == 3
    for i in range(3):
        pod = core.read_namespaced_pod(f"web-{i}", namespace)
        mounted = [
            v.persistent_volume_claim.claim_name
            for v in pod.spec.volumes
            if v.persistent_volume_claim
        ]
        assert mounted == [f"data-web-{i}"]


def test_replacement_pod_keeps_name_and_claim(namespace: str) -> None:
    _start_web(namespace)
    core = k8s.CoreV1Api(api_client())
    before = core.read_namespaced_pod("web-1", namespace)
    claim_uid = core.read_namespaced_persistent_volume_claim("data-web-1", namespace).metadata.uid
    core.delete_namespaced_pod("web-1", namespace)

    def replaced(pods: list[Obj]) -> bool:
        return any(
            p["metadata"]["name"] == "web-1"
            and p["metadata"]["uid"] != before.metadata.uid
            and condition_true(p, "Ready")
            for p in pods
        )

    ch.until("Pod", namespace, replaced, "a new Ready web-1", timeout=60, label_selector="app=web")
    after = core.read_namespaced_pod("web-1", namespace)
    assert after.metadata.uid != before.metadata.uid
    claims = [
        v.persistent_volume_claim.claim_name
        for v in after.spec.volumes
        if v.persistent_volume_claim
    ]
    assert claims == ["data-web-1"]
    assert (
        core.read_namespaced_persistent_volume_claim("data-web-1", namespace).metadata.uid
        == claim_uid
    )


def test_scale_down_removes_the_highest_ordinal_first(namespace: str) -> None:
    t = _start_web(namespace)
    ch.patch("StatefulSet", "web", namespace, {"spec": {"replicas": 1}})

    def only_web0(pods: list[Obj]) -> bool:
        t.update(pods)
        return [p["metadata"]["name"] for p in pods] == ["web-0"]

    ch.until("Pod", namespace, only_web0, "only web-0 left", timeout=60, label_selector="app=web")
    assert t.gone["web-2"] < t.gone["web-1"]
    # Claims are retained by default when pods are scaled away.
    claims = k8s.CoreV1Api(api_client()).list_namespaced_persistent_volume_claim(namespace).items
    assert len(claims) == 3


def test_headless_service_gives_each_pod_a_dns_name(namespace: str) -> None:
    _start_web(namespace)
    pods = ch.pods(namespace, label_selector="app=web")
    for _, pod in pods.iterrows():
        fqdn = f"{pod['pod']}.web.{namespace}.svc.cluster.local"
        assert ch.resolve(fqdn, namespace) == [pod["ip"]]
    assert ch.resolve(f"web.{namespace}.svc.cluster.local", namespace) == sorted(pods["ip"])


def test_a_service_resolves_the_moment_it_is_created(namespace: str) -> None:
    """The cluster DNS learns a new Service from its watch a moment later: resolve waits."""
    ch.apply("service-web-loadbalanced", namespace)
    service = ch.get("Service", "web-lb", namespace)
    assert service is not None
    assert ch.resolve(f"web-lb.{namespace}.svc.cluster.local", namespace) == [
        service["spec"]["clusterIP"]
    ]


def test_a_name_that_should_not_exist_is_answered_at_once(namespace: str) -> None:
    """No Service, no wait: the lookup is asked once and answers no address."""
    ch.apply("service-web-loadbalanced", namespace)
    start = time.monotonic()
    assert ch.resolve(f"web-0.web-lb.{namespace}.svc.cluster.local", namespace) == []
    assert ch.resolve(f"nothing.{namespace}.svc.cluster.local", namespace) == []
    assert time.monotonic() - start < 5


def test_scale_shows_the_order_up_and_down(namespace: str) -> None:
    """ch.scale watches from before the change: the order is the controller's, not a guess."""
    _start_web(namespace)
    up = ch.blocking.scale("StatefulSet", "web", namespace, 5, timeout=90)
    assert up.ready == ["web-3", "web-4"] and up.gone == []
    down = ch.blocking.scale("StatefulSet", "web", namespace, 1, timeout=90)
    assert down.gone == ["web-4", "web-3", "web-2", "web-1"] and down.ready == []
    assert list(ch.pods(namespace, label_selector="app=web")["pod"]) == ["web-0"]
