"""Settings every driver takes: timeouts and credentials, as plain frozen data."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.clock import SYSTEM_TIME, TimeSource

__all__ = ["Credentials", "DriverSettings"]


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str

    def __repr__(self) -> str:  # never leak a password into a log line or traceback
        return f"Credentials(username={self.username!r}, password='***')"


@dataclass(frozen=True, slots=True, kw_only=True)
class DriverSettings:
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 10.0
    # Stock Antminer set_miner_conf can take 20-35 s to answer (docs/protocols.md §1.2 quirk a).
    write_timeout_s: float = 40.0
    # Upper bound on requests in flight to one device; firmware web servers are single-threaded.
    per_device_concurrency: int = 2
    # Not a setting but a dependency every driver needs: the clock telemetry is stamped
    # with, the controller's own (drivers/clock.py), so a reading's age and a command's
    # time compare on one time base, simulated time included.
    clock: TimeSource = SYSTEM_TIME
