"""The controller's HTTP API (``/api/v1``): reads for anyone on the listen address,
writes only with ``Authorization: Bearer <token>``. The OpenAPI document is
``/openapi.json`` (controller.integrations.openapi), and the tests fuzz it.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from controller.integrations.api_models import (
    EconomicsBody,
    EventBody,
    EventPatch,
    OverrideBody,
    PauseBody,
)
from controller.integrations.devices import device_json, devices_page
from controller.reconcile.compliance import compliance_report, report_text
from controller.reconcile.plans import plan_json
from controller.service import InvalidRequest, NotFound
from controller.signals.webhook import PREFIX as WEBHOOK_PREFIX
from controller.state.domain import Health, Make, MiningState

if TYPE_CHECKING:
    from controller.app import Controller

__all__ = ["add_api_routes"]

log = logging.getLogger(__name__)

_WRITES = {"POST", "PUT", "PATCH", "DELETE"}
_B = TypeVar("_B", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers or None)


def _unprocessable(message: str) -> web.HTTPUnprocessableEntity:
    return web.HTTPUnprocessableEntity(
        text=json.dumps({"error": message}), content_type="application/json"
    )


async def _body(request: web.Request, model: type[_B], *, required: bool = True) -> _B:
    """The JSON body, validated strictly; ``required``: an empty body is refused (a PATCH
    or POST without one is a client's mistake, not a request to change nothing). Only a
    truly empty body counts as absent: whitespace alone is not JSON, and is refused."""
    raw = await request.read()
    if not raw:
        if required:
            raise _unprocessable("body: a JSON object is required")
        raw = b"{}"
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise _unprocessable(f"{where}: {first['msg']}") from None


# ASCII digits only: str.isdigit() also takes superscripts, which int() then refuses.
_DIGITS = re.compile(r"[0-9]{1,20}")


def _query_int(request: web.Request, name: str, default: int, hi: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    if not _DIGITS.fullmatch(text) or not 0 <= int(text) <= hi:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"{name} must be an integer 0..{hi}"}),
            content_type="application/json",
        )
    return int(text)


def _enum_query(request: web.Request, name: str, choices: set[str]) -> str | None:
    value = request.query.get(name)
    if value is not None and value not in choices:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"{name} must be one of {sorted(choices)}"}),
            content_type="application/json",
        )
    return value


def add_api_routes(app: web.Application, controller: Controller) -> None:
    token = controller.api_token
    service = controller.service

    def refused(request: web.Request, response: web.StreamResponse, why: str) -> None:
        """Every refused request is counted and logged (the log formatter escapes the
        client's text); the daemon answers it and carries on."""
        controller.metrics.count_api_refused(response.status)
        log.info("api %s %s from %s refused (%d): %s", request.method, request.path,
                 request.remote, response.status, why)  # fmt: skip

    async def answer(request: web.Request, handler: Handler) -> web.StreamResponse:
        # Provider webhooks authenticate by their HMAC signature, not by the bearer token.
        signed = request.path.startswith(WEBHOOK_PREFIX)
        if request.method in _WRITES and request.path.startswith("/api/") and not signed:
            if token is None:
                return _error(403, "writes are disabled: no API token is configured")
            given = request.headers.get("Authorization", "")
            scheme, _, value = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                value.strip().encode(), token.encode()
            ):
                return _error(401, "a bearer token is required", **{"WWW-Authenticate": "Bearer"})
        try:
            return await handler(request)
        except NotFound as exc:
            return _error(404, str(exc))
        except InvalidRequest as exc:
            return _error(409, str(exc))

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await answer(request, handler)
        except web.HTTPException as exc:
            if 400 <= exc.status < 500:
                refused(request, exc, exc.text or exc.reason)
            raise
        if 400 <= response.status < 500 and request.path.startswith("/api/"):
            body = response.text if isinstance(response, web.Response) else None
            refused(request, response, body or response.reason)
        return response

    app.middlewares.append(guard)

    def actor(request: web.Request) -> str:
        return f"api:{request.remote or 'unknown'}"

    async def status(_: web.Request) -> web.Response:
        return web.json_response(controller.status())

    async def devices(request: web.Request) -> web.Response:
        make = _enum_query(request, "make", {m.value for m in Make})
        state = _enum_query(request, "state", {s.value for s in MiningState})
        health = _enum_query(request, "health", {h.value for h in Health})
        limit = _query_int(request, "limit", 1000, 100_000)
        offset = _query_int(request, "offset", 0, 10_000_000)
        page = devices_page(controller, make, state, health, limit, offset)
        return web.json_response(page)

    async def device(request: web.Request) -> web.Response:
        record = controller.fleet.records.get(request.match_info["device_id"])
        if record is None:
            raise NotFound(f"no device {request.match_info['device_id']}")
        return web.json_response(device_json(controller, record, time.time()))

    async def plan(request: web.Request) -> web.Response:
        view = controller.loop.view
        if view is None:
            return _error(503, "no plan yet: waiting for the first telemetry sweep")
        limit = _query_int(request, "limit", 500, 100_000)
        return web.json_response(plan_json(view, device=request.query.get("device"), limit=limit))

    async def events(request: web.Request) -> web.Response:
        now = time.time()
        active = _enum_query(request, "active", {"true", "false"}) == "true"
        rows = [
            {**e.as_json(), "active": not e.is_over(now),
             "confirmed": controller.events.confirmed(e.event_id)}
            for e in sorted(controller.state.events.values(), key=lambda e: e.created_at)
            if not active or not e.is_over(now)
        ]  # fmt: skip
        return web.json_response({"events": rows})

    async def create_event(request: web.Request) -> web.Response:
        body = await _body(request, EventBody)
        event = await service.create_event(body.to_spec(), actor(request))
        log.info("event %s created by %s: %s", event.event_id, actor(request), body.kind)
        return web.json_response(event.as_json(), status=201)

    async def get_event(request: web.Request) -> web.Response:
        event = service.event(request.match_info["event_id"])
        return web.json_response(event.as_json())

    async def patch_event(request: web.Request) -> web.Response:
        body = await _body(request, EventPatch)
        changes = body.model_dump(exclude_unset=True)
        event = await service.update_event(request.match_info["event_id"], changes, actor(request))
        return web.json_response(event.as_json())

    async def cancel_event(request: web.Request) -> web.Response:
        event = await service.cancel_event(request.match_info["event_id"], actor(request))
        return web.json_response(event.as_json())

    async def report(request: web.Request) -> web.StreamResponse:
        fmt = _enum_query(request, "format", {"json", "text"}) or "json"
        event = service.event(request.match_info["event_id"])
        data = await compliance_report(controller.journal, event)
        if fmt == "text":
            return web.Response(text=report_text(data), content_type="text/plain")
        return web.json_response(data)

    async def relay_clear(request: web.Request) -> web.Response:
        await service.clear_relay(actor(request))
        return web.json_response({"relay_cleared_at": controller.state.relay_cleared_at})

    async def overrides(_: web.Request) -> web.Response:
        live = controller.state.live_overrides(time.time())
        return web.json_response({"overrides": [o.as_json() for o in live.values()]})

    async def put_override(request: web.Request) -> web.Response:
        body = await _body(request, OverrideBody)
        device_id = request.match_info["device_id"]
        found = await service.set_override(
            device_id, body.action, body.ttl_s, body.reason, actor(request)
        )
        return web.json_response(found.as_json())

    async def delete_override(request: web.Request) -> web.Response:
        await service.clear_override(request.match_info["device_id"], actor(request))
        return web.json_response({"cleared": request.match_info["device_id"]})

    async def pause(request: web.Request) -> web.Response:
        body = await _body(request, PauseBody, required=False)
        await service.pause(body.reason, actor(request))
        return web.json_response({"paused": True})

    async def resume(request: web.Request) -> web.Response:
        await service.resume(actor(request))
        return web.json_response({"paused": False})

    async def economics(_: web.Request) -> web.Response:
        return web.json_response(controller.economics_json())

    async def put_economics(request: web.Request) -> web.Response:
        body = await _body(request, EconomicsBody)
        await service.set_economics(
            power_price=body.power_price_usd_per_mwh, hashprice=body.hashprice_usd_per_ph_day,
            as_of=body.as_of, source=body.source, actor=actor(request),
        )  # fmt: skip
        return web.json_response(controller.economics_json())

    async def journal(request: web.Request) -> web.Response:
        kind = request.query.get("kind")
        since = _query_int(request, "since", 0, 2**62)
        limit = _query_int(request, "limit", 1000, 100_000)
        rows = await controller.journal.entries(
            [kind] if kind else None, subject=request.query.get("subject"), since_seq=since,
            limit=limit,
        )  # fmt: skip
        return web.json_response({"entries": [e.as_json() for e in rows]})

    v1 = "/api/v1"
    app.router.add_get(f"{v1}/status", status)
    app.router.add_get(f"{v1}/devices", devices)
    app.router.add_get(f"{v1}/devices/{{device_id}}", device)
    app.router.add_get(f"{v1}/plan", plan)
    app.router.add_get(f"{v1}/events", events)
    app.router.add_post(f"{v1}/events", create_event)
    app.router.add_get(f"{v1}/events/{{event_id}}", get_event)
    app.router.add_patch(f"{v1}/events/{{event_id}}", patch_event)
    app.router.add_delete(f"{v1}/events/{{event_id}}", cancel_event)
    app.router.add_get(f"{v1}/events/{{event_id}}/report", report)
    app.router.add_post(f"{v1}/relay/clear", relay_clear)
    app.router.add_get(f"{v1}/overrides", overrides)
    app.router.add_put(f"{v1}/overrides/{{device_id}}", put_override)
    app.router.add_delete(f"{v1}/overrides/{{device_id}}", delete_override)
    app.router.add_post(f"{v1}/control/pause", pause)
    app.router.add_post(f"{v1}/control/resume", resume)
    app.router.add_get(f"{v1}/economics", economics)
    app.router.add_put(f"{v1}/economics", put_economics)
    app.router.add_get(f"{v1}/journal", journal)
