"""Grid events from signal sources: provider events with versions, relay trips, 4CP flags.

The hub routes event-like updates here after its own checks. Each provider event id maps
to one controller event (``<source>-<id>``); a provider's version (OpenADR
modificationNumber, a webhook's sequence) must grow, or the update is a duplicate or out of
order. A relay trip creates a latching relay-trip event at once; a reset only notes itself.
A 4CP flag creates (or withdraws) the window's event.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from dataclasses import dataclass, field
from typing import Any

from controller import policy
from controller.journal.kinds import JournalKind
from controller.service.control import ControlService, EventSpec
from controller.signals.errors import BadSignal, ErrorKind
from controller.signals.updates import EventAction, EventUpdate, FlagUpdate, RelayUpdate, Update

__all__ = ["GridEvents", "Limits"]

log = logging.getLogger(__name__)

_ID_SAFE = re.compile(r"[^A-Za-z0-9_.:-]")
# What a new event takes from the update that creates it, under the same names.
_CARRIED = ("kind", "level_mw", "start", "end", "deadline")


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """What counts as absurd. Prices: ERCOT's offer cap is $5,000/MWh plus adders."""

    min_price_usd_per_mwh: float = -10_000.0
    max_price_usd_per_mwh: float = 100_000.0
    max_hashprice_usd_per_ph_day: float = 100_000.0
    max_level_mw: float = 100_000.0
    clock_skew_s: float = 300.0  # how far ahead of our clock an origin time may be
    max_event_s: float = 7 * 86_400.0  # longer events are refused as absurd


@dataclass(slots=True)
class GridEvents:
    service: ControlService
    limits: Limits
    _sequences: dict[str, int] = field(default_factory=dict)  # event id -> provider version
    _relays: dict[str, bool] = field(default_factory=dict)

    def event_id(self, source: str, provider_event_id: str) -> str:
        return f"{source}-{_ID_SAFE.sub('_', provider_event_id)[:80]}"

    def _check(self, update: EventUpdate, now: float) -> None:
        level = update.level_mw
        if level is not None and not (
            math.isfinite(level) and 0 <= level <= self.limits.max_level_mw
        ):
            raise BadSignal(f"level {level!r} MW is not a plausible site draw", ErrorKind.ABSURD)
        for name in ("start", "end", "deadline"):
            value = getattr(update, name)
            if value is not None and not math.isfinite(value):
                raise BadSignal(f"{name} is not a time", ErrorKind.MALFORMED)
        start = update.start if update.start is not None else now
        if update.end is not None:
            if update.end <= start:
                raise BadSignal("event ends before it starts", ErrorKind.MALFORMED)
            if update.end <= now:
                raise BadSignal("event is already over", ErrorKind.PAST_DEADLINE)
            if update.end - start > self.limits.max_event_s:
                raise BadSignal("event lasts longer than a week", ErrorKind.ABSURD)
        if update.deadline is not None and update.deadline < now:
            raise BadSignal("deadline has passed", ErrorKind.PAST_DEADLINE)

    async def apply(self, update: Update, now: float) -> bool:
        """An event, relay or flag update; a contact only moves the contact time (False)."""
        if isinstance(update, EventUpdate):
            return await self.event(update, now)
        if isinstance(update, RelayUpdate):
            return await self.relay(update, now)
        if isinstance(update, FlagUpdate):
            return await self.flag(update, now)
        return False

    async def event(self, update: EventUpdate, now: float) -> bool:
        event_id = self.event_id(update.source, update.provider_event_id)
        known = self.service.state.events.get(event_id)
        last = self._sequences.get(event_id)
        if known is not None and last is not None and update.sequence <= last:
            kind = ErrorKind.DUPLICATE if update.sequence == last else ErrorKind.OUT_OF_ORDER
            raise BadSignal(f"event {event_id} version {update.sequence} is not newer", kind)
        actor = f"signal:{update.source}"
        detail: dict[str, Any] = {
            "origin_at": update.origin_at,
            "arrived_at": now,
            "sequence": update.sequence,
        }
        if update.action is EventAction.CANCEL:
            if known is None:
                raise BadSignal(
                    f"cancellation of unknown event {event_id}", ErrorKind.UNKNOWN_EVENT
                )
            await self.service.cancel_event(event_id, actor, detail=detail)
        else:
            self._check(update, now)
            if known is None:
                carried: dict[str, Any] = {name: getattr(update, name) for name in _CARRIED}
                spec = EventSpec(event_id=event_id, source=update.source, **carried)
                await self.service.create_event(spec, actor, detail=detail)
            else:
                if known.cancelled_at is not None:
                    raise BadSignal(f"event {event_id} was cancelled", ErrorKind.OUT_OF_ORDER)
                # The service changes level, deadline and end; a moved start is taken as
                # the provider's new end and deadline only (the event is already known).
                changes = {"level_mw": update.level_mw, "deadline": update.deadline}
                if update.end is not None:
                    changes["end"] = update.end
                await self.service.update_event(event_id, changes, actor, detail=detail)
        self._sequences[event_id] = update.sequence
        return True

    async def relay(self, update: RelayUpdate, now: float) -> bool:
        was = self._relays.get(update.source, False)
        self._relays[update.source] = update.tripped
        if update.tripped == was:
            return False  # the contact reads as before: only its contact time moves
        if update.tripped:
            log.warning("signal %s: relay tripped: shedding the site and latching", update.source)
            event_id = self.event_id(update.source, f"trip-{update.origin_at:.3f}")
            spec = EventSpec(  # from now, latched until an operator clears it
                kind=policy.EventKind.RELAY_TRIP,
                level_mw=0.0,
                event_id=event_id,
                source=update.source,
            )
            await self.service.create_event(
                spec,
                f"signal:{update.source}",
                detail={"origin_at": update.origin_at, "arrived_at": now},
            )
        else:
            log.info(
                "signal %s: relay contact reset; the latch holds until an operator clears it",
                update.source,
            )
            await self.service.note_signal(
                JournalKind.SIGNAL_RELAY_RESET,
                update.source,
                {"origin_at": update.origin_at, "arrived_at": now},
            )
        return True

    async def flag(self, update: FlagUpdate, now: float) -> bool:
        if not (math.isfinite(update.start) and math.isfinite(update.end)):
            raise BadSignal("flag window is not a time", ErrorKind.MALFORMED)
        if update.end <= update.start or update.end - update.start > 86_400:
            raise BadSignal("flag window is not a plausible interval", ErrorKind.ABSURD)
        if update.end <= now:
            raise BadSignal("flag window is already over", ErrorKind.PAST_DEADLINE)
        provider_id = f"4cp-{update.start:.0f}"
        event_id = self.event_id(update.source, provider_id)
        known = self.service.state.events.get(event_id)
        sequence = self._sequences.get(event_id, -1) + 1  # each flag change is a new version
        version = functools.partial(
            EventUpdate,
            source=update.source,
            origin_at=update.origin_at,
            provider_event_id=provider_id,
            sequence=sequence,
        )
        if update.active:
            if known is not None and known.cancelled_at is None:
                return True  # the same window flagged again: nothing changes
            if known is not None:
                raise BadSignal(f"window {event_id} was withdrawn before", ErrorKind.OUT_OF_ORDER)
            window = version(
                action=EventAction.CREATE,
                kind=policy.EventKind.FOUR_CP,
                start=update.start,
                end=update.end,
            )
            return await self.event(window, now)
        if known is None or known.cancelled_at is not None:
            return True  # no window to withdraw
        return await self.event(version(action=EventAction.CANCEL), now)
