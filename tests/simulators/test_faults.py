"""Fault injection at construction (site file) and at run time, on both services."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from simulators import Fleet, load_site_dict
from tests.simulators.conftest import rpc_json, rpc_raw

HOST = "127.77.4.1"
BORN_STALLED = "127.77.4.2"
SPEED = 600.0


@pytest.fixture
async def fleet() -> AsyncIterator[Fleet]:
    timings = {"stop_s": 6, "boot_s": 6, "ramp_s": 6, "reboot_s": 60}
    site = load_site_dict(
        {
            "site": "faults",
            "devices": [
                {"make": "antminer", "model": "S21", "start": HOST, "timings": timings},
                {"make": "antminer", "model": "S21", "start": BORN_STALLED, "faults": ["stall"]},
            ],
        }
    )
    async with Fleet(site, speed=SPEED, listen="exact") as running:
        yield running


async def rpc_gets_nothing(host: str) -> bool:
    """True when the connection is refused, reset or closed without a byte of reply."""
    try:
        raw = await rpc_raw(host, b'{"command":"summary"}', limit_s=1)
    except (ConnectionError, OSError):
        return True
    return raw == b""


async def web_get(name: str, *, limit_s: float = 2.0) -> dict[str, object]:
    digest = aiohttp.DigestAuthMiddleware("root", "root")
    async with (
        aiohttp.ClientSession(
            middlewares=(digest,), timeout=aiohttp.ClientTimeout(total=limit_s)
        ) as session,
        session.get(f"http://{HOST}/cgi-bin/{name}.cgi") as response,
    ):
        data: dict[str, object] = json.loads(await response.read())
        return data


async def test_refuse_closes_at_once(fleet: Fleet) -> None:
    fleet.device(HOST).faults.inject("refuse")
    assert await rpc_gets_nothing(HOST)
    with pytest.raises(aiohttp.ClientError):
        await web_get("summary")
    fleet.device(HOST).faults.clear()
    assert (await rpc_json(HOST, "summary"))["STATUS"][0]["Code"] == 11


async def test_stall_accepts_and_never_answers(fleet: Fleet) -> None:
    fleet.device(HOST).faults.inject("stall")
    with pytest.raises(TimeoutError):
        await rpc_raw(HOST, b'{"command":"summary"}', limit_s=0.3)
    with pytest.raises(TimeoutError):
        await web_get("summary", limit_s=0.3)


async def test_stall_from_the_site_file(fleet: Fleet) -> None:
    with pytest.raises(TimeoutError):
        await rpc_raw(BORN_STALLED, b'{"command":"version"}', limit_s=0.3)
    fleet.device(BORN_STALLED).faults.clear()
    assert (await rpc_json(BORN_STALLED, "version"))["VERSION"][0]["Type"] == "Antminer S21"


async def test_slow_replies_late(fleet: Fleet) -> None:
    fleet.device(HOST).faults.inject("slow", seconds=0.3)
    started = time.monotonic()
    await rpc_json(HOST, "summary")
    assert time.monotonic() - started >= 0.29


async def test_malformed_is_not_json(fleet: Fleet) -> None:
    fleet.device(HOST).faults.inject("malformed")
    raw = await rpc_raw(HOST, b'{"command":"summary"}')
    with pytest.raises(ValueError):
        json.loads(raw.rstrip(b"\x00"))
    with pytest.raises((ValueError, aiohttp.ClientError)):
        await web_get("summary")


async def test_truncated_stops_mid_json(fleet: Fleet) -> None:
    fleet.device(HOST).faults.inject("truncated")
    raw = await rpc_raw(HOST, b'{"command":"stats"}')
    assert raw.startswith(b'{"')
    with pytest.raises(ValueError):
        json.loads(raw.rstrip(b"\x00"))


async def test_web_down_while_rpc_answers(fleet: Fleet) -> None:
    fleet.device(HOST).faults.inject("web_down")
    assert (await rpc_json(HOST, "summary"))["STATUS"][0]["STATUS"] == "S"
    with pytest.raises(aiohttp.ClientError):
        await web_get("get_miner_conf")


async def test_ack_sleep_keep_hashing(fleet: Fleet) -> None:
    device = fleet.device(HOST)
    device.faults.inject("ack_sleep_keep_hashing")
    digest = aiohttp.DigestAuthMiddleware("root", "root")
    async with aiohttp.ClientSession(middlewares=(digest,)) as session:
        url = f"http://{HOST}/cgi-bin/set_miner_conf.cgi"
        async with session.post(url, json={"miner-mode": 1}) as response:
            assert json.loads(await response.read())["code"] == "M000"
    assert (await web_get("get_miner_conf"))["bitmain-work-mode"] == "1"
    await asyncio.sleep(10 / SPEED + 0.05)
    snapshot = device.snapshot()
    assert snapshot.hashrate_hs > 0.9 * snapshot.nameplate_hs
    assert snapshot.power_w > 3000


async def test_reboot_goes_offline_then_comes_back(fleet: Fleet) -> None:
    device = fleet.device(HOST)
    device.reboot()
    assert device.snapshot().phase == "rebooting"
    assert await rpc_gets_nothing(HOST)
    await asyncio.sleep((60 + 6 + 6) / SPEED + 0.1)
    assert device.snapshot().phase == "running"
    assert (await rpc_json(HOST, "summary"))["STATUS"][0]["STATUS"] == "S"


async def test_reboot_cgi_acknowledges_then_goes_offline(fleet: Fleet) -> None:
    reply = await web_get("reboot")
    assert reply
    assert fleet.device(HOST).snapshot().phase == "rebooting"


async def test_unknown_fault_is_refused(fleet: Fleet) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        fleet.device(HOST).faults.inject("gremlins")


async def test_faults_reach_kept_alive_web_connections(fleet: Fleet) -> None:
    digest = aiohttp.DigestAuthMiddleware("root", "root")
    connector = aiohttp.TCPConnector(limit=1)  # one connection, reused for every request
    timeout = aiohttp.ClientTimeout(total=0.5)
    url = f"http://{HOST}/cgi-bin/get_blink_status.cgi"
    async with aiohttp.ClientSession(
        middlewares=(digest,), connector=connector, timeout=timeout
    ) as session:
        async with session.get(url) as response:
            assert response.status == 200
        fleet.device(HOST).faults.inject("stall")
        with pytest.raises(TimeoutError):
            async with session.get(url) as response:
                await response.read()
        fleet.device(HOST).faults.clear()
        async with session.get(url) as response:
            assert response.status == 200
        fleet.device(HOST).faults.inject("web_down")
        with pytest.raises(aiohttp.ClientError):
            async with session.get(url) as response:
                await response.read()


async def test_reboot_drops_kept_alive_web_connections(fleet: Fleet) -> None:
    digest = aiohttp.DigestAuthMiddleware("root", "root")
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(
        middlewares=(digest,), connector=connector, timeout=aiohttp.ClientTimeout(total=1)
    ) as session:
        async with session.get(f"http://{HOST}/cgi-bin/reboot.cgi") as response:
            assert response.status == 200
            assert response.headers["Connection"].lower() == "close"
        with pytest.raises(aiohttp.ClientError):
            async with session.get(f"http://{HOST}/cgi-bin/summary.cgi") as response:
                await response.read()
