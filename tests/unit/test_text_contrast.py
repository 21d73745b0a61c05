"""Text the widgets colour themselves reads on JupyterLab's light and dark themes.

The browser check (tests/e2e/layout_check.mjs) only sees the states a run happened to
show: a pending pod's count in a compact tile showed up in one CI run and not in
others (orange text on white, 2.25:1). Here every state is drawn on purpose, and every
fixed text colour in the HTML is measured against what is behind it: its own
background when the element (or an ancestor) sets one, otherwise both themes' pages.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from course_helpers.widgets._palette import PHASES, TEXT_CSS, marked
from course_helpers.widgets._pods_html import node_state, pod_chip, revision_badge, tile

#: A white page (JupyterLab's light theme) and the dark theme's darkest and lightest
#: panel backgrounds.
PAGES = ("#ffffff", "#111111", "#212121")
MIN_CONTRAST = 3.0  # as in layout_check.mjs
HEX = re.compile(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")


def _luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    low, high = sorted((_luminance(a), _luminance(b)))
    return (high + 0.05) / (low + 0.05)


def _fixed(style: str, prop: str) -> str | None:
    """The fixed colour a declaration sets (a var()'s fallback does not count)."""
    for declaration in style.split(";"):
        name, _, value = declaration.partition(":")
        if name.strip() == prop and "var(" not in value:
            found = HEX.search(value)
            return found.group(0) if found else None
    return None


class _Colours(HTMLParser):
    """Each text run with the fixed colour it is drawn in and the fixed background under it."""

    VOID = frozenset({"br", "img", "hr", "input", "meta", "link", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str | None, str | None]] = []
        self.runs: list[tuple[str, str, str | None]] = []
        self.in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "style":
            self.in_style = True
        if tag in self.VOID:
            return
        style = dict(attrs).get("style") or ""
        self.stack.append((tag, _fixed(style, "color"), _fixed(style, "background")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self.in_style = False
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.in_style or not data.strip():
            return
        colour = next((c for _, c, _ in reversed(self.stack) if c is not None), None)
        background = next((b for _, _, b in reversed(self.stack) if b is not None), None)
        if colour is not None:
            self.runs.append((data.strip(), colour, background))


def problems(html: str) -> list[str]:
    parser = _Colours()
    parser.feed(html)
    found = []
    for text, colour, background in parser.runs:
        for under in (background,) if background else PAGES:
            ratio = contrast(colour, under)
            if ratio < MIN_CONTRAST:
                found.append(f"{text!r}: {colour} on {under} is {ratio:.2f}:1")
    return found


def _pod(name: str, phase: str, ready: bool = False) -> dict[str, object]:
    return {
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "demo",
            "uid": name,
            "ownerReferences": [{"kind": "DaemonSet", "name": "agent", "controller": True}],
        },
        "spec": {"nodeName": "worker-1"},
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def _node(ready: bool, cordoned: bool = False) -> dict[str, object]:
    return {
        "kind": "Node",
        "metadata": {"name": "worker-1"},
        "spec": {"unschedulable": cordoned},
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


class _Revisions:
    """Stands in for kube._revisions.Revisions: pod ``p-N`` runs revision N."""

    def revision_of(self, pod: dict[str, object]) -> int | None:
        return int(str(pod["metadata"]["name"]).rsplit("-", 1)[1])  # type: ignore[index]

    def newest_for(self, pod: dict[str, object]) -> int | None:
        return 7


def test_the_checker_finds_low_contrast_text() -> None:
    # The check itself can fail: the colour that failed in CI, and a white-on-yellow chip.
    assert problems('<b style="color:#E69F00">◌ 1</b>') != []
    assert problems('<span style="background:#F0E442;color:#fff">x</span>') != []
    assert problems('<span style="background:#F0E442;color:#000">x</span>') == []
    assert problems(f'<span style="color:{TEXT_CSS}">theme</span>') == []


@pytest.mark.parametrize("phase", sorted(PHASES))
def test_a_tile_and_a_card_chip_read_in_every_phase(phase: str) -> None:
    pods = [_pod(f"p-{n}", phase, ready=True) for n in range(1, 8)]
    html = tile("worker-1", _node(True), pods, _Revisions())  # type: ignore[arg-type]
    html += "".join(pod_chip(p, _Revisions()) for p in pods)  # type: ignore[arg-type]
    assert problems(html) == []


def test_every_node_state_and_revision_badge_reads() -> None:
    states = [node_state(_node(True)), node_state(_node(False, True)), node_state(None)]
    badges = [revision_badge(n, 7) for n in range(1, 8)] + [revision_badge(None, None)]
    assert problems("".join(states + badges)) == []


def test_marked_text_keeps_the_theme_colour_and_underlines_in_the_state_colour() -> None:
    html = marked("◌&#8239;1", "#E69F00", bold=True)
    assert html.startswith("<b ") and f"color:{TEXT_CSS}" in html
    assert "border-bottom:3px solid #E69F00" in html


def _html_parts(widget: object) -> list[str]:
    """Every HTML string a widget shows: its ipywidgets' values, then its snapshot's."""
    import ipywidgets

    found: list[str] = []
    todo = [widget.view]  # type: ignore[attr-defined]
    while todo:
        part = todo.pop()
        if isinstance(part, ipywidgets.HTML):
            found.append(part.value)
        todo.extend(getattr(part, "children", ()))
    found.append(widget.snapshot().to_html())  # type: ignore[attr-defined]
    return found


RECORDED = {
    "pods": ("daemonset.jsonl", "PodsPerNode", ("course-daemonsets",), {"revisions": True}),
    "tiles": (
        "kwok-cronjob-daemonset.jsonl.gz",
        "PodsPerNode",
        (),
        {"compact": True, "revisions": True},
    ),
    "jobs": ("jobs.jsonl", "JobProgress", (["render-frames", "broken-task"], "course-jobs"), {}),
    "indexed-jobs": (
        "kwok-indexed-jobs.jsonl.gz",
        "JobProgress",
        (["render-scenes", "import-shards", "transcode", "leader-workers"], "course-jobs"),
        {},
    ),
    "cronjob": ("cronjob.jsonl", "CronJobTimeline", ("report", "course-cronjobs"), {}),
    "statefulset": ("statefulset.jsonl", "StatefulSetOrder", ("web", "course-statefulsets"), {}),
    "events": ("events.jsonl", "EventFeed", ("course-statefulsets",), {}),
}


@pytest.mark.parametrize("case", list(RECORDED))
def test_recorded_runs_of_every_widget_read_on_both_themes(case: str) -> None:
    from fakes import DATA

    from course_helpers import widgets

    fixture, name, args, options = RECORDED[case]
    widget = getattr(widgets, name)(*args, source=DATA / fixture, **options)
    parts = _html_parts(widget)
    assert any(len(p) > 200 for p in parts), "the widget drew something to check"
    assert [p for html in parts for p in problems(html)] == []
