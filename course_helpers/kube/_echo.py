"""The one switch for the kubectl commands the helpers print.

Every helper that stands for a kubectl command prints it (``kubectl apply ...``,
``kubectl rollout status ...``) through :func:`say`, so a learner can see the
command and run it in a terminal. :func:`echo` turns that on or off, for the
rest of the session or, as a context manager, for a block::

    ch.echo(False)                  # from now on, the helpers print nothing
    ch.echo(True)                   # and back
    with ch.echo(False):            # only inside the block
        ch.apply("job-single", ns)
"""

from __future__ import annotations

import threading
from types import TracebackType

_lock = threading.Lock()
_on = True


class Echo:
    """The state :func:`echo` set; as a context manager it restores the previous one on exit."""

    def __init__(self, on: bool, previous: bool) -> None:
        self.on = on
        self.previous = previous

    def __repr__(self) -> str:
        return f"<kubectl echo {'on' if self.on else 'off'}>"

    def __bool__(self) -> bool:
        return self.on

    def __enter__(self) -> Echo:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global _on
        with _lock:
            _on = self.previous


def echo(on: bool | None = None) -> Echo:
    """Turn printing the kubectl commands on or off; with no argument, say whether it is on.

    Args:
        on: True to print the commands, False for silence, None to leave it as it is.

    Returns:
        The new state; used in a ``with`` block, the old state comes back at its end.

    Example:
        >>> with echo(False):
        ...     say("kubectl get pods")
        >>> bool(echo())
        True
    """
    global _on
    with _lock:
        previous = _on
        if on is not None:
            _on = bool(on)
        return Echo(_on, previous)


def say(line: str) -> None:
    """Print ``line`` (a kubectl command, or what it answered) unless echo is off."""
    if _on:
        print(line, flush=True)
