"""The OpenAPI 3.0 document of the controller's API, built from the pydantic bodies.

Routes are a table (method, path, summary, body, query parameters, answers), so
the document cannot drift far from ``controller.integrations.api``: a test fuzzes
every operation listed here against the running server.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from controller.integrations.api_models import (
    BODIES,
    EconomicsBody,
    EventBody,
    EventPatch,
    OverrideBody,
    PauseBody,
)
from drivers import Make

__all__ = ["openapi_document"]

_Q = tuple[str, dict[str, Any]]
_MAKES = [make.value for make in Make]  # the make registry (drivers/registry.py)
_STATES = ["hashing", "sleeping", "starting", "fault", "unknown"]
_HEALTH = ["unknown", "healthy", "degraded", "unreachable"]


def _int(hi: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": 0, "maximum": hi}


# Response bodies, so the fuzz test can check every answer against the document.
def _obj(required: dict[str, Any], **optional: Any) -> dict[str, Any]:
    return {"type": "object", "required": sorted(required),
            "properties": {**required, **optional}}  # fmt: skip


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_NUM, _STR, _BOOL, _INT = (
    {"type": "number"},
    {"type": "string"},
    {"type": "boolean"},
    {"type": "integer"},
)
_OPT_NUM, _OPT_STR = {"type": "number", "nullable": True}, {"type": "string", "nullable": True}
_LIST = {"type": "array", "items": {}}
_KINDS = ["instructed", "4cp", "price", "relay_trip"]
_EVENT = _obj({
    "event_id": _STR, "kind": {"type": "string", "enum": _KINDS},
    "start": _NUM, "end": _NUM, "level_mw": _OPT_NUM, "deadline": _OPT_NUM, "source": _STR,
    "created_at": _NUM, "updated_at": _NUM, "cancelled_at": _OPT_NUM,
})  # fmt: skip
_LISTED_EVENT = {"allOf": [_ref("Event"), _obj({"active": _BOOL, "confirmed": _BOOL})]}
_OVERRIDE = _obj({
    "device_id": _STR, "action": {"type": "string", "enum": ["force_sleep", "exclude"]},
    "expires_at": _OPT_NUM, "reason": _STR, "set_at": _NUM, "actor": _STR,
})  # fmt: skip
_PRICE = _obj({"as_of": _NUM, "source": _STR}, usd_per_mwh=_NUM, usd_per_ph_day=_NUM)
_ANSWERS: dict[str, dict[str, Any]] = {
    "Error": _obj({"error": _STR}),
    "Event": _EVENT,
    "Override": _OVERRIDE,
    "Status": _obj({
        "site": _STR, "devices": _INT, "by_health": {"type": "object"},
        "by_state": {"type": "object"}, "control": {"type": "object"},
        "site_power": {"type": "object"}, "plan": {"type": "object", "nullable": True},
        "events_active": {"type": "array", "items": _STR}, "overrides": _INT,
        "stuck": {"type": "array", "items": _STR}, "journal": {"type": "object"},
    }),
    "DevicesPage": _obj({"total": _INT, "offset": _INT,
                         "devices": {"type": "array", "items": _ref("Device")}}),
    "Device": _obj({
        "device": _STR, "make": _STR, "health": _STR, "state": _STR, "stuck": _BOOL,
        "queued": {"type": "array", "items": _STR},
        "override": {"allOf": [_ref("Override")], "nullable": True},
    }),
    "Plan": _obj({"seq": _INT, "at": _NUM, "targets": _LIST, "command_list": _LIST}),
    "Events": _obj({"events": {"type": "array", "items": _LISTED_EVENT}}),
    "Report": _obj({"event": _ref("Event"), "requested": {"type": "object"},
                    "milestones": {"type": "object"}}),
    "RelayCleared": _obj({"relay_cleared_at": _OPT_NUM}),
    "Overrides": _obj({"overrides": {"type": "array", "items": _ref("Override")}}),
    "OverrideCleared": _obj({"cleared": _STR}),
    "Paused": _obj({"paused": _BOOL}),
    "Economics": _obj({"power_price": _PRICE, "hashprice": _PRICE,
                       "max_price_age_s": _NUM, "max_hashprice_age_s": _NUM}),
    "Journal": _obj({"entries": {"type": "array", "items": _obj({
        "seq": _INT, "at": _NUM, "actor": _STR, "kind": _STR, "subject": _STR,
        "data": {"type": "object"}, "run": _INT})}}),
}  # fmt: skip

# (method, path, summary, request body, query parameters, answers, what a 2xx answer is)
_ROUTES: list[tuple[str, str, str, type[BaseModel] | None, list[_Q], list[int], str]] = [
    ("get", "/api/v1/status", "Site status, control state and site power", None, [], [200],
     "Status"),
    ("get", "/api/v1/devices", "Devices, filtered by make, mining state and health", None,
     [("make", {"type": "string", "enum": _MAKES}), ("state", {"type": "string", "enum": _STATES}),
      ("health", {"type": "string", "enum": _HEALTH}), ("limit", _int(100_000)),
      ("offset", _int(10_000_000))], [200, 400], "DevicesPage"),
    ("get", "/api/v1/devices/{device_id}", "One device", None, [], [200, 404], "Device"),
    ("get", "/api/v1/plan", "The current plan: targets with reasons, notes and commands", None,
     [("device", {"type": "string"}), ("limit", _int(100_000))], [200, 400, 503], "Plan"),
    ("get", "/api/v1/events", "Grid events", None,
     [("active", {"type": "string", "enum": ["true", "false"]})], [200, 400], "Events"),
    ("post", "/api/v1/events", "Create a grid event", EventBody, [], [201, 401, 403, 409, 422],
     "Event"),
    ("get", "/api/v1/events/{event_id}", "One event", None, [], [200, 404], "Event"),
    ("patch", "/api/v1/events/{event_id}", "Change an event's level, end or deadline",
     EventPatch, [], [200, 401, 403, 404, 409, 422], "Event"),
    ("delete", "/api/v1/events/{event_id}", "Cancel an event", None, [],
     [200, 401, 403, 404, 409], "Event"),
    ("get", "/api/v1/events/{event_id}/report", "The event's compliance report", None,
     [("format", {"type": "string", "enum": ["json", "text"]})], [200, 400, 404], "Report"),
    ("post", "/api/v1/relay/clear", "Release the relay-trip latch (the relay is reset)", None,
     [], [200, 401, 403], "RelayCleared"),
    ("get", "/api/v1/overrides", "Live per-device overrides", None, [], [200], "Overrides"),
    ("put", "/api/v1/overrides/{device_id}", "Force a device to sleep or exclude it, with expiry",
     OverrideBody, [], [200, 401, 403, 404, 409, 422], "Override"),
    ("delete", "/api/v1/overrides/{device_id}", "Remove a device's override", None, [],
     [200, 401, 403, 404], "OverrideCleared"),
    ("post", "/api/v1/control/pause", "Pause control (plans are still computed)", PauseBody,
     [], [200, 401, 403, 422], "Paused"),
    ("post", "/api/v1/control/resume", "Resume control", None, [], [200, 401, 403], "Paused"),
    ("get", "/api/v1/economics", "Prices and hashprice in use, with time and source", None,
     [], [200], "Economics"),
    ("put", "/api/v1/economics", "Set the power price and/or hashprice", EconomicsBody, [],
     [200, 401, 403, 409, 422], "Economics"),
    ("get", "/api/v1/journal", "Journal entries", None,
     [("kind", {"type": "string"}), ("subject", {"type": "string"}), ("since", _int(2**62)),
      ("limit", _int(100_000))], [200, 400], "Journal"),
]  # fmt: skip

_TEXT = {
    200: "OK",
    201: "Created",
    400: "Bad query parameter",
    401: "Missing or wrong bearer token",
    403: "Writes are disabled (no token configured)",
    404: "No such event or device",
    409: "Not possible in the current state",
    422: "Invalid body",
    503: "Not ready yet",
}


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    result: dict[str, Any] = _nullable(schema)
    return result


def _nullable(node: Any) -> Any:
    """pydantic writes ``anyOf: [X, {type: null}]``; OpenAPI 3.0 says ``nullable``."""
    if isinstance(node, dict):
        options = node.get("anyOf")
        if isinstance(options, list) and {"type": "null"} in options and len(options) == 2:
            (inner,) = [o for o in options if o != {"type": "null"}]
            merged = {k: v for k, v in node.items() if k != "anyOf"}
            merged.update(_nullable(inner))
            merged["nullable"] = True
            return merged
        out = {k: _nullable(v) for k, v in node.items()}
        for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            value = out.get(bound)
            if isinstance(value, int | float) and not isinstance(value, bool):
                out[plain], out[bound] = value, True  # 3.0 spells the JSON Schema 2020 form so
        return out
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


@cache
def openapi_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path, summary, body, query, answers, answer in _ROUTES:
        operation: dict[str, Any] = {
            "summary": summary,
            "operationId": f"{method}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",  # noqa: E501
            "responses": {
                str(code): {
                    "description": _TEXT[code],
                    "content": {
                        "application/json": {"schema": _ref(answer if code < 300 else "Error")}
                    },
                }
                for code in answers
            },
        }
        if path.endswith("/report"):
            operation["responses"]["200"]["content"]["text/plain"] = {"schema": {"type": "string"}}
        params = [
            {"name": name, "in": "path", "required": True,
             "schema": {"type": "string", "minLength": 1, "maxLength": 200}}
            for name in ("device_id", "event_id") if f"{{{name}}}" in path
        ]  # fmt: skip
        params += [{"name": n, "in": "query", "required": False, "schema": s} for n, s in query]
        if params:
            operation["parameters"] = params
        if body is not None:
            operation["requestBody"] = {
                "required": body is not PauseBody,
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{body.__name__}"}
                    }
                },
            }
        if method != "get":
            operation["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "hashpivot controller API",
            "version": "1",
            "description": "Grid events, overrides, control and plans. Writes need "
            "`Authorization: Bearer <token>` (api.token in the configuration).",
        },
        "paths": paths,
        "components": {
            "schemas": {
                **{model.__name__: _schema(model) for model in BODIES},
                **_ANSWERS,
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
