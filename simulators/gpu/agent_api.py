"""The hashpivot GPU agent API as a simulated node serves it (an independent reading).

Same routes, bodies and statuses as ``hashpivot gpu-agent``: bearer token on writes,
422 with the allowed range, 403 when "not root", 413 over 16 KiB, JSON errors.
"""

from __future__ import annotations

import json
import math
import secrets
from typing import Any

from simulators.gpu.dcgm import pci_bus_id
from simulators.gpu.node import GpuNode
from simulators.httpserve import HttpRequest, HttpResponse

__all__ = ["MAX_BODY_BYTES", "AgentApi"]

MAX_BODY_BYTES = 16 * 1024


def _json(obj: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(status=status, body=json.dumps(obj, separators=(",", ":")).encode())


def _error(status: int, code: str, message: str, **extra: Any) -> HttpResponse:
    return _json({"error": code, "message": message, **extra}, status)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class AgentApi:
    """Request handlers for one node's agent port and metrics port."""

    def __init__(self, node: GpuNode) -> None:
        self._node = node

    async def handle_metrics(self, request: HttpRequest) -> HttpResponse:
        if request.path != "/metrics":
            return HttpResponse(status=404, body=b"404 page not found\n", content_type="text/plain")
        return HttpResponse(
            status=200,
            body=self._node.metrics_text().encode(),
            content_type="text/plain; version=0.0.4",
        )

    async def handle(self, request: HttpRequest) -> HttpResponse:
        routes = {
            "/v1/node": {"GET": self._get_node},
            "/v1/health": {"GET": self._get_health},
            "/v1/power-limit": {"PUT": self._put_limit, "DELETE": self._delete_limit},
        }
        methods = routes.get(request.path)
        if methods is None:
            return _error(404, "not_found", f"no route {request.path}")
        handler = methods.get(request.method)
        if handler is None:
            return _error(405, "method_not_allowed", f"{request.path} takes {', '.join(methods)}")
        return handler(request)

    def node_json(self) -> dict[str, Any]:
        node, now = self._node, self._node.clock.now()
        gpus = []
        for g in node.gpus:
            if g.lost:
                gpus.append(
                    {
                        "index": g.index,
                        "uuid": "",
                        "name": "",
                        "power_w": None,
                        "power_limit_w": None,
                        "xid_last": g.xid_last,
                        "lost": True,
                    }
                )
                continue
            used = g.mem_used_mib()
            gpus.append(
                {
                    "index": g.index,
                    "uuid": g.uuid,
                    "name": node.spec.nvml_name,
                    "power_w": round(g.power_w(now), 3),
                    "power_limit_w": g.limit_w,
                    "power_limit_min_w": node.spec.min_limit_w,
                    "power_limit_max_w": node.spec.tdp_w,
                    "power_limit_default_w": node.spec.tdp_w,
                    "energy_j": round(g.energy_at(now), 3),
                    "temp_c": g.temp_c(now),
                    "util_pct": g.utilisation_pct(),
                    "mem_util_pct": round(g.utilisation_pct() * 0.45, 1),
                    "mem_used_mib": float(used),
                    "mem_total_mib": float(node.spec.mem_total_mib),
                    "sm_clock_mhz": float(g.sm_clock_mhz(now)),
                    "mem_clock_mhz": float(node.spec.mem_clock_mhz),
                    "throttle_reasons": g.throttle_reasons(now),
                    "ecc_corrected": g.ecc_corrected,
                    "ecc_uncorrected": g.ecc_uncorrected,
                    "xid_last": g.xid_last,
                    "pci_bus_id": pci_bus_id(g.index),
                    "lost": False,
                }
            )
        power = [g.power_w(now) for g in node.gpus if not g.lost]
        limits = [g.limit_w for g in node.gpus if not g.lost]
        return {
            "hostname": node.hostname,
            "driver_version": node.options.driver_version,
            "backend": "simulated",
            "gpu_count": len(gpus),
            "gpu_power_w": round(sum(power), 3) if power else None,
            "gpu_power_limit_w": round(sum(limits), 3) if limits else None,
            "gpus": gpus,
        }

    def _get_node(self, request: HttpRequest) -> HttpResponse:
        return _json(self.node_json())

    def _get_health(self, request: HttpRequest) -> HttpResponse:
        lost = [g.index for g in self._node.gpus if g.lost]
        body = {
            "status": "degraded" if lost else "ok",
            "backend": "simulated",
            "hostname": self._node.hostname,
            "gpu_count": len(self._node.gpus),
            "lost_gpus": lost,
            "xid_gpus": [g.index for g in self._node.gpus if g.xid_last],
        }
        return _json(body, 503 if lost else 200)

    def _denied(self, request: HttpRequest) -> HttpResponse | None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return _error(401, "no_token", "send Authorization: Bearer <token>")
        if not secrets.compare_digest(given.strip().encode(), self._node.options.token.encode()):
            return _error(401, "bad_token", "the bearer token is not this agent's")
        if not self._node.options.privileged:
            return _error(403, "no_permission", "NVML says no permission (run as root)")
        return None

    def _targets(self, request: HttpRequest) -> dict[int, float] | HttpResponse:
        if len(request.body) > MAX_BODY_BYTES:
            return _error(
                413, "request_entity_too_large", f"request body over {MAX_BODY_BYTES} bytes"
            )
        try:
            body = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            return _error(422, "invalid_body", "invalid body: not JSON")
        count = len(self._node.gpus)
        if not isinstance(body, dict) or set(body) - {"per_gpu_w", "gpus"} or len(body) != 1:
            return _error(
                422, "invalid_body", "invalid body: give exactly one of per_gpu_w or gpus"
            )
        if "per_gpu_w" in body:
            if not _is_number(body["per_gpu_w"]):
                return _error(422, "invalid_body", "invalid body: per_gpu_w must be a number")
            return dict.fromkeys(range(count), float(body["per_gpu_w"]))
        gpus = body["gpus"]
        if not isinstance(gpus, dict) or not gpus:
            return _error(422, "invalid_body", "invalid body: gpus must map GPU index to watts")
        targets: dict[int, float] = {}
        for key, watts in gpus.items():
            if not key.isdigit() or not _is_number(watts):
                return _error(422, "invalid_body", f"invalid body: gpus.{key} must be index: watts")
            targets[int(key)] = float(watts)
        return targets

    def _check(self, targets: dict[int, float]) -> HttpResponse | None:
        spec, count = self._node.spec, len(self._node.gpus)
        for index, watts in sorted(targets.items()):
            if index >= count:
                return _error(
                    422,
                    "unknown_gpu",
                    f"no GPU {index} (this node has {count})",
                    gpu=index,
                    gpu_count=count,
                )
            if self._node.gpus[index].lost:
                return _error(503, "gpu_lost", f"GPU {index} is lost")
            if not spec.min_limit_w <= watts <= spec.tdp_w:
                return _error(
                    422,
                    "out_of_range",
                    f"GPU {index}: {watts:g} W is outside the allowed range "
                    f"{spec.min_limit_w:g}-{spec.tdp_w:g} W",
                    gpu=index,
                    requested_w=watts,
                    min_w=spec.min_limit_w,
                    max_w=spec.tdp_w,
                )
        return None

    def _apply(self, targets: dict[int, float]) -> HttpResponse:
        if (problem := self._check(targets)) is not None:
            return problem
        self._node.set_limits(targets)
        enforced = {str(g.index): g.limit_w for g in self._node.gpus if not g.lost}
        applied = {str(i): w for i, w in sorted(targets.items())}
        return _json({"applied": applied, "enforced": enforced})

    def _put_limit(self, request: HttpRequest) -> HttpResponse:
        if (denied := self._denied(request)) is not None:
            return denied
        targets = self._targets(request)
        return targets if isinstance(targets, HttpResponse) else self._apply(targets)

    def _delete_limit(self, request: HttpRequest) -> HttpResponse:
        if (denied := self._denied(request)) is not None:
            return denied
        return self._apply({g.index: self._node.spec.tdp_w for g in self._node.gpus if not g.lost})
