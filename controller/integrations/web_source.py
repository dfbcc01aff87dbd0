"""The operator page's read model over the running controller (see ``web_model``).

The only module of the page that knows the controller's parts; when the controller
publishes a read model of its own, this adapter is what goes.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from controller.integrations.web_model import (
    ControlRow,
    DeviceRow,
    PlanGroup,
    PlanRow,
    SignalRow,
)
from controller.reconcile.commands import command_name
from controller.reconcile.compliance import compliance_report
from controller.reconcile.plans import economics_now
from controller.state.control import EventRecord
from controller.state.power_history import PowerPoint

if TYPE_CHECKING:
    from controller.app import Controller

__all__ = ["ControllerReadModel"]


def _finite(watts: float) -> float | None:
    return watts if math.isfinite(watts) else None


class ControllerReadModel:
    def __init__(self, controller: Controller) -> None:
        self._c = controller

    @property
    def site(self) -> str:
        return self._c.fleet.site

    def control(self) -> ControlRow:
        c = self._c
        return ControlRow(
            paused=c.state.paused, paused_reason=c.state.paused_reason,
            dry_run=c.config.control.dry_run, enabled=c.config.control.enabled,
            writes_enabled=c.api_token is not None,
        )  # fmt: skip

    def devices(self, now: float) -> Sequence[DeviceRow]:
        c = self._c
        overrides = c.state.live_overrides(now)
        unsupported = c.loop.unsupported
        rows = []
        for record in c.fleet:
            device_id = record.identity.device_id
            telemetry = record.telemetry
            levers = unsupported.get(device_id)
            override = overrides.get(device_id)
            rows.append(DeviceRow(
                device=device_id, make=record.identity.make.value, model=record.model,
                rack=record.identity.rack,
                state=telemetry.mining_state.value if telemetry else "unknown",
                health=record.health.value,
                power_w=telemetry.power_w if telemetry else None,
                stuck=(record.stuck_reason or "stuck") if record.stuck_until > now else None,
                refusing=", ".join(sorted(levers)) if levers else None,
                last_error=record.last_error,
                override=override.action if override else None,
            ))  # fmt: skip
        return rows

    def plan(self) -> PlanRow | None:
        view = self._c.loop.view
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
            seq=view.seq, at=view.at, trigger=view.reason,
            limit_w=None if limit is None else limit + plan.other_load_w,
            expected_w=plan.expected_site_w + plan.other_load_w,
            other_load_w=plan.other_load_w, grid_binding=view.grid_binding,
            infeasible=plan.infeasible, notes=view.notes, groups=groups,
            commands=dict(Counter(command_name(c.command).split(":")[0] for c in view.commands)),
        )  # fmt: skip

    def signals(self, now: float) -> Sequence[SignalRow]:
        c = self._c
        economics = economics_now(c.config.economics, c.state, now)
        power = c.site_power.latest()
        return (
            SignalRow(name="power price", value=economics.power_price.usd_per_mwh,
                      unit="USD/MWh", as_of=economics.power_price.as_of,
                      source=economics.power_price.source,
                      max_age_s=c.config.policy.max_price_age_s),
            SignalRow(name="hashprice", value=economics.hashprice.usd_per_ph_day,
                      unit="USD/PH/day", as_of=economics.hashprice.as_of,
                      source=economics.hashprice.source,
                      max_age_s=c.config.policy.max_hashprice_age_s),
            SignalRow(name="site power", value=power.watts, unit="W", as_of=power.at,
                      source=power.source, max_age_s=None),
            *self._forecast(now),
        )  # fmt: skip

    def _forecast(self, now: float) -> tuple[SignalRow, ...]:
        """The price forecast's value for the hour ahead, when a source gave one."""
        state = self._c.state
        ahead = next((p for s, e, p in state.forecast if s <= now + 3600 < e), None)
        if not state.forecast:
            return ()
        return (SignalRow(name="price forecast, +1 h", value=ahead, unit="USD/MWh",
                          as_of=state.forecast_as_of, source=state.forecast_source,
                          max_age_s=None),)  # fmt: skip

    def events(self) -> Sequence[EventRecord]:
        return sorted(self._c.state.events.values(), key=lambda e: e.created_at)

    def event_confirmed(self, event_id: str) -> bool:
        return self._c.events.confirmed(event_id)

    async def report(self, event: EventRecord) -> Mapping[str, Any]:
        return await compliance_report(self._c.journal, event)

    def power(self, since: float) -> Sequence[PowerPoint]:
        return self._c.power_history.since(since)

    def commands(self) -> Mapping[str, int]:
        return dict(self._c.loop.stats.results)
