"""What notebook 03 shows of CronJobs beyond the schedule, on the real v1.36 controller.

concurrencyPolicy (Allow, Forbid with and without startingDeadlineSeconds, Replace),
missed ticks after a long suspension (the "100 missed" rule), spec.timeZone, and a
manual run (kubectl create job --from=cronjob/...) counted by the history limits. Each
test has a namespace of its own; the waits watch the cluster, never sleep.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

import pytest

import course_helpers as ch
from course_helpers.widgets import CronJobTimeline

pytestmark = pytest.mark.integration
LONG_AGO = "2026-01-02T08:00:00Z"


def kubectl(*args: str, stdin: str | None = None) -> str:
    """Run the course's kubectl (connect() put it first on PATH) and return its output."""
    done = subprocess.run(
        ["kubectl", *args], input=stdin, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def last_ran_long_ago(namespace: str, *names: str) -> None:
    """Write status.lastScheduleTime as the notebook does (kubectl patch --subresource=status)."""
    patch = f'status:\n  lastScheduleTime: "{LONG_AGO}"\n'
    kubectl(
        *("patch", "cronjob", *names, "-n", namespace, "--subresource=status"),
        *("--type=merge", "--patch-file=/dev/stdin"),
        stdin=patch,
    )


def events(namespace: str, name: str) -> set[tuple[str, str, str]]:
    """Return the (type, reason, message) of the events about CronJob ``name``."""
    found = ch.list_objects("Event", namespace, field_selector=f"involvedObject.name={name}")
    return {(e["type"], e["reason"], e["message"]) for e in found}


def wait_event(namespace: str, name: str, reason: str, timeout: float = 120) -> None:
    selector = f"involvedObject.name={name},reason={reason}"
    ch.blocking.wait_for(
        "Event", None, namespace, "create", field_selector=selector, timeout=timeout
    )


def owned(namespace: str, cronjob: str) -> list[dict[str, object]]:
    table = ch.jobs(namespace)
    rows = table[table["owner"] == f"CronJob/{cronjob}"].sort_values("scheduled")
    return list(rows.to_dict("records"))


@pytest.mark.slow
def test_allow_overlaps_forbid_waits_or_drops_replace_replaces(namespace: str) -> None:
    names = ["allow", "forbid", "forbid-deadline", "replace"]
    timeline = CronJobTimeline(names, namespace)
    try:
        assert timeline.wait_synced(15)
        ch.apply("cronjob-concurrency", namespace)
        # the controller has seen the first runs succeed (and decided about Forbid's tick)
        ch.blocking.wait_for(
            "CronJob",
            ["allow", "forbid", "forbid-deadline"],
            namespace,
            "jsonpath={.status.lastSuccessfulTime}",
            timeout=240,
        )
        for name in names:
            ch.patch("CronJob", name, namespace, {"spec": {"suspend": True}})
        allow, forbid = owned(namespace, "allow"), owned(namespace, "forbid")
        deadline, replace = owned(namespace, "forbid-deadline"), owned(namespace, "replace")
        first_tick = allow[0]["scheduled"]
        second_tick = first_tick + timedelta(minutes=1)
        # Allow: the second tick's Job started while the first still ran
        assert [j["scheduled"] for j in allow] == [first_tick, second_tick]
        assert allow[1]["started"] < allow[0]["finished"]
        # Forbid: the second tick's Job started once the first ended, late
        assert [j["scheduled"] for j in forbid] == [first_tick, second_tick]
        assert forbid[1]["started"] >= forbid[0]["finished"] > second_tick
        # Forbid with startingDeadlineSeconds 10: the held-back tick was dropped
        assert [(j["scheduled"], j["state"]) for j in deadline] == [(first_tick, "Complete")]
        active = ch.get("CronJob", "forbid-deadline", namespace)["status"].get("active")
        assert not active
        held = (
            "Not starting job because prior execution is running and concurrency policy is Forbid"
        )
        assert ("Normal", "JobAlreadyActive", held) in events(namespace, "forbid")
        assert ("Normal", "JobAlreadyActive", held) in events(namespace, "forbid-deadline")
        # Replace: the first Job was deleted at the second tick, still running
        assert [(j["scheduled"], j["state"]) for j in replace] == [(second_tick, "Running")]
        first = f"replace-{int(first_tick.timestamp()) // 60}"
        assert ("Normal", "SuccessfulDelete", f"Deleted job {first}") in events(
            namespace, "replace"
        )
        # the timeline saw the same
        assert timeline.wait_synced(15)
        frame = timeline.to_frame().set_index("job")
        assert frame.loc[first, "removed_by"] == "replaced"
        assert frame.loc[first, "outcome"] == "Running"
        late = frame.loc[f"forbid-{int(second_tick.timestamp()) // 60}"]
        assert late["started"] - late["scheduled"] >= timedelta(seconds=10)
        assert set(frame["cronjob"]) == set(names)
    finally:
        timeline.close()


def test_after_many_missed_ticks_one_job_starts_with_a_warning(namespace: str) -> None:
    ch.apply("cronjob-missed-runs", namespace)
    last_ran_long_ago(namespace, "holiday", "holiday-deadline")
    resumed = datetime.now(UTC)
    for name in ("holiday", "holiday-deadline"):
        ch.patch("CronJob", name, namespace, {"spec": {"suspend": False}})
    for name in ("holiday", "holiday-deadline"):
        wait_event(namespace, name, "SuccessfulCreate")
    warning = (
        "Warning",
        "TooManyMissedTimes",
        "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check "
        "clock skew",
    )
    # thousands of hourly ticks missed: a warning, and still one Job, for the latest hour
    assert warning in events(namespace, "holiday")
    # with startingDeadlineSeconds the controller looks back one hour only: no warning
    assert {e[1] for e in events(namespace, "holiday-deadline")} == {"SuccessfulCreate"}
    latest_hour = resumed.replace(minute=0, second=0, microsecond=0)
    for name in ("holiday", "holiday-deadline"):
        jobs = owned(namespace, name)
        assert len(jobs) == 1, jobs
        assert jobs[0]["scheduled"] in (latest_hour, latest_hour + timedelta(hours=1))


def test_a_time_zone_moves_the_tick_and_the_course_agrees(namespace: str) -> None:
    ch.apply("cronjob-time-zone", namespace)
    ticks = ch.cronjob_ticks("morning-report", namespace)
    assert ticks.zone_name == "Asia/Kathmandu"
    assert ticks.next is not None and ticks.previous is not None
    assert (ticks.next.hour, ticks.next.minute) == (9, 30)
    assert (ticks.next.astimezone(UTC).hour, ticks.next.astimezone(UTC).minute) == (3, 45)
    last_ran_long_ago(namespace, "morning-report")
    wait_event(namespace, "morning-report", "SuccessfulCreate")
    last = ch.get("CronJob", "morning-report", namespace)["status"]["lastScheduleTime"]
    assert ticks.is_previous(last), (str(ticks), last)
    (job,) = ch.list_objects("Job", namespace)
    stamp = job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    assert stamp.endswith("T09:30:00+05:45"), stamp
    assert {e[1] for e in events(namespace, "morning-report")} == {"SuccessfulCreate"}


@pytest.mark.slow
def test_a_manual_job_counts_toward_the_history_limit(namespace: str) -> None:
    timeline = CronJobTimeline("cleanup", namespace)
    try:
        assert timeline.wait_synced(15)
        ch.apply("cronjob-cleanup", namespace)
        kubectl("create", "job", "cleanup-by-hand", "--from=cronjob/cleanup", "-n", namespace)
        manual = ch.get("Job", "cleanup-by-hand", namespace)
        assert manual["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
        (owner,) = manual["metadata"]["ownerReferences"]
        assert (owner["kind"], owner["name"], owner["controller"]) == ("CronJob", "cleanup", True)
        wait_event(namespace, "cleanup", "SuccessfulDelete", timeout=150)
        ch.patch("CronJob", "cleanup", namespace, {"spec": {"suspend": True}})
        said = events(namespace, "cleanup")
        assert ("Normal", "SuccessfulDelete", "Deleted job cleanup-by-hand") in said
        unexpected = "Saw a job that the controller did not create or forgot: cleanup-by-hand"
        assert ("Warning", "UnexpectedJob", unexpected) in said
        kept = owned(namespace, "cleanup")
        assert [j["state"] for j in kept] == ["Complete"]
        assert str(kept[0]["job"]).startswith("cleanup-")
        assert ch.get("Job", "cleanup-by-hand", namespace) is None
        assert timeline.wait_synced(15)
        frame = timeline.to_frame().set_index("job")
        assert frame.loc["cleanup-by-hand", "manual"]
        assert frame.loc["cleanup-by-hand", "removed_by"] == "history limit"
    finally:
        timeline.close()
