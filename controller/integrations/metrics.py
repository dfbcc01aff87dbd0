"""Prometheus metrics, built from the fleet record at scrape time.

Device gauges come from a custom collector (prometheus_client's recommended way to
export state that lives elsewhere), so a scrape costs one pass over the fleet and
no per-device metric objects are kept. Units are base units: watts, hashes per
second, degrees Celsius, seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from controller.state.domain import Health, MiningState
from controller.state.fleet import Fleet
from controller.state.poller import PollStats

if TYPE_CHECKING:
    from controller.reconcile.loop import Reconciler
    from controller.reconcile.meter import SitePowerWatch
    from controller.state.control import ControlState

__all__ = ["ControllerMetrics"]

_LABELS = ["device", "make", "model", "site"]


class _FleetCollector(Collector):
    def __init__(self, fleet: Fleet, stats: PollStats) -> None:
        self._fleet = fleet
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        hashrate = GaugeMetricFamily(
            "hashpivot_device_hashrate_hashes_per_second",
            "Hashrate the device reports",
            labels=_LABELS,
        )
        power = GaugeMetricFamily(
            "hashpivot_device_power_watts",
            "Input power; estimated from the model where the firmware "
            "reports none (see hashpivot_device_power_estimated)",
            labels=_LABELS,
        )
        estimated = GaugeMetricFamily(
            "hashpivot_device_power_estimated",
            "1 where power is derived from the model table",
            labels=_LABELS,
        )
        limit = GaugeMetricFamily(
            "hashpivot_device_power_limit_watts", "Power limit the device enforces", labels=_LABELS
        )
        temperature = GaugeMetricFamily(
            "hashpivot_device_temperature_celsius", "Hottest board or chip sensor", labels=_LABELS
        )
        fans = GaugeMetricFamily(
            "hashpivot_device_fan_speed_rpm", "Fan speed", labels=[*_LABELS, "fan"]
        )
        uptime = GaugeMetricFamily(
            "hashpivot_device_uptime_seconds",
            "Seconds since the miner process started",
            labels=_LABELS,
        )
        up = GaugeMetricFamily(
            "hashpivot_device_up", "1 if the last poll of the device succeeded", labels=_LABELS
        )
        mining = GaugeMetricFamily(
            "hashpivot_device_mining_state",
            "1 for the device's current mining state",
            labels=[*_LABELS, "state"],
        )
        health_by_device = GaugeMetricFamily(
            "hashpivot_device_health",
            "1 for the controller's view of the device's health",
            labels=[*_LABELS, "health"],
        )
        conflict = GaugeMetricFamily(
            "hashpivot_device_identity_conflict",
            "1 where the device names its model differently in different places; "
            "model is the one its boards and hashrate support, reported what each source said",
            labels=[*_LABELS, "reported"],
        )
        site = self._fleet.site
        for record in self._fleet:
            identity = record.identity
            telemetry = record.telemetry
            labels = [identity.device_id, identity.make.value, record.model, site]
            if record.info is not None:
                found = record.info.identity_conflict
                reported = "" if found is None else "; ".join(f"{w}={m}" for w, m in found.reported)
                conflict.add_metric([*labels, reported], 0.0 if found is None else 1.0)
            up.add_metric(
                labels,
                1.0
                if record.health in {Health.HEALTHY, Health.DEGRADED}
                and record.consecutive_failures == 0
                else 0.0,
            )
            for health in Health:
                health_by_device.add_metric(
                    [*labels, health.value], 1.0 if record.health is health else 0.0
                )
            if telemetry is None:
                continue
            state = telemetry.mining_state
            for candidate in MiningState:
                mining.add_metric([*labels, candidate.value], 1.0 if state is candidate else 0.0)
            if telemetry.hashrate_hs is not None:
                hashrate.add_metric(labels, telemetry.hashrate_hs)
            if telemetry.power_w is not None:
                power.add_metric(labels, telemetry.power_w)
                estimated.add_metric(labels, 1.0 if telemetry.power_estimated else 0.0)
            if telemetry.power_limit_w is not None:
                limit.add_metric(labels, telemetry.power_limit_w)
            if telemetry.max_temp_c is not None:
                temperature.add_metric(labels, telemetry.max_temp_c)
            for index, rpm in enumerate(telemetry.fans_rpm):
                fans.add_metric([*labels, str(index)], float(rpm))
            if telemetry.uptime_s is not None:
                uptime.add_metric(labels, telemetry.uptime_s)
        yield from (
            hashrate,
            power,
            estimated,
            limit,
            temperature,
            fans,
            uptime,
            up,
            mining,
            health_by_device,
            conflict,
        )
        yield from self._site_families()

    def _site_families(self) -> Iterator[Metric]:
        site = self._fleet.site
        total_hashrate, total_power = self._fleet.totals()
        site_hashrate = GaugeMetricFamily(
            "hashpivot_site_hashrate_hashes_per_second",
            "Sum of reachable devices' hashrate",
            labels=["site"],
        )
        site_hashrate.add_metric([site], total_hashrate)
        site_power = GaugeMetricFamily(
            "hashpivot_site_power_watts", "Sum of reachable devices' power", labels=["site"]
        )
        site_power.add_metric([site], total_power)
        devices = GaugeMetricFamily(
            "hashpivot_devices", "Devices by health", labels=["site", "health"]
        )
        for health, count in sorted(self._fleet.by_health().items()):
            devices.add_metric([site, health.value], float(count))
        errors = CounterMetricFamily(
            "hashpivot_poll_errors", "Failed device polls by kind", labels=["site", "kind"]
        )
        for kind, count in sorted(self._stats.errors_by_kind.items()):
            errors.add_metric([site, kind], float(count))
        sweeps = CounterMetricFamily(
            "hashpivot_poll_sweeps", "Completed fleet sweeps", labels=["site"]
        )
        sweeps.add_metric([site], float(self._stats.sweeps))
        yield from (site_hashrate, site_power, devices, errors, sweeps)


class ControllerMetrics:
    """The daemon's registry: the fleet collector plus the controller's own instruments."""

    def __init__(
        self,
        fleet: Fleet,
        stats: PollStats,
        loop: Reconciler | None = None,
        state: ControlState | None = None,
        power: SitePowerWatch | None = None,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_FleetCollector(fleet, stats))
        if loop is not None and state is not None and power is not None:
            from controller.integrations.loop_metrics import LoopCollector  # noqa: PLC0415

            self.registry.register(LoopCollector(fleet, loop, state, power))
        self.confirmation = Histogram(
            "hashpivot_event_confirmation_seconds",
            "Time from a grid event's arrival to its level confirmed on the meter",
            labelnames=["site"],
            registry=self.registry,
            buckets=(1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800),
        ).labels(site=fleet.site)
        self.poll_duration = Histogram(
            "hashpivot_poll_duration_seconds",
            "Wall time of one sweep over the whole fleet",
            labelnames=["site"],
            registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
        ).labels(site=fleet.site)

        self.scheduler_read_errors = Counter(
            "hashpivot_scheduler_read_errors",
            "Failed reads of the AI job scheduler's node state, by error code",
            labelnames=["site", "code"],
            registry=self.registry,
        )
        self.api_refused = Counter(
            "hashpivot_api_requests_refused",
            "API requests refused as invalid, unauthorised or impossible, by HTTP status",
            labelnames=["site", "status"],
            registry=self.registry,
        )
        self._site = fleet.site

    def count_api_refused(self, status: int) -> None:
        self.api_refused.labels(site=self._site, status=str(status)).inc()

    def count_scheduler_read_error(self, code: str) -> None:
        self.scheduler_read_errors.labels(site=self._site, code=code).inc()

    def observe_sweep(self, seconds: float) -> None:
        self.poll_duration.observe(seconds)

    def observe_confirmation(self, seconds: float) -> None:
        self.confirmation.observe(seconds)
