"""%%kubectl and %kubectl: IPython's expansion of the line, the body as stdin, no tracebacks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

import course_helpers as ch
from course_helpers.kube import _follow, _magic, _session

# Prints its arguments, its KUBECONFIG and its stdin; `get fail` fails as kubectl does.
FAKE = """#!/bin/sh
if [ "$1" = version ]; then echo 'Client Version: v1.36.1'; exit 0; fi
echo "argv: $*"
echo "KUBECONFIG: $KUBECONFIG"
if [ "$2" = get ] && [ "$3" = fail ]; then
  echo 'error: the server doesn'"'"'t have a resource type "fail"' >&2
  exit 1
fi
sed 's/^/stdin: /'
"""


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    fake = tmp_path / "kubectl"
    fake.write_text(FAKE)
    fake.chmod(0o755)
    monkeypatch.setenv("COURSE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("KWOK_KUBECTL_BINARY", str(fake))
    monkeypatch.setattr(_session, "cluster_info", lambda: None)  # "already connected"
    ip = InteractiveShell.instance()
    ch._register_kubectl_magic()
    yield ip
    InteractiveShell.clear_instance()


def test_import_registers_both_magics(shell: Any) -> None:
    assert shell.find_cell_magic("kubectl") is not None
    assert shell.find_line_magic("kubectl") is not None


def test_cell_magic_expands_the_line_and_feeds_the_body(
    shell: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.user_ns["ns"] = "course-jobs"
    shell.run_cell("%%kubectl apply -n {ns} -f -\nkind: Job\nspec: {}\n")
    out = capsys.readouterr().out.splitlines()
    kubeconfig = tmp_path / "state" / "kubectl" / "kubeconfig"
    assert out[0] == f"argv: --kubeconfig={kubeconfig} apply -n course-jobs -f -"
    assert out[1] == f"KUBECONFIG: {kubeconfig}"
    assert out[2:] == ["stdin: kind: Job", "stdin: spec: {}"], "the body is not expanded"


def test_line_magic_expands_dollar_and_braces(
    shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.user_ns.update(ns="course-x", app="web")
    shell.run_cell("%kubectl get pods -n $ns -l app={app}")
    assert "get pods -n course-x -l app=web\n" in capsys.readouterr().out


def test_a_failing_command_shows_kubectls_message_not_a_traceback(
    shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    result = shell.run_cell("%kubectl get fail")
    captured = capsys.readouterr()
    assert result.success
    assert captured.err == 'error: the server doesn\'t have a resource type "fail"\n'
    assert "Traceback" not in captured.out + captured.err


@pytest.mark.parametrize(
    "line",
    ["get pods --kubeconfig=/root/.kube/config", "get pods -s https://10.0.0.1", "get 'pods"],
)
def test_other_clusters_and_bad_quotes_are_refused_plainly(
    shell: Any, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert shell.run_cell(f"%kubectl {line}").success
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("%kubectl: ")


def test_kubectl_args_drops_a_repeated_kubectl() -> None:
    assert _magic.kubectl_args("kubectl get nodes  # all of them") == ["get", "nodes"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["logs", "-f", "job/pi", "-n", "a"], _follow.Target("a", "job-name=pi")),
        (
            ["logs", "--follow", "jobs.batch/pi", "--namespace=a"],
            _follow.Target("a", "job-name=pi"),
        ),
        (
            ["logs", "web-0", "-f", "-n", "a", "--tail", "3"],
            _follow.Target("a", None, "metadata.name=web-0"),
        ),
        (
            ["logs", "-f", "pod/web-0", "-c", "nginx", "-n", "a"],
            _follow.Target("a", None, "metadata.name=web-0"),
        ),
        (["logs", "-f", "-l", "app=web", "-n", "a"], _follow.Target("a", "app=web")),
        (["logs", "-f", "deployment/web", "-n", "a"], None),
        (["logs", "job/pi", "-n", "a"], None),
        (["get", "pods", "-f", "x"], None),
    ],
)
def test_which_pods_logs_follow_watches(args: list[str], expected: _follow.Target | None) -> None:
    assert _follow.follow_target(args, default_namespace="default") == expected


def test_names_are_expanded_beside_a_json_patch(
    shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # IPython's own expansion gives up on the whole line at the first JSON brace.
    shell.user_ns.update(ns="course-jobs")
    shell.run_cell("""%kubectl patch job a -n {ns} -p '{"spec":{"suspend":false}}'""")
    out = capsys.readouterr().out
    assert """patch job a -n course-jobs -p {"spec":{"suspend":false}}\n""" in out
    shell.run_cell("""%kubectl patch job a -n $ns -p '{"a":"{unknown}"}'""")
    assert """-n course-jobs -p {"a":"{unknown}"}\n""" in capsys.readouterr().out


def test_expressions_and_escapes_still_expand_as_in_ipython(
    shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.user_ns.update(ns="course-jobs", n=2)
    shell.run_cell("%kubectl scale sts web -n {ns} --replicas={n + 1} -l 'x={{y}}'")
    assert "scale sts web -n course-jobs --replicas=3 -l x={y}\n" in capsys.readouterr().out
