"""The read model the bridge publishes, built from the running controller's parts.

This is the one module of the MQTT package that knows the controller's internals;
everything else reads :class:`~controller.integrations.mqtt.view.SiteView`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from controller.config.sections import EconomicsConfig
from controller.integrations.mqtt.executor import ACTOR_PREFIX
from controller.integrations.mqtt.view import DeviceRow, PlanSummary, SiteStatus
from controller.journal.kinds import JournalKind
from controller.journal.store import Journal
from controller.reconcile.compliance import compliance_report
from controller.reconcile.events import EventTracker
from controller.reconcile.loop import Reconciler
from controller.reconcile.meter import SitePowerWatch
from controller.reconcile.plans import economics_now
from controller.state.control import ControlState, EventRecord
from controller.state.fleet import Fleet

__all__ = ["ControllerView"]


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


class ControllerView:
    def __init__(
        self,
        fleet: Fleet,
        state: ControlState,
        loop: Reconciler,
        power: SitePowerWatch,
        tracker: EventTracker,
        journal: Journal,
        economics: EconomicsConfig,
    ) -> None:
        self._fleet, self._state, self._loop, self._power = fleet, state, loop, power
        self._tracker, self._journal, self._economics = tracker, journal, economics

    @property
    def site(self) -> str:
        return self._fleet.site

    def status(self, now: float) -> SiteStatus:
        sample = self._power.latest()
        view = self._loop.view
        hashrate, _ = self._fleet.totals()
        states: Counter[str] = Counter()
        for record in self._fleet:
            telemetry = record.telemetry
            states[telemetry.mining_state.value if telemetry is not None else "unknown"] += 1
        limit = None if view is None else _finite(view.plan.limit_w)
        return SiteStatus(
            metered_w=sample.watts,
            metered_source=sample.source,
            commanded_w=None if view is None else view.plan.expected_site_w,
            limit_w=limit,
            hashrate_hs=hashrate,
            devices_by_health={h.value: n for h, n in sorted(self._fleet.by_health().items())},
            devices_by_state=dict(sorted(states.items())),
            events_active=[e.event_id for e in self._state.active_events(now)],
            paused=self._state.paused,
            paused_reason=self._state.paused_reason or "",
        )

    def plan(self) -> PlanSummary | None:
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

    def events(self) -> list[EventRecord]:
        return list(self._state.events.values())

    def event_confirmed(self, event_id: str) -> bool:
        return self._tracker.confirmed(event_id)

    async def compliance(self, event: EventRecord) -> dict[str, Any]:
        return await compliance_report(self._journal, event)

    def devices(self) -> Iterator[DeviceRow]:
        for record in self._fleet:
            identity, telemetry = record.identity, record.telemetry
            if telemetry is None:
                yield DeviceRow(
                    device=identity.device_id,
                    make=identity.make.value,
                    model=record.model,
                    health=record.health.value,
                    state=None,
                    hashrate_hs=None,
                    power_w=None,
                    power_limit_w=None,
                    temperature_c=None,
                    uptime_s=None,
                )
                continue
            yield DeviceRow(
                device=identity.device_id,
                make=identity.make.value,
                model=record.model,
                health=record.health.value,
                state=telemetry.mining_state.value,
                hashrate_hs=_finite(telemetry.hashrate_hs),
                power_w=_finite(telemetry.power_w),
                power_limit_w=_finite(telemetry.power_limit_w),
                temperature_c=_finite(telemetry.max_temp_c),
                uptime_s=_finite(telemetry.uptime_s),
            )

    async def executed_commands(self) -> list[str]:
        kinds = [
            JournalKind.EVENT_CREATED,
            JournalKind.EVENT_UPDATED,
            JournalKind.EVENT_CANCELLED,
            "override.",
            "control.",
            "economics.",
        ]
        rows = await self._journal.entries(kinds)
        return [e.actor.removeprefix(ACTOR_PREFIX) for e in rows
                if e.actor.startswith(ACTOR_PREFIX)]  # fmt: skip

    def signal_ages(self, now: float) -> Mapping[str, float | None]:
        economics = economics_now(self._economics, self._state, now)
        sample = self._power.latest()
        return {
            "power_price": max(0.0, now - economics.power_price.as_of),
            "hashprice": max(0.0, now - economics.hashprice.as_of),
            f"site_power_{sample.source}": max(0.0, now - sample.at),
        }
