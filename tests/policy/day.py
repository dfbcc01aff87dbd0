"""A day on a mixed site: 288 five-minute prices, a 4CP window and an instructed event.

Shared by the scenario test and the README generator. The site: ten each of three
miner generations (S19j Pro, S19 XP, S21), two contracted and two interruptible
HGX H200 nodes. Each plan is applied perfectly before the next one is computed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from controller.policy import (
    Action,
    AiClass,
    EventKind,
    Fleet,
    FleetDevice,
    GridEvent,
    Plan,
    PolicyInputs,
    PolicyMemory,
    plan,
)
from controller.state.domain import Health
from drivers import MiningState
from tests.policy.site import FAST, economics, grid, profile

DAY = 1_750_032_000.0  # 00:00 UTC
STEP = 300.0
PRICES = [  # (from HH:MM, USD/MWh) for the 5-minute settlement price
    ("00:00", 25.0), ("06:00", 40.0), ("10:00", 50.0), ("14:00", 200.0), ("15:00", 45.0),
    ("17:00", 1000.0), ("17:30", 30.0),
]  # fmt: skip
SETTINGS = replace(FAST, curtail_after_windows=2, resume_after_windows=2, max_cycles_per_day=10)


def at(hhmm: str) -> float:
    hours, minutes = hhmm.split(":")
    return DAY + int(hours) * 3600 + int(minutes) * 60


def price_at(now: float) -> float:
    current = PRICES[0][1]
    for start, price in PRICES:
        if now >= at(start):
            current = price
    return current


EVENTS = (
    GridEvent(
        event_id="4CP-0715",
        kind=EventKind.FOUR_CP,
        start=at("16:00"),
        end=at("16:15"),
        as_of=DAY,
        source="forecast",
    ),
    GridEvent(
        event_id="ERS-10",
        kind=EventKind.INSTRUCTED,
        start=at("19:00"),
        end=at("20:00"),
        as_of=at("19:00"),
        source="qse",
        level_mw=0.030,
        deadline=at("19:10"),
    ),
)


def site() -> list[FleetDevice]:
    devices = []
    for model, tag in (("S19j Pro", "a"), ("S19 XP", "b"), ("S21", "c")):
        for n in range(10):
            devices.append(
                FleetDevice(
                    device_id=f"{tag}-{model.replace(' ', '')}-{n:02d}",
                    profile=profile(model),
                    state=MiningState.HASHING,
                    health=Health.HEALTHY,
                    power_w=None,
                    observed_at=DAY,
                )
            )
    for ai, tag in ((AiClass.CONTRACTED, "gc"), (AiClass.INTERRUPTIBLE, "gi")):
        for n in range(2):
            devices.append(
                FleetDevice(
                    device_id=f"{tag}-h200-{n}",
                    profile=profile("HGX H200 8-GPU", ai),
                    state=MiningState.HASHING,
                    health=Health.HEALTHY,
                    power_w=None,
                    observed_at=DAY,
                    gpu_power_limit_w=5600.0,
                    schedulable=True,
                )
            )
    return devices


def apply(plan_: Plan, now: float) -> list[FleetDevice]:
    """The site after the plan's commands took effect: what the next plan observes."""
    out = []
    for device, target in zip(plan_.fleet.devices, plan_.targets(), strict=True):
        if device.profile.is_gpu:
            changed = (target.action is Action.DRAIN) != (device.schedulable is False) or (
                target.action is Action.RUN and target.gpu_power_limit_w != device.gpu_power_limit_w
            )
            new = replace(
                device,
                schedulable=target.action is not Action.DRAIN,
                gpu_power_limit_w=target.gpu_power_limit_w or device.gpu_power_limit_w,
            )
        else:
            state = MiningState.SLEEPING if target.action is Action.SLEEP else MiningState.HASHING
            changed = state is not device.state
            new = replace(device, state=state)
        if changed:
            new = replace(new, last_state_change_at=now, cycles_today=new.cycles_today + 1)
        out.append(replace(new, observed_at=now + STEP))
    return out


def run_day() -> Iterator[tuple[float, Plan]]:
    devices = site()
    memory = PolicyMemory()
    for k in range(288):
        now = DAY + k * STEP
        inputs = PolicyInputs(
            now=now,
            fleet=Fleet(tuple(devices), now, "sim"),
            economics=economics(price_at(now), now=now),
            grid=grid(1.0, EVENTS, up=0.02, now=now),
            settings=SETTINGS,
        )
        result, memory = plan(inputs, PolicyMemory.from_json(memory.to_json()))
        yield now, result
        devices = apply(result, now)
