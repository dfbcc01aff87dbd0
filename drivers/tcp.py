"""Opening a TCP connection to a device, with the drivers' deadline and error words.

Shared by the byte transports that speak raw TCP (CGMiner-style RPC, length-prefixed
frames, discovery's probes), so a refused, silent or unreachable port reads the same
whichever protocol met it.
"""

from __future__ import annotations

import asyncio

from drivers.errors import ConnectionFailed, DeviceTimeout

__all__ = ["no_reply", "open_tcp"]


async def open_tcp(
    host: str, port: int, *, label: str, timeout_s: float
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to ``host:port``, or DeviceTimeout / ConnectionFailed naming ``label``."""
    try:
        async with asyncio.timeout(timeout_s):
            return await asyncio.open_connection(host, port)
    except TimeoutError:
        raise DeviceTimeout(host, f"{label} :{port} connect timed out after {timeout_s}s") from None
    except OSError as exc:
        raise ConnectionFailed(host, f"{label} :{port} connect failed: {exc}") from exc


def no_reply(host: str, port: int, *, label: str, timeout_s: float) -> DeviceTimeout:
    """The error for a reply that did not arrive whole within its deadline."""
    return DeviceTimeout(host, f"{label} :{port} no complete reply within {timeout_s}s")
