"""The replay's signal source: the window's inputs, each at its simulated time, through
the command service, as the live signal sources deliver theirs.

What the controller is told, and when, is what the fast mode's policy is handed
(:class:`~controller.backtest.strategies.Hashpivot`): each settlement interval's price
from the interval's start, stamped with that start (the fast mode's convention; a live
real-time feed settles an interval at its end), the hashprice with it, the day-ahead
curve from the current hour on, each grid event at its start (a 4CP window a day
ahead). The service journals each before it takes effect and plans at once, as for
any signal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from controller.backtest.inputs import FOUR_CP_NOTICE_S, Inputs
from controller.backtest.programs import ProgramEvent
from controller.policy import EventKind
from controller.service.control import ControlService, EventSpec

__all__ = ["SOURCE", "Step", "schedule"]

SOURCE = "backtest"
_ACTOR = f"signal:{SOURCE}"

Action = Callable[[ControlService], Awaitable[object]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    at: float  # unix seconds on the simulated clock
    what: str  # for the log and the progress line
    action: Action


def _price(inputs: Inputs, i: int) -> Step:
    at = inputs.start + i * inputs.step_s
    price, hashprice = inputs.prices.values[i], inputs.hashprice.at(at)

    async def send(service: ControlService) -> None:
        await service.set_economics(
            power_price=price, hashprice=hashprice, as_of=at, source=SOURCE, actor=_ACTOR
        )

    return Step(at=at, what=f"price ${price:,.2f}/MWh", action=send)


def _forecast(inputs: Inputs, at: float) -> Step | None:
    points = inputs.forecast_points(at)
    if not points or inputs.forecast is None:
        return None
    step_s = inputs.forecast.step_s
    curve = [(p.at, p.at + step_s, p.usd_per_mwh) for p in points]

    async def send(service: ControlService) -> None:
        await service.set_forecast(curve, as_of=at, source=SOURCE, actor=_ACTOR)

    return Step(at=at, what=f"day-ahead curve ({len(curve)} h)", action=send)


def _event(inputs: Inputs, event: ProgramEvent) -> Step:
    notice = FOUR_CP_NOTICE_S if event.kind is EventKind.FOUR_CP else 0.0
    at = max(inputs.start, event.start - notice)
    spec = EventSpec(
        kind=event.kind,
        level_mw=event.level_mw,
        start=event.start,
        end=event.end,
        deadline=event.due if event.kind is EventKind.INSTRUCTED else None,
        event_id=event.event_id,
        source=SOURCE,
    )

    async def send(service: ControlService) -> None:
        await service.create_event(spec, _ACTOR)

    return Step(at=at, what=f"{event.kind.value} event {event.event_id}", action=send)


def schedule(inputs: Inputs) -> list[Step]:
    """Every input of the window, in time order (prices before the events of an instant,
    as the fast mode's policy sees both at once)."""
    steps = [_price(inputs, i) for i in range(inputs.steps)]
    f = inputs.forecast
    if f is not None:
        # The curve moves on each day-ahead hour: sent again at each hour's start.
        hours = {
            max(inputs.start, f.start + f.index(t) * f.step_s)
            for t in (inputs.start + i * inputs.step_s for i in range(inputs.steps))
            if f.covers(t)
        }
        steps += [s for s in (_forecast(inputs, at) for at in sorted(hours)) if s is not None]
    steps += [_event(inputs, e) for e in inputs.events if e.kind is not EventKind.RELAY_TRIP]
    order = {"price": 0, "day-ahead": 1}
    return sorted(steps, key=lambda s: (s.at, order.get(s.what.split()[0], 2)))
