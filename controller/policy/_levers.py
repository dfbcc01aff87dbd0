"""Per-profile power levels and levers, computed once per plan.

A device sits at one of a few *levels* (a miner: asleep or hashing; a GPU node:
drained, capped or at full power). A *step* is the lever between two adjacent
levels; its value per MWh is what shedding it gives up. Every device of a profile
shares these numbers, so the engine never computes them per device.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from controller.policy.economics import Economics, break_even_usd_per_mwh
from controller.policy.fleet import AiClass, DeviceProfile
from controller.policy.plan import Action, JobAction
from controller.policy.settings import PolicySettings
from drivers.types import Control

__all__ = ["Level", "ProfileModel", "Step", "build_model", "megawatts", "money"]


def money(usd_per_mwh: float) -> str:
    return f"${usd_per_mwh:,.0f}/MWh"


def megawatts(mw: float) -> str:
    return f"{mw:.1f} MW" if abs(mw) >= 1 else f"{mw * 1000:.0f} kW"


@dataclass(frozen=True, slots=True)
class Level:
    power_w: float
    action: Action
    gpu_limit_w: float | None = None
    job_actions: tuple[JobAction, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """The lever from level ``index - 1`` up to level ``index``."""

    index: int
    name: str  # "run" | "cap" | "drain" | "schedule"
    value: float  # USD per MWh given up by shedding it
    delta_w: float
    key: str  # hysteresis memory key, stable across processes
    label: str  # e.g. "break-even $34/MWh"
    always_on: bool  # contracted and idle-schedulable: economics never sheds it
    partial_floor_w: float | None  # lowest draw of the upper level when set part-way


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileModel:
    number: int  # position in the plan's profile table
    profile: DeviceProfile
    levels: tuple[Level, ...]  # empty: no lever at all, the device is held at nameplate
    steps: tuple[Step, ...]
    nameplate_w: float
    tier: int  # 0 flexible, 1 contracted AI (shed last)
    priority: int

    @property
    def top(self) -> int:
        return len(self.levels) - 1


def build_model(
    number: int, profile: DeviceProfile, economics: Economics, settings: PolicySettings
) -> ProfileModel:
    spec = profile.spec
    # With no lever at all the device is held at nameplate; each lever found below is
    # added to this.
    held = ProfileModel(
        number=number,
        profile=profile,
        levels=(),
        steps=(),
        nameplate_w=spec.nameplate_w if spec is not None else settings.unknown_device_w,
        tier=1 if profile.ai_class is AiClass.CONTRACTED else 0,
        priority=settings.priority_of(profile.group),
    )
    if spec is None:
        return held
    base_key = "/".join(
        (
            profile.make.value,
            profile.model,
            profile.ai_class.value if profile.ai_class else "-",
            profile.group or "-",
        )
    )
    for tag, rng in (
        ("pt", profile.power_target_range_w),
        ("gpu", profile.gpu_power_limit_range_w),
    ):
        if rng is not None:
            base_key += f"/{tag}{rng[0]:g}-{rng[1]:g}"
    if not profile.is_gpu:
        if not {Control.SLEEP, Control.WAKE} <= profile.controls or spec.nameplate_ths <= 0:
            return held
        run_w = spec.nameplate_w
        value = break_even_usd_per_mwh(
            economics.hashprice.usd_per_ph_day, run_w / spec.nameplate_ths
        )
        floor = None
        if Control.POWER_TARGET in profile.controls and profile.power_target_range_w:
            floor = min(profile.power_target_range_w[0], run_w)
        step = Step(
            index=1,
            name="run",
            value=value,
            delta_w=run_w - spec.sleep_w,
            key=f"{base_key}/run",
            label=f"break-even {money(value)}",
            always_on=False,
            partial_floor_w=floor,
        )
        levels = (Level(spec.sleep_w, Action.SLEEP), Level(run_w, Action.RUN))
        return replace(held, levels=levels, steps=(step,))
    return _gpu_model(held, economics, settings, base_key)


def _gpu_model(
    held: ProfileModel, economics: Economics, settings: PolicySettings, base_key: str
) -> ProfileModel:
    profile = held.profile
    assert profile.spec is not None
    assert profile.ai_class is not None
    ai = economics.ai_value
    per_gpu_hour = {
        AiClass.CONTRACTED: ai.contracted_usd_per_gpu_hour,
        AiClass.INTERRUPTIBLE: ai.interruptible_usd_per_gpu_hour,
        AiClass.IDLE: ai.idle_usd_per_gpu_hour,
    }[profile.ai_class]
    usd_per_hour = per_gpu_hour * profile.gpu_count
    full_w, idle_w = held.nameplate_w, profile.spec.sleep_w
    rng = profile.gpu_power_limit_range_w
    can_cap = rng is not None and Control.GPU_POWER_LIMIT in profile.controls
    can_cap = can_cap and profile.ai_class is not AiClass.IDLE
    can_drain = Control.DRAIN in profile.controls
    always = profile.ai_class is not AiClass.INTERRUPTIBLE
    who = f"{profile.ai_class.value} AI"
    if profile.ai_class is AiClass.IDLE:
        jobs: tuple[JobAction, ...] = ()
    elif profile.can_requeue:
        jobs = (JobAction.CHECKPOINT, JobAction.REQUEUE)
    else:
        jobs = (JobAction.CHECKPOINT, JobAction.SUSPEND)
    hi_limit = rng[1] if rng else None
    drained = Level(idle_w, Action.DRAIN, None, jobs)
    full = Level(full_w, Action.RUN, hi_limit)

    def step(index: int, name: str, value: float, delta_w: float, floor: float | None) -> Step:
        return Step(
            index=index,
            name=name,
            value=value,
            delta_w=delta_w,
            key=f"{base_key}/{name}",
            label=f"{who} {money(value)}",
            always_on=always,
            partial_floor_w=floor,
        )

    if can_cap:
        assert rng is not None
        capped_w = full_w - (rng[1] - rng[0])
        capped = Level(capped_w, Action.RUN, rng[0])
        thr = settings.gpu_capped_throughput
        cap_value = usd_per_hour * (1 - thr) / ((full_w - capped_w) / 1e6)
        cap = step(2 if can_drain else 1, "cap", cap_value, full_w - capped_w, capped_w)
        if not can_drain:
            return replace(held, levels=(capped, full), steps=(cap,))
        drain_value = max(cap_value, usd_per_hour * thr / ((capped_w - idle_w) / 1e6))
        drain = step(1, "drain", drain_value, capped_w - idle_w, None)
        levels = (drained, capped, full)
        return replace(held, levels=levels, steps=(drain, cap))
    if can_drain:
        name = "schedule" if profile.ai_class is AiClass.IDLE else "drain"
        only = step(1, name, usd_per_hour / ((full_w - idle_w) / 1e6), full_w - idle_w, None)
        return replace(held, levels=(drained, full), steps=(only,))
    return held
