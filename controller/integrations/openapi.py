"""The OpenAPI 3.0 document of the controller's API, generated from the API's operation
table (``controller.integrations.api.OPERATIONS``: paths, query parameters and their
enums, bodies, answers) and the pydantic bodies, so the document is what the server
serves; a test fuzzes every operation against the running server.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from controller.integrations.api import OPERATIONS, Auth
from controller.integrations.api_models import BODIES
from controller.policy import EventKind
from controller.signals.webhook import WebhookBody

__all__ = ["openapi_document"]


# Response bodies, so the fuzz test can check every answer against the document.
def _obj(required: dict[str, Any], **optional: Any) -> dict[str, Any]:
    return {"type": "object", "required": sorted(required), "properties": {**required, **optional}}


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
_KINDS = [kind.value for kind in EventKind]
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
    "WebhookAccepted": _obj({"event_id": _STR, "duplicate": _BOOL}),
}  # fmt: skip

_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    400: "Bad query parameter",
    401: "Missing or wrong bearer token (a webhook: signature or timestamp)",
    403: "Writes are disabled (no token configured)",
    404: "No such event, device or webhook provider",
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


_BODIES: tuple[type[BaseModel], ...] = (*BODIES, WebhookBody)


@cache
def openapi_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        name = op.path.strip("/").replace("/", "_").replace("{", "").replace("}", "")
        operation: dict[str, Any] = {
            "summary": op.summary,
            "operationId": f"{op.method}_{name}",
            "responses": {
                str(code): {
                    "description": _TEXT[code],
                    "content": {
                        "application/json": {"schema": _ref(op.answer if code < 300 else "Error")}
                    },
                }
                for code in op.answers
            },
        }
        if op.text_answer:
            operation["responses"]["200"]["content"]["text/plain"] = {"schema": {"type": "string"}}
        params = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
            }
            for name in op.path_names
        ]
        params += [
            {"name": q.name, "in": "query", "required": False, "schema": q.schema()}
            for q in op.query
        ]
        if params:
            operation["parameters"] = params
        if op.body is not None:
            operation["requestBody"] = {
                "required": op.body_required,
                "content": {"application/json": {"schema": _ref(op.body.__name__)}},
            }
        if op.auth is Auth.BEARER:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(op.path, {})[op.method] = operation
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
                **{model.__name__: _schema(model) for model in _BODIES},
                **_ANSWERS,
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
