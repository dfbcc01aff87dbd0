"""What operators and grid signals told the controller: events, overrides, pause, prices.

This state is rebuilt from the journal on start (:meth:`ControlState.replay`), so
the journal is its only store: every change goes through :meth:`ControlState.apply`
with the same entry that the journal keeps, and a restarted daemon arrives at
exactly the state the killed one had.
"""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from controller import policy
from controller.journal.kinds import JournalKind
from controller.journal.store import Entry

__all__ = [
    "ControlState",
    "EconomicsUpdate",
    "EventRecord",
    "Override",
    "OverrideAction",
]

log = logging.getLogger(__name__)


class OverrideAction(enum.StrEnum):
    FORCE_SLEEP = "force_sleep"  # sleep now and stay asleep, whatever the plan says
    EXCLUDE = "exclude"  # leave alone: no command in either direction


OVERRIDE_ACTIONS = tuple(action.value for action in OverrideAction)


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRecord:
    """A grid event as the controller keeps it; ``cancelled_at`` ends it early."""

    event_id: str
    kind: policy.EventKind
    start: float
    end: float
    level_mw: float | None
    deadline: float | None
    source: str
    created_at: float
    updated_at: float
    cancelled_at: float | None = None

    def to_policy(self) -> policy.GridEvent:
        end = self.end if self.cancelled_at is None else min(self.end, self.cancelled_at)
        end = max(end, self.start + 1e-3)
        deadline = None if self.deadline is None else min(max(self.deadline, self.start), end)
        return policy.GridEvent(
            event_id=self.event_id,
            kind=self.kind,
            start=self.start,
            end=end,
            as_of=self.updated_at,
            source=self.source,
            level_mw=self.level_mw,
            deadline=deadline,
        )

    def is_over(self, now: float) -> bool:
        return self.cancelled_at is not None or now >= self.end

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EventRecord:
        values = dict(data)
        values["kind"] = policy.EventKind(values["kind"])
        return cls(**values)


@dataclass(frozen=True, slots=True, kw_only=True)
class Override:
    device_id: str
    action: OverrideAction
    expires_at: float | None
    reason: str
    set_at: float
    actor: str

    def active(self, now: float) -> bool:
        return self.expires_at is None or now < self.expires_at

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class EconomicsUpdate:
    """Prices pushed through the API, each stamped with its time and source."""

    power_price_usd_per_mwh: float | None = None
    hashprice_usd_per_ph_day: float | None = None
    as_of: float = 0.0
    source: str = "api"


@dataclass(slots=True, kw_only=True)
class ControlState:
    events: dict[str, EventRecord]
    overrides: dict[str, Override]
    paused: bool = False
    paused_reason: str = ""
    relay_cleared_at: float | None = None
    price: EconomicsUpdate | None = None
    hashprice: EconomicsUpdate | None = None
    memory: policy.PolicyMemory | None = None
    # The price forecast (start, end, USD/MWh) and its origin, from a signal source.
    forecast: tuple[tuple[float, float, float], ...] = ()
    forecast_as_of: float = 0.0
    forecast_source: str = ""
    # Signal sources past their staleness limit, with why (kept by the signal hub, not
    # journaled: ages start afresh with the daemon).
    stale_signals: dict[str, str] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> ControlState:
        return cls(events={}, overrides={})

    def active_events(self, now: float) -> list[EventRecord]:
        """Events that still constrain a plan (ahead of us or running), oldest first."""
        return sorted(
            (e for e in self.events.values() if not e.is_over(now)), key=lambda e: e.start
        )

    def live_overrides(self, now: float) -> dict[str, Override]:
        return {k: o for k, o in self.overrides.items() if o.active(now)}

    def policy_events(self, now: float) -> tuple[policy.GridEvent, ...]:
        # Ended events are dropped; the relay latch lives in the policy memory, not here.
        return tuple(e.to_policy() for e in self.active_events(now))

    def replay(self, entries: Iterable[Entry]) -> int:
        count = 0
        for entry in entries:
            self.apply(entry.kind, entry.subject, entry.data, entry.at, entry.actor)
            count += 1
        return count

    def apply(
        self, kind: str, subject: str, data: Mapping[str, Any], at: float, actor: str
    ) -> None:
        """One state change, from the API now or from the journal on start."""
        if kind in {JournalKind.EVENT_CREATED, JournalKind.EVENT_UPDATED}:
            self.events[subject] = EventRecord.from_json(data["event"])
        elif kind == JournalKind.EVENT_CANCELLED:
            event = self.events.get(subject)
            if event is not None and event.cancelled_at is None:
                self.events[subject] = replace(event, cancelled_at=at, updated_at=at)
        elif kind == JournalKind.OVERRIDE_SET:
            try:
                action = OverrideAction(data["action"])
            except (KeyError, ValueError):
                log.warning(
                    "ignoring an override with an unknown action in the journal: %r",
                    data.get("action"),
                )
                return
            self.overrides[subject] = Override(
                device_id=subject,
                action=action,
                expires_at=data.get("expires_at"),
                reason=str(data.get("reason", "")),
                set_at=at,
                actor=actor,
            )
        elif kind == JournalKind.OVERRIDE_CLEARED:
            self.overrides.pop(subject, None)
        elif kind == JournalKind.CONTROL_PAUSED:
            self.paused, self.paused_reason = True, str(data.get("reason", ""))
        elif kind == JournalKind.CONTROL_RESUMED:
            self.paused, self.paused_reason = False, ""
        elif kind == JournalKind.RELAY_CLEARED:
            self.relay_cleared_at = at
            for event_id, event in list(self.events.items()):
                if event.kind is policy.EventKind.RELAY_TRIP and event.cancelled_at is None:
                    self.events[event_id] = replace(event, cancelled_at=at, updated_at=at)
        elif kind == JournalKind.ECONOMICS_UPDATED:
            self._economics(data)
        elif kind == JournalKind.ECONOMICS_FORECAST:
            self._forecast(data)
        elif kind == JournalKind.MEMORY:
            try:
                self.memory = policy.PolicyMemory.from_json(str(data["json"]))
            except policy.InvalidMemory as exc:
                log.warning("ignoring unreadable policy memory in the journal: %s", exc)

    def _forecast(self, data: Mapping[str, Any]) -> None:
        try:
            points = tuple((float(a), float(b), float(p)) for a, b, p in data.get("intervals", ()))
        except (TypeError, ValueError):
            log.warning("ignoring an unreadable price forecast in the journal")
            return
        if all(math.isfinite(v) for point in points for v in point):
            self.forecast = points
            self.forecast_as_of = float(data.get("as_of", 0.0))
            self.forecast_source = str(data.get("source", ""))

    def _economics(self, data: Mapping[str, Any]) -> None:
        as_of, source = float(data["as_of"]), str(data.get("source", "api"))
        price = data.get("power_price_usd_per_mwh")
        if price is not None and math.isfinite(float(price)):
            self.price = EconomicsUpdate(
                power_price_usd_per_mwh=float(price), as_of=as_of, source=source
            )
        hashprice = data.get("hashprice_usd_per_ph_day")
        if hashprice is not None and math.isfinite(float(hashprice)):
            self.hashprice = EconomicsUpdate(
                hashprice_usd_per_ph_day=float(hashprice), as_of=as_of, source=source
            )
