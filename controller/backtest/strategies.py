"""Who decides: hashpivot's policy engine, and the strategies operators use today.

Each strategy sees what a controller would see at ``now`` (the simulated site's
readings, the current settlement price, the events it has been told of) and returns
commands in the policy's own command types, which the simulated site carries out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from controller.backtest.fleet import SimFleet
from controller.backtest.inputs import Inputs
from controller.backtest.units import MinerUnit
from controller.policy import (
    AiValue,
    DeviceCommand,
    Economics,
    Grid,
    Hashprice,
    PolicyInputs,
    PolicyMemory,
    PowerPrice,
    diff,
    plan,
)
from drivers import Sleep, Wake
from simulators.physics import WorkMode

__all__ = ["AlwaysMine", "FixedStrike", "Hashpivot", "Strategy", "fleet_break_even"]


class Strategy(Protocol):
    @property
    def name(self) -> str:
        """The key in results ("hashpivot")."""
        ...

    @property
    def label(self) -> str:
        """What tables and plots call it."""
        ...

    def decide(self, now: float, fleet: SimFleet, inputs: Inputs) -> tuple[DeviceCommand, ...]:
        """The commands to send at ``now``."""
        ...


class Hashpivot:
    """The live controller's policy engine, with the site's own settings, step by step."""

    def __init__(self, name: str = "hashpivot", label: str = "hashpivot policy") -> None:
        self.name, self.label = name, label
        self.memory = PolicyMemory()
        self.notes: dict[str, int] = {}

    def decide(self, now: float, fleet: SimFleet, inputs: Inputs) -> tuple[DeviceCommand, ...]:
        site = fleet.site
        observed = fleet.observe(now)
        interval = inputs.prices.index(now)
        # A price window is one price of the series (15-minute settlement intervals here):
        # the policy counts a window when the price's as_of moves, as it does live.
        price_as_of = inputs.prices.start + interval * inputs.prices.step_s
        tripped, cleared = inputs.relay(now)
        economics = Economics(
            hashprice=Hashprice(inputs.hashprice.at(now), now, "backtest"),
            power_price=PowerPrice(
                usd_per_mwh=inputs.prices.values[interval],
                as_of=price_as_of,
                source="backtest",
                forecast=inputs.forecast_points(now),
            ),
            ai_value=AiValue(
                contracted_usd_per_gpu_hour=site.contracted_usd_per_gpu_hour,
                interruptible_usd_per_gpu_hour=site.interruptible_usd_per_gpu_hour,
                idle_usd_per_gpu_hour=site.idle_usd_per_gpu_hour,
                as_of=now,
                source="backtest",
            ),
        )
        grid = Grid(
            interconnect_cap_mw=site.cap_mw,
            as_of=now,
            source="backtest",
            events=inputs.known_events(now),
            ramp_up_mw_per_min=site.ramp_up_mw_per_min,
            ramp_down_mw_per_min=site.ramp_down_mw_per_min,
            relay_tripped=tripped,
            relay_cleared_at=cleared,
            other_load_w=site.other_load_w,
        )
        result, self.memory = plan(
            PolicyInputs(
                now=now, fleet=observed, economics=economics, grid=grid, settings=site.settings
            ),
            self.memory,
        )
        if result.infeasible:
            self.notes["infeasible plans"] = self.notes.get("infeasible plans", 0) + 1
        return diff(result, observed)


def _miner_commands(fleet: SimFleet, *, run: bool) -> tuple[DeviceCommand, ...]:
    """Wake (or sleep) every miner not already so; GPU nodes are left as they are."""
    ids = fleet.site.device_ids
    out: list[DeviceCommand] = []
    for cohort in fleet.cohorts:
        unit = cohort.unit
        if not isinstance(unit, MinerUnit) or not fleet.site.kinds[cohort.kind].profile.controls:
            continue
        asleep = unit.physics.mode is WorkMode.SLEEP
        if asleep == run:
            command = Wake() if run else Sleep()
            out.extend(DeviceCommand(ids[i], command) for i in cohort.members)
    out.sort(key=lambda c: c.device_id)
    return tuple(out)


class AlwaysMine:
    """Every miner hashes all the time (woken again at once after a relay trip)."""

    name, label = "always_mine", "always mine"

    def decide(self, now: float, fleet: SimFleet, inputs: Inputs) -> tuple[DeviceCommand, ...]:
        tripped, _ = inputs.relay(now)
        return () if tripped else _miner_commands(fleet, run=True)


def fleet_break_even(fleet: SimFleet, hashprice_usd_per_ph_day: float) -> float:
    """The price at which the whole fleet's hashing breaks even (its mean J/TH)."""
    kinds = fleet.site.kinds
    watts = ths = 0.0
    for k in fleet.site.device_kinds:
        spec = kinds[k].spec
        if spec.nameplate_ths:
            watts += spec.nameplate_w
            ths += spec.nameplate_ths
    if not ths:
        return math.inf
    return hashprice_usd_per_ph_day / (0.024 * watts / ths)


@dataclass(slots=True, kw_only=True)
class FixedStrike:
    """A fleet tool's rule: all miners off after ``after`` windows above the strike price,
    on after ``after`` windows below it. GPU nodes and grid events are not its business."""

    strike: float
    curtail_after: int
    resume_after: int
    name: str = "fixed_strike"
    curtailed: bool = False
    above: int = 0
    below: int = 0
    last_interval: int = -1

    @property
    def label(self) -> str:
        return f"fixed strike ${self.strike:,.0f}/MWh"

    def decide(self, now: float, fleet: SimFleet, inputs: Inputs) -> tuple[DeviceCommand, ...]:
        interval = inputs.prices.index(now)
        if interval != self.last_interval:  # a window is a new price, as for the policy
            self.last_interval = interval
            self._count(inputs.prices.values[interval])
        tripped, _ = inputs.relay(now)
        if tripped:
            return ()
        return _miner_commands(fleet, run=not self.curtailed)

    def _count(self, price: float) -> None:
        if price > self.strike:
            self.above, self.below = self.above + 1, 0
        else:
            self.above, self.below = 0, self.below + 1
        if not self.curtailed and self.above >= self.curtail_after:
            self.curtailed = True
        elif self.curtailed and self.below >= self.resume_after:
            self.curtailed = False
