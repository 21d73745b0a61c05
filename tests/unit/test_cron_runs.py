"""ch.cronjob_runs: a CronJob's n-th run finished and its history trimmed, read from the Jobs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from course_helpers.errors import CourseError
from course_helpers.kube._cron_runs import runs_check

Obj = dict[str, Any]


def cronjob(schedule: str = "* * * * *", created: str = "2026-01-01T10:00:30Z", **spec: Any) -> Obj:
    return {
        "metadata": {"name": "backup", "creationTimestamp": created},
        "spec": {"schedule": schedule, **spec},
    }


def job(minute: int, state: str | None, owner: str = "backup") -> Obj:
    conditions = [{"type": state, "status": "True"}] if state else []
    at = f"2026-01-01T10:{minute:02d}:00Z"
    return {
        "metadata": {
            "name": f"{owner}-{minute}",
            "annotations": {"batch.kubernetes.io/cronjob-scheduled-timestamp": at},
            "ownerReferences": [{"kind": "CronJob", "name": owner, "controller": True}],
        },
        "status": {"conditions": conditions},
    }


def test_the_nth_tick_is_counted_strictly_after_creation() -> None:
    assert runs_check(cronjob(), 2, "UTC").tick == datetime(2026, 1, 1, 10, 2, tzinfo=UTC)
    on_the_minute = cronjob(created="2026-01-01T10:00:00Z")
    assert runs_check(on_the_minute, 1, "UTC").tick == datetime(2026, 1, 1, 10, 1, tzinfo=UTC)


def test_second_run_kept_once_the_first_is_removed() -> None:
    want = runs_check(cronjob(successfulJobsHistoryLimit=1), 2, "UTC")
    assert want.check([job(1, "Complete")]) is None  # only the first run
    assert want.check([job(1, "Complete"), job(2, None)]) is None  # second still running
    assert want.check([job(1, "Complete"), job(2, "Complete")]) is None  # limit not yet applied
    done = want.check([job(2, "Complete"), job(9, "Complete", owner="other")])
    assert done is not None and done.jobs == [("backup-2", "Complete")]
    assert str(done) == "job.batch/backup-2   Complete"


def test_failed_runs_count_against_the_failed_limit_default_one() -> None:
    want = runs_check(cronjob(), 2, "UTC")
    assert want.keep_succeeded == 3 and want.keep_failed == 1
    assert want.check([job(1, "Failed"), job(2, "Failed")]) is None
    done = want.check([job(2, "Failed")])
    assert done is not None and done.jobs == [("backup-2", "Failed")]


def test_the_time_zone_decides_the_tick() -> None:
    nightly = cronjob("30 2 * * *", created="2026-01-01T00:00:00Z")
    assert runs_check(nightly, 1, "UTC").tick.hour == 2
    paris = runs_check(nightly, 1, "Europe/Paris").tick
    assert paris.astimezone(UTC) == datetime(2026, 1, 1, 1, 30, tzinfo=UTC)
    own = runs_check(cronjob("30 2 * * *", timeZone="Asia/Tokyo"), 1, "UTC").tick
    assert own.astimezone(UTC) == datetime(2026, 1, 1, 17, 30, tzinfo=UTC)


def test_a_schedule_that_never_fires_is_an_error() -> None:
    with pytest.raises(CourseError, match="never fires"):
        runs_check(cronjob("0 0 31 2 *"), 1, "UTC")
