"""The layout checks the notebook tests rely on can fail: a probe page with one fault per cell.

``layout_probe.html`` is shaped like a notebook (cells, output areas 590 pixels
wide, a chart, tables, a view's HTML); cells 0 and 6 are fine, each other cell has
one fault. ``layout_check.mjs`` must report each fault, in its cell, and nothing in
cell 0. No JupyterLab and no cluster: a few seconds in headless Chromium.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from e2e_support import CHROMIUM, HERE

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def probe(e2e_tools: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [str(e2e_tools), str(HERE / "layout_probe.mjs"), "--page", str(HERE / "layout_probe.html")],
        cwd=HERE,
        env={**os.environ, "CHROMIUM": CHROMIUM},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _cells(found: list[dict[str, Any]]) -> list[int]:
    return sorted({f["cell"] for f in found})


def test_dark_on_dark_and_light_on_light_text_fail_the_contrast_check(
    probe: dict[str, Any],
) -> None:
    low = {f["cell"]: f for f in probe["lowContrast"]}
    assert sorted(low) == [1, 2], probe["lowContrast"]
    assert low[1]["text"] == "dark title on dark" and low[1]["background"] == "rgb(17, 17, 17)"
    assert low[2]["text"] == "light text on light" and low[2]["ratio"] < 1.5
    # cell 0's light text on the same dark background passes
    assert probe["checkedColours"] >= 5


def test_a_chart_wider_than_its_output_area_is_unfit_and_its_title_clipped(
    probe: dict[str, Any],
) -> None:
    assert [(c["cell"], c["width"], c["area"]) for c in probe["unfit"]] == [(4, 700, 590)]
    assert [c["text"] for c in probe["clipped"]] == ["cut title"]


def test_a_table_past_its_output_areas_edge_overflows(probe: dict[str, Any]) -> None:
    assert [(o["cell"], o["element"]) for o in probe["overflow"]] == [(3, "table")]
    assert probe["overflow"][0]["by"] > 50


def test_a_wrapping_header_is_found_and_a_tall_rows_header_is_not(
    probe: dict[str, Any],
) -> None:
    assert [w["text"] for w in probe["wrapped"]] == ["a header of many words that wraps"]
    assert probe["checkedHeaders"] == 3


def test_the_fine_cell_has_no_fault(probe: dict[str, Any]) -> None:
    faults = [
        f for key in ("clipped", "wrapped", "overflow", "unfit", "lowContrast") for f in probe[key]
    ]
    assert 0 not in _cells(faults) and 6 not in _cells(faults), faults
