"""Small wire-level clients for the simulator tests (no driver code: the simulators are tested
against the protocol as documented, and against unmodified pyasic in its own module)."""

from __future__ import annotations

import asyncio
import json
import logging
import warnings
from types import ModuleType
from typing import Any

from simulators import Fleet, load_site_dict

__all__ = [
    "QUICK_TIMINGS",
    "assert_same_shape",
    "http_raw",
    "import_pyasic",
    "rpc_json",
    "rpc_raw",
    "serve",
    "v3_exchange",
]

# Phases short enough for a test at 100x, long enough to watch each one happen.
QUICK_TIMINGS = {"stop_s": 5, "boot_s": 10, "ramp_s": 10, "reboot_s": 10, "adjust_s": 5}


def serve(site: str, *devices: dict[str, Any], speed: float = 1.0) -> Fleet:
    """A fleet of site-file ``devices``, each on its own address; use it with ``async with``."""
    return Fleet(
        load_site_dict({"site": site, "devices": list(devices)}), speed=speed, listen="exact"
    )


def import_pyasic() -> ModuleType:
    """pyasic, imported late: its import reconfigures the root logger and warns; undo both."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pyasic as module  # noqa: PLC0415 - imported late on purpose

    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return module


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


async def v3_exchange(
    host: str, *requests: dict[str, Any], port: int = 4433, limit_s: float = 3.0
) -> list[dict[str, Any]]:
    """Whatsminer API v3: send each request as a 4-byte LE length + JSON frame on ONE
    connection and read one framed reply per request."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), limit_s)
    replies = []
    try:
        for request in requests:
            body = json.dumps(request).encode()
            writer.write(len(body).to_bytes(4, "little") + body)
            await writer.drain()
            length = int.from_bytes(
                await asyncio.wait_for(reader.readexactly(4), limit_s), "little"
            )
            replies.append(json.loads(await asyncio.wait_for(reader.readexactly(length), limit_s)))
        return replies
    finally:
        writer.close()


def _kind(value: Any) -> str:
    # bool before int: JSON true is not a number; int and float are distinct on purpose
    # (a driver may do arithmetic on either, but a capture's 65.0 must not become 65).
    for kind in (bool, int, float, str, list, dict):
        if isinstance(value, kind):
            return kind.__name__
    return "null"


def assert_same_shape(capture: Any, ours: Any, path: str = "$") -> None:
    """Every key of the capture is present in ours, with the same JSON type, recursively
    (item i with the capture's item i, or its last one). Extra keys are allowed."""
    assert _kind(ours) == _kind(capture), (
        f"{path}: {_kind(ours)} where the capture has {_kind(capture)}"
    )
    if isinstance(capture, dict):
        for key, value in capture.items():
            assert key in ours, f"{path}: missing key {key!r}"
            assert_same_shape(value, ours[key], f"{path}.{key}")
    elif isinstance(capture, list) and capture:
        assert ours, f"{path}: empty list where the capture has items"
        for index, item in enumerate(ours):
            model = capture[min(index, len(capture) - 1)]
            assert_same_shape(model, item, f"{path}[{index}]")
