"""Scheduler failures, under the one driver root; ``host`` is the cluster's name."""

from __future__ import annotations

from drivers.errors import DeviceStatusError, DeviceTimeout, DriverError, WriteNotApplied

__all__ = [
    "ActionNotConfirmed",
    "SchedulerCommandFailed",
    "SchedulerError",
    "SchedulerNotConfigured",
    "SchedulerTimeout",
    "UnknownSchedulerNode",
]


class SchedulerError(DriverError):
    """Root of the scheduler adapters' errors."""

    code = "scheduler"


class SchedulerNotConfigured(SchedulerError):
    """The scheduler's tools are missing or the adapter is set up wrong: fix the config."""

    code = "scheduler_config"


class UnknownSchedulerNode(SchedulerNotConfigured):
    """A GPU node with no scheduler node mapped to it, or a name the scheduler does not know."""

    code = "scheduler_unknown_node"


class SchedulerCommandFailed(SchedulerError, DeviceStatusError):
    """A scheduler command exited non-zero; ``device_msg`` holds its stderr."""

    code = "scheduler_command"


class SchedulerTimeout(SchedulerError, DeviceTimeout):
    """A scheduler command did not finish within its deadline (it was killed)."""

    code = "scheduler_timeout"


class ActionNotConfirmed(SchedulerError, WriteNotApplied):
    """The command succeeded but the scheduler's own state does not show the change in time."""

    code = "scheduler_not_confirmed"
