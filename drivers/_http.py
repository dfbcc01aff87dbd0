"""The aiohttp session the HTTP drivers keep per device, and its deadlines.

One kept-alive session per device, made on first use (it must belong to the running
loop), with as many connections as the settings allow one device. Bodies stay plain:
no Accept-Encoding is sent, so none needs decompressing, and no User-Agent.
"""

from __future__ import annotations

import aiohttp

from drivers.settings import DriverSettings

__all__ = ["client_timeout", "open_session"]


def client_timeout(settings: DriverSettings, io_s: float) -> aiohttp.ClientTimeout:
    """``total`` bounds a device that trickles bytes; ``sock_read`` one that goes silent."""
    return aiohttp.ClientTimeout(
        total=settings.connect_timeout_s + io_s,
        connect=settings.connect_timeout_s,
        sock_read=io_s,
    )


def open_session(settings: DriverSettings, timeout: aiohttp.ClientTimeout) -> aiohttp.ClientSession:
    limit = settings.per_device_concurrency
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit, ttl_dns_cache=None)
    return aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept-Encoding"),
    )
