"""Polls every device each interval, concurrently and bounded, into the fleet record."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from controller.clock import Clock, wait_any
from controller.state.fleet import DeviceRecord, Fleet
from drivers import DeviceTimeout, DriverError

__all__ = ["PollStats", "Poller"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class PollStats:
    """The controller's own numbers, read by the metrics collector."""

    sweeps: int = 0
    last_sweep_s: float = 0.0
    last_sweep_at: float = 0.0
    errors_by_kind: Counter[str] = field(default_factory=Counter)


class Poller:
    def __init__(
        self,
        fleet: Fleet,
        *,
        concurrency: int,
        timeout_s: float,
        unreachable_after: int,
        stats: PollStats | None = None,
        observe_sweep: Callable[[float], None] | None = None,
        on_sweep: Callable[[], Awaitable[None]] | None = None,
        clock: Clock,
    ) -> None:
        self.clock = clock
        self.fleet = fleet
        self.stats = stats or PollStats()
        self._concurrency = concurrency
        self._timeout_s = timeout_s
        self._unreachable_after = unreachable_after
        self._observe_sweep = observe_sweep
        self._on_sweep = on_sweep
        self._soon = asyncio.Event()
        self._overrun = False

    def request_sweep(self) -> None:
        """Start the next sweep now instead of at the interval (to confirm commands sooner)."""
        self._soon.set()

    async def sweep(self) -> None:
        """Read every device once. Never raises for a device's failure."""
        started = time.perf_counter()
        # A fixed set of readers takes devices in turn: creating a task per device at the
        # start of a sweep held the event loop for a quarter of a second at 10,000 devices
        # (and every command and API answer waited behind it).
        waiting = iter(list(self.fleet))

        async def reader() -> None:
            for record in waiting:
                await self._poll(record)

        async with asyncio.TaskGroup() as group:
            for number in range(min(self._concurrency, len(self.fleet))):
                group.create_task(reader(), name=f"poll reader {number}")
        elapsed = time.perf_counter() - started
        self.stats.sweeps += 1
        self.stats.last_sweep_s = elapsed
        self.stats.last_sweep_at = self.clock.time()
        if self._observe_sweep is not None:
            self._observe_sweep(elapsed)
        if self._on_sweep is not None:
            await self._on_sweep()

    async def _poll(self, record: DeviceRecord) -> None:
        try:
            # The drivers bound each request; this bounds a read of several requests.
            async with asyncio.timeout(self._timeout_s):
                if record.info is None:
                    record.info = await record.driver.identify()
                telemetry = await record.driver.read()
        except DriverError as exc:
            self._failed(record, exc)
        except TimeoutError:
            self._failed(
                record,
                DeviceTimeout(
                    record.identity.endpoint.host,
                    f"no complete reading in {self._timeout_s:g} s",
                ),
            )
        else:
            record.record_success(telemetry)

    def _failed(self, record: DeviceRecord, error: DriverError) -> None:
        self.stats.errors_by_kind[error.code] += 1
        record.record_failure(error, self._unreachable_after)

    async def run(self, interval_s: float, stop: asyncio.Event) -> None:
        """Sweep every ``interval_s`` until ``stop`` is set; a slow sweep delays the next."""
        while not stop.is_set():
            started = self.clock.monotonic()
            self._soon.clear()
            await self.sweep()
            taken = self.clock.monotonic() - started
            remaining = interval_s - taken
            if (remaining <= 0) != self._overrun:
                self._overrun = remaining <= 0
                if self._overrun:
                    log.warning(
                        "sweep took %.1f s, longer than the %.1f s interval",
                        taken,
                        interval_s,
                    )
                else:
                    log.info("sweeps fit the %.1f s interval again", interval_s)
            if remaining <= 0:
                continue
            await wait_any(self.clock, remaining, stop, self._soon)
