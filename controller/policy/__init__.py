"""The policy engine: pure, deterministic, no I/O and no clock.

The control loop calls it once per planning interval::

    plan, memory = policy.plan(inputs, memory)   # memory: PolicyMemory, persisted as JSON
    for command in policy.diff(plan, fleet):      # the minimal command set
        ...

Imports only the drivers' plain records from their own modules (``drivers.types``,
``drivers.models``; the ``drivers`` package surface also reaches the code that opens
devices), :mod:`controller.state.domain` and the standard library (import-linter checks it).
"""

from __future__ import annotations

from controller.policy import errors
from controller.policy.commands import (
    CheckpointJobs,
    DeviceCommand,
    Drain,
    GpuCommand,
    PlanCommand,
    RequeueJobs,
    Resume,
    SetGpuPowerLimit,
    SuspendJobs,
    diff,
)
from controller.policy.economics import (
    AiValue,
    DrPayment,
    Economics,
    Hashprice,
    PowerPrice,
    PricePoint,
    blocks_per_day_per_ph,
    break_even_usd_per_mwh,
)
from controller.policy.engine import plan

# The exception tree, as errors.py's __all__ lists it.
from controller.policy.errors import *  # noqa: F403
from controller.policy.fleet import AiClass, DeviceProfile, Fleet, FleetDevice
from controller.policy.grid import EventKind, Grid, GridEvent
from controller.policy.inputs import PolicyInputs
from controller.policy.memory import LeverMemory, PolicyMemory
from controller.policy.plan import Action, Compensation, DeviceTarget, JobAction, Plan
from controller.policy.settings import PolicySettings, SafePolicy

__all__ = [
    "Action",
    "AiClass",
    "AiValue",
    "CheckpointJobs",
    "Compensation",
    "DeviceCommand",
    "DeviceProfile",
    "DeviceTarget",
    "DrPayment",
    "Drain",
    "Economics",
    "EventKind",
    "Fleet",
    "FleetDevice",
    "GpuCommand",
    "Grid",
    "GridEvent",
    "Hashprice",
    "JobAction",
    "LeverMemory",
    "Plan",
    "PlanCommand",
    "PolicyInputs",
    "PolicyMemory",
    "PolicySettings",
    "PowerPrice",
    "PricePoint",
    "RequeueJobs",
    "Resume",
    "SafePolicy",
    "SetGpuPowerLimit",
    "SuspendJobs",
    "blocks_per_day_per_ph",
    "break_even_usd_per_mwh",
    "diff",
    "plan",
]
__all__ += errors.__all__
