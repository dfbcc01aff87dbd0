"""The fleet runner: builds the devices a site describes and serves them all.

```python
async with Fleet(load_site("deploy/examples/site-small.yaml"), speed=60) as fleet:
    fleet.device("127.0.1.21").faults.inject("stall")
```

Each device has its own loopback address on the standard ports (pyasic hard-codes
80 and 4028); see ``simulators.netserve`` for the exact and shared listen modes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from simulators.clock import SimClock
from simulators.device import SimDevice
from simulators.entry import device_seed
from simulators.errors import UnknownDeviceError
from simulators.meter.entry import MeterEntry
from simulators.meter.meter import SimMeter
from simulators.meter.site_entry import build_meter, summed_power
from simulators.netserve import DeviceServer, ListenMode, Served
from simulators.ports import PortMap
from simulators.registry import sim_spec
from simulators.site import Site

__all__ = ["Fleet"]

_log = logging.getLogger(__name__)


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
            build = sim_spec(entry.make).build  # the make's own builder (simulators/<make>/make.py)
            if build is None:
                continue
            for device in build(entry, self.clock, self.ports, seed):
                self._devices[device.address] = device
        self._server = DeviceServer(self._devices)
        # Meters read the live device table once per Modbus read; nothing ticks in between.
        power = summed_power(self._devices.values())
        self.meters: list[SimMeter] = [
            build_meter(
                entry,
                self.clock,
                power,
                seed=device_seed(seed, str(entry.address)),
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
