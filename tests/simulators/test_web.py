"""The CGI web API on port 80: Digest auth, keep-alive, shapes, blink, 404s pyasic must not
mistake for a Marathon."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from simulators import Fleet, load_site_dict
from tests.simulators.conftest import http_raw
from tests.simulators.test_rpc import assert_same_shape

CAPTURES = Path(__file__).parents[1] / "fixtures" / "captures" / "antminer" / "v2020"
HOST = "127.77.2.1"
TIMEOUT = aiohttp.ClientTimeout(total=5)


@pytest.fixture
async def fleet() -> AsyncIterator[Fleet]:
    site = load_site_dict(
        {"site": "web", "devices": [{"make": "antminer", "model": "S21", "start": HOST}]}
    )
    async with Fleet(site, speed=60.0, listen="exact") as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    digest = aiohttp.DigestAuthMiddleware("root", "root")
    async with aiohttp.ClientSession(middlewares=(digest,), timeout=TIMEOUT) as client:
        yield client


def cgi(name: str) -> str:
    return f"http://{HOST}/cgi-bin/{name}.cgi"


def is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


async def test_root_without_auth_is_the_antminer_fingerprint(fleet: Fleet) -> None:
    status, headers, body = await http_raw(HOST, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 401
    challenge = headers["www-authenticate"]
    assert challenge.startswith('Digest realm="antMiner Configuration"')
    assert 'qop="auth"' in challenge
    assert "nonce=" in challenge
    assert not is_json(body)


async def test_cgi_without_auth_is_401(fleet: Fleet) -> None:
    request = b"GET /cgi-bin/get_system_info.cgi HTTP/1.1\r\nHost: x\r\n\r\n"
    status, _, _ = await http_raw(HOST, request)
    assert status == 401


async def test_wrong_password_is_401(fleet: Fleet) -> None:
    digest = aiohttp.DigestAuthMiddleware("root", "wrong")
    async with (
        aiohttp.ClientSession(middlewares=(digest,), timeout=TIMEOUT) as client,
        client.get(cgi("get_system_info")) as response,
    ):
        assert response.status == 401


async def test_system_info_has_the_captured_shape(
    fleet: Fleet, session: aiohttp.ClientSession
) -> None:
    async with session.get(cgi("get_system_info")) as response:
        assert response.status == 200
        data = json.loads(await response.read())
    assert_same_shape(data, json.loads((CAPTURES / "system_info.json").read_text()))
    assert data["minertype"] == "Antminer S21"
    assert data["ipaddress"] == HOST


async def test_keep_alive_and_preemptive_auth_reuse_one_connection(
    fleet: Fleet, session: aiohttp.ClientSession
) -> None:
    # aiohttp's middleware answers the first 401, then authenticates preemptively with the
    # nonce it was given, on the same kept-alive connection.
    for name in ("get_system_info", "summary", "stats", "get_miner_conf", "get_blink_status"):
        async with session.get(cgi(name)) as response:
            assert response.status == 200, name
            assert is_json(await response.read())


async def test_two_requests_on_one_raw_connection(fleet: Fleet) -> None:
    reader, writer = await asyncio.open_connection(HOST, 80)
    for _ in range(2):
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
        assert head.startswith(b"HTTP/1.1 401")
        length = int(
            next(
                line.split(b":")[1]
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
        )
        await reader.readexactly(length)
    writer.close()


async def test_an_unknown_nonce_is_refused_as_stale(fleet: Fleet) -> None:
    authorization = (
        'Digest username="root", realm="antMiner Configuration", nonce="0000", '
        'uri="/cgi-bin/summary.cgi", response="00", qop=auth, nc=00000001, cnonce="ab"'
    )
    request = (
        f"GET /cgi-bin/summary.cgi HTTP/1.1\r\nHost: x\r\nAuthorization: {authorization}\r\n\r\n"
    ).encode()
    status, headers, _ = await http_raw(HOST, request)
    assert status == 401
    assert "antMiner Configuration" in headers["www-authenticate"]


@pytest.mark.parametrize("path", ["/kaonsu/v1/brief", "/cgi-bin/nothing.cgi", "/api/v1/x"])
async def test_unknown_paths_are_404_and_not_json(
    fleet: Fleet, session: aiohttp.ClientSession, path: str
) -> None:
    async with session.get(f"http://{HOST}{path}") as response:
        assert response.status == 404
        assert not is_json(await response.read())


async def test_web_summary_envelope(fleet: Fleet, session: aiohttp.ClientSession) -> None:
    async with session.get(cgi("summary")) as response:
        data = json.loads(await response.read())
    assert isinstance(data["STATUS"], dict)
    assert data["STATUS"]["STATUS"] == "S"
    assert data["INFO"]["type"] == "Antminer S21"
    summary = data["SUMMARY"][0]
    assert summary["rate_unit"] == "GH/s"
    assert {item["type"] for item in summary["status"]} == {"rate", "network", "fans", "temp"}
    assert all(item["status"] == "s" for item in summary["status"])


async def test_web_stats_chains(fleet: Fleet, session: aiohttp.ClientSession) -> None:
    async with session.get(cgi("stats")) as response:
        data = json.loads(await response.read())
    stats = data["STATS"][0]
    assert "miner-mode" in stats
    assert len(stats["fan"]) == 4
    chains = stats["chain"]
    assert [c["index"] for c in chains] == [0, 1, 2]
    for chain in chains:
        assert chain["asic_num"] == 108
        assert chain["rate_real"] > 0
        assert len(chain["temp_pcb"]) == 4
        assert len(chain["temp_chip"]) == 4
        assert isinstance(chain["sn"], str)
        assert chain["sn"]


async def test_miner_conf_reads_back_strings(fleet: Fleet, session: aiohttp.ClientSession) -> None:
    async with session.get(cgi("get_miner_conf")) as response:
        conf = json.loads(await response.read())
    assert conf["bitmain-work-mode"] == "0"
    assert len(conf["pools"]) == 3
    assert set(conf["pools"][0]) == {"url", "user", "pass"}
    assert conf["bitmain-fan-ctrl"] is False
    assert isinstance(conf["bitmain-fan-pwm"], str)


async def test_blink_round_trip(fleet: Fleet, session: aiohttp.ClientSession) -> None:
    async with session.post(cgi("blink"), json={"blink": "true"}) as response:
        assert json.loads(await response.read())["code"] == "B000"
    async with session.get(cgi("get_blink_status")) as response:
        assert json.loads(await response.read())["blink"] is True
    async with session.post(cgi("blink"), json={"blink": "false"}) as response:
        assert json.loads(await response.read())["code"] == "B100"
    async with session.get(cgi("get_blink_status")) as response:
        assert json.loads(await response.read())["blink"] is False


def digest_header(challenge: str, uri: str, password: str = "root") -> str:
    nonce = challenge.split('nonce="', 1)[1].split('"', 1)[0]
    realm = "antMiner Configuration"
    ha1 = hashlib.md5(f"root:{realm}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"GET:{uri}".encode()).hexdigest()
    response = hashlib.md5(f"{ha1}:{nonce}:00000001:c0ffee:auth:{ha2}".encode()).hexdigest()
    return (
        f'Digest username="root", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'response="{response}", qop=auth, nc=00000001, cnonce="c0ffee", algorithm=MD5'
    )


async def test_a_recent_nonce_is_accepted_preemptively_then_goes_stale(fleet: Fleet) -> None:
    uri = "/cgi-bin/get_blink_status.cgi"
    _, headers, _ = await http_raw(HOST, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    authorization = digest_header(headers["www-authenticate"], uri)
    request = f"GET {uri} HTTP/1.1\r\nHost: x\r\nAuthorization: {authorization}\r\n\r\n".encode()

    status, _, body = await http_raw(HOST, request)  # a new connection, no 401 first
    assert status == 200
    assert json.loads(body) == {"blink": False}

    device: Any = fleet.device(HOST)
    device.auth.nonce_ttl_s = 0.05
    await asyncio.sleep(0.1)
    status, headers, _ = await http_raw(HOST, request)
    assert status == 401
    assert "stale=true" in headers["www-authenticate"]
    status, _, _ = await http_raw(HOST, request.replace(b"root", b"r00t", 1))
    assert status == 401
