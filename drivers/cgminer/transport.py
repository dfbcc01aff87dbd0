"""Bytes over TCP for CGMiner-style RPC: one request per connection, read to EOF.

The device closes the connection after its single reply, so the reply ends at
EOF; there is no length prefix. Every stage has its own deadline and the reply
size is capped, so a silent, slow or chatty device costs a bounded amount of
time and memory.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from drivers.errors import ConnectionFailed, ProtocolError
from drivers.settings import DriverSettings
from drivers.tcp import no_reply, open_tcp
from drivers.types import DeviceEndpoint

__all__ = ["RpcTransport"]

_CHUNK = 65536


@dataclass(frozen=True, slots=True, kw_only=True)
class RpcTransport:
    """Where and how patiently to talk to one device's RPC port."""

    host: str
    port: int = 4028
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 10.0
    max_reply_bytes: int = 1 << 20

    @classmethod
    def for_endpoint(
        cls, endpoint: DeviceEndpoint, settings: DriverSettings, *, max_reply_bytes: int = 1 << 20
    ) -> RpcTransport:
        """The RPC port of ``endpoint`` (4028 unless it names another), on ``settings``' clock."""
        return cls(
            host=endpoint.host,
            port=endpoint.port("rpc", 4028),
            connect_timeout_s=settings.connect_timeout_s,
            read_timeout_s=settings.read_timeout_s,
            max_reply_bytes=max_reply_bytes,
        )

    async def exchange(self, request: bytes) -> bytes:
        """Send ``request`` on a fresh connection and return everything until EOF."""
        reader, writer = await open_tcp(
            self.host, self.port, label="rpc", timeout_s=self.connect_timeout_s
        )
        try:
            writer.write(request)
            async with asyncio.timeout(self.read_timeout_s):
                return await self._read_to_eof(reader)
        except TimeoutError:
            raise no_reply(
                self.host, self.port, label="rpc", timeout_s=self.read_timeout_s
            ) from None
        except OSError as exc:
            raise ConnectionFailed(self.host, f"rpc :{self.port} connection lost: {exc}") from exc
        finally:
            # The reply is complete (or abandoned) by now: drop the socket without a
            # closing handshake that a wedged peer could stall.
            writer.transport.abort()

    async def _read_to_eof(self, reader: asyncio.StreamReader) -> bytes:
        parts: list[bytes] = []
        size = 0
        while True:
            chunk = await reader.read(_CHUNK)
            if not chunk:
                if not parts:
                    raise ConnectionFailed(self.host, f"rpc :{self.port} closed without a reply")
                return b"".join(parts)
            size += len(chunk)
            if size > self.max_reply_bytes:
                raise ProtocolError(
                    self.host, f"rpc :{self.port} reply exceeds {self.max_reply_bytes} bytes"
                )
            parts.append(chunk)
