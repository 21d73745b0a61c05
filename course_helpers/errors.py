"""Errors the helpers raise, each with a message that says what to do next."""


class CourseError(Exception):
    """Base class for every error the course helpers raise on purpose."""


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
