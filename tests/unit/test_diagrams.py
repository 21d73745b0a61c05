"""The static diagrams in docs/diagrams: well-formed SVG, titled, readable in a dark theme, used."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIAGRAMS = sorted((ROOT / "docs" / "diagrams").glob("*.svg"))
SVG = "{http://www.w3.org/2000/svg}"


def _texts_that_refer() -> str:
    docs = [p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md")]
    books = [p.read_text(encoding="utf-8") for p in (ROOT / "notebooks").glob("*.ipynb")]
    return "\n".join(docs + books)


def test_the_four_diagrams_are_there() -> None:
    names = {p.stem for p in DIAGRAMS}
    assert {
        "statefulset-ordinals",
        "service-normal-vs-headless",
        "restartpolicy-rules",
        "controller-decision",
    } <= names


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.name)
def test_diagram_is_titled_svg_on_a_light_card(path: Path) -> None:
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    assert "viewBox" in root.attrib, "a viewBox lets the picture scale to the page"
    title = root.find(f"{SVG}title")
    assert title is not None and (title.text or "").strip(), "a <title> names it for screen readers"
    # The first shape is a light background rectangle covering the picture, so the
    # dark text stays readable in JupyterLab's dark theme.
    first = next(el for el in root if el.tag not in {f"{SVG}title", f"{SVG}desc"})
    assert first.tag == f"{SVG}rect" and first.get("fill", "").lower() in {"#ffffff", "white"}
    _, _, width, height = (float(v) for v in root.attrib["viewBox"].split())
    assert float(first.get("width", 0)) >= width and float(first.get("height", 0)) >= height


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.name)
def test_diagram_is_referenced_from_a_doc_or_notebook(path: Path) -> None:
    assert re.search(rf"diagrams/{re.escape(path.name)}\b", _texts_that_refer()), (
        f"{path.name} is not shown anywhere: link it from docs/*.md or a notebook"
    )
