"""One simulated Whatsminer: state, its services (API v2 on 4028, API v3 on 4433)."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import random

from simulators.cgminer_rpc import CgminerRpcProtocol
from simulators.clock import SimClock
from simulators.device import PoolEntry, SimMiner
from simulators.faults import FaultKind
from simulators.framed import FramedJsonProtocol
from simulators.physics import (
    MinerPhysics,
    Phase,
    PhysicsSample,
    WorkMode,
)
from simulators.ports import PortMap
from simulators.whatsminer.models import WhatsminerModel, whatsminer_physics
from simulators.whatsminer.rpc_v2 import v2_encoder, v2_reply
from simulators.whatsminer.state import (
    TokenStore,
    WhatsminerControl,
)
from simulators.whatsminer.unit import WhatsminerOptions
from simulators.whatsminer.v3 import v3_reply

__all__ = ["FIRMWARE_V2", "FIRMWARE_V3", "WhatsminerDevice", "WhatsminerOptions"]

FIRMWARE_V2 = "20230803.11.REL"  # before 2024-11: clients pick API v2
FIRMWARE_V3 = "20250110.16.Rel"  # from 2024-11: clients pick API v3
MAX_V3_CLIENTS = 10


class WhatsminerDevice(SimMiner[WhatsminerModel]):
    """A Whatsminer on one loopback address."""

    make = "whatsminer"
    closed_by = (FaultKind.REFUSE, FaultKind.RPC_DOWN)

    def __init__(
        self,
        address: str,
        spec: WhatsminerModel,
        clock: SimClock,
        *,
        ports: PortMap | None = None,
        options: WhatsminerOptions | None = None,
        seed: int = 0,
    ) -> None:
        self.options = options or WhatsminerOptions()
        super().__init__(address, spec, clock, ports, self.options.faults)
        rng = random.Random(seed)
        self.physics = MinerPhysics(
            whatsminer_physics(spec, rng),
            clock,
            timings=self.options.timings,
            seed=seed,
            uptime_s=self.options.uptime_s,
            mode=WorkMode.SLEEP if self.options.mineroff else self.options.power_mode.work_mode,
        )
        self.control = WhatsminerControl(
            self._address,
            spec,
            self.physics,
            clock,
            power_mode=self.options.power_mode,
            power_limit_w=self.options.power_limit_w,
            pools=self.options.pools,
            mineroff=self.options.mineroff,
            keeps_hashing=lambda: self._faults.has(FaultKind.ACK_SLEEP_KEEP_HASHING),
        )
        octets = ipaddress.IPv4Address(self._address).packed
        self.mac = "C4:11:" + ":".join(f"{b:02X}" for b in octets)
        self.serial = "HPWM" + "".join(f"{b:03d}" for b in octets[1:]) + "0000000000000"
        self.psu_serial = "1436B" + "".join(f"{b:03d}" for b in octets[1:])
        self.hostname = "WhatsMiner"
        digest = hashlib.sha256(f"salt:{self._address}:{seed}".encode()).hexdigest()
        self.v3_salt = "".join(ch for ch in digest if ch.isalnum())[:8]
        self.board_bins = tuple(rng.uniform(0.97, 1.03) for _ in range(spec.boards))
        default_pw = "super" if self.options.api == "v3" else "admin"
        password = self.options.password or default_pw
        self.tokens = TokenStore(password, digest[8:16], ttl_s=self.options.token_ttl_s)
        self.tokens_v3_password = password
        self.error_codes = list(self.options.error_codes)
        self._v3_clients = 0

    # ---- SimDevice ------------------------------------------------------------------

    @property
    def pools(self) -> tuple[PoolEntry, ...]:
        return self.control.pools

    @property
    def firmware(self) -> str:
        if self.options.firmware:
            return self.options.firmware
        return FIRMWARE_V3 if self.options.api == "v3" else FIRMWARE_V2

    def ports(self) -> tuple[int, ...]:
        if self.options.api == "v2":
            return (self.port_map.rpc,)
        if self.options.legacy_4028:
            return (self.port_map.rpc, self.port_map.frames)
        return (self.port_map.frames,)

    def _protocol(self, port: int, phase: Phase) -> asyncio.Protocol | None:
        if port == self.port_map.rpc:
            return CgminerRpcProtocol(
                lambda request: v2_reply(self, request), self._faults, v2_encoder(self)
            )
        if port == self.port_map.frames and self.options.api == "v3":
            if self._v3_clients >= MAX_V3_CLIENTS:
                return None
            self._v3_clients += 1
            return FramedJsonProtocol(
                lambda request: v3_reply(self, request),
                self._faults,
                on_close=self._v3_closed,
                gone=self.physics.is_offline,
            )
        return None

    def _v3_closed(self) -> None:
        self._v3_clients -= 1

    def _power_limit_w(self) -> float | None:
        return float(self.control.power_limit_w)

    # ---- helpers for the services -----------------------------------------------------

    def psu_fan_rpm(self, sample: PhysicsSample) -> int:
        """The PSU fan follows the load; it idles while the miner is off."""
        load = sample.power_w / self.spec.nameplate_w if self.spec.nameplate_w else 0.0
        return int(round((1500 + 4500 * min(1.0, load)) / 60) * 60)
