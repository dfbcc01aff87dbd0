"""The topic schema (docs/mqtt.md), every topic under one configurable prefix."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["CommandName", "EventPhase", "Retained", "Topics"]


class Retained(enum.StrEnum):
    """The topics that hold one retained state each (docs/mqtt.md), under the prefix."""

    ONLINE = "online"
    STATUS = "status"
    PLAN = "plan"
    SIGNALS = "signals"


class CommandName(enum.StrEnum):
    """The commands accepted on ``<prefix>cmd/<name>``."""

    EVENT_CREATE = "event/create"
    EVENT_UPDATE = "event/update"
    EVENT_CANCEL = "event/cancel"
    OVERRIDE_SET = "override/set"
    OVERRIDE_CLEAR = "override/clear"
    PAUSE = "pause"
    RESUME = "resume"
    PRICES = "prices"


class EventPhase(enum.StrEnum):
    """A grid event's lifecycle as published on ``<prefix>events/<phase>``."""

    CREATED = "created"
    CONFIRMED = "confirmed"  # the level first met on the meter (or summed telemetry)
    MET = "met"  # at its deadline the level had been met
    MISSED = "missed"  # at its deadline the level had not been met
    ENDED = "ended"  # over or cancelled; carries the compliance report


@dataclass(frozen=True, slots=True)
class Topics:
    prefix: str

    def of(self, state: Retained) -> str:
        return f"{self.prefix}{state.value}"

    @property
    def commands(self) -> str:
        """The subscription filter for every command."""
        return f"{self.prefix}cmd/#"

    def telemetry(self, chunk: int) -> str:
        return f"{self.prefix}telemetry/{chunk}"

    def event(self, phase: EventPhase) -> str:
        return f"{self.prefix}events/{phase.value}"

    def reply(self, command_id: str) -> str:
        return f"{self.prefix}reply/{command_id}"

    def command_name(self, topic: str) -> CommandName | None:
        """The command a topic names, or None for a topic outside the schema."""
        head = f"{self.prefix}cmd/"
        if not topic.startswith(head):
            return None
        try:
            return CommandName(topic[len(head) :])
        except ValueError:
            return None
