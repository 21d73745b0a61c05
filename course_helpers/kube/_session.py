"""The session: choose the cluster the course runs on, say what it can do, hold its client.

The rule: a context the user chose (``connect(context=...)``, ``COURSE_CONTEXT``,
or the kubeconfig's current context) is used when it is local and reachable;
otherwise the embedded cluster is started or reused. A context that does not
look local is refused unless ``COURSE_ALLOW_REMOTE=1``, so a demo never lands
on a shared or production cluster by accident.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from urllib.parse import urlparse

from kubernetes import client as k8s
from kubernetes import config as k8s_config

from ..cluster import _embedded
from ..cluster._binaries import Log
from ..errors import ClusterError, ContextRefusedError
from . import _kubectl
from ._waiting import nodes_ready

LOCAL_PREFIXES = ("kind-", "k3d-", "kwok-")
LOCAL_NAMES = ("minikube", "docker-desktop", "rancher-desktop", "orbstack", "colima")


@dataclass
class ClusterInfo:
    """What the course is connected to, and what that cluster can do.

    Example:
        >>> info = ch.connect()  # doctest: +SKIP
        >>> info.simulated, info.can_add_nodes  # doctest: +SKIP
        (True, True)
    """

    context: str
    server: str
    version: str
    embedded: bool
    simulated: bool
    can_add_nodes: bool
    dns: str
    nodes: list[str] = field(default_factory=list)
    dns_port: int | None = None
    #: The time zone CronJob schedules without ``spec.timeZone`` are read in: that of
    #: kube-controller-manager ("UTC" on the embedded cluster); None when it is the
    #: cluster's own local zone, which the course cannot know (your own cluster).
    cronjob_zone: str | None = None

    def _rows(self) -> list[tuple[str, str]]:
        return [
            ("context", self.context),
            ("API server", self.server),
            ("Kubernetes", self.version),
            ("cluster", "embedded (kwok)" if self.embedded else "your own"),
            ("nodes and pods", "simulated by kwok" if self.simulated else "real"),
            ("can add/remove nodes", "yes" if self.can_add_nodes else "no"),
            ("per-pod DNS", self.dns),
            (
                "CronJob time zone",
                self.cronjob_zone or "the controller-manager's local zone (unknown here)",
            ),
            ("nodes", ", ".join(self.nodes)),
        ]

    def __str__(self) -> str:
        return "\n".join(f"{k:>20}: {v}" for k, v in self._rows())

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{k}</th><td>{v}</td></tr>" for k, v in self._rows()
        )
        return f"<table>{rows}</table>"


def looks_local(context: str, server: str) -> bool:
    """Return True for a context that names a local cluster tool or talks to loopback.

    Example:
        >>> looks_local("kind-kind", "https://127.0.0.1:6443")
        True
        >>> looks_local("prod", "https://10.1.2.3:6443")
        False
    """
    if context.startswith(LOCAL_PREFIXES) or context in LOCAL_NAMES:
        return True
    host = urlparse(server).hostname or ""
    if host in ("localhost", "host.docker.internal"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _user_kubeconfig() -> str:
    """Return the user's kubeconfig path(s), read now (not the one-context copy for kubectl)."""
    return _kubectl.user_kubeconfig()


def _user_contexts() -> tuple[list[str], str | None]:
    try:
        contexts, current = k8s_config.list_kube_config_contexts(config_file=_user_kubeconfig())
    except (k8s_config.ConfigException, OSError, TypeError):
        return [], None
    names = [c["name"] for c in contexts]
    return names, current["name"] if current else None


def client_for(config_file: str, context: str) -> k8s.ApiClient:
    """Return an API client for ``context``, with room for many live widgets' watches."""
    configuration = k8s.Configuration()
    k8s_config.load_kube_config(
        config_file=config_file, context=context, client_configuration=configuration
    )
    configuration.connection_pool_maxsize = 32
    return k8s.ApiClient(configuration)


def _server_of(context: str) -> str:
    api = client_for(_user_kubeconfig(), context)
    try:
        return str(api.configuration.host)
    finally:
        api.close()


def _reachable(api: k8s.ApiClient) -> str | None:
    """Return the server's gitVersion, or None when it does not answer in a few seconds."""
    try:
        return str(k8s.VersionApi(api).get_code(_request_timeout=5).git_version)
    except Exception:
        return None


def _remote_allowed() -> bool:
    return os.environ.get("COURSE_ALLOW_REMOTE", "") in ("1", "true", "yes")


def _use_context(context: str, explicit: bool) -> k8s.ApiClient | None:
    """Return a client for ``context``, None to fall back to the embedded cluster."""
    server = _server_of(context)
    if not looks_local(context, server) and not _remote_allowed():
        message = (
            f"The kubeconfig context {context!r} ({server}) does not look like a local "
            "cluster, so the course will not create and delete objects there. "
            "To use it anyway, set COURSE_ALLOW_REMOTE=1."
        )
        if explicit:
            raise ContextRefusedError(message)
        print(f"{message} Using the embedded cluster instead.")
        return None
    api = client_for(_user_kubeconfig(), context)
    if _reachable(api) is None:
        api.close()
        message = (
            f"The context {context!r} ({server}) is not reachable: is that cluster running? "
            "(kind: `kind get clusters`; minikube: `minikube status`)."
        )
        if explicit:
            raise ClusterError(message + " Or unset COURSE_CONTEXT to use the embedded cluster.")
        print(f"{message} Using the embedded cluster instead.")
        return None
    return api


def connect(context: str | None = None, nodes: int = 3, log: Log = print) -> ClusterInfo:
    """Connect the helpers to a cluster and describe it.

    Args:
        context: a kubeconfig context to use; defaults to ``COURSE_CONTEXT``, then
            the kubeconfig's current context. ``COURSE_CLUSTER=embedded`` skips
            the kubeconfig and always uses the embedded cluster.
        nodes: how many workers the embedded cluster starts with.
        log: where progress messages go.

    Example:
        >>> import course_helpers as ch
        >>> info = ch.connect()  # doctest: +SKIP

    Raises:
        ContextRefusedError: an explicitly chosen context is not local.
        ClusterError: an explicitly chosen context is unreachable, or the
            embedded cluster could not start.
        BinaryError: the embedded cluster's binaries are not built; connecting
            never builds them (the message says how: `course-cluster install`,
            or on Binder, rebuilding the image).
    """
    explicit = context or os.environ.get("COURSE_CONTEXT")
    api: k8s.ApiClient | None = None
    chosen = ""
    if os.environ.get("COURSE_CLUSTER") != "embedded":
        names, current = _user_contexts()
        chosen = explicit or current or ""
        if explicit and explicit not in names:
            raise ClusterError(
                f"No kubeconfig context called {explicit!r}. Known contexts: "
                f"{', '.join(names) or 'none'}."
            )
        if chosen and chosen != _embedded.CONTEXT:
            api = _use_context(chosen, explicit=bool(explicit))
    embedded = api is None
    dns_port = None
    if embedded:
        state = _embedded.up(nodes=nodes, log=log, wait_ready=nodes_ready)
        api = client_for(state.kubeconfig, _embedded.CONTEXT)
        chosen, dns_port = _embedded.CONTEXT, state.dns_port
    assert api is not None
    node_list = k8s.CoreV1Api(api).list_node(_request_timeout=10).items
    simulated = any(
        (n.metadata.annotations or {}).get("kwok.x-k8s.io/node") == "fake" for n in node_list
    )
    info = ClusterInfo(
        context=chosen,
        server=str(api.configuration.host),
        version=_reachable(api) or "unknown",
        embedded=embedded,
        simulated=simulated,
        can_add_nodes=embedded,
        dns=(
            f"local CoreDNS on 127.0.0.1:{dns_port}"
            if embedded
            else "looked up from inside a pod in the cluster"
        ),
        nodes=sorted(n.metadata.name for n in node_list),
        dns_port=dns_port,
        cronjob_zone=_embedded.cronjob_zone() if embedded else None,
    )
    set_api_client(api, info)
    _kubectl.export(info.context, info.embedded, info.version, log)  # for !kubectl, %%kubectl
    return info


# The current connection: connect() sets it; everything else asks for it here, so
# widgets, watches and checks all talk to the same cluster.
_current: k8s.ApiClient | None = None
_info: ClusterInfo | None = None


def set_api_client(api: k8s.ApiClient, info: ClusterInfo | None = None) -> None:
    """Make ``api`` the client every helper uses from now on."""
    global _current, _info
    _current, _info = api, info


def api_client() -> k8s.ApiClient:
    """Return the current connection's API client, connecting first if needed.

    Example:
        >>> from course_helpers.kube._session import api_client
        >>> core = kubernetes.client.CoreV1Api(api_client())  # doctest: +SKIP
    """
    if _current is None:
        connect()
    assert _current is not None
    return _current


def cluster_info() -> ClusterInfo:
    """Return what ``connect()`` found out about the current cluster, connecting if needed."""
    if _info is None:
        return connect()
    return _info
