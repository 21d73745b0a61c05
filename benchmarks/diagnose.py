"""What naming the cause costs, and how soon a lab check gives up on a final cause.

Prints, on the embedded cluster (``course-cluster up`` first):
- the time of one diagnosis read (``kube._diagnose.gather``: pods, claims, events,
  the workload kind, nodes, StorageClasses) beside one pod list, its baseline;
- lab exercise 4's check on the reference solution, from apply to pass, with the
  diagnosis on every event the check sees while pods settle, and without it
  (``why=None``), and how many diagnoses ran;
- the same check on the solution with ``storageClassName: fast``: seconds from
  apply to the failure that names the StorageClass, beside the 60 s the check
  waited before (its timeout).

Run: ``.venv/bin/python benchmarks/diagnose.py [--runs 3]`` (add ``taskset -c 0``
in front for Binder's one CPU).
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import course_helpers as ch
from course_helpers.kube import _diagnose
from course_helpers.kube._diagnose import Cause
from course_helpers.kube._manifests import _resource, dynamic
from course_helpers.lab import _checks


def _median_ms(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _fresh_namespace() -> str:
    return ch.namespace(f"bench-diag-{uuid.uuid4().hex[:6]}")


def _check_4(ns: str, with_diagnosis: bool) -> tuple[float, int]:
    """Apply the reference solution and time ch.lab.check(4) to its pass."""
    calls = [0]
    original = _checks.why_stuck

    def counting(namespace: str, kind: str, name: str) -> Callable[[], list[Cause]]:
        inner = original(namespace, kind, name)

        def why() -> list[Cause]:
            calls[0] += 1
            return inner() if with_diagnosis else []

        return why

    _checks.why_stuck = counting
    try:
        started = time.perf_counter()
        ch.lab.apply_solution(4, ns)
        ch.lab.check_statefulset_storage(ns, timeout=120)
        return time.perf_counter() - started, calls[0]
    finally:
        _checks.why_stuck = original


def _wrong_class(ns: str) -> float:
    text = str(ch.lab.solution(4)).replace(
        "      accessModes:", "      storageClassName: fast\n      accessModes:"
    )
    started = time.perf_counter()
    ch.apply(text, ns)
    try:
        ch.lab.check_statefulset_storage(ns, timeout=60)
    except ch.lab.CheckFailed as exc:
        assert "'fast'" in str(exc), exc
        return time.perf_counter() - started
    raise AssertionError("the check passed with a StorageClass that does not exist")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ch.connect(log=lambda _msg: None)
    namespaces: list[str] = []
    try:
        ns = _fresh_namespace()
        namespaces.append(ns)
        ch.lab.apply_solution(4, ns)
        ch.lab.check_statefulset_storage(ns, timeout=120)
        pods = _resource({"apiVersion": "v1", "kind": "Pod"})
        base = _median_ms(lambda: dynamic().get(pods, namespace=ns, _request_timeout=10), 20)
        read = _median_ms(lambda: _diagnose.gather(ns, ["StatefulSet"]), 20)
        explain = _median_ms(lambda: ch.explain(ns, "StatefulSet", ["db"]), 20)
        print(f"one pod list (baseline)        {base:7.1f} ms")
        print(f"diagnosis read (gather)        {read:7.1f} ms  ({read / base:.1f}x)")
        print(f"ch.explain(ns, StatefulSet db) {explain:7.1f} ms")

        timings: dict[bool, list[float]] = {True: [], False: []}
        counts: list[int] = []
        for _ in range(args.runs):
            for with_diagnosis in (False, True):
                ns = _fresh_namespace()
                namespaces.append(ns)
                seconds, calls = _check_4(ns, with_diagnosis)
                timings[with_diagnosis].append(seconds)
                if with_diagnosis:
                    counts.append(calls)
        off, on = statistics.median(timings[False]), statistics.median(timings[True])
        shown = ", ".join(f"{t:.2f}" for t in timings[False])
        print(f"lab 4 apply..pass, no diagnosis  {off:6.2f} s  (runs: {shown})")
        shown = ", ".join(f"{t:.2f}" for t in timings[True])
        print(
            f"lab 4 apply..pass, diagnosing    {on:6.2f} s  (runs: {shown}; "
            f"{statistics.median(counts):.0f} diagnoses per check)"
        )

        fails = []
        for _ in range(args.runs):
            ns = _fresh_namespace()
            namespaces.append(ns)
            fails.append(_wrong_class(ns))
        print(
            f"lab 4 with class 'fast': fails in {statistics.median(fails):.2f} s "
            f"(before: waited the 60 s timeout)"
        )
    finally:
        for ns in namespaces:
            ch.cleanup(ns.removeprefix("course-"), wait=False)


if __name__ == "__main__":
    main()
