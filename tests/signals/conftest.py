"""A hub over the real command service and an in-memory journal, on a clock tests move."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import strategies as st

from controller.journal.store import Journal
from controller.service.control import ControlService
from controller.signals.errors import SignalError
from controller.signals.hub import SignalHub
from controller.signals.source import Cadence
from controller.signals.updates import Update
from controller.state.control import ControlState
from controller.state.fleet import Fleet

NOW = float(int(time.time()))  # the service stamps arrival with the wall clock

# What a fuzzed parser is first fed: any bytes, and any text as UTF-8.
RAW_BODIES = st.binary(max_size=400) | st.text(max_size=400).map(str.encode)

# A URL source's cadence where the test polls by hand (poll_once): the figures only bound.
BY_HAND = Cadence(interval_s=60, timeout_s=1, stale_after_s=3600)


class FakeClock:
    """Time stands still until a test moves it; sleeping yields to the loop."""

    def __init__(self, now: float = NOW) -> None:
        self.at = now

    def time(self) -> float:
        return self.at

    def monotonic(self) -> float:
        return self.at

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(min(seconds, 0.01))


class Sink:
    """What a source emits into, kept: updates (each checked to be of ``kind``) and errors."""

    def __init__(self, kind: type[Update]) -> None:
        self.kind = kind
        self.updates: list[Any] = []
        self.errors: list[SignalError] = []

    async def emit(self, update: Update) -> None:
        assert isinstance(update, self.kind)
        self.updates.append(update)

    def error(self, source: str, error: SignalError) -> None:
        self.errors.append(error)


@dataclass
class StubLoop:
    triggers: list[str] = field(default_factory=list)

    def trigger(self, reason: str) -> None:
        self.triggers.append(reason)


@dataclass
class HubRig:
    hub: SignalHub
    service: ControlService
    journal: Journal
    clock: FakeClock
    loop: StubLoop

    @property
    def state(self) -> ControlState:
        return self.service.state

    async def kinds(self, kind: str) -> list[dict[str, object]]:
        return [dict(e.data) for e in await self.journal.entries([kind])]


@pytest.fixture
async def rig() -> AsyncIterator[HubRig]:
    journal = Journal(None)
    await journal.open()
    loop = StubLoop()
    clock = FakeClock()
    service = ControlService(
        Fleet("t"), ControlState.empty(), journal, trigger=loop.trigger, clock=clock
    )
    hub = SignalHub(service, clock)
    yield HubRig(hub, service, journal, clock, loop)
    await hub.close()
    await journal.close()
