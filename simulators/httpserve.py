"""A deliberately small HTTP/1.1 server protocol with Digest authentication.

It does only what device web APIs need (GET/POST, Content-Length bodies, keep-alive)
so that it is cheap per connection and every network fault can be applied exactly:
a stalled reply, a slow one, a body that is not JSON, or one cut off mid-body.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from http import HTTPStatus
from urllib.request import parse_http_list, parse_keqv_list

from simulators.faults import FaultKind, FaultSet, corrupt, truncate
from simulators.idle import IdleClosingProtocol

__all__ = [
    "AuthResult",
    "DigestAuth",
    "HttpProtocol",
    "HttpRequest",
    "HttpResponse",
    "json_response",
]

_log = logging.getLogger(__name__)

_MAX_HEAD = 16 * 1024
_MAX_BODY = 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpRequest:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpResponse:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = field(default=())
    close: bool = False  # answer, then close the connection (a reboot's acknowledgement)
    drop: bool = False  # no answer: reset the connection (the device just went away)


def json_response(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(status=status, body=text.encode())


Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class AuthResult(Enum):
    OK = "ok"
    DENIED = "denied"  # no credentials, a wrong password, or a nonce this server never issued
    STALE = "stale"  # right credentials on a nonce that has expired: retry with a fresh one


class DigestAuth:
    """RFC 2617 Digest (MD5, qop=auth) as lighttpd on stock Antminers does it.

    Nonces are stateless: the issue time plus a keyed hash of it, so a client may
    authenticate preemptively with a nonce it was given earlier (aiohttp does) for
    ``nonce_ttl_s`` real seconds; after that the answer is 401 with ``stale=true``.
    """

    __slots__ = ("_ha1", "_key", "_opaque", "nonce_ttl_s", "password", "realm", "username")

    def __init__(
        self, realm: str, username: str, password: str, *, nonce_ttl_s: float = 300.0
    ) -> None:
        self.realm = realm
        self.username = username
        self.password = password
        self.nonce_ttl_s = nonce_ttl_s
        self._ha1 = _md5(f"{username}:{realm}:{password}")
        self._key = secrets.token_bytes(16)
        self._opaque = secrets.token_hex(8)

    def _mac(self, issued: str) -> str:
        return hashlib.blake2b(issued.encode(), key=self._key, digest_size=12).hexdigest()

    def _new_nonce(self) -> str:
        issued = f"{int(time.monotonic() * 1000):012x}"
        return issued + self._mac(issued)

    def _nonce_age_s(self, nonce: str) -> float | None:
        """Seconds since this server issued ``nonce``; None if it never did."""
        issued, mac = nonce[:12], nonce[12:]
        if len(nonce) != 36 or not secrets.compare_digest(mac, self._mac(issued)):
            return None
        try:
            return time.monotonic() - int(issued, 16) / 1000
        except ValueError:
            return None

    def challenge(self, *, stale: bool = False) -> str:
        return (
            f'Digest realm="{self.realm}", qop="auth", nonce="{self._new_nonce()}", '
            f'opaque="{self._opaque}", algorithm=MD5' + (", stale=true" if stale else "")
        )

    def verify(self, method: str, header: str | None) -> AuthResult:
        if not header or header[:7].lower() != "digest ":
            return AuthResult.DENIED
        try:
            fields = parse_keqv_list(parse_http_list(header[7:]))
        except ValueError:
            return AuthResult.DENIED
        nonce = fields.get("nonce", "")
        age = self._nonce_age_s(nonce)
        if fields.get("username") != self.username or age is None:
            return AuthResult.DENIED
        ha2 = _md5(f"{method}:{fields.get('uri', '')}")
        qop = fields.get("qop")
        if qop:
            nc, cnonce = fields.get("nc", ""), fields.get("cnonce", "")
            expected = _md5(f"{self._ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
        else:
            expected = _md5(f"{self._ha1}:{nonce}:{ha2}")
        if not secrets.compare_digest(expected, fields.get("response", "")):
            return AuthResult.DENIED
        return AuthResult.STALE if age > self.nonce_ttl_s else AuthResult.OK

    def check(self, method: str, header: str | None) -> bool:
        return self.verify(method, header) is AuthResult.OK


class HttpProtocol(IdleClosingProtocol):
    """One connection: parse requests in order, answer each through the handler."""

    idle_timeout_s = 30.0

    def __init__(self, handler: Handler, faults: FaultSet) -> None:
        super().__init__()
        self._handler = handler
        self._faults = faults
        self._buffer = b""
        self._busy = False
        self._task: asyncio.Task[None] | None = None

    def _closed(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._next()

    def _next(self) -> None:
        if self._busy or self._transport is None:
            return
        head_end = self._buffer.find(b"\r\n\r\n")
        if head_end < 0:
            if len(self._buffer) > _MAX_HEAD:
                self._reply_and_close(
                    HttpResponse(status=431, body=b"header too large", content_type="text/plain")
                )
            return
        try:
            method, target, headers = self._parse_head(self._buffer[:head_end])
            length = int(headers.get("content-length", "0") or 0)
        except ValueError:
            self._reply_and_close(
                HttpResponse(status=400, body=b"bad request", content_type="text/plain")
            )
            return
        if length > _MAX_BODY or length < 0:
            self._reply_and_close(
                HttpResponse(status=413, body=b"body too large", content_type="text/plain")
            )
            return
        total = head_end + 4 + length
        if len(self._buffer) < total:
            return
        body = self._buffer[head_end + 4 : total]
        self._buffer = self._buffer[total:]
        path, _, query = target.partition("?")
        request = HttpRequest(method=method, path=path, query=query, headers=headers, body=body)
        # Faults injected while a client holds a kept-alive connection apply to its
        # next request too, as they would to a device that just failed.
        if self._faults.has(FaultKind.REFUSE) or self._faults.has(FaultKind.WEB_DOWN):
            self._transport.abort()
            return
        self._busy = True
        if self._idle is not None:
            self._idle.cancel()
        if self._faults.has(FaultKind.STALL):
            return  # busy for ever: the client has to give up
        self._task = asyncio.get_running_loop().create_task(self._serve(request))

    @staticmethod
    def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise ValueError(f"bad header line {line!r}")
            headers[name.strip().lower()] = value.strip()
        return method.upper(), target, headers

    async def _serve(self, request: HttpRequest) -> None:
        try:
            response = await self._handler(request)
        except Exception:  # noqa: BLE001 - a simulator bug must not hang the client
            _log.exception("HTTP handler failed on %s %s", request.method, request.path)
            response = HttpResponse(status=500, body=b"internal error", content_type="text/plain")
        if self._faults.slow_s > 0:
            await asyncio.sleep(self._faults.slow_s)
        if response.drop:
            if self._transport is not None:
                self._transport.abort()
            return
        keep_alive = not response.close and request.headers.get("connection", "").lower() != "close"
        self._write(response, keep_alive=keep_alive)
        self._busy = False
        self._task = None
        if keep_alive and self._transport is not None:
            self._arm_idle()
            self._next()

    def _reply_and_close(self, response: HttpResponse) -> None:
        self._write(response, keep_alive=False)

    def _write(self, response: HttpResponse, *, keep_alive: bool) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        body = response.body
        if self._faults.has(FaultKind.MALFORMED) and response.status == 200:
            body = corrupt(body)
        truncated = self._faults.has(FaultKind.TRUNCATED) and response.status == 200
        reason = HTTPStatus(response.status).phrase
        head = [
            f"HTTP/1.1 {response.status} {reason}",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(body)}",
            "Connection: " + ("keep-alive" if keep_alive and not truncated else "close"),
        ]
        head.extend(f"{name}: {value}" for name, value in response.headers)
        transport.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        transport.write(truncate(body) if truncated else body)
        if truncated or not keep_alive:
            transport.close()
