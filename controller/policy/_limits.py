"""The most the site may draw in this plan: the cap, events and the relay latch."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from controller.policy._levers import megawatts
from controller.policy.grid import EventKind, Grid, GridEvent
from controller.policy.settings import PolicySettings

__all__ = ["Latch", "SiteLimit", "clock", "relay_latch", "site_limit"]


def clock(at: float, settings: PolicySettings) -> str:
    zone = timezone(timedelta(seconds=settings.utc_offset_s)) if settings.utc_offset_s else UTC
    return datetime.fromtimestamp(at, tz=zone).strftime("%H:%M")


@dataclass(frozen=True, slots=True)
class SiteLimit:
    limit_w: float
    label: str  # the binding constraint, in words
    event_id: str | None  # the binding event, if an event binds
    active_event_ids: frozenset[str]


@dataclass(frozen=True, slots=True)
class Latch:
    latched_at: float | None
    note: str | None

    @property
    def latched(self) -> bool:
        return self.latched_at is not None


def relay_latch(
    grid: Grid, now: float, latched_at: float | None, settings: PolicySettings
) -> Latch:
    """Trip latches; only an explicit clear after the trip, with the relay reset, unlatches."""
    tripped = grid.relay_tripped or any(
        e.kind is EventKind.RELAY_TRIP and e.is_active(now) for e in grid.events
    )
    if tripped and latched_at is None:
        latched_at = now
    cleared = grid.relay_cleared_at
    if latched_at is not None and not tripped and cleared is not None and cleared >= latched_at:
        latched_at = None
    if latched_at is None:
        return Latch(None, None)
    return Latch(
        latched_at,
        f"relay trip latched at {clock(latched_at, settings)}: nothing restored until cleared",
    )


def _label(event: GridEvent, settings: PolicySettings) -> str:
    level = megawatts(event.level_mw) if event.level_mw is not None else None
    if event.kind is EventKind.FOUR_CP:
        window = f"{clock(event.start, settings)}-{clock(event.end, settings)}"
        return f"4CP window {event.event_id} {window}" + (f" needs {level}" if level else "")
    kind = {
        EventKind.INSTRUCTED: "grid event",
        EventKind.PRICE: "price event",
        EventKind.RELAY_TRIP: "relay trip",
    }[event.kind]
    return f"{kind} {event.event_id} needs {level} by {clock(event.due, settings)}"


def site_limit(grid: Grid, now: float, settings: PolicySettings, flex_floor_w: float) -> SiteLimit:
    """``flex_floor_w``: site draw with every flexible lever shed (for 4CP windows without a level).

    An event known ahead of time limits the plan early enough that the declared
    ramp-down rate reaches its level by its due time, with one plan of slack.
    """
    # Everything here limits the metered site; the devices get what the rest leaves.
    reserve = settings.reserve_mw * 1e6 + grid.other_load_w
    best = grid.interconnect_cap_mw * 1e6 - reserve
    label = f"interconnect cap {megawatts(grid.interconnect_cap_mw)}"
    if settings.reserve_mw:
        label += f" less reserve {megawatts(settings.reserve_mw)}"
    binding: str | None = None
    rate = grid.ramp_down_mw_per_min
    active = frozenset(e.event_id for e in grid.events if e.is_active(now))
    for event in sorted(grid.events, key=lambda e: e.event_id):
        if not event.constrains(now):
            continue
        if event.level_mw is None:
            if event.kind is not EventKind.FOUR_CP:
                continue  # a relay trip without a level only latches
            level_w = flex_floor_w
        else:
            level_w = event.level_mw * 1e6 - reserve
        lead_s = event.due - now - 2 * settings.plan_interval_s
        if rate is None:
            limit = level_w if (event.is_active(now) or lead_s < 0) else math.inf
        else:
            limit = level_w + rate * 1e6 / 60 * max(0.0, lead_s)
        if limit < best:
            best, label, binding = limit, _label(event, settings), event.event_id
    return SiteLimit(max(best, 0.0), label, binding, active)
