"""The small HTTP/1.1 client: framing, keep-alive, digest, and every failure typed."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.errors import ConnectionFailed, DeviceTimeout, DriverError, ProtocolError
from drivers.http1 import HttpClient
from drivers.settings import Credentials, DriverSettings
from simulators import Fleet, PortMap, load_site_dict
from tests.drivers.servers import Handler, read_http_head, serve

HOST = "127.0.58.1"
SETTINGS = DriverSettings()


def _server(replies: list[bytes], *, close_after: bool = False) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for reply in replies:
                await read_http_head(reader)
                writer.write(reply)
                await writer.drain()
            if not close_after:
                await reader.read()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    return handle


async def _one(handler: Handler, *, timeout_s: float = 2.0, method: str = "GET") -> bytes:
    async with serve(handler, HOST) as port:
        client = HttpClient(HOST, port, DriverSettings(connect_timeout_s=1.0))
        try:
            reply = await client.request(
                method, "/x", timeout_s=timeout_s, body=b"{}" if method == "POST" else None
            )
            return reply.body
        finally:
            await client.close()


@pytest.mark.parametrize(
    ("raw", "body"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", b"hello"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n",
            b"hello",
        ),
        (b"HTTP/1.0 200 OK\r\n\r\nhello", b"hello"),
        (b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nhello", b"hello"),
    ],
)
async def test_body_framings(raw: bytes, body: bytes) -> None:
    close = b"Content-Length" not in raw and b"chunked" not in raw
    assert await _one(_server([raw], close_after=close)) == body


async def test_keep_alive_reuses_one_connection() -> None:
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        try:
            while True:
                await read_http_head(reader)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async with serve(handle, HOST) as port:
        client = HttpClient(HOST, port, SETTINGS)
        for _ in range(5):
            assert (await client.request("GET", "/", timeout_s=2)).body == b"ok"
        await client.close()
    assert connections == 1


async def test_a_connection_the_server_closed_while_idle_is_replaced() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_http_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()  # keep-alive promised, then dropped: what idle timeouts do

    async with serve(handle, HOST) as port:
        client = HttpClient(HOST, port, SETTINGS)
        assert (await client.request("GET", "/", timeout_s=2)).body == b"ok"
        await asyncio.sleep(0.05)
        assert (await client.request("GET", "/", timeout_s=2)).body == b"ok"
        await client.close()


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", ProtocolError),
        (b"SPDY nonsense\r\n\r\n", ProtocolError),
        (b"HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\n", ProtocolError),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", ProtocolError),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", ProtocolError),
        (b"HTTP/1.1 200 OK\r\nContent-Le", ConnectionFailed),
        (b"", ConnectionFailed),
    ],
)
async def test_broken_replies_are_typed(raw: bytes, error: type[DriverError]) -> None:
    with pytest.raises(error):
        await _one(_server([raw], close_after=True))


async def test_silence_times_out_and_refusal_fails_fast() -> None:
    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    started = time.monotonic()
    with pytest.raises(DeviceTimeout):
        await _one(stall, timeout_s=0.3)
    assert time.monotonic() - started < 1.5
    client = HttpClient(HOST, 9, DriverSettings(connect_timeout_s=1.0))
    with pytest.raises(ConnectionFailed):
        await client.request("GET", "/", timeout_s=2)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
async def test_random_replies_give_only_typed_errors(raw: bytes) -> None:
    with contextlib.suppress(DriverError):
        await _one(_server([raw], close_after=True), timeout_s=0.5)


@pytest.fixture
async def antminer() -> AsyncIterator[Fleet]:
    site = load_site_dict(
        {
            "site": "http1",
            "devices": [{"make": "antminer", "model": "S21", "count": 1, "start": "127.0.58.10"}],
        }
    )
    async with Fleet(site, listen="exact", ports=PortMap(rpc=14058, web=10058)) as fleet:
        yield fleet


async def test_digest_against_the_simulated_antminer(antminer: Fleet) -> None:
    client = HttpClient("127.0.58.10", 10058, SETTINGS, credentials=Credentials("root", "root"))
    try:
        for _ in range(3):
            reply = await client.request("GET", "/cgi-bin/get_system_info.cgi", timeout_s=2)
            assert reply.status == 200
            assert b"minertype" in reply.body
        assert client._challenge is not None
        assert client._challenge.nc == 3  # one challenge, answered preemptively from then on
    finally:
        await client.close()
    wrong = HttpClient("127.0.58.10", 10058, SETTINGS, credentials=Credentials("root", "nope"))
    try:
        reply = await wrong.request("GET", "/cgi-bin/get_system_info.cgi", timeout_s=2)
        assert reply.status == 401
    finally:
        await wrong.close()
