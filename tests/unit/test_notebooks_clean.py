"""The notebooks are committed clean, valid, and built to the course's rules.

Only cells marked ``# NBVAL_CHECK_OUTPUT`` keep outputs (nbval compares them);
every other cell is stored without outputs or an execution count.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
EXPECTED = [
    "00-start-here.ipynb",
    "01-daemonsets.ipynb",
    "02-jobs.ipynb",
    "03-cronjobs.ipynb",
    "04-statefulsets.ipynb",
    "05-lab-other-workloads.ipynb",
]
CHECK = "# NBVAL_CHECK_OUTPUT"
IGNORE = "# NBVAL_IGNORE_OUTPUT"
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}
WIDGETS = re.compile(
    r"ch\.(PodsPerNode|JobProgress|CronJobTimeline|StatefulSetOrder|EventFeed)\(|\.snapshot\(\)"
)


def _load(name: str) -> Any:
    return nbformat.read(NOTEBOOKS / name, as_version=4)  # type: ignore[no-untyped-call]


def test_the_course_has_exactly_its_notebooks() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_is_valid_nbformat(name: str) -> None:
    nbformat.validate(_load(name))


@pytest.mark.parametrize("name", EXPECTED)
def test_only_checked_cells_keep_outputs(name: str) -> None:
    nb = _load(name)
    assert "widgets" not in nb.metadata, "widget state must not be committed"
    for number, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        where = f"{name} cell {number}"
        if CHECK in cell.source:
            assert cell.outputs, f"{where} is checked by nbval but has no stored output"
            assert cell.execution_count is not None, f"{where}: nbval skips unrun cells"
            assert all(o.output_type != "error" for o in cell.outputs), where
        else:
            assert not cell.outputs, f"{where} has outputs but no {CHECK}"
            assert cell.execution_count is None, f"{where} has an execution count"
        assert "execution" not in cell.metadata, f"{where} keeps timing metadata"


@pytest.mark.parametrize("name", EXPECTED)
def test_widget_cells_are_not_compared(name: str) -> None:
    for number, cell in enumerate(_load(name).cells):
        if cell.cell_type == "code" and WIDGETS.search(cell.source):
            assert IGNORE in cell.source, f"{name} cell {number} shows a widget: add {IGNORE}"
            assert CHECK not in cell.source


@pytest.mark.parametrize("name", EXPECTED)
def test_every_cell_has_a_slide_type(name: str) -> None:
    nb = _load(name)
    for number, cell in enumerate(nb.cells):
        kind = cell.metadata.get("slideshow", {}).get("slide_type")
        assert kind in SLIDE_TYPES, f"{name} cell {number}: slide_type {kind!r}"
    assert nb.cells[0].metadata["slideshow"]["slide_type"] == "slide"


@pytest.mark.parametrize("name", EXPECTED)
def test_objectives_first_key_points_last(name: str) -> None:
    cells = _load(name).cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# ")
    assert "Learning objectives" in cells[0].source
    headings = [c.source for c in cells if c.cell_type == "markdown"]
    assert any(h.startswith("## Key points") for h in headings), f"{name} has no key points"


@pytest.mark.parametrize("name", EXPECTED)
def test_own_namespace_reset_and_cleanup(name: str) -> None:
    code = [c.source for c in _load(name).cells if c.cell_type == "code"]
    topics = {t for s in code for t in re.findall(r'ch\.namespace\("([a-z0-9-]+)"\)', s)}
    assert len(topics) == 1, f"{name} should work in one namespace, found {topics}"
    (topic,) = topics
    assert any(f'ch.reset("{topic}")' in s for s in code), f"{name} has no reset cell"
    assert f'ch.cleanup("{topic}"' in code[-1], f"{name} must clean up in its last cell"


@pytest.mark.parametrize("name", EXPECTED)
def test_node_changes_are_guarded(name: str) -> None:
    for number, cell in enumerate(_load(name).cells):
        if cell.cell_type == "code" and re.search(r"ch\.(add|remove)_node\(", cell.source):
            assert "info.can_add_nodes" in cell.source, f"{name} cell {number}"
