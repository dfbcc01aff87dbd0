"""The reconcile loop: observe, plan, diff, dispatch, confirm; level-triggered.

A *plan* is made every ``policy.plan_interval_s`` and at once on any change
(an event, an override, a price, a stuck device). Between plans, after every
telemetry sweep, the standing plan is diffed again against what the devices now
report, so a command that did not take is sent again from observed state; no
queue of old commands is ever replayed. The first plan waits for the first sweep,
which is what makes a restarted daemon converge instead of repeating itself.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from controller import policy
from controller.clock import Clock, wait_any
from controller.config.sections import LoopSettings
from controller.journal.kinds import JournalKind
from controller.journal.store import Entry, Journal
from controller.reconcile.commands import (
    DriverGpuControl,
    GpuControl,
    command_name,
    lever_of,
    priority_of,
)
from controller.reconcile.confirm import Expectation, Verifier
from controller.reconcile.dispatch import CommandResult, Dispatcher, Job, JobOrigin, SendResult
from controller.reconcile.gate import Priority
from controller.reconcile.meter import OtherLoadSource
from controller.reconcile.observe import (
    Observation,
    ProfileCache,
    at_once,
    in_turns,
    observing,
)
from controller.reconcile.plans import (
    PlanView,
    economics_now,
    grid_binds,
    grid_now,
    plan_summary,
)
from controller.state.control import ControlState, EventRecord
from controller.state.fleet import Fleet
from drivers import Control, MiningState, Sleep, Wake

__all__ = ["LoopStats", "Reconciler"]

log = logging.getLogger(__name__)


@dataclass(slots=True, kw_only=True)
class LoopStats:
    plans: int = 0
    sent: int = 0
    results: Counter[str] = field(default_factory=Counter)
    confirmed: int = 0
    stuck: int = 0
    last_plan_s: float = 0.0


class OtherLoad(Protocol):
    """The site's load outside the fleet, and where that figure comes from (the meter watch)."""

    def other_load_w(self) -> float: ...

    @property
    def other_load_source(self) -> OtherLoadSource: ...


# Why a plan counts an other load the meter has not measured this run.
_UNMEASURED = {
    OtherLoadSource.CONFIGURED: "configured (grid.other_load_kw), no meter",
    OtherLoadSource.RESTORED: "last measured before the restart, or the configured floor; "
    "not measured again yet",
}


class Reconciler:
    def __init__(
        self,
        fleet: Fleet,
        state: ControlState,
        journal: Journal,
        *,
        settings: LoopSettings,
        gpu: GpuControl | None = None,
        request_sweep: Callable[[], None] | None = None,
        other_load: OtherLoad | None = None,
        clock: Clock,
    ) -> None:
        self.clock = clock
        self.fleet = fleet
        self.state = state
        self.journal = journal
        self.settings = settings
        self.stats = LoopStats()
        self.view: PlanView | None = None
        self._plan: policy.Plan | None = None
        self._plan_seq = 0
        self._grid_binding = False
        self._signature: object = None
        self._profiles = ProfileCache()
        self._trigger = asyncio.Event()
        self._reasons: list[str] = []
        self._last_cycle = -math.inf  # clock.monotonic() of the last plan
        self._paced: asyncio.Task[None] | None = None
        # Devices put to sleep while a grid event with a level ran, with those events: not
        # woken until every one of them is over (rebuilt from the journal on a restart).
        self.event_sheds: dict[str, frozenset[str]] = {}
        self.first_sweep = asyncio.Event()
        self._request_sweep = request_sweep
        self.gpu = gpu or DriverGpuControl()
        # Site load outside the fleet (the meter less the devices); None: none, as measured.
        self._other_load = other_load
        self._withheld: tuple[str, ...] = ()  # wakes the last dispatch held back
        # Levers a device answered "unsupported" to: device id -> lever -> why. Reported
        # once, then planned without (a GPU node with no scheduler is only power-capped).
        self.unsupported: dict[str, dict[str, str]] = {}
        self._without: dict[str, frozenset[Control]] = {}
        self.dispatcher = Dispatcher(
            fleet,
            settings.control,
            self.gpu,
            self._on_sent,
            self._on_result,
            wake_spacing_s=settings.policy.wake_stagger_s,
            clock=clock,
        )
        self.verifier = Verifier(
            fleet,
            settings.control,
            resend=self._resend,
            confirmed=self._confirmed,
            stuck=self._stuck,
            due_by=self._due_by,
            clock=clock,
        )

    # ---- triggers ----------------------------------------------------------------------

    def trigger(self, reason: str, *, paced: bool = False) -> None:
        """Plan again at once (an event, an override, a price, a stuck device).

        ``paced`` ones (the meter above a level, a confirmation, a new other-load
        figure) come as often as every sweep: they wait out ``min_plan_spacing_s``
        since the last plan, and several in that time make one plan.
        """
        if reason not in self._reasons:
            self._reasons.append(reason)
        wait = self._last_cycle + self.settings.control.min_plan_spacing_s - self.clock.monotonic()
        if not paced or wait <= 0:
            self._trigger.set()
        elif self._paced is None:
            self._paced = asyncio.create_task(self._paced_due(wait), name="paced plan")

    async def _paced_due(self, wait: float) -> None:
        await self.clock.sleep(wait)
        self._paced = None
        self._trigger.set()

    def level_events(self, now: float) -> list[EventRecord]:
        """Grid events with a level that run now."""
        return [
            e for e in self.state.active_events(now) if e.level_mw is not None and e.start <= now
        ]

    async def after_sweep(self) -> None:
        """After every telemetry sweep: confirm, then re-diff the standing plan."""
        self.first_sweep.set()
        self.verifier.check()
        if self._plan is not None and self.settings.control.cycle_on_sweep:
            obs = await self._observe_in_turns(self.clock.time())
            if self._plan is not None:
                self._dispatch(self._plan, obs, reason="sweep")

    async def run(self, stop: asyncio.Event) -> None:
        first = ["interval"]
        if self.level_events(self.clock.time()):
            # A restart during an event: plan from what has been read by then and what the
            # journal says was applied, not after the slowest device's first answer.
            await wait_any(
                self.clock, self.settings.control.restart_plan_wait_s, stop, self.first_sweep
            )
            first = ["restart during an event"]
        else:
            await wait_any(self.clock, None, stop, self.first_sweep)
        await self.gpu.ready()
        self._reasons = self._reasons or first
        while not stop.is_set():
            reasons, self._reasons = self._reasons or ["interval"], []
            self._trigger.clear()
            if self._paced is not None:
                self._paced.cancel()
                self._paced = None
            self._last_cycle = self.clock.monotonic()
            await self.cycle_in_turns(", ".join(reasons))
            await wait_any(self.clock, self.settings.policy.plan_interval_s, stop, self._trigger)

    async def confirm_sweeps(self, stop: asyncio.Event) -> None:
        """When a burst of commands is done, read the fleet at once to confirm it."""
        while not stop.is_set():
            await wait_any(self.clock, None, stop, self.dispatcher.started)
            self.dispatcher.started.clear()
            await self.dispatcher.idle()
            if self._request_sweep is not None:
                self._request_sweep()

    # ---- one plan ------------------------------------------------------------------------

    def cycle(self, reason: str = "manual") -> PlanView:
        started = time.perf_counter()
        now = self.clock.time()
        return self._plan_on(self._observe(now), now, reason, started)

    async def cycle_in_turns(self, reason: str) -> PlanView:
        """:meth:`cycle`, with the fleet observed in turns that let other tasks run."""
        started = time.perf_counter()
        now = self.clock.time()
        return self._plan_on(await self._observe_in_turns(now), now, reason, started)

    def _plan_on(self, obs: Observation, now: float, reason: str, started: float) -> PlanView:
        state = self.state
        inputs = policy.PolicyInputs(
            now=now,
            fleet=obs.fleet,
            economics=economics_now(self.settings.economics, state, now),
            grid=grid_now(self.settings.grid, state, now, self._other_load_w()),
            settings=self.settings.policy,
        )
        plan, memory = policy.plan(inputs, state.memory)
        if state.memory is None or memory.to_json() != state.memory.to_json():
            self.journal.append(JournalKind.MEMORY, "", {"json": memory.to_json()})
            state.memory = memory
        self._grid_binding = grid_binds(plan, self.settings.grid, self.settings.policy.reserve_mw)
        self._plan = plan
        self._plan_seq += 1
        self.stats.plans += 1
        commands = self._dispatch(plan, obs, reason=reason)
        self.view = PlanView(
            seq=self._plan_seq,
            at=now,
            reason=reason,
            plan=plan,
            observation=obs,
            commands=commands,
            notes=self._notes(plan, obs),
            paused=state.paused,
            dry_run=self.settings.control.dry_run or not self.settings.control.enabled,
            grid_binding=self._grid_binding,
        )
        self._journal_plan(self.view)
        self.stats.last_plan_s = time.perf_counter() - started
        return self.view

    async def _observe_in_turns(self, now: float) -> Observation:
        return await in_turns(self._observing(now))

    def _observe(self, now: float) -> Observation:
        return at_once(self._observing(now))

    def _observing(self, now: float) -> Iterator[Observation | None]:
        return observing(
            list(self.fleet),  # the fleet as it stands now, whatever is added meanwhile
            now,
            self.state.live_overrides(now),
            self._profiles,
            nodes=self.gpu.view,
            without=self._without,
        )

    def _other_load_w(self) -> float:
        return 0.0 if self._other_load is None else self._other_load.other_load_w()

    def _notes(self, plan: policy.Plan, obs: Observation) -> tuple[str, ...]:
        notes = list(plan.notes)
        if obs.stuck:
            shown = ", ".join(obs.stuck[:10]) + (" ..." if len(obs.stuck) > 10 else "")
            comp = plan.compensation
            instead = f"; {len(comp.shed)} device(s) shed in their place" if comp.shed else ""
            notes.append(
                f"compensation: {len(obs.stuck)} device(s) did not act ({shown}); they count "
                f"at their observed draw, or nameplate when unreadable{instead}"
            )
        if obs.foreign:
            shown = ", ".join(f"{d} ({why})" for d, why in obs.foreign[:10])
            notes.append(f"{len(obs.foreign)} GPU node(s) drained by others, left alone: {shown}")
        if self.unsupported:
            by_lever: dict[str, list[str]] = {}
            for device_id, levers in sorted(self.unsupported.items()):
                for lever in levers:
                    by_lever.setdefault(lever, []).append(device_id)
            for lever, devices in sorted(by_lever.items()):
                shown = ", ".join(devices[:10]) + (" ..." if len(devices) > 10 else "")
                why = self.unsupported[devices[0]][lever]
                notes.append(
                    f"{lever} unsupported on {len(devices)} device(s) ({shown}): "
                    f"{why}; planned without it"
                )
        if self._withheld:
            shown = ", ".join(self._withheld[:10]) + (" ..." if len(self._withheld) > 10 else "")
            notes.append(
                f"{len(self._withheld)} device(s) shed for a running event stay asleep "
                f"until it ends: {shown}"
            )
        other = self._other_load
        unmeasured = None if other is None else _UNMEASURED.get(other.other_load_source)
        if unmeasured is not None and plan.other_load_w:
            notes.append(f"other load {plan.other_load_w / 1e3:.1f} kW: {unmeasured}")
        if obs.forced_sleep:
            notes.append(f"{len(obs.forced_sleep)} device(s) kept asleep by operator override")
        if self.state.paused:
            notes.append(f"control paused: {self.state.paused_reason or 'by operator'}")
        if self.settings.control.dry_run:
            notes.append("dry run: commands are computed and shown, never sent")
        return tuple(notes)

    def _journal_plan(self, view: PlanView) -> None:
        summary = plan_summary(view)
        signature = (summary["reasons"], summary["notes"], summary["commands"], view.paused)
        if signature == self._signature:
            return
        self._signature = signature
        self.journal.append(JournalKind.PLAN, str(view.seq), summary)
        log.info(
            "plan %d (%s): %d commands; %s",
            view.seq,
            view.reason,
            len(view.commands),
            "; ".join(view.notes) or "no notes",
        )

    # ---- dispatch ------------------------------------------------------------------------

    def _dispatch(
        self, plan: policy.Plan, obs: Observation, *, reason: str
    ) -> tuple[policy.DeviceCommand, ...]:
        commands = self._withhold_wakes(policy.diff(plan, obs.fleet), plan.now)
        forced = self._forced_sleeps(obs)
        if self.state.paused or self.settings.control.dry_run or not self.settings.control.enabled:
            self.dispatcher.submit({}, scope=self.fleet.records)
            return commands + forced
        records = self.fleet.records
        jobs: dict[str, list[Job]] = {}
        waking = {c.device_id for c in commands if isinstance(c.command, Wake)}
        # The plan staggers its wakes (most valuable first); the dispatcher's pacer keeps
        # every wake a stagger apart across plans.
        for command in commands:
            record = records.get(command.device_id)
            priority = priority_of(command.command, record, self._grid_binding)
            not_before = plan.now + command.delay_s if command.delay_s else 0.0
            if command.device_id in waking and not isinstance(command.command, Wake):
                # A sleeping unit's power target draws nothing until it wakes: set it now,
                # so that the wake itself goes out in its stagger slot, not after the write.
                not_before = 0.0
            jobs.setdefault(command.device_id, []).append(
                Job(
                    device_id=command.device_id,
                    command=command.command,
                    name=command_name(command.command),
                    priority=priority,
                    not_before=not_before,
                    origin=JobOrigin.PLAN,
                    attempt=0,
                    plan_seq=self._plan_seq,
                )
            )
        for command in forced:
            jobs.setdefault(command.device_id, []).append(
                Job(
                    device_id=command.device_id,
                    command=command.command,
                    name="sleep",
                    priority=Priority.OVERRIDE,
                    not_before=0.0,
                    origin=JobOrigin.OVERRIDE,
                    attempt=0,
                    plan_seq=self._plan_seq,
                )
            )
        self.dispatcher.submit(jobs, scope=records)
        return commands + forced

    def _withhold_wakes(
        self, commands: tuple[policy.DeviceCommand, ...], now: float
    ) -> tuple[policy.DeviceCommand, ...]:
        """No wake, during an event, of a device shed for it: a grid event is met by load
        that stays off, not by units cycled on a passing estimate."""
        self._withheld = ()
        if not self.event_sheds:
            return commands
        running = {e.event_id for e in self.state.active_events(now)}
        for device_id, events in list(self.event_sheds.items()):
            if not events & running:
                del self.event_sheds[device_id]
        held = {c.device_id for c in commands if isinstance(c.command, Wake)} & set(
            self.event_sheds
        )
        self._withheld = tuple(sorted(held))
        if not held:
            return commands
        return tuple(c for c in commands if c.device_id not in held)

    def _shed_for_events(self, device_id: str, at: float) -> None:
        events = frozenset(e.event_id for e in self.level_events(at))
        if events:
            self.event_sheds[device_id] = self.event_sheds.get(device_id, frozenset()) | events

    # ---- restart -------------------------------------------------------------------------

    def restore(self, entries: Iterable[Entry], now: float) -> None:
        """What the commands journaled before a restart did, for the policy's memory.

        Applied sleeps and wakes (whether or not a reading of the change was journaled
        before the crash) set the device's commanded state, its last change (dwell) and
        its wakes (cycles); a sleep sent while an event ran keeps the unit asleep until
        that event is over; stuck marks still in force hold. ``entries``: the
        ``command.sent``, ``command.result``, ``command.confirmed`` and ``device.stuck``
        rows of the last day.
        """
        records = self.fleet.records
        unconfirmed: dict[str, float] = {}  # applied sleeps no reading confirmed yet
        for entry in entries:
            record = records.get(entry.subject)
            if record is None:
                continue
            data = entry.data
            if entry.kind == JournalKind.COMMAND_CONFIRMED:
                unconfirmed.pop(entry.subject, None)
                continue
            if entry.kind == JournalKind.DEVICE_STUCK:
                unconfirmed.pop(entry.subject, None)
                until = float(data.get("until", 0.0))
                if until > now:
                    record.stuck_until, record.stuck_reason = until, str(data.get("reason", ""))
                continue
            command = data.get("command")
            if command not in {"sleep", "wake"}:
                continue
            if entry.kind == JournalKind.COMMAND_SENT:
                # Killed before the answer came: it may have taken, so it is checked too.
                unconfirmed.pop(entry.subject, None)
                if command == "sleep":
                    unconfirmed[entry.subject] = entry.at
            elif (
                entry.kind == JournalKind.COMMAND_RESULT
                and data.get("result") != SendResult.APPLIED
            ):
                unconfirmed.pop(entry.subject, None)
            if command == "sleep" and entry.kind in {
                JournalKind.COMMAND_SENT,
                JournalKind.COMMAND_RESULT,
            }:
                if (
                    entry.kind == JournalKind.COMMAND_SENT
                    or data.get("result") == SendResult.APPLIED
                ):
                    self._shed_for_events(entry.subject, entry.at)
            elif command == "wake" and data.get("result") == SendResult.APPLIED:
                self.event_sheds.pop(entry.subject, None)
            if entry.kind != JournalKind.COMMAND_RESULT or data.get("result") != SendResult.APPLIED:
                continue
            record.commanded = "sleep" if command == "sleep" else "wake"
            record.commanded_at = entry.at
            unconfirmed.pop(entry.subject, None)
            if command == "sleep":
                unconfirmed[entry.subject] = entry.at
            if record.state_changed_at is None or record.state_changed_at < entry.at:
                record.state_changed_at = entry.at
                if command == "wake":
                    record.wakes.append(entry.at)
        # A sleep acknowledged before the crash and never seen in effect is checked again:
        # a unit that reads back asleep and keeps hashing is found after a restart too.
        recent = (
            now
            - self.settings.control.confirm_after_s
            - sum(self.settings.control.reconfirm_delays_s)
        )
        for device_id, at in unconfirmed.items():
            if at >= recent and records[device_id].stuck_until <= now:
                job = Job(
                    device_id=device_id,
                    command=Sleep(),
                    name="sleep",
                    priority=Priority.GRID,
                    origin=JobOrigin.RESTART,
                )
                self.verifier.expect(
                    CommandResult(
                        job=job,
                        result=SendResult.APPLIED,
                        code="ok",
                        detail="",
                        sent_at=at,
                        done_at=at,
                    )
                )

    def _forced_sleeps(self, obs: Observation) -> tuple[policy.DeviceCommand, ...]:
        out = []
        for device_id in obs.forced_sleep:
            record = self.fleet.records[device_id]
            telemetry = record.telemetry
            if record.stuck_until > obs.fleet.as_of:
                continue  # it failed this already: not again every sweep while it is held
            if record.commanded == "sleep" and (
                telemetry is None or record.commanded_at > telemetry.taken_at
            ):
                continue
            if telemetry is not None and telemetry.mining_state is MiningState.SLEEPING:
                continue
            out.append(policy.DeviceCommand(device_id, Sleep()))
        return tuple(out)

    # ---- results -------------------------------------------------------------------------

    def _on_sent(self, job: Job) -> None:
        self.stats.sent += 1
        self.journal.append(
            JournalKind.COMMAND_SENT,
            job.device_id,
            {
                "command": job.name,
                "priority": job.priority.name.lower(),
                "origin": job.origin,
                "attempt": job.attempt,
                "plan": job.plan_seq,
            },
        )

    def _on_result(self, result: CommandResult) -> None:
        job = result.job
        self.stats.results[result.result] += 1
        self.journal.append(
            JournalKind.COMMAND_RESULT,
            job.device_id,
            {
                "command": job.name,
                "result": result.result,
                "code": result.code,
                "detail": result.detail[:200],
                "elapsed_s": round(result.done_at - result.sent_at, 4),
                "attempt": job.attempt,
                "origin": job.origin,
                "final": result.final,
            },
            at=result.done_at,
        )
        record = self.fleet.records[job.device_id]
        if result.ok:
            if isinstance(job.command, Sleep | Wake):
                record.commanded = "sleep" if isinstance(job.command, Sleep) else "wake"
                record.commanded_at = result.done_at
                if isinstance(job.command, Sleep):
                    self._shed_for_events(job.device_id, result.done_at)
            elif isinstance(job.command, policy.SetGpuPowerLimit):
                record.commanded_limit_w = job.command.watts_per_gpu
                record.commanded_at = result.done_at
            self.verifier.expect(result)
        elif result.result == SendResult.UNSUPPORTED:
            self._lacks(job, result.detail)
        elif result.final and job.priority <= Priority.ECONOMIC:
            self._mark_stuck(job.device_id, f"{job.name} failed: {result.code}: {result.detail}")

    def _lacks(self, job: Job, detail: str) -> None:
        """The device has no such lever: say so once, and plan without it from now on."""
        lever, controls = lever_of(job.command)
        levers = self.unsupported.setdefault(job.device_id, {})
        if lever in levers:
            return
        levers[lever] = detail[:200]
        self._without[job.device_id] = self._without.get(job.device_id, frozenset()) | controls
        queued = self.dispatcher.queued(job.device_id)
        self.dispatcher.discard(
            job.device_id, [j.name for j in queued if lever_of(j.command)[0] == lever]
        )
        self.journal.append(
            JournalKind.DEVICE_UNSUPPORTED, job.device_id, {"lever": lever, "detail": detail}
        )
        log.warning(
            "device %s: %s unsupported (%s); planning without it", job.device_id, lever, detail
        )
        self.trigger("unsupported lever")

    def _resend(self, job: Job) -> None:
        self.dispatcher.submit({job.device_id: [job]})

    def _confirmed(self, exp: Expectation, at: float) -> None:
        self.stats.confirmed += 1
        self.journal.append(
            JournalKind.COMMAND_CONFIRMED,
            exp.job.device_id,
            {
                "command": exp.job.name,
                "after_s": round(at - exp.acked_at, 3),
                "resends": exp.resends,
            },
        )
        if self.level_events(at):
            # What is known changed: a swap that waited for this shed may go ahead.
            self.trigger("confirmation", paced=True)

    def _due_by(self, at: float) -> float | None:
        """When the running events' levels are due (the verifier fits its checks to it)."""
        dues = [e.to_policy().due for e in self.level_events(at)]
        return min(dues) if dues else None

    def _stuck(self, exp: Expectation, reason: str) -> None:
        self._mark_stuck(exp.job.device_id, reason)

    def _mark_stuck(self, device_id: str, reason: str) -> None:
        record = self.fleet.records[device_id]
        now = self.clock.time()
        until = now + self.settings.control.stuck_hold_s
        was_stuck = record.stuck_until > now
        record.stuck_until, record.stuck_reason = until, reason
        self.stats.stuck += 1
        self.journal.append(JournalKind.DEVICE_STUCK, device_id, {"reason": reason, "until": until})
        if not was_stuck:
            log.warning(
                "device %s left out of control until %s: %s",
                device_id,
                time.strftime("%H:%M:%S", time.localtime(until)),
                reason,
            )
        self.trigger("stuck device")

    async def close(self) -> None:
        if self._paced is not None:
            self._paced.cancel()
        await self.dispatcher.close()
