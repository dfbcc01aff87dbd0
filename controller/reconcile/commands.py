"""Plan commands as the loop names, ranks and sends them.

Miner commands go to the device's driver. GPU-node commands go through
:class:`GpuControl`: power limits through the node driver's ``apply`` (the
``drivers.gpu`` command type), drain/resume and job actions through a scheduler
adapter when one is configured. Until the scheduler adapter lands, those answer
``unsupported`` and the result says so.
"""

from __future__ import annotations

from typing import Protocol

import drivers.gpu
from controller import policy
from controller.domain import CommandOutcome, SetPowerTarget, Sleep, Wake
from controller.fleet import DeviceRecord
from controller.reconcile.gate import Priority
from drivers import UnsupportedError

__all__ = [
    "DriverGpuControl",
    "GpuControl",
    "command_name",
    "is_shed",
    "priority_of",
    "send",
]


def command_name(command: policy.PlanCommand) -> str:
    if isinstance(command, Sleep):
        return "sleep"
    if isinstance(command, Wake):
        return "wake"
    if isinstance(command, SetPowerTarget):
        return f"set_power_target:{command.watts:.0f}"
    if isinstance(command, policy.SetGpuPowerLimit):
        return f"set_gpu_power_limit:{command.per_gpu_w:.0f}"
    if isinstance(command, policy.Drain):
        return "drain"
    if isinstance(command, policy.Resume):
        return "resume"
    if isinstance(command, policy.CheckpointJobs):
        return "checkpoint_jobs"
    if isinstance(command, policy.RequeueJobs):
        return "requeue_jobs"
    return "suspend_jobs"


def is_shed(command: policy.PlanCommand, record: DeviceRecord | None) -> bool:
    """Whether the command lowers the device's draw."""
    if isinstance(command, Sleep | policy.Drain | policy.CheckpointJobs):
        return True
    if isinstance(command, policy.RequeueJobs | policy.SuspendJobs):
        return True
    telemetry = record.telemetry if record is not None else None
    current = telemetry.power_limit_w if telemetry is not None else None
    if isinstance(command, SetPowerTarget):
        return current is None or command.watts < current
    if isinstance(command, policy.SetGpuPowerLimit):
        gpus = 8
        return current is None or command.per_gpu_w * gpus < current
    return False


def priority_of(
    command: policy.PlanCommand, record: DeviceRecord | None, grid_binding: bool
) -> Priority:
    if not is_shed(command, record):
        return Priority.RESTORE
    return Priority.GRID if grid_binding else Priority.ECONOMIC


class GpuControl(Protocol):
    """Where GPU-node commands go. Raises DriverError subclasses like a driver."""

    async def apply(self, record: DeviceRecord, command: policy.GpuCommand) -> CommandOutcome: ...


class DriverGpuControl:
    """Power limits through the node driver; scheduler actions are not wired yet."""

    async def apply(self, record: DeviceRecord, command: policy.GpuCommand) -> CommandOutcome:
        host = record.identity.endpoint.host
        if isinstance(command, policy.SetGpuPowerLimit):
            apply = getattr(record.driver, "apply")  # noqa: B009 - GPU drivers take their own type
            outcome: CommandOutcome = await apply(
                drivers.gpu.SetGpuPowerLimit(watts_per_gpu=command.per_gpu_w)
            )
            return outcome
        raise UnsupportedError(
            host, f"{command_name(command)} needs the scheduler adapter, which is not configured"
        )


async def send(
    record: DeviceRecord, command: policy.PlanCommand, gpu: GpuControl
) -> CommandOutcome:
    if isinstance(command, Sleep | Wake | SetPowerTarget):
        return await record.driver.apply(command)
    return await gpu.apply(record, command)
