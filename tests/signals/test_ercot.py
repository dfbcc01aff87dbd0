"""ERCOT's report shapes, read from the real August 2023 prices served by a local server."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.signals.ercot import parse_day_ahead, parse_real_time
from controller.signals.errors import BadSignal, ErrorKind
from controller.signals.price_url import parse_price_feed
from controller.signals.prices import ErcotPrices, PriceFeed
from controller.signals.updates import PriceMarket, PriceUpdate
from tests.signals.conftest import BY_HAND, RAW_BODIES, FakeClock, HubRig, Sink
from tests.signals.ercot_server import RT_FIELDS, ErcotServer, utc
from tests.signals.local_server import LocalServer

CSV_RT = (
    "DeliveryDate,DeliveryHour,DeliveryInterval,SettlementPointName,SettlementPointType,"
    "SettlementPointPrice,DSTFlag\n"
)


def test_real_time_csv_in_central_time_with_the_repeated_autumn_hour() -> None:
    body = (
        CSV_RT
        + "11/05/2023,2,4,LZ_WEST,LZ,20.5,N\n"
        + "11/05/2023,2,4,LZ_WEST,LZ,21.5,Y\n"
        + "11/05/2023,2,4,HB_NORTH,HU,99,N\n"
        + "08/17/2023,20,3,LZ_WEST,LZ,5241.48,N\n"
    ).encode()
    report = parse_real_time(body, "LZ_WEST")
    starts = [datetime.fromtimestamp(i.start, UTC).isoformat() for i in report.intervals]
    # 19:30 CDT; then 01:45 CDT and 01:45 CST an hour apart, told apart by DSTFlag.
    assert starts == [
        "2023-08-18T00:30:00+00:00",
        "2023-11-05T06:45:00+00:00",
        "2023-11-05T07:45:00+00:00",
    ]
    assert [i.usd_per_mwh for i in report.intervals] == [5241.48, 20.5, 21.5]
    assert report.bad_rows == 0


def test_bad_rows_are_counted_and_good_rows_kept() -> None:
    rows = [
        "08/17/2023,25,1,LZ_WEST,LZ,1,N",
        "08/17/2023,x,1,LZ_WEST,LZ,1,N",
        "08/17/2023,1,1,LZ_WEST,LZ,nan,N",
        "08/17/2023,1,2,LZ_WEST,LZ,12.5,N",
    ]
    body = (CSV_RT + "\n".join(rows) + "\n").encode()
    report = parse_real_time(body, "LZ_WEST")
    assert report.bad_rows == 3
    assert len(report.intervals) == 1


def test_day_ahead_api_json() -> None:
    body = json.dumps(
        {
            "fields": [
                {"name": n}
                for n in (
                    "deliveryDate",
                    "hourEnding",
                    "settlementPoint",
                    "settlementPointPrice",
                    "DSTFlag",
                )
            ],
            "data": [
                ["2023-08-17", "20:00", "LZ_WEST", 808.09, False],
                ["2023-08-17", "24:00", "LZ_WEST", 3376.16, False],
            ],
            "_meta": {"totalPages": 1},
        }
    ).encode()
    report = parse_day_ahead(body, "LZ_WEST")
    assert [(i.start, i.end - i.start) for i in report.intervals] == [
        (utc("2023-08-18T00:00:00"), 3600),
        (utc("2023-08-18T04:00:00"), 3600),
    ]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        RAW_BODIES,
        st.lists(
            st.lists(
                st.one_of(
                    st.integers(-5, 30),
                    st.text(max_size=12),
                    st.floats(allow_nan=True),
                    st.none(),
                    st.booleans(),
                ),
                max_size=8,
            ),
            max_size=6,
        ).map(
            lambda rows: json.dumps(
                {
                    "fields": [{"name": n} for n in RT_FIELDS],
                    "data": rows,
                    "_meta": {"totalPages": 3},
                }
            ).encode()
        ),
        st.lists(st.text(alphabet="0123456789/,:.-YNLZ_WEST", max_size=60), max_size=6).map(
            lambda lines: (CSV_RT + "\n".join(lines)).encode()
        ),
    )
)
def test_fuzz_every_ercot_and_feed_parser_only_raises_bad_signal(body: bytes) -> None:
    for parse in (
        lambda b: parse_real_time(b, "LZ_WEST"),
        lambda b: parse_day_ahead(b, "LZ_WEST"),
        parse_price_feed,
    ):
        kinds = []
        try:
            parse(body)
        except BadSignal as exc:
            kinds.append(exc.kind)
        assert all(isinstance(k, ErrorKind) for k in kinds)


def test_generic_feed_units_and_shapes() -> None:
    body = b'{"unit": "USD/kWh", "intervals": [{"start": 0, "end": 900, "price": 0.05}]}'
    assert parse_price_feed(body)[0].usd_per_mwh == pytest.approx(50.0)
    with pytest.raises(BadSignal) as info:
        parse_price_feed(b'{"unit": "EUR/MWh", "intervals": []}')
    assert info.value.kind is ErrorKind.UNITS
    csv = b"start,end,price\n2023-08-17T19:30:00-05:00,2023-08-17T19:45:00-05:00,5241.48\n"
    [interval] = parse_price_feed(csv)
    assert interval.start == utc("2023-08-18T00:30:00")


RT_PATH = "/np6-905-cd/spp_node_zone_hub"
DAM_PATH = "/np4-190-cd/dam_stlmnt_pnt_prices"


def ercot(
    server: ErcotServer, clock: FakeClock, market: PriceMarket, **overrides: Any
) -> ErcotPrices:
    """LZ_WEST from ``server``'s report for ``market``, polled each second unless overridden."""
    real_time = market is PriceMarket.REAL_TIME
    upstream: dict[str, Any] = {
        "url": server.base + (RT_PATH if real_time else DAM_PATH),
        "headers": {},
        "interval_s": 1,
        "timeout_s": 1,
        "stale_after_s": 1800 if real_time else None,
    }
    name = "ercot_rt" if real_time else "ercot_dam"
    return ErcotPrices(name, clock, market, settlement_point="LZ_WEST", **(upstream | overrides))


async def test_real_time_source_polls_the_real_data_without_duplicates() -> None:
    # Real LZ_WEST prices of 16 Aug 2023: 48.62 (04:45Z), 89.49 (05:00Z), 32.08 (05:15Z).
    async with ErcotServer() as server:
        clock = FakeClock(utc("2023-08-16T05:20:00"))
        server.rt_published_until = utc("2023-08-16T05:00:00")
        source = ercot(server, clock, PriceMarket.REAL_TIME)
        sink = Sink(PriceUpdate)
        await source.poll_once(sink)
        await source.poll_once(sink)  # nothing new published: nothing emitted
        server.rt_published_until = utc("2023-08-16T05:30:00")
        await source.poll_once(sink)
        await source.stop()
    assert len(sink.updates) == 2
    assert not sink.errors
    first, second = sink.updates
    assert first.intervals[-1].usd_per_mwh == 48.62
    assert len(first.intervals) == 4 * 24  # all of 15 Aug (CDT): 16 Aug's first is not out
    # Published up to 05:30Z, but at 05:20Z only the interval ending 05:15Z is over.
    assert [i.usd_per_mwh for i in second.intervals] == [89.49]
    assert "settlementPoint=LZ_WEST" in server.requests[0]


async def test_day_ahead_source_emits_the_curve_when_it_changes() -> None:
    async with ErcotServer() as server:
        clock = FakeClock(utc("2023-08-17T18:30:00"))
        source = ercot(server, clock, PriceMarket.DAY_AHEAD)
        sink = Sink(PriceUpdate)
        await source.poll_once(sink)
        await source.poll_once(sink)
        await source.stop()
    [update] = sink.updates
    by_start = {i.start: i.usd_per_mwh for i in update.intervals}
    assert by_start[utc("2023-08-18T00:00:00")] == 3376.16  # the evening peak, hour ending 20
    assert min(by_start) == utc("2023-08-17T18:00:00")  # the hour running now, and on


@pytest.mark.parametrize("fault", ["refuse", "stall", "garbage"])
async def test_upstream_failures_back_off_and_recover(fault: str) -> None:
    async with ErcotServer() as server:
        clock = FakeClock(utc("2023-08-16T05:20:00"))
        source = ercot(server, clock, PriceMarket.REAL_TIME, interval_s=10, timeout_s=0.3)
        sink = Sink(PriceUpdate)
        server.fault = fault
        for _ in range(3):
            await source.poll_once(sink)
        assert [e.kind.value for e in sink.errors] == [
            "malformed" if fault == "garbage" else "upstream"
        ] * 3
        assert source.delay_s() == 80  # 10 s doubled per failure
        server.fault = None
        await source.poll_once(sink)
        assert source.delay_s() == 10
        assert len(sink.updates) == 1
        await source.stop()


async def test_generic_feed_through_the_hub(rig: HubRig) -> None:
    now = rig.clock.time()
    body = json.dumps(
        {
            "unit": "USD/MWh",
            "intervals": [
                {"start": now - 1800, "end": now - 900, "price": 31.0},
                {"start": now - 900, "end": now, "price": 44.0},
            ],
        }
    )

    async def serve(_: web.Request) -> web.Response:
        return web.Response(text=body, content_type="application/json")

    async with LocalServer(routes=[web.get("/prices.json", serve)]) as server:
        url = f"{server.base}/prices.json"
        often = BY_HAND | {"interval_s": 0.05}  # the hub runs it: a poll every 50 ms
        rig.hub.add(
            PriceFeed("price_url", rig.clock, PriceMarket.REAL_TIME, url=url, headers={}, **often)
        )
        stop = asyncio.Event()
        task = asyncio.create_task(rig.hub.run(stop))
        for _ in range(100):
            if rig.state.price is not None:
                break
            await asyncio.sleep(0.02)
        stop.set()
        await task
    assert rig.state.price is not None
    assert rig.state.price.power_price_usd_per_mwh == 44.0
    assert rig.hub.stats["price_url"].updates == 1
