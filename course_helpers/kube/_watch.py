"""List-then-watch for the handful of kinds the course shows live.

A :class:`Watcher` lists one kind in one namespace (or the whole cluster),
then watches from the list's resourceVersion in a daemon thread. When the
watch ends it resumes from the last resourceVersion it saw; when the server
says that version is gone (410), or the connection drops, it lists again and
emits the difference as synthetic events, so subscribers always converge on
the server's state. Every request carries a timeout and the thread blocks on
the watch stream, never on a polling sleep.

Where the events come from is a :class:`Source`: :class:`KubernetesSource`
talks to the API server; tests pass one that plays back scripted streams.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from ._kinds import KINDS, Kind
from ._watch_source import KubernetesSource, Obj, Source, WatchStream

__all__ = [
    "EVENT_TYPES",
    "KINDS",
    "Kind",
    "KubernetesSource",
    "Obj",
    "Source",
    "WatchError",
    "WatchEvent",
    "WatchStream",
    "Watcher",
    "active_watchers",
    "object_key",
    "stop_watchers",
]

Callback = Callable[["WatchEvent"], None]

log = logging.getLogger(__name__)

#: Event types a subscriber receives.
EVENT_TYPES = ("ADDED", "MODIFIED", "DELETED")


@dataclass(frozen=True)
class WatchEvent:
    """One change to one object, as a subscriber sees it.

    Attributes:
        kind: the object's kind, e.g. ``"Pod"`` (list items carry no kind, so it is kept here).
        type: ``"ADDED"``, ``"MODIFIED"`` or ``"DELETED"``.
        object: the object as the API returns it (camelCase dict).
        timestamp: when the event arrived, in seconds since the epoch.
        from_list: True when the event was derived from a (re-)list, not read from a watch.

    """

    kind: str
    type: str
    object: Obj
    timestamp: float
    from_list: bool = False

    @property
    def name(self) -> str:
        """The object's ``metadata.name``."""
        return str(self.object.get("metadata", {}).get("name", ""))

    @property
    def namespace(self) -> str | None:
        """The object's namespace, None for cluster-scoped objects."""
        ns = self.object.get("metadata", {}).get("namespace")
        return str(ns) if ns else None


def object_key(obj: Obj) -> tuple[str, str]:
    """Return ``(namespace, name)`` of ``obj``; the namespace is ``""`` when cluster-scoped."""
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def _meta(obj: Obj, field_name: str) -> str:
    return str((obj.get("metadata") or {}).get(field_name) or "")


class WatchError(Exception):
    """The server sent an ERROR event other than 410 Gone."""


_registry: set[Watcher] = set()
_registry_lock = threading.Lock()


def active_watchers(namespace: str | None = None) -> list[Watcher]:
    """Return the running watchers, or those of ``namespace`` (see :attr:`Watcher.scope`)."""
    with _registry_lock:
        found = list(_registry)
    return [w for w in found if namespace is None or namespace in (w.namespace, w.scope)]


def stop_watchers(namespace: str | None = None, timeout: float = 5.0) -> int:
    """Stop every watcher of ``namespace`` (all of them when None) and return how many.

    A watcher belongs to a namespace when it watches it, or when a widget about
    that namespace started it (its Node watcher, for instance).

    Example:
        >>> from course_helpers.kube._watch import stop_watchers
        >>> stop_watchers("demo")  # before deleting the namespace  # doctest: +SKIP
        3

    """
    found = active_watchers(namespace)
    for watcher in found:
        watcher.stop(timeout=0)
    deadline = time.monotonic() + timeout
    for watcher in found:
        watcher.join(max(0.0, deadline - time.monotonic()))
    return len(found)


def _gone(exc: BaseException) -> bool:
    """Tell whether ``exc`` is the API's 410 Gone (the resourceVersion is too old)."""
    return getattr(exc, "status", None) == 410


@dataclass
class _Stats:
    lists: int = 0
    watches: int = 0
    expired: int = 0
    errors: int = 0
    last_error: BaseException | None = field(default=None, repr=False)


class Watcher:
    """Keep an up-to-date copy of one kind's objects and tell subscribers every change.

    Args:
        kind: one of :data:`KINDS`, e.g. ``"Pod"``.
        namespace: the namespace to watch; None watches all namespaces (and is
            required for cluster-scoped kinds such as ``"Node"``).
        label_selector: server-side label selector, e.g. ``"app=web"``.
        field_selector: server-side field selector, e.g. ``"metadata.name=web"``.
        source: where to list and watch; default: a :class:`KubernetesSource`
            on ``api_client``.
        api_client: the client for the default source.
        scope: the namespace this watcher counts as belonging to for
            :func:`stop_watchers`; defaults to ``namespace``.
        timeout_seconds: how long one watch request may stay open.
        backoff: (first, longest) delay in seconds between retries after errors.
        clock: returns the time stamped on events.

    Example:
        >>> with Watcher("Pod", "demo") as pods:  # doctest: +SKIP
        ...     pods.subscribe(lambda ev: print(ev.type, ev.name))
        ...     pods.wait_synced(10)

    """

    def __init__(
        self,
        kind: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        source: Source | None = None,
        api_client: Any = None,
        scope: str | None = None,
        timeout_seconds: int = 120,
        backoff: tuple[float, float] = (0.5, 30.0),
        clock: Callable[[], float] = time.time,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"cannot watch {kind!r}; known kinds: {', '.join(KINDS)}")
        if not KINDS[kind].namespaced and namespace is not None:
            raise ValueError(f"{kind} is cluster-scoped; watch it with namespace=None")
        self.kind = kind
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.scope = scope if scope is not None else namespace
        self.timeout_seconds = timeout_seconds
        self.backoff = backoff
        self.stats = _Stats()
        #: Called with the new :attr:`state` whenever it changes (from the watch thread).
        self.on_state: list[Callable[[str], None]] = []
        self._state = "new"
        self._source = source if source is not None else KubernetesSource(api_client)
        self._clock = clock
        self._store: dict[tuple[str, str], Obj] = {}
        self._subscribers: list[Callback] = []
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._synced = threading.Event()
        self._stream: WatchStream | None = None
        self._thread: threading.Thread | None = None
        self.resource_version = ""

    def __repr__(self) -> str:
        where = self.namespace or "all namespaces"
        return f"<Watcher {self.kind} in {where}: {self.state}, {len(self._store)} objects>"

    @property
    def state(self) -> str:
        """``new``, ``listing``, ``watching``, ``retrying in …`` or ``stopped``."""
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        if value == self._state:
            return
        self._state = value
        for callback in list(self.on_state):
            try:
                callback(value)
            except Exception:
                log.exception("watch state callback %r failed", callback)

    # -- subscribers ----------------------------------------------------------------------

    def subscribe(self, callback: Callback, *, replay: bool = True) -> Callable[[], None]:
        """Call ``callback(event)`` for every change, from the watch thread; return an unsubscriber.

        With ``replay`` the callback first receives an ``ADDED`` event for every
        object already known, so late subscribers start from the same state.
        """
        with self._lock:
            if replay and self._store:
                now = self._clock()
                for obj in self._store.values():
                    callback(WatchEvent(self.kind, "ADDED", obj, now, from_list=True))
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    @property
    def items(self) -> list[Obj]:
        """The objects as last seen, sorted by namespace and name."""
        with self._lock:
            return [self._store[k] for k in sorted(self._store)]

    def get(self, name: str, namespace: str | None = None) -> Obj | None:
        """Return the object called ``name`` (in ``namespace``, default: the watched one)."""
        with self._lock:
            return self._store.get((namespace or self.namespace or "", name))

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True while the watch thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Self:
        """Start the watch thread (once) and return self."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run,
                    name=f"watch-{self.kind}-{self.namespace or 'all'}",
                    daemon=True,
                )
                with _registry_lock:
                    _registry.add(self)
                self._thread.start()
        return self

    def wait_synced(self, timeout: float | None = None) -> bool:
        """Block until the first list has been applied; return False on timeout."""
        return self._synced.wait(timeout)

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop watching: abort the open request and wait up to ``timeout`` for the thread."""
        self._stopping.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.close()
        if timeout:
            self.join(timeout)
        with _registry_lock:
            _registry.discard(self)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the watch thread to end (no-op from the thread itself)."""
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- the watch thread -------------------------------------------------------------------

    def _run(self) -> None:
        delay = 0.0
        need_list = True
        try:
            while not self._stopping.is_set():
                try:
                    if need_list:
                        self.state = "listing"
                        self._list()
                        need_list = False
                    self.state = "watching"
                    opened = time.monotonic()
                    ended, delivered = self._watch_once()
                    if delivered:
                        delay = 0.0
                    need_list = ended == "expired"
                    if ended != "stopped" and not delivered and time.monotonic() - opened < 1:
                        # A watch that ends at once without a word would spin; back off.
                        delay = min(max(delay * 2, self.backoff[0]), self.backoff[1])
                        self._stopping.wait(delay)
                except Exception as exc:
                    if self._stopping.is_set():
                        break
                    self.stats.errors += 1
                    self.stats.last_error = exc
                    need_list = True
                    delay = min(max(delay * 2, self.backoff[0]), self.backoff[1])
                    self.state = f"retrying in {delay:.1f}s after {type(exc).__name__}: {exc}"
                    log.info("%r: %s", self, self.state)
                    self._stopping.wait(delay)
        finally:
            self.state = "stopped"
            with _registry_lock:
                _registry.discard(self)

    def _list(self) -> None:
        items, rv = self._source.list(
            self.kind,
            self.namespace,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
        )
        if self._stopping.is_set():
            return
        self.stats.lists += 1
        self._resync(items)
        self.resource_version = rv
        self._synced.set()

    def _resync(self, items: Iterable[Obj]) -> None:
        """Replace the store with ``items`` and emit what changed as synthetic events."""
        fresh = {object_key(o): o for o in items}
        now = self._clock()
        with self._lock:
            events: list[WatchEvent] = []
            for key, old in self._store.items():
                new = fresh.get(key)
                if new is None or _meta(new, "uid") != _meta(old, "uid"):
                    events.append(WatchEvent(self.kind, "DELETED", old, now, from_list=True))
            for key, new in fresh.items():
                known = self._store.get(key)
                if known is None or _meta(new, "uid") != _meta(known, "uid"):
                    events.append(WatchEvent(self.kind, "ADDED", new, now, from_list=True))
                elif _meta(new, "resourceVersion") != _meta(known, "resourceVersion"):
                    events.append(WatchEvent(self.kind, "MODIFIED", new, now, from_list=True))
            self._store = fresh
            for event in events:
                self._emit(event)

    def _watch_once(self) -> tuple[str, bool]:
        """Run one watch request; return (how it ended, whether it delivered any event)."""
        self.stats.watches += 1
        try:
            stream = self._source.watch(
                self.kind,
                self.namespace,
                resource_version=self.resource_version,
                timeout_seconds=self.timeout_seconds,
                label_selector=self.label_selector,
                field_selector=self.field_selector,
            )
        except Exception as exc:
            if _gone(exc):
                self.stats.expired += 1
                return "expired", False
            raise
        with self._lock:
            self._stream = stream
        delivered = False
        try:
            if self._stopping.is_set():
                return "stopped", delivered
            for raw in stream:
                if self._stopping.is_set():
                    return "stopped", delivered
                kind, obj = raw.get("type"), raw.get("object") or {}
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        self.stats.expired += 1
                        return "expired", delivered
                    raise WatchError(f"{obj.get('code')} {obj.get('reason')}: {obj.get('message')}")
                delivered = True
                rv = _meta(obj, "resourceVersion")
                if kind in EVENT_TYPES:
                    self._apply(str(kind), obj)
                if rv:
                    self.resource_version = rv
            return "timeout", delivered
        except Exception as exc:
            if _gone(exc):
                self.stats.expired += 1
                return "expired", delivered
            raise
        finally:
            with self._lock:
                self._stream = None
            with contextlib.suppress(Exception):
                stream.close()

    def _apply(self, kind: str, obj: Obj) -> None:
        key = object_key(obj)
        with self._lock:
            if kind == "DELETED":
                self._store.pop(key, None)
            else:
                self._store[key] = obj
            self._emit(WatchEvent(self.kind, kind, obj, self._clock()))

    def _emit(self, event: WatchEvent) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.exception(
                    "watch subscriber %r failed on %s %s", callback, event.type, event.name
                )
