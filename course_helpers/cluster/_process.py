"""Recorded process ids, checked before they are trusted or signalled.

A pid file can outlive its process (a reboot, a killed session), and the pid
can then belong to an unrelated program. A process counts as ours only while
it runs and its command line names the directory it was started from.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def is_ours(pid: int, marker: Path) -> bool:
    """Return True when ``pid`` runs, is not a zombie, and its command line mentions ``marker``."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z" and str(marker) in cmdline


def kill_if_ours(pid: int, marker: Path, signal: int = 9) -> bool:
    """Send ``signal`` to ``pid`` only if it is ours; return whether it was sent."""
    if not is_ours(pid, marker):
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal)
    return True
