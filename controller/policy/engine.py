"""The policy engine: one pure function from inputs (and memory) to a plan.

Three passes over lever classes, never over devices:

1. economic sheds, least value per MW first, within the ramp-down budget;
2. grid sheds until the site fits under the cap or event level: flexible load by
   priority then value, overriding ramp, dwell and cycle limits only when it must,
   contracted AI last;
3. restores, most valuable first, using only headroom that exists before this
   plan's sheds (a swap waits for the sheds to be confirmed), within the ramp-up
   budget and the wake stagger, never while a relay trip is latched.

Within a lever class devices move in (pin, observed level, device id) order.
"""

from __future__ import annotations

import math
from dataclasses import replace

from controller.policy._levers import Step, build_model
from controller.policy._limits import relay_latch, site_limit
from controller.policy._market import Econ, Market, assess_market
from controller.policy._render import Shed, compensate, render
from controller.policy._scan import PIN_FREE, Group, scan_fleet
from controller.policy.forecast import apply_forecast, shed_lead_s
from controller.policy.inputs import PolicyInputs
from controller.policy.memory import PolicyMemory
from controller.policy.plan import Plan

__all__ = ["plan"]

_EPS_W = 1e-6
_ALL = 1 << 62  # "no limit" as a device count


def _units(room: float, unit: float) -> int:
    """How many whole units fit in ``room`` (which may be infinite)."""
    return _ALL if math.isinf(room) else math.floor(room / unit + 1e-9)


def plan(inputs: PolicyInputs, memory: PolicyMemory | None = None) -> tuple[Plan, PolicyMemory]:
    """Compute the plan for ``inputs`` and the memory to pass to the next call."""
    memory = memory or PolicyMemory()
    settings, grid, now = inputs.settings, inputs.grid, inputs.now
    economics = inputs.economics
    scan = scan_fleet(
        inputs.fleet.devices, now, settings, lambda n, p: build_model(n, p, economics, settings)
    )
    fixed_w = sum(scan.models[m].nameplate_w * len(ix) for m, ix in scan.unknown.items())
    fixed_w += scan.held_w()
    now_w = fixed_w + sum(g.model.levels[g.level].power_w * len(g.indices) for g in scan.groups)
    flex_floor_w = fixed_w + sum(
        g.model.levels[0 if g.model.tier == 0 else g.level].power_w * len(g.indices)
        for g in scan.groups
    )
    limit = site_limit(grid, now, settings, flex_floor_w)
    latch = relay_latch(grid, now, memory.relay_latched_at, settings)
    market = assess_market(inputs, memory, scan.models, limit.active_event_ids)
    market = apply_forecast(inputs, market, scan.models, shed_lead_s(inputs, now_w - flex_floor_w))
    run = _Run(inputs, scan.groups, market, now_w)
    run.economic_sheds()
    grid_from = len(run.sheds)
    run.grid_sheds(limit.limit_w, limit.label)
    compensation = compensate(inputs.fleet, scan, run.sheds[grid_from:])
    if latch.latched:
        run.restore_block = latch.note or ""
    else:
        run.restores(limit.limit_w, limit.label)
    new_memory = PolicyMemory(market.last_price_at, market.levers, latch.latched_at)
    notes = [n for n in (market.stale_note, latch.note) if n]
    if grid.other_load_w and limit.event_id is not None:
        notes.append(
            f"other site load {grid.other_load_w / 1e3:.1f} kW (outside the fleet) "
            "counts against the limit"
        )
    notes.extend(run.notes)
    result = render(inputs, scan, run, limit, latch, market, notes=notes, compensation=compensation)
    result = replace(result, counted_now_w=now_w, ramp_shortfall_w=scan.ramp_shortfall_w)
    return replace(result, other_load_w=grid.other_load_w), new_memory


class _Run:
    """The mutable working state of one plan (never escapes :func:`plan`)."""

    def __init__(
        self, inputs: PolicyInputs, groups: list[Group], market: Market, now_w: float
    ) -> None:
        self.inputs, self.market, self.now_w = inputs, market, now_w
        self.planned_w = now_w
        self.sheds: list[Shed] = []
        self.delays: dict[int, float] = {}
        self.notes: list[str] = []
        self.restore_block = ""
        self.deferred_shed = ""
        self.grid_binding = False
        self.infeasible = False
        interval_min = inputs.settings.plan_interval_s / 60
        down, up = inputs.grid.ramp_down_mw_per_min, inputs.grid.ramp_up_mw_per_min
        self.down_budget_w = math.inf if down is None else down * 1e6 * interval_min
        self.up_budget_w = math.inf if up is None else up * 1e6 * interval_min
        self.shed_w = 0.0  # decrease planned so far, against the ramp-down budget
        self.by_model: dict[int, list[Group]] = {}
        for group in sorted(groups, key=lambda g: (g.pin, g.level)):
            self.by_model.setdefault(group.model.number, []).append(group)
        self.levers = [
            (self.by_model[n][0].model, step)
            for n in sorted(self.by_model)
            for step in self.by_model[n][0].model.steps
        ]

    def _econ(self, step: Step) -> Econ:
        return self.market.verdicts[step.key].econ

    def _shed(self, group: Group, step: Step, count: int, why: str) -> None:
        start, _ = group.span_at(step.index)
        group.down[step.index - 1] = start + count
        self.sheds.append(
            Shed(
                group=group,
                start=start,
                end=start + count,
                level=step.index - 1,
                why=why,
                partial_w=None,
            )
        )
        self.planned_w -= count * step.delta_w
        self.shed_w += count * step.delta_w

    def economic_sheds(self) -> None:
        order = sorted(
            (ms for ms in self.levers if ms[0].tier == 0 and self._econ(ms[1]) is Econ.OFF),
            key=lambda ms: (ms[1].value, -ms[1].index, ms[0].profile.sort_key),
        )
        for model, step in order:
            why = self.market.verdicts[step.key].off_text
            for group in self.by_model[model.number]:
                if group.pin != PIN_FREE or group.level < step.index:
                    continue
                start, end = group.span_at(step.index)
                room = self.down_budget_w - self.shed_w
                count = min(end - start, _units(room, step.delta_w))
                if count > 0:
                    self._shed(group, step, count, why)
                if count < end - start:
                    rate = self.inputs.grid.ramp_down_mw_per_min
                    self.deferred_shed = f"shed deferred by ramp-down limit {rate:g} MW/min"
                    return

    def grid_sheds(self, limit_w: float, label: str) -> None:
        need = self.planned_w - limit_w
        if need <= _EPS_W:
            return
        self.grid_binding = True
        order = sorted(
            self.levers,
            key=lambda ms: (
                ms[0].tier,
                ms[0].priority,
                ms[1].value,
                -ms[1].index,
                ms[0].profile.sort_key,
            ),
        )
        overridden = {"ramp": 0, "dwell": 0, "cycles": 0, "contracted": 0}
        for tier in (0, 1):
            for pinned in (False, True):
                for model, step in order:
                    if model.tier != tier:
                        continue
                    for group in self.by_model[model.number]:
                        if (group.pin != PIN_FREE) != pinned or group.level < step.index:
                            continue
                        need = self._grid_shed(group, step, need, label, overridden)
                        if need <= _EPS_W:
                            self._override_notes(overridden, label)
                            return
        self._override_notes(overridden, label)
        self.infeasible = True
        self.notes.append(
            f"cannot meet {label}: {need / 1e6:.3f} MW above it with every lever shed"
            " (devices in unknown state are counted at nameplate)"
        )

    def _grid_shed(
        self, group: Group, step: Step, need: float, label: str, overridden: dict[str, int]
    ) -> float:
        start, end = group.span_at(step.index)
        if end <= start:
            return need
        count = min(end - start, math.ceil(need / step.delta_w - 1e-9))
        partial = 0.0
        residue = need - (count - 1) * step.delta_w
        upper_w = group.model.levels[step.index].power_w
        floor = step.partial_floor_w
        if residue < step.delta_w - _EPS_W and floor is not None and upper_w - residue >= floor:
            count, partial = count - 1, residue
        why = label
        suffixes = []
        if group.pin:
            key = "dwell" if group.pin == 1 else "cycles"
            overridden[key] += count + (1 if partial else 0)
            suffixes.append("overrides min dwell" if group.pin == 1 else "overrides cycle limit")
        if self.shed_w + count * step.delta_w + partial > self.down_budget_w + _EPS_W:
            overridden["ramp"] += 1
            suffixes.append("overrides ramp-down limit")
        if group.model.tier == 1:
            overridden["contracted"] += count + (1 if partial else 0)
            suffixes.append("contracted AI shed: cannot be met otherwise")
        if suffixes:
            why = f"{label} ({'; '.join(suffixes)})"
        if count:
            self._shed(group, step, count, why)
        if partial:
            position = group.down[step.index - 1]
            self.sheds.append(
                Shed(
                    group=group,
                    start=position,
                    end=position + 1,
                    level=step.index,
                    why=why,
                    partial_w=partial,
                )
            )
            self.planned_w -= partial
            self.shed_w += partial
        return need - count * step.delta_w - partial

    def _override_notes(self, overridden: dict[str, int], label: str) -> None:
        if overridden["ramp"]:
            rate = self.inputs.grid.ramp_down_mw_per_min
            self.notes.append(f"ramp-down limit {rate:g} MW/min overridden: {label}")
        if overridden["dwell"]:
            self.notes.append(f"min dwell overridden on {overridden['dwell']} devices: {label}")
        if overridden["cycles"]:
            n = overridden["cycles"]
            self.notes.append(f"cycle limit overridden on {n} devices: {label}")
        if overridden["contracted"]:
            n = overridden["contracted"]
            self.notes.append(f"contracted AI shed on {n} nodes: {label} cannot be met otherwise")

    def restores(self, limit_w: float, label: str) -> None:
        settings = self.inputs.settings
        headroom = limit_w - self.now_w  # this plan's sheds are not counted on yet
        stagger = settings.wake_stagger_s
        # Wakes at 0, stagger, ... short of the next plan, whose first wake is at its own 0.
        wakes_left = (
            max(1, math.floor(settings.plan_interval_s / stagger + 1e-9)) if stagger else math.inf
        )
        rate = self.inputs.grid.ramp_up_mw_per_min
        order = sorted(
            (ms for ms in self.levers if self._econ(ms[1]) is Econ.ON),
            key=lambda ms: (-ms[0].tier, -ms[1].value, ms[1].index, ms[0].profile.sort_key),
        )
        restored_w, units = 0.0, 0
        for model, step in order:
            for group in self.by_model[model.number]:
                if group.pin != PIN_FREE or group.level >= step.index:
                    continue
                start, end = group.span_at(step.index - 1)
                fits = {
                    f"grid headroom under {label}": _units(headroom - restored_w, step.delta_w),
                    f"ramp-up limit {rate or 0:g} MW/min": _units(
                        self.up_budget_w - restored_w, step.delta_w
                    ),
                    f"wake stagger {stagger:.0f} s": _units(wakes_left - units, 1),
                }
                count = max(0, min(end - start, *fits.values()))
                for offset in range(count):
                    index = group.indices[start + offset]
                    delay = units * stagger
                    if rate is not None:
                        delay = max(delay, restored_w / (rate * 1e6 / 60))
                    self.delays[index] = max(self.delays.get(index, 0.0), delay)
                    units += 1
                    restored_w += step.delta_w
                if count:
                    group.up[step.index] = start + count
                    why = self.market.verdicts[step.key].on_text
                    self.sheds.append(
                        Shed(
                            group=group,
                            start=start,
                            end=start + count,
                            level=step.index,
                            why=why,
                            partial_w=None,
                        )
                    )
                    self.planned_w += count * step.delta_w
                if count < end - start:
                    cause = min(fits, key=lambda k: fits[k])
                    self.restore_block = f"restore deferred by {cause}"
                    return
