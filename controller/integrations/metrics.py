"""Prometheus metrics, built from the fleet record at scrape time.

Device gauges come from a custom collector (prometheus_client's recommended way to
export state that lives elsewhere), so a scrape costs one pass over the fleet and
no per-device metric objects are kept. Units are base units: watts, hashes per
second, degrees Celsius, seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from controller.integrations.dashboard_metrics import DashboardCollector
from controller.integrations.families import site_counter, site_gauge, site_labelled
from controller.integrations.loop_metrics import LoopCollector
from controller.service.read_model import ReadModel
from controller.state.domain import Health
from controller.state.fleet import DeviceRecord
from controller.state.poller import PollStats
from drivers import MiningState

__all__ = ["ControllerMetrics", "FleetCollector", "FleetReader", "collectors"]

_LABELS = ["device", "make", "model", "site"]


class FleetReader(Protocol):
    """The part of the read model the fleet's families need."""

    @property
    def site(self) -> str: ...

    def records(self) -> Iterable[DeviceRecord]: ...

    def totals(self) -> tuple[float, float]: ...

    def by_health(self) -> Mapping[Health, int]: ...

    def poll_stats(self) -> PollStats: ...


class FleetCollector(Collector):
    def __init__(self, read: FleetReader) -> None:
        self._read = read

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
        site = self._read.site
        for record in self._read.records():
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
        site, stats = self._read.site, self._read.poll_stats()
        total_hashrate, total_power = self._read.totals()
        health = [(h.value, n) for h, n in sorted(self._read.by_health().items())]
        devices = site_labelled(
            GaugeMetricFamily, "hashpivot_devices", "Devices by health", site, "health", health
        )
        kinds = sorted(stats.errors_by_kind.items())
        doc = "Failed device polls by kind"
        errors = site_labelled(
            CounterMetricFamily, "hashpivot_poll_errors", doc, site, "kind", kinds
        )
        yield from (
            site_gauge(
                "hashpivot_site_hashrate_hashes_per_second",
                "Sum of reachable devices' hashrate",
                site,
                total_hashrate,
            ),
            site_gauge(
                "hashpivot_site_power_watts", "Sum of reachable devices' power", site, total_power
            ),
            devices,
            errors,
            site_counter(
                "hashpivot_poll_sweeps", "Completed fleet sweeps", site, float(stats.sweeps)
            ),
        )


def collectors(read: ReadModel) -> list[Collector]:
    """Every family the read model gives: devices, site, loop, and the dashboard's."""
    return [FleetCollector(read), LoopCollector(read), DashboardCollector(read)]


class ControllerMetrics:
    """The daemon's registry and the controller's own instruments (counters and
    histograms the parts report into as things happen). The families read from the
    read model are added with :meth:`add` once it exists."""

    def __init__(self, site: str) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        histograms = {
            name: Histogram(
                name, documentation, labelnames=["site"], registry=self.registry, buckets=buckets
            ).labels(site=site)
            for name, documentation, buckets in (
                (
                    "hashpivot_event_confirmation_seconds",
                    "Time from a grid event's arrival to its level confirmed on the meter",
                    (1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800),
                ),
                (
                    "hashpivot_poll_duration_seconds",
                    "Wall time of one sweep over the whole fleet",
                    (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
                ),
            )
        }
        self.confirmation = histograms["hashpivot_event_confirmation_seconds"]
        self.poll_duration = histograms["hashpivot_poll_duration_seconds"]

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
        self._site = site

    def add(self, collectors: list[Collector]) -> None:
        for collector in collectors:
            self.registry.register(collector)

    def count_api_refused(self, status: int) -> None:
        self.api_refused.labels(site=self._site, status=str(status)).inc()

    def count_scheduler_read_error(self, code: str) -> None:
        self.scheduler_read_errors.labels(site=self._site, code=code).inc()

    def observe_sweep(self, seconds: float) -> None:
        self.poll_duration.observe(seconds)

    def observe_confirmation(self, seconds: float) -> None:
        self.confirmation.observe(seconds)
