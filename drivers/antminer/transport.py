"""Bytes over HTTP for the Antminer CGI API: kept-alive, digest-authenticated connections.

Built on :mod:`drivers.http1` rather than an aiohttp ClientSession: a curtailment
fans out three requests per miner (read the config, write it, read it back) to
thousands of miners at once, and the ClientSession's per-request overhead was the
controller's largest CPU cost (bench/RESULTS.md, curtailment at scale). The
device's digest challenge is reused, so only the first request pays the 401.
"""

from __future__ import annotations

from drivers.errors import AuthError, ProtocolError, UnsupportedError
from drivers.http1 import HttpClient
from drivers.settings import Credentials, DriverSettings

__all__ = ["WebTransport"]

# Browser-like headers: stock firmware accepts set_miner_conf bodies sent this way.
_POST_HEADERS = {"Content-Type": "text/plain;charset=UTF-8", "X-Requested-With": "XMLHttpRequest"}
_UNAUTHORIZED = 401
_UNAVAILABLE = 404


class WebTransport:
    """GET/POST ``/cgi-bin/<name>.cgi`` on one device; returns the body bytes of a 200."""

    __slots__ = ("_client", "_read_timeout_s", "_write_timeout_s", "host", "port")

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
        self._read_timeout_s = settings.read_timeout_s
        self._write_timeout_s = settings.write_timeout_s
        self._client = HttpClient(
            host, port, settings, credentials=credentials, max_body_bytes=max_reply_bytes
        )

    async def get(self, cgi: str) -> bytes:
        return await self._request("GET", cgi, None, self._read_timeout_s)

    async def post(self, cgi: str, body: bytes, *, slow: bool = False) -> bytes:
        """POST ``body``; ``slow`` gives it the write timeout (set_miner_conf takes 20-35 s)."""
        timeout_s = self._write_timeout_s if slow else self._read_timeout_s
        return await self._request("POST", cgi, body, timeout_s)

    async def close(self) -> None:
        await self._client.close()

    async def _request(self, method: str, cgi: str, body: bytes | None, timeout_s: float) -> bytes:
        path = f"/cgi-bin/{cgi}.cgi"
        headers = _POST_HEADERS if method == "POST" else None
        reply = await self._client.request(
            method, path, body=body, headers=headers, timeout_s=timeout_s
        )
        if reply.status == _UNAUTHORIZED:
            raise AuthError(self.host, f"{cgi}.cgi: credentials rejected (HTTP 401)")
        if reply.status == _UNAVAILABLE:
            raise UnsupportedError(self.host, f"{cgi}.cgi: not served by this firmware")
        if reply.status != 200:
            raise ProtocolError(self.host, f"{cgi}.cgi: HTTP {reply.status}")
        return reply.body
