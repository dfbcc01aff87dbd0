"""The dispatcher: priority gate, one serial worker per device, level-triggered queues."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from controller.clock import SystemClock
from controller.config.sections import ControlSettings
from controller.reconcile.commands import DriverGpuControl
from controller.reconcile.dispatch import CommandResult, Dispatcher, Job
from controller.reconcile.gate import Priority, PriorityGate
from controller.state.domain import DeviceIdentity
from controller.state.fleet import DeviceRecord, Fleet
from drivers import CommandOutcome, DeviceEndpoint, DeviceTimeout, Make, Sleep, Wake

CLOCK = SystemClock()  # these tests time real sends


async def test_gate_serves_the_most_urgent_waiter_first() -> None:
    gate = PriorityGate(1)
    order: list[str] = []
    await gate.acquire(Priority.RESTORE)

    async def take(name: str, priority: Priority) -> None:
        async with gate.hold(priority):
            order.append(name)

    tasks = [
        asyncio.create_task(take("restore", Priority.RESTORE)),
        asyncio.create_task(take("economic", Priority.ECONOMIC)),
        asyncio.create_task(take("grid", Priority.GRID)),
    ]
    await asyncio.sleep(0)
    gate.release()
    await asyncio.gather(*tasks)
    assert order == ["grid", "economic", "restore"]


@dataclass
class FakeDriver:
    make: Make = Make.ANTMINER
    endpoint: DeviceEndpoint = field(default_factory=lambda: DeviceEndpoint("127.0.110.1"))
    delay_s: float = 0.0
    fail: int = 0
    calls: list[tuple[str, float]] = field(default_factory=list)
    in_flight: int = 0
    most: int = 0

    spec = None
    controls = frozenset()

    async def apply(self, command: Any) -> CommandOutcome:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        self.calls.append((type(command).__name__, time.monotonic()))
        try:
            await asyncio.sleep(self.delay_s)
            if self.fail:
                self.fail -= 1
                raise DeviceTimeout(self.endpoint.host, "no answer")
            return CommandOutcome(command=command, applied=True)
        finally:
            self.in_flight -= 1

    async def close(self) -> None:
        return None


def _fleet(n: int, **kwargs: Any) -> tuple[Fleet, list[FakeDriver]]:
    fleet = Fleet("t")
    drivers = []
    for i in range(n):
        endpoint = DeviceEndpoint(f"127.0.110.{i + 1}")
        driver = FakeDriver(endpoint=endpoint, **kwargs)
        identity = DeviceIdentity(
            device_id=endpoint.host, make=Make.ANTMINER, model=None, endpoint=endpoint, site="t"
        )
        fleet.add(DeviceRecord(identity=identity, driver=driver))  # type: ignore[arg-type]
        drivers.append(driver)
    return fleet, drivers


def _job(device: str, command: Any, priority: Priority = Priority.GRID, **kw: Any) -> Job:
    return Job(
        device_id=device,
        command=command,
        name=type(command).__name__.lower(),
        priority=priority,
        **kw,
    )


async def test_one_command_at_a_time_per_device_and_bounded_overall() -> None:
    fleet, drivers = _fleet(20, delay_s=0.02)
    results: list[CommandResult] = []
    settings = ControlSettings(concurrency=5)
    dispatcher = Dispatcher(
        fleet, settings, DriverGpuControl(), lambda j: None, results.append, clock=CLOCK
    )
    in_gate = []

    original = dispatcher._attempt

    async def watched(job: Job) -> CommandResult:
        in_gate.append(dispatcher._gate.in_use)
        return await original(job)

    dispatcher._attempt = watched  # type: ignore[method-assign]
    dispatcher.submit({d.endpoint.host: [_job(d.endpoint.host, Sleep())] for d in drivers})
    await asyncio.wait_for(dispatcher.idle(), 5)
    assert len(results) == 20
    assert all(r.ok for r in results)
    assert max(in_gate) <= 5
    assert all(d.most == 1 for d in drivers)


async def test_a_new_plan_replaces_what_is_queued_and_never_replays_it() -> None:
    fleet, (driver,) = _fleet(1, delay_s=0.05)
    results: list[CommandResult] = []
    dispatcher = Dispatcher(
        fleet, ControlSettings(), DriverGpuControl(), lambda j: None, results.append, clock=CLOCK
    )
    host = driver.endpoint.host
    later = time.time() + 0.3
    dispatcher.submit({host: [_job(host, Wake(), Priority.RESTORE, not_before=later)]})
    await asyncio.sleep(0.05)
    dispatcher.submit({host: [_job(host, Sleep())]})  # the event arrived: wake is dropped
    await asyncio.wait_for(dispatcher.idle(), 5)
    assert [c for c, _ in driver.calls] == ["Sleep"]
    # The same command again while it is queued or in flight is not sent twice.
    dispatcher.submit({host: [_job(host, Sleep())]})
    dispatcher.submit({host: [_job(host, Sleep())]})
    await asyncio.wait_for(dispatcher.idle(), 5)
    assert [c for c, _ in driver.calls] == ["Sleep", "Sleep"]
    # A scope without the device drops its queued plan jobs.
    dispatcher.submit({host: [_job(host, Wake(), not_before=time.time() + 0.3)]})
    dispatcher.submit({}, scope=[host])
    await asyncio.wait_for(dispatcher.idle(), 5)
    assert [c for c, _ in driver.calls] == ["Sleep", "Sleep"]


async def test_failed_sends_are_retried_after_the_configured_delays() -> None:
    fleet, (driver,) = _fleet(1, fail=2)
    results: list[CommandResult] = []
    settings = ControlSettings(retry_delays_s=(0.05, 0.1))
    dispatcher = Dispatcher(
        fleet, settings, DriverGpuControl(), lambda j: None, results.append, clock=CLOCK
    )
    host = driver.endpoint.host
    dispatcher.submit({host: [_job(host, Sleep())]})
    await asyncio.wait_for(dispatcher.idle(), 5)
    assert [r.result for r in results] == ["failed", "failed", "applied"]
    assert [r.final for r in results] == [False, False, True]
    gaps = [b - a for (_, a), (_, b) in zip(driver.calls, driver.calls[1:], strict=False)]
    assert gaps[0] >= 0.05
    assert gaps[1] >= 0.1


async def test_wakes_keep_their_spacing_across_plans_retries_and_a_busy_gate() -> None:
    """Two plans' wakes due at once, a failed wake retried, a gate held by slow sleeps:
    no two wakes go out closer than the spacing, and sleeps are never held back by it."""
    fleet, drivers = _fleet(12, delay_s=0.01)
    drivers[3].fail = 1
    for sleeper in drivers[8:]:
        sleeper.delay_s = 0.15
    spacing = 0.05
    settings = ControlSettings(concurrency=2, retry_delays_s=(0.0,))
    dispatcher = Dispatcher(
        fleet,
        settings,
        DriverGpuControl(),
        lambda j: None,
        lambda r: None,
        wake_spacing_s=spacing,
        clock=CLOCK,
    )
    hosts = [d.endpoint.host for d in drivers]
    now = time.time()
    # Plan A staggers its wakes; plan B, a moment later, queues its own at the same times.
    dispatcher.submit(
        {
            h: [_job(h, Wake(), Priority.RESTORE, not_before=now + i * spacing)]
            for i, h in enumerate(hosts[:4])
        }
    )
    dispatcher.submit(
        {
            h: [_job(h, Wake(), Priority.RESTORE, not_before=now + i * spacing)]
            for i, h in enumerate(hosts[4:8])
        }
    )
    dispatcher.submit({h: [_job(h, Sleep())] for h in hosts[8:]})
    await asyncio.wait_for(dispatcher.idle(), 10)
    wakes = sorted(t for d in drivers for c, t in d.calls if c == "Wake")
    assert len(wakes) == 9  # eight, and the one that failed once
    gaps = [b - a for a, b in itertools.pairwise(wakes)]
    assert min(gaps) >= 0.9 * spacing - 0.005
    sleeps = sorted(t for d in drivers for c, t in d.calls if c == "Sleep")
    assert sleeps[0] - now < 0.1  # urgent work is never paced
