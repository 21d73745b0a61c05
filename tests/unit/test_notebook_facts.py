"""What the notebooks say about the simulated cluster matches its configuration."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[2]
STAGES = ROOT / "course_helpers" / "cluster" / "kwok" / "stages.yaml"


def _stage(name: str) -> Any:
    stages = {s["metadata"]["name"]: s for s in yaml.safe_load_all(STAGES.read_text())}
    return stages[name]


def _text(notebook: str) -> str:
    nb = nbformat.read(ROOT / "notebooks" / notebook, as_version=4)  # type: ignore[no-untyped-call]
    return " ".join(" ".join(c.source.split()) for c in nb.cells)


def test_the_ready_delay_in_00_is_the_pod_ready_stage() -> None:
    # kwok reads jitterDurationMilliseconds as the upper bound of the whole delay
    delay = _stage("course-pod-ready")["spec"]["delay"]
    low, high = delay["durationMilliseconds"] / 1000, delay["jitterDurationMilliseconds"] / 1000
    said = re.findall(
        r"Ready ([\d.]+) to ([\d.]+) seconds after it is scheduled", _text("00-start-here.ipynb")
    )
    assert said == [(f"{low:g}", f"{high:g}")], f"stages.yaml says Ready {low:g} to {high:g} s"
