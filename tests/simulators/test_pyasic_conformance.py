"""Unmodified pyasic 0.79.0 accepts every simulated Antminer model as the real thing.

pyasic hard-codes ports 80, 443 and 4028, so these fleets use the standard ports, one
loopback address per device (443 is simply refused). Importing pyasic calls
logging.basicConfig and resets the root logger's level, so it is imported inside a
fixture and the root logger is put back afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import pytest

from simulators import Fleet
from tests.simulators.conftest import import_pyasic, serve

MODELS = {
    "S19j Pro": "127.77.12.1",
    "S19 XP": "127.77.12.2",
    "S21": "127.77.12.3",
    "S21 XP": "127.77.12.4",
}
SPEED = 600.0
TIMINGS = {"stop_s": 12, "boot_s": 12, "ramp_s": 12, "reboot_s": 12}


@pytest.fixture(scope="module")
def pyasic() -> ModuleType:
    return import_pyasic()


@pytest.fixture
async def fleet() -> AsyncIterator[Fleet]:
    async with serve(
        "pyasic",
        *(
            {"make": "antminer", "model": model, "start": address, "timings": TIMINGS}
            for model, address in MODELS.items()
        ),
        speed=SPEED,
    ) as running:
        yield running


async def get_miner(pyasic: ModuleType, address: str) -> Any:
    miner = await asyncio.wait_for(pyasic.get_miner(address), 10)
    assert miner is not None, f"pyasic did not recognise {address}"
    return miner


@pytest.mark.parametrize("model", list(MODELS))
async def test_get_miner_identifies_the_model(pyasic: ModuleType, fleet: Fleet, model: str) -> None:
    miner = await get_miner(pyasic, MODELS[model])
    assert type(miner).__name__ == "BMMiner" + model.replace(" ", "")
    assert str(miner.model).upper() == f"{model.upper()} (STOCK)"


@pytest.mark.parametrize("model", list(MODELS))
async def test_get_data_reads_everything(pyasic: ModuleType, fleet: Fleet, model: str) -> None:
    address = MODELS[model]
    miner = await get_miner(pyasic, address)
    data = await asyncio.wait_for(miner.get_data(), 15)
    truth = fleet.device(address).snapshot()

    assert float(data.hashrate) * 1e12 == pytest.approx(truth.nameplate_hs, rel=0.05)
    assert float(data.expected_hashrate) * 1e12 == pytest.approx(truth.nameplate_hs, rel=0.01)
    assert len(data.fans) == 4
    assert all(fan.speed and fan.speed > 1000 for fan in data.fans)
    assert data.uptime
    assert data.uptime > 0
    assert len(data.hashboards) == 3
    for board in data.hashboards:
        assert not board.missing
        assert board.chips == board.expected_chips
        assert float(board.hashrate) > 0
        assert board.temp
        assert board.chip_temp
        assert board.serial_number
    assert data.is_mining is True
    assert data.errors == []
    assert data.mac
    assert data.serial_number
    assert data.fault_light is False
    assert [pool.url for pool in data.config.pools.groups[0].pools][:1] == [truth.pools[0].url]


async def test_stop_and_resume_mining_move_the_physics(pyasic: ModuleType, fleet: Fleet) -> None:
    address = MODELS["S21"]
    device = fleet.device(address)
    miner = await get_miner(pyasic, address)
    pools_before = device.pools

    assert await miner.stop_mining()
    await asyncio.sleep(TIMINGS["stop_s"] / SPEED + 0.1)
    asleep = device.snapshot()
    assert asleep.phase == "sleep"
    assert asleep.hashrate_hs == 0
    assert asleep.power_w < 50
    assert device.pools == pools_before  # pyasic's read-modify-write kept them
    assert (await miner.get_data(include=["is_mining"])).is_mining is False

    assert await miner.resume_mining()
    await asyncio.sleep((TIMINGS["boot_s"] + TIMINGS["ramp_s"]) / SPEED + 0.1)
    awake = device.snapshot()
    assert awake.phase == "running"
    assert awake.hashrate_hs == pytest.approx(awake.nameplate_hs, rel=0.03)
    assert awake.power_w > 3000
    data = await miner.get_data(include=["hashrate", "is_mining"])
    assert data.is_mining is True
    assert float(data.hashrate) > 190


async def test_fault_light(pyasic: ModuleType, fleet: Fleet) -> None:
    miner = await get_miner(pyasic, MODELS["S19 XP"])
    assert await miner.fault_light_on() is True
    fresh = await get_miner(pyasic, MODELS["S19 XP"])
    assert (await fresh.get_data(include=["fault_light"])).fault_light is True
    assert await miner.fault_light_off() is False
