"""The GPU node agent: a small aiohttp service over NVML (``hashpivot gpu-agent``).

Reads are open; every write needs ``Authorization: Bearer <token>``. Request bodies
are pydantic models; every failure is a JSON ``{"error", "message"}`` with a 4xx
status that says what to fix. NVML is blocking, so each call runs in a worker
thread under a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from drivers.errors import AuthError, DriverError, UnsupportedError, WriteNotApplied
from drivers.gpu.errors import LimitOutOfRange, NoGpuPrivilege, UnknownGpu
from drivers.gpu.types import NodeReading
from drivers.gpu_agent.api import PowerLimitRequest, openapi_document
from drivers.gpu_agent.nvml import GpuNode

__all__ = ["DEFAULT_PORT", "MAX_BODY_BYTES", "make_app"]

_log = logging.getLogger(__name__)

DEFAULT_PORT = 9862
MAX_BODY_BYTES = 16 * 1024  # a power-limit body is a few dozen bytes
_NVML_DEADLINE_S = 10.0
_NODE: web.AppKey[GpuNode] = web.AppKey("node", GpuNode)
_TOKEN: web.AppKey[str | None] = web.AppKey("token", str)
_WRITE_LOCK: web.AppKey[asyncio.Lock] = web.AppKey("write_lock", asyncio.Lock)
_STARTED: web.AppKey[float] = web.AppKey("started", float)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, code: str, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": code, "message": message, **extra}, status=status)


def _driver_error(exc: DriverError) -> web.Response:
    if isinstance(exc, LimitOutOfRange):
        return _error(
            422,
            exc.code,
            exc.message,
            gpu=exc.index,
            requested_w=exc.requested_w,
            min_w=exc.min_w,
            max_w=exc.max_w,
        )
    if isinstance(exc, UnknownGpu):
        return _error(422, exc.code, exc.message, gpu=exc.index, gpu_count=exc.count)
    if isinstance(exc, NoGpuPrivilege):
        return _error(403, exc.code, exc.message)
    if isinstance(exc, UnsupportedError):
        return _error(501, exc.code, exc.message)
    if isinstance(exc, WriteNotApplied):
        return _error(502, exc.code, exc.message)
    return _error(503, exc.code, exc.message)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure leaves as JSON; aiohttp's own 404/405/413 included."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = exc.reason.lower().replace(" ", "_")
        message = exc.text or exc.reason
        if exc.status == 413:
            message = f"request body over {MAX_BODY_BYTES} bytes"
        return _error(exc.status, code, message)
    except DriverError as exc:
        _log.warning("%s %s: %s", request.method, request.path, exc)
        return _driver_error(exc)
    except TimeoutError:
        return _error(504, "nvml_timeout", f"NVML did not answer within {_NVML_DEADLINE_S:g} s")


async def _in_thread(func: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.wait_for(asyncio.to_thread(func, *args), _NVML_DEADLINE_S)


def _authorised(request: web.Request) -> web.Response | None:
    token = request.app[_TOKEN]
    if token is None:
        return _error(401, "writes_disabled", "this agent has no token configured; writes are off")
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        return _error(401, "no_token", "send Authorization: Bearer <token>")
    if not secrets.compare_digest(given.strip().encode(), token.encode()):
        return _error(401, "bad_token", "the bearer token is not this agent's")
    return None


def _timed_read(node: GpuNode) -> tuple[NodeReading, float]:
    began = time.perf_counter()
    reading = node.read()
    return reading, time.perf_counter() - began


async def _get_node(request: web.Request) -> web.Response:
    """The node now. ``Server-Timing`` says what the agent spent, so a client can tell its
    own and the network's share of a read from the agent's (``read``: NVML and conversion
    in the worker thread; ``agent``: the whole handler, thread hop and JSON included)."""
    began = time.perf_counter()
    reading, read_s = await _in_thread(_timed_read, request.app[_NODE])
    response = web.json_response(reading.as_json())
    agent_s = time.perf_counter() - began
    response.headers["Server-Timing"] = (
        f"read;dur={1000 * read_s:.3f}, agent;dur={1000 * agent_s:.3f}"
    )
    return response


async def _get_health(request: web.Request) -> web.Response:
    node = request.app[_NODE]
    body: dict[str, Any] = {
        "status": "ok",
        "backend": node.backend.kind,
        "hostname": node.hostname,
        "uptime_s": round(time.monotonic() - request.app[_STARTED], 1),
    }
    try:
        reading = await _in_thread(node.read)
    except DriverError as exc:
        return web.json_response({**body, "status": "degraded", "error": exc.message}, status=503)
    body["gpu_count"] = len(reading.gpus)
    body["xid_gpus"] = [g.index for g in reading.gpus if g.xid_last]
    body["lost_gpus"] = lost = [g.index for g in reading.gpus if g.lost]
    if lost:
        body["status"] = "degraded"
    return web.json_response(body, status=503 if lost else 200)


async def _parse_limits(request: web.Request, count: int) -> dict[int, float] | web.Response:
    if request.content_type != "application/json":
        return _error(415, "unsupported_media_type", "send the body as application/json")
    raw = await request.read()
    try:
        body = PowerLimitRequest.model_validate_json(raw)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "problem": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        reason = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        return _error(422, "invalid_body", f"invalid body: {reason}", problems=problems)
    return body.targets(count)


async def _write(
    request: web.Request, work: Callable[[GpuNode], Awaitable[web.Response]]
) -> web.Response:
    if (denied := _authorised(request)) is not None:
        return denied
    lock = request.app[_WRITE_LOCK]
    if lock.locked():
        return _error(409, "busy", "another power-limit change is in flight; retry")
    async with lock:
        return await work(request.app[_NODE])


async def _put_limit(request: web.Request) -> web.Response:
    async def work(node: GpuNode) -> web.Response:
        targets = await _parse_limits(request, await _in_thread(node.gpu_count))
        if isinstance(targets, web.Response):
            return targets
        enforced = await _in_thread(node.set_limits, targets)
        return _limits_reply(targets, enforced)

    return await _write(request, work)


async def _delete_limit(request: web.Request) -> web.Response:
    async def work(node: GpuNode) -> web.Response:
        enforced = await _in_thread(node.restore_defaults)
        return _limits_reply(enforced, enforced)

    return await _write(request, work)


def _limits_reply(applied: dict[int, float], enforced: dict[int, float]) -> web.Response:
    return web.json_response(
        {
            "applied": {str(i): w for i, w in sorted(applied.items())},
            "enforced": {str(i): w for i, w in sorted(enforced.items())},
        }
    )


async def _openapi(request: web.Request) -> web.Response:
    return web.Response(
        text=json.dumps(openapi_document(), indent=2), content_type="application/json"
    )


async def _watch_xids(app: web.Application) -> AsyncIterator[None]:
    node = app[_NODE]
    blocking = node.backend.kind == "nvml"

    async def loop() -> None:
        while True:
            try:
                if blocking:  # NVML's wait blocks its thread for up to the timeout
                    events = await asyncio.to_thread(node.backend.poll_xids, 1.0)
                else:
                    events = node.backend.poll_xids(0)
                    await asyncio.sleep(1.0)
                node.note_xids(events)
            except DriverError as exc:
                _log.warning("%s: XID watch stopped: %s", node.host, exc)
                return

    task = asyncio.create_task(loop(), name=f"gpu-agent-xid-watch-{node.host}")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def make_app(node: GpuNode, *, token: str | None) -> web.Application:
    """The agent's routes over ``node``; ``token`` None turns every write off."""
    if token is not None and not token.strip():
        raise AuthError(node.host, "the agent token is empty")
    app = web.Application(middlewares=[_errors], client_max_size=MAX_BODY_BYTES)
    app[_NODE] = node
    app[_TOKEN] = token.strip() if token else None
    app[_WRITE_LOCK] = asyncio.Lock()
    app[_STARTED] = time.monotonic()
    app.router.add_get("/v1/node", _get_node)
    app.router.add_get("/v1/health", _get_health)
    app.router.add_put("/v1/power-limit", _put_limit)
    app.router.add_delete("/v1/power-limit", _delete_limit)
    app.router.add_get("/openapi.json", _openapi)
    app.cleanup_ctx.append(_watch_xids)
    return app
