"""Curtailment-provider webhooks: ``POST /api/v1/signals/webhook/{provider}``.

Authentication is per provider, by HMAC-SHA256 with a shared secret (no bearer token):

- ``X-Hashpivot-Timestamp``: unix seconds when the provider sent it;
- ``X-Hashpivot-Signature``: ``sha256=<hex>`` of HMAC(secret, ``"<timestamp>.<raw body>"``);
  several may be given, comma-separated, so a provider can rotate its secret.

The raw bytes are verified before any parsing, with a constant-time comparison. A bad
or missing signature, or a timestamp outside the replay window, gets 401 and is counted
(``signature`` / ``replay``); the body is never logged. A delivery of an event id and
sequence already accepted is answered 200 again and changes nothing (idempotent by the
provider's event id). The documented JSON body (docs/signals.md) creates, updates or
cancels a grid event through the hub.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from controller import policy
from controller.signals._json import epoch_seconds, malformed
from controller.signals.errors import BadSignal, ErrorKind
from controller.signals.hub import SignalHub
from controller.signals.source import AgeFrom
from controller.signals.updates import EventAction, EventUpdate

__all__ = [
    "PREFIX",
    "Handler",
    "Provider",
    "WebhookBody",
    "add_webhook_routes",
    "sign",
    "webhook_handler",
]

log = logging.getLogger(__name__)

PREFIX = "/api/v1/signals/webhook/"
TIMESTAMP = "X-Hashpivot-Timestamp"
SIGNATURE = "X-Hashpivot-Signature"
_UNITS = {"kW": 1e-3, "MW": 1.0}


class WebhookBody(BaseModel):
    """What a provider sends. Times are ISO 8601 with an offset, or unix seconds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: Annotated[str, Field(min_length=1, max_length=128)]
    sequence: Annotated[int, Field(ge=0, le=2**53)] = 0  # the provider's version of the event
    action: Literal["create", "update", "cancel"]
    kind: Literal["instructed", "4cp", "price"] = "instructed"
    level: float | None = None
    unit: str = "kW"
    start: float | datetime | None = None
    end: float | datetime | None = None
    deadline: float | datetime | None = None


class Provider:
    def __init__(self, name: str, secret: str, window_s: float) -> None:
        self.name = name
        self.source = f"webhook_{name}"
        self._secret = secret.encode()
        self.window_s = window_s
        self.delivered: dict[tuple[str, int], float] = {}  # (event id, sequence) -> when

    def verify(self, timestamp: str, signatures: str, body: bytes) -> bool:
        expected = hmac.new(self._secret, timestamp.encode() + b"." + body, hashlib.sha256)
        digest = expected.hexdigest().encode()
        given = [s.strip().removeprefix("sha256=").encode() for s in signatures.split(",")]
        return any(hmac.compare_digest(digest, g) for g in given if g)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value a provider sends (tests and docs use it)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def _seconds(value: float | datetime | None) -> float | None:
    if value is None:
        return None
    seconds = epoch_seconds(value)
    if not math.isfinite(seconds):
        raise BadSignal("a time that is not a number", ErrorKind.MALFORMED)
    return seconds


def to_update(source: str, body: WebhookBody, sent_at: float) -> EventUpdate:
    scale = _UNITS.get(body.unit)
    if scale is None:
        raise BadSignal(f"unit {body.unit[:10]!r} is not kW or MW", ErrorKind.UNITS)
    level = None if body.level is None else body.level * scale
    return EventUpdate(
        source=source,
        origin_at=sent_at,
        action=EventAction.CANCEL if body.action == "cancel" else EventAction.CREATE,
        provider_event_id=body.event_id,
        sequence=body.sequence,
        kind=policy.EventKind(body.kind),
        level_mw=level,
        start=_seconds(body.start),
        end=_seconds(body.end),
        deadline=_seconds(body.deadline),
    )


def _refuse(status: int, message: str, kind: ErrorKind) -> web.Response:
    return web.json_response({"error": message, "kind": kind.value}, status=status)


Handler = Callable[[web.Request], Awaitable[web.Response]]


def webhook_handler(hub: SignalHub, providers: list[Provider]) -> Handler:
    """The endpoint ``POST PREFIX{provider}``; the HTTP API lists it in its operation table
    (controller/integrations/api.py), so it is in the OpenAPI document too."""
    by_name = {p.name: p for p in providers}
    for provider in providers:
        hub.track(provider.source, None, AgeFrom.CONTACT)

    async def webhook(request: web.Request) -> web.Response:
        provider = by_name.get(request.match_info["provider"])
        if provider is None:
            return web.json_response({"error": "no such provider"}, status=404)
        source = provider.source
        body = await request.read()
        now = hub.clock.time()
        timestamp = request.headers.get(TIMESTAMP, "")
        try:
            sent_at = float(timestamp)
        except ValueError:
            sent_at = math.nan
        if not provider.verify(timestamp, request.headers.get(SIGNATURE, ""), body):
            hub.reject(source, BadSignal("signature does not verify", ErrorKind.SIGNATURE))
            return _refuse(401, "bad signature", ErrorKind.SIGNATURE)
        if not (math.isfinite(sent_at) and abs(now - sent_at) <= provider.window_s):
            hub.reject(source, BadSignal("timestamp outside the replay window", ErrorKind.REPLAY))
            return _refuse(401, "timestamp outside the replay window", ErrorKind.REPLAY)
        try:
            parsed = WebhookBody.model_validate_json(body)
            update = to_update(source, parsed, sent_at)
        except ValidationError as exc:
            refused = malformed("", exc)
            hub.reject(source, refused)
            return _refuse(422, str(refused), ErrorKind.MALFORMED)
        except BadSignal as exc:
            hub.reject(source, exc)
            return _refuse(422, str(exc), exc.kind)
        key = (parsed.event_id, parsed.sequence)
        event_id = hub.event_id(source, parsed.event_id)
        if key in provider.delivered:
            hub.error(source, BadSignal("delivered again", ErrorKind.DUPLICATE))
            return web.json_response({"event_id": event_id, "duplicate": True})
        error = await hub.submit(update)
        if error is not None:
            return _refuse(409 if error.kind is ErrorKind.REJECTED else 422, str(error), error.kind)
        provider.delivered[key] = now
        # Deliveries older than the window can no longer pass the timestamp check.
        for old in [k for k, at in provider.delivered.items() if at < now - provider.window_s]:
            del provider.delivered[old]
        log.info(
            "webhook %s: event %s %s (sequence %d)",
            provider.name,
            event_id,
            parsed.action,
            parsed.sequence,
        )
        return web.json_response({"event_id": event_id, "duplicate": False}, status=202)

    return webhook


def add_webhook_routes(app: web.Application, hub: SignalHub, providers: list[Provider]) -> None:
    """The endpoint alone, on an app of its own (the tests)."""
    app.router.add_post(PREFIX + "{provider}", webhook_handler(hub, providers))
