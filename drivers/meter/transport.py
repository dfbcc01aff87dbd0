"""One persistent Modbus TCP connection to a meter, with reconnect and hard deadlines.

pymodbus does the framing; this layer decides what its outcomes mean. Three things
pymodbus alone would report late or not at all, and this layer reports at once:

* the meter closing the connection mid-request (pymodbus waits out its timeout):
  seen through ``trace_connect`` and raised as :class:`ConnectionFailed`;
* junk instead of a reply (pymodbus skips it and waits): seen through
  ``trace_packet`` by :func:`check_reply` and raised as :class:`MeterError`;
* a hung meter: every call runs under the caller's deadline, and pymodbus's own
  timeout is set longer, so the deadline alone decides and says :class:`DeviceTimeout`.

After a timeout or a protocol error the connection is dropped, so a late or
desynchronised reply can never be taken for the answer to the next request; the next
call reconnects. pymodbus's own reconnect loop is off: reconnects happen on demand.
"""

from __future__ import annotations

import asyncio
import functools
import logging

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException
from pymodbus.pdu import ModbusPDU

from drivers.errors import ConnectionFailed, DeviceTimeout, DriverError
from drivers.meter.errors import MeterError, ModbusExceptionResponse
from drivers.meter.frames import check_reply
from drivers.meter.registers import RegisterKind

__all__ = ["ModbusTransport"]

_log = logging.getLogger(__name__)


class ModbusTransport:
    """Register reads over one reused connection; every call bounded by a deadline."""

    def __init__(self, host: str, *, port: int, unit_id: int, timeout_s: float) -> None:
        self.host = host
        self.port = port
        self.unit_id = unit_id
        self._timeout_s = timeout_s
        self._sent = b""
        self._interrupt: asyncio.Future[None] | None = None
        self._client: AsyncModbusTcpClient | None = None
        self._generation = 0

    def _new_client(self) -> AsyncModbusTcpClient:
        # A fresh client per connection: a closed pymodbus client that reconnects can
        # have its new socket closed by the old one's late connection_lost. Callbacks
        # carry the generation, so events from an old connection are ignored.
        self._generation += 1
        generation = self._generation
        return AsyncModbusTcpClient(
            self.host,
            port=self.port,
            name=f"meter {self.host}:{self.port}",
            # Longer than any deadline we give, so that our deadline is what fires.
            timeout=2 * self._timeout_s + 1.0,
            retries=0,
            reconnect_delay=0,  # reconnect on the next call, not in the background
            trace_packet=functools.partial(self._on_packet, generation),
            trace_connect=functools.partial(self._on_connect, generation),
        )

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.connected

    async def read(
        self, kind: RegisterKind, address: int, count: int, *, deadline: float
    ) -> list[int]:
        """``count`` register words from ``address``; ``deadline`` is event-loop time."""
        call = "read_input_registers" if kind is RegisterKind.INPUT else "read_holding_registers"
        response = await self._exchange(call, address, count, deadline, f"{kind} {address}+{count}")
        registers = list(response.registers)
        if len(registers) != count:
            self.drop()
            raise MeterError(self.host, f"asked {count} registers, got {len(registers)}")
        return registers

    async def read_bits(
        self, coils: bool, address: int, count: int, *, deadline: float
    ) -> list[bool]:
        """``count`` coils (or discrete inputs) from ``address``: a relay contact, say."""
        call = "read_coils" if coils else "read_discrete_inputs"
        what = f"{'coil' if coils else 'discrete input'} {address}+{count}"
        response = await self._exchange(call, address, count, deadline, what)
        bits = list(response.bits)
        if len(bits) < count:  # bits come padded to whole bytes
            self.drop()
            raise MeterError(self.host, f"asked {count} bits, got {len(bits)}")
        return [bool(b) for b in bits[:count]]

    async def _exchange(
        self, call: str, address: int, count: int, deadline: float, what: str
    ) -> ModbusPDU:
        loop = asyncio.get_running_loop()
        interrupt: asyncio.Future[None] = loop.create_future()
        self._interrupt = interrupt
        try:
            async with asyncio.timeout_at(deadline):
                client = self._client
                if client is None or not client.connected:
                    client = await self._connect()
                response = await self._request(client, call, address, count, interrupt)
        except TimeoutError:
            self.drop()
            raise DeviceTimeout(self.host, f"no reply within the deadline ({what})") from None
        except (DriverError, asyncio.CancelledError):
            self.drop()  # a reply may still be on its way: never read it as the next one's
            raise
        finally:
            self._interrupt = None
            if interrupt.done() and not interrupt.cancelled():
                interrupt.exception()  # retrieved: the error was raised or is moot
        if response.isError():
            raise ModbusExceptionResponse(
                self.host,
                function_code=response.function_code & 0x7F,
                exception_code=int(getattr(response, "exception_code", 0)),
            )
        return response

    async def _connect(self) -> AsyncModbusTcpClient:
        self.drop()
        client = self._client = self._new_client()
        if not await client.connect():
            raise ConnectionFailed(self.host, f"cannot connect to {self.host}:{self.port}")
        _log.debug("meter %s: connected to port %s", self.host, self.port)
        return client

    async def _request(
        self,
        client: AsyncModbusTcpClient,
        call: str,
        address: int,
        count: int,
        interrupt: asyncio.Future[None],
    ) -> ModbusPDU:
        methods = {
            "read_input_registers": client.read_input_registers,
            "read_holding_registers": client.read_holding_registers,
            "read_coils": client.read_coils,
            "read_discrete_inputs": client.read_discrete_inputs,
        }
        method = methods[call]
        try:
            request = asyncio.ensure_future(method(address, count=count, device_id=self.unit_id))
        except ConnectionException as exc:  # the connection dropped before we could send
            raise ConnectionFailed(self.host, f"connection lost: {exc}") from None
        try:
            await asyncio.wait((request, interrupt), return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not request.done():
                request.cancel()
        # A reply that made it in wins over a close that came right after it.
        if request.done() and not request.cancelled() and request.exception() is None:
            return request.result()
        if interrupt.done():
            interrupt.result()  # raises what the trace callbacks saw
        try:
            return request.result()
        except ConnectionException as exc:
            raise ConnectionFailed(self.host, f"connection lost: {exc}") from None
        except ModbusException as exc:
            raise MeterError(self.host, f"pymodbus: {exc}") from None

    def _on_connect(self, generation: int, up: bool) -> None:
        if not up and generation == self._generation:
            self._fail(ConnectionFailed(self.host, "the meter closed the connection"))

    def _on_packet(self, generation: int, sending: bool, data: bytes) -> bytes:
        if generation != self._generation:
            return b""  # a straggler from a dropped connection
        if sending:
            self._sent = data
            return data
        try:
            check_reply(self._sent, data, host=self.host)
        except MeterError as exc:
            self._fail(exc)
            return b""  # hand pymodbus nothing to frame; the connection is dropped next
        return data

    def _fail(self, exc: DriverError) -> None:
        interrupt = self._interrupt
        if interrupt is not None and not interrupt.done():
            interrupt.set_exception(exc)

    def drop(self) -> None:
        """Close the connection; the next read reconnects."""
        client, self._client = self._client, None
        self._generation += 1  # whatever the old connection still reports is moot
        if client is not None:
            client.close()

    async def close(self) -> None:
        self.drop()
        await asyncio.sleep(0)  # let the transport's close callbacks run
