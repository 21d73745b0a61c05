"""Lab 06 without a cluster: the judgements the checks make, hints, solutions, the registry."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest
import yaml

import course_helpers as ch
from course_helpers.errors import CourseError
from course_helpers.lab import _checks as rules

DISKS = {"worker-1": "ssd", "worker-2": "ssd", "worker-3": "hdd"}


def test_public_as_ch_lab_and_failures_are_assertions() -> None:
    assert ch.lab.CheckFailed is rules.CheckFailed
    assert issubclass(ch.lab.CheckFailed, AssertionError)
    assert issubclass(ch.lab.CheckFailed, CourseError)


def test_one_exercise_per_part_and_a_clean_up() -> None:
    core = [e for e in ch.lab.EXERCISES.values() if not e.stretch]
    parts = [e.part for e in core]
    assert parts == ["DaemonSets", "Jobs", "CronJobs", "StatefulSets", "Clean-up"]
    assert [e.number for e in core] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("exercise", list(ch.lab.EXERCISES.values()), ids=lambda e: e.part)
def test_checks_are_plain_functions_with_a_one_line_docstring(exercise: ch.lab.Exercise) -> None:
    doc = inspect.getdoc(exercise.check) or ""
    assert doc and "\n" not in doc, f"{exercise.check.__name__} needs a one-line docstring"
    params = list(inspect.signature(exercise.check).parameters)
    assert params == ["namespace", "timeout"]
    assert getattr(ch.lab, exercise.check.__name__) is exercise.check


@pytest.mark.parametrize(
    ("pods", "expected"),
    [
        ({"worker-1": True, "worker-2": True}, None),
        ({"worker-1": True, "worker-2": True, "worker-3": True}, "runs pods on worker-3"),
        ({"worker-3": True}, "runs pods on worker-3 (course.dev/disk=hdd)"),
        ({"worker-1": True}, "No disk-check pod on worker-2"),
        ({"worker-1": True, "worker-2": False}, "on worker-2 are not Ready yet"),
        ({"worker-1": True, "worker-2": True, "worker-9": True}, None),  # node gone: GC's
    ],
)
def test_placement(pods: dict[str, bool], expected: str | None) -> None:
    found = rules.placement_problem(pods, DISKS)
    if expected is None:
        assert found is None
    else:
        assert found is not None and expected in found


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"completions": 8, "parallelism": 4, "backoffLimit": 2}, None),
        ({"completions": 1, "parallelism": 1, "backoffLimit": 6}, "completions: 1"),
        ({"parallelism": 4, "backoffLimit": 2}, "completions: unset"),
        ({"completions": 8, "parallelism": 1, "backoffLimit": 2}, "runs 1 pod(s) at a time"),
        ({"completions": 8, "parallelism": 4}, "backoffLimit 6 (6 is the default)"),
        ({"completions": 8, "parallelism": 4, "backoffLimit": 0}, "spec.backoffLimit: 2"),
    ],
)
def test_job_spec(spec: dict[str, int], expected: str | None) -> None:
    found = rules.job_spec_problem(spec)
    assert found is None if expected is None else (found is not None and expected in found)


@pytest.mark.parametrize("schedule", ["30 2 * * *", "30 02 * * *", "30 2 */1 * *", "30 2 * * 0-6"])
def test_equivalent_schedules_pass(schedule: str) -> None:
    assert rules.schedule_problem(schedule) is None


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("0 * * * *", "fires at 00:00, 01:00, 02:00"),
        ("2 30 * * *", "cannot be read as cron"),
        ("30 2 * * 1", "fires at Mon 02:30"),
        ("every night", "cannot be read as cron"),
    ],
)
def test_wrong_schedules_say_when_they_fire(schedule: str, expected: str) -> None:
    found = rules.schedule_problem(schedule)
    assert found is not None and expected in found and "'30 2 * * *'" in found


def test_cronjob_history_limits_name_the_defaults() -> None:
    good = {"schedule": "30 2 * * *", "successfulJobsHistoryLimit": 2, "failedJobsHistoryLimit": 3}
    assert rules.cronjob_spec_problem(good) is None
    found = rules.cronjob_spec_problem({"schedule": "30 2 * * *"})
    assert found is not None and "successfulJobsHistoryLimit: 3 (the default)" in found
    found = rules.cronjob_spec_problem({**good, "failedJobsHistoryLimit": 1})
    assert found is not None and "failedJobsHistoryLimit: 1 (the default);" in found
    assert "suspended" in (rules.cronjob_spec_problem({**good, "suspend": True}) or "")


def _statefulset_pair() -> tuple[dict[str, Any], dict[str, Any]]:
    docs = list(yaml.safe_load_all(ch.manifest("lab-statefulset-db")))
    return docs[0], docs[1]


def test_statefulset_spec_accepts_the_solution_and_names_each_fault() -> None:
    service, sts = _statefulset_pair()
    assert rules.statefulset_spec_problem(service, sts) is None
    faults = [
        ({**service, "spec": {**service["spec"], "clusterIP": "10.96.0.7"}}, sts, "headless"),
        (service, {**sts, "spec": {**sts["spec"], "serviceName": "other"}}, "serviceName"),
        ({**service, "spec": {**service["spec"], "selector": {"app": "x"}}}, sts, "selects"),
        (service, {**sts, "spec": {**sts["spec"], "replicas": 1}}, "replicas: 1"),
        (service, {**sts, "spec": {**sts["spec"], "volumeClaimTemplates": []}}, "no volumeClaim"),
    ]
    for svc, stateful, expected in faults:
        found = rules.statefulset_spec_problem(svc, stateful)
        assert found is not None and expected in found


def test_hints_come_in_two_levels(capsys: pytest.CaptureFixture[str]) -> None:
    for number, exercise in ch.lab.EXERCISES.items():
        ch.lab.hint(number)
        first = capsys.readouterr().out
        assert first.startswith(f"Hint for exercise {number}: ")
        assert f"ch.lab.hint({number}, 2)" in first
        ch.lab.hint(number, 2)
        second = capsys.readouterr().out
        assert second.startswith(f"Hint for exercise {number}, level 2: ")
        assert exercise.field and exercise.field in second and exercise.field not in first
    with pytest.raises(ValueError, match="two levels"):
        ch.lab.hint(1, 3)


def test_solutions_show_the_kubectl_way_first_and_say_why() -> None:
    names = {1: "disk-check", 2: "thumbnails", 3: "nightly-report", 4: "db"}
    names |= {6: "node-agent", 7: "shards", 8: "kv"}
    for number, name in names.items():
        answer = ch.lab.solution(number)
        docs = list(yaml.safe_load_all(str(answer)))
        assert name in {d["metadata"]["name"] for d in docs}
        shown = answer._repr_markdown_()
        assert shown.startswith("**The kubectl way**")
        assert "```\n%%kubectl apply -n {ns} -f -\n" in shown  # a cell magic opens its cell
        assert shown.index("%%kubectl") < shown.index("Why it is right") < shown.index("ch.")
        assert ch.lab.EXERCISES[number].why in shown
    cleanup = ch.lab.solution(5)
    assert "PersistentVolumeClaim" in str(cleanup)
    compile(str(cleanup), "solution-5", "exec")
    shown = cleanup._repr_markdown_()
    assert "%kubectl delete pvc -l app=db -n {ns}" in shown
    assert shown.index("%kubectl") < shown.index("ch.delete(")


def test_unknown_exercise_lists_the_real_ones() -> None:
    with pytest.raises(ValueError, match=r"no exercise 9; the lab has \[1, 2, 3, 4, 5, 6, 7, 8\]"):
        ch.lab.hint(9)


def test_a_spec_with_several_faults_is_told_every_one() -> None:
    found = rules.job_spec_problem({"completions": 1, "parallelism": 1})
    assert found is not None and found.startswith("3 things to fix")
    for part in ("spec.completions: 8", "spec.parallelism: 4", "spec.backoffLimit: 2"):
        assert part in found
    service, sts = _statefulset_pair()
    found = rules.statefulset_spec_problem(
        {**service, "spec": {**service["spec"], "clusterIP": "10.96.0.7"}},
        {**sts, "spec": {**sts["spec"], "replicas": 1, "serviceName": "other"}},
    )
    assert found is not None and found.startswith("3 things to fix")
    found = rules.cronjob_spec_problem({"schedule": "0 * * * *", "suspend": True})
    assert found is not None and found.startswith("4 things to fix")
    found = rules.placement_problem({"w2": True}, {"w1": "ssd", "w2": "hdd"})
    assert found is not None and "w2" in found and "w1" in found


def test_a_failed_check_shows_in_a_notebook_as_its_message_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    shell = InteractiveShell.instance()
    cell = (
        "from course_helpers.lab._checks import CheckFailed\n"
        "raise CheckFailed('Job thumbnails has completions: 1; set spec.completions: 8.')"
    )
    with capture_output() as shown:
        result = shell.run_cell(cell)
    assert isinstance(result.error_in_exec, ch.CourseError)
    assert "set spec.completions: 8." in shown.stdout
    assert "Traceback" not in shown.stdout and "raise CheckFailed" not in shown.stdout
    monkeypatch.setenv("COURSE_TRACEBACKS", "1")  # the developers' way back to the stack
    with capture_output() as shown:
        shell.run_cell(cell)
    stack = re.sub(r"\x1b\[[0-9;]*m", "", shown.stdout)  # IPython colours the stack
    assert "raise CheckFailed" in stack
