"""Every point of the syllabus is taught in some notebook cell tagged ``syllabus-<point>``.

The points are read from the shared SYLLABUS.md (``../shared/SYLLABUS.md`` from the
repository root) when it is there; otherwise the list below stands in for it.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
SYLLABUS = ROOT.parent / "shared" / "SYLLABUS.md"
FALLBACK = (
    [f"1.{i}" for i in range(1, 7)]
    + [f"2.{i}" for i in range(1, 11)]
    + [f"3.{i}" for i in range(1, 9)]
    + ["lab"]
)


def parse_syllabus(text: str) -> list[str]:
    """Return the point ids of a syllabus: "1.3" for item 3 of Part 1, "lab" for the Lab."""
    points: list[str] = []
    part: str | None = None
    for line in text.splitlines():
        heading = re.match(r"##\s+(Part\s+(\d+)|Lab\b)", line)
        if heading:
            part = heading.group(2)
            if part is None:
                points.append("lab")
            continue
        item = re.match(r"(\d+)\.\s", line)
        if item and part is not None:
            points.append(f"{part}.{item.group(1)}")
    return points


def syllabus_points() -> list[str]:
    if SYLLABUS.is_file():
        return parse_syllabus(SYLLABUS.read_text(encoding="utf-8"))
    return FALLBACK


def notebook_tags() -> dict[str, set[str]]:
    """Map every ``syllabus-*`` tag to the notebooks that carry it."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
        for cell in notebook.cells:
            for tag in cell.metadata.get("tags", []):
                if tag.startswith("syllabus-"):
                    found.setdefault(tag.removeprefix("syllabus-"), set()).add(path.name)
    return found


def test_parser_reads_parts_items_and_the_lab() -> None:
    text = "## Part 1: A\n1. x\n   more\n2. y\n## Part 2: B\n1. z\n## Lab 06: L\nprose\n"
    assert parse_syllabus(text) == ["1.1", "1.2", "2.1", "lab"]


def test_fallback_matches_the_shared_syllabus() -> None:
    if not SYLLABUS.is_file():
        pytest.skip(f"{SYLLABUS} is not here; the fallback list is used")
    assert parse_syllabus(SYLLABUS.read_text(encoding="utf-8")) == FALLBACK


@pytest.mark.parametrize("point", syllabus_points())
def test_every_point_is_taught(point: str) -> None:
    assert point in notebook_tags(), f"no notebook cell is tagged syllabus-{point}"


def test_no_tag_names_a_point_the_syllabus_lacks() -> None:
    unknown = set(notebook_tags()) - set(syllabus_points())
    assert not unknown, f"tags for points not in the syllabus: {sorted(unknown)}"


def test_each_part_is_taught_in_its_own_notebook() -> None:
    tags = notebook_tags()
    homes = {"1": "01-daemonsets.ipynb", "3": "04-statefulsets.ipynb"}
    for point, notebooks in tags.items():
        part = point.split(".")[0]
        if part in homes:
            assert homes[part] in notebooks, f"syllabus-{point} is not in {homes[part]}"
        elif part == "2":
            assert notebooks & {"02-jobs.ipynb", "03-cronjobs.ipynb"}, point
