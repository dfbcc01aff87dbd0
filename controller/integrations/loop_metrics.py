"""Plan and dispatch metrics, built from the loop's state at scrape time."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from controller.journal.store import Journal
from controller.reconcile.loop import Reconciler
from controller.reconcile.meter import SitePowerWatch
from controller.state.control import ControlState
from controller.state.domain import Control, Health, MiningState
from controller.state.fleet import Fleet

__all__ = ["LoopCollector", "curtailable_w", "event_level_families"]


def curtailable_w(fleet: Fleet, state: ControlState, now: float) -> float:
    """What sleeping every running, controllable, reachable miner would save right now."""
    overrides = state.live_overrides(now)
    total = 0.0
    for record in fleet:
        telemetry, spec = record.telemetry, record.driver.spec
        if telemetry is None or spec is None or record.health is Health.UNREACHABLE:
            continue
        if telemetry.mining_state is MiningState.SLEEPING or record.stuck_until > now:
            continue
        if record.identity.device_id in overrides or Control.SLEEP not in spec.controls:
            continue
        total += max(0.0, (telemetry.power_w or 0.0) - spec.sleep_w)
    return total


class LoopCollector(Collector):
    def __init__(
        self, fleet: Fleet, loop: Reconciler, state: ControlState, power: SitePowerWatch
    ) -> None:
        self._fleet, self._loop, self._state, self._power = fleet, loop, state, power

    def collect(self) -> Iterator[Metric]:
        site, now = self._fleet.site, time.time()
        labels = ["site"]
        commanded = GaugeMetricFamily(
            "hashpivot_site_commanded_power_watts",
            "Site draw the current plan expects once its commands take effect",
            labels=labels,
        )
        view = self._loop.view
        if view is not None:
            commanded.add_metric([site], view.plan.expected_site_w)
        sample = self._power.latest()
        metered = GaugeMetricFamily(
            "hashpivot_site_metered_power_watts",
            "Site draw by the meter, or estimated (readings plus other load) without it",
            labels=["site", "source"],
        )
        metered.add_metric([site, sample.source], sample.watts)
        meter_up = GaugeMetricFamily(
            "hashpivot_meter_up", "1 while the site meter answers", labels=labels
        )
        meter_up.add_metric([site], 1.0 if self._power.meter_ok else 0.0)
        curtailable = GaugeMetricFamily(
            "hashpivot_curtailable_power_watts",
            "Draw that sleeping every running controllable miner would remove now",
            labels=labels,
        )
        curtailable.add_metric([site], curtailable_w(self._fleet, self._state, now))
        events = GaugeMetricFamily(
            "hashpivot_events_active", "Grid events running or ahead", labels=["site", "kind"]
        )
        kinds: dict[str, int] = {}
        for event in self._state.active_events(now):
            kinds[event.kind.value] = kinds.get(event.kind.value, 0) + 1
        for kind, count in sorted(kinds.items()):
            events.add_metric([site, kind], float(count))
        stats = self._loop.stats
        results = CounterMetricFamily(
            "hashpivot_commands", "Command attempts by result", labels=["site", "result"]
        )
        for result, count in sorted(stats.results.items()):
            results.add_metric([site, result], float(count))
        sent = CounterMetricFamily("hashpivot_commands_sent", "Commands sent", labels=labels)
        sent.add_metric([site], float(stats.sent))
        confirmed = CounterMetricFamily(
            "hashpivot_commands_confirmed",
            "Commands whose physical effect later telemetry confirmed",
            labels=labels,
        )
        confirmed.add_metric([site], float(stats.confirmed))
        plans = CounterMetricFamily("hashpivot_plans", "Plans computed", labels=labels)
        plans.add_metric([site], float(stats.plans))
        stuck = GaugeMetricFamily(
            "hashpivot_devices_stuck",
            "Devices left out of control after failing to shed",
            labels=labels,
        )
        stuck.add_metric([site], float(sum(1 for r in self._fleet if r.stuck_until > now)))
        paused = GaugeMetricFamily(
            "hashpivot_control_paused", "1 while an operator paused control", labels=labels
        )
        paused.add_metric([site], 1.0 if self._state.paused else 0.0)
        last_plan = GaugeMetricFamily(
            "hashpivot_last_plan_timestamp_seconds",
            "When the control loop last computed a plan (unix seconds)",
            labels=labels,
        )
        if view is not None:
            last_plan.add_metric([site], view.at)
        yield from (commanded, metered, meter_up, curtailable, events, results, sent)
        yield from (confirmed, plans, stuck, paused, last_plan)
        yield from event_level_families(site, self._state, sample.watts, now)
        yield from _journal(site, self._loop.journal)


def event_level_families(
    site: str, state: ControlState, site_w: float, now: float
) -> Iterator[Metric]:
    level = GaugeMetricFamily(
        "hashpivot_event_level_watts",
        "The site draw a running grid event allows",
        labels=["site", "event", "kind"],
    )
    excess = GaugeMetricFamily(
        "hashpivot_event_excess_watts",
        "Site draw above a running grid event's level once its deadline has passed",
        labels=["site", "event"],
    )
    for event in state.active_events(now):
        if event.level_mw is None or event.start > now:
            continue
        level_w = event.level_mw * 1e6
        level.add_metric([site, event.event_id, event.kind.value], level_w)
        if now >= (event.deadline if event.deadline is not None else event.start):
            excess.add_metric([site, event.event_id], max(0.0, site_w - level_w))
    yield from (level, excess)


def _journal(site: str, journal: Journal) -> Iterator[Metric]:
    up = GaugeMetricFamily(
        "hashpivot_journal_up", "1 while the audit journal's writes succeed", labels=["site"]
    )
    up.add_metric([site], 0.0 if journal.failed else 1.0)
    written = CounterMetricFamily(
        "hashpivot_journal_rows_written", "Rows written to the audit journal", labels=["site"]
    )
    written.add_metric([site], float(journal.rows_written))
    lost = CounterMetricFamily(
        "hashpivot_journal_rows_failed",
        "Rows a failed journal write could not record",
        labels=["site"],
    )
    lost.add_metric([site], float(journal.rows_failed))
    yield from (up, written, lost)
