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

Example:
    >>> run = Run(Shell(hostname="web-0"), "echo hello from $(hostname); sleep 2; echo bye")
    >>> [(e.at, e.text) for e in run.advance(10)]
    [(0.0, 'hello from web-0'), (2.0, 'bye')]
    >>> run.exit_code
    0
"""

from __future__ import annotations

import ast
import datetime as dt
import math
import operator
import posixpath
import re
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

MAX_LINES = 20000
MAX_STEPS = 200000  # commands without the clock moving: a loop that never sleeps


#: Interpreter steps are generators: they yield when the clock moves, and return a value.
_Gen = Generator[None, None, Any]


class Unsupported(Exception):
    """The script uses something this interpreter does not interpret."""


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


# --------------------------------------------------------------------------- parsing

_OPERATORS = ("&&", "||", ";;", ";", "&", "|", "(", ")", "\n")
_RESERVED = {"if", "then", "elif", "else", "fi", "for", "in", "do", "done", "while", "until"}
_STOP = {"then", "elif", "else", "fi", "do", "done", "}", ")"}


@dataclass
class _Tok:
    kind: str  # "word", "op", "redir"
    value: str
    fd: int = -1


class _Lexer:
    def __init__(self, text: str) -> None:
        self.s, self.i = text, 0

    def tokens(self) -> list[_Tok]:
        out: list[_Tok] = []
        while True:
            tok = self._next()
            if tok is None:
                return out
            out.append(tok)

    def _next(self) -> _Tok | None:
        s = self.s
        while self.i < len(s):
            c = s[self.i]
            if c in " \t":
                self.i += 1
            elif s.startswith("\\\n", self.i):
                self.i += 2
            elif c == "#":
                while self.i < len(s) and s[self.i] != "\n":
                    self.i += 1
            else:
                break
        if self.i >= len(s):
            return None
        m = re.match(r"(\d?)(>>|>&|<&|>\||>|<)", s[self.i :])
        if m:
            self.i += m.end()
            op = m.group(2)
            fd = int(m.group(1)) if m.group(1) else (0 if op.startswith("<") else 1)
            return _Tok("redir", op, fd)
        if s.startswith("&>", self.i):
            self.i += 2
            return _Tok("redir", "&>", 1)
        for op in _OPERATORS:
            if s.startswith(op, self.i):
                self.i += len(op)
                return _Tok("op", op)
        return _Tok("word", self._word())

    def _word(self) -> str:
        s, start = self.s, self.i
        while self.i < len(s):
            c = s[self.i]
            if c in " \t\n;&|()<>":
                break
            if c == "\\":
                self.i += 2
            elif c == "'":
                end = s.find("'", self.i + 1)
                if end < 0:
                    raise Unsupported("an unterminated ' quote")
                self.i = end + 1
            elif c == '"':
                self.i = _skip_double(s, self.i + 1)
            elif c == "`":
                end = s.find("`", self.i + 1)
                if end < 0:
                    raise Unsupported("an unterminated ` quote")
                self.i = end + 1
            elif c == "$" and s.startswith("$(", self.i):
                self.i = _skip_parens(s, self.i + 1)
            elif c == "$" and s.startswith("${", self.i):
                end = s.find("}", self.i)
                if end < 0:
                    raise Unsupported("an unterminated ${")
                self.i = end + 1
            else:
                self.i += 1
        return s[start : self.i]


def _skip_double(s: str, i: int) -> int:
    """Return the index after the closing double quote, starting inside the quotes."""
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        elif s.startswith("$(", i):
            i = _skip_parens(s, i + 1)
        elif c == "`":
            i = s.index("`", i + 1) + 1
        else:
            i += 1
    raise Unsupported('an unterminated " quote')


def _skip_parens(s: str, i: int) -> int:
    """``s[i]`` is ``(``; return the index after its matching ``)``."""
    depth = 0
    while i < len(s):
        c = s[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        elif c == "'":
            i = s.index("'", i + 1)
        elif c == '"':
            i = _skip_double(s, i + 1) - 1
        elif c == "\\":
            i += 1
        i += 1
    raise Unsupported("an unterminated $(")


@dataclass
class _Simple:
    assigns: list[tuple[str, str]]
    words: list[str]
    redirs: list[tuple[int, str, str]]


@dataclass
class _If:
    branches: list[tuple[Any, Any]]
    otherwise: Any


@dataclass
class _For:
    name: str
    words: list[str] | None
    body: Any


@dataclass
class _While:
    cond: Any
    body: Any
    until: bool


@dataclass
class _Group:
    body: Any
    subshell: bool
    redirs: list[tuple[int, str, str]] = field(default_factory=list)


@dataclass
class _Not:
    cmd: Any


@dataclass
class _AndOr:
    first: Any
    rest: list[tuple[str, Any]]


@dataclass
class _List:
    items: list[Any]


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _Lexer(text).tokens()
        self.i = 0

    def parse(self) -> _List:
        body = self.list_()
        if self.i < len(self.toks):
            raise Unsupported(f"the shell syntax near `{self.toks[self.i].value}`")
        return body

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def is_word(self, *values: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "word" and tok.value in values

    def expect_word(self, value: str) -> None:
        if not self.is_word(value):
            got = self.peek()
            raise Unsupported(f"the shell syntax: expected `{value}`, got `{got and got.value}`")
        self.i += 1

    def skip_newlines(self) -> None:
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.value in ("\n", ";"):
            self.i += 1

    def list_(self) -> _List:
        items: list[Any] = []
        self.skip_newlines()
        while (tok := self.peek()) is not None:
            if (tok.kind == "word" and tok.value in _STOP) or (
                tok.kind == "op" and tok.value == ")"
            ):
                break
            items.append(self.and_or())
            tok = self.peek()
            if tok is not None and tok.kind == "op" and tok.value == "&":
                raise Unsupported("a background command (`&`)")
            self.skip_newlines()
        return _List(items)

    def and_or(self) -> _AndOr:
        first = self.pipeline()
        rest: list[tuple[str, Any]] = []
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.value in ("&&", "||"):
            self.i += 1
            while (t := self.peek()) is not None and t.kind == "op" and t.value == "\n":
                self.i += 1
            rest.append((tok.value, self.pipeline()))
        return _AndOr(first, rest)

    def pipeline(self) -> Any:
        negate = self.is_word("!")
        if negate:
            self.i += 1
        cmd = self.command()
        tok = self.peek()
        if tok is not None and tok.kind == "op" and tok.value == "|":
            raise Unsupported("a pipe (`|`)")
        return _Not(cmd) if negate else cmd

    def command(self) -> Any:
        tok = self.peek()
        if tok is None:
            raise Unsupported("the shell syntax: a command is missing")
        if tok.kind == "op" and tok.value == "(":
            self.i += 1
            body = self.list_()
            if not ((t := self.peek()) and t.kind == "op" and t.value == ")"):
                raise Unsupported("the shell syntax: `(` without `)`")
            self.i += 1
            return _Group(body, subshell=True, redirs=self.redirs())
        if tok.kind == "word":
            if tok.value == "{":
                self.i += 1
                body = self.list_()
                self.expect_word("}")
                return _Group(body, subshell=False, redirs=self.redirs())
            if tok.value == "if":
                return self.if_()
            if tok.value == "for":
                return self.for_()
            if tok.value in ("while", "until"):
                self.i += 1
                cond = self.list_()
                self.expect_word("do")
                body = self.list_()
                self.expect_word("done")
                return _While(cond, body, until=tok.value == "until")
            if re.match(r"^[A-Za-z_][A-Za-z0-9_]*\(\)$", tok.value) or (
                self.i + 1 < len(self.toks) and self.toks[self.i + 1].value == "("
            ):
                raise Unsupported("a shell function")
        return self.simple()

    def redirs(self) -> list[tuple[int, str, str]]:
        out = []
        while (tok := self.peek()) is not None and tok.kind == "redir":
            self.i += 1
            target = self.peek()
            if target is None or target.kind != "word":
                raise Unsupported("the shell syntax: a redirection without a target")
            self.i += 1
            out.append((tok.fd, tok.value, target.value))
        return out

    def if_(self) -> _If:
        branches = []
        self.expect_word("if")
        while True:
            cond = self.list_()
            self.expect_word("then")
            branches.append((cond, self.list_()))
            if self.is_word("elif"):
                self.i += 1
                continue
            break
        otherwise = None
        if self.is_word("else"):
            self.i += 1
            otherwise = self.list_()
        self.expect_word("fi")
        return _If(branches, otherwise)

    def for_(self) -> _For:
        self.expect_word("for")
        tok = self.peek()
        if tok is None or tok.kind != "word":
            raise Unsupported("the shell syntax after `for`")
        self.i += 1
        words: list[str] | None = None
        while (t := self.peek()) is not None and t.kind == "op" and t.value == "\n":
            self.i += 1
        if self.is_word("in"):
            self.i += 1
            words = []
            while (t := self.peek()) is not None and t.kind == "word":
                words.append(t.value)
                self.i += 1
        self.skip_newlines()
        self.expect_word("do")
        body = self.list_()
        self.expect_word("done")
        return _For(tok.value, words, body)

    def simple(self) -> _Simple:
        node = _Simple([], [], [])
        while (tok := self.peek()) is not None:
            if tok.kind == "redir":
                node.redirs += self.redirs()
            elif tok.kind == "word" and not (node.words == [] and tok.value in _STOP):
                if not node.words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", tok.value):
                    name, value = tok.value.split("=", 1)
                    node.assigns.append((name, value))
                else:
                    node.words.append(tok.value)
                self.i += 1
            else:
                break
        if not node.words and not node.assigns and not node.redirs:
            raise Unsupported(f"the shell syntax near `{tok.value if tok else 'the end'}`")
        return node


# --------------------------------------------------------------------------- running


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
    def __init__(self, shell: Shell, path: str) -> None:
        self.shell, self.path = shell, path

    def write(self, text: str) -> None:
        self.shell.files[self.path] = self.shell.files.get(self.path, "") + text


class _Log(_Sink):
    def __init__(self, shell: Shell, stream: str) -> None:
        self.shell, self.stream, self.partial = shell, stream, ""

    def write(self, text: str) -> None:
        *lines, self.partial = (self.partial + text).split("\n")
        for line in lines:
            self.shell.emit(Event(self.shell.clock, self.stream, line))

    def flush(self) -> None:
        if self.partial:
            self.shell.emit(Event(self.shell.clock, self.stream, self.partial, partial=True))
            self.partial = ""


class Shell:
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

    # ---- redirections and files
    def path(self, name: str) -> str:
        return posixpath.normpath(posixpath.join(self.cwd, name))

    def _redirect(self, redirs: list[tuple[int, str, str]]) -> None:
        for fd, op, raw in redirs:
            (target,) = self.expand(raw) or [""]
            if op in (">&", "<&") or (op == "&>"):
                if op == "&>":
                    sink = self._file_sink(target, append=False)
                    self.out = self.err = sink
                    continue
                if target not in ("1", "2"):
                    raise Unsupported(f"the redirection {fd}{op}{target}")
                sink = self.out if target == "1" else self.err
            elif op == "<":
                if target != "/dev/null" and self.path(target) not in self.files:
                    raise Unsupported(f"reading standard input from {target}")
                continue
            else:
                sink = self._file_sink(target, append=op == ">>")
            if fd == 1:
                self.out = sink
            elif fd == 2:
                self.err = sink
            else:
                raise Unsupported(f"the file descriptor {fd}")

    def _file_sink(self, target: str, append: bool) -> _Sink:
        if target == "/dev/null":
            return _Null()
        if target in ("/dev/stdout", "/proc/self/fd/1"):
            return self.out
        if target in ("/dev/stderr", "/proc/self/fd/2"):
            return self.err
        path = self.path(target)
        if not append:
            self.files[path] = ""
        return _File(self, path)

    def read_file(self, name: str) -> str | None:
        """Return a file's text, None when missing; Unsupported when it cannot be known."""
        path = self.path(name)
        if path in self.files:
            return self.files[path]
        if any(path == d or path.startswith(d.rstrip("/") + "/") for d in self.unknown_dirs):
            raise Unsupported(f"reading {path} (a file from the image or a volume)")
        return None

    # ---- expansion
    def expand(self, raw: str) -> list[str]:
        """Expand a word outside a running script (no command substitution clock)."""
        fields: list[str] = _drain(self.expand_gen(raw))
        return fields

    def expand_gen(self, raw: str) -> _Gen:
        fields: list[str] = []
        current: list[str] = []
        has = False  # the current field exists (a quote, even empty, makes it exist)
        for text, quoted in (yield from self._pieces(raw)):
            if quoted:
                current.append(text)
                has = True
                continue
            parts = re.split(r"[ \t\n]+", text)
            for j, part in enumerate(parts):
                if j > 0:
                    if has or current:
                        fields.append("".join(current))
                    current, has = [], False
                if part:
                    current.append(part)
                    has = True
        if has or current:
            fields.append("".join(current))
        return fields

    def expand_string_gen(self, raw: str) -> _Gen:
        pieces = yield from self._pieces(raw, assignment=True)
        return "".join(t for t, _ in pieces), self.status

    def _pieces(self, raw: str, assignment: bool = False) -> _Gen:
        """Split a word into (text, quoted) pieces, expanding $ and quotes."""
        out: list[tuple[str, bool]] = []
        i, s = 0, raw
        literal: list[str] = []

        def flush(quoted: bool = False) -> None:
            if literal:
                out.append(("".join(literal), True))
                literal.clear()

        while i < len(s):
            c = s[i]
            if c == "\\":
                literal.append(s[i + 1 : i + 2])
                i += 2
            elif c == "'":
                end = s.index("'", i + 1)
                flush()
                out.append((s[i + 1 : end], True))
                i = end + 1
            elif c == '"':
                end = _skip_double(s, i + 1)
                flush()
                inner = yield from self._double(s[i + 1 : end - 1])
                out.append((inner, True))
                i = end
            elif c in "$`":
                flush()
                text, i = yield from self._dollar(s, i)
                out.append((text, assignment))
            elif c in "*?[" and not assignment and s != "[":
                raise Unsupported(f"the glob in `{raw}`")
            else:
                literal.append(c)
                i += 1
        flush()
        return out

    def _double(self, s: str) -> _Gen:
        parts: list[str] = []
        i = 0
        while i < len(s):
            c = s[i]
            if c == "\\" and i + 1 < len(s) and s[i + 1] in '$`"\\\n':
                parts.append(s[i + 1] if s[i + 1] != "\n" else "")
                i += 2
            elif c in "$`":
                text, i = yield from self._dollar(s, i)
                parts.append(text)
            else:
                parts.append(c)
                i += 1
        return "".join(parts)

    def _dollar(self, s: str, i: int) -> _Gen:
        if s[i] == "`":
            end = s.index("`", i + 1)
            text = yield from self.substitute(s[i + 1 : end])
            return text, end + 1
        if s.startswith("$((", i):
            end = _skip_parens(s, i + 1)
            inner = s[i + 3 : end - 2]
            expanded = yield from self._double(inner)
            return str(self.arith(expanded)), end
        if s.startswith("$(", i):
            end = _skip_parens(s, i + 1)
            text = yield from self.substitute(s[i + 2 : end - 1])
            return text, end
        if s.startswith("${", i):
            end = s.index("}", i)
            inner = s[i + 2 : end]
            m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*|[0-9?#$])(:?[-=+])?(.*)$", inner, re.S)
            if not m:
                raise Unsupported(f"the expansion ${{{inner}}}")
            value = self.var(m.group(1), strict=not m.group(2))
            op, word = m.group(2), m.group(3)
            if op:
                empty = value is None or (op.startswith(":") and value == "")
                if op.endswith("-") and empty:
                    value = yield from self._double(word)
                elif op.endswith("=") and empty:
                    value = yield from self._double(word)
                    self.vars[m.group(1)] = value
                elif op.endswith("+"):
                    value = "" if empty else (yield from self._double(word))
            return value or "", end + 1
        m = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*|[0-9?#$@*])", s[i:])
        if not m:
            return "$", i + 1
        return self.var(m.group(1)) or "", i + m.end()

    def var(self, name: str, strict: bool = True) -> str | None:
        if name == "?":
            return str(self.status)
        if name == "$":
            return "1"
        if name == "#":
            return str(len(self.args) - 1)
        if name in ("@", "*"):
            return " ".join(self.args[1:])
        if name.isdigit():
            n = int(name)
            return self.args[n] if n < len(self.args) else ("" if not strict else None)
        value = self.vars.get(name)
        if value is None and self.nounset and strict:
            self.err.write(f"sh: {name}: parameter not set\n")
            raise _Exit(2)
        return value

    def substitute(self, script: str) -> _Gen:
        """Run ``$(script)`` and return its output without trailing newlines."""
        saved = (self.out, self.vars.copy(), self.cwd)
        capture = _Capture()
        self.out = capture
        try:
            yield from self.run(_Parser(script).parse())
        except _Exit as exc:
            self.status = exc.code
        finally:
            self.out = saved[0]
            self.vars, self.cwd = saved[1], saved[2]
            self._substituted = True  # x=$(false) leaves $? at 1
        return "".join(capture.parts).rstrip("\n")

    def arith(self, text: str) -> int:
        """Evaluate shell arithmetic (integers, C operators, variables by name)."""
        expr = text.replace("&&", " and ").replace("||", " or ")
        expr = re.sub(r"!(?!=)", " not ", expr)
        expr = re.sub(r"(?<![<>=!])=(?!=)", "==", expr) if "=" in expr else expr
        if re.search(r"\+\+|--|==.*==", text):
            raise Unsupported(f"the arithmetic $(({text}))")
        try:
            tree = ast.parse(expr.strip() or "0", mode="eval")
        except SyntaxError:
            raise Unsupported(f"the arithmetic $(({text}))") from None
        return int(self._eval(tree.body, text))

    def _eval(self, node: ast.AST, text: str) -> int:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return int(node.value)
        if isinstance(node, ast.Name):
            raw = self.vars.get(node.id, "0") or "0"
            try:
                return int(raw.strip())
            except ValueError:
                raise Unsupported(f"the arithmetic on {node.id}={raw!r}") from None
        if isinstance(node, ast.UnaryOp):
            value = self._eval(node.operand, text)
            if isinstance(node.op, ast.USub):
                return -value
            if isinstance(node.op, ast.UAdd):
                return value
            if isinstance(node.op, ast.Not):
                return int(not value)
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
            left, right = self._eval(node.left, text), self._eval(node.right, text)
            if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and right == 0:
                self.err.write(f"sh: arithmetic syntax error: divide by zero in $(({text}))\n")
                raise _Exit(2)
            return _ARITH[type(node.op)](left, right)
        if isinstance(node, ast.BoolOp):
            values = [self._eval(v, text) for v in node.values]
            return int(all(values) if isinstance(node.op, ast.And) else any(values))
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMP:
            left, right = self._eval(node.left, text), self._eval(node.comparators[0], text)
            return int(_CMP[type(node.ops[0])](left, right))
        raise Unsupported(f"the arithmetic $(({text}))")


def _cdiv(a: int, b: int) -> int:
    return int(a / b) if abs(a) < 2**52 and abs(b) < 2**52 else a // b


def _cmod(a: int, b: int) -> int:
    return a - b * _cdiv(a, b)


_ARITH: dict[type, Callable[[int, int], int]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: _cdiv,
    ast.Mod: _cmod,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
}
_CMP: dict[type, Callable[[int, int], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


def _drain(gen: _Gen) -> Any:
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        return stop.value


# --------------------------------------------------------------------------- commands

_Result = int | None | _Gen


def _echo(sh: Shell, args: list[str]) -> int:
    newline, escapes = True, False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        flags = args.pop(0)
        newline = newline and "n" not in flags
        escapes = "e" in flags if ("e" in flags or "E" in flags) else escapes
    text = " ".join(args)
    if escapes:
        text, stop = _escapes(text)
        newline = newline and not stop
    sh.out.write(text + ("\n" if newline else ""))
    return 0


_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", "a": "\a", "b": "\b", "r": "\r", "v": "\v", "f": "\f"}


def _escapes(text: str) -> tuple[str, bool]:
    """Interpret backslash escapes; the bool says a ``\\c`` stopped the output."""  # noqa: D301
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n == "c":
                return "".join(out), True
            if n in _ESCAPES:
                out.append(_ESCAPES[n])
                i += 2
                continue
            if n == "0" or n.isdigit():
                m = re.match(r"0?([0-7]{1,3})", text[i + 1 :])
                if m:
                    out.append(chr(int(m.group(1), 8)))
                    i += 1 + m.end()
                    continue
        out.append(c)
        i += 1
    return "".join(out), False


def _printf(sh: Shell, args: list[str]) -> int:
    if not args:
        sh.err.write("printf: usage: printf FORMAT [ARGUMENT...]\n")
        return 2
    fmt, rest = args[0], args[1:]
    spec = re.compile(r"%([-+ #0]*)(\d+|\*)?(?:\.(\d+|\*))?([sdiuxXocfeEgGb%])")
    status = 0
    while True:
        used = 0
        out: list[str] = []
        pos = 0
        for m in spec.finditer(fmt):
            out.append(_escapes(fmt[pos : m.start()])[0])
            pos = m.end()
            flags, width, precision, conv = m.groups()
            if conv == "%":
                out.append("%")
                continue
            if "*" in (width, precision):
                raise Unsupported("printf with * widths")
            arg = rest[used] if used < len(rest) else None
            used += 1
            pyfmt = "%" + flags + (width or "") + (f".{precision}" if precision else "")
            if conv in "sb":
                value = arg or ""
                if conv == "b":
                    value = _escapes(value)[0]
                out.append((pyfmt + "s") % value)
            elif conv == "c":
                out.append((pyfmt + "s") % (arg or "")[:1])
            else:
                number: float | int
                try:
                    number = float(arg or "0") if conv in "feEgG" else _integer(arg or "0")
                except ValueError:
                    sh.err.write(f"printf: invalid number '{arg}'\n")
                    number, status = 0, 1
                conv = "d" if conv in "iu" else conv
                out.append((pyfmt + conv) % number)
        out.append(_escapes(fmt[pos:])[0])
        sh.out.write("".join(out))
        rest = rest[used:]
        if not rest or used == 0:
            return status


def _integer(text: str) -> int:
    try:
        return int(text.strip(), 10)
    except ValueError:
        return int(text.strip(), 0)


def _date(sh: Shell, args: list[str]) -> int:
    tz = sh.vars.get("TZ", "UTC")
    if tz not in ("UTC", "UTC0", "Etc/UTC", ""):
        raise Unsupported(f"date with TZ={tz}")
    now = sh.started + dt.timedelta(seconds=sh.clock)
    fmt = "%a %b %e %H:%M:%S UTC %Y"
    for arg in args:
        if arg in ("-u", "--utc"):
            continue
        if arg.startswith("+"):
            fmt = arg[1:]
        elif arg in ("-I", "-Idate", "--iso-8601", "--iso-8601=date"):
            fmt = "%Y-%m-%d"
        elif arg in ("-Iseconds", "--iso-8601=seconds"):
            fmt = "%Y-%m-%dT%H:%M:%S+00:00"
        elif arg in ("-R", "--rfc-2822"):
            fmt = "%a, %d %b %Y %H:%M:%S +0000"
        else:
            raise Unsupported(f"date {arg}")
    fmt = fmt.replace("%s", str(int(now.timestamp()))).replace("%N", f"{now.microsecond:06d}000")
    sh.out.write(now.strftime(fmt) + "\n")
    return 0


def _sleep(sh: Shell, args: list[str]) -> _Gen:
    total = 0.0
    units = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
    for arg in args:
        if arg in ("inf", "infinity"):
            total = math.inf
            continue
        m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", arg)
        if not m:
            sh.err.write(f"sleep: invalid number '{arg}'\n")
            return 1
        total += float(m.group(1)) * units[m.group(2)]
    if not args:
        sh.err.write("sleep: missing operand\n")
        return 1
    for sink in (sh.out, sh.err):
        if isinstance(sink, _Log) and sink.partial and math.isinf(total):
            sink.flush()
    sh.clock += total
    sh._steps = 0
    yield
    return 0


def _exit(sh: Shell, args: list[str]) -> int:
    code = int(args[0]) if args and args[0].lstrip("-").isdigit() else sh.status
    raise _Exit(code & 255)


def _test(sh: Shell, args: list[str], bracket: bool = False) -> int:
    if bracket:
        if not args or args[-1] != "]":
            sh.err.write("[: missing ]\n")
            return 2
        args = args[:-1]
    try:
        return 0 if _test_expr(sh, args) else 1
    except ValueError as exc:
        sh.err.write(f"sh: {exc}\n")
        return 2


def _test_expr(sh: Shell, a: list[str]) -> bool:
    if not a:
        return False
    if a[0] == "!":
        return not _test_expr(sh, a[1:])
    for i, word in enumerate(a):
        if word in ("-a", "-o") and 0 < i < len(a) - 1:
            left, right = _test_expr(sh, a[:i]), _test_expr(sh, a[i + 1 :])
            return (left and right) if word == "-a" else (left or right)
    if len(a) == 1:
        return a[0] != ""
    if len(a) == 2:
        op, x = a
        if op == "-n":
            return x != ""
        if op == "-z":
            return x == ""
        if op in ("-f", "-e", "-s", "-r"):
            text = sh.read_file(x)
            return text is not None and (op != "-s" or text != "")
        if op == "-d":
            path = sh.path(x)
            return any(f.startswith(path.rstrip("/") + "/") for f in sh.files) or path == "/"
        raise Unsupported(f"test {op}")
    if len(a) == 3:
        x, op, y = a
        if op in ("=", "=="):
            return x == y
        if op == "!=":
            return x != y
        if op in _INT_TESTS:
            try:
                lhs, rhs = int(x.strip()), int(y.strip())
            except ValueError:
                bad = x if not x.strip().lstrip("-").isdigit() else y
                raise ValueError(f"invalid number '{bad}'") from None
            return _INT_TESTS[op](lhs, rhs)
    raise Unsupported(f"test {' '.join(a)}")


_INT_TESTS: dict[str, Callable[[int, int], bool]] = {
    "-eq": operator.eq,
    "-ne": operator.ne,
    "-lt": operator.lt,
    "-le": operator.le,
    "-gt": operator.gt,
    "-ge": operator.ge,
}


def _cat(sh: Shell, args: list[str]) -> int:
    status = 0
    for name in args:
        if name == "-":
            continue
        text = sh.read_file(name)
        if text is None:
            sh.err.write(f"cat: can't open '{name}': No such file or directory\n")
            status = 1
        else:
            sh.out.write(text)
    return status


def _seq(sh: Shell, args: list[str]) -> int:
    try:
        nums = [int(a) for a in args]
    except ValueError:
        raise Unsupported(f"seq {' '.join(args)}") from None
    first, step, last = {1: (1, 1, nums[0]), 2: (nums[0], 1, nums[-1])}.get(
        len(nums), (nums[0], nums[1], nums[-1]) if len(nums) == 3 else (0, 0, 0)
    )
    if not nums or len(nums) > 3 or step == 0:
        raise Unsupported(f"seq {' '.join(args)}")
    value = first
    while (step > 0 and value <= last) or (step < 0 and value >= last):
        sh.out.write(f"{value}\n")
        value += step
    return 0


def _hostname(sh: Shell, args: list[str]) -> int:
    if args:
        raise Unsupported(f"hostname {' '.join(args)}")
    sh.out.write(sh.hostname + "\n")
    return 0


def _printenv(sh: Shell, args: list[str]) -> int:
    if not args:
        raise Unsupported("printenv without a name (the image's environment is unknown)")
    status = 0
    for name in args:
        if name in sh.vars:
            sh.out.write(sh.vars[name] + "\n")
        else:
            status = 1
    return status


def _export(sh: Shell, args: list[str]) -> int:
    for arg in args:
        if "=" in arg:
            name, value = arg.split("=", 1)
            sh.vars[name] = value
    return 0


def _unset(sh: Shell, args: list[str]) -> int:
    for name in args:
        sh.vars.pop(name, None)
    return 0


def _set(sh: Shell, args: list[str]) -> int:
    for arg in args:
        m = re.fullmatch(r"([-+])([eu]+)", arg)
        if arg in ("-o", "pipefail") or (m is None and arg not in ("--",)):
            if arg in ("-o", "pipefail"):
                continue
            raise Unsupported(f"set {arg}")
        if m:
            on = m.group(1) == "-"
            if "e" in m.group(2):
                sh.errexit = on
            if "u" in m.group(2):
                sh.nounset = on
    return 0


def _cd(sh: Shell, args: list[str]) -> int:
    sh.cwd = sh.path(args[0]) if args else "/root"
    sh.vars["PWD"] = sh.cwd
    return 0


def _touch(sh: Shell, args: list[str]) -> int:
    for name in args:
        sh.files.setdefault(sh.path(name), "")
    return 0


def _rm(sh: Shell, args: list[str]) -> int:
    for name in args:
        if not name.startswith("-"):
            sh.files.pop(sh.path(name), None)
    return 0


def _loop_control(cont: bool) -> Callable[[Shell, list[str]], int]:
    def control(sh: Shell, args: list[str]) -> int:
        raise _Break(int(args[0]) if args else 1, cont)

    return control


_BUILTINS: dict[str, Callable[[Shell, list[str]], _Result]] = {
    "echo": _echo,
    "printf": _printf,
    "date": _date,
    "sleep": _sleep,
    "exit": _exit,
    "true": lambda sh, a: 0,
    ":": lambda sh, a: 0,
    "false": lambda sh, a: 1,
    "test": _test,
    "[": lambda sh, a: _test(sh, a, bracket=True),
    "cat": _cat,
    "seq": _seq,
    "hostname": _hostname,
    "printenv": _printenv,
    "export": _export,
    "unset": _unset,
    "set": _set,
    "cd": _cd,
    "mkdir": lambda sh, a: 0,
    "touch": _touch,
    "rm": _rm,
    "read": lambda sh, a: 1,  # a container's standard input is empty
    "break": _loop_control(False),
    "continue": _loop_control(True),
}


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
