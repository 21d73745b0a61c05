"""Show an API refusal as a teaching moment rather than a crash."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import CourseError, ManifestError


def show_refusal(action: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """Run ``action(*args, **kwargs)``, which the API server should refuse, and return why.

    Example:
        >>> ch.show_refusal(ch.apply, "job-restart-always", ns)  # doctest: +SKIP
        The API server refused it, as expected: ... Unsupported value: "Always" ...

    Raises:
        CourseError: the API server accepted the change after all.
    """
    try:
        action(*args, **kwargs)
    except ManifestError as exc:
        print(f"The API server refused it, as expected:\n  {exc}")
        return str(exc)
    raise CourseError(
        "The API server accepted this, but the lesson expected a refusal. "
        "Is the cluster older or configured differently than the course expects?"
    )
