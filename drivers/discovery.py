"""Which make answers at an address: fingerprint what its ports say.

Three probes run at once, each under the connect and read timeouts, and are
judged in order of trust: the RPC ``version`` text on 4028, then the digest realm
of a web 401, then a ``get.device.info`` frame on 4433 (Whatsminer API v3). The
first verdict wins and the remaining probes are cancelled. What each make answers
is its registered :class:`drivers.registry.Fingerprint`; nothing here names a make.
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct

import aiohttp

from drivers.cgminer import RpcTransport, request_bytes
from drivers.errors import (
    ConnectionFailed,
    DeviceTimeout,
    DriverError,
    ProtocolError,
    UnsupportedError,
)
from drivers.registry import specs
from drivers.settings import DriverSettings
from drivers.tcp import no_reply, open_tcp
from drivers.types import DeviceEndpoint, Make

__all__ = ["classify_rpc_text", "detect"]

_log = logging.getLogger(__name__)

_V3_MAX_FRAME = 1 << 20


class _Unrecognised(Exception):
    """A probe got an answer that names no make we know."""


def classify_rpc_text(raw: bytes) -> Make | None:
    text = raw.decode("utf-8", errors="replace").upper()
    for spec in specs():
        if any(marker in text for marker in spec.fingerprint.rpc_markers):
            return spec.make
    return None


async def _probe_rpc(endpoint: DeviceEndpoint, settings: DriverSettings) -> Make:
    transport = RpcTransport.for_endpoint(endpoint, settings, max_reply_bytes=64 * 1024)
    raw = await transport.exchange(request_bytes("version"))
    make = classify_rpc_text(raw)
    if make is None:
        # Some firmware answers version as plain "cgminer"; its devdetails still names
        # the driver (the registered markers), as pyasic relies on too.
        raw = await transport.exchange(request_bytes("devdetails"))
        make = classify_rpc_text(raw)
    if make is None:
        raise _Unrecognised(f"rpc version reply names no known miner: {raw[:80]!r}")
    return make


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host  # an IPv6 literal needs brackets in a URL


async def _probe_web(endpoint: DeviceEndpoint, settings: DriverSettings) -> Make:
    host = endpoint.host
    port = endpoint.port("web", 80)
    limits = aiohttp.ClientTimeout(
        total=settings.connect_timeout_s + settings.read_timeout_s,
        connect=settings.connect_timeout_s,
        sock_read=settings.read_timeout_s,
    )
    try:
        async with (
            aiohttp.ClientSession(timeout=limits) as session,
            session.get(f"http://{_url_host(host)}:{port}/", allow_redirects=False) as resp,
        ):
            challenge = resp.headers.get("WWW-Authenticate", "")
            status = resp.status
    except TimeoutError:
        raise DeviceTimeout(host, f"web :{port} did not answer") from None
    except aiohttp.ClientError as exc:
        # A connector error's repr carries aiohttp's ConnectionKey; the OS error says it all.
        reason = exc.os_error if isinstance(exc, aiohttp.ClientConnectorError) else exc
        raise ConnectionFailed(host, f"web :{port}: {reason}") from exc
    if status == 401:
        for spec in specs():
            realm = spec.fingerprint.web_realm
            if realm is not None and f'realm="{realm}' in challenge.lower():
                return spec.make
    raise _Unrecognised(f"web :{port} answered {status} {challenge[:60]!r}")


async def _probe_v3(endpoint: DeviceEndpoint, settings: DriverSettings) -> Make:
    host = endpoint.host
    port = endpoint.port("v3", 4433)
    reader, writer = await open_tcp(host, port, label="v3", timeout_s=settings.connect_timeout_s)
    try:
        body = json.dumps({"cmd": "get.device.info"}).encode()
        writer.write(struct.pack("<I", len(body)) + body)
        async with asyncio.timeout(settings.read_timeout_s):
            (length,) = struct.unpack("<I", await reader.readexactly(4))
            if length > _V3_MAX_FRAME:
                raise _Unrecognised(f":{port} announced a {length}-byte frame")
            payload = await reader.readexactly(length)
    except TimeoutError:
        raise no_reply(host, port, label="v3", timeout_s=settings.read_timeout_s) from None
    except (OSError, asyncio.IncompleteReadError) as exc:
        raise ConnectionFailed(host, f"v3 :{port} connection lost: {exc!r}") from exc
    finally:
        writer.transport.abort()
    try:
        reply = json.loads(payload)
    except (ValueError, RecursionError):
        raise _Unrecognised(f":{port} frame is not JSON") from None
    msg = reply.get("msg") if isinstance(reply, dict) else None
    if isinstance(msg, dict) and "miner" in msg:
        for spec in specs():
            if spec.fingerprint.v3_device_info:
                return spec.make
    raise _Unrecognised(f":{port} frame is not a device.info any make registers")


async def detect(endpoint: DeviceEndpoint, settings: DriverSettings) -> Make:
    """The make at ``endpoint``.

    Raises :class:`ConnectionFailed` when nothing answers (refused or silent on
    every port) and :class:`UnsupportedError` when something answers that is
    not a make we know.
    """
    probes = [
        asyncio.create_task(_probe_rpc(endpoint, settings), name=f"detect-rpc-{endpoint.host}"),
        asyncio.create_task(_probe_web(endpoint, settings), name=f"detect-web-{endpoint.host}"),
        asyncio.create_task(_probe_v3(endpoint, settings), name=f"detect-v3-{endpoint.host}"),
    ]
    answers: list[str] = []
    silences: list[str] = []
    try:
        for probe in probes:
            try:
                return await probe
            except _Unrecognised as exc:
                answers.append(str(exc))
            except ProtocolError as exc:  # garbled or oversized, but something is there
                answers.append(exc.message)
            except DriverError as exc:
                silences.append(exc.message)
    finally:
        for probe in probes:
            probe.cancel()
        # Let cancelled probes unwind before returning so none outlives the call.
        await asyncio.gather(*probes, return_exceptions=True)
    if answers:
        _log.debug("%s answers but is not recognised: %s", endpoint.host, answers)
        raise UnsupportedError(
            endpoint.host, "answers, but as no known make: " + "; ".join(answers)
        )
    raise ConnectionFailed(endpoint.host, "nothing answers: " + "; ".join(silences))
