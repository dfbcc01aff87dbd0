"""GPU nodes in the scheduler: drain, resume and job actions, and the nodes' schedulable state.

The scheduler adapter confirms every action from the scheduler's own state before
it returns (Slurm: ``sinfo``/``squeue``), so an action that returns is applied. The
loop also needs to *observe* whether a node is schedulable, to diff the plan
against it: :meth:`SchedulerControl.refresh` reads every mapped node's state on
its own interval, and every confirmed action updates that view at once.

A node drained by someone else (its reason is not ours) is left alone: the loop
neither resumes it nor drains it again; the plan says so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from controller import policy
from controller.clock import Clock, wait_any
from controller.config.drivers import SchedulerSettings
from controller.state.fleet import DeviceRecord
from drivers import DriverError, UnsupportedError
from drivers.scheduler import (
    ActionReport,
    NodeStatus,
    Requeue,
    SchedulerAdapter,
    SchedulerNotConfigured,
    UnknownSchedulerNode,
)

__all__ = ["REASON_PREFIX", "ActionOutcome", "NodeView", "SchedulerControl"]

log = logging.getLogger(__name__)

REASON_PREFIX = "hashpivot: "  # marks the drains this controller made
_MAX_REASON = 200


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """A scheduler action as the dispatcher sees it: confirmed from the scheduler's state."""

    applied: bool
    detail: str


@dataclass(frozen=True, slots=True)
class NodeView:
    schedulable: bool | None  # None: the scheduler does not say (down, unknown, unread)
    foreign: str | None = None  # drained by someone else: their reason


def _view(status: NodeStatus) -> NodeView:
    if status.drain_set:
        if status.reason.startswith(REASON_PREFIX.strip()):
            return NodeView(False)
        return NodeView(False, status.reason or "no reason given")
    if status.state in {"down", "unknown", "future"}:
        return NodeView(None)
    return NodeView(True)


class SchedulerControl:
    """One scheduler (a Slurm cluster) behind the loop's GPU commands."""

    def __init__(
        self,
        adapter: SchedulerAdapter,
        settings: SchedulerSettings,
        *,
        on_read_error: Callable[[str], None] | None = None,
        clock: Clock,
    ) -> None:
        self.clock = clock
        self.adapter = adapter
        self.settings = settings
        self._views: dict[str, NodeView] = {}  # scheduler node name -> view
        self.error: str | None = None  # the last refresh's failure; None when it worked
        self.refreshed = asyncio.Event()  # set after the first read that worked
        # Counts a failed read by its error code (the metrics' counter).
        self.on_read_error: Callable[[str], None] = on_read_error or (lambda code: None)

    # ---- mapping and observation -------------------------------------------------------

    def node_for(self, record: DeviceRecord) -> str:
        """The scheduler's name for a GPU node, by device id first, then by address."""
        nodes = self.settings.node_map.nodes
        for key in (record.identity.device_id, record.identity.endpoint.host):
            if key in nodes:
                return nodes[key]
        raise UnknownSchedulerNode(
            self.settings.node_map.cluster,
            f"GPU node {record.identity.device_id} has no entry in scheduler.nodes",
        )

    def view(self, record: DeviceRecord) -> NodeView:
        try:
            name = self.node_for(record)
        except UnknownSchedulerNode:
            return NodeView(None)
        return self._views.get(name, NodeView(None))

    async def refresh(self) -> None:
        """Read every mapped node's state; a failure keeps the last view and is logged once."""
        wanted = set(self.settings.node_map.nodes.values())
        try:
            statuses = await self.adapter.nodes()
        except DriverError as exc:
            self.on_read_error(exc.code)
            if self.error is None:
                log.warning("scheduler %s unreadable: %s", exc.host, exc.message)
            self.error = f"{exc.code}: {exc.message}"
            return
        if self.error is not None:
            log.info("scheduler readable again")
        self.error = None
        found = {s.name: _view(s) for s in statuses if s.name in wanted}
        for name in sorted(wanted - set(found)):
            if name in self._views or not self.refreshed.is_set():
                log.warning("scheduler has no node %s (mapped in scheduler.nodes)", name)
        for name, view in found.items():
            old = self._views.get(name)
            if old is not None and old != view:
                why = f" (drained: {view.foreign})" if view.foreign else ""
                log.info(
                    "scheduler node %s: schedulable %s -> %s%s",
                    name,
                    old.schedulable,
                    view.schedulable,
                    why,
                )
        self._views = found
        self.refreshed.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.refresh()
            await wait_any(self.clock, self.settings.interval_s, stop)

    # ---- actions -----------------------------------------------------------------------

    def timeout_s(self) -> float:
        return self.settings.action_timeout_s

    async def apply(self, record: DeviceRecord, command: policy.GpuCommand) -> ActionOutcome:
        try:
            node = self.node_for(record)
        except SchedulerNotConfigured as exc:
            raise UnsupportedError(record.identity.endpoint.host, exc.message) from None
        try:
            return await self._apply(node, command)
        except SchedulerNotConfigured as exc:
            # Missing tools or an unknown node: retrying cannot help, the config must change.
            raise UnsupportedError(record.identity.endpoint.host, exc.message) from None

    async def _apply(self, node: str, command: policy.GpuCommand) -> ActionOutcome:
        adapter, settings = self.adapter, self.settings
        if isinstance(command, policy.Drain):
            reason = (REASON_PREFIX + command.reason)[:_MAX_REASON]
            report = await adapter.drain([node], reason)
            self._views[node] = NodeView(False)
            return _outcome(report)
        if isinstance(command, policy.Resume):
            report = await adapter.resume([node])
            self._views[node] = NodeView(True)
            return _outcome(report)
        if isinstance(command, policy.CheckpointJobs):
            # Slurm signals and requeues in one action (the requeue waits out the grace);
            # the plan always follows a checkpoint with the requeue or suspend it prepares.
            signal = settings.checkpoint_signal
            what = f"signal {signal} is sent with the requeue" if signal else "no signal set"
            return ActionOutcome(True, f"{node}: {what}")
        if isinstance(command, policy.RequeueJobs):
            how = Requeue(
                checkpoint_signal=settings.checkpoint_signal, grace_s=settings.checkpoint_grace_s
            )
            report = await adapter.requeue([node], how)
            return _outcome(report)
        if isinstance(command, policy.SuspendJobs):
            return _outcome(await adapter.suspend([node]))
        raise UnsupportedError(node, f"the scheduler takes no {type(command).__name__}")


def _outcome(report: ActionReport) -> ActionOutcome:
    parts = [f"{report.action} {','.join(report.nodes)}"]
    if report.jobs:
        parts.append(f"jobs {list(report.jobs)}")
    if report.left_alone:
        parts.append(f"left alone {list(report.left_alone)}")
    if report.ended_in_grace:
        parts.append(f"ended in grace {list(report.ended_in_grace)}")
    if report.detail:
        parts.append(report.detail)
    parts.extend(report.notes)
    return ActionOutcome(report.confirmed, "; ".join(parts))
