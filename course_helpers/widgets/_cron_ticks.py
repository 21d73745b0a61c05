"""Where CronJobTimeline's ticks come from: the zone the schedule is read in, the ticks.

The CronJob controller reads ``spec.schedule`` in ``spec.timeZone`` when set, else in
kube-controller-manager's own local zone; :func:`schedule_zone` says which applies and
how the widget knows it. :class:`FiredTicks` keeps the ticks of a window that slides
with "now", extending them at each redraw instead of walking the whole window again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from ..kube._cron import CronSchedule, zone
from ..kube._watch import Obj


@dataclass(frozen=True)
class ScheduleZone:
    """The zone a CronJob's schedule is read in, and how the widget knows it."""

    tz: tzinfo
    name: str
    #: spec.timeZone, TZ= in the schedule, the controller-manager's zone, or assumed.
    source: str

    def describe(self) -> str:
        """Say it in a few words, for the chart's title: "in UTC (...)"."""
        if self.source == "assumed":
            return "in the local zone of the cluster (unknown here: drawn as UTC)"
        return f"in {self.name} ({self.source})"

    def label(self, tick: datetime) -> str:
        """Return a tick's hover text: its time in UTC, and in this zone if it is another.

        Example:
            >>> berlin = ScheduleZone(zone("Europe/Berlin"), "Europe/Berlin", "spec.timeZone")
            >>> berlin.label(datetime(2026, 3, 3, 1, 30, tzinfo=UTC))
            'Tue 01:30 UTC = Tue 02:30 Europe/Berlin'
        """
        text = f"{tick.astimezone(UTC):%a %H:%M} UTC"
        if self.name != "UTC":
            text += f" = {tick.astimezone(self.tz):%a %H:%M} {self.name}"
        return text


def schedule_zone(
    spec: Obj, schedule: CronSchedule | None, cluster_zone: str | None
) -> ScheduleZone | None:
    """Return the zone a CronJob's schedule is read in; None if it names an unknown zone.

    ``TZ=``/``CRON_TZ=`` in the schedule (old objects only), else ``spec.timeZone``,
    else ``cluster_zone`` (kube-controller-manager's), else UTC, assumed.
    """
    if schedule is not None and schedule.zone is not None:
        return ScheduleZone(schedule.zone, str(schedule.zone), "TZ= in the schedule")
    if spec.get("timeZone"):
        found = zone(str(spec["timeZone"]))
        return ScheduleZone(found, str(spec["timeZone"]), "spec.timeZone") if found else None
    if cluster_zone:
        found = zone(cluster_zone)
        if found:
            return ScheduleZone(found, cluster_zone, "the zone of kube-controller-manager")
    return ScheduleZone(UTC, "UTC", "assumed")


class FiredTicks:
    """The ticks of a window that slides forward, computed once and extended.

    A 3-hour window of an every-minute schedule holds 180 ticks; a live timeline
    redraws every second, and then only the ticks since the previous redraw are new.
    """

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._start = self._end = datetime.min.replace(tzinfo=UTC)
        self._ticks: list[datetime] = []

    def clear(self) -> None:
        """Forget what was computed (the widget was reset)."""
        self._key = None
        self._ticks = []

    def between(
        self,
        schedule: CronSchedule,
        tz: tzinfo,
        anchor: datetime | None,
        begin: datetime,
        now: datetime,
    ) -> list[datetime]:
        """Return ``schedule``'s ticks from ``begin`` to ``now`` (both inclusive)."""
        key = (schedule.expression, tz, anchor)
        if self._key == key and self._start <= begin:
            if now > self._end:
                after = self._end + timedelta(microseconds=1)
                self._ticks += schedule.ticks(after, now, tz=tz, anchor=anchor)
                self._end = now
        else:
            self._key, self._start, self._end = key, begin, now
            self._ticks = schedule.ticks(begin, now, tz=tz, anchor=anchor)
        return [t for t in self._ticks if begin <= t <= now]
