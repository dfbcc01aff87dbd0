"""Tiny throwaway TCP servers on loopback that misbehave on purpose."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
HOST = "127.0.0.1"


@asynccontextmanager
async def serve(handler: Handler, host: str = HOST) -> AsyncIterator[int]:
    """Run ``handler`` per connection on an ephemeral port of ``host``; yield the port."""
    tasks: set[asyncio.Task[None]] = set()

    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await handler(reader, writer)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            tasks.discard(task)
            writer.close()

    server = await asyncio.start_server(guarded, host, 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


def answering(body: bytes) -> Handler:
    """A handler that reads one request, sends ``body`` whatever it was, and closes."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(4096)
        writer.write(body)
        await writer.drain()
        writer.close()

    return handler


def replying(
    payload: bytes,
    *,
    read: Callable[[asyncio.StreamReader], Awaitable[bytes]],
    delay: float = 0.0,
    forever: bool = False,
) -> Handler:
    """A handler that reads a request with ``read`` (:func:`read_request`,
    :func:`read_http_head`), waits ``delay`` seconds and sends ``payload``: once, or for
    every request until the client leaves."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read(reader)
            if delay:
                await asyncio.sleep(delay)
            writer.write(payload)
            await writer.drain()
            if not forever:
                return

    return handler


def closed_port() -> int:
    """A loopback port with nothing listening (connections are refused)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """A CGMiner request: raw JSON with no terminator, so read until it parses as a whole."""
    data = b""
    while data.count(b"{") == 0 or data.count(b"{") != data.count(b"}"):
        chunk = await reader.read(4096)
        if not chunk:
            break
        data += chunk
    return data


async def read_http_head(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":")[1]))
    return head


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST instead of FIN."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
