"""The bounded outbound queue between the controller and the broker connection.

Producers (the sweep, the status ticker, the command handler) only ever put, never
wait, so a down, slow or refusing broker cannot stall the control loop or the API.
Three lanes:

- state: retained documents (status, plan, signals, discovery), one per topic,
  the newest replacing any unsent one; after a reconnect all are sent again;
- reliable: event lifecycle and command replies, in order, never dropped;
- telemetry: bounded; when full the oldest message is dropped and counted.
"""

from __future__ import annotations

import asyncio
import enum
from collections import deque
from dataclasses import dataclass

__all__ = ["Lane", "Message", "Outbox"]


class Lane(enum.Enum):
    STATE = enum.auto()
    RELIABLE = enum.auto()
    TELEMETRY = enum.auto()


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    lane: Lane


class Outbox:
    def __init__(self, telemetry_limit: int) -> None:
        self._limit = telemetry_limit
        self._state: dict[str, Message] = {}  # unsent, by topic
        self._sent_state: dict[str, Message] = {}  # last sent, to republish on reconnect
        self._reliable: deque[Message] = deque()
        self._telemetry: deque[Message] = deque()
        self._ready = asyncio.Event()
        self.dropped_telemetry = 0

    def __len__(self) -> int:
        return len(self._state) + len(self._reliable) + len(self._telemetry)

    def put(self, message: Message) -> None:
        if message.lane is Lane.STATE:
            self._state.pop(message.topic, None)  # the newest goes to the back
            self._state[message.topic] = message
        elif message.lane is Lane.RELIABLE:
            self._reliable.append(message)
        else:
            while len(self._telemetry) >= self._limit:
                self._telemetry.popleft()
                self.dropped_telemetry += 1
            self._telemetry.append(message)
        self._ready.set()

    def drop_telemetry(self) -> int:
        """Discard every queued telemetry message (stale once the broker is back)."""
        count = len(self._telemetry)
        self._telemetry.clear()
        self.dropped_telemetry += count
        return count

    def count_dropped(self, message: Message) -> None:
        """A telemetry message taken but not delivered (the connection failed under it)."""
        self.dropped_telemetry += 1

    def take(self) -> Message | None:
        """The next message: replies and events first, then state, then telemetry."""
        if self._reliable:
            return self._reliable.popleft()
        if self._state:
            topic = next(iter(self._state))
            message = self._state.pop(topic)
            self._sent_state[topic] = message
            return message
        if self._telemetry:
            return self._telemetry.popleft()
        self._ready.clear()
        return None

    def put_back(self, message: Message) -> None:
        """A reliable or state message whose send failed goes first next time."""
        if message.lane is Lane.RELIABLE:
            self._reliable.appendleft(message)
        elif message.lane is Lane.STATE and message.topic not in self._state:
            self._state[message.topic] = message
        elif message.lane is Lane.TELEMETRY:
            self.count_dropped(message)
        self._ready.set()

    def resend_state(self) -> None:
        """After a reconnect: every retained document goes out again (the broker may be new)."""
        for topic, message in self._sent_state.items():
            self._state.setdefault(topic, message)
        if self._state:
            self._ready.set()

    async def wait(self) -> None:
        await self._ready.wait()
