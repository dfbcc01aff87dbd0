"""Simulated time for one strategy: plan, act, let the physics run, account.

The strategy decides every ``plan_interval_s`` (the controller's setting) and when
an instruction arrives; accounting closes at every settlement interval and at every
event's start, deadline and end, so compliance is judged on exact energy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from controller.backtest.fleet import SimFleet
from controller.backtest.inputs import Inputs
from controller.backtest.site import BacktestSite
from controller.backtest.strategies import Strategy
from controller.policy import EventKind

__all__ = ["Period", "Trace", "accounting_marks", "simulate"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Period:
    """What the site did over ``[start, end)``, within one settlement interval."""

    start: float
    end: float
    interval: int
    miner_j: float
    gpu_j: float
    other_j: float
    hash_h: float
    ai_usd: float
    checkpoints: int
    requeues: int

    @property
    def site_w(self) -> float:
        return (self.miner_j + self.gpu_j + self.other_j) / (self.end - self.start)


@dataclass(slots=True, kw_only=True)
class Trace:
    name: str
    label: str
    periods: list[Period] = field(default_factory=list)
    wakes: list[int] = field(default_factory=list)  # sleep/wake (drain/resume) cycles per device
    device_ids: tuple[str, ...] = ()
    device_kinds: tuple[str, ...] = ()
    kind_j: dict[str, float] = field(default_factory=dict)  # energy by device kind
    notes: dict[str, int] = field(default_factory=dict)


def accounting_marks(inputs: Inputs) -> set[float]:
    """Where accounting periods end: every settlement interval, every event's start,
    deadline and end (so that compliance is judged on exact energy)."""
    marks = {inputs.start + k * inputs.step_s for k in range(inputs.steps + 1)}
    for e in inputs.events:
        marks |= {e.start, e.due, e.end}
    return {t for t in marks if inputs.start <= t <= inputs.end}


def _times(site: BacktestSite, inputs: Inputs) -> tuple[list[float], set[float]]:
    start, end = inputs.start, inputs.end
    plan_s = site.settings.plan_interval_s
    plans = {start + k * plan_s for k in range(int((end - start) // plan_s) + 1)}
    plans |= {e.start for e in inputs.events}
    plans |= {e.end for e in inputs.events if e.kind is EventKind.RELAY_TRIP}
    plans = {t for t in plans if start <= t < end}
    return sorted(accounting_marks(inputs) | plans), plans


def simulate(
    site: BacktestSite,
    inputs: Inputs,
    strategy: Strategy,
    *,
    progress: Callable[[int], None] | None = None,
) -> Trace:
    """Replay ``inputs`` on ``site`` with ``strategy`` deciding."""
    fleet = SimFleet(site, inputs.start)
    times, plans = _times(site, inputs)
    trips = {e.start for e in inputs.events if e.kind is EventKind.RELAY_TRIP}
    recloses = {e.end for e in inputs.events if e.kind is EventKind.RELAY_TRIP}
    trace = Trace(
        name=strategy.name,
        label=strategy.label,
        device_ids=site.device_ids,
        device_kinds=tuple(site.kinds[k].name for k in site.device_kinds),
    )
    kind_j = [0.0] * len(site.kinds)
    last_interval = -1
    for n, t in enumerate(times):
        if n:
            a = times[n - 1]
            fleet.run_until(t)
            got = fleet.take(a, t)
            for k, joules in got.by_kind_j.items():
                kind_j[k] += joules
            trace.periods.append(
                Period(
                    start=a,
                    end=t,
                    interval=inputs.prices.index(a),
                    miner_j=got.miner_j,
                    gpu_j=got.gpu_j,
                    other_j=site.other_load_w * (t - a),
                    hash_h=got.hash_h,
                    ai_usd=got.ai_usd,
                    checkpoints=got.checkpoints,
                    requeues=got.requeues,
                )
            )
        if t >= inputs.end:
            break
        if t in recloses:
            fleet.reclose()
        if t in trips:
            fleet.trip()
        if t in plans:
            fleet.apply(strategy.decide(t, fleet, inputs), t)
        interval = inputs.prices.index(t)
        if progress is not None and interval != last_interval:
            last_interval = interval
            progress(interval)
    trace.wakes = fleet.wakes
    trace.kind_j = {site.kinds[k].name: j for k, j in enumerate(kind_j)}
    trace.notes = dict(getattr(strategy, "notes", {}))
    return trace
