"""One simulated Auradine Teraflux: GCMiner RPC on 4028, FluxOS REST on 8080, UI on 80."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
from dataclasses import dataclass

from simulators.auradine.models import (
    AURADINE_TIMINGS,
    MAX_FAN_RPM,
    AuradineModel,
    auradine_physics,
)
from simulators.auradine.rest import AuradineRest
from simulators.auradine.rpc import gcminer_reply
from simulators.auradine.state import DEFAULT_POOLS, AuradineControl, AuradineMode, RestTokens
from simulators.cgminer_rpc import CgminerRpcProtocol
from simulators.clock import SimClock
from simulators.device import PoolEntry, SimMiner
from simulators.faults import Fault, FaultKind
from simulators.httpserve import HttpProtocol
from simulators.physics import MinerPhysics, Phase, Timings, WorkMode
from simulators.ports import PortMap

__all__ = ["FIRMWARE", "AuradineDevice", "AuradineOptions"]

FIRMWARE = "2024-06.11"
_MAX_FAN_RPM = MAX_FAN_RPM


@dataclass(frozen=True, slots=True, kw_only=True)
class AuradineOptions:
    username: str = "admin"
    password: str = "admin"  # noqa: S105 - the stock default, which clients assume
    token_ttl_s: float = 3600.0  # real seconds a REST token stays valid
    faults: tuple[Fault, ...] = ()
    timings: Timings = AURADINE_TIMINGS
    pools: tuple[PoolEntry, ...] = DEFAULT_POOLS
    uptime_s: float = 3600.0
    mode: AuradineMode = AuradineMode.NORMAL
    sleep: bool = False
    power_target_w: int | None = None  # custom mode with this power target


class AuradineDevice(SimMiner[AuradineModel]):
    """An Auradine on one loopback address."""

    make = "auradine"

    def __init__(
        self,
        address: str,
        spec: AuradineModel,
        clock: SimClock,
        *,
        ports: PortMap | None = None,
        options: AuradineOptions | None = None,
        seed: int = 0,
    ) -> None:
        self.options = opts = options or AuradineOptions()
        super().__init__(address, spec, clock, ports, opts.faults)
        self.max_fan_rpm = _MAX_FAN_RPM
        mode = AuradineMode.CUSTOM if opts.power_target_w else opts.mode
        self.physics = MinerPhysics(
            auradine_physics(spec),
            clock,
            timings=opts.timings,
            seed=seed,
            uptime_s=opts.uptime_s,
            mode=WorkMode.SLEEP if opts.sleep else mode.work_mode,
        )
        self.control = AuradineControl(
            self._address,
            self.physics,
            mode=mode,
            sleep=opts.sleep,
            power_target_w=opts.power_target_w,
            pools=opts.pools,
            keeps_hashing=lambda: self._faults.has(FaultKind.ACK_SLEEP_KEEP_HASHING),
        )
        self.tokens = RestTokens(opts.username, opts.password, ttl_s=opts.token_ttl_s)
        octets = ipaddress.IPv4Address(self._address).packed
        self.mac = "1c:00:" + ":".join(f"{b:02x}" for b in octets)
        self.serial = f"AU{octets[1] % 100:02d}{octets[2]:03d}{octets[3]:03d}"
        self.hostname = f"teraflux-{octets[3]:02d}"
        self.firmware = FIRMWARE
        sha = hashlib.sha1(f"fluxos:{FIRMWARE}".encode()).hexdigest()
        self.gcminer_version = FIRMWARE
        self.gcminer_description = f"GCMiner-{FIRMWARE}-{sha}"
        self.fluxos_description = f"FluxOS-{FIRMWARE}-{sha}"
        self.pout_max_w = round(spec.nameplate_w * spec.turbo[1] * 1.05, -1)
        self._rest = AuradineRest(self)

    # ---- SimDevice ------------------------------------------------------------------

    @property
    def pools(self) -> tuple[PoolEntry, ...]:
        return self.control.pools

    def ports(self) -> tuple[int, ...]:
        return (self.port_map.rpc, self.port_map.web, self.port_map.rest)

    def _protocol(self, port: int, phase: Phase) -> asyncio.Protocol | None:
        if port == self.port_map.rpc:
            if phase is Phase.BOOTING or self._faults.has(FaultKind.RPC_DOWN):
                return None  # gcminer is (re)starting: nothing listens on 4028 yet
            return CgminerRpcProtocol(lambda request: gcminer_reply(self, request), self._faults)
        if port in {self.port_map.web, self.port_map.rest}:
            if self._faults.has(FaultKind.WEB_DOWN):
                return None
            return HttpProtocol(self._rest.handle, self._faults)
        return None

    def _power_limit_w(self) -> float | None:
        power_limit = self.control.mode_targets()[0] if self.control.tune == "power" else None
        return None if power_limit is None else float(power_limit)
