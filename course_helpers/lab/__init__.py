"""Lab 06, "Other workloads": exercises whose checks look at the cluster, not at your code.

Each check is a plain function that reads what is running in your namespace
and raises :class:`CheckFailed` saying exactly what is missing or wrong; a
hint and a full solution are there when you ask for them::

    import course_helpers as ch

    ns = ch.namespace("lab")
    ch.lab.check(1, ns)           # raises CheckFailed until exercise 1 is done
    ch.lab.hint(1)                # a nudge
    ch.lab.solution(1)            # one correct answer, as YAML
    ch.lab.progress(ns)           # which checks pass, as a table
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ManifestError
from ..kube._manifests import YamlText, apply, delete, parse, show
from ..kube._manifests import manifest as manifest_text
from ..kube._wait import until
from ._checks import (
    BACKOFF_LIMIT,
    COMPLETIONS,
    CRONJOB,
    DAEMONSET,
    DISK_LABEL,
    JOB,
    KEEP_FAILED,
    KEEP_SUCCEEDED,
    PARALLELISM,
    REPLICAS,
    STATEFULSET,
    CheckFailed,
    _list,
    _names,
    check_cleanup,
    check_cronjob_history,
    check_daemonset_subset,
    check_parallel_job,
    check_statefulset_storage,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "EXERCISES",
    "CheckFailed",
    "Exercise",
    "apply_solution",
    "check",
    "check_cleanup",
    "check_cronjob_history",
    "check_daemonset_subset",
    "check_parallel_job",
    "check_statefulset_storage",
    "hint",
    "progress",
    "solution",
]


@dataclass(frozen=True)
class Exercise:
    """One lab exercise: what to do, its check, a hint and the name of its solution."""

    number: int
    part: str
    task: str
    check: Callable[..., str]
    hint: str
    solution: str | None


EXERCISES: dict[int, Exercise] = {
    e.number: e
    for e in (
        Exercise(
            1,
            "DaemonSets",
            f"DaemonSet {DAEMONSET}: one pod on every {DISK_LABEL}=ssd node, none elsewhere",
            check_daemonset_subset,
            "A DaemonSet places a pod on every node its pod template allows. In the template's "
            f"spec, `nodeSelector` takes labels a node must carry: here {DISK_LABEL}: ssd. "
            "ch.nodes() shows each node's disk label.",
            "lab-daemonset-ssd",
        ),
        Exercise(
            2,
            "Jobs",
            f"Job {JOB}: {COMPLETIONS} completions, {PARALLELISM} at a time, "
            f"backoffLimit {BACKOFF_LIMIT}, Complete",
            check_parallel_job,
            "Three fields of the Job's spec (not of its pod template): completions, parallelism "
            "and backoffLimit. A Job's completions and pod template cannot change once it "
            "exists: delete it and apply again.",
            "lab-job-parallel",
        ),
        Exercise(
            3,
            "CronJobs",
            f"CronJob {CRONJOB}: at 02:30 nightly, keeps {KEEP_SUCCEEDED} succeeded and "
            f"{KEEP_FAILED} failed Jobs",
            check_cronjob_history,
            "Cron fields are minute, hour, day of month, month, day of week; without "
            "spec.timeZone they are read in kube-controller-manager's own time zone (UTC on the "
            "course's cluster). The two history limits sit in the CronJob's spec, beside "
            "schedule (not inside jobTemplate).",
            "lab-cronjob-history",
        ),
        Exercise(
            4,
            "StatefulSets",
            f"StatefulSet {STATEFULSET} x{REPLICAS} with headless Service {STATEFULSET} and "
            "a claim per pod",
            check_statefulset_storage,
            "Two documents in one YAML, separated by `---`: a Service with clusterIP: None "
            "(you create it yourself: naming it in serviceName does not), and a StatefulSet "
            "whose serviceName names it and whose volumeClaimTemplates asks for a 1Gi "
            "ReadWriteOnce claim. Compare with ch.show('statefulset-web').",
            "lab-statefulset-db",
        ),
        Exercise(
            5,
            "Clean-up",
            "Delete everything the lab made, the StatefulSet's claims included",
            check_cleanup,
            "Delete the four workloads and the Service with ch.delete(kind, name, ns). Then "
            "look for what is left: claims made from volumeClaimTemplates outlive the "
            "StatefulSet by default.",
            None,
        ),
    )
}

_CLEANUP = [
    ("DaemonSet", DAEMONSET),
    ("Job", JOB),
    ("CronJob", CRONJOB),
    ("StatefulSet", STATEFULSET),
    ("Service", STATEFULSET),
]


class Code(str):
    """Python code that a notebook shows as a highlighted block."""

    __slots__ = ()

    def _repr_markdown_(self) -> str:
        return f"```python\n{self}\n```"


def _exercise(number: int) -> Exercise:
    if number not in EXERCISES:
        raise ValueError(f"There is no exercise {number}; the lab has {sorted(EXERCISES)}.")
    return EXERCISES[number]


def check(number: int, namespace: str, timeout: float | None = None) -> None:
    """Run exercise ``number``'s check: print why it passes, or raise :class:`CheckFailed`.

    Example:
        >>> ch.lab.check(3, ns)  # doctest: +SKIP
        ✓ Exercise 3: CronJob nightly-report runs at 02:30 every night and keeps ...
    """
    exercise = _exercise(number)
    kwargs = {} if timeout is None else {"timeout": timeout}
    print(f"✓ Exercise {number}: {exercise.check(namespace, **kwargs)}")


def hint(number: int) -> None:
    """Print a hint for exercise ``number``.

    Example:
        >>> hint(5)  # doctest: +ELLIPSIS
        Hint for exercise 5: Delete the four workloads ...
    """
    print(f"Hint for exercise {number}: {_exercise(number).hint}")


def solution(number: int) -> YamlText | Code:
    """Return one correct answer to exercise ``number`` (YAML, or code for the clean-up)."""
    exercise = _exercise(number)
    if exercise.solution:
        return show(exercise.solution)
    lines = [f'ch.delete("{kind}", "{name}", ns)' for kind, name in _CLEANUP]
    lines.append(f"for i in range({REPLICAS}):  # the claims the StatefulSet left behind")
    lines.append(f'    ch.delete("PersistentVolumeClaim", f"data-{STATEFULSET}-{{i}}", ns)')
    return Code("\n".join(lines))


def apply_solution(number: int, namespace: str) -> None:
    """Apply exercise ``number``'s solution in ``namespace`` (recreating what cannot be changed).

    Example:
        >>> ch.lab.apply_solution(4, ns)  # doctest: +SKIP
    """
    exercise = _exercise(number)
    if exercise.solution is None:
        for kind, name in _CLEANUP:
            delete(kind, name, namespace)
        for claim in _names(_list("PersistentVolumeClaim", namespace)):
            delete("PersistentVolumeClaim", claim, namespace)
        return
    try:
        apply(exercise.solution, namespace)
    except ManifestError as exc:
        print(f"  {exc}\n  Some fields cannot change in place: deleting and applying again.")
        for doc in parse(manifest_text(exercise.solution)):
            kind, name = doc["kind"], doc["metadata"]["name"]
            if delete(kind, name, namespace, cascade="foreground"):
                field = f"metadata.name={name}"
                until(
                    kind,
                    namespace,
                    lambda found: not found,
                    f"{kind} {name} gone",
                    120,
                    None,
                    field,
                )
        apply(exercise.solution, namespace)


def progress(namespace: str) -> pd.DataFrame:
    """Return a table of every exercise and whether its check passes now (no waiting)."""
    import pandas as pd

    rows = []
    for number, exercise in EXERCISES.items():
        try:
            result, detail = "✓ passes", exercise.check(namespace, timeout=0)
        except CheckFailed as exc:
            result, detail = "✗ not yet", str(exc)
        rows.append(
            {
                "exercise": number,
                "part": exercise.part,
                "task": exercise.task,
                "result": result,
                "detail": detail,
            }
        )
    return pd.DataFrame(rows, columns=["exercise", "part", "task", "result", "detail"])
