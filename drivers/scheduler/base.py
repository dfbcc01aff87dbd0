"""The scheduler seam: what the controller asks of any AI job scheduler.

Slurm implements it today (:mod:`drivers.scheduler.slurm`). A Kubernetes adapter
would map ``drain`` to cordon plus eviction, ``resume`` to uncordon, and
``requeue`` to evicting pods of the interruptible class; it is not written yet.

Every action reads the scheduler's state back and returns an :class:`ActionReport`
only once that state shows the change; otherwise it raises ActionNotConfirmed.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from drivers.scheduler.errors import UnknownSchedulerNode

__all__ = [
    "ActionReport",
    "ClassRule",
    "Job",
    "JobClass",
    "NodeMap",
    "NodeStatus",
    "Requeue",
    "SchedulerAdapter",
]


class JobClass(enum.StrEnum):
    CONTRACTED = "contracted"  # paid-for capacity: never touched by curtailment
    INTERRUPTIBLE = "interruptible"  # spot / preemptible work that can checkpoint


@dataclass(frozen=True, slots=True)
class ClassRule:
    """How the site marks interruptible jobs: by partition, QOS or job comment.

    Anything not matched is contracted, so a mislabelled job is never interrupted.
    """

    by: Literal["partition", "qos", "comment"] = "partition"
    interruptible: frozenset[str] = frozenset({"interruptible"})

    def classify(self, partition: str, qos: str, comment: str) -> JobClass:
        value = {"partition": partition, "qos": qos, "comment": comment}[self.by]
        return JobClass.INTERRUPTIBLE if value in self.interruptible else JobClass.CONTRACTED


@dataclass(frozen=True, slots=True)
class NodeStatus:
    name: str
    state: str  # the base state, lower case: idle, allocated, mixed, down, ...
    flags: frozenset[str] = frozenset()  # DRAIN, NOT_RESPONDING, ... upper case
    reason: str = ""

    @property
    def drain_set(self) -> bool:
        """Drain requested: DRAINING while jobs run, DRAINED once empty."""
        return "DRAIN" in self.flags

    @property
    def drained(self) -> bool:
        return self.drain_set and self.state in {"idle", "down"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    job_id: int
    name: str
    state: str  # upper case, as Slurm prints it: RUNNING, PENDING, SUSPENDED, ...
    nodes: tuple[str, ...]
    job_class: JobClass
    partition: str = ""
    qos: str = ""
    comment: str = ""
    restarts: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Requeue:
    """How to requeue a class's running jobs: signal them to checkpoint, give them
    ``grace_s`` to write it, then requeue what still runs (no signal: requeue at once)."""

    job_class: JobClass = JobClass.INTERRUPTIBLE
    checkpoint_signal: str | None = "USR1"
    grace_s: float = 300.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionReport:
    action: str
    nodes: tuple[str, ...]
    confirmed: bool
    elapsed_s: float
    jobs: tuple[int, ...] = ()  # jobs the action acted on
    left_alone: tuple[int, ...] = ()  # jobs on the nodes it did not touch (contracted)
    ended_in_grace: tuple[int, ...] = ()  # jobs that finished after the checkpoint signal
    detail: str = ""
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class NodeMap:
    """GPU node (device id or host) -> scheduler node name, from the site config."""

    nodes: Mapping[str, str]
    cluster: str = "slurm"

    def scheduler_node(self, device: str) -> str:
        try:
            return self.nodes[device]
        except KeyError:
            raise UnknownSchedulerNode(
                self.cluster, f"GPU node {device!r} has no scheduler node in the site config"
            ) from None

    def scheduler_nodes(self, devices: Sequence[str]) -> tuple[str, ...]:
        return tuple(self.scheduler_node(d) for d in devices)


class SchedulerAdapter(Protocol):
    """The levers over AI jobs; each raises a SchedulerError subclass on failure."""

    async def nodes(self, names: Sequence[str] | None = None) -> tuple[NodeStatus, ...]: ...

    async def jobs(self, nodes: Sequence[str] | None = None) -> tuple[Job, ...]: ...

    async def drain(self, nodes: Sequence[str], reason: str) -> ActionReport: ...

    async def resume(self, nodes: Sequence[str]) -> ActionReport: ...

    async def requeue(self, nodes: Sequence[str], how: Requeue = Requeue()) -> ActionReport: ...

    async def suspend(
        self, nodes: Sequence[str], *, job_class: JobClass = JobClass.INTERRUPTIBLE
    ) -> ActionReport: ...

    async def resume_jobs(self, job_ids: Sequence[int]) -> ActionReport: ...
