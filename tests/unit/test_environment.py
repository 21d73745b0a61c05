"""environment.yml, binder/environment.yml and pyproject.toml cannot drift apart.

binder/environment.yml is derived from environment.yml: repo2docker reads only
binder/ once that folder exists, and conda runs the ``pip:`` section in the
folder of the file, so the only differences are a header and the pip path.
Regenerate it with ``python tests/unit/test_environment.py --write``.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import yaml

from course_helpers.cluster import _pins

REPO = Path(__file__).resolve().parents[2]
ROOT_ENV = REPO / "environment.yml"
BINDER_ENV = REPO / "binder" / "environment.yml"

BINDER_HEADER = (
    "# GENERATED from ../environment.yml by `python tests/unit/test_environment.py --write`:\n"
    "# edit that file instead. Binder (repo2docker) reads only binder/ when it exists,\n"
    "# and conda runs the pip section in this folder, hence `-e ..` below.\n"
)
ROOT_PIP_LINE = "      - -e .\n"
BINDER_PIP_LINE = "      - -e ..\n"

# conda-forge names of PyPI packages, where they differ.
CONDA_NAMES = {"kubernetes": "python-kubernetes"}

_SPEC = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*?)\s*$")


def binder_text(root_text: str) -> str:
    """Return binder/environment.yml's content for environment.yml's ``root_text``."""
    assert root_text.count(ROOT_PIP_LINE) == 1, f"environment.yml must have {ROOT_PIP_LINE!r}"
    return BINDER_HEADER + root_text.replace(ROOT_PIP_LINE, BINDER_PIP_LINE)


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _split(spec: str) -> tuple[str, frozenset[str]]:
    """Return (normalised name, set of version clauses) of a requirement or conda spec."""
    match = _SPEC.match(spec)
    assert match, f"cannot read the requirement {spec!r}"
    name, version = match.groups()
    clauses = frozenset(c.replace(" ", "") for c in version.split(",") if c.strip())
    return _normal(name), clauses


def _conda_packages(path: Path) -> dict[str, frozenset[str]]:
    env = yaml.safe_load(path.read_text())
    return dict(_split(d) for d in env["dependencies"] if isinstance(d, str))


def _pip_packages(path: Path) -> list[str]:
    env = yaml.safe_load(path.read_text())
    pips = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    return [p for section in pips for p in section]


def _runtime_dependencies() -> list[str]:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    deps: list[str] = pyproject["project"]["dependencies"]
    return deps


def test_binder_environment_is_derived_from_the_root_one() -> None:
    expected = binder_text(ROOT_ENV.read_text())
    assert BINDER_ENV.read_text() == expected, (
        "binder/environment.yml differs from environment.yml: edit environment.yml, then run "
        "`python tests/unit/test_environment.py --write`"
    )


def test_both_environments_install_the_course_package_from_the_checkout() -> None:
    assert _pip_packages(ROOT_ENV) == ["-e ."]
    assert _pip_packages(BINDER_ENV) == ["-e .."]
    assert (BINDER_ENV.parent / ".." / "pyproject.toml").resolve() == REPO / "pyproject.toml"


def test_every_runtime_dependency_is_in_the_environment_with_the_same_versions() -> None:
    conda = _conda_packages(ROOT_ENV)
    for requirement in _runtime_dependencies():
        name, clauses = _split(requirement)
        conda_name = _normal(CONDA_NAMES.get(name, name))
        assert conda_name in conda, f"{requirement} (pyproject.toml) is not in environment.yml"
        assert conda[conda_name] == clauses, (
            f"{conda_name} in environment.yml allows {sorted(conda[conda_name])}, "
            f"pyproject.toml {requirement!r} allows {sorted(clauses)}"
        )


def test_the_environment_has_the_go_toolchain_the_pins_need() -> None:
    go = _conda_packages(ROOT_ENV).get("go")
    assert go is not None, "environment.yml lacks the Go toolchain (conda-forge package `go`)"
    minimum = ".".join(map(str, _pins.GO_MINIMUM))
    assert go == {f">={minimum}"}, f"go{sorted(go)} in environment.yml, pins need >={minimum}"


def test_the_environment_python_satisfies_requires_python() -> None:
    conda = _conda_packages(ROOT_ENV)
    (python,) = conda["python"]
    have = tuple(int(p) for p in python.lstrip("=").split("."))
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    floor = re.fullmatch(r">=(\d+)\.(\d+)", pyproject["project"]["requires-python"])
    assert floor, "requires-python is expected as >=X.Y"
    assert have >= (int(floor[1]), int(floor[2]))


def test_binder_scripts_are_executable_and_start_ends_with_exec() -> None:
    for name in ("postBuild", "start"):
        path = REPO / "binder" / name
        assert path.stat().st_mode & 0o111, f"binder/{name} is not executable"
        assert path.read_text().startswith("#!/usr/bin/env bash\n")
    lines = [line for line in (REPO / "binder" / "start").read_text().splitlines() if line]
    assert lines[-1] == 'exec "$@"'


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/unit/test_environment.py --write")
    BINDER_ENV.write_text(binder_text(ROOT_ENV.read_text()))
    print(f"wrote {BINDER_ENV.relative_to(REPO)}")
