"""One serial worker per device, bounded global concurrency, urgent commands first.

Level-triggered: each plan *replaces* what is queued for a device; a command that
the newest plan no longer asks for is dropped before it is sent, never replayed.
A command already on the wire is never cancelled (a half-done read-modify-write is
worse than a finished one); the next plan sees its effect.

A worker exists only while its device has work, so an idle fleet of 10,000 costs
no tasks. Failed sends are retried after the delays in
``ControlSettings.retry_delays_s``; results go to one callback, in completion order.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from controller import policy
from controller.clock import Clock, wait_any
from controller.config.sections import ControlSettings
from controller.reconcile.commands import GpuControl, Outcome, send
from controller.reconcile.gate import Priority, PriorityGate
from controller.reconcile.pacing import WakePacer
from controller.state.fleet import Fleet
from drivers import DriverError, UnsupportedError, Wake, WriteRejected

__all__ = ["CommandResult", "Dispatcher", "Job", "JobOrigin", "SendResult"]

log = logging.getLogger(__name__)

# Retrying these cannot help: the device said no for good, or has no such lever.
_FINAL = (UnsupportedError, WriteRejected)


class JobOrigin(enum.StrEnum):
    """Why a job was queued; journaled with each command (same text as before)."""

    PLAN = "plan"  # the current plan: replaced when the next plan differs
    OVERRIDE = "override"  # an operator's force_sleep
    RECONFIRM = "reconfirm"  # a command whose effect did not show, sent again
    RESTART = "restart"  # a sleep a restart found unconfirmed in the journal


class SendResult(enum.StrEnum):
    """What sending one command came to; journaled as ``command.result``'s ``result``."""

    APPLIED = "applied"  # the device read back the new setting
    ACKNOWLEDGED = "acknowledged"  # the device said yes but cannot show it
    NOT_APPLIED = "not_applied"  # the read-back disagreed; retried
    FAILED = "failed"
    UNSUPPORTED = "unsupported"  # the device has no such lever


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    device_id: str
    command: policy.PlanCommand
    name: str
    priority: Priority
    not_before: float = 0.0  # wall-clock seconds; staggered restores wait for it
    origin: JobOrigin = JobOrigin.PLAN
    attempt: int = 0
    plan_seq: int = 0
    paced: bool = False  # a wake that has booked its send slot (not_before)


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandResult:
    job: Job
    result: SendResult
    code: str
    detail: str
    sent_at: float
    done_at: float
    outcome: Outcome | None = None
    final: bool = True  # False when a retry is scheduled

    @property
    def ok(self) -> bool:
        return self.result in {SendResult.APPLIED, SendResult.ACKNOWLEDGED}


@dataclass(slots=True)
class _Slot:
    queue: deque[Job] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    in_flight: Job | None = None
    task: asyncio.Task[None] | None = None


class Dispatcher:
    def __init__(
        self,
        fleet: Fleet,
        settings: ControlSettings,
        gpu: GpuControl,
        on_sent: Callable[[Job], None],
        on_result: Callable[[CommandResult], None],
        *,
        wake_spacing_s: float = 0.0,
        clock: Clock,
    ) -> None:
        self._clock = clock
        self._fleet = fleet
        self._pacer = WakePacer(wake_spacing_s) if wake_spacing_s > 0 else None
        self._settings = settings
        self._gpu = gpu
        self._gate = PriorityGate(settings.concurrency)
        self._slots: dict[str, _Slot] = {}
        self._on_sent = on_sent
        self._on_result = on_result
        self._idle = asyncio.Event()
        self._idle.set()
        self.started = asyncio.Event()  # set whenever a worker starts; the owner clears it
        self._busy = 0

    @property
    def busy_devices(self) -> int:
        return self._busy

    def queued(self, device_id: str) -> tuple[Job, ...]:
        slot = self._slots.get(device_id)
        if slot is None:
            return ()
        return ((slot.in_flight,) if slot.in_flight else ()) + tuple(slot.queue)

    def submit(self, jobs: Mapping[str, list[Job]], scope: Iterable[str] | None = None) -> int:
        """Make each device's queue its jobs; devices in ``scope`` without jobs lose plan jobs.

        Returns how many jobs were newly queued (duplicates of queued or in-flight
        work are not queued twice).
        """
        added = 0
        for device_id, wanted in jobs.items():
            added += self._replace(device_id, wanted)
        if scope is not None:
            for device_id in scope:
                if device_id in jobs:
                    continue
                slot = self._slots.get(device_id)
                if slot is not None and slot.queue:
                    kept = deque(j for j in slot.queue if j.origin != JobOrigin.PLAN)
                    if len(kept) != len(slot.queue):
                        slot.queue = kept
                        slot.wake.set()
        return added

    def discard(self, device_id: str, names: Iterable[str]) -> None:
        """Drop queued jobs by name (the device has just shown it lacks that lever)."""
        slot = self._slots.get(device_id)
        drop = set(names)
        if slot is not None and any(j.name in drop for j in slot.queue):
            slot.queue = deque(j for j in slot.queue if j.name not in drop)
            slot.wake.set()

    def _replace(self, device_id: str, wanted: list[Job]) -> int:
        slot = self._slots.get(device_id)
        if slot is None:
            slot = self._slots[device_id] = _Slot()
        in_flight = slot.in_flight.name if slot.in_flight else None
        queued = [j.name for j in slot.queue]
        names = [j.name for j in wanted]
        if names and in_flight == names[0]:
            wanted, names = wanted[1:], names[1:]  # already on the wire
        if names == queued:
            return 0
        old = {j.name: j for j in slot.queue}
        # Keep a queued job's place (attempt, delay) when the new plan asks for the same thing.
        slot.queue = deque(old.get(j.name, j) if j.origin == JobOrigin.PLAN else j for j in wanted)
        slot.wake.set()
        if slot.queue and slot.task is None:
            self._start(device_id, slot)
        return sum(1 for n in names if n not in old)

    def _start(self, device_id: str, slot: _Slot) -> None:
        if self._busy == 0:
            self._idle.clear()
        self.started.set()
        self._busy += 1
        slot.task = asyncio.create_task(self._worker(device_id, slot), name=f"dispatch {device_id}")

    async def idle(self) -> None:
        await self._idle.wait()

    async def _worker(self, device_id: str, slot: _Slot) -> None:
        try:
            while slot.queue:
                job = slot.queue[0]
                delay = job.not_before - self._clock.time()
                if delay > 0:
                    slot.wake.clear()
                    await wait_any(self._clock, delay, slot.wake)
                    continue  # the head may have been replaced meanwhile
                pacer = self._pacer if isinstance(job.command, Wake) else None
                if pacer is not None and not job.paced:
                    slot.queue[0] = replace(
                        job, not_before=pacer.book(self._clock.time()), paced=True
                    )
                    continue
                await self._gate.acquire(job.priority)
                try:
                    if not slot.queue or slot.queue[0] is not job:
                        continue  # replaced while it waited for the gate
                    if pacer is not None and not pacer.clear_to_send(self._clock.time()):
                        slot.queue[0] = replace(job, paced=False)  # held past its slot: rebook
                        continue
                    slot.queue.popleft()
                    slot.in_flight = job
                    if pacer is not None:
                        pacer.sent(self._clock.time())
                    result = await self._attempt(job)
                finally:
                    slot.in_flight = None
                    self._gate.release()
                self._after(slot, result)
        except Exception:
            log.exception("dispatch worker for %s failed", device_id)
        finally:
            slot.task = None
            self._busy -= 1
            if self._busy == 0:
                self._idle.set()

    def _after(self, slot: _Slot, result: CommandResult) -> None:
        job = result.job
        delays = self._settings.retry_delays_s
        retry = not result.final and job.attempt < len(delays)
        # A newer plan that already queued something else for this device wins.
        if retry and not any(j.origin == JobOrigin.PLAN for j in slot.queue):
            not_before = self._clock.time() + delays[job.attempt]
            nxt = replace(job, attempt=job.attempt + 1, not_before=not_before, paced=False)
            slot.queue.appendleft(nxt)
        else:
            result = replace(result, final=True)
        self._on_result(result)

    async def _attempt(self, job: Job) -> CommandResult:
        record = self._fleet.records[job.device_id]
        sent = self._clock.time()
        self._on_sent(job)
        limit_s = self._gpu.timeout_s(job.command, self._settings.command_timeout_s)

        def result(
            kind: SendResult,
            code: str,
            detail: str,
            *,
            final: bool = True,
            outcome: Outcome | None = None,
        ) -> CommandResult:
            return CommandResult(
                job=job,
                result=kind,
                code=code,
                detail=detail,
                sent_at=sent,
                done_at=self._clock.time(),
                outcome=outcome,
                final=final,
            )

        try:
            async with asyncio.timeout(limit_s):
                outcome = await send(record, job.command, self._gpu)
        except _FINAL as exc:
            kind = (
                SendResult.UNSUPPORTED if isinstance(exc, UnsupportedError) else SendResult.FAILED
            )
            return result(kind, exc.code, exc.message)
        except DriverError as exc:
            kind = SendResult.NOT_APPLIED if exc.code == "not_applied" else SendResult.FAILED
            return result(kind, exc.code, exc.message, final=False)
        except TimeoutError:
            return result(
                SendResult.FAILED, "timeout", f"no answer within {limit_s:g} s", final=False
            )
        if not outcome.applied:
            # Acknowledged, but the device cannot show its setting: telemetry will confirm.
            return result(SendResult.ACKNOWLEDGED, "unconfirmed", outcome.detail, outcome=outcome)
        return result(SendResult.APPLIED, "ok", outcome.detail, outcome=outcome)

    async def close(self) -> None:
        tasks = [s.task for s in self._slots.values() if s.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
