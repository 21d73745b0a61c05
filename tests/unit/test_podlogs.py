"""The container log files the embedded cluster's kwok serves, driven by pod statuses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from course_helpers.cluster import _podlogs
from course_helpers.cluster._embedded_kwokctl import config_file

T0 = dt.datetime(2026, 12, 2, 2, 0, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def stamp(seconds: float) -> str:
    return at(seconds).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod(command: list[str] | None, volumes: bool = False) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "task", "image": "busybox:1.37"}
    if command:
        container["command"] = command
    spec: dict[str, Any] = {"containers": [container], "nodeName": "worker-1"}
    if volumes:
        container["volumeMounts"] = [{"name": "work", "mountPath": "/work"}]
        spec["volumes"] = [{"name": "work", "emptyDir": {}}]
    return {
        "metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
        "spec": spec,
        "status": {"startTime": stamp(0)},
    }


def running(
    restarts: int, started: float, last: tuple[float, float] | None = None
) -> dict[str, Any]:
    status: dict[str, Any] = {
        "name": "task",
        "restartCount": restarts,
        "state": {"running": {"startedAt": stamp(started)}},
    }
    if last:
        status["lastState"] = {
            "terminated": {"exitCode": 1, "startedAt": stamp(last[0]), "finishedAt": stamp(last[1])}
        }
    return status


def terminated(restarts: int, started: float, finished: float, code: int = 0) -> dict[str, Any]:
    return {
        "name": "task",
        "restartCount": restarts,
        "state": {
            "terminated": {
                "exitCode": code,
                "startedAt": stamp(started),
                "finishedAt": stamp(finished),
            }
        },
    }


def texts(path: Path) -> list[str]:
    return [line.split(" ", 3)[3] for line in path.read_text().splitlines()]


def test_lines_appear_as_the_container_runs(tmp_path: Path) -> None:
    p = pod(["sh", "-c", "echo backing up; sleep 5; echo backup done"])
    log = _podlogs.ContainerLog(p, p["spec"]["containers"][0], tmp_path)
    due = log.update(running(0, 0), at(0), now=at(1))
    assert texts(log.current) == ["backing up"]
    assert due == at(5).timestamp(), "the next line is due when the sleep ends"
    log.update(terminated(0, 0, 5), at(0), now=at(5.2))
    lines = log.current.read_text().splitlines()
    assert lines == [
        "2026-12-02T02:00:00.000000000Z stdout F backing up",
        "2026-12-02T02:00:05.000000000Z stdout F backup done",
    ]


def test_a_restart_in_place_makes_the_earlier_attempt_previous(tmp_path: Path) -> None:
    script = (
        "n=$(cat /work/attempts 2>/dev/null || echo 0); echo $((n + 1)) > /work/attempts\n"
        'sleep 3\nif [ "$n" -lt 2 ]; then echo "attempt $((n + 1)) failed"; exit 1; fi\n'
        'echo "attempt $((n + 1)) succeeded"\n'
    )
    p = pod(["sh", "-c", script], volumes=True)
    log = _podlogs.ContainerLog(p, p["spec"]["containers"][0], tmp_path)
    log.update(running(0, 0), at(0), now=at(1))
    assert texts(log.current) == []
    log.update(running(1, 3, last=(0, 3)), at(0), now=at(3.1))
    assert texts(log.previous) == ["attempt 1 failed"]
    log.update(running(2, 6, last=(3, 6)), at(0), now=at(6.1))
    assert texts(log.previous) == ["attempt 2 failed"]
    log.update(terminated(2, 6, 9), at(0), now=at(9.1))
    assert texts(log.current) == ["attempt 3 succeeded"]
    assert texts(log.previous) == ["attempt 2 failed"]


def test_a_restarted_writer_rebuilds_the_same_files(tmp_path: Path) -> None:
    script = "n=$(cat /work/n 2>/dev/null || echo 0); echo $((n+1)) > /work/n; echo run $((n+1))"
    p = pod(["sh", "-c", script], volumes=True)
    first = _podlogs.ContainerLog(p, p["spec"]["containers"][0], tmp_path)
    first.update(running(1, 3, last=(0, 2)), at(0), now=at(4))
    before = (first.current.read_text(), first.previous.read_text())
    again = _podlogs.ContainerLog(p, p["spec"]["containers"][0], tmp_path)
    again.update(running(1, 3, last=(0, 2)), at(0), now=at(4))
    assert (again.current.read_text(), again.previous.read_text()) == before
    assert texts(again.current) == ["run 2"] and texts(again.previous) == ["run 1"]


def test_lines_after_kwok_ended_the_container_are_not_written(tmp_path: Path) -> None:
    p = pod(["sh", "-c", "echo start; sleep 30; echo never printed"])
    log = _podlogs.ContainerLog(p, p["spec"]["containers"][0], tmp_path)
    log.update(terminated(0, 0, 5, code=137), at(0), now=at(6))
    assert texts(log.current) == ["start"]


def test_other_containers_say_plainly_they_are_simulated(tmp_path: Path) -> None:
    p = pod(None)
    p["spec"]["containers"][0]["image"] = "nginx:1.27"
    log = _podlogs.ContainerLog(p, p["spec"]["containers"][0], tmp_path)
    log.update(running(0, 0), at(0), now=at(1))
    (line,) = texts(log.current)
    assert line.startswith("[kwok simulation] This container is simulated by kwok")
    assert "nginx:1.27" in line


def test_an_uninterpretable_command_is_reported_after_the_true_lines(tmp_path: Path) -> None:
    p = pod(["sh", "-c", "echo fetching; wget -q http://example.invalid/x; echo fetched"])
    log = _podlogs.ContainerLog(p, p["spec"]["containers"][0], tmp_path)
    log.update(running(0, 0), at(0), now=at(1))
    first, note = texts(log.current)
    assert first == "fetching"
    assert note.startswith("[kwok simulation]") and "`wget`" in note


def test_a_waiting_container_has_no_lines(tmp_path: Path) -> None:
    p = pod(["sh", "-c", "echo hi"])
    log = _podlogs.ContainerLog(p, p["spec"]["containers"][0], tmp_path)
    waiting = {"name": "task", "restartCount": 0, "state": {"waiting": {"reason": "x"}}}
    assert log.update(waiting, at(0), now=at(1)) is None
    assert not log.current.exists()


def test_the_cluster_serves_logs_but_never_exec(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("COURSE_STATE_DIR", str(tmp_path))
    text = config_file().read_text()
    assert "enableCRDs:\n  - Logs\n" in text
    assert "Exec" not in text.split("---")[0]


def test_the_writer_process_loads_neither_the_package_nor_kubernetes() -> None:
    """start() runs _podlogs.py as a script: ~20 MB instead of ~60 MB with the client."""
    import subprocess
    import sys

    here = Path(_podlogs.__file__).parent
    code = (
        f"import sys; sys.path.insert(0, {str(here)!r}); import _podlogs; "
        "print(sorted(m for m in ('kubernetes', 'course_helpers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


class FakeApi:
    """Records the writer's API calls; the first POST of a name can answer 409."""

    def __init__(self, conflict: bool = False) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.conflict = conflict

    def call(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
        self.calls.append((method, path, body))
        if method == "POST" and self.conflict:
            self.conflict = False
            raise _podlogs.ApiError(409, "AlreadyExists")
        if method == "GET":
            return {"metadata": {"resourceVersion": "7"}}
        return body


def writer(tmp_path: Path, api: FakeApi) -> _podlogs.Writer:
    w = _podlogs.Writer.__new__(_podlogs.Writer)
    w.api, w.root = api, tmp_path  # type: ignore[assignment]
    w.logs, w.due, w.pods, w.declared = {}, {}, {}, set()
    return w


def test_each_pod_gets_a_logs_object_it_owns(tmp_path: Path) -> None:
    api = FakeApi()
    w = writer(tmp_path, api)
    p = pod(["sh", "-c", "echo hi"])
    p["status"]["containerStatuses"] = [running(0, 0)]
    w.seen(p, now=at(1))
    w.seen(p, now=at(2))  # declared once
    ((method, path, body),) = api.calls
    assert (method, path) == ("POST", "/apis/kwok.x-k8s.io/v1alpha1/namespaces/ns/logs")
    assert body["metadata"]["ownerReferences"][0] == {
        "apiVersion": "v1",
        "kind": "Pod",
        "name": "p",
        "uid": "u1",
    }
    (entry,) = body["spec"]["logs"]
    assert entry["containers"] == ["task"]
    assert entry["logsFile"] == str(tmp_path / "ns" / "p" / "u1" / "task.log")
    assert texts(Path(entry["logsFile"])) == ["hi"]
    w.gone("u1", p)
    assert list(tmp_path.iterdir()) == [], "the pod's files go with it"


def test_a_logs_object_left_by_an_earlier_pod_of_that_name_is_replaced(tmp_path: Path) -> None:
    api = FakeApi(conflict=True)
    w = writer(tmp_path, api)
    w.seen(pod(["sh", "-c", "echo hi"]), now=at(1))
    assert [c[0] for c in api.calls] == ["POST", "GET", "PUT"]
    assert api.calls[-1][2]["metadata"]["resourceVersion"] == "7"


def test_the_writer_script_loads_its_split_modules_without_the_package(tmp_path: Path) -> None:
    """start() runs _podlogs.py by path: its sibling modules must load with no course_helpers."""
    import subprocess
    import sys

    script = Path(_podlogs.__file__)
    out = subprocess.run(
        [sys.executable, "-X", "importtime", str(script), "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "--kubeconfig" in out.stdout
    loaded = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines()}
    assert {"_course_podlogs._podlogs_writer", "_course_podlogs._shell_parse"} <= loaded
    assert not {m for m in loaded if m.split(".")[0] in ("course_helpers", "kubernetes")}


def test_an_indexed_jobs_pod_prints_its_own_index(tmp_path: Path) -> None:
    """JOB_COMPLETION_INDEX comes from the pod's label, as the Job controller wires it."""
    p = pod(["sh", "-c", 'echo "task $JOB_COMPLETION_INDEX"; echo "[$IGNORED]"'])
    p["metadata"]["labels"] = {"batch.kubernetes.io/job-completion-index": "3"}
    label = "metadata.labels['batch.kubernetes.io/job-completion-index']"
    missing = "metadata.annotations['batch.kubernetes.io/job-index-ignored-failure-count']"
    p["spec"]["containers"][0]["env"] = [
        {"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {"fieldPath": label}}},
        {"name": "IGNORED", "valueFrom": {"fieldRef": {"fieldPath": missing}}},
    ]
    log = _podlogs.ContainerLog(p, p["spec"]["containers"][0], tmp_path)
    log.update(terminated(0, 0, 1), at(0), now=at(2))
    assert texts(log.current) == ["task 3", "[]"], "a missing annotation is an empty value"
