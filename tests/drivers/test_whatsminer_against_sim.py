"""Whatsminer-specific behaviour against the simulator (the contract suite covers the rest).

API choice by firmware date and by open ports, writes disabled, a wrong
password, and the ramp (``Upfreq Complete`` 0 reads as STARTING).
Addresses: 127.0.98.x.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from drivers import (
    AuthError,
    Credentials,
    DeviceEndpoint,
    DriverSettings,
    Make,
    MiningState,
    SetPowerTarget,
    Sleep,
    Wake,
    WritesDisabled,
    open_driver,
)
from drivers.whatsminer.device import WhatsminerDriver
from simulators import Fleet, PortMap, SiteError, load_site_dict

SETTINGS = DriverSettings(connect_timeout_s=0.5, read_timeout_s=0.5)
_hosts = (f"127.0.98.{n}" for n in itertools.count(1))


@asynccontextmanager
async def whatsminer(
    creds: Credentials | None = None, **entry: Any
) -> AsyncIterator[tuple[Fleet, WhatsminerDriver]]:
    host = next(_hosts)
    try:
        site = load_site_dict(
            {"site": "wm", "devices": [{"make": "whatsminer", "start": host, **entry}]}
        )
    except SiteError as exc:
        pytest.skip(f"simulator cannot serve this yet: {exc}")
    async with Fleet(site, listen="exact", ports=PortMap()) as fleet:
        drv = open_driver(
            Make.WHATSMINER, DeviceEndpoint(host), credentials=creds, settings=SETTINGS
        )
        assert isinstance(drv, WhatsminerDriver)
        try:
            yield fleet, drv
        finally:
            await drv.close()


@pytest.mark.parametrize(
    ("entry", "api"),
    [
        ({"api": "v2", "firmware": "20230803.11.REL"}, "v2"),
        ({"api": "v3", "firmware": "20250110.16.Rel"}, "v3"),
        ({"api": "v3", "firmware": "20250110.16.Rel", "legacy_4028": False}, "v3"),
    ],
)
async def test_api_chosen_by_firmware_date_and_ports(entry: dict[str, Any], api: str) -> None:
    async with whatsminer(model="M60S", timings="instant", **entry) as (_, drv):
        info = await drv.identify()
        assert drv.api == api
        assert info.model == "M60S"
        assert info.firmware == entry["firmware"]
        assert (await drv.read()).power_w is not None


@pytest.mark.parametrize("api", ["v2", "v3"])
async def test_writes_disabled_says_how_to_enable_them(api: str) -> None:
    async with whatsminer(model="M50S", api=api, api_writes=False) as (fleet, drv):
        with pytest.raises(WritesDisabled, match="API switch"):
            await drv.apply(Sleep())
        assert fleet.devices[0].snapshot().mode != "sleep"


@pytest.mark.parametrize(("api", "user"), [("v2", "admin"), ("v3", "super")])
async def test_wrong_password_is_an_auth_error(api: str, user: str) -> None:
    creds = Credentials(user, "wrong")
    async with whatsminer(creds, model="M50S", api=api, api_writes=True, password="right") as (
        fleet,
        drv,
    ):
        with pytest.raises(AuthError):
            await drv.apply(SetPowerTarget(3000))
        assert fleet.devices[0].snapshot().mode == "normal"


@pytest.mark.parametrize(("api", "user"), [("v2", "admin"), ("v3", "super"), ("v3", "admin")])
async def test_token_is_reused_across_writes(api: str, user: str) -> None:
    creds = Credentials(user, "pw")
    async with whatsminer(creds, model="M50S", api=api, api_writes=True, password="pw") as (_, drv):
        for watts in (3000, 2900, 2800):
            assert (await drv.apply(SetPowerTarget(watts))).applied


async def test_ramp_reads_as_starting_until_upfreq_completes() -> None:
    creds = Credentials("admin", "pw")
    timings = {"stop_s": 0, "boot_s": 30, "ramp_s": 600, "reboot_s": 30}
    async with whatsminer(
        creds, model="M60S", api="v2", api_writes=True, password="pw", timings=timings
    ) as (fleet, drv):
        await drv.apply(Sleep())
        await drv.apply(Wake())
        fleet.clock.advance(120)
        assert (await drv.read()).mining_state is MiningState.STARTING
        fleet.clock.advance(1200)
        assert (await drv.read()).mining_state is MiningState.HASHING
