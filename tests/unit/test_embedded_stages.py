"""A kept cluster gets the course's current kwok stages (fingerprint, kwok.yaml rewrite)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from course_helpers.cluster import _embedded_stages
from course_helpers.cluster._embedded_state import cluster_dir

KWOKCTL_SAVED = """apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  securePort: true

---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: course-pod-ready
spec: {}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: a-stage-the-course-dropped
status: {}
"""


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COURSE_STATE_DIR", str(tmp_path))
    cluster_dir().mkdir(parents=True)
    (cluster_dir() / "kwok.yaml").write_text(KWOKCTL_SAVED)
    return tmp_path


def _names(text: str) -> list[str]:
    return [d["metadata"]["name"] for d in yaml.safe_load_all(text) if d.get("kind") == "Stage"]


def test_rewrite_keeps_kwokctls_options_and_takes_the_courses_stages() -> None:
    text = _embedded_stages.rewrite(KWOKCTL_SAVED)
    docs = list(yaml.safe_load_all(text))
    assert docs[0]["kind"] == "KwokctlConfiguration" and docs[0]["options"]["securePort"]
    course = [_names(t) for t in _embedded_stages.course_stages()]
    assert _names(text) == [name for names in course for name in names]
    assert "a-stage-the-course-dropped" not in text


def test_a_cluster_made_by_an_older_course_is_refreshed_once(state: Path) -> None:
    said: list[str] = []
    assert _embedded_stages.recorded() is None
    assert _embedded_stages.refresh(said.append)
    assert "kwok stages) changed" in said[0] and "updated them" in said[0]  # nothing ran
    assert "a-stage-the-course-dropped" not in (cluster_dir() / "kwok.yaml").read_text()
    assert _embedded_stages.recorded() == _embedded_stages.fingerprint()
    assert not _embedded_stages.refresh(said.append) and len(said) == 1


def test_a_cluster_with_the_current_stages_is_left_alone(state: Path) -> None:
    _embedded_stages.remember()
    assert not _embedded_stages.refresh(print)
    assert (cluster_dir() / "kwok.yaml").read_text() == KWOKCTL_SAVED


def test_the_fingerprint_follows_the_stage_files(monkeypatch: pytest.MonkeyPatch) -> None:
    first = _embedded_stages.fingerprint()
    texts = _embedded_stages.course_stages()
    monkeypatch.setattr(_embedded_stages, "course_stages", lambda: [*texts[:-1], "changed"])
    assert _embedded_stages.fingerprint() != first
