"""Bytes over TCP for Whatsminer API v3 (4433): length-prefixed frames on a kept connection.

Every message, both ways, is a 4-byte little-endian length and that many bytes
of UTF-8 JSON; a zero length is a heartbeat and is skipped. The unit allows only
ten clients, so one connection per device is kept and requests on it are
serialised. A connection the device closed between requests is noticed on the
next one and replaced once; a failure on a fresh connection is the device's.
"""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any

from drivers.errors import ConnectionFailed, DriverError, ProtocolError
from drivers.settings import DriverSettings
from drivers.tcp import no_reply, open_tcp

__all__ = ["FrameTransport", "decode_frame", "encode_frame"]

_HEADER = struct.Struct("<I")
_MAX_HEARTBEATS = 16
_MAX_FRAME_BYTES = 1 << 20  # a longer announced length is garbage, not a reply


def encode_frame(obj: Any) -> bytes:
    body = json.dumps(obj, separators=(",", ":")).encode()
    return _HEADER.pack(len(body)) + body


def decode_frame(host: str, payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(
            host, f"v3 frame is not JSON ({exc}); begins {payload[:48]!r}"
        ) from None


class _Stale(Exception):
    """A kept connection turned out closed before any reply byte arrived."""


class FrameTransport:
    __slots__ = ("_lock", "_reader", "_settings", "_writer", "host", "port")

    def __init__(self, host: str, port: int, settings: DriverSettings) -> None:
        self.host = host
        self.port = port
        self._settings = settings  # the connect and read timeouts
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._lock = asyncio.Lock()

    async def request(self, obj: Any, *, retry_stale: bool = True) -> Any:
        """Send one JSON object and return the decoded reply frame."""
        frame = encode_frame(obj)
        async with self._lock:
            reused = self._writer is not None
            try:
                return await self._exchange(frame, reused=reused)
            except _Stale:
                self._drop()
                if not retry_stale:
                    raise ConnectionFailed(
                        self.host, f"v3 :{self.port} kept connection was closed"
                    ) from None
            try:
                return await self._exchange(frame, reused=False)
            except _Stale:  # pragma: no cover - _exchange never raises _Stale when not reused
                raise ConnectionFailed(self.host, f"v3 :{self.port} closed") from None

    async def close(self) -> None:
        self._drop()

    def _drop(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.transport.abort()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is not None and self._writer is not None:
            return self._reader, self._writer
        reader, writer = await open_tcp(
            self.host, self.port, label="v3", timeout_s=self._settings.connect_timeout_s
        )
        self._reader, self._writer = reader, writer
        return reader, writer

    async def _exchange(self, frame: bytes, *, reused: bool) -> Any:
        reader, writer = await self._connect()
        got_bytes = False
        try:
            writer.write(frame)
            async with asyncio.timeout(self._settings.read_timeout_s):
                await writer.drain()
                for _ in range(_MAX_HEARTBEATS):
                    header = await reader.readexactly(_HEADER.size)
                    got_bytes = True
                    (length,) = _HEADER.unpack(header)
                    if length == 0:
                        continue  # heartbeat
                    if length > _MAX_FRAME_BYTES:
                        raise ProtocolError(
                            self.host, f"v3 :{self.port} announced a {length}-byte frame"
                        )
                    return decode_frame(self.host, await reader.readexactly(length))
                raise ProtocolError(self.host, f"v3 :{self.port} sent only heartbeats")
        except TimeoutError:
            self._drop()
            raise no_reply(
                self.host, self.port, label="v3", timeout_s=self._settings.read_timeout_s
            ) from None
        except asyncio.IncompleteReadError as exc:
            self._drop()
            if reused and not got_bytes and not exc.partial:
                raise _Stale from None
            if got_bytes or exc.partial:
                raise ProtocolError(self.host, f"v3 :{self.port} closed mid-frame") from None
            raise ConnectionFailed(self.host, f"v3 :{self.port} closed without a reply") from None
        except (ConnectionResetError, BrokenPipeError) as exc:
            self._drop()
            if reused and not got_bytes:
                raise _Stale from None
            raise ConnectionFailed(self.host, f"v3 :{self.port} connection lost: {exc}") from exc
        except OSError as exc:
            self._drop()
            raise ConnectionFailed(self.host, f"v3 :{self.port} connection lost: {exc}") from exc
        except DriverError:
            self._drop()
            raise
