"""A bound on calls in flight, shared by threads and by tasks of any event loop: ``Limiter``.

One counter under a thread lock; a caller that finds it full queues a waiter (a
``threading.Event`` for a thread, a future of its own loop for a task) and is
handed the slot directly on release, first come first served.  Nothing is tied
to one event loop, so a runner used from several loops (or threads and tasks
together) keeps one bound.  In a forked child it starts empty: the parent's
calls in flight are not the child's.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # not at run time: a sync run imports no asyncio
    import asyncio

__all__ = ["Limiter"]


class Limiter:
    """At most *limit* holders at once (``with limiter:`` in threads, ``async with limiter:`` in tasks)."""

    def __init__(self, limit: int) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError("max_concurrency must be a positive whole number")
        self.limit = limit
        self._fresh()

    def _fresh(self) -> None:
        self.held = 0
        self._lock = threading.Lock()
        self._waiters: deque[Any] = deque()
        self._pid = os.getpid()

    def _check_fork(self) -> None:
        if self._pid != os.getpid():
            self._fresh()

    def __repr__(self) -> str:
        return f"Limiter({self.held}/{self.limit})"

    def acquire(self) -> None:
        self._check_fork()
        with self._lock:
            if self.held < self.limit:
                self.held += 1
                return
            event = threading.Event()
            self._waiters.append(event)
        event.wait()  # the slot is handed over with the event: held was never decremented

    async def aacquire(self) -> None:
        import asyncio

        self._check_fork()
        with self._lock:
            if self.held < self.limit:
                self.held += 1
                return
            future = asyncio.get_running_loop().create_future()
            self._waiters.append(future)
        try:
            await future
        except asyncio.CancelledError:
            # Cancelled after the slot was handed over (the result set, the task not yet resumed):
            # it is ours, so pass it on.  Cancelled before: release() skips the cancelled future.
            if future.done() and not future.cancelled():
                self.release()
            raise

    def release(self) -> None:
        with self._lock:
            while self._waiters:
                waiter = self._waiters.popleft()
                if isinstance(waiter, threading.Event):
                    waiter.set()
                    return
                if not waiter.done() and self._hand_over(waiter):
                    return
            self.held -= 1

    def __enter__(self) -> "Limiter":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    async def __aenter__(self) -> "Limiter":
        await self.aacquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()


    def _hand_over(self, future: "asyncio.Future[None]") -> bool:
        """Wake the task waiting on *future* from any thread; False when its loop is gone."""
        loop = future.get_loop()
        try:
            if loop is _running_loop():
                future.set_result(None)
            else:
                loop.call_soon_threadsafe(self._wake, future)
        except RuntimeError:  # its loop is closed: the waiting task is gone with it
            return False
        return True

    def _wake(self, future: "asyncio.Future[None]") -> None:
        if future.done():  # cancelled between the hand-over and now: the slot is not its, pass it on
            self.release()
        else:
            future.set_result(None)


def _running_loop() -> Any:
    import asyncio

    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None

