"""The CGMiner transport against throwaway servers: every failure is typed and bounded."""

from __future__ import annotations

import asyncio
import time

import pytest

from drivers.cgminer import CgminerRpc, RpcTransport
from drivers.errors import ConnectionFailed, DeviceTimeout, ProtocolError
from tests.drivers import servers
from tests.drivers.servers import HOST, Handler, closed_port, read_request, reset, serve

SUMMARY = (
    b'{"STATUS":[{"STATUS":"S","When":1,"Code":11,"Msg":"Summary","Description":"cgminer 1.0.0"}],'
    b'"SUMMARY":[{"Elapsed":10,"GHS 5s":1.5}],"id":1}'
)
TIMEOUT = 0.3


def transport(port: int, **kw: float) -> RpcTransport:
    return RpcTransport(
        host=HOST, port=port, connect_timeout_s=TIMEOUT, read_timeout_s=kw.get("read", TIMEOUT)
    )


def replying(payload: bytes, delay: float = 0.0) -> Handler:
    return servers.replying(payload, read=read_request, delay=delay)


@pytest.mark.parametrize("tail", [b"\x00", b"", b"\n", b"\x00\n"])
async def test_reply_with_or_without_terminator(tail: bytes) -> None:
    async with serve(replying(SUMMARY + tail)) as port:
        reply = await CgminerRpc(transport(port)).command("summary")
    assert reply["SUMMARY"][0]["Elapsed"] == 10


async def test_request_is_plain_json_without_newline() -> None:
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        writer.write(SUMMARY)

    async with serve(handler) as port:
        await CgminerRpc(transport(port)).command("summary")
    assert seen == [b'{"command":"summary"}']


async def test_refused_is_connection_failed() -> None:
    with pytest.raises(ConnectionFailed):
        await transport(closed_port()).exchange(b'{"command":"summary"}')


async def test_reset_is_connection_failed() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        reset(writer)

    async with serve(handler) as port:
        with pytest.raises(ConnectionFailed):
            await transport(port).exchange(b'{"command":"summary"}')


async def test_closed_without_reply_is_connection_failed() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)

    async with serve(handler) as port:
        with pytest.raises(ConnectionFailed):
            await transport(port).exchange(b'{"command":"summary"}')


async def test_stall_times_out_within_the_deadline() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(60)

    async with serve(handler) as port:
        start = time.monotonic()
        with pytest.raises(DeviceTimeout) as caught:
            await transport(port).exchange(b'{"command":"summary"}')
        assert time.monotonic() - start < TIMEOUT + 0.5
    assert isinstance(caught.value, asyncio.TimeoutError)


async def test_reply_that_never_ends_times_out() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        for _ in range(600):
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.05)

    async with serve(handler) as port:
        start = time.monotonic()
        with pytest.raises(DeviceTimeout):
            await transport(port).exchange(b'{"command":"summary"}')
        assert time.monotonic() - start < TIMEOUT + 0.5


async def test_slow_reply_inside_the_deadline_succeeds() -> None:
    async with serve(replying(SUMMARY, delay=0.2)) as port:
        reply = await CgminerRpc(transport(port, read=1.0)).command("summary")
    assert reply["SUMMARY"][0]["GHS 5s"] == 1.5


@pytest.mark.parametrize(
    "payload", [SUMMARY[: len(SUMMARY) // 2], b"<html>busy</html>", SUMMARY.replace(b":", b"=", 1)]
)
async def test_truncated_or_malformed_is_protocol_error(payload: bytes) -> None:
    async with serve(replying(payload)) as port:
        with pytest.raises(ProtocolError):
            await CgminerRpc(transport(port)).command("summary")


async def test_oversized_reply_is_protocol_error() -> None:
    async with serve(replying(b"[" + b"1," * 40000 + b"1]")) as port:
        small = RpcTransport(
            host=HOST,
            port=port,
            connect_timeout_s=TIMEOUT,
            read_timeout_s=TIMEOUT,
            max_reply_bytes=1000,
        )
        with pytest.raises(ProtocolError):
            await small.exchange(b'{"command":"summary"}')
