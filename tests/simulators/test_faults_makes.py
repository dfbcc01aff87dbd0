"""Every fault on the Whatsminer (API v2 on 4028, API v3 on 4433) and Auradine (GCMiner
RPC on 4028, REST on 8080) simulators."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from simulators import Fleet
from tests.simulators.conftest import QUICK_TIMINGS, http_raw, rpc_raw, serve

WM_V2, WM_V3, AURADINE, BORN_STALLED = "127.0.84.1", "127.0.84.2", "127.0.84.3", "127.0.84.4"
SPEED = 100.0
TIMINGS = QUICK_TIMINGS


@pytest.fixture
async def fleet() -> AsyncIterator[Fleet]:
    async with serve(
        "faults",
        {
            "make": "whatsminer",
            "model": "M60S",
            "start": WM_V2,
            "api_writes": True,
            "timings": TIMINGS,
        },
        {
            "make": "whatsminer",
            "model": "M60S",
            "api": "v3",
            "start": WM_V3,
            "api_writes": True,
            "timings": TIMINGS,
        },
        {"make": "auradine", "model": "AT1500", "start": AURADINE, "timings": TIMINGS},
        {"make": "auradine", "model": "AT1500", "start": BORN_STALLED, "faults": ["stall"]},
        speed=SPEED,
    ) as running:
        yield running


async def v2(host: str = WM_V2) -> bytes:
    return await rpc_raw(host, b'{"cmd":"summary"}', limit_s=1)


async def v3(host: str = WM_V3) -> bytes:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, 4433), 1)
    try:
        body = b'{"cmd":"get.miner.status","param":"summary"}'
        writer.write(len(body).to_bytes(4, "little") + body)
        return await asyncio.wait_for(reader.read(65536), 1)
    finally:
        writer.close()


async def gcminer(host: str = AURADINE) -> bytes:
    return await rpc_raw(host, b'{"command":"summary"}', limit_s=1)


async def rest(host: str = AURADINE) -> bytes:
    return (await http_raw(host, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", port=8080, limit_s=1))[2]


Probe = Callable[[], Awaitable[bytes]]
PROBES: dict[str, tuple[str, Probe]] = {
    "whatsminer-v2": (WM_V2, v2),
    "whatsminer-v3": (WM_V3, v3),
    "auradine-rpc": (AURADINE, gcminer),
    "auradine-rest": (AURADINE, rest),
}


async def gets_nothing(probe: Probe) -> bool:
    try:
        return await probe() == b""
    except (ConnectionError, OSError, asyncio.IncompleteReadError):
        return True
    except TimeoutError:
        return False


@pytest.mark.parametrize("name", list(PROBES))
async def test_refuse(fleet: Fleet, name: str) -> None:
    host, probe = PROBES[name]
    assert await probe()
    fleet.device(host).faults.inject("refuse")
    assert await gets_nothing(probe)
    fleet.device(host).faults.clear()
    assert await probe()


@pytest.mark.parametrize("name", list(PROBES))
async def test_stall(fleet: Fleet, name: str) -> None:
    host, probe = PROBES[name]
    fleet.device(host).faults.inject("stall")
    with pytest.raises(TimeoutError):
        await probe()


async def test_stall_from_the_site_file(fleet: Fleet) -> None:
    with pytest.raises(TimeoutError):
        await gcminer(BORN_STALLED)


@pytest.mark.parametrize("name", list(PROBES))
async def test_slow(fleet: Fleet, name: str) -> None:
    host, probe = PROBES[name]
    fleet.device(host).faults.inject("slow", seconds=0.3)
    started = time.monotonic()
    assert await probe()
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize("name", list(PROBES))
async def test_malformed_and_truncated(fleet: Fleet, name: str) -> None:
    host, probe = PROBES[name]
    good = await probe()
    fleet.device(host).faults.inject("malformed")
    bad = await probe()
    assert bad != good
    fleet.device(host).faults.clear()
    fleet.device(host).faults.inject("truncated")
    try:
        cut = await probe()
    except asyncio.IncompleteReadError as exc:  # HTTP: fewer bytes than Content-Length
        cut = exc.partial
    assert 0 < len(cut) < len(good)


async def test_rpc_down_and_web_down(fleet: Fleet) -> None:
    faults = fleet.device(AURADINE).faults
    faults.inject("rpc_down")
    assert await gets_nothing(gcminer)
    assert await rest()
    faults.clear()
    faults.inject("web_down")
    assert await gets_nothing(rest)
    assert await gcminer()
    wm = fleet.device(WM_V3).faults
    wm.inject("rpc_down")
    assert await gets_nothing(v3)
    assert await gets_nothing(lambda: v2(WM_V3))


async def test_reboot_takes_every_port_offline(fleet: Fleet) -> None:
    for host, probes in ((WM_V3, (v3,)), (AURADINE, (gcminer, rest))):
        fleet.device(host).reboot()
        for probe in probes:
            assert await gets_nothing(probe)
    await asyncio.sleep((TIMINGS["reboot_s"] + TIMINGS["boot_s"]) / SPEED + 0.1)
    assert await v3()
    assert await gcminer()


async def test_ack_sleep_keep_hashing(fleet: Fleet) -> None:
    """Sleep is acknowledged and reads back as asleep, but the power stays up."""
    wm = fleet.device(WM_V2)
    wm.faults.inject("ack_sleep_keep_hashing")
    wm.control.power_off()  # type: ignore[attr-defined]
    status = json.loads(await rpc_raw(WM_V2, b'{"cmd":"status"}'))
    assert status["Msg"]["mineroff"] == "true"
    au = fleet.device(AURADINE)
    au.faults.inject("ack_sleep_keep_hashing")
    au.control.set_sleep(True)  # type: ignore[attr-defined]
    await asyncio.sleep(30 / SPEED)
    for device in (wm, au):
        snapshot = device.snapshot()
        assert snapshot.phase == "running"
        assert snapshot.power_w > 3000
