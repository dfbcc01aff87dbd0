"""The one clock: manual time for tests, the simulated site's clock as a controller clock,
and a controller that reads nothing else."""

from __future__ import annotations

import asyncio
import time

from controller.app import Controller
from controller.clock import Clock, ManualClock, wait_any, yield_now
from controller.config.settings import parse_config
from controller.journal.kinds import JournalKind
from simulators.clock import SimClock
from tests.conftest import free_port


async def test_manual_time_wakes_each_sleeper_at_its_own_time() -> None:
    clock = ManualClock(unix_start=1000.0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.monotonic()))

    tasks = [asyncio.create_task(sleeper(n, s)) for n, s in (("b", 20.0), ("a", 5.0))]
    await yield_now()  # both asleep
    await clock.advance(4.0)
    assert woke == []
    await clock.advance(100.0)
    await asyncio.gather(*tasks)
    assert woke == [("a", 5.0), ("b", 20.0)]  # each saw its own time, not the end
    assert clock.time() == 1104.0


async def test_wait_any_ends_on_an_event_or_on_the_clock() -> None:
    clock = ManualClock()
    event = asyncio.Event()
    waiting = asyncio.create_task(wait_any(clock, 60.0, event))
    await yield_now()
    await clock.advance(59.0)
    assert not waiting.done()
    await clock.advance(1.0)
    assert await waiting is False
    waiting = asyncio.create_task(wait_any(clock, None, event))
    await clock.advance(3600.0)
    assert not waiting.done()
    event.set()
    assert await waiting is True


async def test_the_simulated_sites_clock_is_a_controller_clock() -> None:
    sim = SimClock(speed=600.0, unix_start=0.0)
    clock: Clock = sim  # the same three methods: devices and controller share one time
    started = time.perf_counter()
    await clock.sleep(60.0)  # a simulated minute
    assert time.perf_counter() - started < 1.0
    assert clock.monotonic() >= 60.0
    assert abs(clock.time() - sim.unix()) < 1.0


async def test_every_part_of_the_controller_reads_the_clock_it_was_given() -> None:
    clock = ManualClock(unix_start=2_000_000_000.0)
    config = parse_config({
        "site": "t", "listen": f"127.0.170.1:{free_port('127.0.170.1')}",
        "devices": [{"make": "antminer", "address": "127.0.170.2"}],
    })  # fmt: skip
    async with Controller(config, clock=clock) as controller:
        await clock.advance(30.0)
        await controller.service.pause("clock test", actor="test")
        record = next(iter(controller.fleet))
        assert record.driver._settings.clock is clock  # type: ignore[attr-defined]
        parts = [controller.journal, controller.poller, controller.loop, controller.service,
                 controller.signals]  # fmt: skip
        assert all(part.clock is clock for part in parts)
        assert controller.loop.dispatcher._clock is clock
        assert controller.loop.verifier._clock is clock
        assert controller.site_power.clock is clock
        await controller.journal.commit()
        kinds = [JournalKind.DAEMON_STARTED, JournalKind.CONTROL_PAUSED]
        rows = await controller.journal.entries(kinds)
        assert [r.at for r in rows] == [2_000_000_000.0, 2_000_000_030.0]
        assert controller.status()["control"]["paused"] is True
