"""Where the drivers read the time they stamp on what they report.

Telemetry's ``taken_at`` and a miner's time since it was woken are compared with the
controller's own times (when a command was sent, how old a reading is), so a driver
reads the controller's clock, handed in through ``DriverSettings.clock``; on simulated
time both then move together. ``controller/clock.py`` extends this protocol with
waiting. What a protocol needs on real time stays there: socket timeouts, Whatsminer
session tokens and signed request timestamps, Slurm command timings.
"""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["SYSTEM_TIME", "SystemTime", "TimeSource"]


class TimeSource(Protocol):
    def time(self) -> float:
        """Unix seconds."""
        ...

    def monotonic(self) -> float:
        """Seconds that never go back, for intervals."""
        ...


class SystemTime:
    """Real time: a driver used on its own (``hashpivot probe``, tests)."""

    __slots__ = ()

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


SYSTEM_TIME = SystemTime()
