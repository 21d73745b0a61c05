"""Enough of cron to draw a CronJob's schedule ticks.

Five fields (minute hour day-of-month month day-of-week) with ``*``, ``*/N``,
``a``, ``a-b``, ``a-b/N`` and comma lists, month and weekday names, and the
``@hourly``-style macros, with cron's rule that a restricted day-of-month and
day-of-week match when either does. Anything else raises ``ValueError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}
_DAYS = {d: i for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def _field(text: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"bad step in {part!r}")
        if base == "*":
            start, end = low, high
        else:
            first, _, last = base.partition("-")
            start = _number(first, names)
            end = _number(last, names) if last else (high if step_text else start)
        if not low <= start <= end <= high:
            raise ValueError(f"{part!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _number(text: str, names: dict[str, int]) -> int:
    upper = text.upper()
    if upper in names:
        return names[upper]
    if not text.isdigit():
        raise ValueError(f"cannot read cron value {text!r}")
    return int(text)


@dataclass(frozen=True)
class CronSchedule:
    """A parsed cron expression; :meth:`ticks` lists the minutes it fires in a window.

    Example:
        >>> from datetime import datetime, UTC
        >>> s = CronSchedule.parse("*/15 * * * *")
        >>> [t.minute for t in s.ticks(datetime(2026, 1, 1, tzinfo=UTC), count=3)]
        [0, 15, 30]

    """

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, expression: str) -> CronSchedule:
        """Parse a five-field expression or macro.

        Raises:
            ValueError: the expression uses syntax this parser does not know.

        """
        text = MACROS.get(expression.strip().lower(), expression.strip())
        fields = text.split()
        if len(fields) != 5:
            raise ValueError(f"expected 5 cron fields, got {len(fields)} in {expression!r}")
        names: tuple[dict[str, int], ...] = ({}, {}, {}, _MONTHS, _DAYS)
        parsed = [
            _field(f, low, high, n)
            for f, (low, high), n in zip(fields, _RANGES, names, strict=True)
        ]
        weekdays = frozenset(d % 7 for d in parsed[4])
        return cls(
            expression,
            parsed[0],
            parsed[1],
            parsed[2],
            parsed[3],
            weekdays,
            any_day=fields[2].startswith("*"),
            any_weekday=fields[4].startswith("*"),
        )

    def matches(self, moment: datetime) -> bool:
        """Tell whether the schedule fires in ``moment``'s minute (in its time zone)."""
        if moment.minute not in self.minutes or moment.hour not in self.hours:
            return False
        if moment.month not in self.months:
            return False
        day_ok = moment.day in self.days
        weekday_ok = (moment.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return day_ok and weekday_ok
        return day_ok or weekday_ok

    def ticks(
        self,
        start: datetime,
        end: datetime | None = None,
        *,
        count: int | None = None,
        tz: tzinfo | None = None,
        limit: int = 100_000,
    ) -> list[datetime]:
        """Return the firing times from ``start`` (inclusive) to ``end``, or the next ``count``.

        Times are evaluated in ``tz`` (default: ``start``'s zone) and returned in it.
        """
        if end is None and count is None:
            raise ValueError("give end or count")
        zone = tz or start.tzinfo
        moment = start.astimezone(zone).replace(second=0, microsecond=0)
        if moment < start.astimezone(zone):
            moment += timedelta(minutes=1)
        found: list[datetime] = []
        for _ in range(limit):
            if end is not None and moment > end:
                break
            if count is not None and len(found) >= count:
                break
            if self.matches(moment):
                found.append(moment)
            moment += timedelta(minutes=1)
        return found


def zone(name: str | None) -> tzinfo | None:
    """Return the time zone called ``name`` (a CronJob's ``spec.timeZone``), or None."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return None
