"""The one kinds table, kubectl's rollout verdicts, and the object-field helpers on ch."""

from __future__ import annotations

from typing import Any

import pytest

import course_helpers as ch
from course_helpers.kube._kinds import KINDS, kind_info
from course_helpers.kube._rollout import RolloutError, rollout_message
from course_helpers.kube._watch_source import KubernetesSource

Obj = dict[str, Any]


@pytest.mark.parametrize(
    ("name", "kind", "version"),
    [
        ("DaemonSet", "DaemonSet", "apps/v1"),
        ("ds", "DaemonSet", "apps/v1"),
        ("jobs", "Job", "batch/v1"),
        ("pvc", "PersistentVolumeClaim", "v1"),
        ("EndpointSlice", "EndpointSlice", "discovery.k8s.io/v1"),
        ("sc", "StorageClass", "storage.k8s.io/v1"),
        ("controllerrevision", "ControllerRevision", "apps/v1"),
    ],
)
def test_kind_names_as_kubectl_writes_them(name: str, kind: str, version: str) -> None:
    assert (kind_info(name).kind, kind_info(name).api_version) == (kind, version)


def test_unknown_kinds_get_a_suggestion() -> None:
    with pytest.raises(ch.ManifestError, match=r"Did you mean.*DaemonSet"):
        kind_info("DaemonSets2")


def test_every_kind_has_the_typed_client_methods_the_watcher_calls() -> None:
    from kubernetes import client

    for info in KINDS.values():
        api = getattr(client, info.api)
        names = (
            [f"list_{info.stem}"]
            if not info.namespaced
            else [f"list_namespaced_{info.stem}", f"list_{info.stem}_for_all_namespaces"]
        )
        for method in names:
            assert hasattr(api, method), f"{info.kind}: {info.api}.{method}"


def test_manifests_and_watches_share_the_table() -> None:
    from course_helpers.kube import _manifests, _watch

    assert _watch.KINDS is KINDS
    assert not hasattr(_manifests, "_VERSIONS")
    assert KubernetesSource.__init__ is not None


def test_kubectl_names() -> None:
    assert kind_info("Job").kubectl_name("pi") == "job.batch/pi"
    assert kind_info("Pod").kubectl_name("web-0") == "pod/web-0"
    assert kind_info("sts").kubectl_name("web") == "statefulset.apps/web"


# -- kubectl rollout status ---------------------------------------------------------------------


def _sts(
    generation: int, observed: int, replicas: int, ready: int, updated: int, **extra: Any
) -> Obj:
    strategy = extra.get("strategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    return {
        "kind": "StatefulSet",
        "metadata": {"name": "web", "generation": generation},
        "spec": {"replicas": replicas, "updateStrategy": strategy},
        "status": {
            "observedGeneration": observed,
            "readyReplicas": ready,
            "updatedReplicas": updated,
            "currentReplicas": extra.get("current", updated),
            "updateRevision": extra.get("update_rev", "web-1"),
            "currentRevision": extra.get("current_rev", "web-1"),
        },
    }


@pytest.mark.parametrize(
    ("obj", "message", "done"),
    [
        (_sts(2, 1, 3, 3, 3), "Waiting for statefulset spec update to be observed...", False),
        (_sts(1, 0, 3, 0, 0), "Waiting for statefulset spec update to be observed...", False),
        (_sts(1, 1, 3, 1, 1), "Waiting for 2 pods to be ready...", False),
        (
            _sts(1, 1, 3, 3, 3),
            "partitioned roll out complete: 3 new pods have been updated...",
            True,
        ),
        (
            _sts(
                1, 1, 3, 3, 1, strategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}
            ),
            "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...",
            False,
        ),
        (
            _sts(1, 1, 3, 3, 1, strategy={"type": "RollingUpdate"}, update_rev="web-2"),
            "waiting for statefulset rolling update to complete 1 pods at revision web-2...",
            False,
        ),
    ],
)
def test_statefulset_rollout_verdicts_are_kubectls(obj: Obj, message: str, done: bool) -> None:
    assert rollout_message("StatefulSet", obj) == (message, done)


def test_deployment_rollout_verdicts() -> None:
    dep = {
        "metadata": {"name": "web", "generation": 1},
        "spec": {"replicas": 3},
        "status": {
            "observedGeneration": 1,
            "replicas": 4,
            "updatedReplicas": 3,
            "availableReplicas": 3,
        },
    }
    assert rollout_message("Deployment", dep)[0].endswith(
        "1 old replicas are pending termination..."
    )
    dep["status"]["replicas"] = 3
    assert rollout_message("Deployment", dep) == ('deployment "web" successfully rolled out', True)
    dep["status"]["conditions"] = [{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}]
    with pytest.raises(RolloutError, match="exceeded its progress deadline"):
        rollout_message("Deployment", dep)


def test_on_delete_daemonsets_have_no_rollout_status() -> None:
    ds = {
        "metadata": {"name": "x", "generation": 1},
        "spec": {"updateStrategy": {"type": "OnDelete"}},
    }
    with pytest.raises(RolloutError, match="only available for RollingUpdate"):
        rollout_message("DaemonSet", ds)


# -- object fields ------------------------------------------------------------------------------


def _job(*conditions: tuple[str, str]) -> Obj:
    return {
        "kind": "Job",
        "status": {"conditions": [{"type": t, "status": s} for t, s in conditions]},
    }


@pytest.mark.parametrize(
    ("job", "state"),
    [
        (_job(), "Running"),
        (_job(("SuccessCriteriaMet", "True")), "Running"),
        (_job(("SuccessCriteriaMet", "True"), ("Complete", "True")), "Complete"),
        (_job(("FailureTarget", "True"), ("Failed", "True")), "Failed"),
        (_job(("Suspended", "True")), "Suspended"),
        (_job(("Suspended", "False")), "Running"),
    ],
)
def test_job_state(job: Obj, state: str) -> None:
    assert ch.job_state(job) == state


def test_is_ready_and_condition() -> None:
    pod = {
        "kind": "Pod",
        "metadata": {},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }
    assert ch.is_ready(pod)
    assert ch.condition(pod, "Ready") == {"type": "Ready", "status": "True"}
    assert ch.condition(pod, "PodScheduled") is None
    assert not ch.is_ready({**pod, "metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}})
    assert ch.is_ready({"kind": "PersistentVolumeClaim", "status": {"phase": "Bound"}})
    assert ch.is_ready(_job(("Complete", "True")))
    assert not ch.is_ready(_job(("Failed", "True")))
    ds = {
        "kind": "DaemonSet",
        "metadata": {"name": "x", "generation": 1},
        "status": {
            "observedGeneration": 1,
            "desiredNumberScheduled": 2,
            "updatedNumberScheduled": 2,
            "numberAvailable": 1,
        },
    }
    assert not ch.is_ready(ds)
    ds["status"]["numberAvailable"] = 2
    assert ch.is_ready(ds)


# -- the echo switch ----------------------------------------------------------------------------


def test_echo_is_one_switch_and_a_context_manager(capsys: pytest.CaptureFixture[str]) -> None:
    from course_helpers.kube._echo import say

    say("kubectl get pods")
    with ch.echo(False):
        say("kubectl get jobs")
        assert not ch.echo()
    assert ch.echo()
    ch.echo(False)
    try:
        say("kubectl get nodes")
    finally:
        ch.echo(True)
    assert capsys.readouterr().out == "kubectl get pods\n"
