"""Lab 06 on the embedded cluster: every check passes on its reference solution and fails,
saying what is wrong, on wrong answers."""

from __future__ import annotations

import pytest
from lab_support import solution_with

import course_helpers as ch

pytestmark = pytest.mark.integration
CheckFailed = ch.lab.CheckFailed


# -- exercise 1 ---------------------------------------------------------------------------


def test_daemonset_solution_passes(ns: str) -> None:
    ch.lab.apply_solution(1, ns)
    message = ch.lab.check_daemonset_subset(ns)
    assert "on each ssd node (worker-1, worker-2) and none on worker-3" in message


def test_daemonset_on_every_node_is_wrong(ns: str) -> None:
    ch.apply(solution_with(1, "      nodeSelector:\n        course.dev/disk: ssd\n", ""), ns)
    with pytest.raises(CheckFailed, match=r"runs pods on worker-3 \(course.dev/disk=hdd\).*"):
        ch.lab.check_daemonset_subset(ns)


def test_daemonset_on_the_hdd_node_is_wrong(ns: str) -> None:
    ch.apply(solution_with(1, "course.dev/disk: ssd", "course.dev/disk: hdd"), ns)
    with pytest.raises(CheckFailed, match=r"runs pods on worker-3 .*add `nodeSelector"):
        ch.lab.check_daemonset_subset(ns)


def test_daemonset_with_a_misspelt_label_is_wrong(ns: str) -> None:
    ch.apply(solution_with(1, "course.dev/disk: ssd", "course.dev/disk: SSD"), ns)
    with pytest.raises(CheckFailed, match=r"No disk-check pod on worker-1, worker-2.*spelling"):
        ch.lab.check_daemonset_subset(ns)


def test_daemonset_under_another_name_is_named(ns: str) -> None:
    ch.apply(solution_with(1, "name: disk-check\n", "name: ssd-check\n"), ns)
    with pytest.raises(CheckFailed, match=r"No DaemonSet named 'disk-check'.*ssd-check"):
        ch.lab.check_daemonset_subset(ns)


# -- exercise 2 ---------------------------------------------------------------------------


def test_job_solution_passes(ns: str) -> None:
    ch.lab.apply_solution(2, ns)
    assert "Complete: 8/8 succeeded" in ch.lab.check_parallel_job(ns)


def test_job_without_completions_is_wrong(ns: str) -> None:
    ch.apply(solution_with(2, "  completions: 8\n", ""), ns)
    with pytest.raises(CheckFailed, match=r"completions: unset.*cannot be changed in place"):
        ch.lab.check_parallel_job(ns)


def test_job_one_at_a_time_is_wrong(ns: str) -> None:
    ch.apply(solution_with(2, "parallelism: 4", "parallelism: 1"), ns)
    with pytest.raises(CheckFailed, match=r"runs 1 pod\(s\) at a time; set spec.parallelism: 4"):
        ch.lab.check_parallel_job(ns)


def test_job_with_the_default_failure_budget_is_wrong(ns: str) -> None:
    ch.apply(solution_with(2, "  backoffLimit: 2\n", ""), ns)
    with pytest.raises(CheckFailed, match=r"backoffLimit 6 \(6 is the default\)"):
        ch.lab.check_parallel_job(ns)


def test_job_whose_pods_fail_is_reported_failed(ns: str) -> None:
    failing = solution_with(
        2, "course.kwok/run-for: 2s", 'course.kwok/run-for: 1s\n        course.kwok/exit-code: "1"'
    )
    ch.apply(failing, ns)
    with pytest.raises(CheckFailed, match=r"Job thumbnails Failed: \d+ pods failed"):
        ch.lab.check_parallel_job(ns, timeout=120)


# -- exercise 3 ---------------------------------------------------------------------------


def test_cronjob_solution_passes(ns: str) -> None:
    ch.lab.apply_solution(3, ns)
    assert "runs at 02:30 every night" in ch.lab.check_cronjob_history(ns)


def test_cronjob_hourly_is_wrong(ns: str) -> None:
    ch.apply(solution_with(3, '"30 2 * * *"', '"0 * * * *"'), ns)
    with pytest.raises(CheckFailed, match=r"fires at 00:00, 01:00, 02:00.*'30 2 \* \* \*'"):
        ch.lab.check_cronjob_history(ns)


def test_cronjob_with_default_history_is_wrong(ns: str) -> None:
    ch.apply(solution_with(3, "  successfulJobsHistoryLimit: 2\n", ""), ns)
    with pytest.raises(CheckFailed, match=r"successfulJobsHistoryLimit: 3 \(the default\)"):
        ch.lab.check_cronjob_history(ns)


def test_cronjob_keeping_one_failure_is_wrong(ns: str) -> None:
    ch.apply(solution_with(3, "failedJobsHistoryLimit: 3", "failedJobsHistoryLimit: 1"), ns)
    with pytest.raises(CheckFailed, match=r"failedJobsHistoryLimit: 1 \(the default\); set .*: 3"):
        ch.lab.check_cronjob_history(ns)


# -- exercise 4 ---------------------------------------------------------------------------


def test_statefulset_solution_passes(ns: str) -> None:
    ch.lab.apply_solution(4, ns)
    message = ch.lab.check_statefulset_storage(ns)
    assert "claims data-db-0, data-db-1, data-db-2 Bound" in message
    assert f"db-0.db.{ns}.svc.cluster.local resolves to db-0's own IP" in message


def test_statefulset_behind_a_normal_service_is_wrong(ns: str) -> None:
    ch.apply(solution_with(4, "  clusterIP: None ", "  # clusterIP: None "), ns)
    with pytest.raises(CheckFailed, match=r"Service db has clusterIP [\d.]+: it load-balances"):
        ch.lab.check_statefulset_storage(ns)


def test_statefulset_without_claims_is_wrong(ns: str) -> None:
    ch.apply(without_claims(), ns)
    with pytest.raises(CheckFailed, match=r"has no volumeClaimTemplates.*ch.delete"):
        ch.lab.check_statefulset_storage(ns)


def test_statefulset_without_its_service_is_wrong(ns: str) -> None:
    ch.apply(str(ch.lab.solution(4)).split("---", 1)[1], ns)
    with pytest.raises(CheckFailed, match=r"No Service named 'db'.*headless"):
        ch.lab.check_statefulset_storage(ns)


def test_service_selecting_other_pods_is_wrong(ns: str) -> None:
    ch.apply(solution_with(4, "  selector:\n    app: db\n", "  selector:\n    app: web\n"), ns)
    with pytest.raises(CheckFailed, match=r"Service db selects \{'app': 'web'\}"):
        ch.lab.check_statefulset_storage(ns)


def test_apply_solution_recreates_what_cannot_change(ns: str) -> None:
    ch.apply(without_claims(), ns)
    ch.lab.apply_solution(4, ns)
    assert "Bound" in ch.lab.check_statefulset_storage(ns)


# -- exercise 5, and everything together -------------------------------------------------


def without_claims() -> str:
    """Solution 4 with no volumeClaimTemplates (and no volume mounted from them)."""
    text = str(ch.lab.solution(4)).split("  volumeClaimTemplates:")[0]
    mount = (
        "        volumeMounts:\n        - name: data\n"
        "          mountPath: /var/lib/postgresql/data\n"
    )
    assert mount in text
    return text.replace(mount, "")


def _solve_one_to_four(ns: str) -> None:
    for number in (1, 2, 3, 4):
        ch.lab.apply_solution(number, ns)
    for number in (1, 2, 3, 4):
        ch.lab.check(number, ns)


def test_all_solutions_pass_every_check(ns: str) -> None:
    _solve_one_to_four(ns)
    table = ch.lab.progress(ns)
    assert list(table["result"][:4]) == ["✓ passes"] * 4, list(table["detail"])
    assert table["result"][4] == "✗ not yet"
    ch.lab.apply_solution(5, ns)
    assert ch.lab.check_cleanup(ns) == f"Nothing of the lab is left in {ns}."
    assert list(ch.lab.progress(ns)["result"]) == ["✗ not yet"] * 4 + ["✓ passes"]


def test_cleanup_forgetting_the_claims_is_wrong(ns: str) -> None:
    _solve_one_to_four(ns)
    for kind, name in ch.lab._CLEANUP:
        ch.delete(kind, name, ns)
    with pytest.raises(CheckFailed, match=r"PersistentVolumeClaim/data-db-0.*are kept when it"):
        ch.lab.check_cleanup(ns)


def test_cleanup_forgetting_a_workload_is_wrong(ns: str) -> None:
    ch.lab.apply_solution(1, ns)
    ch.lab.apply_solution(3, ns)
    ch.delete("CronJob", "nightly-report", ns)
    with pytest.raises(CheckFailed, match=r"\(still there\): DaemonSet/disk-check"):
        ch.lab.check_cleanup(ns)


def test_check_outside_a_course_namespace_says_so() -> None:
    ch.connect(log=lambda _msg: None)
    with pytest.raises(CheckFailed, match=r"Namespace 'course-no-such-lab' does not exist"):
        ch.lab.check_cronjob_history("course-no-such-lab")
