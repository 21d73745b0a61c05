import subprocess
import sys

import pytest

import course_helpers as ch


def test_every_public_name_resolves_and_is_listed() -> None:
    assert set(ch.__all__) == set(ch._EXPORTS)
    for name in ch.__all__:
        assert getattr(ch, name) is not None


def test_the_cli_does_not_load_the_notebook_stack() -> None:
    code = (
        "import sys, course_helpers.cli; "
        "print(sorted(m for m in ('pandas', 'plotly', 'ipywidgets') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_cluster_commands_exist_in_python_too() -> None:
    from course_helpers import cli, cluster

    assert {"up", "down", "install", "is_running", "kubeconfig_path"} <= set(cluster.__all__)
    for command in ("install", "up", "down", "status", "env"):
        assert cli.build_parser().parse_args([command]).command == command
    assert cli.build_parser().parse_args(["up", "--nodes", "5"]).nodes == 5
    assert cli.build_parser().parse_args(["up"]).nodes == 3


def test_the_cli_needs_a_known_command() -> None:
    from course_helpers import cli

    with pytest.raises(SystemExit):
        cli.build_parser().parse_args([])
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["explode"])
