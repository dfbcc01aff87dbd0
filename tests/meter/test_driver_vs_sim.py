"""The driver's RegisterMap.default() against the simulated meter's own layout, over TCP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from drivers.meter import ModbusExceptionResponse, ModbusMeter, Register, RegisterKind, RegisterMap
from simulators.clock import SimClock
from simulators.meter import SimMeter
from tests.meter.conftest import SIM_HOST, port_on


class Source:
    """A power source the test moves, counting how often the meter samples it."""

    def __init__(self, watts: float) -> None:
        self.watts = watts
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return self.watts


@pytest.fixture
def source() -> Source:
    return Source(123_456.0)


@pytest.fixture
def clock() -> SimClock:
    return SimClock(1.0)


@pytest.fixture
async def sim(source: Source, clock: SimClock) -> AsyncIterator[SimMeter]:
    meter = SimMeter(
        source,
        base_load_w=50_000.0,
        feeds=2,
        noise=0.005,
        address=SIM_HOST,
        port=port_on(SIM_HOST),
        unit_id=1,
        seed=0,
        clock=clock,
        energy_start_wh=1_000_000.0,
    )
    async with meter:
        yield meter


@pytest.fixture
async def meter(sim: SimMeter) -> AsyncIterator[ModbusMeter]:
    driver = ModbusMeter(
        SIM_HOST, port=sim.port, unit_id=1, register_map=RegisterMap.default(), timeout_s=1.0
    )
    yield driver
    await driver.close()


async def test_reads_total_feeds_and_energy(sim: SimMeter, meter: ModbusMeter) -> None:
    before = time.time()
    reading = await meter.read()
    served = sim.last_served
    assert served is not None
    assert before <= reading.taken_at <= time.time()
    assert reading.total_w == pytest.approx(served.total_w, rel=1e-6)  # float32 on the wire
    assert len(reading.feeds_w) == 2
    assert reading.feeds_w == pytest.approx(served.feeds_w, rel=1e-6)
    assert sum(reading.feeds_w) == pytest.approx(reading.total_w, rel=1e-6)
    assert reading.energy_wh == int(served.energy_wh)  # whole Wh
    assert reading.energy_wh is not None
    assert reading.energy_wh >= 1_000_000


async def test_total_follows_the_power_source_within_the_noise(
    source: Source, meter: ModbusMeter
) -> None:
    for watts in (123_456.0, 0.0, 2_000_000.0, 10_000.0):
        source.watts = watts
        for _ in range(5):
            reading = await meter.read()
            expected = watts + 50_000.0
            assert abs(reading.total_w - expected) <= 0.005 * expected + 1.0


async def test_noise_is_there_and_bounded(meter: ModbusMeter) -> None:
    totals = {(await meter.read()).total_w for _ in range(20)}
    assert len(totals) > 1  # noisy, so a stuck meter would be noticed
    assert all(abs(t - 173_456.0) <= 0.005 * 173_456.0 + 1.0 for t in totals)


async def test_one_power_source_call_per_read(source: Source, meter: ModbusMeter) -> None:
    await meter.read()
    calls = source.calls
    await asyncio.sleep(0.05)
    assert source.calls == calls  # nothing between reads
    await meter.read()
    assert source.calls == calls + 1


async def test_energy_integrates_over_the_simulated_clock(
    clock: SimClock, meter: ModbusMeter
) -> None:
    first = await meter.read()
    clock.advance(3600.0)  # an hour of simulated time at ~173 kW
    second = await meter.read()
    assert first.energy_wh is not None
    assert second.energy_wh is not None
    assert second.energy_wh - first.energy_wh == pytest.approx(173_456.0, rel=0.01)


async def test_one_persistent_connection(sim: SimMeter, meter: ModbusMeter) -> None:
    await meter.read()
    transport = meter._transport
    client = transport._client
    for _ in range(5):
        await meter.read()
    assert transport._client is client
    assert transport.connected


async def test_concurrent_reads_are_serialised(meter: ModbusMeter) -> None:
    readings = await asyncio.gather(*(meter.read() for _ in range(10)))
    assert len({r.taken_at for r in readings}) == 10


async def test_wrong_unit_id_is_a_typed_error(sim: SimMeter) -> None:
    async with ModbusMeter(SIM_HOST, port=sim.port, unit_id=7, timeout_s=1.0) as wrong:
        with pytest.raises(ModbusExceptionResponse) as info:
            await wrong.read()
    assert info.value.exception_code == 11
    assert "unit_id" in str(info.value)


async def test_holding_registers_are_not_implemented(sim: SimMeter) -> None:
    holding = RegisterMap(total_power=Register(address=0, kind=RegisterKind.HOLDING))
    async with ModbusMeter(SIM_HOST, port=sim.port, register_map=holding, timeout_s=1.0) as meter:
        with pytest.raises(ModbusExceptionResponse) as info:
            await meter.read()
    assert info.value.exception_code == 2


async def test_more_feeds_than_the_meter_has_is_an_illegal_address(sim: SimMeter) -> None:
    async with ModbusMeter(
        SIM_HOST, port=sim.port, register_map=RegisterMap.default(3), timeout_s=1.0
    ) as meter:
        with pytest.raises(ModbusExceptionResponse) as info:
            await meter.read()
    assert info.value.exception_code == 2


async def test_a_map_from_a_config_dict_reads_the_simulator(sim: SimMeter) -> None:
    register_map = RegisterMap.from_dict(
        {
            "total_power": {"address": 0, "data_type": "float32", "scale": 0.001},  # in kW
            "feed_power": [{"address": 8}],  # only the second feed
            "energy": None,
        }
    )
    async with ModbusMeter(
        SIM_HOST, port=sim.port, register_map=register_map, timeout_s=1.0
    ) as meter:
        reading = await meter.read()
    assert reading.total_w == pytest.approx(173.456, rel=0.01)
    assert len(reading.feeds_w) == 1
    assert reading.energy_wh is None
