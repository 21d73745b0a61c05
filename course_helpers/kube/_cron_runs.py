"""Wait for a CronJob's runs: the Jobs its ticks create, and what its history limits keep.

``kubectl get jobs --watch`` shows a CronJob's Jobs come and go; this waits
for the moment that matters to a lesson: the ``runs``-th tick after the
CronJob was created has run its Job to the end, and the history limits have
removed what they remove. Each Job says which tick made it (the controller's
``batch.kubernetes.io/cronjob-scheduled-timestamp`` annotation), so the
answer does not depend on when the wait started::

    kept = await ch.cronjob_runs("backup", ns, runs=2)
    kept.jobs  # [('backup-29412345', 'Complete')]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import CourseError
from ._cron import CronSchedule, zone
from ._echo import say
from ._kinds import kind_info
from ._kubectl_wait import Outcome
from ._manifests import get
from ._objects import CRONJOB_SCHEDULED_ANNOTATION, job_state, meta, name_of, owned_by, parse_time
from ._session import cluster_info
from ._wait import Wait, default_source

Obj = dict[str, Any]

__all__ = ["Runs", "cronjob_runs", "cronjob_runs_blocking", "runs_check"]

#: The API's defaults for a CronJob's history limits.
DEFAULT_KEEP_SUCCEEDED = 3
DEFAULT_KEEP_FAILED = 1


class Runs(Outcome):
    """What :func:`cronjob_runs` found: one line per Job kept, and the Jobs as (name, state).

    Attributes:
        jobs: the CronJob's Jobs when the wait ended, oldest first, as ``(name, state)``.
        tick: when the awaited tick was (aware datetime, in the zone the schedule is read in).
    """

    jobs: list[tuple[str, str]]
    tick: datetime


def scheduled_at(job: Obj) -> datetime | None:
    """Return the tick that made ``job``, from the CronJob controller's annotation."""
    return parse_time((meta(job).get("annotations") or {}).get(CRONJOB_SCHEDULED_ANNOTATION))


@dataclass(frozen=True)
class RunsCheck:
    """Decides, from a namespace's Jobs, whether the awaited run is over and the history trimmed."""

    cronjob: str
    tick: datetime
    keep_succeeded: int
    keep_failed: int

    def mine(self, jobs: list[Obj]) -> list[Obj]:
        """Return the CronJob's Jobs, oldest tick first."""
        owned = [j for j in jobs if owned_by(j, "CronJob", self.cronjob)]
        return sorted(owned, key=lambda j: (scheduled_at(j) or self.tick, name_of(j)))

    def check(self, jobs: list[Obj]) -> Runs | None:
        """Return the answer once the run is finished and the limits hold, else None."""
        mine = self.mine(jobs)
        states = [(name_of(j), job_state(j)) for j in mine]
        late_enough = [j for j in mine if (scheduled_at(j) or self.tick) >= self.tick]
        if not late_enough or any(s not in ("Complete", "Failed") for _, s in states):
            return None
        succeeded = sum(s == "Complete" for _, s in states)
        failed = sum(s == "Failed" for _, s in states)
        if succeeded > self.keep_succeeded or failed > self.keep_failed:
            return None  # the controller has yet to remove the oldest
        lines = [f"{kind_info('Job').kubectl_name(n)}   {s}" for n, s in states]
        done = Runs("\n".join(lines), mine, [n for n, _ in states])
        done.jobs, done.tick = states, self.tick
        return done

    def seen(self, jobs: list[Obj]) -> str:
        """Say what the CronJob's Jobs show now, for a timeout message."""
        shown = ", ".join(f"{name_of(j)} {job_state(j)}" for j in self.mine(jobs))
        return (
            f"Jobs of CronJob {self.cronjob}: {shown or 'none'} (keeps {self.keep_succeeded} "
            f"succeeded, {self.keep_failed} failed)"
        )


def runs_check(cronjob: Obj, runs: int, tz_name: str | None) -> RunsCheck:
    """Return the check for ``cronjob``'s ``runs``-th tick, reading the schedule in ``tz_name``.

    ``tz_name`` is the zone kube-controller-manager reads a schedule without
    ``spec.timeZone`` in (None: the zone of the creation time, UTC).

    Raises:
        CourseError: the schedule never fires ``runs`` times.
    """
    spec = cronjob.get("spec") or {}
    name = name_of(cronjob)
    created = parse_time(meta(cronjob).get("creationTimestamp"))
    if created is None:
        raise CourseError(f"CronJob {name} has no creation time yet.")
    schedule = CronSchedule.parse(str(spec.get("schedule") or ""))
    tz = zone(spec.get("timeZone")) or zone(tz_name)
    tick: datetime | None = created
    for _ in range(runs):  # robfig's Next, as the controller calls it: strictly after
        tick = schedule.next_after(tick, tz) if tick is not None else None
    if tick is None:
        raise CourseError(
            f"CronJob {name}'s schedule {spec.get('schedule')!r} never fires {runs}x."
        )
    keep_succeeded = spec.get("successfulJobsHistoryLimit")
    keep_failed = spec.get("failedJobsHistoryLimit")
    return RunsCheck(
        name,
        tick,
        DEFAULT_KEEP_SUCCEEDED if keep_succeeded is None else int(keep_succeeded),
        DEFAULT_KEEP_FAILED if keep_failed is None else int(keep_failed),
    )


def _prepare(name: str, namespace: str, runs: int) -> Wait[Runs]:
    if runs < 1:
        raise ValueError(f"runs must be 1 or more, not {runs}.")
    found = get("CronJob", name, namespace)
    if found is None:
        raise CourseError(f"There is no CronJob {name} in {namespace}: apply it first.")
    want = runs_check(found, runs, cluster_info().cronjob_zone)
    say(f"kubectl get jobs -n {namespace} --watch")
    return Wait(
        "Job",
        namespace,
        want.check,
        f"run {runs} of CronJob {name} (the tick at {want.tick:%H:%M %Z}) to finish, and its "
        "history limits applied",
        seen=want.seen,
        source=default_source(),
    )


async def cronjob_runs(name: str, namespace: str, runs: int = 1, timeout: float = 200) -> Runs:
    """Wait until CronJob ``name``'s ``runs``-th tick has run, and its history limits applied.

    The live views keep drawing meanwhile. Runs are counted from the
    CronJob's creation: ``runs=2`` waits for the Job of its second tick to be
    Complete or Failed, and for the CronJob to have removed the Jobs its
    ``successfulJobsHistoryLimit`` and ``failedJobsHistoryLimit`` do not keep.

    Args:
        name: the CronJob.
        namespace: its namespace.
        runs: which run to wait for (1: the first tick after creation).
        timeout: seconds before :class:`~course_helpers.kube._waiting.WaitTimeout`.

    Example:
        >>> kept = await ch.cronjob_runs("backup", ns, runs=2)  # doctest: +SKIP
        kubectl get jobs -n course-cronjobs --watch
        >>> kept  # doctest: +SKIP
        job.batch/backup-29412345   Complete

    Returns:
        one line per Job kept; ``.jobs`` lists them as ``(name, state)``.

    Raises:
        WaitTimeout: not within ``timeout`` s; says which Jobs were there.
    """
    return await _prepare(name, namespace, runs).wait(timeout)


def cronjob_runs_blocking(name: str, namespace: str, runs: int = 1, timeout: float = 200) -> Runs:
    """Block like :func:`cronjob_runs` (for scripts and tests)."""
    return _prepare(name, namespace, runs).result(timeout)
