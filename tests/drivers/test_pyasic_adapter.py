"""The pyasic adapter end to end against a simulated stock Antminer (pyasic accepts our simulators).

Addresses: 127.0.97.x with the standard ports pyasic hard-codes.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

pytest.importorskip("pyasic")

from drivers import (
    DeviceEndpoint,
    DeviceTimeout,
    DriverError,
    DriverSettings,
    Make,
    MiningState,
    PowerMode,
    SetPowerMode,
    SetPowerTarget,
    Sleep,
    Wake,
    open_driver,
)
from drivers.pyasic_adapter import PYASIC_LOGGER, PyasicDriver, load_pyasic
from simulators import Fleet, PortMap, load_site_dict
from tests.drivers.conftest import assert_unreadable_config_writes_nothing

SETTINGS = DriverSettings(connect_timeout_s=1.0, read_timeout_s=2.0, write_timeout_s=5.0)
_hosts = (f"127.0.97.{n}" for n in itertools.count(1))


@asynccontextmanager
async def adapter(model: str = "S21") -> AsyncIterator[tuple[Fleet, PyasicDriver]]:
    host = next(_hosts)
    entry = {"make": "antminer", "model": model, "start": host, "timings": "instant"}
    site = load_site_dict({"site": "pyasic-adapter", "devices": [entry]})
    async with Fleet(site, listen="exact", ports=PortMap()) as fleet:
        drv = open_driver(Make.ANTMINER, DeviceEndpoint(host), settings=SETTINGS, via="pyasic")
        assert isinstance(drv, PyasicDriver)
        try:
            yield fleet, drv
        finally:
            await drv.close()


def test_import_leaves_the_root_logger_alone() -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    load_pyasic()
    assert root.handlers == handlers
    assert root.level == level
    import pyasic.rpc.btminer as btminer  # noqa: PLC0415

    # pyasic's logging.debug(...) calls now reach the adapter's named logger, not root.
    assert btminer.logging.debug == PYASIC_LOGGER.debug


async def test_identify_read_sleep_wake() -> None:
    async with adapter() as (fleet, drv):
        info = await drv.identify()
        assert info.make is Make.ANTMINER
        assert info.model == "S21"
        assert info.mac
        sim = fleet.devices[0]
        t = await drv.read()
        assert t.mining_state is MiningState.HASHING
        assert t.hashrate_hs == pytest.approx(sim.snapshot().hashrate_hs, rel=0.1)
        assert len(t.fans_rpm) == 4
        pools = sim.pools
        assert (await drv.apply(Sleep())).applied
        assert sim.snapshot().mode == "sleep"
        fleet.clock.advance(300)
        assert (await drv.read()).mining_state is MiningState.SLEEPING
        assert (await drv.apply(Wake())).applied
        assert sim.snapshot().mode == "normal"
        assert sim.pools == pools


async def test_power_target_is_the_nearest_mode() -> None:
    async with adapter("S19j Pro") as (fleet, drv):
        outcome = await drv.apply(SetPowerTarget(2000))
        assert outcome.applied
        assert outcome.substituted == SetPowerMode(PowerMode.LOW)
        assert fleet.devices[0].snapshot().mode == "low_power"


async def test_failed_config_read_writes_nothing() -> None:
    async with adapter() as (fleet, drv):
        await drv.identify()
        await assert_unreadable_config_writes_nothing(fleet.devices[0], drv)


@pytest.mark.parametrize("fault", ["stall", "refuse", "malformed"])
async def test_faults_are_typed_and_bounded(fault: str) -> None:
    async with adapter() as (fleet, drv):
        await drv.identify()
        fleet.devices[0].faults.inject(fault)
        start = time.monotonic()
        with pytest.raises(DeviceTimeout if fault == "stall" else DriverError):
            await drv.read()
        assert time.monotonic() - start < SETTINGS.connect_timeout_s + SETTINGS.read_timeout_s + 1
