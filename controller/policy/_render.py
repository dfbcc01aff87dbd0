"""Turn the engine's group-level decisions into a plan: one template per distinct target."""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Protocol

from controller.policy._levers import Level, ProfileModel
from controller.policy._limits import Latch, SiteLimit
from controller.policy._market import Econ, Market
from controller.policy._scan import PIN_CYCLES, PIN_FREE, Group, Scan
from controller.policy.fleet import Fleet
from controller.policy.inputs import PolicyInputs
from controller.policy.plan import Action, Compensation, DeviceTarget, Plan

__all__ = ["Outcome", "Shed", "compensate", "render"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Shed:
    """Positions ``[start, end)`` of a group end at ``level`` for ``why``.

    Restores are recorded the same way; ``partial_w`` is set for the one device
    left running part-way (lower power target or GPU limit).
    """

    group: Group
    start: int
    end: int
    level: int
    why: str
    partial_w: float | None


class Outcome(Protocol):
    """What the engine's run of one plan decided (engine._Run); render() only reads it."""

    planned_w: float
    sheds: list[Shed]
    delays: dict[int, float]  # device index -> seconds its restore waits (stagger, ramp)
    restore_block: str  # why restores wait (a latched relay, a limit), if they do
    deferred_shed: str  # why a shed waits (the ramp-down limit), if one does
    grid_binding: bool
    infeasible: bool


class _Templates:
    def __init__(self) -> None:
        self.targets: list[DeviceTarget] = []
        self._index: dict[tuple[int, int, str, float | None], int] = {}

    def level(self, model: ProfileModel, level: int, why: str, partial: float | None = None) -> int:
        key = (model.number, level, why, partial)
        found = self._index.get(key)
        if found is not None:
            return found
        spec = model.levels[level]
        word = _word(spec, level, model)
        power, target_w, limit_w = spec.power_w, None, spec.gpu_limit_w
        if partial is not None:
            power = spec.power_w - partial
            if limit_w is not None:
                limit_w -= partial
                word = f"cap {limit_w:,.0f} W"
            else:
                target_w = power
                word = f"run at {power:,.0f} W"
        target = DeviceTarget(
            device_id="",
            action=spec.action,
            power_w=power,
            reason=f"{word}: {why}",
            power_target_w=target_w,
            gpu_power_limit_w=limit_w,
            job_actions=spec.job_actions,
        )
        return self._add(key, target)

    def fixed(self, model: ProfileModel, action: Action, why: str) -> int:
        key = (model.number, -1 - list(Action).index(action), why, None)
        found = self._index.get(key)
        if found is not None:
            return found
        word = action.value
        jobs = model.levels[0].job_actions if model.levels and action is not Action.HOLD else ()
        return self._add(
            key,
            DeviceTarget(
                device_id="",
                action=action,
                power_w=model.nameplate_w,
                reason=f"{word}: {why}",
                power_target_w=None,
                gpu_power_limit_w=None,
                job_actions=jobs,
            ),
        )

    def held(self, model: ProfileModel, power_w: float) -> int:
        """A device without a lever that still reports: counted at what it draws."""
        key = (model.number, -100, "observed", power_w)
        found = self._index.get(key)
        if found is not None:
            return found
        why = f"hold: no lever, counted at its observed {power_w:,.0f} W"
        return self._add(
            key, DeviceTarget(device_id="", action=Action.HOLD, power_w=power_w, reason=why)
        )

    def _add(self, key: tuple[int, int, str, float | None], target: DeviceTarget) -> int:
        self._index[key] = len(self.targets)
        self.targets.append(target)
        return len(self.targets) - 1


def _word(spec: Level, level: int, model: ProfileModel) -> str:
    if spec.action is Action.RUN and spec.gpu_limit_w is not None and level < model.top:
        return f"cap {spec.gpu_limit_w:,.0f} W"
    return spec.action.value


def render(
    inputs: PolicyInputs,
    scan: Scan,
    run: Outcome,
    limit: SiteLimit,
    latch: Latch,
    market: Market,
    *,
    notes: list[str],
    compensation: Compensation,
) -> Plan:
    templates = _Templates()
    index = array("I", bytes(4 * len(inputs.fleet.devices)))
    settings = inputs.settings
    for group in scan.groups:
        rest = templates.level(
            group.model,
            group.level,
            _rest_why(
                group,
                market,
                latch,
                run.restore_block,
                run.deferred_shed,
                settings.max_cycles_per_day,
                inputs,
            ),
        )
        for i in group.indices:
            index[i] = rest
    for shed in run.sheds:
        t = templates.level(shed.group.model, shed.level, shed.why, shed.partial_w)
        for i in shed.group.indices[shed.start : shed.end]:
            index[i] = t
    for number, devices in sorted(scan.unknown.items()):
        model = scan.models[number]
        # During an event, a unit that stopped answering is still told to shed: many
        # keep taking writes while their reads time out, and a grid instruction is worth it.
        event_on = bool(limit.active_event_ids)
        action, why = _unknown_target(model, market, latch, limit, run.grid_binding or event_on)
        t = templates.fixed(model, action, why)
        for i in devices:
            index[i] = t
    for number, devices in sorted(scan.held.items()):
        model = scan.models[number]
        why = "no lever" if model.profile.spec else "model not in the table"
        t = templates.fixed(model, Action.HOLD, f"{why}, counted at {model.nameplate_w:,.0f} W")
        for i in devices:
            power = scan.held_power.get(i)
            index[i] = t if power is None else templates.held(model, power)
    unknown_n = sum(len(v) for v in scan.unknown.values())
    if unknown_n:
        unknown_w = sum(scan.models[m].nameplate_w * len(v) for m, v in scan.unknown.items())
        notes.append(
            f"{unknown_n} devices in unknown state counted at nameplate ({unknown_w / 1e6:.3f} MW)"
        )
    return Plan(
        now=inputs.now,
        expected_site_w=run.planned_w,
        limit_w=limit.limit_w,
        observed_site_w=scan.observed_w,
        notes=tuple(notes),
        stale=market.stale_note is not None,
        relay_latched=latch.latched,
        infeasible=run.infeasible,
        fleet=inputs.fleet,
        template_index=index,
        templates=tuple(templates.targets),
        delays=dict(sorted(run.delays.items())),
        compensation=compensation,
    )


def compensate(fleet: Fleet, scan: Scan, grid_sheds: list[Shed]) -> Compensation:
    """Which of this plan's grid sheds stand in for the stuck devices' excess draw.

    Grid sheds go cheapest first, so the last ones are those the limit would not
    have needed had the stuck devices shed: walk back from the end until they cover it.
    """
    if not scan.stuck_excess:
        return Compensation()
    devices = fleet.devices
    excess = sum(scan.stuck_excess.values())
    stuck = tuple(sorted(devices[i].device_id for i in scan.stuck_excess))
    covered, shed = 0.0, dict[str, float]()
    for record in reversed(grid_sheds):
        model = record.group.model
        if record.partial_w is not None:
            each = record.partial_w
        else:
            each = model.levels[record.level + 1].power_w - model.levels[record.level].power_w
        for i in reversed(record.group.indices[record.start : record.end]):
            if covered >= excess - 1e-6:
                break
            # A device shed over several steps (a GPU node capped, then drained) stands
            # in with all of them: each step adds to what it covers, none replaces another.
            device_id = devices[i].device_id
            shed[device_id] = shed.get(device_id, 0.0) + each
            covered += each
    # The walk can overshoot with a big last step; name no device the excess does not need.
    for device_id, each in sorted(shed.items(), key=lambda item: (item[1], item[0])):
        if covered - each >= excess - 1e-6:
            del shed[device_id]
            covered -= each
    return Compensation(stuck, tuple(sorted(shed)), excess)


def _unknown_target(
    model: ProfileModel, market: Market, latch: Latch, limit: SiteLimit, grid_binding: bool
) -> tuple[Action, str]:
    counted = f"state unknown, counted at nameplate {model.nameplate_w:,.0f} W"
    shed_action = model.levels[0].action
    if shed_action is Action.RUN:  # a GPU node that can only be capped: nothing to switch off
        return Action.HOLD, counted
    if latch.latched:
        return shed_action, f"{latch.note} ({counted})"
    if grid_binding:
        return shed_action, f"{limit.label} ({counted})"
    top = model.steps[-1]
    verdict = market.verdicts[top.key]
    if verdict.econ is Econ.OFF:
        return shed_action, f"{verdict.off_text} ({counted})"
    return Action.HOLD, counted


def _rest_why(
    group: Group,
    market: Market,
    latch: Latch,
    restore_block: str,
    deferred_shed: str,
    max_cycles: int,
    inputs: PolicyInputs,
) -> str:
    model, level = group.model, group.level
    if group.pin == PIN_CYCLES:
        pin = f"held: {max_cycles} cycles today reached"
    else:
        dwell = inputs.settings.min_on_dwell_s if level else inputs.settings.min_off_dwell_s
        pin = f"held: min {'on' if level else 'off'}-dwell {dwell / 60:.0f} min not elapsed"
    if level < model.top:
        verdict = market.verdicts[model.steps[level].key]
        if latch.latched and verdict.econ is Econ.ON:
            return latch.note or ""
        if verdict.econ is not Econ.ON:
            return verdict.off_text
        if group.pin != PIN_FREE:
            return f"{verdict.on_text}; {pin}"
        return f"{verdict.on_text}; {restore_block}" if restore_block else verdict.on_text
    verdict = market.verdicts[model.steps[level - 1].key]
    if verdict.econ is not Econ.OFF:
        return verdict.on_text
    if group.pin != PIN_FREE:
        return f"{verdict.off_text}; {pin}"
    return f"{verdict.off_text}; {deferred_shed}" if deferred_shed else verdict.off_text
