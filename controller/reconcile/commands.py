"""Plan commands as the loop names, ranks and sends them.

Miner commands go to the device's driver. GPU-node commands go through
:class:`GpuControl`: power limits through the node driver's ``apply`` (the
command the plan made, a domain type), drain/resume and job actions through the scheduler
(:mod:`controller.reconcile.scheduler`) when one is configured; without one they
answer ``unsupported``.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol, assert_never

from controller import policy
from controller.reconcile.gate import Priority
from controller.reconcile.scheduler import NodeView, SchedulerControl
from controller.state.fleet import DeviceRecord
from drivers import Control, SetPowerTarget, Sleep, UnsupportedError, Wake

__all__ = [
    "DriverGpuControl",
    "GpuControl",
    "Outcome",
    "command_name",
    "is_shed",
    "lever_of",
    "priority_of",
    "send",
]


def _watts(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def command_name(command: policy.PlanCommand) -> str:
    """The name journaled and used to match a queued job to the next plan's.

    Exhaustive over :data:`policy.PlanCommand`: a new command type fails mypy here
    (``assert_never``) instead of being sent under another command's name.
    """
    match command:
        case Sleep():
            return "sleep"
        case Wake():
            return "wake"
        case SetPowerTarget():
            return f"set_power_target:{command.watts:.0f}"
        case policy.SetGpuPowerLimit():
            return f"set_gpu_power_limit:{_watts(command.watts_per_gpu)}"
        case policy.Drain():
            return "drain"
        case policy.Resume():
            return "resume"
        case policy.CheckpointJobs():
            return "checkpoint_jobs"
        case policy.RequeueJobs():
            return "requeue_jobs"
        case policy.SuspendJobs():
            return "suspend_jobs"
        case _:
            assert_never(command)


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
        return current is None or sum(command.targets(gpus).values()) < current
    return False


def priority_of(
    command: policy.PlanCommand, record: DeviceRecord | None, grid_binding: bool
) -> Priority:
    if not is_shed(command, record):
        return Priority.RESTORE
    return Priority.GRID if grid_binding else Priority.ECONOMIC


class Outcome(Protocol):
    """What a write did: the drivers' CommandOutcome or a scheduler ActionOutcome."""

    @property
    def applied(self) -> bool: ...

    @property
    def detail(self) -> str: ...


class GpuControl(Protocol):
    """Where GPU-node commands go. Raises DriverError subclasses like a driver."""

    async def apply(self, record: DeviceRecord, command: policy.GpuCommand) -> Outcome: ...

    def view(self, record: DeviceRecord) -> NodeView: ...

    def timeout_s(self, command: policy.PlanCommand, default: float) -> float: ...

    async def ready(self) -> None: ...


class DriverGpuControl:
    """Power limits through the node driver; drain, resume and jobs through the scheduler.

    Without a scheduler those answer ``unsupported``; the loop records that once per
    device and plans the node with its power limit alone from then on.
    """

    def __init__(self, scheduler: SchedulerControl | None = None) -> None:
        self.scheduler = scheduler

    async def apply(self, record: DeviceRecord, command: policy.GpuCommand) -> Outcome:
        host = record.identity.endpoint.host
        if isinstance(command, policy.SetGpuPowerLimit):
            return await record.driver.apply(command)
        if self.scheduler is None:
            raise UnsupportedError(
                host, f"{command_name(command)} needs a scheduler; none is configured"
            )
        return await self.scheduler.apply(record, command)

    def view(self, record: DeviceRecord) -> NodeView:
        if self.scheduler is None:
            return NodeView(None)
        return self.scheduler.view(record)

    async def ready(self) -> None:
        """Wait (boundedly) for the scheduler's first reading, so a first plan sees drains."""
        if self.scheduler is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self.scheduler.refreshed.wait(), self.scheduler.settings.action_timeout_s
                )

    def timeout_s(self, command: policy.PlanCommand, default: float) -> float:
        scheduled = isinstance(command, _SCHEDULER_COMMANDS)
        if scheduled and self.scheduler is not None:
            return max(default, self.scheduler.timeout_s())
        return default


_SCHEDULER_COMMANDS = (
    policy.Drain,
    policy.Resume,
    policy.CheckpointJobs,
    policy.RequeueJobs,
    policy.SuspendJobs,
)


def lever_of(command: policy.PlanCommand) -> tuple[str, frozenset[Control]]:
    """The lever a command pulls, and the controls the policy must not count on without it."""
    if isinstance(command, _SCHEDULER_COMMANDS):
        return "drain", frozenset({Control.DRAIN})
    if isinstance(command, policy.SetGpuPowerLimit):
        return "gpu_power_limit", frozenset({Control.GPU_POWER_LIMIT})
    if isinstance(command, SetPowerTarget):
        return "power_target", frozenset({Control.POWER_TARGET})
    return "sleep", frozenset({Control.SLEEP, Control.WAKE})


async def send(record: DeviceRecord, command: policy.PlanCommand, gpu: GpuControl) -> Outcome:
    if isinstance(command, Sleep | Wake | SetPowerTarget):
        return await record.driver.apply(command)
    return await gpu.apply(record, command)
