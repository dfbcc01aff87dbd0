"""Plan and dispatch metrics, built from the loop's state at scrape time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from controller.integrations.families import (
    ReadModelCollector,
    site_counter,
    site_gauge,
    site_labelled,
)
from controller.service.read_model import JournalHealth, ReadModel
from controller.state.control import EventRecord, Override
from controller.state.domain import Health
from controller.state.fleet import DeviceRecord
from drivers import Control, MiningState

__all__ = ["LoopCollector", "curtailable_w", "event_level_families"]


def curtailable_w(
    records: Iterable[DeviceRecord], overrides: Mapping[str, Override], now: float
) -> float:
    """What sleeping every running, controllable, reachable miner would save right now."""
    total = 0.0
    for record in records:
        telemetry, spec = record.telemetry, record.driver.spec
        if telemetry is None or spec is None or record.health is Health.UNREACHABLE:
            continue
        if telemetry.mining_state is MiningState.SLEEPING or record.stuck_until > now:
            continue
        if record.identity.device_id in overrides or Control.SLEEP not in spec.controls:
            continue
        total += max(0.0, (telemetry.power_w or 0.0) - spec.sleep_w)
    return total


class LoopCollector(ReadModelCollector):
    def families(self, read: ReadModel, now: float) -> Iterator[Metric]:
        site = read.site
        view = read.plan_view()
        sample = read.site_power()
        metered = GaugeMetricFamily(
            "hashpivot_site_metered_power_watts",
            "Site draw by the meter, or estimated (readings plus other load) without it",
            labels=["site", "source"],
        )
        metered.add_metric([site, sample.source], sample.watts)
        active = read.active_events(now)
        kinds = sorted(Counter(e.kind.value for e in active).items())
        events = site_labelled(
            GaugeMetricFamily,
            "hashpivot_events_active",
            "Grid events running or ahead",
            site,
            "kind",
            kinds,
        )
        stats = read.loop_stats()
        by_result = sorted(stats.results.items())
        doc = "Command attempts by result"
        results = site_labelled(
            CounterMetricFamily, "hashpivot_commands", doc, site, "result", by_result
        )
        curtailable = curtailable_w(read.records(), read.overrides(now), now)
        stuck = sum(1 for r in read.records() if r.stuck_until > now)
        yield from (
            site_gauge(
                "hashpivot_site_commanded_power_watts",
                "Site draw the current plan expects once its commands take effect",
                site,
                None if view is None else view.plan.expected_site_w,
            ),
            metered,
            site_gauge(
                "hashpivot_meter_up",
                "1 while the site meter answers",
                site,
                1.0 if read.meter_ok() else 0.0,
            ),
            site_gauge(
                "hashpivot_curtailable_power_watts",
                "Draw that sleeping every running controllable miner would remove now",
                site,
                curtailable,
            ),
            events,
            results,
            site_counter("hashpivot_commands_sent", "Commands sent", site, float(stats.sent)),
            site_counter(
                "hashpivot_commands_confirmed",
                "Commands whose physical effect later telemetry confirmed",
                site,
                float(stats.confirmed),
            ),
            site_counter("hashpivot_plans", "Plans computed", site, float(stats.plans)),
            site_gauge(
                "hashpivot_devices_stuck",
                "Devices left out of control after failing to shed",
                site,
                float(stuck),
            ),
            site_gauge(
                "hashpivot_control_paused",
                "1 while an operator paused control",
                site,
                1.0 if read.control().paused else 0.0,
            ),
            site_gauge(
                "hashpivot_last_plan_timestamp_seconds",
                "When the control loop last computed a plan (unix seconds)",
                site,
                None if view is None else view.at,
            ),
        )
        yield from event_level_families(site, active, sample.watts, now)
        yield from _journal(site, read.journal_health())


def event_level_families(
    site: str, active: Iterable[EventRecord], site_w: float, now: float
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
    for event in active:
        if event.level_mw is None or event.start > now:
            continue
        level_w = event.level_mw * 1e6
        level.add_metric([site, event.event_id, event.kind.value], level_w)
        if now >= (event.deadline if event.deadline is not None else event.start):
            excess.add_metric([site, event.event_id], max(0.0, site_w - level_w))
    yield from (level, excess)


def _journal(site: str, journal: JournalHealth) -> Iterator[Metric]:
    yield from (
        site_gauge(
            "hashpivot_journal_up",
            "1 while the audit journal's writes succeed",
            site,
            0.0 if journal.error else 1.0,
        ),
        site_counter(
            "hashpivot_journal_rows_written",
            "Rows written to the audit journal",
            site,
            float(journal.rows_written),
        ),
        site_counter(
            "hashpivot_journal_rows_failed",
            "Rows a failed journal write could not record",
            site,
            float(journal.rows_failed),
        ),
    )
