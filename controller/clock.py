"""The one clock the controller reads, made once in the composition root and passed in.

Every part that stamps, compares or waits on time (the poller, the reconcile loop and its
dispatcher, confirmations, compliance, the journal, the signals, the API) reads it
through :class:`Clock`, so the same control loop runs on simulated time: the end-to-end
tests and the backtest's hardware-in-the-loop mode hand in the simulated site's own
clock (``simulators.clock.SimClock`` has the same three methods), so that the devices'
physics and the controller agree on what time it is.

What stays on real time, by design: timeouts that bound network I/O (a socket does not
answer faster because the site's time runs fast) and ``time.perf_counter`` durations
that measure the controller's own work. ``pyproject.toml`` bans ``time.time``,
``time.monotonic`` and ``asyncio.sleep`` in the controller outside this module.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from typing import Protocol

from drivers.clock import SystemTime, TimeSource

__all__ = ["Clock", "ManualClock", "SystemClock", "wait_any", "yield_now"]


class Clock(TimeSource, Protocol):
    """Wall time (unix seconds), monotonic time, and waiting on that same time."""

    async def sleep(self, seconds: float) -> None:
        """Return once ``seconds`` have passed on this clock."""
        ...


class SystemClock(SystemTime):
    """Real time, the drivers' own reading of it, and waiting on it; the daemon's clock."""

    __slots__ = ()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """Time stands still until a test moves it with :meth:`advance`; sleepers whose time
    has come then wake, in order. Unit tests use it to make hours pass in no time."""

    __slots__ = ("_mono", "_seq", "_sleepers", "_unix_start")

    def __init__(self, unix_start: float = 1_700_000_000.0) -> None:
        self._unix_start = unix_start
        self._mono = 0.0
        self._seq = itertools.count()
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []

    def time(self) -> float:
        return self._unix_start + self._mono

    def monotonic(self) -> float:
        return self._mono

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await yield_now()
            return
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._mono + seconds, next(self._seq), wake))
        await wake

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking each sleeper at its own time (and letting it run)
        before time moves past it."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        await _settle()  # sleeps that tasks ready to run are about to begin start from now
        end = self._mono + seconds
        while self._sleepers and self._sleepers[0][0] <= end:
            at, _, wake = heapq.heappop(self._sleepers)
            self._mono = max(self._mono, at)
            if not wake.done():
                wake.set_result(None)
            await _settle()
        self._mono = end
        await _settle()


async def yield_now() -> None:
    """Let the other tasks run once; not a wait on time."""
    await asyncio.sleep(0)


async def _settle(rounds: int = 5) -> None:
    """A few turns of the loop: enough for a task and the waits it starts to begin."""
    for _ in range(rounds):
        await yield_now()


async def wait_any(clock: Clock, seconds: float | None, *events: asyncio.Event) -> bool:
    """Wait until one of ``events`` is set or ``seconds`` pass on ``clock`` (``None``:
    no limit). True when an event ended the wait."""
    if any(event.is_set() for event in events):
        return True
    if seconds is not None and seconds <= 0:
        return False
    waiters: list[asyncio.Future[object]] = [
        asyncio.ensure_future(event.wait()) for event in events
    ]
    if seconds is not None:
        waiters.append(asyncio.ensure_future(clock.sleep(seconds)))
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    return any(event.is_set() for event in events)
