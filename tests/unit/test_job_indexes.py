"""JobProgress's index tables, from a recording of the course's Indexed Jobs on kwok.

``kwok-indexed-jobs.jsonl.gz`` was recorded on the embedded cluster (v1.36.1's
Job controller) with the manifests job-indexed (render-scenes),
job-pod-failure-policy (import-shards), job-backoff-per-index (transcode) and
job-success-policy (leader-workers) applied together in course-jobs.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from fakes import DATA, recording

from course_helpers.widgets import JobProgress, Replay
from course_helpers.widgets._job_indexes import job_outcome, parse_indexes

NS = "course-jobs"
FIXTURE = DATA / "kwok-indexed-jobs.jsonl.gz"
JOBS = ["render-scenes", "import-shards", "transcode", "leader-workers"]


def _states(progress: JobProgress, job: str) -> list[str]:
    frame = progress.index_frame()
    return frame[frame.job == job]["state"].tolist()


def _tries(progress: JobProgress, job: str) -> list[list[str]]:
    frame = progress.index_frame()
    return frame[frame.job == job]["tries"].tolist()


def test_each_index_gets_a_row_with_its_pods_named_by_index() -> None:
    progress = JobProgress(JOBS, NS, source=FIXTURE)
    frame = progress.index_frame()
    scenes = frame[frame.job == "render-scenes"]
    assert scenes["index"].tolist() == [0, 1, 2, 3, 4]
    assert scenes["state"].tolist() == ["succeeded"] * 5
    for index, pods in zip(scenes["index"], scenes["pods"], strict=True):
        assert len(pods) == 1 and re.fullmatch(rf"render-scenes-{index}-\w{{5}}", pods[0])


def test_the_end_of_each_failure_and_success_policy_shows_by_index() -> None:
    progress = JobProgress(JOBS, NS, source=FIXTURE)
    # FailJob at index 2's exit code 42: index 3 never ran
    assert _states(progress, "import-shards") == ["succeeded", "succeeded", "failed", "not run"]
    assert _tries(progress, "import-shards")[2] == ["Failed, exit 42"]
    # backoffLimitPerIndex 1: index 2 failed twice; index 1's exit 75 was retried
    assert _states(progress, "transcode") == ["succeeded"] * 2 + ["failed"] + ["succeeded"] * 3
    assert _tries(progress, "transcode")[1] == ["Failed, exit 75", "Succeeded"]
    assert _tries(progress, "transcode")[2] == ["Failed, exit 1", "Failed, exit 1"]
    # successPolicy: the leader succeeded, the workers were stopped
    assert _states(progress, "leader-workers") == ["succeeded", "stopped", "stopped", "stopped"]
    assert _tries(progress, "leader-workers")[1] == ["Running, deleted"]


def test_the_line_under_the_title_says_why_the_job_ended() -> None:
    progress = JobProgress(JOBS, NS, source=FIXTURE)
    assert [progress.run_lines(j) for j in JOBS] == [
        [],
        ["reason: PodFailurePolicy"],
        ["reason: FailedIndexes"],
        ["reason: SuccessPolicy"],
    ]
    assert progress.panel_title("leader-workers").startswith("leader-workers: Complete, 1/4")


def test_the_tables_say_the_status_lists_and_the_controllers_reason() -> None:
    progress = JobProgress(["transcode", "import-shards"], NS, source=FIXTURE)
    html = progress.index_view.value
    assert html.count('class="course-job-indexes"') == 2
    assert "succeeded indexes: 0,1,3-5 · failed indexes: 2 · Failed: FailedIndexes" in html
    assert 'data-index="2" data-state="failed"' in html
    assert "Container import for pod course-jobs/import-shards-2-" in html
    assert html in progress.snapshot().html, "the static copy has the tables too"


def test_midway_an_index_runs_waits_for_its_retry_or_is_pending() -> None:
    progress = JobProgress(["transcode"], NS, source=[])
    events = Replay(FIXTURE).events
    start = events[0].timestamp
    seen: set[str] = set()
    for second in range(0, 40):
        Replay(FIXTURE).seek(progress, second + 0.5)
        seen.update(_states(progress, "transcode"))
        if progress.job("transcode") and progress.panel_title("transcode").startswith(
            "transcode: Failed"
        ):
            break
    assert {"pending", "running", "retry due", "succeeded", "failed"} <= seen
    assert events[-1].timestamp - start < 60


def test_a_job_that_is_not_indexed_has_no_table() -> None:
    progress = JobProgress(["render-frames"], NS, source=DATA / "jobs.jsonl")
    assert progress.index_view.value == ""
    assert progress.index_frame().empty


def test_a_recreated_job_forgets_the_earlier_runs_pods() -> None:
    events = [e for e in recording("kwok-indexed-jobs.jsonl.gz")]
    progress = JobProgress(["render-scenes"], NS, source=events)
    job = next(e for e in events if e.kind == "Job" and e.name == "render-scenes").object
    again = {**job, "metadata": {**job["metadata"], "uid": "new"}, "status": {}}
    later = events[-1].timestamp + 1
    progress.feed(
        [
            dataclasses.replace(
                events[-1], kind="Job", type="DELETED", object=job, timestamp=later
            ),
            dataclasses.replace(
                events[-1], kind="Job", type="ADDED", object=again, timestamp=later
            ),
        ]
    )
    assert _states(progress, "render-scenes") == ["pending"] * 5
    assert _tries(progress, "render-scenes") == [[]] * 5


@pytest.mark.parametrize(
    ("text", "indexes"), [("", []), ("3", [3]), ("0-2,5", [0, 1, 2, 5]), ("0,2-3", [0, 2, 3])]
)
def test_parse_indexes(text: str, indexes: list[int]) -> None:
    assert sorted(parse_indexes(text)) == indexes


def test_job_outcome_is_empty_while_the_job_runs() -> None:
    assert job_outcome({"status": {"conditions": []}}) == ""
    assert job_outcome(None) == ""
