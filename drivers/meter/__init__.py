"""Site power meter over Modbus TCP (pymodbus), configured by a register map.

```python
from drivers.meter import ModbusMeter, RegisterMap

meter = ModbusMeter("127.0.100.1", port=5020, unit_id=1,
                    register_map=RegisterMap.default(), timeout_s=2.0)
reading = await meter.read()   # MeterReading(taken_at, total_w, feeds_w, energy_wh)
await meter.close()

contact = RelayContact("127.0.100.1", port=5020, unit_id=1, coil=False, address=0)
tripped = await contact.read()  # a relay contact on a discrete input (or a coil)

RegisterMap.from_dict({"total_power": {"address": 100, "data_type": "int32",
                                       "word_order": "little", "scale": 100,
                                       "kind": "holding"}})   # kW x10 in holding registers
```

Failures: :class:`~drivers.errors.ConnectionFailed`, :class:`~drivers.errors.DeviceTimeout`,
:class:`MeterError` (a :class:`~drivers.errors.ProtocolError`: Modbus exception replies,
junk, impossible values). Bad maps: :class:`RegisterMapError` (a ValueError naming the field).
"""

from __future__ import annotations

from drivers.meter.contact import RelayContact
from drivers.meter.device import DEFAULT_PORT, ModbusMeter
from drivers.meter.errors import (
    ImplausibleValue,
    MeterError,
    ModbusExceptionResponse,
    RegisterMapError,
)
from drivers.meter.registers import DataType, Register, RegisterKind, RegisterMap, WordOrder
from drivers.meter.types import MeterReading

__all__ = [
    "DEFAULT_PORT",
    "DataType",
    "ImplausibleValue",
    "MeterError",
    "MeterReading",
    "ModbusExceptionResponse",
    "ModbusMeter",
    "Register",
    "RegisterKind",
    "RegisterMap",
    "RegisterMapError",
    "RelayContact",
    "WordOrder",
]
