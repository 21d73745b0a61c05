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
    ch.lab.progress(ns, stretch=True)  # the stretch exercises 6-8 too

Stretch exercises 6-8 (a DaemonSet rolling update, an Indexed Job with a pod
failure policy, a StatefulSet canary) start from a version 1 that
``ch.lab.start(n, ns)`` applies; you then change it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ManifestError
from ..kube._manifests import apply, delete, parse, show
from ..kube._manifests import manifest as manifest_text
from ..kube._wait import until
from ._check_base import list_objects, names
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
    check_cleanup,
    check_cronjob_history,
    check_daemonset_subset,
    check_parallel_job,
    check_statefulset_storage,
)
from ._exercise import Exercise
from ._stretch import check_daemonset_rollout, check_indexed_job, check_statefulset_canary
from ._stretch_lab import STRETCH, start

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "EXERCISES",
    "CheckFailed",
    "Exercise",
    "Solution",
    "apply_solution",
    "check",
    "check_cleanup",
    "check_cronjob_history",
    "check_daemonset_rollout",
    "check_daemonset_subset",
    "check_indexed_job",
    "check_parallel_job",
    "check_statefulset_canary",
    "check_statefulset_storage",
    "hint",
    "progress",
    "solution",
    "start",
]


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
            f"In spec.template.spec add `nodeSelector: {{{DISK_LABEL}: ssd}}`, beside "
            "`containers`.",
            "A DaemonSet runs one pod on every node its pod template allows. The nodeSelector "
            f"allows only nodes labelled {DISK_LABEL}=ssd, so the others get none, and a node "
            "that gains the label later gets a pod at once.",
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
            f"In the Job's spec, beside `template`: `completions: {COMPLETIONS}`, "
            f"`parallelism: {PARALLELISM}`, `backoffLimit: {BACKOFF_LIMIT}`. Delete the Job "
            "first (`%kubectl delete job thumbnails -n {ns}`), then apply.",
            f"completions counts the successful pods the Job needs; parallelism caps how many "
            f"run at once. backoffLimit {BACKOFF_LIMIT} lets {BACKOFF_LIMIT} pods fail: the Job "
            "is marked Failed when failures exceed it, at the next one.",
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
            f'In the CronJob\'s spec: `schedule: "30 2 * * *"`, '
            f"`successfulJobsHistoryLimit: {KEEP_SUCCEEDED}`, "
            f"`failedJobsHistoryLimit: {KEEP_FAILED}`.",
            "The minute comes first: `30 2` is 02:30, read in kube-controller-manager's zone "
            "when spec.timeZone is unset. The limits belong to the CronJob because the CronJob "
            "controller, not the Job, deletes the Jobs it no longer keeps.",
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
            "A second document, a Service: `metadata.name: db`, `spec.clusterIP: None`, "
            "`spec.selector: {app: db}`. In the StatefulSet: `replicas: 3`, and "
            "`volumeClaimTemplates` with one claim named `data` (ReadWriteOnce, 1Gi) that the "
            "container mounts (`volumeMounts`, `name: data`) at /var/lib/postgresql/data. Delete "
            "the StatefulSet first (`%kubectl delete statefulset db -n {ns}`): its "
            "volumeClaimTemplates cannot change in place.",
            "clusterIP: None makes the Service headless: the cluster DNS answers each Ready "
            "pod's own name, db-0.db.<namespace>.svc.cluster.local, from the Service's "
            "EndpointSlices. volumeClaimTemplates gives each pod a claim of its own, data-db-N, "
            "which a replacement pod gets back. PGDATA below the mount and POSTGRES_PASSWORD are "
            "what postgres needs to start on a real disk.",
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
            "`%kubectl get all,pvc -n {ns}` shows what is left: the claims data-db-0, "
            "data-db-1 and data-db-2. They carry the StatefulSet's selector labels: "
            "`%kubectl delete pvc -l app=db -n {ns}`.",
            "Deleting a StatefulSet leaves its claims, and their data, behind: "
            "persistentVolumeClaimRetentionPolicy is Retain by default, for whenDeleted and "
            "whenScaled. Clean-up is deliberate: you delete the claims yourself.",
        ),
        *STRETCH,
    )
}

_CLEANUP = [
    ("DaemonSet", DAEMONSET),
    ("Job", JOB),
    ("CronJob", CRONJOB),
    ("StatefulSet", STATEFULSET),
    ("Service", STATEFULSET),
]


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


def hint(number: int, level: int = 1) -> None:
    """Print a hint for exercise ``number``: level 1 nudges, level 2 names the fields to change.

    Example:
        >>> hint(5)  # doctest: +ELLIPSIS
        Hint for exercise 5: Delete the four workloads ...
    """
    exercise = _exercise(number)
    if level not in (1, 2):
        raise ValueError(f"Hints come in two levels, 1 and 2, not {level}.")
    if level == 1:
        print(f"Hint for exercise {number}: {exercise.hint}")
        print(f"  Still stuck? ch.lab.hint({number}, 2) names the fields to change.")
    else:
        print(f"Hint for exercise {number}, level 2: {exercise.field}")


class Solution(str):
    """One correct answer: the text is its YAML (or, for the clean-up, the helper code).

    In a notebook it shows the kubectl way first (a ``%%kubectl apply`` cell),
    then why it is right, then the helper way.
    """

    kubectl: str
    why: str
    helpers: str

    before: str

    def __new__(cls, text: str, kubectl: str, why: str, helpers: str, before: str = "") -> Solution:
        """Make the answer ``text`` with its kubectl cell, its reason and its helper code."""
        self = super().__new__(cls, text)
        self.kubectl, self.why, self.helpers, self.before = kubectl, why, helpers, before
        return self

    def _repr_markdown_(self) -> str:
        return (
            f"**The kubectl way** (run it in a code cell){self.before}:\n\n"
            f"```\n{self.kubectl.rstrip()}\n```\n\n"
            f"**Why it is right.** {self.why}\n\n"
            f"**The helper way:**\n\n```python\n{self.helpers.rstrip()}\n```"
        )


def solution(number: int) -> Solution:
    """Return one correct answer to exercise ``number``, shown the kubectl way first.

    ``str()`` of it is the YAML (for the clean-up: the helper code), so it can
    be applied or edited as text.

    Example:
        >>> "nodeSelector" in solution(1)
        True
    """
    exercise = _exercise(number)
    if exercise.solution:
        yaml_text = str(show(exercise.solution))
        kubectl = "%%kubectl apply -n {ns} -f -\n" + yaml_text
        helpers, before = f'ch.apply("{exercise.solution}", ns)', ""
        if number in (2, 4):
            kind, name = ("job", JOB) if number == 2 else ("statefulset", STATEFULSET)
            before = (
                f"; if {kind} {name} exists already, delete it first, since the fields this "
                f"answer sets cannot change in place: `%kubectl delete {kind} {name} -n {{ns}}`"
            )
            helpers = f"ch.lab.apply_solution({number}, ns)  # deletes and re-applies if needed"
        if exercise.start:
            before = ", over version 1 (the exercise's starting point) once its pods are Ready"
            helpers = f"ch.lab.apply_solution({number}, ns)  # starts version 1 first if needed"
        return Solution(yaml_text, kubectl, exercise.why, helpers, before)
    objects = " ".join(f"{kind.lower()}/{name}" for kind, name in _CLEANUP)
    kubectl = (
        f"%kubectl delete {objects} -n {{ns}}\n"
        f"%kubectl delete pvc -l app={STATEFULSET} -n {{ns}}  # the claims left behind"
    )
    lines = [f'ch.delete("{kind}", "{name}", ns)' for kind, name in _CLEANUP]
    lines.append(f"for i in range({REPLICAS}):  # the claims the StatefulSet left behind")
    lines.append(f'    ch.delete("PersistentVolumeClaim", f"data-{STATEFULSET}-{{i}}", ns)')
    code = "\n".join(lines)
    return Solution(code, kubectl, exercise.why, code)


def apply_solution(number: int, namespace: str) -> None:
    """Apply exercise ``number``'s solution in ``namespace`` (recreating what cannot be changed).

    Example:
        >>> ch.lab.apply_solution(4, ns)  # doctest: +SKIP
    """
    exercise = _exercise(number)
    if exercise.start is not None:
        (doc,) = parse(manifest_text(exercise.start))
        if doc["metadata"]["name"] not in names(list_objects(doc["kind"], namespace)):
            start(number, namespace)
    if exercise.solution is None:
        for kind, name in _CLEANUP:
            delete(kind, name, namespace)
        for claim in names(list_objects("PersistentVolumeClaim", namespace)):
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


def progress(namespace: str, stretch: bool = False) -> pd.DataFrame:
    """Return a table of the exercises 1-5 (and 6-8 with ``stretch``): does each check pass now?

    No check waits here.
    """
    import pandas as pd

    rows = []
    for number, exercise in EXERCISES.items():
        if exercise.stretch and not stretch:
            continue
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
