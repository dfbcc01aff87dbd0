"""set_miner_conf semantics: mode written as miner-mode, read back from bitmain-work-mode,
full-config pools and fans, and the three switchable firmware quirks."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from simulators import Fleet, load_site_dict

PLAIN = "127.77.3.1"
WIPES = "127.77.3.2"
IGNORES_KEY = "127.77.3.3"
SLOW = "127.77.3.4"
SLOWER = "127.77.3.5"
SPEED = 600.0
FAST = {"stop_s": 6, "boot_s": 6, "ramp_s": 6, "reboot_s": 6}
POOLS = [
    {"url": "stratum+tcp://a.example:3333", "user": "site.w1", "pass": "x"},
    {"url": "stratum+tcp://b.example:3333", "user": "site.w1", "pass": "x"},
    {"url": "", "user": "", "pass": ""},
]


@pytest.fixture
async def fleet() -> AsyncIterator[Fleet]:
    def entry(start: str, **extra: Any) -> dict[str, Any]:
        return {"make": "antminer", "model": "S21", "start": start, "timings": FAST, **extra}

    site = load_site_dict(
        {
            "site": "conf",
            "devices": [
                entry(PLAIN),
                entry(WIPES, quirks=["partial_body_wipes_pools"]),
                entry(IGNORES_KEY, quirks=["work_mode_key_ignored"]),
                entry(SLOW, quirks=["slow_set_conf"]),
                entry(SLOWER, quirks=["slow_set_conf"], set_conf_delay_s=0.3),
            ],
        }
    )
    async with Fleet(site, speed=SPEED, listen="exact") as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    digest = aiohttp.DigestAuthMiddleware("root", "root")
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(middlewares=(digest,), timeout=timeout) as client:
        yield client


async def get_conf(session: aiohttp.ClientSession, host: str) -> dict[str, Any]:
    async with session.get(f"http://{host}/cgi-bin/get_miner_conf.cgi") as response:
        conf: dict[str, Any] = json.loads(await response.read())
        return conf


async def set_conf(
    session: aiohttp.ClientSession, host: str, body: dict[str, Any], *, text_plain: bool = False
) -> dict[str, Any]:
    url = f"http://{host}/cgi-bin/set_miner_conf.cgi"
    if text_plain:
        headers = {"Content-Type": "text/plain;charset=UTF-8", "X-Requested-With": "XMLHttpRequest"}
        request = session.post(url, data=json.dumps(body), headers=headers)
    else:
        request = session.post(url, json=body)
    async with request as response:
        assert response.status == 200
        reply: dict[str, Any] = json.loads(await response.read())
        return reply


def full_body(mode: int | str, pools: list[dict[str, str]] = POOLS) -> dict[str, Any]:
    return {
        "bitmain-fan-ctrl": False,
        "bitmain-fan-pwm": "100",
        "miner-mode": mode,
        "freq-level": "100",
        "pools": pools,
    }


async def test_sleep_is_acknowledged_read_back_and_physical(
    fleet: Fleet, session: aiohttp.ClientSession
) -> None:
    device = fleet.device(PLAIN)
    before = device.snapshot()
    assert before.phase == "running"
    reply = await set_conf(session, PLAIN, full_body(1))
    assert reply == {"stats": "success", "code": "M000", "msg": "OK!"}
    assert (await get_conf(session, PLAIN))["bitmain-work-mode"] == "1"
    await asyncio.sleep(7 / SPEED + 0.05)
    after = device.snapshot()
    assert after.phase == "sleep"
    assert after.hashrate_hs == 0
    assert after.power_w < 50 < before.power_w


async def test_mode_as_string_and_low_power(fleet: Fleet, session: aiohttp.ClientSession) -> None:
    await set_conf(session, PLAIN, full_body("3"), text_plain=True)
    assert (await get_conf(session, PLAIN))["bitmain-work-mode"] == "3"
    await asyncio.sleep(13 / SPEED + 0.05)
    snapshot = fleet.device(PLAIN).snapshot()
    assert snapshot.phase == "running"
    assert snapshot.power_w == pytest.approx(0.7 * 3500, rel=0.05)


async def test_pools_in_the_body_replace_the_stored_ones(
    fleet: Fleet, session: aiohttp.ClientSession
) -> None:
    await set_conf(session, PLAIN, full_body(0))
    assert [p.url for p in fleet.device(PLAIN).pools][:2] == [POOLS[0]["url"], POOLS[1]["url"]]
    assert (await get_conf(session, PLAIN))["pools"][1]["url"] == POOLS[1]["url"]


async def test_partial_body_keeps_pools_on_current_firmware(
    fleet: Fleet, session: aiohttp.ClientSession
) -> None:
    pools_before = fleet.device(PLAIN).pools
    assert pools_before[0].url
    await set_conf(session, PLAIN, {"miner-mode": 1})
    assert fleet.device(PLAIN).pools == pools_before
    assert (await get_conf(session, PLAIN))["bitmain-work-mode"] == "1"


async def test_quirk_partial_body_wipes_pools(fleet: Fleet, session: aiohttp.ClientSession) -> None:
    assert fleet.device(WIPES).pools[0].url
    await set_conf(session, WIPES, {"miner-mode": 1})
    assert all(not p.url for p in fleet.device(WIPES).pools)
    assert all(p["url"] == "" for p in (await get_conf(session, WIPES))["pools"])


async def test_work_mode_key_works_without_the_quirk(
    fleet: Fleet, session: aiohttp.ClientSession
) -> None:
    await set_conf(session, PLAIN, {"bitmain-work-mode": "1"})
    assert (await get_conf(session, PLAIN))["bitmain-work-mode"] == "1"


async def test_quirk_work_mode_key_ignored(fleet: Fleet, session: aiohttp.ClientSession) -> None:
    reply = await set_conf(session, IGNORES_KEY, {"bitmain-work-mode": "1", "pools": POOLS})
    assert reply["code"] == "M000"
    assert (await get_conf(session, IGNORES_KEY))["bitmain-work-mode"] == "0"
    await set_conf(session, IGNORES_KEY, full_body(1))
    assert (await get_conf(session, IGNORES_KEY))["bitmain-work-mode"] == "1"


async def test_quirk_slow_set_conf(fleet: Fleet, session: aiohttp.ClientSession) -> None:
    # 20-35 simulated seconds by default, so the reply lags at any clock speed.
    await get_conf(session, SLOW)  # the digest round trip happens outside the timing
    started = time.monotonic()
    reply = await set_conf(session, SLOW, full_body(1))
    elapsed = time.monotonic() - started
    assert reply["code"] == "M000"
    assert 20 / SPEED * 0.9 <= elapsed < 2
    # The change is applied at once; only the answer is late.
    assert (await get_conf(session, SLOW))["bitmain-work-mode"] == "1"


async def test_slow_set_conf_delay_is_configurable(
    fleet: Fleet, session: aiohttp.ClientSession
) -> None:
    await get_conf(session, SLOWER)
    started = time.monotonic()
    await set_conf(session, SLOWER, full_body(1))
    assert time.monotonic() - started >= 0.29


async def test_fan_settings_accept_the_pwn_spelling(
    fleet: Fleet, session: aiohttp.ClientSession
) -> None:
    body = {**full_body(0), "bitmain-fan-ctrl": True}
    del body["bitmain-fan-pwm"]
    body["bitmain-fan-pwn"] = "40"
    await set_conf(session, PLAIN, body)
    conf = await get_conf(session, PLAIN)
    assert conf["bitmain-fan-ctrl"] is True
    assert conf["bitmain-fan-pwm"] == "40"
    fans = fleet.device(PLAIN).snapshot().fans_rpm
    assert fans
    assert max(fans) < 0.5 * 6000
