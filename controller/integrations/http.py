"""The controller's HTTP surface: Prometheus metrics, the API and its OpenAPI document,
and the operator page (``/``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from controller.integrations.api import add_api_routes
from controller.integrations.openapi import openapi_document
from controller.integrations.web import add_web_routes
from controller.integrations.web_source import ControllerReadModel
from controller.signals.webhook import add_webhook_routes
from controller.state.fleet import Fleet

if TYPE_CHECKING:
    from controller.app import Controller

__all__ = ["build_app", "fleet_status"]


def fleet_status(fleet: Fleet) -> dict[str, Any]:
    """A JSON-ready summary: devices by health and mining state, site totals."""
    hashrate, power = fleet.totals()
    by_state: dict[str, int] = {}
    for record in fleet:
        state = record.telemetry.mining_state.value if record.telemetry else "unknown"
        by_state[state] = by_state.get(state, 0) + 1
    return {
        "site": fleet.site,
        "devices": len(fleet),
        "by_health": {health.value: count for health, count in fleet.by_health().items()},
        "by_state": dict(sorted(by_state.items())),
        "hashrate_hs": hashrate,
        "power_w": power,
    }


def build_app(controller: Controller) -> web.Application:
    metrics = controller.metrics

    async def get_metrics(_: web.Request) -> web.Response:
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def get_health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def get_openapi(_: web.Request) -> web.Response:
        return web.json_response(openapi_document())

    app = web.Application(client_max_size=64 * 1024)
    app.router.add_get("/metrics", get_metrics)
    app.router.add_get("/healthz", get_health)
    app.router.add_get("/openapi.json", get_openapi)
    add_api_routes(app, controller)
    add_webhook_routes(app, controller.signals, controller.webhooks)
    add_web_routes(app, ControllerReadModel(controller), span_s=controller.power_history.span_s)
    return app
