"""Grid inputs: the interconnect cap, demand-response events and declared ramp limits."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from controller.policy.errors import InvalidGrid
from controller.policy.stamped import Stamped

__all__ = ["EventKind", "Grid", "GridEvent"]


class EventKind(enum.StrEnum):
    INSTRUCTED = "instructed"  # ERS, ECRS, RRS by instruction: be at level_mw by the deadline
    FOUR_CP = "4cp"  # forecast coincident peak: be off (or at level_mw) for the window
    PRICE = "price"  # price-based DR: pays for every MWh not drawn; level optional
    RELAY_TRIP = "relay_trip"  # an under-frequency relay tripped: latch, restore nothing


@dataclass(frozen=True, slots=True, kw_only=True)
class GridEvent(Stamped):
    """One event. Times are unix seconds; the event applies on ``[start, end)``.

    ``level_mw`` is the most the site may draw. For a 4CP window without a level,
    every flexible load is shed and contracted AI keeps running. ``deadline`` is when
    the level must be reached: an instruction's deadline, otherwise ``start``.
    """

    event_id: str
    kind: EventKind
    start: float
    end: float
    level_mw: float | None = None
    deadline: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start) and math.isfinite(self.end) and self.end > self.start):
            raise InvalidGrid(f"event {self.event_id}: end must follow start")
        if self.level_mw is not None and not (math.isfinite(self.level_mw) and self.level_mw >= 0):
            raise InvalidGrid(f"event {self.event_id}: level must be a non-negative number")
        if self.kind is EventKind.INSTRUCTED and self.level_mw is None:
            raise InvalidGrid(f"instructed event {self.event_id} needs a level")
        if self.deadline is not None and not (self.start <= self.deadline <= self.end):
            raise InvalidGrid(f"event {self.event_id}: deadline must lie within the event")

    @property
    def due(self) -> float:
        """When the level must be met."""
        return self.deadline if self.deadline is not None else self.start

    def is_active(self, now: float) -> bool:
        return self.start <= now < self.end

    def constrains(self, now: float) -> bool:
        """Whether the event limits this plan: active, or ahead of us and not over."""
        return now < self.end and (self.kind is not EventKind.PRICE or self.level_mw is not None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Grid(Stamped):
    """The site's grid position. Ramp limits of ``None`` mean the site declared none."""

    interconnect_cap_mw: float
    events: tuple[GridEvent, ...] = ()
    ramp_up_mw_per_min: float | None = None
    ramp_down_mw_per_min: float | None = None
    relay_tripped: bool = False  # the relay contact reads tripped right now
    relay_cleared_at: float | None = None  # when an operator last explicitly cleared the latch
    # Site load no device accounts for (cooling, offices, losses, estimate error): the meter
    # less the devices' telemetry. Caps and event levels apply to the metered site, so this
    # comes off the devices' budget.
    other_load_w: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.interconnect_cap_mw) and self.interconnect_cap_mw >= 0):
            raise InvalidGrid("interconnect cap must be a non-negative number")
        for name, rate in (("up", self.ramp_up_mw_per_min), ("down", self.ramp_down_mw_per_min)):
            if rate is not None and not (math.isfinite(rate) and rate > 0):
                raise InvalidGrid(f"ramp-{name} limit must be positive")
        if not (math.isfinite(self.other_load_w) and self.other_load_w >= 0):
            raise InvalidGrid("other site load must be a non-negative number of watts")
        ids = [e.event_id for e in self.events]
        if len(set(ids)) != len(ids):
            raise InvalidGrid("event ids must be unique")
