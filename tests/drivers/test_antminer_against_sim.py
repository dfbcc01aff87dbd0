"""AntminerDriver against the simulator: every model, sleep/wake, quirks and faults.

Each test gets its own fleet on 127.0.60.x-127.0.69.x with the standard ports
(80 and 4028), so the driver runs with its default endpoint, as on a real site.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from drivers import open_driver
from drivers.antminer.device import AntminerDriver
from drivers.errors import (
    ConnectionFailed,
    DeviceTimeout,
    DriverError,
    ProtocolError,
)
from drivers.settings import DriverSettings
from drivers.types import DeviceEndpoint, Make, MiningState, PowerMode, SetPowerMode, Sleep, Wake
from simulators import Fleet, PortMap, load_site_dict
from tests.drivers.conftest import assert_unreadable_config_writes_nothing

SETTINGS = DriverSettings(connect_timeout_s=0.5, read_timeout_s=0.5, write_timeout_s=2.0)
MODELS = ["S19j Pro", "S19 XP", "S21", "S21 XP", "S21 Hydro"]


@asynccontextmanager
async def fleet_of(*entries: dict[str, Any], speed: float = 1.0) -> AsyncIterator[Fleet]:
    site = load_site_dict(
        {"site": "driver-tests", "devices": [{"make": "antminer", **e} for e in entries]}
    )
    async with Fleet(site, speed=speed, listen="exact", ports=PortMap()) as fleet:
        yield fleet


@asynccontextmanager
async def driver_for(host: str) -> AsyncIterator[AntminerDriver]:
    drv = open_driver(Make.ANTMINER, DeviceEndpoint(host), settings=SETTINGS)
    assert isinstance(drv, AntminerDriver)
    try:
        yield drv
    finally:
        await drv.close()


async def test_identify_and_read_every_model() -> None:
    entries = [{"model": m, "start": f"127.0.60.{i + 1}"} for i, m in enumerate(MODELS)]
    async with fleet_of(*entries) as fleet:
        for i, model in enumerate(MODELS):
            host = f"127.0.60.{i + 1}"
            sim = fleet.device(host)
            async with driver_for(host) as drv:
                info = await drv.identify()
                assert info.model == model
                assert drv.spec is not None
                assert drv.spec.model == model
                assert info.serial
                assert info.mac
                t = await drv.read()
            truth = sim.snapshot()
            assert t.mining_state is MiningState.HASHING
            assert t.hashrate_hs == pytest.approx(truth.hashrate_hs, rel=0.05)
            assert t.nameplate_hashrate_hs == pytest.approx(truth.nameplate_hs)
            assert t.power_estimated
            assert t.power_w == pytest.approx(truth.power_w, rel=0.1)
            assert len(t.boards) == 3
            assert len(t.fans_rpm) == len(truth.fans_rpm)
            assert t.uptime_s == pytest.approx(truth.uptime_s, abs=5)
            assert t.max_temp_c is not None
            assert t.max_temp_c >= max(truth.chip_temps_c) - 1


async def test_sleep_and_wake_confirmed_by_read_back() -> None:
    host = "127.0.61.1"
    async with fleet_of({"model": "S21", "start": host}) as fleet:
        sim = fleet.device(host)
        pools = sim.pools
        async with driver_for(host) as drv:
            outcome = await drv.apply(Sleep())
            assert outcome.applied
            assert sim.snapshot().mode == "sleep"
            fleet.clock.advance(120)
            asleep = await drv.read()
            assert asleep.mining_state is MiningState.SLEEPING
            assert asleep.power_mode is PowerMode.SLEEP
            assert asleep.hashrate_hs == 0
            assert asleep.power_w == drv.spec.sleep_w if drv.spec else None
            assert (await drv.apply(Wake())).applied
            waking = await drv.read()
            assert waking.mining_state is MiningState.STARTING
            fleet.clock.advance(1200)
            awake = await drv.read()
            assert awake.mining_state is MiningState.HASHING
            assert awake.hashrate_hs == pytest.approx(sim.snapshot().hashrate_hs, rel=0.05)
        assert sim.pools == pools


async def test_low_power_mode_round_trip() -> None:
    host = "127.0.61.2"
    async with fleet_of({"model": "S19j Pro", "start": host}) as fleet, driver_for(host) as drv:
        assert (await drv.apply(SetPowerMode(PowerMode.LOW))).applied
        fleet.clock.advance(1200)
        t = await drv.read()
        assert t.power_mode is PowerMode.LOW
        assert fleet.device(host).snapshot().mode == "low_power"


async def test_quirky_firmware_needs_both_mode_keys_and_full_pools() -> None:
    host = "127.0.62.1"
    entry = {
        "model": "S19j Pro",
        "start": host,
        "quirks": ["work_mode_key_ignored", "partial_body_wipes_pools"],
    }
    async with fleet_of(entry) as fleet, driver_for(host) as drv:
        sim = fleet.device(host)
        pools = sim.pools
        assert (await drv.apply(Sleep())).applied
        assert sim.snapshot().mode == "sleep"
        assert sim.pools == pools


async def test_slow_set_miner_conf_uses_the_write_timeout() -> None:
    host = "127.0.62.2"
    async with fleet_of({"model": "S21", "start": host, "set_conf_delay_s": 1.0}) as fleet:
        async with driver_for(host) as drv:
            start = time.monotonic()
            assert (await drv.apply(Sleep())).applied  # 1 s answer, above the 0.5 s read timeout
            assert time.monotonic() - start >= 1.0
        assert fleet.device(host).snapshot().mode == "sleep"


async def test_failed_config_read_never_overwrites_pools() -> None:
    host = "127.0.63.1"
    async with fleet_of({"model": "S21", "start": host}) as fleet, driver_for(host) as drv:
        await drv.identify()
        await assert_unreadable_config_writes_nothing(fleet.device(host), drv)


async def test_ack_sleep_keep_hashing_is_visible_in_telemetry() -> None:
    host = "127.0.63.2"
    async with fleet_of({"model": "S21", "start": host}) as fleet, driver_for(host) as drv:
        sim = fleet.device(host)
        sim.faults.inject("ack_sleep_keep_hashing")
        assert (await drv.apply(Sleep())).applied  # the config did change
        fleet.clock.advance(120)
        t = await drv.read()
        # The work mode says asleep; the hashrate and the power estimate say otherwise.
        assert t.mining_state is MiningState.SLEEPING
        assert t.hashrate_hs == pytest.approx(sim.snapshot().hashrate_hs, rel=0.05)
        assert t.power_w is not None
        assert t.power_w > 0.8 * 3500


FAULTS: list[tuple[str, type[DriverError], float]] = [
    ("refuse", ConnectionFailed, 0.5),
    ("web_down", ConnectionFailed, 0.5),
    ("stall", DeviceTimeout, 1.5),
    ("slow=3", DeviceTimeout, 1.5),
    ("malformed", ProtocolError, 0.5),
    ("truncated", ProtocolError, 1.5),
]


@pytest.mark.parametrize(("fault", "error", "within"), FAULTS)
@pytest.mark.parametrize("stage", ["identify", "read"])
async def test_every_fault_is_a_typed_error_in_time(
    fault: str, error: type[DriverError], within: float, stage: str
) -> None:
    host = "127.0.64.1"
    async with fleet_of({"model": "S21", "start": host}) as fleet, driver_for(host) as drv:
        sim = fleet.device(host)
        if stage == "read":
            await drv.identify()
            # Faults apply to new connections; closing drops the kept-alive ones so the
            # next read opens fresh ones (the driver reopens its session on demand).
            await drv.close()
        sim.faults.inject(fault)
        call: Callable[[], Any] = drv.identify if stage == "identify" else drv.read
        start = time.monotonic()
        with pytest.raises(error):
            await call()
        assert time.monotonic() - start < within
        sim.faults.clear()
        await drv.close()
        assert (await drv.read()).mining_state is MiningState.HASHING


async def test_rpc_down_does_not_stop_reads() -> None:
    host = "127.0.64.2"
    async with fleet_of({"model": "S21", "start": host}) as fleet, driver_for(host) as drv:
        fleet.device(host).faults.inject("rpc_down")
        assert (await drv.read()).mining_state is MiningState.HASHING
