"""Small wire-level clients for the simulator tests (no driver code: the simulators are tested
against the protocol as documented, and against unmodified pyasic in its own module)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

__all__ = ["http_raw", "rpc_json", "rpc_raw"]


async def rpc_raw(host: str, payload: bytes, *, port: int = 4028, limit_s: float = 3.0) -> bytes:
    """Send one request the way pyasic does (no newline, no half-close) and read to EOF."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), limit_s)
    try:
        writer.write(payload)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), limit_s)
    finally:
        writer.close()


async def rpc_json(host: str, command: str, *, port: int = 4028, **extra: Any) -> dict[str, Any]:
    raw = await rpc_raw(host, json.dumps({"command": command, **extra}).encode(), port=port)
    assert raw.endswith(b"\x00"), raw[-20:]
    decoded: dict[str, Any] = json.loads(raw[:-1])
    return decoded


async def http_raw(
    host: str, request: bytes, *, port: int = 80, limit_s: float = 3.0
) -> tuple[int, dict[str, str], bytes]:
    """One raw HTTP/1.1 exchange on a fresh connection; returns status, headers, body."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), limit_s)
    try:
        writer.write(request)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), limit_s)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        body = await asyncio.wait_for(reader.readexactly(length), limit_s) if length else b""
        return status, headers, body
    finally:
        writer.close()
