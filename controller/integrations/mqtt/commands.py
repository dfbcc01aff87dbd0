"""Commands from the bus: parsed and checked at the edge, before anything runs.

A command is JSON on ``<prefix>cmd/<name>``::

    {"id": "c-0001", "args": {...}, "ts": 1765000000.0, "sig": "<hex>"}   # auth: hmac
    {"id": "c-0001", "args": {...}, "token": "<secret>"}                   # auth: token

``sig`` is HMAC-SHA256 with the shared secret over ``signing_text()``: the command
name, id, ts and the canonical JSON of ``args``, joined by newlines. The secret never
travels; ``ts`` must be within ``max_skew_s`` of the controller's clock, and the id
deduplicates a replay inside that window. ``args`` are the HTTP API's request bodies
(controller.integrations.api_models), so both edges accept exactly the same values.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import math
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from controller.config.mqtt import CommandAuth
from controller.errors import ControllerError
from controller.integrations.api_models import (
    EconomicsBody,
    EventBody,
    EventPatch,
    OverrideBody,
    PauseBody,
)
from controller.integrations.mqtt.topics import CommandName

__all__ = [
    "ARGS",
    "MAX_COMMAND_BYTES",
    "Command",
    "CommandRefused",
    "ErrorKind",
    "parse_command",
    "sign",
    "signing_text",
]

MAX_COMMAND_BYTES = 16_384
_Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]


class ErrorKind(enum.StrEnum):
    MALFORMED = "malformed"  # not JSON, unknown fields, values out of range
    UNAUTHORISED = "unauthorised"  # no, wrong or stale token or signature
    NOT_FOUND = "not_found"  # no such event or device
    INVALID = "invalid"  # well formed but cannot be carried out
    FAILED = "failed"  # the controller could not carry it out (journal down, ...)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Envelope(_Strict):
    id: _Id
    args: dict[str, Any] = Field(default_factory=dict)
    ts: Annotated[float, Field(ge=0, le=1e11, allow_inf_nan=False)] | None = None
    sig: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")] | None = None
    token: Annotated[str, Field(max_length=1024)] | None = None


class _IdOnly(BaseModel):
    id: _Id


class EventRef(_Strict):
    event_id: _Id


class EventUpdate(EventPatch):
    event_id: _Id

    @model_validator(mode="after")
    def _changes_something(self) -> EventUpdate:  # the event's id alone changes nothing
        if not self.model_fields_set - {"event_id"}:
            raise ValueError("give at least one of level_mw, end, deadline")
        return self


class DeviceRef(_Strict):
    device_id: Annotated[str, Field(min_length=1, max_length=200)]


class OverrideSet(OverrideBody):
    device_id: Annotated[str, Field(min_length=1, max_length=200)]


class NoArgs(_Strict):
    pass


ARGS: dict[CommandName, type[BaseModel]] = {
    CommandName.EVENT_CREATE: EventBody,
    CommandName.EVENT_UPDATE: EventUpdate,
    CommandName.EVENT_CANCEL: EventRef,
    CommandName.OVERRIDE_SET: OverrideSet,
    CommandName.OVERRIDE_CLEAR: DeviceRef,
    CommandName.PAUSE: PauseBody,
    CommandName.RESUME: NoArgs,
    CommandName.PRICES: EconomicsBody,
}


@dataclass(frozen=True, slots=True)
class Command:
    name: CommandName
    command_id: str
    args: BaseModel


class CommandRefused(ControllerError):
    """Why a command is not executed; ``command_id`` is None when it could not be read."""

    def __init__(self, kind: ErrorKind, message: str, command_id: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.command_id = command_id


def signing_text(name: CommandName, command_id: str, ts: float, args: dict[str, Any]) -> bytes:
    canonical = json.dumps(args, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return f"{name.value}\n{command_id}\n{ts!r}\n{canonical}".encode()


def sign(secret: str, name: CommandName, command_id: str, ts: float, args: dict[str, Any]) -> str:
    return hmac.new(
        secret.encode(), signing_text(name, command_id, ts, args), hashlib.sha256
    ).hexdigest()


def parse_command(
    name: CommandName | None,
    payload: bytes,
    *,
    auth: CommandAuth,
    secret: str | None,
    now: float,
    max_skew_s: float,
) -> Command:
    """The command, or :class:`CommandRefused`. Messages never quote the payload."""
    if name is None:
        raise CommandRefused(ErrorKind.MALFORMED, "no such command", _peek_id(payload))
    if len(payload) > MAX_COMMAND_BYTES:
        raise CommandRefused(ErrorKind.MALFORMED, f"larger than {MAX_COMMAND_BYTES} bytes")
    try:
        envelope = _Envelope.model_validate_json(payload)
    except ValidationError as exc:
        raise CommandRefused(ErrorKind.MALFORMED, _first(exc), _peek_id(payload)) from None
    command_id = envelope.id
    _authorise(envelope, name, auth=auth, secret=secret, now=now, max_skew_s=max_skew_s)
    try:
        args = ARGS[name].model_validate(envelope.args)
    except ValidationError as exc:
        raise CommandRefused(ErrorKind.MALFORMED, f"args.{_first(exc)}", command_id) from None
    return Command(name, command_id, args)


def _authorise(
    envelope: _Envelope,
    name: CommandName,
    *,
    auth: CommandAuth,
    secret: str | None,
    now: float,
    max_skew_s: float,
) -> None:
    def refuse(message: str) -> CommandRefused:
        return CommandRefused(ErrorKind.UNAUTHORISED, message, envelope.id)

    if secret is None:
        raise refuse("commands are disabled: no command secret is configured")
    if auth is CommandAuth.TOKEN:
        if envelope.token is None or not hmac.compare_digest(
            envelope.token.encode(), secret.encode()
        ):
            raise refuse("a valid token is required")
        return
    if envelope.sig is None or envelope.ts is None:
        raise refuse("ts and sig are required")
    if not math.isfinite(envelope.ts) or abs(now - envelope.ts) > max_skew_s:
        raise refuse(f"ts is more than {max_skew_s:g} s from the controller's clock")
    try:
        expected = sign(secret, name, envelope.id, envelope.ts, envelope.args)
    except (TypeError, ValueError):
        raise refuse("args cannot be signed") from None
    if not hmac.compare_digest(expected, envelope.sig.lower()):
        raise refuse("bad signature")


def _first(exc: ValidationError) -> str:
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return f"{where}: {first['msg']}"


def _peek_id(payload: bytes) -> str | None:
    """The id of an otherwise unreadable command, so the refusal reaches its sender."""
    try:
        return _IdOnly.model_validate_json(payload).id
    except ValidationError:
        return None
