"""One pass over the fleet: sort devices into groups of (profile, level, pin).

This is the only per-device loop before the output is written, so it reads each
device's attributes once and keys groups by small integers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from controller.policy._levers import ProfileModel
from controller.policy.fleet import DeviceProfile, FleetDevice
from controller.policy.plan import Action
from controller.policy.settings import PolicySettings
from controller.state.domain import Health
from drivers.types import MiningState

__all__ = ["PIN_CYCLES", "PIN_DWELL", "PIN_FREE", "Group", "Scan", "scan_fleet"]

PIN_FREE, PIN_DWELL, PIN_CYCLES = 0, 1, 2
_BAD_HEALTH = frozenset({Health.UNKNOWN, Health.UNREACHABLE})
_BAD_STATE = frozenset({MiningState.UNKNOWN, MiningState.FAULT})


@dataclass(slots=True, kw_only=True)
class Group:
    """Devices of one profile observed at one level with one pin, in device-id order.

    Sheds take devices from the front down a level (``down[t]``: how many front
    devices end at level <= t); restores take them from the front up (``up[t]``:
    how many end at level >= t). A group only ever moves one way within a plan.
    """

    model: ProfileModel
    level: int
    pin: int
    indices: list[int]
    down: list[int] = field(default_factory=list)
    up: list[int] = field(default_factory=list)
    segments: list[tuple[int, int, int]] = field(default_factory=list)  # start, end, template

    def __post_init__(self) -> None:
        self.down = [0] * self.level
        self.up = [0] * (self.model.top + 1)

    def span_at(self, level: int) -> tuple[int, int]:
        """Positions planned at ``level`` right now."""
        n = len(self.indices)
        if level <= self.level:
            start = self.down[level - 1] if level > 0 else 0
            end = self.down[level] if level < self.level else n
            if level == self.level and any(self.up[self.level + 1 :]):
                start = max(start, self.up[self.level + 1])
            return start, end
        start = self.up[level + 1] if level < self.model.top else 0
        return start, self.up[level]


@dataclass(slots=True, kw_only=True)
class Scan:
    models: list[ProfileModel]
    groups: list[Group]
    unknown: dict[int, list[int]]  # model number -> devices whose state is unknown
    held: dict[int, list[int]]  # model number -> devices with no lever
    observed_w: float
    # Held devices that report a fresh reading count at it, not at nameplate: device -> W.
    held_power: dict[int, float] = field(default_factory=dict)
    # Stuck devices (failed to act) and how far they draw above their floor: device -> W.
    stuck_excess: dict[int, float] = field(default_factory=dict)
    # Miners still ramping after a wake draw less than their level counts them at; the
    # meter less the counted fleet would mistake that gap for negative other load.
    ramp_shortfall_w: float = 0.0

    def held_w(self) -> float:
        power, models = self.held_power, self.models
        return sum(power.get(i, models[m].nameplate_w) for m, ix in self.held.items() for i in ix)


def scan_fleet(
    devices: tuple[FleetDevice, ...],
    now: float,
    settings: PolicySettings,
    build: Callable[[int, DeviceProfile], ProfileModel],
) -> Scan:
    models: list[ProfileModel] = []
    # profile -> (number, kind, top limit, nameplate, level powers); kind 0 held, 1 miner, 2 gpu
    info: dict[DeviceProfile, tuple[int, int, float, float, tuple[float, ...]]] = {}
    buckets: dict[int, list[int]] = {}
    unknown: dict[int, list[int]] = {}
    held: dict[int, list[int]] = {}
    held_power: dict[int, float] = {}
    stuck_excess: dict[int, float] = {}
    observed = shortfall = 0.0
    oldest = now - settings.max_device_age_s
    on_dwell, off_dwell = settings.min_on_dwell_s, settings.min_off_dwell_s
    max_cycles = settings.max_cycles_per_day
    sleeping, starting = MiningState.SLEEPING, MiningState.STARTING
    for i, device in enumerate(devices):
        profile = device.profile
        known = info.get(profile)
        if known is None:
            model = build(len(models), profile)
            models.append(model)
            kind = 0 if not model.levels else (2 if profile.is_gpu else 1)
            top_limit = (model.levels[-1].gpu_limit_w or 0.0) if model.levels else 0.0
            powers = tuple(level.power_w for level in model.levels)
            known = info[profile] = (model.number, kind, top_limit, model.nameplate_w, powers)
        number, kind, top_limit, nameplate, powers = known
        power = device.power_w
        unknown_state = (
            device.health in _BAD_HEALTH
            or device.state in _BAD_STATE
            or (device.observed_at is not None and device.observed_at < oldest)
        )
        if kind == 0 or unknown_state:
            (held if kind == 0 else unknown).setdefault(number, []).append(i)
            observed += nameplate if power is None else power
            counted = nameplate
            if kind == 0 and not unknown_state and power is not None:
                counted = held_power[i] = power  # still reporting: count what it draws
            if device.stuck:
                spec = profile.spec
                floor = spec.sleep_w if spec is not None else 0.0
                if counted > floor:
                    stuck_excess[i] = counted - floor
            continue
        if kind == 1:
            level = 0 if device.state is sleeping else 1
        else:
            level = _gpu_level(device, models[number], top_limit)
        last = device.last_state_change_at
        if device.cycles_today >= max_cycles:
            pin = PIN_CYCLES
        elif last is not None and now - last < (on_dwell if level else off_dwell):
            pin = PIN_DWELL
        else:
            pin = PIN_FREE
        if power is None:
            observed += powers[level]
        else:
            observed += power
            if device.state is starting and power < powers[level]:
                shortfall += powers[level] - power
        key = (number << 4) | (level << 2) | pin
        bucket = buckets.get(key)
        if bucket is None:
            buckets[key] = [i]
        else:
            bucket.append(i)
    groups = [
        Group(model=models[key >> 4], level=(key >> 2) & 3, pin=key & 3, indices=indices)
        for key, indices in sorted(buckets.items())
    ]
    return Scan(
        models=models,
        groups=groups,
        unknown=unknown,
        held=held,
        observed_w=observed,
        held_power=held_power,
        stuck_excess=stuck_excess,
        ramp_shortfall_w=shortfall,
    )


def _gpu_level(device: FleetDevice, model: ProfileModel, top_limit: float) -> int:
    drainable = model.levels[0].action is Action.DRAIN
    if drainable and device.schedulable is False:
        return 0
    limit = device.gpu_power_limit_w
    capped = limit is not None and limit < top_limit - 1.0
    if len(model.levels) == 3:
        return 1 if capped else 2
    if drainable:
        return 1
    return 0 if capped else 1
