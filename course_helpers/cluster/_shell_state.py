r"""A simulated container shell's state: variables, files, the clock, output and redirections.

Example:
    >>> state = ShellState(hostname="web-0")
    >>> state.out.write("hi\n")
    >>> state.take_events()
    [Event(at=0.0, stream='stdout', text='hi', partial=False)]
"""

from __future__ import annotations

import datetime as dt
import posixpath
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from ._shell_parse import Unsupported

MAX_LINES = 20000
MAX_STEPS = 200000  # commands without the clock moving: a loop that never sleeps


#: Interpreter steps are generators: they yield when the clock moves, and return a value.
_Gen = Generator[None, None, Any]


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


class _Break(Exception):
    def __init__(self, levels: int, cont: bool) -> None:
        self.levels, self.cont = levels, cont


@dataclass(frozen=True)
class Event:
    """One line (or a last line without newline, ``partial``) a container printed."""

    at: float
    stream: str
    text: str
    partial: bool = False


class _Sink:
    def write(self, text: str) -> None:
        raise NotImplementedError


class _Null(_Sink):
    def write(self, text: str) -> None:
        pass


class _Capture(_Sink):
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)


class _File(_Sink):
    def __init__(self, shell: ShellState, path: str) -> None:
        self.shell, self.path = shell, path

    def write(self, text: str) -> None:
        self.shell.files[self.path] = self.shell.files.get(self.path, "") + text


class _Log(_Sink):
    def __init__(self, shell: ShellState, stream: str) -> None:
        self.shell, self.stream, self.partial = shell, stream, ""

    def write(self, text: str) -> None:
        *lines, self.partial = (self.partial + text).split("\n")
        for line in lines:
            self.shell.emit(Event(self.shell.clock, self.stream, line))

    def flush(self) -> None:
        if self.partial:
            self.shell.emit(Event(self.shell.clock, self.stream, self.partial, partial=True))
            self.partial = ""


class ShellState:
    """The state of one container's shell: variables, files, the clock, the output.

    Args:
        env: the container's environment variables.
        files: files left by an earlier run of the container (its emptyDir mounts).
        hostname: the pod's name (a container's hostname).
        started: when the container started (for ``date``).
        unknown_dirs: directories whose files the interpreter cannot know (the
            image's, other volumes'): reading a missing file there is unsupported.
        args: ``$0``, ``$1``... of ``sh -c script $0 $1 ...``.
    """

    def __init__(
        self,
        env: dict[str, str] | None = None,
        files: dict[str, str] | None = None,
        hostname: str = "localhost",
        started: dt.datetime | None = None,
        unknown_dirs: tuple[str, ...] = ("/etc", "/proc", "/sys", "/usr", "/bin", "/lib"),
        args: list[str] | None = None,
        workdir: str = "/",
    ) -> None:
        self.vars: dict[str, str] = {"HOSTNAME": hostname, "PWD": workdir, "HOME": "/root"}
        self.vars.update(env or {})
        self.files: dict[str, str] = dict(files or {})
        self.hostname = hostname
        self.started = started or dt.datetime.now(dt.UTC)
        self.unknown_dirs = unknown_dirs
        self.args = args or ["sh"]
        self.cwd = workdir
        self.clock = 0.0
        self.status = 0
        self.errexit = False
        self.nounset = False
        self._events: deque[Event] = deque()
        self._lines = 0
        self._steps = 0
        self._cond = 0
        self._substituted = False
        self.out: _Sink = _Log(self, "stdout")
        self.err: _Sink = _Log(self, "stderr")

    # ---- output and time
    def emit(self, event: Event) -> None:
        self._lines += 1
        if self._lines > MAX_LINES:
            raise Unsupported(f"more than {MAX_LINES} lines of output")
        self._events.append(event)

    def take_events(self) -> list[Event]:
        """Return and forget the events produced since the last call."""
        events = list(self._events)
        self._events.clear()
        return events

    def _tick(self) -> None:
        self._steps += 1
        if self._steps > MAX_STEPS:
            raise Unsupported("a loop that runs without ever sleeping")

    # ---- redirections and files
    def path(self, name: str) -> str:
        return posixpath.normpath(posixpath.join(self.cwd, name))

    def read_file(self, name: str) -> str | None:
        """Return a file's text, None when missing; Unsupported when it cannot be known."""
        path = self.path(name)
        if path in self.files:
            return self.files[path]
        if any(path == d or path.startswith(d.rstrip("/") + "/") for d in self.unknown_dirs):
            raise Unsupported(f"reading {path} (a file from the image or a volume)")
        return None
