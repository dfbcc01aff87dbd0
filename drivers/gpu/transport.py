"""HTTP to a GPU node's agent (JSON) and dcgm-exporter (text), with typed failures.

One kept-alive session per node, made on first use (it must belong to the running
loop). Every request has connect and read deadlines and a reply-size cap. aiohttp's
exceptions and the agent's JSON errors end here, as DriverError subclasses.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from drivers._http import client_timeout
from drivers.errors import (
    AuthError,
    ConnectionFailed,
    DeviceBusy,
    DeviceStatusError,
    DeviceTimeout,
    DriverError,
    ProtocolError,
    UnsupportedError,
)
from drivers.gpu.errors import LimitOutOfRange, NoGpuPrivilege, UnknownGpu
from drivers.settings import DriverSettings

__all__ = ["NodeHttp", "server_timing"]

_MAX_REPLY = 4 << 20  # dcgm-exporter with many fields on 8 GPUs is ~100 KiB


def _agent_error(host: str, status: int, body: dict[str, Any]) -> DriverError:
    code, message = str(body.get("error", status)), str(body.get("message", ""))
    if status == 401:
        return AuthError(host, f"agent refused the token: {message}")
    if status == 403:
        return NoGpuPrivilege(host, message)
    if status == 409:
        return DeviceBusy(host, message)
    if code == "out_of_range":
        return LimitOutOfRange(
            host,
            index=int(body.get("gpu", -1)),
            requested_w=float(body.get("requested_w", "nan")),
            min_w=float(body.get("min_w", "nan")),
            max_w=float(body.get("max_w", "nan")),
        )
    if code == "unknown_gpu":
        return UnknownGpu(host, int(body.get("gpu", -1)), int(body.get("gpu_count", 0)))
    if status in {404, 405, 501}:
        return UnsupportedError(host, f"agent: {message or code}")
    return DeviceStatusError(
        host, f"agent answered {status}: {message}", device_code=code, device_msg=message
    )


def server_timing(header: str) -> dict[str, float]:
    """``"read;dur=0.21, agent;dur=0.4"`` -> ``{"read": 0.00021, "agent": 0.0004}`` (seconds);
    entries without a readable ``dur`` are left out (the W3C Server-Timing header is advisory)."""
    out: dict[str, float] = {}
    for entry in header.split(","):
        name, *params = (part.strip() for part in entry.split(";"))
        for param in params:
            key, _, value = param.partition("=")
            if name and key.strip().lower() == "dur":
                try:
                    out[name] = float(value.strip().strip('"')) / 1000
                except ValueError:
                    continue
    return out


class NodeHttp:
    """GET/PUT/DELETE on one node; ``token`` is sent on writes only."""

    def __init__(self, host: str, settings: DriverSettings, token: str | None = None) -> None:
        self.host = host
        self._token = token
        self._settings = settings
        self._timeout = client_timeout(settings, settings.read_timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self.server_timing: dict[str, float] = {}  # the last reply's, in seconds

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit_per_host=self._settings.per_device_concurrency, force_close=False
            )
            self._session = aiohttp.ClientSession(timeout=self._timeout, connector=connector)
        return self._session

    async def request(
        self, method: str, port: int, path: str, *, body: dict[str, Any] | None = None
    ) -> tuple[int, bytes]:
        url = f"http://{self.host}:{port}{path}"
        headers = {}
        if method != "GET":
            if self._token is None:
                raise AuthError(self.host, "no agent token configured; writes need one")
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            async with self._open().request(method, url, json=body, headers=headers) as resp:
                data = await resp.content.read(_MAX_REPLY + 1)
                self.server_timing = server_timing(resp.headers.get("Server-Timing", ""))
                if len(data) > _MAX_REPLY:
                    raise ProtocolError(self.host, f"{path}: reply over {_MAX_REPLY} bytes")
                return resp.status, data
        except TimeoutError as exc:
            raise DeviceTimeout(self.host, f"{method} {path}: no answer in time") from exc
        except aiohttp.ClientConnectorError as exc:
            raise ConnectionFailed(self.host, f"{method} {path}: {exc.strerror or exc}") from exc
        except aiohttp.ClientPayloadError as exc:
            raise ProtocolError(self.host, f"{method} {path}: reply cut short") from exc
        except aiohttp.ClientError as exc:
            raise ConnectionFailed(self.host, f"{method} {path}: {exc}") from exc

    async def json(
        self, method: str, port: int, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        status, data = await self.request(method, port, path, body=body)
        try:
            decoded = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ProtocolError(self.host, f"{path}: reply is not JSON ({status})") from exc
        if not isinstance(decoded, dict):
            raise ProtocolError(self.host, f"{path}: reply is not a JSON object")
        if status >= 400:
            raise _agent_error(self.host, status, decoded)
        return decoded

    async def text(self, port: int, path: str) -> str:
        status, data = await self.request("GET", port, path)
        if status != 200:
            raise DeviceStatusError(self.host, f"{path} answered {status}", device_code=status)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(self.host, f"{path}: reply is not UTF-8") from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
