"""Test doubles for the watch layer: a scripted Source and a tiny fake API server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from course_helpers.kube._watch import WatchEvent

DATA = Path(__file__).parent / "data"

Obj = dict[str, Any]


def recording(name: str) -> list[WatchEvent]:
    """Return the events of the recorded fixture ``name`` (e.g. "daemonset.jsonl")."""
    from course_helpers.widgets import Replay

    return Replay(DATA / name).events


class ScriptedStream:
    """Yields scripted raw events; ``{"drop": msg}`` raises like a dropped connection.

    The last stream of a script then blocks until closed, as an idle watch does.
    """

    def __init__(self, events: list[Obj], *, block: bool, on_idle: threading.Event) -> None:
        self.events = events
        self.block = block
        self.on_idle = on_idle
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[Obj]:
        for event in self.events:
            if "drop" in event:
                raise ConnectionResetError(event["drop"])
            yield event
        if self.block:
            self.on_idle.set()
            self.closed.wait(10)

    def close(self) -> None:
        self.closed.set()


class ScriptedSource:
    """A Source that plays ``watch_script.json``-style lists and watches for one kind.

    Other kinds list empty and watch an idle stream. ``exhausted`` is set once
    the script's last watch has delivered everything and is idling.
    """

    def __init__(self, script: Obj) -> None:
        self.kind = script["kind"]
        self.lists = list(script["lists"])
        self.watches = list(script["watches"])
        self.list_calls: list[tuple[str, str | None]] = []
        self.watch_calls: list[tuple[str, str | None, str, int]] = []
        self.exhausted = threading.Event()
        self.idle = threading.Event()
        self.streams: list[ScriptedStream] = []
        self.fail_lists = 0

    @classmethod
    def from_file(cls, name: str = "watch_script.json") -> ScriptedSource:
        return cls(json.loads((DATA / name).read_text()))

    def list(
        self,
        kind: str,
        namespace: str | None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> tuple[list[Obj], str]:
        self.list_calls.append((kind, namespace))
        if kind != self.kind:
            return [], "1"
        if self.fail_lists:
            self.fail_lists -= 1
            raise ConnectionRefusedError("connection refused")
        page = self.lists.pop(0)
        return page["items"], page["resourceVersion"]

    def watch(
        self,
        kind: str,
        namespace: str | None,
        *,
        resource_version: str,
        timeout_seconds: int,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> ScriptedStream:
        self.watch_calls.append((kind, namespace, resource_version, timeout_seconds))
        if kind != self.kind:
            stream = ScriptedStream([], block=True, on_idle=self.idle)
        else:
            events = self.watches.pop(0)
            stream = ScriptedStream(events, block=not self.watches, on_idle=self.exhausted)
        self.streams.append(stream)
        return stream


class FakeApiServer:
    """Serves list pages and one chunked watch stream on 127.0.0.1, like kube-apiserver.

    ``pages`` maps a ``continue`` token ("" for the first page) to a list body;
    ``watch_events`` are sent on the first watch, which then stays open until
    the client goes away or the server stops.
    """

    def __init__(self, pages: dict[str, Obj], watch_events: list[Obj], watch_status: int = 200):
        self.pages = pages
        self.watch_events = watch_events
        self.watch_status = watch_status
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self.watch_closed = threading.Event()
        self._stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = parse_qs(url.query)
                server.requests.append((url.path, query))
                if query.get("watch") == ["true"]:
                    self._watch()
                else:
                    token = query.get("continue", [""])[0]
                    self._json(200, server.pages[token])

            def _json(self, code: int, body: Obj) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _watch(self) -> None:
                if server.watch_status != 200:
                    status = {"kind": "Status", "code": server.watch_status, "reason": "Expired"}
                    self._json(server.watch_status, status)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for event in server.watch_events:
                        line = json.dumps(event).encode() + b"\n"
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                        self.wfile.flush()
                    # An idle watch: nothing more until the client hangs up (EOF on read).
                    self.rfile.peek(1)
                except OSError:
                    pass
                finally:
                    server.watch_closed.set()
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeApiServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def api_client(url: str) -> Any:
    """Return an official ApiClient pointed at ``url``."""
    from kubernetes import client

    config = client.Configuration()
    config.host = url
    return client.ApiClient(config)


class RecordedSource:
    """Serves a recording through list and watch, breaking every kind's stream twice.

    Per kind: the first watch ends in a 410 Gone and ``lost`` events (from the
    first deletion on, if there is one) are never sent, so the re-list has to
    make up for them; the second watch drops its
    connection mid-stream; the third delivers the rest and idles. Lists and
    watches honour namespace, label and ``metadata.name`` field selectors like
    the API server. ``clock`` returns the recorded time of what the calling
    watch thread is delivering, so live timestamps match the recording.
    """

    def __init__(self, events: list[WatchEvent], *, lost: int = 3) -> None:
        self.events = events
        self.lost = lost
        self.exhausted = threading.Event()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._calls: dict[tuple[str, str | None, str | None, str | None], int] = {}
        self._done: set[tuple[str, str | None, str | None, str | None]] = set()
        self._expected: set[tuple[str, str | None, str | None, str | None]] = set()
        self.relists = 0

    def expect(self, watchers: list[Any]) -> None:
        """Say which watches must have idled before ``exhausted`` is set."""
        self._expected = {
            (w.kind, w.namespace, w.label_selector, w.field_selector) for w in watchers
        }

    def clock(self) -> float:
        return float(getattr(self._local, "now", self.events[0].timestamp))

    def _mine(self, key: tuple[str, str | None, str | None, str | None]) -> list[WatchEvent]:
        from course_helpers.kube._objects import labels_of, match_selector

        kind, namespace, labels, fields = key
        name = fields.split("=", 1)[1] if fields and fields.startswith("metadata.name=") else None
        return [
            e
            for e in self.events
            if e.kind == kind
            and (namespace is None or e.namespace == namespace)
            and (name is None or e.name == name)
            and match_selector(labels_of(e.object), labels)
        ]

    def _cuts(self, mine: list[WatchEvent]) -> tuple[int, int, int]:
        """Return where the 410 comes, where the watch resumes, and where it drops."""
        n = len(mine)
        deletes = [i for i, e in enumerate(mine) if e.type == "DELETED"]
        # lose the first deletion, if any, so the re-list must report it
        gone = deletes[0] if deletes else n // 3
        resume = min(n, gone + self.lost)
        drop = max(resume, (2 * n) // 3)
        return gone, resume, drop

    def _state(self, events: list[WatchEvent]) -> list[Obj]:
        store: dict[tuple[str, str], Obj] = {}
        for e in events:
            key = (e.namespace or "", e.name)
            if e.type == "DELETED":
                store.pop(key, None)
            else:
                store[key] = e.object
        return list(store.values())

    def list(
        self,
        kind: str,
        namespace: str | None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> tuple[list[Obj], str]:
        key = (kind, namespace, label_selector, field_selector)
        mine = self._mine(key)
        with self._lock:
            calls = self._calls.get(key, 0)
        _, resume, drop = self._cuts(mine)
        upto = [0, resume, drop][min(calls, 2)]
        if calls:
            self.relists += 1
        if mine and upto:
            self._local.now = mine[min(upto, len(mine) - 1)].timestamp
        return self._state(mine[:upto]), str(calls)

    def watch(
        self,
        kind: str,
        namespace: str | None,
        *,
        resource_version: str,
        timeout_seconds: int,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> ScriptedStream:
        key = (kind, namespace, label_selector, field_selector)
        mine = self._mine(key)
        with self._lock:
            calls = self._calls.get(key, 0)
            self._calls[key] = calls + 1
        gone, resume, drop = self._cuts(mine)
        if calls == 0:
            chunk: list[Obj] = [self._raw(e) for e in mine[:gone]]
            chunk.append({"type": "ERROR", "object": {"kind": "Status", "code": 410}})
        elif calls == 1:
            chunk = [self._raw(e) for e in mine[resume:drop]]
            chunk.append({"drop": "connection reset by peer"})
        else:
            chunk = [self._raw(e) for e in mine[drop:]]
        idle = threading.Event()
        stream = _TimedStream(chunk, self._local, block=calls >= 2, on_idle=idle)
        if calls >= 2:
            threading.Thread(target=self._idled, args=(key, idle), daemon=True).start()
        return stream

    def _idled(
        self, key: tuple[str, str | None, str | None, str | None], idle: threading.Event
    ) -> None:
        if idle.wait(10):
            with self._lock:
                self._done.add(key)
                if self._expected <= self._done:
                    self.exhausted.set()

    @staticmethod
    def _raw(event: WatchEvent) -> Obj:
        return {"type": event.type, "object": event.object, "_t": event.timestamp}


class _TimedStream(ScriptedStream):
    """A scripted stream that moves the calling thread's clock to each event's time."""

    def __init__(self, events: list[Obj], local: threading.local, **kwargs: Any) -> None:
        super().__init__(events, **kwargs)
        self.local = local

    def __iter__(self) -> Iterator[Obj]:
        for event in super().__iter__():
            if "_t" in event:
                self.local.now = event["_t"]
            yield event
