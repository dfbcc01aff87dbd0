"""The simulated meter's Modbus TCP service: pymodbus's server, with faults on the wire.

Register values come from a pymodbus ``SimDevice`` action, which runs on every read:
that is where the meter samples its state, so values are computed only when read.
Network faults need the connection itself, so each connection gets a request handler
that consults the meter's faults before pymodbus sees a byte.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.server.requesthandler import ServerRequestHandler
from pymodbus.simulator import DataType, SimData, SimDevice
from pymodbus.simulator.simutils import SimUtils

from simulators.faults import FaultKind, FaultSet
from simulators.meter.layout import register_count

__all__ = ["MeterServer", "build_sim_devices"]

READ_INPUT_REGISTERS = 4
READ_BITS = (1, 2)  # read coils, read discrete inputs
RELAY_BITS = 64  # bit addresses 0..63 answer; the relay is one of them

# Fills the input registers (all of them, from address 0) just before a read answers.
Fill = Callable[[list[int]], None]


def build_sim_devices(
    unit_id: int,
    feeds: int,
    faults: FaultSet,
    fill: Fill,
    relay: Callable[[], bool] = lambda: False,
    relay_address: int = 0,
) -> list[SimDevice]:
    """The meter at ``unit_id``, and a catch-all that answers other units as a gateway would.

    The relay contact reads at bit ``relay_address`` of both the coils and the discrete
    inputs (sites wire it to one or the other); every other bit reads 0.
    """

    async def action(
        function_code: int,
        _start_address: int,
        _address: int,
        _count: int,
        registers: list[int],
        _values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        if faults.slow_s:
            await asyncio.sleep(faults.slow_s)
        if faults.has(FaultKind.EXCEPTION):
            return ExcCodes.DEVICE_FAILURE
        if function_code == READ_INPUT_REGISTERS:
            fill(registers)
        elif function_code in READ_BITS:
            bits = SimUtils.registersToBits(registers)
            bits[relay_address] = relay()
            registers[:] = SimUtils.bitsToRegisters(bits)
        return None

    async def no_such_unit(*_args: Any) -> ExcCodes | None:
        return ExcCodes.GATEWAY_NO_RESPONSE

    bits = [SimData(0, values=[False] * RELAY_BITS, datatype=DataType.BITS)]
    meter = SimDevice(
        id=unit_id,
        use_bit_addressing=True,  # bit N is bit N, not register N
        simdata=(
            list(bits),  # coils: the relay contact, read only
            list(bits),  # discrete inputs: the same contact
            [SimData(0, datatype=DataType.INVALID)],  # holding registers: not implemented
            [SimData(0, count=register_count(feeds), values=0, datatype=DataType.REGISTERS)],
        ),
        action=action,
    )
    if unit_id == 0:  # unit 0 answers every unit id
        return [meter]
    # pymodbus checks addresses before the action runs: give the catch-all the room of
    # one full read, so a wrong unit id is answered 11 rather than "illegal address".
    room = max(register_count(feeds), 125)
    others = SimDevice(
        id=0,
        simdata=[SimData(0, count=room, values=0, datatype=DataType.REGISTERS)],
        action=no_such_unit,
    )
    return [meter, others]


class _FaultyHandler(ServerRequestHandler):
    """One client connection; applies refuse, stall and garbage before pymodbus framing."""

    def __init__(self, server: MeterServer) -> None:
        super().__init__(  # type: ignore[no-untyped-call]  # pymodbus leaves it untyped
            server, server.trace_packet, server.trace_pdu, server.trace_connect
        )
        self._faults = server.faults
        self._junk = server.junk

    def callback_connected(self) -> None:
        super().callback_connected()
        if self._faults.has(FaultKind.REFUSE):
            self._abort()

    def callback_data(self, data: bytes, addr: tuple[Any, ...] | None = None) -> int:
        if self._faults.has(FaultKind.REFUSE):
            self._abort()
            return len(data)
        if self._faults.has(FaultKind.STALL):
            return len(data)  # read and forgotten: the client waits out its timeout
        if self._faults.has(FaultKind.GARBAGE):
            self.send(self._junk())
            return len(data)
        return super().callback_data(data, addr)

    def _abort(self) -> None:
        transport = self.transport
        if isinstance(transport, asyncio.Transport) and not transport.is_closing():
            transport.abort()  # a reset, not a polite close: what a dead meter gateway does


class MeterServer(ModbusTcpServer):
    """pymodbus's TCP server with a fault-aware handler per connection."""

    def __init__(
        self,
        devices: list[SimDevice],
        *,
        address: tuple[str, int],
        faults: FaultSet,
        seed: int,
    ) -> None:
        super().__init__(devices, address=address)
        self.faults = faults
        self._rng = random.Random(seed)

    def junk(self) -> bytes:
        """Bytes that cannot be a Modbus TCP reply: the protocol id is never 0."""
        data = bytearray(self._rng.randbytes(12))
        data[2] |= 0x80
        return bytes(data)

    def callback_new_connection(self) -> ServerRequestHandler:
        return _FaultyHandler(self)
