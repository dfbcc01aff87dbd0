"""Every simulated meter fault reaches the driver as the right typed error, within its timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from drivers.errors import ConnectionFailed, DeviceTimeout, DriverError, ProtocolError
from drivers.meter import MeterError, ModbusExceptionResponse, ModbusMeter
from simulators.meter import SimMeter
from tests.meter.conftest import NOBODY_HOST, SIM_HOST, port_on

TIMEOUT_S = 0.4


@pytest.fixture
async def sim() -> AsyncIterator[SimMeter]:
    async with SimMeter(lambda: 10_000.0, address=SIM_HOST, port=port_on(SIM_HOST)) as meter:
        yield meter


@pytest.fixture
async def meter(sim: SimMeter) -> AsyncIterator[ModbusMeter]:
    driver = ModbusMeter(SIM_HOST, port=sim.port, timeout_s=TIMEOUT_S)
    yield driver
    await driver.close()


async def _fails_with(meter: ModbusMeter, error: type[DriverError]) -> DriverError:
    started = time.monotonic()
    with pytest.raises(error) as info:
        await meter.read()
    assert time.monotonic() - started < TIMEOUT_S + 0.2
    assert info.value.host == SIM_HOST
    return info.value


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("refuse", ConnectionFailed),
        ("stall", DeviceTimeout),
        ("slow=2", DeviceTimeout),
        ("exception", ModbusExceptionResponse),
        ("garbage", MeterError),
        ("malformed", MeterError),
    ],
)
async def test_fault_gives_typed_error_then_recovers(
    sim: SimMeter, meter: ModbusMeter, fault: str, error: type[DriverError]
) -> None:
    await meter.read()  # connected and healthy first: faults must reach a live connection
    sim.faults.inject(fault)
    await _fails_with(meter, error)
    await _fails_with(meter, error)  # and again on the reconnect
    sim.faults.clear()
    reading = await meter.read()
    assert reading.total_w == pytest.approx(10_000.0)


async def test_fault_before_the_first_connection(sim: SimMeter, meter: ModbusMeter) -> None:
    sim.faults.inject("refuse")
    await _fails_with(meter, ConnectionFailed)


async def test_timeout_is_also_an_asyncio_timeout(sim: SimMeter, meter: ModbusMeter) -> None:
    sim.faults.inject("stall")
    with pytest.raises(asyncio.TimeoutError):
        await meter.read()


async def test_exception_reply_keeps_the_connection(sim: SimMeter, meter: ModbusMeter) -> None:
    await meter.read()
    client = meter._transport._client
    sim.faults.inject("exception")
    error = await _fails_with(meter, ProtocolError)
    assert isinstance(error, ModbusExceptionResponse)
    assert error.exception_code == 4
    sim.faults.clear()
    await meter.read()
    assert meter._transport._client is client


async def test_garbage_names_what_is_wrong(sim: SimMeter, meter: ModbusMeter) -> None:
    sim.faults.inject("garbage")
    error = await _fails_with(meter, MeterError)
    assert "id" in error.message  # transaction or protocol id


async def test_slow_but_within_the_timeout_still_reads(sim: SimMeter, meter: ModbusMeter) -> None:
    sim.faults.inject("slow", seconds=0.1)
    reading = await meter.read()
    assert reading.total_w == pytest.approx(10_000.0)


async def test_nothing_listening_is_connection_failed() -> None:
    async with ModbusMeter(NOBODY_HOST, port=port_on(NOBODY_HOST), timeout_s=TIMEOUT_S) as meter:
        with pytest.raises(ConnectionFailed) as info:
            await meter.read()
    assert info.value.code == "connection"


async def test_meter_going_away_and_coming_back() -> None:
    port = port_on(SIM_HOST)
    sim = SimMeter(lambda: 1_000.0, address=SIM_HOST, port=port)
    async with ModbusMeter(SIM_HOST, port=port, timeout_s=TIMEOUT_S) as meter:
        async with sim:
            await meter.read()
        with pytest.raises(ConnectionFailed):
            await meter.read()
        async with sim:
            assert (await meter.read()).total_w == pytest.approx(1_000.0)


async def test_outage_is_logged_once_and_recovery_once(
    sim: SimMeter, meter: ModbusMeter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="drivers.meter")
    sim.faults.inject("exception")
    for _ in range(3):
        with pytest.raises(ModbusExceptionResponse):
            await meter.read()
    sim.faults.clear()
    await meter.read()
    await meter.read()
    warnings = [
        r for r in caplog.records if r.name == "drivers.meter.device" and r.levelname == "WARNING"
    ]
    infos = [
        r for r in caplog.records if r.name == "drivers.meter.device" and r.levelname == "INFO"
    ]
    assert len(warnings) == 1
    assert len(infos) == 1
    assert "resumed" in infos[0].getMessage()


async def test_a_cancelled_read_leaves_no_stale_reply(sim: SimMeter, meter: ModbusMeter) -> None:
    sim.faults.inject("slow", seconds=0.2)
    task = asyncio.create_task(meter.read())
    await asyncio.sleep(0.05)  # the request is out; its reply comes in 0.15 s
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not meter._transport.connected
    sim.faults.clear()
    assert (await meter.read()).total_w == pytest.approx(10_000.0)
