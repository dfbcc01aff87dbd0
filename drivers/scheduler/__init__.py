"""AI job schedulers: the levers over the jobs on GPU nodes (drain, requeue, suspend).

:class:`SchedulerAdapter` is the seam; Slurm is the one implementation. A Kubernetes
adapter (cordon, drain by eviction, uncordon) would be a second; none is faked here.
"""

from __future__ import annotations

from drivers.scheduler import base, errors

# The seam and its exception tree, each as its module's __all__ lists them.
from drivers.scheduler.base import *  # noqa: F403
from drivers.scheduler.errors import *  # noqa: F403
from drivers.scheduler.slurm import SlurmAdapter, SlurmSettings

__all__ = ["SlurmAdapter", "SlurmSettings"]
__all__ += base.__all__
__all__ += errors.__all__
