"""The fleet runner: builds the devices a site describes and serves them all.

```python
async with Fleet(load_site("deploy/examples/site-small.yaml"), speed=60) as fleet:
    fleet.device("127.0.1.21").faults.inject("stall")
```

Each device has its own loopback address on the standard ports (pyasic hard-codes
80 and 4028); see ``simulators.netserve`` for the exact and shared listen modes.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator

from simulators.antminer.device import AntminerDevice, AntminerOptions
from simulators.antminer.models import lookup_antminer_model
from simulators.antminer.state import DEFAULT_POOLS
from simulators.auradine.device import AuradineDevice, AuradineOptions
from simulators.auradine.models import lookup_auradine_model
from simulators.auradine.state import DEFAULT_POOLS as AURADINE_POOLS
from simulators.auradine.state import AuradineMode
from simulators.clock import SimClock
from simulators.device import PoolEntry, SimDevice
from simulators.errors import UnknownDeviceError
from simulators.gpu.site_entry import build_gpu_nodes
from simulators.meter.meter import SimMeter
from simulators.meter.site_entry import build_meter, summed_power
from simulators.netserve import DeviceServer, ListenMode, Served
from simulators.physics import WorkMode
from simulators.ports import PortMap
from simulators.site import (
    AntminerEntry,
    AuradineEntry,
    DeviceEntry,
    GpuEntry,
    MeterEntry,
    Site,
    WhatsminerEntry,
)
from simulators.whatsminer.device import WhatsminerDevice, WhatsminerOptions
from simulators.whatsminer.models import lookup_whatsminer_model
from simulators.whatsminer.state import DEFAULT_POOLS as WHATSMINER_POOLS
from simulators.whatsminer.state import PowerMode

__all__ = ["Fleet"]

_log = logging.getLogger(__name__)

Builder = Callable[[DeviceEntry, SimClock, PortMap, int], list[SimDevice]]


def _device_seed(seed: int, address: str) -> int:
    digest = hashlib.blake2b(f"{seed}:{address}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _pools(
    entry: AntminerEntry | WhatsminerEntry | AuradineEntry, default: tuple[PoolEntry, ...]
) -> tuple[PoolEntry, ...]:
    if entry.pools is None:
        return default
    return tuple(PoolEntry(p.url, p.user, p.password) for p in entry.pools)


def _build_antminers(
    entry: DeviceEntry, clock: SimClock, ports: PortMap, seed: int
) -> list[SimDevice]:
    assert isinstance(entry, AntminerEntry)
    options = AntminerOptions(
        quirks=frozenset(entry.quirks),
        faults=entry.to_faults(),
        timings=entry.to_timings(),
        set_conf_delay_s=entry.set_conf_delay_s,
        username=entry.username,
        password=entry.password,
        pools=(_pools(entry, DEFAULT_POOLS) + (PoolEntry("", "", ""),) * 3)[:3],
        uptime_s=entry.uptime_s,
        mode=WorkMode(entry.mode),
    )
    spec = lookup_antminer_model(entry.model)
    return [
        AntminerDevice(
            address, spec, clock, ports=ports, options=options, seed=_device_seed(seed, address)
        )
        for address in entry.addresses()
    ]


def _build_whatsminers(
    entry: DeviceEntry, clock: SimClock, ports: PortMap, seed: int
) -> list[SimDevice]:
    assert isinstance(entry, WhatsminerEntry)
    options = WhatsminerOptions(
        api=entry.api,
        api_writes=entry.api_writes,
        password=entry.password,
        legacy_4028=entry.legacy_4028,
        firmware=entry.firmware,
        quirks=frozenset(entry.quirks),
        faults=entry.to_faults(),
        timings=entry.to_timings(WhatsminerOptions().timings),
        pools=_pools(entry, WHATSMINER_POOLS),
        uptime_s=entry.uptime_s,
        power_mode=PowerMode(entry.power_mode),
        mineroff=entry.mineroff,
        power_limit_w=entry.power_limit_w,
    )
    spec = lookup_whatsminer_model(entry.model)
    return [
        WhatsminerDevice(
            address, spec, clock, ports=ports, options=options, seed=_device_seed(seed, address)
        )
        for address in entry.addresses()
    ]


def _build_auradines(
    entry: DeviceEntry, clock: SimClock, ports: PortMap, seed: int
) -> list[SimDevice]:
    assert isinstance(entry, AuradineEntry)
    sleep = entry.mode == "sleep"
    options = AuradineOptions(
        username=entry.username,
        password=entry.password,
        token_ttl_s=entry.token_ttl_s,
        faults=entry.to_faults(),
        timings=entry.to_timings(AuradineOptions().timings),
        pools=_pools(entry, AURADINE_POOLS),
        uptime_s=entry.uptime_s,
        mode=AuradineMode.NORMAL if sleep else AuradineMode(entry.mode),
        sleep=sleep,
        power_target_w=entry.power_target_w,
    )
    spec = lookup_auradine_model(entry.model)
    return [
        AuradineDevice(
            address, spec, clock, ports=ports, options=options, seed=_device_seed(seed, address)
        )
        for address in entry.addresses()
    ]


def _build_gpu_nodes(
    entry: DeviceEntry, clock: SimClock, ports: PortMap, seed: int
) -> list[SimDevice]:
    assert isinstance(entry, GpuEntry)
    return build_gpu_nodes(entry, clock, seed)


# One builder per `make` discriminator value; new makes register here.
_BUILDERS: dict[str, Builder] = {
    "antminer": _build_antminers,
    "whatsminer": _build_whatsminers,
    "auradine": _build_auradines,
    "gpu": _build_gpu_nodes,
}


class Fleet(Served):
    """Every device of a site, served on loopback, with one simulated clock."""

    def __init__(
        self,
        site: Site,
        *,
        speed: float = 1.0,
        listen: ListenMode = "auto",
        ports: PortMap | None = None,
        seed: int = 0,
        clock: SimClock | None = None,
    ) -> None:
        self.site = site
        self.clock = clock or SimClock(speed)
        self.ports = ports or PortMap()
        self._listen = listen
        self._devices: dict[str, SimDevice] = {}
        for entry in site.devices:
            if isinstance(entry, MeterEntry):
                continue
            for device in _BUILDERS[entry.make](entry, self.clock, self.ports, seed):
                self._devices[device.address] = device
        self._server = DeviceServer(self._devices)
        # Meters read the live device table once per Modbus read; nothing ticks in between.
        power = summed_power(self._devices.values())
        self.meters: list[SimMeter] = [
            build_meter(
                entry,
                self.clock,
                power,
                seed=_device_seed(seed, str(entry.address)),
                port=entry.port if entry.port is not None else self.ports.modbus,
            )
            for entry in site.devices
            if isinstance(entry, MeterEntry)
        ]

    @property
    def devices(self) -> list[SimDevice]:
        """Every device, in site order (a fresh list: changing it changes nothing)."""
        return list(self._devices.values())

    @property
    def listen_mode(self) -> str | None:
        """`exact` or `shared` once started; None before."""
        return self._server.mode

    def device(self, address: str) -> SimDevice:
        try:
            return self._devices[address]
        except KeyError:
            raise UnknownDeviceError(address) from None

    def __iter__(self) -> Iterator[SimDevice]:
        return iter(self._devices.values())

    def __len__(self) -> int:
        return len(self._devices)

    def meter(self, address: str) -> SimMeter:
        for meter in self.meters:
            if meter.address == address:
                return meter
        raise UnknownDeviceError(address)

    async def start(self) -> None:
        await self._server.start(self._listen)
        started: list[SimMeter] = []
        try:
            for meter in self.meters:
                await meter.start()
                started.append(meter)
        except BaseException:
            for meter in started:
                await meter.stop()
            await self._server.close()
            raise
        _log.info("fleet %s: %d devices ready", self.site.site, len(self._devices))

    async def stop(self) -> None:
        for meter in self.meters:
            await meter.stop()
        await self._server.close()
