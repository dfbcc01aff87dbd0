"""Reading plans back in test terms: levels, sheds, what hashes."""

from __future__ import annotations

from controller.policy import Action, AiClass, DeviceTarget, FleetDevice, Plan
from drivers import MiningState


def observed_level(device: FleetDevice) -> int:
    """0 off, 1 capped (GPU), 2 full: a common scale for miners and GPU nodes."""
    if device.profile.is_gpu:
        if device.schedulable is False:
            return 0
        rng = device.profile.gpu_power_limit_range_w
        assert rng is not None
        capped = device.gpu_power_limit_w is not None and device.gpu_power_limit_w < rng[1] - 1
        return 1 if capped and device.profile.ai_class is not AiClass.IDLE else 2
    return 0 if device.state is MiningState.SLEEPING else 2


def planned_level(device: FleetDevice, target: DeviceTarget) -> int:
    if target.action is Action.HOLD:
        return observed_level(device)
    if target.action in (Action.SLEEP, Action.DRAIN):
        return 0
    if device.profile.is_gpu:
        rng = device.profile.gpu_power_limit_range_w
        assert rng is not None
        assert target.gpu_power_limit_w is not None
        return 1 if target.gpu_power_limit_w < rng[1] - 1 else 2
    if target.power_target_w is not None:
        return 1
    return 2


def pairs(plan: Plan) -> list[tuple[FleetDevice, DeviceTarget]]:
    return list(zip(plan.fleet.devices, plan.targets(), strict=True))


def hashing(plan: Plan) -> set[str]:
    return {
        d.device_id
        for d, t in pairs(plan)
        if (not d.profile.is_gpu and t.action is Action.RUN)
        or (t.action is Action.HOLD and not d.profile.is_gpu and observed_level(d) > 0)
    }
