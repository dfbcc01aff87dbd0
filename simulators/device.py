"""What every simulated device offers the fleet runner, tests and the control plane,
and :class:`SimMiner`, what the simulated miners share."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from simulators.cgminer_rpc import StallProtocol
from simulators.clock import SimClock
from simulators.faults import Fault, FaultKind, FaultSet
from simulators.physics import MinerPhysics, Phase
from simulators.ports import PortMap

__all__ = ["DeviceSnapshot", "MinerModel", "MinerUnit", "PoolEntry", "SimDevice", "SimMiner"]


@dataclass(frozen=True, slots=True)
class PoolEntry:
    url: str
    user: str
    password: str


@dataclass(frozen=True, slots=True, kw_only=True)
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


class MinerModel(Protocol):
    """What the shared miner code reads of a make's model table row."""

    @property
    def name(self) -> str: ...

    @property
    def nameplate_hs(self) -> float: ...

    @property
    def nameplate_w(self) -> float: ...


_Model = TypeVar("_Model", bound=MinerModel)


class MinerUnit(Protocol):
    """What every miner's services read of the unit they serve; each make's ``unit.py``
    adds its own (its spec, options, control state)."""

    @property
    def address(self) -> str: ...

    @property
    def clock(self) -> SimClock: ...

    @property
    def physics(self) -> MinerPhysics: ...

    @property
    def hostname(self) -> str: ...

    @property
    def mac(self) -> str: ...

    @property
    def serial(self) -> str: ...

    def ignores_writes(self) -> bool: ...

    def reboot(self) -> None: ...


class SimMiner(Generic[_Model]):
    """A simulated miner on one loopback address, driven by :class:`MinerPhysics`.

    A make sets ``physics`` and serves its ports in :meth:`_protocol`; the faults that
    close or stall every port, the reboot and the snapshot are the same for all.
    """

    make: ClassVar[str]
    closed_by: ClassVar[tuple[FaultKind, ...]] = (FaultKind.REFUSE,)  # every port shut
    physics: MinerPhysics

    def __init__(
        self,
        address: str,
        spec: _Model,
        clock: SimClock,
        ports: PortMap | None,
        faults: tuple[Fault, ...],
    ) -> None:
        self._address = str(ipaddress.IPv4Address(address))
        self.spec = spec
        self.clock = clock
        self.port_map = ports or PortMap()
        self._faults = FaultSet(self._address, faults)

    @property
    def address(self) -> str:
        return self._address

    @property
    def model(self) -> str:
        return self.spec.name

    @property
    def faults(self) -> FaultSet:
        return self._faults

    @property
    def pools(self) -> tuple[PoolEntry, ...]:
        raise NotImplementedError

    def connection_protocol(self, port: int) -> asyncio.Protocol | None:
        if any(self._faults.has(kind) for kind in self.closed_by):
            return None
        phase = self.physics.phase()
        if phase is Phase.REBOOTING:
            return None
        if self._faults.has(FaultKind.STALL):
            return StallProtocol()
        return self._protocol(port, phase)

    def _protocol(self, port: int, phase: Phase) -> asyncio.Protocol | None:
        """The make's service on ``port`` (None closes the connection)."""
        raise NotImplementedError

    def snapshot(self) -> DeviceSnapshot:
        s = self.physics.sample()
        return DeviceSnapshot(
            address=self._address,
            make=self.make,
            model=self.model,
            phase=s.phase.value,
            mode=s.mode.value,
            power_w=round(s.power_w, 1),
            hashrate_hs=s.hashrate_hs,
            nameplate_hs=self.spec.nameplate_hs,
            nameplate_w=self.spec.nameplate_w,
            fans_rpm=s.fans_rpm,
            chip_temps_c=s.chip_temps_c,
            board_temps_c=s.pcb_temps_c,
            uptime_s=round(s.uptime_s, 1),
            faults=tuple(str(f) for f in self._faults.active),
            pools=self.pools,
            power_limit_w=self._power_limit_w(),
        )

    def _power_limit_w(self) -> float | None:
        """The configured power limit, for makes that have one."""
        return None

    def ignores_writes(self) -> bool:
        """The ``ignore_writes`` fault: services acknowledge a write and carry out nothing."""
        return self._faults.has(FaultKind.IGNORE_WRITES)

    def reboot(self) -> None:
        logging.getLogger(type(self).__module__).info("%s: rebooting", self._address)
        self.physics.reboot()
