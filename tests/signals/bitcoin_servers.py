"""Local servers speaking the real protocols with recorded-shape replies
(tests/fixtures/signals): a mempool.space-compatible REST API, and a bitcoind JSON-RPC
endpoint with HTTP Basic auth (cookie or user/password). ``fault`` makes either refuse,
stall or send garbage; ``price`` and ``as_of`` move the BTC price and its time."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.signals.local_server import LocalServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "signals"


def fixture(name: str) -> Any:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else text


class _Server(LocalServer):
    def __init__(self) -> None:
        super().__init__()
        self.fault: str | None = None
        self.requests: list[str] = []

    async def faulty(self) -> web.Response | None:
        if self.fault == "refuse":
            return web.Response(status=503)
        if self.fault == "stall":
            await asyncio.sleep(3600)
        if self.fault == "garbage":
            garbage = b'{"currentDifficulty": "lots"'
            return web.Response(body=garbage, content_type="application/json")
        return None


class MempoolServer(_Server):
    def __init__(self) -> None:
        super().__init__()
        self.prices = fixture("mempool_prices.json")

    def routes(self, app: web.Application) -> None:
        async def answer(request: web.Request) -> web.StreamResponse:
            self.requests.append(request.path)
            fault = await self.faulty()
            if fault is not None:
                return fault
            path = request.path
            if path == "/api/v1/mining/hashrate/3d":
                return web.json_response(fixture("mempool_hashrate_3d.json"))
            if path == "/api/blocks/tip/height":
                return web.Response(text=fixture("mempool_tip_height.txt"))
            if path == "/api/v1/mining/reward-stats/144":
                return web.json_response(fixture("mempool_reward_stats_144.json"))
            if path == "/api/v1/prices":
                return web.json_response(self.prices)
            return web.Response(status=404, text="Not Found")

        app.router.add_get("/{tail:.*}", answer)


class BitcoindServer(_Server):
    """JSON-RPC 1.0 as bitcoind answers it; 401 without the right Basic credentials."""

    def __init__(self, user: str, password: str) -> None:
        super().__init__()
        self.user, self.password = user, password
        self.calls: list[str] = []

    def routes(self, app: web.Application) -> None:
        expected = "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()

        async def rpc(request: web.Request) -> web.StreamResponse:
            if request.headers.get("Authorization") != expected:
                return web.Response(status=401)
            fault = await self.faulty()
            if fault is not None:
                return fault
            body = await request.json()
            method, params = body["method"], body["params"]
            self.calls.append(method)
            if method == "getmininginfo":
                reply = fixture("bitcoind_getmininginfo.json")
            elif method == "getblockstats":
                reply = fixture("bitcoind_getblockstats.json")
                reply["result"]["height"] = params[0]
            else:
                reply = {
                    "result": None,
                    "id": body["id"],
                    "error": {"code": -32601, "message": "Method not found"},
                }
                return web.json_response(reply, status=404)
            reply["id"] = body["id"]
            return web.json_response(reply)

        app.router.add_post("/", rpc)
