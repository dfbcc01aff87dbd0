"""The simulated site meter registers itself (docs/adding-a-make.md).

It serves no device of its own: the fleet builds it after the devices, since what
it reads is their summed power (simulators/meter/site_entry.py).
"""

from __future__ import annotations

from simulators.meter.entry import MeterEntry
from simulators.registry import SimMakeSpec

__all__ = ["SPEC"]

SPEC = SimMakeSpec(
    make="meter",
    serves="the site meter over Modbus TCP on 502: every device's power plus its base load.",
    entry=MeterEntry,
    build=None,
)
