"""Everything a backtest replays, besides the site: prices, hashprice, programs, contract."""

from __future__ import annotations

from dataclasses import dataclass, field

from controller.backtest.programs import Contract, ProgramEvent
from controller.backtest.series import PriceSeries
from controller.policy import EventKind, GridEvent, PricePoint

__all__ = ["FOUR_CP_NOTICE_S", "Inputs"]

FOUR_CP_NOTICE_S = 86_400.0  # 4CP forecasts are published the day before


@dataclass(frozen=True, slots=True, kw_only=True)
class Inputs:
    prices: PriceSeries  # real-time, 15-minute settlement intervals
    hashprice: PriceSeries
    forecast: PriceSeries | None = None  # day-ahead, hourly
    events: tuple[ProgramEvent, ...] = ()
    contract: Contract = field(default_factory=Contract)

    @property
    def start(self) -> float:
        return self.prices.start

    @property
    def end(self) -> float:
        return self.prices.end

    @property
    def step_s(self) -> float:
        return self.prices.step_s

    @property
    def steps(self) -> int:
        return len(self.prices.values)

    def known_events(self, now: float) -> tuple[GridEvent, ...]:
        """The grid events the controller knows of at ``now``, as the policy takes them.

        An instruction or a relay trip is known from its start; a 4CP window from the
        day-ahead forecast; nothing is known once over.
        """
        out = []
        for e in self.events:
            notice = FOUR_CP_NOTICE_S if e.kind is EventKind.FOUR_CP else 0.0
            if e.start - notice <= now < e.end:
                out.append(
                    GridEvent(
                        event_id=e.event_id,
                        kind=e.kind,
                        start=e.start,
                        end=e.end,
                        as_of=min(now, e.start),
                        source="backtest",
                        level_mw=e.level_mw,
                        deadline=e.due if e.kind is EventKind.INSTRUCTED else None,
                    )
                )
        return tuple(out)

    def relay(self, now: float) -> tuple[bool, float | None]:
        """Whether a relay trip is on now, and when the last one was cleared (its end)."""
        tripped, cleared = False, None
        for e in self.events:
            if e.kind is EventKind.RELAY_TRIP:
                if e.active(now):
                    tripped = True
                elif e.end <= now:
                    cleared = e.end if cleared is None else max(cleared, e.end)
        return tripped, cleared

    def forecast_points(self, now: float, hours: int = 24) -> tuple[PricePoint, ...]:
        f = self.forecast
        if f is None or not f.covers(now):
            return ()
        first = f.index(now)
        return tuple(
            PricePoint(f.start + i * f.step_s, f.values[i])
            for i in range(first, min(len(f.values), first + hours))
        )
