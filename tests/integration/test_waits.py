"""The awaitable, kubectl-shaped waits on the embedded cluster: rollout status, kubectl wait,
and that an awaited wait leaves the event loop free for the live views."""

from __future__ import annotations

import asyncio
import time

import pytest

import course_helpers as ch

pytestmark = pytest.mark.integration


def test_rollout_status_of_a_daemonset(namespace: str, capsys: pytest.CaptureFixture[str]) -> None:
    ch.apply("daemonset-log-collector", namespace)
    done = asyncio.run(ch.rollout_status("DaemonSet", "log-collector", namespace, timeout=60))
    assert done == 'daemon set "log-collector" successfully rolled out'
    assert (
        f"kubectl rollout status daemonset/log-collector -n {namespace} --timeout=60s"
        in capsys.readouterr().out
    )
    status = ch.get("DaemonSet", "log-collector", namespace)["status"]  # type: ignore[index]
    nodes = len(ch.list_objects("Node", None))
    assert status["numberAvailable"] == status["desiredNumberScheduled"] == nodes
    assert ch.is_ready(ch.get("ds", "log-collector", namespace))  # type: ignore[arg-type]


def test_rollout_status_of_a_statefulset_and_pods_ready_in_order(namespace: str) -> None:
    ch.apply("statefulset-web", namespace)
    ready = asyncio.run(
        ch.wait_for("Pod", None, namespace, "condition=Ready", selector="app=web", count=3)
    )
    # OrderedReady: web-1 is created only once web-0 is Ready, and so on
    assert ready.names == ["web-0", "web-1", "web-2"]
    done = ch.blocking.rollout_status("sts", "web", namespace, timeout=60)
    assert done == "partitioned roll out complete: 3 new pods have been updated..."
    sts = ch.get("StatefulSet", "web", namespace)
    assert sts is not None and sts["status"]["readyReplicas"] == 3
    claims = ch.list_objects("pvc", namespace)
    assert [c["metadata"]["name"] for c in claims] == [f"data-web-{i}" for i in range(3)]


def test_wait_for_a_job_to_complete_and_its_pods_to_go(namespace: str) -> None:
    ch.apply("job-parallel", namespace)
    done = asyncio.run(
        ch.wait_for("Job", "render-frames-parallel", namespace, "condition=complete", timeout=90)
    )
    assert done == "job.batch/render-frames-parallel condition met"
    job = ch.get("Job", "render-frames-parallel", namespace)
    assert job is not None and ch.job_state(job) == "Complete"
    assert job["status"]["succeeded"] == job["spec"]["completions"]
    pods = ch.list_objects("Pod", namespace, label_selector="job-name=render-frames-parallel")
    assert len(pods) >= job["status"]["succeeded"]
    table = ch.pods_table(namespace)
    assert table.to_numpy().sum() == len(pods)
    assert list(table.columns) == ["Job/render-frames-parallel"]
    ch.delete("Job", "render-frames-parallel", namespace, cascade="foreground")
    gone = ch.blocking.wait_for(
        "Pod", None, namespace, "delete", selector="job-name=render-frames-parallel", timeout=60
    )
    # the garbage collector may take some before the wait's first list: those it never saw
    assert set(gone.names) <= {p["metadata"]["name"] for p in pods}
    assert ch.list_objects("Pod", namespace, label_selector="job-name=render-frames-parallel") == []


def test_a_failed_job_ends_a_wait_for_complete_at_once(namespace: str) -> None:
    ch.apply("job-failing", namespace)
    with pytest.raises(ch.WaitFailed, match="broken-task is Failed"):
        ch.blocking.wait_for("Job", "broken-task", namespace, "condition=complete", timeout=120)
    job = ch.get("Job", "broken-task", namespace)
    assert job is not None and ch.job_state(job) == "Failed"


def test_wait_for_delete_of_a_named_object(namespace: str) -> None:
    ch.apply("daemonset-log-collector", namespace)
    ch.delete("DaemonSet", "log-collector", namespace, cascade="foreground")
    done = asyncio.run(ch.wait_for("DaemonSet", "log-collector", namespace, "delete", timeout=60))
    assert done == "daemonset.apps/log-collector condition met"
    assert ch.get("DaemonSet", "log-collector", namespace) is None


def test_a_timeout_says_what_kubectl_would_say(namespace: str) -> None:
    ch.apply("statefulset-web", namespace)
    with pytest.raises(ch.WaitTimeout, match="kubectl would say"):
        ch.blocking.rollout_status("StatefulSet", "web", namespace, timeout=0.5)


def test_an_awaited_wait_leaves_the_loop_to_other_tasks(namespace: str) -> None:
    """While a cell awaits a wait, the kernel loop runs the widgets' tasks (here: a ticker)."""

    async def lesson() -> tuple[list[float], float, float]:
        ticks: list[float] = []

        async def view() -> None:
            while True:
                ticks.append(time.monotonic())
                await asyncio.sleep(0.05)

        drawing = asyncio.create_task(view())
        await asyncio.sleep(0)
        started = time.monotonic()
        ch.apply("statefulset-web", namespace)
        await ch.rollout_status("StatefulSet", "web", namespace, timeout=90)
        ended = time.monotonic()
        drawing.cancel()
        return ticks, started, ended

    ticks, started, ended = asyncio.run(lesson())
    during = [t for t in ticks if started < t < ended]
    # three pods one after the other take seconds: the ticker ran all along
    assert ended - started > 1
    assert len(during) >= (ended - started) / 0.05 / 4


def test_scaling_a_statefulset_up_and_down_in_order(namespace: str) -> None:
    ch.apply("statefulset-web", namespace)
    ch.blocking.rollout_status("StatefulSet", "web", namespace, timeout=90)
    ch.patch("StatefulSet", "web", namespace, {"spec": {"replicas": 5}})
    up = ch.blocking.wait_for("Pod", ["web-3", "web-4"], namespace, timeout=60)
    assert up.names == ["web-3", "web-4"]
    ch.patch("StatefulSet", "web", namespace, {"spec": {"replicas": 2}})
    down = asyncio.run(ch.wait_for("Pod", ["web-4", "web-3", "web-2"], namespace, "delete"))
    # OrderedReady: the highest ordinal goes first, one at a time
    assert down.names == ["web-4", "web-3", "web-2"]
    assert [p["metadata"]["name"] for p in ch.list_objects("Pod", namespace)] == ["web-0", "web-1"]


def test_the_jobs_table_counts_like_kubectl_get_jobs(namespace: str) -> None:
    ch.apply("job-parallel", namespace)
    ch.blocking.wait_for("Job", "render-frames-parallel", namespace, "condition=complete")
    [row] = ch.jobs(namespace).to_dict("records")
    job = ch.get("Job", "render-frames-parallel", namespace)
    assert job is not None
    assert row["state"] == "Complete"
    assert row["succeeded"] == job["spec"]["completions"] == row["completions"]
    assert row["parallelism"] == job["spec"]["parallelism"]
    assert row["active"] == 0 and row["owner"] == ""
    assert row["duration"] > 0
