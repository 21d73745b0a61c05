"""A Job's deadline, its TTL after finishing, and suspend/resume, on the real Job controller.

Each test runs one of 02's optional demos in a namespace of its own, with a
JobProgress opened first, and checks both what the API says and what the view
shows at the end (what the notebook's learner sees).
"""

from __future__ import annotations

from typing import Any

import pytest
from test_widgets_live import _converge

import course_helpers as ch
from course_helpers.kube._objects import epoch
from course_helpers.widgets import JobProgress

pytestmark = pytest.mark.integration
Obj = dict[str, Any]


def _job(namespace: str, name: str) -> Obj:
    job = ch.get("Job", name, namespace)
    assert job is not None, f"Job {name} is not in {namespace}"
    return job


def _conditions(job: Obj) -> list[tuple[str, str, str]]:
    return [(c["type"], c["status"], c.get("reason", "")) for c in job["status"]["conditions"]]


def _seconds(stamp: str) -> float:
    value = epoch(stamp)
    assert value is not None, stamp
    return value


def _pods(namespace: str, job: str) -> int:
    return len(ch.pods(namespace, label_selector=f"job-name={job}"))


def test_a_job_past_its_deadline_is_stopped_and_failed(namespace: str) -> None:
    with JobProgress("slow-report", namespace) as progress:
        assert progress.wait_synced(15)
        ch.apply("job-deadline", namespace)
        ch.blocking.wait_for("Job", "slow-report", namespace, "condition=failed", timeout=60)
        job = _job(namespace, "slow-report")
        assert _conditions(job) == [
            ("FailureTarget", "True", "DeadlineExceeded"),
            ("Failed", "True", "DeadlineExceeded"),
        ]
        # both running pods were deleted and counted as failed, far below backoffLimit 6
        status = job["status"]
        assert (status.get("active", 0), status.get("succeeded", 0), status["failed"]) == (0, 0, 2)
        assert job["spec"]["backoffLimit"] == 6
        assert _pods(namespace, "slow-report") == 0, "the stopped pods are gone, not kept"
        # it failed at the deadline: six seconds after startTime, not at the pods' two minutes
        decided = ch.condition(job, "FailureTarget")
        assert decided is not None
        took = _seconds(decided["lastTransitionTime"]) - _seconds(status["startTime"])
        assert 6 <= took < 60, took
        _converge(progress, lambda: progress.runs["slow-report"][-1].state == "Failed", "Failed")
        assert progress.panel_title("slow-report") == "slow-report: Failed, 0/2, parallelism 2"
        assert progress.run_lines("slow-report") == ["reason: DeadlineExceeded"]
        frame = progress.to_frame()
        assert frame["failed"].iloc[-1] == 2 and frame["active"].max() == 2
        # the dashed deadline line: startTime + 6 s; active drops to 0 after it, not before
        (line,) = [s for s in progress.figure.layout.shapes if s.name == "deadline"]
        running = frame[frame["active"] == 2]["t"].min()
        stopped = frame[(frame["t"] > running) & (frame["active"] == 0)]["t"].min()
        assert running < line.x0 <= stopped + 0.1, (running, line.x0, stopped)


def test_a_finished_job_is_deleted_with_its_pod_after_its_ttl(namespace: str) -> None:
    with JobProgress("send-reminders", namespace) as progress:
        assert progress.wait_synced(15)
        ch.apply("job-ttl", namespace)
        done = ch.blocking.wait_for(
            "Job", "send-reminders", namespace, "condition=complete", timeout=60
        )
        finished = ch.condition(done.objects[0], "Complete")
        assert finished is not None
        ch.blocking.wait_for("Job", "send-reminders", namespace, "delete", timeout=60)
        assert ch.get("Job", "send-reminders", namespace) is None
        assert _pods(namespace, "send-reminders") == 0, "foreground deletion: the pod went first"
        _converge(
            progress,
            lambda: progress.runs["send-reminders"][-1].deleted_at is not None,
            "the deletion",
        )
        run = progress.runs["send-reminders"][-1]
        assert run.state == "Complete" and run.finished is not None
        assert run.finished == _seconds(finished["lastTransitionTime"])
        # the TTL counts from the Complete condition's time (whole seconds, so up to 1 s early)
        assert run.deleted_at is not None
        assert 4 <= run.deleted_at - run.finished < 30
        (line,) = progress.run_lines("send-reminders")
        assert line.startswith("⊖ deleted ") and line.endswith(" s after it finished")
        assert progress.to_frame()["succeeded"].iloc[-1] == 1, "its lines stay"
        assert [s.name for s in progress.figure.layout.shapes] == ["⊖ deleted"]


def test_a_suspended_job_makes_no_pods_and_resuming_restarts_its_clock(namespace: str) -> None:
    name = "nightly-batch"
    with JobProgress(name, namespace) as progress:
        assert progress.wait_synced(15)
        ch.apply("job-suspended", namespace)
        ch.blocking.wait_for("Job", name, namespace, "condition=suspended", timeout=30)
        job = _job(namespace, name)
        assert _conditions(job) == [("Suspended", "True", "JobSuspended")]
        assert "startTime" not in job["status"] and _pods(namespace, name) == 0
        ch.patch("Job", name, namespace, {"spec": {"suspend": False}})
        ch.blocking.wait_for("Job", name, namespace, "jsonpath={.status.ready}=2", timeout=30)
        first_start = _job(namespace, name)["status"]["startTime"]
        # suspended while both pods run (8 s each): they are deleted, not counted as failed
        ch.patch("Job", name, namespace, {"spec": {"suspend": True}})
        ch.blocking.wait_for("Job", name, namespace, "condition=suspended", timeout=30)
        ch.blocking.wait_for("Pod", None, namespace, "delete", selector=f"job-name={name}")
        status = _job(namespace, name)["status"]
        assert "startTime" not in status, "v1.36 clears startTime on suspension"
        assert status.get("active", 0) == status.get("failed", 0) == status.get("succeeded", 0) == 0
        ch.patch("Job", name, namespace, {"spec": {"suspend": False}})
        ch.blocking.wait_for("Job", name, namespace, "condition=complete", timeout=60)
        job = _job(namespace, name)
        resumed = ch.condition(job, "Suspended")
        assert resumed is not None
        assert (resumed["status"], resumed["reason"]) == ("False", "JobResumed")
        start = job["status"]["startTime"]
        assert start >= resumed["lastTransitionTime"] > first_start, "reset at the last resume"
        assert (job["status"]["succeeded"], job["status"].get("failed", 0)) == (2, 0)
        _converge(progress, lambda: progress.runs[name][-1].state == "Complete", "Complete")
        run = progress.runs[name][-1]
        assert len(run.suspended) == 2 and all(end is not None for _, end in run.suspended)
        bands = [s for s in progress.figure.layout.shapes if s.name == "suspended"]
        assert len(bands) == 2 and [b.showlegend for b in bands] == [True, False]
        assert progress.to_frame()["active"].tolist()[-1] == 0
        assert progress.to_frame()["failed"].max() == 0
        assert progress.run_lines(name)[0].startswith("suspended ")
