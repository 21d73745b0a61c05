"""Manifests: load them by name, show them, apply them, delete what they made.

Manifests ship inside the package (``course_helpers/manifests/<name>.yaml``).
``apply`` uses server-side apply, so running a cell twice changes nothing the
second time, and prints the ``kubectl`` command that does the same.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml
from kubernetes import client as k8s
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import DynamicApiError, NotFoundError, ResourceNotFoundError

from ..errors import ManifestError
from ._echo import say
from ._kinds import kind_info
from ._namespaces import require_managed
from ._objects import Objects
from ._session import api_client

FIELD_MANAGER = "k8s-workloads-course"
_dynamic: dict[int, DynamicClient] = {}


def dynamic() -> DynamicClient:
    """Return a dynamic client for the current connection (discovery is cached)."""
    api = api_client()
    if id(api) not in _dynamic:
        _dynamic[id(api)] = DynamicClient(api)
    return _dynamic[id(api)]


def available() -> list[str]:
    """Return the names of every manifest shipped with the course."""
    folder = resources.files("course_helpers") / "manifests"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def manifest(name: str) -> str:
    """Return the YAML text of the shipped manifest ``name``.

    Raises:
        ManifestError: there is no manifest of that name (the message lists close ones).
    """
    path = resources.files("course_helpers") / "manifests" / f"{name}.yaml"
    if not path.is_file():
        close = difflib.get_close_matches(name, available(), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ManifestError(f"No manifest called {name!r}.{hint} See ch.available_manifests().")
    return path.read_text()


available_manifests = available  # its name on the ch. facade


@dataclass(frozen=True)
class YamlText:
    """YAML that renders as a highlighted code block in a notebook."""

    text: str

    def __str__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        return f"```yaml\n{self.text.rstrip()}\n```"


def show(name: str) -> YamlText:
    """Return manifest ``name`` for display in a notebook.

    Example:
        >>> ch.show("daemonset-log-collector")  # doctest: +SKIP
    """
    return YamlText(manifest(name))


def parse(text: str, source: str = "the manifest") -> list[dict[str, Any]]:
    """Parse and check YAML documents; nothing touches the cluster here.

    Raises:
        ManifestError: the YAML does not parse, or a document lacks
            apiVersion, kind or metadata.name. The message says where.
    """
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ManifestError(
            f"{source} is not valid YAML{where}: {problem}. "
            "Check the indentation (spaces only, no tabs)."
        ) from None
    if not docs:
        raise ManifestError(f"{source} is empty.")
    for i, doc in enumerate(docs, 1):
        label = f"document {i} of {source}"
        if not isinstance(doc, dict):
            raise ManifestError(f"{label} is not a mapping of fields (got {type(doc).__name__}).")
        missing = [f for f in ("apiVersion", "kind") if not doc.get(f)]
        if not (doc.get("metadata") or {}).get("name"):
            missing.append("metadata.name")
        if missing:
            raise ManifestError(f"{label} is missing {', '.join(missing)}.")
    return docs


def _resource(doc: dict[str, Any]) -> Any:
    try:
        return dynamic().resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
    except ResourceNotFoundError:
        raise ManifestError(
            f"The cluster has no resource kind {doc['kind']!r} in API {doc['apiVersion']!r}. "
            "Check the spelling and the apiVersion (e.g. apps/v1 for DaemonSet, batch/v1 for Job)."
        ) from None


def api_message(exc: DynamicApiError | k8s.ApiException) -> str:
    """Return the API server's own explanation from an error response."""
    body = getattr(exc, "body", None)
    try:
        data = yaml.safe_load(body) if body else None
    except yaml.YAMLError:
        data = None
    if isinstance(data, dict) and data.get("message"):
        # Immutable-field errors quote the whole object; keep the sentence, not the dump.
        return re.sub(
            r"Invalid value: \{.{200,}\}: ", "Invalid value: {...}: ", str(data["message"])
        )
    return str(getattr(exc, "summary", lambda: str(exc))())


def _text_and_source(name_or_yaml: str) -> tuple[str, str]:
    if "\n" in name_or_yaml or ":" in name_or_yaml:
        return name_or_yaml, "your YAML"
    return manifest(name_or_yaml), f"manifest {name_or_yaml!r}"


def kubectl_file(name_or_yaml: str) -> str:
    """Return what ``kubectl -f`` would be given for this manifest."""
    if "\n" in name_or_yaml or ":" in name_or_yaml:
        return "-"
    return f"manifests/{name_or_yaml}.yaml"


def apply(name_or_yaml: str, namespace: str) -> Objects:
    """Apply a shipped manifest (by name) or YAML text into course namespace ``namespace``.

    Every document is checked before any is sent, so a bad document leaves the
    cluster untouched. Applying the same manifest again is harmless. The
    kubectl command is printed unless :func:`~course_helpers.echo` is off.

    Example:
        >>> ch.apply("daemonset-log-collector", ns)  # doctest: +SKIP
        kubectl apply --server-side -n course-daemonsets -f manifests/daemonset-log-collector.yaml

    Raises:
        ManifestError: the YAML is invalid, names another namespace or a
            cluster-wide kind, or the API server refused it (its message is kept).
        ClusterError: ``namespace`` is not a course namespace.
    """
    text, source = _text_and_source(name_or_yaml)
    docs = parse(text, source)
    require_managed(namespace)
    resources_ = [_resource(doc) for doc in docs]
    for doc, res in zip(docs, resources_, strict=True):
        if not res.namespaced:
            raise ManifestError(
                f"{doc['kind']} {doc['metadata']['name']!r} is cluster-wide; the course only "
                "creates objects inside its own namespaces."
            )
        named = doc["metadata"].get("namespace")
        if named and named != namespace:
            raise ManifestError(
                f"{doc['kind']} {doc['metadata']['name']!r} names namespace {named!r}, but this "
                f"notebook works in {namespace!r}. Remove metadata.namespace from the YAML."
            )
    say(f"kubectl apply --server-side -n {namespace} -f {kubectl_file(name_or_yaml)}")
    applied = Objects()
    for doc, res in zip(docs, resources_, strict=True):
        body = {**doc, "metadata": {**doc["metadata"], "namespace": namespace}}
        try:
            result = dynamic().server_side_apply(
                res,
                body=body,
                namespace=namespace,
                field_manager=FIELD_MANAGER,
                force_conflicts=True,
                _request_timeout=15,
            )
        except DynamicApiError as exc:
            raise ManifestError(
                f"The API server refused {doc['kind']} {doc['metadata']['name']!r}: "
                f"{api_message(exc)}"
            ) from None
        applied.append(result.to_dict())
        say(f"  {doc['kind'].lower()}/{doc['metadata']['name']} applied")
    return applied


def _kind_resource(kind: str, api_version: str | None = None) -> tuple[str, Any]:
    """Return the kind's proper name and dynamic-client resource (``ds`` works too)."""
    if api_version is None:
        info = kind_info(kind)
        kind, api_version = info.kind, info.api_version
    return kind, _resource({"apiVersion": api_version, "kind": kind})


def get(
    kind: str, name: str, namespace: str, api_version: str | None = None
) -> dict[str, Any] | None:
    """Return object ``kind/name`` as a dict, or None if it does not exist.

    ``kind`` may be written as kubectl does too (``ds``, ``daemonsets``).

    Example:
        >>> ch.get("DaemonSet", "log-collector", ns)["status"]["numberReady"]  # doctest: +SKIP
        3
    """
    kind, res = _kind_resource(kind, api_version)
    try:
        return dict(
            dynamic().get(res, name=name, namespace=namespace, _request_timeout=10).to_dict()
        )
    except NotFoundError:
        return None


def list_objects(
    kind: str,
    namespace: str | None,
    label_selector: str | None = None,
    field_selector: str | None = None,
) -> Objects:
    """Return the ``kind`` objects in ``namespace`` (like ``kubectl get <kind> -n <ns>``), by name.

    Args:
        kind: e.g. ``"Pod"``, ``"PersistentVolumeClaim"``, or kubectl's ``"pvc"``.
        namespace: the namespace; None for a cluster-scoped kind (``"Node"``) or
            for every namespace.
        label_selector: e.g. ``"app=web"`` (``kubectl get -l``).
        field_selector: e.g. ``"status.phase=Running"``.

    Example:
        >>> claims = ch.list_objects("pvc", ns)  # doctest: +SKIP
        >>> [(c["metadata"]["name"], c["status"]["phase"]) for c in claims]  # doctest: +SKIP
        [('data-web-0', 'Bound'), ('data-web-1', 'Bound'), ('data-web-2', 'Bound')]
    """
    info = kind_info(kind)
    _, res = _kind_resource(info.kind)
    selectors = {"label_selector": label_selector, "field_selector": field_selector}
    listing = dynamic().get(
        res,
        namespace=namespace if info.namespaced else None,
        _request_timeout=10,
        **{k: v for k, v in selectors.items() if v},
    )
    items = [dict(item.to_dict()) for item in listing.items]
    for item in items:
        item.setdefault("kind", info.kind)
        item.setdefault("apiVersion", info.api_version)
    return Objects(sorted(items, key=lambda o: str((o.get("metadata") or {}).get("name"))))


def delete(kind: str, name: str, namespace: str, cascade: str = "background") -> bool:
    """Delete ``kind/name`` from course namespace ``namespace``; False if it was not there.

    ``cascade`` is ``background`` (kubectl's default: owned objects are removed
    by the garbage collector), ``foreground`` or ``orphan``.

    Example:
        >>> ch.delete("DaemonSet", "log-collector", ns)  # doctest: +SKIP
        kubectl delete daemonset log-collector -n course-daemonsets
    """
    require_managed(namespace)
    kind, res = _kind_resource(kind)
    flag = "" if cascade == "background" else f" --cascade={cascade}"
    say(f"kubectl delete {kind.lower()} {name} -n {namespace}{flag}")
    body = {"propagationPolicy": cascade.capitalize()}
    try:
        dynamic().delete(res, name=name, namespace=namespace, body=body, _request_timeout=10)
    except NotFoundError:
        say(f"  ({kind.lower()}/{name} was already gone)")
        return False
    return True


def patch(kind: str, name: str, namespace: str, change: dict[str, Any]) -> dict[str, Any]:
    """Merge ``change`` into ``kind/name`` (like ``kubectl patch --type merge``).

    Raises:
        ManifestError: the API server refused the change; its message is kept,
            e.g. that a Job's pod template is immutable.
    """
    require_managed(namespace)
    kind, res = _kind_resource(kind)
    say(
        f"kubectl patch {kind.lower()} {name} -n {namespace} --type merge -p "
        f"'{json.dumps(change, separators=(',', ':'))}'"
    )
    try:
        result = dynamic().patch(
            res,
            body=change,
            name=name,
            namespace=namespace,
            content_type="application/merge-patch+json",
            field_manager=FIELD_MANAGER,
            _request_timeout=10,
        )
    except DynamicApiError as exc:
        raise ManifestError(
            f"The API server refused the change to {kind} {name!r}: {api_message(exc)}"
        ) from None
    return dict(result.to_dict())
