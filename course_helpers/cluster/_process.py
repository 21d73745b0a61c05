"""Recorded process ids, checked before they are trusted or signalled.

A pid file can outlive its process (a reboot, a killed session), and the pid
can then belong to an unrelated program. A process counts as ours only while
it runs and its command line names the directory it was started from. Linux
answers from /proc; where there is no /proc (macOS), ``ps`` answers.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

PROC = Path("/proc")


def _state_and_command(pid: int) -> tuple[str, str] | None:
    """Return (state letter, command line) of ``pid``, or None when it does not run."""
    if (PROC / "self").exists():
        try:
            cmdline = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            stat = (PROC / str(pid) / "stat").read_text()
            return stat.rsplit(")", 1)[-1].split()[0], cmdline
        except (OSError, IndexError):
            return None
    try:
        out = subprocess.run(
            ["ps", "-ww", "-p", str(pid), "-o", "stat=", "-o", "command="],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    state, _, command = out.partition(" ")
    return (state[:1], command.strip()) if state else None


def is_ours(pid: int, marker: Path) -> bool:
    """Return True when ``pid`` runs, is not a zombie, and its command line mentions ``marker``."""
    found = _state_and_command(pid)
    return found is not None and found[0] != "Z" and str(marker) in found[1]


def kill_if_ours(pid: int, marker: Path, signal: int = 9) -> bool:
    """Send ``signal`` to ``pid`` only if it is ours; return whether it was sent."""
    if not is_ours(pid, marker):
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal)
    return True
