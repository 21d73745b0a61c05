"""Word expansion (quotes, ``$var``, ``${v:-x}``, ``$(...)``, ``$((...))``) and redirections.

Example:
    >>> sh = type("Shell", (Expander,), {})(env={"n": "2"})
    >>> [sh.expand(word) for word in ("$((n * 3))", "${m:-none}", "'a b'")]
    [['6'], ['none'], ['a b']]
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from typing import Any

from ._shell_parse import Unsupported, _Parser, _skip_double, _skip_parens
from ._shell_state import ShellState, _Capture, _Exit, _File, _Gen, _Null, _Sink


class Expander(ShellState):
    """A shell's expansion of words; ``run`` (command substitution) is the subclass's."""

    def run(self, node: Any) -> _Gen:
        """Run a parsed tree (in :class:`._shell.Shell`)."""
        raise NotImplementedError

    # ---- redirections (their targets are expanded words)
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
