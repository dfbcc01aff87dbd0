"""What every simulated device offers the fleet runner, tests and the control plane."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from simulators.faults import FaultSet

__all__ = ["DeviceSnapshot", "PoolEntry", "SimDevice"]


@dataclass(frozen=True, slots=True)
class PoolEntry:
    url: str
    user: str
    password: str


@dataclass(frozen=True, slots=True)
class DeviceSnapshot:
    """The simulator's ground truth for one device at one instant (not what it reports)."""

    address: str
    make: str
    model: str
    phase: str
    mode: str
    power_w: float
    hashrate_hs: float
    nameplate_hs: float
    nameplate_w: float
    fans_rpm: tuple[int, ...]
    chip_temps_c: tuple[float, ...]
    board_temps_c: tuple[float, ...]
    uptime_s: float
    faults: tuple[str, ...]
    pools: tuple[PoolEntry, ...]
    power_limit_w: float | None = None  # the device's configured limit, where it has one

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class SimDevice(Protocol):
    """A simulated device: its state, and a protocol for each port it serves."""

    @property
    def address(self) -> str: ...

    @property
    def make(self) -> str: ...

    @property
    def model(self) -> str: ...

    @property
    def faults(self) -> FaultSet: ...

    @property
    def pools(self) -> tuple[PoolEntry, ...]: ...

    def ports(self) -> tuple[int, ...]:
        """Every TCP port this device listens on."""
        ...

    def connection_protocol(self, port: int) -> asyncio.Protocol | None:
        """A protocol for a new connection to ``port``; None closes it at once."""
        ...

    def snapshot(self) -> DeviceSnapshot: ...

    def reboot(self) -> None: ...
