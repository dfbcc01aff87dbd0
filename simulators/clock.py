"""Simulated time: one clock per fleet, read lazily by every device.

``speed`` compresses time: at speed 60 a ten-minute hashrate ramp takes ten real
seconds. Devices never tick; they evaluate their physics from ``now()`` when read.

A controller run against the simulated site reads this same clock: ``time()``,
``monotonic()`` and ``sleep()`` are the three methods of the controller's clock
(``controller/clock.py``), so devices and controller agree on what time it is.
"""

from __future__ import annotations

import asyncio
import time

__all__ = ["SimClock"]


class SimClock:
    """Monotonic simulated seconds since the clock was created, plus a unix view."""

    __slots__ = ("_offset", "_real_anchor", "_sim_anchor", "_speed", "_unix_anchor")

    def __init__(self, speed: float = 1.0, *, unix_start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        self._speed = float(speed)
        self._real_anchor = time.monotonic()
        self._sim_anchor = 0.0
        self._offset = 0.0
        self._unix_anchor = time.time() if unix_start is None else unix_start

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        if value <= 0:
            raise ValueError(f"clock speed must be positive, got {value}")
        # Re-anchor so that changing speed never makes simulated time jump.
        self._sim_anchor = self._elapsed()
        self._real_anchor = time.monotonic()
        self._speed = float(value)

    def _elapsed(self) -> float:
        return self._sim_anchor + (time.monotonic() - self._real_anchor) * self._speed

    def now(self) -> float:
        """Simulated seconds since the clock started (monotonic)."""
        return self._elapsed() + self._offset

    def unix(self) -> float:
        """Simulated wall time, for the ``When`` fields devices report."""
        return self._unix_anchor + self.now()

    # ---- the controller's clock protocol (controller/clock.py) -------------------------

    def time(self) -> float:
        """Simulated unix seconds (as ``unix()``)."""
        return self.unix()

    def monotonic(self) -> float:
        """Simulated seconds since start (as ``now()``)."""
        return self.now()

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of simulated time at the current speed (a later ``advance`` or
        change of speed does not shorten a sleep already begun)."""
        await asyncio.sleep(self.to_real(seconds))

    def advance(self, seconds: float) -> None:
        """Jump simulated time forward, so tests need not wait for a slow phase."""
        if seconds < 0:
            raise ValueError("simulated time only moves forward")
        self._offset += seconds

    def to_real(self, sim_seconds: float) -> float:
        """Real seconds that ``sim_seconds`` of simulated time take at the current speed."""
        return max(0.0, sim_seconds) / self._speed
