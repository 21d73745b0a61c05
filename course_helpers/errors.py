"""Errors the helpers raise, each with a message that says what to do next."""

import os
from collections.abc import Callable


class CourseError(Exception):
    """Base class for every error the course helpers raise on purpose.

    In a notebook it shows as its message alone, red, without a Python
    traceback: the message says what happened and what to do, and a learner
    has nothing to gain from our call stack. ``COURSE_TRACEBACKS=1`` brings
    the traceback back (for the course's developers).
    """

    @property
    def _render_traceback_(self) -> Callable[[], list[str]]:
        # IPython shows what this returns in place of its traceback. With
        # COURSE_TRACEBACKS set, the attribute is missing and IPython shows the stack.
        if os.environ.get("COURSE_TRACEBACKS"):
            raise AttributeError("_render_traceback_")
        red, plain = "\x1b[0;31m", "\x1b[0m"
        return lambda: [f"{red}{type(self).__name__}{plain}: {self}"]


class BinaryError(CourseError):
    """A cluster binary is missing or is the wrong version."""


class BuildError(CourseError):
    """Building the cluster binaries failed (no Go toolchain, a failed ``go build``)."""


class ClusterError(CourseError):
    """The embedded cluster could not be started, stopped or reached."""


class PortInUseError(ClusterError):
    """A port the embedded cluster needs is taken by another process."""


class ContextRefusedError(CourseError):
    """The kubeconfig context does not look local and remote use was not allowed."""


class ManifestError(CourseError):
    """A manifest could not be found, parsed or accepted by the API server."""
