"""The read model over the running controller's parts (see :mod:`.read_model`).

The one module that knows where each thing an output shows lives: the fleet record,
the control state, the loop's last plan, the meter watch, the event tracker, the
journal. The composition root (``controller/app.py``) builds it once and hands it to
every output.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from controller import policy
from controller.clock import Clock
from controller.config.sections import EconomicsConfig
from controller.journal.kinds import JournalKind
from controller.journal.store import Entry, Journal
from controller.reconcile.commands import command_name
from controller.reconcile.compliance import compliance_report
from controller.reconcile.events import EventTracker
from controller.reconcile.loop import LoopStats, Reconciler
from controller.reconcile.meter import SitePower, SitePowerWatch
from controller.reconcile.plans import PlanView, economics_now
from controller.reconcile.scheduler import SchedulerControl
from controller.service.control import NotFound
from controller.service.read_model import (
    ControlRow,
    DeviceRow,
    Forecast,
    JournalHealth,
    PlanGroup,
    PlanRow,
    PlanSummary,
    SignalRow,
    SiteStatus,
    TelemetryRow,
)
from controller.state.control import ControlState, EventRecord, Override
from controller.state.domain import Health
from controller.state.fleet import DeviceRecord, Fleet
from controller.state.poller import PollStats
from controller.state.power_history import PowerHistory, PowerPoint

__all__ = ["LiveReadModel"]

# Journal kinds a remote command (MQTT) leaves when carried out; a trailing dot: a prefix.
_COMMAND_KINDS = [
    JournalKind.EVENT_CREATED,
    JournalKind.EVENT_UPDATED,
    JournalKind.EVENT_CANCELLED,
    "override.",
    "control.",
    "economics.",
]


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


class LiveReadModel:
    def __init__(
        self,
        *,
        fleet: Fleet,
        stats: PollStats,
        state: ControlState,
        loop: Reconciler,
        power: SitePowerWatch,
        tracker: EventTracker,
        journal: Journal,
        history: PowerHistory,
        economics: EconomicsConfig,
        max_ages_s: Mapping[str, float],
        dry_run: bool,
        enabled: bool,
        writes_enabled: bool,
        scheduler: SchedulerControl | None,
        signals: Callable[[], dict[str, Any]],
        clock: Clock,
    ) -> None:
        self._clock = clock
        self._fleet, self._stats, self._state, self._loop = fleet, stats, state, loop
        self._power, self._tracker, self._journal = power, tracker, journal
        self._history, self._economics = history, economics
        self._max_ages_s = dict(max_ages_s)
        self._dry_run, self._enabled, self._writes = dry_run, enabled, writes_enabled
        self._scheduler, self._signals = scheduler, signals

    @property
    def site(self) -> str:
        return self._fleet.site

    def now(self) -> float:
        return self._clock.time()

    # ---- the fleet ---------------------------------------------------------------------

    def records(self) -> Iterator[DeviceRecord]:
        return iter(self._fleet)

    def record(self, device_id: str) -> DeviceRecord | None:
        return self._fleet.records.get(device_id)

    def totals(self) -> tuple[float, float]:
        return self._fleet.totals()

    def by_health(self) -> Mapping[Health, int]:
        return self._fleet.by_health()

    def poll_stats(self) -> PollStats:
        return self._stats

    def queued(self, device_id: str) -> list[str]:
        return [job.name for job in self._loop.dispatcher.queued(device_id)]

    def devices(self, now: float) -> list[DeviceRow]:
        overrides = self._state.live_overrides(now)
        unsupported = self._loop.unsupported
        rows = []
        for record in self._fleet:
            device_id = record.identity.device_id
            telemetry = record.telemetry
            levers = unsupported.get(device_id)
            override = overrides.get(device_id)
            rows.append(
                DeviceRow(
                    device=device_id,
                    make=record.identity.make.value,
                    model=record.model,
                    rack=record.identity.rack,
                    state=telemetry.mining_state.value if telemetry else "unknown",
                    health=record.health.value,
                    power_w=telemetry.power_w if telemetry else None,
                    stuck=(record.stuck_reason or "stuck") if record.stuck_until > now else None,
                    refusing=", ".join(sorted(levers)) if levers else None,
                    last_error=record.last_error,
                    override=override.action if override else None,
                )
            )
        return rows

    def telemetry(self) -> Iterator[TelemetryRow]:
        for record in self._fleet:
            identity, telemetry = record.identity, record.telemetry
            yield TelemetryRow(
                device=identity.device_id,
                make=identity.make.value,
                model=record.model,
                health=record.health.value,
                state=None if telemetry is None else telemetry.mining_state.value,
                hashrate_hs=None if telemetry is None else _finite(telemetry.hashrate_hs),
                power_w=None if telemetry is None else _finite(telemetry.power_w),
                power_limit_w=None if telemetry is None else _finite(telemetry.power_limit_w),
                temperature_c=None if telemetry is None else _finite(telemetry.max_temp_c),
                uptime_s=None if telemetry is None else _finite(telemetry.uptime_s),
            )

    # ---- what the operator and the grid asked for --------------------------------------

    def control(self) -> ControlRow:
        return ControlRow(
            paused=self._state.paused,
            paused_reason=self._state.paused_reason,
            dry_run=self._dry_run,
            enabled=self._enabled,
            writes_enabled=self._writes,
        )

    def events(self) -> list[EventRecord]:
        return sorted(self._state.events.values(), key=lambda e: e.created_at)

    def event(self, event_id: str) -> EventRecord:
        try:
            return self._state.events[event_id]
        except KeyError:
            raise NotFound(f"no event {event_id}") from None

    def active_events(self, now: float) -> list[EventRecord]:
        return list(self._state.active_events(now))

    def event_confirmed(self, event_id: str) -> bool:
        return self._tracker.confirmed(event_id)

    def overrides(self, now: float) -> Mapping[str, Override]:
        return self._state.live_overrides(now)

    def relay_cleared_at(self) -> float | None:
        return self._state.relay_cleared_at

    def forecast(self) -> Forecast | None:
        state = self._state
        if not state.forecast:
            return None
        return Forecast(
            source=state.forecast_source,
            as_of=state.forecast_as_of,
            intervals=tuple(state.forecast),
        )

    # ---- the plan and the loop ---------------------------------------------------------

    def plan_view(self) -> PlanView | None:
        return self._loop.view

    def plan(self) -> PlanRow | None:
        view = self._loop.view
        if view is None:
            return None
        plan = view.plan
        members: dict[tuple[str, str], list[str]] = defaultdict(list)
        watts: dict[tuple[str, str], float] = defaultdict(float)
        for index in range(len(plan)):
            target = plan.target_at(index)
            key = (target.action.value, target.reason)
            members[key].append(target.device_id)
            watts[key] += target.power_w
        groups = tuple(
            PlanGroup(action=a, reason=r, devices=tuple(d), power_w=watts[(a, r)])
            for (a, r), d in sorted(members.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        )
        limit = _finite(plan.limit_w)
        return PlanRow(
            seq=view.seq,
            at=view.at,
            trigger=view.reason,
            limit_w=None if limit is None else limit + plan.other_load_w,
            expected_w=plan.expected_site_w + plan.other_load_w,
            other_load_w=plan.other_load_w,
            grid_binding=view.grid_binding,
            infeasible=plan.infeasible,
            notes=view.notes,
            groups=groups,
            commands=dict(Counter(command_name(c.command).split(":")[0] for c in view.commands)),
        )

    def plan_summary(self) -> PlanSummary | None:
        view = self._loop.view
        if view is None:
            return None
        return PlanSummary(
            seq=view.seq,
            at=view.at,
            expected_site_w=view.plan.expected_site_w,
            limit_w=_finite(view.plan.limit_w),
            other_load_w=view.plan.other_load_w,
            trigger=view.reason,
            notes=view.notes,
        )

    def loop_stats(self) -> LoopStats:
        return self._loop.stats

    def commands(self) -> dict[str, int]:
        return dict(self._loop.stats.results)

    def unsupported(self) -> Mapping[str, Mapping[str, str]]:
        return self._loop.unsupported

    # ---- power, prices, signals --------------------------------------------------------

    def site_power(self) -> SitePower:
        return self._power.latest()

    def meter_ok(self) -> bool:
        return self._power.meter_ok

    def power(self, since: float) -> Sequence[PowerPoint]:
        return self._history.since(since)

    def economics(self, now: float) -> policy.Economics:
        return economics_now(self._economics, self._state, now)

    def max_ages_s(self) -> Mapping[str, float]:
        return self._max_ages_s

    def signals(self, now: float) -> tuple[SignalRow, ...]:
        economics = self.economics(now)
        price, hashprice = economics.power_price, economics.hashprice
        power, ages = self._power.latest(), self._max_ages_s
        rows: list[tuple[str, float | None, str, float, str, float | None]] = [
            # name, value, unit, as of, source, trusted for
            (
                "power price",
                price.usd_per_mwh,
                "USD/MWh",
                price.as_of,
                price.source,
                ages.get("power_price"),
            ),
            (
                "hashprice",
                hashprice.usd_per_ph_day,
                "USD/PH/day",
                hashprice.as_of,
                hashprice.source,
                ages.get("hashprice"),
            ),
            ("site power", power.watts, "W", power.at, power.source, None),
        ]
        forecast = self.forecast()
        if forecast is not None:
            # The price forecast's value for the hour ahead.
            ahead = next((p for s, e, p in forecast.intervals if s <= now + 3600 < e), None)
            rows.append(
                ("price forecast, +1 h", ahead, "USD/MWh", forecast.as_of, forecast.source, None)
            )
        return tuple(
            SignalRow(name=n, value=v, unit=u, as_of=a, source=s, max_age_s=m)
            for n, v, u, a, s, m in rows
        )

    def signal_ages(self, now: float) -> dict[str, float | None]:
        economics = self.economics(now)
        sample = self._power.latest()
        return {
            "power_price": max(0.0, now - economics.power_price.as_of),
            "hashprice": max(0.0, now - economics.hashprice.as_of),
            f"site_power_{sample.source}": max(0.0, now - sample.at),
        }

    def status(self, now: float) -> dict[str, Any]:
        power = self._power.latest()
        view = self._loop.view
        state, scheduler, journal = self._state, self._scheduler, self._journal
        hashrate, watts = self._fleet.totals()
        by_state = Counter(
            r.telemetry.mining_state.value if r.telemetry else "unknown" for r in self._fleet
        )
        return {
            "site": self.site,
            "devices": len(self._fleet),
            "by_health": {h.value: n for h, n in self._fleet.by_health().items()},
            "by_state": dict(sorted(by_state.items())),
            "hashrate_hs": hashrate,
            "power_w": watts,
            "control": {
                "paused": state.paused,
                "reason": state.paused_reason,
                "dry_run": self._dry_run,
                "enabled": self._enabled,
            },
            "site_power": {
                "watts": power.watts,
                "source": power.source,
                "at": power.at,
                "detail": power.detail,
                "other_load_w": round(self._power.other_load_w(), 1),
                "other_load_source": self._power.other_load_source.value,
            },
            "plan": None
            if view is None
            else {
                "seq": view.seq,
                "at": view.at,
                "expected_site_w": view.plan.expected_site_w,
                "limit_w": view.plan.limit_w if view.plan.limit_w != float("inf") else None,
                "other_load_w": view.plan.other_load_w,
                "notes": list(view.notes),
            },
            "events_active": [e.event_id for e in state.active_events(now)],
            "overrides": len(state.live_overrides(now)),
            "stuck": sorted(r.identity.device_id for r in self._fleet if r.stuck_until > now),
            "unsupported": {d: dict(v) for d, v in sorted(self._loop.unsupported.items())},
            "scheduler": None
            if scheduler is None
            else {
                "cluster": scheduler.settings.node_map.cluster,
                "nodes": len(scheduler.settings.node_map.nodes),
                "error": scheduler.error,
            },
            "commands": dict(self._loop.stats.results),
            "signals": self._signals(),
            "journal": {
                "run": journal.run,
                "rows_written": journal.rows_written,
                "error": journal.failed,
                "compaction": None if journal.compaction is None else journal.compaction.as_json(),
            },
        }

    def site_status(self, now: float) -> SiteStatus:
        sample = self._power.latest()
        view = self._loop.view
        hashrate, _ = self._fleet.totals()
        states = Counter(
            r.telemetry.mining_state.value if r.telemetry is not None else "unknown"
            for r in self._fleet
        )
        return SiteStatus(
            metered_w=sample.watts,
            metered_source=sample.source,
            commanded_w=None if view is None else view.plan.expected_site_w,
            limit_w=None if view is None else _finite(view.plan.limit_w),
            hashrate_hs=hashrate,
            devices_by_health={h.value: n for h, n in sorted(self._fleet.by_health().items())},
            devices_by_state=dict(sorted(states.items())),
            events_active=[e.event_id for e in self._state.active_events(now)],
            paused=self._state.paused,
            paused_reason=self._state.paused_reason or "",
        )

    def economics_document(self, now: float) -> dict[str, Any]:
        economics = self.economics(now)
        state = self._state
        return {
            "power_price": {
                "usd_per_mwh": economics.power_price.usd_per_mwh,
                "as_of": economics.power_price.as_of,
                "source": economics.power_price.source,
            },
            "hashprice": {
                "usd_per_ph_day": economics.hashprice.usd_per_ph_day,
                "as_of": economics.hashprice.as_of,
                "source": economics.hashprice.source,
            },
            "forecast": {
                "source": state.forecast_source or None,
                "as_of": state.forecast_as_of or None,
                "intervals": [list(p) for p in state.forecast],
            },
            "max_price_age_s": self._max_ages_s["power_price"],
            "max_hashprice_age_s": self._max_ages_s["hashprice"],
        }

    # ---- the journal -------------------------------------------------------------------

    def journal_health(self) -> JournalHealth:
        journal = self._journal
        return JournalHealth(
            run=journal.run,
            rows_written=journal.rows_written,
            rows_failed=journal.rows_failed,
            error=journal.failed,
        )

    async def report(self, event: EventRecord) -> dict[str, Any]:
        return await compliance_report(self._journal, event)

    async def journal_entries(
        self, kinds: Sequence[str] | None, *, subject: str | None, since_seq: int, limit: int
    ) -> list[Entry]:
        return await self._journal.entries(kinds, subject=subject, since_seq=since_seq, limit=limit)

    async def executed_commands(self, actor_prefix: str) -> list[str]:
        rows = await self._journal.entries(_COMMAND_KINDS)
        return [
            e.actor.removeprefix(actor_prefix) for e in rows if e.actor.startswith(actor_prefix)
        ]
