"""A bounded-concurrency gate that lets the most urgent waiter in first.

``asyncio.Semaphore`` wakes waiters in arrival order; a grid-event shed that
arrives behind ten thousand economic restores must not wait for them, so waiters
here are served by (priority, arrival).
"""

from __future__ import annotations

import asyncio
import enum
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ["Priority", "PriorityGate"]


class Priority(enum.IntEnum):
    """Lower goes first."""

    GRID = 0  # sheds demanded by a grid event, the relay latch or the interconnect cap
    OVERRIDE = 1  # an operator's force-sleep
    ECONOMIC = 2  # sheds for price
    RESTORE = 3  # wakes and raised limits


class PriorityGate:
    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("the gate needs room for at least one holder")
        self._free = limit
        self.limit = limit
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @property
    def in_use(self) -> int:
        return self.limit - self._free

    @property
    def waiting(self) -> int:
        return sum(1 for _, _, f in self._waiters if not f.done())

    async def acquire(self, priority: int) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # granted just as we were cancelled: pass it on
            raise

    def release(self) -> None:
        while self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)
                return
        self._free += 1

    @asynccontextmanager
    async def hold(self, priority: int) -> AsyncIterator[None]:
        await self.acquire(priority)
        try:
            yield
        finally:
            self.release()
