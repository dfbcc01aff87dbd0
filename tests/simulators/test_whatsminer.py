"""Whatsminer API v2 writes (token, md5-crypt, AES-256-ECB) and API v3 frames and tokens,
against a client written here from the protocol description (docs/protocols.md §2), not from
the simulator's code. md5-crypt comes from passlib, as in pyasic."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import warnings
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from simulators import Fleet, load_site_dict
from simulators.whatsminer.crypto import md5_crypt
from simulators.whatsminer.device import WhatsminerDevice
from tests.simulators.conftest import QUICK_TIMINGS, rpc_raw, v3_exchange

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # passlib warns about the crypt module on import
    from passlib.hash import md5_crypt as passlib_md5_crypt

WRITABLE, LOCKED, QUIRKY, V3, V3_LOCKED = (
    "127.0.82.1", "127.0.82.2", "127.0.82.3", "127.0.82.4", "127.0.82.5",
)  # fmt: skip
SPEED = 100.0
TIMINGS = QUICK_TIMINGS


@pytest.fixture
async def fleet() -> AsyncIterator[Fleet]:
    base = {"make": "whatsminer", "model": "M60S", "timings": TIMINGS}
    site = load_site_dict(
        {
            "site": "wm",
            "devices": [
                base | {"start": WRITABLE, "api_writes": True},
                base | {"start": LOCKED},
                base
                | {
                    "start": QUIRKY,
                    "api_writes": True,
                    "quirks": ["json_bugs", "power_mode_no_reply"],
                },
                base | {"start": V3, "api": "v3", "api_writes": True},
                base | {"start": V3_LOCKED, "api": "v3"},
            ],
        }
    )
    async with Fleet(site, speed=SPEED, listen="exact") as running:
        yield running


def wm(fleet: Fleet, address: str) -> WhatsminerDevice:
    device = fleet.device(address)
    assert isinstance(device, WhatsminerDevice)
    return device


async def settle(sim_seconds: float) -> None:
    await asyncio.sleep(sim_seconds / SPEED + 0.05)


# ---- an independent API v2 client ------------------------------------------------------


def field3(password: str, salt: str) -> str:
    return str(passlib_md5_crypt.hash(password, salt=salt)).split("$")[3]


class V2Client:
    def __init__(self, host: str, password: str = "admin") -> None:
        self.host = host
        self.password = password
        self.sign = ""
        self.key = b""

    async def plain(self, obj: dict[str, Any]) -> dict[str, Any]:
        raw = (await rpc_raw(self.host, json.dumps(obj).encode())).decode().rstrip("\x00")
        # The repairs every Whatsminer client makes (the json_bugs quirk needs them).
        raw = raw.replace(",}", "}").replace("\n", "").replace('""temp0', '","temp0')
        decoded: dict[str, Any] = json.loads(raw)
        return decoded

    async def login(self) -> None:
        token = await self.plain({"cmd": "get_token"})
        assert token["Code"] == 134, token
        msg = token["Msg"]
        key_field = field3(self.password, msg["salt"])
        self.sign = field3(key_field + msg["time"], msg["newsalt"])
        self.key = hashlib.sha256(key_field.encode()).digest()

    async def write(self, cmd: str, **params: Any) -> dict[str, Any]:
        plain = json.dumps({"cmd": cmd, **params, "token": self.sign}).encode()
        plain += b"\x00" * (-len(plain) % 16)
        enc = Cipher(algorithms.AES(self.key), modes.ECB()).encryptor()
        data = base64.b64encode(enc.update(plain) + enc.finalize()).decode()
        reply = await self.plain({"enc": 1, "data": data})
        if "enc" not in reply:
            return reply  # refusals come in clear
        dec = Cipher(algorithms.AES(self.key), modes.ECB()).decryptor()
        clear = dec.update(base64.b64decode(reply["enc"])) + dec.finalize()
        decoded: dict[str, Any] = json.loads(clear.rstrip(b"\x00"))
        return decoded


@pytest.mark.parametrize(
    ("password", "salt"), [("admin", "Xa4kPq2Z"), ("", "ab"), ("x" * 40, "12345678")]
)
def test_md5_crypt_matches_passlib(password: str, salt: str) -> None:
    assert md5_crypt(password, salt) == passlib_md5_crypt.hash(password, salt=salt)


def test_md5_crypt_known_vector() -> None:
    # `openssl passwd -1 -salt Xa4kPq2Z admin`
    assert md5_crypt("admin", "Xa4kPq2Z") == "$1$Xa4kPq2Z$ICjXvWA3OUMbidNc3W/kq1"


async def test_v2_power_off_stays_off_until_power_on(fleet: Fleet) -> None:
    device = wm(fleet, WRITABLE)
    client = V2Client(WRITABLE)
    await client.login()
    pools, fans_setting = device.pools, device.control.fast_boot
    reply = await client.write("power_off", respbefore="true")
    assert reply["Code"] == 131
    assert reply["Msg"] == "API command OK"
    status = await client.plain({"cmd": "status"})
    assert status["Msg"]["mineroff"] == "true"
    await settle(TIMINGS["stop_s"] + 30)
    off = device.snapshot()
    assert off.phase == "sleep"
    assert off.hashrate_hs == 0
    assert 10 <= off.power_w <= 30  # residual draw of control board and PSU
    await settle(200)
    assert device.snapshot().phase == "sleep"  # no auto-resume
    reply = await client.write("power_on")  # the same token, reused
    assert reply["Code"] == 131
    await settle(TIMINGS["boot_s"] + TIMINGS["ramp_s"])
    on = device.snapshot()
    assert on.phase == "running"
    assert on.power_w > 3000
    assert device.pools == pools
    assert device.control.fast_boot == fans_setting


async def test_v2_power_limit_restarts_mining_then_ramps(fleet: Fleet) -> None:
    device = wm(fleet, WRITABLE)
    client = V2Client(WRITABLE)
    await client.login()
    reply = await client.write("adjust_power_limit", power_limit="2500")
    assert reply["Code"] == 131
    dip = device.snapshot()
    assert dip.phase == "booting"
    assert dip.power_w < 100
    assert dip.power_limit_w == 2500
    await settle(TIMINGS["boot_s"] + TIMINGS["ramp_s"])
    capped = device.snapshot()
    assert capped.phase == "running"
    assert capped.power_w == pytest.approx(2500, rel=0.03)
    assert 0.6 * capped.nameplate_hs < capped.hashrate_hs < 0.9 * capped.nameplate_hs
    summary = await client.plain({"cmd": "summary"})
    assert summary["SUMMARY"][0]["Power Limit"] == 2500
    too_high = await client.write("adjust_power_limit", power_limit="9000")
    assert too_high["STATUS"] == "E"
    assert too_high["Code"] == 132
    assert device.snapshot().power_limit_w == 2500


async def test_v2_power_percent_is_temporary_and_needs_no_restart(fleet: Fleet) -> None:
    device = wm(fleet, WRITABLE)
    client = V2Client(WRITABLE)
    await client.login()
    uptime = device.snapshot().uptime_s
    assert (await client.write("set_power_pct", percent="50"))["Code"] == 131
    await settle(TIMINGS["adjust_s"])
    half = device.snapshot()
    assert half.phase == "running"
    assert half.uptime_s > uptime
    assert half.power_w == pytest.approx(device.spec.nameplate_w * 0.5, rel=0.03)
    assert (await client.plain({"cmd": "status"}))["Msg"]["hash_percent"] == "50"


async def test_v2_power_modes(fleet: Fleet) -> None:
    device = wm(fleet, WRITABLE)
    client = V2Client(WRITABLE)
    await client.login()
    assert (await client.write("set_low_power"))["Code"] == 131
    await settle(TIMINGS["boot_s"] + TIMINGS["ramp_s"])
    assert device.snapshot().mode == "low_power"
    summary = await client.plain({"cmd": "summary"})
    assert summary["SUMMARY"][0]["Power Mode"] == "Low"
    assert device.snapshot().power_w < 0.75 * device.spec.nameplate_w


async def test_v2_writes_refused_while_the_api_switch_is_off(fleet: Fleet) -> None:
    client = V2Client(LOCKED)
    await client.login()
    reply = await client.write("power_off", respbefore="true")
    assert reply["STATUS"] == "E"
    assert reply["Code"] == 45
    assert reply["Msg"] == "can't access write cmd"
    assert wm(fleet, LOCKED).snapshot().phase == "running"


async def test_v2_token_errors(fleet: Fleet) -> None:
    device = wm(fleet, WRITABLE)
    wrong = V2Client(WRITABLE, password="nope")
    await wrong.login()
    assert (await wrong.write("power_off"))["Code"] == 135
    bad64 = await wrong.plain({"enc": 1, "data": "***not base64***"})
    assert bad64["Code"] == 137
    in_clear = await wrong.plain({"cmd": "power_off"})
    assert in_clear["STATUS"] == "E"
    client = V2Client(WRITABLE)
    await client.login()
    device.tokens.ttl_s = 0.0  # every issued sign expires at once
    await client.login()
    assert (await client.write("power_off"))["Code"] == 135
    assert device.snapshot().phase == "running"
    device.tokens.ttl_s, device.tokens.max_live = 1800.0, 1
    device.tokens.set_password("admin")  # a password change drops every live sign
    await client.login()
    assert (await client.plain({"cmd": "get_token"}))["Code"] == 136


async def test_v2_json_bugs_quirk_needs_repair(fleet: Fleet) -> None:
    raw = (await rpc_raw(QUIRKY, b'{"cmd":"devs"}')).decode()
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    assert ",}" in raw
    assert "\n" in raw
    assert '""temp0' in raw
    repaired = raw.replace(",}", "}").replace("\n", "").replace('""temp0', '","temp0')
    assert len(json.loads(repaired)["DEVS"]) == 3


async def test_v2_power_mode_commands_may_not_answer(fleet: Fleet) -> None:
    device = wm(fleet, QUIRKY)
    client = V2Client(QUIRKY)
    await client.login()
    with pytest.raises(json.JSONDecodeError):
        await client.write("set_high_power")  # connection closed, nothing sent
    assert device.control.power_mode == "high"


async def test_v2_multicommand(fleet: Fleet) -> None:
    reply = await V2Client(WRITABLE).plain({"command": "pools+summary+devs"})
    assert set(reply) == {"pools", "summary", "devs", "id"}
    assert reply["summary"][0]["SUMMARY"][0]["MHS 1m"] > 0


# ---- API v3 ------------------------------------------------------------------------


def v3_token(cmd: str, password: str, salt: str, ts: int) -> str:
    return base64.b64encode(hashlib.sha256(f"{cmd}{password}{salt}{ts}".encode()).digest())[
        :8
    ].decode()


async def v3_write(host: str, cmd: str, param: Any, password: str = "super") -> dict[str, Any]:
    (salt_reply,) = await v3_exchange(host, {"cmd": "get.device.info", "param": "salt"})
    salt = salt_reply["msg"]["salt"]
    ts = 1718000000
    request = {
        "cmd": cmd,
        "param": param,
        "ts": ts,
        "account": "super",
        "token": v3_token(cmd, password, salt, ts),
    }
    (reply,) = await v3_exchange(host, request)
    return reply


async def test_v3_frames_share_a_connection_and_heartbeat(fleet: Fleet) -> None:
    reader, writer = await asyncio.open_connection(V3, 4433)
    try:
        writer.write(b"\x00\x00\x00\x00")
        assert await asyncio.wait_for(reader.readexactly(4), 2) == b"\x00\x00\x00\x00"
    finally:
        writer.close()
    replies = await v3_exchange(
        V3,
        {"cmd": "get.miner.status", "param": "summary"},
        {"cmd": "get.miner.setting"},
        {"cmd": "get.nothing"},
    )
    assert [r["code"] for r in replies] == [0, 0, -1]
    assert replies[0]["desc"] == "get.miner.status"
    assert replies[1]["msg"]["power-mode"] == "normal"


async def test_v3_service_stop_start(fleet: Fleet) -> None:
    device = wm(fleet, V3)
    reply = await v3_write(V3, "set.miner.service", "stop")
    assert reply["code"] == 0
    assert reply["msg"] == "ok"
    await settle(TIMINGS["stop_s"] + 30)
    assert device.snapshot().phase == "sleep"
    (info,) = await v3_exchange(V3, {"cmd": "get.device.info", "param": "miner"})
    assert info["msg"]["miner"]["working"] == "false"
    assert (await v3_write(V3, "set.miner.service", "start"))["code"] == 0
    await settle(TIMINGS["boot_s"] + TIMINGS["ramp_s"])
    assert device.snapshot().phase == "running"


async def test_v3_power_limit_and_modes(fleet: Fleet) -> None:
    device = wm(fleet, V3)
    assert (await v3_write(V3, "set.miner.power_limit", 2800))["code"] == 0
    assert device.snapshot().phase == "booting"  # mining restarts to apply a limit
    assert (await v3_write(V3, "set.miner.power_limit", 99999))["code"] == -2
    for name, mode in (("set.miner.power_mode", "low"), ("set.miner.mode", "high")):
        assert (await v3_write(V3, name, mode))["code"] == 0
        assert device.control.power_mode == mode
    assert (await v3_write(V3, "set.miner.power_percent", 60))["code"] == 0
    assert device.control.percent == 60


async def test_v3_tokens_and_the_api_switch(fleet: Fleet) -> None:
    assert (await v3_write(V3, "set.miner.service", "stop", password="wrong"))["code"] == -3
    assert wm(fleet, V3).snapshot().phase == "running"
    locked = await v3_write(V3_LOCKED, "set.miner.service", "stop")
    assert locked["code"] == -4
    (info,) = await v3_exchange(V3_LOCKED, {"cmd": "get.device.info", "param": "system"})
    assert info["msg"]["system"]["apiswitch"] == "0"


async def test_v3_unit_answers_detection_on_4028_only(fleet: Fleet) -> None:
    devdetails = json.loads(await rpc_raw(V3, b'{"command":"devdetails"}'))
    assert devdetails["DEVDETAILS"][0]["Model"] == "M60S_VK30"
    version = json.loads(await rpc_raw(V3, b'{"command":"get_version"}'))
    assert version["Msg"]["fw_ver"] >= "20241100"
    summary = json.loads(await rpc_raw(V3, b'{"command":"summary"}'))
    assert summary["STATUS"] == "E"
    assert summary["Code"] == 14


async def test_v3_at_most_ten_clients(fleet: Fleet) -> None:
    conns = [await asyncio.open_connection(V3, 4433) for _ in range(10)]
    try:
        reader, writer = await asyncio.open_connection(V3, 4433)
        assert await asyncio.wait_for(reader.read(), 2) == b""  # closed at once
        writer.close()
    finally:
        for _r, w in conns:
            w.close()
