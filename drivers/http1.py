"""A small HTTP/1.1 client for miner web APIs: kept-alive connections and digest auth.

Why not aiohttp's ClientSession here: a fleet controller sends tens of thousands of
tiny requests to tiny web servers, and a ClientSession request costs about 0.12 ms
of CPU before any byte moves (middlewares, tracing, cookie jar, URL objects); this
client costs about 0.025 ms (bench/RESULTS.md). It speaks only what miner firmware
needs: GET and POST, Content-Length, chunked and close-delimited bodies, and RFC
7616 digest (MD5, qop=auth) with the challenge reused, so only the first request
to a device pays the 401 round trip.

Errors are the drivers' own (ConnectionFailed, DeviceTimeout, ProtocolError); a
status other than 2xx is returned to the caller, who knows what it means.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections import deque
from dataclasses import dataclass

from drivers.errors import ConnectionFailed, DeviceTimeout, ProtocolError
from drivers.settings import Credentials, DriverSettings

__all__ = ["HttpClient", "HttpReply"]

_MAX_HEAD_BYTES = 16 * 1024
_CHALLENGE_PAIR = re.compile(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_HTTP_UNAUTHORIZED = 401


@dataclass(frozen=True, slots=True)
class HttpReply:
    status: int
    headers: dict[str, str]  # lower-cased names; the last of repeated headers wins
    body: bytes


class _Challenge:
    """One server's digest challenge and our nonce count under it."""

    __slots__ = ("algorithm", "ha1", "nc", "nonce", "opaque", "qop", "realm")

    def __init__(self, header: str, credentials: Credentials) -> None:
        fields = {m[1].lower(): m[2] if m[2] else m[3] for m in _CHALLENGE_PAIR.finditer(header)}
        self.realm = fields.get("realm", "")
        self.nonce = fields.get("nonce", "")
        self.opaque = fields.get("opaque")
        self.algorithm = fields.get("algorithm", "MD5")
        qops = [q.strip() for q in fields.get("qop", "").split(",") if q.strip()]
        self.qop = "auth" if "auth" in qops else None
        if self.algorithm.upper() not in {"MD5", "MD5-SESS"} or not self.nonce:
            raise ValueError(f"unsupported digest challenge: algorithm {self.algorithm}")
        self.ha1 = _md5(f"{credentials.username}:{self.realm}:{credentials.password}")
        self.nc = 0

    def authorization(self, method: str, path: str, username: str) -> str:
        self.nc += 1
        nc = f"{self.nc:08x}"
        cnonce = os.urandom(8).hex()
        ha1 = self.ha1
        if self.algorithm.upper() == "MD5-SESS":
            ha1 = _md5(f"{ha1}:{self.nonce}:{cnonce}")
        ha2 = _md5(f"{method}:{path}")
        if self.qop:
            response = _md5(f"{ha1}:{self.nonce}:{nc}:{cnonce}:{self.qop}:{ha2}")
        else:
            response = _md5(f"{ha1}:{self.nonce}:{ha2}")
        parts = [
            f'username="{username}"',
            f'realm="{self.realm}"',
            f'nonce="{self.nonce}"',
            f'uri="{path}"',
            f'response="{response}"',
            f"algorithm={self.algorithm}",
        ]
        if self.qop:
            parts += [f"qop={self.qop}", f"nc={nc}", f'cnonce="{cnonce}"']
        if self.opaque is not None:
            parts.append(f'opaque="{self.opaque}"')
        return "Digest " + ", ".join(parts)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


class _Connection(asyncio.Protocol):
    """One TCP connection; hands out one response at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.closed = False
        self._wakeup: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        waiter, self._wakeup = self._wakeup, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def more(self) -> None:
        """Wait until more bytes arrive or the peer closes."""
        if self.closed:
            return
        self._wakeup = asyncio.get_running_loop().create_future()
        await self._wakeup

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class HttpClient:
    """Requests to one host:port, over at most ``max_connections`` kept-alive connections."""

    def __init__(
        self,
        host: str,
        port: int,
        settings: DriverSettings,
        *,
        credentials: Credentials | None = None,
        max_body_bytes: int = 1 << 20,
    ) -> None:
        self.host = host
        self.port = port
        self._settings = settings  # the connect timeout, and connections per device
        self._credentials = credentials
        self._max_body_bytes = max_body_bytes
        self._idle: deque[_Connection] = deque()
        self._slots = asyncio.Semaphore(settings.per_device_concurrency)
        self._challenge: _Challenge | None = None
        self._host_header = host if port == 80 else f"{host}:{port}"

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout_s: float,
    ) -> HttpReply:
        """One request, answering a digest challenge once if the server asks.

        Connecting has its own deadline (``connect_timeout_s``); ``timeout_s`` bounds
        each exchange after that, from sending the request to the reply's last byte.
        """
        async with self._slots:
            reply = await self._send(method, path, body, headers, timeout_s)
            if reply.status == _HTTP_UNAUTHORIZED and self._answer(reply):
                reply = await self._send(method, path, body, headers, timeout_s)
            return reply

    def _answer(self, reply: HttpReply) -> bool:
        """Take a new challenge from a 401; False when retrying cannot help."""
        header = reply.headers.get("www-authenticate", "")
        if self._credentials is None or not header.lower().startswith("digest"):
            return False
        stale = "stale=true" in header.lower().replace('"', "")
        if self._challenge is not None and not stale and self._challenge.nonce in header:
            return False  # the same nonce refused again: the credentials are wrong
        try:
            self._challenge = _Challenge(header, self._credentials)
        except ValueError as exc:
            raise ProtocolError(self.host, str(exc)) from None
        return True

    async def _send(
        self,
        method: str,
        path: str,
        body: bytes | None,
        headers: dict[str, str] | None,
        timeout_s: float,
    ) -> HttpReply:
        head = self._head(method, path, body, headers)
        reused = bool(self._idle)
        connection = self._idle.pop() if reused else await self._connect()
        try:
            return await self._exchange(connection, head, body, method, path, timeout_s)
        except ConnectionFailed:
            if not reused:
                raise
            # A kept-alive connection the server had already closed: one fresh try.
            connection = await self._connect()
            return await self._exchange(connection, head, body, method, path, timeout_s)

    def _head(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str] | None
    ) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self._host_header}"]
        if self._challenge is not None and self._credentials is not None:
            auth = self._challenge.authorization(method, path, self._credentials.username)
            lines.append(f"Authorization: {auth}")
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        if headers:
            lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._settings.connect_timeout_s):
                _, connection = await loop.create_connection(_Connection, self.host, self.port)
        except TimeoutError:
            raise DeviceTimeout(
                self.host, f"connect: no answer within {self._settings.connect_timeout_s:g} s"
            ) from None
        except OSError as exc:
            raise ConnectionFailed(
                self.host, f"connect to port {self.port}: {exc.strerror}"
            ) from None
        return connection

    async def _exchange(
        self,
        connection: _Connection,
        head: bytes,
        body: bytes | None,
        method: str,
        path: str,
        timeout_s: float,
    ) -> HttpReply:
        if connection.closed or connection.transport is None:
            raise ConnectionFailed(self.host, "connection closed")
        connection.transport.write(head + body if body else head)
        try:
            async with asyncio.timeout(timeout_s):
                reply, keep = await self._read_reply(connection, method)
        except TimeoutError:
            connection.close()
            raise DeviceTimeout(self.host, f"{path}: no reply within {timeout_s:g} s") from None
        except BaseException:
            connection.close()
            raise
        if keep and not connection.closed:
            self._idle.append(connection)
        else:
            connection.close()
        return reply

    async def _read_reply(self, connection: _Connection, method: str) -> tuple[HttpReply, bool]:
        buffer = connection.buffer
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            # Something that is not HTTP at all (an SSH banner, binary) fails now, not at the
            # deadline.
            if len(buffer) >= 5 and not buffer.startswith(b"HTTP/"):
                raise ProtocolError(self.host, f"not an HTTP reply: {bytes(buffer[:40])!r}")
            if len(buffer) > _MAX_HEAD_BYTES:
                raise ProtocolError(self.host, "reply headers too long")
            if connection.closed:
                raise ConnectionFailed(self.host, "connection closed before a reply")
            await connection.more()
        status, headers = self._parse_head(bytes(buffer[:end]))
        del buffer[: end + 4]
        keep = headers.get("connection", "").lower() != "close"
        if method == "HEAD" or status in {204, 304}:
            return HttpReply(status, headers, b""), keep
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return HttpReply(status, headers, await self._read_chunked(connection)), keep
        if "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                raise ProtocolError(self.host, "bad Content-Length") from None
            if length < 0 or length > self._max_body_bytes:
                raise ProtocolError(self.host, f"reply of {length} bytes is over the cap")
            return HttpReply(status, headers, await self._read_exact(connection, length)), keep
        return HttpReply(status, headers, await self._read_to_close(connection)), False

    def _parse_head(self, head: bytes) -> tuple[int, dict[str, str]]:
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise ProtocolError(self.host, f"bad status line {lines[0][:60]!r}")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        if parts[0] == "HTTP/1.0" and headers.get("connection", "").lower() != "keep-alive":
            headers["connection"] = "close"
        return int(parts[1]), headers

    async def _read_exact(self, connection: _Connection, length: int) -> bytes:
        buffer = connection.buffer
        while len(buffer) < length:
            if connection.closed:
                raise ProtocolError(self.host, f"body cut short ({len(buffer)} of {length} bytes)")
            await connection.more()
        body = bytes(buffer[:length])
        del buffer[:length]
        return body

    async def _read_chunked(self, connection: _Connection) -> bytes:
        parts: list[bytes] = []
        size = 0
        buffer = connection.buffer
        while True:
            while (end := buffer.find(b"\r\n")) < 0:
                if connection.closed:
                    raise ProtocolError(self.host, "chunked body cut short")
                await connection.more()
            try:
                chunk = int(bytes(buffer[:end]).split(b";", 1)[0], 16)
            except ValueError:
                raise ProtocolError(self.host, "bad chunk size") from None
            del buffer[: end + 2]
            size += chunk
            if chunk < 0 or size > self._max_body_bytes:
                raise ProtocolError(self.host, "chunked reply over the cap")
            data = await self._read_exact(connection, chunk + 2)  # the chunk and its CRLF
            if chunk == 0:
                return b"".join(parts)
            parts.append(data[:-2])

    async def _read_to_close(self, connection: _Connection) -> bytes:
        while not connection.closed:
            if len(connection.buffer) > self._max_body_bytes:
                raise ProtocolError(self.host, "reply over the cap")
            await connection.more()
        return bytes(connection.buffer)

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()
