"""The operator page at ``/``: static assets from the package, its data and its chart.

Reading needs no token. The page's actions call the same ``/api/v1`` endpoints as
any client, with the bearer token the operator typed once (kept in the browser's
sessionStorage, sent only in the Authorization header), so the API's guard and the
command service decide, and the page shows what they answered.

Cost: the data and the chart are rebuilt at most once per ``ttl_s`` however many
pages poll (bench/web.py measures ten pages on the small site).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from aiohttp import web

from controller.integrations.web_chart import power_chart
from controller.integrations.web_page import ReportCache, page_data
from controller.service.read_model import ReadModel

__all__ = ["POLL_INTERVAL_S", "add_web_routes"]

POLL_INTERVAL_S = 3.0  # how often an open page asks for fresh data (web_static/app.js)
_ASSETS = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "app.css": "text/css",
}
# Everything from this listener, nothing from anywhere else: the page works offline,
# and an injected script tag could not load code from elsewhere either.
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)


def _load_assets() -> dict[str, bytes]:
    folder = resources.files("controller.integrations") / "web_static"
    return {name: (folder / name).read_bytes() for name in _ASSETS}


class _Cached:
    """One value shared by every poller, rebuilt when older than ``ttl_s``."""

    def __init__(
        self, build: Callable[[float], Awaitable[bytes]], ttl_s: float, now: Callable[[], float]
    ) -> None:
        self._build, self._ttl_s, self._now = build, ttl_s, now
        self._at = -1e18
        self._value = b""
        self._lock = asyncio.Lock()

    async def get(self) -> bytes:
        async with self._lock:
            now = self._now()  # the controller's clock, through the read model
            if now - self._at >= self._ttl_s:
                self._value = await self._build(now)
                self._at = now
            return self._value


def add_web_routes(
    app: web.Application, model: ReadModel, *, span_s: float, ttl_s: float = 1.0
) -> None:
    assets = _load_assets()
    reports = ReportCache()

    async def build_data(now: float) -> bytes:
        data: dict[str, Any] = await page_data(model, reports, now)
        data["poll_interval_s"] = POLL_INTERVAL_S
        return json.dumps(data, separators=(",", ":")).encode()

    async def build_chart(now: float) -> bytes:
        svg = power_chart(model.power(now - span_s), model.events(), now, span_s)
        return svg.encode()

    data_cache = _Cached(build_data, ttl_s, model.now)
    chart_cache = _Cached(build_chart, ttl_s, model.now)
    no_store = {"Cache-Control": "no-store"}

    async def index(_: web.Request) -> web.Response:
        return web.Response(
            body=assets["index.html"],
            content_type="text/html",
            charset="utf-8",
            headers={"Content-Security-Policy": _CSP, **no_store},
        )

    async def asset(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in assets or name == "index.html":
            raise web.HTTPNotFound()
        return web.Response(
            body=assets[name],
            content_type=_ASSETS[name],
            charset="utf-8",
            headers={"Cache-Control": "max-age=300"},
        )

    async def data(_: web.Request) -> web.Response:
        body = await data_cache.get()
        return web.Response(body=body, content_type="application/json", headers=no_store)

    async def chart(_: web.Request) -> web.Response:
        body = await chart_cache.get()
        return web.Response(body=body, content_type="image/svg+xml", headers=no_store)

    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", asset)
    app.router.add_get("/ui/v1/page", data)
    app.router.add_get("/ui/v1/power.svg", chart)
