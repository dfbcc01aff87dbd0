"""A relay contact on Modbus TCP: one coil or discrete input, on the site meter or on a
separate I/O module.

```python
contact = RelayContact("127.0.100.1", port=502, unit_id=1, coil=False, address=0)
tripped = await contact.read()   # True while the contact reads its tripped state
await contact.close()
```

``tripped_when`` is the bit value that means tripped (``False`` for a normally-closed
contact wired so that a trip opens it). Failures are the transport's DriverErrors.
"""

from __future__ import annotations

import asyncio

from drivers.meter.transport import ModbusTransport

__all__ = ["RelayContact"]


class RelayContact:
    def __init__(
        self,
        host: str,
        *,
        port: int = 502,
        unit_id: int = 1,
        coil: bool = False,
        address: int = 0,
        tripped_when: bool = True,
        timeout_s: float = 1.0,
    ) -> None:
        self.host = host
        self.coil = coil
        self.address = address
        self.tripped_when = tripped_when
        self.timeout_s = timeout_s
        self._transport = ModbusTransport(host, port=port, unit_id=unit_id, timeout_s=timeout_s)

    async def read(self) -> bool:
        deadline = asyncio.get_running_loop().time() + self.timeout_s
        [bit] = await self._transport.read_bits(self.coil, self.address, 1, deadline=deadline)
        return bit == self.tripped_when

    async def close(self) -> None:
        await self._transport.close()
