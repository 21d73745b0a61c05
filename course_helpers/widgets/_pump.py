"""Hand changes from watch threads to the thread that owns the widgets.

Widgets must only be touched from the kernel's event loop: ipykernel sends
comm messages from there, and a widget changed from a watch thread can
interleave half-updates. So watch threads only ``put`` into a
:class:`queue.Queue`; a consumer on the loop drains it and applies everything
that queued up in one go, at most ``max_rate`` times a second. Outside a
kernel (tests, scripts) nothing drains on its own: call :meth:`Pump.flush`.

:meth:`Pump.drain` is for readers that must see everything queued so far
(a snapshot right after a wait, say): it applies on the calling thread when
that thread owns the widgets (it runs the loop, as the kernel's main thread
does while a cell runs, or there is no running loop at all) and otherwise
asks the loop to apply and waits for it.

The rate limit is a cool-down after an apply that drew something: an apply
that says it drew nothing (``apply`` returned False: the events changed
nothing shown, or a timer's redraw) starts none, so the change that comes
next (a Job's count a few milliseconds after a bookkeeping update of the
same Job) is drawn at once rather than up to ``1 / max_rate`` later.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import threading
import warnings
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


def running_loop() -> asyncio.AbstractEventLoop | None:
    """Return the event loop running in this thread (the kernel's, in a notebook), or None."""
    with contextlib.suppress(RuntimeError):
        return asyncio.get_running_loop()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            return None
    return loop if loop.is_running() else None


class Pump(Generic[T]):
    """A thread-safe queue whose items are applied in batches on one event loop.

    Args:
        apply: called with every item queued since the last call (never empty,
            unless :meth:`poke` asked for a refresh), on the loop or in
            :meth:`flush`; it may return False to say it drew nothing worth a
            cool-down (see the module's docstring).
        loop: the loop to apply on; default: the one running in the calling
            thread, if any. With no loop, only :meth:`flush` applies.
        max_rate: at most this many ``apply`` calls per second from the loop;
            items arriving in between are coalesced into the next call.

    Example:
        >>> seen = []
        >>> pump = Pump(seen.extend, loop=None)
        >>> pump.put(1); pump.put(2)
        >>> pump.flush(), seen
        (2, [1, 2])

    """

    def __init__(
        self,
        apply: Callable[[list[T]], bool | None],
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        max_rate: float = 10.0,
        autostart: bool = True,
    ) -> None:
        self._apply = apply
        self._queue: queue.SimpleQueue[T] = queue.SimpleQueue()
        self._interval = 1.0 / max_rate if max_rate > 0 else 0.0
        self._flush_lock = threading.Lock()
        #: Whether the last apply drew something (False: no cool-down after it).
        self._drew = False
        self._poked = False
        self._signalled = False
        self._closed = False
        self.applies = 0
        self.loop = loop if loop is not None else (running_loop() if autostart else None)
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop_thread: int | None = None
        if self.loop is not None:
            self._start_consumer(self.loop)

    def _start_consumer(self, loop: asyncio.AbstractEventLoop) -> None:
        def start() -> None:
            self._loop_thread = threading.get_ident()
            self._wakeup = asyncio.Event()
            self._task = loop.create_task(self._consume())
            if self._poked or not self._queue.empty():
                self._wakeup.set()

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            start()
        else:
            loop.call_soon_threadsafe(start)

    @property
    def live(self) -> bool:
        """True when a consumer on an event loop applies items on its own."""
        return self.loop is not None and not self._closed

    def put(self, item: T) -> None:
        """Queue ``item``; safe from any thread."""
        if self._closed:
            return
        self._queue.put(item)
        self._wake()

    def poke(self) -> None:
        """Ask for an ``apply([])`` even with nothing queued (e.g. a status changed)."""
        self._poked = True
        self._wake()

    def _wake(self) -> None:
        loop = self.loop
        if loop is None or loop.is_closed() or self._signalled:
            return
        # One wake-up in flight is enough: whatever is queued before it runs is flushed after.
        self._signalled = True
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._set_wakeup)

    def _set_wakeup(self) -> None:
        self._signalled = False
        if self._wakeup is not None:
            self._wakeup.set()

    async def _consume(self) -> None:
        assert self._wakeup is not None
        while not self._closed:
            await self._wakeup.wait()
            self._wakeup.clear()
            self._drew = False
            try:
                self.flush()
            except Exception:
                log.exception("applying watch events failed")
            if self._interval and self._drew:
                await asyncio.sleep(self._interval)

    def flush(self) -> int:
        """Apply everything queued now, in this thread; return how many items were applied."""
        with self._flush_lock:
            items: list[T] = []
            with contextlib.suppress(queue.Empty):
                while True:
                    items.append(self._queue.get_nowait())
            poked, self._poked = self._poked, False
            if items or poked:
                self.applies += 1
                self._drew = self._apply(items) is not False
            return len(items)

    def on_loop_thread(self) -> bool:
        """Tell whether the calling thread is the one that runs :attr:`loop`."""
        loop = self.loop
        if loop is None:
            return False
        return threading.get_ident() == self._loop_thread or running_loop() is loop

    def drain(self, timeout: float = 5.0) -> int:
        """Apply everything queued now, on the thread that owns the widgets; return how many.

        Like :meth:`flush`, but safe from any thread: the calling thread
        applies when it runs the loop (in a notebook, the kernel's main
        thread, where cells run and the consumer cannot until the cell ends)
        or when no loop is running; any other thread hands the work to the
        loop and waits up to ``timeout`` seconds for it (0 when it timed out).
        """
        loop = self.loop
        if (
            loop is None
            or self._closed
            or loop.is_closed()
            or not loop.is_running()
            or self.on_loop_thread()
        ):
            return self.flush()
        done: concurrent.futures.Future[int] = concurrent.futures.Future()

        def apply_here() -> None:
            if not done.set_running_or_notify_cancel():
                return
            try:
                done.set_result(self.flush())
            except BaseException as exc:
                done.set_exception(exc)

        try:
            loop.call_soon_threadsafe(apply_here)
        except RuntimeError:  # the loop closed in between: nobody else applies now
            return self.flush()
        try:
            return done.result(timeout)
        except concurrent.futures.TimeoutError:
            done.cancel()
            log.warning("the event loop did not apply queued watch events within %ss", timeout)
            return 0

    def close(self) -> None:
        """Stop the consumer; queued items are dropped."""
        self._closed = True
        task, loop = self._task, self.loop
        if task is not None and loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(task.cancel)
