"""Bytes over HTTP for the Antminer CGI API: one kept-alive, digest-authenticated session.

The session is made on first use (it must belong to the running loop) and kept:
connections stay open between polls, and aiohttp's ``DigestAuthMiddleware``
reuses the device's challenge, so only the very first request pays the 401
round trip. aiohttp's exceptions end here, translated into the DriverError tree.
"""

from __future__ import annotations

import logging

import aiohttp

from drivers._http import client_timeout, open_session
from drivers.errors import (
    AuthError,
    ConnectionFailed,
    DeviceTimeout,
    DriverError,
    ProtocolError,
    UnsupportedError,
)
from drivers.settings import Credentials, DriverSettings

__all__ = ["WebTransport"]

_log = logging.getLogger(__name__)

# Browser-like headers: stock firmware accepts set_miner_conf bodies sent this way.
_POST_HEADERS = {"Content-Type": "text/plain;charset=UTF-8", "X-Requested-With": "XMLHttpRequest"}
_UNAVAILABLE = 404


class WebTransport:
    """GET/POST ``/cgi-bin/<name>.cgi`` on one device; returns the body bytes of a 200."""

    __slots__ = (
        "_base",
        "_credentials",
        "_read_timeout",
        "_session",
        "_settings",
        "_write_timeout",
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
        self.max_reply_bytes = max_reply_bytes
        self._credentials = credentials
        self._settings = settings
        self._base = f"http://{host}:{port}" if port != 80 else f"http://{host}"
        self._read_timeout = client_timeout(settings, settings.read_timeout_s)
        self._write_timeout = client_timeout(settings, settings.write_timeout_s)
        self._session: aiohttp.ClientSession | None = None

    def _open_session(self) -> aiohttp.ClientSession:
        digest = aiohttp.DigestAuthMiddleware(
            self._credentials.username, self._credentials.password, preemptive=True
        )
        return open_session(self._settings, self._read_timeout, (digest,))

    async def get(self, cgi: str) -> bytes:
        return await self._request("GET", cgi, None, self._read_timeout)

    async def post(self, cgi: str, body: bytes, *, slow: bool = False) -> bytes:
        """POST ``body``; ``slow`` gives it the write timeout (set_miner_conf takes 20-35 s)."""
        limits = self._write_timeout if slow else self._read_timeout
        return await self._request("POST", cgi, body, limits)

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _request(
        self, method: str, cgi: str, body: bytes | None, limits: aiohttp.ClientTimeout
    ) -> bytes:
        session = self._session
        if session is None or session.closed:
            session = self._session = self._open_session()
        url = f"{self._base}/cgi-bin/{cgi}.cgi"
        headers = _POST_HEADERS if method == "POST" else None
        try:
            async with session.request(
                method, url, data=body, headers=headers, timeout=limits, allow_redirects=False
            ) as resp:
                if resp.status == 401:
                    raise AuthError(self.host, f"{cgi}.cgi: credentials rejected (HTTP 401)")
                if resp.status == _UNAVAILABLE:
                    raise UnsupportedError(self.host, f"{cgi}.cgi: not served by this firmware")
                if resp.status != 200:
                    raise ProtocolError(self.host, f"{cgi}.cgi: HTTP {resp.status}")
                return await self._read_body(resp, cgi)
        except DriverError:
            raise
        except TimeoutError:
            raise DeviceTimeout(self.host, f"{cgi}.cgi: no reply within {limits.total}s") from None
        except aiohttp.ClientConnectorError as exc:
            raise ConnectionFailed(self.host, f"{cgi}.cgi: connect failed: {exc}") from exc
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            raise ConnectionFailed(self.host, f"{cgi}.cgi: connection lost: {exc!r}") from exc
        except aiohttp.ClientPayloadError as exc:
            raise ProtocolError(self.host, f"{cgi}.cgi: truncated or bad body: {exc}") from exc
        except aiohttp.ClientResponseError as exc:
            raise ProtocolError(
                self.host, f"{cgi}.cgi: bad HTTP reply: {exc.message[:120]!r}"
            ) from exc
        except aiohttp.ClientError as exc:
            # Malformed status lines and headers, digest challenges it cannot answer, ...
            raise ProtocolError(self.host, f"{cgi}.cgi: {exc!r}") from exc

    async def _read_body(self, resp: aiohttp.ClientResponse, cgi: str) -> bytes:
        length = resp.content_length
        if length is not None and length > self.max_reply_bytes:
            raise ProtocolError(self.host, f"{cgi}.cgi: reply of {length} bytes is over the cap")
        parts: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_any():
            size += len(chunk)
            if size > self.max_reply_bytes:
                raise ProtocolError(self.host, f"{cgi}.cgi: reply exceeds {self.max_reply_bytes}")
            parts.append(chunk)
        return parts[0] if len(parts) == 1 else b"".join(parts)
