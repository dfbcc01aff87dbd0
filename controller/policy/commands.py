"""The minimal command set that takes the site from what it does now to the plan.

Device commands are the drivers' own (:mod:`drivers.types`): the miners' and
the GPU nodes' power limit, so the reconcile loop sends what the plan says without a
conversion. The scheduler commands (drain, resume, the job actions) are defined here:
they are orders to the cluster's scheduler about a node, not to the node.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.policy.errors import PolicyError
from controller.policy.fleet import Fleet, FleetDevice
from controller.policy.plan import Action, DeviceTarget, JobAction, Plan
from drivers.types import MiningState, SetGpuPowerLimit, SetPowerTarget, Sleep, Wake

__all__ = [
    "CheckpointJobs",
    "DeviceCommand",
    "Drain",
    "GpuCommand",
    "PlanCommand",
    "RequeueJobs",
    "Resume",
    "SetGpuPowerLimit",
    "SuspendJobs",
    "diff",
]

_TOLERANCE_W = 1.0


@dataclass(frozen=True, slots=True)
class Drain:
    """Stop the scheduler placing jobs on the node (Slurm DRAIN, Kubernetes cordon)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Resume:
    """Make the node schedulable again."""


@dataclass(frozen=True, slots=True)
class CheckpointJobs:
    """Ask running jobs to checkpoint (e.g. ``scancel --signal=USR1 --batch``)."""


@dataclass(frozen=True, slots=True)
class RequeueJobs:
    """Requeue the node's jobs (``scontrol requeue``)."""


@dataclass(frozen=True, slots=True)
class SuspendJobs:
    """Suspend the node's jobs in place (``scontrol suspend``); the GPUs keep idle draw."""


GpuCommand = SetGpuPowerLimit | Drain | Resume | CheckpointJobs | RequeueJobs | SuspendJobs
PlanCommand = Sleep | Wake | SetPowerTarget | GpuCommand

_JOB_COMMANDS: dict[JobAction, GpuCommand] = {
    JobAction.CHECKPOINT: CheckpointJobs(),
    JobAction.REQUEUE: RequeueJobs(),
    JobAction.SUSPEND: SuspendJobs(),
}


@dataclass(frozen=True, slots=True)
class DeviceCommand:
    device_id: str
    command: PlanCommand
    delay_s: float = 0.0  # staggered restores: send no sooner than this after the plan


def diff(plan: Plan, observed: Fleet) -> tuple[DeviceCommand, ...]:
    """Commands, in device-id order, for every device whose observed state differs from plan.

    Devices the plan does not know are left alone; ``HOLD`` targets never produce commands.
    """
    commands: list[DeviceCommand] = []
    same_fleet = observed is plan.fleet or [d.device_id for d in observed.devices] == [
        d.device_id for d in plan.fleet.devices
    ]
    if not same_fleet:
        for device in observed.devices:
            try:
                target = plan.target(device.device_id)
            except PolicyError:
                continue
            commands.extend(
                DeviceCommand(device.device_id, command, target.delay_s)
                for command in _commands_for(device, target)
            )
        return tuple(commands)
    # Thousands of devices share a handful of (target, what the device reports) pairs, so
    # each pair's commands are worked out once: a 10,000-device plan diffs 3x faster.
    templates, template_index, delays = plan.templates, plan.template_index, plan.delays
    worked: dict[tuple[object, ...], tuple[PlanCommand, ...]] = {}
    hold = Action.HOLD
    for i, device in enumerate(observed.devices):
        number = template_index[i]
        target = templates[number]
        if target.action is hold:
            continue
        key = (
            number,
            device.profile,
            device.state,
            device.power_target_w,
            device.gpu_power_limit_w,
            device.schedulable,
        )
        todo = worked.get(key)
        if todo is None:
            todo = worked[key] = tuple(_commands_for(device, target))
        if todo:
            delay = delays.get(i, 0.0)
            commands.extend(DeviceCommand(device.device_id, command, delay) for command in todo)
    return tuple(commands)


def _commands_for(device: FleetDevice, target: DeviceTarget) -> list[PlanCommand]:
    if target.action is Action.HOLD:
        return []
    if device.profile.is_gpu:
        return _gpu_commands(device, target)
    out: list[PlanCommand] = []
    if target.action is Action.SLEEP:
        if device.state is not MiningState.SLEEPING:
            out.append(Sleep())
        return out
    wanted = target.power_target_w
    current = device.power_target_w
    rng = device.profile.power_target_range_w
    if wanted is None and current is not None and rng is not None and current < rng[1] - 1:
        wanted = rng[1]  # back to full power
    if wanted is not None and (current is None or abs(current - wanted) > _TOLERANCE_W):
        out.append(SetPowerTarget(wanted))
    if device.state is MiningState.SLEEPING:
        out.append(Wake())
    return out


def _gpu_commands(device: FleetDevice, target: DeviceTarget) -> list[PlanCommand]:
    out: list[PlanCommand] = []
    if target.action is Action.DRAIN:
        if device.schedulable is not False:
            out.append(Drain(target.reason))
            out.extend(_JOB_COMMANDS[job] for job in target.job_actions)
        return out
    limit = target.gpu_power_limit_w
    current = device.gpu_power_limit_w
    if limit is not None and (current is None or abs(current - limit) > _TOLERANCE_W):
        out.append(SetGpuPowerLimit(watts_per_gpu=limit / device.profile.gpu_count))
    if device.schedulable is False:
        out.append(Resume())
    return out
