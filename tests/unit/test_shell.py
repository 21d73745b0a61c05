"""The log simulator's shell: the subset it interprets, and plain refusals for the rest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from course_helpers.cluster import _podlogs
from course_helpers.cluster._shell import Run, Shell

START = dt.datetime(2026, 12, 2, 2, 0, 0, tzinfo=dt.UTC)
MANIFESTS = Path(__file__).resolve().parents[2] / "course_helpers" / "manifests"


def run(script: str, until: float = 1e9, **kwargs: object) -> Run:
    shell = Shell(hostname="web-0", started=START, **kwargs)  # type: ignore[arg-type]
    result = Run(shell, script)
    result.events = result.advance(until)  # type: ignore[attr-defined]
    return result


def lines(script: str, until: float = 1e9, **kwargs: object) -> list[tuple[float, str]]:
    return [(e.at, e.text) for e in run(script, until, **kwargs).events]  # type: ignore[attr-defined]


def test_echo_sleep_and_virtual_time() -> None:
    result = run("echo backing up; sleep 5; echo backup done")
    assert [(e.at, e.text) for e in result.events] == [(0, "backing up"), (5, "backup done")]  # type: ignore[attr-defined]
    assert result.exit_code == 0 and result.unsupported is None


def test_exit_code_and_stderr() -> None:
    result = run("echo mail server unreachable >&2; sleep 2; exit 3")
    assert [(e.stream, e.text) for e in result.events] == [("stderr", "mail server unreachable")]  # type: ignore[attr-defined]
    assert result.exit_code == 3


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("printf '%s=%03d\\n' a 1 b 2", ["a=001", "b=002"]),
        ("date", ["Wed Dec  2 02:00:00 UTC 2026"]),
        ("sleep 90; date -u +%H:%M:%S", ["02:01:30"]),
        ("date -Iseconds", ["2026-12-02T02:00:00+00:00"]),
        ("echo $(hostname) $HOSTNAME", ["web-0 web-0"]),
        ("A=5; echo $((A * 2 + 1)) $((7 / 2)) $((-7 % 3)) $((A > 3 && A < 9))", ["11 3 -1 1"]),
        (
            "echo 'single  $x' \"double $HOSTNAME\" ${MISSING:-fallback} a${EMPTY}b",
            ["single  $x double web-0 fallback ab"],
        ),
        ("for i in $(seq 1 3); do echo tick $i; done", ["tick 1", "tick 2", "tick 3"]),
        ("i=0; while [ $i -lt 2 ]; do echo $i; i=$((i+1)); done", ["0", "1"]),
        ('if [ -z "$X" ]; then echo empty; elif true; then echo no; else echo no; fi', ["empty"]),
        ("false || echo recovered; true && echo chained", ["recovered", "chained"]),
        ("set -e; echo a; false; echo never", ["a"]),
        ("echo -n 'no newline'; echo ' then newline'", ["no newline then newline"]),
        ("echo -e 'a\\tb'; echo 'a\\tb'", ["a\tb", "a\\tb"]),
        ("x=$(cat /work/n 2>/dev/null || echo 0); echo $((x + 1)) > /work/n; cat /work/n", ["1"]),
        ("for w in a b c; do [ $w = b ] && continue; echo $w; done", ["a", "c"]),
        ("( echo in subshell; exit 4 ); echo after $?", ["in subshell", "after 4"]),
    ],
)
def test_the_interpreted_subset(script: str, expected: list[str]) -> None:
    result = run(script)
    assert result.unsupported is None, result.unsupported
    assert [e.text for e in result.events] == expected  # type: ignore[attr-defined]


def test_a_missing_file_is_an_error_like_busybox() -> None:
    result = run("cat /tmp/nothing; echo status $?")
    texts = [(e.stream, e.text) for e in result.events]  # type: ignore[attr-defined]
    assert texts == [
        ("stderr", "cat: can't open '/tmp/nothing': No such file or directory"),
        ("stdout", "status 1"),
    ]


@pytest.mark.parametrize(
    ("script", "what"),
    [
        ("echo a; wget http://example.invalid; echo b", "`wget`"),
        ("echo a | tr a b", "a pipe"),
        ("echo *", "the glob"),
        ("cat /etc/hostname", "reading /etc/hostname"),
        ("sleep 1 &", "a background command"),
        ("f() { echo x; }; f", "a shell function"),
        ("while true; do echo spin; done", "more than"),
    ],
)
def test_what_it_cannot_interpret_is_said_plainly(script: str, what: str) -> None:
    result = run(script)
    assert result.done and result.exit_code is None
    assert what in (result.unsupported or "")


def test_it_runs_only_as_far_as_asked() -> None:
    result = Run(Shell(started=START), "while true; do echo alive; sleep 10; done")
    assert [e.at for e in result.advance(25)] == [0, 10, 20]
    assert result.next_at() == 30 and not result.done
    assert [e.at for e in result.advance(35)] == [30]


def test_sleep_infinity_ends_nothing() -> None:
    result = Run(Shell(started=START), "echo ready; sleep infinity")
    assert [e.text for e in result.advance(1e6)] == ["ready"]
    assert result.next_at() == float("inf") and not result.done


def test_flaky_task_attempts_share_the_emptydir_file() -> None:
    """job-single.yaml's script: attempt n reads the count its predecessor wrote."""
    job = yaml.safe_load((MANIFESTS / "job-single.yaml").read_text())
    container = job["spec"]["template"]["spec"]["containers"][0]
    script, args, _ = _podlogs.script_of(container)
    assert script is not None
    files: dict[str, str] = {}
    seen = []
    for _ in range(3):
        shell = Shell(files=files, started=START, args=args)
        attempt = Run(shell, script)
        seen.append(([e.text for e in attempt.advance(100)], attempt.exit_code))
        files = shell.files
    assert seen == [
        (["attempt 1 failed"], 1),
        (["attempt 2 failed"], 1),
        (["attempt 3 succeeded"], 0),
    ]


def test_every_course_manifest_is_interpreted_or_plainly_simulated() -> None:
    for path in sorted(MANIFESTS.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            spec = doc.get("spec", {})
            template = spec.get("jobTemplate", {}).get("spec", spec).get("template", {})
            for container in template.get("spec", {}).get("containers", []):
                script, args, what = _podlogs.script_of(container)
                if script is None:
                    assert "image's own program" in what, (path.name, what)
                    continue
                attempt = Run(Shell(started=START, args=args), script)
                attempt.advance(1e9)
                assert attempt.unsupported is None, (path.name, attempt.unsupported)
