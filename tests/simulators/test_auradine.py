"""Auradine FluxOS REST: tokens (login, 401, expiry, re-login), mode writes and what they
do to the physics, standby fans, LED, restart; the GCMiner RPC stays read-only."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from simulators import Fleet
from simulators.auradine.device import AuradineDevice
from tests.simulators.conftest import QUICK_TIMINGS, http_raw, rpc_json, serve

HOST, HYDRO = "127.0.83.1", "127.0.83.2"
SPEED = 100.0
TIMINGS = QUICK_TIMINGS


@pytest.fixture
async def fleet() -> AsyncIterator[Fleet]:
    async with serve(
        "au",
        {"make": "auradine", "model": "AT1500", "start": HOST, "timings": TIMINGS},
        {"make": "auradine", "model": "AH3880", "start": HYDRO, "timings": TIMINGS},
        speed=SPEED,
    ) as running:
        yield running


def au(fleet: Fleet, address: str = HOST) -> AuradineDevice:
    device = fleet.device(address)
    assert isinstance(device, AuradineDevice)
    return device


async def settle(sim_seconds: float) -> None:
    await asyncio.sleep(sim_seconds / SPEED + 0.05)


async def call(
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    host: str = HOST,
    port: int = 8080,
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(data)}\r\n"
    if token:
        head += f"Token: {token}\r\n"
    status, headers, raw = await http_raw(host, head.encode() + b"\r\n" + data, port=port)
    if headers.get("content-type", "").startswith("application/json"):
        return status, json.loads(raw)
    return status, raw.decode()


async def login(host: str = HOST) -> str:
    status, reply = await call(
        "POST", "/token", {"command": "token", "user": "admin", "password": "admin"}, host=host
    )
    assert status == 200
    token: str = reply["Token"][0]["Token"]
    return token


async def test_ui_page_needs_no_token(fleet: Fleet) -> None:
    for port in (80, 8080):
        status, page = await call("GET", "/", port=port)
        assert status == 200
        assert "Miner UI" in page


async def test_token_is_required_and_expires(fleet: Fleet) -> None:
    status, reply = await call("GET", "/mode")
    assert status == 401
    assert reply["STATUS"][0]["STATUS"] == "E"
    assert "Token" in reply["STATUS"][0]["Msg"]
    status, _ = await call("POST", "/token", {"command": "token", "user": "admin", "password": "x"})
    assert status == 401
    token = await login()
    assert (await call("GET", "/mode", token=token))[0] == 200
    au(fleet).tokens.expire_all()
    status, reply = await call("GET", "/mode", token=token)
    assert status == 401
    assert reply["STATUS"][0]["Msg"] == "Token expired"
    assert (await call("GET", "/mode", token=await login()))[0] == 200


async def test_sleep_and_wake_keep_pools_and_standby_fans(fleet: Fleet) -> None:
    device = au(fleet)
    token = await login()
    pools = device.pools
    status, reply = await call("POST", "/mode", {"command": "mode", "sleep": "on"}, token=token)
    assert status == 200
    assert reply["Mode"][0]["Sleep"] == "on"
    await settle(TIMINGS["stop_s"] + 120)  # past the fans' thermal lag
    asleep = device.snapshot()
    assert asleep.phase == "sleep"
    assert asleep.hashrate_hs == 0
    assert asleep.power_w < 100
    assert all(1300 <= rpm <= 1800 for rpm in asleep.fans_rpm)  # 20% of 7700
    led = (await call("GET", "/led", token=token))[1]
    assert led["LED"][0]["Code"] == 13  # standby
    await call("POST", "/mode", {"command": "mode", "sleep": "off"}, token=token)
    await settle(TIMINGS["boot_s"] + TIMINGS["ramp_s"])
    assert device.snapshot().phase == "running"
    assert device.pools == pools


async def test_custom_power_target_caps_power(fleet: Fleet) -> None:
    device = au(fleet)
    token = await login()
    body = {"command": "mode", "mode": "custom", "tune": "power", "power": 2500}
    status, reply = await call("POST", "/mode", body, token=token)
    assert status == 200
    assert reply["Mode"][0] | {"Ths": 0} == {
        "Mode": "custom",
        "Sleep": "off",
        "Power": 2500,
        "Ths": 0,
    }
    await settle(TIMINGS["adjust_s"])
    capped = device.snapshot()
    assert capped.power_w == pytest.approx(2500, rel=0.03)
    assert capped.power_limit_w == 2500
    assert capped.hashrate_hs < 0.85 * capped.nameplate_hs
    psu = (await call("GET", "/psu", token=token))[1]
    assert float(psu["PSU"][0]["PowerIn"].removesuffix("W")) == pytest.approx(2500, rel=0.03)
    body = {"command": "mode", "mode": "custom", "tune": "ths", "ths": 150}
    await call("POST", "/mode", body, token=token)
    await settle(TIMINGS["adjust_s"])
    assert device.snapshot().hashrate_hs == pytest.approx(150e12, rel=0.03)


async def test_presets(fleet: Fleet) -> None:
    device = au(fleet, HYDRO)
    token = await login(HYDRO)
    await call("POST", "/mode", {"command": "mode", "mode": "eco"}, token=token, host=HYDRO)
    await settle(TIMINGS["boot_s"] + TIMINGS["ramp_s"])
    eco = device.snapshot()
    assert eco.hashrate_hs == pytest.approx(300e12, rel=0.03)
    assert eco.fans_rpm == ()  # hydro
    await call("POST", "/mode", {"command": "mode", "mode": "turbo"}, token=token, host=HYDRO)
    await settle(TIMINGS["boot_s"] + TIMINGS["ramp_s"])
    assert device.snapshot().hashrate_hs == pytest.approx(600e12, rel=0.03)
    status, _ = await call(
        "POST", "/mode", {"command": "mode", "mode": "warp"}, token=token, host=HYDRO
    )
    assert status == 400


async def test_led_fan_and_restart(fleet: Fleet) -> None:
    device = au(fleet)
    token = await login()
    led = (await call("POST", "/led", {"command": "led", "code": 3}, token=token))[1]
    assert led["LED"][0]["Code"] == 3
    fan = (
        await call("POST", "/fan", {"command": "fan", "index": 1, "percentage": 80}, token=token)
    )[1]
    assert fan["Fan"][0]["Target"] == round(7700 * 0.8)
    status, _ = await call(
        "POST", "/restart", {"command": "restart", "parameter": "gcminer"}, token=token
    )
    assert status == 200
    assert device.snapshot().phase == "booting"


async def test_rpc_is_read_only_and_names_gcminer(fleet: Fleet) -> None:
    version = await rpc_json(HOST, "version")
    assert "GCMiner" in version["STATUS"][0]["Description"]
    assert (await rpc_json(HOST, "devdetails"))["DEVDETAILS"][0]["Model"] == "AT1500"
    assert [d["ID"] for d in (await rpc_json(HOST, "devs"))["DEVS"]] == [1, 2, 3]
    assert (await rpc_json(HOST, "ascset", parameter="0,freq,500"))["STATUS"][0]["STATUS"] == "E"
