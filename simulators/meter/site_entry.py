"""Hooks for a ``make: meter`` entry in ``hashpivot sim`` site files.

The site loader owns the entry model; this module owns what a meter entry means,
as ``simulators.gpu.site_entry`` does for GPU nodes. An entry reads:

```yaml
  - make: meter
    address: 127.0.100.1    # one meter per entry
    port: 502               # optional; default: the fleet's Modbus port (5020 unprivileged)
    unit_id: 1              # optional
    feeds: 2                # optional
    base_load_w: 50000      # optional: cooling, offices, anything not simulated
    noise: 0.005            # optional: relative amplitude of uniform noise
    energy_start_wh: 0      # optional: the import counter at start
    faults: [stall]         # optional: refuse | stall | slow=S | exception | garbage
```

The fleet passes ``summed_power(devices)``: what the meter serves is the sum of every
simulated device's ``snapshot().power_w``, sampled once per Modbus read.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address
from typing import Protocol

from simulators.clock import SimClock
from simulators.device import SimDevice
from simulators.meter.faults import parse_meter_fault
from simulators.meter.meter import MODBUS_PORT, SimMeter
from simulators.meter.state import PowerSource

__all__ = [
    "UNPRIVILEGED_MODBUS_PORT",
    "MeterEntryLike",
    "build_meter",
    "summed_power",
    "valid_meter_faults",
]

UNPRIVILEGED_MODBUS_PORT = 5020  # simulators.ports.PortMap.unprivileged() uses the same


class MeterEntryLike(Protocol):
    @property
    def address(self) -> str | IPv4Address: ...  # the site model keeps an IPv4Address

    @property
    def port(self) -> int | None: ...  # None: the fleet's Modbus port (502, or 5020 unprivileged)

    unit_id: int
    feeds: int
    base_load_w: float
    noise: float
    energy_start_wh: float
    faults: tuple[str, ...]


def valid_meter_faults(values: tuple[str, ...]) -> tuple[str, ...]:
    """A site-file validator: UnknownFaultError (a ValueError) names a bad fault."""
    for value in values:
        parse_meter_fault(value)
    return values


def summed_power(devices: Iterable[SimDevice]) -> PowerSource:
    """A power source over live devices; each call reads every device once.

    ``devices`` is iterated on every call, so pass a collection (or a live view),
    not a one-shot iterator.
    """

    def total_w() -> float:
        return sum(device.snapshot().power_w for device in devices)

    return total_w


def build_meter(
    entry: MeterEntryLike,
    clock: SimClock,
    power_source: PowerSource,
    *,
    seed: int = 0,
    port: int | None = None,
) -> SimMeter:
    """The meter an entry describes; ``port`` overrides the entry's, which defaults to 502."""
    return SimMeter(
        power_source,
        base_load_w=entry.base_load_w,
        feeds=entry.feeds,
        noise=entry.noise,
        address=str(entry.address),
        port=port if port is not None else entry.port if entry.port is not None else MODBUS_PORT,
        unit_id=entry.unit_id,
        seed=seed,
        clock=clock,
        energy_start_wh=entry.energy_start_wh,
        faults=entry.faults,
    )
