"""``%%kubectl`` and ``%kubectl``: kubectl in a notebook cell, on the helpers' cluster.

``import course_helpers`` registers both under IPython. The first line is
kubectl's arguments; ``{ns}`` and ``$ns`` in it are expanded as in ``!``
commands, and also beside JSON braces, where IPython's own expansion gives up
and leaves the whole line alone (``-p '{"spec":{"suspend":false}}'``): there
only plain names the notebook defined are replaced. A cell's body is
kubectl's standard input::

    %%kubectl apply -n {ns} -f -
    apiVersion: batch/v1
    kind: Job
    ...

    %kubectl get pods -n {ns} -o wide

Output and errors appear as kubectl prints them, while it runs; a failing
command shows kubectl's own message, never a Python traceback. On the embedded
cluster ``%kubectl logs -f`` ends when the followed container ends, as on a real
node (see ``_follow``); the stop button ends any command. The command is
always the course's kubectl (see ``_kubectl``) with ``--kubeconfig`` set to the
one-context kubeconfig ``connect()`` wrote, so it reaches only the chosen cluster.
"""

from __future__ import annotations

import os
import re
import selectors
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import IO, Any

from . import _follow, _kubectl, _session

#: Arguments that would point kubectl at another cluster or credentials.
REFUSED = ("--kubeconfig", "--server", "-s", "--token", "--username", "--password")


def kubectl_args(line: str) -> list[str] | str:
    """Split a magic's (already expanded) line into kubectl's arguments.

    Returns the arguments, or a message saying why the line is refused.

    Example:
        >>> kubectl_args("get pods -n course-jobs -l 'app in (a, b)'")
        ['get', 'pods', '-n', 'course-jobs', '-l', 'app in (a, b)']
        >>> kubectl_args("kubectl get nodes")
        ['get', 'nodes']
    """
    try:
        args = shlex.split(line, comments=True)
    except ValueError as exc:
        return f"%kubectl: cannot split the arguments ({exc}): check the quotes."
    if args[:1] == ["kubectl"]:  # `%%kubectl kubectl get pods` is a common slip
        args = args[1:]
    for arg in args:
        name = arg.split("=", 1)[0]
        if name in REFUSED:
            return (
                f"%kubectl: {name} is not accepted here: the cell runs against the cluster "
                "ch.connect() chose. Use `!kubectl ...` for anything else."
            )
    return args


#: ``{name}`` or ``$name`` where name is a plain identifier.
_PLAIN_NAME = re.compile(r"\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)")


def expand(line: str, names: dict[str, Any]) -> str:
    r"""Expand ``{ns}``/``$ns`` in a magic's line as IPython does, even beside JSON.

    IPython formats the whole line and, when any brace in it is not a Python
    expression (a JSON patch), leaves every ``{ns}`` unexpanded. Here the line is
    formatted as IPython would; if that fails, plain names defined in the
    notebook are replaced one by one and everything else stays as written.

    Example:
        >>> expand("get pods -n {ns}", {"ns": "course-jobs"})
        'get pods -n course-jobs'
        >>> print(expand("patch job a -n $ns -p '{\"spec\":{}}'", {"ns": "x"}))
        patch job a -n x -p '{"spec":{}}'
    """
    from IPython.utils.text import DollarFormatter

    try:
        return DollarFormatter().vformat(line, args=[], kwargs=names)
    except Exception:  # IPython's var_expand gives up on the same errors
        pass

    def plain(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return str(names[name]) if name in names else match.group(0)

    return _PLAIN_NAME.sub(plain, line)


#: After the followed containers ended, end kubectl once its output was quiet this long.
SETTLE_SECONDS = 1.0


def _pump(
    process: subprocess.Popen[bytes],
    outputs: dict[int, IO[str]],
    ended: threading.Event | None = None,
) -> bool:
    """Copy the process's stdout and stderr to the cell as they arrive.

    With ``ended`` (``logs -f`` on a simulated cluster), kubectl is ended once the
    event is set and no output came for ``SETTLE_SECONDS``; returns True then.
    """
    quiet_since = time.monotonic()
    ended_at: float | None = None
    with selectors.DefaultSelector() as selector:
        assert process.stdout is not None and process.stderr is not None
        for stream in (process.stdout, process.stderr):
            os.set_blocking(stream.fileno(), False)
            selector.register(stream, selectors.EVENT_READ)
        while selector.get_map():
            ready = selector.select(timeout=0.2 if ended is not None else None)
            for key, _ in ready:
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                out = outputs[key.fd]
                out.write(chunk.decode(errors="replace"))
                out.flush()
                quiet_since = time.monotonic()
            if ended is not None and ended.is_set():
                ended_at = ended_at or time.monotonic()
                if time.monotonic() - max(quiet_since, ended_at) >= SETTLE_SECONDS:
                    process.terminate()
                    return True
    return False


def run(args: Sequence[str], stdin: str | None = None) -> int:
    """Run the course's kubectl with ``args`` on the chosen cluster; return its exit code.

    Connects first when this kernel has not (as every helper does).

    Example:
        >>> run(["get", "nodes"])  # doctest: +SKIP
        NAME       STATUS   ROLES    AGE   VERSION
        ...
        0
    """
    info = _session.cluster_info()
    kubeconfig = _kubectl.kubeconfig_path()
    target = _follow.follow_target(list(args)) if info is not None and info.simulated else None
    ended = _follow.ended(target) if target is not None else None
    command = [str(_kubectl.kubectl()), f"--kubeconfig={kubeconfig}", *args]
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "KUBECONFIG": str(kubeconfig)},
    )
    assert process.stdout is not None and process.stderr is not None
    outputs = {process.stdout.fileno(): sys.stdout, process.stderr.fileno(): sys.stderr}
    try:
        if process.stdin is not None:
            try:
                process.stdin.write((stdin or "").encode())
                process.stdin.close()
            except BrokenPipeError:
                pass
        if _pump(process, outputs, ended):
            process.wait()
            print(
                "(the container has ended; kwok keeps the stream open, so %kubectl stops "
                "following here)",
                file=sys.stderr,
            )
            return 0
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        print("(kubectl stopped)", file=sys.stderr)
        return 130


def kubectl(line: str, cell: str | None = None) -> None:
    """The ``%kubectl`` line magic and ``%%kubectl`` cell magic (the body is stdin)."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        line = expand(line, shell.user_ns)
    args = kubectl_args(line)
    if isinstance(args, str):
        print(args, file=sys.stderr)
        return
    if not args:
        print(
            "%kubectl: give kubectl's arguments, e.g. `%kubectl get pods -n {ns}`", file=sys.stderr
        )
        return
    run(args, stdin=cell)


def register(shell: Any) -> None:
    """Register ``%kubectl`` and ``%%kubectl`` in an IPython shell (idempotent)."""
    from IPython.core.magic import no_var_expand

    no_var_expand(kubectl)  # the line is expanded by `expand`, which copes with JSON
    shell.register_magic_function(kubectl, magic_kind="line_cell", magic_name="kubectl")
