"""``course-cluster``: build, start, stop and inspect the embedded cluster."""

from __future__ import annotations

import argparse
import os
import sys

from .cluster import _binaries, _embedded, _podlogs
from .errors import CourseError
from .kube import _kubectl
from .kube._wait import nodes_ready


def _status() -> int:
    state = _embedded.ClusterState.load()
    components = _embedded.component_status()
    if not _embedded.cluster_dir().exists():
        print("embedded cluster: none (start one with `course-cluster up`)")
        return 1
    if not any(components.values()):
        print(
            "embedded cluster: not running (stopped, or its processes died); its data is kept "
            f"in {_embedded.cluster_dir()} and `course-cluster up` resumes it"
        )
        return 1
    running = _embedded.is_running()
    print(f"embedded cluster: {'running' if running else 'NOT healthy'}")
    if state:
        print(
            f"  API server: {state.server}\n  kubeconfig: {state.kubeconfig}\n"
            f"  DNS:        127.0.0.1:{state.dns_port}"
        )
    for name, alive in sorted(components.items()):
        print(f"  {name:<24} {'up' if alive else 'DOWN'}")
    writer = _podlogs.is_running()
    print(
        f"  {'pod log writer':<24} {'up' if writer else 'DOWN (kubectl logs: course-cluster up)'}"
    )
    return 0 if running else 1


def _kubectl_env(log: _binaries.Log, rewrite: bool) -> None:
    """Print the shell lines for the course's kubectl.

    The one-context kubeconfig becomes the embedded cluster's when ``rewrite``
    (it was just started) or when none was written yet.
    """
    embedded = _embedded.kubeconfig_path()
    if embedded.exists() and (rewrite or not _kubectl.kubeconfig_path().exists()):
        _kubectl.write_kubeconfig(str(embedded), _embedded.CONTEXT)
    link = _kubectl.bin_dir() / "kubectl"
    if rewrite or not link.is_symlink():  # missing, or the stand-in: maybe built since
        _kubectl.install_kubectl(log=log)
    print("\n".join(_kubectl.env_lines()))


def build_parser() -> argparse.ArgumentParser:
    """Return the ``course-cluster`` argument parser, one subcommand per action.

    Example:
        >>> build_parser().parse_args(["up", "--nodes", "2"]).nodes
        2
    """
    parser = argparse.ArgumentParser(prog="course-cluster", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("install", help="build the pinned cluster binaries (cached outside the repo)")
    up = sub.add_parser(
        "up",
        help="start the embedded cluster, resume a stopped or crashed one with its data, "
        "or reuse the running one (never builds: run `install` first)",
    )
    up.add_argument("--nodes", type=int, default=3, help="worker nodes a new cluster starts with")
    sub.add_parser("stop", help="stop the embedded cluster, keeping its data (`up` resumes it)")
    sub.add_parser("down", help="stop the embedded cluster and DELETE it with everything in it")
    sub.add_parser("status", help="say whether the embedded cluster runs, and where")
    sub.add_parser(
        "env", help="print `export KUBECONFIG=... PATH=...` for the course's kubectl in a shell"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``course-cluster`` command line."""
    args = build_parser().parse_args(argv)

    def log(message: str) -> None:
        print(message, flush=True)

    try:
        if args.command == "install":
            for name, path in sorted(_binaries.install(log).items()):
                print(f"  {name:<24} {path}")
        elif args.command == "up":
            _embedded.up(nodes=args.nodes, log=log, wait_ready=nodes_ready)
            _kubectl_env(log, rewrite=True)
        elif args.command == "stop":
            _embedded.stop(log=log)
        elif args.command == "down":
            _embedded.down(log=log)
            _kubectl.forget_embedded(_embedded.CONTEXT)
        elif args.command == "status":
            return _status()
        elif args.command == "env":
            _kubectl_env(lambda m: print(m, file=sys.stderr), rewrite=False)
    except CourseError as exc:
        print(f"course-cluster {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `course-cluster status | head -1`: the reader left; no traceback for that
        # (and none when Python flushes stdout at exit: it goes to /dev/null).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
