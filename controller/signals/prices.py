"""Price sources: ERCOT's real-time and day-ahead reports, and a generic CSV/JSON URL.

Each polls on the market's cadence and emits only what it has not emitted before:
a real-time source the settled intervals newer than the last it sent, a day-ahead
source the curve ahead of now when it changed. Rows that do not parse are counted as
one ``malformed`` error per poll, and the rows that did parse still go through.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Unpack

from controller.clock import Clock
from controller.signals.ercot import Report, delivery_dates, parse_day_ahead, parse_real_time
from controller.signals.errors import BadSignal, ErrorKind
from controller.signals.price_url import parse_price_feed
from controller.signals.source import Sink, Upstream, UrlSource
from controller.signals.updates import PriceInterval, PriceMarket, PriceUpdate, Update

__all__ = ["ErcotPrices", "PriceFeed"]

_MAX_PAGES = 10


class _PriceSource(UrlSource):
    def __init__(
        self, name: str, clock: Clock, market: PriceMarket, **upstream: Unpack[Upstream]
    ) -> None:
        super().__init__(name, clock, **upstream)
        self.market = market
        self._last_end = float("-inf")
        self._last_curve: tuple[PriceInterval, ...] = ()
        self._sink: Sink | None = None

    async def start(self, sink: Sink) -> None:
        self._sink = sink
        await super().start(sink)

    def _bad_rows(self, report: Report) -> None:
        if report.bad_rows and self._sink is not None:
            self._sink.error(
                self.name,
                BadSignal(
                    f"{report.bad_rows} rows did not parse; first: {report.first_error}",
                    ErrorKind.MALFORMED,
                ),
            )

    def updates(self, intervals: Sequence[PriceInterval]) -> list[Update]:
        now = self.clock.time()
        if self.market is PriceMarket.REAL_TIME:
            new = tuple(i for i in intervals if self._last_end < i.end <= now)
            if not new:
                return []
            self._last_end = new[-1].end
            return [
                PriceUpdate(
                    source=self.name, origin_at=new[-1].end, market=self.market, intervals=new
                )
            ]
        ahead = tuple(i for i in intervals if i.end > now)
        if not ahead or ahead == self._last_curve:
            return []
        self._last_curve = ahead
        return [
            PriceUpdate(
                source=self.name,
                origin_at=min(now, ahead[0].start),
                market=self.market,
                intervals=ahead,
            )
        ]


class ErcotPrices(_PriceSource):
    """One settlement point from NP6-905-CD (real time) or NP4-190-CD (day ahead)."""

    def __init__(
        self,
        name: str,
        clock: Clock,
        market: PriceMarket,
        *,
        settlement_point: str,
        **upstream: Unpack[Upstream],
    ) -> None:
        super().__init__(name, clock, market, **upstream)
        self.settlement_point = settlement_point

    async def poll(self) -> list[Update]:
        real_time = self.market is PriceMarket.REAL_TIME
        now = self.clock.time()
        first, last = delivery_dates(now, 1 if real_time else 0, 0 if real_time else 1)
        parse = parse_real_time if real_time else parse_day_ahead
        intervals: list[PriceInterval] = []
        page, pages = 1, 1
        while page <= min(pages, _MAX_PAGES):
            params = {
                "deliveryDateFrom": first,
                "deliveryDateTo": last,
                "settlementPoint": self.settlement_point,
                "page": str(page),
                "size": "1000",
            }
            query = "&".join(f"{k}={v}" for k, v in params.items())
            sep = "&" if "?" in self.url else "?"
            body = await self.get(f"{self.url}{sep}{query}")
            report = parse(body, self.settlement_point)
            self._bad_rows(report)
            intervals.extend(report.intervals)
            pages = report.pages
            page += 1
        intervals.sort(key=lambda i: i.start)
        return self.updates(intervals)


class PriceFeed(_PriceSource):
    """The generic CSV/JSON feed (controller.signals.price_url)."""

    async def poll(self) -> list[Update]:
        return self.updates(parse_price_feed(await self.get()))
