import ast
import subprocess
import sys
from pathlib import Path

import pytest

import course_helpers as ch


def test_every_public_name_resolves_and_is_listed() -> None:
    assert ch.__all__ == sorted({*ch._EXPORTS, "blocking", "lab"})
    for name in ch.__all__:
        assert getattr(ch, name) is not None


def _type_checking_imports() -> dict[str, tuple[str, str]]:
    """Public name -> (module, attribute) of the imports under ``if TYPE_CHECKING:``."""
    tree = ast.parse(Path(ch.__file__).read_text())
    found: dict[str, tuple[str, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom), ast.unparse(stmt)
                module = "." * stmt.level + (stmt.module or "")
                for alias in stmt.names:
                    # "x as x": an explicit re-export for mypy; the name must not change
                    assert alias.asname == alias.name, ast.unparse(stmt)
                    assert alias.asname not in found, f"{alias.asname} imported twice"
                    found[alias.asname] = (module, alias.name)
    return found


def test_type_checking_imports_name_the_same_things_as_the_lazy_table() -> None:
    assert _type_checking_imports() == ch._EXPORTS


def test_blocking_waits_are_the_same_objects_as_the_ones_on_the_facade() -> None:
    assert ch.blocking.until is ch.until
    assert ch.blocking.job_finished is ch.job_finished
    assert ch.blocking.Outcome is ch.Outcome


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
