"""A real aiohttp server on a loopback port the system picks: the base of the signals
tests' stand-ins (ERCOT, its B2C sign-in, mempool, bitcoind) and of one-route feeds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

from aiohttp import web

__all__ = ["LocalServer"]


class LocalServer:
    def __init__(self, host: str = "127.0.0.1", routes: Sequence[web.RouteDef] = ()) -> None:
        self.host = host
        self.port = 0
        self._routes = list(routes)
        self._runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def routes(self, app: web.Application) -> None:
        """Where a stand-in adds its handlers; by default, the routes it was given."""
        app.add_routes(self._routes)

    async def __aenter__(self) -> Self:
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, 0).start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
