"""The controller's HTTP API (``/api/v1``): reads for anyone on the listen address,
writes only with ``Authorization: Bearer <token>``.

Every operation is one row of :data:`OPERATIONS`: method, path, query parameters,
body, answers and a small handler. The routes are added from that table and the OpenAPI
document (``/openapi.json``, :mod:`controller.integrations.openapi`) is generated from
it, so the two cannot drift apart; the tests fuzz the server against the document. The
handlers read through the read model and ask through the command service
(:mod:`controller.service`), nothing else.
"""

from __future__ import annotations

import enum
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.typedefs import Middleware
from pydantic import BaseModel, ValidationError

from controller.integrations.api_models import (
    EconomicsBody,
    EventBody,
    EventPatch,
    OverrideBody,
    PauseBody,
)
from controller.reconcile.compliance import report_text
from controller.reconcile.plans import plan_json
from controller.service.control import ControlService, InvalidRequest, NotFound
from controller.service.read_model import ReadModel
from controller.signals.webhook import PREFIX as WEBHOOK_PREFIX
from controller.signals.webhook import Handler as WebhookHandler
from controller.signals.webhook import WebhookBody
from controller.state.domain import Health
from controller.state.fleet import DeviceRecord
from drivers import Make, MiningState

__all__ = ["OPERATIONS", "Api", "Auth", "Operation", "Query", "add_api_routes"]

log = logging.getLogger(__name__)

_B = TypeVar("_B", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
V1 = "/api/v1"


class Auth(enum.Enum):
    NONE = "none"  # a read: anyone who can reach the listen address
    BEARER = "bearer"  # a write: the API token
    SIGNATURE = "signature"  # a provider's webhook: its HMAC signature (signals/webhook.py)


@dataclass(frozen=True, slots=True, kw_only=True)
class Api:
    """What the handlers may use: the read model, the command service, and the edge's own
    settings. Built once by the composition root (controller/app.py)."""

    read: ReadModel
    commands: ControlService
    token: str | None
    # Counts a refused request by HTTP status (the metrics' counter).
    on_refused: Callable[[int], None]
    # The curtailment providers' webhook (controller.signals.webhook), which checks its own
    # signature; it is an input, so it lives with the signal sources.
    webhook: WebhookHandler


def _error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers or None)


def _refusal(kind: type[web.HTTPClientError], message: str) -> web.HTTPClientError:
    return kind(text=json.dumps({"error": message}), content_type="application/json")


# ASCII digits only: str.isdigit() also takes superscripts, which int() then refuses.
_DIGITS = re.compile(r"[0-9]{1,20}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Query:
    """One query parameter: free text, one of ``choices``, or an integer 0..``hi``."""

    name: str
    choices: tuple[str, ...] = ()
    hi: int | None = None
    default: int = 0

    def schema(self) -> dict[str, Any]:
        if self.hi is not None:
            return {"type": "integer", "minimum": 0, "maximum": self.hi}
        if self.choices:
            return {"type": "string", "enum": list(self.choices)}
        return {"type": "string"}

    def check(self, text: str) -> None:
        """Raises a 400 answer for a value the document does not allow."""
        if self.hi is not None:
            if not _DIGITS.fullmatch(text) or not 0 <= int(text) <= self.hi:
                raise _refusal(web.HTTPBadRequest, f"{self.name} must be an integer 0..{self.hi}")
        elif self.choices and text not in self.choices:
            raise _refusal(web.HTTPBadRequest, f"{self.name} must be one of {sorted(self.choices)}")


def _enum(name: str, values: type[enum.Enum] | tuple[str, ...]) -> Query:
    choices = values if isinstance(values, tuple) else tuple(str(v.value) for v in values)
    return Query(name=name, choices=choices)


@dataclass(frozen=True, slots=True)
class Call:
    """One request, its query checked against the operation's parameters."""

    request: web.Request
    operation: Operation

    def text(self, name: str) -> str | None:
        return self.request.query.get(name)

    def number(self, name: str) -> int:
        text = self.request.query.get(name)
        if text is None:
            (query,) = [q for q in self.operation.query if q.name == name]
            return query.default
        return int(text)  # checked before the handler ran

    def path(self, name: str) -> str:
        return self.request.match_info[name]

    @property
    def actor(self) -> str:
        return f"api:{self.request.remote or 'unknown'}"

    async def body(self, model: type[_B], *, required: bool = True) -> _B:
        """The JSON body, validated strictly; ``required``: an empty body is refused (a
        PATCH or POST without one is a client's mistake, not a request to change nothing).
        Only a truly empty body counts as absent: whitespace alone is not JSON."""
        raw = await self.request.read()
        if not raw:
            if required:
                raise _refusal(web.HTTPUnprocessableEntity, "body: a JSON object is required")
            raw = b"{}"
        try:
            return model.model_validate_json(raw)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise _refusal(web.HTTPUnprocessableEntity, f"{where}: {first['msg']}") from None


Respond = Callable[[Api, Call], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Operation:
    method: str
    path: str
    summary: str
    respond: Respond
    answer: str  # the schema of a 2xx answer (openapi.py)
    answers: tuple[int, ...]
    query: tuple[Query, ...] = ()
    body: type[BaseModel] | None = None
    body_required: bool = True
    auth: Auth = Auth.NONE
    text_answer: bool = False  # also text/plain (?format=text)
    path_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        names = tuple(re.findall(r"{(\w+)}", self.path))
        object.__setattr__(self, "path_names", names)


# ---- handlers: one small function per operation ------------------------------------------


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


async def _status(api: Api, _: Call) -> web.StreamResponse:
    return _json(api.read.status(api.read.now()))


def _device_json(api: Api, record: DeviceRecord, now: float) -> dict[str, Any]:
    telemetry = record.telemetry
    device_id = record.identity.device_id
    override = api.read.overrides(now).get(device_id)
    stuck = record.stuck_until > now
    return {
        "device": device_id,
        "make": record.identity.make.value,
        "model": record.model,
        "host": record.identity.endpoint.host,
        "rack": record.identity.rack,
        "health": record.health.value,
        "last_error": record.last_error,
        "state": telemetry.mining_state.value if telemetry else "unknown",
        "hashrate_hs": telemetry.hashrate_hs if telemetry else None,
        "power_w": telemetry.power_w if telemetry else None,
        "power_estimated": telemetry.power_estimated if telemetry else None,
        "taken_at": telemetry.taken_at if telemetry else None,
        "commanded": record.commanded,
        "commanded_at": record.commanded_at or None,
        "stuck": stuck,
        "stuck_reason": record.stuck_reason if stuck else None,
        "override": override.as_json() if override else None,
        "queued": list(api.read.queued(device_id)),
    }


async def _devices(api: Api, call: Call) -> web.StreamResponse:
    make, state, health = call.text("make"), call.text("state"), call.text("health")
    limit, offset = call.number("limit"), call.number("offset")
    now = api.read.now()
    matched = []
    for record in api.read.records():
        telemetry = record.telemetry
        current = telemetry.mining_state.value if telemetry else "unknown"
        if make is not None and record.identity.make.value != make:
            continue
        if health is not None and record.health.value != health:
            continue
        if state is not None and current != state:
            continue
        matched.append(record)
    page = matched[offset : offset + limit]
    devices = [_device_json(api, record, now) for record in page]
    return _json({"total": len(matched), "offset": offset, "devices": devices})


async def _device(api: Api, call: Call) -> web.StreamResponse:
    device_id = call.path("device_id")
    record = api.read.record(device_id)
    if record is None:
        raise NotFound(f"no device {device_id}")
    return _json(_device_json(api, record, api.read.now()))


async def _plan(api: Api, call: Call) -> web.StreamResponse:
    view = api.read.plan_view()
    if view is None:
        return _error(503, "no plan yet: waiting for the first telemetry sweep")
    return _json(plan_json(view, device=call.text("device"), limit=call.number("limit")))


async def _events(api: Api, call: Call) -> web.StreamResponse:
    now = api.read.now()
    active = call.text("active") == "true"
    rows = [
        {
            **e.as_json(),
            "active": not e.is_over(now),
            "confirmed": api.read.event_confirmed(e.event_id),
        }
        for e in api.read.events()
        if not active or not e.is_over(now)
    ]
    return _json({"events": rows})


async def _create_event(api: Api, call: Call) -> web.StreamResponse:
    body = await call.body(EventBody)
    event = await api.commands.create_event(body.to_spec(), call.actor)
    log.info("event %s created by %s: %s", event.event_id, call.actor, body.kind)
    return _json(event.as_json(), status=201)


async def _event(api: Api, call: Call) -> web.StreamResponse:
    return _json(api.read.event(call.path("event_id")).as_json())


async def _patch_event(api: Api, call: Call) -> web.StreamResponse:
    body = await call.body(EventPatch)
    changes = body.model_dump(exclude_unset=True)
    event = await api.commands.update_event(call.path("event_id"), changes, call.actor)
    return _json(event.as_json())


async def _cancel_event(api: Api, call: Call) -> web.StreamResponse:
    event = await api.commands.cancel_event(call.path("event_id"), call.actor)
    return _json(event.as_json())


async def _report(api: Api, call: Call) -> web.StreamResponse:
    event = api.read.event(call.path("event_id"))
    data = dict(await api.read.report(event))
    if call.text("format") == "text":
        return web.Response(text=report_text(data), content_type="text/plain")
    return _json(data)


async def _relay_clear(api: Api, call: Call) -> web.StreamResponse:
    await api.commands.clear_relay(call.actor)
    return _json({"relay_cleared_at": api.read.relay_cleared_at()})


async def _overrides(api: Api, _: Call) -> web.StreamResponse:
    live = api.read.overrides(api.read.now())
    return _json({"overrides": [o.as_json() for o in live.values()]})


async def _put_override(api: Api, call: Call) -> web.StreamResponse:
    body = await call.body(OverrideBody)
    found = await api.commands.set_override(
        call.path("device_id"), body.action, body.ttl_s, body.reason, call.actor
    )
    return _json(found.as_json())


async def _delete_override(api: Api, call: Call) -> web.StreamResponse:
    await api.commands.clear_override(call.path("device_id"), call.actor)
    return _json({"cleared": call.path("device_id")})


async def _pause(api: Api, call: Call) -> web.StreamResponse:
    body = await call.body(PauseBody, required=False)
    await api.commands.pause(body.reason, call.actor)
    return _json({"paused": True})


async def _resume(api: Api, call: Call) -> web.StreamResponse:
    await api.commands.resume(call.actor)
    return _json({"paused": False})


async def _economics(api: Api, _: Call) -> web.StreamResponse:
    return _json(api.read.economics_document(api.read.now()))


async def _put_economics(api: Api, call: Call) -> web.StreamResponse:
    body = await call.body(EconomicsBody)
    await api.commands.set_economics(
        power_price=body.power_price_usd_per_mwh,
        hashprice=body.hashprice_usd_per_ph_day,
        as_of=body.as_of,
        source=body.source,
        actor=call.actor,
    )
    return _json(api.read.economics_document(api.read.now()))


async def _journal(api: Api, call: Call) -> web.StreamResponse:
    kind = call.text("kind")
    rows = await api.read.journal_entries(
        [kind] if kind else None,
        subject=call.text("subject"),
        since_seq=call.number("since"),
        limit=call.number("limit"),
    )
    return _json({"entries": [e.as_json() for e in rows]})


async def _webhook(api: Api, call: Call) -> web.StreamResponse:
    return await api.webhook(call.request)


_WRITE = (200, 401, 403)
OPERATIONS: tuple[Operation, ...] = (
    Operation(
        method="get", path=f"{V1}/status", summary="Site status, control state and site power",
        respond=_status, answer="Status", answers=(200,),
    ),
    Operation(
        method="get", path=f"{V1}/devices",
        summary="Devices, filtered by make, mining state and health", respond=_devices,
        answer="DevicesPage", answers=(200, 400),
        query=(_enum("make", Make), _enum("state", MiningState), _enum("health", Health),
               Query(name="limit", hi=100_000, default=1000),
               Query(name="offset", hi=10_000_000, default=0)),
    ),
    Operation(
        method="get", path=f"{V1}/devices/{{device_id}}", summary="One device",
        respond=_device, answer="Device", answers=(200, 404),
    ),
    Operation(
        method="get", path=f"{V1}/plan",
        summary="The current plan: targets with reasons, notes and commands", respond=_plan,
        answer="Plan", answers=(200, 400, 503),
        query=(Query(name="device"), Query(name="limit", hi=100_000, default=500)),
    ),
    Operation(
        method="get", path=f"{V1}/events", summary="Grid events", respond=_events,
        answer="Events", answers=(200, 400), query=(_enum("active", ("true", "false")),),
    ),
    Operation(
        method="post", path=f"{V1}/events", summary="Create a grid event",
        respond=_create_event, answer="Event", answers=(201, 401, 403, 409, 422),
        body=EventBody, auth=Auth.BEARER,
    ),
    Operation(
        method="get", path=f"{V1}/events/{{event_id}}", summary="One event", respond=_event,
        answer="Event", answers=(200, 404),
    ),
    Operation(
        method="patch", path=f"{V1}/events/{{event_id}}",
        summary="Change an event's level, end or deadline", respond=_patch_event,
        answer="Event", answers=(*_WRITE, 404, 409, 422), body=EventPatch, auth=Auth.BEARER,
    ),
    Operation(
        method="delete", path=f"{V1}/events/{{event_id}}", summary="Cancel an event",
        respond=_cancel_event, answer="Event", answers=(*_WRITE, 404, 409), auth=Auth.BEARER,
    ),
    Operation(
        method="get", path=f"{V1}/events/{{event_id}}/report",
        summary="The event's compliance report", respond=_report, answer="Report",
        answers=(200, 400, 404), query=(_enum("format", ("json", "text")),),
        text_answer=True,
    ),
    Operation(
        method="post", path=f"{V1}/relay/clear",
        summary="Release the relay-trip latch (the relay is reset)", respond=_relay_clear,
        answer="RelayCleared", answers=_WRITE, auth=Auth.BEARER,
    ),
    Operation(
        method="get", path=f"{V1}/overrides", summary="Live per-device overrides",
        respond=_overrides, answer="Overrides", answers=(200,),
    ),
    Operation(
        method="put", path=f"{V1}/overrides/{{device_id}}",
        summary="Force a device to sleep or exclude it, with expiry", respond=_put_override,
        answer="Override", answers=(*_WRITE, 404, 409, 422), body=OverrideBody,
        auth=Auth.BEARER,
    ),
    Operation(
        method="delete", path=f"{V1}/overrides/{{device_id}}",
        summary="Remove a device's override", respond=_delete_override,
        answer="OverrideCleared", answers=(*_WRITE, 404), auth=Auth.BEARER,
    ),
    Operation(
        method="post", path=f"{V1}/control/pause",
        summary="Pause control (plans are still computed)", respond=_pause, answer="Paused",
        answers=(*_WRITE, 422), body=PauseBody, body_required=False, auth=Auth.BEARER,
    ),
    Operation(
        method="post", path=f"{V1}/control/resume", summary="Resume control",
        respond=_resume, answer="Paused", answers=_WRITE, auth=Auth.BEARER,
    ),
    Operation(
        method="get", path=f"{V1}/economics",
        summary="Prices and hashprice in use, with time and source", respond=_economics,
        answer="Economics", answers=(200,),
    ),
    Operation(
        method="put", path=f"{V1}/economics",
        summary="Set the power price and/or hashprice", respond=_put_economics,
        answer="Economics", answers=(*_WRITE, 409, 422), body=EconomicsBody,
        auth=Auth.BEARER,
    ),
    Operation(
        method="get", path=f"{V1}/journal", summary="Journal entries", respond=_journal,
        answer="Journal", answers=(200, 400),
        query=(Query(name="kind"), Query(name="subject"),
               Query(name="since", hi=2**62, default=0),
               Query(name="limit", hi=100_000, default=1000)),
    ),
    Operation(
        method="post", path=f"{WEBHOOK_PREFIX}{{provider}}",
        summary="A curtailment provider's grid event, signed with HMAC-SHA256 in "
        "X-Hashpivot-Signature over X-Hashpivot-Timestamp and the body (docs/signals.md)",
        respond=_webhook, answer="WebhookAccepted", answers=(200, 202, 401, 404, 409, 422),
        body=WebhookBody, auth=Auth.SIGNATURE,
    ),
)  # fmt: skip


# ---- the table, served --------------------------------------------------------------------


def _route(api: Api, operation: Operation) -> Handler:
    allowed = {q.name: q for q in operation.query}

    async def handle(request: web.Request) -> web.StreamResponse:
        for name, value in request.query.items():
            query = allowed.get(name)
            if query is None:
                raise _refusal(web.HTTPBadRequest, f"unknown query parameter {name[:40]!r}")
            query.check(value)
        try:
            return await operation.respond(api, Call(request, operation))
        except NotFound as exc:
            return _error(404, str(exc))
        except InvalidRequest as exc:
            return _error(409, str(exc))

    return handle


def _unauthorised(token: str | None, request: web.Request) -> web.Response | None:
    if token is None:
        return _error(403, "writes are disabled: no API token is configured")
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        value.strip().encode(), token.encode()
    ):
        return _error(401, "a bearer token is required", **{"WWW-Authenticate": "Bearer"})
    return None


_WRITES = {"POST", "PUT", "PATCH", "DELETE"}
_AUTH = {(op.method.upper(), op.path): op.auth for op in OPERATIONS}


def _needs_token(request: web.Request) -> bool:
    """What the table says; a write to no operation under /api/ needs it too, so that a
    client without the token learns nothing about which writes exist."""
    resource = request.match_info.route.resource
    auth = None if resource is None else _AUTH.get((request.method, resource.canonical))
    if auth is None:
        return request.method in _WRITES and request.path.startswith("/api/")
    return auth is Auth.BEARER


def _guard(api: Api) -> Middleware:
    def refused(request: web.Request, response: web.StreamResponse, why: str) -> None:
        """Every refused request is counted and logged (the log formatter escapes the
        client's text); the daemon answers it and carries on."""
        api.on_refused(response.status)
        log.info(
            "api %s %s from %s refused (%d): %s",
            request.method,
            request.path,
            request.remote,
            response.status,
            why,
        )

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            refusal = _unauthorised(api.token, request) if _needs_token(request) else None
            response = refusal or await handler(request)
        except web.HTTPException as exc:
            if 400 <= exc.status < 500:
                refused(request, exc, exc.text or exc.reason)
            raise
        if 400 <= response.status < 500 and request.path.startswith("/api/"):
            body = response.text if isinstance(response, web.Response) else None
            refused(request, response, body or response.reason)
        return response

    return guard


def add_api_routes(app: web.Application, api: Api) -> None:
    app.middlewares.append(_guard(api))
    for operation in OPERATIONS:
        app.router.add_route(operation.method.upper(), operation.path, _route(api, operation))
