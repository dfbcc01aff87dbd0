"""Unmodified pyasic 0.79.0 takes every simulated Whatsminer (API v2 and v3) and Auradine
for the real thing: it identifies make and model, reads hashrate, power, fans and boards,
and its stop/resume/power-limit calls change the simulated device as on hardware.

pyasic's defaults are used as they are: Whatsminer v2 password `admin`, v3 `super`,
Auradine admin/admin; the simulated Whatsminers have the API switch on. pyasic is
imported late and the root logger restored (it calls logging.basicConfig on import).
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import pytest

from simulators import Fleet
from tests.simulators.conftest import QUICK_TIMINGS, import_pyasic, serve

SPEED = 100.0
TIMINGS = QUICK_TIMINGS
# address: (make, model, api, pyasic class, boards, fans)
UNITS: dict[str, tuple[str, str, str, str, int, int]] = {
    "127.0.85.1": ("whatsminer", "M30S++", "v2", "BTMinerM30SPlusPlusVH30", 3, 2),
    "127.0.85.2": ("whatsminer", "M50S", "v2", "BTMinerM50SVH50", 3, 2),
    "127.0.85.3": ("whatsminer", "M60S", "v2", "BTMinerM60SVK30", 3, 2),
    "127.0.85.4": ("whatsminer", "M63S", "v2", "BTMinerM63SVK30", 4, 0),
    "127.0.85.5": ("whatsminer", "M60S", "v3", "BTMinerM60SVK30", 3, 2),
    "127.0.85.6": ("auradine", "AT1500", "", "AuradineFluxAT1500", 3, 4),
    "127.0.85.7": ("auradine", "AT2880", "", "AuradineFluxAT2880", 3, 4),
    "127.0.85.8": ("auradine", "AH3880", "", "AuradineUnknown", 0, 0),  # no pyasic class
}
V2, V3, AURADINE = "127.0.85.3", "127.0.85.5", "127.0.85.6"


@pytest.fixture(scope="module")
def pyasic() -> ModuleType:
    return import_pyasic()


@pytest.fixture
async def fleet() -> AsyncIterator[Fleet]:
    devices: list[dict[str, Any]] = []
    for address, (make, model, api, *_rest) in UNITS.items():
        entry: dict[str, Any] = {"make": make, "model": model, "start": address, "timings": TIMINGS}
        if make == "whatsminer":
            entry |= {"api": api, "api_writes": True}
        devices.append(entry)
    async with serve("pyasic-makes", *devices, speed=SPEED) as running:
        yield running


async def get_miner(pyasic: ModuleType, address: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Partially supported miner" for the AH3880
        miner = await asyncio.wait_for(pyasic.get_miner(address), 10)
    assert miner is not None, f"pyasic did not recognise {address}"
    return miner


async def settle(sim_seconds: float) -> None:
    await asyncio.sleep(sim_seconds / SPEED + 0.1)


@pytest.mark.parametrize("address", list(UNITS))
async def test_get_miner_identifies_make_and_model(
    pyasic: ModuleType, fleet: Fleet, address: str
) -> None:
    make, _model, api, cls, _boards, _fans = UNITS[address]
    miner = await get_miner(pyasic, address)
    assert type(miner).__name__ == cls
    assert str(miner.make).lower() == make
    if make == "whatsminer":
        backend = "BTMinerV3" if api == "v3" else "BTMinerV2"
        assert backend in [base.__name__ for base in type(miner).__mro__]


@pytest.mark.parametrize("address", list(UNITS))
async def test_get_data_reads_hashrate_power_fans_boards(
    pyasic: ModuleType, fleet: Fleet, address: str
) -> None:
    _make, _model, _api, _cls, boards, fans = UNITS[address]
    miner = await get_miner(pyasic, address)
    data = await asyncio.wait_for(miner.get_data(), 10)
    truth = fleet.device(address).snapshot()
    assert float(data.hashrate.into(data.hashrate.unit.TH)) * 1e12 == pytest.approx(
        truth.nameplate_hs, rel=0.05
    )
    assert data.wattage == pytest.approx(truth.nameplate_w, rel=0.05)
    assert len(data.fans) == fans
    assert all(fan.speed and fan.speed > 1000 for fan in data.fans)
    assert len(data.hashboards) == boards
    for board in data.hashboards:
        assert not board.missing
        assert float(board.hashrate) > 0
    assert data.uptime
    assert data.mac


async def test_whatsminer_v2_stop_resume_and_limit(pyasic: ModuleType, fleet: Fleet) -> None:
    await check_stop_resume_limit(pyasic, fleet, V2, limit_restarts=True)


async def test_whatsminer_v3_stop_resume_and_limit(pyasic: ModuleType, fleet: Fleet) -> None:
    await check_stop_resume_limit(pyasic, fleet, V3, limit_restarts=True)


async def test_auradine_stop_resume_and_limit(pyasic: ModuleType, fleet: Fleet) -> None:
    await check_stop_resume_limit(pyasic, fleet, AURADINE, limit_restarts=False)


async def check_stop_resume_limit(
    pyasic: ModuleType, fleet: Fleet, address: str, *, limit_restarts: bool
) -> None:
    device = fleet.device(address)
    miner = await get_miner(pyasic, address)
    pools = device.pools

    assert await miner.stop_mining()
    await settle(TIMINGS["stop_s"] + 5)
    asleep = device.snapshot()
    assert asleep.phase == "sleep"
    assert asleep.hashrate_hs == 0
    assert asleep.power_w < 100
    if address != V3:  # pyasic's BTMinerV3 does not implement is_mining (reports True)
        assert (await miner.get_data(include=["is_mining"])).is_mining is False

    assert await miner.resume_mining()
    await settle(TIMINGS["boot_s"] + TIMINGS["ramp_s"])
    awake = device.snapshot()
    assert awake.phase == "running"
    assert awake.hashrate_hs == pytest.approx(awake.nameplate_hs, rel=0.03)

    assert await miner.set_power_limit(2500)
    if limit_restarts:
        assert device.snapshot().power_w < 200  # mining restarts: power dips near zero
    await settle(TIMINGS["boot_s"] + TIMINGS["ramp_s"])
    capped = device.snapshot()
    assert capped.phase == "running"
    assert capped.power_limit_w == 2500
    assert capped.power_w == pytest.approx(2500, rel=0.03)
    assert 0 < capped.hashrate_hs < 0.9 * capped.nameplate_hs
    data = await miner.get_data(include=["wattage", "wattage_limit"])
    assert data.wattage_limit == 2500
    assert data.wattage == pytest.approx(2500, rel=0.05)
    assert device.pools == pools  # nothing else changed
