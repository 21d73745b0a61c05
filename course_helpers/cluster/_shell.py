"""A small, honest interpreter for what simulated containers print.

kwok runs no container, so ``kubectl logs`` has nothing to show unless someone
writes it. For the course's pods the text is in the pod's command: ``sh -c``
with ``echo``, ``printf``, ``date`` and ``sleep`` is the common case. This module
interprets that subset of the POSIX shell, in virtual time (``sleep 5`` moves a
clock, nothing waits), with no access to the host: files live in a dictionary,
and nothing is ever executed.

Interpreted: ``;``, newlines, ``&&``, ``||``, ``!``, ``if/elif/else``, ``for``,
``while``/``until``, ``{ }`` and ``( )`` groups, ``break``/``continue``;
variables, ``${v:-default}``, ``$(...)``, backquotes, ``$((arithmetic))``,
quotes; redirections ``>``, ``>>``, ``<``, ``2>&1``, ``>&2``, ``/dev/null``; the
commands ``echo``, ``printf``, ``date``, ``sleep``, ``exit``, ``true``,
``false``, ``:``, ``test``/``[``, ``cat``, ``hostname``, ``seq``, ``printenv``,
``export``, ``unset``, ``set -e``, ``cd``, ``mkdir``, ``touch``, ``rm``, ``read``.
Anything else (another program, a pipe, a glob, a file from the image or a
volume) stops the interpretation with :class:`Unsupported`, which says what it
could not interpret; the output up to that point stays true.

Files under the container's ``emptyDir`` mounts survive a restart of the
container in the same pod, as they do on a real node: the caller passes them on.

The parts: :mod:`._shell_parse` (lexer, parser, tree; why not bashlex),
:mod:`._shell_state` (variables, files, clock, output), :mod:`._shell_expand`
(word expansion, redirections), :mod:`._shell_builtins` (the commands) and here
:class:`Shell`, which runs the tree, and :class:`Run`, which drives it lazily.

Example:
    >>> run = Run(Shell(hostname="web-0"), "echo hello from $(hostname); sleep 2; echo bye")
    >>> [(e.at, e.text) for e in run.advance(10)]
    [(0.0, 'hello from web-0'), (2.0, 'bye')]
    >>> run.exit_code
    0
"""

from __future__ import annotations

from collections import deque
from typing import Any

from ._shell_builtins import _BUILTINS
from ._shell_expand import Expander
from ._shell_parse import (
    Unsupported,
    _AndOr,
    _For,
    _Group,
    _If,
    _List,
    _Not,
    _Parser,
    _Simple,
    _While,
)
from ._shell_state import MAX_LINES, MAX_STEPS, Event, _Break, _Exit, _Gen, _Log

__all__ = ["MAX_LINES", "MAX_STEPS", "Event", "Run", "Shell", "Unsupported"]


class Shell(Expander):
    """One container's shell: runs a parsed script over its state (see :class:`ShellState`)."""

    def main(self, script: str) -> _Gen:
        """Run ``script``; a generator that yields whenever the clock moves. Returns the code."""
        tree = _Parser(script).parse()
        try:
            yield from self.run_list(tree)
            code = self.status
        except _Exit as exc:
            code = exc.code
        except _Break:
            code = self.status
        for sink in (self.out, self.err):
            if isinstance(sink, _Log):
                sink.flush()
        return code

    # ---- the tree
    def run(self, node: Any) -> _Gen:
        self._tick()
        if isinstance(node, _List):
            yield from self.run_list(node)
        elif isinstance(node, _AndOr):
            yield from self.run_and_or(node)
        elif isinstance(node, _Not):
            self._cond += 1
            try:
                yield from self.run(node.cmd)
            finally:
                self._cond -= 1
            self.status = 0 if self.status else 1
        elif isinstance(node, _Simple):
            yield from self.run_simple(node)
        elif isinstance(node, _If):
            yield from self.run_if(node)
        elif isinstance(node, _For):
            yield from self.run_for(node)
        elif isinstance(node, _While):
            yield from self.run_while(node)
        elif isinstance(node, _Group):
            yield from self.run_group(node)
        else:  # pragma: no cover - the parser makes no other node
            raise Unsupported(type(node).__name__)

    def run_list(self, node: _List) -> _Gen:
        self.status = 0
        for item in node.items:
            yield from self.run(item)

    def run_and_or(self, node: _AndOr) -> _Gen:
        """Run ``a && b || c``; ``set -e`` looks only at the last command that ran."""
        ran_last = not node.rest
        if node.rest:
            self._cond += 1
            try:
                yield from self.run(node.first)
                for op, pipeline in node.rest[:-1]:
                    if (op == "&&") == (self.status == 0):
                        yield from self.run(pipeline)
            finally:
                self._cond -= 1
            op, pipeline = node.rest[-1]
            if (op == "&&") == (self.status == 0):
                ran_last = True
                yield from self.run(pipeline)
        else:
            yield from self.run(node.first)
        if self.errexit and ran_last and self.status != 0 and self._cond == 0:
            raise _Exit(self.status)

    def _condition(self, node: Any) -> _Gen:
        self._cond += 1
        try:
            yield from self.run(node)
        finally:
            self._cond -= 1

    def run_if(self, node: _If) -> _Gen:
        for cond, body in node.branches:
            yield from self._condition(cond)
            if self.status == 0:
                yield from self.run(body)
                return
        if node.otherwise is not None:
            yield from self.run(node.otherwise)
        else:
            self.status = 0

    def run_for(self, node: _For) -> _Gen:
        words = (
            [f for w in node.words for f in self.expand(w)]
            if node.words is not None
            else self.args[1:]
        )
        self.status = 0
        for value in words:
            self.vars[node.name] = value
            try:
                yield from self.run(node.body)
            except _Break as brk:
                if brk.levels > 1:
                    raise _Break(brk.levels - 1, brk.cont) from None
                if not brk.cont:
                    break

    def run_while(self, node: _While) -> _Gen:
        last = 0
        while True:
            yield from self._condition(node.cond)
            if (self.status == 0) == node.until:
                break
            try:
                yield from self.run(node.body)
                last = self.status
            except _Break as brk:
                if brk.levels > 1:
                    raise _Break(brk.levels - 1, brk.cont) from None
                if not brk.cont:
                    break
        self.status = last

    def run_group(self, node: _Group) -> _Gen:
        saved = (self.out, self.err)
        state = (dict(self.vars), self.cwd, self.errexit) if node.subshell else None
        try:
            self._redirect(node.redirs)
            try:
                yield from self.run(node.body)
            except _Exit as exc:
                if not node.subshell:
                    raise
                self.status = exc.code
        finally:
            self.out, self.err = saved
            if state is not None:
                self.vars, self.cwd, self.errexit = dict(state[0]), state[1], state[2]

    def run_simple(self, node: _Simple) -> _Gen:
        # $? keeps the previous command's status while the words expand.
        self._substituted = False
        assigned = {}
        for name, raw in node.assigns:
            value, _ = yield from self.expand_string_gen(raw)
            assigned[name] = value
        words: list[str] = []
        for raw in node.words:
            words += yield from self.expand_gen(raw)
        if not words:
            if not self._substituted:
                self.status = 0
            self.vars.update(assigned)
            saved = (self.out, self.err)
            self._redirect(node.redirs)
            self.out, self.err = saved
            return
        name, args = words[0], words[1:]
        builtin = _BUILTINS.get(name)
        if builtin is None:
            raise Unsupported(f"`{name}` (the simulated container runs no programs)")
        saved = (self.out, self.err)
        before = {key: self.vars.get(key) for key in assigned}
        self.vars.update(assigned)  # NAME=value cmd: for this command only
        try:
            self._redirect(node.redirs)
            result = builtin(self, args)
            if result is None or isinstance(result, int):
                self.status = result or 0
            else:
                self.status = yield from result
        finally:
            self.out, self.err = saved
            for key, old in before.items():
                if old is None:
                    self.vars.pop(key, None)
                else:
                    self.vars[key] = old


# --------------------------------------------------------------------------- driving


class Run:
    """One run of a container's script, advanced lazily in virtual seconds.

    ``advance(t)`` returns the events up to ``t`` seconds after the start; the
    script runs only as far as needed, so ``while true; do ...; sleep 5; done``
    costs what has been shown. ``done`` and ``exit_code`` tell how it ended;
    ``unsupported`` says what stopped the interpretation, if anything did.
    """

    def __init__(self, shell: Shell, script: str) -> None:
        self.shell = shell
        self.done = False
        self.exit_code: int | None = None
        self.unsupported: str | None = None
        self._buffer: deque[Event] = deque()
        try:
            self._gen: _Gen | None = shell.main(script)
        except Unsupported as exc:
            self._stop(str(exc))

    def _stop(self, what: str) -> None:
        self.done, self.unsupported, self._gen = True, what, None

    def next_at(self) -> float | None:
        """Return when the next event can come (seconds after the start), None when done."""
        if self._buffer:
            return self._buffer[0].at
        return None if self.done else self.shell.clock

    def advance(self, until: float) -> list[Event]:
        """Return the events at or before ``until`` seconds."""
        out: list[Event] = []
        while True:
            while self._buffer and self._buffer[0].at <= until:
                out.append(self._buffer.popleft())
            if self._buffer or self.done or self._gen is None or self.shell.clock > until:
                return out
            try:
                next(self._gen)
            except StopIteration as stop:
                self.done, self.exit_code = True, int(stop.value)
            except Unsupported as exc:
                self._stop(str(exc))
            except RecursionError:
                self._stop("a script nested too deeply")
            self._buffer.extend(self.shell.take_events())
