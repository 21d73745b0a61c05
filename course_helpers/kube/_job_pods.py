"""``ch.job_pods``: a Job's pods by completion index, with how each ended and what it counted.

Example:
    >>> table = ch.job_pods(ns, "transcode")  # doctest: +SKIP
"""

from __future__ import annotations

import pandas as pd

from ._manifests import list_objects
from ._objects import JOB_INDEX_ANNOTATION, meta

#: The Job controller's per-index counts, on the pods of a Job with backoffLimitPerIndex.
FAILURE_COUNT = "batch.kubernetes.io/job-index-failure-count"
IGNORED_COUNT = "batch.kubernetes.io/job-index-ignored-failure-count"

COLUMNS = ["index", "pod", "phase", "exit_code", "index_failures", "ignored_failures"]


def job_pods(namespace: str, job: str) -> pd.DataFrame:
    """Return Job ``job``'s pods, by completion index and then creation, oldest first.

    Like ``kubectl get pods -l batch.kubernetes.io/job-name=<job>``, one row per
    pod, with:

    * ``index``: the pod's completion index (annotation
      ``batch.kubernetes.io/job-completion-index``; ``<NA>`` unless the Job is Indexed);
    * ``phase`` and ``exit_code``: how its container ended (``<NA>`` while it runs);
    * ``index_failures`` and ``ignored_failures``: how many earlier pods of its index
      had failed when the Job controller created it, counted against
      ``backoffLimitPerIndex`` or ignored by the pod failure policy (annotations
      ``batch.kubernetes.io/job-index-failure-count`` and
      ``job-index-ignored-failure-count``; only with ``backoffLimitPerIndex``,
      else ``<NA>``).

    Example:
        >>> print(ch.job_pods(ns, "transcode").to_string(index=False))  # doctest: +SKIP
         index               pod     phase  exit_code  index_failures  ignored_failures
             0 transcode-0-x7k2p Succeeded          0               0                 0
    """
    rows = []
    pods = list_objects("Pod", namespace, label_selector=f"batch.kubernetes.io/job-name={job}")
    for pod in pods:
        annotations = meta(pod).get("annotations") or {}
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        ended = [(s.get("state") or {}).get("terminated") for s in statuses]
        codes = [t["exitCode"] for t in ended if t and t.get("exitCode") is not None]
        per_index = FAILURE_COUNT in annotations
        rows.append(
            {
                "index": annotations.get(JOB_INDEX_ANNOTATION),
                "pod": meta(pod).get("name"),
                "phase": (pod.get("status") or {}).get("phase"),
                "exit_code": max(codes, key=abs) if codes else None,
                "index_failures": annotations.get(FAILURE_COUNT),
                "ignored_failures": annotations.get(IGNORED_COUNT, "0" if per_index else None),
                "_created": meta(pod).get("creationTimestamp") or "",
            }
        )
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "_created"])
    for column in ("index", "exit_code", "index_failures", "ignored_failures"):
        frame[column] = pd.to_numeric(frame[column]).astype("Int64")
    # An index's retries: each counts one more earlier failure (creation times have whole
    # seconds only, and a retry can follow within one).
    frame["_tries"] = frame["index_failures"].fillna(0) + frame["ignored_failures"].fillna(0)
    frame = frame.sort_values(["index", "_tries", "_created", "pod"], ignore_index=True)
    return frame[COLUMNS]
