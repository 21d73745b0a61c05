"""The record of one Lab 06 exercise (shared by the core and the stretch exercises)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Exercise:
    """One lab exercise: what to do, its check, two hints, its solution and why it is right.

    Attributes:
        hint: the first hint, a nudge.
        field: the second hint: the fields to change, and where.
        solution: the manifest of one correct answer (None for the clean-up).
        why: a sentence or two on why the solution is right.
        start: for a stretch exercise, the manifest of the version 1 to change.
    """

    number: int
    part: str
    task: str
    check: Callable[..., str]
    hint: str
    solution: str | None
    field: str = ""
    why: str = ""
    start: str | None = None
    """A manifest to apply first (version 1), for the stretch exercises."""

    @property
    def stretch(self) -> bool:
        """True for the stretch exercises (6 and up), beyond the lab's core five."""
        return self.number > 5
