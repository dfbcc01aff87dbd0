"""An Antminer as its services see it: the options it was built with, and the
:class:`AntminerUnit` interface that the CGMiner RPC (``rpc.py``) and the CGI web API
(``web.py``) read and change. The device (``device.py``) implements it and serves them;
they name this interface, not the device, so no module of the package imports back the
one that imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from simulators.antminer.models import ANTMINER_TIMINGS, AntminerModel
from simulators.antminer.state import DEFAULT_POOLS, AntminerQuirk, MinerConf
from simulators.device import MinerUnit, PoolEntry
from simulators.faults import Fault, FaultSet
from simulators.httpserve import DigestAuth
from simulators.physics import PhysicsSample, Timings, WorkMode

__all__ = ["AntminerOptions", "AntminerUnit", "ShareCounters"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AntminerOptions:
    quirks: frozenset[AntminerQuirk] = frozenset()
    faults: tuple[Fault, ...] = ()
    timings: Timings = ANTMINER_TIMINGS
    # Real seconds set_miner_conf takes to answer; None: 20-35 simulated seconds with
    # the slow_set_conf quirk, immediate without it.
    set_conf_delay_s: float | None = None
    username: str = "root"
    password: str = "root"  # noqa: S105 - the stock default, which clients assume
    pools: tuple[PoolEntry, ...] = DEFAULT_POOLS
    uptime_s: float = 3600.0
    mode: WorkMode = WorkMode.NORMAL


@dataclass(frozen=True, slots=True, kw_only=True)
class ShareCounters:
    accepted: int
    rejected: int
    hardware_errors: int
    getworks: int
    best_share: int


class AntminerUnit(MinerUnit, Protocol):
    # Written by the web API: the configuration it saves, the locate LED.
    conf: MinerConf
    blinking: bool

    @property
    def spec(self) -> AntminerModel: ...

    @property
    def options(self) -> AntminerOptions: ...

    @property
    def faults(self) -> FaultSet: ...

    @property
    def auth(self) -> DigestAuth: ...

    @property
    def pools(self) -> tuple[PoolEntry, ...]: ...

    @property
    def miner_id(self) -> str: ...

    def counters(self, uptime_s: float) -> ShareCounters: ...

    def board_sensors(
        self, sample: PhysicsSample, board: int
    ) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]: ...

    def set_conf_delay_s(self) -> float: ...
