"""JobProgress's index table: what became of each completion index of an Indexed Job.

An Indexed Job (``completionMode: Indexed``) gives each pod an index, 0 to
``completions - 1``, in the pod's annotation (and label)
``batch.kubernetes.io/job-completion-index``; the Job controller lists the
indexes that succeeded in ``.status.completedIndexes`` and, with
``backoffLimitPerIndex``, those that failed in ``.status.failedIndexes``. The
table has one row per index: its state, from those two lists and the pods
seen, and every pod that tried it, oldest first, with how each ended.

Example:
    >>> sorted(parse_indexes("0-2,5"))
    [0, 1, 2, 5]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..kube._objects import JOB_INDEX_ANNOTATION, condition, meta, name_of
from ..kube._watch import Obj, WatchEvent
from ._palette import (
    CELL_CSS,
    FONT,
    HEAD_CSS,
    INK_CSS,
    OKABE_ITO,
    PHASES,
    TABLE_CSS,
    Style,
    chip,
    escape,
)

#: The label the Job controller puts on its pods: the Job's name.
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"

#: What became of an index, in the order a row's state is decided.
INDEX_STATES: dict[str, Style] = {
    "succeeded": Style("succeeded", PHASES["Succeeded"].color, "#000", "✓", "circle"),
    "failed": Style("failed", PHASES["Failed"].color, "#000", "✗", "x"),
    "running": Style("running", PHASES["Running"].color, "#fff", "▶", "triangle-right"),
    "retry due": Style(
        "retry due", OKABE_ITO["orange"], "#000", "↻", "circle-open", border="dashed"
    ),
    "pending": Style("pending", OKABE_ITO["orange"], "#000", "◌", "circle-open", border="dashed"),
    "stopped": Style("stopped", OKABE_ITO["grey"], "#000", "⊘", "square-open", border="dotted"),
    "not run": Style("not run", OKABE_ITO["grey"], "#000", "·", "circle-open", border="dotted"),
}

FRAME_COLUMNS = ["job", "index", "state", "pods", "tries"]


def parse_indexes(text: str | None) -> set[int]:
    """Return the indexes of a ``completedIndexes``/``failedIndexes`` string ("0-2,5").

    Example:
        >>> sorted(parse_indexes("1,3-4"))
        [1, 3, 4]
        >>> parse_indexes(None)
        set()
    """
    indexes: set[int] = set()
    for part in (text or "").split(","):
        if not part.strip():
            continue
        first, _, last = part.partition("-")
        indexes.update(range(int(first), int(last or first) + 1))
    return indexes


def is_indexed(job: Obj | None) -> bool:
    """Tell whether a Job is Indexed (``spec.completionMode: Indexed``)."""
    return bool(job) and (job or {}).get("spec", {}).get("completionMode") == "Indexed"


@dataclass
class Try:
    """One pod that ran an index: its name, phase, exit code, and whether it was deleted."""

    pod: str
    uid: str
    created: str
    phase: str = "Pending"
    exit_code: int | None = None
    deleted: bool = False

    def describe(self) -> str:
        """Say how the pod ended, or where it is: "Failed, exit 42", "Running, deleted"."""
        text = self.phase
        if self.exit_code is not None and self.phase == "Failed":
            text += f", exit {self.exit_code}"
        return text + (", deleted" if self.deleted else "")

    @property
    def active(self) -> bool:
        """True while the pod may still run (not finished, not deleted)."""
        return not self.deleted and self.phase in ("Pending", "Running")


def _exit_code(pod: Obj) -> int | None:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        terminated = (status.get("state") or {}).get("terminated")
        if terminated and terminated.get("exitCode") is not None:
            return int(terminated["exitCode"])
    return None


@dataclass
class IndexTracker:
    """Every pod seen per Job and index (a Job's pods outlive it in this record)."""

    jobs: list[str]
    #: job -> index -> tries, oldest first.
    tries: dict[str, dict[int, list[Try]]] = field(default_factory=dict)

    def observe(self, event: WatchEvent) -> None:
        """Note a Pod event of one of the Jobs' pods."""
        pod = event.object
        labels = meta(pod).get("labels") or {}
        job = labels.get(JOB_NAME_LABEL)
        index = (meta(pod).get("annotations") or {}).get(JOB_INDEX_ANNOTATION)
        if job not in self.jobs or index is None:
            return
        tries = self.tries.setdefault(job, {}).setdefault(int(index), [])
        uid = str(meta(pod).get("uid") or "")
        found = next((t for t in tries if t.uid == uid), None)
        if found is None:
            found = Try(name_of(pod), uid, str(meta(pod).get("creationTimestamp") or ""))
            tries.append(found)
            tries.sort(key=lambda t: (t.created, t.pod))
        found.phase = str((pod.get("status") or {}).get("phase") or "Pending")
        found.exit_code = _exit_code(pod)
        found.deleted = found.deleted or event.type == "DELETED"

    def forget_job(self, job: str) -> None:
        """Forget a Job's pods (the Job was created again: a new run)."""
        self.tries.pop(job, None)

    def rows(self, name: str, job: Obj | None) -> list[dict[str, object]]:
        """Return one row per index of Job ``name``: index, state, pods and tries."""
        spec, status = (job or {}).get("spec") or {}, (job or {}).get("status") or {}
        seen = self.tries.get(name, {})
        count = int(spec.get("completions") or 0)
        done = parse_indexes(status.get("completedIndexes"))
        failed = parse_indexes(status.get("failedIndexes"))
        finished = any(
            (c := condition(job, kind)) is not None and c.get("status") == "True"
            for kind in ("Complete", "Failed")
            if job is not None
        )
        rows = []
        for index in sorted(set(range(count)) | set(seen)):
            tries = seen.get(index, [])
            if index in done:
                state = "succeeded"
            elif index in failed:
                state = "failed"
            elif any(t.active for t in tries):
                state = "running"
            elif finished and tries and tries[-1].phase == "Failed":
                state = "failed"  # its pod failed and the Job ended (FailJob, say)
            elif finished:
                state = "stopped" if tries else "not run"
            else:
                state = "retry due" if tries else "pending"
            rows.append(
                {
                    "job": name,
                    "index": index,
                    "state": state,
                    "pods": [t.pod for t in tries],
                    "tries": [t.describe() for t in tries],
                }
            )
        return rows

    def frame(self, jobs: dict[str, Obj | None]) -> pd.DataFrame:
        """Return the rows of every Indexed Job among ``jobs`` (name -> Job as last seen)."""
        rows = [
            row for name, job in jobs.items() if is_indexed(job) for row in self.rows(name, job)
        ]
        return pd.DataFrame(rows, columns=FRAME_COLUMNS)

    def html(self, jobs: dict[str, Obj | None]) -> str:
        """Return the index tables of the Indexed Jobs among ``jobs``, side by side ("" if none)."""
        parts = [self._table(name, job) for name, job in jobs.items() if is_indexed(job)]
        if not parts:
            return ""
        return (
            f'<div style="display:flex;flex-wrap:wrap;gap:12px;font-family:{FONT}">'
            + "".join(parts)
            + "</div>"
        )

    def _table(self, name: str, job: Obj | None) -> str:
        status = (job or {}).get("status") or {}
        facts = [f"succeeded indexes: {status.get('completedIndexes') or 'none'}"]
        if "backoffLimitPerIndex" in ((job or {}).get("spec") or {}):
            facts.append(f"failed indexes: {status.get('failedIndexes') or 'none'}")
        outcome = job_outcome(job)
        if outcome:
            facts.append(outcome)
        head = (
            f'<div style="font-size:13px"><b>{escape(name)}</b>: one row per completion index '
            f"(annotation {escape(JOB_INDEX_ANNOTATION)})</div>"
            f'<div style="font-size:12px;color:{INK_CSS}">{escape(" · ".join(facts))}</div>'
        )
        body = []
        for row in self.rows(name, job):
            style = INDEX_STATES[str(row["state"])]
            pods = "<br>".join(
                f"{escape(pod)} <span style='color:{INK_CSS}'>({escape(text)})</span>"
                for pod, text in zip(row["pods"], row["tries"], strict=True)  # type: ignore[call-overload]
            )
            body.append(
                f'<tr data-index="{row["index"]}" data-state="{escape(row["state"])}">'
                f'<td style="{CELL_CSS}">{row["index"]}</td>'
                f'<td style="{CELL_CSS}">{chip(str(row["state"]), style)}</td>'
                f'<td style="{CELL_CSS};font-family:var(--jp-code-font-family, monospace);'
                f'font-size:12px">{pods or "&nbsp;"}</td></tr>'
            )
        table = (
            f'<table class="course-job-indexes" style="{TABLE_CSS}"><tr>'
            + "".join(
                f'<th style="{HEAD_CSS}">{c}</th>' for c in ("index", "state", "pods, oldest first")
            )
            + "</tr>"
            + "".join(body)
            + "</table>"
        )
        return f'<div data-job="{escape(name)}">{head}{table}</div>'


def job_outcome(job: Obj | None) -> str:
    """Say how a finished Job ended and why: "Failed: FailedIndexes (Job has failed indexes)".

    The reason and message are the Job controller's, from the Job's Complete
    or Failed condition; "" while the Job runs.

    Example:
        >>> job_outcome({"status": {"conditions": [
        ...     {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
        ...      "message": "Job has reached the specified backoff limit"}]}})
        'Failed: BackoffLimitExceeded (Job has reached the specified backoff limit)'
    """
    if job is None:
        return ""
    for kind in ("Complete", "Failed"):
        cond = condition(job, kind)
        if cond and cond.get("status") == "True":
            reason, message = cond.get("reason") or "", cond.get("message") or ""
            text = f"{kind}: {reason}" if reason else kind
            return text + (f" ({message})" if message else "")
    return ""
