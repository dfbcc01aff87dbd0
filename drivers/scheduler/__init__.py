"""AI job schedulers: the levers over the jobs on GPU nodes (drain, requeue, suspend).

:class:`SchedulerAdapter` is the seam; Slurm is the one implementation. A Kubernetes
adapter (cordon, drain by eviction, uncordon) would be a second; none is faked here.
"""

from __future__ import annotations

from drivers.scheduler.base import (
    ActionReport,
    ClassRule,
    Job,
    JobClass,
    NodeMap,
    NodeStatus,
    SchedulerAdapter,
)
from drivers.scheduler.errors import (
    ActionNotConfirmed,
    SchedulerCommandFailed,
    SchedulerError,
    SchedulerNotConfigured,
    SchedulerTimeout,
    UnknownSchedulerNode,
)
from drivers.scheduler.slurm import SlurmAdapter, SlurmSettings

__all__ = [
    "ActionNotConfirmed",
    "ActionReport",
    "ClassRule",
    "Job",
    "JobClass",
    "NodeMap",
    "NodeStatus",
    "SchedulerAdapter",
    "SchedulerCommandFailed",
    "SchedulerError",
    "SchedulerNotConfigured",
    "SchedulerTimeout",
    "SlurmAdapter",
    "SlurmSettings",
    "UnknownSchedulerNode",
]
