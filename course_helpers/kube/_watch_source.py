"""Where watchers get objects from: the API server through the official client.

:class:`KubernetesSource` lists with paging and opens watches as raw JSON
lines, so objects arrive as the API sends them (camelCase dicts), with no
model round trip. Every request carries a timeout.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Callable, Iterator
from typing import Any, Protocol, cast

from ._kinds import KINDS

Obj = dict[str, Any]


class WatchStream(Protocol):
    """An open watch: iterate raw events (``{"type": ..., "object": {...}}``); close to abort."""

    def __iter__(self) -> Iterator[Obj]: ...

    def close(self) -> None: ...


class Source(Protocol):
    """Where a :class:`Watcher` lists and watches objects."""

    def list(
        self,
        kind: str,
        namespace: str | None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> tuple[list[Obj], str]:
        """Return the current objects and the list's resourceVersion."""
        ...

    def watch(
        self,
        kind: str,
        namespace: str | None,
        *,
        resource_version: str,
        timeout_seconds: int,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> WatchStream:
        """Open a watch from ``resource_version`` that ends within ``timeout_seconds``."""
        ...


def _trim(obj: Any) -> Any:
    """Drop ``metadata.managedFields``: server-side-apply bookkeeping nobody here shows."""
    if isinstance(obj, dict) and isinstance(obj.get("metadata"), dict):
        obj["metadata"].pop("managedFields", None)
    return obj


class _HttpWatchStream:
    """A watch response read line by line; ``close`` unblocks a thread stuck reading it."""

    def __init__(self, response: Any) -> None:
        self._response = response
        self._closed = False

    def __iter__(self) -> Iterator[Obj]:
        from kubernetes.watch.watch import iter_resp_lines

        lines = cast(Callable[[Any], Iterator[str]], iter_resp_lines)
        for line in lines(self._response):
            if line.strip():
                event = json.loads(line)
                if isinstance(event, dict):
                    _trim(event.get("object"))
                    yield event

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Shutting the socket down wakes a reader blocked in recv(); close() alone may not.
        sock = getattr(getattr(self._response, "connection", None), "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            self._response.close()
        with contextlib.suppress(Exception):
            self._response.release_conn()


class KubernetesSource:
    """List and watch through the official ``kubernetes`` client, as raw dicts.

    Args:
        api_client: the client to use, e.g. the current connection's
            (``course_helpers.kube._session.api_client()``); this module does not
            know the session, so that the session can wait on watches.
        connect_timeout: seconds to wait for a TCP connection.
        read_timeout: seconds to wait for a list response.

    Example:
        >>> src = KubernetesSource(api_client())  # doctest: +SKIP
        >>> items, rv = src.list("Pod", "demo")  # doctest: +SKIP

    """

    page_size = 500

    def __init__(
        self, api_client: Any = None, *, connect_timeout: float = 5.0, read_timeout: float = 30.0
    ) -> None:
        if api_client is None:
            raise ValueError("KubernetesSource needs an API client, e.g. _session.api_client()")
        self.api_client = api_client
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout

    def _method(
        self, kind: str, namespace: str | None
    ) -> tuple[Callable[..., Any], tuple[str, ...]]:
        from kubernetes import client

        try:
            info = KINDS[kind]
        except KeyError:
            raise ValueError(f"cannot watch {kind!r}; known kinds: {', '.join(KINDS)}") from None
        api = getattr(client, info.api)(self.api_client)
        if not info.namespaced:
            return getattr(api, f"list_{info.stem}"), ()
        if namespace is None:
            return getattr(api, f"list_{info.stem}_for_all_namespaces"), ()
        return getattr(api, f"list_namespaced_{info.stem}"), (namespace,)

    @staticmethod
    def _selectors(label_selector: str | None, field_selector: str | None) -> dict[str, str]:
        found = {"label_selector": label_selector, "field_selector": field_selector}
        return {k: v for k, v in found.items() if v}

    def list(
        self,
        kind: str,
        namespace: str | None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> tuple[list[Obj], str]:
        """Return every matching object (following ``continue`` pages) and the resourceVersion."""
        method, args = self._method(kind, namespace)
        items: list[Obj] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = self._selectors(label_selector, field_selector)
            if token:
                kwargs["_continue"] = token
            response = method(
                *args,
                limit=self.page_size,
                _preload_content=False,
                _request_timeout=(self.connect_timeout, self.read_timeout),
                **kwargs,
            )
            try:
                body = json.loads(response.data)
            finally:
                response.release_conn()
            for item in body.get("items") or []:
                # list items carry no kind; watch events do: make both look alike
                item.setdefault("kind", kind)
                item.setdefault("apiVersion", KINDS[kind].api_version)
                items.append(_trim(item))
            meta = body.get("metadata") or {}
            token = meta.get("continue")
            if not token:
                return items, str(meta.get("resourceVersion") or "")

    def watch(
        self,
        kind: str,
        namespace: str | None,
        *,
        resource_version: str,
        timeout_seconds: int,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> WatchStream:
        """Open a watch; the server ends it after ``timeout_seconds``, the client a bit later."""
        method, args = self._method(kind, namespace)
        response = method(
            *args,
            watch=True,
            resource_version=resource_version,
            allow_watch_bookmarks=True,
            timeout_seconds=timeout_seconds,
            _preload_content=False,
            _request_timeout=(self.connect_timeout, timeout_seconds + self.read_timeout),
            **self._selectors(label_selector, field_selector),
        )
        return _HttpWatchStream(response)
