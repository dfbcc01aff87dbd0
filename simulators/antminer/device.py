"""One simulated stock-firmware Antminer: state, its two services, scenario verbs."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import random

from simulators.antminer.models import AntminerModel, antminer_physics
from simulators.antminer.rpc import rpc_reply
from simulators.antminer.state import AntminerQuirk, MinerConf
from simulators.antminer.unit import AntminerOptions, ShareCounters
from simulators.antminer.web import REALM, AntminerWeb
from simulators.cgminer_rpc import CgminerRpcProtocol
from simulators.clock import SimClock
from simulators.device import PoolEntry, SimMiner
from simulators.faults import FaultKind
from simulators.httpserve import DigestAuth, HttpProtocol
from simulators.physics import MinerPhysics, Phase, PhysicsSample
from simulators.ports import PortMap

__all__ = ["AntminerDevice", "AntminerOptions", "ShareCounters"]

_SHARE_DIFFICULTY = 524288


class AntminerDevice(SimMiner[AntminerModel]):
    """A stock Antminer on one loopback address: CGMiner RPC plus the CGI web API."""

    make = "antminer"

    def __init__(
        self,
        address: str,
        spec: AntminerModel,
        clock: SimClock,
        *,
        ports: PortMap | None = None,
        options: AntminerOptions | None = None,
        seed: int = 0,
    ) -> None:
        self.options = options or AntminerOptions()
        super().__init__(address, spec, clock, ports, self.options.faults)
        self._rng = random.Random(seed)
        self.conf = MinerConf(pools=self.options.pools, work_mode=self.options.mode)
        self.physics = MinerPhysics(
            antminer_physics(spec),
            clock,
            timings=self.options.timings,
            seed=seed,
            uptime_s=self.options.uptime_s,
            mode=self.options.mode,
        )
        self.auth = DigestAuth(REALM, self.options.username, self.options.password)
        self.blinking = False
        octets = ipaddress.IPv4Address(self._address).packed
        self.mac = "02:48:50:" + ":".join(f"{b:02X}" for b in octets[1:])
        self.serial = "HPSIM" + "".join(f"{b:03d}" for b in octets[1:])
        self.hostname = "Antminer"
        self.miner_id = hashlib.md5(self._address.encode()).hexdigest()[:16]
        self._web = AntminerWeb(self)

    # ---- SimDevice ------------------------------------------------------------------

    @property
    def pools(self) -> tuple[PoolEntry, ...]:
        return self.conf.pools

    def ports(self) -> tuple[int, ...]:
        return (self.port_map.rpc, self.port_map.web)

    def _protocol(self, port: int, phase: Phase) -> asyncio.Protocol | None:
        if port == self.port_map.rpc:
            if phase is Phase.BOOTING or self._faults.has(FaultKind.RPC_DOWN):
                return None  # bmminer is restarting: nothing listens on 4028 yet
            return CgminerRpcProtocol(lambda request: rpc_reply(self, request), self._faults)
        if port == self.port_map.web:
            if self._faults.has(FaultKind.WEB_DOWN):
                return None
            return HttpProtocol(self._web.handle, self._faults)
        return None

    # ---- helpers for the services -----------------------------------------------------

    def set_conf_delay_s(self) -> float:
        if self.options.set_conf_delay_s is not None:
            return self.options.set_conf_delay_s
        if AntminerQuirk.SLOW_SET_CONF in self.options.quirks:
            return self.clock.to_real(self._rng.uniform(20.0, 35.0))
        return 0.0

    def counters(self, uptime_s: float) -> ShareCounters:
        """Share counters consistent with the nameplate rate over the process uptime."""
        hashes = self.spec.nameplate_hs * uptime_s * 0.98
        accepted = int(hashes / (_SHARE_DIFFICULTY * 2**32))
        return ShareCounters(
            accepted=accepted,
            rejected=accepted // 400,
            hardware_errors=int(uptime_s // 90),
            getworks=int(uptime_s // 30) + 3,
            best_share=int(_SHARE_DIFFICULTY * 2**32 / 1e6 * (1 + accepted % 97)),
        )

    def board_sensors(
        self, sample: PhysicsSample, board: int
    ) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
        """Four PCB and four chip sensors of one board, as the firmware lists them."""
        pcb = sample.pcb_temps_c[board]
        chip = sample.chip_temps_c[board]
        inlet = self.physics.spec.ambient_c
        pcb4 = (round(pcb + 6), round(max(inlet, pcb - 18)), round(pcb - 2), round(pcb))
        chip4 = (round(chip + 6), round(max(inlet, chip - 18)), round(chip - 2), round(chip))
        return pcb4, chip4
