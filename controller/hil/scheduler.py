"""The simulated site's job scheduler: what the fast mode assumes a GPU node's drain does.

The fast mode replays a drain as the node's jobs stopping and a resume as them running
again at the node's load (controller/backtest/units.py, ``NodeUnit``), with a
checkpoint and a requeue each costing the contract's price. The real controller asks
a scheduler for those (controller/reconcile/scheduler.py); this one acts on the
simulated nodes at once and counts the interruptions for the accounting. It stands in
for Slurm only inside the replay: a site config without a scheduler could not drain
in life (the controller answers ``drain unsupported``), which the report notes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from drivers.scheduler import ActionReport, Job, JobClass, NodeStatus, Requeue
from simulators.gpu.device import GpuNodeDevice

__all__ = ["SimScheduler"]


class SimScheduler:
    """A scheduler over simulated GPU nodes, named by their address (``SchedulerAdapter``)."""

    def __init__(self, nodes: Mapping[str, GpuNodeDevice], loads: Mapping[str, float]) -> None:
        self._nodes = dict(nodes)
        self._loads = dict(loads)  # each node's job load while it runs work
        self._drained: dict[str, str] = {}  # node -> the drain's reason
        self.checkpoints = 0  # since the last take
        self.requeues = 0
        self.resumes: dict[str, int] = {}  # drain/resume cycles per node

    def take(self) -> tuple[int, int]:
        """Checkpoints and requeues since the last call (the accounting period's)."""
        out = (self.checkpoints, self.requeues)
        self.checkpoints = self.requeues = 0
        return out

    def _report(self, action: str, nodes: Sequence[str]) -> ActionReport:
        return ActionReport(action=action, nodes=tuple(nodes), confirmed=True, elapsed_s=0.0)

    async def nodes(self, names: Sequence[str] | None = None) -> tuple[NodeStatus, ...]:
        out = []
        for name, device in sorted(self._nodes.items()):
            if names is not None and name not in names:
                continue
            busy = device.load() > 0
            reason = self._drained.get(name)
            state = "allocated" if busy else "idle"
            flags = frozenset({"DRAIN"}) if reason is not None else frozenset()
            out.append(NodeStatus(name, state, flags, reason or ""))
        return tuple(out)

    async def jobs(self, nodes: Sequence[str] | None = None) -> tuple[Job, ...]:
        return ()

    async def drain(self, nodes: Sequence[str], reason: str) -> ActionReport:
        for name in nodes:
            if name not in self._drained:
                self._drained[name] = reason
                self._nodes[name].stop_job()
        return self._report("drain", nodes)

    async def resume(self, nodes: Sequence[str]) -> ActionReport:
        for name in nodes:
            if self._drained.pop(name, None) is not None:
                self._nodes[name].start_job(self._loads[name])
                self.resumes[name] = self.resumes.get(name, 0) + 1
        return self._report("resume", nodes)

    async def requeue(self, nodes: Sequence[str], how: Requeue = Requeue()) -> ActionReport:
        self.requeues += len(nodes)
        if how.checkpoint_signal:
            self.checkpoints += len(nodes)
        return self._report("requeue", nodes)

    async def suspend(
        self, nodes: Sequence[str], *, job_class: JobClass = JobClass.INTERRUPTIBLE
    ) -> ActionReport:
        return self._report("suspend", nodes)

    async def resume_jobs(self, job_ids: Sequence[int]) -> ActionReport:
        return self._report("resume_jobs", ())
