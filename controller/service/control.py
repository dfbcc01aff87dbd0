"""The command service: what the inputs and outputs may ask for (events, overrides,
pause, prices, relay acknowledgement), shared by the HTTP API, MQTT, the signal sources
and the demo.

Every change is written to the journal and committed *before* it takes effect and
before the caller is answered, so an accepted event or override survives a
``kill -9`` one instant later; then the state applies the same entry the journal
replays on start, and the loop plans at once.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from controller import policy
from controller.clock import Clock
from controller.errors import ControllerError
from controller.journal.kinds import JournalKind
from controller.journal.store import Journal
from controller.state.control import (
    OVERRIDE_ACTIONS,
    ControlState,
    EventRecord,
    Override,
    OverrideAction,
)
from controller.state.fleet import Fleet

__all__ = ["ControlService", "EventInThePast", "EventSpec", "InvalidRequest", "NotFound"]

_FAR_FUTURE_S = 10 * 365 * 86_400.0


class InvalidRequest(ControllerError):
    """The request is well formed but cannot be carried out (HTTP 409/422)."""


class EventInThePast(InvalidRequest):
    """The event would be over before it arrived (a clock or unit mistake: 1970, ms)."""


class NotFound(ControllerError):
    """No such event or device (HTTP 404)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EventSpec:
    kind: policy.EventKind
    level_mw: float | None = None
    start: float | None = None  # default: now
    end: float | None = None  # default: open-ended for trips, an hour otherwise
    deadline: float | None = None
    within_s: float | None = None  # deadline as seconds from start
    event_id: str | None = None
    source: str = "api"


class ControlService:
    def __init__(
        self,
        fleet: Fleet,
        state: ControlState,
        journal: Journal,
        *,
        trigger: Callable[[str], None],
        on_event: Callable[[EventRecord], None] | None = None,
        clock: Clock,
    ) -> None:
        self.clock = clock  # stamps what is recorded: arrival, the default start and as_of
        self.fleet = fleet
        self.state = state
        self.journal = journal
        # Plans again at once (the control loop's trigger), after each accepted change.
        self._trigger = trigger
        # Called after an event is accepted, before the loop plans for it (the baseline).
        self._on_event = on_event

    async def _record(
        self,
        kind: JournalKind,
        subject: str,
        data: Mapping[str, Any],
        actor: str,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        # ``detail``: what a signal source adds (its time of origin, time of arrival).
        if detail:
            data = {**detail, **data}
        at = self.clock.time()
        self.journal.append(kind, subject, data, actor=actor, at=at)
        await self.journal.commit()
        self.state.apply(kind, subject, data, at, actor)
        self._trigger(kind)

    def replan(self, reason: str) -> None:
        """Plan again at once for a change that is not journaled (a signal gone stale)."""
        self._trigger(reason)

    # ---- events --------------------------------------------------------------------

    async def create_event(
        self, spec: EventSpec, actor: str, *, detail: Mapping[str, Any] | None = None
    ) -> EventRecord:
        now = self.clock.time()
        event_id = spec.event_id or f"{spec.kind.value}-{uuid.uuid4().hex[:8]}"
        if event_id in self.state.events:
            raise InvalidRequest(f"event {event_id} exists; update or cancel it")
        start = now if spec.start is None else spec.start
        default_end = _FAR_FUTURE_S if spec.kind is policy.EventKind.RELAY_TRIP else 3600.0
        end = spec.end if spec.end is not None else start + default_end
        deadline = spec.deadline
        if deadline is None and spec.within_s is not None:
            deadline = start + spec.within_s
        record = EventRecord(
            event_id=event_id,
            kind=spec.kind,
            start=start,
            end=end,
            level_mw=spec.level_mw,
            deadline=deadline,
            source=spec.source,
            created_at=now,
            updated_at=now,
        )
        _validate(record)
        if record.end <= now:
            raise EventInThePast(
                f"event {event_id} ends at {_utc(record.end)}, before now ({_utc(now)})"
            )
        await self._record(
            JournalKind.EVENT_CREATED, event_id, {"event": record.as_json()}, actor, detail
        )
        if self._on_event is not None:
            self._on_event(record)
        return record

    async def update_event(
        self,
        event_id: str,
        changes: Mapping[str, float | None],
        actor: str,
        *,
        detail: Mapping[str, Any] | None = None,
    ) -> EventRecord:
        event = self.event(event_id)
        if event.is_over(self.clock.time()):
            raise InvalidRequest(f"event {event_id} is over")
        unknown = set(changes) - _PATCHABLE
        if unknown:
            raise InvalidRequest(f"cannot change {', '.join(sorted(unknown))}")
        if "end" in changes and changes["end"] is None:
            raise InvalidRequest("end cannot be removed; cancel the event to end it now")
        record = replace(event, updated_at=self.clock.time(), **dict(changes))  # type: ignore[arg-type]
        _validate(record)
        await self._record(
            JournalKind.EVENT_UPDATED, event_id, {"event": record.as_json()}, actor, detail
        )
        return record

    async def cancel_event(
        self, event_id: str, actor: str, *, detail: Mapping[str, Any] | None = None
    ) -> EventRecord:
        event = self.event(event_id)
        if event.cancelled_at is None:
            await self._record(JournalKind.EVENT_CANCELLED, event_id, {}, actor, detail)
        return self.state.events[event_id]

    def event(self, event_id: str) -> EventRecord:
        try:
            return self.state.events[event_id]
        except KeyError:
            raise NotFound(f"no event {event_id}") from None

    async def clear_relay(self, actor: str) -> None:
        """The operator confirms the relay is reset: the latch may be released."""
        await self._record(JournalKind.RELAY_CLEARED, "", {}, actor)

    # ---- overrides, pause, prices -------------------------------------------------------

    async def set_override(
        self, device_id: str, action: str, ttl_s: float | None, reason: str, actor: str
    ) -> Override:
        if device_id not in self.fleet.records:
            raise NotFound(f"no device {device_id}")
        try:
            chosen = OverrideAction(action)
        except ValueError:
            raise InvalidRequest(f"action must be one of {', '.join(OVERRIDE_ACTIONS)}") from None
        expires = None if ttl_s is None else self.clock.time() + ttl_s
        data = {"action": chosen.value, "expires_at": expires, "reason": reason}
        await self._record(JournalKind.OVERRIDE_SET, device_id, data, actor)
        return self.state.overrides[device_id]

    async def clear_override(self, device_id: str, actor: str) -> None:
        if device_id not in self.state.overrides:
            raise NotFound(f"no override on {device_id}")
        await self._record(JournalKind.OVERRIDE_CLEARED, device_id, {}, actor)

    async def pause(self, reason: str, actor: str) -> None:
        await self._record(JournalKind.CONTROL_PAUSED, "", {"reason": reason}, actor)

    async def resume(self, actor: str) -> None:
        await self._record(JournalKind.CONTROL_RESUMED, "", {}, actor)

    async def set_economics(
        self,
        *,
        power_price: float | None,
        hashprice: float | None,
        as_of: float | None,
        source: str,
        actor: str,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        if power_price is None and hashprice is None:
            raise InvalidRequest("give power_price_usd_per_mwh and/or hashprice_usd_per_ph_day")
        data = {
            "power_price_usd_per_mwh": power_price,
            "hashprice_usd_per_ph_day": hashprice,
            "as_of": self.clock.time() if as_of is None else as_of,
            "source": source,
        }
        await self._record(JournalKind.ECONOMICS_UPDATED, "", data, actor, detail)

    async def set_forecast(
        self,
        points: Sequence[tuple[float, float, float]],
        *,
        as_of: float,
        source: str,
        actor: str,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """A price forecast: (start, end, USD/MWh) intervals in time order."""
        data = {"intervals": [list(p) for p in points], "as_of": as_of, "source": source}
        await self._record(JournalKind.ECONOMICS_FORECAST, "", data, actor, detail)

    async def note_signal(self, kind: JournalKind, source: str, data: Mapping[str, Any]) -> None:
        """A signal's observation that changes no state but belongs in the record."""
        self.journal.append(kind, source, data, actor=f"signal:{source}", at=self.clock.time())
        await self.journal.commit()


_PATCHABLE = frozenset({"level_mw", "end", "deadline"})


def _utc(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))


def _validate(record: EventRecord) -> None:
    """Every field an event's plan will read is a finite number where one is needed; any
    caller (API, MQTT, signals) gets :class:`InvalidRequest`, never a TypeError."""
    for name in ("start", "end", "level_mw", "deadline"):
        value = getattr(record, name)
        if value is None and name in {"level_mw", "deadline"}:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidRequest(f"{name} must be a number, not {type(value).__name__}")
        if not math.isfinite(value):
            raise InvalidRequest(f"{name} must be finite")
    try:
        record.to_policy()
        policy.GridEvent(
            event_id=record.event_id,
            kind=record.kind,
            start=record.start,
            end=record.end,
            as_of=record.updated_at,
            source=record.source,
            level_mw=record.level_mw,
            deadline=record.deadline,
        )
    except policy.InvalidGrid as exc:
        raise InvalidRequest(str(exc)) from None
