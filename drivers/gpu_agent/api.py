"""The agent's HTTP contract: the request body model and the OpenAPI document.

The document is built from the same pydantic model the agent validates with, and
committed as ``deploy/gpu-agent-openapi.json`` (a test keeps the two equal).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["PowerLimitRequest", "openapi_document"]


class PowerLimitRequest(BaseModel):
    """Either one limit for every GPU, or a limit per GPU index."""

    model_config = ConfigDict(extra="forbid", strict=True)

    per_gpu_w: float | None = Field(default=None, description="watts, applied to every GPU")
    gpus: dict[int, float] | None = Field(
        default=None, description='watts per GPU index, e.g. {"0": 450, "1": 450}'
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> PowerLimitRequest:
        if (self.per_gpu_w is None) == (self.gpus is None):
            raise ValueError("give exactly one of per_gpu_w or gpus")
        if self.gpus is not None and not self.gpus:
            raise ValueError("gpus must name at least one GPU")
        return self

    def targets(self, count: int) -> dict[int, float]:
        if self.per_gpu_w is not None:
            return dict.fromkeys(range(count), self.per_gpu_w)
        return dict(self.gpus or {})


def _error_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "description": "machine-readable code"},
            "message": {"type": "string", "description": "what went wrong and what to fix"},
            "gpu": {"type": "integer"},
            "requested_w": {"type": "number"},
            "min_w": {"type": "number", "description": "the GPU's lowest allowed limit"},
            "max_w": {"type": "number", "description": "the GPU's highest allowed limit"},
        },
    }


_GPU_FIELDS = {
    "index": "integer",
    "uuid": "string",
    "name": "string",
    "power_w": "number",
    "power_limit_w": "number",
    "power_limit_min_w": "number",
    "power_limit_max_w": "number",
    "power_limit_default_w": "number",
    "energy_j": "number",
    "temp_c": "number",
    "util_pct": "number",
    "mem_util_pct": "number",
    "mem_used_mib": "number",
    "mem_total_mib": "number",
    "sm_clock_mhz": "number",
    "mem_clock_mhz": "number",
    "throttle_reasons": "integer",
    "ecc_corrected": "integer",
    "ecc_uncorrected": "integer",
    "xid_last": "integer",
    "pci_bus_id": "string",
    "lost": "boolean",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def openapi_document() -> dict[str, Any]:
    error = _ref("Error")
    limits = _ref("LimitsReply")
    write_errors = {
        "401": _json(error, "no token, a wrong token, or writes disabled (no token configured)"),
        "403": _json(error, "NVML refused: the agent must run as root"),
        "409": _json(error, "another power-limit change is in flight"),
        "503": _json(error, "NVML failed"),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hashpivot GPU node agent",
            "version": "1",
            "description": "Reads every GPU through NVML; sets and restores power limits.",
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": _error_schema(),
                "PowerLimitRequest": PowerLimitRequest.model_json_schema(),
                "Gpu": {
                    "type": "object",
                    "properties": {
                        k: {"type": [v, "null"] if k not in {"index", "xid_last", "lost"} else v}
                        for k, v in _GPU_FIELDS.items()
                    },
                },
                "Node": {
                    "type": "object",
                    "properties": {
                        "hostname": {"type": "string"},
                        "driver_version": {"type": ["string", "null"]},
                        "backend": {"type": "string", "enum": ["nvml", "simulated", "recorded"]},
                        "gpu_count": {"type": "integer"},
                        "gpu_power_w": {"type": ["number", "null"]},
                        "gpu_power_limit_w": {"type": ["number", "null"]},
                        "gpus": {"type": "array", "items": _ref("Gpu")},
                    },
                },
                "LimitsReply": {
                    "type": "object",
                    "properties": {
                        "applied": {"type": "object", "additionalProperties": {"type": "number"}},
                        "enforced": {"type": "object", "additionalProperties": {"type": "number"}},
                    },
                },
            },
        },
        "paths": {
            "/v1/node": {
                "get": {
                    "summary": "Every GPU's readings and the node totals",
                    "responses": {"200": _json(_ref("Node"), "the node now")},
                }
            },
            "/v1/health": {
                "get": {
                    "summary": "Whether NVML answers",
                    "responses": {
                        "200": _json({"type": "object"}, "healthy"),
                        "503": _json({"type": "object"}, "NVML failed"),
                    },
                }
            },
            "/v1/power-limit": {
                "put": {
                    "summary": "Set power limits, validated against each GPU's constraints",
                    "security": [{"bearer": []}],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("PowerLimitRequest")}},
                    },
                    "responses": {
                        "200": _json(limits, "what is now enforced, read back from NVML"),
                        "413": _json(error, "body too large"),
                        "415": _json(error, "body is not application/json"),
                        "422": _json(error, "invalid body, unknown GPU, or out of range"),
                        **write_errors,
                    },
                },
                "delete": {
                    "summary": "Restore every GPU's default power limit",
                    "security": [{"bearer": []}],
                    "responses": {"200": _json(limits, "defaults now enforced"), **write_errors},
                },
            },
        },
    }
