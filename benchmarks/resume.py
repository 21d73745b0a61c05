"""Resuming the embedded cluster beside starting a fresh one.

Prints, for binaries already installed, the wall time of ``course-cluster up``
(3 nodes, until they are Ready and CoreDNS answers) in each case, median of
``--runs``:

- fresh: no cluster there (after ``course-cluster down``): the baseline;
- running: the cluster is up already (what a second notebook's connect() does);
- apiserver killed: kube-apiserver SIGKILLed, everything else running;
- all killed: every process of the cluster SIGKILLed, as by a reboot;
- stopped: after ``course-cluster stop``.

Before each case a course namespace holds a StatefulSet, a Job and a
ConfigMap; the ConfigMap must still be there after every resume.

Run: ``.venv/bin/python benchmarks/resume.py [--runs 3]``.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from course_helpers.cluster._process import is_ours, kill_if_ours

NODES = 3

SETUP = """
import course_helpers as ch
ch.connect(log=lambda m: None)
ns = ch.namespace("bench-resume")
ch.apply("statefulset-web", ns)
ch.apply("job-single", ns)
ch.apply("apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: kept}\\ndata: {a: b}\\n", ns)
"""

CHECK = """
import course_helpers as ch
ch.connect(log=lambda m: None)
assert ch.get("ConfigMap", "kept", "course-bench-resume") is not None, "the ConfigMap is gone"
"""


def _env(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COURSE_", "KUBECONFIG"))}
    env.update(COURSE_STATE_DIR=str(state), COURSE_CLUSTER="embedded")
    return env


def _cli(state: Path, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "course_helpers.cli", *args],
        env=_env(state),
        check=True,
        capture_output=True,
        timeout=300,
    )
    return time.perf_counter() - started


def _python(state: Path, code: str) -> None:
    subprocess.run(
        [sys.executable, "-c", code], env=_env(state), check=True, capture_output=True, timeout=300
    )


def _pids(state: Path) -> dict[str, int]:
    files = [*(state / "kwok/clusters/course/pids").glob("*.pid"), state / "coredns/coredns.pid"]
    return {f.stem: int(f.read_text()) for f in files if f.exists()}


def _kill(state: Path, names: list[str] | None = None) -> None:
    pids = _pids(state)
    chosen = [pids[n] for n in (names or list(pids))]
    for pid in chosen:
        kill_if_ours(pid, state, signal=signal.SIGKILL)
    while any(is_ours(pid, state) for pid in chosen):
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    damage: dict[str, Callable[[Path], object]] = {
        "running": lambda state: None,
        "apiserver killed": lambda state: _kill(state, ["kube-apiserver"]),
        "all killed": lambda state: _kill(state),
        "stopped": lambda state: _cli(state, "stop"),
    }
    times: dict[str, list[float]] = {"fresh": [], **{case: [] for case in damage}}
    with tempfile.TemporaryDirectory(prefix="bench-resume-") as tmp:
        state = Path(tmp) / "state"
        for _run in range(args.runs):
            times["fresh"].append(_cli(state, "up", "--nodes", str(NODES)))
            _python(state, SETUP)
            for case, harm in damage.items():
                harm(state)
                times[case].append(_cli(state, "up", "--nodes", str(NODES)))
                _python(state, CHECK)
            _cli(state, "down")
    baseline = statistics.median(times["fresh"])
    print(f"course-cluster up, {NODES} nodes, runs: {args.runs}")
    for case, values in times.items():
        median = statistics.median(values)
        print(
            f"  {case:<17} median {median:5.2f} s  ({median / baseline:4.2f} x fresh)  "
            f"runs: {', '.join(f'{v:.2f}' for v in values)}"
        )


if __name__ == "__main__":
    main()
