"""Each grid event's lifecycle, read from the read model as transitions."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from controller.integrations.mqtt.topics import EventPhase
from controller.state.control import EventRecord

__all__ = ["LifecycleWatch", "Transition"]

_VERDICTS = {EventPhase.MET, EventPhase.MISSED}  # one of them, once


@dataclass(frozen=True, slots=True)
class Transition:
    event: EventRecord
    phase: EventPhase


class LifecycleWatch:
    """Created, first confirmation, met or missed at the deadline, ended: once each.

    ``seed()`` marks what is already past (a restarted daemon does not announce old
    news again); afterwards ``observe()`` returns only what is new.
    """

    def __init__(self, confirmed: Callable[[str], bool]) -> None:
        self._confirmed = confirmed
        self._seen: dict[str, set[EventPhase]] = {}

    def seed(self, events: Iterable[EventRecord], now: float) -> None:
        for transition in self.observe(events, now):
            del transition  # known already; nothing to announce

    def observe(self, events: Iterable[EventRecord], now: float) -> list[Transition]:
        out: list[Transition] = []
        for event in events:
            seen = self._seen.setdefault(event.event_id, set())
            for phase in self._phases(event, now):
                verdict = phase in _VERDICTS and bool(seen & _VERDICTS)
                if phase not in seen and not verdict:
                    seen.add(phase)
                    out.append(Transition(event, phase))
        return out

    def _phases(self, event: EventRecord, now: float) -> list[EventPhase]:
        phases = [EventPhase.CREATED]
        confirmed = event.level_mw is not None and self._confirmed(event.event_id)
        if confirmed:
            phases.append(EventPhase.CONFIRMED)
        if event.level_mw is not None and event.deadline is not None and now >= event.deadline:
            phases.append(EventPhase.MET if confirmed else EventPhase.MISSED)
        if event.is_over(now):
            phases.append(EventPhase.ENDED)
        return phases
