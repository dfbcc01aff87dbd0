"""One simulated site power meter: :class:`SimMeter`.

```python
meter = SimMeter(power_source=lambda: 123_456.0, base_load_w=50_000.0, feeds=2,
                 noise=0.005, address="127.0.100.1", port=5020, unit_id=1, seed=0)
async with meter:                       # serves Modbus TCP (layout: simulators.meter.layout)
    meter.faults.inject("stall")        # refuse | stall | slow=S | exception | garbage
    meter.faults.clear()
    meter.snapshot()                    # MeterSnapshot: total_w, feeds_w, energy_wh, true_w
    meter.set_relay(True)               # the relay contact (coil and discrete input) trips
```

The relay contact reads 1 at bit ``relay_address`` of the coils and discrete inputs while
tripped; ``set_relay(False)`` resets it (the control plane's ``POST .../relay``).

```
```

The served total is ``power_source() + base_load_w`` times ``1 + U(-noise, noise)``,
split across ``feeds`` by a fixed seeded imbalance. ``power_source`` is called once per
Modbus read (and once per ``snapshot()``), never in between.
"""

from __future__ import annotations

import asyncio
import logging

from simulators.clock import SimClock
from simulators.errors import PortUnavailableError
from simulators.faults import Fault
from simulators.meter.faults import meter_faults, parse_meter_fault
from simulators.meter.layout import MAX_FEEDS, encode_values
from simulators.meter.server import RELAY_BITS, MeterServer, build_sim_devices
from simulators.meter.state import MeterSnapshot, MeterState, PowerSource
from simulators.netserve import Served, bind_socket

__all__ = ["MODBUS_PORT", "SimMeter"]

_log = logging.getLogger(__name__)

MODBUS_PORT = 502


class SimMeter(Served):
    """A Modbus TCP power meter over a power source, on a real loopback socket."""

    make = "meter"
    model = "modbus"

    def __init__(
        self,
        power_source: PowerSource,
        *,
        base_load_w: float = 0.0,
        feeds: int = 2,
        noise: float = 0.0,
        address: str = "127.0.0.1",
        port: int = MODBUS_PORT,
        unit_id: int = 1,
        seed: int = 0,
        clock: SimClock | None = None,
        energy_start_wh: float = 0.0,
        faults: tuple[str | Fault, ...] = (),
        relay_address: int = 0,
    ) -> None:
        if not 0 <= feeds <= MAX_FEEDS:
            raise ValueError(f"feeds must be in 0..{MAX_FEEDS}, got {feeds}")
        if not 0 <= unit_id <= 255:
            raise ValueError(f"unit_id must be in 0..255, got {unit_id}")
        self.address = address
        self.port = port
        self.unit_id = unit_id
        self._seed = seed
        self.faults = meter_faults(address, tuple(parse_meter_fault(f) for f in faults))
        self._state = MeterState(
            power_source,
            base_load_w=base_load_w,
            feeds=feeds,
            noise=noise,
            seed=seed,
            clock=clock,
            energy_start_wh=energy_start_wh,
        )
        self._server: MeterServer | None = None
        if not 0 <= relay_address < RELAY_BITS:
            raise ValueError(f"relay_address must be in 0..{RELAY_BITS - 1}, got {relay_address}")
        self.relay_address = relay_address
        self.relay_tripped = False

    def set_relay(self, tripped: bool) -> None:
        """Trip (or reset) the relay contact the meter reads."""
        if tripped != self.relay_tripped:
            _log.info("meter %s: relay %s", self.address, "tripped" if tripped else "reset")
        self.relay_tripped = tripped

    @property
    def feeds(self) -> int:
        return self._state.feeds

    @property
    def serving(self) -> bool:
        return self._server is not None

    def snapshot(self) -> MeterSnapshot:
        """A fresh sample: what a read now would serve (it advances the energy counter)."""
        return self._state.sample()

    @property
    def last_served(self) -> MeterSnapshot | None:
        """The sample behind the last Modbus read that was answered, if any."""
        return self._state.last_served

    def _fill(self, registers: list[int]) -> None:
        sample = self._state.sample()
        self._state.last_served = sample
        words = encode_values(sample.total_w, sample.feeds_w, sample.energy_wh)
        registers[: len(words)] = words

    async def start(self) -> None:
        if self._server is not None:
            return
        bind_socket(self.address, self.port).close()  # pymodbus only logs why a bind failed
        devices = build_sim_devices(
            self.unit_id,
            self.feeds,
            self.faults,
            self._fill,
            lambda: self.relay_tripped,
            self.relay_address,
        )
        server = MeterServer(
            devices, address=(self.address, self.port), faults=self.faults, seed=self._seed
        )
        try:
            await server.serve_forever(background=True)
        except RuntimeError:
            raise PortUnavailableError(
                f"cannot listen on {self.address}:{self.port}", host=self.address, port=self.port
            ) from None
        self._server = server
        _log.info("meter %s: serving Modbus TCP on port %s", self.address, self.port)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            # Closes the listener and every open connection; pymodbus leaves it untyped.
            await server.shutdown()  # type: ignore[no-untyped-call]
            await asyncio.sleep(0)

    def __repr__(self) -> str:
        return f"SimMeter({self.address}:{self.port}, unit {self.unit_id}, {self.feeds} feeds)"
