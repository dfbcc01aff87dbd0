"""A minimal stock-Antminer web API (aiohttp.web, real Digest auth) for driver tests.

Digest is the simulator's (``simulators.httpserve.DigestAuth``), so there is one
server-side digest in the tree; the device is a few attributes instead of the
simulator's physics, for the knobs below.

Only as much device as the driver tests need: state is a few plain attributes a
test sets directly, and knobs reproduce the firmware behaviours the driver must
survive (config read failure, the ignored ``bitmain-work-mode`` key, acked but
ignored writes).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from aiohttp import web

from simulators.antminer.web import REALM
from simulators.httpserve import DigestAuth
from tests.drivers.conftest import fixture


class FakeAntminer:
    def __init__(
        self, model: str = "S19j Pro", nameplate_ghs: float = 100000.0, password: str = "root"
    ) -> None:
        self.model = model
        self.nameplate_ghs = nameplate_ghs
        self.password = password
        self._digest = DigestAuth(REALM, "root", password)
        self.conf: dict[str, Any] = fixture("antminer_s19jpro_49.0.1.3_get_miner_conf.json")
        self.hashrate_ghs = nameplate_ghs
        self.elapsed = 3600
        self.challenges = 0
        self.paths: list[str] = []
        self.writes: list[dict[str, Any]] = []
        self.fail_conf = False  # get_miner_conf answers 500
        self.mode_key = "miner-mode"  # quirk (b): the one mode key this firmware obeys
        self.ignore_writes = False  # acknowledge set_miner_conf, change nothing
        self.no_stats_cgi = False  # older firmware: 404 on stats.cgi
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def mode(self) -> int:
        return int(self.conf["bitmain-work-mode"])

    async def start(self, host: str = "127.0.0.1") -> int:
        app = web.Application(middlewares=[self._auth])
        app.router.add_route("*", "/cgi-bin/{name}.cgi", self._cgi)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- digest --------------------------------------------------------------------

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.paths.append(request.path)
        if not self._digest.check(request.method, request.headers.get("Authorization")):
            self.challenges += 1
            return web.Response(status=401, headers={"WWW-Authenticate": self._digest.challenge()})
        return await handler(request)  # type: ignore[no-any-return]

    # -- endpoints -----------------------------------------------------------------

    async def _cgi(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name == "set_miner_conf":
            return self._set_conf(json.loads(await request.read()))
        if name == "reboot":
            return web.json_response({"stats": "success", "code": "R000"})
        if name == "get_miner_conf" and self.fail_conf:
            return web.Response(status=500, text="busy")
        if name == "stats" and self.no_stats_cgi:
            return web.Response(status=404, text="<html>404</html>")
        body = {
            "get_system_info": self._system_info,
            "get_miner_conf": lambda: copy.deepcopy(self.conf),
            "stats": self._stats,
            "summary": self._summary,
        }.get(name)
        if body is None:
            return web.Response(status=404, text="<html>404</html>")
        return web.json_response(body())

    def _set_conf(self, body: dict[str, Any]) -> web.Response:
        self.writes.append(body)
        if not self.ignore_writes:
            if self.mode_key in body:
                self.conf["bitmain-work-mode"] = str(body[self.mode_key])
            self.conf["pools"] = body.get("pools") or [{"url": "", "user": "", "pass": ""}] * 3
        return web.json_response({"stats": "success", "code": "M000", "msg": "OK!"})

    def _system_info(self) -> dict[str, Any]:
        return {
            "minertype": f"Antminer {self.model}",
            "macaddr": "02:00:00:00:00:01",
            "hostname": "fake-1",
            "serinum": "FAKESERIAL",
            "system_filesystem_version": "FR-1.12(fake)",
        }

    def _envelope(self, msg: str) -> dict[str, Any]:
        return {
            "STATUS": {"STATUS": "S", "when": 1, "Msg": msg, "api_version": "1.0.0"},
            "INFO": {
                "miner_version": "49.0.1.3",
                "CompileTime": "x",
                "type": f"Antminer {self.model}",
            },
        }

    def _rate(self) -> float:
        return 0.0 if self.mode == 1 else self.hashrate_ghs

    def _rates(self) -> dict[str, Any]:
        """What stats.cgi and summary.cgi both report of the hashrate."""
        rate = self._rate()
        return {
            "elapsed": self.elapsed,
            "rate_5s": rate,
            "rate_avg": rate,
            "rate_30m": rate,
            "rate_ideal": self.nameplate_ghs,
            "rate_unit": "GH/s",
        }

    def _stats(self) -> dict[str, Any]:
        rate = self._rate()
        chains = [
            {
                "index": i,
                "rate_real": rate / 3,
                "asic_num": 126,
                "temp_pcb": [50, 51, 60, 61 + i],
                "temp_chip": [60, 61, 70, 71 + i],
                "sn": f"B{i}",
            }
            for i in range(3)
            if rate > 0
        ]
        return {
            **self._envelope("stats"),
            "STATS": [
                {
                    **self._rates(),
                    "fan_num": 4,
                    "fan": [6000, 6000, 5900, 5900] if rate else [0, 0, 0, 0],
                    "miner-mode": self.mode,
                    "freq-level": 100,
                    "chain": chains,
                }
            ],
        }

    def _summary(self) -> dict[str, Any]:
        return {
            **self._envelope("summary"),
            "SUMMARY": [
                {
                    **self._rates(),
                    "status": [{"type": "rate", "status": "s", "code": 0, "msg": ""}],
                }
            ],
        }
