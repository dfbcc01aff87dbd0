"""The controller's HTTP surface: Prometheus metrics, the API and its OpenAPI document,
and the operator page (``/``). Everything it shows comes through the read model, and
every change it asks for goes through the command service (``Api``)."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from controller.integrations.api import Api, add_api_routes
from controller.integrations.openapi import openapi_document
from controller.integrations.web import add_web_routes

__all__ = ["build_app"]


def build_app(api: Api, registry: CollectorRegistry, *, span_s: float) -> web.Application:
    """``span_s``: how far back the page's power chart reaches."""

    async def get_metrics(_: web.Request) -> web.Response:
        body = generate_latest(registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def get_health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def get_openapi(_: web.Request) -> web.Response:
        return web.json_response(openapi_document())

    app = web.Application(client_max_size=64 * 1024)
    app.router.add_get("/metrics", get_metrics)
    app.router.add_get("/healthz", get_health)
    app.router.add_get("/openapi.json", get_openapi)
    add_api_routes(app, api)
    add_web_routes(app, api.read, span_s=span_s)
    return app
