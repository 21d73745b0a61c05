"""What CronJobTimeline knows about one CronJob: its Jobs (runs), its state, its ticks.

A :class:`CronTrack` is fed the CronJob's watch events and those of the Jobs it
controls, and answers what the chart draws: the runs with their outcomes and why a
removed one went, and the ticks of the schedule read in the controller's zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..kube._cron import CronSchedule
from ..kube._objects import (
    CRONJOB_SCHEDULED_ANNOTATION,
    condition,
    meta,
    name_of,
    natural_key,
    parse_time,
    uid_of,
)
from ..kube._watch import Obj, WatchEvent
from ._cron_ticks import FiredTicks, ScheduleZone, schedule_zone

#: Fired ticks older than this are not drawn (a CronJob may be weeks old).
HISTORY_WINDOW = timedelta(hours=3)
#: Why a Job went: pruned by the CronJob's history limits, deleted with the CronJob,
#: deleted while still running by the next tick of a ``concurrencyPolicy: Replace``
#: CronJob, or deleted while running by someone else.
BY_HISTORY_LIMIT = "history limit"
WITH_CRONJOB = "CronJob deleted"
REPLACED = "replaced"
DELETED_RUNNING = "deleted while running"
#: kubectl create job --from=cronjob/<name> marks the Jobs it makes with this annotation.
MANUAL_ANNOTATION = "cronjob.kubernetes.io/instantiate"
#: A run that started this much after its tick is drawn as having waited (Forbid).
LATE_START = timedelta(seconds=3)


@dataclass
class Run:
    """One Job a CronJob created (or ``kubectl create job --from`` made), as seen so far."""

    job: str
    uid: str
    scheduled: datetime | None
    started: datetime | None = None
    finished: datetime | None = None
    outcome: str = "Running"
    removed_at: datetime | None = None
    #: BY_HISTORY_LIMIT, WITH_CRONJOB, REPLACED or DELETED_RUNNING once removed.
    removed_by: str | None = None
    #: The CronJob it belongs to.
    cronjob: str = ""
    #: Made by hand (``kubectl create job --from=cronjob/...``), not by a tick.
    manual: bool = False

    def duration(self) -> float | None:
        """Return how long the run took (seconds), once it started and finished."""
        if self.started is None or self.finished is None:
            return None
        return max(0.0, (self.finished - self.started).total_seconds())

    def late_by(self) -> timedelta | None:
        """Return how long after its tick a scheduled run started, if noticeably late."""
        if self.manual or self.scheduled is None or self.started is None:
            return None
        late = self.started - self.scheduled
        return late if late >= LATE_START else None


def scheduled_time(cronjob: str, job: Obj) -> datetime | None:
    """Return the tick that made ``job`` (for a manual run: when it was created)."""
    annotations = meta(job).get("annotations") or {}
    stamp = parse_time(annotations.get(CRONJOB_SCHEDULED_ANNOTATION))
    if stamp:
        return stamp
    # The controller names Jobs <cronjob>-<minutes since the epoch of the scheduled time>.
    match = re.fullmatch(re.escape(cronjob) + r"-(\d+)", name_of(job))
    if match and annotations.get(MANUAL_ANNOTATION) != "manual":
        return datetime.fromtimestamp(int(match.group(1)) * 60, UTC)
    return parse_time(meta(job).get("creationTimestamp"))


def job_outcome(job: Obj) -> tuple[str, datetime | None]:
    """Return a Job's outcome (Complete, Failed or Running) and when it finished."""
    status = job.get("status") or {}
    for kind in ("Complete", "Failed"):
        cond = condition(job, kind)
        if cond and cond.get("status") == "True":
            finished = parse_time(status.get("completionTime")) if kind == "Complete" else None
            return kind, finished or parse_time(cond.get("lastTransitionTime"))
    return "Running", None


class CronTrack:
    """One CronJob as the timeline saw it: the object, its runs, and since when it stopped."""

    def __init__(self, name: str, cluster_zone: str | None) -> None:
        self.name = name
        self.cluster_zone = cluster_zone
        self.runs: dict[str, Run] = {}
        self.fired = FiredTicks()
        #: The CronJob as last seen, also after it was deleted.
        self.last: Obj | None = None
        #: When the CronJob was deleted (its DELETED event) and when its deletion began
        #: (``deletionTimestamp``, set earlier under foreground deletion); None while it exists.
        self.deleted_at: datetime | None = None
        self.deleting_since: datetime | None = None
        #: Since when the CronJob is suspended (None: it is not).
        self.suspended_since: datetime | None = None

    def clear(self) -> None:
        """Forget everything (the widget was reset)."""
        self.runs.clear()
        self.fired.clear()
        self.last = None
        self.deleted_at = self.deleting_since = self.suspended_since = None

    # -- events ------------------------------------------------------------------------------

    def observe_cronjob(self, event: WatchEvent) -> None:
        """Note the CronJob's event: created again, suspended, being deleted, deleted."""
        cronjob, at = event.object, datetime.fromtimestamp(event.timestamp, UTC)
        if self.last is not None and uid_of(self.last) != uid_of(cronjob):
            # Created again under the same name: a new schedule, the old runs stay.
            self.deleted_at = self.deleting_since = None
        self.last = cronjob
        deleting = parse_time(meta(cronjob).get("deletionTimestamp"))
        if event.type == "DELETED":
            self.deleted_at = at
            self.deleting_since = deleting or self.deleting_since or at
        elif deleting is not None:
            self.deleting_since = deleting
        if (cronjob.get("spec") or {}).get("suspend"):
            if self.suspended_since is None:
                last = parse_time((cronjob.get("status") or {}).get("lastScheduleTime"))
                seen_before = event.type != "ADDED" or bool(self.runs)
                self.suspended_since = at if seen_before or last is None else last
        else:
            self.suspended_since = None
        self.blame_removals()

    def observe_job(self, event: WatchEvent) -> None:
        """Note one of the CronJob's Jobs: its start, its outcome, its removal."""
        job, uid = event.object, uid_of(event.object)
        run = self.runs.get(uid)
        if run is None:
            manual = (meta(job).get("annotations") or {}).get(MANUAL_ANNOTATION) == "manual"
            run = Run(name_of(job), uid, scheduled_time(self.name, job), cronjob=self.name)
            run.manual = manual
            self.runs[uid] = run
        run.started = parse_time((job.get("status") or {}).get("startTime")) or parse_time(
            meta(job).get("creationTimestamp")
        )
        run.outcome, run.finished = job_outcome(job)
        if event.type == "DELETED":
            run.removed_at = datetime.fromtimestamp(event.timestamp, UTC)
        else:
            run.removed_at = None
        self.blame_removals()

    def blame_removals(self) -> None:
        """Say why each removed Job went: with its CronJob, replaced, or by the history limits.

        The history limits only ever remove finished Jobs; a Job that went while
        running was replaced by the next tick (``concurrencyPolicy: Replace``) or
        deleted by someone.
        """
        since = self.deleting_since
        replace = self.policy() == "Replace"
        for run in self.runs.values():
            if run.removed_at is None:
                run.removed_by = None
            elif since is not None and run.removed_at >= since - timedelta(seconds=1):
                run.removed_by = WITH_CRONJOB
            elif run.outcome == "Running":
                run.removed_by = REPLACED if replace and not run.manual else DELETED_RUNNING
            else:
                run.removed_by = BY_HISTORY_LIMIT

    # -- what it says ------------------------------------------------------------------------

    def spec(self) -> Obj:
        """Return the CronJob's spec as last seen (empty if never seen)."""
        return (self.last or {}).get("spec") or {}

    def policy(self) -> str:
        """Return the CronJob's ``concurrencyPolicy`` (Allow when unset, as the API defaults)."""
        return str(self.spec().get("concurrencyPolicy") or "Allow")

    def schedule(self) -> CronSchedule | None:
        """Return the parsed schedule, or None if unknown or not understood."""
        try:
            return CronSchedule.parse(str(self.spec()["schedule"]))
        except (KeyError, ValueError):
            return None

    def schedule_zone(self) -> ScheduleZone | None:
        """Return the zone the controller reads the schedule in; None if it cannot be loaded."""
        return schedule_zone(self.spec(), self.schedule(), self.cluster_zone)

    def schedule_end(self) -> datetime | None:
        """Return when the schedule stopped firing (deleted or suspended), or None."""
        ends = [t for t in (self.deleting_since, self.suspended_since) if t is not None]
        return min(ends) if ends else None

    def ordered_runs(self) -> list[Run]:
        """Return the runs, oldest scheduled first."""
        epoch = datetime.fromtimestamp(0, UTC)
        return sorted(self.runs.values(), key=lambda r: (r.scheduled or epoch, natural_key(r.job)))

    def ticks(self, now: datetime, lookahead: int) -> tuple[list[datetime], list[datetime]]:
        """Return (ticks that have fired up to ``now``, the next ``lookahead``), in UTC.

        A deleted or suspended CronJob's ticks stop when it was (no next ticks). An
        ``@every`` schedule steps from the CronJob's creation (the next ones from its
        last schedule time, as the controller does).
        """
        schedule, where = self.schedule(), self.schedule_zone()
        if schedule is None or where is None:
            return [], []
        cronjob = self.last or {}
        stopped = self.schedule_end()
        if stopped is not None:
            now = min(now, stopped)
        starts = [r.scheduled for r in self.runs.values() if r.scheduled and not r.manual]
        created = parse_time(meta(cronjob).get("creationTimestamp"))
        last = parse_time((cronjob.get("status") or {}).get("lastScheduleTime"))
        begin = min([*starts, *([created] if created else [])], default=now - timedelta(minutes=5))
        begin = max(begin, now - HISTORY_WINDOW)
        fired = self.fired.between(schedule, where.tz, created, begin, now)
        if stopped is not None:  # deleted or suspended: nothing fires any more
            return [t.astimezone(UTC) for t in fired], []
        upcoming = schedule.ticks(
            now + timedelta(seconds=1), count=lookahead, tz=where.tz, anchor=last or created
        )
        return [t.astimezone(UTC) for t in fired], [t.astimezone(UTC) for t in upcoming]

    def zone_line(self) -> str:
        """Say in which zone the schedule is read, for the chart's title."""
        where = self.schedule_zone()
        if self.schedule() is None:
            return "(ticks not computed for this schedule)"
        if where is None:
            return f"(ticks not computed: unknown time zone {self.spec().get('timeZone')!r})"
        return where.describe()

    def state(self) -> str | None:
        """Say whether the CronJob was deleted or is suspended, and since when; else None."""
        if self.deleted_at is not None or self.deleting_since is not None:
            went = sum(1 for r in self.runs.values() if r.removed_by == WITH_CRONJOB)
            when = self.deleting_since or self.deleted_at
            state = "deleted" if self.deleted_at is not None else "being deleted"
            return f"{state} at {when:%H:%M:%S}, its {went} Job{'s' if went != 1 else ''} with it"
        if self.spec().get("suspend"):
            since = self.suspended_since
            return f"suspended since {since:%H:%M:%S}" if since else "suspended"
        return None

    def short_state(self) -> str | None:
        """Say in a word or two whether the CronJob is deleted, being deleted or suspended."""
        if self.deleted_at is not None:
            return "deleted"
        if self.deleting_since is not None:
            return "being deleted"
        return "suspended" if self.spec().get("suspend") else None

    def limits(self) -> str:
        """Say how many finished Jobs the CronJob keeps."""
        spec = self.spec()
        return (
            f"keeps {spec.get('successfulJobsHistoryLimit', 3)} succeeded, "
            f"{spec.get('failedJobsHistoryLimit', 1)} failed"
        )

    def last_scheduled(self) -> datetime | None:
        """Return the controller's ``status.lastScheduleTime``."""
        return parse_time(((self.last or {}).get("status") or {}).get("lastScheduleTime"))
