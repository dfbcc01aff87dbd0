"""The page's routes: assets from the package, nothing from elsewhere, shared rebuilds."""

from __future__ import annotations

import re
from importlib import resources

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from controller.integrations.web import add_web_routes
from tests.web.test_page import FakeModel


def test_assets_ship_with_the_package_and_fetch_nothing_from_elsewhere() -> None:
    folder = resources.files("controller.integrations") / "web_static"
    for name in ("index.html", "app.js", "app.css"):
        text = (folder / name).read_text()
        # Only same-origin paths: no CDN, no scheme-relative URLs, no absolute URLs.
        assert not re.search(r"(https?:)?//[a-z0-9]", text, re.IGNORECASE), name
    assert "innerHTML" not in (folder / "app.js").read_text()  # data is set as text only
    assert "localStorage" not in (folder / "app.js").read_text()  # the token: session only


async def test_routes_serve_page_data_and_chart_rebuilt_at_most_once_per_ttl() -> None:
    model = FakeModel()
    app = web.Application()
    add_web_routes(app, model, span_s=3600.0, ttl_s=60.0)
    async with TestClient(TestServer(app)) as client:
        index = await client.get("/")
        assert index.status == 200
        assert "script-src 'self'" in index.headers["Content-Security-Policy"]
        assert (await client.get("/static/app.js")).status == 200
        assert (await client.get("/static/index.html")).status == 404
        assert (await client.get("/static/../app.py")).status == 404
        for _ in range(5):
            data = await (await client.get("/ui/v1/page")).json()
        assert data["devices"]["total"] == 5
        assert model.reports == 2  # five polls, one build
        chart = await client.get("/ui/v1/power.svg")
        assert chart.content_type == "image/svg+xml"
        assert (await chart.text()).startswith("<svg")
