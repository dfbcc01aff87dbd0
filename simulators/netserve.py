"""Listening sockets for a fleet, and dispatch of each connection to its device.

Every device has its own loopback address on the standard ports. Two ways to listen:

* ``exact``: one listening socket per device address and port. Several fleets (and
  test modules) coexist on different 127.x ranges. Costs devices x ports descriptors.
* ``shared``: ONE socket per port on the wildcard address; each accepted connection
  is routed by the address it was made to (``sockname``), and closed at once if no
  device has that address. Scales to 10,000+ devices under a 20,000-fd limit.

No socket sets SO_REUSEPORT, on purpose: with it, two processes serving the same
address (two test runs on one shared box) would have the kernel split connections
between them, silently. Without it every collision is a loud "address in use". The
price: a shared fleet cannot share a port number with exact fleets, so shared-mode
tests pick their own ports (PortMap). Collisions within one process are caught before
binding, with a message naming the address.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import resource
import socket
import weakref
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Literal, Self

from simulators.device import SimDevice
from simulators.errors import PortPermissionError, PortUnavailableError

__all__ = ["DeviceServer", "ListenMode", "Served", "bind_socket", "resolve_listen_mode"]

_log = logging.getLogger(__name__)

ListenMode = Literal["auto", "exact", "shared"]

_WILDCARD = "0.0.0.0"
_BACKLOG = 4096
_BOUND: set[tuple[str, int]] = set()  # (host, port) listened on by any fleet in this process


def resolve_listen_mode(mode: ListenMode, listening_sockets: int) -> Literal["exact", "shared"]:
    """`auto`: exact while the listening sockets stay well under the open-file limit."""
    if mode != "auto":
        return mode
    soft_limit, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    budget = soft_limit // 4 if soft_limit > 0 else 1024  # the rest is for connections
    return "exact" if listening_sockets <= budget else "shared"


class _Dispatch(asyncio.Protocol):
    """Hands a fresh connection to the device that owns its local address."""

    __slots__ = ("_lookup", "_port", "_track")

    def __init__(
        self,
        lookup: Callable[[str], SimDevice | None],
        port: int,
        track: Callable[[asyncio.BaseTransport], None],
    ) -> None:
        self._lookup = lookup
        self._port = port
        self._track = track

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sockname = transport.get_extra_info("sockname")
        device = self._lookup(sockname[0]) if sockname else None
        protocol = device.connection_protocol(self._port) if device is not None else None
        if protocol is None:
            assert isinstance(transport, asyncio.Transport)
            transport.abort()
            return
        self._track(transport)
        transport.set_protocol(protocol)
        protocol.connection_made(transport)


def _listen_socket(host: str, port: int) -> socket.socket:
    if (host, port) in _BOUND:
        raise PortUnavailableError(
            f"{host}:{port} is already served by another fleet in this process",
            host=host,
            port=port,
            code="in-use",
        )
    return bind_socket(host, port)


def bind_socket(host: str, port: int) -> socket.socket:
    """A bound, non-blocking TCP socket; a failure is a typed error naming its cause."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart despite TIME_WAIT
        sock.bind((host, port))
        sock.setblocking(False)
    except PermissionError:
        sock.close()
        raise PortPermissionError(host=host, port=port) from None
    except OSError as exc:
        sock.close()
        raise PortUnavailableError(
            f"cannot listen on {host}:{port}: {exc.strerror}", host=host, port=port
        ) from None
    return sock


class Served:
    """Something that serves between ``start()`` and ``stop()``, also as ``async with``."""

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class DeviceServer:
    """Binds the listening sockets for a set of devices and routes their connections."""

    def __init__(self, devices: Mapping[str, SimDevice]) -> None:
        self._devices = devices
        self._servers: list[asyncio.Server] = []
        self._bound: list[tuple[str, int]] = []
        self._transports: weakref.WeakSet[asyncio.BaseTransport] = weakref.WeakSet()
        self.mode: Literal["exact", "shared"] | None = None

    def _ports(self) -> list[int]:
        return sorted({port for dev in self._devices.values() for port in dev.ports()})

    def listening_sockets(self, mode: Literal["exact", "shared"]) -> int:
        if mode == "shared":
            return len(self._ports())
        return sum(len(dev.ports()) for dev in self._devices.values())

    async def start(self, mode: ListenMode = "auto") -> None:
        exact_count = self.listening_sockets("exact")
        resolved = resolve_listen_mode(mode, exact_count)
        targets = (
            [(addr, port) for addr, dev in self._devices.items() for port in dev.ports()]
            if resolved == "exact"
            else [(_WILDCARD, port) for port in self._ports()]
        )
        loop = asyncio.get_running_loop()
        try:
            for host, port in targets:
                sock = _listen_socket(host, port)
                _BOUND.add((host, port))
                self._bound.append((host, port))
                server = await loop.create_server(
                    functools.partial(_Dispatch, self._devices.get, port, self._transports.add),
                    sock=sock,
                    backlog=_BACKLOG,
                )
                self._servers.append(server)
        except BaseException:
            await self.close()
            raise
        self.mode = resolved
        _log.info(
            "serving %d devices in %s mode on %d listening sockets",
            len(self._devices),
            resolved,
            len(self._servers),
        )

    async def close(self) -> None:
        servers, self._servers = self._servers, []
        for server in servers:
            server.close()
        for transport in list(self._transports):
            if not transport.is_closing():
                assert isinstance(transport, asyncio.Transport)
                transport.abort()  # stalled and keep-alive connections would outlive us
        for server in servers:
            await server.wait_closed()
        for key in self._bound:
            _BOUND.discard(key)
        self._bound.clear()
