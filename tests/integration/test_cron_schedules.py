"""CronJob schedules on the real API server and controller, against course_helpers.kube._cron.

The unit tests compare ``CronSchedule`` with robfig/cron's own output; these check the
same table against kube-apiserver v1.36's validation (which parses with robfig/cron too)
and an ``@every`` schedule against the CronJob controller.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s

from course_helpers.kube._cron import CronSchedule
from course_helpers.kube._session import api_client, cluster_info
from course_helpers.widgets import CronJobTimeline

pytestmark = pytest.mark.integration

TABLE = Path(__file__).parents[1] / "unit" / "data" / "robfig_cron_v3.tsv"


def _cronjob(name: str, schedule: str, time_zone: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "schedule": schedule,
        "successfulJobsHistoryLimit": 5,
        "jobTemplate": {
            "spec": {
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "c", "image": "busybox:1.37", "command": ["true"]}],
                    }
                }
            }
        },
    }
    if time_zone:
        spec["timeZone"] = time_zone
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name}, "spec": spec}


def _schedules() -> list[tuple[str, str]]:
    """(zone, schedule) of the table's chosen cases."""
    found = []
    for line in TABLE.read_text().splitlines():
        if line.startswith("# -- random"):
            break
        if not line.startswith("#"):
            zone, _, schedule, _, _ = line.split("\t")
            found.append((zone, json.loads(schedule)))
    return found


def test_the_api_server_accepts_what_the_parser_accepts(namespace: str) -> None:
    batch = k8s.BatchV1Api(api_client())
    disagree = []
    cases = _schedules()
    assert len(cases) > 80
    for zone, schedule in cases:
        try:
            CronSchedule.parse(schedule)
            parsed = True
        except ValueError:
            parsed = False
        # New schedules may not carry TZ=/CRON_TZ= (old objects keep theirs).
        expected = parsed and "TZ" not in schedule
        try:
            batch.create_namespaced_cron_job(
                namespace, _cronjob("probe", schedule, zone or None), dry_run="All"
            )
            accepted = True
        except k8s.ApiException as exc:
            assert exc.status == 422, exc
            accepted = False
        if accepted != expected:
            disagree.append(f"{schedule!r}: API {'accepts' if accepted else 'refuses'}")
    assert not disagree, disagree


@pytest.mark.slow
def test_every_fires_where_the_timeline_says(namespace: str) -> None:
    """``@every 1m``: the controller's first Job is scheduled one minute after creation."""
    batch = k8s.BatchV1Api(api_client())
    timeline = CronJobTimeline("every", namespace)
    try:
        assert timeline.wait_synced(15)
        changed = threading.Event()
        for watcher in timeline.watchers:
            watcher.subscribe(lambda _e: changed.set(), replay=False)
        created = batch.create_namespaced_cron_job(namespace, _cronjob("every", "@every 1m"))
        born = created.metadata.creation_timestamp.astimezone(UTC)
        predicted = CronSchedule.parse("@every 1m").ticks(born, count=2, anchor=born)
        assert predicted == [born + timedelta(minutes=1), born + timedelta(minutes=2)]
        deadline = time.monotonic() + 100
        while not timeline.runs and time.monotonic() < deadline:
            changed.clear()
            timeline.flush()
            changed.wait(1.0)
        assert timeline.runs, f"no Job from the CronJob within 100 s; errors: {timeline.errors}"
        run = next(iter(timeline.runs.values()))
        # The controller's own record of the tick (annotation), and the widget's reading.
        job = batch.read_namespaced_job(run.job, namespace)
        stamp = job.metadata.annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"]
        assert datetime.fromisoformat(stamp) == predicted[0]
        assert run.scheduled == predicted[0]
        fired, upcoming = timeline.ticks()
        assert predicted[0] in fired
        assert upcoming[0] == predicted[1]
        assert timeline.cluster_zone == cluster_info().cronjob_zone
    finally:
        timeline.close()
