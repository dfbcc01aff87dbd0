"""The Antminer web transport against misbehaving HTTP servers: typed errors, bounded time."""

from __future__ import annotations

import asyncio
import time

import pytest

from drivers.antminer.transport import WebTransport
from drivers.errors import (
    AuthError,
    ConnectionFailed,
    DeviceTimeout,
    ProtocolError,
    UnsupportedError,
)
from drivers.settings import Credentials, DriverSettings
from tests.drivers.servers import HOST, Handler, closed_port, read_http_head, replying, serve

SETTINGS = DriverSettings(connect_timeout_s=0.3, read_timeout_s=0.3, write_timeout_s=0.6)
BODY = b'{"minertype":"Antminer S21"}'
CHALLENGE = b'WWW-Authenticate: Digest realm="antMiner Configuration", nonce="abc", qop="auth"\r\n'


def http(status: str, body: bytes = b"", extra: bytes = b"", length: int | None = None) -> bytes:
    size = len(body) if length is None else length
    return (
        b"HTTP/1.1 "
        + status.encode()
        + b"\r\nContent-Length: %d\r\n" % size
        + extra
        + b"\r\n"
        + body
    )


def answering(response: bytes, delay: float = 0.0) -> Handler:
    return replying(response, read=read_http_head, delay=delay, forever=True)


async def fetch(port: int, *, post: bool = False) -> bytes:
    web = WebTransport(HOST, port, Credentials("root", "root"), SETTINGS)
    try:
        if post:
            return await web.post("set_miner_conf", b"{}", slow=True)
        return await web.get("get_system_info")
    finally:
        await web.close()


async def test_ok_body() -> None:
    async with serve(answering(http("200 OK", BODY))) as port:
        assert await fetch(port) == BODY


async def test_refused() -> None:
    with pytest.raises(ConnectionFailed):
        await fetch(closed_port())


async def test_always_401_is_auth_error() -> None:
    async with serve(answering(http("401 Unauthorized", extra=CHALLENGE))) as port:
        with pytest.raises(AuthError):
            await fetch(port)


async def test_404_is_unsupported() -> None:
    async with serve(answering(http("404 Not Found", b"<html>"))) as port:
        with pytest.raises(UnsupportedError):
            await fetch(port)


async def test_500_is_protocol_error() -> None:
    async with serve(answering(http("500 Internal Server Error", b"oops"))) as port:
        with pytest.raises(ProtocolError):
            await fetch(port)


@pytest.mark.parametrize(("post", "limit"), [(False, 0.6), (True, 0.9)])
async def test_stall_times_out(post: bool, limit: float) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(60)

    async with serve(handler) as port:
        start = time.monotonic()
        with pytest.raises(DeviceTimeout):
            await fetch(port, post=post)
        assert time.monotonic() - start < limit + 0.5


async def test_slow_write_gets_the_longer_timeout() -> None:
    async with serve(answering(http("200 OK", BODY), delay=0.45)) as port:
        assert await fetch(port, post=True) == BODY
        with pytest.raises(DeviceTimeout):
            await fetch(port)


async def test_truncated_body() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_http_head(reader)
        writer.write(http("200 OK", BODY[:10], length=len(BODY)))
        await writer.drain()

    async with serve(handler) as port:
        with pytest.raises(ProtocolError):
            await fetch(port)


@pytest.mark.parametrize(
    "garbage", [b"SSH-2.0-OpenSSH\r\n", b"HTTP/1.1 abc\r\n\r\n", b"\x00\xff" * 50]
)
async def test_malformed_http(garbage: bytes) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_http_head(reader)
        writer.write(garbage)
        await writer.drain()

    async with serve(handler) as port:
        with pytest.raises(ProtocolError):
            await fetch(port)


async def test_oversized_body() -> None:
    async with serve(answering(http("200 OK", b"x" * 5000))) as port:
        web = WebTransport(HOST, port, Credentials("root", "root"), SETTINGS, max_reply_bytes=1000)
        try:
            with pytest.raises(ProtocolError):
                await web.get("stats")
        finally:
            await web.close()
