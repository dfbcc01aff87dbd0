"""A simulated site power meter: Modbus TCP (pymodbus server) over a power source.

See :mod:`simulators.meter.meter` for the API and :mod:`simulators.meter.layout` for
the register layout it serves. It never imports the drivers: the layout here and the
driver's ``RegisterMap.default()`` are two independent readings of one spec.
"""

from __future__ import annotations

from simulators.meter.faults import METER_FAULTS, meter_faults, parse_meter_fault
from simulators.meter.meter import MODBUS_PORT, SimMeter
from simulators.meter.state import MeterSnapshot, PowerSource

__all__ = [
    "METER_FAULTS",
    "MODBUS_PORT",
    "MeterSnapshot",
    "PowerSource",
    "SimMeter",
    "meter_faults",
    "parse_meter_fault",
]
