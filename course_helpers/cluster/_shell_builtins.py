r"""The commands the shell subset knows: ``echo``, ``printf``, ``date``, ``sleep``, ``test``...

Each takes the shell's state and its arguments and returns the exit status (or,
for ``sleep``, a generator that moves the clock).

Example:
    >>> state = ShellState()
    >>> _BUILTINS["printf"](state, ["%03d|%s\n", "7", "x"])
    0
    >>> [e.text for e in state.take_events()]
    ['007|x']
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import re
from collections.abc import Callable

from ._shell_parse import Unsupported
from ._shell_state import ShellState, _Break, _Exit, _Gen, _Log

_Result = int | None | _Gen


def _echo(sh: ShellState, args: list[str]) -> int:
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


def _printf(sh: ShellState, args: list[str]) -> int:
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


def _date(sh: ShellState, args: list[str]) -> int:
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


def _sleep(sh: ShellState, args: list[str]) -> _Gen:
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


def _exit(sh: ShellState, args: list[str]) -> int:
    code = int(args[0]) if args and args[0].lstrip("-").isdigit() else sh.status
    raise _Exit(code & 255)


def _test(sh: ShellState, args: list[str], bracket: bool = False) -> int:
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


def _test_expr(sh: ShellState, a: list[str]) -> bool:
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


def _cat(sh: ShellState, args: list[str]) -> int:
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


def _seq(sh: ShellState, args: list[str]) -> int:
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


def _hostname(sh: ShellState, args: list[str]) -> int:
    if args:
        raise Unsupported(f"hostname {' '.join(args)}")
    sh.out.write(sh.hostname + "\n")
    return 0


def _printenv(sh: ShellState, args: list[str]) -> int:
    if not args:
        raise Unsupported("printenv without a name (the image's environment is unknown)")
    status = 0
    for name in args:
        if name in sh.vars:
            sh.out.write(sh.vars[name] + "\n")
        else:
            status = 1
    return status


def _export(sh: ShellState, args: list[str]) -> int:
    for arg in args:
        if "=" in arg:
            name, value = arg.split("=", 1)
            sh.vars[name] = value
    return 0


def _unset(sh: ShellState, args: list[str]) -> int:
    for name in args:
        sh.vars.pop(name, None)
    return 0


def _set(sh: ShellState, args: list[str]) -> int:
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


def _cd(sh: ShellState, args: list[str]) -> int:
    sh.cwd = sh.path(args[0]) if args else "/root"
    sh.vars["PWD"] = sh.cwd
    return 0


def _touch(sh: ShellState, args: list[str]) -> int:
    for name in args:
        sh.files.setdefault(sh.path(name), "")
    return 0


def _rm(sh: ShellState, args: list[str]) -> int:
    for name in args:
        if not name.startswith("-"):
            sh.files.pop(sh.path(name), None)
    return 0


def _loop_control(cont: bool) -> Callable[[ShellState, list[str]], int]:
    def control(sh: ShellState, args: list[str]) -> int:
        raise _Break(int(args[0]) if args else 1, cont)

    return control


_BUILTINS: dict[str, Callable[[ShellState, list[str]], _Result]] = {
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
