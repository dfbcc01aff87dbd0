"""The site power meter: :class:`ModbusMeter` turns register reads into :class:`MeterReading`.

```python
meter = ModbusMeter("127.0.100.1", port=5020, unit_id=1, register_map=RegisterMap.default())
reading = await meter.read()     # MeterReading(taken_at, total_w, feeds_w, energy_wh)
await meter.close()
```

Every failure is a :class:`DriverError`: ConnectionFailed (refused, reset, closed),
DeviceTimeout (no reply within ``timeout_s``, which bounds the whole read, connect
included), or a MeterError (a Modbus exception reply, junk, an impossible value).
"""

from __future__ import annotations

import asyncio
import logging

from drivers.clock import SYSTEM_TIME, TimeSource
from drivers.errors import DriverError
from drivers.meter.decode import decode_reading, plan_reads
from drivers.meter.registers import RegisterKind, RegisterMap
from drivers.meter.transport import ModbusTransport
from drivers.meter.types import MeterReading

__all__ = ["DEFAULT_PORT", "ModbusMeter"]

_log = logging.getLogger(__name__)

DEFAULT_PORT = 502


class ModbusMeter:
    """A Modbus TCP power meter read through a :class:`RegisterMap`.

    One connection is opened on the first read and kept; after a failure the next
    read reconnects. Concurrent reads are serialised (one request in flight).
    """

    def __init__(
        self,
        host: str,
        *,
        port: int = DEFAULT_PORT,
        unit_id: int = 1,
        register_map: RegisterMap | None = None,
        timeout_s: float = 2.0,
        clock: TimeSource = SYSTEM_TIME,
    ) -> None:
        if not 0 <= unit_id <= 255:
            raise ValueError(f"unit_id {unit_id} is outside 0..255")
        if not 0 < port <= 0xFFFF:
            raise ValueError(f"port {port} is outside 1..65535")
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        self.host = host
        self.port = port
        self.unit_id = unit_id
        self.register_map = register_map if register_map is not None else RegisterMap.default()
        self.timeout_s = timeout_s
        self._clock = clock  # stamps readings on the controller's time (drivers/clock.py)
        self._plan = plan_reads(self.register_map)
        self._transport = ModbusTransport(host, port=port, unit_id=unit_id, timeout_s=timeout_s)
        self._lock = asyncio.Lock()
        self._failing: str | None = None  # the error code while unavailable, for logs

    async def read(self) -> MeterReading:
        """Total, per-feed power and energy, read in one pass (usually one request)."""
        async with self._lock:
            try:
                reading = await self._read()
            except DriverError as exc:
                self._note_failure(exc)
                raise
            self._note_success()
            return reading

    async def _read(self) -> MeterReading:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        words: dict[tuple[RegisterKind, int], int] = {}
        for span in self._plan:
            values = await self._transport.read(
                span.kind, span.address, span.count, deadline=deadline
            )
            for offset, word in enumerate(values):
                words[(span.kind, span.address + offset)] = word
        return decode_reading(self.register_map, words, host=self.host, taken_at=self._clock.time())

    def _note_failure(self, exc: DriverError) -> None:
        # Once per outage and once per change of cause, never once per poll.
        if self._failing != exc.code:
            _log.warning("meter %s: unavailable (%s: %s)", self.host, exc.code, exc.message)
        else:
            _log.debug("meter %s: still unavailable (%s)", self.host, exc.message)
        self._failing = exc.code

    def _note_success(self) -> None:
        if self._failing is not None:
            _log.info("meter %s: readings resumed (after %s)", self.host, self._failing)
        self._failing = None

    async def close(self) -> None:
        """Close the connection; a later read would open a new one."""
        async with self._lock:
            await self._transport.close()

    async def __aenter__(self) -> ModbusMeter:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"ModbusMeter({self.host}:{self.port}, unit {self.unit_id})"
