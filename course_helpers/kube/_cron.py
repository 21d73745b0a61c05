"""CronJob schedules read the way the CronJob controller reads them.

kube-controller-manager parses ``spec.schedule`` with robfig/cron v3's
``cron.ParseStandard`` (kubernetes v1.36 pkg/util/parsers), after prefixing
``TZ=<spec.timeZone>`` when the CronJob sets a time zone. This module keeps that
grammar and lets croniter walk the calendar (month lengths, leap years, the
hour repeated when clocks go back).

Why not croniter (or cronsim) alone: both were compared with robfig/cron v3.0.1
over a table of schedules (tests/unit/test_cron.py) and neither reads a CronJob
schedule the way the controller does:

* robfig treats a day field as unrestricted ("star") when one of its ranges
  starts with ``*`` or ``?`` and has no step above 1, and then ANDs day-of-month
  with day-of-week; otherwise it ORs them. croniter ORs ``0 0 */1 * MON``
  (every day) where the controller ANDs it (Mondays); cronsim follows Vixie cron
  and ANDs ``0 0 */2 * MON`` where the controller ORs it, and knows no ``@daily``.
* robfig accepts ``?`` in every field, ``*-5``, ``?/2`` and empty list items
  (``0,,30``); croniter refuses them. robfig refuses what croniter accepts:
  day-of-week 7, ``L``, ``W``, ``#``, six or seven fields, ``@DAILY``, ``5-1``.
* ``@every <Go duration>`` is a valid CronJob schedule (the API validates with
  the same parser): fixed steps from the CronJob's creation or last schedule
  time. Neither library has it.
* When clocks spring forward, robfig never fires in the skipped hour
  (``30 2 * * *`` in America/New_York has no run on the day DST starts);
  croniter and cronsim fire at 03:00 instead. cronsim also fires once, not
  twice, in the hour repeated when clocks go back; robfig fires twice.

Known differences left on purpose: in zones whose clocks jump at midnight
(America/Havana, America/Santiago) or by 30 minutes (Australia/Lord_Howe),
robfig's day walk fires once on the day after a matching day, or skips one,
on the day of the change; this module draws the times the schedule names.

So this module parses robfig's grammar into value sets, hands croniter an
explicit, canonical expression (``*`` only for a robfig "star" field, so that
croniter's OR/AND choice is robfig's), drops croniter's moved times inside a
skipped hour, and steps ``@every`` itself. ``TZ=``/``CRON_TZ=`` prefixes are
read: the v1.36 API refuses them in a new schedule (an update may keep one the
object already had), and the controller honours one it finds. croniter 6.0
walked DST changes and leap days wrongly in this comparison; 6.1 on agree.

Example:
    >>> from datetime import datetime, UTC
    >>> s = CronSchedule.parse("*/15 * * * *")
    >>> [t.minute for t in s.ticks(datetime(2026, 1, 1, tzinfo=UTC), count=3)]
    [0, 15, 30]

"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter

#: robfig/cron's descriptors: case-sensitive, exactly these (``@reboot`` is not one).
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
EVERY = "@every "
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_DAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
#: (low, high, names) of minute, hour, day of month, month, day of week; robfig's bounds
#: (day of week is 0-6: 7 is refused).
_FIELDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, _MONTHS),
    (0, 6, _DAYS),
)
_FIELD_NAMES = ("minute", "hour", "day of month", "month", "day of week")
_INT = re.compile(r"[+-]?[0-9]+")  # what Go's strconv.Atoi reads
_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")
_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def _number(text: str, names: dict[str, int], part: str) -> int:
    if text.lower() in names:
        return names[text.lower()]
    if not _INT.fullmatch(text):
        raise ValueError(f"cannot read {text!r} in {part!r} as a number")
    value = int(text)
    if value < 0:
        raise ValueError(f"negative number {value} in {part!r}")
    return value


def _range(part: str, low: int, high: int, names: dict[str, int]) -> tuple[set[int], bool]:
    """Read one comma-separated item as robfig's getRange does: (values, star)."""
    range_and_step = part.split("/")
    low_and_high = range_and_step[0].split("-")
    star = low_and_high[0] in ("*", "?")
    if star:
        # robfig ignores anything after "*-": "*-5" is "*".
        start, end = low, high
    else:
        start = _number(low_and_high[0], names, part)
        if len(low_and_high) > 2:
            raise ValueError(f"too many hyphens in {part!r}")
        end = _number(low_and_high[1], names, part) if len(low_and_high) == 2 else start
    step = 1
    if len(range_and_step) > 2:
        raise ValueError(f"too many slashes in {part!r}")
    if len(range_and_step) == 2:
        step = _number(range_and_step[1], {}, part)
        if len(low_and_high) == 1:
            end = high  # "N/step" means "N-max/step"
        if step > 1:
            star = False
    if start < low:
        raise ValueError(f"{part!r} starts below {low}")
    if end > high:
        raise ValueError(f"{part!r} ends above {high}")
    if start > end:
        raise ValueError(f"{part!r} starts after it ends")
    if step == 0:
        raise ValueError(f"{part!r} has a step of 0")
    return set(range(start, end + 1, step)), star


def _field(text: str, index: int) -> tuple[frozenset[int], bool]:
    low, high, names = _FIELDS[index]
    values: set[int] = set()
    star = False
    for part in (p for p in text.split(",") if p):
        try:
            found, part_star = _range(part, low, high, names)
        except ValueError as exc:
            raise ValueError(f"{_FIELD_NAMES[index]}: {exc}") from None
        values |= found
        star = star or part_star
    return frozenset(values), star


def _duration(text: str) -> timedelta:
    """Read a Go duration (``90m``, ``1h30m``, ``1.5h``) as robfig's ``Every`` keeps it."""
    body = text.lstrip("+-")
    negative = text.startswith("-")
    if body == "0":
        seconds = 0.0
    else:
        parts = _DURATION_PART.findall(body)
        if not parts or "".join(n + u for n, u in parts) != body:
            raise ValueError(f"cannot read {text!r} as a duration such as 90s, 15m or 1h30m")
        if any(n in ("", ".") for n, _ in parts):
            raise ValueError(f"cannot read {text!r} as a duration such as 90s, 15m or 1h30m")
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if negative:
        seconds = -seconds
    # robfig's Every: at least one second, and whole seconds only.
    return timedelta(seconds=max(1, int(seconds)))


@dataclass(frozen=True)
class CronSchedule:
    """A CronJob schedule as kube-controller-manager reads it; :meth:`ticks` lists its times.

    Attributes:
        expression: the text as given.
        minutes, hours, days, months, weekdays: the values each field allows
            (weekdays 0-6, Sunday is 0).
        any_day, any_weekday: robfig's "star" flags: when either is set a day must
            match both day fields, otherwise either.
        every: the step of an ``@every`` schedule (then the fields are unused).
        zone: the zone of a ``TZ=``/``CRON_TZ=`` prefix, which wins over ``spec.timeZone``.

    Example:
        >>> from datetime import datetime, UTC
        >>> nightly = CronSchedule.parse("30 2 * * *")
        >>> nightly.next_after(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)).isoformat()
        '2026-03-03T02:30:00+00:00'
        >>> CronSchedule.parse("0 0 13 * FRI").describe_day_rule()
        'day of month OR day of week'

    """

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool
    every: timedelta | None = None
    zone: tzinfo | None = None

    @classmethod
    def parse(cls, expression: str) -> CronSchedule:
        """Parse a schedule the way ``cron.ParseStandard`` does.

        Raises:
            ValueError: the controller (and the API server) would refuse it too.

        """
        spec = expression
        if not spec:
            raise ValueError("the schedule is empty")
        zone: tzinfo | None = None
        if spec.startswith(("TZ=", "CRON_TZ=")):
            space = spec.find(" ")
            if space < 0:
                raise ValueError(f"{expression!r} has a time zone but no schedule")
            name = spec[spec.index("=") + 1 : space]
            try:
                zone = ZoneInfo(name) if name else UTC
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {name!r} in {expression!r}") from None
            spec = spec[space:].strip()
        if spec.startswith(EVERY):
            empty = frozenset[int]()
            every = _duration(spec[len(EVERY) :])
            return cls(expression, empty, empty, empty, empty, empty, False, False, every, zone)
        if spec.startswith("@"):
            if spec not in MACROS:
                known = ", ".join(MACROS)
                raise ValueError(f"unknown descriptor {spec!r}: use {known} or @every <duration>")
            spec = MACROS[spec]
        fields = spec.split()
        if len(fields) != 5:
            raise ValueError(
                f"expected 5 fields (minute hour day-of-month month day-of-week), "
                f"got {len(fields)} in {expression!r}"
            )
        parsed = [_field(text, index) for index, text in enumerate(fields)]
        return cls(
            expression,
            parsed[0][0],
            parsed[1][0],
            parsed[2][0],
            parsed[3][0],
            parsed[4][0],
            any_day=parsed[2][1],
            any_weekday=parsed[4][1],
            zone=zone,
        )

    def describe_day_rule(self) -> str:
        """Say how the two day fields combine (robfig's rule)."""
        if self.any_day or self.any_weekday:
            return "day of month AND day of week"
        return "day of month OR day of week"

    def matches(self, moment: datetime) -> bool:
        """Tell whether a cron schedule fires in ``moment``'s minute (wall clock of its zone)."""
        if self.every is not None:
            raise ValueError(f"{self.expression!r} fires at fixed steps, not at clock times")
        if moment.minute not in self.minutes or moment.hour not in self.hours:
            return False
        if moment.month not in self.months:
            return False
        day_ok = moment.day in self.days
        weekday_ok = moment.isoweekday() % 7 in self.weekdays
        if self.any_day or self.any_weekday:
            return day_ok and weekday_ok
        return day_ok or weekday_ok

    def _canonical(self) -> str:
        """Return the croniter expression: ``*`` for a day field only where robfig sees a star.

        Minute, hour and month play no part in the day rule, so a full set is ``*`` there
        (croniter walks ``*`` faster than a list of every value).
        """
        fields = (self.minutes, self.hours, self.days, self.months, self.weekdays)
        sizes = (60, 24, None, 12, None)
        stars = (False, False, self.any_day, False, self.any_weekday)
        return " ".join(
            "*" if star or len(values) == size else ",".join(str(v) for v in sorted(values))
            for values, size, star in zip(fields, sizes, stars, strict=True)
        )

    def _zone(self, moment: datetime, tz: tzinfo | None) -> tzinfo:
        if moment.tzinfo is None:
            raise ValueError("give an aware datetime (with a time zone)")
        return self.zone or tz or moment.tzinfo

    def next_after(self, moment: datetime, tz: tzinfo | None = None) -> datetime | None:
        """Return the first firing time after ``moment`` (robfig's ``Next``), or None if never.

        The schedule is read in ``tz`` (a ``TZ=`` prefix wins; default ``moment``'s zone),
        and the time is returned in that zone. ``@every`` steps from ``moment``.
        """
        found = self._walk(moment, self._zone(moment, tz), count=1)
        return found[0] if found else None

    def ticks(
        self,
        start: datetime,
        end: datetime | None = None,
        *,
        count: int | None = None,
        tz: tzinfo | None = None,
        anchor: datetime | None = None,
    ) -> list[datetime]:
        """Return the firing times from ``start`` (inclusive) to ``end``, or the next ``count``.

        Times are read in ``tz`` (a ``TZ=`` prefix wins; default: ``start``'s zone) and
        returned in it. An ``@every`` schedule fires at ``anchor + k * every`` (k >= 1): give
        the CronJob's creation (or last schedule) time; the default anchor is ``start``.
        """
        if end is None and count is None:
            raise ValueError("give end or count")
        zone = self._zone(start, tz)
        if self.every is not None:
            base = (anchor or start).astimezone(UTC)  # step in absolute time, not wall time
            steps = max(1, -((base - start) // self.every))  # first step at or after start
            first = base + steps * self.every
            found: list[datetime] = []
            moment = first
            while (end is None or moment <= end) and (count is None or len(found) < count):
                found.append(moment.astimezone(zone))
                moment += self.every
            return found
        # robfig's Next is strictly after its argument, at whole seconds.
        moment = start.replace(microsecond=0)
        if moment == start:
            moment -= timedelta(seconds=1)
        return self._walk(moment, zone, count=count, end=end)

    def _walk(
        self, moment: datetime, zone: tzinfo, *, count: int | None, end: datetime | None = None
    ) -> list[datetime]:
        if self.every is not None:
            return [(moment.replace(microsecond=0) + self.every).astimezone(zone)]
        fields = (self.minutes, self.hours, self.days, self.months, self.weekdays)
        if not all(fields):
            return []  # a field such as "," allows nothing: never fires
        walker = croniter(self._canonical(), moment.astimezone(zone), day_or=True)
        found: list[datetime] = []
        while count is None or len(found) < count:
            try:
                tick: datetime = walker.get_next(datetime)
            except CroniterBadDateError:  # no such date, e.g. 31 February
                break
            if end is not None and tick.timestamp() > end.timestamp():
                break
            # croniter moves a time inside a skipped hour (clocks springing forward) to the
            # hour after; robfig skips it. Keep only times whose wall clock the schedule names.
            if tick.minute not in self.minutes or tick.hour not in self.hours:
                continue
            # Compare instants: the same tzinfo compares wall times, blind to a repeated hour.
            if found and tick.timestamp() <= found[-1].timestamp():
                continue
            found.append(tick)
        return found


def zone(name: str | None) -> tzinfo | None:
    """Return the time zone called ``name`` (a CronJob's ``spec.timeZone``), or None."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
