"""The story ``hashpivot demo`` tells: a price spike, a grid event, and the restore.

Steps run through the same control service as the HTTP API (journaled, with actor
"demo"), so what the demo shows is what an operator's requests would do. Timings
are short so the whole story fits in under three minutes (``STORY_S``, as the README
says; measured at 2 min 46 s from start to "the site is back" on a 2-core machine): the
simulator runs at ``DEMO_SPEED``, so a miner's 12-minute boot and ramp takes 24 s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from controller import policy
from controller.app import Controller
from controller.clock import wait_any
from controller.config.settings import ControllerConfig
from controller.service.control import EventSpec
from drivers import Make, MiningState

__all__ = ["DEMO_POLICY", "DEMO_SPEED", "STORY_S", "Step", "demo_config", "run_scenario"]

DEMO_SPEED = 30.0  # simulated seconds per real second
STORY_S = 180.0  # the longest the story may take from the first plan to "the site is back"
_EVENT_S = 45.0  # how long the grid event lasts
_EVENT_WITHIN_S = 30.0  # how soon the site must be down to the event's level
_RESTORE_WAIT_S = 60.0  # the most the last step waits for every miner to hash again

# Plan every few seconds and act on the first price window: the real defaults (5-minute
# plans, three windows of hysteresis, 15-minute dwell) would make the demo an hour long.
DEMO_POLICY = {
    "plan_interval_s": 5.0,
    "curtail_after_windows": 1,
    "resume_after_windows": 1,
    "price_window_s": 0.0,  # each of the story's prices is a window of its own
    "min_on_dwell_s": 0.0,
    "min_off_dwell_s": 0.0,
    "wake_stagger_s": 1.0,
    "max_cycles_per_day": 100,
}


@dataclass(frozen=True, slots=True)
class Step:
    after_s: float  # from the previous step
    says: str
    act: Callable[[Controller], Awaitable[None] | None]


def demo_config(config: ControllerConfig, journal_path: str) -> ControllerConfig:
    """The operator's config with demo timings and a journal of the demo's own."""
    return config.model_copy(
        update={
            "policy": config.policy.model_copy(update=DEMO_POLICY),
            "control": config.control.model_copy(update={"confirm_after_s": 20.0}),
            "journal": config.journal.model_copy(update={"path": journal_path}),
        }
    )


async def _price(controller: Controller, usd_per_mwh: float) -> None:
    await controller.service.set_economics(
        power_price=usd_per_mwh, hashprice=None, as_of=None, source="demo", actor="demo"
    )


async def _event(controller: Controller, fraction: float) -> None:
    """An instructed curtailment to ``fraction`` of what the site draws now, within
    ``_EVENT_WITHIN_S``, lasting ``_EVENT_S``."""
    level_w = fraction * controller.read.site_power().watts
    spec = EventSpec(
        kind=policy.EventKind.INSTRUCTED,
        level_mw=level_w / 1e6,
        within_s=_EVENT_WITHIN_S,
        end=controller.clock.time() + _EVENT_S,
        event_id="demo-ERS-10",
        source="demo",
    )
    await controller.service.create_event(spec, actor="demo")


def _hashing_miners(controller: Controller) -> int:
    return sum(
        1
        for record in controller.read.records()
        if record.identity.make is not Make.GPU
        and record.telemetry is not None
        and record.telemetry.mining_state is MiningState.HASHING
    )


async def _until_restored(controller: Controller, miners: int, say: Callable[[str], None]) -> None:
    """Wait (bounded) for as many miners to hash as did before the story, then say so."""
    clock = controller.clock
    deadline = clock.monotonic() + _RESTORE_WAIT_S
    while _hashing_miners(controller) < miners and clock.monotonic() < deadline:
        await clock.sleep(1.0)  # the poller offers no per-sweep event
    now = _hashing_miners(controller)
    if now >= miners:
        say(f"the site is back: {now} miners hashing, as before the story")
    else:
        say(f"{now} of {miners} miners hashing again; the rest are still ramping up")


def steps() -> tuple[Step, ...]:
    return (
        Step(
            10,
            "power price jumps to $95/MWh: miners whose break-even is lower go to sleep",
            lambda c: _price(c, 95.0),
        ),
        Step(25, "price back to $30/MWh: they wake, staggered", lambda c: _price(c, 30.0)),
        Step(
            30,
            "grid event ERS-10: the site must fall to 40% of its draw within 30 s",
            lambda c: _event(c, 0.40),
        ),
        Step(
            _EVENT_S,
            "the event has ended: the site restores, staggered and most valuable first",
            lambda c: None,
        ),
    )


async def run_scenario(controller: Controller, say: Callable[[str], None]) -> None:
    """Play the steps once, after the first plan; returns when the story is told."""
    while controller.read.plan_view() is None and not controller.stop_event.is_set():
        await controller.clock.sleep(0.2)  # the loop offers no first-plan event
    miners = _hashing_miners(controller)
    for step in steps():
        if await wait_any(controller.clock, step.after_s, controller.stop_event):
            return
        say(step.says)
        result = step.act(controller)
        if result is not None:
            await result
    await _until_restored(controller, miners, say)
