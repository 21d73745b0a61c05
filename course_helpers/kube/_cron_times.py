"""A CronJob's previous and next tick, computed the way its controller reads the schedule.

The controller reads ``spec.schedule`` in ``spec.timeZone`` when set, else in
kube-controller-manager's own zone (``ch.connect()`` knows it for the embedded
cluster: UTC). :func:`cronjob_ticks` says which tick the controller started last
(or would have) and which comes next, in UTC and in that zone::

    ticks = ch.cronjob_ticks("morning-report", ns)
    print(ticks)  # previous tick 03:45 UTC = 09:30 Asia/Kathmandu, next ...
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from ..errors import CourseError
from ._cron import CronSchedule, zone
from ._manifests import get
from ._objects import meta, parse_time
from ._session import cluster_info

__all__ = ["CronTimes", "cronjob_ticks", "previous_tick"]

#: How far back :func:`previous_tick` looks, widening step by step (a yearly schedule fits).
_LOOKBACK = (timedelta(hours=2), timedelta(days=2), timedelta(days=9), timedelta(days=400))


def previous_tick(
    schedule: CronSchedule, now: datetime, tz: tzinfo, anchor: datetime | None = None
) -> datetime | None:
    """Return the schedule's last tick at or before ``now`` (in ``tz``), or None within a year.

    Example:
        >>> from zoneinfo import ZoneInfo
        >>> now = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
        >>> kathmandu = ZoneInfo("Asia/Kathmandu")
        >>> previous_tick(CronSchedule.parse("30 9 * * *"), now, kathmandu).isoformat()
        '2026-12-02T09:30:00+05:45'
    """
    for back in _LOOKBACK:
        found = schedule.ticks(now - back, now, tz=tz, anchor=anchor)
        if found:
            return found[-1]
    return None


@dataclass(frozen=True)
class CronTimes:
    """A CronJob's previous and next tick (aware datetimes in ``zone``), and that zone.

    Attributes:
        cronjob: the CronJob's name.
        zone_name: the zone its schedule is read in (``spec.timeZone``, or the controller's).
        previous: its last tick at or before ``now`` (None if none within a year).
        next: its first tick after ``now``.
        now: when they were computed (UTC).
    """

    cronjob: str
    zone_name: str
    previous: datetime | None
    next: datetime | None
    now: datetime

    def __str__(self) -> str:
        def both(tick: datetime | None) -> str:
            if tick is None:
                return "none"
            text = f"{tick.astimezone(UTC):%a %H:%M} UTC"
            if self.zone_name != "UTC":
                text += f" = {tick:%a %H:%M} {self.zone_name}"
            return text

        return (
            f"CronJob {self.cronjob} (read in {self.zone_name}): previous tick "
            f"{both(self.previous)}, next {both(self.next)}"
        )

    __repr__ = __str__

    def is_previous(self, timestamp: str | datetime | None) -> bool:
        """Tell whether ``timestamp`` (the controller's ``lastScheduleTime``, say) is ``previous``.

        Example:
            >>> from zoneinfo import ZoneInfo
            >>> tick = datetime(2026, 12, 2, 9, 30, tzinfo=ZoneInfo("Asia/Kathmandu"))
            >>> now = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
            >>> times = CronTimes("r", "Asia/Kathmandu", tick, None, now)
            >>> times.is_previous("2026-12-02T03:45:00Z")
            True
        """
        moment = parse_time(timestamp)
        return None not in (moment, self.previous) and moment == self.previous


def cronjob_ticks(name: str, namespace: str, now: datetime | None = None) -> CronTimes:
    """Return CronJob ``name``'s previous and next tick, read in the controller's zone.

    The zone is ``spec.timeZone``, else kube-controller-manager's (from
    ``ch.connect()``; UTC on the embedded cluster, assumed UTC when unknown).
    The ticks come from the course's own reading of the schedule (robfig/cron's
    grammar, as the controller parses it), not from the cluster: compare them
    with the controller's ``status.lastScheduleTime``.

    Example:
        >>> print(ch.cronjob_ticks("morning-report", ns))  # doctest: +SKIP
        CronJob morning-report (read in Asia/Kathmandu): previous tick Wed 03:45 UTC =
        Wed 09:30 Asia/Kathmandu, next Thu 03:45 UTC = Thu 09:30 Asia/Kathmandu

    Raises:
        CourseError: there is no such CronJob, its schedule cannot be read, or its
            ``spec.timeZone`` is not a zone this machine knows.
    """
    found = get("CronJob", name, namespace)
    if found is None:
        raise CourseError(f"There is no CronJob {name} in {namespace}: apply it first.")
    spec = found.get("spec") or {}
    try:
        schedule = CronSchedule.parse(str(spec.get("schedule") or ""))
    except ValueError as exc:
        raise CourseError(f"CronJob {name}'s schedule cannot be read: {exc}") from None
    zone_name = spec.get("timeZone") or cluster_info().cronjob_zone or "UTC"
    tz = schedule.zone or zone(zone_name)
    if tz is None:
        raise CourseError(f"CronJob {name}'s time zone {zone_name!r} is not known here.")
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    anchor = parse_time((found.get("status") or {}).get("lastScheduleTime")) or parse_time(
        meta(found).get("creationTimestamp")
    )
    return CronTimes(
        name,
        str(zone_name),
        previous_tick(schedule, moment, tz, anchor),
        schedule.next_after(moment, tz),
        moment,
    )
