"""Make detection against throwaway servers on every probed port."""

from __future__ import annotations

import asyncio
import json
import struct
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest

from drivers import detect_make
from drivers.errors import ConnectionFailed, UnsupportedError
from drivers.settings import DriverSettings
from drivers.types import DeviceEndpoint, Make
from tests.drivers.conftest import capture
from tests.drivers.servers import HOST, closed_port, read_http_head, read_request, serve

SETTINGS = DriverSettings(connect_timeout_s=0.3, read_timeout_s=0.3)
WHATSMINER_VERSION = {
    "STATUS": [{"STATUS": "S", "Description": "btminer"}],
    "VERSION": [{"API": "2.0.5"}],
}
AURADINE_VERSION = {
    "STATUS": [{"STATUS": "S", "Description": "GCMiner 0.5"}],
    "VERSION": [{"GCMiner": "0.5"}],
}


def rpc_replying(reply: object):  # type: ignore[no-untyped-def]
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(json.dumps(reply).encode() + b"\x00")

    return handler


def web_replying(head: bytes):  # type: ignore[no-untyped-def]
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_http_head(reader)
        writer.write(head + b"Content-Length: 0\r\n\r\n")
        await writer.drain()

    return handler


def v3_replying(reply: object):  # type: ignore[no-untyped-def]
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        (length,) = struct.unpack("<I", await reader.readexactly(4))
        assert json.loads(await reader.readexactly(length)) == {"cmd": "get.device.info"}
        body = json.dumps(reply).encode()
        writer.write(struct.pack("<I", len(body)) + body)
        await writer.drain()

    return handler


async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(60)


@asynccontextmanager
async def device(rpc=None, web=None, v3=None) -> AsyncIterator[DeviceEndpoint]:  # type: ignore[no-untyped-def]
    async with AsyncExitStack() as stack:
        ports = []
        for name, handler in (("rpc", rpc), ("web", web), ("v3", v3)):
            port = (
                closed_port()
                if handler is None
                else await stack.enter_async_context(serve(handler))
            )
            ports.append((name, port))
        yield DeviceEndpoint(HOST, tuple(ports))


@pytest.mark.parametrize(
    ("reply", "make"),
    [
        (capture("version.json"), Make.ANTMINER),
        (WHATSMINER_VERSION, Make.WHATSMINER),
        (AURADINE_VERSION, Make.AURADINE),
    ],
)
async def test_rpc_version_text(reply: object, make: Make) -> None:
    async with device(rpc=rpc_replying(reply), web=stall, v3=stall) as endpoint:
        start = time.monotonic()
        assert await detect_make(endpoint, SETTINGS) is make
        assert time.monotonic() - start < 0.3  # the first verdict does not wait for the others


async def test_web_digest_realm_when_rpc_is_closed() -> None:
    head = (
        b"HTTP/1.1 401 Unauthorized\r\n"
        b'WWW-Authenticate: Digest realm="antMiner Configuration", nonce="x", qop="auth"\r\n'
    )
    async with device(web=web_replying(head)) as endpoint:
        assert await detect_make(endpoint, SETTINGS) is Make.ANTMINER


async def test_whatsminer_v3_frame() -> None:
    reply = {
        "code": 0,
        "msg": {"miner": {"type": "M60S_VK30"}, "system": {}},
        "desc": "get.device.info",
    }
    async with device(v3=v3_replying(reply)) as endpoint:
        assert await detect_make(endpoint, SETTINGS) is Make.WHATSMINER


async def test_nothing_answers_is_connection_failed() -> None:
    async with device() as endpoint:
        with pytest.raises(ConnectionFailed):
            await detect_make(endpoint, SETTINGS)


async def test_everything_silent_is_connection_failed_within_bounds() -> None:
    async with device(rpc=stall, web=stall, v3=stall) as endpoint:
        start = time.monotonic()
        with pytest.raises(ConnectionFailed):
            await detect_make(endpoint, SETTINGS)
        assert time.monotonic() - start < 1.5


async def test_unrecognised_answers_are_unsupported() -> None:
    other = {"STATUS": [{"STATUS": "S", "Description": "someminer 1.0"}], "VERSION": [{}]}
    async with device(
        rpc=rpc_replying(other),
        web=web_replying(b"HTTP/1.1 200 OK\r\n"),
        v3=v3_replying({"code": 0, "msg": "hi"}),
    ) as endpoint:
        with pytest.raises(UnsupportedError):
            await detect_make(endpoint, SETTINGS)
