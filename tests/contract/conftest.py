"""One simulated device and a driver for it, per contract test.

Addresses come from 127.0.90.1-127.0.99.254, one fresh address per test, so a
test never meets a listener a previous test left in TIME_WAIT.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest

from drivers import Credentials, DeviceEndpoint, DriverSettings, Make, MinerDriver, open_driver
from simulators import Fleet, PortMap, SimDevice, load_site_dict
from tests.contract.registry import Case, unsupported_reason

SETTINGS = DriverSettings(connect_timeout_s=0.5, read_timeout_s=0.5, write_timeout_s=2.0)

_ADDRESSES = (f"127.0.{a}.{b}" for a, b in itertools.product(range(90, 100), range(1, 254)))


def next_address() -> str:
    return next(_ADDRESSES)


@dataclass
class Rig:
    case: Case
    fleet: Fleet
    sim: SimDevice
    driver: MinerDriver

    async def reopen(self) -> MinerDriver:
        """A fresh driver (new connections, nothing cached) for the same device."""
        await self.driver.close()
        self.driver = _driver(self.case, self.sim.address)
        return self.driver


def _driver(case: Case, host: str) -> MinerDriver:
    creds = Credentials(*case.credentials) if case.credentials else None
    return open_driver(Make(case.make), DeviceEndpoint(host), credentials=creds, settings=SETTINGS)


@asynccontextmanager
async def rig(case: Case, **entry_overrides: object) -> AsyncIterator[Rig]:
    reason = unsupported_reason(case)
    if reason:
        pytest.skip(reason)
    address = next_address()
    site = load_site_dict(
        {"site": "contract", "devices": [{**case.site_entry(address), **entry_overrides}]}
    )
    async with Fleet(site, speed=1.0, listen="exact", ports=PortMap()) as fleet:
        r = Rig(case, fleet, fleet.device(address), _driver(case, address))
        try:
            yield r
        finally:
            await r.driver.close()
