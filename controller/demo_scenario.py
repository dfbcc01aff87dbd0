"""The story ``hashpivot demo`` tells: a price spike, a grid event, and the restore.

Steps run through the same control service as the HTTP API (journaled, with actor
"demo"), so what the demo shows is what an operator's requests would do. Timings
are short so the whole story fits in about two minutes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from controller import policy
from controller.app import Controller
from controller.service import EventSpec
from controller.settings import ControllerConfig

__all__ = ["DEMO_POLICY", "Step", "demo_config", "run_scenario"]

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
    return config.model_copy(update={
        "policy": config.policy.model_copy(update=DEMO_POLICY),
        "control": config.control.model_copy(update={"confirm_after_s": 20.0}),
        "journal": config.journal.model_copy(update={"path": journal_path}),
    })  # fmt: skip


async def _price(controller: Controller, usd_per_mwh: float) -> None:
    await controller.service.set_economics(
        power_price=usd_per_mwh, hashprice=None, as_of=None, source="demo", actor="demo"
    )


async def _event(controller: Controller, fraction: float) -> None:
    """An instructed curtailment to ``fraction`` of what the site draws now, in 60 s."""
    level_w = fraction * controller.site_power.latest().watts
    spec = EventSpec(policy.EventKind.INSTRUCTED, level_mw=level_w / 1e6, within_s=60.0,
                     end=time.time() + 90.0, event_id="demo-ERS-10", source="demo")  # fmt: skip
    await controller.service.create_event(spec, actor="demo")


def steps() -> tuple[Step, ...]:
    return (
        Step(20, "power price jumps to $95/MWh: miners whose break-even is lower go to sleep",
             lambda c: _price(c, 95.0)),
        Step(40, "price back to $30/MWh: they wake, staggered", lambda c: _price(c, 30.0)),
        Step(30, "grid event ERS-10: the site must fall to 40% of its draw within 60 s",
             lambda c: _event(c, 0.40)),
        Step(100, "the event has ended: the site restores, staggered and most valuable first",
             lambda c: None),
    )  # fmt: skip


async def run_scenario(controller: Controller, say: Callable[[str], None]) -> None:
    """Play the steps once, after the first plan; returns when the story is told."""
    while controller.loop.view is None and not controller.stop_event.is_set():  # noqa: ASYNC110 - the loop offers no first-plan event
        await asyncio.sleep(0.2)
    for step in steps():
        try:
            await asyncio.wait_for(controller.stop_event.wait(), timeout=step.after_s)
        except TimeoutError:
            pass
        else:
            return
        say(step.says)
        result = step.act(controller)
        if result is not None:
            await result
