"""The shell subset's lexer, parser and syntax tree (see :mod:`._shell` for the subset).

Our own, not bashlex (a port of bash's parser): bashlex is GPLv3+ where this
course is Apache-2.0, and it raises NotImplementedError on ``$((...))``, which the
course's own job-single.yaml uses; walking its generic nodes would not be shorter.

Example:
    >>> tree = _Parser("echo hi && sleep 1").parse()
    >>> [type(item).__name__ for item in tree.items]
    ['_AndOr']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


class Unsupported(Exception):
    """The script uses something this interpreter does not interpret."""


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
