"""A local ERCOT public-API stand-in serving the real August 2023 prices (the backtest's
package data, controller/backtest/data/ercot-2023-08, with its attribution README) in the
report shapes:
NP6-905-CD (real time, 15 min) and NP4-190-CD (day ahead, hourly), JSON with ``fields``
naming the columns of ``data`` and a ``_meta`` page count, as api.ercot.com answers.

Time is moved, not values: ``rt_shift_s`` / ``dam_shift_s`` are added to every interval
start, so a chosen real interval lands where a test needs it, and ``rt_published_until``
hides real-time intervals that have not "settled" yet. ``fault`` makes it refuse
(HTTP 503), stall, or send garbage. ``authorize`` (given the ``Authorization`` header)
makes it answer 401 to a missing, unknown or expired token, as api.ercot.com does.
"""

from __future__ import annotations

import asyncio
import csv
import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from controller.signals.ercot import CPT
from tests.signals.local_server import LocalServer

DATA = Path(__file__).resolve().parents[2] / "controller" / "backtest" / "data" / "ercot-2023-08"

RT_FIELDS = ["deliveryDate", "deliveryHour", "deliveryInterval", "settlementPoint",
             "settlementPointType", "settlementPointPrice", "DSTFlag"]  # fmt: skip
DAM_FIELDS = ["deliveryDate", "hourEnding", "settlementPoint", "settlementPointPrice", "DSTFlag"]


def load(name: str) -> list[tuple[float, str, float]]:
    """(interval start, settlement point, price) rows of one fixture file."""
    with (DATA / name).open(encoding="utf-8") as handle:
        return [
            (
                datetime.fromisoformat(r["interval_start_utc"].replace("Z", "+00:00")).timestamp(),
                r["settlement_point"],
                float(r["price_usd_per_mwh"]),
            )
            for r in csv.DictReader(handle)
        ]


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def rt_row(start: float, point: str, price: float) -> list[Any]:
    local = datetime.fromtimestamp(start, CPT)
    return [
        local.date().isoformat(),
        local.hour + 1,
        local.minute // 15 + 1,
        point,
        "LZ",
        price,
        "Y" if local.fold else "N",
    ]


def dam_row(start: float, point: str, price: float) -> list[Any]:
    local = datetime.fromtimestamp(start, CPT)
    return [
        local.date().isoformat(),
        f"{local.hour + 1:02d}:00",
        point,
        price,
        "Y" if local.fold else "N",
    ]


class ErcotServer(LocalServer):
    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.rt = load("rtm_spp_15min.csv")
        self.dam = load("dam_spp_hourly.csv")
        self.rt_shift_s = 0.0
        self.dam_shift_s = 0.0
        self.rt_published_until = math.inf
        self.fault: str | None = None  # "refuse" | "stall" | "garbage"
        self.authorize: Callable[[str | None], bool] | None = None
        self.requests: list[str] = []
        self.unauthorized = 0  # requests answered 401

    def _answer(
        self,
        request: web.Request,
        rows: list[tuple[float, str, float]],
        shift: float,
        fields: list[str],
        shape: Any,
        until: float,
    ) -> web.Response:
        q = request.query
        first, last = q.get("deliveryDateFrom", "0000"), q.get("deliveryDateTo", "9999")
        point = q.get("settlementPoint")
        size, page = int(q.get("size", "1000")), int(q.get("page", "1"))
        data = []
        for start, sp, price in rows:
            at = start + shift
            if point is not None and sp != point:
                continue
            day = datetime.fromtimestamp(at, CPT).date().isoformat()
            if first <= day <= last and at <= until:
                data.append(shape(at, sp, price))
        pages = max(1, math.ceil(len(data) / size))
        body = {
            "_meta": {
                "totalRecords": len(data),
                "pageSize": size,
                "totalPages": pages,
                "currentPage": page,
            },
            "report": {"reportEMILID": "NP6-905-CD" if shape is rt_row else "NP4-190-CD"},
            "fields": [{"name": f, "label": f, "dataType": "string"} for f in fields],
            "data": data[(page - 1) * size : page * size],
            "links": {},
        }
        return web.json_response(body)

    async def _fault(self, request: web.Request) -> web.Response | None:
        if self.authorize is not None and not self.authorize(request.headers.get("Authorization")):
            self.unauthorized += 1
            return web.json_response(
                {"statusCode": 401, "message": "Unauthorized. Access token is missing or invalid."},
                status=401,
            )
        if self.fault == "refuse":
            return web.Response(status=503, text="Service Unavailable")
        if self.fault == "stall":
            await asyncio.sleep(3600)
        if self.fault == "garbage":
            return web.Response(body=b"\x00\xff{not json at all", content_type="application/json")
        return None

    async def real_time(self, request: web.Request) -> web.Response:
        self.requests.append(str(request.rel_url))
        fault = await self._fault(request)
        if fault is not None:
            return fault
        # A settled interval is published once it is over (and the test lets it out).
        return self._answer(
            request, self.rt, self.rt_shift_s, RT_FIELDS, rt_row, self.rt_published_until - 900
        )

    async def day_ahead(self, request: web.Request) -> web.Response:
        self.requests.append(str(request.rel_url))
        fault = await self._fault(request)
        if fault is not None:
            return fault
        return self._answer(request, self.dam, self.dam_shift_s, DAM_FIELDS, dam_row, math.inf)

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/np6-905-cd/spp_node_zone_hub", self.real_time)
        app.router.add_get("/np4-190-cd/dam_stlmnt_pnt_prices", self.day_ahead)
