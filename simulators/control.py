"""A small HTTP control plane for a running fleet (loopback only).

GET    /devices                         every device's state (phase, power_w, hashrate_hs, ...)
GET    /devices/{address}               one device
POST   /devices/{address}/faults        {"fault": "stall"} or {"fault": "slow", "seconds": 2}
DELETE /devices/{address}/faults        clear all (or ?fault=stall for one)
POST   /devices/{address}/reboot        the reboot scenario
POST   /faults                          {"fault": "refuse", "fraction": 0.1} on a random tenth
DELETE /faults                          clear every fault on every device
GET    /clock, POST /clock              {"speed": 120} and/or {"advance_s": 600}
GET    /meters/{address}/relay          {"tripped": false}
POST   /meters/{address}/relay          {"tripped": true} trips the meter's relay contact
"""

from __future__ import annotations

import ipaddress
import logging
import random
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, StrictBool, ValidationError

from simulators.errors import PortUnavailableError, SimulatorError, UnknownDeviceError
from simulators.fleet import Fleet

__all__ = ["ControlPlane"]

_log = logging.getLogger(__name__)


class _FaultBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fault: str
    seconds: float | None = Field(default=None, ge=0)


class _FleetFaultBody(_FaultBody):
    fraction: float = Field(default=1.0, gt=0, le=1)
    seed: int | None = None


class _RelayBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tripped: StrictBool


class _ClockBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    speed: PositiveFloat | None = None
    advance_s: float | None = Field(default=None, ge=0)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _body(request: web.Request, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate_json(await request.read() or b"{}")
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise web.HTTPUnprocessableEntity(
            text=f'{{"error": "{field}: {first["msg"]}"}}', content_type="application/json"
        ) from None


class ControlPlane:
    def __init__(self, fleet: Fleet, host: str = "127.0.0.1", port: int = 9870) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise PortUnavailableError(
                f"the control plane listens on loopback only, not {host}",
                host=host,
                port=port,
                code="not-loopback",
            )
        self._fleet = fleet
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        app = web.Application(middlewares=[self._errors])
        app.add_routes(
            [
                web.get("/devices", self._list),
                web.get("/devices/{address}", self._one),
                web.post("/devices/{address}/faults", self._inject),
                web.delete("/devices/{address}/faults", self._clear),
                web.post("/devices/{address}/reboot", self._reboot),
                web.post("/faults", self._inject_many),
                web.delete("/faults", self._clear_all),
                web.get("/clock", self._clock),
                web.post("/clock", self._set_clock),
                web.get("/meters/{address}/relay", self._relay),
                web.post("/meters/{address}/relay", self._set_relay),
            ]
        )
        self._app = app

    async def start(self) -> None:
        runner = web.AppRunner(self._app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise PortUnavailableError(
                f"control plane cannot listen on {self.host}:{self.port}: {exc.strerror}",
                host=self.host,
                port=self.port,
            ) from None
        self._runner = runner
        _log.info("control plane on http://%s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _errors(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
        except UnknownDeviceError as exc:
            return _error(404, str(exc))
        except SimulatorError as exc:
            return _error(400, str(exc))
        return response

    def _state(self) -> dict[str, Any]:
        return {"devices": [d.snapshot().as_dict() for d in self._fleet]}

    async def _list(self, request: web.Request) -> web.Response:
        return web.json_response(self._state())

    async def _one(self, request: web.Request) -> web.Response:
        device = self._fleet.device(request.match_info["address"])
        return web.json_response(device.snapshot().as_dict())

    async def _inject(self, request: web.Request) -> web.Response:
        device = self._fleet.device(request.match_info["address"])
        body: _FaultBody = await _body(request, _FaultBody)
        device.faults.inject(body.fault, seconds=body.seconds)
        return web.json_response(device.snapshot().as_dict())

    async def _clear(self, request: web.Request) -> web.Response:
        device = self._fleet.device(request.match_info["address"])
        device.faults.clear(request.query.get("fault"))
        return web.json_response(device.snapshot().as_dict())

    async def _reboot(self, request: web.Request) -> web.Response:
        device = self._fleet.device(request.match_info["address"])
        device.reboot()
        return web.json_response(device.snapshot().as_dict())

    async def _inject_many(self, request: web.Request) -> web.Response:
        body: _FleetFaultBody = await _body(request, _FleetFaultBody)
        devices = list(self._fleet)
        count = max(1, round(len(devices) * body.fraction))
        chosen = random.Random(body.seed).sample(devices, count)
        for device in chosen:
            device.faults.inject(body.fault, seconds=body.seconds)
        return web.json_response({"devices": sorted(d.address for d in chosen)})

    async def _clear_all(self, request: web.Request) -> web.Response:
        for device in self._fleet:
            device.faults.clear()
        return web.json_response({"cleared": len(self._fleet)})

    async def _relay(self, request: web.Request) -> web.Response:
        meter = self._fleet.meter(request.match_info["address"])
        return web.json_response({"tripped": meter.relay_tripped, "address": meter.relay_address})

    async def _set_relay(self, request: web.Request) -> web.Response:
        meter = self._fleet.meter(request.match_info["address"])
        body: _RelayBody = await _body(request, _RelayBody)
        meter.set_relay(body.tripped)
        return await self._relay(request)

    async def _clock(self, request: web.Request) -> web.Response:
        clock = self._fleet.clock
        return web.json_response({"speed": clock.speed, "now_s": clock.now()})

    async def _set_clock(self, request: web.Request) -> web.Response:
        body: _ClockBody = await _body(request, _ClockBody)
        if body.speed is not None:
            self._fleet.clock.speed = body.speed
        if body.advance_s:
            self._fleet.clock.advance(body.advance_s)
        return await self._clock(request)
