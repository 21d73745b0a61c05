"""CronJob schedules read as kube-controller-manager v1.36 reads them (robfig/cron v3).

The expected times in data/robfig_cron_v3.tsv were printed by robfig/cron v3.0.1 itself
(see that file's header); every row is checked against ``CronSchedule``.
"""

from __future__ import annotations

import doctest
import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest

from course_helpers.kube import _cron
from course_helpers.kube._cron import CronSchedule, zone
from course_helpers.widgets import _cron_ticks, _job_layout

TABLE = Path(__file__).parent / "data" / "robfig_cron_v3.tsv"


@dataclass(frozen=True)
class Row:
    zone: str
    start: datetime
    schedule: str
    expected: list[datetime] | None  # None: robfig refuses the schedule
    never: bool
    note: str

    @property
    def id(self) -> str:
        return f"{self.zone or '-'} {self.schedule!r} {self.start:%Y-%m-%dT%H:%M}"


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _rows() -> list[Row]:
    rows = []
    for line in TABLE.read_text().splitlines():
        if line.startswith("#"):
            continue
        zone_name, start, schedule, expected, note = line.split("\t")
        refused = expected.startswith("ERROR")
        times = [] if refused else [_time(t) for t in expected.split() if t != "NEVER"]
        rows.append(
            Row(
                zone_name,
                _time(start),
                json.loads(schedule),
                None if refused else times,
                expected.endswith("NEVER"),
                note,
            )
        )
    return rows


ROWS = _rows()


def test_the_table_covers_each_rule() -> None:
    schedules = {r.schedule for r in ROWS}
    for needed in ("0 0 13 * FRI", "0 0 */1 * MON", "0 0 */2 * MON", "@every 90m", "@weekly"):
        assert needed in schedules
    assert sum(r.expected is None for r in ROWS) >= 20  # refused schedules
    assert len(ROWS) >= 350


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_next_times_match_robfig(row: Row) -> None:
    if row.expected is None:
        with pytest.raises(ValueError):
            CronSchedule.parse(row.schedule)
        return
    schedule = CronSchedule.parse(row.schedule)
    tz = ZoneInfo(row.zone) if row.zone else UTC
    moment: datetime | None = row.start
    got: list[datetime] = []
    for _ in range(len(row.expected) + row.never):
        assert moment is not None
        moment = schedule.next_after(moment, tz=tz)
        if moment is None:
            break
        got.append(moment)
    assert [t.timestamp() for t in got] == [t.timestamp() for t in row.expected]
    assert (moment is None) == row.never
    # ticks() from just after start gives the same times (an @every anchored at start).
    ticks = schedule.ticks(
        row.start + timedelta(seconds=1), count=len(row.expected), tz=tz, anchor=row.start
    )
    assert [t.timestamp() for t in ticks] == [t.timestamp() for t in row.expected]


def test_times_come_back_in_the_schedule_zone() -> None:
    new_york = ZoneInfo("America/New_York")
    fall_back = CronSchedule.parse("30 1 * * *").ticks(
        datetime(2026, 11, 1, tzinfo=UTC), count=2, tz=new_york
    )
    assert [t.isoformat() for t in fall_back] == [
        "2026-11-01T01:30:00-04:00",
        "2026-11-01T01:30:00-05:00",
    ]


START = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)


def test_ticks_in_a_window_include_the_start_minute() -> None:
    schedule = CronSchedule.parse("*/2 * * * *")
    start = datetime(2026, 3, 2, 9, 2, tzinfo=UTC)
    ticks = schedule.ticks(start, start + timedelta(minutes=10))
    assert [f"{t:%H:%M}" for t in ticks] == ["09:02", "09:04", "09:06", "09:08", "09:10", "09:12"]


def test_a_window_far_from_now_is_found_quickly() -> None:
    leap = CronSchedule.parse("0 0 29 2 *").ticks(START, count=2)
    assert [t.year for t in leap] == [2028, 2032]
    assert CronSchedule.parse("59 23 31 2 *").ticks(START, count=3) == []


def test_every_steps_from_its_anchor() -> None:
    created = datetime(2026, 3, 2, 9, 0, 10, tzinfo=UTC)
    schedule = CronSchedule.parse("@every 90s")
    assert schedule.every == timedelta(seconds=90)
    window = schedule.ticks(created + timedelta(minutes=4), count=2, anchor=created)
    assert [f"{t:%H:%M:%S}" for t in window] == ["09:04:40", "09:06:10"]
    with pytest.raises(ValueError, match="fixed steps"):
        schedule.matches(created)


def test_a_tz_prefix_wins_over_the_zone_given() -> None:
    kolkata = CronSchedule.parse("CRON_TZ=Asia/Kolkata 0 0 * * *")
    tick = kolkata.ticks(START, count=1, tz=ZoneInfo("America/New_York"))[0]
    assert tick.astimezone(UTC) == datetime(2026, 3, 2, 18, 30, tzinfo=UTC)


def test_day_rule_is_robfigs() -> None:
    assert CronSchedule.parse("0 0 13 * FRI").describe_day_rule() == "day of month OR day of week"
    assert CronSchedule.parse("0 0 */1 * FRI").describe_day_rule().endswith("AND day of week")
    assert CronSchedule.parse("0 0 */2 * FRI").describe_day_rule().endswith("OR day of week")
    friday_13th = datetime(2026, 3, 13, tzinfo=UTC)
    assert CronSchedule.parse("0 0 13 * FRI").matches(friday_13th)
    assert CronSchedule.parse("0 0 13 * MON").matches(friday_13th)  # OR
    assert not CronSchedule.parse("0 0 ? * MON").matches(friday_13th)  # AND


def test_time_zone_shifts_ticks() -> None:
    berlin = zone("Europe/Berlin")
    assert berlin is not None
    ticks = CronSchedule.parse("0 12 * * *").ticks(START, count=1, tz=berlin)
    assert ticks[0].astimezone(UTC).hour == 11  # noon in Berlin in March is 11:00 UTC
    assert zone("Nowhere/Special") is None
    assert zone(None) is None


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * * *", "expected 5 fields"),
        ("0 0 * * 7", "ends above 6"),
        ("@reboot", "unknown descriptor"),
        ("@every 5d", "duration"),
        ("0 0 L * *", "cannot read 'L'"),
        ("TZ=Nowhere/Special 0 0 * * *", "unknown time zone"),
    ],
)
def test_refusals_say_why(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CronSchedule.parse(expression)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        CronSchedule.parse("* * * * *").ticks(datetime(2026, 1, 1), count=1)


def test_reading_a_schedule_stays_light() -> None:
    """The lab's checks read schedules; that must not load the notebook stack."""
    code = (
        "import sys; from course_helpers.kube._cron import CronSchedule; "
        "CronSchedule.parse('30 2 * * *'); "
        "print(sorted(m for m in ('pandas', 'plotly', 'ipywidgets') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("module", [_cron, _cron_ticks, _job_layout])
def test_docstring_examples_hold(module: ModuleType) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
