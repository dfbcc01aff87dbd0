"""FluxOS REST on 8080: one kept-alive aiohttp session per unit, and its login token.

``POST /token`` with the user and password returns a token that goes in the
``Token`` header of every later request. The token is kept and reused; when the
unit answers 401, or a non-success STATUS whose message mentions the token or
its expiry, the transport logs in again and repeats the request once.
aiohttp's exceptions end here, translated into the DriverError tree.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp

from drivers._http import client_timeout, open_session
from drivers.cgminer import load_json
from drivers.errors import (
    AuthError,
    ConnectionFailed,
    DeviceTimeout,
    DriverError,
    ProtocolError,
    UnsupportedError,
)
from drivers.settings import Credentials, DriverSettings

__all__ = ["RestTransport", "status_of"]

_log = logging.getLogger(__name__)
_TOKEN_WORDS = ("token", "expire", "unauthori", "login")


def status_of(reply: Any) -> tuple[str | None, str]:
    """(STATUS flag, Msg) of a cgminer-style envelope, or (None, "") if there is none."""
    if isinstance(reply, dict):
        status = reply.get("STATUS")
        if isinstance(status, list) and status and isinstance(status[0], dict):
            flag, msg = status[0].get("STATUS"), status[0].get("Msg")
            return (flag if isinstance(flag, str) else None, msg if isinstance(msg, str) else "")
    return None, ""


class _TokenRejected(Exception):
    pass


class RestTransport:
    __slots__ = (
        "_credentials",
        "_lock",
        "_session",
        "_settings",
        "_timeout",
        "_token",
        "base",
        "host",
        "max_reply_bytes",
        "port",
    )

    def __init__(
        self,
        host: str,
        port: int,
        credentials: Credentials,
        settings: DriverSettings,
        *,
        max_reply_bytes: int = 1 << 20,
    ) -> None:
        self.host = host
        self.port = port
        self.base = f"http://{host}:{port}"
        self.max_reply_bytes = max_reply_bytes
        self._credentials = credentials
        self._settings = settings
        self._timeout = client_timeout(settings, settings.read_timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self._token: str | None = None
        self._lock = asyncio.Lock()  # one login at a time, however many requests wait for it

    async def get(self, command: str) -> Any:
        """A read; retried once after a lost connection (a kept-alive socket the unit closed)."""
        try:
            return await self._call("GET", command, None)
        except ConnectionFailed:
            return await self._call("GET", command, None)

    async def post(self, command: str, params: dict[str, Any] | None = None) -> Any:
        return await self._call("POST", command, {"command": command, **(params or {})})

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _call(self, method: str, command: str, body: dict[str, Any] | None) -> Any:
        for attempt in (1, 2):
            token = await self._login()
            try:
                return await self._request(method, command, body, token)
            except _TokenRejected:
                if self._token == token:
                    self._token = None
                if attempt == 2:
                    raise AuthError(
                        self.host, f"/{command}: token refused right after login"
                    ) from None
                _log.debug("%s: token refused on /%s; logging in again", self.host, command)
        raise AssertionError("unreachable")

    async def _login(self) -> str:
        async with self._lock:
            if self._token is not None:
                return self._token
            creds = self._credentials
            body = {"command": "token", "user": creds.username, "password": creds.password}
            try:
                reply = await self._request("POST", "token", body, None)
            except _TokenRejected:
                raise AuthError(self.host, "login refused: check the user and password") from None
            tokens = reply.get("Token") if isinstance(reply, dict) else None
            token = tokens[0].get("Token") if isinstance(tokens, list) and tokens else None
            if isinstance(tokens, list) and tokens and not isinstance(tokens[0], dict):
                token = None
            if not isinstance(token, str) or not token:
                raise ProtocolError(self.host, "/token: no Token[0].Token in the reply")
            self._token = token
            return token

    def _open(self) -> aiohttp.ClientSession:
        return open_session(self._settings, self._timeout)

    async def _request(
        self, method: str, command: str, body: dict[str, Any] | None, token: str | None
    ) -> Any:
        session = self._session
        if session is None or session.closed:
            session = self._session = self._open()
        headers = {"Token": token} if token else None
        data = json.dumps(body).encode() if body is not None else None
        if data is not None:
            headers = {**(headers or {}), "Content-Type": "application/json"}
        try:
            async with session.request(
                method, f"{self.base}/{command}", data=data, headers=headers, allow_redirects=False
            ) as resp:
                self._check_status(resp.status, command)
                raw = await self._read_body(resp, command)
        except (DriverError, _TokenRejected):
            raise
        except TimeoutError:
            raise DeviceTimeout(
                self.host, f"/{command}: no reply within {self._timeout.total}s"
            ) from None
        except aiohttp.ClientConnectorError as exc:
            raise ConnectionFailed(self.host, f"/{command}: connect failed: {exc}") from exc
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            raise ConnectionFailed(self.host, f"/{command}: connection lost: {exc!r}") from exc
        except aiohttp.ClientPayloadError as exc:
            raise ProtocolError(self.host, f"/{command}: truncated or bad body: {exc}") from exc
        except aiohttp.ClientError as exc:
            raise ProtocolError(self.host, f"/{command}: {exc!r}"[:200]) from exc
        reply = load_json(self.host, raw)
        flag, msg = status_of(reply)
        if flag not in (None, "S", "I") and any(w in msg.lower() for w in _TOKEN_WORDS):
            raise _TokenRejected
        return reply

    def _check_status(self, status: int, command: str) -> None:
        if status in {401, 403}:
            raise _TokenRejected
        if status == 404:
            raise UnsupportedError(self.host, f"/{command}: not served by this firmware")
        if status != 200:
            raise ProtocolError(self.host, f"/{command}: HTTP {status}")

    async def _read_body(self, resp: aiohttp.ClientResponse, command: str) -> bytes:
        parts: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_any():
            size += len(chunk)
            if size > self.max_reply_bytes:
                raise ProtocolError(self.host, f"/{command}: reply exceeds {self.max_reply_bytes}")
            parts.append(chunk)
        if not parts:
            raise ProtocolError(self.host, f"/{command}: empty reply")
        return b"".join(parts)
