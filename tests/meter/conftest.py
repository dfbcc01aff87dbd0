"""Shared helpers for the meter tests: loopback addresses, free ports, a fixed-register server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from tests.conftest import free_port

SIM_HOST = "127.0.100.1"  # the simulated meter
FIXED_HOST = "127.0.100.2"  # the tiny fixed-register servers of the custom-map tests
NOBODY_HOST = "127.0.100.3"  # nothing listens here


def port_on(host: str) -> int:
    # A free port (>= 1024 from the ephemeral range) on the test's own address, so
    # concurrent test runs on the shared box do not collide.
    port = free_port(host)
    assert port >= 5020
    return port


@asynccontextmanager
async def fixed_server(
    *,
    input_registers: Sequence[int] = (),
    holding_registers: Sequence[int] = (),
    unit_id: int = 1,
) -> AsyncIterator[int]:
    """A plain pymodbus server with these register words from address 0; yields its port."""

    def block(words: Sequence[int]) -> list[SimData]:
        if not words:
            return [SimData(0, datatype=DataType.INVALID)]
        return [SimData(0, values=list(words), datatype=DataType.REGISTERS)]

    bits = [SimData(0, values=[False] * 16, datatype=DataType.BITS)]
    device = SimDevice(
        id=unit_id,
        simdata=(list(bits), list(bits), block(holding_registers), block(input_registers)),
    )
    port = port_on(FIXED_HOST)
    server = ModbusTcpServer(device, address=(FIXED_HOST, port))
    await server.serve_forever(background=True)
    try:
        yield port
    finally:
        await server.shutdown()
