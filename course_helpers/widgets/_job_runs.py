"""JobProgress's record of each Job: its counters over time, its runs, its state.

A Job deleted and created again under the same name is a new *run*
(:class:`JobRun`); each run keeps the :class:`Sample` of every change of its
counters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..kube._objects import condition, condition_true, parse_time
from ..kube._watch import Obj
from ._palette import OUTCOMES

#: Legend names of the shapes: a grey band while a Job is suspended, a dotted line where one
#: was deleted (⊖, as in CronJobTimeline).
SUSPENDED = "suspended"
DELETED = f"{OUTCOMES['Removed'].symbol} deleted"
#: Legend name of the line at ``startTime + activeDeadlineSeconds``.
DEADLINE = "deadline"


@dataclass(frozen=True)
class Sample:
    """A Job's counters at one moment (``t`` in epoch seconds)."""

    t: float
    active: int
    ready: int
    succeeded: int
    failed: int

    def counts(self) -> tuple[int, int, int, int]:
        """Return (active, ready, succeeded, failed)."""
        return self.active, self.ready, self.succeeded, self.failed

    def drawn(self) -> tuple[int, int, int]:
        """Return the counters the chart draws: (active, succeeded, failed)."""
        return self.active, self.succeeded, self.failed


def drawn_samples(samples: Sequence[Sample]) -> list[Sample]:
    """Return the samples in which a drawn counter changed (``ready`` alone is not drawn).

    Example:
        >>> a, b, c = Sample(0, 1, 0, 0, 0), Sample(1, 1, 1, 0, 0), Sample(2, 0, 0, 1, 0)
        >>> [s.t for s in drawn_samples([a, b, c])]
        [0, 2]
    """
    kept: list[Sample] = []
    for sample in samples:
        if not kept or kept[-1].drawn() != sample.drawn():
            kept.append(sample)
    return kept


def drawn_fields(job: Obj) -> tuple[Any, ...]:
    """Return what of a Job JobProgress draws (a change elsewhere, ``ready`` say, is not)."""
    spec, status = job.get("spec") or {}, job.get("status") or {}
    conditions = tuple((c.get("type"), c.get("status")) for c in status.get("conditions") or ())
    return (
        *(spec.get(k) for k in ("completions", "parallelism", "suspend", "activeDeadlineSeconds")),
        *(status.get(k) for k in ("active", "succeeded", "failed", "startTime", "completionTime")),
        *(status.get(k) for k in ("completedIndexes", "failedIndexes")),
        conditions,
    )


@dataclass
class JobRun:
    """One Job object behind a name: its samples, targets and times (epoch seconds)."""

    uid: str
    samples: list[Sample] = field(default_factory=list)
    completions: int | None = None
    parallelism: int = 1
    started: float | None = None
    finished: float | None = None
    state: str = "Pending"
    deleted_at: float | None = None
    #: Why it failed (or is failing): the Failed or FailureTarget condition's reason; or
    #: why a Job with a success policy is Complete (SuccessPolicy or CompletionsReached).
    reason: str | None = None
    #: Stretches with ``spec.suspend`` true, (from, to) in epoch seconds; to is None while
    #: it lasts.
    suspended: list[tuple[float, float | None]] = field(default_factory=list)
    #: ``status.startTime + spec.activeDeadlineSeconds`` (epoch seconds), when the Job has a
    #: deadline and a start: the controller fails it then. None while suspended (no startTime).
    deadline: float | None = None

    def note(self, job: Obj) -> None:
        """Take the targets, times, state and failure reason from the Job as last seen."""
        spec, status = job.get("spec") or {}, job.get("status") or {}
        completions, parallelism = spec.get("completions"), spec.get("parallelism")
        self.completions = None if completions is None else int(completions)
        self.parallelism = 1 if parallelism is None else int(parallelism)
        started = parse_time(status.get("startTime"))
        finished = parse_time(status.get("completionTime"))
        for kind in ("Complete", "Failed"):
            cond = condition(job, kind)
            if finished is None and cond and cond.get("status") == "True":
                finished = parse_time(cond.get("lastTransitionTime"))
        self.started = started.timestamp() if started else self.started
        seconds = spec.get("activeDeadlineSeconds")
        self.deadline = started.timestamp() + int(seconds) if started and seconds else None
        self.finished = finished.timestamp() if finished else None
        self.state = job_state(job)
        # FailureTarget comes first: the controller decided, and is stopping the pods.
        failing = [c for c in ("Failed", "FailureTarget") if condition_true(job, c)]
        self.reason = (condition(job, failing[0]) or {}).get("reason") if failing else None
        if self.state == "Complete" and spec.get("successPolicy"):
            # SuccessPolicy when the policy ended it, CompletionsReached when every index did
            self.reason = (condition(job, "Complete") or {}).get("reason") or None

    def note_suspend(self, job: Obj | None, t: float) -> None:
        """Open or close a suspended stretch at ``t`` as ``spec.suspend`` says (None: deleted)."""
        suspend = job is not None and bool((job.get("spec") or {}).get("suspend"))
        open_ = bool(self.suspended) and self.suspended[-1][1] is None
        if suspend and not open_:
            self.suspended.append((t, None))
        elif open_ and not suspend:
            self.suspended[-1] = (self.suspended[-1][0], t)

    def suspended_seconds(self, now: float) -> float:
        """Return how long the run has been suspended in all (an open stretch up to ``now``)."""
        return sum((now if end is None else end) - start for start, end in self.suspended)

    def took(self) -> float | None:
        """Return how long the run took (seconds), once it finished."""
        if self.started is None or self.finished is None:
            return None
        return max(0.0, self.finished - self.started)

    def short(self, number: int) -> str:
        """Say how long the run took, or its state: "run 1: 7 s", "run 2: Running"."""
        took = self.took()
        return f"run {number}: " + (f"{took:.0f} s" if took is not None else self.state)

    def describe(self, number: int) -> str:
        """Say in a few words what became of the run: "run 1: Complete in 9 s, deleted"."""
        took = self.took()
        text = f"run {number}: {self.state}" + (f" in {took:.0f} s" if took is not None else "")
        return text + (", deleted" if self.deleted_at is not None else "")

    def notes(self, now: float) -> list[str]:
        """Say what else became of the run: why it failed, suspended, deleted after finishing.

        Example: ``["reason: DeadlineExceeded"]``, ``["suspended 6 s"]``,
        ``["⊖ deleted 5 s after it finished"]``.
        """
        notes = [f"reason: {self.reason}"] if self.reason else []
        if self.suspended:
            notes.append(f"{SUSPENDED} {self.suspended_seconds(now):.0f} s")
        if self.deleted_at is not None and self.finished is not None:
            after = max(0.0, self.deleted_at - self.finished)
            notes.append(f"{DELETED} {after:.0f} s after it finished")
        return notes


def sample_of(job: Obj, t: float) -> Sample:
    status = job.get("status") or {}
    return Sample(
        t,
        int(status.get("active") or 0),
        int(status.get("ready") or 0),
        int(status.get("succeeded") or 0),
        int(status.get("failed") or 0),
    )


def job_state(job: Obj | None) -> str:
    """Return Complete, Failed, Failing, Suspended, Running, Pending, or "deleted" for None.

    Failing: the controller has decided the Job fails (condition FailureTarget) and
    is stopping its pods; Failed follows once none is left running.
    """
    if job is None:
        return "deleted"
    for kind in ("Complete", "Failed"):
        cond = condition(job, kind)
        if cond and cond.get("status") == "True":
            return kind
    if condition_true(job, "FailureTarget"):
        return "Failing"
    if (job.get("spec") or {}).get("suspend"):
        return "Suspended"
    return "Running" if (job.get("status") or {}).get("active") else "Pending"
