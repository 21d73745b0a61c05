"""Embedded cluster start-up time, our overhead over bare kwokctl, and memory.

Prints, for binaries already built:
- seconds from ``course-cluster up`` until every node is Ready (3 nodes, with
  the course's stages, storage class and CoreDNS);
- the same for bare ``kwokctl create cluster`` + ``kwokctl scale node`` with
  the same binaries, in the same run, and the ratio of the two;
- the total RSS of the cluster's processes, idle and with demo workloads.

Run: ``.venv/bin/python benchmarks/cluster.py [--runs 3]``. Targets: start
under 15 s, ratio under 1.2, RSS under 700 MB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course_helpers.cluster import _binaries, _embedded_kwokctl

NODES = 3


def _rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def _pids(state: Path) -> list[int]:
    files = [*(state / "kwok/clusters/course/pids").glob("*.pid"), state / "coredns/coredns.pid"]
    return [int(f.read_text()) for f in files if f.exists()]


def course_up(state: Path) -> float:
    env = {**os.environ, "COURSE_STATE_DIR": str(state)}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "course_helpers.cli", "up", "--nodes", str(NODES)],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return time.perf_counter() - started


def course_down(state: Path) -> None:
    env = {**os.environ, "COURSE_STATE_DIR": str(state)}
    subprocess.run(
        [sys.executable, "-m", "course_helpers.cli", "down"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


def bare_kwokctl(workdir: Path, bins: dict[str, Path]) -> float:
    env = {
        **os.environ,
        "KWOK_WORKDIR": str(workdir),
        "PATH": f"{bins['kubectl'].parent}{os.pathsep}{os.environ['PATH']}",
    }
    kubeconfig = workdir / "kubeconfig"
    kwokctl = str(bins["kwokctl"])
    started = time.perf_counter()
    subprocess.run(
        [kwokctl, *_embedded_kwokctl.create_args("bare", kubeconfig, bins)],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    subprocess.run(
        [kwokctl, "scale", "node", "--name", "bare", "--replicas", str(NODES)],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    subprocess.run(
        [
            str(bins["kubectl"]),
            "--kubeconfig",
            str(kubeconfig),
            "wait",
            "node",
            "--all",
            "--for=condition=Ready",
            "--timeout=90s",
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    elapsed = time.perf_counter() - started
    subprocess.run(
        [kwokctl, "delete", "cluster", "--name", "bare"],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return elapsed


def workload_rss(state: Path) -> float:
    """Run the DaemonSet, Job and StatefulSet demos on the cluster in ``state``; return RSS."""
    os.environ["COURSE_STATE_DIR"] = str(state)
    os.environ["COURSE_CLUSTER"] = "embedded"
    import course_helpers as ch

    ch.connect(log=lambda _m: None)
    ch.echo(False)  # the kubectl commands would clutter the figures
    ns = ch.namespace("bench-memory")
    for name in ("daemonset-storage-daemon", "job-parallel", "statefulset-web"):
        ch.apply(name, ns)
    ch.job_finished(ns, "render-frames-parallel", timeout=120)
    ch.pods_ready(ns, 3, label_selector="app=web", timeout=120)
    time.sleep(5)
    return _rss_mb(_pids(state))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    bins = _binaries.paths()
    ours, bare, idle = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        for run in range(args.runs):
            state = Path(tmp) / f"state-{run}"
            ours.append(course_up(state))
            time.sleep(10)
            idle.append(_rss_mb(_pids(state)))
            course_down(state)
            bare.append(bare_kwokctl(Path(tmp) / f"bare-{run}", bins))
        state = Path(tmp) / "state-load"
        course_up(state)
        loaded = workload_rss(state)
        course_down(state)
    ratio = statistics.median(ours) / statistics.median(bare)
    print(f"runs: {args.runs}, nodes: {NODES}")
    print(
        f"course-cluster up until all nodes Ready: median {statistics.median(ours):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in ours)})  target < 15 s"
    )
    print(
        f"bare kwokctl create + scale until Ready: median {statistics.median(bare):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in bare)})"
    )
    print(f"overhead ratio (ours / bare): {ratio:.2f}  target < 1.2")
    print(
        f"cluster RSS idle (6 processes incl. CoreDNS): median {statistics.median(idle):.0f} MB"
        "  target < 700 MB"
    )
    print(f"cluster RSS with DaemonSet + Job + StatefulSet demos: {loaded:.0f} MB")


if __name__ == "__main__":
    main()
